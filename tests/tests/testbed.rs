//! The testbed's own tests: real kubectl against the stand-in EKS (AWS side included).
//!
//! Needs `kubectl` on PATH, `python3` with tests/aws/requirements.txt, and for the exec-stanza
//! path `kubectl-eks_token` built (`cargo build --workspace --bins`); without that binary the
//! AWS-credential tests present a token presigned in-process instead.

use std::process::Output;
use std::time::{Duration, SystemTime};

use base64::Engine;
use eks_testbed::{Creds, Testbed, TestbedOptions, bin_path, presign_token};
use serde_json::{Value, json};

fn start(options: TestbedOptions) -> Testbed {
    Testbed::start(options).expect("the testbed starts")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs kubectl and returns its output, failing the test if kubectl could not be run at all.
fn kubectl(tb: &Testbed, creds: &Creds, args: &[&str]) -> Output {
    tb.kubectl(creds, args).expect("kubectl runs")
}

fn kubectl_ok(tb: &Testbed, creds: &Creds, args: &[&str]) -> String {
    let out = kubectl(tb, creds, args);
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        stderr(&out)
    );
    stdout(&out)
}

fn creator(tb: &Testbed) -> Creds {
    Creds::from(tb.creator().expect("the AWS side runs"))
}

const UNAUTHORIZED: &str = "error: You must be logged in to the server (Unauthorized)\n";

/// A 401 as kubectl reports it: with a bearer token it prints the Status message; with an exec
/// plugin it re-runs the plugin, retries, and reports client-go's wording instead.
fn assert_unauthorized(out: &Output, creds: &Creds) {
    assert!(!out.status.success());
    let err = stderr(out);
    let exec = matches!(creds, Creds::Aws(_)) && bin_path("kubectl-eks_token").is_some();
    let expected = if exec {
        "error: You must be logged in to the server (the server has asked for the client to provide credentials)"
    } else {
        UNAUTHORIZED.trim_end()
    };
    assert_eq!(err.lines().last(), Some(expected), "{err}");
}

// Start-to-ready time is a figure, not a pass/fail bound here (timed tests flake on a loaded CI
// machine): it is printed, and measured in tests/README.md (about 1 s against a 5 s target).
#[test]
fn starts_and_writes_its_files() {
    let tb = start(TestbedOptions::default());
    let took = tb.started_in();
    eprintln!("testbed start to ready: {:.3} s", took.as_secs_f64());
    let env = std::fs::read_to_string(tb.dir().join("env")).unwrap();
    let creator = tb.creator().unwrap();
    assert!(env.contains(&format!(
        "export AWS_ACCESS_KEY_ID='{}'\n",
        creator.keys.access_key_id
    )));
    assert!(env.contains(&format!(
        "export KUBECONFIG='{}'\n",
        tb.kubeconfig().display()
    )));
    assert!(env.contains("export EKS_CLUSTER_NAME='testbed'\n"));
    assert!(env.contains(&format!(
        "export AWS_ENDPOINT_URL='{}'\n",
        tb.aws_endpoint().unwrap()
    )));
    assert_eq!(
        std::fs::read_to_string(tb.dir().join("ca.pem")).unwrap(),
        tb.ca_pem()
    );
    assert_eq!(
        tb.cluster_arn(),
        "arn:aws:eks:us-east-1:123456789012:cluster/testbed"
    );
}

#[test]
fn static_token_works() {
    let tb = start(TestbedOptions {
        static_tokens: vec!["s3cret=alice:system:masters".into()],
        aws: false,
        ..TestbedOptions::default()
    });
    let alice = Creds::Token("s3cret".into());
    let names = kubectl_ok(&tb, &alice, &["get", "ns", "-o", "name"]);
    assert_eq!(
        names,
        "namespace/default\nnamespace/kube-node-lease\nnamespace/kube-public\nnamespace/kube-system\n"
    );
    let review: Value =
        serde_json::from_str(&kubectl_ok(&tb, &alice, &["auth", "whoami", "-o", "json"])).unwrap();
    assert_eq!(
        review["status"]["userInfo"],
        json!({"username": "alice", "groups": ["system:masters", "system:authenticated"]})
    );
    let listed = tb
        .request_log()
        .into_iter()
        .filter(|r| r.method == "GET" && r.path == "/api/v1/namespaces")
        .collect::<Vec<_>>();
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].user.as_str(), listed[0].status), ("alice", 200));
}

