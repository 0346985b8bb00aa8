//! End to end: `kubectl-eks_grant` on EKS access entries, against the stand-in EKS in each
//! authentication mode, with real kubectl for the people it lets in.
//!
//! eks-grant runs as the cluster creator would: the testbed's own kubeconfig (the cluster named
//! by its EKS ARN, an exec stanza of `kubectl-eks_token`) and the creator's AWS keys in the
//! environment, so `--backend auto` really asks the stand-in's DescribeCluster. Needs
//! `cargo build --workspace --bins`, kubectl, and python3 with tests/aws/requirements.txt.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use eks_auth::access::AuthenticationMode;
use eks_testbed::{Creds, Testbed, TestbedOptions};
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_grant");
const ACCOUNT: &str = "123456789012";
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const ADMIN: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy";

fn start(mode: AuthenticationMode) -> Testbed {
    Testbed::start(TestbedOptions {
        auth_mode: mode,
        ..TestbedOptions::default()
    })
    .expect("the testbed starts")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// eks-grant as the cluster creator: the testbed's env (AWS endpoint, region, keys, KUBECONFIG).
fn grant(tb: &Testbed, args: &[&str]) -> Output {
    grant_with(tb, &[], args)
}

/// [`grant`] with some of the environment replaced.
fn grant_with(tb: &Testbed, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tb.dir().join("home"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in tb.env() {
        cmd.env(k, v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.args(args).output().expect("kubectl-eks_grant runs")
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

#[track_caller]
fn fails(out: &Output) -> String {
    assert!(
        !out.status.success(),
        "expected a failure\nstdout:\n{}",
        text(&out.stdout)
    );
    assert_eq!(text(&out.stdout), "", "stdout stays empty on error");
    text(&out.stderr)
}

/// The entries as the AWS side holds them: (principal, username, groups, [(policy, scope)]).
fn entries(tb: &Testbed) -> Value {
    let v = tb
        .aws_admin(
            "/_testbed/eks/access",
            &serde_json::json!({"cluster": tb.cluster_name()}),
        )
        .unwrap();
    v["entries"].clone()
}

fn entry_of(tb: &Testbed, principal: &str) -> Option<Value> {
    entries(tb)
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["principalArn"] == principal)
        .cloned()
}

fn aws_auth(tb: &Testbed) -> Value {
    tb.get_object("ConfigMap", "kube-system", "aws-auth")
        .map(|c| c["data"].clone())
        .unwrap_or(Value::Null)
}

fn eventually(
    tb: &Testbed,
    creds: &Creds,
    args: &[&str],
    want: impl Fn(&Output) -> bool,
) -> Output {
    let started = Instant::now();
    loop {
        let out = tb.kubectl(creds, args).expect("kubectl runs");
        if want(&out) || started.elapsed() > Duration::from_secs(10) {
            return out;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn api_mode_grant_lets_a_pathed_role_in_with_the_policy_rights_and_aws_auth_untouched() {
    let tb = start(AuthenticationMode::Api);
    tb.put_object(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}))
        .unwrap();
    tb.put_object(serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-b"}}))
        .unwrap();
    let role = tb.create_role("dev", "/team/").unwrap();
    assert_eq!(role.arn, format!("arn:aws:iam::{ACCOUNT}:role/team/dev"));
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice");
    let aws_auth_before = aws_auth(&tb);

    // Dry run: the calls are printed, nothing is written.
    let out = grant(
        &tb,
        &[
            "add",
            &session,
            "--preset",
            "view",
            "-n",
            "team-a",
            "--dry-run",
        ],
    );
    let stdout = ok(&out);
    assert!(
        text(&out.stderr).contains("using access entries: cluster `testbed` is in API mode"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(&format!(
            "aws eks create-access-entry --cluster-name testbed --principal-arn {}",
            role.arn
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("--access-scope type=namespace,namespaces=team-a"),
        "{stdout}"
    );
    assert!(
        entry_of(&tb, &role.arn).is_none(),
        "a dry run writes nothing"
    );

    // The assumed-role ARN becomes the role's full ARN, path included (IAM GetRole).
    let out = grant(
        &tb,
        &[
            "add", &session, "--preset", "view", "-n", "team-a", "-o", "json",
        ],
    );
    let report: Value = serde_json::from_str(&ok(&out)).unwrap();
    assert_eq!(report["result"], "created");
    assert_eq!(report["principal"], role.arn.as_str());
    assert!(
        text(&out.stderr).contains("lives under path `/team/`"),
        "{}",
        text(&out.stderr)
    );
    let e = entry_of(&tb, &role.arn).expect("the entry exists");
    assert_eq!(e["type"], "STANDARD");
    assert_eq!(e["policies"][0]["policyArn"], VIEW);
    assert_eq!(e["policies"][0]["accessScope"]["type"], "namespace");
    assert_eq!(e["policies"][0]["accessScope"]["namespaces"][0], "team-a");
    assert_eq!(aws_auth(&tb), aws_auth_before, "aws-auth is untouched");

    // The person gets in with the policy's rights: read team-a, not team-b, no writes.
    let alice = Creds::Aws(tb.assume_role(&role.arn, "alice").unwrap());
    let out = eventually(&tb, &alice, &["get", "pods", "-n", "team-a"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = tb
        .kubectl(&alice, &["get", "pods", "-n", "team-b"])
        .unwrap();
    assert!(
        text(&out.stderr).contains("forbidden"),
        "{}",
        text(&out.stderr)
    );
    let out = tb
        .kubectl(&alice, &["create", "configmap", "x", "-n", "team-a"])
        .unwrap();
    assert!(
        text(&out.stderr).contains("forbidden"),
        "{}",
        text(&out.stderr)
    );

    // The same add again changes nothing.
    let before = entries(&tb);
    let report: Value = serde_json::from_str(&ok(&grant(
        &tb,
        &[
            "add", &session, "--preset", "view", "-n", "team-a", "-o", "json",
        ],
    )))
    .unwrap();
    assert_eq!(report["result"], "unchanged");
    assert_eq!(report["calls"], serde_json::json!([]));
    assert_eq!(entries(&tb), before);

    // A second namespace widens the scope in place (no delete and recreate).
    ok(&grant(
        &tb,
        &["add", &role.arn, "--preset", "view", "-n", "team-b"],
    ));
    let e = entry_of(&tb, &role.arn).unwrap();
    assert_eq!(
        e["policies"][0]["accessScope"]["namespaces"],
        serde_json::json!(["team-a", "team-b"])
    );
    let out = eventually(&tb, &alice, &["get", "pods", "-n", "team-b"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));

    // A `system:` group is refused before any write, pointing at the cluster-admin preset.
    let before = entries(&tb);
    let bob = tb.create_user("bob").unwrap();
    let err = fails(&grant(&tb, &["add", &bob.arn, "--group", "system:masters"]));
    assert!(err.contains("hint: use `--preset cluster-admin`"), "{err}");
    assert_eq!(entries(&tb), before, "nothing was written");

    // revoke deletes the entry; undo brings it back as it was.
    let out = grant(&tb, &["revoke", &session]);
    ok(&out);
    assert!(entry_of(&tb, &role.arn).is_none());
    let out = eventually(&tb, &alice, &["get", "pods", "-n", "team-a"], |o| {
        !o.status.success()
    });
    assert!(
        text(&out.stderr).contains("You must be logged in"),
        "{}",
        text(&out.stderr)
    );
    ok(&grant(&tb, &["undo"]));
    let e = entry_of(&tb, &role.arn).expect("undo restores the entry");
    assert_eq!(e["policies"][0]["policyArn"], VIEW);
    assert_eq!(
        e["policies"][0]["accessScope"]["namespaces"],
        serde_json::json!(["team-a", "team-b"])
    );
    let out = eventually(&tb, &alice, &["get", "pods", "-n", "team-a"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    // Undo again reverts the widening add (the last change not yet undone before the revoke).
    ok(&grant(&tb, &["undo"]));
    let e = entry_of(&tb, &role.arn).unwrap();
    assert_eq!(
        e["policies"][0]["accessScope"]["namespaces"],
        serde_json::json!(["team-a"])
    );
}

#[test]
fn the_lockout_guard_keeps_the_last_cluster_admin() {
    let tb = start(AuthenticationMode::Api);
    let creator = tb.creator().unwrap().arn.clone();
    let e = entry_of(&tb, &creator).expect("the creator's bootstrap entry");
    assert_eq!(e["policies"][0]["policyArn"], ADMIN);

    // Removing the only admin (the caller itself) is refused, and nothing is written.
    let before = entries(&tb);
    let err = fails(&grant(&tb, &["revoke", &creator]));
    assert!(
        err.contains("nobody holds AmazonEKSClusterAdminPolicy"),
        "{err}"
    );
    assert!(err.contains("your own principal"), "{err}");
    let err = fails(&grant(
        &tb,
        &[
            "revoke",
            &creator,
            "--policy",
            "AmazonEKSClusterAdminPolicy",
        ],
    ));
    assert!(err.contains("nobody holds"), "{err}");
    assert_eq!(entries(&tb), before);

    // With a second admin, removing the first is no longer a lockout (the caller's own access
    // still is: --force).
    let ops = tb.create_user("ops").unwrap();
    ok(&grant(&tb, &["add", &ops.arn, "--preset", "cluster-admin"]));
    let err = fails(&grant(&tb, &["revoke", &creator]));
    assert!(!err.contains("nobody holds"), "{err}");
    assert!(err.contains("your own principal"), "{err}");
    ok(&grant(&tb, &["revoke", &creator, "--force"]));
    assert!(entry_of(&tb, &creator).is_none());
}

#[test]
fn api_and_config_map_writes_access_entries_and_config_map_stays_on_aws_auth() {
    let tb = start(AuthenticationMode::ApiAndConfigMap);
    let bob = tb.create_user("bob").unwrap();
    let carol = tb.create_user("carol").unwrap();
    let mut cm = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap();
    cm["data"]["mapUsers"] = Value::String(format!(
        "- userarn: {}\n  username: bob\n  groups: [readers]\n- userarn: {}\n  username: carol\n  groups: [readers]\n",
        bob.arn, carol.arn
    ));
    tb.put_object(cm).unwrap();
    let out = grant(&tb, &["add", &bob.arn, "--policy", "AmazonEKSEditPolicy"]);
    ok(&out);
    assert!(
        text(&out.stderr)
            .contains("using access entries: cluster `testbed` is in API_AND_CONFIG_MAP mode")
    );
    // Access entries, not aws-auth, took the change.
    let e = entry_of(&tb, &bob.arn).expect("bob's entry");
    assert_eq!(
        e["policies"][0]["policyArn"],
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
    );
    assert!(!aws_auth(&tb)["mapUsers"].as_str().unwrap().contains("Edit"));

    // `list` shows both stores in one table: bob's aws-auth mapping is shadowed by his access
    // entry (access entries win in API_AND_CONFIG_MAP), carol's still counts.
    let list: Value = serde_json::from_str(&ok(&grant(&tb, &["list", "-o", "json"]))).unwrap();
    let rows = list["mappings"].as_array().unwrap();
    let find = |store: &str, arn: &str| {
        rows.iter()
            .find(|m| m["list"] == store && m["arn"] == arn)
            .unwrap_or_else(|| panic!("{store} row of {arn} in {list:#}"))
            .clone()
    };
    let entry = find("accessEntry", &bob.arn);
    assert_eq!(entry["effect"], "active");
    assert_eq!(
        entry["policies"],
        serde_json::json!(["AmazonEKSEditPolicy (cluster)"])
    );
    let shadowed = find("mapUsers", &bob.arn);
    assert_eq!(shadowed["effect"], "shadowed");
    assert_eq!(shadowed["effective"], false);
    assert_eq!(
        shadowed["why"],
        format!("access entry `{}` wins over aws-auth", bob.arn)
    );
    let counts = find("mapUsers", &carol.arn);
    assert_eq!(counts["effect"], "active");
    assert_eq!(counts["effective"], true);
    let table = ok(&grant(&tb, &["list"]));
    assert!(
        table.contains(&format!(
            "shadowed: access entry `{}` wins over aws-auth",
            bob.arn
        )),
        "{table}"
    );

    // A CONFIG_MAP cluster: auto edits aws-auth and says why; --policy has no place there.
    let tb = start(AuthenticationMode::ConfigMap);
    let dave = tb.create_user("dave").unwrap();
    let out = grant(&tb, &["add", &dave.arn, "--group", "readers"]);
    ok(&out);
    assert!(
        text(&out.stderr).contains("using aws-auth: cluster `testbed` is in CONFIG_MAP mode"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        aws_auth(&tb)["mapUsers"]
            .as_str()
            .unwrap()
            .contains(&dave.arn)
    );
    let err = fails(&grant(
        &tb,
        &["add", &dave.arn, "--policy", "AmazonEKSViewPolicy"],
    ));
    assert!(err.contains("edits aws-auth"), "{err}");
    let err = fails(&grant(&tb, &["--backend", "access-entries", "list"]));
    assert!(err.contains("does not use access entries"), "{err}");
}

#[test]
fn migrate_from_config_map_to_api_locks_nobody_out_and_resumes_after_a_failure() {
    let tb = start(AuthenticationMode::ConfigMap);
    let bob = tb.create_user("bob").unwrap();
    let admin = tb
        .create_role("Admin", "/aws-reserved/sso.amazonaws.com/")
        .unwrap();
    let eve = tb.create_user("eve").unwrap();
    let mut cm = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap();
    let roles = cm["data"]["mapRoles"].as_str().unwrap().to_owned();
    cm["data"]["mapRoles"] = Value::String(format!(
        "{roles}- rolearn: arn:aws:iam::{ACCOUNT}:role/Admin\n  username: admin:{{{{SessionName}}}}\n  groups: [system:masters]\n"
    ));
    cm["data"]["mapUsers"] = Value::String(format!(
        "- userarn: {}\n  username: bob\n  groups: [readers]\n- userarn: {}\n  username: system:eve\n  groups: [readers]\n",
        bob.arn, eve.arn
    ));
    tb.put_object(cm).unwrap();
    tb.put_object(serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": "readers"}, "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "readers"}]}))
        .unwrap();
    let bob_creds = Creds::from(&bob);
    let admin_creds = Creds::Aws(tb.assume_role(&admin.arn, "root-admin").unwrap());
    tb.kubectl(&bob_creds, &["get", "pods", "-n", "default"])
        .map(|o| ok(&o))
        .unwrap();
    let aws_auth_before = aws_auth(&tb);
    let mode = |tb: &Testbed| {
        let v = tb
            .aws_admin(
                "/_testbed/eks/access",
                &serde_json::json!({"cluster": tb.cluster_name()}),
            )
            .unwrap();
        v["authenticationMode"].as_str().unwrap().to_owned()
    };

    // The dry run prints the plan and writes nothing.
    let plan = ok(&grant(&tb, &["migrate", "--dry-run"]));
    assert!(plan.contains(&format!("STANDARD {}", admin.arn)), "{plan}");
    assert!(
        plan.contains("AmazonEKSClusterAdminPolicy (cluster)"),
        "{plan}"
    );
    assert!(plan.contains("stays: username `system:eve`"), "{plan}");
    assert!(plan.contains("nothing was changed"), "{plan}");
    assert_eq!(mode(&tb), "CONFIG_MAP");
    // --to API is refused while eve would lose access, before anything is written.
    let err = fails(&grant(&tb, &["migrate", "--to", "API"]));
    assert!(err.contains(&format!("mapUsers[1] `{}`", eve.arn)), "{err}");
    assert_eq!(mode(&tb), "CONFIG_MAP");

    // An injected failure of the associations stops migrate part-way; nobody loses access.
    let creator = tb.creator().unwrap().arn.clone();
    tb.aws_admin(
        "/_testbed/eks/faults",
        &serde_json::json!({"deny": {"principal_arn": creator, "actions": ["eks:AssociateAccessPolicy"]}}),
    )
    .unwrap();
    let err = fails(&grant(&tb, &["migrate"]));
    assert!(
        err.contains("Run `kubectl eks-grant migrate` again to finish"),
        "{err}"
    );
    assert_eq!(mode(&tb), "API_AND_CONFIG_MAP");
    assert!(
        entry_of(&tb, &admin.arn).unwrap()["policies"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    tb.aws_admin("/_testbed/eks/faults", &serde_json::json!({"clear": true}))
        .unwrap();
    // The second run finishes the job without duplicates.
    let report: Value = serde_json::from_str(&ok(&grant(&tb, &["migrate", "-o", "json"]))).unwrap();
    assert_eq!(report["modeAfter"], "API_AND_CONFIG_MAP");
    let e = entry_of(&tb, &admin.arn).unwrap();
    assert_eq!(e["policies"][0]["policyArn"], ADMIN);
    assert_eq!(e["username"], "admin:{{SessionName}}");
    let all = entries(&tb);
    let principals: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["principalArn"].as_str().unwrap())
        .collect();
    let mut dedup = principals.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(
        principals.len(),
        dedup.len(),
        "no duplicates: {principals:?}"
    );
    assert!(principals.contains(&bob.arn.as_str()));

    // Once eve's mapping is gone, --to API goes through and everyone else still gets in.
    let mut cm = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap();
    cm["data"]["mapUsers"] = Value::String(format!(
        "- userarn: {}\n  username: bob\n  groups: [readers]\n",
        bob.arn
    ));
    tb.put_object(cm).unwrap();
    ok(&grant(&tb, &["migrate", "--to", "API"]));
    assert_eq!(mode(&tb), "API");
    assert_ne!(aws_auth(&tb), Value::Null, "aws-auth is kept");
    assert_ne!(
        aws_auth(&tb),
        aws_auth_before,
        "only eve's mapping was removed, by the test"
    );
    let out = eventually(&tb, &bob_creds, &["get", "pods", "-n", "default"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = eventually(
        &tb,
        &admin_creds,
        &["create", "namespace", "by-admin"],
        |o| o.status.success(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
}

#[test]
fn auto_without_aws_credentials_names_the_problem_and_the_way_out() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: arn:aws:eks:us-east-1:123456789012:cluster/x\n  cluster: {server: \"https://127.0.0.1:1\"}\ncontexts:\n- name: c\n  context: {cluster: \"arn:aws:eks:us-east-1:123456789012:cluster/x\", user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: x}\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("list")
        .output()
        .unwrap();
    let err = fails(&out);
    assert!(err.contains("no credentials found"), "{err}");
    assert!(err.contains("--backend aws-auth"), "{err}");
}

/// The EKS calls the stand-in received for the testbed's cluster since the last call, by
/// operation.
fn eks_calls(tb: &Testbed) -> Value {
    tb.aws_admin(
        "/_testbed/eks/calls",
        &serde_json::json!({"cluster": tb.cluster_name(), "reset": true}),
    )
    .unwrap()["calls"]
        .clone()
}

#[test]
fn the_exec_stanza_names_the_cluster_and_each_command_asks_describe_cluster_at_most_once() {
    let tb = start(AuthenticationMode::ApiAndConfigMap);
    if tb.kubeconfig_uses_static_token() {
        eprintln!("skipped: kubectl-eks_token is not built, so no kubeconfig has an exec stanza");
        return;
    }
    let bob = tb.create_user("bob").unwrap();
    // A context named `dev` (as a hand-written kubeconfig names it): only the user's exec
    // stanza (`kubectl-eks_token --cluster-name testbed`, env AWS_REGION) says which cluster.
    let creator = tb.creator().unwrap().keys.clone();
    let kubeconfig = tb
        .kubeconfig_for(&Creds::Aws(creator), false)
        .replace(tb.cluster_arn(), "dev");
    assert!(!kubeconfig.contains("arn:aws:eks"), "{kubeconfig}");
    let path = tb.dir().join("kubeconfig-dev");
    std::fs::write(&path, &kubeconfig).unwrap();
    let path = path.display().to_string();
    // Neither the shell's region nor a cluster name from the environment: the stanza's own.
    let env = [
        ("KUBECONFIG", path.as_str()),
        ("AWS_REGION", ""),
        ("AWS_DEFAULT_REGION", ""),
    ];
    eks_calls(&tb);
    let out = grant_with(&tb, &env, &["list"]);
    ok(&out);
    assert!(
        text(&out.stderr)
            .contains("using access entries: cluster `testbed` is in API_AND_CONFIG_MAP mode"),
        "{}",
        text(&out.stderr)
    );
    let commands: &[&[&str]] = &[
        &["list"],
        &["add", &bob.arn, "--preset", "view", "--dry-run"],
        &["add", &bob.arn, "--preset", "view"],
        &["check", &bob.arn],
        &["revoke", &bob.arn],
        &["undo"],
        &["--backend", "access-entries", "list"],
        &[
            "--backend",
            "access-entries",
            "add",
            &bob.arn,
            "--preset",
            "edit",
        ],
        &["migrate", "--to", "API", "--dry-run"],
    ];
    eks_calls(&tb);
    for args in commands {
        let out = grant_with(&tb, &env, args);
        // `migrate --to API` refuses while aws-auth still lets someone in: still one question.
        if args[0] != "migrate" {
            ok(&out);
        }
        let calls = eks_calls(&tb);
        let described = calls["DescribeCluster"].as_u64().unwrap_or(0);
        // One: the mode is needed (auto, or access entries' list and writes), and asked once.
        assert_eq!(
            described,
            1,
            "`kubectl eks-grant {}` asked DescribeCluster {described} times (calls: {calls})\nstderr:\n{}",
            args.join(" "),
            text(&out.stderr)
        );
    }
    // `--backend aws-auth` asks EKS nothing.
    ok(&grant_with(
        &tb,
        &env,
        &[
            "--backend",
            "aws-auth",
            "add",
            &bob.arn,
            "--group",
            "readers",
        ],
    ));
    assert_eq!(eks_calls(&tb), serde_json::json!({}));
}

/// The ClusterRoleBinding eks-grant makes for a preset's default group, if it exists.
fn binding(tb: &Testbed, name: &str) -> Option<Value> {
    tb.get_object("ClusterRoleBinding", "", name)
}

#[test]
fn cluster_reader_no_secrets_on_access_entries_is_a_group_and_our_rbac_and_revoke_and_undo_take_both()
 {
    let tb = start(AuthenticationMode::Api);
    let bob = tb.create_user("bob").unwrap();
    tb.put_object(serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "kube-system"}, "data": {"a": "b"}}))
        .unwrap();
    let group = "eks-grant:cluster-reader-no-secrets";

    // A group another entry holds would widen what carol may do: refused, nothing written.
    let carol = tb.create_user("carol").unwrap();
    ok(&grant(&tb, &["add", &carol.arn, "--group", "auditors"]));
    let err = fails(&grant(
        &tb,
        &[
            "add",
            &bob.arn,
            "--preset",
            "cluster-reader-no-secrets",
            "--group",
            "auditors",
        ],
    ));
    assert!(
        err.contains(&format!("group `auditors` is also held by `{}`", carol.arn)),
        "{err}"
    );
    assert!(entry_of(&tb, &bob.arn).is_none());
    assert!(binding(&tb, "eks-grant:auditors:cluster-reader-no-secrets").is_none());

    // Dry run: the entry's call and the RBAC objects that would be made; nothing written.
    let out = grant(
        &tb,
        &[
            "add",
            &bob.arn,
            "--preset",
            "cluster-reader-no-secrets",
            "--dry-run",
        ],
    );
    let stdout = ok(&out);
    assert!(
        stdout.contains(&format!("--kubernetes-groups {group}")),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("RBAC ClusterRoleBinding/{group} would be created")),
        "{stdout}"
    );
    assert!(entry_of(&tb, &bob.arn).is_none());
    assert!(binding(&tb, group).is_none(), "a dry run writes nothing");

    let add = || -> Value {
        let args = [
            "add",
            &bob.arn,
            "--preset",
            "cluster-reader-no-secrets",
            "-o",
            "json",
        ];
        serde_json::from_str(&ok(&grant(&tb, &args))).unwrap()
    };
    let report = add();
    assert_eq!(report["result"], "created");
    assert_eq!(
        report["rbac"],
        serde_json::json!([
            format!("ClusterRole/{group} created"),
            format!("ClusterRoleBinding/{group} created")
        ])
    );
    // No AWS-managed policy: the entry carries the group, and our binding gives it the role.
    let e = entry_of(&tb, &bob.arn).expect("bob's entry");
    assert_eq!(e["kubernetesGroups"], serde_json::json!([group]));
    assert_eq!(e["policies"], serde_json::json!([]));
    let b = binding(&tb, group).expect("the binding");
    assert_eq!(b["roleRef"]["name"], group);
    assert_eq!(b["subjects"][0]["kind"], "Group");
    assert_eq!(b["subjects"][0]["name"], group);

    // bob, with real kubectl: configmaps in every namespace, no secrets.
    let bob_creds = Creds::from(&bob);
    let out = eventually(&tb, &bob_creds, &["get", "configmaps", "-A"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("settings"),
        "{}",
        text(&out.stdout)
    );
    // The stand-in serves no Secrets; the API server's authorizer answers for them.
    for (verb, resource, allowed) in [
        ("list", "configmaps", "yes"),
        ("get", "secrets", "no"),
        ("list", "secrets", "no"),
        ("create", "configmaps", "no"),
    ] {
        let out = tb
            .kubectl(
                &bob_creds,
                &["auth", "can-i", verb, resource, "--all-namespaces"],
            )
            .unwrap();
        assert_eq!(
            text(&out.stdout).trim(),
            allowed,
            "{verb} {resource}: {}",
            text(&out.stderr)
        );
    }

    // The same add again changes nothing.
    assert_eq!(add()["result"], "unchanged");

    // revoke takes the entry and the binding nobody needs any more.
    let report: Value =
        serde_json::from_str(&ok(&grant(&tb, &["revoke", &bob.arn, "-o", "json"]))).unwrap();
    assert_eq!(report["result"], "deleted");
    assert!(entry_of(&tb, &bob.arn).is_none());
    assert!(
        binding(&tb, group).is_none(),
        "the binding went with the entry"
    );
    assert!(tb.get_object("ClusterRole", "", group).is_none());
    let out = eventually(&tb, &bob_creds, &["get", "configmaps", "-A"], |o| {
        !o.status.success()
    });
    assert!(!out.status.success(), "bob is out again");

    // undo brings both back, as revoke found them; undo again takes the grant back.
    let stdout = ok(&grant(&tb, &["undo"]));
    assert!(stdout.contains("`revoke`"), "{stdout}");
    assert_eq!(
        entry_of(&tb, &bob.arn).expect("the entry is back")["kubernetesGroups"],
        serde_json::json!([group])
    );
    assert!(binding(&tb, group).is_some(), "the binding is back");
    let out = eventually(&tb, &bob_creds, &["get", "configmaps", "-A"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = ok(&grant(&tb, &["undo"]));
    assert!(stdout.contains("`add`"), "{stdout}");
    assert!(entry_of(&tb, &bob.arn).is_none());
    assert!(binding(&tb, group).is_none());
}

#[test]
fn undo_reverts_the_later_change_of_either_store() {
    let tb = start(AuthenticationMode::ApiAndConfigMap);
    let carol = tb.create_user("carol").unwrap();
    let bob = tb.create_user("bob").unwrap();
    // First an aws-auth change, then an access-entry change.
    ok(&grant(
        &tb,
        &[
            "--backend",
            "aws-auth",
            "add",
            &carol.arn,
            "--group",
            "readers",
        ],
    ));
    ok(&grant(
        &tb,
        &["add", &bob.arn, "--policy", "AmazonEKSViewPolicy"],
    ));
    let has_carol = |tb: &Testbed| {
        aws_auth(tb)["mapUsers"]
            .as_str()
            .is_some_and(|m| m.contains(&carol.arn))
    };
    assert!(has_carol(&tb));
    assert!(entry_of(&tb, &bob.arn).is_some());

    // The first undo takes the later one: bob's entry; aws-auth stays.
    let out = grant(&tb, &["undo"]);
    let stdout = ok(&out);
    assert!(
        stdout.contains(&format!("`add` of `{}`", bob.arn)),
        "{stdout}"
    );
    assert!(
        text(&out.stderr).contains("which the next `undo` reverts"),
        "{}",
        text(&out.stderr)
    );
    assert!(entry_of(&tb, &bob.arn).is_none());
    assert!(has_carol(&tb));

    // The second takes the aws-auth one.
    ok(&grant(&tb, &["undo"]));
    assert!(!has_carol(&tb), "{}", aws_auth(&tb));
    assert!(entry_of(&tb, &bob.arn).is_none());

    // `--backend access-entries` limits undo to access entries: nothing left there.
    let err = fails(&grant(&tb, &["--backend", "access-entries", "undo"]));
    assert!(err.contains("nothing to undo"), "{err}");
}

#[test]
fn the_exec_stanzas_role_is_the_identity_that_asks_eks() {
    let tb = start(AuthenticationMode::ApiAndConfigMap);
    if tb.kubeconfig_uses_static_token() {
        eprintln!("skipped: kubectl-eks_token is not built, so no kubeconfig has an exec stanza");
        return;
    }
    // The role kubectl uses (the stanza's `--role-arn`) may administer the cluster.
    let role = tb.create_role("platform-admin", "/").unwrap();
    ok(&grant(
        &tb,
        &["add", &role.arn, "--preset", "cluster-admin"],
    ));
    let creator = tb.creator().unwrap().clone();
    let kubeconfig = tb.kubeconfig_for(&Creds::Aws(creator.keys.clone()), false);
    let line = kubeconfig
        .lines()
        .find(|l| l.trim() == "- --cluster-name")
        .expect("the stanza names the cluster");
    let indent = &line[..line.len() - line.trim_start().len()];
    let kubeconfig = kubeconfig.replacen(
        line,
        &format!("{indent}- --role-arn\n{indent}- {}\n{line}", role.arn),
        1,
    );
    let path = tb.dir().join("kubeconfig-role");
    std::fs::write(&path, &kubeconfig).unwrap();
    let path = path.display().to_string();
    let env = [("KUBECONFIG", path.as_str())];
    let deny = |arn: &str| {
        tb.aws_admin(
            "/_testbed/eks/faults",
            &serde_json::json!({"deny": {"principal_arn": arn, "actions": ["eks:DescribeCluster"]}}),
        )
        .unwrap();
    };

    // The creator's own keys may no longer describe the cluster; the role still may, and it is
    // the role that asks.
    deny(&creator.arn);
    let out = grant_with(&tb, &env, &["list"]);
    ok(&out);
    assert!(
        text(&out.stderr).contains("using access entries"),
        "{}",
        text(&out.stderr)
    );
    // `--profile` would name the identity as it is; without one, denying the role is felt.
    deny(&role.arn);
    let err = fails(&grant_with(&tb, &env, &["list"]));
    assert!(err.contains("eks:DescribeCluster"), "{err}");
    assert!(err.contains("assumed-role/platform-admin/"), "{err}");
}
