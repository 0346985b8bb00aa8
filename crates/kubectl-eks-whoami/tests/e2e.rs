//! End to end: the real `kubectl-eks_whoami` against the stand-in EKS (`eks_testbed::Testbed`),
//! with kubeconfigs whose exec stanza runs the real `kubectl-eks_token`.
//!
//! Needs `python3` with tests/aws/requirements.txt. `kubectl-eks_token` is built on first use
//! when `cargo nextest run -p kubectl-eks-whoami` did not build it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use eks_testbed::access::strings;
use eks_testbed::{AwsKeys, Testbed, TestbedOptions, bin_path};
use kubectl_eks_test_support::exec_kubeconfig;
use serde_json::{Value, json};

const ACCOUNT: &str = "123456789012";

/// `kubectl-eks_token`, built once if missing.
fn token_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = bin_path("kubectl-eks_token") {
            return p;
        }
        let cargo = option_env!("CARGO").unwrap_or("cargo");
        let status = Command::new(cargo)
            .args(["build", "-q", "-p", "kubectl-eks-token"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .status()
            .expect("cargo runs");
        assert!(status.success(), "building kubectl-eks_token failed");
        bin_path("kubectl-eks_token").expect("kubectl-eks_token is built next to the tests")
    })
    .clone()
}

fn start() -> Testbed {
    Testbed::start(TestbedOptions::default()).expect("the testbed starts")
}

/// A kubeconfig whose exec stanza runs `kubectl-eks_token` with these keys pinned in its env.
fn kubeconfig(tb: &Testbed, keys: &AwsKeys, extra_args: &[&str], name: &str) -> PathBuf {
    let mut args = vec!["--cluster-name", tb.cluster_name()];
    args.extend_from_slice(extra_args);
    let endpoint = tb.aws_endpoint().unwrap();
    let env = [
        ("AWS_REGION", "us-east-1"),
        ("AWS_ENDPOINT_URL", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", keys.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", keys.secret_access_key.as_str()),
    ];
    let config = exec_kubeconfig(
        &tb.server_url(),
        &tb.dir().join("ca.pem"),
        tb.cluster_arn(),
        name,
        &token_bin().display().to_string(),
        &args,
        &env,
    );
    let path = tb.dir().join(format!("kubeconfig-whoami-{name}"));
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs whoami hermetically: no AWS_* or KUBECONFIG from the caller, HOME in the testbed dir.
fn whoami(tb: &Testbed, kubeconfig: &Path, args: &[&str]) -> Output {
    let home = tb.dir().join("home-whoami");
    std::fs::create_dir_all(&home).unwrap();
    Command::new(env!("CARGO_BIN_EXE_kubectl-eks_whoami"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home)
        .env("NO_COLOR", "1")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("whoami runs")
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Runs whoami, asserts its exit code (showing its stderr if it differs) and parses its JSON.
fn json_run(tb: &Testbed, kubeconfig: &Path, args: &[&str], code: i32) -> Value {
    let out = whoami(tb, kubeconfig, args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    json_of(&out)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn bind_cluster_role(tb: &Testbed, name: &str, role: &str, group: &str) {
    tb.put_object(json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group}],
    }))
    .unwrap();
}

/// Namespaces `team-FROM` up to `team-TO` (excluded).
fn add_namespaces(tb: &Testbed, from: usize, to: usize) {
    for i in from..to {
        tb.put_object(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": format!("team-{i}")}}))
            .unwrap();
    }
}

/// `--all -o json` (exit status 0), and the number of API requests it made (request log).
fn all_json_counting_requests(tb: &Testbed, kubeconfig: &Path) -> (usize, Value) {
    let before = tb.request_log().len();
    let v = json_run(tb, kubeconfig, &["--all", "-o", "json"], 0);
    (tb.request_log().len() - before, v)
}

/// The words of the permission matrix's line for `resource` in whoami's text output.
fn matrix_line<'a>(text: &'a str, resource: &str) -> Vec<&'a str> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|words| words.first() == Some(&resource))
        .unwrap_or_else(|| panic!("no matrix line for {resource}: {text}"))
}

