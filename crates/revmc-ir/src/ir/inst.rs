//! Instructions and terminators.

use super::{Block, Value};
use crate::{InstructionResult, U256, abi::Builtin};

/// One-operand operations, computed inline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    /// Bitwise NOT.
    Not,
    /// 1 if zero, else 0.
    IsZero,
    /// Count of leading zero bits (Osaka's CLZ); 256 for zero.
    Clz,
}

/// Two-operand operations, computed inline. Operand `a` is the EVM stack top.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    /// Wrapping `a + b`.
    Add,
    /// Wrapping `a - b`.
    Sub,
    /// Wrapping `a * b`.
    Mul,
    /// `a < b`, unsigned.
    Lt,
    /// `a > b`, unsigned.
    Gt,
    /// `a < b`, signed.
    Slt,
    /// `a > b`, signed.
    Sgt,
    /// `a == b`.
    Eq,
    /// Bitwise AND.
    And,
    /// Bitwise OR.
    Or,
    /// Bitwise XOR.
    Xor,
    /// Byte `a` of `b`, counting from the most significant; 0 when `a >= 32`.
    Byte,
    /// `b << a`; 0 when `a >= 256`.
    Shl,
    /// `b >> a`, logical; 0 when `a >= 256`.
    Shr,
    /// `b >> a`, arithmetic; sign fill when `a >= 256`.
    Sar,
    /// Sign-extends `b` from byte `a` (counting from the least significant).
    SignExtend,
}

/// Operations that call a [`Builtin`] on their operands and produce its result.
/// They never fail; fallible builtins are their own instructions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TernaryOp {
    /// `(a + b) % n`.
    AddMod,
    /// `(a * b) % n`.
    MulMod,
}

/// A stack height: absolute in blocks with a static shape, relative to the run-time base
/// of the block (its value at block entry) in blocks with a dynamic shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Height {
    /// Exactly this many entries.
    Abs(u32),
    /// The base plus this many entries (may be negative).
    Rel(i32),
}

/// The most gas a [`StackCheck`] may count. Backends pack a check into one 64-bit word
/// with 24 bits for its gas; the translator ends a section before a check would count
/// more, and the verifier holds it. Real sections stay far below (a 24 KiB section of the
/// costliest instructions that do not end a section comes to a few hundred thousand).
pub const MAX_CHECK_GAS: u64 = (1 << 24) - 1;

/// One run-time stack check of a dynamic-shape gas section: the instruction at which the
/// stack would first fail, for some bases, and how much of the section's gas the
/// interpreter would have charged by then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StackCheck {
    /// Static gas of the section up to and including this instruction, at most
    /// [`MAX_CHECK_GAS`].
    pub gas: u64,
    /// The instruction fails with `under` if the base is below this.
    pub min_base: i64,
    /// The instruction fails with `over` if the base is above this.
    pub max_base: i64,
    /// Result when the stack is too short.
    pub under: InstructionResult,
    /// Result when the stack would grow past the limit.
    pub over: InstructionResult,
}

