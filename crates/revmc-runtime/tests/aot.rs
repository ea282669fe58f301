//! AOT through the runtime: artifacts persist across processes, damaged ones are
//! recompiled, and an evicted program comes back from disk rather than the compiler.

#[path = "service/common.rs"]
mod common;

use common::*;
use revm::primitives::Bytes;
use revmc_runtime::store::FsStore;
use revmc_runtime::{CompileMode, Runtime, RuntimeConfig, Tuning};
use std::path::Path;
use std::sync::Arc;

const STORE_ENV: &str = "REVMC_TEST_AOT_STORE";

fn aot_runtime(store: &Path, tuning: Tuning) -> Runtime {
    let store = Arc::new(FsStore::open(store).unwrap());
    let config = RuntimeConfig {
        mode: CompileMode::Aot,
        store: Some(store),
        preload: true,
        enabled: true,
        tuning,
    };
    Runtime::new(config).unwrap()
}

fn contracts() -> Vec<(revmc_runtime::RuntimeCacheKey, Bytes)> {
    (1..=3).map(|n| (key(&program(n)), Bytes::from(program(n)))).collect()
}

/// One "process": prepares the contracts from the store in `$REVMC_TEST_AOT_STORE` (or a
/// fresh one), runs each against the interpreter, and prints what it compiled and loaded.
#[test]
fn aot_process() {
    let fresh = tempfile::tempdir().unwrap();
    let dir = std::env::var_os(STORE_ENV).map_or(fresh.path().to_path_buf(), Into::into);
    let rt = aot_runtime(&dir, tuning());
    let programs = rt.prepare_aot(&contracts());
    for ((_, code), program) in contracts().iter().zip(programs) {
        let program = program.unwrap();
        assert_eq!(program.kind(), revmc_runtime::ProgramKind::Aot);
        run_checked(&program, code, &[1, 2]);
    }
    let s = rt.stats();
    println!(
        "AOT-PROCESS compiled={} stored={} loaded={}",
        s.succeeded, s.aot_stored, s.aot_loaded
    );
    if std::env::var_os(STORE_ENV).is_none() {
        assert_eq!((s.succeeded, s.aot_stored, s.aot_loaded), (3, 3, 0), "{s:?}");
    }
}

fn run_process(store: &Path) -> String {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "aot_process", "--nocapture", "--test-threads", "1"])
        .env(STORE_ENV, store)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let line = stdout.lines().find_map(|l| l.find("AOT-PROCESS").map(|i| &l[i..]));
    line.expect("the child reports").trim().to_string()
}

#[test]
fn a_second_process_loads_the_first_ones_artifacts_and_compiles_nothing() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(run_process(dir.path()), "AOT-PROCESS compiled=3 stored=3 loaded=0");
    assert_eq!(run_process(dir.path()), "AOT-PROCESS compiled=0 stored=0 loaded=3");
}

#[test]
fn a_damaged_artifact_is_recompiled_not_run() {
    let dir = tempfile::tempdir().unwrap();
    let code = program(9);
    aot_runtime(dir.path(), tuning()).compile_sync(key(&code), &code).unwrap();
    // Flip a byte in the library.
    let lib = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "so"))
        .unwrap();
    let mut bytes = std::fs::read(&lib).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 1;
    std::fs::write(&lib, bytes).unwrap();
    let rt = aot_runtime(dir.path(), tuning());
    assert_eq!(rt.stats().aot_discarded, 1, "preload found and discarded it");
    let p = rt.compile_sync(key(&code), &code).unwrap();
    run_checked(&p, &code, &[]);
    let s = rt.stats();
    assert_eq!((s.succeeded, s.aot_stored), (1, 1), "{s:?}");
}

#[test]
fn an_evicted_aot_program_is_reloaded_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (program(20), program(21));
    // Room for one library only.
    let size = {
        let rt = aot_runtime(dir.path(), tuning());
        rt.compile_sync(key(&a), &a).unwrap().code_bytes()
    };
    let rt = aot_runtime(dir.path(), Tuning { code_cache_bytes: size + size / 2, ..tuning() });
    assert_eq!(rt.stats().aot_loaded, 1, "preloaded");
    rt.compile_sync(key(&b), &b).unwrap();
    assert_eq!(rt.stats().evictions, 1, "b evicted a");
    let p = rt.compile_sync(key(&a), &a).unwrap();
    run_checked(&p, &a, &[]);
    let s = rt.stats();
    assert_eq!((s.aot_loaded, s.succeeded, s.dispatched), (2, 1, 1), "a came from disk: {s:?}");
}

