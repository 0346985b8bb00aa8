//! End-to-end: the real `kubectl-eks_grant` binary (and real kubectl) against the stand-in EKS.
//!
//! The admin runs eks-grant with a static test token in `system:masters` (what the cluster
//! creator is); the new users authenticate with their own AWS keys through EKS tokens.

use kubectl_eks_test_support::{ok, text};
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

/// Runs eks-grant hermetically (no AWS_*, KUBECONFIG or HOME of the caller), on aws-auth: these
/// scenarios have no AWS side to read the cluster's mode from (`--backend auto` is tested below).
fn grant(kubeconfig: &Path, home: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--backend", "aws-auth"])
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
                .args(["--backend", "aws-auth", "add", &arn, "--group", "team"])
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
    // The undo is a change of its own: revisions only go up (issue 15 item 3).
    assert_eq!(
        bed.aws_auth()["metadata"]["annotations"]["eks-grant.kubectl-eks.io/revision"],
        "2"
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
        out.contains("+++ b/RoleBinding/default/eks-grant:view@default\n"),
        "{out}"
    );
    assert_eq!(bed.aws_auth(), before);
    assert!(
        bed.tb
            .get_object("RoleBinding", "default", "eks-grant:view@default")
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

/// A kubeconfig whose exec stanza runs `kubectl-eks_token` with `keys`, assuming `role_arn` when
/// given: how a person signs in, through aws-auth (unlike the admin's static token).
fn person_kubeconfig(
    bed: &Bed,
    keys: &eks_testbed::AwsKeys,
    role_arn: Option<&str>,
    name: &str,
) -> PathBuf {
    let token_bin = eks_testbed::bin_path("kubectl-eks_token")
        .expect("kubectl-eks_token is built (cargo build --workspace --bins)");
    let mut args = vec![
        "--cluster-name".to_owned(),
        bed.tb.cluster_name().to_owned(),
    ];
    if let Some(role) = role_arn {
        args.extend(["--role-arn".to_owned(), role.to_owned()]);
        args.extend(["--session-name".to_owned(), name.to_owned()]);
    }
    let cluster = bed.tb.cluster_arn().to_owned();
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": bed.tb.server_url(),
            "certificate-authority": bed.tb.dir().join("ca.pem").display().to_string(),
        }}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": name}}],
        "current-context": cluster,
        "users": [{"name": name, "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": token_bin.display().to_string(),
            "args": args,
            "env": [
                {"name": "AWS_REGION", "value": "us-east-1"},
                {"name": "AWS_ENDPOINT_URL", "value": bed.tb.aws_endpoint().unwrap()},
                {"name": "AWS_ACCESS_KEY_ID", "value": keys.access_key_id},
                {"name": "AWS_SECRET_ACCESS_KEY", "value": keys.secret_access_key},
            ],
            "interactiveMode": "Never",
        }}}],
    });
    let path = bed.tb.dir().join(format!("kubeconfig-person-{name}"));
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    path
}

/// Real kubectl with a person's kubeconfig, hermetic.
fn kubectl_as(bed: &Bed, kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(std::env::var("KUBECTL").unwrap_or_else(|_| "kubectl".to_owned()))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", bed.tb.dir().join("home"))
        .env("KUBECONFIG", kubeconfig)
        .args(args)
        .output()
        .expect("kubectl runs")
}

fn create_namespace(bed: &Bed, name: &str) {
    bed.tb
        .put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}))
        .unwrap();
}

