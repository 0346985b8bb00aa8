//! The krew install stand-in, on archives packed from stand-in plugin binaries (shell scripts), so
//! that it runs without a release build: the library installs them as krew would, and
//! `cargo xtask install-check` drives them through real kubectl, completion included.

#![cfg(unix)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::archive::{Entry, pack};
use xtask::checksums::{Checksums, sha256_hex};
use xtask::install::{InstallError, host_platform, install};
use xtask::manifest::{Manifest, render_all};
use xtask::plugins::{Plugin, Plugins};
use xtask::shim;
use xtask::workspace_root;

const VERSION: &str = "v0.1.0";

fn plugins() -> Plugins {
    Plugins::parse(&fs::read_to_string(workspace_root().join("plugins.yaml")).unwrap()).unwrap()
}

/// A stand-in plugin: `--help` prints a usage line, `__complete` answers like cobra.
fn fake_binary(plugin: &Plugin) -> Vec<u8> {
    format!(
        "#!/bin/sh\n\
         if [ \"$1\" = __complete ]; then shift; echo \"alpha\"; echo \"beta-$#-$1\"; echo ':4'; exit 0; fi\n\
         echo 'Usage: kubectl {} [flags]'\n",
        plugin.name
    )
    .into_bytes()
}

/// Packs one archive per plugin for this machine into `dir/archives` and renders the manifests
/// with their sums into `dir/manifests`, as `cargo xtask dist` does.
fn fake_dist(dir: &Path, extra_files: bool) -> Vec<Manifest> {
    let plugins = plugins();
    let (os, arch) = host_platform();
    let platform = plugins
        .platform(os, arch)
        .expect("host is a released platform");
    let archives = dir.join("archives");
    fs::create_dir_all(&archives).unwrap();
    let mut sums = Checksums::default();
    for plugin in &plugins.plugins {
        let mut entries = vec![
            Entry {
                name: plugin.bin_file(platform),
                mode: 0o755,
                data: fake_binary(plugin),
            },
            Entry {
                name: plugin.completion_helper_file(platform),
                mode: 0o755,
                data: shim::completion_helper(plugin, platform).into_bytes(),
            },
        ];
        if extra_files {
            for f in &plugins.extra_files {
                entries.push(Entry {
                    name: f.clone(),
                    mode: 0o644,
                    data: fs::read(workspace_root().join(f)).unwrap(),
                });
            }
        }
        let bytes = pack(platform.format, &entries, 0).unwrap();
        let name = plugins.archive_name(plugin, platform, VERSION).unwrap();
        sums.insert(name.clone(), sha256_hex(&bytes));
        fs::write(archives.join(name), bytes).unwrap();
    }
    let manifests = render_all(&plugins, VERSION, &sums, false).unwrap();
    let out = dir.join("manifests");
    fs::create_dir_all(&out).unwrap();
    for m in &manifests {
        fs::write(out.join(format!("{}.yaml", m.metadata.name)), m.to_yaml()).unwrap();
    }
    manifests
}

fn archive_of(dir: &Path, m: &Manifest) -> PathBuf {
    let (os, arch) = host_platform();
    let p = xtask::install::matching_platform(m, os, arch).unwrap();
    dir.join("archives").join(p.uri.rsplit('/').next().unwrap())
}

#[test]
fn installs_like_krew_into_store_and_bin() {
    let dir = tempfile::tempdir().unwrap();
    let manifests = fake_dist(dir.path(), true);
    let krew_root = dir.path().join("krew");
    let m = &manifests[0];
    assert_eq!(m.metadata.name, "eks-token");
    let installed = install(&krew_root, m, &archive_of(dir.path(), m), host_platform()).unwrap();
    assert_eq!(
        installed.install_dir,
        krew_root.join("store/eks-token/v0.1.0")
    );
    assert_eq!(
        installed.files,
        [
            "LICENSE",
            "README.md",
            "kubectl-eks_token",
            "kubectl_complete-eks_token"
        ]
    );
    assert_eq!(installed.link, krew_root.join("bin/kubectl-eks_token"));
    assert_eq!(
        fs::read_link(&installed.link).unwrap(),
        Path::new("../store/eks-token/v0.1.0/kubectl-eks_token")
    );
    let out = Command::new(&installed.link)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(out.stdout, b"Usage: kubectl eks-token [flags]\n");
}

#[test]
fn refuses_an_archive_whose_sum_differs() {
    let dir = tempfile::tempdir().unwrap();
    let mut manifests = fake_dist(dir.path(), true);
    let m = &mut manifests[1];
    let archive = archive_of(dir.path(), m);
    let actual = sha256_hex(&fs::read(&archive).unwrap());
    for p in &mut m.spec.platforms {
        p.sha256 = "0".repeat(64);
    }
    let err = install(&dir.path().join("krew"), m, &archive, host_platform()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "sha256 of `{}` is {actual}, the manifest says {}\n\n\
             hint: rebuild with `cargo xtask dist` or render the manifests from this archive's sums",
            archive.display(),
            "0".repeat(64)
        )
    );
}

#[test]
fn refuses_an_installation_without_license() {
    // Without `files` krew copies the whole archive; this one has no LICENSE in it.
    let dir = tempfile::tempdir().unwrap();
    let mut manifests = fake_dist(dir.path(), false);
    let m = &mut manifests[2];
    for p in &mut m.spec.platforms {
        p.files = None;
    }
    let err = install(
        &dir.path().join("krew"),
        m,
        &archive_of(dir.path(), m),
        host_platform(),
    )
    .unwrap_err();
    assert!(matches!(err, InstallError::NoLicense { .. }), "{err}");
    assert_eq!(
        err.to_string(),
        "`eks-grant` installs no license file; installed: kubectl-eks_grant, kubectl_complete-eks_grant"
    );
}

#[test]
fn install_check_runs_the_plugins_and_their_completion_through_kubectl() {
    let dir = tempfile::tempdir().unwrap();
    fake_dist(dir.path(), true);
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("install-check")
        .arg("--manifests")
        .arg(dir.path().join("manifests"))
        .arg("--archives")
        .arg(dir.path().join("archives"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for name in ["eks-token", "eks-whoami", "eks-grant"] {
        let help = format!("ok: kubectl {name} --help: Usage: kubectl {name} [flags]\n");
        assert!(stderr.contains(&help), "missing `{help}` in:\n{stderr}");
        // kubectl ran our helper with the one (empty) word, which ran the plugin's __complete.
        let helper = format!(
            "/bin/kubectl_complete-{}: alpha beta-1- :4\n",
            name.replace('-', "_")
        );
        assert!(stderr.contains(&helper), "missing `{helper}` in:\n{stderr}");
    }
    assert!(
        stderr.contains("ok: kubectl plugin list lists the 3 plugins\n"),
        "{stderr}"
    );
}
