//! The contract between compiled code and the runtime that calls it.
//!
//! A compiled EVM program is one native function of type [`RawEvmFn`]. It receives an
//! [`EvmContext`], the EVM stack as an array of [`Word`]s and a pointer to the stack
//! length; it returns a [`InstructionResult`] discriminant (never `0`). Everything the
//! function needs from the outside world goes through the context: gas, memory, call
//! data, code, and function pointers (the [`Builtin`] table, the same builtins by
//! reference, the [`WordOp`] table, and `grow_memory`). Because of those a compiled
//! function references no host symbols, so JIT code and AOT libraries are
//! interchangeable.
//!
//! The backend takes field offsets from [`EvmContext`]'s `offset_of!` constants below;
//! the layout is asserted at compile time so a change here is a change there.

mod by_ref;
mod words;

pub use by_ref::BUILTINS_BY_REF;
pub use words::{WORD_OPS, eval as eval_word_op};

use crate::InstructionResult;
use crate::ir::Leave;
use core::ffi::c_void;
use core::mem::{offset_of, size_of};

/// One EVM stack word: 256 bits as four little-endian `u64` limbs. On little-endian
/// targets this is bit-for-bit LLVM's `i256` in memory (alignment 8).
pub type Word = revm_interpreter::primitives::U256;

/// Version of this ABI. Part of every cache key; bump it on any change to this file.
pub const ABI_VERSION: u32 = 10;

/// The EVM stack limit.
pub const STACK_LIMIT: usize = 1024;

/// Signature of a compiled EVM program.
///
/// # Safety
/// `ctx` must point to a valid, exclusively borrowed [`EvmContext`] whose pointers are
/// valid for the lengths it states; `stack` must point to [`STACK_LIMIT`] writable words;
/// `stack_len` must be valid for reads and writes.
pub type RawEvmFn =
    unsafe extern "C" fn(ctx: *mut EvmContext, stack: *mut Word, stack_len: *mut usize) -> u8;

/// Signature of a builtin: reads its operands from `args`, writes its result (if any) to
/// `args[0]`, and returns `0` to continue or an [`InstructionResult`] discriminant to halt.
///
/// # Safety
/// As for [`RawEvmFn`]; `args` points to as many words as the builtin's arity.
pub type BuiltinFn = unsafe extern "C" fn(ctx: *mut EvmContext, args: *mut Word) -> u8;

/// Signature of [`EvmContext::grow_memory`]: grows memory to cover
/// `[offset, offset + width)` exactly as [`Builtin::MemoryExpand`] does, for an offset
/// given as its low 64 bits and `offset_high`, non-zero if any higher bit is set. Returns
/// as [`BuiltinFn`].
///
/// Its operands travel in registers: the optimizing tier's cold path of an MLOAD or
/// MSTORE then stores nothing, where storing two words to the operand buffer cost 6 % of
/// the tier's compile time and 8 % of its code (docs/compile-cost.md, "Memory growth with
/// its operands in registers").
///
/// # Safety
/// As for [`RawEvmFn`].
pub type GrowMemoryFn =
    unsafe extern "C" fn(ctx: *mut EvmContext, offset: u64, offset_high: u64, width: u64) -> u8;

/// Signature of a builtin called by reference: its operands are read from `a`, `b` and `c`
/// (as many as its arity; the others are valid but unread), its result (if any) is
/// written to `dst`; returns as [`BuiltinFn`]. Each entry of [`BUILTINS_BY_REF`] calls
/// the context's [`BuiltinFn`] of the same index.
///
/// # Safety
/// As for [`BuiltinFn`]; each pointer must be valid for one word.
pub type BuiltinRefFn = unsafe extern "C" fn(
    ctx: *mut EvmContext,
    dst: *mut Word,
    a: *const Word,
    b: *const Word,
    c: *const Word,
) -> u8;

/// Return value of a builtin that lets execution continue.
pub const CONTINUE: u8 = 0;

/// Return value of a compiled function that leaves the rest of the frame to the
/// interpreter: the stack is written back (`stack_len` entries), gas is up to date, and
/// [`EvmContext::resume_at`] holds the pc of the next instruction to run. No
/// [`InstructionResult`] has this discriminant.
pub const INTERPRET: u8 = 0xff;