/// Issue 15, item 1: a grant never changes what anyone else may do. Role dev gets view in team-a,
/// then user eve gets view cluster-wide, both without --group: dev still reads team-a only.
#[test]
fn a_grant_without_group_never_widens_another_principal() {
    let bed = start(true);
    create_namespace(&bed, "team-a");
    create_namespace(&bed, "team-b");
    let alice = bed.tb.create_user("alice").unwrap();
    let dev = bed.tb.create_role("dev", "/").unwrap();
    let eve = bed.tb.create_user("eve").unwrap();
    let as_dev = person_kubeconfig(&bed, &alice.keys, Some(&dev.arn), "alice");
    let as_eve = person_kubeconfig(&bed, &eve.keys, None, "eve");

    let dev_out = ok(&bed.grant(&["add", &dev.arn, "--preset", "view", "-n", "team-a"]));
    let eve_out = ok(&bed.grant(&["add", &eve.arn, "--preset", "view"]));

    // dev reads team-a, and nothing else: the cluster-wide grant of eve is not dev's.
    let can_i = |kc: &Path, ns: &str| {
        let out = kubectl_as(&bed, kc, &["auth", "can-i", "list", "configmaps", "-n", ns]);
        text(&out.stdout).trim().to_owned()
    };
    assert_eq!(can_i(&as_dev, "team-a"), "yes");
    assert_eq!(can_i(&as_dev, "team-b"), "no");
    assert_eq!(can_i(&as_dev, "default"), "no");
    let get = kubectl_as(&bed, &as_dev, &["get", "configmaps", "-n", "team-b"]);
    assert!(!get.status.success());
    assert!(
        text(&get.stderr).contains("cannot list resource \"configmaps\""),
        "{}",
        text(&get.stderr)
    );
    ok(&kubectl_as(
        &bed,
        &as_dev,
        &["get", "configmaps", "-n", "team-a"],
    ));
    // eve reads everywhere, as granted.
    assert_eq!(can_i(&as_eve, "team-b"), "yes");
    ok(&kubectl_as(
        &bed,
        &as_eve,
        &["get", "configmaps", "-n", "team-b"],
    ));

    // Readable names: the default group says preset and scope, the binding is named after it.
    assert!(dev_out.contains("eks-grant:view@team-a"), "{dev_out}");
    assert!(
        dev_out.contains("RoleBinding/eks-grant:view@team-a in team-a created"),
        "{dev_out}"
    );
    assert!(!dev_out.contains("eks-grant:eks-grant:"), "{dev_out}");
    assert!(
        eve_out.contains("ClusterRoleBinding/eks-grant:view:cluster-wide created"),
        "{eve_out}"
    );
}

/// Issue 15, item 1: naming a group that other principals already hold, with a preset that would
/// bind it more widely, is refused without --force, and says who would gain what.
#[test]
fn widening_a_shared_group_is_refused_unless_forced() {
    let bed = start(true);
    create_namespace(&bed, "team-a");
    create_namespace(&bed, "team-b");
    let alice = bed.tb.create_user("alice").unwrap();
    let dev = bed.tb.create_role("dev", "/").unwrap();
    let carol = format!("arn:aws:iam::{ACCOUNT}:user/carol");
    let as_dev = person_kubeconfig(&bed, &alice.keys, Some(&dev.arn), "alice");

    ok(&bed.grant(&[
        "add", &dev.arn, "--group", "readers", "--preset", "view", "-n", "team-a",
    ]));
    let aws_auth = bed.aws_auth();
    let out = bed.grant(&["add", &carol, "--group", "readers", "--preset", "view"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stdout), "");
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!(
            "group `readers` is also held by `{}`, who would gain view in every namespace (ClusterRoleBinding `eks-grant:readers:view`)",
            dev.arn
        )),
        "{err}"
    );
    assert!(err.contains("nothing was written"), "{err}");
    assert!(err.contains("pass --force"), "{err}");
    assert!(err.contains("`eks-grant:view:cluster-wide`"), "{err}");
    assert_eq!(bed.aws_auth(), aws_auth);
    assert!(
        bed.tb
            .get_object("ClusterRoleBinding", "", "eks-grant:readers:view")
            .is_none()
    );
    // Also refused when it would add a namespace.
    let out = bed.grant(&[
        "add",
        &carol,
        "--group",
        "readers",
        "--preset",
        "view",
        "-n",
        "team-b",
        "--dry-run",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("who would gain view in namespace `team-b` (RoleBinding `team-b/eks-grant:readers:view`)"),
        "{}",
        text(&out.stderr)
    );
    let list = kubectl_as(
        &bed,
        &as_dev,
        &["auth", "can-i", "list", "configmaps", "-n", "team-b"],
    );
    assert_eq!(text(&list.stdout).trim(), "no");

    // The same scope changes nothing for dev: accepted.
    ok(&bed.grant(&[
        "add", &carol, "--group", "readers", "--preset", "view", "-n", "team-a",
    ]));
    // With --force the widening is done, and said.
    let out = bed.grant(&[
        "add", &carol, "--group", "readers", "--preset", "view", "--force",
    ]);
    ok(&out);
    assert!(
        text(&out.stderr).contains(&format!("group `readers` widened for {}", dev.arn)),
        "{}",
        text(&out.stderr)
    );
    let list = kubectl_as(
        &bed,
        &as_dev,
        &["auth", "can-i", "list", "configmaps", "-n", "team-b"],
    );
    assert_eq!(text(&list.stdout).trim(), "yes");
}

