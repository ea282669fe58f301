//! The backend-neutral IR: a function of basic blocks holding SSA values.
//!
//! Values are 256-bit words. The EVM stack does not exist in the IR: the translator
//! turns stack traffic inside a block into direct value uses, and carries values across
//! blocks in numbered *stack slots* (`slot_get` / `slot_set`; slot `i` is absolute
//! stack position `i`), which the backend maps to variables that SSA construction
//! promotes to registers. Gas is charged in explicit sections (`charge_gas`).

mod display;
mod entities;
mod function;
mod inst;

pub use entities::{Block, Inst, Value};
pub use function::{BlockData, Function};
pub use inst::{BinaryOp, InstData, Terminator, TernaryOp, UnaryOp};
