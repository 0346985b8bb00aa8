//! `cargo xtask`: krew manifests, release archives and the krew install check (docs/krew.md).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, Subcommand};

use xtask::archive::{self, Entry};
use xtask::checksums::{Checksums, sha256_hex};
use xtask::install::{self, host_platform};
use xtask::manifest::{self, Manifest};
use xtask::plugins::{Platform, Plugins};
use xtask::shim;
use xtask::validate;
use xtask::workspace_root;

#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    about = "kubectl-eks project tasks (docs/krew.md)"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Render krew-manifests/<name>.yaml from plugins.yaml, a version and the archives' sums.
    Manifests {
        /// The release version, v-prefixed: v0.1.0.
        #[arg(long)]
        version: String,
        /// Sums in sha256sum format (`<sha256>  <archive>` per line).
        #[arg(
            long,
            conflicts_with = "archives",
            required_unless_present = "archives"
        )]
        sha256_file: Option<PathBuf>,
        /// Compute the sums of the archives in this directory instead.
        #[arg(long)]
        archives: Option<PathBuf>,
        /// With --archives: also write the sums there, in sha256sum format.
        #[arg(long, requires = "archives")]
        sums_out: Option<PathBuf>,
        /// Fail unless every platform of plugins.yaml has a sum (the release workflow's mode).
        #[arg(long)]
        all_platforms: bool,
        /// Output directory.
        #[arg(long, default_value = "krew-manifests")]
        out: PathBuf,
        /// Compare with what is in --out instead of writing; fail when they differ.
        #[arg(long)]
        check: bool,
    },
    /// Check manifests against krew's validation rules (default: krew-manifests/*.yaml).
    Validate { files: Vec<PathBuf> },
    /// Build the release binaries for one target and pack them into krew archives.
    Dist {
        /// Rust target triple listed in plugins.yaml (default: this machine's).
        #[arg(long)]
        target: Option<String>,
        /// Release version for the archive names (default: v + the workspace version).
        #[arg(long)]
        version: Option<String>,
        /// Output directory for archives, checksums.txt and krew-manifests/.
        #[arg(long, default_value = "dist")]
        out: PathBuf,
        /// The cargo to build with (`cross` for the release workflow's cross builds).
        #[arg(long, default_value = "cargo")]
        cargo: String,
        /// Pack the binaries already built instead of running the build.
        #[arg(long)]
        no_build: bool,
    },
    /// Install the archives as `kubectl krew install --manifest --archive` would, into a temp
    /// KREW_ROOT, and run the plugins through real kubectl.
    InstallCheck {
        /// Manifests to install (one <name>.yaml per plugin).
        #[arg(long, default_value = "dist/krew-manifests")]
        manifests: PathBuf,
        /// Directory holding the archives named by the manifests' URIs.
        #[arg(long, default_value = "dist")]
        archives: PathBuf,
        /// An archive to use instead (repeatable); matched to a manifest by file name.
        #[arg(long)]
        archive: Vec<PathBuf>,
        /// Keep the temp KREW_ROOT and print its path.
        #[arg(long)]
        keep: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let root = workspace_root();
    std::env::set_current_dir(&root)
        .with_context(|| format!("entering the workspace `{}`", root.display()))?;
    let plugins = load_plugins(&root)?;
    match cli.command {
        Cmd::Manifests {
            version,
            sha256_file,
            archives,
            sums_out,
            all_platforms,
            out,
            check,
        } => {
            let sums = match (sha256_file, archives) {
                (Some(file), _) => read_sums(&file)?,
                (None, Some(dir)) => {
                    let sums = sum_archives(&plugins, &version, &dir)?;
                    if let Some(path) = sums_out {
                        write(&path, sums.render().as_bytes())?;
                    }
                    sums
                }
                (None, None) => unreachable!("clap requires one of them"),
            };
            let manifests = manifest::render_all(&plugins, &version, &sums, all_platforms)?;
            if check {
                check_manifests(&manifests, &out)
            } else {
                write_manifests(&manifests, &out)
            }
        }
        Cmd::Validate { files } => validate_files(files),
        Cmd::Dist {
            target,
            version,
            out,
            cargo,
            no_build,
        } => dist(&plugins, target, version, &out, &cargo, no_build),
        Cmd::InstallCheck {
            manifests,
            archives,
            archive,
            keep,
        } => install_check(&plugins, &manifests, &archives, &archive, keep),
    }
}

fn load_plugins(root: &Path) -> Result<Plugins> {
    let path = root.join("plugins.yaml");
    let text = read_to_string(&path)?;
    Plugins::parse(&text).with_context(|| format!("reading `{}`", path.display()))
}

fn read_to_string(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("reading `{}`", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating `{}`", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("writing `{}`", path.display()))
}

fn read_sums(path: &Path) -> Result<Checksums> {
    Checksums::parse(&read_to_string(path)?)
        .with_context(|| format!("reading `{}`", path.display()))
}

/// Writes data lines to stdout; a closed pipe is not an error.
fn emit(lines: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(lines.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e).context("writing stdout"),
        _ => Ok(()),
    }
}

/// Sums of the archives in `dir` that plugins.yaml names for `version`.
fn sum_archives(plugins: &Plugins, version: &str, dir: &Path) -> Result<Checksums> {
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

fn write_manifests(manifests: &[Manifest], out: &Path) -> Result<()> {
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

fn check_manifests(manifests: &[Manifest], out: &Path) -> Result<()> {
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

fn validate_files(mut files: Vec<PathBuf>) -> Result<()> {
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

// ---------------------------------------------------------------------------------------------
// dist

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

fn dist(
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

// ---------------------------------------------------------------------------------------------
// install-check

fn install_check(
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