/// Issue 15, items 6 and 7: a namespace that does not exist is named as such, before anything is
/// written, with what to do; the caveat of a grant with --namespace is the one for namespaces.
#[test]
fn a_missing_namespace_is_named_and_caveats_fit_the_scope() {
    let bed = start(false);
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    let before = bed.aws_auth();
    for extra in [&[][..], &["--dry-run"][..]] {
        let mut args = vec![
            "add", &bob, "--preset", "view", "-n", "default", "-n", "nosuchns",
        ];
        args.extend(extra);
        let out = bed.grant(&args);
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(text(&out.stdout), "");
        assert_eq!(
            text(&out.stderr),
            format!(
                "error: namespace `nosuchns` does not exist in context `arn:aws:eks:us-east-1:{ACCOUNT}:cluster/testbed`: nothing was written\n\nhint: check the name with `kubectl get namespaces`, or create it first with `kubectl create namespace nosuchns`\n"
            )
        );
    }
    assert_eq!(bed.aws_auth(), before);
    assert!(
        bed.tb
            .get_object("RoleBinding", "default", "eks-grant:view@default,nosuchns")
            .is_none()
    );

    let out = bed.grant(&["add", &bob, "--preset", "admin", "-n", "default"]);
    ok(&out);
    let err = text(&out.stderr);
    assert!(
        err.contains("preset caveat: admin reads the Secrets of its namespaces"),
        "{err}"
    );
    assert!(!err.contains("without --namespace"), "{err}");
    let out = bed.grant(&["add", &bob, "--preset", "admin"]);
    ok(&out);
    assert!(
        text(&out.stderr)
            .contains("preset caveat: without --namespace, admin applies in every namespace"),
        "{}",
        text(&out.stderr)
    );
}