#[test]
fn cluster_creator_is_system_masters_through_the_exec_stanza() {
    let tb = start(TestbedOptions::default());
    let c = tb.creator().unwrap().clone();
    let kubeconfig = tb.kubeconfig_for(&creator(&tb), true);
    if bin_path("kubectl-eks_token").is_some() {
        assert!(kubeconfig.contains("exec:"), "{kubeconfig}");
        assert!(kubeconfig.contains("kubectl-eks_token"), "{kubeconfig}");
    } else {
        eprintln!("kubectl-eks_token is not built: using an in-process presigned token");
        assert!(kubeconfig.contains("token: k8s-aws-v1."));
    }
    let review: Value = serde_json::from_str(&kubectl_ok(
        &tb,
        &creator(&tb),
        &["auth", "whoami", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(
        review["status"]["userInfo"],
        json!({
            "username": "kubernetes-admin",
            "uid": format!("aws-iam-authenticator:123456789012:{}", c.user_id),
            "groups": ["system:masters", "system:authenticated"],
            "extra": {
                "accessKeyId": [c.keys.access_key_id],
                "arn": [c.arn],
                "canonicalArn": [c.arn],
                "principalId": [c.user_id],
                "sigs.k8s.io/aws-iam-authenticator/principalId": [c.user_id],
                "sessionName": [""],
            }
        })
    );
}

#[test]
fn creator_can_do_everything() {
    let tb = start(TestbedOptions::default());
    let out = kubectl_ok(&tb, &creator(&tb), &["auth", "can-i", "--list"]);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "Resources",
            "Non-Resource",
            "URLs",
            "Resource",
            "Names",
            "Verbs"
        ]
    );
    assert_eq!(rows[1], ["*.*", "[]", "[]", "[*]"]);
    assert_eq!(rows[2], ["[*]", "[]", "[*]"]);
    assert_eq!(
        kubectl_ok(
            &tb,
            &creator(&tb),
            &["auth", "can-i", "create", "configmaps"]
        ),
        "yes\n"
    );
}

/// Re-encodes a token after editing its presigned URL.
fn edit_token(token: &str, edit: impl FnOnce(String) -> String) -> String {
    let url = eks_auth::token::decode(token).unwrap();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!("k8s-aws-v1.{}", b64.encode(edit(url)))
}

#[test]
fn forged_tokens_are_refused_with_401() {
    let tb = start(TestbedOptions::default());
    let keys = tb.creator().unwrap().keys.clone();
    let now = SystemTime::now();
    let valid = presign_token(&keys, "testbed", "us-east-1", now);
    assert_eq!(
        kubectl_ok(
            &tb,
            &Creds::Token(valid.clone()),
            &["auth", "can-i", "get", "pods"]
        ),
        "yes\n"
    );

    let mut wrong_secret = keys.clone();
    wrong_secret.secret_access_key = format!("x{}", &keys.secret_access_key[1..]);
    let forged = [
        // STS recomputes the signature with the secret it holds for the key id.
        (
            "wrong secret",
            presign_token(&wrong_secret, "testbed", "us-east-1", now),
            "(expected 200, got 403): SignatureDoesNotMatch",
        ),
        // The cluster name is a signed header: the API server sends its own, the signature breaks.
        (
            "other cluster",
            presign_token(&keys, "other-cluster", "us-east-1", now),
            "(expected 200, got 403): SignatureDoesNotMatch",
        ),
        (
            "expired",
            presign_token(
                &keys,
                "testbed",
                "us-east-1",
                now - Duration::from_secs(16 * 60),
            ),
            "token expired at",
        ),
        (
            "duplicated key",
            edit_token(&valid, |url| format!("{url}&action=GetCallerIdentity")),
            "appears more than once",
        ),
        (
            "not base64",
            "k8s-aws-v1.%%%".to_string(),
            "not unpadded base64url",
        ),
        (
            "unknown token",
            "some-other-token".to_string(),
            "no authenticator recognizes the token",
        ),
    ];
    for (what, token, why) in forged {
        let before = tb.request_log().len();
        let out = kubectl(&tb, &Creds::Token(token), &["get", "ns"]);
        assert!(!out.status.success(), "{what}: accepted");
        assert_eq!(stderr(&out), UNAUTHORIZED, "{what}");
        let log = tb.request_log();
        let refused: Vec<_> = log[before..].iter().filter(|r| r.status == 401).collect();
        assert!(!refused.is_empty(), "{what}: no 401 logged");
        assert!(
            refused.iter().all(|r| r.auth_error.contains(why)),
            "{what}: {:?}",
            refused[0].auth_error
        );
    }
}

#[test]
fn unmapped_user_gets_401_and_mapped_user_without_bindings_gets_403() {
    let tb = start(TestbedOptions::default());
    let bob = tb.create_user("bob").unwrap();
    let out = kubectl(
        &tb,
        &Creds::from(&bob),
        &["get", "configmaps", "-n", "default"],
    );
    assert_unauthorized(&out, &Creds::from(&bob));
    let refused: Vec<_> = tb
        .request_log()
        .into_iter()
        .filter(|r| r.status == 401)
        .collect();
    assert!(!refused.is_empty());
    let not_mapped = format!("ARN is not mapped: `{}`", bob.arn);
    assert!(
        refused.iter().all(|r| r.auth_error == not_mapped),
        "{:?}",
        refused[0].auth_error
    );

    let mut aws_auth = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap();
    aws_auth["data"]["mapUsers"] = json!(format!(
        "- userarn: {}\n  username: bob\n  groups:\n  - readers\n",
        bob.arn
    ));
    tb.put_object(aws_auth).unwrap();

    let out = kubectl(
        &tb,
        &Creds::from(&bob),
        &["get", "configmaps", "-n", "default"],
    );
    assert_eq!(
        stderr(&out),
        "Error from server (Forbidden): configmaps is forbidden: User \"bob\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"\n"
    );
    let out = kubectl(&tb, &Creds::from(&bob), &["get", "clusterrole", "view"]);
    assert_eq!(
        stderr(&out),
        "Error from server (Forbidden): clusterroles.rbac.authorization.k8s.io \"view\" is forbidden: User \"bob\" cannot get resource \"clusterroles\" in API group \"rbac.authorization.k8s.io\" at the cluster scope\n"
    );
    assert_eq!(
        kubectl(
            &tb,
            &Creds::from(&bob),
            &["auth", "can-i", "list", "configmaps"]
        )
        .stdout,
        b"no\n"
    );
    let review: Value = serde_json::from_str(&kubectl_ok(
        &tb,
        &Creds::from(&bob),
        &["auth", "whoami", "-o", "json"],
    ))
    .unwrap();
    assert_eq!(
        review["status"]["userInfo"]["groups"],
        json!(["readers", "system:authenticated"])
    );
}

#[test]
fn rbac_objects_apply_get_and_delete() {
    let tb = start(TestbedOptions::default());
    let admin = creator(&tb);
    let manifest = tb.dir().join("rbac.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: cm-reader\nrules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata:\n  name: cm-reader-readers\nsubjects:\n- kind: Group\n  name: readers\n  apiGroup: rbac.authorization.k8s.io\nroleRef:\n  kind: ClusterRole\n  name: cm-reader\n  apiGroup: rbac.authorization.k8s.io\n",
    )
    .unwrap();
    let path = manifest.to_str().unwrap();
    assert_eq!(
        kubectl_ok(&tb, &admin, &["apply", "-f", path]),
        "clusterrole.rbac.authorization.k8s.io/cm-reader created\nclusterrolebinding.rbac.authorization.k8s.io/cm-reader-readers created\n"
    );
    assert_eq!(
        kubectl_ok(&tb, &admin, &["apply", "-f", path]),
        "clusterrole.rbac.authorization.k8s.io/cm-reader unchanged\nclusterrolebinding.rbac.authorization.k8s.io/cm-reader-readers unchanged\n"
    );
    let bindings = kubectl_ok(&tb, &admin, &["get", "clusterrolebindings", "-o", "wide"]);
    let row: Vec<&str> = bindings
        .lines()
        .find(|l| l.starts_with("cm-reader-readers"))
        .unwrap()
        .split_whitespace()
        .collect();
    // Users is empty, so whitespace splitting leaves name, role, age, groups.
    assert_eq!((row[1], row[3]), ("ClusterRole/cm-reader", "readers"));

    // The new grant takes effect for a user of that group at once.
    let carol = tb.create_user("carol").unwrap();
    let mut aws_auth = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap();
    aws_auth["data"]["mapUsers"] = json!(format!(
        "- userarn: {}\n  username: carol\n  groups: [readers]\n",
        carol.arn
    ));
    tb.put_object(aws_auth).unwrap();
    let cm = kubectl_ok(
        &tb,
        &Creds::from(&carol),
        &[
            "get",
            "configmap",
            "-n",
            "kube-system",
            "aws-auth",
            "-o",
            "yaml",
        ],
    );
    assert!(cm.contains("username: carol"), "{cm}");

    assert_eq!(
        kubectl_ok(&tb, &admin, &["delete", "-f", path]),
        "clusterrole.rbac.authorization.k8s.io \"cm-reader\" deleted\nclusterrolebinding.rbac.authorization.k8s.io \"cm-reader-readers\" deleted\n"
    );
    let out = kubectl(&tb, &admin, &["get", "clusterrole", "cm-reader"]);
    assert_eq!(
        stderr(&out),
        "Error from server (NotFound): clusterroles.rbac.authorization.k8s.io \"cm-reader\" not found\n"
    );
}

#[test]
fn configmaps_create_conflict_and_exists() {
    let tb = start(TestbedOptions::default());
    let admin = creator(&tb);
    assert_eq!(
        kubectl_ok(
            &tb,
            &admin,
            &[
                "create",
                "configmap",
                "x",
                "-n",
                "default",
                "--from-literal=a=1"
            ]
        ),
        "configmap/x created\n"
    );
    let out = kubectl(&tb, &admin, &["create", "configmap", "x", "-n", "default"]);
    assert_eq!(
        stderr(&out),
        "error: failed to create configmap: configmaps \"x\" already exists\n"
    );

    let stale: Value = serde_json::from_str(&kubectl_ok(
        &tb,
        &admin,
        &["get", "cm", "x", "-n", "default", "-o", "json"],
    ))
    .unwrap();
    kubectl_ok(
        &tb,
        &admin,
        &[
            "patch",
            "cm",
            "x",
            "-n",
            "default",
            "--type",
            "merge",
            "-p",
            r#"{"data":{"a":"2"}}"#,
        ],
    );
    let mut edited = stale.clone();
    edited["data"]["a"] = json!("3");
    let file = tb.dir().join("stale.json");
    std::fs::write(&file, edited.to_string()).unwrap();
    let out = kubectl(&tb, &admin, &["replace", "-f", file.to_str().unwrap()]);
    assert_eq!(
        stderr(&out),
        "Error from server (Conflict): error when replacing \"".to_string()
            + file.to_str().unwrap()
            + "\": Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again\n"
    );
    assert_eq!(
        tb.get_object("ConfigMap", "default", "x").unwrap()["data"],
        json!({"a": "2"})
    );
    let conflicts: Vec<_> = tb
        .request_log()
        .into_iter()
        .filter(|r| r.status == 409)
        .collect();
    assert_eq!(conflicts.len(), 2);
    assert_eq!(conflicts[1].method, "PUT");
}

#[test]
fn up_serves_a_shell_until_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let bin = bin_path("eks-testbed").expect("eks-testbed is built with the tests");
    let mut child = std::process::Command::new(bin)
        .args([
            "up",
            "--dir",
            dir.path().to_str().unwrap(),
            "--cluster-name",
            "shell",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let ready = dir.path().join("ready");
    let began = std::time::Instant::now();
    while !ready.exists() {
        assert!(began.elapsed() < Duration::from_secs(20), "not ready");
        assert!(
            child.try_wait().unwrap().is_none(),
            "eks-testbed exited early"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "eks-testbed up: ready after {:.3} s",
        began.elapsed().as_secs_f64()
    );
    let script = format!(
        "set -e; export HOME={home}; . {env}; kubectl get ns default -o name; echo $EKS_CLUSTER_NAME",
        home = dir.path().display(),
        env = dir.path().join("env").display()
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .output()
        .unwrap();
    assert_eq!(
        stdout(&out),
        "namespace/default\nshell\n",
        "{}",
        stderr(&out)
    );

    let env = std::fs::read_to_string(dir.path().join("env")).unwrap();
    let endpoint = env
        .lines()
        .find_map(|l| l.strip_prefix("export AWS_ENDPOINT_URL='http://"))
        .unwrap();
    let aws_addr: std::net::SocketAddr = endpoint.trim_end_matches('\'').parse().unwrap();
    let kubeconfig = std::fs::read_to_string(dir.path().join("kubeconfig")).unwrap();
    let server = kubeconfig
        .lines()
        .find_map(|l| l.trim().strip_prefix("server: https://"))
        .unwrap();
    let api_addr: std::net::SocketAddr = server.parse().unwrap();

    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert!(child.wait().unwrap().success());
    assert!(!ready.exists());
    for addr in [aws_addr, api_addr] {
        assert!(
            std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err(),
            "{addr} still served"
        );
    }
}

#[test]
fn rbac_escalation_is_prevented_and_aggregation_applies() {
    let tb = start(TestbedOptions {
        static_tokens: vec!["root=root:system:masters".into(), "dave=dave".into()],
        aws: false,
        ..TestbedOptions::default()
    });
    let (root, dave) = (Creds::Token("root".into()), Creds::Token("dave".into()));
    kubectl_ok(
        &tb,
        &root,
        &[
            "create",
            "rolebinding",
            "dave-admin",
            "-n",
            "default",
            "--clusterrole=admin",
            "--user=dave",
        ],
    );
    // admin aggregates edit and view, so dave holds view's rules in `default` and may bind view.
    assert_eq!(
        kubectl_ok(
            &tb,
            &dave,
            &[
                "create",
                "rolebinding",
                "eve-view",
                "-n",
                "default",
                "--clusterrole=view",
                "--user=eve"
            ]
        ),
        "rolebinding.rbac.authorization.k8s.io/eve-view created\n"
    );
    let out = kubectl(
        &tb,
        &dave,
        &[
            "create",
            "rolebinding",
            "dave-root",
            "-n",
            "default",
            "--clusterrole=cluster-admin",
            "--user=dave",
        ],
    );
    let err = stderr(&out);
    assert!(
        err.starts_with("error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io \"dave-root\" is forbidden: user \"dave\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n"),
        "{err}"
    );
    assert!(
        tb.get_object("RoleBinding", "default", "dave-root")
            .is_none()
    );
    let out = kubectl(
        &tb,
        &dave,
        &[
            "create",
            "rolebinding",
            "x",
            "-n",
            "kube-system",
            "--clusterrole=view",
            "--user=eve",
        ],
    );
    assert_eq!(
        stderr(&out),
        "error: failed to create rolebinding: rolebindings.rbac.authorization.k8s.io is forbidden: User \"dave\" cannot create resource \"rolebindings\" in API group \"rbac.authorization.k8s.io\" in the namespace \"kube-system\"\n"
    );
}
