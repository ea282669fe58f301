//! The runtime's metrics reach the recorder an embedder installs, under the documented
//! names and labels, with the values `stats()` reports. Alone in its binary: the recorder
//! is process-wide.

#[path = "service/common.rs"]
mod common;

use common::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use revmc_runtime::{InterpretReason, Lookup, Tuning};

#[test]
fn lookups_compilations_and_sizes_are_published() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    recorder.install().expect("the only recorder of this process");

    let rt = runtime(Tuning { max_bytecode_len: 64, ..tuning() });
    let code = program(1);
    rt.compile_sync(key(&code), &code).unwrap();
    let long = vec![0x5b; 65];
    assert!(rt.compile_sync(key(&long), &long).is_err());
    for _ in 0..3 {
        assert!(matches!(rt.lookup(key(&code)), Lookup::Compiled(_)));
    }
    assert!(matches!(rt.lookup(key(&long)), Lookup::Interpret(InterpretReason::TooLarge)));
    let other = program(2);
    assert!(matches!(rt.lookup(key(&other)), Lookup::Interpret(InterpretReason::NotCompiled)));
    rt.publish_metrics();

    let values: Published = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let k = key.key();
            let labels = k.labels().map(|l| (l.key().to_owned(), l.value().to_owned())).collect();
            (k.name().to_owned(), labels, value)
        })
        .collect();
    let counter = |name: &str, labels: &[(&str, &str)]| match find(&values, name, labels) {
        DebugValue::Counter(n) => *n,
        other => panic!("{name}: {other:?}"),
    };
    let gauge = |name: &str| match find(&values, name, &[]) {
        DebugValue::Gauge(g) => g.into_inner(),
        other => panic!("{name}: {other:?}"),
    };
    assert_eq!(counter("revmc_lookups_total", &[("result", "hit")]), 3);
    let miss = |reason| counter("revmc_lookups_total", &[("result", "miss"), ("reason", reason)]);
    assert_eq!((miss("too_large"), miss("not_compiled"), miss("failed")), (1, 1, 0));
    let compiled = [("tier", "optimized"), ("outcome", "succeeded")];
    assert_eq!(counter("revmc_compilations_total", &compiled), 1);
    assert_eq!(gauge("revmc_resident_entries"), 1.0);
    assert_eq!(gauge("revmc_resident_bytes"), rt.stats().jit_code_bytes as f64);
    let cpu = |tier| counter("revmc_compile_cpu_microseconds_total", &[("tier", tier)]);
    let s = rt.stats();
    assert_eq!(cpu("optimized"), s.compile_cpu_time.as_micros() as u64);
    assert_eq!(cpu("first"), 0);
    assert!(cfg!(not(target_os = "linux")) || cpu("optimized") > 0, "{s:?}");
    match find(&values, "revmc_compile_seconds", &compiled) {
        DebugValue::Histogram(samples) => {
            assert_eq!(samples.len(), 1);
            assert!(samples[0].into_inner() > 0.0);
        }
        other => panic!("{other:?}"),
    }
}

type Published = Vec<(String, Vec<(String, String)>, DebugValue)>;

/// The value published under `name` with exactly `labels`.
fn find<'v>(values: &'v Published, name: &str, labels: &[(&str, &str)]) -> &'v DebugValue {
    values
        .iter()
        .find(|(n, l, _)| {
            n == name
                && l.len() == labels.len()
                && labels.iter().all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v))
        })
        .map(|(_, _, v)| v)
        .unwrap_or_else(|| panic!("{name} {labels:?} not published: {values:#?}"))
}
