use super::validate::DNS1123_SUBDOMAIN_MSG;
use super::*;

fn now() -> jiff::Timestamp {
    "2026-01-02T03:04:05Z".parse().unwrap()
}

fn kind(resource: &str) -> &'static Kind {
    crate::kinds::KINDS
        .iter()
        .find(|k| k.resource == resource)
        .unwrap()
}

fn store_with_default() -> Store {
    let mut s = Store::default();
    s.create(
        kind("namespaces"),
        "",
        &json!({"metadata": {"name": "default"}}),
        now(),
    )
    .unwrap();
    s
}

#[test]
fn create_sets_server_fields_and_refuses_duplicates() {
    let mut s = store_with_default();
    let cm = s
        .create(
            kind("configmaps"),
            "default",
            &json!({"metadata": {"name": "x"}, "data": {"a": "1"}}),
            now(),
        )
        .unwrap();
    assert_eq!(cm["metadata"]["resourceVersion"], "2");
    assert_eq!(cm["metadata"]["creationTimestamp"], "2026-01-02T03:04:05Z");
    assert_eq!(cm["metadata"]["namespace"], "default");
    assert_eq!(cm["metadata"]["uid"].as_str().unwrap().len(), 36);
    let err = s
        .create(
            kind("configmaps"),
            "default",
            &json!({"metadata": {"name": "x"}}),
            now(),
        )
        .unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(err.message(), "configmaps \"x\" already exists");
}

#[test]
fn stale_update_conflicts_and_noop_keeps_version() {
    let mut s = store_with_default();
    let cm = s
        .create(
            kind("configmaps"),
            "default",
            &json!({"metadata": {"name": "x"}}),
            now(),
        )
        .unwrap();
    let mut changed = cm.clone();
    changed["data"] = json!({"k": "v"});
    let (updated, _) = s
        .update(kind("configmaps"), "default", "x", &changed, now())
        .unwrap();
    assert_eq!(updated["metadata"]["resourceVersion"], "3");
    let err = s
        .update(kind("configmaps"), "default", "x", &changed, now())
        .unwrap_err();
    assert_eq!(err.code, 409);
    assert_eq!(
        err.message(),
        "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
    );
    let (same, _) = s
        .update(kind("configmaps"), "default", "x", &updated, now())
        .unwrap();
    assert_eq!(same["metadata"]["resourceVersion"], "3");
}

#[test]
fn invalid_names_are_worded_like_the_server() {
    let mut s = store_with_default();
    let err = s
        .create(
            kind("configmaps"),
            "default",
            &json!({"metadata": {"name": "Bad_Name"}}),
            now(),
        )
        .unwrap_err();
    assert_eq!(err.code, 422);
    assert_eq!(
        err.message(),
        format!(
            "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": {DNS1123_SUBDOMAIN_MSG}"
        )
    );
    let err = s
            .create(kind("clusterrolebindings"), "", &json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}}), now())
            .unwrap_err();
    assert_eq!(
        err.message(),
        "ClusterRoleBinding.rbac.authorization.k8s.io \"b\" is invalid: roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\""
    );
}

#[test]
fn missing_namespace_is_not_found() {
    let mut s = store_with_default();
    let err = s
        .create(
            kind("configmaps"),
            "nope",
            &json!({"metadata": {"name": "x"}}),
            now(),
        )
        .unwrap_err();
    assert_eq!(
        (err.code, err.message()),
        (404, "namespaces \"nope\" not found")
    );
}

#[test]
fn strategic_patch_drops_directives() {
    let mut s = store_with_default();
    s.create(
        kind("configmaps"),
        "default",
        &json!({"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}}),
        now(),
    )
    .unwrap();
    let patched = s
        .patch(
            kind("configmaps"),
            "default",
            "x",
            PatchType::Strategic,
            &json!({"$retainKeys": ["data"], "data": {"a": null, "c": "3"}}),
            now(),
        )
        .unwrap();
    assert_eq!(patched["data"], json!({"b": "2", "c": "3"}));
    assert!(patched.get("$retainKeys").is_none());
}

#[test]
fn namespace_delete_terminates_then_empties_and_default_is_immortal() {
    let mut s = store_with_default();
    s.create(
        kind("namespaces"),
        "",
        &json!({"metadata": {"name": "team"}}),
        now(),
    )
    .unwrap();
    s.create(
        kind("configmaps"),
        "team",
        &json!({"metadata": {"name": "x"}}),
        now(),
    )
    .unwrap();
    let terminating = s
        .delete(kind("namespaces"), "", "team", None, None, now())
        .unwrap();
    assert_eq!(terminating["status"]["phase"], "Terminating");
    assert_eq!(
        terminating["metadata"]["deletionTimestamp"],
        "2026-01-02T03:04:05Z"
    );
    // Its objects stay until the namespace controller runs; new ones are refused.
    assert!(s.get(kind("configmaps"), "team", "x").is_ok());
    let err = s
        .create(
            kind("configmaps"),
            "team",
            &json!({"metadata": {"name": "y"}}),
            now(),
        )
        .unwrap_err();
    assert_eq!(
        (err.code, err.message()),
        (
            403,
            "configmaps \"y\" is forbidden: unable to create new content in namespace team because it is being terminated"
        )
    );
    let again = s
        .delete(kind("namespaces"), "", "team", None, None, now())
        .unwrap_err();
    assert_eq!(again.code, 409);
    assert_eq!(s.finalize_namespaces(now()), 0, "not yet due");
    let delay = jiff::SignedDuration::try_from(NAMESPACE_FINALIZE_DELAY).unwrap();
    let later = now().checked_add(delay).unwrap();
    assert_eq!(s.finalize_namespaces(later), 1);
    assert_eq!(
        s.get(kind("configmaps"), "team", "x").unwrap_err().code,
        404
    );
    assert_eq!(s.get(kind("namespaces"), "", "team").unwrap_err().code, 404);
    let err = s
        .delete(kind("namespaces"), "", "default", None, None, now())
        .unwrap_err();
    assert_eq!(
        (err.code, err.message()),
        (
            403,
            "namespaces \"default\" is forbidden: this namespace may not be deleted"
        )
    );
}
