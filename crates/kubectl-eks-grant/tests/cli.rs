//! The command line as users meet it: `--help`, `completion`, and `__complete` both directly and
//! through real kubectl with the completion helper the release archives ship.
//!
//! Hermetic: every run clears the environment and points HOME (and KUBECONFIG where it matters)
//! at a temp dir.

use std::path::Path;
use std::process::{Command, Output};

use kubectl_eks_test_support::{KubectlCompletion, ok, run_plugin, text};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_grant");

/// Runs the plugin binary with a clean environment, HOME in `home`, help wrapped at 80 columns.
fn grant(home: &Path, args: &[&str]) -> Output {
    run_plugin(BIN, home, args)
}

#[test]
fn top_level_help_reads_like_kubectl() {
    let home = tempfile::tempdir().unwrap();
    let help = ok(&grant(home.path(), &["--help"]));
    insta::assert_snapshot!("help", help);
}

#[test]
fn subcommand_usage_names_the_kubectl_command() {
    let home = tempfile::tempdir().unwrap();
    for (sub, usage) in [
        ("add", "Usage: kubectl eks-grant add ARN [flags]\n"),
        ("list", "Usage: kubectl eks-grant list [flags]\n"),
        ("revoke", "Usage: kubectl eks-grant revoke ARN [flags]\n"),
        ("check", "Usage: kubectl eks-grant check ARN [flags]\n"),
        ("presets", "Usage: kubectl eks-grant presets [flags]\n"),
        ("undo", "Usage: kubectl eks-grant undo [flags]\n"),
        (
            "completion",
            "Usage: kubectl-eks_grant completion bash|zsh|fish\n",
        ),
    ] {
        let help = ok(&grant(home.path(), &[sub, "--help"]));
        assert!(help.contains(usage), "{sub}:\n{help}");
        assert!(
            help.contains("\nExamples:\n") || sub == "completion",
            "{sub}:\n{help}"
        );
        assert!(help.contains("--kubeconfig <PATH>"), "{sub}:\n{help}");
        assert!(help.contains("--context <NAME>"), "{sub}:\n{help}");
        assert!(help.contains("-o, --output <OUTPUT>"), "{sub}:\n{help}");
        // Examples fit an 80-column terminal without clap re-wrapping them.
        assert!(
            help.lines().all(|l| l.chars().count() <= 80),
            "{sub}:\n{help}"
        );
    }
    // A usage error points at the kubectl spelling too.
    let out = grant(home.path(), &["add"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("Usage: kubectl eks-grant add ARN [flags]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn completion_prints_scripts_for_the_binary() {
    let home = tempfile::tempdir().unwrap();
    let bash = ok(&grant(home.path(), &["completion", "bash"]));
    assert!(
        bash.contains(
            "complete -F _kubectl__eks_grant -o nosort -o bashdefault -o default kubectl-eks_grant"
        ),
        "{bash}"
    );
    assert!(
        bash.contains("add list revoke check presets undo migrate completion help"),
        "{bash}"
    );
    let zsh = ok(&grant(home.path(), &["completion", "zsh"]));
    assert!(zsh.starts_with("#compdef kubectl-eks_grant\n"), "{zsh}");
    let fish = ok(&grant(home.path(), &["completion", "fish"]));
    assert!(
        fish.contains("complete -c kubectl-eks_grant -n \"__fish_kubectl_eks_grant_needs_command\" -f -a \"add\""),
        "{fish}"
    );
    let out = grant(home.path(), &["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

const SUBCOMMANDS: &str = "\
add\tMap an IAM user or role in aws-auth, and with --preset bind its group to a role
list\tEvery mapping of aws-auth, with shadowed duplicates, unmatchable ARNs and each group's bindings
revoke\tRemove every aws-auth entry for an ARN, and RBAC objects eks-grant made that nothing uses any more
check\tWhat an ARN may do in the cluster, as the API server decides it (no impersonation)
presets\tThe presets of `add --preset` and their rules
undo\tRevert the last change made by eks-grant: aws-auth as it was (byte for byte), and its RBAC objects
migrate\tMove aws-auth's entries to EKS access entries, one mode step at a time, nobody locked out
completion\tPrint a completion script for kubectl-eks_grant run directly (bash, zsh or fish)
help\tPrint this message or the help of the given subcommand(s)
:4
";

const PRESETS: &str = "\
cluster-reader\tget, list and watch every resource in the \"\", extensions, apps and all other API groups, cluster-wide (the usual blog recipe's ClusterRole)
cluster-reader-no-secrets\tget, list and watch every built-in resource of Kubernetes 1.33 except Secrets, cluster-wide, plus pods/log and the status and scale subresources
view\tthe built-in view ClusterRole: read most namespaced objects, but not Secrets, Roles or RoleBindings
edit\tthe built-in edit ClusterRole: create, change and delete most namespaced objects, including Secrets and pods/exec, but not Roles or RoleBindings
admin\tthe built-in admin ClusterRole: edit plus Roles and RoleBindings, to delegate access within a namespace
cluster-admin\tthe built-in cluster-admin ClusterRole: every verb on every resource and non-resource URL, cluster-wide
:4
";

#[test]
fn complete_directly() {
    let home = tempfile::tempdir().unwrap();
    assert_eq!(ok(&grant(home.path(), &["__complete", ""])), SUBCOMMANDS);
    assert_eq!(
        ok(&grant(home.path(), &["__complete", "add", "--preset", ""])),
        PRESETS
    );
    assert_eq!(
        ok(&grant(home.path(), &["__complete", "list", "-o", "y"])),
        "yaml\tOne YAML document\n:4\n"
    );
    assert_eq!(
        ok(&grant(home.path(), &["__complete", "--kubeconfig", ""])),
        ":0\n"
    );
    std::fs::create_dir(home.path().join(".kube")).unwrap();
    std::fs::write(
        home.path().join(".kube/config"),
        "current-context: prod\ncontexts:\n- name: prod\n  context: {cluster: prod-eks}\n- name: dev\n",
    )
    .unwrap();
    assert_eq!(
        ok(&grant(
            home.path(),
            &["__complete", "check", "--context", ""]
        )),
        "prod\tcurrent context, cluster prod-eks\ndev\n:4\n"
    );
    // Nothing else on stderr: kubectl would show it in the middle of the prompt.
    assert_eq!(
        text(&grant(home.path(), &["__complete", "add", "--context=d"]).stderr),
        ""
    );
}

/// The directory holding `kubectl` on this machine's PATH.

#[test]
fn kubectl_completes_the_plugin_through_the_helper() {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(home.join(".kube")).unwrap();
    let installed = KubectlCompletion::install(&bin, BIN, "kubectl-eks_grant");
    let kubeconfig = tmp.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "contexts:\n- name: staging\n  context: {cluster: staging-eks}\n",
    )
    .unwrap();
    let kubectl = |args: &[&str]| installed.complete(&home, Some(&kubeconfig), args);

    assert_eq!(kubectl(&["eks-grant", ""]), SUBCOMMANDS);
    assert_eq!(kubectl(&["eks-grant", "add", "--preset", ""]), PRESETS);
    assert_eq!(
        kubectl(&[
            "eks-grant",
            "add",
            "arn:aws:iam::111122223333:user/bob",
            "--preset",
            "cl"
        ]),
        PRESETS
            .lines()
            .filter(|l| l.starts_with("cl") || l.starts_with(':'))
            .map(|l| format!("{l}\n"))
            .collect::<String>()
    );
    // The environment reaches the plugin: KUBECONFIG names the contexts.
    assert_eq!(
        kubectl(&["eks-grant", "revoke", "--context", ""]),
        "staging\tcluster staging-eks\n:4\n"
    );
    assert_eq!(
        kubectl(&["eks-grant", "-"]),
        "--kubeconfig\tPath to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`)\n\
         --context\tThe kubeconfig context to use (default: the current context)\n\
         --cluster\tThe kubeconfig cluster to use (default: the context's)\n\
         --user\tThe kubeconfig user to use (default: the context's)\n\
         --request-timeout\tHow long to wait for one server request: `0` (no limit), or a duration (`30s`, `1m`, `1m30s`; a bare number is seconds)\n\
         --output\tOutput format\n\
         -o\tOutput format\n\
         --backend\tWhere mappings are kept: auto, aws-auth or access-entries\n\
         --cluster-name\tEKS cluster name for access entries (default: the context's cluster ARN or exec stanza)\n\
         --region\tAWS region of the cluster (default: the context's cluster ARN or exec stanza, else the AWS config)\n\
         --profile\tAWS profile for the EKS calls, used as is (default: the exec stanza's, with its --role-arn)\n\
         --help\tPrint help\n\
         -h\tPrint help\n\
         --version\tPrint version\n\
         -V\tPrint version\n\
         :4\n"
    );
}

/// issue 15: a credential plugin that is not installed is named once, with how to get it,
/// before any request (it used to be "auth error: unable to run auth exec: No such file or
/// directory (os error 2)", once per request).
#[test]
fn a_missing_credential_plugin_is_named_with_a_hint() {
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("kubeconfig");
    std::fs::write(
        &config,
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n\
         clusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\n\
         contexts: [{name: c, context: {cluster: c, user: u}}]\n\
         users: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, \
         command: kubectl-eks_token, args: [--cluster-name, demo]}}}]\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .env_clear()
        .env("HOME", home.path())
        .env("PATH", home.path())
        .args(["list", "--kubeconfig", config.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert_eq!(
        text(&out.stderr),
        "error: the credential plugin `kubectl-eks_token` of context `c` was not found on PATH\n\n\
         hint: install it with `kubectl krew install kubectl-eks/eks-token`, or add the directory \
         that holds `kubectl-eks_token` to PATH\n"
    );
}