/// The row for `resource` of `permissions.resources` in whoami's JSON.
fn matrix_row<'a>(rows: &'a [Value], resource: &str) -> &'a Value {
    rows.iter()
        .find(|r| r["resource"] == resource)
        .unwrap_or_else(|| panic!("no matrix row for {resource}: {rows:?}"))
}

#[test]
fn cluster_creator_is_the_implicit_admin() {
    let tb = start();
    let creator = tb.creator().unwrap().clone();
    let kc = kubeconfig(&tb, &creator.keys, &[], "creator");
    let out = whoami(&tb, &kc, &["-o", "json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_of(&out);
    assert_eq!(v["aws"]["arn"], creator.arn.as_str());
    assert_eq!(v["aws"]["canonical_arn"], creator.arn.as_str());
    assert_eq!(v["aws"]["account"], ACCOUNT);
    assert_eq!(v["aws"]["source"], "exec-plugin");
    assert_eq!(
        v["aws"]["access_key_id"],
        creator.keys.access_key_id.as_str()
    );
    assert_eq!(v["aws"]["token"]["cluster_name"], "testbed");
    assert_eq!(v["aws"]["exec"]["tool"], "kubectl-eks-token");
    assert_eq!(v["kubernetes"]["status"], "authenticated");
    assert_eq!(v["kubernetes"]["username"], "kubernetes-admin");
    assert!(strings(&v["kubernetes"]["groups"]).contains(&"system:masters".to_owned()));
    assert_eq!(v["mapping"]["aws_auth"], "read");
    assert_eq!(v["mapping"]["source"], "cluster-creator");
    assert_eq!(v["mapping"]["agrees"], true);
    assert!(v.get("bindings").is_none());
    // no secret reaches the output
    let text = stdout(&out);
    assert!(!text.contains(&creator.keys.secret_access_key));
    assert!(
        v["aws"]["token"]["url"]
            .as_str()
            .unwrap()
            .contains("X-Amz-Signature=REDACTED")
    );
}

#[test]
fn mapped_reader_sees_entry_bindings_and_matrix() {
    let tb = start();
    let reader = tb.create_user("reader").unwrap();
    tb.set_aws_auth(
        "",
        &format!(
            "- userarn: {arn}\n  username: old-reader\n  groups: [nobody]\n- userarn: {arn}\n  username: reader\n  groups:\n  - readers\n",
            arn = reader.arn
        ),
    )
    .unwrap();
    bind_cluster_role(&tb, "readers-view", "view", "readers");
    let kc = kubeconfig(&tb, &reader.keys, &[], "reader");

    let table = whoami(&tb, &kc, &[]);
    assert_eq!(table.status.code(), Some(0));
    let text = stdout(&table);
    eprintln!("{text}");
    assert!(
        text.contains(&format!(
            "mapUsers entry 2: {} -> username reader, groups readers",
            reader.arn
        )),
        "{text}"
    );

    let v = json_run(&tb, &kc, &["--all", "-o", "json"], 0);
    assert_eq!(v["kubernetes"]["username"], "reader");
    assert_eq!(
        strings(&v["kubernetes"]["groups"]),
        vec!["readers".to_owned(), "system:authenticated".to_owned()]
    );
    assert_eq!(v["kubernetes"]["extra"]["arn"][0], reader.arn.as_str());
    assert_eq!(v["mapping"]["aws_auth"], "read");
    assert_eq!(v["mapping"]["source"], "map-users");
    assert_eq!(v["mapping"]["entry"]["position"], 2);
    assert_eq!(v["mapping"]["shadowed"][0]["position"], 1);
    assert_eq!(v["mapping"]["shadowed"][0]["username"], "old-reader");
    // `view` does not read RBAC objects: the bindings are incomplete and say why
    assert_eq!(v["bindings"]["complete"], false);
    assert_eq!(v["diagnosis"]["kind"], "forbidden");
    let missing = strings(&v["diagnosis"]["missing"]);
    assert!(
        missing.contains(
            &"list clusterrolebindings.rbac.authorization.k8s.io at cluster scope".to_owned()
        ),
        "{missing:?}"
    );
    assert!(
        missing
            .contains(&"list rolebindings.rbac.authorization.k8s.io in all namespaces".to_owned()),
        "{missing:?}"
    );
    // the matrix: reads pods and deployments cluster-wide, writes nothing
    let rows = v["permissions"]["resources"].as_array().unwrap();
    let row = |name: &str| rows.iter().find(|r| r["resource"] == name).cloned();
    let pods = row("pods").expect("a pods row");
    assert_eq!(
        pods["verbs"],
        json!({"get": "all", "list": "all", "watch": "all"})
    );
    assert!(row("deployments.apps").is_some());
    // the only writes are the self-reviews every authenticated user may create
    for r in rows {
        if r["verbs"].get("create").is_some() {
            assert!(r["resource"].as_str().unwrap().contains("review"), "{r}");
        }
    }
    assert!(row("secrets").is_none(), "view cannot read secrets");
    assert_eq!(v["permissions"]["scope"], "cluster");
    assert!(
        v["permissions"]["method"]
            .as_str()
            .unwrap()
            .contains("SelfSubjectAccessReview")
    );
}

#[test]
fn assumed_role_shows_session_and_infers_without_aws_auth() {
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
    let kc = kubeconfig(
        &tb,
        &alice.keys,
        &["--role-arn", &role.arn, "--session-name", "alice-laptop"],
        "alice",
    );
    let v = json_run(&tb, &kc, &["-o", "json"], 0);
    assert_eq!(
        v["aws"]["arn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice-laptop")
    );
    assert_eq!(v["aws"]["canonical_arn"], role.arn.as_str());
    assert_eq!(v["aws"]["session_name"], "alice-laptop");
    assert_eq!(v["aws"]["token"]["session_token"], true);
    assert_eq!(v["kubernetes"]["username"], "dev:alice-laptop");
    // `devs` has no RBAC: aws-auth is out of reach, the source is inferred
    assert_eq!(v["mapping"]["aws_auth"], "forbidden");
    assert_eq!(v["mapping"]["source"], "unknown");
    let inferred = strings(&v["mapping"]["inferred"]);
    assert!(inferred.contains(&"the username contains your session name `alice-laptop`: a mapRoles entry whose username has `{{SessionName}}`".to_owned()), "{inferred:?}");
    assert_eq!(v["diagnosis"]["kind"], "forbidden");
    assert_eq!(
        strings(&v["diagnosis"]["missing"]),
        vec!["get configmaps `aws-auth` in namespace `kube-system`".to_owned()]
    );
}

#[test]
fn unmapped_user_gets_a_401_diagnosis_with_the_grant_line() {
    let tb = start();
    let mallory = tb.create_user("mallory").unwrap();
    let kc = kubeconfig(&tb, &mallory.keys, &[], "mallory");
    let out = whoami(&tb, &kc, &[]);
    assert_eq!(out.status.code(), Some(2));
    let text = stdout(&out);
    eprintln!("{text}");
    assert!(
        text.contains(&format!(
            "The API server refused the token (401 Unauthorized): EKS found no mapping for\n`{}`.",
            mallory.arn
        )) || text.contains(&format!("EKS found no mapping for `{}`", mallory.arn)),
        "{text}"
    );
    assert!(
        text.contains("  1. [likely] not the cluster creator and not mapped\n"),
        "{text}"
    );
    let grant = format!(
        "  kubectl eks-grant add {} --username mallory --group eks-grant:cluster-reader --preset cluster-reader\n",
        mallory.arn
    );
    assert!(text.ends_with(&grant), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("not authenticated"));

    let v = json_of(&whoami(&tb, &kc, &["-o", "json"]));
    assert_eq!(v["kubernetes"]["status"], "unauthenticated");
    assert_eq!(v["aws"]["arn"], mallory.arn.as_str());
    assert_eq!(v["mapping"]["source"], "none");
    assert_eq!(v["diagnosis"]["kind"], "unauthorized");
    assert_eq!(v["diagnosis"]["causes"][0]["id"], "not-mapped");
    assert_eq!(v["diagnosis"]["causes"][0]["verdict"], "likely");
    assert_eq!(v["diagnosis"]["causes"][1]["verdict"], "ruled-out");
    assert_eq!(v["diagnosis"]["causes"][2]["verdict"], "ruled-out");
    assert_eq!(v["diagnosis"]["causes"][4]["verdict"], "ruled-out");
}

#[test]
fn role_mapped_with_a_path_is_diagnosed_as_such() {
    let tb = start();
    let bob = tb.create_user("bob").unwrap();
    let role = tb.create_role("deploy", "/team/").unwrap();
    assert_eq!(role.arn, format!("arn:aws:iam::{ACCOUNT}:role/team/deploy"));
    // what people write: the role ARN as IAM shows it, path included
    tb.set_aws_auth(
        &format!(
            "- rolearn: {}\n  username: deployer\n  groups: [deployers]\n",
            role.arn
        ),
        "",
    )
    .unwrap();
    let kc = kubeconfig(&tb, &bob.keys, &["--role-arn", &role.arn], "bob");
    let v = json_run(&tb, &kc, &["-o", "json"], 2);
    assert_eq!(
        v["aws"]["canonical_arn"],
        format!("arn:aws:iam::{ACCOUNT}:role/deploy")
    );
    let cause = &v["diagnosis"]["causes"][1];
    assert_eq!(cause["id"], "role-path");
    assert_eq!(cause["verdict"], "likely");
    assert_eq!(
        cause["detail"],
        format!(
            "you assume `{arn}`, which has the path `/team/`; EKS drops the path and matches `arn:aws:iam::{ACCOUNT}:role/deploy`, so an aws-auth entry written as `{arn}` never matches: it must name `arn:aws:iam::{ACCOUNT}:role/deploy`",
            arn = role.arn
        )
    );
    assert_eq!(
        v["diagnosis"]["grant_command"],
        format!(
            "kubectl eks-grant add arn:aws:iam::{ACCOUNT}:role/deploy --username 'deploy:{{{{SessionName}}}}' --group eks-grant:cluster-reader --preset cluster-reader"
        )
    );
}

#[test]
fn all_makes_the_same_number_of_requests_whatever_the_namespaces() {
    let tb = start();
    let creator = tb.creator().unwrap().clone();
    let kc = kubeconfig(&tb, &creator.keys, &[], "creator");
    let add_namespaces_with_bindings = |from: usize, to: usize| {
        add_namespaces(&tb, from, to);
        for i in from..to {
            let ns = format!("team-{i}");
            tb.put_object(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
                "metadata": {"name": "admins", "namespace": ns},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "system:masters"}],
            }))
            .unwrap();
        }
    };
    add_namespaces_with_bindings(0, 5);
    let (few, v) = all_json_counting_requests(&tb, &kc);
    assert_eq!(
        v["bindings"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["kind"] == "RoleBinding")
            .count(),
        5
    );
    add_namespaces_with_bindings(5, 60);
    let (many, v) = all_json_counting_requests(&tb, &kc);
    assert_eq!(
        v["bindings"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|b| b["kind"] == "RoleBinding")
            .count(),
        60
    );
    assert_eq!(few, many);
    // SelfSubjectReview, aws-auth, four lists, SelfSubjectRulesReview
    assert_eq!(many, 7);
    assert_eq!(v["permissions"]["resources"][0]["resource"], "*.*");
}

