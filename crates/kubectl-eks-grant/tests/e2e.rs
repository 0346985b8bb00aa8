//! End-to-end: the real `kubectl-eks_grant` binary (and real kubectl) against the stand-in EKS.
//!
//! The admin runs eks-grant with a static test token in `system:masters` (what the cluster
//! creator is); the new users authenticate with their own AWS keys through EKS tokens.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eks_auth::aws_auth::AwsAuth;
use eks_testbed::{Creds, Testbed, TestbedOptions};
use serde_json::{Value, json};

const ADMIN_TOKEN: &str = "eks-grant-e2e-admin";
const ACCOUNT: &str = "123456789012";
const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_grant");

struct Bed {
    tb: Testbed,
    admin_kubeconfig: PathBuf,
}

fn start(aws: bool) -> Bed {
    let tb = Testbed::start(TestbedOptions {
        static_tokens: vec![format!("{ADMIN_TOKEN}=admin:system:masters")],
        aws,
        ..TestbedOptions::default()
    })
    .expect("testbed starts");
    let admin_kubeconfig = tb.dir().join("admin-kubeconfig");
    std::fs::write(
        &admin_kubeconfig,
        tb.kubeconfig_for(&Creds::Token(ADMIN_TOKEN.to_owned()), false),
    )
    .unwrap();
    Bed {
        tb,
        admin_kubeconfig,
    }
}

/// Runs eks-grant hermetically (no AWS_*, KUBECONFIG or HOME of the caller).
fn grant(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        // These scenarios are the aws-auth store's; auto (DescribeCluster) has its own in access_entries.rs.
        .args(["--backend", "aws-auth"])
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl-eks_grant runs")
}

impl Bed {
    fn grant(&self, args: &[&str]) -> Output {
        grant(&self.admin_kubeconfig, &self.tb.dir().join("home"), args)
    }

    fn aws_auth(&self) -> Value {
        self.tb
            .get_object("ConfigMap", "kube-system", "aws-auth")
            .expect("aws-auth exists")
    }