/// As [`INTERPRET`], where the code left to the interpreter is cold: it did not run when
/// the program was profiled, so the profile it was compiled with missed a path that runs.
pub const INTERPRET_COLD: u8 = 0xfe;

/// As [`INTERPRET`], where [`EvmContext::resume_at`] is the target of a jump the compiled
/// code left to the interpreter ([`Terminator::InterpretJump`](crate::ir::Terminator)),
/// `u64::MAX` for a target of more than 64 bits: the runtime checks it as JUMP does,
/// halting with `InvalidJump` (and no gas left) unless it is a JUMPDEST of the code.
pub const INTERPRET_JUMP: u8 = 0xfd;

/// As [`INTERPRET_JUMP`], where the code left to the interpreter is cold, as for
/// [`INTERPRET_COLD`].
pub const INTERPRET_JUMP_COLD: u8 = 0xfc;

/// As [`INTERPRET_JUMP`], where a dispatch guard refused the frame's stack height
/// ([`Leave::Guard`]).
pub const INTERPRET_JUMP_GUARD: u8 = 0xfb;

/// The exit code of a jump left to the interpreter because of `why`.
pub const fn interpret_jump_code(why: Leave) -> u8 {
    match why {
        Leave::Failing => INTERPRET_JUMP,
        Leave::Cold => INTERPRET_JUMP_COLD,
        Leave::Guard => INTERPRET_JUMP_GUARD,
    }
}

/// Why an exit `code` left the frame to the interpreter, and whether at a jump's target
/// ([`EvmContext::resume_at`] to be checked as JUMP does) rather than at a pc; `None` for
/// every other code.
pub const fn interpret_exit(code: u8) -> Option<(Leave, bool)> {
    match code {
        INTERPRET => Some((Leave::Failing, false)),
        INTERPRET_COLD => Some((Leave::Cold, false)),
        INTERPRET_JUMP => Some((Leave::Failing, true)),
        INTERPRET_JUMP_COLD => Some((Leave::Cold, true)),
        INTERPRET_JUMP_GUARD => Some((Leave::Guard, true)),
        _ => None,
    }
}

/// Per-call state shared between compiled code and the runtime.
#[repr(C)]
#[derive(Debug)]
pub struct EvmContext {
    /// Gas left. Compiled code keeps it in a register and writes it back before every
    /// builtin call and at every exit; builtins read and update it here.
    pub gas_remaining: u64,
    /// Start of EVM memory. Builtins that grow memory update this and `memory_len`.
    pub memory: *mut u8,
    /// EVM memory size in bytes (always a multiple of 32).
    pub memory_len: usize,
    /// Call data.
    pub calldata: *const u8,
    /// Call data length.
    pub calldata_len: usize,
    /// The contract's original bytecode (for CODECOPY).
    pub code: *const u8,
    /// Its length.
    pub code_len: usize,
    /// Output range set by RETURN / REVERT, in EVM memory.
    pub return_offset: usize,
    /// Output length.
    pub return_len: usize,
    /// Builtin table, indexed by [`Builtin`]; [`Builtin::COUNT`] entries.
    pub builtins: *const BuiltinFn,
    /// Opaque runtime data for the builtins; compiled code never reads it.
    pub runtime: *mut c_void,
    /// Where to continue: 0 to start the program, `k` to resume after the `k`-th
    /// suspension point (CALL / CREATE). Compiled code sets it when it suspends, and to
    /// the pc the interpreter continues at when it returns [`INTERPRET`].
    pub resume_at: u64,
    /// The environment words, [`EnvField::COUNT`] of them in [`EnvField`] order: the
    /// values of ADDRESS, CALLER, ORIGIN, TIMESTAMP and the like, which compiled code
    /// loads inline instead of calling the host.
    pub env: *const Word,
    /// Word operation table, indexed by [`WordOp`]; [`WordOp::COUNT`] entries. The first
    /// tier calls them instead of expanding 256-bit arithmetic inline.
    pub word_ops: *const WordOpFn,
    /// The builtins called with their operands by address, indexed by [`Builtin`]: the
    /// first tier's values are in memory already.
    pub builtins_by_ref: *const BuiltinRefFn,
    /// Memory growth for the optimizing tier's MLOAD, MSTORE and MSTORE8. `None` only
    /// where no compiled code touches memory: compiled code calls it without a check.
    pub grow_memory: Option<GrowMemoryFn>,
}

