//! The runtime's metrics through the `metrics` facade: whatever recorder the embedder
//! installs (Prometheus, StatsD, …) receives them; with none installed they cost nothing.
//!
//! The hit path does not touch the facade (a recorder's registry lookup would cost more
//! than the lookup itself): counters are kept in the runtime's own sharded counters and
//! published as absolute values every second by the coordinator, or on
//! [`Runtime::publish_metrics`](super::Runtime::publish_metrics). Each compilation's
//! latency is recorded in a histogram when its result is stored. Names and labels are
//! listed in `docs/tuning.md#metrics`.

use super::RuntimeStats;
use revmc_cache::Tier;
use std::time::Duration;

/// Publishes a snapshot: counters as absolute values, sizes as gauges.
pub(crate) fn publish(s: &RuntimeStats) {
    metrics::counter!("revmc_lookups_total", "result" => "hit").absolute(s.hits);
    let m = &s.misses_by_reason;
    for (reason, n) in [
        ("disabled", m.disabled),
        ("not_compiled", m.not_compiled),
        ("failed", m.failed),
        ("too_large", m.too_large),
        ("timed_out", m.timed_out),
        ("unprofitable", m.unprofitable),
        ("too_costly", m.too_costly),
    ] {
        metrics::counter!("revmc_lookups_total", "result" => "miss", "reason" => reason)
            .absolute(n);
    }
    let optimized = s.succeeded.saturating_sub(s.first_tier);
    for (tier, outcome, n) in [
        ("first", "succeeded", s.first_tier),
        ("optimized", "succeeded", optimized),
        ("any", "failed", s.failed),
        ("any", "stale", s.stale),
    ] {
        metrics::counter!("revmc_compilations_total", "tier" => tier, "outcome" => outcome)
            .absolute(n);
    }
    let optimized_cpu = s.compile_cpu_time.saturating_sub(s.first_tier_compile_cpu_time);
    for (tier, cpu) in [("first", s.first_tier_compile_cpu_time), ("optimized", optimized_cpu)] {
        let micros = u64::try_from(cpu.as_micros()).unwrap_or(u64::MAX);
        metrics::counter!("revmc_compile_cpu_microseconds_total", "tier" => tier).absolute(micros);
    }
    metrics::counter!("revmc_compilations_dispatched_total").absolute(s.dispatched);
    metrics::counter!("revmc_promotions_deferred_total").absolute(s.deferred);
    metrics::counter!("revmc_tier_ups_total").absolute(s.tier_ups);
    metrics::counter!("revmc_recompiled_widened_total").absolute(s.recompiled_widened);
    metrics::counter!("revmc_recompiled_whole_total").absolute(s.recompiled_whole);
    metrics::counter!("revmc_events_dropped_total").absolute(s.events_dropped);
    metrics::counter!("revmc_evictions_total").absolute(s.evictions);
    metrics::counter!("revmc_store_loads_total").absolute(s.aot_loaded);
    metrics::counter!("revmc_store_stores_total").absolute(s.aot_stored);
    metrics::counter!("revmc_store_discards_total").absolute(s.aot_discarded);
    metrics::gauge!("revmc_queue_depth").set(s.queued as f64);
    metrics::gauge!("revmc_resident_entries").set(s.resident_entries as f64);
    metrics::gauge!("revmc_resident_bytes").set(s.jit_code_bytes as f64);
    metrics::gauge!("revmc_live_code_bytes").set(s.live_jit_code_bytes as f64);
    metrics::gauge!("revmc_negative_entries").set(s.negative_entries as f64);
    metrics::gauge!("revmc_tracked_keys").set(s.tracked_keys as f64);
}

/// Records one compilation's latency, by tier and outcome.
pub(crate) fn record_compile(duration: Duration, tier: Tier, succeeded: bool) {
    let tier = match tier {
        Tier::First => "first",
        Tier::Optimized => "optimized",
    };
    let outcome = if succeeded { "succeeded" } else { "failed" };
    metrics::histogram!("revmc_compile_seconds", "tier" => tier, "outcome" => outcome)
        .record(duration.as_secs_f64());
}
