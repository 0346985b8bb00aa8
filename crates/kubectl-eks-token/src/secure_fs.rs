//! I/O: the file operations that hold secrets or a user's kubeconfig, with one meaning on every
//! platform.
//!
//! | guarantee | Unix | Windows |
//! |---|---|---|
//! | a link planted at the path is never followed | `O_NOFOLLOW` (`ELOOP`) | `FILE_FLAG_OPEN_REPARSE_POINT`, then a reparse point is refused |
//! | a FIFO cannot hang the reader | `O_NONBLOCK` | no FIFOs in the file system namespace |
//! | only the user can read the file | mode 0600 / 0700, owner checked | the ACL inherited from the user's profile directory (no mode bits; this crate has no unsafe code to set an explicit ACL) |
//! | atomic replace | temp file (`O_EXCL`), fsync, `rename(2)` | temp file (`CREATE_NEW`), flush, `MoveFileExW(MOVEFILE_REPLACE_EXISTING)` (std's `rename`) |
//!
//! Every Unix-only API of the crate sits in this file under `cfg(unix)`
//! (`scripts/check-unix-apis` checks it in CI).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result};

#[cfg(unix)]
mod imp {
    use std::fs::{self, DirBuilder, File, Metadata, OpenOptions};
    use std::io;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
    use std::path::Path;

    pub fn open_read_nofollow(path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }

    pub fn create_new_private(path: &Path, mode: u32) -> io::Result<File> {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    }

    pub fn open_lock(path: &Path) -> io::Result<File> {
        OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(path)
    }

    /// After `create_new_private`: the umask may have taken bits away, never added; set the
    /// exact mode (a kept kubeconfig mode such as 0640 must stay 0640).
    pub fn set_mode(file: &File, mode: u32) -> io::Result<()> {
        file.set_permissions(fs::Permissions::from_mode(mode))
    }

    pub fn is_link_refusal(e: &io::Error) -> bool {
        e.raw_os_error() == Some(libc::ELOOP)
    }

    pub fn create_private_dir(dir: &Path) -> io::Result<()> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        // `recursive` applies the mode to every created level; make sure of the leaf.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
    }

    pub fn make_dir_private(dir: &Path) -> io::Result<()> {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
    }

    pub fn my_uid() -> Option<u32> {
        Some(rustix::process::geteuid().as_raw())
    }

    pub fn owner(meta: &Metadata) -> Option<u32> {
        Some(meta.uid())
    }

    pub fn mode(meta: &Metadata) -> Option<u32> {
        Some(meta.mode() & 0o7777)
    }
}

#[cfg(windows)]
mod imp {
    use std::fs::{self, File, Metadata, OpenOptions};
    use std::io;
    use std::os::windows::fs::OpenOptionsExt;
    use std::path::Path;

    /// `FILE_FLAG_OPEN_REPARSE_POINT` (winbase.h): open a symlink or junction itself, not its
    /// target.
    const FILE_FLAG_OPEN_REPARSE_POINT: u32 = 0x0020_0000;
    /// Our refusal of a link, told apart from other errors by its type.
    #[derive(Debug)]
    struct LinkRefused;

    impl std::fmt::Display for LinkRefused {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("is a symbolic link or reparse point")
        }
    }

    impl std::error::Error for LinkRefused {}

    fn link_refused() -> io::Error {
        io::Error::other(LinkRefused)
    }

    pub fn open_read_nofollow(path: &Path) -> io::Result<File> {
        let file = OpenOptions::new()
            .read(true)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path)?;
        if file.metadata()?.file_type().is_symlink() {
            return Err(link_refused());
        }
        Ok(file)
    }

    pub fn create_new_private(path: &Path, _mode: u32) -> io::Result<File> {
        // CREATE_NEW fails on an existing name, a link included.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path)
    }

    pub fn open_lock(path: &Path) -> io::Result<File> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .custom_flags(FILE_FLAG_OPEN_REPARSE_POINT)
            .open(path)?;
        if file.metadata()?.file_type().is_symlink() {
            return Err(link_refused());
        }
        Ok(file)
    }

    pub fn set_mode(_file: &File, _mode: u32) -> io::Result<()> {
        Ok(())
    }

    pub fn is_link_refusal(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<LinkRefused>())
    }

    pub fn create_private_dir(dir: &Path) -> io::Result<()> {
        fs::create_dir_all(dir)
    }

    pub fn make_dir_private(_dir: &Path) -> io::Result<()> {
        Ok(())
    }

    pub fn my_uid() -> Option<u32> {
        None
    }

    pub fn owner(_meta: &Metadata) -> Option<u32> {
        None
    }

    pub fn mode(_meta: &Metadata) -> Option<u32> {
        None
    }
}

pub use imp::{
    create_private_dir, is_link_refusal, make_dir_private, mode, my_uid, open_read_nofollow, owner,
};

/// The permission bits of `path` (Unix), to keep them when the file is replaced.
pub fn mode_of(path: &Path) -> Option<u32> {
    fs::metadata(path).ok().as_ref().and_then(imp::mode)
}

fn temp_name(dir: &Path, file_name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    dir.join(format!(".{file_name}.{}.{nanos}.tmp", std::process::id()))
}

/// Writes `bytes` to a new temp file in `dir` with `mode`, fsyncs it and renames it to `target`.
pub fn replace_in_dir(dir: &Path, target: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let file_name = target
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("file");
    let tmp = temp_name(dir, file_name);
    let result = (|| -> io::Result<()> {
        let mut file: File = imp::create_new_private(&tmp, mode)?;
        imp::set_mode(&file, mode)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Writes `path` atomically with `mode` (0600 for new files of ours): temp file beside the
/// target, fsync, rename. A symlinked kubeconfig is written through to its target so the link
/// stays.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let target = fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let dir = target
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(dir).with_context(|| format!("creating `{}`", dir.display()))?;
    replace_in_dir(dir, &target, bytes, mode)
        .with_context(|| format!("writing `{}`", target.display()))
}

/// Opens (creating it 0600 if needed, never following a link) a lock file, for `File::lock`.
pub fn open_lock(path: &Path) -> io::Result<File> {
    imp::open_lock(path)
}