/// Every error of eks-grant names what is wrong and says what to do; no Rust Debug output; stdout
/// stays empty.
#[test]
fn errors_say_what_to_do_and_never_show_debug_output() {
    let bed = start(false);
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    // An RBAC object of the same name that eks-grant did not make.
    bed.tb
        .put_object(json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": "eks-grant:ops:view"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ops"}]}))
        .unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["add", "notanarn"], "`notanarn` is not an ARN"),
        (
            &["add", "arn:aws:iam::1:user/x"],
            "is not a 12-digit AWS account id",
        ),
        (
            &["check", "arn:aws:iam::123456789012:user/"],
            "has no user name",
        ),
        (
            &["check", &bob, "-n", "Team"],
            "`Team` is not a valid namespace name",
        ),
        (
            &["add", &bob, "-n", "default"],
            "--namespace needs --preset",
        ),
        (&["add", &bob, "--group", ""], "--group is empty"),
        (&["add", &bob, "--username", ""], "--username is empty"),
        (
            &["add", &bob, "--preset", "viewer"],
            "unknown preset `viewer`",
        ),
        (
            &["add", &bob, "--preset", "cluster-reader", "-n", "default"],
            "takes no namespace",
        ),
        (
            &["add", &bob, "--group", "a/b", "--preset", "view"],
            "cannot name an RBAC binding",
        ),
        (&["add", &bob, "--group", "system:x"], "which EKS reserves"),
        (
            &["add", &bob, "--group", "ops", "--preset", "view"],
            "is not managed by kubectl-eks-grant",
        ),
        (
            &["add", &bob, "--preset", "view", "-n", "nosuchns"],
            "namespace `nosuchns` does not exist",
        ),
        (
            &["revoke", eks_testbed::bootstrap::NODE_ROLE_ARN],
            "drops the node role mapping",
        ),
        (&["undo"], "no change made by eks-grant to undo"),
    ];
    for (args, what) in cases {
        let out = bed.grant(args);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert_eq!(text(&out.stdout), "", "{args:?}");
        assert!(err.starts_with("error: "), "{args:?}: {err}");
        assert!(err.contains(what), "{args:?}: {err}");
        assert!(err.contains("\n\nhint: "), "{args:?}: no hint: {err}");
        assert_eq!(err.matches("hint:").count(), 1, "{args:?}: {err}");
        for debug in ["Status {", "Some(", "ListMeta", "Error {", "\"\\\""] {
            assert!(!err.contains(debug), "{args:?}: Debug output: {err}");
        }
        // The cause is said once, not repeated by the error chain.
        let first_line = err.lines().next().unwrap();
        assert!(
            err.matches(first_line.trim_start_matches("error: "))
                .count()
                == 1,
            "{args:?}: {err}"
        );
    }
}

/// aws-auth's data with one more mapUsers entry.
fn with_user(data: &BTreeMap<String, String>, arn: &str) -> BTreeMap<String, String> {
    let mut doc = AwsAuth::parse(data).unwrap();
    doc.upsert_user(eks_auth::aws_auth::UserMapping::new(arn, "u", vec![]))
        .unwrap();
    doc.render()
}

/// Issue 9 item 4: a writer that loses the 409 never overwrites the winner's history slot, and
/// the slot of each revision records the change that landed as that revision. Deterministic: the
/// losing writer starts from a read taken before the winner's write.
#[test]
fn a_writer_that_loses_the_conflict_never_overwrites_the_winners_history() {
    use eks_auth::kube::{
        Edit, ModifyOptions, connect, data_sha256, fetch_aws_auth, fetch_history,
        modify_aws_auth_data_from,
    };
    let bed = start(false);
    let bob = format!("arn:aws:iam::{ACCOUNT}:user/bob");
    let carol = format!("arn:aws:iam::{ACCOUNT}:user/carol");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let before_any = bed.aws_auth_data();
    runtime.block_on(async {
        let cluster = connect(Some(&bed.admin_kubeconfig), None).await.unwrap();
        let client = &cluster.client;
        // Writer A reads revision 0 ...
        let stale = fetch_aws_auth(client).await.unwrap();
        assert_eq!(stale.revision(), 0);
        // ... writer B lands revision 1 ...
        ok(&bed.grant(&["add", &bob, "--group", "b"]));
        // ... and A writes from its stale read: 409, re-read, lands revision 2.
        let options = ModifyOptions {
            who: "writer-a".to_owned(),
            at: "2026-01-01T00:00:00Z".to_owned(),
            keep_history: true,
            ..ModifyOptions::default()
        };
        let modified = modify_aws_auth_data_from(client, &options, Some(stale), |obj| {
            Ok::<_, std::convert::Infallible>(Edit::Write {
                data: with_user(&obj.data, &carol),
                change: "writer a adds carol".to_owned(),
            })
        })
        .await
        .unwrap();
        assert_eq!(modified.attempts, 2);
        assert_eq!(modified.record.as_ref().unwrap().revision, 2);

        let slot1 = fetch_history(client, 1).await.unwrap().expect("slot 1");
        let slot2 = fetch_history(client, 2).await.unwrap().expect("slot 2");
        let record1 = slot1.record.clone().unwrap();
        assert!(record1.change.contains(&bob), "{record1:?}");
        assert_eq!(record1.by, "admin");
        assert_eq!(slot1.data, before_any);
        assert_eq!(slot1.replaced_by_sha256, data_sha256(&slot2.data));
        assert_eq!(slot2.record.unwrap().change, "writer a adds carol");
        let now = fetch_aws_auth(client).await.unwrap();
        assert_eq!(slot2.replaced_by_sha256, data_sha256(&now.data));
    });
    // undo takes back carol (revision 2), then bob (revision 1), each named.
    let out = ok(&bed.grant(&["undo"]));
    assert!(out.contains("writer a adds carol"), "{out}");
    assert!(!bed.aws_auth_data()["mapUsers"].contains(&carol));
    assert!(bed.aws_auth_data()["mapUsers"].contains(&bob));
    let out = ok(&bed.grant(&["undo"]));
    assert!(out.contains(&bob), "{out}");
    assert_eq!(bed.aws_auth_data(), before_any);
}

