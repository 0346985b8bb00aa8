//! `--help`, `completion` and `__complete` as users meet them, directly and through real kubectl
//! with the completion helper the release archives ship.
//!
//! Hermetic: every run clears the environment and points HOME (and KUBECONFIG) at a temp dir.

use std::path::{Path, PathBuf};
use std::process::Output;

use kubectl_eks_test_support::{KubectlCompletion, ok, run_plugin, text};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_whoami");

/// Runs the plugin with a clean environment, HOME in `home`, help wrapped at 80 columns.
fn whoami(home: &Path, args: &[&str]) -> Output {
    run_plugin(BIN, home, args)
}

#[test]
fn top_level_help_reads_like_kubectl() {
    let home = tempfile::tempdir().unwrap();
    let help = ok(&whoami(home.path(), &["--help"]));
    assert!(help.lines().all(|l| l.chars().count() <= 80), "{help}");
    insta::assert_snapshot!("help", help);
}

#[test]
fn usage_errors_and_completion_help_name_the_kubectl_command() {
    let home = tempfile::tempdir().unwrap();
    let out = whoami(home.path(), &["-n", "team-a"]);
    // 64, not 2: 2 means "not authenticated" (issue 15; README, "Exit status").
    assert_eq!(out.status.code(), Some(64));
    assert!(
        text(&out.stderr).contains("Usage: kubectl eks-whoami [--all [-n NS]] [flags]"),
        "{}",
        text(&out.stderr)
    );
    let help = ok(&whoami(home.path(), &["completion", "--help"]));
    assert!(
        help.contains("Usage: kubectl-eks_whoami completion bash|zsh|fish\n"),
        "{help}"
    );
    assert!(
        help.contains("executable `kubectl_complete-eks_whoami` from PATH"),
        "{help}"
    );
}

#[test]
fn completion_prints_scripts_for_the_binary() {
    let home = tempfile::tempdir().unwrap();
    let bash = ok(&whoami(home.path(), &["completion", "bash"]));
    assert!(
        bash.contains(
            "complete -F _kubectl__eks_whoami -o nosort -o bashdefault -o default kubectl-eks_whoami"
        ),
        "{bash}"
    );
    assert!(bash.contains("table json yaml"), "{bash}");
    let zsh = ok(&whoami(home.path(), &["completion", "zsh"]));
    assert!(zsh.starts_with("#compdef kubectl-eks_whoami\n"), "{zsh}");
    let fish = ok(&whoami(home.path(), &["completion", "fish"]));
    assert!(fish.contains("-l all"), "{fish}");
}

const FLAGS: &str = "\
--all\tAlso list the RBAC bindings that apply and the effective permissions
--namespace\tWith --all: the permissions in this namespace (cluster-wide rules included) instead of the cluster-wide ones
-n\tWith --all: the permissions in this namespace (cluster-wide rules included) instead of the cluster-wide ones
--kubeconfig\tPath to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`)
--context\tThe kubeconfig context to use (default: the current context)
--cluster\tThe kubeconfig cluster to use (default: the context's)
--user\tThe kubeconfig user to use (default: the context's)
--request-timeout\tHow long to wait for one server request: `0` (no limit), or a duration (`30s`, `1m`, `1m30s`; a bare number is seconds)
--output\tOutput format
-o\tOutput format
--help\tPrint help
-h\tPrint help
--version\tPrint version
-V\tPrint version
:4
";

/// A temp dir holding HOME and a kubeconfig with two contexts.
fn sandbox() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("home")).unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: prod\ncontexts:\n\
         - name: prod\n  context: {cluster: arn:aws:eks:eu-west-1:111122223333:cluster/prod, user: u}\n\
         - name: dev\n  context: {cluster: dev, user: u}\n",
    )
    .unwrap();
    (dir, kubeconfig)
}

const CONTEXTS: &str = "\
prod\tcurrent context, cluster arn:aws:eks:eu-west-1:111122223333:cluster/prod
dev\tcluster dev
:4
";

#[test]
fn complete_directly() {
    let (dir, kubeconfig) = sandbox();
    let home = dir.path().join("home");
    assert_eq!(
        ok(&whoami(&home, &["__complete", ""])),
        "completion\tPrint a completion script for kubectl-eks_whoami run directly (bash, zsh or fish)\n:4\n"
    );
    assert_eq!(ok(&whoami(&home, &["__complete", "--all", ""])), ":4\n");
    assert_eq!(ok(&whoami(&home, &["__complete", "-"])), FLAGS);
    assert_eq!(
        ok(&whoami(
            &home,
            &[
                "__complete",
                "--kubeconfig",
                kubeconfig.to_str().unwrap(),
                "--context",
                ""
            ]
        )),
        CONTEXTS
    );
    assert_eq!(
        ok(&whoami(&home, &["__complete", "--all", "-o", "j"])),
        "json\tOne JSON document\n:4\n"
    );
}

#[test]
fn kubectl_completes_the_plugin_through_the_helper() {
    let (dir, kubeconfig) = sandbox();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let installed = KubectlCompletion::install(&bin, BIN, "kubectl-eks_whoami");
    let home = dir.path().join("home");
    let kubectl = |args: &[&str]| installed.complete(&home, Some(&kubeconfig), args);
    assert_eq!(kubectl(&["eks-whoami", "-"]), FLAGS);
    assert_eq!(kubectl(&["eks-whoami", "--all", "--context", ""]), CONTEXTS);
    assert_eq!(
        kubectl(&["eks-whoami", "--context=d"]),
        "dev\tcluster dev\n:4\n"
    );
}
