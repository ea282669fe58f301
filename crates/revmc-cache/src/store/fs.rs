//! The filesystem store: `<root>/<id>.json` manifests beside `<root>/<id>-<checksum>.so`
//! libraries, and `<root>/quarantine/` for artifacts that failed verification.
//!
//! Writes go to a temporary file in `root` and are renamed into place: the library first
//! (its name includes its checksum, so concurrent writers never clobber each other's
//! library), then the manifest, whose atomic rename commits the artifact; the file and
//! the directory are synced before the rename counts. Two processes storing one key end
//! with one manifest naming one complete library.
//!
//! Loading trusts nothing it has not checked ([`super::trust`]): the directory must be
//! ours alone, every file is opened without following symlinks and checked on its
//! descriptor, read up to the size `fstat` gave, and a library is `dlopen`ed through
//! `/proc/self/fd/N` — the very descriptor whose bytes were checksummed. Errors that say
//! the process is short of something (descriptors, memory, space) are returned as errors
//! and the artifact is kept; only a bad artifact is moved aside.

use super::trust::{self, MAX_LIBRARY_BYTES, MAX_MANIFEST_BYTES, Untrusted};
use super::{ArtifactKey, ArtifactStore, Loaded, Manifest, StoreError};
use crate::{CompiledProgram, ProgramKind};
use alloy_primitives::keccak256;
use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
use revmc_ir::abi::{ABI_VERSION, RawEvmFn};
use std::fs::File;
use std::io::Write;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Temporary files older than this are a crashed writer's and are removed at open.
pub(super) const STALE_TEMP: Duration = Duration::from_secs(600);

/// Name of the `u32` every library exports with the ABI version it was compiled for.
const ABI_VERSION_SYMBOL: &[u8] = b"revmc_abi_version\0";

/// AOT artifacts in a directory.
#[derive(Clone)]
pub struct FsStore {
    root: PathBuf,
    /// With a key, manifests are authenticated (HMAC-SHA256) and nothing unauthenticated
    /// is loaded: for a store shared between hosts.
    hmac_key: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for FsStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FsStore")
            .field("root", &self.root)
            .field("authenticated", &self.hmac_key.is_some())
            .finish()
    }
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
    /// The descriptor the library was loaded from, open while it is loaded: glibc reuses
    /// a loaded object whose name matches, so `/proc/self/fd/N` must not name another
    /// library while this one lives. Dropped after `library`.
    #[allow(dead_code, reason = "held to keep its number unique among loaded libraries")]
    file: File,
}

/// A file's identity: device and inode.
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    std::fs::symlink_metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

fn meta_id(file: &File) -> Option<FileId> {
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

/// Renames `from` to `to` unless `to` exists (`renameat2(RENAME_NOREPLACE)`).
fn rename_noreplace(from: &Path, to: &Path) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        |p: &Path| std::ffi::CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (from, to) = (c(from)?, c(to)?);
    // SAFETY: both paths are NUL-terminated and outlive the call.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_NOREPLACE,
        )
    };
    if rc == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

