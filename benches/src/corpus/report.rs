//! Records, the per-contract line, the summary (coverage, compile ms per KiB, the slowest
//! contracts, refusals grouped by reason) and the statistics behind it.

use super::eval::Outcome;
use super::input::Contract;
use serde::Serialize;
use std::collections::BTreeMap;

/// One contract's result, as written by `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct Record {
    pub file: String,
    pub name: String,
    pub bytes: usize,
    /// `compiled` (`translated` with `--translate-only`) or `refused`.
    pub status: &'static str,
    pub reason: Option<String>,
    pub translate_ms: Option<f64>,
    /// The whole compilation, translation included.
    pub compile_ms: f64,
    pub code_bytes: Option<usize>,
    /// The object's sections linking maps into memory (code, constants, tables).
    pub loaded_bytes: Option<usize>,
    pub lower_ms: Option<f64>,
    pub optimize_ms: Option<f64>,
    pub codegen_ms: Option<f64>,
    pub link_ms: Option<f64>,
    /// The tier's estimate of the compilation (`Outcome::estimate_ms`).
    pub estimate_ms: Option<f64>,
}

impl Record {
    pub fn new(c: &Contract, o: Outcome, verb: &'static str) -> Self {
        Self {
            file: c.file.clone(),
            name: c.name.clone(),
            bytes: c.code.len(),
            status: if o.reason.is_none() { verb } else { "refused" },
            reason: o.reason,
            translate_ms: o.translate_ms,
            compile_ms: o.compile_ms,
            code_bytes: o.code_bytes,
            loaded_bytes: o.loaded_bytes,
            lower_ms: o.lower_ms,
            optimize_ms: o.optimize_ms,
            codegen_ms: o.codegen_ms,
            link_ms: o.link_ms,
            estimate_ms: o.estimate_ms,
        }
    }

    pub fn ok(&self) -> bool {
        self.reason.is_none()
    }

    /// `[  3/144] name   bytes  status  ms  code bytes (phases)` or `... refused ms reason`.
    pub fn line(&self, n: usize, total: usize) -> String {
        let w = total.to_string().len();
        let head = format!(
            "[{n:>w$}/{total}] {:<40} {:>6} B  {:<10} {:>9.1} ms",
            self.name, self.bytes, self.status, self.compile_ms
        );
        let f = |x: Option<f64>| x.map_or("-".into(), |x| format!("{x:.1}"));
        match &self.reason {
            None if self.code_bytes.is_some() => format!(
                "{head}  code {:>7} B  (translate {}, lower {}, opt {}, codegen {}, link {} ms)",
                self.code_bytes.unwrap_or(0),
                f(self.translate_ms),
                f(self.lower_ms),
                f(self.optimize_ms),
                f(self.codegen_ms),
                f(self.link_ms),
            ),
            None => head,
            Some(reason) => format!("{head}  {}", short(reason, 160)),
        }
    }

    /// Compile (or translate) ms per KiB of bytecode.
    fn ms_per_kib(&self) -> f64 {
        self.compile_ms / (self.bytes.max(1) as f64 / 1024.0)
    }
}

/// The first line of `s`, at most `max` characters.
fn short(s: &str, max: usize) -> String {
    let first = s.lines().next().unwrap_or("");
    match first.char_indices().nth(max) {
        Some((i, _)) => format!("{}...", &first[..i]),
        None => first.to_string(),
    }
}

/// The group of a refusal: its first line with every number (decimal or `0x` hex) replaced by
/// `N`, so `block at pc 12 ...` and `block at pc 345 ...` group together.
pub fn reason_key(reason: &str) -> String {
    let mut out = String::new();
    let mut chars = short(reason, 120).chars().collect::<Vec<_>>().into_iter().peekable();
    while let Some(c) = chars.next() {
        if !c.is_ascii_digit() {
            out.push(c);
            continue;
        }
        if c == '0' && chars.peek() == Some(&'x') {
            chars.next();
            while chars.next_if(char::is_ascii_hexdigit).is_some() {}
        }
        while chars.next_if(char::is_ascii_digit).is_some() {}
        out.push('N');
    }
    out
}

/// The `p`-quantile (0..=1) of sorted `xs`, interpolating linearly between ranks.
pub fn percentile(xs: &[f64], p: f64) -> f64 {
    match xs.len() {
        0 => f64::NAN,
        n => {
            let rank = p.clamp(0.0, 1.0) * (n - 1) as f64;
            let (lo, hi) = (rank.floor() as usize, rank.ceil() as usize);
            xs[lo] + (xs[hi] - xs[lo]) * (rank - lo as f64)
        }
    }
}

