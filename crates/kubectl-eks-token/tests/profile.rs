//! End to end, profile precedence (issue 15): real `kubectl` runs the real `kubectl-eks_token`
//! as its exec credential plugin against the stand-in EKS, and the cluster says who signed.
//!
//! Needs `kubectl` on PATH and `python3` with tests/aws/requirements.txt.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eks_testbed::{AwsUser, Testbed, TestbedOptions};
use kubectl_eks_test_support::exec_kubeconfig;
use serde_json::json;

fn start() -> Testbed {
    Testbed::start(TestbedOptions::default()).expect("the testbed starts")
}

/// Maps both users in aws-auth under their own names, so the cluster's answer names the signer.
fn map_users(tb: &Testbed, users: &[&AwsUser]) {
    let map_users: String = users
        .iter()
        .map(|u| {
            format!(
                "- userarn: {}\n  username: {}\n  groups: []\n",
                u.arn, u.name
            )
        })
        .collect();
    tb.put_object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapUsers": map_users},
    }))
    .unwrap();
}

/// `~/.aws/credentials` and `~/.aws/config` with profile `dev` holding `user`'s keys.
fn write_profile(home: &Path, user: &AwsUser) {
    let aws = home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(
        aws.join("credentials"),
        format!(
            "[dev]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            user.keys.access_key_id, user.keys.secret_access_key
        ),
    )
    .unwrap();
    std::fs::write(aws.join("config"), "[profile dev]\nregion = us-east-1\n").unwrap();
}

/// A kubeconfig whose exec stanza runs `kubectl-eks_token` with `args` and `env` (no keys).
fn kubeconfig(tb: &Testbed, name: &str, args: &[&str], env: &[(&str, &str)]) -> PathBuf {
    let mut all_args = vec!["--cluster-name", tb.cluster_name()];
    all_args.extend_from_slice(args);
    let endpoint = tb.aws_endpoint().unwrap();
    let mut stanza_env = vec![("AWS_REGION", "us-east-1"), ("AWS_ENDPOINT_URL", &endpoint)];
    stanza_env.extend_from_slice(env);
    let config = exec_kubeconfig(
        &tb.server_url(),
        &tb.dir().join("ca.pem"),
        tb.cluster_arn(),
        name,
        env!("CARGO_BIN_EXE_kubectl-eks_token"),
        &all_args,
        &stanza_env,
    );
    let path = tb.dir().join(format!("kubeconfig-token-{name}"));
    std::fs::write(&path, config).unwrap();
    path
}

/// `kubectl auth whoami` with `keys_of`'s keys exported in kubectl's (and so the plugin's)
/// environment, HOME at `home`.
fn whoami_with_env_keys(kubeconfig: &Path, home: &Path, keys_of: &AwsUser) -> Output {
    let kubectl = std::env::var("EKS_TESTBED_KUBECTL").unwrap_or_else(|_| "kubectl".into());
    Command::new(kubectl)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("KUBECONFIG", kubeconfig)
        .env("AWS_ACCESS_KEY_ID", &keys_of.keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys_of.keys.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args([
            "auth",
            "whoami",
            "-o",
            "jsonpath={.status.userInfo.username}",
        ])
        .output()
        .expect("kubectl runs")
}

fn username(out: &Output) -> String {
    assert!(
        out.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// issue 15: a profile named in the kubeconfig's exec env (as `aws eks update-kubeconfig
/// --profile dev` writes it), or by `--profile`, is the identity the cluster sees, even when the
/// environment holds another user's keys.
#[test]
fn a_named_profile_signs_even_with_other_keys_in_the_environment() {
    let tb = start();
    let dev = tb.create_user("dev").unwrap();
    let other = tb.create_user("other").unwrap();
    map_users(&tb, &[&dev, &other]);

    let home = tb.dir().join("home-profile");
    write_profile(&home, &dev);

    let by_env = kubeconfig(&tb, "by-env", &[], &[("AWS_PROFILE", "dev")]);
    assert_eq!(
        username(&whoami_with_env_keys(&by_env, &home, &other)),
        "dev"
    );

    let by_flag = kubeconfig(&tb, "by-flag", &["--profile", "dev"], &[]);
    assert_eq!(
        username(&whoami_with_env_keys(&by_flag, &home, &other)),
        "dev"
    );

    // Without a profile the environment's keys sign, as before.
    let plain = kubeconfig(&tb, "plain", &[], &[]);
    assert_eq!(
        username(&whoami_with_env_keys(&plain, &home, &other)),
        "other"
    );
}
