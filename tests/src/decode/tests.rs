use super::*;
use serde_json::json;

fn kind(resource: &str) -> &'static Kind {
    crate::kinds::KINDS
        .iter()
        .find(|k| k.resource == resource)
        .unwrap()
}

#[test]
fn type_errors_are_worded_as_encoding_json_words_them() {
    let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"n": 1}});
    let err = decode(
        kind("configmaps"),
        &cm,
        FieldValidation::Strict,
        Route::Body,
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.message()),
        (
            400,
            "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
        )
    );
    let labels = json!({"metadata": {"name": "x", "labels": {"a": true}}});
    let err = decode(
        kind("configmaps"),
        &labels,
        FieldValidation::Warn,
        Route::Body,
    )
    .unwrap_err();
    assert!(
            err.message()
                .ends_with("json: cannot unmarshal bool into Go struct field ObjectMeta.metadata.labels of type string"),
            "{}",
            err.message()
        );
    let verbs = json!({"metadata": {"name": "r"}, "rules": [{"verbs": [1]}]});
    let err = decode(
        kind("clusterroles"),
        &verbs,
        FieldValidation::Warn,
        Route::Body,
    )
    .unwrap_err();
    assert!(
            err.message()
                .ends_with("json: cannot unmarshal number into Go struct field PolicyRule.rules.verbs of type string"),
            "{}",
            err.message()
        );
    let rr = json!({"metadata": {"name": "b"}, "roleRef": "view"});
    let err = decode(
        kind("clusterrolebindings"),
        &rr,
        FieldValidation::Warn,
        Route::Body,
    )
    .unwrap_err();
    assert!(
            err.message()
                .ends_with("json: cannot unmarshal string into Go struct field ClusterRoleBinding.roleRef of type v1.RoleRef"),
            "{}",
            err.message()
        );
}

#[test]
fn patches_are_worded_as_the_patch_handlers_word_them() {
    let cm = json!({"data": {"n": 1}, "metadata": {"name": "x"}});
    let err = decode(
        kind("configmaps"),
        &cm,
        FieldValidation::Strict,
        Route::MergePatch,
    )
    .unwrap_err();
    assert_eq!(
        (err.code, err.message()),
        (
            422,
            " \"\" is invalid: patch: Invalid value: \"{\\\"data\\\":{\\\"n\\\":1},\\\"metadata\\\":{\\\"name\\\":\\\"x\\\"}}\": json: cannot unmarshal number into Go struct field ConfigMap.data of type string"
        )
    );
    let patch = json!({"data": {"n": 1}});
    let err = decode(
        kind("configmaps"),
        &cm,
        FieldValidation::Strict,
        Route::StrategicPatch(&patch),
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        " \"\" is invalid: patch: Invalid value: \"map[data:map[n:1]]\": cannot convert int64 to string"
    );
}

#[test]
fn unknown_fields_are_dropped_or_refused() {
    let cm = json!({"metadata": {"name": "x", "foo": 1}, "data": {"a": "b"}, "spec": {}});
    let kept = decode(kind("configmaps"), &cm, FieldValidation::Warn, Route::Body).unwrap();
    assert_eq!(
        kept.object,
        json!({"metadata": {"name": "x"}, "data": {"a": "b"}})
    );
    assert_eq!(
        kept.warnings,
        ["unknown field \"metadata.foo\"", "unknown field \"spec\""]
    );
    let ignored = decode(
        kind("configmaps"),
        &cm,
        FieldValidation::Ignore,
        Route::Body,
    )
    .unwrap();
    assert!(ignored.warnings.is_empty());
    let err = decode(
        kind("configmaps"),
        &cm,
        FieldValidation::Strict,
        Route::Body,
    )
    .unwrap_err();
    assert_eq!(
        err.message(),
        "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: strict decoding error: unknown field \"metadata.foo\", unknown field \"spec\""
    );
    let role = json!({"metadata": {"name": "r"}, "rules": [{"verbs": ["get"], "bogus": 1}]});
    let err = decode(kind("roles"), &role, FieldValidation::Strict, Route::Body).unwrap_err();
    assert!(
        err.message().ends_with("unknown field \"rules[0].bogus\""),
        "{}",
        err.message()
    );
}

#[test]
fn rbac_api_groups_are_defaulted() {
    let rb = json!({"metadata": {"name": "b"},
            "roleRef": {"kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "u"}, {"kind": "Group", "name": "g"},
                         {"kind": "ServiceAccount", "name": "s", "namespace": "n"}]});
    let out = decode(
        kind("rolebindings"),
        &rb,
        FieldValidation::Strict,
        Route::Body,
    )
    .unwrap()
    .object;
    assert_eq!(out["roleRef"]["apiGroup"], RBAC);
    assert_eq!(out["subjects"][0]["apiGroup"], RBAC);
    assert_eq!(out["subjects"][1]["apiGroup"], RBAC);
    assert!(out["subjects"][2].get("apiGroup").is_none());
}
