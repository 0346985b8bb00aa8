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
    obj["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
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
        &[
            "create",
            "configmap",
            "x",
            "-n",
            "team",
            "--from-literal=k=v",
        ],
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
    let out = kubectl_ok(
        &tb,
        &a,
        &["delete", "namespace", "team", "--dry-run=server"],
    );
    assert_eq!(out, "namespace \"team\" deleted (server dry run)\n");
    kubectl_ok(
        &tb,
        &a,
        &[
            "delete",
            "rolebinding",
            "rb",
            "-n",
            "team",
            "--dry-run=server",
        ],
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
            "create",
            "configmap",
            "y",
            "-n",
            "team",
            "--dry-run=server",
            "-o",
            "json",
        ],
    ));
    assert_eq!(created["metadata"]["name"], "y");
    assert!(
        created["metadata"].get("resourceVersion").is_none(),
        "{created}"
    );
    assert!(tb.get_object("ConfigMap", "team", "y").is_none());

    // patch (label, annotate, apply of a change) and update (replace): the answer shows the
    // change with the resourceVersion it started from; the store keeps the old object.
    let labelled = json_of(&kubectl_ok(
        &tb,
        &a,
        &[
            "label",
            "configmap",
            "x",
            "-n",
            "team",
            "l=1",
            "--dry-run=server",
            "-o",
            "json",
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
    assert_eq!(
        revision(&tb),
        before,
        "a dry run moved the store's revision"
    );

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
        &[
            "create",
            "--raw",
            "/api/v1/namespaces?dryRun=Yes",
            "-f",
            "/dev/null",
        ],
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

/// kubectl with a kubeconfig for `creds` whose user carries `as-user-extra` (kubectl has no flag
/// for impersonated extras; the kubeconfig field is how they are set).
fn kubectl_with_extras(tb: &Testbed, creds: &Creds, extras: Value, args: &[&str]) -> Output {
    let mut config: Value = serde_yaml::from_str(&tb.kubeconfig_for(creds, true)).unwrap();
    config["users"][0]["user"]["as-user-extra"] = extras;
    let path = tb.dir().join("kubeconfig-extras");
    std::fs::write(&path, serde_yaml::to_string(&config).unwrap()).unwrap();
    std::process::Command::new(
        std::env::var("EKS_TESTBED_KUBECTL").unwrap_or_else(|_| "kubectl".into()),
    )
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", tb.dir().join("home"))
    .env("KUBECONFIG", &path)
    .args(args)
    .output()
    .expect("kubectl runs")
}

const IMPERSONATOR_RBAC: &str = r#"{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
   "metadata": {"name": "impersonate-some"},
   "rules": [
     {"apiGroups": [""], "resources": ["users"], "verbs": ["impersonate"], "resourceNames": ["alice"]},
     {"apiGroups": [""], "resources": ["groups"], "verbs": ["impersonate"], "resourceNames": ["devs", "system:authenticated"]},
     {"apiGroups": ["authentication.k8s.io"], "resources": ["userextras/scopes"], "verbs": ["impersonate"]},
     {"apiGroups": ["authentication.k8s.io"], "resources": ["uids"], "verbs": ["impersonate"], "resourceNames": ["u-1"]}
   ]},
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
   "metadata": {"name": "imp-impersonates"},
   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "impersonate-some"},
   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "imp"}]},
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
   "metadata": {"name": "impersonate-sa", "namespace": "team"},
   "rules": [{"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}]},
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
   "metadata": {"name": "imp-impersonates-sa", "namespace": "team"},
   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "impersonate-sa"},
   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "imp"}]},
  {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
   "metadata": {"name": "devs-view", "namespace": "team"},
   "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
   "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"}]}
]}"#;

fn seed(tb: &Testbed, list: &str) {
    let list = json_of(list);
    for item in list["items"].as_array().unwrap() {
        tb.put_object(item.clone()).expect("seeded");
    }
}