/// Percentage of records that compiled.
pub fn coverage(records: &[Record]) -> f64 {
    let ok = records.iter().filter(|r| r.ok()).count();
    if records.is_empty() { 100.0 } else { ok as f64 * 100.0 / records.len() as f64 }
}

/// Native code per bytecode byte and the time of each phase, over compiled records that
/// report them (none with `--translate-only`).
fn code_and_phases(ok: &[&Record]) -> Vec<String> {
    let with_code: Vec<&&Record> = ok.iter().filter(|r| r.code_bytes.is_some()).collect();
    if with_code.is_empty() {
        return Vec::new();
    }
    let mut ratios: Vec<f64> = with_code
        .iter()
        .map(|r| r.code_bytes.unwrap_or(0) as f64 / r.bytes.max(1) as f64)
        .collect();
    ratios.sort_by(f64::total_cmp);
    let code: usize = with_code.iter().map(|r| r.code_bytes.unwrap_or(0)).sum();
    let loaded: usize = with_code.iter().map(|r| r.loaded_bytes.unwrap_or(0)).sum();
    let bytes: usize = with_code.iter().map(|r| r.bytes).sum();
    let sum = |f: fn(&Record) -> Option<f64>| with_code.iter().filter_map(|r| f(r)).sum::<f64>();
    vec![
        format!(
            "native code per bytecode byte: median {:.1}, p90 {:.1}, max {:.1}; total {code} B for {bytes} B ({:.1})",
            percentile(&ratios, 0.5),
            percentile(&ratios, 0.9),
            ratios[ratios.len() - 1],
            code as f64 / bytes.max(1) as f64,
        ),
        format!(
            "of which loaded (code, constants, tables; not relocations or symbols): {loaded} B ({:.1})",
            loaded as f64 / bytes.max(1) as f64,
        ),
        format!(
            "phases, ms summed: translate {:.0}, lower {:.0}, optimize {:.0}, codegen {:.0}, link {:.0}",
            sum(|r| r.translate_ms),
            sum(|r| r.lower_ms),
            sum(|r| r.optimize_ms),
            sum(|r| r.codegen_ms),
            sum(|r| r.link_ms),
        ),
    ]
}

/// Estimates below this are left out of [`over_estimate`]: a small compilation's time is
/// mostly the fixed cost of one, which the estimates leave out, and the bounds they are
/// for (1 s and 8 s) are ten and eighty times larger.
const MIN_ESTIMATE_MS: f64 = 100.0;

/// The compile time measured here (translation included) over the estimate its level's
/// admission bound is on (`Limits::max_compile_cost` on `compile_cost`,
/// `max_optimizing_cost` on `optimizing_cost`, in ms of the reference VM), for compiled
/// records estimated at [`MIN_ESTIMATE_MS`] or more: how far those bounds hold on this
/// machine. The estimates are calibrated at O0 and O2: O1 and O3 take longer.
fn over_estimate(ok: &[&Record]) -> Option<String> {
    let mut ratios: Vec<(f64, &str)> = ok
        .iter()
        .filter_map(|r| {
            let estimate = r.estimate_ms.filter(|e| *e >= MIN_ESTIMATE_MS)?;
            Some((r.compile_ms / estimate, &*r.name))
        })
        .collect();
    ratios.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (max, name) = *ratios.last()?;
    let values: Vec<f64> = ratios.iter().map(|r| r.0).collect();
    Some(format!(
        "time over the estimate (compile_cost, optimizing_cost at O2 and O3), {} estimated at {MIN_ESTIMATE_MS} ms or more: median {:.2}, p90 {:.2}, max {max:.2} ({name})",
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.9),
    ))
}

