//! `cargo xtask manifests` and `cargo xtask validate`: krew manifests rendered, written, checked
//! against the committed ones, and validated.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail, ensure};

use crate::{read_to_string, write};
use xtask::checksums::{Checksums, sha256_hex};
use xtask::manifest::Manifest;
use xtask::plugins::Plugins;
use xtask::validate;

/// Sums of the archives in `dir` that plugins.yaml names for `version`.
pub(crate) fn sum_archives(plugins: &Plugins, version: &str, dir: &Path) -> Result<Checksums> {
    let mut sums = Checksums::default();
    for plugin in &plugins.plugins {
        for platform in &plugins.platforms {
            let name = plugins.archive_name(plugin, platform, version)?;
            let path = dir.join(&name);
            if path.is_file() {
                let bytes = std::fs::read(&path)
                    .with_context(|| format!("reading `{}`", path.display()))?;
                sums.insert(name, sha256_hex(&bytes));
            }
        }
    }
    Ok(sums)
}

fn manifest_errors(file: &str, m: &Manifest) -> Option<String> {
    let errors = validate::validate_file(file, m);
    (!errors.is_empty()).then(|| {
        errors
            .iter()
            .map(|e| format!("\n  - {e} [{}]", e.origin()))
            .collect()
    })
}

pub(crate) fn write_manifests(manifests: &[Manifest], out: &Path) -> Result<()> {
    for m in manifests {
        let file = format!("{}.yaml", m.metadata.name);
        if let Some(errors) = manifest_errors(&file, m) {
            bail!("refusing to write `{file}`, it is not a valid krew manifest:{errors}");
        }
        for w in validate::line_length_warnings(m) {
            eprintln!("warning: {file}: {w}");
        }
        let path = out.join(&file);
        write(&path, m.to_yaml().as_bytes())?;
        eprintln!(
            "wrote {} ({} platform(s))",
            path.display(),
            m.spec.platforms.len()
        );
    }
    Ok(())
}

pub(crate) fn check_manifests(manifests: &[Manifest], out: &Path) -> Result<()> {
    let mut stale = Vec::new();
    for m in manifests {
        let path = out.join(format!("{}.yaml", m.metadata.name));
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current != m.to_yaml() {
            stale.push(path.display().to_string());
        }
    }
    ensure!(
        stale.is_empty(),
        "out of date: {}\n\nhint: run `cargo xtask manifests` without --check to regenerate them",
        stale.join(", ")
    );
    eprintln!(
        "{} manifests up to date in {}",
        manifests.len(),
        out.display()
    );
    Ok(())
}

pub(crate) fn validate_files(mut files: Vec<PathBuf>) -> Result<()> {
    if files.is_empty() {
        let dir = Path::new("krew-manifests");
        for entry in
            std::fs::read_dir(dir).with_context(|| format!("listing `{}`", dir.display()))?
        {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "yaml") {
                files.push(path);
            }
        }
        files.sort();
    }
    let mut failed = 0;
    for path in &files {
        let text = read_to_string(path)?;
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        let m = Manifest::parse(&text).with_context(|| format!("parsing `{}`", path.display()))?;
        for w in validate::line_length_warnings(&m) {
            eprintln!("warning: {}: {w}", path.display());
        }
        match manifest_errors(&file, &m) {
            Some(errors) => {
                failed += 1;
                eprintln!("{}: invalid:{errors}", path.display());
            }
            None => eprintln!("{}: valid", path.display()),
        }
    }
    ensure!(
        failed == 0,
        "{failed} of {} manifests are invalid",
        files.len()
    );
    Ok(())
}
