//! The environment words compiled code loads inline through [`EvmContext::env`]
//! (ADDRESS, CALLER, CALLVALUE, ORIGIN, GASPRICE and the block's values): the words each
//! opcode would push, computed with the very expressions of revm's instructions.
//!
//! The block's and the transaction's words are snapshotted once per transaction
//! ([`EnvWords::new`]); the frame's three words are written on every entry into compiled
//! code ([`EnvWords::set_frame`]), because child frames share the array.
//!
//! [`EvmContext::env`]: revmc_ir::abi::EvmContext::env

use revm_interpreter::interpreter::EthInterpreter;
use revm_interpreter::interpreter_types::InputsTr;
use revm_interpreter::primitives::hardfork::SpecId;
use revm_interpreter::{Host, Interpreter};
use revmc_ir::abi::{EnvField, Word};

/// One word per [`EnvField`], in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWords([Word; EnvField::COUNT]);

impl EnvWords {
    /// The transaction's and the block's words as `host` reports them under `spec`; the
    /// frame's words are zero until [`Self::set_frame`].
    pub fn new<H: Host + ?Sized>(host: &H, spec: SpecId) -> Self {
        let mut words = [Word::ZERO; EnvField::COUNT];
        let mut set = |field: EnvField, value: Word| words[field as usize] = value;
        set(EnvField::Origin, host.caller().into_word().into());
        set(EnvField::GasPrice, host.effective_gas_price());
        set(EnvField::Coinbase, host.beneficiary().into_word().into());
        set(EnvField::Timestamp, host.timestamp());
        set(EnvField::Number, host.block_number());
        // revm's DIFFICULTY: PREVRANDAO from the Merge on (validation guarantees it is
        // set there), the block's difficulty before.
        let randao = if spec.is_enabled_in(SpecId::MERGE) {
            host.prevrandao().unwrap_or_default()
        } else {
            host.difficulty()
        };
        set(EnvField::PrevRandao, randao);
        set(EnvField::GasLimit, host.gas_limit());
        set(EnvField::ChainId, host.chain_id());
        set(EnvField::BaseFee, host.basefee());
        set(EnvField::BlobBaseFee, host.blob_gasprice());
        Self(words)
    }

    /// Writes the words of the frame `interp` runs: its target address, caller and value.
    pub fn set_frame(&mut self, interp: &Interpreter<EthInterpreter>) {
        let input = &interp.input;
        self.0[EnvField::Address as usize] = input.target_address().into_word().into();
        self.0[EnvField::Caller as usize] = input.caller_address().into_word().into();
        self.0[EnvField::CallValue as usize] = input.call_value();
    }

    /// The array compiled code reads.
    pub(crate) fn as_ptr(&self) -> *const Word {
        self.0.as_ptr()
    }

    /// The word of `field`.
    pub fn get(&self, field: EnvField) -> Word {
        self.0[field as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use revm_interpreter::context_interface::host::DummyHost;

    #[test]
    fn fields_are_in_array_order() {
        for (i, field) in EnvField::ALL.iter().enumerate() {
            assert_eq!(*field as usize, i, "{field:?}");
        }
        let mapped = (0..=255u8).filter_map(EnvField::of_opcode).count();
        assert_eq!(mapped, EnvField::COUNT, "every field has exactly one opcode");
    }

    #[test]
    fn randao_before_and_after_the_merge() {
        let host = DummyHost::new(SpecId::CANCUN);
        let after = EnvWords::new(&host, SpecId::CANCUN).get(EnvField::PrevRandao);
        let before = EnvWords::new(&host, SpecId::LONDON).get(EnvField::PrevRandao);
        assert_eq!(after, host.prevrandao().unwrap_or_default());
        assert_eq!(before, host.difficulty());
    }
}