#[test]
fn impersonation_is_authorized_and_honoured() {
    let tb = start(&["bob-token=bob", "imp-token=imp"]);
    let a = admin();
    let bob = Creds::Token("bob-token".into());
    let imp = Creds::Token("imp-token".into());
    kubectl_ok(&tb, &a, &["create", "namespace", "team"]);
    kubectl_ok(&tb, &a, &["create", "namespace", "other"]);
    seed(&tb, IMPERSONATOR_RBAC);

    // Someone without the verb is refused, worded as kube-apiserver words it. (Refused requests
    // use --raw: with an empty discovery cache kubectl's own discovery is refused first, and it
    // then prints only "unknown", as against a real server.)
    const CMS: &str = "/api/v1/namespaces/team/configmaps";
    let out = kubectl(&tb, &bob, &["get", "--raw", CMS, "--as=admin"]);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "Error from server (Forbidden): users \"admin\" is forbidden: User \"bob\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );

    // The admin asking on behalf of nobody gets nobody's answer, not its own.
    let out = kubectl(
        &tb,
        &a,
        &["auth", "can-i", "list", "configmaps", "--as=nobody"],
    );
    assert_eq!((out.status.code(), stdout(&out)), (Some(1), "no\n".into()));
    let out = kubectl(&tb, &a, &["get", "namespaces", "--as=nobody"]);
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "Error from server (Forbidden): namespaces is forbidden: User \"nobody\" cannot list resource \"namespaces\" in API group \"\" at the cluster scope"
    );

    // imp may be alice in devs: alice's requests then get what devs are granted.
    let who = json_of(&kubectl_ok(
        &tb,
        &imp,
        &[
            "auth",
            "whoami",
            "--as=alice",
            "--as-group=devs",
            "-o",
            "json",
        ],
    ));
    assert_eq!(
        who["status"]["userInfo"],
        json!({"username": "alice", "groups": ["devs", "system:authenticated"]})
    );
    kubectl_ok(
        &tb,
        &imp,
        &[
            "get",
            "configmaps",
            "-n",
            "team",
            "--as=alice",
            "--as-group=devs",
        ],
    );
    let out = kubectl(&tb, &imp, &["get", "configmaps", "-n", "team"]);
    assert!(!out.status.success(), "imp itself may not read configmaps");
    // ... but not carol, and not alice in system:masters.
    let out = kubectl(&tb, &imp, &["get", "--raw", CMS, "--as=carol"]);
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "Error from server (Forbidden): users \"carol\" is forbidden: User \"imp\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"
    );
    let out = kubectl(
        &tb,
        &imp,
        &[
            "get",
            "--raw",
            CMS,
            "--as=alice",
            "--as-group=system:masters",
        ],
    );
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "Error from server (Forbidden): groups \"system:masters\" is forbidden: User \"imp\" cannot impersonate resource \"groups\" in API group \"\" at the cluster scope"
    );

    // Service accounts: a namespaced check, and the two service-account groups by default.
    let who = json_of(&kubectl_ok(
        &tb,
        &imp,
        &[
            "auth",
            "whoami",
            "--as=system:serviceaccount:team:bot",
            "-o",
            "json",
        ],
    ));
    assert_eq!(
        who["status"]["userInfo"],
        json!({"username": "system:serviceaccount:team:bot", "groups": ["system:serviceaccounts", "system:serviceaccounts:team", "system:authenticated"]})
    );
    let out = kubectl(
        &tb,
        &imp,
        &["get", "--raw", CMS, "--as=system:serviceaccount:other:bot"],
    );
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "Error from server (Forbidden): serviceaccounts \"bot\" is forbidden: User \"imp\" cannot impersonate resource \"serviceaccounts\" in API group \"\" in the namespace \"other\""
    );

    // Extras (one check per value, on userextras/<key>) and the uid.
    let out = kubectl_with_extras(
        &tb,
        &imp,
        json!({"scopes": ["read", "write"]}),
        &["auth", "whoami", "--as=alice", "--as-uid=u-1", "-o", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        json_of(&stdout(&out))["status"]["userInfo"],
        json!({"username": "alice", "uid": "u-1", "groups": ["system:authenticated"], "extra": {"scopes": ["read", "write"]}})
    );
    let out = kubectl_with_extras(
        &tb,
        &imp,
        json!({"project": ["p1"]}),
        &["get", "--raw", CMS, "--as=alice"],
    );
    assert_eq!(
        stderr(&out).lines().last().unwrap(),
        "Error from server (Forbidden): userextras.authentication.k8s.io \"p1\" is forbidden: User \"imp\" cannot impersonate resource \"userextras/project\" in API group \"authentication.k8s.io\" at the cluster scope"
    );

    // The request log keeps who asked and whom they acted as.
    let log = tb.request_log();
    assert!(log.iter().any(|r| r.user == "imp"
        && r.impersonated_user == "alice"
        && r.path == "/api/v1/namespaces/team/configmaps"
        && r.status == 200));
    assert!(
        log.iter()
            .any(|r| r.user == "bob" && r.impersonated_user.is_empty() && r.status == 403)
    );
}

