//! Bytes → bytecode that stays mostly valid, so fuzzing explores execution, not decoding.
//!
//! Each step reads a choice byte and emits a small idiom: constants, arithmetic, stack
//! shuffles, labelled `JUMPDEST`s and jumps to them, storage and memory at small offsets,
//! logs, calls into the generated contracts, creates, calls of [`FUNCTIONS`] shared
//! internal functions (solc's pattern: push a return address, jump, the body jumps back)
//! from whatever stack depth the program is at — what sends the translator into its
//! dynamic-stack mode — and now and then a raw byte. The bodies follow the final STOP; one calls another, one
//! touches storage, one CALLs contract B (a suspension inside the shared code).

use revm::primitives::Address;

/// Addresses the generated code calls; [`crate::tx`] deploys code at the first two.
pub const TARGETS: [Address; 4] = [
    crate::tx::CONTRACT_A,
    crate::tx::CONTRACT_B,
    // An identity precompile and an empty account: calls that run no bytecode.
    Address::with_last_byte(4),
    Address::with_last_byte(0xee),
];

/// Upper bound on generated code size, far below the EIP-170 limit.
const MAX_LEN: usize = 4096;

const BINARY: &[u8] = &[
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x0a, 0x0b, 0x10, 0x11, 0x12, 0x13, 0x14, 0x16, 0x17,
    0x18, 0x1a, 0x1b, 0x1c, 0x1d,
];
const UNARY_TERNARY: &[u8] = &[0x15, 0x19, 0x08, 0x09, 0x1e];
const ENV: &[u8] = &[
    0x30, 0x32, 0x33, 0x34, 0x36, 0x38, 0x3a, 0x3d, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x4a, 0x58, 0x59, 0x5a,
];
const EDGES: [[u8; 2]; 6] =
    [[0x00, 0x00], [0x00, 0x01], [0x80, 0x00], [0xff, 0xff], [0x7f, 0xff], [0xff, 0xfe]];

/// Number of shared internal functions the generated code can call.
pub const FUNCTIONS: u8 = 4;

/// Reads choice bytes; yields zeros once the input runs out.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.byte() as usize % items.len()]
    }
}

/// Code under construction; jump targets are patched once every label is known.
#[derive(Default)]
struct Emitter {
    code: Vec<u8>,
    labels: Vec<u16>,
    /// (offset of a PUSH2 immediate, label choice).
    fixups: Vec<(usize, u8)>,
    /// (offset of a PUSH2 immediate, function index).
    calls: Vec<(usize, u8)>,
}

impl Emitter {
    fn push1(&mut self, v: u8) {
        self.code.extend([0x60, v]);
    }

    fn push_small(&mut self, r: &mut Reader<'_>, max: u8) {
        self.push1(r.byte() % max);
    }

    /// Calls function `k` with the stack top as its argument: `[.., x]` becomes
    /// `[.., f(x)]` after the function returns to the JUMPDEST that follows.
    fn call_function(&mut self, k: u8) {
        let ret = (self.code.len() + 8) as u16;
        self.code.push(0x61);
        self.code.extend(ret.to_be_bytes());
        self.code.extend([0x90, 0x61]); // SWAP1: [.., ret, x]; PUSH2 f
        self.calls.push((self.code.len(), k));
        self.code.extend([0, 0, 0x56, 0x5b]); // JUMP; JUMPDEST(ret)
    }

    /// The function bodies, each `[.., ret, x] -> [.., f(x)]`; returns their pcs.
    fn functions(&mut self) -> [u16; FUNCTIONS as usize] {
        let mut pcs = [0; FUNCTIONS as usize];
        for (k, pc) in pcs.iter_mut().enumerate() {
            *pc = self.code.len() as u16;
            self.code.push(0x5b);
            match k {
                0 => self.code.extend([0x60, 7, 0x01]), // x + 7
                1 => {
                    self.code.extend([0x80, 0x02]); // x * x, then f0 of it
                    self.call_function(0);
                }
                2 => self.code.extend([0x60, 1, 0x54, 0x01, 0x80, 0x60, 1, 0x55]), // slot 1 += x
                _ => {
                    // x + CALL(GAS, B, 0, 0, 0, 0, 0)
                    self.code.extend([0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x60, 0, 0x73]);
                    self.code.extend(crate::tx::CONTRACT_B.as_slice());
                    self.code.extend([0x5a, 0xf1, 0x01]);
                }
            }
            self.code.extend([0x90, 0x56]); // SWAP1; JUMP back
        }
        pcs
    }

    fn jump_to_label(&mut self, r: &mut Reader<'_>, op: u8) {
        self.code.push(0x61);
        self.fixups.push((self.code.len(), r.byte()));
        self.code.extend([0, 0, op]);
    }

    /// CALL-family arguments below the opcode: gas, address, [value], in and out ranges.
    fn call(&mut self, r: &mut Reader<'_>) {
        let op = r.pick(&[0xf1, 0xf2, 0xf4, 0xfa]);
        self.push_small(r, 64); // out size
        self.push_small(r, 128); // out offset
        self.push_small(r, 64); // in size
        self.push_small(r, 128); // in offset
        if matches!(op, 0xf1 | 0xf2) {
            self.push_small(r, 3); // value: often zero, sometimes a transfer
        }
        let to = r.byte() as usize % (TARGETS.len() + 1);
        match TARGETS.get(to) {
            Some(addr) => {
                self.code.push(0x73);
                self.code.extend(addr.as_slice());
            }
            None => self.code.push(0x30), // ADDRESS: this contract, whatever runs it
        }
        if r.byte() & 1 == 0 {
            self.code.push(0x5a); // GAS: everything that is left (the 63/64 rule applies)
        } else {
            self.code.extend([0x62, r.byte() % 4, r.byte(), 0]);
        }
        self.code.push(op);
    }

