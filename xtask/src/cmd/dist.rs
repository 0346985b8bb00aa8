//! `cargo xtask dist`: build each plugin alone (so features do not unify), pack the release
//! archives and their sums, and render the manifests for them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

use crate::{emit, read_sums, write};
use xtask::archive::{self, Entry};
use xtask::checksums::{Checksums, sha256_hex};
use xtask::manifest;
use xtask::plugins::{Platform, Plugins};
use xtask::shim;

use super::manifests::write_manifests;

#[derive(Debug, serde::Deserialize)]
struct Metadata {
    target_directory: PathBuf,
    packages: Vec<MetadataPackage>,
}

#[derive(Debug, serde::Deserialize)]
struct MetadataPackage {
    name: String,
    version: String,
}

fn cargo_metadata() -> Result<Metadata> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(&cargo)
        .args(["metadata", "--format-version", "1", "--no-deps", "--locked"])
        .output()
        .context("running `cargo metadata`")?;
    ensure!(
        out.status.success(),
        "`cargo metadata` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).context("reading `cargo metadata` output")
}

fn host_target() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let out = Command::new(rustc)
        .arg("-vV")
        .output()
        .context("running `rustc -vV`")?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("`rustc -vV` printed no host triple")
}

pub(crate) fn dist(
    plugins: &Plugins,
    target: Option<String>,
    version: Option<String>,
    out: &Path,
    cargo: &str,
    no_build: bool,
) -> Result<()> {
    let target = match target {
        Some(t) => t,
        None => host_target()?,
    };
    let platform: &Platform = plugins
        .platforms
        .iter()
        .find(|p| p.target == target)
        .with_context(|| format!("target `{target}` is not a platform in plugins.yaml"))?;
    let metadata = cargo_metadata()?;
    let package_versions: BTreeMap<&str, &str> = metadata
        .packages
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str()))
        .collect();
    let mut crate_version = None;
    for plugin in &plugins.plugins {
        let v = package_versions
            .get(plugin.package.as_str())
            .with_context(|| format!("package `{}` is not in the workspace", plugin.package))?;
        ensure!(
            crate_version.is_none_or(|c| c == *v),
            "the plugin packages disagree on their version"
        );
        crate_version = Some(*v);
    }
    let expected = format!("v{}", crate_version.context("no plugins")?);
    let version = version.unwrap_or_else(|| expected.clone());
    ensure!(
        version == expected,
        "version `{version}` differs from the packages' `{expected}`\n\n\
         hint: bump [workspace.package] version in Cargo.toml before tagging the release"
    );

    if !no_build {
        // One cargo call per plugin: features unify within a call, and the token plugin built
        // beside the others would compile the core with the Kubernetes client.
        for plugin in &plugins.plugins {
            let mut cmd = Command::new(cargo);
            cmd.args(["build", "--release", "--locked", "--target", &target]);
            cmd.args(["--package", &plugin.package]);
            eprintln!("running {cmd:?}");
            let status = cmd.status().with_context(|| format!("running `{cargo}`"))?;
            ensure!(status.success(), "`{cargo} build` failed ({status})");
        }
    }
    let bin_dir = metadata.target_directory.join(&target).join("release");
    let mtime = match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => s
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH `{s}` is not a number"))?,
        Err(_) => 0,
    };

    std::fs::create_dir_all(out).with_context(|| format!("creating `{}`", out.display()))?;
    let sums_path = out.join("checksums.txt");
    let mut sums = if sums_path.is_file() {
        read_sums(&sums_path)?
    } else {
        Checksums::default()
    };
    let mut lines = String::new();
    for plugin in &plugins.plugins {
        let bin_file = plugin.bin_file(platform);
        let bin_path = bin_dir.join(&bin_file);
        let bin = std::fs::read(&bin_path).with_context(|| {
            format!(
                "reading `{}`\n\nhint: build it (drop --no-build)",
                bin_path.display()
            )
        })?;
        let mut entries = vec![
            Entry {
                name: bin_file,
                mode: 0o755,
                data: bin,
            },
            Entry {
                name: plugin.completion_helper_file(platform),
                mode: 0o755,
                data: shim::completion_helper(plugin, platform).into_bytes(),
            },
        ];
        for extra in &plugins.extra_files {
            entries.push(Entry {
                name: extra.clone(),
                mode: 0o644,
                data: std::fs::read(extra).with_context(|| format!("reading `{extra}`"))?,
            });
        }
        let bytes = archive::pack(platform.format, &entries, mtime)?;
        let name = plugins.archive_name(plugin, platform, &version)?;
        let sum = sha256_hex(&bytes);
        write(&out.join(&name), &bytes)?;
        eprintln!(
            "packed {} ({} bytes)",
            out.join(&name).display(),
            bytes.len()
        );
        lines.push_str(&format!("{sum}  {name}\n"));
        sums.insert(name, sum);
    }
    write(&sums_path, sums.render().as_bytes())?;
    let manifests = manifest::render_all(plugins, &version, &sums, false)?;
    write_manifests(&manifests, &out.join("krew-manifests"))?;
    emit(&lines)
}
