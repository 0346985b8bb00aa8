//! `cargo xtask install-check`: a local stand-in for `kubectl krew install` of the rendered
//! manifests and archives, then the plugins run through kubectl.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, ensure};

use crate::read_to_string;
use xtask::install::{self, host_platform};
use xtask::manifest::Manifest;
use xtask::plugins::{Platform, Plugins};

pub(crate) fn install_check(
    plugins: &Plugins,
    manifests_dir: &Path,
    archives_dir: &Path,
    archives: &[PathBuf],
    keep: bool,
) -> Result<()> {
    let (os, arch) = host_platform();
    let krew_root = tempfile::Builder::new()
        .prefix("krew-root")
        .tempdir()
        .context("creating a temp KREW_ROOT")?;
    let bin_dir = krew_root.path().join("bin");
    for plugin in &plugins.plugins {
        let path = manifests_dir.join(format!("{}.yaml", plugin.name));
        let m = Manifest::parse(&read_to_string(&path)?)
            .with_context(|| format!("parsing `{}`", path.display()))?;
        let platform = install::matching_platform(&m, os, arch)
            .with_context(|| format!("`{}` has no platform for {os}/{arch}", path.display()))?;
        let archive_name = platform.uri.rsplit('/').next().unwrap_or_default();
        let archive = archives
            .iter()
            .find(|a| a.file_name().is_some_and(|f| f == archive_name))
            .cloned()
            .unwrap_or_else(|| archives_dir.join(archive_name));
        let installed =
            install::install(krew_root.path(), &m, &archive, (os, arch)).with_context(|| {
                format!("installing `{}` from `{}`", plugin.name, archive.display())
            })?;
        eprintln!(
            "installed {} {} from {}: {} -> {}",
            plugin.name,
            m.spec.version,
            archive.display(),
            installed.link.display(),
            installed.files.join(", ")
        );
        // krew links only `bin`; the caveats tell users to copy the completion helper once.
        let helper = plugin.completion_helper_file(platform_of(plugins, os, arch)?);
        let from = installed.install_dir.join(&helper);
        std::fs::copy(&from, bin_dir.join(&helper))
            .with_context(|| format!("copying `{}` into the krew bin dir", from.display()))?;
    }

    // Every check runs and reports; the command fails at the end if any failed.
    let mut failed = Vec::new();
    let path = search_path(&bin_dir, plugins)?;
    for plugin in &plugins.plugins {
        let out = kubectl(&path, &[&plugin.name, "--help"])?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if out.status.success() {
            let first = stdout.lines().next().unwrap_or_default();
            eprintln!("ok: kubectl {} --help: {first}", plugin.name);
        } else {
            eprintln!(
                "FAILED: kubectl {} --help ({}):\n{stdout}{}",
                plugin.name,
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            failed.push(format!("kubectl {} --help", plugin.name));
        }
    }

    let out = kubectl(&path, &["plugin", "list"])?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let missing: Vec<String> = plugins
        .plugins
        .iter()
        .map(|p| bin_dir.join(install::link_name(&p.name, os == "windows")))
        .filter(|link| !stdout.lines().any(|l| l.trim() == link.to_string_lossy()))
        .map(|link| link.display().to_string())
        .collect();
    if out.status.success() && missing.is_empty() {
        eprintln!(
            "ok: kubectl plugin list lists the {} plugins",
            plugins.plugins.len()
        );
    } else {
        eprintln!(
            "FAILED: kubectl plugin list ({}), missing [{}]:\n{stdout}{}",
            out.status,
            missing.join(", "),
            String::from_utf8_lossy(&out.stderr)
        );
        failed.push("kubectl plugin list".to_owned());
    }

    // kubectl resolves `kubectl eks-token <TAB>` to our helper: cobra's debug log names it.
    for plugin in &plugins.plugins {
        let debug = krew_root
            .path()
            .join(format!("complete-{}.log", plugin.name));
        let out = Command::new("kubectl")
            .args(["__complete", &plugin.name, ""])
            .env("PATH", &path)
            .env("BASH_COMP_DEBUG_FILE", &debug)
            .output()
            .context("running `kubectl __complete`")?;
        let log = std::fs::read_to_string(&debug).unwrap_or_default();
        let helper = bin_dir.join(plugin.completion_helper());
        let candidates = String::from_utf8_lossy(&out.stdout)
            .trim()
            .replace('\n', " ");
        // The plugin must answer with candidates (its subcommands), not only a directive: a
        // binary without `__complete` fails, and kubectl then prints just `:0`.
        let offered = String::from_utf8_lossy(&out.stdout)
            .lines()
            .any(|line| !line.is_empty() && !line.starts_with(':'));
        if !offered {
            eprintln!(
                "FAILED: `kubectl __complete {}` offered no candidates: {candidates}",
                plugin.name
            );
            failed.push(format!(
                "kubectl __complete {} (no candidates)",
                plugin.name
            ));
        } else if log.contains(&format!("About to call: {}", helper.display())) {
            eprintln!(
                "ok: kubectl __complete {} '' ran {}: {candidates}",
                plugin.name,
                helper.display()
            );
        } else {
            eprintln!(
                "FAILED: kubectl did not call `{}` to complete `kubectl {}`; its debug log:\n{log}",
                helper.display(),
                plugin.name
            );
            failed.push(format!("kubectl __complete {}", plugin.name));
        }
    }
    if keep {
        let kept = krew_root.keep();
        eprintln!("kept KREW_ROOT at {}", kept.display());
    }
    ensure!(failed.is_empty(), "failed: {}", failed.join("; "));
    Ok(())
}

fn platform_of<'p>(plugins: &'p Plugins, os: &str, arch: &str) -> Result<&'p Platform> {
    plugins
        .platform(os, arch)
        .with_context(|| format!("{os}/{arch} is not a platform in plugins.yaml"))
}

/// PATH for the check: the krew bin dir first, then the current PATH without directories that
/// hold another copy of these plugins (it would shadow nothing, but `kubectl plugin list` warns
/// and fails on overshadowed plugins).
fn search_path(bin_dir: &Path, plugins: &Plugins) -> Result<OsString> {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs = vec![bin_dir.to_owned()];
    for dir in std::env::split_paths(&current) {
        let clash = plugins.plugins.iter().any(|p| {
            dir.join(&p.binary).exists() || dir.join(format!("{}.exe", p.binary)).exists()
        });
        if clash {
            eprintln!(
                "note: leaving `{}` out of PATH: it holds another copy of the plugins",
                dir.display()
            );
        } else if !dirs.contains(&dir) {
            dirs.push(dir);
        }
    }
    std::env::join_paths(dirs).context("building PATH")
}

fn kubectl(path: &OsString, args: &[&str]) -> Result<std::process::Output> {
    Command::new("kubectl")
        .args(args)
        .env("PATH", path)
        .output()
        .with_context(|| {
            format!(
                "running `kubectl {}`\n\nhint: kubectl must be on PATH",
                args.join(" ")
            )
        })
}