    fn aws_auth_data(&self) -> BTreeMap<String, String> {
        serde_json::from_value(self.aws_auth()["data"].clone()).unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// The seed scenario: the creator grants bob read access with a preset; bob sees get/list/watch
/// on everything and may not create; revoke makes bob 401 again.
#[test]
fn seed_scenario_with_real_kubectl() {
    let bed = start(true);
    let bob = bed.tb.create_user("bob").unwrap();
    let bob_creds = Creds::from(&bob);

    // Before: bob is not mapped.
    let before = bed.tb.kubectl(&bob_creds, &["get", "pods"]).unwrap();
    assert!(!before.status.success());
    // kubectl's wording of 401 Unauthorized.
    assert!(
        text(&before.stderr).contains("You must be logged in to the server"),
        "{}",
        text(&before.stderr)
    );

    let out = ok(&bed.grant(&[
        "add",
        &bob.arn,
        "--username",
        "bob",
        "--group",
        "reader",
        "--preset",
        "cluster-reader",
    ]));
    assert!(out.contains("added"), "{out}");
    assert!(
        out.contains("ClusterRoleBinding/eks-grant:reader:cluster-reader created"),
        "{out}"
    );

    let list = bed
        .tb
        .kubectl(&bob_creds, &["auth", "can-i", "--list"])
        .unwrap();
    let list = ok(&list);
    let star = list
        .lines()
        .find(|l| l.starts_with("*.* ") || l.starts_with("* "))
        .unwrap_or_default();
    assert!(star.contains("[get list watch]"), "can-i --list:\n{list}");

    let create = bed
        .tb
        .kubectl(&bob_creds, &["create", "configmap", "x", "-n", "default"])
        .unwrap();
    assert!(!create.status.success());
    assert!(
        text(&create.stderr).contains("forbidden"),
        "{}",
        text(&create.stderr)
    );
    assert!(
        text(&create.stderr).contains("User \"bob\""),
        "{}",
        text(&create.stderr)
    );

    let out = ok(&bed.grant(&["revoke", &bob.arn]));
    assert!(out.contains("1 entry removed"), "{out}");
    assert!(
        out.contains("ClusterRoleBinding/eks-grant:reader:cluster-reader deleted"),
        "{out}"
    );
    assert!(
        out.contains("ClusterRole/eks-grant:cluster-reader deleted"),
        "{out}"
    );
    let after = bed.tb.kubectl(&bob_creds, &["get", "pods"]).unwrap();
    assert!(!after.status.success());
    assert!(
        text(&after.stderr).contains("You must be logged in to the server"),
        "{}",
        text(&after.stderr)
    );
}

#[test]
fn twenty_concurrent_adds_all_land() {
    let bed = start(false);
    let children: Vec<_> = (0..20)
        .map(|i| {
            let arn = format!("arn:aws:iam::{ACCOUNT}:user/u{i:02}");
            Command::new(BIN)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", bed.tb.dir().join("home"))
                .arg("--kubeconfig")
                .arg(&bed.admin_kubeconfig)
                .args(["add", &arn, "--group", "team"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        ok(&child.wait_with_output().unwrap());
    }
    let aws_auth = AwsAuth::parse(&bed.aws_auth_data()).unwrap();
    let mut users: Vec<_> = aws_auth.users().iter().map(|u| u.userarn.clone()).collect();
    users.sort();
    let want: Vec<_> = (0..20)
        .map(|i| format!("arn:aws:iam::{ACCOUNT}:user/u{i:02}"))
        .collect();
    assert_eq!(users, want);
    // The node role mapping of the seeded aws-auth is still there, untouched.
    assert_eq!(aws_auth.roles().len(), 1);
    assert_eq!(
        aws_auth.roles()[0].rolearn,
        eks_testbed::bootstrap::NODE_ROLE_ARN
    );
    assert_eq!(
        bed.aws_auth()["metadata"]["annotations"]["eks-grant.kubectl-eks.io/revision"],
        "20"
    );
}

#[test]
fn malformed_aws_auth_is_left_untouched() {
    let bed = start(false);
    let broken = "- rolearn: arn:aws:iam::123456789012:role/a\n  groups: [unclosed\n";
    bed.tb
        .put_object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"},
            "data": {"mapRoles": broken}}))
        .unwrap();
    let rv = bed.aws_auth()["metadata"]["resourceVersion"].clone();
    let out = bed.grant(&["add", &format!("arn:aws:iam::{ACCOUNT}:user/bob")]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: ConfigMap `kube-system/aws-auth` was left untouched: `mapRoles`"),
        "{err}"
    );
    assert!(err.contains("hint: fix it by hand"), "{err}");
    assert_eq!(bed.aws_auth()["data"]["mapRoles"], broken);
    assert_eq!(bed.aws_auth()["metadata"]["resourceVersion"], rv);
}

#[test]
fn undo_restores_byte_for_byte_and_add_is_idempotent() {
    let bed = start(false);
    // An aws-auth with comments, odd quoting and a key eks-grant does not know.
    let original: BTreeMap<String, String> = BTreeMap::from([
        (
            "mapRoles".to_owned(),
            format!(
                "# nodes, do not touch\n- rolearn: '{}'\n  username: \"system:node:{{{{EC2PrivateDNSName}}}}\"\n  groups: [system:bootstrappers, system:nodes]\n",
                eks_testbed::bootstrap::NODE_ROLE_ARN
            ),
        ),
        ("mapAccounts".to_owned(), String::new()),
        ("custom".to_owned(), "  kept as is  \n\n".to_owned()),
    ]);
    bed.tb
        .put_object(json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": original}))
        .unwrap();
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    let out = ok(&bed.grant(&["add", &bob, "--group", "reader", "-o", "json"]));
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["aws_auth"], "added");
    assert_eq!(report["username"], "bob");
    assert_eq!(report["revision"], 1);
    let after_add = bed.aws_auth_data();
    assert_eq!(after_add["mapRoles"], original["mapRoles"]);
    assert_eq!(after_add["custom"], original["custom"]);

    // The same grant again: unchanged, nothing written.
    let rv = bed.aws_auth()["metadata"]["resourceVersion"].clone();
    let again: Value = serde_json::from_str(&ok(
        &bed.grant(&["add", &bob, "--group", "reader", "-o", "json"])
    ))
    .unwrap();
    assert_eq!(again["aws_auth"], "unchanged");
    assert_eq!(bed.aws_auth()["metadata"]["resourceVersion"], rv);

    let last_change: Value = serde_json::from_str(
        bed.aws_auth()["metadata"]["annotations"]["eks-grant.kubectl-eks.io/last-change"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(last_change["by"], "admin");
    assert_eq!(last_change["revision"], 1);

    let out = ok(&bed.grant(&["undo"]));
    assert!(out.contains("revision 1"), "{out}");
    assert_eq!(bed.aws_auth_data(), original);
    assert_eq!(
        bed.aws_auth()["metadata"]["annotations"]["eks-grant.kubectl-eks.io/revision"],
        "0"
    );
    // Nothing left to undo.
    let out = bed.grant(&["undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no change made by eks-grant to undo"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn dry_run_changes_nothing_and_shows_the_diff() {
    let bed = start(false);
    let before = bed.aws_auth();
    let out = ok(&bed.grant(&[
        "add",
        &format!("arn:aws:sts::{ACCOUNT}:assumed-role/Dev/alice"),
        "--preset",
        "view",
        "--namespace",
        "default",
        "--dry-run",
    ]));
    assert!(
        out.contains("--- a/kube-system/aws-auth\n+++ b/kube-system/aws-auth\n"),
        "{out}"
    );
    assert!(
        out.contains(&format!("+    rolearn: arn:aws:iam::{ACCOUNT}:role/Dev\n"))
            || out.contains(&format!("+  - rolearn: arn:aws:iam::{ACCOUNT}:role/Dev\n")),
        "{out}"
    );
    assert!(
        out.contains("+++ b/RoleBinding/default/eks-grant:eks-grant:view:view\n"),
        "{out}"
    );
    assert_eq!(bed.aws_auth(), before);
    assert!(
        bed.tb
            .get_object("RoleBinding", "default", "eks-grant:eks-grant:view:view")
            .is_none()
    );
}

#[test]
fn lockout_guard_refuses_dropping_the_node_role() {
    let bed = start(false);
    let before = bed.aws_auth();
    let out = bed.grant(&["revoke", eks_testbed::bootstrap::NODE_ROLE_ARN]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("drops the node role mapping"), "{err}");
    assert!(err.contains("hint: pass --force"), "{err}");
    assert_eq!(bed.aws_auth(), before);
}

#[test]
fn list_shows_mappings_and_bindings() {
    let bed = start(false);
    ok(&bed.grant(&[
        "add",
        &format!("arn:aws:iam::{ACCOUNT}:user/bob"),
        "--group",
        "reader",
        "--preset",
        "cluster-reader",
    ]));
    let list: Value = serde_json::from_str(&ok(&bed.grant(&["list", "-o", "json"]))).unwrap();
    let users: Vec<_> = list["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["list"] == "mapUsers")
        .collect();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0]["username"], "bob");
    assert_eq!(users[0]["effective"], true);
    assert_eq!(
        list["groups"]["reader"],
        json!([
            "ClusterRoleBinding/eks-grant:reader:cluster-reader -> ClusterRole/eks-grant:cluster-reader"
        ])
    );
    assert_eq!(list["groups"]["system:nodes"], json!([]));
}

#[test]
fn a_principal_of_another_account_than_the_clusters_is_refused_unless_forced() {
    // The kubeconfig names the cluster after its ARN (as update-kubeconfig does), so the cluster's
    // account is known even though aws-auth maps nothing of the other account.
    let bed = start(false);
    let before = bed.aws_auth();
    let eve = "arn:aws:iam::999999999999:user/eve";
    let out = bed.grant(&["add", eve, "--group", "reader"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "`{eve}` is in account 999999999999, but the cluster `arn:aws:eks:us-east-1:{ACCOUNT}:cluster/testbed` is in account {ACCOUNT}"
        )),
        "{err}"
    );
    assert!(
        err.contains("pass --force for a cross-account principal"),
        "{err}"
    );
    assert_eq!(bed.aws_auth(), before);
    ok(&bed.grant(&["add", eve, "--group", "reader", "--force"]));
    assert!(bed.aws_auth_data()["mapUsers"].contains(eve));
}
