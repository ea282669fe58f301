//! The backend-neutral IR: a function of basic blocks holding SSA values.
//!
//! Values are 256-bit words. The EVM stack does not exist in the IR: the translator
//! turns stack traffic inside a block into direct value uses, and carries values across
//! blocks in numbered *stack slots* (`slot_get` / `slot_set`), which the backend maps to
//! variables that SSA construction promotes to registers. In a block with a static shape
//! slot `i` is absolute stack position `i`; in a block with a dynamic shape it is position
//! `base + i`, where the base is a run-time value, and the entries below the base are in
//! the frame's stack array (`stack_load` / `stack_store`). Gas is charged in explicit
//! sections (`charge_gas`, or `dyn_charge` with run-time stack checks).

mod display;
mod entities;
mod function;
mod inst;

pub use entities::{Block, Inst, Value};
pub use function::{BlockData, Function};
pub use inst::{
    BinaryOp, DispatchGuard, Height, InstData, Leave, MAX_CHECK_GAS, StackCheck, Terminator,
    TernaryOp, UnaryOp,
};