use revmc_runtime::store::{ArtifactKey, ArtifactStore, Loaded, StoreError};

/// The filesystem store with a hook run before each load: a test's way to make loads
/// fail or stall as a starved process's or a slow disk's would.
struct HookedStore<F> {
    inner: FsStore,
    before_load: F,
}

impl<F> std::fmt::Debug for HookedStore<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookedStore").field("inner", &self.inner).finish_non_exhaustive()
    }
}

impl<F: Fn(&ArtifactKey) -> Result<(), StoreError> + Send + Sync> ArtifactStore for HookedStore<F> {
    fn load(&self, key: &ArtifactKey) -> Result<Loaded, StoreError> {
        (self.before_load)(key)?;
        self.inner.load(key)
    }

    fn store(&self, key: &ArtifactKey, library: &[u8], symbol: &str) -> Result<(), StoreError> {
        self.inner.store(key, library, symbol)
    }

    fn keys(&self) -> Result<Vec<ArtifactKey>, StoreError> {
        self.inner.keys()
    }
}

#[test]
fn a_store_short_of_descriptors_is_retried_and_nothing_is_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    // Every load fails until two have: the lookup before compiling and the load back
    // after storing.
    let failures_left = std::sync::atomic::AtomicUsize::new(2);
    let root = dir.path().to_path_buf();
    let store = Arc::new(HookedStore {
        inner: FsStore::open(dir.path()).unwrap(),
        before_load: move |_: &ArtifactKey| {
            use std::sync::atomic::Ordering;
            match failures_left
                .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            {
                Ok(_) => Err(StoreError::Io {
                    what: "opening",
                    path: root.clone(),
                    source: std::io::Error::from_raw_os_error(24), // EMFILE
                }),
                Err(_) => Ok(()),
            }
        },
    });
    let config = RuntimeConfig {
        mode: CompileMode::Aot,
        store: Some(store),
        preload: false,
        enabled: true,
        tuning: tuning(),
    };
    let rt = Runtime::new(config).unwrap();
    let code = program(7);
    let err = rt.compile_sync(key(&code), &code).unwrap_err();
    assert!(err.to_string().contains("os error 24"), "{err}");
    assert!(
        matches!(
            rt.lookup(key(&code)),
            revmc_runtime::Lookup::Interpret(revmc_runtime::InterpretReason::NotCompiled)
        ),
        "a transient store failure is not remembered as the code's"
    );
    // Next time the artifact written before is loaded: it was kept, not quarantined.
    let program = rt.compile_sync(key(&code), &code).unwrap();
    run_checked(&program, &code, &[]);
    assert_eq!(std::fs::read_dir(dir.path().join("quarantine")).unwrap().count(), 0);
    assert_eq!(rt.stats().aot_stored, 1, "loaded from the store, not compiled again");
}

#[test]
fn a_stalled_store_load_does_not_hold_up_another_keys_promotion() {
    use revmc_runtime::Lookup;
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (program(21), program(22));
    // Loads of A block until the gate opens (a disk that stalls); bounded, so that a
    // broken runtime fails the test instead of hanging it.
    let gate = Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
    let (stalls, hook_gate) = (revm::primitives::keccak256(&a), gate.clone());
    let store = Arc::new(HookedStore {
        inner: FsStore::open(dir.path()).unwrap(),
        before_load: move |key: &ArtifactKey| {
            if key.code_hash == stalls {
                let (open, opened) = &*hook_gate;
                let open = open.lock().unwrap();
                let timeout = std::time::Duration::from_secs(30);
                let _open = opened.wait_timeout_while(open, timeout, |o| !*o).unwrap();
            }
            Ok(())
        },
    });
    let config = RuntimeConfig {
        mode: CompileMode::Aot,
        store: Some(store),
        preload: false,
        enabled: true,
        tuning: Tuning { hot_threshold_gas: 1_000, ..tuning() },
    };
    let rt = Runtime::new(config).unwrap();
    rt.record_interpreted(key(&a), &Bytes::from(a.clone()), 5_000);
    rt.record_interpreted(key(&b), &Bytes::from(b.clone()), 5_000);
    wait_until("B is promoted while A's load stalls", std::time::Duration::from_secs(20), || {
        matches!(rt.lookup(key(&b)), Lookup::Compiled(_))
    });
    assert!(matches!(rt.lookup(key(&a)), Lookup::Interpret(_)), "A is still loading");
    *gate.0.lock().unwrap() = true;
    gate.1.notify_all();
    wait_until("A is compiled once its load returns", std::time::Duration::from_secs(60), || {
        matches!(rt.lookup(key(&a)), Lookup::Compiled(_))
    });
    let Lookup::Compiled(p) = rt.lookup(key(&b)) else { unreachable!() };
    run_checked(&p, &b, &[]);
}

