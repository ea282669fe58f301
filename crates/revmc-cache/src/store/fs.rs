//! The filesystem store: `<root>/<id>.json` manifests beside `<root>/<id>-<checksum>.so`
//! libraries, and `<root>/quarantine/` for artifacts that failed verification.
//!
//! Writes go to a temporary file in `root` and are renamed into place: the library first
//! (its name includes its checksum, so concurrent writers never clobber each other's
//! library), then the manifest, whose atomic rename commits the artifact. Two processes
//! storing one key end with one manifest naming one complete library.

use super::{ArtifactKey, ArtifactStore, Loaded, Manifest, StoreError};
use crate::{CompiledProgram, ProgramKind};
use alloy_primitives::keccak256;
use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use revmc_ir::abi::{ABI_VERSION, RawEvmFn};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// Name of the `u32` every library exports with the ABI version it was compiled for.
const ABI_VERSION_SYMBOL: &[u8] = b"revmc_abi_version\0";

/// AOT artifacts in a directory.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> StoreError {
    let path = path.to_path_buf();
    move |source| StoreError::Io { what, path, source }
}

/// A loaded library: dropping it unloads the code.
#[derive(Debug)]
struct LoadedLibrary {
    #[allow(dead_code, reason = "held for its Drop, which unloads the library")]
    library: Library,
}

impl FsStore {
    /// A store in `root`, created if missing.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        std::fs::create_dir_all(root.join("quarantine")).map_err(io("creating", &root))?;
        Ok(Self { root })
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of the manifest of `key`.
    pub fn manifest_path(&self, key: &ArtifactKey) -> PathBuf {
        self.root.join(format!("{}.json", key.id()))
    }

    /// Moves the manifest (and the library it names, if any) into `quarantine/`.
    fn quarantine(&self, manifest: &Path, library: Option<&Path>, why: String) -> Loaded {
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        for path in [Some(manifest), library].into_iter().flatten() {
            if let Some(name) = path.file_name() {
                let to = self
                    .root
                    .join("quarantine")
                    .join(format!("{stamp}-{}", name.to_string_lossy()));
                // Losing a race with another process's quarantine is fine: either way
                // the bad artifact is gone from its real name.
                let _ = std::fs::rename(path, to);
            }
        }
        tracing::warn!(manifest = %manifest.display(), %why, "discarded an AOT artifact");
        Loaded::Discarded(why)
    }

    fn write_atomically(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let mut tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .tempfile_in(&self.root)
            .map_err(io("creating a temporary file in", &self.root))?;
        tmp.write_all(bytes).map_err(io("writing", tmp.path()))?;
        tmp.as_file().sync_all().map_err(io("syncing", tmp.path()))?;
        let path = self.root.join(name);
        tmp.persist(&path).map_err(|e| StoreError::Io {
            what: "renaming into",
            path,
            source: e.error,
        })?;
        Ok(())
    }
}

impl ArtifactStore for FsStore {
    fn load(&self, key: &ArtifactKey) -> Result<Loaded, StoreError> {
        let manifest_path = self.manifest_path(key);
        let text = match std::fs::read(&manifest_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Miss),
            Err(e) => return Err(io("reading", &manifest_path)(e)),
        };
        let manifest: Manifest = match serde_json::from_slice(&text) {
            Ok(m) => m,
            Err(e) => {
                return Ok(self.quarantine(&manifest_path, None, format!("bad manifest: {e}")));
            }
        };
        let lib_path = self.root.join(&manifest.library);
        let lib = (Path::new(&manifest.library).file_name() == Some(manifest.library.as_ref()))
            .then_some(lib_path.as_path());
        if manifest.key != *key {
            return Ok(self.quarantine(&manifest_path, lib, "manifest is for another key".into()));
        }
        let Some(lib) = lib else {
            return Ok(self.quarantine(&manifest_path, None, "library name is a path".into()));
        };
        let bytes = match std::fs::read(lib) {
            Ok(b) => b,
            Err(e) => return Ok(self.quarantine(&manifest_path, None, format!("library: {e}"))),
        };
        if bytes.len() as u64 != manifest.library_size {
            let why = format!(
                "library is {} bytes, manifest says {}",
                bytes.len(),
                manifest.library_size
            );
            return Ok(self.quarantine(&manifest_path, Some(lib), why));
        }
        if keccak256(&bytes).to_string() != manifest.checksum {
            return Ok(self.quarantine(&manifest_path, Some(lib), "checksum mismatch".into()));
        }
        // SAFETY: the library's bytes match the checksum recorded when this store wrote
        // it; loading runs no code of ours (the objects have no constructors).
        let library = match unsafe { Library::open(Some(lib), RTLD_NOW | RTLD_LOCAL) } {
            Ok(l) => l,
            Err(e) => {
                return Ok(self.quarantine(&manifest_path, Some(lib), format!("dlopen: {e}")));
            }
        };
        // SAFETY: the symbol is a `u32` constant in every library this store writes.
        let abi = unsafe { library.get::<*const u32>(ABI_VERSION_SYMBOL) }.map(|p| {
            // SAFETY: a valid, aligned u32 in the loaded library's read-only data.
            unsafe { **p }
        });
        if abi.as_ref().ok() != Some(&ABI_VERSION) {
            let why = format!("library ABI {abi:?}, expected {ABI_VERSION}");
            drop(library);
            return Ok(self.quarantine(&manifest_path, Some(lib), why));
        }
        let mut name = manifest.symbol.clone().into_bytes();
        name.push(0);
        // SAFETY: the library exports `symbol` with the `RawEvmFn` ABI (checked above).
        let entry = match unsafe { library.get::<RawEvmFn>(&name) } {
            Ok(f) => *f,
            Err(e) => {
                drop(library);
                return Ok(self.quarantine(&manifest_path, Some(lib), format!("symbol: {e}")));
            }
        };
        let backing = Box::new(LoadedLibrary { library });
        // SAFETY: `entry` stays mapped while the library (the backing) is loaded, and the
        // key guarantees it was compiled from this code for this spec and ABI.
        let program =
            unsafe { CompiledProgram::new(entry, ProgramKind::Aot, bytes.len(), backing) };
        Ok(Loaded::Hit(program))
    }

    fn store(&self, key: &ArtifactKey, library: &[u8], symbol: &str) -> Result<(), StoreError> {
        let checksum = keccak256(library).to_string();
        let id = key.id();
        let lib_name = format!("{id}-{}.so", &checksum[2..18]);
        self.write_atomically(&lib_name, library)?;
        let manifest = Manifest {
            key: key.clone(),
            symbol: symbol.to_string(),
            library: lib_name,
            library_size: library.len() as u64,
            checksum,
            created_unix: SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()),
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("manifests serialize");
        self.write_atomically(&format!("{id}.json"), &json)
    }

    fn keys(&self) -> Result<Vec<ArtifactKey>, StoreError> {
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&self.root).map_err(io("listing", &self.root))? {
            let path = entry.map_err(io("listing", &self.root))?.path();
            if path.extension().is_some_and(|e| e == "json")
                && let Ok(text) = std::fs::read(&path)
                && let Ok(m) = serde_json::from_slice::<Manifest>(&text)
            {
                keys.push(m.key);
            }
        }
        Ok(keys)
    }
}
