//! Garbage collection of the filesystem store under a byte budget.
//!
//! Everything the store holds counts: committed artifacts (manifest and library), orphan
//! libraries (a writer that died between the two renames, or lost a race) and
//! `quarantine/`. Collection deletes, in order, orphans and quarantined files old enough
//! not to be a live writer's, then committed artifacts least recently used first (a load
//! refreshes its manifest's modification time), until the total is within the budget. An
//! artifact goes manifest first, so a concurrent reader sees it absent, never half gone.

use super::fs::{FsStore, STALE_TEMP};
use super::{Manifest, StoreError};
use std::collections::HashSet;
use std::path::PathBuf;
use std::time::SystemTime;

/// What a collection did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Bytes the store held before.
    pub bytes_before: u64,
    /// Bytes it holds after.
    pub bytes_after: u64,
    /// Committed artifacts deleted.
    pub artifacts_removed: usize,
    /// Orphan libraries and quarantined files deleted.
    pub debris_removed: usize,
}

/// A file with its size and modification time.
struct Item {
    path: PathBuf,
    bytes: u64,
    modified: SystemTime,
}

fn item(path: PathBuf) -> Option<Item> {
    let meta = std::fs::symlink_metadata(&path).ok()?;
    Some(Item { bytes: meta.len(), modified: meta.modified().ok()?, path })
}

impl FsStore {
    /// Deletes debris and least recently used artifacts until the store holds at most
    /// `budget` bytes (see the module documentation).
    pub fn gc(&self, budget: u64) -> Result<GcReport, StoreError> {
        let root = self.root();
        let list = |dir: &std::path::Path| -> Result<Vec<PathBuf>, StoreError> {
            let entries = std::fs::read_dir(dir).map_err(|source| StoreError::Io {
                what: "listing",
                path: dir.to_path_buf(),
                source,
            })?;
            Ok(entries.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        };
        let files = list(root)?;
        // Committed artifacts: a manifest that parses, and the library it names.
        let mut artifacts: Vec<(Item, Option<Item>)> = Vec::new();
        let mut named = HashSet::new();
        for path in files.iter().filter(|p| p.extension().is_some_and(|e| e == "json")) {
            let Some(manifest) = item(path.clone()) else { continue };
            let library = std::fs::read(path)
                .ok()
                .and_then(|t| serde_json::from_slice::<Manifest>(&t).ok())
                .map(|m| root.join(m.library));
            if let Some(l) = &library {
                named.insert(l.clone());
            }
            artifacts.push((manifest, library.and_then(item)));
        }
        let now = SystemTime::now();
        let old = |i: &Item| now.duration_since(i.modified).unwrap_or_default() > STALE_TEMP;
        let mut debris: Vec<Item> = files
            .iter()
            .filter(|p| p.extension().is_some_and(|e| e == "so") && !named.contains(*p))
            .filter_map(|p| item(p.clone()))
            .collect();
        debris.extend(list(&root.join("quarantine"))?.into_iter().filter_map(item));
        let total = |a: &[(Item, Option<Item>)], d: &[Item]| {
            a.iter().map(|(m, l)| m.bytes + l.as_ref().map_or(0, |l| l.bytes)).sum::<u64>()
                + d.iter().map(|i| i.bytes).sum::<u64>()
        };
        let mut report =
            GcReport { bytes_before: total(&artifacts, &debris), ..Default::default() };
        let mut bytes = report.bytes_before;
        debris.sort_by_key(|i| i.modified);
        for d in debris.iter().filter(|d| old(d)) {
            if bytes <= budget {
                break;
            }
            if std::fs::remove_file(&d.path).is_ok() {
                bytes -= d.bytes;
                report.debris_removed += 1;
            }
        }
        artifacts.sort_by_key(|(m, _)| m.modified);
        for (manifest, library) in &artifacts {
            if bytes <= budget {
                break;
            }
            if std::fs::remove_file(&manifest.path).is_ok() {
                bytes -= manifest.bytes;
                if let Some(l) = library
                    && std::fs::remove_file(&l.path).is_ok()
                {
                    bytes -= l.bytes;
                }
                report.artifacts_removed += 1;
            }
        }
        report.bytes_after = bytes;
        Ok(report)
    }
}
