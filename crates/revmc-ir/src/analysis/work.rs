//! How much one call of a contract can do, to tell whether compiling it can pay.
//!
//! A compiled frame costs a little more to enter than an interpreted one (a program
//! lookup, the context, the environment words); it wins back that cost only on the
//! instructions it runs. Code in which every jump goes forward runs each instruction at
//! most once per call, so its instruction count bounds the win: a STOP, a minimal proxy,
//! a tiny forwarder never repay their entry. The runtime runs such code interpreted.

use revm_interpreter::bytecode::opcode;

/// The most instructions one call of `code` can run, when the code itself bounds it:
/// every JUMPDEST lies before no JUMP or JUMPI, so every jump that lands goes forward and
/// no instruction runs twice. `None` when a jump could go backward (the code may loop).
/// A linear scan with no allocation.
pub fn loop_free_instructions(code: &[u8]) -> Option<usize> {
    let (mut count, mut pc) = (0usize, 0usize);
    let mut first_jumpdest = None;
    while pc < code.len() {
        let op = code[pc];
        count += 1;
        match op {
            opcode::JUMPDEST => {
                first_jumpdest.get_or_insert(pc);
            }
            opcode::JUMP | opcode::JUMPI if first_jumpdest.is_some() => return None,
            _ => {}
        }
        let push_len = op.wrapping_sub(opcode::PUSH1).wrapping_add(1) as usize;
        pc += 1 + if (1..=32).contains(&push_len) { push_len } else { 0 };
    }
    Some(count)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_line_and_forward_jumps_are_bounded() {
        assert_eq!(loop_free_instructions(&[]), Some(0));
        assert_eq!(loop_free_instructions(&[opcode::STOP]), Some(1));
        // PUSH2 0x5b5b (JUMPDEST bytes in push data do not count); PUSH1 6; JUMP; JUMPDEST
        let forward = [0x61, 0x5b, 0x5b, 0x60, 6, 0x56, 0x5b, 0x00];
        assert_eq!(loop_free_instructions(&forward), Some(5));
        // EIP-1167 minimal proxy: one forward JUMPI.
        let proxy = "363d3d373d3d3d363d73bebebebebebebebebebebebebebebebebebebebe5af43d82803e903d91602b57fd5bf3";
        let proxy: Vec<u8> = (0..proxy.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&proxy[i..i + 2], 16).unwrap())
            .collect();
        assert_eq!(loop_free_instructions(&proxy), Some(24));
    }

    #[test]
    fn a_jump_after_a_jumpdest_may_loop() {
        // JUMPDEST; PUSH1 0; JUMP
        assert_eq!(loop_free_instructions(&[0x5b, 0x60, 0, 0x56]), None);
        // JUMPDEST; ...; PUSH1 0; JUMPI
        assert_eq!(loop_free_instructions(&[0x5b, 0x60, 1, 0x60, 0, 0x57]), None);
    }
}
