//! Lowering of individual IR instructions.

use super::Lowerer;
use crate::LlvmError;
use inkwell::values::IntValue;
use revmc_ir::abi::{Builtin, EvmContext};
use revmc_ir::ir::{Height, InstData};

impl<'ctx> Lowerer<'ctx, '_> {
    /// Lowers one instruction; returns its result, if it has one.
    pub(super) fn inst(&mut self, data: &InstData) -> Result<Option<IntValue<'ctx>>, LlvmError> {
        let i256 = self.i256;
        let v = match data {
            InstData::Const(c) => i256.const_int_arbitrary_precision(c.as_limbs()),
            InstData::SlotGet(n) => {
                self.b.build_load(i256, self.slots[*n as usize], "")?.into_int_value()
            }
            InstData::SlotSet(n, v) => {
                self.b.build_store(self.slots[*n as usize], self.value(*v))?;
                return Ok(None);
            }
            InstData::StackLoad(n) => {
                let i = self.height(Height::Rel(*n))?;
                self.load_stack_at(i)?
            }
            InstData::StackStore(n, v) => {
                let i = self.height(Height::Rel(*n))?;
                self.store_stack_at(i, self.value(*v))?;
                return Ok(None);
            }
            InstData::AdjustBase(n) => {
                let b = self.height(Height::Rel(*n))?;
                self.set_base(b)?;
                return Ok(None);
            }
            InstData::SetJumpTarget(v) => {
                self.b.build_store(self.jump_target, self.value(*v))?;
                return Ok(None);
            }
            InstData::JumpTarget => self.b.build_load(i256, self.jump_target, "")?.into_int_value(),
            InstData::DynCharge { gas, checks } => {
                self.dyn_charge(*gas, checks)?;
                return Ok(None);
            }
            InstData::Unary(op, a) => self.unary(*op, self.value(*a))?,
            InstData::Binary(op, a, b) => {
                let (a, b) = (self.value(*a), self.value(*b));
                match self.past_wide_budget(*op, a, b) {
                    true => self.binary_call(*op, a, b)?,
                    false => self.binary(*op, a, b)?,
                }
            }
            InstData::Arith(builtin @ (Builtin::Div | Builtin::Mod), args) => {
                self.div_rem(*builtin, args)?
            }
            InstData::Arith(builtin @ (Builtin::SDiv | Builtin::SMod), args) => {
                self.sdiv_smod(*builtin, args)?
            }
            InstData::Arith(builtin, args) => {
                return self.call_builtin(*builtin, args, false);
            }
            InstData::ChargeGas(amount) => {
                let cost = self.i64.const_int(*amount, false);
                self.charge(cost)?;
                return Ok(None);
            }
            InstData::ChargeExpGas { exponent, per_byte } => {
                let cost = self.exp_cost(self.value(*exponent), *per_byte)?;
                self.charge(cost)?;
                return Ok(None);
            }
            InstData::Gas => {
                let g = self.b.build_load(self.i64, self.gas, "")?.into_int_value();
                self.b.build_int_z_extend(g, i256, "")?
            }
            InstData::MSize => self.ctx_usize(EvmContext::OFFSET_MEMORY_LEN)?,
            InstData::CallDataSize => self.ctx_usize(EvmContext::OFFSET_CALLDATA_LEN)?,
            InstData::Env(field) => self.env_word(*field)?,
            InstData::Call(Builtin::CallDataLoad, args) => self.calldata_load(args)?,
            InstData::Call(Builtin::MemoryExpand, args) => {
                self.memory_expand(args)?;
                return Ok(None);
            }
            InstData::Call(builtin, args) => return self.call_builtin(*builtin, args, true),
            InstData::Host { op, args, height, outputs } => {
                return self.host(*op, args, *height, *outputs);
            }
            InstData::MLoad(offset) => {
                let p = self.memory_ptr(self.value(*offset))?;
                let word = self.load_word(p, 1, "")?;
                self.bswap(word)?
            }
            InstData::MStore { offset, value, width } => {
                let p = self.memory_ptr(self.value(*offset))?;
                let v = self.value(*value);
                let st = if *width == 32 {
                    let be = self.bswap(v)?;
                    self.b.build_store(p, be)?
                } else {
                    let byte = self.b.build_int_truncate(v, self.i8, "")?;
                    self.b.build_store(p, byte)?
                };
                st.set_alignment(1).map_err(|e| LlvmError::Verify(e.to_string()))?;
                return Ok(None);
            }
        };
        Ok(Some(v))
    }
}

