//! Release archives: packing them reproducibly, and unpacking them the way krew does.
//!
//! krew (`internal/download/downloader.go`) tells the format from the content (gzip or zip
//! magic), refuses entries whose name contains `..` or starts with `/` or `\`, and accepts only
//! regular files and directories in a tar (a `pax_global_header` is skipped). [`unpack`] applies
//! the same rules, so an archive it accepts is one krew accepts.

use std::fs;
use std::io::{Cursor, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::GzDecoder;

use crate::plugins::ArchiveFormat;

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("writing the archive")]
    Write(#[source] std::io::Error),
    #[error("writing the zip archive")]
    Zip(#[source] zip::result::ZipError),
    #[error("the archive is neither gzip nor zip (krew detects the type from the first bytes)")]
    UnknownFormat,
    #[error("reading the archive")]
    Read(#[source] std::io::Error),
    #[error("reading the zip archive")]
    ZipRead(#[source] zip::result::ZipError),
    #[error("refusing suspicious entry `{0}`: krew rejects `..` and absolute paths")]
    Suspicious(String),
    #[error("entry `{name}` has type `{kind}`: krew unpacks only regular files and directories")]
    EntryType { name: String, kind: String },
    #[error("creating `{path}`")]
    Create {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// One file in an archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `/`-separated path inside the archive.
    pub name: String,
    /// Unix permission bits (0o755 for executables, 0o644 otherwise).
    pub mode: u32,
    pub data: Vec<u8>,
}

/// Packs `entries` in order. Owner, group and times are fixed (`mtime` seconds since the epoch;
/// zip has no time before 1980 and gets 1980-01-01), so equal inputs give equal bytes.
pub fn pack(format: ArchiveFormat, entries: &[Entry], mtime: u64) -> Result<Vec<u8>, ArchiveError> {
    match format {
        ArchiveFormat::TarGz => pack_tar_gz(entries, mtime),
        ArchiveFormat::Zip => pack_zip(entries),
    }
}

fn pack_tar_gz(entries: &[Entry], mtime: u64) -> Result<Vec<u8>, ArchiveError> {
    // The gzip header carries no file name and mtime 0 (GzBuilder's defaults).
    let gz = flate2::GzBuilder::new().write(Vec::new(), Compression::best());
    let mut tar = tar::Builder::new(gz);
    for e in entries {
        let mut header = tar::Header::new_ustar();
        header.set_path(&e.name).map_err(ArchiveError::Write)?;
        header.set_size(e.data.len() as u64);
        header.set_mode(e.mode);
        header.set_mtime(mtime);
        header.set_uid(0);
        header.set_gid(0);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, e.data.as_slice())
            .map_err(ArchiveError::Write)?;
    }
    let gz = tar.into_inner().map_err(ArchiveError::Write)?;
    gz.finish().map_err(ArchiveError::Write)
}

fn pack_zip(entries: &[Entry]) -> Result<Vec<u8>, ArchiveError> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for e in entries {
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .last_modified_time(zip::DateTime::default())
            .unix_permissions(e.mode);
        zip.start_file(e.name.as_str(), options)
            .map_err(ArchiveError::Zip)?;
        zip.write_all(&e.data).map_err(ArchiveError::Write)?;
    }
    Ok(zip.finish().map_err(ArchiveError::Zip)?.into_inner())
}

/// The format krew would detect (Go's `http.DetectContentType`: gzip `1f 8b 08`, zip `PK\3\4`).
pub fn detect(bytes: &[u8]) -> Option<ArchiveFormat> {
    if bytes.starts_with(&[0x1f, 0x8b, 0x08]) {
        Some(ArchiveFormat::TarGz)
    } else if bytes.starts_with(b"PK\x03\x04") {
        Some(ArchiveFormat::Zip)
    } else {
        None
    }
}

fn check_name(name: &str) -> Result<(), ArchiveError> {
    if name.contains("..") || name.starts_with('/') || name.starts_with('\\') {
        return Err(ArchiveError::Suspicious(name.to_owned()));
    }
    Ok(())
}

/// Unpacks `bytes` into `dest` (which exists) as krew does; returns the file names unpacked.
pub fn unpack(bytes: &[u8], dest: &Path) -> Result<Vec<String>, ArchiveError> {
    match detect(bytes).ok_or(ArchiveError::UnknownFormat)? {
        ArchiveFormat::TarGz => unpack_tar_gz(bytes, dest),
        ArchiveFormat::Zip => unpack_zip(bytes, dest),
    }
}

fn unpack_tar_gz(bytes: &[u8], dest: &Path) -> Result<Vec<String>, ArchiveError> {
    let mut tar = tar::Archive::new(GzDecoder::new(bytes));
    let mut names = Vec::new();
    for entry in tar.entries().map_err(ArchiveError::Read)? {
        let mut entry = entry.map_err(ArchiveError::Read)?;
        let kind = entry.header().entry_type();
        if kind == tar::EntryType::XGlobalHeader {
            continue;
        }
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        check_name(&name)?;
        let path = dest.join(&name);
        match kind {
            tar::EntryType::Directory => create_dir(&path)?,
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mode = entry.header().mode().map_err(ArchiveError::Read)?;
                let mut data = Vec::new();
                entry.read_to_end(&mut data).map_err(ArchiveError::Read)?;
                write_file(&path, &data, mode)?;
                names.push(name);
            }
            other => {
                return Err(ArchiveError::EntryType {
                    name,
                    kind: format!("{other:?}"),
                });
            }
        }
    }
    Ok(names)
}

fn unpack_zip(bytes: &[u8], dest: &Path) -> Result<Vec<String>, ArchiveError> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(ArchiveError::ZipRead)?;
    let mut names = Vec::new();
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).map_err(ArchiveError::ZipRead)?;
        let name = file.name().map_err(ArchiveError::ZipRead)?.into_owned();
        check_name(&name)?;
        let path = dest.join(&name);
        if file.is_dir() {
            create_dir(&path)?;
            continue;
        }
        let mode = file.unix_mode().unwrap_or(0o644);
        let mut data = Vec::new();
        file.read_to_end(&mut data).map_err(ArchiveError::Read)?;
        write_file(&path, &data, mode)?;
        names.push(name);
    }
    Ok(names)
}