const TEAM_LIST: &str = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: settings, namespace: team}
  data: {mode: fast}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: Role
  metadata: {name: reader, namespace: team, creationTimestamp: null}
  rules:
  - {apiGroups: [''], resources: [configmaps], verbs: [get, list]}
- apiVersion: rbac.authorization.k8s.io/v1
  kind: RoleBinding
  metadata: {name: reader, namespace: team}
  roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
  subjects:
  - {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
";

#[test]
fn lists_are_created_and_applied_with_client_side_validation() {
    let tb = start(&[]);
    let a = admin();
    kubectl_ok(&tb, &a, &["create", "namespace", "team"]);

    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], TEAM_LIST);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "configmap/settings created\nrole.rbac.authorization.k8s.io/reader created\nrolebinding.rbac.authorization.k8s.io/reader created\n"
    );
    let changed = TEAM_LIST.replace("mode: fast", "mode: slow");
    let out = kubectl_stdin(&tb, &a, &["apply", "-f", "-"], &changed);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("configmap/settings configured\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(
        tb.get_object("ConfigMap", "team", "settings").unwrap()["data"]["mode"],
        "slow"
    );

    // What `kubectl get -o yaml` prints applies back (its last-applied annotation then becomes
    // the exported object, hence "configured", as on a real cluster).
    let exported = kubectl_ok(
        &tb,
        &a,
        &[
            "get",
            "configmap/settings",
            "role/reader",
            "rolebinding/reader",
            "-n",
            "team",
            "-o",
            "yaml",
        ],
    );
    assert!(
        exported.starts_with("apiVersion: v1\nitems:\n"),
        "{exported}"
    );
    assert!(exported.contains("\nkind: List\n"), "{exported}");
    let out = kubectl_stdin(&tb, &a, &["apply", "-f", "-"], &exported);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "configmap/settings configured\nrole.rbac.authorization.k8s.io/reader configured\nrolebinding.rbac.authorization.k8s.io/reader configured\n"
    );
    assert_eq!(
        tb.get_object("ConfigMap", "team", "settings").unwrap()["data"]["mode"],
        "slow"
    );

    // kubectl validates List items against /openapi/v2 as against kube-apiserver: unknown
    // fields and missing required fields are refused before anything is sent.
    let bad = TEAM_LIST
        .replace("data: {mode: fast}", "data: {mode: fast}\n  extra: field")
        .replace(
            "roleRef: {apiGroup: rbac.authorization.k8s.io, ",
            "roleRef: {",
        )
        .replace("name: settings", "name: other");
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], &bad);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "error: error validating \"STDIN\": error validating data: [ValidationError(ConfigMap): unknown field \"extra\" in io.k8s.api.core.v1.ConfigMap, ValidationError(RoleBinding.roleRef): missing required field \"apiGroup\" in io.k8s.api.rbac.v1.RoleRef]; if you choose to ignore these errors, turn validation off with --validate=false\n"
    );
    assert!(tb.get_object("ConfigMap", "team", "other").is_none());
}

#[test]
fn openapi_v2_and_verbose_health_checks_are_served() {
    let tb = start(&[]);
    let a = admin();
    let doc = json_of(&kubectl_ok(&tb, &a, &["get", "--raw", "/openapi/v2"]));
    assert_eq!(doc["swagger"], "2.0");
    assert_eq!(
        doc["definitions"]["io.k8s.api.rbac.v1.RoleRef"]["required"],
        json!(["apiGroup", "kind", "name"])
    );
    let ready = kubectl_ok(&tb, &a, &["get", "--raw", "/readyz?verbose"]);
    assert!(ready.starts_with("[+]ping ok\n"), "{ready}");
    assert!(ready.ends_with("readyz check passed\n"), "{ready}");
    assert_eq!(kubectl_ok(&tb, &a, &["get", "--raw", "/livez"]), "ok");
}

