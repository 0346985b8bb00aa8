//! The token cache: one small JSON file per identity under `~/.kube/cache/eks-token/`.
//!
//! Safety rules (each one tested in `tests/cli.rs`):
//! - the directory is created 0700; one that is a symlink or owned by another user is not used;
//! - files are opened with `O_NOFOLLOW` (a symlink is never followed) and `O_NONBLOCK` (a FIFO
//!   planted in the directory cannot hang kubectl); a file that is not a regular file, not
//!   owned by us, readable or writable by group/other, or not parseable is ignored, and the next
//!   write replaces it;
//! - writes go to a fresh temp file (`O_CREAT|O_EXCL`, 0600), are fsynced, then renamed over the
//!   entry, so 20 concurrent kubectl processes each see either no entry or a whole one; the last
//!   rename wins, and every writer's token is valid;
//! - the token never appears in Debug output, errors or `cache list`.
//!
//! Freshness: a token is reused while it has at least [`MIN_REMAINING`] (5 minutes) left of its
//! 14 minutes. kubectl keeps using a credential until its `expirationTimestamp`, and a long
//! running `kubectl` (port-forward, logs -f, a controller) may start requests just before that;
//! five minutes leaves room for clock skew between this machine and the API server's STS
//! check (the authenticator accepts `X-Amz-Date` up to 15 minutes old) at the cost of one new
//! signature every 9 minutes.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::secure_fs;

/// A cached token is served only while it has at least this long left.
pub const MIN_REMAINING: Duration = Duration::from_secs(5 * 60);
/// Tokens say they expire 14 minutes after signing; anything claiming more is not ours.
const MAX_LIFETIME: Duration = Duration::from_secs(14 * 60 + 60);
const FORMAT_VERSION: u32 = 1;
const MAX_FILE_SIZE: u64 = 64 * 1024;

/// Everything that selects the identity a token is signed with. Hashed into the file name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyInputs<'a> {
    pub cluster: &'a str,
    /// Region from `--region` or the environment; empty when the profile decides.
    pub region: &'a str,
    /// `--profile` (AWS_PROFILE is among `env`).
    pub profile: &'a str,
    pub role_arn: &'a str,
    pub external_id: &'a str,
    /// Explicit session name, or `forward` marker (the caller's session follows from `env`).
    pub session: &'a str,
    /// `(name, value)` of the identity-relevant environment variables (see `env::IDENTITY_VARS`).
    pub env: Vec<(&'a str, Option<String>)>,
    /// `(which, state)` of the shared AWS config and credentials files: what a profile says
    /// decides the identity, so an edited profile is a new key.
    pub files: Vec<(&'a str, FileState)>,
}

/// What a shared AWS file held when the key was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileState {
    Missing,
    /// SHA-256 of the content.
    Content([u8; 32]),
    /// Present but not readable (or larger than [`MAX_SHARED_FILE`]): its size and mtime stand
    /// in for the content.
    Unread {
        len: u64,
        modified_ns: u128,
    },
}

/// Shared config files are a few hundred bytes; one larger than this is keyed by size and mtime.
pub const MAX_SHARED_FILE: u64 = 1024 * 1024;

/// Reads `path` for the cache key: one open and one read of a small file.
pub fn file_state(path: &std::path::Path) -> FileState {
    use std::io::ErrorKind;
    let unread = |meta: &fs::Metadata| FileState::Unread {
        len: meta.len(),
        modified_ns: meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos()),
    };
    let file = match fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == ErrorKind::NotFound => return FileState::Missing,
        Err(_) => {
            return fs::metadata(path)
                .map(|m| unread(&m))
                .unwrap_or(FileState::Missing);
        }
    };
    let Ok(meta) = file.metadata() else {
        return FileState::Missing;
    };
    if meta.len() > MAX_SHARED_FILE || !meta.is_file() {
        return unread(&meta);
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    match (&file).take(MAX_SHARED_FILE).read_to_end(&mut bytes) {
        Ok(_) => FileState::Content(Sha256::digest(&bytes).into()),
        Err(_) => unread(&meta),
    }
}

/// Hex SHA-256 over length-prefixed fields: no two distinct inputs share a key.
pub fn cache_key(inputs: &KeyInputs<'_>) -> String {
    let mut h = Sha256::new();
    let mut field = |name: &str, value: Option<&str>| {
        h.update((name.len() as u64).to_le_bytes());
        h.update(name.as_bytes());
        match value {
            None => h.update([0u8]),
            Some(v) => {
                h.update([1u8]);
                h.update((v.len() as u64).to_le_bytes());
                h.update(v.as_bytes());
            }
        }
    };
    field("format", Some("kubectl-eks-token/v1"));
    field("cluster", Some(inputs.cluster));
    field("region", Some(inputs.region));
    field("profile", Some(inputs.profile));
    field("role_arn", Some(inputs.role_arn));
    field("external_id", Some(inputs.external_id));
    field("session", Some(inputs.session));
    for (name, value) in &inputs.env {
        field(name, value.as_deref());
    }
    for (name, state) in &inputs.files {
        let value = match state {
            FileState::Missing => None,
            FileState::Content(digest) => Some(format!("sha256:{}", hex::encode(digest))),
            FileState::Unread { len, modified_ns } => Some(format!("stat:{len}:{modified_ns}")),
        };
        field(name, value.as_deref());
    }
    hex::encode(h.finalize())
}

