//! `revmc-soak`: drives many distinct contracts through the compile service from several
//! threads under a small code budget, and reports whether memory stays bounded.
//!
//! Usage: `revmc-soak [--contracts N] [--threads T] [--workers W] [--budget-kib B]`.
//! Each thread takes contracts in batches and runs every contract of its batch until it
//! runs compiled (or for a bounded number of rounds): interpreted while cold, reporting
//! gas, then from the resident cache. Every compiled run is checked against the
//! interpreter's output. Prints resident entries, JIT code bytes and RSS at the start,
//! after the 1,000th contract and at the end, lookups per second and hit latency; exits 1
//! if a compiled run differed, the code bytes exceeded the budget, or RSS grew by more
//! than 64 MiB from the 1,000th contract to the last.

use revm_interpreter::primitives::keccak256;
use revmc_runtime::harness::Oracle;
use revmc_runtime::harness::execute;
use revmc_runtime::{
    Lookup, OptLevel, Runtime, RuntimeCacheKey, RuntimeConfig, RuntimeStats, SpecId, Tuning,
};
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const SPEC: SpecId = SpecId::CANCUN;
const GAS: u64 = 1_000_000;
/// Contracts a thread works on at once.
const BATCH: usize = 16;
/// Time spent on a batch before moving on even if some contracts are not compiled yet.
const MAX_BATCH_TIME: Duration = Duration::from_secs(20);
/// RSS growth allowed from the 1,000th contract to the last.
const MAX_RSS_GROWTH: u64 = 64 << 20;

#[path = "../loop_contract.rs"]
mod loop_contract;
use loop_contract::contract;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    pages * 4096
}

struct Args {
    contracts: usize,
    threads: usize,
    workers: usize,
    budget: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args { contracts: 10_000, threads: 4, workers: 2, budget: 2 << 20 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut num = || -> Result<usize, String> {
            it.next().and_then(|v| v.parse().ok()).ok_or(format!("{flag} takes a number"))
        };
        match flag.as_str() {
            "--contracts" => a.contracts = num()?,
            "--threads" => a.threads = num()?.max(1),
            "--workers" => a.workers = num()?,
            "--budget-kib" => a.budget = num()? << 10,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    Ok(a)
}

fn report(label: &str, s: &RuntimeStats) {
    println!(
        "{label:<16} contracts compiled {:>6}  resident {:>5}  JIT code {:>8} KiB (live {:>8} KiB)  \
         evictions {:>6}  RSS {:>7.1} MiB",
        s.succeeded,
        s.resident_entries,
        s.jit_code_bytes / 1024,
        s.live_jit_code_bytes / 1024,
        s.evictions,
        rss_bytes() as f64 / (1 << 20) as f64
    );
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    sorted.get(((sorted.len() as f64 - 1.0) * p) as usize).copied().unwrap_or(0)
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!(
                "revmc-soak: {e}\nusage: revmc-soak [--contracts N] [--threads T] [--workers W] [--budget-kib B]"
            );
            return ExitCode::from(2);
        }
    };
    let tuning = Tuning {
        jit_worker_count: args.workers,
        hot_threshold_gas: 30_000, // about three interpreted runs
        code_cache_bytes: args.budget,
        jit_opt_level: OptLevel::O1,
        idle_eviction: Duration::from_secs(30),
        ..Tuning::default()
    };
    let rt =
        Runtime::new(RuntimeConfig { tuning, ..RuntimeConfig::default() }).expect("runtime starts");
    report("start", &rt.stats());
    let rss_at_1000 = AtomicU64::new(0);
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let mismatches = AtomicU64::new(0);
    let lookups = AtomicU64::new(0);
    let compiled_runs = AtomicU64::new(0);
    let hit_latencies = Mutex::new(Vec::new());
    let max_code_bytes = AtomicU64::new(0);
    let start = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..args.threads {
            s.spawn(|| {
                let mut latencies = Vec::new();
                loop {
                    let first = next.fetch_add(BATCH, Ordering::Relaxed);
                    if first >= args.contracts {
                        break;
                    }
                    let batch: Vec<_> = (first..(first + BATCH).min(args.contracts))
                        .map(|n| {
                            let code = contract(n as u32);
                            let key = RuntimeCacheKey::new(keccak256(&code), SPEC);
                            let want = Oracle::new(&code, SPEC).run(&[], GAS);
                            (code, key, want, false)
                        })
                        .collect();
                    let mut batch = batch;
                    let batch_start = Instant::now();
                    while batch_start.elapsed() < MAX_BATCH_TIME {
                        for (code, key, want, ran_compiled) in batch.iter_mut() {
                            lookups.fetch_add(1, Ordering::Relaxed);
                            let t = Instant::now();
                            let found = rt.lookup(*key);
                            let elapsed = t.elapsed().as_nanos() as u64;
                            match found {
                                Lookup::Compiled(program) => {
                                    latencies.push(elapsed);
                                    // SAFETY: the runtime compiled `program` from `code`
                                    // for SPEC; the Arc keeps it alive for the call.
                                    let got =
                                        unsafe { execute(program.entry(), code, SPEC, &[], GAS) };
                                    if got != *want {
                                        mismatches.fetch_add(1, Ordering::Relaxed);
                                    }
                                    compiled_runs.fetch_add(1, Ordering::Relaxed);
                                    *ran_compiled = true;
                                }
                                Lookup::Interpret(_) => {
                                    let out = Oracle::new(code, SPEC).run(&[], GAS);
                                    let bytes = code.clone().into();
                                    rt.record_interpreted(*key, &bytes, GAS - out.gas_remaining);
                                }
                            }
                        }
                        let code_bytes = rt.stats().jit_code_bytes;
                        max_code_bytes.fetch_max(code_bytes, Ordering::Relaxed);
                        if batch.iter().all(|b| b.3) {
                            break;
                        }
                        // Interpreting is far faster than compiling: give the workers the
                        // CPU rather than spin through rounds.
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    let finished = done.fetch_add(batch.len(), Ordering::Relaxed) + batch.len();
                    if finished >= 1000 && finished - batch.len() < 1000 {
                        rss_at_1000.store(rss_bytes(), Ordering::Relaxed);
                        report("1000th contract", &rt.stats());
                    }
                }
                hit_latencies.lock().unwrap().extend(latencies);
            });
        }
    });
    let elapsed = start.elapsed();
    let stats = rt.stats();
    report("end", &stats);
    let rss_end = rss_bytes();
    let mut lat = hit_latencies.into_inner().unwrap();
    lat.sort_unstable();
    let n_lookups = lookups.load(Ordering::Relaxed);
    println!(
        "{} contracts, {} threads, {} workers in {:.1?}: {} lookups ({:.0}/s), {} compiled runs; \
         hit latency under load (callers and compiling workers sharing the CPUs, each \
         lookup timed alone, the clock included) median {} ns, p99 {} ns; compile time {:.1?}",
        args.contracts,
        args.threads,
        args.workers,
        elapsed,
        n_lookups,
        n_lookups as f64 / elapsed.as_secs_f64(),
        compiled_runs.load(Ordering::Relaxed),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        stats.compile_time,
    );
    let mut ok = true;
    let bad = mismatches.load(Ordering::Relaxed);
    if bad > 0 {
        println!("FAIL: {bad} compiled runs differed from the interpreter");
        ok = false;
    }
    let max_bytes = max_code_bytes.load(Ordering::Relaxed);
    if max_bytes > args.budget as u64 {
        println!("FAIL: JIT code bytes reached {max_bytes}, over the budget {}", args.budget);
        ok = false;
    } else {
        println!("ok: JIT code bytes peaked at {max_bytes}, budget {}", args.budget);
    }
    let base = rss_at_1000.load(Ordering::Relaxed);
    if base > 0 {
        let growth = rss_end.saturating_sub(base);
        let verdict = if growth < MAX_RSS_GROWTH { "ok" } else { "FAIL" };
        ok &= growth < MAX_RSS_GROWTH;
        println!(
            "{verdict}: RSS grew {:.1} MiB from the 1000th contract to the last (limit 64 MiB)",
            growth as f64 / (1 << 20) as f64
        );
    }
    rt.shutdown();
    hit_latency_by_threads(&rt);
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

