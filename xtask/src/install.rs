//! A stand-in for `kubectl krew install --manifest=M --archive=A` (krew itself cannot be fetched
//! here), following krew's `internal/installation` step by step:
//!
//! 1. validate the manifest (`ValidatePlugin`);
//! 2. take the first platform whose selector matches this os/arch (`GetMatchingPlatform`);
//! 3. check the archive's sha256 against the platform's (`Sha256Verifier`);
//! 4. unpack it into a staging directory ([`crate::archive::unpack`]);
//! 5. apply `files` (default `[{from: "*", to: "."}]`) into
//!    `KREW_ROOT/store/<name>/<version>/` (`moveToInstallDir`);
//! 6. link `KREW_ROOT/bin/kubectl-<name with - as _>` (`.exe` on windows) to `bin` with a
//!    relative symlink (`createOrUpdateLink`);
//! 7. and, as krew-index CI does, require a license file among the installed files.

use std::fs;
use std::path::{Path, PathBuf};

use crate::archive::{self, ArchiveError};
use crate::checksums::sha256_hex;
use crate::manifest::{FileOperation, Manifest, PlatformSpec};
use crate::validate::{self, LICENSE_FILES, ValidationError, clean_path, selector_matches};

#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("manifest of `{name}` is invalid:\n{}", list(.errors))]
    Invalid {
        name: String,
        errors: Vec<ValidationError>,
    },
    #[error("plugin `{name}` does not offer installation for {os}/{arch}")]
    NoPlatform {
        name: String,
        os: String,
        arch: String,
    },
    #[error(
        "sha256 of `{archive}` is {actual}, the manifest says {expected}\n\n\
         hint: rebuild with `cargo xtask dist` or render the manifests from this archive's sums"
    )]
    Sha256Mismatch {
        archive: PathBuf,
        actual: String,
        expected: String,
    },
    #[error("unpacking `{archive}`")]
    Unpack {
        archive: PathBuf,
        #[source]
        source: ArchiveError,
    },
    #[error("no file in the archive matches `{0}`")]
    NoMatch(String),
    #[error("file operation `{from}` -> `{to}` leaves the installation directory")]
    OutOfBounds { from: String, to: String },
    #[error(
        "glob `{0}` has a wildcard before its last path element, which this check does not support"
    )]
    UnsupportedGlob(String),
    #[error("bin `{bin}` is not in the installed files of `{name}`")]
    MissingBin { name: String, bin: String },
    #[error("`{name}` installs no license file; installed: {files}")]
    NoLicense { name: String, files: String },
    #[error("{action} `{path}`")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

fn list(errors: &[ValidationError]) -> String {
    errors
        .iter()
        .map(|e| format!("  - {e} [{}]", e.origin()))
        .collect::<Vec<_>>()
        .join("\n")
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InstallError {
    let path = path.to_owned();
    move |source| InstallError::Io {
        action,
        path,
        source,
    }
}

/// krew's os/arch labels for the machine this runs on (Go's GOOS/GOARCH names).
pub fn host_platform() -> (&'static str, &'static str) {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "arm" => "arm",
        other => other,
    };
    (os, arch)
}

/// krew's link name for a plugin: `kubectl-` + name with `-` as `_` (+ `.exe` on windows).
pub fn link_name(plugin: &str, windows: bool) -> String {
    let name = format!("kubectl-{}", plugin.replace('-', "_"));
    if windows { format!("{name}.exe") } else { name }
}

/// The first platform of `manifest` whose selector matches `os`/`arch`, as krew picks it.
pub fn matching_platform<'m>(
    manifest: &'m Manifest,
    os: &str,
    arch: &str,
) -> Option<&'m PlatformSpec> {
    manifest.spec.platforms.iter().find(|p| {
        p.selector
            .as_ref()
            .is_some_and(|s| selector_matches(s, os, arch) == Ok(true))
    })
}

/// What an installation left behind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Installed {
    /// `KREW_ROOT/store/<name>/<version>`.
    pub install_dir: PathBuf,
    /// `KREW_ROOT/bin/kubectl-<name>`.
    pub link: PathBuf,
    /// Installed files, relative to `install_dir`, sorted.
    pub files: Vec<String>,
}