/// An instruction. Those with a result define exactly one [`Value`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstData {
    /// A constant.
    Const(U256),
    /// Reads stack slot `n` (absolute stack position `n`).
    SlotGet(u32),
    /// Writes stack slot `n`.
    SlotSet(u32, Value),
    /// Reads the frame's stack array at the block's base plus `n` (dynamic shapes).
    StackLoad(i32),
    /// Writes the frame's stack array at the block's base plus `n` (dynamic shapes).
    StackStore(i32, Value),
    /// Adds `n` to the base (leaving a dynamic block whose stack moved the base). The base
    /// is 0 when the function starts: static shapes, which never follow dynamic ones, are
    /// a dynamic stack on base 0.
    AdjustBase(i32),
    /// Records the target of an unresolved jump for the shared dispatch block.
    SetJumpTarget(Value),
    /// The target recorded by the last `SetJumpTarget`.
    JumpTarget,
    /// Inline unary operation.
    Unary(UnaryOp, Value),
    /// Inline binary operation.
    Binary(BinaryOp, Value, Value),
    /// Pure arithmetic through a builtin: DIV, SDIV, MOD, SMOD, EXP, ADDMOD, MULMOD.
    /// Backends may inline fast paths; the builtin is the reference.
    Arith(Builtin, Vec<Value>),
    /// Charges a static gas amount; halts with `OutOfGas` if not enough is left.
    ChargeGas(u64),
    /// A dynamic-shape section: checks the stack for every instruction of the section
    /// against the run-time base, then charges `gas` like `ChargeGas`. If a check fails,
    /// halts with what the interpreter reports: `OutOfGas` if the gas left does not cover
    /// the section up to the first failing instruction, else that instruction's error.
    DynCharge {
        /// Static gas of the whole section.
        gas: u64,
        /// The instructions whose stack requirement is stricter than every earlier one's.
        checks: Vec<StackCheck>,
    },
    /// Charges EXP's dynamic gas: `per_byte * byte_len(exponent)`.
    ChargeExpGas {
        /// The exponent operand.
        exponent: Value,
        /// Gas per byte of exponent (spec-dependent).
        per_byte: u64,
    },
    /// Gas left, after every charge before it.
    Gas,
    /// Memory size in bytes.
    MSize,
    /// Call data size in bytes.
    CallDataSize,
    /// An environment word (ADDRESS, CALLER, TIMESTAMP, …) from the context.
    Env(crate::abi::EnvField),
    /// Calls a fallible builtin (memory, copies, hashing, call data). Halts with the
    /// builtin's result if it fails; produces `args[0]` if the builtin has a result.
    Call(Builtin, Vec<Value>),
    /// A host operation (storage, environment, logs, …) run by the runtime with revm's own
    /// implementation. Its operands (stack top first) are stored at the top of the
    /// caller's stack array, which is `height` entries high; it produces `outputs` words
    /// (none or one) and may halt. A `None` operand is already in the array (dynamic
    /// shapes); in a dynamic shape the stack may be too short, which the operation reports.
    Host {
        /// The opcode.
        op: u8,
        /// Operands, stack top first.
        args: Vec<Option<Value>>,
        /// Stack height before the operation.
        height: Height,
        /// Number of results (0 or 1).
        outputs: u8,
    },
    /// Loads a big-endian word from memory at an offset already covered by a
    /// `MemoryExpand` of 32 bytes.
    MLoad(Value),
    /// Stores a word big-endian (`width` 32) or its low byte (`width` 1) at an offset
    /// already covered by a `MemoryExpand` of `width` bytes.
    MStore {
        /// Memory offset.
        offset: Value,
        /// Stored word.
        value: Value,
        /// 32 or 1.
        width: u8,
    },
}

impl InstData {
    /// Whether the instruction defines a value.
    pub fn has_result(&self) -> bool {
        match self {
            InstData::SlotSet(..)
            | InstData::StackStore(..)
            | InstData::AdjustBase(_)
            | InstData::SetJumpTarget(_)
            | InstData::DynCharge { .. }
            | InstData::ChargeGas(_)
            | InstData::ChargeExpGas { .. }
            | InstData::MStore { .. } => false,
            InstData::Call(b, _) => b.has_result(),
            InstData::Host { outputs, .. } => *outputs == 1,
            _ => true,
        }
    }

    /// Whether the instruction only computes its result: it cannot halt, charge or read
    /// gas, or write anything. Memory reads qualify because their `MemoryExpand`, which
    /// checks the bounds, is its own instruction; `Arith`'s builtins never fail.
    pub fn is_pure(&self) -> bool {
        matches!(
            self,
            InstData::Const(_)
                | InstData::Unary(..)
                | InstData::Binary(..)
                | InstData::Arith(..)
                | InstData::SlotGet(_)
                | InstData::StackLoad(_)
                | InstData::JumpTarget
                | InstData::MSize
                | InstData::CallDataSize
                | InstData::Env(_)
                | InstData::MLoad(_)
        )
    }