impl FsStore {
    /// A store in `root`, created if missing.
    /// Refuses ([`StoreError::Untrusted`]) a directory owned by another user or writable
    /// by group or others: whoever can write there chooses the code this process runs.
    /// Sweeps temporary files left by crashed writers.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, StoreError> {
        let root = root.into();
        // Created for this user alone, whatever the umask; existing ones are checked.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(root.join("quarantine"))
            .map_err(io("creating", &root))?;
        for dir in [root.clone(), root.join("quarantine")] {
            if let Err(Untrusted(why)) = trust::check_dir(&dir).map_err(io("checking", &dir))? {
                return Err(StoreError::Untrusted { path: dir, why });
            }
        }
        let store = Self { root, hmac_key: None };
        store.sweep_temporaries();
        Ok(store)
    }

    /// The same store, authenticating with `key`: manifests it writes carry an HMAC-SHA256,
    /// and it loads only artifacts whose manifest carries a valid one. An artifact without
    /// one is refused but left in place (another host's, under another key, perhaps).
    pub fn with_hmac_key(self, key: impl Into<Vec<u8>>) -> Self {
        Self { hmac_key: Some(key.into().into()), ..self }
    }

    /// Removes `.tmp-*` files older than [`STALE_TEMP`] (a writer that crashed between
    /// creating and renaming one); younger ones may belong to a live writer.
    fn sweep_temporaries(&self) {
        let Ok(entries) = std::fs::read_dir(&self.root) else { return };
        for entry in entries.flatten() {
            let stale = entry.file_name().to_string_lossy().starts_with(".tmp-")
                && entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .is_ok_and(|t| t.elapsed().unwrap_or_default() > STALE_TEMP);
            if stale {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Path of the manifest of `key`.
    pub fn manifest_path(&self, key: &ArtifactKey) -> PathBuf {
        self.root.join(format!("{}.json", key.id()))
    }

    /// Moves the manifest (and the library it names, if any) into `quarantine/`. Each
    /// file is given with the identity (device, inode) of the file that was found bad,
    /// when it was opened: if the name meanwhile holds another process's fresh write, the
    /// move is undone (unless a newer file took the name again), so one process never
    /// quarantines another's good artifact.
    fn quarantine(&self, files: &[(&Path, Option<FileId>)], why: String) -> Loaded {
        let stamp = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_nanos();
        for &(path, bad) in files {
            let Some(name) = path.file_name() else { continue };
            let to =
                self.root.join("quarantine").join(format!("{stamp}-{}", name.to_string_lossy()));
            // Losing a race with another process's quarantine is fine: either way the bad
            // file is gone from its real name.
            if std::fs::rename(path, &to).is_err() {
                continue;
            }
            if let Some(bad) = bad
                && file_id(&to).is_some_and(|moved| moved != bad)
            {
                // A fresh write replaced the bad file after it was checked: put it back.
                let _ = rename_noreplace(&to, path);
            }
        }
        let manifest = files.first().map_or(Path::new(""), |f| f.0);
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
        // The rename is durable only once the directory is.
        File::open(&self.root)
            .and_then(|d| d.sync_all())
            .map_err(io("syncing the directory", &self.root))?;
        Ok(())
    }
}

impl ArtifactStore for FsStore {
    fn load(&self, key: &ArtifactKey) -> Result<Loaded, StoreError> {
        let manifest_path = self.manifest_path(key);
        let (mut file, len) = match trust::open(&manifest_path, MAX_MANIFEST_BYTES) {
            Ok(Ok(opened)) => opened,
            Ok(Err(Untrusted(why))) => return Ok(self.quarantine(&[(&manifest_path, None)], why)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Miss),
            Err(e) => return Err(io("opening", &manifest_path)(e)),
        };
        let text = trust::read(&mut file, len).map_err(io("reading", &manifest_path))?;
        let manifest_id = meta_id(&file);
        drop(file);
        let bad_manifest = [(manifest_path.as_path(), manifest_id)];
        let manifest: Manifest = match serde_json::from_slice(&text) {
            Ok(m) => m,
            Err(e) => {
                return Ok(self.quarantine(&bad_manifest, format!("bad manifest: {e}")));
            }
        };
        if let Some(key) = &self.hmac_key {
            use hmac::Mac;
            let valid = manifest
                .mac
                .as_deref()
                .and_then(|m| alloy_primitives::hex::decode(m).ok())
                .is_some_and(|tag| manifest.authenticator(key).verify_slice(&tag).is_ok());
            if !valid {
                let why = "manifest is not authenticated by this store's key".to_string();
                tracing::warn!(manifest = %manifest_path.display(), %why, "refused an AOT artifact");
                return Ok(Loaded::Discarded(why));
            }
        }
        let lib_path = self.root.join(&manifest.library);
        let lib = (Path::new(&manifest.library).file_name() == Some(manifest.library.as_ref()))
            .then_some(lib_path.as_path());
        if manifest.key != *key {
            return Ok(self.quarantine(&bad_manifest, "manifest is for another key".into()));
        }
        let Some(lib) = lib else {
            return Ok(self.quarantine(&bad_manifest, "library name is a path".into()));
        };
        let (mut file, len) = match trust::open(lib, MAX_LIBRARY_BYTES) {
            Ok(Ok(opened)) => opened,
            Ok(Err(Untrusted(why))) => {
                return Ok(self.quarantine(&[bad_manifest[0], (lib, None)], why));
            }
            Err(e) if trust::is_transient(&e) => return Err(io("opening", lib)(e)),
            Err(e) => return Ok(self.quarantine(&bad_manifest, format!("library: {e}"))),
        };
        let both = [bad_manifest[0], (lib, meta_id(&file))];
        if len != manifest.library_size {
            let why = format!("library is {len} bytes, manifest says {}", manifest.library_size);
            return Ok(self.quarantine(&both, why));
        }
        let bytes = trust::read(&mut file, len).map_err(io("reading", lib))?;
        if keccak256(&bytes).to_string() != manifest.checksum {
            return Ok(self.quarantine(&both, "checksum mismatch".into()));
        }
        // The descriptor just checksummed, not the path, which could name another file
        // by now.
        let via_fd = PathBuf::from(format!("/proc/self/fd/{}", file.as_raw_fd()));
        let load_from = if via_fd.exists() { via_fd.as_path() } else { lib };
        // SAFETY: the bytes behind the descriptor are ours (owner and mode checked, nobody
        // else can write them) and match the checksum recorded when this store wrote
        // them; loading runs no code of ours (the objects have no constructors).
        let library = match unsafe { Library::open(Some(load_from), RTLD_NOW | RTLD_LOCAL) } {
            Ok(l) => l,
            Err(e) if trust::is_transient_dlopen(&e.to_string()) => {
                return Err(io("loading", lib)(std::io::Error::other(e.to_string())));
            }
            Err(e) => {
                return Ok(self.quarantine(&both, format!("dlopen: {e}")));
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
            return Ok(self.quarantine(&both, why));
        }
        let mut name = manifest.symbol.clone().into_bytes();
        name.push(0);
        // SAFETY: the library exports `symbol` with the `RawEvmFn` ABI (checked above).
        let entry = match unsafe { library.get::<RawEvmFn>(&name) } {
            Ok(f) => *f,
            Err(e) => {
                drop(library);
                return Ok(self.quarantine(&both, format!("symbol: {e}")));
            }
        };
        let code_bytes = bytes.len();
        drop(bytes);
        let backing = Box::new(LoadedLibrary { library, file });
        // SAFETY: `entry` stays mapped while the library (the backing) is loaded, and the
        // key guarantees it was compiled from this code for this spec and ABI.
        let program = unsafe { CompiledProgram::new(entry, ProgramKind::Aot, code_bytes, backing) };
        // Recently used: garbage collection removes least recently used artifacts first.
        if let Ok(f) =
            File::options().write(true).custom_flags(libc::O_NOFOLLOW).open(&manifest_path)
        {
            let _ = f.set_modified(SystemTime::now());
        }
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
            mac: None,
        };
        let manifest = match &self.hmac_key {
            Some(key) => {
                use hmac::Mac;
                let tag = manifest.authenticator(key).finalize().into_bytes();
                Manifest { mac: Some(alloy_primitives::hex::encode(tag)), ..manifest }
            }
            None => manifest,
        };
        let json = serde_json::to_vec_pretty(&manifest).expect("manifests serialize");
        self.write_atomically(&format!("{id}.json"), &json)
    }

    fn gc(&self, budget: u64) -> Result<super::GcReport, StoreError> {
        FsStore::gc(self, budget)
    }

    fn keys(&self) -> Result<Vec<ArtifactKey>, StoreError> {
        let mut keys = Vec::new();
        for entry in std::fs::read_dir(&self.root).map_err(io("listing", &self.root))? {
            let path = entry.map_err(io("listing", &self.root))?.path();
            // Checked like a load: a FIFO or a huge file never stalls start-up.
            if path.extension().is_some_and(|e| e == "json")
                && let Ok(Ok((mut file, len))) = trust::open(&path, MAX_MANIFEST_BYTES)
                && let Ok(text) = trust::read(&mut file, len)
                && let Ok(m) = serde_json::from_slice::<Manifest>(&text)
            {
                keys.push(m.key);
            }
        }
        Ok(keys)
    }
}
