//! A node-like embedding of revmc: a block executor written against revm's
//! `ExecuteCommitEvm`, run with revm's mainnet EVM and then with [`JitEvm`] over a shared
//! [`Runtime`] — the one-line swap — on blocks of real-workload transactions (ERC-20,
//! ERC-721, WETH9, Aave's `WadRayMath`, Uniswap v3 with `--uniswap`), with the tuning read
//! from a configuration document and the runtime's metrics exported for Prometheus.
//!
//! `cargo run --release -p revmc-bench --example node [-- --blocks N] [--uniswap] [--only NAME]
//! [--then NAME] [--profile-widenings N] [--compile-nice N]`
//!
//! With `--then NAME`, the same runtime then runs `N` blocks of workload `NAME`: a workload
//! that moves on to other functions of code already optimized from what ran, and prints
//! what was compiled again and how long the optimizing tier took since.
//!
//! Every block's results are checked against revm's; the example exits 1 on a difference.

#[path = "../src/workloads.rs"]
#[allow(dead_code)]
mod workloads;

use metrics_exporter_prometheus::PrometheusBuilder;
use revm::context::{Context, TxEnv};
use revm::context_interface::result::{ExecutionResult, HaltReason};
use revm::{ExecuteCommitEvm, MainBuilder, MainContext};
use revmc_runtime::evm::{FrameStats, JitEvm};
use revmc_runtime::{Runtime, RuntimeConfig, Tuning};
use revmc_testkit::contracts::{Fixtures, Scenario, Step};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The runtime's part of a node's configuration file (any serde format; JSON here).
const CONFIG: &str = r#"{
    "hot_threshold_gas": 200000,
    "tier_up_gas": 2000000,
    "code_cache_bytes": 67108864,
    "idle_eviction": "30m"
}"#;

/// The block executor: knows revm's trait, not revmc.
fn execute_block<E>(evm: &mut E, txs: Vec<TxEnv>) -> Vec<ExecutionResult<HaltReason>>
where
    E: ExecuteCommitEvm<Tx = TxEnv, ExecutionResult = ExecutionResult<HaltReason>>,
    E::Error: std::fmt::Debug,
{
    txs.into_iter().map(|tx| evm.transact_commit(tx).expect("a valid transaction")).collect()
}

/// What one run of blocks measured.
#[derive(Default)]
struct Run {
    /// Every block matched revm's results.
    ok: bool,
    /// Time over the last third of the blocks, in revm and in revmc, per workload.
    by_workload: Vec<(Duration, Duration)>,
    /// Time over every block, in revm and in revmc, including the first ones, which run
    /// while the code compiles in the background: where compile threads compete for cores.
    every_block: (Duration, Duration),
    /// The longest block, in revm and in revmc.
    slowest_block: (Duration, Duration),
    /// How `JitEvm`'s frames ran, over every block.
    frames: FrameStats,
}

/// Executes `blocks` blocks, each of every scenario's transactions over a fresh state,
/// with revm and with `JitEvm` over `runtime`, checking that the results agree.
fn run_blocks(runtime: &Arc<Runtime>, scenarios: &[(&str, Scenario)], blocks: usize) -> Run {
    let (cfg, block_env) = Scenario::environment();
    let mut run =
        Run { ok: true, by_workload: vec![Default::default(); scenarios.len()], ..Run::default() };
    for block in 0..blocks {
        for (i, (name, scenario)) in scenarios.iter().enumerate() {
            let txs: Vec<TxEnv> = scenario.steps().iter().map(Step::tx_env).collect();
            let context = || {
                Context::mainnet()
                    .with_cfg(cfg.clone())
                    .with_block(block_env.clone())
                    .with_db(scenario.genesis())
            };
            let mut revm_evm = context().build_mainnet();
            let t = Instant::now();
            let want = execute_block(&mut revm_evm, txs.clone());
            let revm_time = t.elapsed();
            // Timed over the last third of the blocks: the steady state, once hot code is
            // compiled (the first blocks run interpreted while it compiles).
            let steady = block >= blocks - blocks / 3;
            if steady {
                run.by_workload[i].0 += revm_time;
            }

            // The swap: the same EVM, wrapped, sharing the node's runtime.
            let mut jit_evm = JitEvm::with_runtime(context().build_mainnet(), runtime.clone());
            let t = Instant::now();
            let got = execute_block(&mut jit_evm, txs);
            let jit_time = t.elapsed();
            if steady {
                run.by_workload[i].1 += jit_time;
            }
            run.every_block.0 += revm_time;
            run.every_block.1 += jit_time;
            run.slowest_block.0 = run.slowest_block.0.max(revm_time);
            run.slowest_block.1 = run.slowest_block.1.max(jit_time);
            run.frames += jit_evm.stats;
            if got != want {
                println!("block {block}, {name}: results differ from revm's");
                run.ok = false;
            }
        }
        if block % 10 == 9 {
            // Between blocks a node idles for seconds; here, wait (bounded) for the
            // background compilations the last blocks triggered.
            let deadline = Instant::now() + Duration::from_secs(120);
            while runtime.stats().queued > 0 && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
            let s = runtime.stats();
            println!(
                "after block {:>3}: {} compiled ({} first tier, {} tier-ups, {} from widened \
                 profiles, {} whole again), {} resident, hits {} misses {}",
                block + 1,
                s.succeeded,
                s.first_tier,
                s.tier_ups,
                s.recompiled_widened,
                s.recompiled_whole,
                s.resident_entries,
                s.hits,
                s.misses
            );
        }
    }
    run
}

