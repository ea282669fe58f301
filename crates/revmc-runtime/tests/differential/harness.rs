//! Running one case both ways and comparing, plus a tiny bytecode builder.

use revmc_ir::Limits;
use revmc_runtime::harness::Oracle;
use revmc_runtime::harness::{ExecutionOutcome, Leave};
use revmc_runtime::{
    InstructionResult, JitProgram, OptLevel, Profiling, RanBlocks, SpecId, SyncCompiler, U256,
};
use std::cell::{OnceCell, RefCell};
use std::sync::Arc;

/// Every fork from Frontier to Osaka.
pub const FORKS: &[SpecId] = &[
    SpecId::FRONTIER,
    SpecId::HOMESTEAD,
    SpecId::TANGERINE,
    SpecId::SPURIOUS_DRAGON,
    SpecId::BYZANTIUM,
    SpecId::PETERSBURG,
    SpecId::ISTANBUL,
    SpecId::BERLIN,
    SpecId::LONDON,
    SpecId::MERGE,
    SpecId::SHANGHAI,
    SpecId::CANCUN,
    SpecId::PRAGUE,
    SpecId::OSAKA,
];

/// What a level does with block profiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Profile {
    /// Nothing: the whole program, recording nothing.
    Off,
    /// The code records the blocks it runs (the first tier of a tiered runtime).
    Record,
    /// Only the blocks at even pcs are compiled, the others left to the interpreter as
    /// cold (`Tuning::compile_what_ran`): the exit to the interpreter is checked at
    /// blocks of every kind, wherever the profile cuts.
    EvenPcs,
}

/// What every case is compiled as: both tiers, and the first tier split into one
/// function per block (`first_tier_chunk_cost` 1: every branch crosses from one function
/// to another), with paths that can only fail compiled too, so that the compiled halts
/// are checked; both tiers with those paths left to the interpreter, as the runtime
/// compiles them (`Limits::interpret_failing_paths`), the first tier split so that the
/// exit to the interpreter is checked from a chunk, and recording its profile; and the
/// optimizing tier compiled from a profile that leaves half the blocks cold.
pub const LEVELS: [(OptLevel, Option<usize>, bool, Profile, &str); 6] = [
    (OptLevel::O0, None, false, Profile::Off, "O0"),
    (OptLevel::O0, Some(1), false, Profile::Off, "O0 split at every block"),
    (OptLevel::O2, None, false, Profile::Off, "O2"),
    (
        OptLevel::O0,
        Some(1),
        true,
        Profile::Record,
        "O0 split at every block, failing paths interpreted, recording its profile",
    ),
    (OptLevel::O2, None, true, Profile::Off, "O2, failing paths interpreted"),
    (OptLevel::O2, None, true, Profile::EvenPcs, "O2 of the blocks at even pcs"),
];

thread_local! {
    static COMPILERS: RefCell<Vec<SyncCompiler>> = RefCell::new(
        LEVELS
            .iter()
            .map(|&(level, chunk_cost, interpret_failing_paths, _, _)| {
                // Every case compiles at every level, however costly to optimize: what
                // is checked here is the code, not the admission.
                let limits = Limits {
                    first_tier_chunk_cost: chunk_cost
                        .unwrap_or(Limits::default().first_tier_chunk_cost),
                    max_optimizing_cost: usize::MAX,
                    interpret_failing_paths,
                    ..Limits::default()
                };
                SyncCompiler::new(level).expect("JIT compiler").with_limits(limits)
            })
            .collect(),
    );
}

thread_local! {
    /// The optimizing tier as the runtime runs it: of what the first tier ran.
    static OPTIMIZING: RefCell<SyncCompiler> = RefCell::new({
        let limits =
            Limits { max_optimizing_cost: usize::MAX, ..Limits::default() };
        SyncCompiler::new(OptLevel::O2).expect("JIT compiler").with_limits(limits)
    });
}

/// A program compiled at every level, with its interpreter oracle; and, once the level
/// that records its profile has run the first input, compiled at O2 from that profile
/// (as the runtime's optimizing tier), which every input then runs too: inputs that take
/// other paths leave to the interpreter where the first one never went.
pub struct Case {
    code: Vec<u8>,
    spec: SpecId,
    oracle: Oracle,
    jits: Vec<JitProgram>,
    /// The program of what ran, and the input and gas the recording level ran first,
    /// which it was compiled from.
    what_ran: OnceCell<(JitProgram, (Vec<u8>, u64))>,
}

impl Case {
    pub fn new(code: &[u8], spec: SpecId) -> Self {
        let jits = COMPILERS.with(|c| {
            c.borrow_mut()
                .iter_mut()
                .zip(LEVELS)
                .map(|(jit, (_, _, _, profile, _))| {
                    let profiling = match profile {
                        Profile::Off => Profiling::Off,
                        Profile::Record => Profiling::Record,
                        Profile::EvenPcs => Profiling::Compile {
                            ran: Arc::new(RanBlocks::from_fn(code.len(), |pc| pc % 2 == 0)),
                            widenings: 0,
                        },
                    };
                    JitProgram::compile_with(jit, code, spec, &profiling)
                        .unwrap_or_else(|e| panic!("compile {} for {spec:?}: {e}", hex(code)))
                })
                .collect()
        });
        let oracle = Oracle::new(code, spec);
        Self { code: code.to_vec(), spec, oracle, jits, what_ran: OnceCell::new() }
    }