fn create_dir(path: &Path) -> Result<(), ArchiveError> {
    fs::create_dir_all(path).map_err(|source| ArchiveError::Create {
        path: path.to_owned(),
        source,
    })
}

fn write_file(path: &Path, data: &[u8], mode: u32) -> Result<(), ArchiveError> {
    if let Some(parent) = path.parent() {
        create_dir(parent)?;
    }
    let create = |source| ArchiveError::Create {
        path: path.to_owned(),
        source,
    };
    fs::write(path, data).map_err(create)?;
    set_mode(path, mode).map_err(create)
}

#[cfg(unix)]
pub fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode & 0o7777))
}

#[cfg(not(unix))]
pub fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<Entry> {
        vec![
            Entry {
                name: "kubectl-eks_token".into(),
                mode: 0o755,
                data: b"#!/bin/sh\necho hi\n".to_vec(),
            },
            Entry {
                name: "LICENSE".into(),
                mode: 0o644,
                data: b"Apache".to_vec(),
            },
        ]
    }

    #[test]
    fn packing_is_deterministic_and_round_trips() {
        for format in [ArchiveFormat::TarGz, ArchiveFormat::Zip] {
            let a = pack(format, &entries(), 0).unwrap();
            let b = pack(format, &entries(), 0).unwrap();
            assert_eq!(a, b, "{format:?}");
            assert_eq!(detect(&a), Some(format));
            let dir = tempfile::tempdir().unwrap();
            let names = unpack(&a, dir.path()).unwrap();
            assert_eq!(names, ["kubectl-eks_token", "LICENSE"]);
            assert_eq!(
                fs::read(dir.path().join("kubectl-eks_token")).unwrap(),
                b"#!/bin/sh\necho hi\n"
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = |n: &str| {
                    fs::metadata(dir.path().join(n))
                        .unwrap()
                        .permissions()
                        .mode()
                        & 0o777
                };
                assert_eq!(mode("kubectl-eks_token"), 0o755, "{format:?}");
                assert_eq!(mode("LICENSE"), 0o644, "{format:?}");
            }
        }
    }

    #[test]
    fn refuses_parent_directory_entries() {
        // tar's Header::set_path refuses `..` itself, so write the name bytes directly.
        let gz = flate2::GzBuilder::new().write(Vec::new(), Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_ustar();
        header.as_old_mut().name[..9].copy_from_slice(b"../escape");
        header.set_size(1);
        header.set_mode(0o644);
        header.set_entry_type(tar::EntryType::Regular);
        header.set_cksum();
        tar.append(&header, &b"x"[..]).unwrap();
        let bytes = tar.into_inner().unwrap().finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(&bytes, dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "refusing suspicious entry `../escape`: krew rejects `..` and absolute paths"
        );
    }

    #[test]
    fn refuses_symlinks_as_krew_does() {
        let gz = flate2::GzBuilder::new().write(Vec::new(), Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_ustar();
        header.set_path("LICENSE").unwrap();
        header.set_size(0);
        header.set_entry_type(tar::EntryType::Symlink);
        header.set_link_name("/etc/passwd").unwrap();
        header.set_cksum();
        tar.append(&header, std::io::empty()).unwrap();
        let bytes = tar.into_inner().unwrap().finish().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(&bytes, dir.path()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry `LICENSE` has type `Symlink`: krew unpacks only regular files and directories"
        );
    }

    #[test]
    fn rejects_unknown_format() {
        let dir = tempfile::tempdir().unwrap();
        let err = unpack(b"plain text", dir.path()).unwrap_err();
        assert!(matches!(err, ArchiveError::UnknownFormat), "{err}");
    }
}