/// Prints the time of each workload over the last third of `blocks` blocks.
fn report(scenarios: &[(&str, Scenario)], blocks: usize, run: &Run) {
    let revm_time: Duration = run.by_workload.iter().map(|w| w.0).sum();
    let jit_time: Duration = run.by_workload.iter().map(|w| w.1).sum();
    let txs: usize = scenarios.iter().map(|(_, s)| s.steps().len()).sum::<usize>() * blocks;
    println!(
        "{blocks} blocks of {} transactions; the last {}: revm {revm_time:.1?}, revmc {jit_time:.1?} ({:.2}x)",
        txs / blocks.max(1),
        blocks / 3,
        revm_time.as_secs_f64() / jit_time.as_secs_f64()
    );
    for ((name, _), (revm, jit)) in scenarios.iter().zip(&run.by_workload) {
        let ratio = revm.as_secs_f64() / jit.as_secs_f64();
        println!("  {name:<28} revm {revm:>9.1?}  revmc {jit:>9.1?}  {ratio:.2}x");
    }
    let ((revm_all, jit_all), (revm_max, jit_max)) = (run.every_block, run.slowest_block);
    println!(
        "every block: revm {revm_all:.1?} (slowest {revm_max:.1?}), revmc {jit_all:.1?} \
         (slowest {jit_max:.1?})"
    );
    let f = &run.frames;
    println!(
        "frames over every block: {} compiled, {} interpreted; {} left to the interpreter \
         ({} at cold code, {} at dispatch guards)",
        f.compiled, f.interpreted, f.left_to_interpreter, f.left_cold, f.left_at_guard
    );
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| args.iter().position(|a| a == flag).and_then(|i| args.get(i + 1));
    let blocks: usize = value("--blocks").and_then(|v| v.parse().ok()).unwrap_or(30);
    let uniswap = args.iter().any(|a| a == "--uniswap");
    let only = value("--only").cloned();
    let then = value("--then").cloned();
    let Some(fixtures) = Fixtures::load() else { return ExitCode::SUCCESS };

    let prometheus = PrometheusBuilder::new().install_recorder().expect("a metrics recorder");
    let mut tuning: Tuning = serde_json::from_str(CONFIG).expect("a valid configuration");
    if let Some(n) = value("--compile-nice") {
        let Some(n) = n.parse().ok().filter(|n| *n <= 19) else {
            eprintln!("--compile-nice: not a number from 0 to 19: {n}");
            return ExitCode::from(2);
        };
        tuning.compile_nice = n;
    }
    if let Some(n) = value("--profile-widenings") {
        let Ok(n) = n.parse() else {
            eprintln!("--profile-widenings: not a number from 0 to 255: {n}");
            return ExitCode::from(2);
        };
        tuning.profile_widenings = n;
    }
    let runtime = Arc::new(
        Runtime::new(RuntimeConfig { tuning, ..RuntimeConfig::default() })
            .expect("the runtime starts"),
    );

    let workloads = |filter: &dyn Fn(&str) -> bool| -> Vec<(&str, Scenario)> {
        workloads::all(&fixtures)
            .into_iter()
            .filter(|w| filter(w.name))
            .map(|w| (w.name, w.scenario))
            .collect()
    };
    let scenarios = workloads(&|name| {
        (uniswap || !name.starts_with("uniswap")) && only.as_ref().is_none_or(|o| name == o)
    });
    let run = run_blocks(&runtime, &scenarios, blocks);
    report(&scenarios, blocks, &run);
    let mut ok = run.ok;
    if let Some(then) = &then {
        // The workload moves on: code optimized from what the first blocks ran now runs
        // other functions, whose frames leave it to the interpreter until it is compiled
        // again (`Tuning::profile_widenings`).
        let before = runtime.stats();
        let scenarios = workloads(&|name| name == then);
        if scenarios.is_empty() {
            eprintln!("--then: no workload named {then}");
            return ExitCode::from(2);
        }
        println!("then {then}:");
        let run = run_blocks(&runtime, &scenarios, blocks);
        report(&scenarios, blocks, &run);
        let after = runtime.stats();
        let optimizing =
            |s: &revmc_runtime::RuntimeStats| s.compile_time - s.first_tier_compile_time;
        let optimizing_cpu =
            |s: &revmc_runtime::RuntimeStats| s.compile_cpu_time - s.first_tier_compile_cpu_time;
        println!(
            "compiled again after the move: {} from widened profiles, {} whole; optimizing \
             tier {:.2?} of compile time since ({:.2?} of CPU)",
            after.recompiled_widened - before.recompiled_widened,
            after.recompiled_whole - before.recompiled_whole,
            optimizing(&after) - optimizing(&before),
            optimizing_cpu(&after) - optimizing_cpu(&before),
        );
        ok &= run.ok;
    }
    println!("stats: {:?}", runtime.stats());
    runtime.publish_metrics();
    println!("metrics (Prometheus text format, revmc_*):");
    for line in prometheus.render().lines().filter(|l| l.starts_with("revmc_")) {
        println!("  {line}");
    }
    if ok {
        println!("ok: every block matched revm's results");
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
