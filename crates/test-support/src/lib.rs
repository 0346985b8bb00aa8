//! What the three plugins' CLI and completion tests share (a dev-dependency only): running a
//! plugin binary hermetically, and running real kubectl with the completion helper the release
//! archives ship; in [`cli`], the unit tests of each plugin's clap definitions.

pub mod cli;

#[cfg(unix)]
use std::ffi::OsString;
#[cfg(unix)]
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Bytes as text (lossy).
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// stdout of a run that must have succeeded; otherwise fails the test showing both streams.
#[track_caller]
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a plugin binary with a clean environment (no AWS_*, KUBECONFIG, KUBERNETES_EXEC_INFO),
/// HOME in `home`, help wrapped at 80 columns, stdin closed.
pub fn run_plugin(bin: &str, home: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .env_clear()
        .env("HOME", home)
        .env("COLUMNS", "80")
        .stdin(Stdio::null())
        .args(args)
        .output()
        .unwrap()
}

/// The directory holding `kubectl` on this machine's PATH.
pub fn kubectl_dir() -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").expect("PATH"))
        .find(|dir| dir.join("kubectl").is_file())
        .expect("kubectl on PATH (the end-to-end tests need it too)")
}

/// What the release archives ship as `kubectl_complete-eks_NAME` (xtask `shim.rs`,
/// docs/krew.md) for the binary `kubectl-eks_NAME`.
pub fn completion_helper(binary: &str) -> String {
    format!("#!/bin/sh\nexec {binary} __complete \"$@\"\n")
}

/// A PATH holding the plugin (as `binary`, a link to `bin`), its completion helper, and kubectl.
/// Unix only, like the completion helper script it runs.
#[cfg(unix)]
#[derive(Debug)]
pub struct KubectlCompletion {
    path: OsString,
    helper: PathBuf,
}

#[cfg(unix)]
impl KubectlCompletion {
    /// Installs the plugin and its helper into `dir` (which must exist).
    pub fn install(dir: &Path, bin: &str, binary: &str) -> KubectlCompletion {
        std::os::unix::fs::symlink(bin, dir.join(binary)).unwrap();
        let name = binary
            .strip_prefix("kubectl-")
            .expect("a kubectl plugin binary");
        let helper = dir.join(format!("kubectl_complete-{name}"));
        std::fs::write(&helper, completion_helper(binary)).unwrap();
        std::fs::set_permissions(&helper, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = std::env::join_paths([dir.to_path_buf(), kubectl_dir()]).unwrap();
        KubectlCompletion { path, helper }
    }

    /// `kubectl __complete ARGS` with HOME in `home` (and `KUBECONFIG` when given); fails the
    /// test unless kubectl ran the helper (without it the test proves nothing). Its stdout.
    pub fn complete(&self, home: &Path, kubeconfig: Option<&Path>, args: &[&str]) -> String {
        let mut cmd = Command::new("kubectl");
        cmd.env_clear().env("PATH", &self.path).env("HOME", home);
        if let Some(kubeconfig) = kubeconfig {
            cmd.env("KUBECONFIG", kubeconfig);
        }
        let out = cmd.arg("__complete").args(args).output().unwrap();
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains(&format!("About to call: {}", self.helper.display())),
            "{stderr}"
        );
        ok(&out)
    }
}

/// A kubeconfig (JSON) with one context, named `cluster` like `aws eks update-kubeconfig` names
/// it, whose user `user` runs `command args` as its exec credential plugin with `env`.
pub fn exec_kubeconfig(
    server: &str,
    ca_file: &Path,
    cluster: &str,
    user: &str,
    command: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> String {
    let env: Vec<serde_json::Value> = env
        .iter()
        .map(|(name, value)| serde_json::json!({"name": name, "value": value}))
        .collect();
    let config = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": server,
            "certificate-authority": ca_file.display().to_string(),
        }}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
        "current-context": cluster,
        "users": [{"name": user, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": command,
            "args": args,
            "env": env,
            "interactiveMode": "Never",
        }}}],
    });
    serde_json::to_string_pretty(&config).unwrap()
}