/// The summary lines.
pub fn summary(records: &[Record], verb: &str) -> Vec<String> {
    let mut out = Vec::new();
    let ok: Vec<&Record> = records.iter().filter(|r| r.ok()).collect();
    let bytes = |rs: &mut dyn Iterator<Item = &Record>| rs.map(|r| r.bytes).sum::<usize>();
    out.push(format!(
        "{} of {} {verb} ({} of {} bytes); coverage {:.1}%",
        ok.len(),
        records.len(),
        bytes(&mut ok.iter().copied()),
        bytes(&mut records.iter()),
        coverage(records),
    ));
    let what = if verb == "translated" { "translate" } else { "compile" };
    let mut per_kib: Vec<f64> = ok.iter().map(|r| r.ms_per_kib()).collect();
    per_kib.sort_by(f64::total_cmp);
    if !per_kib.is_empty() {
        out.push(format!(
            "{what} ms per KiB over {} {verb}: median {:.2}, p90 {:.2}, max {:.2}",
            per_kib.len(),
            percentile(&per_kib, 0.5),
            percentile(&per_kib, 0.9),
            per_kib[per_kib.len() - 1],
        ));
        let mut slow = ok.clone();
        slow.sort_by(|a, b| b.compile_ms.total_cmp(&a.compile_ms));
        out.push(format!("slowest {verb}:"));
        for r in slow.iter().take(5) {
            out.push(format!("  {:<40} {:>6} B  {:>9.1} ms", r.name, r.bytes, r.compile_ms));
        }
    }
    out.extend(code_and_phases(&ok));
    out.extend(over_estimate(&ok));
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for r in records {
        if let Some(reason) = &r.reason {
            groups.entry(reason_key(reason)).or_default().push(&r.name);
        }
    }
    if !groups.is_empty() {
        out.push(format!("refused: {}, by reason:", records.len() - ok.len()));
        let mut groups: Vec<_> = groups.into_iter().collect();
        groups.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then_with(|| a.0.cmp(&b.0)));
        for (key, names) in groups {
            let more = if names.len() > 3 { ", ..." } else { "" };
            out.push(format!("  {:>4}  {key}", names.len()));
            out.push(format!("        e.g. {}{more}", names[..names.len().min(3)].join(", ")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles() {
        let xs = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(percentile(&xs, 0.5), 2.5);
        assert_eq!(percentile(&[7.0], 0.9), 7.0);
        let xs: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&xs, 0.5), 6.0);
        assert_eq!(percentile(&xs, 0.9), 10.0);
        assert_eq!(percentile(&xs, 1.0), 11.0);
        assert!(percentile(&[], 0.5).is_nan());
    }

    #[test]
    fn reason_keys() {
        let a = "unsupported bytecode: block at pc 12 is reachable with more than 16 stack heights";
        let b =
            "unsupported bytecode: block at pc 3456 is reachable with more than 16 stack heights";
        assert_eq!(reason_key(a), reason_key(b));
        assert_eq!(
            reason_key(a),
            "unsupported bytecode: block at pc N is reachable with more than N stack heights"
        );
        assert_eq!(reason_key("crashed: signal 11 (SIGSEGV)"), "crashed: signal N (SIGSEGV)");
        assert_eq!(reason_key("bad 0xdeadBEEF\nsecond line 7"), "bad N");
    }

    fn record(name: &str, bytes: usize, ms: f64, reason: Option<&str>) -> Record {
        let c = Contract { file: "f".into(), name: name.into(), code: vec![0; bytes] };
        let mut o = Outcome::refused(String::new(), std::time::Duration::ZERO);
        o.compile_ms = ms;
        o.reason = reason.map(String::from);
        Record::new(&c, o, "compiled")
    }

    #[test]
    fn summary_lines() {
        let records = [
            record("a", 1024, 10.0, None),
            record("b", 2048, 10.0, None),
            record("c", 512, 40.0, None),
            record("d", 100, 1.0, Some("translation limit exceeded: blocks (limit 16384)")),
        ];
        let s = summary(&records, "compiled");
        assert_eq!(s[0], "3 of 4 compiled (3584 of 3684 bytes); coverage 75.0%");
        assert_eq!(s[1], "compile ms per KiB over 3 compiled: median 10.00, p90 66.00, max 80.00");
        assert!(s[3].trim_start().starts_with("c "), "slowest first: {}", s[3]);
        assert_eq!(s[6], "refused: 1, by reason:");
        assert_eq!(s[7], "     1  translation limit exceeded: blocks (limit N)");
        assert_eq!(s[8], "        e.g. d");
        assert_eq!(coverage(&records), 75.0);
    }

    #[test]
    fn time_over_estimate() {
        let mut records = [record("a", 1024, 10.0, None), record("b", 1024, 40.0, None)];
        assert_eq!(over_estimate(&[&records[0], &records[1]]), None, "no estimates, no line");
        records[0].estimate_ms = Some(100.0);
        records[1].estimate_ms = Some(200.0);
        let line = over_estimate(&[&records[0], &records[1]]).expect("a line");
        assert!(line.contains(", 2 estimated at 100 ms"), "100 ms counts: {line}");
        assert!(line.contains("median 0.15, p90 0.19, max 0.20 (b)"), "{line}");
        let s = summary(&records, "compiled");
        assert!(s.contains(&line), "in the summary: {s:?}");
        records[0].estimate_ms = Some(50.0);
        let line = over_estimate(&[&records[0], &records[1]]).expect("a line");
        assert!(line.contains(", 1 estimated at 100 ms"), "only b counts: {line}");
        assert!(line.ends_with("max 0.20 (b)"), "{line}");
        records[1].estimate_ms = Some(20.0);
        assert_eq!(over_estimate(&[&records[0], &records[1]]), None, "none large enough");
    }
}