fn revision(bed: &Bed) -> u64 {
    bed.aws_auth()["metadata"]["annotations"]["eks-grant.kubectl-eks.io/revision"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap()
}

/// Issue 15 item 3: `undo` reverts the whole change it names, RBAC objects included (those an
/// `add` created are deleted, those a `revoke` deleted come back), and revision numbers only go
/// up: an undo writes the next revision, and never two changes share one.
#[test]
fn undo_reverts_the_rbac_of_the_change_and_revisions_only_go_up() {
    let bed = start(true);
    create_namespace(&bed, "team-a");
    let bob = bed.tb.create_user("bob").unwrap();
    let as_bob = person_kubeconfig(&bed, &bob.keys, None, "bob");
    let can_i = || {
        let out = kubectl_as(
            &bed,
            &as_bob,
            &["auth", "can-i", "list", "configmaps", "-n", "team-a"],
        );
        text(&out.stdout).trim().to_owned()
    };
    let original = bed.aws_auth_data();

    // revision 1: bob gets view in team-a (a RoleBinding is created).
    ok(&bed.grant(&["add", &bob.arn, "--preset", "view", "-n", "team-a"]));
    assert_eq!(revision(&bed), 1);
    assert_eq!(can_i(), "yes");
    let rb = || {
        bed.tb
            .get_object("RoleBinding", "team-a", "eks-grant:view@team-a")
    };
    assert!(rb().is_some());

    // undo (revision 2): aws-auth as before, and the RoleBinding is gone too.
    let out = ok(&bed.grant(&["undo"]));
    assert!(out.contains("revision 1"), "{out}");
    assert!(
        out.contains("RoleBinding/eks-grant:view@team-a in team-a deleted"),
        "{out}"
    );
    assert_eq!(bed.aws_auth_data(), original);
    assert!(rb().is_none());
    assert_eq!(revision(&bed), 2);
    assert_ne!(can_i(), "yes");

    // revision 3: a new change never reuses a revision number.
    let out: Value = serde_json::from_str(&ok(&bed.grant(&[
        "add",
        &bob.arn,
        "--group",
        "readers",
        "--preset",
        "cluster-reader",
        "-o",
        "json",
    ])))
    .unwrap();
    assert_eq!(out["revision"], 3);
    let crb = || {
        bed.tb
            .get_object("ClusterRoleBinding", "", "eks-grant:readers:cluster-reader")
    };
    let role = || {
        bed.tb
            .get_object("ClusterRole", "", "eks-grant:cluster-reader")
    };
    assert!(crb().is_some() && role().is_some());

    // revision 4: revoke deletes the binding and the ClusterRole nobody uses any more ...
    let out = ok(&bed.grant(&["revoke", &bob.arn]));
    assert!(out.contains("revision 4"), "{out}");
    assert!(crb().is_none() && role().is_none());
    assert!(
        AwsAuth::parse(&bed.aws_auth_data())
            .unwrap()
            .users()
            .is_empty()
    );

    // ... and undoing the revoke (revision 5) brings the mapping and both objects back.
    let out: Value = serde_json::from_str(&ok(&bed.grant(&["undo", "-o", "json"]))).unwrap();
    assert_eq!(out["undone_revision"], 4);
    assert_eq!(out["revision"], 5);
    assert!(crb().is_some() && role().is_some());
    assert!(bed.aws_auth_data()["mapUsers"].contains(&bob.arn));
    assert_eq!(can_i(), "yes");

    // undo again reverts the change before (revision 3, the add), not the undo: a stack.
    let out: Value = serde_json::from_str(&ok(&bed.grant(&["undo", "-o", "json"]))).unwrap();
    assert_eq!(out["undone_revision"], 3);
    assert_eq!(out["revision"], 6);
    assert!(crb().is_none() && role().is_none());
    assert_eq!(bed.aws_auth_data(), original);
    // revision 1 was undone already (by revision 2): nothing is left.
    let out = bed.grant(&["undo"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no change made by eks-grant to undo"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(revision(&bed), 6);
}

/// Issue 9 item 4 with real processes: many concurrent writers, then `undo` after `undo`. Every
/// slot records the change that landed as its revision (the data before it, and the hash of the
/// data after it, which is the next slot's data), so each undo succeeds and takes back exactly
/// the user its record names.
#[test]
fn concurrent_writers_keep_a_history_that_undo_can_walk_back() {
    use eks_auth::kube::data_sha256;
    let bed = start(false);
    const WRITERS: usize = 24;
    let children: Vec<_> = (0..WRITERS)
        .map(|i| {
            let arn = format!("arn:aws:iam::{ACCOUNT}:user/w{i:02}");
            Command::new(BIN)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", bed.tb.dir().join("home"))
                .arg("--kubeconfig")
                .arg(&bed.admin_kubeconfig)
                .args(["--backend", "aws-auth", "add", &arn, "--group", "team"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        ok(&child.wait_with_output().unwrap());
    }
    let last = revision(&bed);
    assert_eq!(last, WRITERS as u64);
    let slot = |r: u64| {
        let cm = bed
            .tb
            .get_object(
                "ConfigMap",
                "kube-system",
                &format!("aws-auth-history-{}", r % 10),
            )
            .unwrap();
        let annotations = &cm["metadata"]["annotations"];
        assert_eq!(
            annotations["eks-grant.kubectl-eks.io/revision"],
            r.to_string()
        );
        let data: BTreeMap<String, String> =
            serde_json::from_value(cm["data"].clone()).unwrap_or_default();
        let record: Value = serde_json::from_str(
            annotations["eks-grant.kubectl-eks.io/last-change"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
        let after = annotations["eks-grant.kubectl-eks.io/replaced-by-sha256"]
            .as_str()
            .unwrap()
            .to_owned();
        (data, record, after)
    };
    // The ring holds the last ten revisions, each consistent with the next.
    for r in last - 9..=last {
        let (data, record, after) = slot(r);
        assert_eq!(record["revision"], r);
        let next_data = if r == last {
            bed.aws_auth_data()
        } else {
            slot(r + 1).0
        };
        assert_eq!(after, data_sha256(&next_data), "slot {r}");
        // The record names the user that revision added: in the data after it, not before.
        let change = record["change"].as_str().unwrap();
        let user = change.split('`').nth(1).unwrap();
        assert!(next_data["mapUsers"].contains(user), "slot {r}: {change}");
        assert!(
            !data.get("mapUsers").is_some_and(|u| u.contains(user)),
            "slot {r}: {change}"
        );
    }
    // Walk back five changes: each undo succeeds and removes the user its record names.
    for step in 0..5u64 {
        let (_, record, _) = slot(last - step);
        let user = record["change"]
            .as_str()
            .unwrap()
            .split('`')
            .nth(1)
            .unwrap()
            .to_owned();
        let out: Value = serde_json::from_str(&ok(&bed.grant(&["undo", "-o", "json"]))).unwrap();
        assert_eq!(out["undone_revision"], last - step);
        assert!(out["undone_change"].as_str().unwrap().contains(&user));
        assert!(!bed.aws_auth_data()["mapUsers"].contains(&user));
    }
    let remaining = AwsAuth::parse(&bed.aws_auth_data()).unwrap().users().len();
    assert_eq!(remaining, WRITERS - 5);
}

/// Issue 11 (first pieces): `--backend access-entries` on a cluster in API mode. The cluster's
/// name and region come from the context's cluster ARN; a preset with an AWS-managed policy
/// becomes that policy at namespace scope; the same add twice changes nothing; aws-auth is never
/// touched; list shows the entry and its policy; revoke takes the person out.
#[test]
fn access_entries_add_list_revoke_on_an_api_cluster() {
    let tb = Testbed::start(TestbedOptions {
        static_tokens: vec![format!("{ADMIN_TOKEN}=admin:system:masters")],
        aws: true,
        auth_mode: eks_auth::access::AuthenticationMode::Api,
        ..TestbedOptions::default()
    })
    .expect("testbed starts");
    let admin_kubeconfig = tb.dir().join("admin-kubeconfig");
    std::fs::write(
        &admin_kubeconfig,
        tb.kubeconfig_for(&Creds::Token(ADMIN_TOKEN.to_owned()), false),
    )
    .unwrap();
    let bed = Bed {
        tb,
        admin_kubeconfig,
    };
    create_namespace(&bed, "team-a");
    let bob = bed.tb.create_user("bob").unwrap();
    let as_bob = person_kubeconfig(&bed, &bob.keys, None, "bob");
    let aws_env: Vec<(String, String)> = bed
        .tb
        .env()
        .into_iter()
        .filter(|(k, _)| k.starts_with("AWS_"))
        .collect();
    let grant = |args: &[&str]| {
        Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", bed.tb.dir().join("home"))
            .envs(aws_env.iter().map(|(k, v)| (k, v)))
            .arg("--kubeconfig")
            .arg(&bed.admin_kubeconfig)
            .args(["--backend", "access-entries"])
            .args(args)
            .output()
            .unwrap()
    };
    let can_i = |ns: &str| {
        let out = kubectl_as(
            &bed,
            &as_bob,
            &["auth", "can-i", "list", "configmaps", "-n", ns],
        );
        text(&out.stdout).trim().to_owned()
    };
    // EKS applies access-entry changes eventually ("may take several seconds", user guide);
    // the stand-in within a second.
    let eventually = |what: &str, check: &dyn Fn() -> bool| {
        let start = std::time::Instant::now();
        while !check() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(10),
                "{what}"
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let aws_auth = bed.aws_auth();

    let out: Value = serde_json::from_str(&ok(&grant(&[
        "add", &bob.arn, "--preset", "view", "-n", "team-a", "-o", "json",
    ])))
    .unwrap();
    // (grant-ae: on access entries `add` reports as the access-entry commands do.)
    assert_eq!(out["result"], "created");
    // The policy grants view: two EKS calls, no RBAC objects, no default group.
    assert_eq!(out["calls"].as_array().unwrap().len(), 2);
    eventually("bob reads team-a", &|| can_i("team-a") == "yes");
    assert_eq!(can_i("default"), "no");
    assert_eq!(bed.aws_auth(), aws_auth);

    let again: Value = serde_json::from_str(&ok(&grant(&[
        "add", &bob.arn, "--preset", "view", "-n", "team-a", "-o", "json",
    ])))
    .unwrap();
    assert_eq!(again["result"], "unchanged");

    let list: Value = serde_json::from_str(&ok(&grant(&["list", "-o", "json"]))).unwrap();
    let entry = list["mappings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["arn"] == bob.arn.as_str())
        .expect("bob's entry is listed");
    assert_eq!(entry["list"], "accessEntry");
    assert_eq!(
        entry["policies"],
        json!(["AmazonEKSViewPolicy (namespaces team-a)"])
    );

    let out = ok(&grant(&["revoke", &bob.arn]));
    assert!(out.contains("deleted"), "{out}");
    eventually("bob is out", &|| {
        !kubectl_as(&bed, &as_bob, &["get", "configmaps", "-n", "team-a"])
            .status
            .success()
    });
    let after = kubectl_as(&bed, &as_bob, &["get", "configmaps", "-n", "team-a"]);
    assert!(
        !after.status.success(),
        "revoke said:\n{out}\nlist after:\n{}",
        text(&grant(&["list"]).stdout)
    );
    assert!(
        text(&after.stderr).contains("You must be logged in to the server"),
        "{}",
        text(&after.stderr)
    );
    assert_eq!(bed.aws_auth(), aws_auth);
}

/// Issue 11: `--backend auto` (the default) reads the cluster's authentication mode with EKS
/// DescribeCluster and says in one line which store it uses and why; without an answer from EKS
/// it writes nothing and points at `--backend aws-auth`.
#[test]
fn backend_auto_reads_the_clusters_mode() {
    for (mode, expected) in [
        (
            eks_auth::access::AuthenticationMode::Api,
            "note: using access entries: cluster `testbed` is in API mode",
        ),
        (
            eks_auth::access::AuthenticationMode::ConfigMap,
            "note: using aws-auth: cluster `testbed` is in CONFIG_MAP mode",
        ),
    ] {
        let tb = Testbed::start(TestbedOptions {
            static_tokens: vec![format!("{ADMIN_TOKEN}=admin:system:masters")],
            aws: true,
            auth_mode: mode,
            ..TestbedOptions::default()
        })
        .expect("testbed starts");
        let kubeconfig = tb.dir().join("admin-kubeconfig");
        std::fs::write(
            &kubeconfig,
            tb.kubeconfig_for(&Creds::Token(ADMIN_TOKEN.to_owned()), false),
        )
        .unwrap();
        let out = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", tb.dir().join("home"))
            .envs(tb.env().into_iter().filter(|(k, _)| k.starts_with("AWS_")))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["list", "-o", "json"])
            .output()
            .unwrap();
        let list: Value = serde_json::from_str(&ok(&out)).unwrap();
        assert!(
            text(&out.stderr).lines().any(|l| l == expected),
            "{mode:?}: {}",
            text(&out.stderr)
        );
        let lists: Vec<(&str, &str)> = list["mappings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["list"].as_str().unwrap(), m["effect"].as_str().unwrap()))
            .collect();
        match mode {
            // Both stores are listed; in API mode every aws-auth row says EKS ignores it.
            eks_auth::access::AuthenticationMode::Api => {
                assert!(lists.iter().any(|(l, _)| *l == "accessEntry"), "{lists:?}");
                assert!(
                    lists
                        .iter()
                        .all(|(l, e)| *l == "accessEntry" || *e == "ignored"),
                    "{lists:?}"
                )
            }
            _ => assert!(lists.iter().all(|(l, _)| *l != "accessEntry"), "{lists:?}"),
        }

        // No AWS credentials: nothing is guessed.
        let out = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", tb.dir().join("home"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .envs(
                tb.env()
                    .into_iter()
                    .filter(|(k, _)| k == "AWS_ENDPOINT_URL" || k == "AWS_REGION"),
            )
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["add", &format!("arn:aws:iam::{ACCOUNT}:user/bob")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        assert_eq!(text(&out.stdout), "");
        let err = text(&out.stderr);
        assert!(err.contains("DescribeCluster"), "{err}");
        assert!(err.contains("pass --backend aws-auth"), "{err}");
    }
}
