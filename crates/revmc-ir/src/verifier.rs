//! IR verifier. A failure is a bug in the translator or a pass, never in the input.
//!
//! Invariants checked:
//! - every block has a terminator, and every successor is a block of the function;
//! - every instruction belongs to exactly one block;
//! - every operand is a value of the function, defined before its use in the same
//!   block or, when defined in another block, in a predecessor of the using block
//!   (the translator only passes values to the dispatch block it creates);
//! - builtin calls have the builtin's arity; stack slots are below the stack limit;
//! - host operations and suspensions of static shapes have all their operands as
//!   values, within their stack height;
//! - switch cases are sorted by pc and unique; exits with a stack write-back use
//!   STOP, RETURN or REVERT;
//! - a jump left to the interpreter is only reached as the default or the guard's exit of
//!   a switch over a recorded jump target (it reads that target);
//! - a guard has one bound per case of a dispatch, and its exit, a jump left for
//!   `Leave::Guard`, writes the dispatch's slots to the stack array.

use crate::abi::STACK_LIMIT;
use crate::ir::{
    Block, DispatchGuard, Function, Height, InstData, Leave, MAX_CHECK_GAS, Terminator, Value,
};
use crate::{InstructionResult, TranslateError};

/// Checks `func`'s invariants.
pub fn verify(func: &Function) -> Result<(), TranslateError> {
    Verifier::new(func).run().map_err(TranslateError::Verifier)
}

struct Verifier<'a> {
    func: &'a Function,
    /// Block of each instruction.
    inst_block: Vec<Option<Block>>,
    /// Position of each instruction in its block.
    inst_pos: Vec<usize>,
    /// Predecessors of each block.
    preds: Vec<Vec<Block>>,
}

impl<'a> Verifier<'a> {
    fn new(func: &'a Function) -> Self {
        let mut preds = vec![Vec::new(); func.blocks.len()];
        for b in func.block_ids() {
            for s in func.block(b).term.successors() {
                if let Some(p) = preds.get_mut(s.index()) {
                    p.push(b);
                }
            }
        }
        let n = func.insts.len();
        Self { func, inst_block: vec![None; n], inst_pos: vec![0; n], preds }
    }

    fn run(mut self) -> Result<(), String> {
        let f = self.func;
        if f.blocks.is_empty() {
            return Err("function has no blocks".into());
        }
        if f.num_slots as usize > STACK_LIMIT {
            return Err(format!("{} stack slots exceed the stack limit", f.num_slots));
        }
        for b in f.block_ids() {
            for (pos, &inst) in f.block(b).insts.iter().enumerate() {
                let slot = self
                    .inst_block
                    .get_mut(inst.index())
                    .ok_or(format!("{b}: {inst} out of range"))?;
                if let Some(other) = slot.replace(b) {
                    return Err(format!("{inst} is in both {other} and {b}"));
                }
                self.inst_pos[inst.index()] = pos;
            }
        }
        for b in f.block_ids() {
            let data = f.block(b);
            for (pos, &inst) in data.insts.iter().enumerate() {
                let idata = f.inst(inst);
                for v in idata.operands() {
                    self.check_use(b, pos, v).map_err(|e| format!("{b}: {inst}: {e}"))?;
                }
                self.check_inst(idata).map_err(|e| format!("{b}: {inst}: {e}"))?;
            }
            for v in data.term.operands() {
                self.check_use(b, data.insts.len(), v)
                    .map_err(|e| format!("{b}: terminator: {e}"))?;
            }
            self.check_term(&data.term).map_err(|e| format!("{b}: terminator: {e}"))?;
            if let Terminator::InterpretJump { why, .. } = data.term {
                self.check_jump_exit(b, why).map_err(|e| format!("{b}: terminator: {e}"))?;
            }
        }
        Ok(())
    }