    /// Runs the case at every level and asserts agreement; returns the oracle's outcome.
    pub fn check(&self, calldata: &[u8], gas: u64) -> ExecutionOutcome {
        self.check_reporting(calldata, gas).0
    }

    /// As [`Self::check`], with why the code compiled from what the first input ran left
    /// the frame to the interpreter, if it did.
    pub fn check_reporting(&self, calldata: &[u8], gas: u64) -> (ExecutionOutcome, Option<Leave>) {
        let want = self.oracle.run(calldata, gas);
        let agrees = |got: ExecutionOutcome, level: &str| {
            let ctx = || {
                format!(
                    "code {} spec {:?} level {level:?} calldata {} gas {gas}",
                    hex(&self.code),
                    self.spec,
                    hex(calldata)
                )
            };
            assert_eq!(got.result, want.result, "status differs: {}", ctx());
            if completed(want.result) {
                assert_eq!(got.gas_remaining, want.gas_remaining, "gas differs: {}", ctx());
                assert_eq!(got.stack, want.stack, "stack differs: {}", ctx());
                assert_eq!(got.memory, want.memory, "memory differs: {}", ctx());
                assert_eq!(got.output, want.output, "output differs: {}", ctx());
            }
        };
        for (jit, (_, _, _, _, level)) in self.jits.iter().zip(LEVELS) {
            agrees(jit.run(calldata, gas), level);
        }
        let (what_ran, profiled_on) = self.what_ran.get_or_init(|| {
            let recording = LEVELS.iter().position(|l| l.3 == Profile::Record).expect("a level");
            let profile = self.jits[recording].program().profile().expect("a profile");
            let ran = profile.snapshot();
            // The entry block ran, and is recorded.
            assert!(ran.contains(0), "the entry block is not recorded: {}", hex(&self.code));
            let profiling = Profiling::Compile { ran: Arc::new(ran), widenings: 0 };
            let program = OPTIMIZING.with(|c| {
                JitProgram::compile_with(&mut c.borrow_mut(), &self.code, self.spec, &profiling)
                    .unwrap_or_else(|e| panic!("compile {}: {e}", hex(&self.code)))
            });
            (program, (calldata.to_vec(), gas))
        });
        let (got, hand_off) = what_ran.run_reporting(calldata, gas);
        if (profiled_on.0.as_slice(), profiled_on.1) == (calldata, gas) {
            // What the recording ran is all compiled: its input never leaves cold.
            let ctx = || format!("code {} calldata {}", hex(&self.code), hex(calldata));
            assert_ne!(hand_off, Some(Leave::Cold), "left cold where it ran: {}", ctx());
        }
        agrees(got, "O2 of what the first input ran");
        (want, hand_off)
    }

    /// Checks with every gas limit from `gas_used - below` to `gas_used + 1`, where
    /// `gas_used` is what a run with ample gas uses: exactly enough, one short, and more.
    pub fn check_gas_edges(&self, calldata: &[u8], below: u64) -> ExecutionOutcome {
        const AMPLE: u64 = 10_000_000;
        let full = self.check(calldata, AMPLE);
        let used = AMPLE - full.gas_remaining;
        for gas in used.saturating_sub(below)..=used + 1 {
            self.check(calldata, gas);
        }
        full
    }
}

/// Compiles and checks once.
pub fn check(code: &[u8], spec: SpecId, calldata: &[u8], gas: u64) -> ExecutionOutcome {
    Case::new(code, spec).check(calldata, gas)
}

pub fn completed(r: InstructionResult) -> bool {
    matches!(r, InstructionResult::Stop | InstructionResult::Return | InstructionResult::Revert)
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Operands at the edges of 256-bit arithmetic.
pub fn edge_words() -> Vec<U256> {
    let one = U256::from(1);
    vec![
        U256::ZERO,
        one,
        U256::from(2),
        U256::from(7),
        U256::from(31),
        U256::from(32),
        U256::from(255),
        U256::from(256),
        U256::from(u64::MAX),
        // The bounds of the signed 64-bit fast paths: 2^63 - 1, 2^63, -2^63, -2^63 - 1, -7.
        U256::from(i64::MAX as u64),
        one << 63,
        U256::MAX << 63,
        (U256::MAX << 63) - one,
        U256::MAX - U256::from(6),
        one << 64,
        one << 128,
        (one << 255) - one,
        one << 255,
        U256::MAX - one,
        U256::MAX,
        U256::from_be_bytes([0x5a; 32]),
    ]
}

/// Bytecode builder.
#[derive(Default)]
pub struct Asm(pub Vec<u8>);

impl Asm {
    pub fn op(mut self, op: u8) -> Self {
        self.0.push(op);
        self
    }

    pub fn ops(mut self, ops: &[u8]) -> Self {
        self.0.extend_from_slice(ops);
        self
    }

    /// PUSH32 of `v`.
    pub fn push(mut self, v: U256) -> Self {
        self.0.push(0x7f);
        self.0.extend_from_slice(&v.to_be_bytes::<32>());
        self
    }

    pub fn push_u(self, v: u64) -> Self {
        self.push(U256::from(v))
    }

    /// CALLDATALOAD of word `i` of the call data: an operand the optimizer cannot fold.
    pub fn arg(self, i: u64) -> Self {
        self.push_u(i * 32).op(0x35)
    }

    pub fn code(self) -> Vec<u8> {
        self.0
    }
}

/// Call data of the given words.
pub fn words(ws: &[U256]) -> Vec<u8> {
    ws.iter().flat_map(|w| w.to_be_bytes::<32>()).collect()
}
