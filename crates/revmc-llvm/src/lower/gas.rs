//! The gas counter: charges, EXP's dynamic cost, and the counter kept in a local,
//! written to the context around calls that may charge and on leaving.

use super::{Lowerer, OPAQUE_CHARGE_INTERVAL};
use crate::LlvmError;
use inkwell::IntPredicate as P;
use inkwell::values::IntValue;
use revmc_ir::abi::EvmContext;

impl<'ctx> Lowerer<'ctx, '_> {
    /// `gas -= cost`, or exit with `OutOfGas` if `cost` exceeds it.
    pub(super) fn charge(&mut self, cost: IntValue<'ctx>) -> Result<(), LlvmError> {
        if self.memory_values {
            return self.charge_in_memory(cost);
        }
        // A compare and a subtraction; every `OPAQUE_CHARGE_INTERVAL`th check one
        // `usub.with.overflow` instead. As a chain of `icmp ult` on the counter, each
        // check of a long run of sections was rewritten by InstCombine against every
        // condition dominating it (quadratic: 15 s for 24 KiB of `MSIZE GAS ADD POP`); the
        // intrinsic cuts the chain. Every check in that form moved small loops' register
        // allocation (fibonacci or factorial 7 % slower, depending on which counter the
        // out-of-gas exit kept).
        self.charges += 1;
        let g = self.b.build_load(self.i64, self.gas, "gas")?.into_int_value();
        let ok = self.continuation("gas_ok");
        let usub = if self.charges.is_multiple_of(OPAQUE_CHARGE_INTERVAL) {
            Some(self.intrinsic_struct("llvm.usub.with.overflow", &[g, cost])?)
        } else {
            None
        };
        let short = match usub {
            Some(r) => self.b.build_extract_value(r, 1, "oog")?.into_int_value(),
            None => self.b.build_int_compare(P::ULT, g, cost, "oog")?,
        };
        self.b.build_conditional_branch(short, self.oog, ok)?;
        self.b.position_at_end(ok);
        let left = match usub {
            Some(r) => self.b.build_extract_value(r, 0, "")?.into_int_value(),
            None => self.b.build_int_sub(g, cost, "")?,
        };
        self.b.build_store(self.gas, left)?;
        Ok(())
    }

    /// EXP's dynamic gas: `per_byte * (bytes in exponent)`.
    pub(super) fn exp_cost(
        &self,
        exponent: IntValue<'ctx>,
        per_byte: u64,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        let lz = self.intrinsic("llvm.ctlz", &[exponent, self.cx.bool_type().const_zero()])?;
        let bits = self.b.build_int_sub(self.i256.const_int(256, false), lz, "")?;
        let bits = self.b.build_int_truncate(bits, self.i64, "")?;
        // ceil(bits / 8), which is 0 for a zero exponent.
        let bytes = self.b.build_int_add(bits, self.i64.const_int(7, false), "")?;
        let bytes = self.b.build_right_shift(bytes, self.i64.const_int(3, false), false, "")?;
        Ok(self.b.build_int_mul(bytes, self.i64.const_int(per_byte, false), "")?)
    }

    /// Emits `call` (a call that may charge gas) with the gas local written to the
    /// context before it and read back after it when `sync`; returns its result.
    pub(super) fn gas_synced(
        &self,
        sync: bool,
        call: impl FnOnce() -> Result<IntValue<'ctx>, LlvmError>,
    ) -> Result<IntValue<'ctx>, LlvmError> {
        if sync {
            self.sync_gas_out()?;
        }
        let rc = call()?;
        if sync {
            self.sync_gas_in()?;
        }
        Ok(rc)
    }

    /// Writes the gas local back to the context.
    pub(super) fn sync_gas_out(&self) -> Result<(), LlvmError> {
        let g = self.b.build_load(self.i64, self.gas, "gas")?;
        let p = self.ctx_field(EvmContext::OFFSET_GAS_REMAINING)?;
        self.b.build_store(p, g)?;
        Ok(())
    }

    /// Writes 0 as the gas left: an exceptional halt consumes the frame's gas (revm's
    /// frame settlement spends it all), so the local's value does not matter, and not
    /// reading it spares the shared halting blocks a phi with an incoming value from
    /// every gas check of the program.
    pub(super) fn spend_all_gas(&self) -> Result<(), LlvmError> {
        let p = self.ctx_field(EvmContext::OFFSET_GAS_REMAINING)?;
        self.b.build_store(p, self.i64.const_zero())?;
        Ok(())
    }

    /// Reads the context's gas back into the local.
    fn sync_gas_in(&self) -> Result<(), LlvmError> {
        let g = self.load_ctx_field(EvmContext::OFFSET_GAS_REMAINING, self.i64)?;
        self.b.build_store(self.gas, g)?;
        Ok(())
    }
}