// --- EKS access entries (API and API_AND_CONFIG_MAP modes) -----------------------------------

const VIEW_POLICY: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn start_in(mode: eks_auth::access::AuthenticationMode) -> Testbed {
    Testbed::start(TestbedOptions {
        auth_mode: mode,
        ..TestbedOptions::default()
    })
    .expect("the testbed starts")
}

/// `aws eks ARGS` as the cluster creator.
fn eks(tb: &Testbed, args: &[&str]) {
    let mut full = vec!["eks"];
    full.extend_from_slice(args);
    let creator = tb.creator().unwrap().keys.clone();
    let out = tb.aws_cli(&creator, &full).expect("aws runs");
    assert!(
        out.status.success(),
        "aws {full:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An access entry for `arn` with AmazonEKSViewPolicy at cluster scope; returns once the API
/// server lets the principal in (the stand-in reads entries at most 1 s late, as EKS takes
/// "a few seconds").
fn view_entry(tb: &Testbed, arn: &str, keys: &AwsKeys) {
    let cluster = tb.cluster_name().to_owned();
    eks(
        tb,
        &[
            "create-access-entry",
            "--cluster-name",
            &cluster,
            "--principal-arn",
            arn,
        ],
    );
    eks(
        tb,
        &[
            "associate-access-policy",
            "--cluster-name",
            &cluster,
            "--principal-arn",
            arn,
            "--policy-arn",
            VIEW_POLICY,
            "--access-scope",
            "type=cluster",
        ],
    );
    let creds = eks_testbed::Creds::Aws(keys.clone());
    let started = std::time::Instant::now();
    while started.elapsed() < std::time::Duration::from_secs(10) {
        let out = tb
            .kubectl(&creds, &["get", "configmaps", "-n", "default"])
            .unwrap();
        if out.status.success() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    panic!("{arn} was not let in within 10 s");
}

#[test]
fn api_mode_access_entry_and_view_policy_are_the_source_and_fill_the_matrix() {
    let tb = start_in(eks_auth::access::AuthenticationMode::Api);
    let viewer = tb.create_user("viewer").unwrap();
    view_entry(&tb, &viewer.arn, &viewer.keys);
    let kc = kubeconfig(&tb, &viewer.keys, &[], "viewer");

    let v = json_run(&tb, &kc, &["--all", "-o", "json"], 0);
    assert_eq!(v["kubernetes"]["username"], viewer.arn.as_str());
    let m = &v["mapping"];
    assert_eq!(m["source"], "access-entry");
    assert_eq!(m["agrees"], true);
    assert_eq!(m["access"]["authentication_mode"], "API");
    assert_eq!(m["access"]["entry_status"], "found");
    let entry = &m["access"]["entry"];
    assert_eq!(entry["principal_arn"], viewer.arn.as_str());
    assert_eq!(entry["type"], "STANDARD");
    assert_eq!(entry["username"], viewer.arn.as_str());
    assert_eq!(
        entry["policies"],
        json!([{"name": "AmazonEKSViewPolicy", "arn": VIEW_POLICY, "scope": "cluster"}])
    );
    // The matrix: `list configmaps` from the policy, which the rules review cannot see.
    let rows = v["permissions"]["resources"].as_array().unwrap();
    let cm = matrix_row(rows, "configmaps");
    assert_eq!(cm["verbs"]["list"], "all");
    assert_eq!(
        cm["sources"]["list"],
        json!([{"from": "access-policy", "policy": "AmazonEKSViewPolicy", "scope": "cluster"}])
    );
    assert!(cm["verbs"].get("create").is_none());
    assert!(rows.iter().all(|r| r["resource"] != "secrets"));
    let review = rows
        .iter()
        .find(|r| r["resource"] == "selfsubjectaccessreviews.authorization.k8s.io")
        .unwrap();
    assert_eq!(review["sources"]["create"], json!([{"from": "rbac"}]));
    // View lists no RBAC objects: the 403 names the policy and scope that would.
    let d = &v["diagnosis"];
    assert_eq!(d["kind"], "forbidden");
    assert_eq!(
        d["access_policies"][0],
        json!({
            "request": "list clusterrolebindings.rbac.authorization.k8s.io at cluster scope",
            "policy": "AmazonEKSAdminViewPolicy",
            "scope": "cluster",
        })
    );
    assert_eq!(
        d["grant_command"],
        format!(
            "kubectl eks-grant add {} --policy AmazonEKSAdminViewPolicy",
            viewer.arn
        )
    );

    // The same at a terminal: the entry, the policy, and `A` cells.
    let out = whoami(&tb, &kc, &["--all"]);
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "SOURCE     access entry {arn} (STANDARD) -> username {arn}\n",
            arn = viewer.arn
        )),
        "{text}"
    );
    assert!(
        text.contains("POLICIES   AmazonEKSViewPolicy (cluster)\n"),
        "{text}"
    );
    assert_eq!(
        matrix_line(&text, "configmaps"),
        ["configmaps", "A", "A", "A"],
        "{text}"
    );
}