    /// `b`, an `interpret jump` for `why`, is reached only as the default or (for
    /// [`Leave::Guard`] only) the guard's exit of dispatch switches.
    fn check_jump_exit(&self, b: Block, why: Leave) -> Result<(), String> {
        for &p in &self.preds[b.index()] {
            let Terminator::Switch { value, cases, default, guard } = &self.func.block(p).term
            else {
                return Err(format!("reached from {p}, which is no switch"));
            };
            let exit = guard.as_ref().map(|g| g.exit);
            if (*default != b && exit != Some(b)) || cases.iter().any(|&(_, c)| c == b) {
                return Err(format!("a case of {p}'s switch, not its default"));
            }
            // (A guard's exit that leaves for another reason is `check_guard`'s to refuse.)
            if exit != Some(b) && why == Leave::Guard {
                return Err(format!("left for a guard from {p}, whose guard exit it is not"));
            }
            if !self.is_dispatch(*value) {
                return Err(format!("the default of {p}'s switch over no recorded jump target"));
            }
        }
        Ok(())
    }

    /// The instruction that defines `value`, if it is a value of the function.
    fn def_of(&self, value: Value) -> Option<&InstData> {
        self.func.values.get(value.index()).map(|&i| self.func.inst(i))
    }

    /// Whether a switch over `value` is a dispatch: over a recorded jump target.
    fn is_dispatch(&self, value: Value) -> bool {
        matches!(self.def_of(value), Some(InstData::JumpTarget))
    }

    /// A switch's guard: one bound per case, on a dispatch, leaving through a jump exit
    /// for [`Leave::Guard`] (a base out of bounds is no profile's miss) that writes each
    /// entry above the base to the stack array from its slot (the dispatch's slots are
    /// nowhere else).
    fn check_guard(&self, value: Value, cases: usize, guard: &DispatchGuard) -> Result<(), String> {
        if guard.bounds.len() != cases {
            return Err(format!("{} guard bounds for {cases} cases", guard.bounds.len()));
        }
        if !self.is_dispatch(value) {
            return Err("a guard on a switch over no recorded jump target".into());
        }
        let exit = guard.exit;
        let Some(data) = self.func.blocks.get(exit.index()) else {
            return Err(format!("guard exit {exit} is not a block"));
        };
        let stack_len = match data.term {
            Terminator::InterpretJump { stack_len: Height::Rel(k), why: Leave::Guard }
                if k >= 0 =>
            {
                k
            }
            _ => return Err(format!("guard exit {exit} is no jump left for a guard")),
        };
        let stored = |i: i32| {
            data.insts.iter().any(|&inst| match self.func.inst(inst) {
                InstData::StackStore(at, v) if *at == i => {
                    self.def_of(*v) == Some(&InstData::SlotGet(i as u32))
                }
                _ => false,
            })
        };
        match (0..stack_len).find(|&i| !stored(i)) {
            Some(i) => Err(format!("guard exit {exit} does not write slot {i} above the base")),
            None => Ok(()),
        }
    }

    fn check_use(&self, block: Block, pos: usize, v: Value) -> Result<(), String> {
        let def = *self.func.values.get(v.index()).ok_or(format!("{v} is not a value"))?;
        let def_block =
            self.inst_block[def.index()].ok_or(format!("{v} is defined outside any block"))?;
        if def_block == block {
            if self.inst_pos[def.index()] >= pos {
                return Err(format!("{v} used before its definition"));
            }
        } else if !self.preds[block.index()].contains(&def_block) {
            return Err(format!("{v} defined in {def_block}, which does not precede {block}"));
        }
        Ok(())
    }

    fn check_inst(&self, data: &InstData) -> Result<(), String> {
        match data {
            InstData::Arith(b, args) | InstData::Call(b, args) if args.len() != b.arity() => {
                Err(format!("{} takes {} operands, got {}", b.name(), b.arity(), args.len()))
            }
            InstData::SlotGet(n) | InstData::SlotSet(n, _) if *n >= self.func.num_slots => {
                Err(format!("slot {n} is not below num_slots {}", self.func.num_slots))
            }
            InstData::Host { args, height: Height::Abs(h), .. }
                if args.len() > *h as usize || args.iter().any(Option::is_none) =>
            {
                Err(format!("host operation takes {} operands at height {h}", args.len()))
            }
            InstData::MStore { width, .. } if !matches!(width, 1 | 32) => {
                Err(format!("mstore width {width}"))
            }
            InstData::DynCharge { checks, .. } if checks.iter().any(|c| c.gas > MAX_CHECK_GAS) => {
                Err(format!("a stack check counts more than {MAX_CHECK_GAS} gas"))
            }
            _ => Ok(()),
        }
    }

