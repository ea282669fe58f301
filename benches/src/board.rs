//! The benchmark board: one row per case (interpreter, JIT and AOT times with their
//! spread, speedups, speedup above the floor, compile time, native code size, gas), printed
//! as it is measured, in sections, and written as JSON.

use crate::measure::Timing;
use serde::Serialize;
use std::path::Path;

/// The results of one case.
#[derive(Debug, Clone)]
pub struct Row {
    /// Case name.
    pub name: String,
    /// revm's interpreter.
    pub interp: Timing,
    /// Compiled frames, JIT.
    pub jit: Timing,
    /// Compiled frames, AOT shared libraries loaded from the artifact store.
    pub aot: Option<Timing>,
    /// JIT compile time of every code that ran (translation, lowering, passes, codegen).
    pub compile_ms: f64,
    /// Native bytes of the JIT programs that ran.
    pub code_bytes: usize,
    /// Gas used by the transactions.
    pub gas_used: u64,
    /// Codes that ran interpreted in the JIT run (their compilation was refused).
    pub interpreted_contracts: usize,
}

/// One row of the JSON report.
#[derive(Debug, Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    section: &'a str,
    interp_ns: f64,
    interp_spread: f64,
    jit_ns: f64,
    jit_spread: f64,
    aot_ns: Option<f64>,
    aot_spread: Option<f64>,
    /// The floor row's interpreter time (a STOP-only transaction).
    floor_ns: Option<f64>,
    floor_jit_ns: Option<f64>,
    floor_aot_ns: Option<f64>,
    compile_ms: f64,
    code_bytes: usize,
    gas_used: u64,
    interpreted_contracts: usize,
}

/// Rows by section, and the floor they are read against.
#[derive(Debug, Default)]
pub struct Board {
    rows: Vec<(String, Row)>,
    section: String,
}

const WIDTH: usize = 30;
/// The section of the floor row.
const FLOOR: &str = "floor";

impl Board {
    /// An empty board; prints its header.
    pub fn new(title: &str) -> Self {
        println!("{title}");
        println!(
            "{:<WIDTH$} {:>16} {:>16} {:>8} {:>16} {:>8} {:>8} {:>9} {:>10} {:>14}",
            "benchmark",
            "interp",
            "jit",
            "speedup",
            "aot",
            "speedup",
            "net",
            "compile",
            "code",
            "gas used"
        );
        println!(
            "{:<WIDTH$} {:>16} {:>16} {:>8} {:>16} {:>8} {:>8}",
            "", "(median ±dev)", "", "", "", "", "above floor"
        );
        Self::default()
    }

    /// Starts a section: rows added after this belong to it.
    pub fn section(&mut self, name: &str) {
        println!("--- {name}");
        self.section = name.to_string();
    }

    /// Records and prints the floor row, which every later row is read against.
    pub fn floor(&mut self, row: Row) {
        println!("{}", self.format(&row));
        self.rows.push((FLOOR.into(), row));
    }

    /// Records and prints a row.
    pub fn push(&mut self, row: Row) {
        println!("{}", self.format(&row));
        self.rows.push((self.section.clone(), row));
    }

