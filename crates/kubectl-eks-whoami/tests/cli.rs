//! The command line's outcomes and their exit statuses (README, "Exit status"), hermetic: every
//! run clears the environment, HOME in a temp dir, no network (IMDS off, every failure happens
//! before a request leaves the machine).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kubectl_eks_test_support::text;
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_whoami");
const CLUSTER_ARN: &str = "arn:aws:eks:us-east-1:123456789012:cluster/demo";

fn whoami(home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_clear()
        .env("HOME", home)
        .env("PATH", "/usr/bin:/bin")
        .env("NO_COLOR", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(args)
        .output()
        .unwrap()
}

/// A kubeconfig whose user runs `command args` with `env`, for a server nobody listens on.
fn kubeconfig(home: &Path, command: &str, args: &[&str], env: &[(&str, &str)]) -> PathBuf {
    let env: Vec<Value> = env
        .iter()
        .map(|(k, v)| json!({"name": k, "value": v}))
        .collect();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": CLUSTER_ARN, "cluster": {"server": "https://127.0.0.1:1"}}],
        "contexts": [{"name": CLUSTER_ARN, "context": {"cluster": CLUSTER_ARN, "user": "u"}}],
        "current-context": CLUSTER_ARN,
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": command,
            "args": args,
            "env": env,
            "interactiveMode": "Never",
        }}}],
    });
    let path = home.join("kubeconfig");
    std::fs::write(&path, serde_json::to_string(&config).unwrap()).unwrap();
    path
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// issue 15: usage errors have their own status (64), not the 2 that means "unauthenticated".
#[test]
fn usage_errors_exit_64_with_nothing_on_stdout() {
    let home = tempfile::tempdir().unwrap();
    for args in [&["--bogus"][..], &["-o", "wide"][..]] {
        let out = whoami(home.path(), args);
        assert_eq!(
            out.status.code(),
            Some(64),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?}");
        assert!(
            text(&out.stderr).starts_with("error: "),
            "{}",
            text(&out.stderr)
        );
    }
    let out = whoami(home.path(), &["--help"]);
    assert_eq!(out.status.code(), Some(0));
}

/// issue 15: a credential plugin that is not installed is named, with how to get it, under its
/// own status (3); no causes about mappings or profiles.
#[test]
fn a_missing_credential_plugin_is_named_with_status_3() {
    let home = tempfile::tempdir().unwrap();
    let config = kubeconfig(
        home.path(),
        "aws-iam-authenticator",
        &["token", "-i", "demo", "--region", "us-east-1"],
        &[],
    );
    let out = whoami(
        home.path(),
        &["--kubeconfig", config.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
    let report = json_of(&out);
    let diagnosis = &report["diagnosis"];
    assert_eq!(diagnosis["kind"], "plugin-missing");
    assert_eq!(
        diagnosis["summary"],
        "The context's credential plugin `aws-iam-authenticator` is not on PATH: kubectl cannot \
         authenticate with this context until it is installed."
    );
    let causes = diagnosis["causes"].as_array().unwrap();
    assert_eq!(causes.len(), 1, "{causes:?}");
    assert_eq!(
        causes[0]["detail"],
        "install aws-iam-authenticator from its release page, or add the directory that holds \
         `aws-iam-authenticator` to PATH"
    );
}

/// issue 15: a profile that does not exist is what the diagnosis blames, as likely.
#[test]
fn a_missing_profile_is_the_likely_cause() {
    let home = tempfile::tempdir().unwrap();
    let aws_config = home.path().join("aws-config");
    std::fs::write(&aws_config, "[profile dev]\nregion = us-east-1\n").unwrap();
    let token_bin = eks_testbed::bin_path("kubectl-eks_token")
        .expect("kubectl-eks_token is built (cargo build --workspace --bins)");
    let config = kubeconfig(
        home.path(),
        token_bin.to_str().unwrap(),
        &[
            "--cluster-name",
            "demo",
            "--profile",
            "nosuch",
            "--no-cache",
        ],
        &[
            ("AWS_REGION", "us-east-1"),
            ("AWS_CONFIG_FILE", aws_config.to_str().unwrap()),
            ("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
            (
                "AWS_SECRET_ACCESS_KEY",
                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            ),
        ],
    );
    let out = whoami(
        home.path(),
        &["--kubeconfig", config.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let report = json_of(&out);
    let causes = report["diagnosis"]["causes"].as_array().unwrap();
    let profile = causes
        .iter()
        .find(|c| c["id"] == "other-profile")
        .expect("a profile cause");
    assert_eq!(profile["verdict"], "likely", "{profile}");
    assert_eq!(profile["title"], "the profile does not exist");
    assert!(
        profile["detail"]
            .as_str()
            .unwrap()
            .starts_with("profile `nosuch` (argument `--profile`) is in neither ~/.aws/config"),
        "{profile}"
    );
}
