//! Configuration: `Tuning` from a configuration file (serde), validation with errors that
//! name the field, zero meaning no limit, the dump directory and the blocking mode
//! (`RuntimeConfig::disabled()` is tested alone, in `disabled.rs`, to count threads).

#[path = "service/common.rs"]
mod common;

use common::*;
use revmc_runtime::{ConfigError, OptLevel, Runtime, RuntimeConfig, RuntimeError, Tuning};
use std::time::Duration;

#[test]
fn tuning_reads_from_a_partial_config_and_round_trips() {
    let json = r#"{ "hot_threshold_gas": 5000, "idle_eviction": "10m", "compile_deadline": "500ms",
                    "first_tier_opt_level": null, "jit_opt_level": "O1", "dump_dir": "/tmp/d" }"#;
    let t: Tuning = serde_json::from_str(json).unwrap();
    assert_eq!(t.hot_threshold_gas, 5000);
    assert_eq!(t.idle_eviction, Duration::from_secs(600));
    assert_eq!(t.compile_deadline, Duration::from_millis(500));
    assert_eq!((t.first_tier_opt_level, t.jit_opt_level), (None, OptLevel::O1));
    assert_eq!(t.dump_dir.as_deref(), Some(std::path::Path::new("/tmp/d")));
    // Everything not given is the default.
    let d = Tuning::default();
    assert_eq!((t.code_cache_bytes, t.max_bytecode_len), (d.code_cache_bytes, d.max_bytecode_len));
    let back: Tuning = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
    assert_eq!(back, t);
    // A misspelt knob is an error, not a silent default.
    let err = serde_json::from_str::<Tuning>(r#"{ "hot_treshold_gas": 1 }"#).unwrap_err();
    assert!(err.to_string().contains("hot_treshold_gas"), "{err}");
}

#[test]
fn invalid_tunings_are_refused_with_the_field_named() {
    let start = |tuning: Tuning| Runtime::new(RuntimeConfig { tuning, ..Default::default() });
    let inverted = Tuning { first_tier_opt_level: Some(OptLevel::O3), ..tuning() };
    assert!(matches!(
        start(inverted),
        Err(RuntimeError::Config(ConfigError::TiersInverted { first: OptLevel::O3, .. }))
    ));
    let file = tempfile::NamedTempFile::new().unwrap();
    let dump = Tuning { dump_dir: Some(file.path().to_path_buf()), ..tuning() };
    let err = start(dump).unwrap_err();
    assert!(err.to_string().contains("tuning.dump_dir"), "{err}");
    let err = start(Tuning { compile_nice: 20, ..tuning() }).unwrap_err();
    assert!(matches!(err, RuntimeError::Config(ConfigError::NiceOutOfRange(20))), "{err}");
    assert!(err.to_string().contains("tuning.compile_nice"), "{err}");
    assert!(Tuning { compile_nice: 19, ..tuning() }.validate().is_ok());
    let aot = RuntimeConfig { mode: revmc_runtime::CompileMode::Aot, ..Default::default() };
    assert!(matches!(Runtime::new(aot), Err(RuntimeError::Config(ConfigError::AotWithoutStore))));
    // A compile process given by a path that names no file; a bare name is found in
    // `PATH` when it starts.
    let process = |program: &str| revmc_runtime::CompileProcess {
        program: program.into(),
        args: vec!["compile-job".into()],
    };
    let missing =
        Tuning { optimizing_compile_process: Some(process("/nonexistent/revmc")), ..tuning() };
    let err = start(missing).unwrap_err();
    assert!(err.to_string().contains("tuning.optimizing_compile_process"), "{err}");
    let bare = Tuning { optimizing_compile_process: Some(process("revmc")), ..tuning() };
    assert!(bare.validate().is_ok());
    // Its fields are checked as strictly as the tuning's own.
    let misspelt = r#"{ "optimizing_compile_process": { "program": "revmc", "arg": [] } }"#;
    let err = serde_json::from_str::<Tuning>(misspelt).unwrap_err();
    assert!(err.to_string().contains("arg"), "{err}");
    assert!(tuning().validate().is_ok() && Tuning::default().validate().is_ok());
}

#[test]
fn zero_means_no_limit() {
    // A program over a 64 KiB bound compiles with the bound at zero; the queue, channel,
    // cache, negative cache and hotness are unbounded, and nothing is idle-evicted.
    let rt = runtime(Tuning {
        max_bytecode_len: 0,
        queue_capacity_per_worker: 0,
        event_capacity: 0,
        code_cache_bytes: 0,
        max_negative_entries: 0,
        max_tracked_keys: 0,
        idle_eviction: Duration::ZERO,
        compile_deadline: Duration::ZERO,
        optimizing_compile_deadline: Duration::ZERO,
        ..tuning()
    });
    let long = [program(8), vec![0x5b; 70 * 1024]].concat();
    assert!(rt.compile_sync(key(&long), &long).is_ok(), "no length bound");
    let bounded = runtime(Tuning { max_bytecode_len: 64 * 1024, ..tuning() });
    assert!(matches!(
        bounded.compile_sync(key(&long), &long),
        Err(revmc_runtime::CompileError::TooLarge { .. })
    ));
}

#[test]
fn the_dump_directory_receives_every_stage_of_a_compilation() {
    let dir = tempfile::tempdir().unwrap();
    let rt = runtime(Tuning { dump_dir: Some(dir.path().join("dump")), ..tuning() });
    let code = program(9);
    rt.compile_sync(key(&code), &code).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("dump"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    let ext: Vec<&str> = names.iter().map(|n| n.split_once('.').unwrap().1).collect();
    assert_eq!(ext, ["hex", "ir", "opt.ll", "opt.s", "unopt.ll"], "{names:?}");
    let hex = std::fs::read_to_string(dir.path().join("dump").join(&names[0])).unwrap();
    assert_eq!(hex, revm::primitives::hex::encode(&code));
}

#[test]
fn blocking_mode_runs_the_first_frame_compiled() {
    use revm::bytecode::Bytecode;
    use revm::context::{Context, TxEnv};
    use revm::database::{CacheDB, EmptyDB};
    use revm::primitives::{Address, Bytes, address};
    use revm::state::AccountInfo;
    use revm::{ExecuteEvm, MainBuilder, MainContext};
    use revmc_runtime::evm::JitEvm;
    const AT: Address = address!("0x00000000000000000000000000000000000000aa");
    let code = program(10);
    let mut db = CacheDB::new(EmptyDB::default());
    db.insert_account_info(
        AT,
        AccountInfo::default().with_code(Bytecode::new_legacy(Bytes::from(code))),
    );
    let tx = TxEnv::builder().call(AT).gas_limit(1_000_000).build_fill();
    let evm = |blocking| {
        let rt = std::sync::Arc::new(runtime(Tuning { blocking, ..tuning() }));
        JitEvm::with_runtime(Context::mainnet().with_db(db.clone()).build_mainnet(), rt)
    };
    let mut blocking = evm(true);
    let got = blocking.transact(tx.clone()).unwrap();
    assert_eq!((blocking.stats.compiled, blocking.stats.interpreted), (1, 0));
    let mut background = evm(false);
    let want = background.transact(tx).unwrap();
    assert_eq!((background.stats.compiled, background.stats.interpreted), (0, 1));
    assert_eq!(got.result, want.result);
}