/// The environment values compiled code loads from [`EvmContext::env`]: one word each,
/// exactly what the opcode pushes. The first three belong to the frame; the others are
/// the same for every frame of a transaction.
#[repr(u8)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvField {
    /// ADDRESS: the frame's target address.
    Address,
    /// CALLER: the frame's caller.
    Caller,
    /// CALLVALUE: the frame's call value.
    CallValue,
    /// ORIGIN: the transaction's sender.
    Origin,
    /// GASPRICE: the transaction's effective gas price.
    GasPrice,
    /// COINBASE: the block's beneficiary.
    Coinbase,
    /// TIMESTAMP.
    Timestamp,
    /// NUMBER.
    Number,
    /// PREVRANDAO from the Merge on, DIFFICULTY before.
    PrevRandao,
    /// GASLIMIT: the block's gas limit.
    GasLimit,
    /// CHAINID.
    ChainId,
    /// BASEFEE.
    BaseFee,
    /// BLOBBASEFEE.
    BlobBaseFee,
}

impl EnvField {
    /// Every field, in array order.
    pub const ALL: [EnvField; 13] = [
        EnvField::Address,
        EnvField::Caller,
        EnvField::CallValue,
        EnvField::Origin,
        EnvField::GasPrice,
        EnvField::Coinbase,
        EnvField::Timestamp,
        EnvField::Number,
        EnvField::PrevRandao,
        EnvField::GasLimit,
        EnvField::ChainId,
        EnvField::BaseFee,
        EnvField::BlobBaseFee,
    ];
    /// Number of environment words.
    pub const COUNT: usize = Self::ALL.len();

    /// The field opcode `op` pushes, if it is one of them.
    pub const fn of_opcode(op: u8) -> Option<Self> {
        use revm_interpreter::bytecode::opcode as op;
        Some(match op {
            op::ADDRESS => EnvField::Address,
            op::CALLER => EnvField::Caller,
            op::CALLVALUE => EnvField::CallValue,
            op::ORIGIN => EnvField::Origin,
            op::GASPRICE => EnvField::GasPrice,
            op::COINBASE => EnvField::Coinbase,
            op::TIMESTAMP => EnvField::Timestamp,
            op::NUMBER => EnvField::Number,
            op::DIFFICULTY => EnvField::PrevRandao,
            op::GASLIMIT => EnvField::GasLimit,
            op::CHAINID => EnvField::ChainId,
            op::BASEFEE => EnvField::BaseFee,
            op::BLOBBASEFEE => EnvField::BlobBaseFee,
            _ => return None,
        })
    }

    /// Name for dumps.
    pub const fn name(self) -> &'static str {
        match self {
            EnvField::Address => "address",
            EnvField::Caller => "caller",
            EnvField::CallValue => "callvalue",
            EnvField::Origin => "origin",
            EnvField::GasPrice => "gasprice",
            EnvField::Coinbase => "coinbase",
            EnvField::Timestamp => "timestamp",
            EnvField::Number => "number",
            EnvField::PrevRandao => "prevrandao",
            EnvField::GasLimit => "gaslimit",
            EnvField::ChainId => "chainid",
            EnvField::BaseFee => "basefee",
            EnvField::BlobBaseFee => "blobbasefee",
        }
    }
}