#[cfg(test)]
mod tests {
    use crate::lower::OPAQUE_CHARGE_INTERVAL;
    use crate::{OptLevel, lower::lower, opt};
    use inkwell::context::Context;
    use revmc_ir::{INLINE_WIDE_OPS, Limits, SpecId};

    /// Options that never split.
    fn whole() -> crate::lower::LowerOptions {
        crate::lower::LowerOptions { chunk_cost: usize::MAX, ..Default::default() }
    }

    /// The optimized LLVM IR of `code`, as text.
    fn optimized_ir(code: &[u8]) -> String {
        let func =
            revmc_ir::translate(code, SpecId::CANCUN, &Limits::default()).expect("translates");
        let cx = Context::create();
        let module = lower(&cx, &func, "prog", OptLevel::O2, &whole()).expect("lowers");
        let machine = opt::host_target_machine(OptLevel::O2).expect("a target machine");
        opt::optimize(&module, &machine, OptLevel::O2).expect("optimizes");
        module.print_to_string().to_string()
    }

    #[test]
    fn memory_offsets_are_plain_truncations_again_after_optimizing_at_every_level() {
        // MSTORE(CALLDATALOAD(0), MLOAD(CALLDATALOAD(0))), then
        // CALLDATACOPY(CALLDATALOAD(32), 0, CALLDATASIZE): offsets unknown when compiling,
        // of fixed and of variable width.
        let code = [0x5f, 0x35, 0x51, 0x5f, 0x35, 0x52, 0x36, 0x5f, 0x60, 0x20, 0x35, 0x37, 0x00];
        let func =
            revmc_ir::translate(&code, SpecId::CANCUN, &Limits::default()).expect("translates");
        for level in [OptLevel::O1, OptLevel::O2, OptLevel::O3] {
            let cx = Context::create();
            let module = lower(&cx, &func, "prog", level, &whole()).expect("lowers");
            let lowered = module.print_to_string().to_string();
            assert!(lowered.contains("call i64 @revmc.opaque.trunc.i64.i256"), "{level:?}");
            let machine = opt::host_target_machine(level).expect("a target machine");
            opt::optimize(&module, &machine, level).expect("optimizes");
            let ir = module.print_to_string().to_string();
            assert!(!ir.contains("revmc.opaque"), "{level:?}: {ir}");
            assert!(ir.contains("trunc i256"), "{level:?}: {ir}");
        }
    }

    #[test]
    fn wide_operations_past_the_budget_call_the_word_operations() {
        // CALLDATASIZE, then (DUP1 MUL) repeated: squares of a value unknown when compiling.
        let extra = 10;
        let mut code = vec![0x36];
        for _ in 0..INLINE_WIDE_OPS + extra {
            code.extend_from_slice(&[0x80, 0x02]);
        }
        code.push(0x00);
        let ir = optimized_ir(&code);
        // `mul`, `mul nuw`, `mul nuw nsw`: the optimizer marks the first ones.
        assert_eq!(ir.matches(" = mul ").count(), INLINE_WIDE_OPS as usize);
        // Each of the others calls the `Mul` entry of the word-operation table: the only
        // indirect calls of this program.
        let calls = ir.matches("call i8 %").count();
        assert_eq!(calls, extra as usize, "{calls} calls for {extra} multiplications");
    }

    #[test]
    fn every_opaque_interval_a_gas_check_survives_the_optimizer_as_a_subtraction() {
        // GAS reads the counter, so each one ends a gas section: a long run of sections,
        // whose every `OPAQUE_CHARGE_INTERVAL`th check cuts InstCombine's chain.
        let sections = 1000;
        let mut code = Vec::new();
        for _ in 0..sections {
            code.extend_from_slice(&[0x5a, 0x50]); // GAS POP
        }
        code.push(0x00);
        let ir = optimized_ir(&code);
        let opaque = ir.matches("call { i64, i1 } @llvm.usub.with.overflow.i64").count();
        assert_eq!(opaque, sections / OPAQUE_CHARGE_INTERVAL as usize);
    }
}
