//! EKS access entries end to end: real kubectl and the real AWS CLI against the stand-in EKS in
//! each authentication mode.
//!
//! Needs `kubectl` and `aws` on PATH, `python3` with tests/aws/requirements.txt, and
//! `kubectl-eks_token` built (`cargo build --workspace --bins`) for the exec-stanza path.

use std::process::Output;
use std::time::{Duration, Instant};

use eks_auth::access::AuthenticationMode;
use eks_testbed::{AwsKeys, Creds, Testbed};
use serde_json::{Value, json};

const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const EDIT: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy";
const ACCOUNT: &str = "123456789012";

fn start(mode: AuthenticationMode) -> Testbed {
    Testbed::start_in(mode).expect("the testbed starts")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn kubectl(tb: &Testbed, creds: &Creds, args: &[&str]) -> Output {
    tb.kubectl(creds, args).expect("kubectl runs")
}

fn kubectl_ok(tb: &Testbed, creds: &Creds, args: &[&str]) -> String {
    let out = kubectl(tb, creds, args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

fn creator_keys(tb: &Testbed) -> AwsKeys {
    tb.creator().expect("the AWS side runs").keys.clone()
}

/// `aws eks ARGS --cluster-name testbed` as the cluster creator; the parsed JSON answer.
fn eks(tb: &Testbed, args: &[&str]) -> Value {
    let mut full = vec!["eks"];
    full.extend_from_slice(args);
    let out = tb.aws_cli(&creator_keys(tb), &full).expect("aws runs");
    assert!(
        out.status.success(),
        "aws {full:?} failed: {}",
        text(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

fn create_entry(tb: &Testbed, principal: &str, extra: &[&str]) {
    let mut args = vec![
        "create-access-entry",
        "--cluster-name",
        tb.cluster_name(),
        "--principal-arn",
        principal,
    ];
    args.extend_from_slice(extra);
    eks(tb, &args);
}

fn associate(tb: &Testbed, principal: &str, policy: &str, scope: &str) {
    eks(
        tb,
        &[
            "associate-access-policy",
            "--cluster-name",
            tb.cluster_name(),
            "--principal-arn",
            principal,
            "--policy-arn",
            policy,
            "--access-scope",
            scope,
        ],
    );
}

/// Runs kubectl until `ok(output)` holds, for changes that take effect "within a few seconds".
fn eventually(tb: &Testbed, creds: &Creds, args: &[&str], ok: impl Fn(&Output) -> bool) -> Output {
    let started = Instant::now();
    loop {
        let out = kubectl(tb, creds, args);
        if ok(&out) || started.elapsed() > Duration::from_secs(10) {
            return out;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn forbidden(out: &Output) -> bool {
    !out.status.success() && text(&out.stderr).contains("forbidden")
}

fn unauthorized(out: &Output) -> bool {
    !out.status.success() && text(&out.stderr).contains("You must be logged in to the server")
}

/// Sets aws-auth's `mapUsers` to these (ARN, username) entries, each in the group `readers`.
fn set_aws_auth_users(tb: &Testbed, users: &[(&str, &str)]) {
    let mut cm = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap();
    let map: String = users
        .iter()
        .map(|(arn, name)| {
            format!("- userarn: {arn}\n  username: {name}\n  groups:\n  - readers\n")
        })
        .collect();
    cm["data"]["mapUsers"] = json!(map);
    tb.put_object(cm).unwrap();
}

#[test]
fn api_mode_view_policy_reads_cannot_write_and_can_i_agrees() {
    let tb = start(AuthenticationMode::Api);
    // The creator is let in by its bootstrap access entry (AmazonEKSClusterAdminPolicy), not by
    // system:masters.
    let creator = Creds::Aws(creator_keys(&tb));
    let who: Value = serde_json::from_str(&kubectl_ok(
        &tb,
        &creator,
        &["auth", "whoami", "-o", "json"],
    ))
    .unwrap();
    let creator_arn = tb.creator().unwrap().arn.clone();
    assert_eq!(who["status"]["userInfo"]["username"], creator_arn.as_str());
    assert!(
        !who["status"]["userInfo"]["groups"]
            .as_array()
            .unwrap()
            .contains(&json!("system:masters"))
    );
    kubectl_ok(
        &tb,
        &creator,
        &["create", "configmap", "demo", "-n", "default"],
    );

    let alice = tb.create_user("alice").unwrap();
    let alice_creds = Creds::from(&alice);
    // No entry yet: 401.
    assert!(unauthorized(&kubectl(
        &tb,
        &alice_creds,
        &["get", "configmaps", "-n", "default"]
    )));
    create_entry(&tb, &alice.arn, &[]);
    associate(&tb, &alice.arn, VIEW, "type=cluster");

    let out = eventually(
        &tb,
        &alice_creds,
        &["get", "configmaps", "-n", "default"],
        |o| o.status.success(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("demo"));
    // The default username of an IAM user's entry is its ARN; no groups of its own.
    let who: Value = serde_json::from_str(&kubectl_ok(
        &tb,
        &alice_creds,
        &["auth", "whoami", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(who["status"]["userInfo"]["username"], alice.arn.as_str());
    assert_eq!(
        who["status"]["userInfo"]["groups"],
        json!(["system:authenticated"])
    );

    let out = kubectl(
        &tb,
        &alice_creds,
        &["create", "configmap", "nope", "-n", "default"],
    );
    assert!(forbidden(&out), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains(&format!(
            "User \"{}\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\"",
            alice.arn
        )),
        "{}",
        text(&out.stderr)
    );
    // View has no cluster-scoped kinds but namespaces.
    let out = kubectl(&tb, &alice_creds, &["get", "clusterroles"]);
    assert!(forbidden(&out), "{}", text(&out.stderr));
    kubectl_ok(&tb, &alice_creds, &["get", "namespaces"]);

    // `kubectl auth can-i` (SelfSubjectAccessReview) agrees with what happened...
    assert_eq!(
        kubectl_ok(&tb, &alice_creds, &["auth", "can-i", "list", "configmaps"]).trim(),
        "yes"
    );
    let out = kubectl(
        &tb,
        &alice_creds,
        &["auth", "can-i", "create", "configmaps"],
    );
    assert_eq!(text(&out.stdout).trim(), "no");
    // ...but `--list` (SelfSubjectRulesReview) shows RBAC only, as on EKS: no configmaps.
    let list = kubectl_ok(&tb, &alice_creds, &["auth", "can-i", "--list"]);
    assert!(!list.contains("configmaps"), "{list}");
    assert!(list.contains("selfsubjectreviews"), "{list}");

    // Impersonating alice forces RBAC alone (EKS user guide, access-policies.html): the creator,
    // allowed to impersonate by its AmazonEKSClusterAdminPolicy, gets none of alice's policy.
    let out = kubectl(
        &tb,
        &creator,
        &["get", "configmaps", "-n", "default", "--as", &alice.arn],
    );
    assert!(forbidden(&out), "{}", text(&out.stderr));

    // A SubjectAccessReview carrying the user's uid sees the policy; one without does not.
    let uid = who["status"]["userInfo"]["uid"]
        .as_str()
        .unwrap()
        .to_owned();
    for (with_uid, expected) in [(true, true), (false, false)] {
        let mut spec = json!({"user": alice.arn, "groups": ["system:authenticated"],
            "resourceAttributes": {"verb": "list", "resource": "configmaps", "namespace": "default"}});
        if with_uid {
            spec["uid"] = json!(uid);
        }
        let sar = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview", "spec": spec});
        let path = tb.dir().join(format!("sar-{with_uid}.json"));
        std::fs::write(&path, sar.to_string()).unwrap();
        let out: Value = serde_json::from_str(&kubectl_ok(
            &tb,
            &creator,
            &[
                "create",
                "--validate=false",
                "-f",
                path.to_str().unwrap(),
                "-o",
                "json",
            ],
        ))
        .unwrap();
        assert_eq!(out["status"]["allowed"], expected, "{out}");
        if expected {
            assert!(
                out["status"]["reason"]
                    .as_str()
                    .unwrap()
                    .contains("AmazonEKSViewPolicy")
            );
        }
    }
}

#[test]
fn api_mode_ignores_aws_auth_and_a_mode_change_takes_effect() {
    // Start in API_AND_CONFIG_MAP: both stores count.
    let tb = start(AuthenticationMode::ApiAndConfigMap);
    let bob = tb.create_user("bob").unwrap();
    let carol = tb.create_user("carol").unwrap();
    set_aws_auth_users(
        &tb,
        &[
            (&bob.arn, "bob-from-aws-auth"),
            (&carol.arn, "carol-from-aws-auth"),
        ],
    );
    // carol has an entry as well: it wins over her aws-auth entry.
    create_entry(
        &tb,
        &carol.arn,
        &[
            "--username",
            "carol-from-entry",
            "--kubernetes-groups",
            "team",
        ],
    );
    let whoami =
        |creds: &Creds| -> Output { kubectl(&tb, creds, &["auth", "whoami", "-o", "json"]) };
    let name_of = |o: &Output| -> String {
        serde_json::from_slice::<Value>(&o.stdout).unwrap()["status"]["userInfo"]["username"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    let out = whoami(&Creds::from(&bob));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(name_of(&out), "bob-from-aws-auth");
    let out = eventually(
        &tb,
        &Creds::from(&carol),
        &["auth", "whoami", "-o", "json"],
        |o| o.status.success() && name_of(o) == "carol-from-entry",
    );
    assert_eq!(name_of(&out), "carol-from-entry");
    let groups =
        serde_json::from_slice::<Value>(&out.stdout).unwrap()["status"]["userInfo"]["groups"]
            .clone();
    assert_eq!(groups, json!(["team", "system:authenticated"]));

    // Going to API: aws-auth stops counting within a few seconds of the update completing.
    let update = eks(
        &tb,
        &[
            "update-cluster-config",
            "--name",
            tb.cluster_name(),
            "--access-config",
            "authenticationMode=API",
        ],
    );
    assert_eq!(update["update"]["type"], "AccessConfigUpdate");
    let out = eventually(&tb, &Creds::from(&bob), &["auth", "whoami"], unauthorized);
    assert!(unauthorized(&out), "{}", text(&out.stderr));
    let reasons: Vec<String> = tb
        .request_log()
        .into_iter()
        .filter(|r| r.status == 401)
        .map(|r| r.auth_error)
        .collect();
    assert!(
        reasons.contains(&format!(
            "ARN is not mapped: `{}` (authentication mode API); mapUsers entry 1 ignored in mode API",
            bob.arn
        )),
        "{reasons:?}"
    );
    // carol, with her entry, is still in.
    let out = whoami(&Creds::from(&carol));
    assert_eq!(name_of(&out), "carol-from-entry");
    // And the mode cannot go back.
    let back = tb
        .aws_cli(
            &creator_keys(&tb),
            &[
                "eks",
                "update-cluster-config",
                "--name",
                tb.cluster_name(),
                "--access-config",
                "authenticationMode=API_AND_CONFIG_MAP",
            ],
        )
        .unwrap();
    assert!(!back.status.success());
    assert!(
        text(&back.stderr)
            .contains("Unsupported authentication mode update from API to API_AND_CONFIG_MAP"),
        "{}",
        text(&back.stderr)
    );
}

#[test]
fn config_map_mode_is_aws_auth_only() {
    let tb = start(AuthenticationMode::ConfigMap);
    let dave = tb.create_user("dave").unwrap();
    set_aws_auth_users(&tb, &[(&dave.arn, "dave")]);
    let who = kubectl_ok(&tb, &Creds::from(&dave), &["auth", "whoami"]);
    assert!(who.contains("dave"), "{who}");
    // The creator is system:masters without an entry.
    let who = kubectl_ok(&tb, &Creds::Aws(creator_keys(&tb)), &["auth", "whoami"]);
    assert!(who.contains("system:masters"), "{who}");
    // Access entries cannot even be made.
    let out = tb
        .aws_cli(
            &creator_keys(&tb),
            &[
                "eks",
                "create-access-entry",
                "--cluster-name",
                tb.cluster_name(),
                "--principal-arn",
                &dave.arn,
            ],
        )
        .unwrap();
    assert!(!out.status.success());
    assert!(text(&out.stderr).contains("InvalidRequestException"));
}

#[test]
fn pathed_role_sessions_namespace_scopes_and_a_recreated_role() {
    let tb = start(AuthenticationMode::Api);
    let creator = Creds::Aws(creator_keys(&tb));
    for ns in ["dev-a", "prod"] {
        kubectl_ok(&tb, &creator, &["create", "namespace", ns]);
    }
    let role = tb.create_role("deployer", "/team/").unwrap();
    assert_eq!(
        role.arn,
        format!("arn:aws:iam::{ACCOUNT}:role/team/deployer")
    );
    // The entry names the role in full, path included (the opposite of aws-auth).
    create_entry(&tb, &role.arn, &[]);
    associate(&tb, &role.arn, EDIT, "type=namespace,namespaces=dev-*");
    let session = Creds::Aws(tb.assume_role(&role.arn, "alice@corp").unwrap());

    let out = eventually(
        &tb,
        &session,
        &["create", "configmap", "app", "-n", "dev-a"],
        |o| o.status.success(),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let out = kubectl(&tb, &session, &["create", "configmap", "app", "-n", "prod"]);
    assert!(forbidden(&out), "{}", text(&out.stderr));
    // The default username: the assumed-role ARN without the path, the session name with `@`
    // turned into `-`.
    let who: Value = serde_json::from_str(&kubectl_ok(
        &tb,
        &session,
        &["auth", "whoami", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(
        who["status"]["userInfo"]["username"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/deployer/alice-corp")
    );

    // Delete and recreate the role: same ARN, new unique id; the old entry no longer matches.
    tb.delete_role("deployer").unwrap();
    let again = tb.create_role("deployer", "/team/").unwrap();
    assert_eq!(again.arn, role.arn);
    assert_ne!(again.role_id, role.role_id);
    let session = Creds::Aws(tb.assume_role(&again.arn, "alice").unwrap());
    let out = kubectl(&tb, &session, &["get", "configmaps", "-n", "dev-a"]);
    assert!(unauthorized(&out), "{}", text(&out.stderr));
    let stale = tb
        .request_log()
        .into_iter()
        .filter(|r| r.status == 401)
        .any(|r| r.auth_error.contains("the principal was recreated"));
    assert!(stale);

    // Recreating the entry lets the new role in again.
    eks(
        &tb,
        &[
            "delete-access-entry",
            "--cluster-name",
            tb.cluster_name(),
            "--principal-arn",
            &role.arn,
        ],
    );
    create_entry(&tb, &role.arn, &[]);
    associate(&tb, &role.arn, EDIT, "type=namespace,namespaces=dev-*");
    let out = eventually(&tb, &session, &["get", "configmaps", "-n", "dev-a"], |o| {
        o.status.success()
    });
    assert!(out.status.success(), "{}", text(&out.stderr));
}

/// `eks-testbed up --auth-mode`: a shell with the env file drives the access-entry API with the
/// real AWS CLI (through `AWS_ENDPOINT_URL`) and kubectl.
#[test]
fn up_with_auth_mode_serves_the_aws_cli() {
    let dir = tempfile::tempdir().unwrap();
    let bin = eks_testbed::bin_path("eks-testbed").expect("eks-testbed is built with the tests");
    let mut child = std::process::Command::new(bin)
        .args([
            "up",
            "--dir",
            dir.path().to_str().unwrap(),
            "--cluster-name",
            "shell",
        ])
        .args(["--auth-mode", "API_AND_CONFIG_MAP"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = dir.path().join("ready");
    let began = Instant::now();
    while !ready.exists() {
        assert!(began.elapsed() < Duration::from_secs(30), "not ready");
        assert!(
            child.try_wait().unwrap().is_none(),
            "eks-testbed exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let script = format!(
        "set -e; export HOME={home} AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null; . {env}
aws eks describe-cluster --name shell --query cluster.accessConfig.authenticationMode --output text
aws iam create-user --user-name eve >/dev/null
aws eks create-access-entry --cluster-name shell --principal-arn arn:aws:iam::{ACCOUNT}:user/eve --kubernetes-groups viewers --query accessEntry.username --output text
aws eks associate-access-policy --cluster-name shell --principal-arn arn:aws:iam::{ACCOUNT}:user/eve --policy-arn {VIEW} --access-scope type=namespace,namespaces=dev-* --query associatedAccessPolicy.accessScope.type --output text
aws eks update-cluster-config --name shell --access-config authenticationMode=API --query update.type --output text
aws eks list-access-entries --cluster-name shell --associated-policy-arn {VIEW} --output text
kubectl get ns default -o name",
        home = dir.path().display(),
        env = dir.path().join("env").display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .output()
        .unwrap();
    let pid = child.id().to_string();
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status();
    let _ = child.wait();
    assert_eq!(
        text(&out.stdout),
        format!(
            "API_AND_CONFIG_MAP\narn:aws:iam::{ACCOUNT}:user/eve\nnamespace\nAccessConfigUpdate\nACCESSENTRIES\tarn:aws:iam::{ACCOUNT}:user/eve\nnamespace/default\n"
        ),
        "{}",
        text(&out.stderr)
    );
}