    /// The values this instruction reads.
    pub fn operands(&self) -> Vec<Value> {
        match self {
            InstData::SlotSet(_, v)
            | InstData::StackStore(_, v)
            | InstData::SetJumpTarget(v)
            | InstData::Unary(_, v)
            | InstData::MLoad(v) => vec![*v],
            InstData::Binary(_, a, b) => vec![*a, *b],
            InstData::ChargeExpGas { exponent, .. } => vec![*exponent],
            InstData::Arith(_, args) | InstData::Call(_, args) => args.clone(),
            InstData::Host { args, .. } => args.iter().flatten().copied().collect(),
            InstData::MStore { offset, value, .. } => vec![*offset, *value],
            InstData::Const(_)
            | InstData::SlotGet(_)
            | InstData::StackLoad(_)
            | InstData::AdjustBase(_)
            | InstData::JumpTarget
            | InstData::DynCharge { .. }
            | InstData::ChargeGas(_)
            | InstData::Gas
            | InstData::MSize
            | InstData::CallDataSize
            | InstData::Env(_) => vec![],
        }
    }
}

/// The bases each case of a dispatch switch accepts: a jump to a case whose bounds do not
/// hold for the run-time base goes to `exit` instead, which leaves to the interpreter at
/// the jump's target, where revm's own checks halt exactly as the case's block would have.
///
/// The translator gives every dispatch in a dynamic shape one, accepting every base; the
/// stack-bounds pass (`passes/stack_bounds.rs`) moves each case block's stack checks
/// (those before the block moves the base) here, where one lookup serves every case, and
/// the block needs them no more. Compiled from a profile, a case also asks for what the
/// blocks a few branches past it check, and for headroom below the stack limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchGuard {
    /// Per case, in the order of the switch's cases: the bases `lo..=hi` it accepts.
    pub bounds: Vec<(i64, i64)>,
    /// An [`Terminator::InterpretJump`] for [`Leave::Guard`], in the dispatch's shape,
    /// after writing the shape's slots to the stack array.
    pub exit: Block,
}

impl DispatchGuard {
    /// Bounds that accept every base a frame can have.
    pub const ANY: (i64, i64) = (i64::MIN, i64::MAX);

    /// Whether some case does not accept every base of a real stack (`0..=STACK_LIMIT`).
    pub fn is_active(&self) -> bool {
        let limit = crate::abi::STACK_LIMIT as i64;
        self.bounds.iter().any(|&(lo, hi)| lo > 0 || hi < limit)
    }
}

/// How a block ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Terminator {
    /// Not yet set (only during construction; the verifier rejects it).
    Unset,
    /// Unconditional branch.
    Jump(Block),
    /// Branch to `then` if `cond` is non-zero, else to `else_`.
    Branch {
        /// Condition word.
        cond: Value,
        /// Target when non-zero.
        then: Block,
        /// Target when zero.
        else_: Block,
    },
    /// Multi-way branch on a jump target: `cases` maps pcs to blocks; any other value goes
    /// to `default`.
    Switch {
        /// The target word.
        value: Value,
        /// (pc, block) pairs, sorted by pc, pcs unique.
        cases: Vec<(u32, Block)>,
        /// Taken for any other value.
        default: Block,
        /// For a dispatch in a dynamic shape, the bases each case accepts.
        guard: Option<Box<DispatchGuard>>,
    },
    /// CALL-family or CREATE-family opcode: every live stack entry is written to the
    /// caller's stack array (`args` at the top), the runtime runs the operation, and the
    /// function returns `Suspend` with resume point `index`. Execution resumes in
    /// `resume` with the child's result pushed. A failing operation halts instead.
    /// In a dynamic shape the translator has already written every entry below the
    /// operands to the array, `None` operands are there too, and `resume` is entered
    /// with the shape `Dynamic(0)`.
    Suspend {
        /// The opcode.
        op: u8,
        /// Operands, stack top first.
        args: Vec<Option<Value>>,
        /// Stack height before the operation.
        height: Height,
        /// Resume point (1-based; 0 is the program start).
        index: u32,
        /// Where execution continues after resuming.
        resume: Block,
    },
    /// Ends execution with `result`. For STOP, RETURN and REVERT the stack is
    /// `stack_len` high: in a static shape its slots are written back to the caller's
    /// stack; in a dynamic shape the translator has already written them.
    Exit {
        /// The result.
        result: InstructionResult,
        /// Live stack height (`Abs(0)` for halts).
        stack_len: Height,
    },
    /// Ends compiled execution before the EVM instruction at `pc`, the stack `stack_len`
    /// high written back as for STOP: the runtime runs the rest of the frame in revm's
    /// interpreter. It replaces code from which every path fails (`translate/failing.rs`),
    /// which is not worth compiling, and code that did not run when the program was
    /// profiled (`cold`).
    Interpret {
        /// Where the interpreter continues.
        pc: u32,
        /// Live stack height.
        stack_len: Height,
        /// Whether the code left was cold (not run when profiled) rather than failing:
        /// the function returns [`INTERPRET_COLD`](crate::abi::INTERPRET_COLD), so that
        /// the runtime can see a profile that no longer fits.
        cold: bool,
    },
    /// Ends compiled execution at an unresolved jump, whose target `SetJumpTarget`
    /// recorded, the stack `stack_len` high written back as for [`Self::Interpret`]: the
    /// runtime checks the target as JUMP does, halting with `InvalidJump` unless it is a
    /// JUMPDEST, and runs the rest of the frame in revm's interpreter from there. It is
    /// the default of a dispatch switch whose cases for the JUMPDESTs left to the
    /// interpreter were dropped (`passes/jump_exits.rs`): one exit for all of them; or
    /// the exit of a dispatch's guard ([`DispatchGuard`], for [`Leave::Guard`]).
    InterpretJump {
        /// Live stack height.
        stack_len: Height,
        /// Why: the function returns [`INTERPRET_JUMP`](crate::abi::INTERPRET_JUMP),
        /// [`INTERPRET_JUMP_COLD`](crate::abi::INTERPRET_JUMP_COLD) or
        /// [`INTERPRET_JUMP_GUARD`](crate::abi::INTERPRET_JUMP_GUARD), so that the
        /// runtime can count each apart.
        why: Leave,
    },
}