/// Field offsets of [`EvmContext`], for the backend.
#[allow(missing_docs)]
impl EvmContext {
    pub const OFFSET_GAS_REMAINING: usize = offset_of!(EvmContext, gas_remaining);
    pub const OFFSET_MEMORY: usize = offset_of!(EvmContext, memory);
    pub const OFFSET_MEMORY_LEN: usize = offset_of!(EvmContext, memory_len);
    pub const OFFSET_CALLDATA: usize = offset_of!(EvmContext, calldata);
    pub const OFFSET_CALLDATA_LEN: usize = offset_of!(EvmContext, calldata_len);
    pub const OFFSET_BUILTINS: usize = offset_of!(EvmContext, builtins);
    pub const OFFSET_RESUME_AT: usize = offset_of!(EvmContext, resume_at);
    pub const OFFSET_ENV: usize = offset_of!(EvmContext, env);
    pub const OFFSET_WORD_OPS: usize = offset_of!(EvmContext, word_ops);
    pub const OFFSET_BUILTINS_BY_REF: usize = offset_of!(EvmContext, builtins_by_ref);
    pub const OFFSET_GROW_MEMORY: usize = offset_of!(EvmContext, grow_memory);
}

// Layout assertions: the backend hard-codes 8-byte fields at these offsets.
const _: () = {
    assert!(size_of::<usize>() == 8, "revmc supports 64-bit targets only");
    assert!(size_of::<Word>() == 32);
    assert!(EvmContext::OFFSET_GAS_REMAINING == 0);
    assert!(EvmContext::OFFSET_MEMORY == 8);
    assert!(EvmContext::OFFSET_MEMORY_LEN == 16);
    assert!(EvmContext::OFFSET_CALLDATA == 24);
    assert!(EvmContext::OFFSET_CALLDATA_LEN == 32);
    assert!(EvmContext::OFFSET_BUILTINS == 72);
    assert!(EvmContext::OFFSET_RESUME_AT == 88);
    assert!(EvmContext::OFFSET_ENV == 96);
    assert!(EvmContext::OFFSET_WORD_OPS == 104);
    assert!(EvmContext::OFFSET_BUILTINS_BY_REF == 112);
    assert!(EvmContext::OFFSET_GROW_MEMORY == 120);
    assert!(size_of::<EvmContext>() == 128);
};

