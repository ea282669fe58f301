//! Timing: a warm-up, then samples of many iterations each; the median sample and its
//! spread. Each iteration times only the work it is given (a transaction), not the
//! preparation before it (copying the pre-state) or the cleanup after it.

use std::time::{Duration, Instant};

/// How long to warm up and sample each engine.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Warm-up time.
    pub warmup: Duration,
    /// Wall time one sample lasts at least (it runs at least one iteration).
    pub sample: Duration,
    /// Number of samples; the median is reported.
    pub samples: usize,
}

impl Settings {
    /// About 0.8 s per row per engine.
    pub const FULL: Self =
        Self { warmup: Duration::from_millis(100), sample: Duration::from_millis(50), samples: 15 };
    /// A smoke run for CI: numbers are noisy.
    pub const QUICK: Self =
        Self { warmup: Duration::from_millis(5), sample: Duration::from_millis(10), samples: 3 };
}

/// The time of one iteration: the median over the samples, and how far samples stray.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timing {
    /// Median time per iteration, in nanoseconds.
    pub median_ns: f64,
    /// Median absolute deviation of the samples from the median, as a fraction of it.
    pub spread: f64,
}

/// Times each of `engines`, whose every call is one iteration that does its own
/// preparation and returns how long the part that counts took. After a warm-up of
/// `settings.warmup` each, takes `settings.samples` samples of each, interleaved (one of
/// each engine in turn, so that a slow phase of the machine hits all of them alike); a
/// sample is the mean over the iterations that fit in `settings.sample` of wall time.
pub fn time(settings: Settings, engines: &mut [&mut dyn FnMut() -> Duration]) -> Vec<Timing> {
    for iteration in engines.iter_mut() {
        let start = Instant::now();
        while start.elapsed() < settings.warmup {
            iteration();
        }
    }
    let mut samples = vec![Vec::with_capacity(settings.samples); engines.len()];
    for _ in 0..settings.samples.max(1) {
        for (iteration, samples) in engines.iter_mut().zip(&mut samples) {
            let (start, mut timed, mut runs) = (Instant::now(), Duration::ZERO, 0u32);
            while runs == 0 || start.elapsed() < settings.sample {
                timed += iteration();
                runs += 1;
            }
            samples.push(timed.as_secs_f64() * 1e9 / f64::from(runs));
        }
    }
    samples
        .into_iter()
        .map(|mut samples| {
            let mid = median(&mut samples);
            let mut deviations: Vec<f64> = samples.iter().map(|s| (s - mid).abs()).collect();
            let spread = if mid > 0.0 { median(&mut deviations) / mid } else { 0.0 };
            Timing { median_ns: mid, spread }
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_only_what_the_iteration_reports() {
        let settings =
            Settings { warmup: Duration::ZERO, sample: Duration::from_millis(1), samples: 3 };
        // Each iteration sleeps (preparation) but reports a fixed 5 µs.
        let mut prepared = || {
            std::thread::sleep(Duration::from_micros(50));
            Duration::from_micros(5)
        };
        let mut fixed = || Duration::from_micros(7);
        let t = time(settings, &mut [&mut prepared, &mut fixed]);
        // A sample's mean is a sum divided by a count: equal up to rounding.
        let close = |t: Timing, ns: f64| (t.median_ns - ns).abs() < 1e-6 && t.spread < 1e-9;
        assert!(close(t[0], 5_000.0), "{:?}", t[0]);
        assert!(close(t[1], 7_000.0), "{:?}", t[1]);
    }

    #[test]
    fn spread_is_the_median_deviation() {
        let mut reported = [100u64, 300, 200, 200, 260].into_iter().cycle();
        let settings = Settings { warmup: Duration::ZERO, sample: Duration::ZERO, samples: 5 };
        let t = time(settings, &mut [&mut || Duration::from_nanos(reported.next().unwrap())]);
        assert_eq!(t[0].median_ns, 200.0);
        // Deviations 100, 100, 0, 0, 60: median 60.
        assert_eq!(t[0].spread, 0.3);
    }
}