/// Hit latency with nothing compiling: 1, 2, 4 and 8 threads looking up the resident
/// programs round-robin. Each sample is the mean over a batch of 256 lookups (timing one
/// lookup alone would measure the clock, about as slow as the lookup); the median and p99
/// are over the batches.
fn hit_latency_by_threads(rt: &Runtime) {
    const BATCH: usize = 256;
    let keys: Vec<RuntimeCacheKey> = (0..1_000_000u32)
        .map(|n| RuntimeCacheKey::new(keccak256(contract(n)), SPEC))
        .take(100_000)
        .filter(|k| matches!(rt.lookup(*k), Lookup::Compiled(_)))
        .take(64)
        .collect();
    if keys.is_empty() {
        println!("hit latency by threads: no resident program to look up");
        return;
    }
    let mut line =
        format!("hit latency by threads ({} resident keys, 256-lookup batches):", keys.len());
    for threads in [1, 2, 4, 8] {
        let samples = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            for t in 0..threads {
                let (keys, samples) = (&keys, &samples);
                s.spawn(move || {
                    let mut mine = Vec::with_capacity(2000);
                    let mut i = t * 7;
                    for _ in 0..2000 {
                        let start = Instant::now();
                        for _ in 0..BATCH {
                            i = (i + 1) % keys.len();
                            std::hint::black_box(rt.lookup(keys[i]));
                        }
                        mine.push(start.elapsed().as_nanos() as u64 / BATCH as u64);
                    }
                    samples.lock().unwrap().extend(mine);
                });
            }
        });
        let mut samples = samples.into_inner().unwrap();
        samples.sort_unstable();
        line += &format!(
            "  {threads}: p50 {} ns, p99 {} ns;",
            percentile(&samples, 0.5),
            percentile(&samples, 0.99)
        );
    }
    println!("{line}");
}