/// A cache entry as stored. Only non-secret descriptions besides the token itself.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Entry {
    pub version: u32,
    pub token: String,
    /// Unix seconds.
    pub expires: u64,
    pub cluster: String,
    pub region: String,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Entry")
            .field("token", &"<redacted>")
            .field("expires", &self.expires)
            .field("cluster", &self.cluster)
            .field("region", &self.region)
            .field("profile", &self.profile)
            .field("role_arn", &self.role_arn)
            .finish()
    }
}

impl Entry {
    pub fn expiration(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.expires)
    }
}

pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// May a token expiring at `expiration` be served at `now`?
pub fn is_fresh(expiration: SystemTime, now: SystemTime) -> bool {
    expiration >= now + MIN_REMAINING && expiration <= now + MAX_LIFETIME
}

/// Why a file was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum Rejected {
    Missing,
    Symlink,
    NotRegular,
    ForeignOwner(u32),
    Mode(u32),
    TooLarge,
    Corrupt,
    Io,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejected::Missing => f.write_str("missing"),
            Rejected::Symlink => f.write_str("a symlink (ignored)"),
            Rejected::NotRegular => f.write_str("not a regular file (ignored)"),
            Rejected::ForeignOwner(uid) => write!(f, "owned by uid {uid} (ignored)"),
            Rejected::Mode(m) => write!(f, "mode {m:o}, not 600 (ignored)"),
            Rejected::TooLarge => f.write_str("too large (ignored)"),
            Rejected::Corrupt => f.write_str("corrupt (ignored)"),
            Rejected::Io => f.write_str("unreadable (ignored)"),
        }
    }
}

/// Parse a file's bytes into an entry (pure).
pub fn parse_entry(bytes: &[u8]) -> Result<Entry, Rejected> {
    let entry: Entry = serde_json::from_slice(bytes).map_err(|_| Rejected::Corrupt)?;
    if entry.version != FORMAT_VERSION || !entry.token.starts_with(eks_auth::token::TOKEN_PREFIX) {
        return Err(Rejected::Corrupt);
    }
    Ok(entry)
}

/// How often a waiting process looks for the leader's entry.
const FLIGHT_POLL: Duration = Duration::from_millis(10);

/// What [`Cache::single_flight`] decided.
#[derive(Debug)]
pub enum Flight {
    /// We sign and store; the lock is held until this value is dropped (after the store).
    Leader(FlightLock),
    /// Another process signed while we waited.
    Served(Entry),
    /// No lock (a stuck leader, or none could be taken): sign on our own.
    Alone,
}

/// The leader's lock: released when dropped (and by the OS if the process dies).
#[derive(Debug)]
pub struct FlightLock {
    _file: fs::File,
}

#[derive(Debug)]
pub struct Cache {
    dir: PathBuf,
    /// Our user id (Unix); entries of another owner are not used.
    uid: Option<u32>,
}