/// Installs `manifest` from the local `archive_path` into `krew_root` for `os`/`arch`.
pub fn install(
    krew_root: &Path,
    manifest: &Manifest,
    archive_path: &Path,
    (os, arch): (&str, &str),
) -> Result<Installed, InstallError> {
    let name = &manifest.metadata.name;
    let errors = validate::validate(name, manifest);
    if !errors.is_empty() {
        return Err(InstallError::Invalid {
            name: name.clone(),
            errors,
        });
    }
    let platform =
        matching_platform(manifest, os, arch).ok_or_else(|| InstallError::NoPlatform {
            name: name.clone(),
            os: os.to_owned(),
            arch: arch.to_owned(),
        })?;

    let bytes = fs::read(archive_path).map_err(io("reading", archive_path))?;
    let actual = sha256_hex(&bytes);
    if actual != platform.sha256 {
        return Err(InstallError::Sha256Mismatch {
            archive: archive_path.to_owned(),
            actual,
            expected: platform.sha256.clone(),
        });
    }

    let staging = tempfile::Builder::new()
        .prefix("krew-downloads")
        .tempdir()
        .map_err(io("creating a staging directory in", &std::env::temp_dir()))?;
    archive::unpack(&bytes, staging.path()).map_err(|source| InstallError::Unpack {
        archive: archive_path.to_owned(),
        source,
    })?;

    let store = krew_root.join("store").join(name);
    let install_dir = store.join(&manifest.spec.version);
    fs::create_dir_all(&install_dir).map_err(io("creating", &install_dir))?;
    let default_files = [FileOperation {
        from: "*".into(),
        to: ".".into(),
    }];
    let ops = platform.files.as_deref().unwrap_or(&default_files);
    for op in ops {
        for (from, to) in move_targets(staging.path(), &install_dir, op)? {
            if let Some(parent) = to.parent() {
                fs::create_dir_all(parent).map_err(io("creating", parent))?;
            }
            fs::rename(&from, &to)
                .or_else(|_| fs::copy(&from, &to).map(drop))
                .map_err(io("moving into the installation", &to))?;
        }
    }

    let bin = install_dir.join(clean_path(&platform.bin));
    if !bin.starts_with(&install_dir) || !bin.is_file() {
        return Err(InstallError::MissingBin {
            name: name.clone(),
            bin: platform.bin.clone(),
        });
    }
    let bin_dir = krew_root.join("bin");
    fs::create_dir_all(&bin_dir).map_err(io("creating", &bin_dir))?;
    let link = bin_dir.join(link_name(name, os == "windows"));
    if fs::symlink_metadata(&link).is_ok() {
        fs::remove_file(&link).map_err(io("removing the old link", &link))?;
    }
    let relative = Path::new("..")
        .join("store")
        .join(name)
        .join(&manifest.spec.version)
        .join(clean_path(&platform.bin));
    symlink(&relative, &bin, &link)?;

    let mut files = Vec::new();
    collect_files(&install_dir, &install_dir, &mut files)?;
    files.sort();
    let has_license = files.iter().any(|f| {
        let base = f.rsplit('/').next().unwrap_or(f).to_ascii_lowercase();
        LICENSE_FILES.contains(&base.as_str())
    });
    if !has_license {
        return Err(InstallError::NoLicense {
            name: name.clone(),
            files: files.join(", "),
        });
    }
    Ok(Installed {
        install_dir,
        link,
        files,
    })
}

#[cfg(unix)]
fn symlink(relative: &Path, _target: &Path, link: &Path) -> Result<(), InstallError> {
    std::os::unix::fs::symlink(relative, link).map_err(io("linking", link))
}

/// Symbolic links need a privilege on windows; a copy runs the same.
#[cfg(not(unix))]
fn symlink(_relative: &Path, target: &Path, link: &Path) -> Result<(), InstallError> {
    fs::copy(target, link)
        .map(drop)
        .map_err(io("copying to", link))
}

fn collect_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> Result<(), InstallError> {
    for entry in fs::read_dir(dir).map_err(io("listing", dir))? {
        let entry = entry.map_err(io("listing", dir))?;
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, out)?;
        } else {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
    Ok(())
}

/// krew's `findMoveTargets`: a `from` naming an existing path moves that path (to `to`, or to
/// its base name when `to` is `.`); otherwise `from` is a glob and every match moves into `to`.
fn move_targets(
    from_dir: &Path,
    to_dir: &Path,
    op: &FileOperation,
) -> Result<Vec<(PathBuf, PathBuf)>, InstallError> {
    let out_of_bounds = || InstallError::OutOfBounds {
        from: op.from.clone(),
        to: op.to.clone(),
    };
    let to = clean_path(&op.to);
    if to.starts_with("..") || to.starts_with('/') {
        return Err(out_of_bounds());
    }
    let from = clean_path(&op.from);
    if from.starts_with("..") || from.starts_with('/') {
        return Err(out_of_bounds());
    }
    let direct = from_dir.join(&from);
    if fs::symlink_metadata(&direct).is_ok() {
        let target = if to == "." {
            to_dir.join(from.rsplit('/').next().unwrap_or(&from))
        } else {
            to_dir.join(&to)
        };
        return Ok(vec![(direct, target)]);
    }
    let (dir, pattern) = match from.rsplit_once('/') {
        Some((dir, pattern)) => (dir, pattern),
        None => ("", from.as_str()),
    };
    if dir.contains(['*', '?', '[']) {
        return Err(InstallError::UnsupportedGlob(op.from.clone()));
    }
    let search = from_dir.join(dir);
    let mut moves = Vec::new();
    if let Ok(entries) = fs::read_dir(&search) {
        for entry in entries {
            let entry = entry.map_err(io("listing", &search))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if wildcard_match(pattern, &name) {
                moves.push((entry.path(), to_dir.join(&to).join(&name)));
            }
        }
    }
    if moves.is_empty() {
        return Err(InstallError::NoMatch(op.from.clone()));
    }
    moves.sort();
    Ok(moves)
}

/// Go's `filepath.Match` for `*` and `?` within one path element (`[...]` classes are not
/// supported and match literally).
pub fn wildcard_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    let (mut star, mut star_n) = (None, 0);
    while ni < n.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == n[ni]) && p[pi] != '*' {
            pi += 1;
            ni += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            star_n = ni;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            star_n += 1;
            ni = star_n;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_names_follow_krew() {
        assert_eq!(link_name("eks-token", false), "kubectl-eks_token");
        assert_eq!(link_name("eks-grant", true), "kubectl-eks_grant.exe");
    }

    #[test]
    fn wildcards_match_like_filepath_match() {
        assert!(wildcard_match("*", "LICENSE"));
        assert!(wildcard_match("kubectl-*", "kubectl-eks_token"));
        assert!(wildcard_match("LICEN?E", "LICENSE"));
        assert!(!wildcard_match("*.md", "LICENSE"));
        assert!(!wildcard_match("kubectl-?", "kubectl-ab"));
    }
}