    fn check_term(&self, term: &Terminator) -> Result<(), String> {
        for s in term.successors() {
            if s.index() >= self.func.blocks.len() {
                return Err(format!("successor {s} is not a block"));
            }
        }
        match term {
            Terminator::Unset => Err("missing terminator".into()),
            Terminator::Suspend { index: 0, .. } => Err("suspend #0".into()),
            Terminator::Suspend { args, height: Height::Abs(h), index, .. }
                if args.len() > *h as usize || args.iter().any(Option::is_none) =>
            {
                Err(format!("suspend #{index} takes {} operands at height {h}", args.len()))
            }
            Terminator::Switch { cases, .. } if cases.windows(2).any(|w| w[0].0 >= w[1].0) => {
                Err("switch cases are not sorted and unique".into())
            }
            Terminator::Switch { value, cases, guard: Some(guard), .. } => {
                self.check_guard(*value, cases.len(), guard)
            }
            Terminator::Exit { result, stack_len }
                if *stack_len != Height::Abs(0)
                    && !matches!(
                        result,
                        InstructionResult::Stop
                            | InstructionResult::Return
                            | InstructionResult::Revert
                    ) =>
            {
                Err(format!("{result:?} exit writes back the stack"))
            }
            Terminator::Exit { stack_len: Height::Abs(h), .. }
            | Terminator::Interpret { stack_len: Height::Abs(h), .. }
            | Terminator::InterpretJump { stack_len: Height::Abs(h), .. }
                if *h > self.func.num_slots =>
            {
                Err(format!("exit writes back {h} slots of {}", self.func.num_slots))
            }
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SpecId;

    #[test]
    fn a_jump_left_to_the_interpreter_is_only_a_dispatch_default() {
        let mut f = Function::new(SpecId::CANCUN);
        let entry = f.create_block(Some(0));
        let d = f.create_block(None);
        let exit = f.create_block(None);
        let v = f.append(entry, InstData::Const(crate::U256::from(3))).expect("result");
        f.append(entry, InstData::SetJumpTarget(v));
        f.terminate(entry, Terminator::Jump(d));
        let target = f.append(d, InstData::JumpTarget).expect("result");
        let jump_exit = Terminator::InterpretJump { stack_len: Height::Abs(0), why: Leave::Cold };
        f.terminate(exit, jump_exit.clone());
        f.terminate(
            d,
            Terminator::Switch { value: target, cases: vec![], default: exit, guard: None },
        );
        verify(&f).unwrap();
        // A default does not leave for a guard: only a guard's exit does.
        let guard_exit = Terminator::InterpretJump { stack_len: Height::Abs(0), why: Leave::Guard };
        f.terminate(exit, guard_exit);
        let err = verify(&f).unwrap_err().to_string();
        assert!(err.contains("whose guard exit it is not"), "{err}");
        f.terminate(exit, jump_exit);
        // The same exit reached by a plain jump reads a target nothing recorded there.
        f.terminate(entry, Terminator::Jump(exit));
        let err = verify(&f).unwrap_err().to_string();
        assert!(err.contains("no switch"), "{err}");
        // Or as the default of a switch over a stack value.
        f.terminate(
            entry,
            Terminator::Switch { value: v, cases: vec![], default: exit, guard: None },
        );
        let err = verify(&f).unwrap_err().to_string();
        assert!(err.contains("no recorded jump target"), "{err}");
    }

    #[test]
    fn a_guard_exit_writes_every_slot_of_its_height() {
        let mut f = Function::new(SpecId::CANCUN);
        let entry = f.create_block(Some(0));
        let (d, case, exit) = (f.create_block(None), f.create_block(Some(7)), f.create_block(None));
        let v = f.append(entry, InstData::Const(crate::U256::from(7))).expect("result");
        f.append(entry, InstData::SetJumpTarget(v));
        f.terminate(entry, Terminator::Jump(d));
        let target = f.append(d, InstData::JumpTarget).expect("result");
        f.terminate(
            case,
            Terminator::Exit { result: InstructionResult::Stop, stack_len: Height::Rel(0) },
        );
        let stack_len = Height::Rel(1);
        f.terminate(exit, Terminator::InterpretJump { stack_len, why: Leave::Guard });
        let guard = Some(Box::new(DispatchGuard { bounds: vec![(3, 9)], exit }));
        let cases = vec![(7, case)];
        f.terminate(d, Terminator::Switch { value: target, cases, default: case, guard });
        // The slot above the base is in no array the interpreter reads.
        let err = verify(&f).unwrap_err().to_string();
        assert!(err.contains("does not write slot 0"), "{err}");
        // Nor is it when the exit writes another value there.
        let other = f.append(exit, InstData::Const(crate::U256::from(9))).expect("result");
        f.append(exit, InstData::StackStore(0, other));
        let err = verify(&f).unwrap_err().to_string();
        assert!(err.contains("does not write slot 0"), "{err}");
        f.blocks[exit.index()].insts.clear();
        let slot = f.append(exit, InstData::SlotGet(0)).expect("result");
        f.append(exit, InstData::StackStore(0, slot));
        verify(&f).unwrap();
        assert!(f.to_string().contains("interpret guard jump, stack base+1"), "{f}");
        // A guard's exit tells the runtime that a guard refused the frame.
        let failing = Terminator::InterpretJump { stack_len, why: Leave::Failing };
        f.blocks[exit.index()].term = failing;
        let err = verify(&f).unwrap_err().to_string();
        assert!(err.contains("is no jump left for a guard"), "{err}");
    }

    #[test]
    fn rejects_use_before_definition_and_missing_terminator() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        assert!(verify(&f).unwrap_err().to_string().contains("missing terminator"));
        let v = f.append(b, InstData::Const(crate::U256::ZERO)).unwrap();
        f.terminate(b, Terminator::Branch { cond: v, then: b, else_: b });
        verify(&f).unwrap();
        // A block using a value from a block that does not precede it.
        let c = f.create_block(None);
        f.terminate(c, Terminator::Switch { value: v, cases: vec![], default: c, guard: None });
        let e = f.create_block(None);
        f.append(e, InstData::Unary(crate::ir::UnaryOp::Not, v));
        f.terminate(
            e,
            Terminator::Exit { result: InstructionResult::Stop, stack_len: Height::Abs(0) },
        );
        assert!(verify(&f).unwrap_err().to_string().contains("does not precede"));
    }

    #[test]
    fn rejects_an_exit_writing_back_more_slots_than_there_are() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        f.num_slots = 2;
        f.terminate(b, Terminator::Interpret { pc: 0, stack_len: Height::Abs(2), cold: false });
        verify(&f).unwrap();
        f.terminate(b, Terminator::Interpret { pc: 0, stack_len: Height::Abs(3), cold: false });
        assert!(verify(&f).unwrap_err().to_string().contains("writes back 3 slots of 2"));
        let stop = Terminator::Exit { result: InstructionResult::Stop, stack_len: Height::Abs(3) };
        f.terminate(b, stop);
        assert!(verify(&f).unwrap_err().to_string().contains("writes back 3 slots of 2"));
    }

    #[test]
    fn rejects_a_stack_check_counting_more_gas_than_a_table_word_holds() {
        let mut f = Function::new(SpecId::CANCUN);
        let b = f.create_block(Some(0));
        let (under, over) = (InstructionResult::StackUnderflow, InstructionResult::StackOverflow);
        let check = |gas| crate::ir::StackCheck { gas, min_base: 1, max_base: 1023, under, over };
        f.terminate(
            b,
            Terminator::Exit { result: InstructionResult::Stop, stack_len: Height::Abs(0) },
        );
        f.insert_effect(
            b,
            0,
            InstData::DynCharge { gas: MAX_CHECK_GAS, checks: vec![check(MAX_CHECK_GAS)] },
        );
        verify(&f).unwrap();
        f.insert_effect(
            b,
            0,
            InstData::DynCharge { gas: MAX_CHECK_GAS + 1, checks: vec![check(MAX_CHECK_GAS + 1)] },
        );
        assert!(verify(&f).unwrap_err().to_string().contains("counts more than"));
    }
}