impl Cache {
    /// Open (creating it 0700 if needed) the cache directory. Refuses a directory that is a
    /// symlink or owned by someone else; tightens our own directory's mode to 0700.
    pub fn open(dir: PathBuf) -> Result<Cache> {
        let uid = secure_fs::my_uid();
        match fs::symlink_metadata(&dir) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                secure_fs::create_private_dir(&dir).with_context(|| {
                    format!("creating token cache directory `{}`", dir.display())
                })?;
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("reading token cache directory `{}`", dir.display()));
            }
            Ok(meta) => {
                if meta.file_type().is_symlink() {
                    bail!(
                        "token cache directory `{}` is a symlink; not using it",
                        dir.display()
                    );
                }
                if !meta.is_dir() {
                    bail!(
                        "token cache directory `{}` is not a directory",
                        dir.display()
                    );
                }
                if let (Some(owner), Some(uid)) = (secure_fs::owner(&meta), uid)
                    && owner != uid
                {
                    bail!(
                        "token cache directory `{}` is owned by uid {owner}, not by us (uid {uid}); not using it",
                        dir.display(),
                    );
                }
                if secure_fs::mode(&meta).is_some_and(|m| m & 0o077 != 0) {
                    secure_fs::make_dir_private(&dir)
                        .with_context(|| format!("setting mode 0700 on `{}`", dir.display()))?;
                }
            }
        }
        Ok(Cache { dir, uid })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.json"))
    }

    /// Read an entry, applying every safety rule. Does not judge freshness.
    pub fn read(&self, key: &str) -> Result<Entry, Rejected> {
        self.read_path(&self.path(key))
    }

    fn read_path(&self, path: &Path) -> Result<Entry, Rejected> {
        let file = secure_fs::open_read_nofollow(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Rejected::Missing
            } else if secure_fs::is_link_refusal(&e) {
                Rejected::Symlink
            } else {
                Rejected::Io
            }
        })?;
        let meta = file.metadata().map_err(|_| Rejected::Io)?;
        if !meta.file_type().is_file() {
            return Err(Rejected::NotRegular);
        }
        if let (Some(owner), Some(uid)) = (secure_fs::owner(&meta), self.uid)
            && owner != uid
        {
            return Err(Rejected::ForeignOwner(owner));
        }
        if let Some(mode) = secure_fs::mode(&meta)
            && mode & 0o077 != 0
        {
            return Err(Rejected::Mode(mode & 0o777));
        }
        if meta.len() > MAX_FILE_SIZE {
            return Err(Rejected::TooLarge);
        }
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        (&file)
            .take(MAX_FILE_SIZE)
            .read_to_end(&mut bytes)
            .map_err(|_| Rejected::Io)?;
        parse_entry(&bytes)
    }

    /// A fresh entry for `key`, if there is one.
    pub fn lookup(&self, key: &str, now: SystemTime) -> Option<Entry> {
        self.read(key)
            .ok()
            .filter(|e| is_fresh(e.expiration(), now))
    }

    /// Atomically write `entry` under `key`: temp file (O_EXCL, 0600), fsync, rename.
    pub fn store(&self, key: &str, entry: &Entry) -> Result<()> {
        let body = serde_json::to_vec(entry).context("encoding cache entry")?;
        secure_fs::replace_in_dir(&self.dir, &self.path(key), &body, 0o600)
            .with_context(|| format!("writing token cache entry in `{}`", self.dir.display()))
    }

    fn lock_path(&self, key: &str) -> PathBuf {
        self.dir.join(format!("{key}.lock"))
    }

    /// Single flight for a cache miss: of many processes that miss the same key at once, one
    /// signs (the leader, holding an OS file lock on `KEY.lock`) and the others wait for its
    /// entry. A waiter gives up after `wait` (a stuck leader) and signs on its own; a dead
    /// leader's lock is released by the OS, so the next waiter leads. The lock is advisory and
    /// only ever costs time: any failure to lock means "sign on your own".
    pub fn single_flight(&self, key: &str, wait: Duration) -> Flight {
        let Ok(file) = secure_fs::open_lock(&self.lock_path(key)) else {
            return Flight::Alone;
        };
        let deadline = std::time::Instant::now() + wait;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    // The previous leader may have stored its entry just before letting go.
                    return match self.lookup(key, SystemTime::now()) {
                        Some(entry) => Flight::Served(entry),
                        None => Flight::Leader(FlightLock { _file: file }),
                    };
                }
                Err(fs::TryLockError::WouldBlock) => {}
                Err(fs::TryLockError::Error(_)) => return Flight::Alone,
            }
            if let Some(entry) = self.lookup(key, SystemTime::now()) {
                return Flight::Served(entry);
            }
            if std::time::Instant::now() >= deadline {
                return Flight::Alone;
            }
            std::thread::sleep(FLIGHT_POLL);
        }
    }

    /// Every entry file with its key and what reading it gave.
    pub fn list(&self) -> Result<Vec<(String, Result<Entry, Rejected>)>> {
        let mut out = Vec::new();
        let read_dir = fs::read_dir(&self.dir)
            .with_context(|| format!("listing token cache directory `{}`", self.dir.display()))?;
        for item in read_dir {
            let item = item.with_context(|| format!("listing `{}`", self.dir.display()))?;
            let name = item.file_name();
            let Some(key) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            out.push((key.to_owned(), self.read_path(&item.path())));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    /// Remove every entry and leftover temp file. Returns how many entries were removed.
    pub fn clear(&self) -> Result<usize> {
        let mut removed = 0;
        let read_dir = fs::read_dir(&self.dir)
            .with_context(|| format!("listing token cache directory `{}`", self.dir.display()))?;
        for item in read_dir {
            let item = item.with_context(|| format!("listing `{}`", self.dir.display()))?;
            let name = item.file_name();
            let Some(name) = name.to_str() else { continue };
            let is_entry = name.ends_with(".json");
            let leftover =
                (name.starts_with('.') && name.ends_with(".tmp")) || name.ends_with(".lock");
            if is_entry || leftover {
                // remove_file unlinks a symlink itself, never its target.
                fs::remove_file(item.path())
                    .with_context(|| format!("removing `{}`", item.path().display()))?;
                removed += usize::from(is_entry);
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests;
