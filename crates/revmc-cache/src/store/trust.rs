//! Whether a file or directory of the store may be trusted, decided on the open
//! descriptor, before a byte is read or a library is loaded.
//!
//! A store directory must be owned by this process's effective user and writable by
//! nobody else; a file must be a regular file (opened with `O_NOFOLLOW`, so a symlink is
//! never followed, and `O_NONBLOCK`, so a FIFO never blocks the open) owned by the user,
//! not group- or world-writable, and no larger than its bound. `fstat` on the descriptor
//! decides, so the file checked is the file read.

use std::fs::{File, Metadata, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::Path;

/// Largest manifest read.
pub(super) const MAX_MANIFEST_BYTES: u64 = 64 << 10;
/// Largest library read and loaded.
pub(super) const MAX_LIBRARY_BYTES: u64 = 256 << 20;

/// Why a file of the store is not trusted; the artifact is not ours to load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Untrusted(pub String);

/// The effective user of this process.
fn euid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Why `meta` (of a file or directory at `what`) is not ours alone, if it is not.
fn ownership(meta: &Metadata, what: &str) -> Option<String> {
    if meta.uid() != euid() {
        return Some(format!("{what} is owned by uid {}, not {}", meta.uid(), euid()));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Some(format!("{what} is writable by others (mode {mode:o})"));
    }
    None
}

/// Checks the store directory itself.
pub(super) fn check_dir(path: &Path) -> io::Result<Result<(), Untrusted>> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_dir() {
        return Ok(Err(Untrusted(format!("{} is not a directory", path.display()))));
    }
    Ok(ownership(&meta, &path.display().to_string()).map_or(Ok(()), |why| Err(Untrusted(why))))
}

/// Whether an I/O error says the environment is short of something (descriptors,
/// memory, space, permission, a failing device) rather than that the artifact is bad:
/// such a load is retried later and the artifact is kept.
pub(super) fn is_transient(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE
                | libc::ENFILE
                | libc::ENOMEM
                | libc::EIO
                | libc::EACCES
                | libc::EPERM
                | libc::ENOSPC
                | libc::EAGAIN
                | libc::EINTR
        )
    )
}

/// Whether a `dlopen` failure message says the process is short of resources.
pub(super) fn is_transient_dlopen(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "cannot allocate memory",
        "too many open files",
        "failed to map segment",
        "resource temporarily unavailable",
    ]
    .iter()
    .any(|s| m.contains(s))
}

/// Opens `path` for reading and checks the descriptor: `Ok(Err(_))` if the file is not
/// trusted (a symlink, not a regular file, not ours, writable by others, over `max`).
/// The returned length is the descriptor's.
pub(super) fn open(path: &Path, max: u64) -> io::Result<Result<(File, u64), Untrusted>> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(path);
    let file = match opened {
        Ok(f) => f,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Ok(Err(Untrusted(format!("{} is a symbolic link", path.display()))));
        }
        Err(e) => return Err(e),
    };
    let meta = file.metadata()?;
    let name = path.display().to_string();
    if !meta.is_file() {
        return Ok(Err(Untrusted(format!("{name} is not a regular file"))));
    }
    if let Some(why) = ownership(&meta, &name) {
        return Ok(Err(Untrusted(why)));
    }
    if meta.len() > max {
        return Ok(Err(Untrusted(format!("{name} is {} bytes, over {max}", meta.len()))));
    }
    Ok(Ok((file, meta.len())))
}

/// Reads the whole of `file`, `len` bytes by its `fstat`, and at most `len`: a file that
/// grows while it is read is cut at what was checked.
pub(super) fn read(file: &mut File, len: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::with_capacity(len as usize);
    file.take(len).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_errors_are_transient_and_damage_is_not() {
        for errno in [libc::EMFILE, libc::ENOMEM, libc::EIO, libc::EACCES, libc::ENOSPC] {
            assert!(is_transient(&io::Error::from_raw_os_error(errno)), "errno {errno}");
        }
        for errno in [libc::ENOENT, libc::EISDIR, libc::ELOOP, libc::ENOEXEC] {
            assert!(!is_transient(&io::Error::from_raw_os_error(errno)), "errno {errno}");
        }
        assert!(is_transient_dlopen("libfoo.so: failed to map segment from shared object"));
        assert!(is_transient_dlopen("x.so: cannot allocate memory"));
        assert!(!is_transient_dlopen("x.so: invalid ELF header"));
    }
}