#[test]
fn api_and_config_map_access_entry_wins_over_aws_auth() {
    let tb = start_in(eks_auth::access::AuthenticationMode::ApiAndConfigMap);
    let both = tb.create_user("both").unwrap();
    tb.set_aws_auth(
        "",
        &format!(
            "- userarn: {}\n  username: from-aws-auth\n  groups: [cm-readers]\n",
            both.arn
        ),
    )
    .unwrap();
    view_entry(&tb, &both.arn, &both.keys);
    let kc = kubeconfig(&tb, &both.keys, &[], "both");
    let v = json_run(&tb, &kc, &["-o", "json"], 0);
    assert_eq!(v["kubernetes"]["username"], both.arn.as_str());
    let m = &v["mapping"];
    assert_eq!(m["source"], "access-entry");
    assert_eq!(m["access"]["authentication_mode"], "API_AND_CONFIG_MAP");
    assert_eq!(m["entry"]["key"], "access-entry");
    assert_eq!(m["overrides"][0]["reason"], "behind-access-entry");
    assert_eq!(m["overrides"][0]["entry"]["key"], "mapUsers");
    assert_eq!(m["overrides"][0]["entry"]["username"], "from-aws-auth");

    let text = stdout(&whoami(&tb, &kc, &[]));
    assert!(
        text.contains(&format!(
            "OVERRIDES   mapUsers entry 1: {} -> username from-aws-auth, groups cm-readers (behind the access entry)\n",
            both.arn
        )),
        "{text}"
    );
}

