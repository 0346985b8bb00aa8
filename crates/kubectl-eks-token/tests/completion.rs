//! `--help`, `completion` and `__complete` as users meet them, directly and through real kubectl
//! with the completion helper the release archives ship.
//!
//! Hermetic: every run clears the environment and points HOME at a temp dir.

use std::path::Path;
use std::process::Output;

use kubectl_eks_test_support::{KubectlCompletion, ok, run_plugin, text};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_token");

/// Runs the plugin with a clean environment, HOME in `home`, help wrapped at 80 columns.
fn token(home: &Path, args: &[&str]) -> Output {
    run_plugin(BIN, home, args)
}

#[test]
fn top_level_help_reads_like_kubectl() {
    let home = tempfile::tempdir().unwrap();
    insta::assert_snapshot!("help", ok(&token(home.path(), &["--help"])));
}

#[test]
fn subcommand_usage_names_the_kubectl_command() {
    let home = tempfile::tempdir().unwrap();
    for (args, usage) in [
        (
            &["update-kubeconfig", "--help"][..],
            "Usage: kubectl eks-token update-kubeconfig --name NAME [flags]\n",
        ),
        (
            &["verify", "--help"],
            "Usage: kubectl eks-token verify TOKEN [--region R | --partition P] [flags]\n       \
             kubectl eks-token verify TOKEN --cluster-name NAME --resolve [flags]\n",
        ),
        (
            &["cache", "--help"],
            "Usage: kubectl eks-token cache list|clear\n",
        ),
        (
            &["cache", "list", "--help"],
            "Usage: kubectl eks-token cache list\n",
        ),
        (
            &["completion", "--help"],
            "Usage: kubectl-eks_token completion bash|zsh|fish\n",
        ),
    ] {
        let help = ok(&token(home.path(), args));
        assert!(help.contains(usage), "{args:?}:\n{help}");
        assert!(
            help.lines().all(|l| l.chars().count() <= 80),
            "{args:?}:\n{help}"
        );
    }
    let help = ok(&token(home.path(), &["update-kubeconfig", "--help"]));
    assert!(help.contains("\nExamples:\n"), "{help}");
    assert!(help.contains("--kubeconfig <PATH>"), "{help}");
    let help = ok(&token(home.path(), &["verify", "--help"]));
    assert!(help.contains("-o, --output <OUTPUT>"), "{help}");
    // Without a subcommand, --cluster-name is required; the error shows the kubectl usage.
    let out = token(home.path(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("Usage: kubectl eks-token --cluster-name NAME [flags]"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn completion_prints_scripts_for_the_binary() {
    let home = tempfile::tempdir().unwrap();
    let bash = ok(&token(home.path(), &["completion", "bash"]));
    assert!(
        bash.contains(
            "complete -F _kubectl__eks_token -o nosort -o bashdefault -o default kubectl-eks_token"
        ),
        "{bash}"
    );
    let zsh = ok(&token(home.path(), &["completion", "zsh"]));
    assert!(zsh.starts_with("#compdef kubectl-eks_token\n"), "{zsh}");
    let fish = ok(&token(home.path(), &["completion", "fish"]));
    assert!(fish.contains("-l cluster-name"), "{fish}");
}

const SUBCOMMANDS: &str = "\
update-kubeconfig\tAdd or update the cluster, user and context in a kubeconfig (like `aws eks update-kubeconfig`)
adopt\tMove kubeconfig users from `aws eks get-token` or `aws-iam-authenticator` onto this plugin
verify\tCheck a token as the EKS authenticator would, and optionally ask STS whose it is
cache\tInspect or clear the token cache
completion\tPrint a completion script for kubectl-eks_token run directly (bash, zsh or fish)
help\tPrint this message or the help of the given subcommand(s)
:4
";

/// HOME with `~/.aws/config` and `~/.aws/credentials`.
fn aws_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[default]\nregion = eu-west-1\n[profile admin]\nrole_arn = arn:aws:iam::111122223333:role/EksAdmin\nsource_profile = default\n[sso-session corp]\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIDEXAMPLE\n",
    )
    .unwrap();
    home
}

#[test]
fn complete_directly() {
    let home = aws_home();
    let h = home.path();
    assert_eq!(ok(&token(h, &["__complete", ""])), SUBCOMMANDS);
    assert_eq!(
        ok(&token(h, &["__complete", "--cluster-name", "demo", ""])),
        ":4\n"
    );
    assert_eq!(
        ok(&token(
            h,
            &["__complete", "--cluster-name", "demo", "--pro"]
        )),
        "--profile\tProfile from the shared AWS config and credentials files (default: AWS_PROFILE)\n:4\n"
    );
    assert_eq!(
        ok(&token(h, &["__complete", "--profile", ""])),
        "default\t~/.aws/config, ~/.aws/credentials\nadmin\t~/.aws/config\n:4\n"
    );
    assert_eq!(
        ok(&token(
            h,
            &["__complete", "update-kubeconfig", "--region", "cn-"]
        )),
        "cn-north-1\tChina (Beijing)\ncn-northwest-1\tChina (Ningxia)\n:4\n"
    );
    assert_eq!(
        ok(&token(
            h,
            &["__complete", "update-kubeconfig", "--kubeconfig", ""]
        )),
        ":0\n"
    );
    assert_eq!(
        ok(&token(h, &["__complete", "verify", "-o", ""])),
        "text\njson\n:4\n"
    );
    assert_eq!(
        ok(&token(h, &["__complete", "cache", ""])),
        "list\tList cached tokens: key, cluster, region, profile, role and expiry (never the token)\n\
         clear\tRemove every cached token\n\
         help\tPrint this message or the help of the given subcommand(s)\n\
         :4\n"
    );
    // Completion never signs, never writes the cache.
    assert!(!h.join(".kube").exists());
}

#[test]
fn kubectl_completes_the_plugin_through_the_helper() {
    let home = aws_home();
    let bin = tempfile::tempdir().unwrap();
    let installed = KubectlCompletion::install(bin.path(), BIN, "kubectl-eks_token");
    let kubectl = |args: &[&str]| installed.complete(home.path(), None, args);
    assert_eq!(kubectl(&["eks-token", ""]), SUBCOMMANDS);
    assert_eq!(
        kubectl(&["eks-token", "--cluster-name", "demo", "--profile", "a"]),
        "admin\t~/.aws/config\n:4\n"
    );
    assert_eq!(
        kubectl(&["eks-token", "update-kubeconfig", "--region=eu-west-"]),
        "eu-west-1\tEurope (Ireland)\neu-west-2\tEurope (London)\neu-west-3\tEurope (Paris)\n:4\n"
    );
}