#[test]
fn decoding_defaults_rbac_api_groups_and_refuses_wrong_types() {
    let tb = start(&[]);
    let a = admin();
    kubectl_ok(&tb, &a, &["create", "namespace", "team"]);

    // roleRef and User/Group subjects without apiGroup: defaulted, as kube-apiserver does.
    let binding = "apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: readers, namespace: team}
roleRef: {kind: ClusterRole, name: view}
subjects:
- {kind: User, name: alice}
- {kind: Group, name: devs}
- {kind: ServiceAccount, name: bot, namespace: team}
";
    let out = kubectl_stdin(&tb, &a, &["apply", "-f", "-"], binding);
    assert!(out.status.success(), "{}", stderr(&out));
    let stored = tb.get_object("RoleBinding", "team", "readers").unwrap();
    assert_eq!(
        stored["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"})
    );
    assert_eq!(
        stored["subjects"],
        json!([
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"},
            {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "devs"},
            {"kind": "ServiceAccount", "name": "bot", "namespace": "team"},
        ])
    );
    let crb = "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: all-readers}
roleRef: {kind: ClusterRole, name: view}
subjects: [{kind: Group, name: devs}]
";
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], crb);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kubectl(
        &tb,
        &a,
        &[
            "auth",
            "can-i",
            "list",
            "configmaps",
            "-n",
            "team",
            "--as=x",
            "--as-group=devs",
        ],
    );
    assert_eq!(stdout(&out), "yes\n");

    // ConfigMap data must be strings: refused with kube-apiserver's decoding error.
    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: numbers, namespace: team}\ndata: {count: 1}\n";
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], cm);
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        "Error from server (BadRequest): error when creating \"STDIN\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string\n"
    );
    assert!(tb.get_object("ConfigMap", "team", "numbers").is_none());
    kubectl_ok(
        &tb,
        &a,
        &[
            "create",
            "configmap",
            "numbers",
            "-n",
            "team",
            "--from-literal=count=1",
        ],
    );
    let out = kubectl(
        &tb,
        &a,
        &[
            "patch",
            "configmap",
            "numbers",
            "-n",
            "team",
            "--type=merge",
            "-p",
            r#"{"data":{"count":2}}"#,
        ],
    );
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.starts_with("The request is invalid: patch: Invalid value: \"{\\\"apiVersion\\\":\\\"v1\\\",\\\"data\\\":{\\\"count\\\":2},"),
        "{err}"
    );
    assert!(
        err.ends_with(
            "\": json: cannot unmarshal number into Go struct field ConfigMap.data of type string\n"
        ),
        "{err}"
    );
    assert_eq!(
        tb.get_object("ConfigMap", "team", "numbers").unwrap()["data"]["count"],
        "1"
    );

    // kubectl asks the server to validate fields strictly: unknown fields are refused.
    let extra = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: extra, namespace: team}\ndata: {a: b}\nspec: {x: y}\n";
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], extra);
    assert_eq!(
        stderr(&out),
        "Error from server (BadRequest): error when creating \"STDIN\": ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"spec\"\n"
    );
    // ... dropped with a warning under --validate=warn ...
    let out = kubectl_stdin(&tb, &a, &["create", "--validate=warn", "-f", "-"], extra);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "Warning: unknown field \"spec\"\n");
    let stored = tb.get_object("ConfigMap", "team", "extra").unwrap();
    assert!(stored.get("spec").is_none(), "{stored}");
    // ... and silently when validation is off.
    let other = extra.replace("name: extra", "name: extra2");
    let out = kubectl_stdin(&tb, &a, &["create", "--validate=false", "-f", "-"], &other);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "");
    let stored = tb.get_object("ConfigMap", "team", "extra2").unwrap();
    assert!(stored.get("spec").is_none(), "{stored}");
}