    /// The floor row, once measured.
    fn floor_row(&self) -> Option<&Row> {
        self.rows.iter().find(|(section, _)| section == FLOOR).map(|(_, row)| row)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    fn format(&self, r: &Row) -> String {
        let speedup = |t: f64| format!("{:.2}x", r.interp.median_ns / t);
        let (aot, aot_speedup) = match r.aot {
            Some(a) => (fmt_timing(a), speedup(a.median_ns)),
            None => ("-".into(), "-".into()),
        };
        let net = match self.floor_row() {
            // Within a tenth of the floor, the compiled part is lost in the fixed cost.
            Some(f) if r.jit.median_ns < f.jit.median_ns * 1.1 => "floor".into(),
            Some(f) => {
                let above = |t: Timing, floor: Timing| t.median_ns - floor.median_ns;
                format!("{:.2}x", above(r.interp, f.interp) / above(r.jit, f.jit))
            }
            _ => "-".into(),
        };
        let interpreted = match r.interpreted_contracts {
            0 => String::new(),
            n => format!("  ({n} interpreted)"),
        };
        format!(
            "{:<WIDTH$} {:>16} {:>16} {:>8} {:>16} {:>8} {:>8} {:>9} {:>10} {:>14}{interpreted}",
            r.name,
            fmt_timing(r.interp),
            fmt_timing(r.jit),
            speedup(r.jit.median_ns),
            aot,
            aot_speedup,
            net,
            fmt_ms(r.compile_ms),
            fmt_bytes(r.code_bytes),
            fmt_thousands(r.gas_used),
        )
    }

    /// Writes every row as JSON to `path`.
    pub fn write_json(&self, path: &Path) -> anyhow::Result<()> {
        use anyhow::Context;
        let floor = self.floor_row();
        let rows: Vec<_> = self
            .rows
            .iter()
            .map(|(section, r)| JsonRow {
                name: &r.name,
                section,
                interp_ns: r.interp.median_ns,
                interp_spread: r.interp.spread,
                jit_ns: r.jit.median_ns,
                jit_spread: r.jit.spread,
                aot_ns: r.aot.map(|a| a.median_ns),
                aot_spread: r.aot.map(|a| a.spread),
                floor_ns: floor.map(|f| f.interp.median_ns),
                floor_jit_ns: floor.map(|f| f.jit.median_ns),
                floor_aot_ns: floor.and_then(|f| f.aot).map(|a| a.median_ns),
                compile_ms: r.compile_ms,
                code_bytes: r.code_bytes,
                gas_used: r.gas_used,
                interpreted_contracts: r.interpreted_contracts,
            })
            .collect();
        let json = serde_json::to_string_pretty(&rows)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))
    }
}

/// A median with its spread: `12.30 µs ±1.2%`.
fn fmt_timing(t: Timing) -> String {
    format!("{} ±{:.0}%", fmt_time(t.median_ns), t.spread * 100.0)
}

/// `ns` with an adaptive unit: ns, µs, ms or s.
fn fmt_time(ns: f64) -> String {
    match ns {
        ns if ns < 1e3 => format!("{ns:.0} ns"),
        ns if ns < 1e6 => format!("{:.2} µs", ns / 1e3),
        ns if ns < 1e9 => format!("{:.2} ms", ns / 1e6),
        ns => format!("{:.2} s", ns / 1e9),
    }
}

fn fmt_ms(ms: f64) -> String {
    if ms < 10.0 { format!("{ms:.1} ms") } else { format!("{ms:.0} ms") }
}

fn fmt_bytes(b: usize) -> String {
    if b < 10 * 1024 { format!("{b} B") } else { format!("{} KiB", b / 1024) }
}

/// `2100000` → `2_100_000`.
fn fmt_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() * 4 / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('_');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_thousands(2_100_000), "2_100_000");
        assert_eq!(fmt_thousands(999), "999");
        assert_eq!(fmt_time(12.3e6), "12.30 ms");
        assert_eq!(fmt_time(410.0), "410 ns");
        assert_eq!(fmt_time(1_500.0), "1.50 µs");
        assert_eq!(fmt_timing(Timing { median_ns: 1_500.0, spread: 0.021 }), "1.50 µs ±2%");
        assert_eq!(fmt_bytes(20_480), "20 KiB");
    }

    #[test]
    fn net_speedup_subtracts_the_floor() {
        let t = |ns| Timing { median_ns: ns, spread: 0.0 };
        let row = |name: &str, interp, jit| Row {
            name: name.into(),
            interp: t(interp),
            jit: t(jit),
            aot: None,
            compile_ms: 0.0,
            code_bytes: 0,
            gas_used: 0,
            interpreted_contracts: 0,
        };
        let mut board = Board::default();
        board.floor(row("floor", 1_000.0, 1_100.0));
        // 3 µs above the floor interpreted, 1 µs compiled: 3x net, 2x whole.
        let line = board.format(&row("case", 4_000.0, 2_100.0));
        assert!(line.contains(" 1.90x "), "{line}");
        assert!(line.contains(" 3.00x "), "{line}");
        let line = board.format(&row("all floor", 4_000.0, 1_200.0));
        assert!(line.contains(" floor "), "{line}");
    }
}
