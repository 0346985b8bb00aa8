//! Fidelity of the stand-in's Kubernetes side: real kubectl gets the answers kube-apiserver gives
//! (dry runs, impersonation, Lists, defaulting, discovery, namespace lifecycle).
//!
//! These tests use static tokens and no AWS side (`aws: false`): what they check is the API
//! server's request handling, not EKS authentication.

use std::process::Output;

use eks_testbed::{Creds, Testbed, TestbedOptions};
use serde_json::{Value, json};

const ADMIN: &str = "admin-token";

/// A testbed with an admin (`system:masters`) and the given extra `TOKEN=user:groups` specs.
fn start(extra_tokens: &[&str]) -> Testbed {
    let mut static_tokens = vec![format!("{ADMIN}=admin:system:masters")];
    static_tokens.extend(extra_tokens.iter().map(|s| s.to_string()));
    Testbed::start(TestbedOptions {
        static_tokens,
        aws: false,
        ..TestbedOptions::default()
    })
    .expect("the testbed starts")
}

fn admin() -> Creds {
    Creds::Token(ADMIN.into())
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

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

/// kubectl with a manifest on stdin (`-f -`).
fn kubectl_stdin(tb: &Testbed, creds: &Creds, args: &[&str], input: &str) -> Output {
    use std::io::Write;
    static RUNS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let kubeconfig = tb.dir().join(format!("kubeconfig-stdin-{n}"));
    std::fs::write(&kubeconfig, tb.kubeconfig_for(creds, true)).unwrap();
    let mut child = std::process::Command::new(
        std::env::var("EKS_TESTBED_KUBECTL").unwrap_or_else(|_| "kubectl".into()),
    )
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", tb.dir().join("home"))
    .env("KUBECONFIG", &kubeconfig)
    .args(args)
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("kubectl runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn json_of(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn rv(obj: &Value) -> &str {
    obj["metadata"]["resourceVersion"].as_str().unwrap_or_default()
}

/// The resourceVersion of a list: the store's revision, which any real write moves.
fn revision(tb: &Testbed) -> String {
    let list = json_of(&kubectl_ok(tb, &admin(), &["get", "ns", "-o", "json"]));
    rv(&list).to_string()
}

#[test]
fn server_dry_runs_change_nothing() {
    let tb = start(&[]);
    let a = admin();
    kubectl_ok(&tb, &a, &["create", "namespace", "team"]);
    kubectl_ok(
        &tb,
        &a,
        &["create", "configmap", "x", "-n", "team", "--from-literal=k=v"],
    );
    kubectl_ok(
        &tb,
        &a,
        &[
            "create",
            "rolebinding",
            "rb",
            "-n",
            "team",
            "--clusterrole=view",
            "--user=alice",
        ],
    );
    let before = revision(&tb);
    let cm_before = tb.get_object("ConfigMap", "team", "x").unwrap();

    // delete: kubectl sends dryRun in the DeleteOptions body, not in the query.
    let out = kubectl_ok(&tb, &a, &["delete", "namespace", "team", "--dry-run=server"]);
    assert_eq!(out, "namespace \"team\" deleted (server dry run)\n");
    kubectl_ok(
        &tb,
        &a,
        &["delete", "rolebinding", "rb", "-n", "team", "--dry-run=server"],
    );
    kubectl_ok(
        &tb,
        &a,
        &["delete", "configmap", "x", "-n", "team", "--dry-run=server"],
    );
    assert!(tb.get_object("Namespace", "", "team").is_some());
    assert!(tb.get_object("RoleBinding", "team", "rb").is_some());
    assert_eq!(tb.get_object("ConfigMap", "team", "x").unwrap(), cm_before);

    // create: not stored, and no resourceVersion in the answer.
    let created = json_of(&kubectl_ok(
        &tb,
        &a,
        &[
            "create", "configmap", "y", "-n", "team", "--dry-run=server", "-o", "json",
        ],
    ));
    assert_eq!(created["metadata"]["name"], "y");
    assert!(created["metadata"].get("resourceVersion").is_none(), "{created}");
    assert!(tb.get_object("ConfigMap", "team", "y").is_none());

    // patch (label, annotate, apply of a change) and update (replace): the answer shows the
    // change with the resourceVersion it started from; the store keeps the old object.
    let labelled = json_of(&kubectl_ok(
        &tb,
        &a,
        &[
            "label", "configmap", "x", "-n", "team", "l=1", "--dry-run=server", "-o", "json",
        ],
    ));
    assert_eq!(labelled["metadata"]["labels"]["l"], "1");
    assert_eq!(rv(&labelled), rv(&cm_before));
    let mut replaced = cm_before.clone();
    replaced["data"] = json!({"k": "changed"});
    let out = kubectl_stdin(
        &tb,
        &a,
        &["replace", "--dry-run=server", "-f", "-", "-o", "json"],
        &replaced.to_string(),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let replaced = json_of(&stdout(&out));
    assert_eq!(replaced["data"]["k"], "changed");
    assert_eq!(rv(&replaced), rv(&cm_before));
    let applied = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: team}\ndata: {k: applied}\n";
    let out = kubectl_stdin(
        &tb,
        &a,
        &["apply", "--dry-run=server", "-f", "-", "-o", "json"],
        applied,
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let out = json_of(&stdout(&out));
    assert_eq!(out["data"]["k"], "applied");
    assert_eq!(rv(&out), rv(&cm_before));

    assert_eq!(tb.get_object("ConfigMap", "team", "x").unwrap(), cm_before);
    assert_eq!(revision(&tb), before, "a dry run moved the store's revision");

    // The real thing still works after all that.
    kubectl_ok(&tb, &a, &["delete", "configmap", "x", "-n", "team"]);
    assert!(tb.get_object("ConfigMap", "team", "x").is_none());
}

#[test]
fn dry_run_values_other_than_all_are_refused() {
    let tb = start(&[]);
    let out = kubectl(
        &tb,
        &admin(),
        &["create", "--raw", "/api/v1/namespaces?dryRun=Yes", "-f", "/dev/null"],
    );
    // kubectl --raw reads the body from -f; an empty body still reaches option validation first.
    assert!(!out.status.success());
    // kubectl rewords a 422 from its details: `The <details.kind> "<name>" is invalid: ...`.
    assert_eq!(
        stderr(&out),
        "The CreateOptions \"\" is invalid: dryRun: Unsupported value: []string{\"Yes\"}: supported values: \"All\"\n"
    );
    assert!(tb.get_object("Namespace", "", "").is_none());
}
