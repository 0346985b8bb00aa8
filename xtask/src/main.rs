//! `cargo xtask`: krew manifests, release archives and the krew install check (docs/krew.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use xtask::checksums::Checksums;
use xtask::manifest;
use xtask::plugins::Plugins;
use xtask::workspace_root;

/// One module per command; the library (lib.rs) holds what they compute.
mod cmd {
    pub mod dist;
    pub mod install_check;
    pub mod manifests;
}

use cmd::dist::dist;
use cmd::install_check::install_check;
use cmd::manifests::{check_manifests, sum_archives, validate_files, write_manifests};

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