#[test]
fn discovery_knows_the_groups_kubectl_maps_resources_through() {
    let tb = start(&["bob-token=bob"]);
    let a = admin();
    let bob = Creds::Token("bob-token".into());
    kubectl_ok(&tb, &a, &["create", "namespace", "team"]);
    kubectl_ok(&tb, &a, &["create", "configmap", "settings", "-n", "team"]);
    kubectl_ok(
        &tb,
        &a,
        &[
            "create",
            "rolebinding",
            "bob-edit",
            "-n",
            "team",
            "--clusterrole=edit",
            "--user=bob",
        ],
    );

    // describe lists the object's events (there are none).
    let described = kubectl_ok(
        &tb,
        &a,
        &["describe", "configmap", "settings", "-n", "team"],
    );
    assert!(
        described.starts_with("Name:         settings\nNamespace:    team\n"),
        "{described}"
    );
    assert!(described.ends_with("\nEvents:  <none>\n"), "{described}");

    // can-i maps deployments to apps and asks RBAC: edit grants them in team, not elsewhere.
    let can = |args: &[&str]| {
        let out = kubectl(&tb, &bob, args);
        (stdout(&out), stderr(&out))
    };
    assert_eq!(
        can(&["auth", "can-i", "create", "deployments", "-n", "team"]),
        ("yes\n".into(), String::new())
    );
    assert_eq!(
        can(&["auth", "can-i", "create", "deployments"]),
        ("no\n".into(), String::new())
    );
    assert_eq!(
        can(&["auth", "can-i", "delete", "cronjobs.batch", "-n", "team"]),
        ("yes\n".into(), String::new())
    );

    // create role resolves resource names through discovery.
    kubectl_ok(
        &tb,
        &a,
        &[
            "create",
            "role",
            "pod-reader",
            "-n",
            "team",
            "--verb=get,list",
            "--resource=pods,pods/log,deployments.apps",
        ],
    );
    let role = tb.get_object("Role", "team", "pod-reader").unwrap();
    assert_eq!(
        role["rules"],
        json!([
            {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list"]},
            {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
        ])
    );

    // Resources known to discovery only: empty lists, 404 for a name; `all` is a category.
    let out = kubectl(&tb, &a, &["get", "all", "-n", "team"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stderr(&out), "No resources found in team namespace.\n");
    let out = kubectl(&tb, &a, &["get", "deployment", "web", "-n", "team"]);
    assert_eq!(
        stderr(&out),
        "Error from server (NotFound): deployments.apps \"web\" not found\n"
    );
}

#[test]
fn aggregated_cluster_roles_show_their_rules() {
    let tb = start(&[]);
    let a = admin();
    let view = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "clusterrole", "view", "-o", "json"],
    ));
    let rules = view["rules"].as_array().unwrap();
    assert!(
        rules.iter().any(|r| r["resources"]
            .as_array()
            .unwrap()
            .contains(&json!("configmaps"))
            && r["verbs"] == json!(["get", "list", "watch"])),
        "{view}"
    );
    // admin aggregates edit, which aggregates its pieces: the union reaches admin.
    let admin_role = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "clusterrole", "admin", "-o", "json"],
    ));
    let edit = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "clusterrole", "edit", "-o", "json"],
    ));
    for rule in edit["rules"].as_array().unwrap() {
        assert!(
            admin_role["rules"].as_array().unwrap().contains(rule),
            "{rule}"
        );
    }

    // A new piece labelled for view is aggregated at once, and removed with it.
    let piece = r#"{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
      "metadata": {"name": "widgets-view", "labels": {"rbac.authorization.k8s.io/aggregate-to-view": "true"}},
      "rules": [{"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]}]}"#;
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], piece);
    assert!(out.status.success(), "{}", stderr(&out));
    let widgets = json!({"apiGroups": ["example.com"], "resources": ["widgets"], "verbs": ["get"]});
    let view = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "clusterrole", "view", "-o", "json"],
    ));
    assert!(
        view["rules"].as_array().unwrap().contains(&widgets),
        "{view}"
    );
    let edit = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "clusterrole", "edit", "-o", "json"],
    ));
    assert!(
        edit["rules"].as_array().unwrap().contains(&widgets),
        "edit aggregates view"
    );
    kubectl_ok(&tb, &a, &["delete", "clusterrole", "widgets-view"]);
    let view = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "clusterrole", "view", "-o", "json"],
    ));
    assert!(
        !view["rules"].as_array().unwrap().contains(&widgets),
        "{view}"
    );
}