#[test]
fn api_mode_401_says_there_is_no_access_entry_with_the_grant_line() {
    let tb = start_in(eks_auth::access::AuthenticationMode::Api);
    let mallory = tb.create_user("mallory").unwrap();
    // aws-auth names mallory, which API mode ignores.
    tb.set_aws_auth(
        "",
        &format!(
            "- userarn: {}\n  username: mallory\n  groups: [readers]\n",
            mallory.arn
        ),
    )
    .unwrap();
    let kc = kubeconfig(&tb, &mallory.keys, &[], "mallory");
    let v = json_run(&tb, &kc, &["-o", "json"], 2);
    assert_eq!(v["kubernetes"]["status"], "unauthenticated");
    assert_eq!(v["mapping"]["source"], "none");
    assert_eq!(v["mapping"]["access"]["entry_status"], "not-found");
    let d = &v["diagnosis"];
    assert_eq!(d["kind"], "unauthorized");
    assert_eq!(d["causes"][0]["id"], "no-access-entry");
    assert_eq!(d["causes"][0]["verdict"], "likely");
    assert_eq!(d["causes"][1]["id"], "role-path");
    assert_eq!(d["causes"][1]["verdict"], "ruled-out");
    let line = format!(
        "kubectl eks-grant add {} --policy AmazonEKSAdminViewPolicy",
        mallory.arn
    );
    assert_eq!(d["grant_command"], line.as_str());
    let text = stdout(&whoami(&tb, &kc, &[]));
    assert!(text.ends_with(&format!("  {line}\n")), "{text}");
    assert!(
        text.contains("  1. [likely] no access entry for this identity\n"),
        "{text}"
    );
}

