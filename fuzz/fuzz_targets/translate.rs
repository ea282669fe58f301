//! Fuzz target: any bytes under any spec translate without panicking, and whatever
//! translates passes the IR verifier. Time is bounded by libFuzzer's `-timeout`.

#![no_main]

use libfuzzer_sys::fuzz_target;
use revmc_ir::{Limits, SpecId, TranslateError, translate, verifier};

fuzz_target!(|data: &[u8]| {
    let Some((&spec, code)) = data.split_first() else { return };
    let Some(spec) = SpecId::try_from_u8(spec % (SpecId::AMSTERDAM as u8 + 1)) else { return };
    match translate(code, spec, &Limits::default()) {
        Ok(func) => verifier::verify(&func).expect("translated IR verifies"),
        Err(TranslateError::Verifier(e)) => panic!("verifier: {e}"),
        Err(_) => {}
    }
});