    fn step(&mut self, r: &mut Reader<'_>) {
        match r.byte() % 26 {
            0 => self.push1(r.byte()),
            1 => {
                let n = 1 + r.byte() % 32;
                self.code.push(0x5f + n);
                let edge = r.pick(&EDGES);
                self.code.extend((0..n).map(|i| if i < 2 { edge[i as usize] } else { r.byte() }));
            }
            2 => self.code.push(r.pick(BINARY)),
            3 => self.code.push(r.pick(UNARY_TERNARY)),
            4 => self.code.push(0x80 + r.byte() % 16),
            5 => self.code.push(0x90 + r.byte() % 16),
            6 => self.code.push(0x50),
            7 => {
                self.labels.push(self.code.len() as u16);
                self.code.push(0x5b);
            }
            8 => self.jump_to_label(r, 0x56),
            9 => self.jump_to_label(r, 0x57),
            10 => {
                self.push_small(r, 4);
                self.code.push(r.pick(&[0x54, 0x55, 0x5c, 0x5d]));
            }
            11 => {
                self.push_small(r, 160);
                self.code.push(r.pick(&[0x51, 0x52, 0x53]));
            }
            12 => {
                let topics = r.byte() % 5;
                self.push_small(r, 64);
                self.push_small(r, 64);
                self.code.push(0xa0 + topics);
            }
            13 => self.call(r),
            14 => {
                self.push_small(r, 64);
                self.push_small(r, 64);
                self.code.push(r.pick(&[0xf3, 0xfd, 0x00]));
            }
            15 => self.code.push(r.pick(ENV)),
            16 => {
                self.push_small(r, 64);
                self.push_small(r, 64);
                match r.byte() % 5 {
                    0 => self.code.push(0x20),           // KECCAK256
                    1 => self.code.extend([0x50, 0x35]), // CALLDATALOAD
                    k => {
                        self.push_small(r, 128);
                        self.code.push([0x37, 0x39, 0x3e][k as usize - 2]); // *COPY
                    }
                }
            }
            17 => {
                self.code.push(r.pick(&[0x30, 0x33, 0x32]));
                self.code.push(r.pick(&[0x31, 0x3b, 0x3f]));
            }
            18 => {
                // CREATE/CREATE2 with memory as init code.
                let create2 = r.byte() & 1 == 0;
                if create2 {
                    self.push1(r.byte());
                }
                self.push_small(r, 64);
                self.push_small(r, 64);
                self.push_small(r, 2);
                self.code.push(if create2 { 0xf5 } else { 0xf0 });
            }
            19..=22 => self.code.push(r.pick(&[0x01, 0x03, 0x16, 0x80, 0x81, 0x90, 0x50])),
            23 | 24 => self.call_function(r.byte() % FUNCTIONS),
            _ => self.code.push(r.byte()),
        }
    }

    fn finish(mut self, r: &mut Reader<'_>) -> Vec<u8> {
        self.code.push(0x00);
        if !self.calls.is_empty() {
            let pcs = self.functions();
            for &(at, k) in &self.calls {
                self.code[at..at + 2].copy_from_slice(&pcs[k as usize].to_be_bytes());
            }
        }
        for &(at, choice) in &self.fixups {
            // Mostly a real label; sometimes (or with no labels) a wild target.
            let target = match self.labels.len() {
                0 => u16::from(choice),
                n if choice != 0xff => self.labels[choice as usize % n],
                _ => u16::from(r.byte()),
            };
            self.code[at..at + 2].copy_from_slice(&target.to_be_bytes());
        }
        self.code
    }
}

/// Bytecode generated from `data`; the same input always yields the same code.
pub fn generate(data: &[u8]) -> Vec<u8> {
    let mut r = Reader(data);
    let mut e = Emitter::default();
    // A few values to work on, so the first operations do not all underflow the stack.
    for i in 0..6 {
        e.push1(i * 32);
        e.code.push(if i % 2 == 0 { 0x35 } else { 0x34 }); // CALLDATALOAD / CALLVALUE
    }
    while !r.0.is_empty() && e.code.len() < MAX_LEN {
        e.step(&mut r);
    }
    e.finish(&mut r)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROLOGUE: usize = 18;

    #[test]
    fn jumps_land_on_labels() {
        // step 7 = JUMPDEST, step 8 = jump to label 0, then a jump to label 0 again.
        let code = generate(&[7, 8, 0, 9, 0]);
        let label = PROLOGUE as u8;
        assert_eq!(code[PROLOGUE..], [0x5b, 0x61, 0, label, 0x56, 0x61, 0, label, 0x57, 0x00]);
    }

    #[test]
    fn steps_call_shared_functions() {
        // step 23 with choice 1 calls function 1, which calls function 0.
        let code = generate(&[23, 1]);
        let call = &code[PROLOGUE..PROLOGUE + 9];
        let ret = (PROLOGUE + 8) as u8;
        assert_eq!(call[..5], [0x61, 0, ret, 0x90, 0x61]);
        assert_eq!(call[7..], [0x56, 0x5b]);
        let f = usize::from(u16::from_be_bytes([call[5], call[6]]));
        assert_eq!(code[f], 0x5b);
        assert_eq!(code[PROLOGUE + 9], 0x00, "the bodies follow the final STOP");
    }

    #[test]
    fn generation_is_deterministic_and_bounded() {
        let data: Vec<u8> = (0..20_000u32).map(|i| (i * 7919 % 251) as u8).collect();
        let code = generate(&data);
        assert_eq!(code, generate(&data));
        assert!(code.len() <= MAX_LEN + 128);
    }
}