#[test]
fn api_mode_all_makes_the_same_number_of_requests_with_5_and_200_namespaces() {
    let tb = start_in(eks_auth::access::AuthenticationMode::Api);
    let viewer = tb.create_user("viewer").unwrap();
    view_entry(&tb, &viewer.arn, &viewer.keys);
    let kc = kubeconfig(&tb, &viewer.keys, &[], "viewer");
    add_namespaces(&tb, 0, 5);
    let (few, v) = all_json_counting_requests(&tb, &kc);
    assert_eq!(v["mapping"]["source"], "access-entry");
    add_namespaces(&tb, 5, 200);
    let (many, v) = all_json_counting_requests(&tb, &kc);
    assert_eq!(v["mapping"]["source"], "access-entry");
    assert_eq!(few, many);
}

#[test]
fn api_mode_entry_unreadable_probes_the_policies_and_names_the_refused_action() {
    let tb = start_in(eks_auth::access::AuthenticationMode::Api);
    let viewer = tb.create_user("viewer").unwrap();
    view_entry(&tb, &viewer.arn, &viewer.keys);
    // The viewer's AWS identity may not read its own entry: EKS answers AccessDeniedException.
    tb.aws_admin(
        "/_testbed/eks/faults",
        &json!({"deny": {"principal_arn": viewer.arn, "actions": ["eks:DescribeAccessEntry"]}}),
    )
    .unwrap();
    let kc = kubeconfig(&tb, &viewer.keys, &[], "viewer");
    add_namespaces(&tb, 0, 5);
    let (few, v) = all_json_counting_requests(&tb, &kc);

    let m = &v["mapping"];
    assert_eq!(m["source"], "access-entry");
    assert_eq!(m["access"]["entry_status"], "forbidden");
    assert_eq!(
        m["access"]["confirm_with"],
        json!(["eks:DescribeAccessEntry"])
    );
    assert!(m["access"].get("entry").is_none_or(Value::is_null), "{m}");
    // The matrix still shows what AmazonEKSViewPolicy grants, found by access reviews.
    let p = &v["permissions"];
    let rows = p["resources"].as_array().unwrap();
    let cm = matrix_row(rows, "configmaps");
    assert_eq!(cm["verbs"]["list"], "all");
    assert_eq!(
        cm["sources"]["list"],
        json!([{"from": "access-policy", "policy": "AmazonEKSViewPolicy", "scope": "cluster", "probed": true}])
    );
    assert!(cm["verbs"].get("create").is_none());
    assert!(rows.iter().all(|r| r["resource"] != "secrets"));
    let notes = strings(&p["notes"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains(
                "your access entry could not be read (`eks:DescribeAccessEntry` was refused)"
            ) && n.contains("AmazonEKSViewPolicy (or a policy holding all of its rules)")),
        "{notes:?}"
    );

    // Probing costs the same whatever the namespaces.
    add_namespaces(&tb, 5, 60);
    let (many, _) = all_json_counting_requests(&tb, &kc);
    assert_eq!(few, many);

    // At a terminal: `A` cells, the legend says how they were found, the note names the action.
    let text = stdout(&whoami(&tb, &kc, &["--all"]));
    assert_eq!(
        matrix_line(&text, "configmaps"),
        ["configmaps", "A", "A", "A"],
        "{text}"
    );
    assert!(
        text.contains("A an access policy (AmazonEKSViewPolicy, found by access reviews)"),
        "{text}"
    );
    assert!(
        text.contains("`eks:DescribeAccessEntry` was refused"),
        "{text}"
    );
}