macro_rules! builtins {
    ($($(#[$doc:meta])* $name:ident = $arity:literal, $ret:literal;)*) => {
        /// Out-of-line operations compiled code calls through [`EvmContext::builtins`].
        #[repr(u8)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Builtin {
            $($(#[$doc])* $name,)*
        }

        impl Builtin {
            /// Every builtin, in table order.
            pub const ALL: &'static [Builtin] = &[$(Builtin::$name,)*];
            /// Number of builtins: the length of the table.
            pub const COUNT: usize = Self::ALL.len();

            /// Number of word operands read from `args`.
            pub const fn arity(self) -> usize {
                match self { $(Builtin::$name => $arity,)* }
            }

            /// Whether the builtin writes a result word to `args[0]`.
            pub const fn has_result(self) -> bool {
                match self { $(Builtin::$name => $ret,)* }
            }

            /// Name for dumps.
            pub const fn name(self) -> &'static str {
                match self { $(Builtin::$name => stringify!($name),)* }
            }
        }
    };
}

builtins! {
    /// `args[0] / args[1]`, 0 on division by zero.
    Div = 2, true;
    /// Signed division (two's complement), 0 on division by zero.
    SDiv = 2, true;
    /// `args[0] % args[1]`, 0 on modulo by zero.
    Mod = 2, true;
    /// Signed modulo, sign of the dividend.
    SMod = 2, true;
    /// `(args[0] + args[1]) % args[2]` without intermediate overflow.
    AddMod = 3, true;
    /// `(args[0] * args[1]) % args[2]` without intermediate overflow.
    MulMod = 3, true;
    /// `args[0] ** args[1]`. Its gas is charged by compiled code.
    Exp = 2, true;
    /// Grows memory to cover `[args[0], args[0] + args[1])`, charging expansion gas.
    MemoryExpand = 2, false;
    /// KECCAK256 of memory `[args[0], +args[1])`, with word and expansion gas.
    Keccak256 = 2, true;
    /// CALLDATALOAD at `args[0]`.
    CallDataLoad = 1, true;
    /// CALLDATACOPY(mem_offset, data_offset, len), with copy and expansion gas.
    CallDataCopy = 3, false;
    /// CODECOPY(mem_offset, code_offset, len), with copy and expansion gas.
    CodeCopy = 3, false;
    /// MCOPY(dst, src, len), with copy and expansion gas.
    MCopy = 3, false;
    /// Sets the output range of RETURN / REVERT to memory `[args[0], +args[1])`.
    SetOutput = 2, false;
    /// Runs host opcode `args[0]` with the stack `args[1]` entries high (each operand is
    /// read from its low limb only), its operands
    /// already stored at the top of the caller's stack array; results are left there.
    /// The array's first `args[2]` entries hold live values (a dynamic shape's entries
    /// below its base) and must be kept. CALL / CREATE return `Suspend` after setting
    /// the frame's next action.
    Host = 3, false;
}

/// Signature of a word operation: a pure function of the words at `a` and `b` written to
/// `dst`, returning 0. Operands are read before the result is written, so `dst` may alias
/// either. The memory operations ([`WordOp::MLoad`] and the stores) take the context as
/// `b` and return 1, doing nothing, when the access is not within memory.
///
/// # Safety
/// Each pointer must be valid for the word the operation reads or writes; `b` of a memory
/// operation must point to a live [`EvmContext`].
pub type WordOpFn = unsafe extern "C" fn(dst: *mut Word, a: *const Word, b: *const Word) -> u8;

macro_rules! word_ops {
    ($($(#[$doc:meta])* $name:ident;)*) => {
        /// Out-of-line word operations, called through [`EvmContext::word_ops`] by the
        /// first tier, which keeps every value in memory: a call with three pointers is
        /// the least code per EVM instruction LLVM's fast instruction selector can take.
        /// Binary operations take the EVM stack top as `a`.
        #[repr(u8)]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum WordOp {
            $($(#[$doc])* $name,)*
        }

        impl WordOp {
            /// Every operation, in table order.
            pub const ALL: &'static [WordOp] = &[$(WordOp::$name,)*];
            /// Number of operations: the length of the table.
            pub const COUNT: usize = Self::ALL.len();

            /// Name for dumps.
            pub const fn name(self) -> &'static str {
                match self { $(WordOp::$name => stringify!($name),)* }
            }
        }
    };
}

word_ops! {
    /// Wrapping `a + b`.
    Add;
    /// Wrapping `a - b`.
    Sub;
    /// Wrapping `a * b`.
    Mul;
    /// `a < b`, unsigned, as 0 or 1.
    Lt;
    /// `a > b`, unsigned.
    Gt;
    /// `a < b`, signed.
    Slt;
    /// `a > b`, signed.
    Sgt;
    /// `a == b`.
    Eq;
    /// Bitwise AND.
    And;
    /// Bitwise OR.
    Or;
    /// Bitwise XOR.
    Xor;
    /// Byte `a` of `b`, from the most significant; 0 when `a >= 32`.
    Byte;
    /// `b << a`; 0 when `a >= 256`.
    Shl;
    /// `b >> a`, logical.
    Shr;
    /// `b >> a`, arithmetic.
    Sar;
    /// Sign-extends `b` from byte `a`.
    SignExtend;
    /// Bitwise NOT of `a` (`b` unused).
    Not;
    /// 1 if `a` is zero, else 0 (`b` unused).
    IsZero;
    /// Leading zero bits of `a`, 256 for zero (`b` unused).
    Clz;
    /// MLOAD's read: the big-endian word at memory offset `a`, if memory holds it.
    MLoad;
    /// MSTORE's write: word `dst` (read, not written) big-endian at memory offset `a`, if
    /// memory holds it.
    MStore;
    /// MSTORE8's write: the low byte of word `dst` at memory offset `a`, if memory holds it.
    MStore8;
}

impl WordOp {
    /// The operation computing `op`.
    pub const fn of_binary(op: crate::ir::BinaryOp) -> Self {
        use crate::ir::BinaryOp as B;
        match op {
            B::Add => WordOp::Add,
            B::Sub => WordOp::Sub,
            B::Mul => WordOp::Mul,
            B::Lt => WordOp::Lt,
            B::Gt => WordOp::Gt,
            B::Slt => WordOp::Slt,
            B::Sgt => WordOp::Sgt,
            B::Eq => WordOp::Eq,
            B::And => WordOp::And,
            B::Or => WordOp::Or,
            B::Xor => WordOp::Xor,
            B::Byte => WordOp::Byte,
            B::Shl => WordOp::Shl,
            B::Shr => WordOp::Shr,
            B::Sar => WordOp::Sar,
            B::SignExtend => WordOp::SignExtend,
        }
    }

    /// The operation computing `op`.
    pub const fn of_unary(op: crate::ir::UnaryOp) -> Self {
        use crate::ir::UnaryOp as U;
        match op {
            U::Not => WordOp::Not,
            U::IsZero => WordOp::IsZero,
            U::Clz => WordOp::Clz,
        }
    }
}

/// Converts a compiled function's return value back into revm's result type.
/// Returns `None` for values no compiled function returns (a bug in the caller or callee).
pub fn exit_code_to_result(code: u8) -> Option<InstructionResult> {
    use InstructionResult as R;
    // Only the results compiled code and builtins produce are listed.
    const KNOWN: &[InstructionResult] = &[
        R::Stop,
        R::Return,
        R::SelfDestruct,
        R::Suspend,
        R::Revert,
        R::CallTooDeep,
        R::OutOfFunds,
        R::CreateInitCodeStartingEF00,
        R::InvalidEOFInitCode,
        R::InvalidExtDelegateCallTarget,
        R::OutOfGas,
        R::MemoryOOG,
        R::MemoryLimitOOG,
        R::InvalidOperandOOG,
        R::PrecompileOOG,
        R::ReentrancySentryOOG,
        R::OpcodeNotFound,
        R::CallNotAllowedInsideStatic,
        R::StateChangeDuringStaticCall,
        R::InvalidFEOpcode,
        R::InvalidJump,
        R::NotActivated,
        R::StackUnderflow,
        R::StackOverflow,
        R::OutOfOffset,
        R::CreateCollision,
        R::OverflowPayment,
        R::PrecompileError,
        R::NonceOverflow,
        R::CreateContractSizeLimit,
        R::CreateContractStartingWithEF,
        R::CreateInitCodeSizeLimit,
        R::FatalExternalError,
    ];
    KNOWN.iter().copied().find(|r| *r as u8 == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_round_trip_and_are_never_continue() {
        for r in [InstructionResult::Stop, InstructionResult::StackOverflow] {
            assert_ne!(r as u8, CONTINUE);
            assert_eq!(exit_code_to_result(r as u8), Some(r));
        }
        assert_eq!(exit_code_to_result(CONTINUE), None);
        assert_eq!(exit_code_to_result(INTERPRET), None);
        assert_eq!(exit_code_to_result(INTERPRET_COLD), None);
        assert_eq!(exit_code_to_result(INTERPRET_JUMP), None);
        assert_eq!(exit_code_to_result(INTERPRET_JUMP_COLD), None);
        assert_eq!(exit_code_to_result(INTERPRET_JUMP_GUARD), None);
    }

    #[test]
    fn every_jump_left_to_the_interpreter_has_its_own_code() {
        for why in [Leave::Failing, Leave::Cold, Leave::Guard] {
            assert_eq!(interpret_exit(interpret_jump_code(why)), Some((why, true)));
        }
        assert_eq!(interpret_exit(INTERPRET), Some((Leave::Failing, false)));
        assert_eq!(interpret_exit(INTERPRET_COLD), Some((Leave::Cold, false)));
        // No result of revm's shares a code with a leave.
        for code in 0..=u8::MAX {
            let result = exit_code_to_result(code);
            assert!(result.is_none() || interpret_exit(code).is_none(), "{result:?}");
        }
    }

    #[test]
    fn builtin_table_is_dense() {
        for (i, b) in Builtin::ALL.iter().enumerate() {
            assert_eq!(*b as usize, i);
        }
        for (i, w) in WordOp::ALL.iter().enumerate() {
            assert_eq!(*w as usize, i);
        }
    }
}