#[test]
fn namespaces_terminate_before_they_go() {
    let tb = start(&[]);
    let a = admin();
    let list = "apiVersion: v1
kind: List
items:
- {apiVersion: v1, kind: Namespace, metadata: {name: team}}
- {apiVersion: v1, kind: ConfigMap, metadata: {name: settings, namespace: team}, data: {a: b}}
";
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], list);
    assert!(out.status.success(), "{}", stderr(&out));
    kubectl_ok(&tb, &a, &["create", "namespace", "other"]);
    // Every namespace gets the cluster CA, as the root-ca-cert-publisher controller does.
    let ca = |ns: &str| {
        tb.get_object("ConfigMap", ns, "kube-root-ca.crt")
            .map(|cm| cm["data"].clone())
    };
    assert_eq!(ca("other"), ca("kube-system"));
    assert!(ca("team").is_some());

    // Deleting a namespace marks it Terminating and returns it; its objects are still there,
    // new ones are refused, and the status.phase field selector sees it.
    let out = kubectl_ok(&tb, &a, &["delete", "namespace", "team", "--wait=false"]);
    assert_eq!(out, "namespace \"team\" deleted\n");
    let deleted = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "namespace", "team", "-o", "json"],
    ));
    assert_eq!(deleted["status"]["phase"], "Terminating", "{deleted}");
    assert!(deleted["metadata"]["deletionTimestamp"].is_string());
    assert!(tb.get_object("ConfigMap", "team", "settings").is_some());
    let out = kubectl(&tb, &a, &["create", "configmap", "late", "-n", "team"]);
    assert_eq!(
        stderr(&out),
        "error: failed to create configmap: configmaps \"late\" is forbidden: unable to create new content in namespace team because it is being terminated\n"
    );
    let terminating = kubectl_ok(
        &tb,
        &a,
        &[
            "get",
            "namespaces",
            "--field-selector=status.phase=Terminating",
            "-o",
            "name",
        ],
    );
    assert_eq!(terminating, "namespace/team\n");
    // kubectl waits (by watching) until the namespace controller has removed it.
    kubectl_ok(
        &tb,
        &a,
        &["wait", "--for=delete", "namespace/team", "--timeout=20s"],
    );
    assert!(tb.get_object("Namespace", "", "team").is_none());
    assert!(tb.get_object("ConfigMap", "team", "settings").is_none());

    // So `delete -f` of a List holding a namespace and its objects succeeds, as on EKS.
    let out = kubectl_stdin(&tb, &a, &["create", "-f", "-"], list);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = kubectl_stdin(&tb, &a, &["delete", "-f", "-"], list);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "namespace \"team\" deleted\nconfigmap \"settings\" deleted\n"
    );
    assert!(tb.get_object("Namespace", "", "team").is_none());
    let active = kubectl_ok(
        &tb,
        &a,
        &[
            "get",
            "namespaces",
            "--field-selector=status.phase=Active",
            "-o",
            "name",
        ],
    );
    assert!(
        active.contains("namespace/other\n") && !active.contains("team"),
        "{active}"
    );
}

#[test]
fn replace_with_another_uid_is_a_precondition_conflict() {
    let tb = start(&[]);
    let a = admin();
    kubectl_ok(&tb, &a, &["create", "configmap", "x", "-n", "default"]);
    let mut cm = tb.get_object("ConfigMap", "default", "x").unwrap();
    let uid = cm["metadata"]["uid"].as_str().unwrap().to_string();
    cm["metadata"]["uid"] = json!("00000000-0000-4000-8000-000000000000");
    cm["data"] = json!({"k": "v"});
    let out = kubectl_stdin(&tb, &a, &["replace", "-f", "-"], &cm.to_string());
    assert!(!out.status.success());
    assert_eq!(
        stderr(&out),
        format!(
            "Error from server (Conflict): error when replacing \"STDIN\": Operation cannot be fulfilled on configmaps \"x\": StorageError: invalid object, Code: 4, Key: /registry/configmaps/default/x, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: 00000000-0000-4000-8000-000000000000, UID in object meta: {uid}\n"
        )
    );
    assert!(tb.get_object("ConfigMap", "default", "x").unwrap()["data"].is_null());
}

