//! Where the stand-in EKS and the EKS authenticator must give the same answer (issue 12), end
//! to end: real kubectl and the real `kubectl-eks_token` against the stand-in.
//!
//! Needs `kubectl` on PATH, `python3` with tests/aws/requirements.txt, and the binaries built
//! (`cargo build --workspace --bins`).

use std::process::{Command, Output};
use std::time::SystemTime;

use eks_testbed::{Creds, Testbed, TestbedOptions, bin_path, presign_token};
use serde_json::{Value, json};

fn start() -> Testbed {
    Testbed::start(TestbedOptions::default()).expect("the testbed starts")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn token_bin() -> std::path::PathBuf {
    bin_path("kubectl-eks_token")
        .expect("kubectl-eks_token is built (cargo build --workspace --bins)")
}

/// `kubectl-eks_token ARGS` with the testbed's AWS environment (endpoint, region) and `keys`.
fn eks_token(tb: &Testbed, keys: &eks_testbed::AwsKeys, args: &[&str]) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(token_bin());
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in tb.env() {
        if k.starts_with("AWS_") {
            cmd.env(k, v);
        }
    }
    cmd.env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .args(args);
    cmd.output().unwrap()
}

fn whoami(tb: &Testbed, token: &str) -> Value {
    let out = tb
        .kubectl(
            &Creds::Token(token.to_owned()),
            &["auth", "whoami", "-o", "json"],
        )
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_roles_uid_and_principal_id_are_the_part_before_the_colon() {
    let tb = start();
    let alice = tb.create_user("alice").unwrap();
    let role = tb.create_role("dev", "/").unwrap();
    tb.set_aws_auth(
        &format!(
            "- rolearn: {}\n  username: dev:{{{{SessionName}}}}\n  groups: [devs]\n",
            role.arn
        ),
        "",
    )
    .unwrap();
    let out = eks_token(
        &tb,
        &alice.keys,
        &[
            "--cluster-name",
            tb.cluster_name(),
            "--role-arn",
            &role.arn,
            "--session-name",
            "alice-laptop",
            "--token-only",
            "--no-cache",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let token = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let review = whoami(&tb, &token);
    let user = &review["status"]["userInfo"];
    assert_eq!(user["username"], "dev:alice-laptop");
    // pkg/server/server.go: uid aws-iam-authenticator:ACCOUNT:USERID, where for a role the user
    // id is the part before `:` (token.go), also the principalId extras.
    assert_eq!(
        user["uid"],
        format!("aws-iam-authenticator:123456789012:{}", role.role_id)
    );
    assert_eq!(user["extra"]["principalId"], json!([role.role_id]));
    assert_eq!(
        user["extra"]["sigs.k8s.io/aws-iam-authenticator/principalId"],
        json!([role.role_id])
    );
    assert_eq!(user["extra"]["sessionName"], json!(["alice-laptop"]));
}

#[test]
fn aws_auth_keys_stand_alone_and_anchors_are_read() {
    let tb = start();
    let bob = tb.create_user("bob").unwrap();
    let token = presign_token(&bob.keys, tb.cluster_name(), "us-east-1", SystemTime::now());
    // mapRoles is not YAML: the authenticator reads no roles from it, and still reads mapUsers,
    // written here with an anchor, an alias and a merge key.
    tb.set_aws_auth(
        "- rolearn: x\n  username: a\n   groups: [x]\n",
        &format!(
            "- &base\n  userarn: arn:aws:iam::123456789012:user/nobody\n  username: bob\n  groups: [readers]\n- <<: *base\n  userarn: {}\n",
            bob.arn
        ),
    )
    .unwrap();
    let review = whoami(&tb, &token);
    assert_eq!(review["status"]["userInfo"]["username"], "bob");
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        json!(["readers", "system:authenticated"])
    );
    // A field of the wrong type is skipped, the entry kept: groups `yes` is no list.
    tb.set_aws_auth(
        "",
        &format!("- userarn: {}\n  username: bob\n  groups: yes\n", bob.arn),
    )
    .unwrap();
    let review = whoami(&tb, &token);
    assert_eq!(review["status"]["userInfo"]["username"], "bob");
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        json!(["system:authenticated"])
    );
}

#[test]
fn a_token_for_another_partitions_sts_is_refused() {
    let tb = start();
    let keys = tb.creator().unwrap().keys.clone();
    let token = presign_token(&keys, tb.cluster_name(), "cn-north-1", SystemTime::now());
    let before = tb.request_log().len();
    let out = tb.kubectl(&Creds::Token(token), &["get", "ns"]).unwrap();
    assert!(!out.status.success());
    let log = tb.request_log();
    let refused: Vec<_> = log[before..].iter().filter(|r| r.status == 401).collect();
    assert!(!refused.is_empty());
    assert!(
        refused[0]
            .auth_error
            .contains("which is not an STS endpoint of partition `aws`, the cluster's"),
        "{}",
        refused[0].auth_error
    );
}

#[test]
fn verify_resolve_goes_where_aws_endpoint_url_says() {
    let tb = start();
    let creator = tb.creator().unwrap().clone();
    let token = presign_token(
        &creator.keys,
        tb.cluster_name(),
        "us-east-1",
        SystemTime::now(),
    );
    // No --sts-endpoint: AWS_ENDPOINT_URL (set by the testbed's environment) is the way.
    let out = eks_token(
        &tb,
        &creator.keys,
        &[
            "verify",
            &token,
            "--cluster-name",
            tb.cluster_name(),
            "--resolve",
            "-o",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["identity"]["arn"], creator.arn.as_str());
    assert_eq!(v["partition"], "aws");
    // --resolve without --cluster-name: the usage says it is needed.
    let out = eks_token(&tb, &creator.keys, &["verify", &token, "--resolve"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--cluster-name"), "{}", stderr(&out));
}
