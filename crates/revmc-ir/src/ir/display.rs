//! Text form of the IR, for dumps and snapshot tests.
//!
//! ```text
//! block0:                 ; pc 0
//!     charge_gas 6
//!     v0 = const 0x1
//!     slot_set 0, v0
//!     jump block1
//! ```

use super::{DispatchGuard, Function, Height, InstData, Leave, Terminator, Value};
use core::fmt;

impl fmt::Display for Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for block in self.block_ids() {
            let data = self.block(block);
            match data.pc {
                Some(pc) => writeln!(f, "{block}:  ; pc {pc}")?,
                None => writeln!(f, "{block}:")?,
            }
            for &inst in &data.insts {
                f.write_str("    ")?;
                if let Some(v) = self.inst_result(inst) {
                    write!(f, "{v} = ")?;
                }
                write_inst(f, self.inst(inst))?;
                f.write_str("\n")?;
            }
            f.write_str("    ")?;
            write_term(f, &data.term)?;
            f.write_str("\n")?;
        }
        Ok(())
    }
}

fn write_list(f: &mut fmt::Formatter<'_>, vs: &[super::Value]) -> fmt::Result {
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        write!(f, "{v}")?;
    }
    Ok(())
}

/// Operands that may already be in the stack array (`_`).
fn write_opt_list(f: &mut fmt::Formatter<'_>, vs: &[Option<Value>]) -> fmt::Result {
    for (i, v) in vs.iter().enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        match v {
            Some(v) => write!(f, "{v}")?,
            None => f.write_str("_")?,
        }
    }
    Ok(())
}

impl fmt::Display for Height {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Height::Abs(n) => write!(f, "{n}"),
            Height::Rel(n) => write!(f, "base{n:+}"),
        }
    }
}

fn write_inst(f: &mut fmt::Formatter<'_>, inst: &InstData) -> fmt::Result {
    match inst {
        InstData::Const(c) => write!(f, "const {c:#x}"),
        InstData::SlotGet(n) => write!(f, "slot_get {n}"),
        InstData::SlotSet(n, v) => write!(f, "slot_set {n}, {v}"),
        InstData::StackLoad(n) => write!(f, "stack_load base{n:+}"),
        InstData::StackStore(n, v) => write!(f, "stack_store base{n:+}, {v}"),
        InstData::AdjustBase(n) => write!(f, "adjust_base {n:+}"),
        InstData::SetJumpTarget(v) => write!(f, "set_jump_target {v}"),
        InstData::JumpTarget => f.write_str("jump_target"),
        InstData::DynCharge { gas, checks } => {
            write!(f, "dyn_charge {gas}")?;
            for c in checks {
                write!(f, ", [{}..={}]@{}", c.min_base, c.max_base, c.gas)?;
            }
            Ok(())
        }
        InstData::Unary(op, v) => write!(f, "{} {v}", format!("{op:?}").to_lowercase()),
        InstData::Binary(op, a, b) => write!(f, "{} {a}, {b}", format!("{op:?}").to_lowercase()),
        InstData::Arith(b, args) => {
            write!(f, "arith {} ", b.name())?;
            write_list(f, args)
        }
        InstData::ChargeGas(g) => write!(f, "charge_gas {g}"),
        InstData::ChargeExpGas { exponent, per_byte } => {
            write!(f, "charge_exp_gas {exponent}, {per_byte}")
        }
        InstData::Gas => f.write_str("gas"),
        InstData::MSize => f.write_str("msize"),
        InstData::CallDataSize => f.write_str("calldatasize"),
        InstData::Env(field) => f.write_str(field.name()),
        InstData::Call(b, args) => {
            write!(f, "call {} ", b.name())?;
            write_list(f, args)
        }
        InstData::Host { op, args, height, .. } => {
            write!(f, "host {} @{height} ", op_name(*op))?;
            write_opt_list(f, args)
        }
        InstData::MLoad(v) => write!(f, "mload {v}"),
        InstData::MStore { offset, value, width } => {
            write!(f, "mstore{width} {offset}, {value}")
        }
    }
}

fn write_term(f: &mut fmt::Formatter<'_>, term: &Terminator) -> fmt::Result {
    match term {
        Terminator::Unset => f.write_str("<unset>"),
        Terminator::Jump(b) => write!(f, "jump {b}"),
        Terminator::Branch { cond, then, else_ } => write!(f, "branch {cond}, {then}, {else_}"),
        Terminator::Switch { value, cases, default, guard } => {
            write!(f, "switch {value}, [")?;
            let bounds = guard.as_ref().map(|g| &g.bounds);
            for (i, (pc, b)) in cases.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{pc}: {b}")?;
                match bounds.map(|b| b[i]) {
                    Some(DispatchGuard::ANY) | None => {}
                    Some((lo, hi)) => write!(f, " [{lo}..={hi}]")?,
                }
            }
            write!(f, "], {default}")?;
            match guard {
                Some(g) => write!(f, ", else {}", g.exit),
                None => Ok(()),
            }
        }
        Terminator::Suspend { op, args, height, index, resume } => {
            write!(f, "suspend {} @{height} #{index} ", op_name(*op))?;
            write_opt_list(f, args)?;
            write!(f, ", resume {resume}")
        }
        Terminator::Exit { result, stack_len } => write!(f, "exit {result:?}, stack {stack_len}"),
        Terminator::Interpret { pc, stack_len, cold: false } => {
            write!(f, "interpret @{pc}, stack {stack_len}")
        }
        Terminator::Interpret { pc, stack_len, cold: true } => {
            write!(f, "interpret cold @{pc}, stack {stack_len}")
        }
        Terminator::InterpretJump { stack_len, why } => {
            let why = match why {
                Leave::Failing => "",
                Leave::Cold => " cold",
                Leave::Guard => " guard",
            };
            write!(f, "interpret{why} jump, stack {stack_len}")
        }
    }
}

fn op_name(op: u8) -> &'static str {
    revm_interpreter::bytecode::opcode::OpCode::new(op).map_or("?", |o| o.as_str())
}