#[test]
fn watches_stream_changes() {
    let tb = start(&[]);
    let a = admin();
    let list = json_of(&kubectl_ok(
        &tb,
        &a,
        &["get", "--raw", "/api/v1/namespaces/default/configmaps"],
    ));
    let from = rv(&list).to_string();
    assert!(!from.is_empty(), "{list}");
    // A raw watch from the list's resourceVersion, ended by the server after 3 seconds.
    let kubeconfig = tb.dir().join("kubeconfig-watch");
    std::fs::write(&kubeconfig, tb.kubeconfig_for(&a, true)).unwrap();
    let path = format!(
        "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={from}&timeoutSeconds=3"
    );
    let watcher = std::process::Command::new(
        std::env::var("EKS_TESTBED_KUBECTL").unwrap_or_else(|_| "kubectl".into()),
    )
    .env_clear()
    .env("PATH", std::env::var_os("PATH").unwrap_or_default())
    .env("HOME", tb.dir().join("home"))
    .env("KUBECONFIG", &kubeconfig)
    .args(["get", "--raw", &path])
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped())
    .spawn()
    .expect("kubectl runs");
    kubectl_ok(&tb, &a, &["create", "configmap", "x", "-n", "default"]);
    kubectl_ok(
        &tb,
        &a,
        &["label", "configmap", "x", "-n", "default", "l=1"],
    );
    kubectl_ok(&tb, &a, &["create", "configmap", "y", "-n", "kube-public"]);
    kubectl_ok(&tb, &a, &["delete", "configmap", "x", "-n", "default"]);
    let out = watcher.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let events: Vec<(String, String)> = stdout(&out)
        .lines()
        .map(|l| {
            let e = json_of(l);
            let name = e["object"]["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_string();
            (e["type"].as_str().unwrap().to_string(), name)
        })
        .collect();
    let expected = [("ADDED", "x"), ("MODIFIED", "x"), ("DELETED", "x")]
        .map(|(t, n)| (t.to_string(), n.to_string()));
    assert_eq!(events, expected);

    // kubectl wait --for=delete watches too.
    kubectl_ok(&tb, &a, &["create", "configmap", "z", "-n", "default"]);
    let out = kubectl(
        &tb,
        &a,
        &[
            "wait",
            "--for=delete",
            "configmap/z",
            "-n",
            "default",
            "--timeout=1s",
        ],
    );
    assert!(!out.status.success(), "z still exists");
}

/// On EKS an access policy may allow the impersonation, but the impersonated user is then
/// authorized by RBAC alone (EKS user guide, access policies), whatever uid it is given.
#[test]
fn impersonated_users_get_rbac_alone_under_access_policies() {
    let tb = Testbed::start(TestbedOptions {
        auth_mode: eks_auth::access::AuthenticationMode::Api,
        ..TestbedOptions::default()
    })
    .expect("the testbed starts");
    // The creator gets in by its bootstrap entry with AmazonEKSClusterAdminPolicy, which allows
    // impersonation.
    let creator = Creds::from(tb.creator().expect("the AWS side runs"));
    let who = json_of(&kubectl_ok(
        &tb,
        &creator,
        &["auth", "whoami", "-o", "json"],
    ));
    let creator_uid = who["status"]["userInfo"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(creator_uid.starts_with("aws-iam-authenticator:"), "{who}");
    kubectl_ok(&tb, &creator, &["get", "configmaps", "-n", "default"]);

    const CMS: &str = "/api/v1/namespaces/default/configmaps";
    let denied = "Error from server (Forbidden): configmaps is forbidden: User \"alice\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\"";
    let out = kubectl(&tb, &creator, &["get", "--raw", CMS, "--as=alice"]);
    assert_eq!(stderr(&out).lines().last(), Some(denied));
    // Borrowing the creator's uid (which names its access entry) changes nothing.
    let as_uid = format!("--as-uid={creator_uid}");
    let out = kubectl(&tb, &creator, &["get", "--raw", CMS, "--as=alice", &as_uid]);
    assert_eq!(stderr(&out).lines().last(), Some(denied));
    let out = kubectl(
        &tb,
        &creator,
        &[
            "auth",
            "can-i",
            "list",
            "configmaps",
            "-n",
            "default",
            "--as=alice",
            &as_uid,
        ],
    );
    assert_eq!(stdout(&out), "no\n");
    // RBAC still counts for the impersonated user. (The creator may bind view although RBAC
    // gives it nothing: its access policy allows `bind`, which the escalation check asks the
    // whole authorizer chain, as kube-apiserver's escalation_check.go does.)
    kubectl_ok(
        &tb,
        &creator,
        &[
            "create",
            "rolebinding",
            "alice-view",
            "-n",
            "default",
            "--clusterrole=view",
            "--user=alice",
        ],
    );
    kubectl_ok(&tb, &creator, &["get", "--raw", CMS, "--as=alice", &as_uid]);
}