fn store_bytes(dir: &Path) -> u64 {
    let files = |d: &Path| -> Vec<std::fs::DirEntry> {
        std::fs::read_dir(d).map(|r| r.flatten().collect()).unwrap_or_default()
    };
    files(dir)
        .into_iter()
        .chain(files(&dir.join("quarantine")))
        .filter_map(|e| e.metadata().ok().filter(|m| m.is_file()).map(|m| m.len()))
        .sum()
}

#[test]
fn the_store_is_kept_within_its_byte_budget() {
    // One artifact's size, from a store without a budget.
    let one = tempfile::tempdir().unwrap();
    let rt = aot_runtime(one.path(), Tuning { store_byte_budget: 0, ..tuning() });
    rt.compile_sync(key(&program(31)), &program(31)).unwrap();
    rt.shutdown();
    let size = store_bytes(one.path());
    // Room for two and a half: the least recently used of three goes.
    let dir = tempfile::tempdir().unwrap();
    let budget = size * 5 / 2;
    let rt = aot_runtime(dir.path(), Tuning { store_byte_budget: budget, ..tuning() });
    for n in [31, 32, 33] {
        let p = rt.compile_sync(key(&program(n)), &program(n)).unwrap();
        run_checked(&p, &program(n), &[]);
    }
    rt.shutdown();
    assert!(store_bytes(dir.path()) <= budget, "{} > {budget}", store_bytes(dir.path()));
    let manifests = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
        .count();
    assert_eq!(manifests, 2, "the oldest artifact was collected");
}

/// `Tuning::max_bytecode_len` is one decision for every path that compiles: a promotion,
/// `compile_sync` and `prepare_aot` all refuse code one byte over it, dispatch nothing, and
/// lookups say why; code at the bound compiles on each.
#[test]
fn the_length_bound_is_the_same_on_every_compile_path() {
    let dir = tempfile::tempdir().unwrap();
    let at_bound = program(1);
    let max = at_bound.len();
    let over = [at_bound[..max - 1].to_vec(), vec![0x5b, 0x00]].concat();
    let tuning = Tuning { max_bytecode_len: max, hot_threshold_gas: 1, ..tuning() };
    let rt = aot_runtime(dir.path(), tuning);
    let refused = |r: Result<_, revmc_runtime::CompileError>| matches!(r, Err(revmc_runtime::CompileError::TooLarge { len, max: m }) if len == max + 1 && m == max);
    // prepare_aot.
    let batch = rt.prepare_aot(&[(key(&over), Bytes::from(over.clone())), contracts()[0].clone()]);
    assert!(refused(batch[0].clone()), "{:?}", batch[0].as_ref().err());
    assert!(batch[1].is_ok());
    // compile_sync.
    assert!(refused(rt.compile_sync(key(&over), &over)));
    // A promotion of hot code.
    rt.clear();
    let before = rt.stats().dispatched;
    rt.record_interpreted(key(&over), &Bytes::from(over.clone()), 1_000);
    wait_until("the promotion is refused", std::time::Duration::from_secs(30), || {
        matches!(
            rt.lookup(key(&over)),
            revmc_runtime::Lookup::Interpret(revmc_runtime::InterpretReason::TooLarge)
        )
    });
    assert_eq!(rt.stats().dispatched, before, "nothing was dispatched for it");
}
