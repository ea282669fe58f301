//! One contract's evaluation: translate, then (unless translate-only) JIT-compile, under
//! `catch_unwind`; and the hidden `--worker` mode that serves evaluations to a parent over
//! stdin (one hex code per line) and stdout (one [`REPLY`]-prefixed JSON [`Outcome`] per line).

use alloy_primitives::B256;
use revmc_ir::{Limits, RanBlocks, SpecId};
use revmc_llvm::{JitCompiler, OptLevel};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Prefix of a worker's reply lines; anything else on its stdout is not a reply.
pub const REPLY: &str = "@revmc-corpus ";
/// A worker's first reply: its compiler is ready.
pub const READY: &str = "ready";

/// The result of one contract, as the worker reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// `None` when compiled (or translated); otherwise why not.
    pub reason: Option<String>,
    pub translate_ms: Option<f64>,
    pub lower_ms: Option<f64>,
    pub optimize_ms: Option<f64>,
    pub codegen_ms: Option<f64>,
    pub link_ms: Option<f64>,
    /// The whole evaluation, translation included.
    pub compile_ms: f64,
    /// Native code (object) bytes.
    pub code_bytes: Option<usize>,
    /// The object's bytes linking maps into memory (`revmc_llvm::loaded_size`).
    pub loaded_bytes: Option<usize>,
    /// The estimate the level's admission bound is on, in ms of the reference VM:
    /// `revmc_ir::optimizing_cost` at O2 and O3 (calibrated at O2), `compile_cost` below
    /// (calibrated at O0).
    pub estimate_ms: Option<f64>,
}

impl Outcome {
    /// A refusal after `elapsed`, with nothing else known.
    pub fn refused(reason: String, elapsed: Duration) -> Self {
        Self {
            reason: Some(reason),
            translate_ms: None,
            lower_ms: None,
            optimize_ms: None,
            codegen_ms: None,
            link_ms: None,
            compile_ms: ms(elapsed),
            code_bytes: None,
            loaded_bytes: None,
            estimate_ms: None,
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// The estimate `opt`'s admission bound is on, in ms of the reference VM:
/// `revmc_ir::optimizing_cost` at O2 and O3, `compile_cost` below (`Limits`).
fn estimate_ms(func: &revmc_ir::ir::Function, opt: OptLevel) -> f64 {
    let micros = match opt {
        OptLevel::O0 | OptLevel::O1 => revmc_ir::compile_cost(func),
        OptLevel::O2 | OptLevel::O3 => revmc_ir::optimizing_cost(func),
    };
    micros as f64 / 1e3
}

/// Translates `code` (only the blocks in `ran`, if given) and, given a compiler slot,
/// compiles it (creating the compiler on first use). A panic is a refusal with reason
/// `panic: <message>` and leaves the slot empty.
pub fn evaluate(
    code: &[u8],
    limits: &Limits,
    ran: Option<&RanBlocks>,
    jit: Option<(&mut Option<JitCompiler>, OptLevel)>,
) -> Outcome {
    let start = Instant::now();
    match catch_unwind(AssertUnwindSafe(|| run(code, limits, ran, jit, start))) {
        Ok(out) => out,
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "(no message)".into());
            Outcome::refused(format!("panic: {msg}"), start.elapsed())
        }
    }
}

fn run(
    code: &[u8],
    limits: &Limits,
    ran: Option<&RanBlocks>,
    jit: Option<(&mut Option<JitCompiler>, OptLevel)>,
    start: Instant,
) -> Outcome {
    let func = revmc_ir::translate_profiled(code, SpecId::CANCUN, limits, ran);
    let translated = start.elapsed();
    let mut out = Outcome::refused(String::new(), translated);
    out.translate_ms = Some(ms(translated));
    out.reason = match (&func, &jit) {
        (Err(e), _) => Some(e.to_string()),
        _ => None,
    };
    let (Ok(func), Some((slot, opt))) = (func, jit) else { return out };
    if let Err(e) = limits.admit_optimizing(&func, opt) {
        out.reason = Some(e.to_string());
        out.estimate_ms = Some(estimate_ms(&func, opt));
        return out;
    }
    // Two bytes per byte of code, one per profile key, as the runtime's `BlockProfile`.
    let mut profile = vec![0u8; revmc_ir::profile::key(code.len(), false)];
    // Taken out of the slot while compiling: a panic leaves no half-used compiler behind.
    let compiled = match slot.take().map_or_else(|| JitCompiler::new(opt), Ok) {
        Ok(mut compiler) => {
            compiler.set_chunk_cost(limits.first_tier_chunk_cost);
            let compiled = match opt {
                // As the runtime's first tier: its code records the blocks it runs. The
                // code is freed below, before the profile.
                // SAFETY: `profile` has `len` bytes and outlives the code.
                OptLevel::O0 => unsafe {
                    let len = profile.len();
                    compiler.compile_profiled(&func, "revmc_evm", profile.as_mut_ptr(), len)
                },
                _ => compiler.compile(&func),
            };
            *slot = Some(compiler);
            compiled
        }
        Err(e) => Err(e),
    };
    out.compile_ms = ms(start.elapsed());
    // After the time is taken: it is not part of a compilation.
    out.estimate_ms = Some(estimate_ms(&func, opt));
    match compiled {
        Ok(f) => {
            out.lower_ms = Some(ms(f.phases.lower));
            out.optimize_ms = Some(ms(f.phases.optimize));
            out.codegen_ms = Some(ms(f.phases.codegen));
            out.link_ms = Some(ms(f.phases.link));
            out.code_bytes = Some(f.object_size);
            out.loaded_bytes = Some(f.loaded_size);
        }
        Err(e) => out.reason = Some(e.to_string()),
    }
    out
}

/// The `--worker` loop: says [`READY`] once its compiler exists, then answers one evaluation
/// per stdin line until stdin closes. The compiler is created outside the timed evaluations
/// (again after a panic dropped it). A code that `ran` has a profile for is compiled from
/// it.
pub fn serve(
    translate_only: bool,
    opt: OptLevel,
    limits: &Limits,
    ran: &HashMap<B256, RanBlocks>,
) -> anyhow::Result<()> {
    let new_compiler = || (!translate_only).then(|| JitCompiler::new(opt)).transpose();
    let mut compiler = new_compiler()?;
    let reply = |msg: &str| -> std::io::Result<()> {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{REPLY}{msg}")?;
        stdout.flush()
    };
    reply(READY)?;
    for line in std::io::stdin().lock().lines() {
        if compiler.is_none() {
            compiler = new_compiler()?;
        }
        let out = match revm_interpreter::primitives::hex::decode(line?.trim()) {
            Ok(code) => {
                let profile = ran.get(&super::ran::skeleton(&code));
                let jit = (!translate_only).then_some((&mut compiler, opt));
                evaluate(&code, limits, profile, jit)
            }
            Err(e) => Outcome::refused(format!("bad input: {e}"), Duration::ZERO),
        };
        reply(&serde_json::to_string(&out)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translate_only() {
        // PUSH1 1 PUSH1 0 MSTORE STOP
        let out = evaluate(&[0x60, 1, 0x60, 0, 0x52, 0x00], &Limits::default(), None, None);
        assert_eq!(out.reason, None);
        assert!(out.translate_ms.is_some() && out.code_bytes.is_none());
    }
}