/// Why a jump is left to the interpreter ([`Terminator::InterpretJump`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Leave {
    /// Its targets' code can only fail (`translate/failing.rs`).
    Failing,
    /// Its targets' code did not run when the program was profiled.
    Cold,
    /// A dispatch guard refused the frame's stack height (`passes/stack_bounds.rs`): a
    /// stack fault lies ahead or, in code compiled from a profile, the frame has less
    /// room than the guard keeps or fewer entries than a block past the case reads, on a
    /// way the profile may not have seen.
    Guard,
}

impl Leave {
    /// [`Leave::Cold`] if `cold`, else [`Leave::Failing`]: the reason of an
    /// [`Terminator::Interpret`].
    pub fn failing_or_cold(cold: bool) -> Self {
        if cold { Leave::Cold } else { Leave::Failing }
    }
}

impl Terminator {
    /// Successor blocks, in order, possibly with repeats.
    pub fn successors(&self) -> Vec<Block> {
        match self {
            Terminator::Jump(b) => vec![*b],
            Terminator::Branch { then, else_, .. } => vec![*then, *else_],
            Terminator::Switch { cases, default, guard, .. } => {
                let exit = guard.as_ref().map(|g| g.exit);
                cases.iter().map(|(_, b)| *b).chain([*default]).chain(exit).collect()
            }
            Terminator::Suspend { resume, .. } => vec![*resume],
            Terminator::Unset
            | Terminator::Exit { .. }
            | Terminator::Interpret { .. }
            | Terminator::InterpretJump { .. } => vec![],
        }
    }

    /// Successor blocks, to be rewritten in place.
    pub fn successors_mut(&mut self) -> Vec<&mut Block> {
        match self {
            Terminator::Jump(b) => vec![b],
            Terminator::Branch { then, else_, .. } => vec![then, else_],
            Terminator::Switch { cases, default, guard, .. } => {
                let exit = guard.as_mut().map(|g| &mut g.exit);
                cases.iter_mut().map(|(_, b)| b).chain([default]).chain(exit).collect()
            }
            Terminator::Suspend { resume, .. } => vec![resume],
            Terminator::Unset
            | Terminator::Exit { .. }
            | Terminator::Interpret { .. }
            | Terminator::InterpretJump { .. } => vec![],
        }
    }

    /// The values the terminator reads.
    pub fn operands(&self) -> Vec<Value> {
        match self {
            Terminator::Branch { cond: v, .. } | Terminator::Switch { value: v, .. } => vec![*v],
            Terminator::Suspend { args, .. } => args.iter().flatten().copied().collect(),
            _ => vec![],
        }
    }
}
