//! Discovery: `/version`, `/api`, `/apis`, the resource lists and the OpenAPI v3 index, from
//! [`super::KINDS`].

use serde_json::{Value, json};

use super::{GROUPS, KINDS, Kind, SUBRESOURCES};

/// `GET /version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "32",
        "emulationMajor": "1",
        "emulationMinor": "32",
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": "31",
        "gitVersion": "v1.32.0-eks-testbed",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.23.0",
        "compiler": "gc",
        "platform": "linux/amd64"
    })
}

/// `GET /api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]
    })
}

fn group_doc(group: &str) -> Value {
    let gv = format!("{group}/v1");
    json!({
        "name": group,
        "versions": [{"groupVersion": gv, "version": "v1"}],
        "preferredVersion": {"groupVersion": gv, "version": "v1"}
    })
}

/// `GET /apis`.
pub fn group_list() -> Value {
    let groups: Vec<Value> = GROUPS.iter().map(|g| group_doc(g)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /apis/{group}`, `None` for an unknown group.
pub fn group(group: &str) -> Option<Value> {
    GROUPS.contains(&group).then(|| {
        let mut doc = group_doc(group);
        doc["kind"] = json!("APIGroup");
        doc["apiVersion"] = json!("v1");
        doc
    })
}

/// `GET /api/v1` or `GET /apis/{group}/v1`, `None` for an unknown group version.
pub fn resource_list(group: &str, version: &str) -> Option<Value> {
    if version != "v1" || !(group.is_empty() || GROUPS.contains(&group)) {
        return None;
    }
    let mut resources: Vec<(String, Value)> = KINDS
        .iter()
        .filter(|k| k.group == group)
        .map(|k| {
            let mut r = json!({
                "name": k.resource,
                "singularName": k.singular,
                "namespaced": k.namespaced,
                "kind": k.kind,
                "verbs": k.verbs,
            });
            if !k.short_names.is_empty() {
                r["shortNames"] = json!(k.short_names);
            }
            if !k.categories.is_empty() {
                r["categories"] = json!(k.categories);
            }
            (k.resource.to_string(), r)
        })
        .collect();
    for (g, parent, sub, kind, verbs) in SUBRESOURCES.iter().filter(|s| s.0 == group) {
        let namespaced = KINDS
            .iter()
            .find(|k| k.group == *g && k.resource == *parent)
            .is_some_and(|k| k.namespaced);
        let name = format!("{parent}/{sub}");
        let r = json!({"name": name, "singularName": "", "namespaced": namespaced, "kind": kind, "verbs": verbs});
        resources.push((name, r));
    }
    resources.sort_by(|a, b| a.0.cmp(&b.0));
    let resources: Vec<Value> = resources.into_iter().map(|(_, r)| r).collect();
    let gv = if group.is_empty() {
        "v1".to_string()
    } else {
        format!("{group}/v1")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`: where each group version's document is.
pub fn openapi_v3_root() -> Value {
    let mut paths = serde_json::Map::new();
    // Group versions with stored kinds only: the others' documents would be empty.
    let stored = |g: &str| KINDS.iter().any(|k| k.group == g && k.stored);
    for group in std::iter::once("")
        .chain(GROUPS.iter().copied())
        .filter(|g| stored(g))
    {
        let p = gv_path(group, "v1");
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash=testbed")}),
        );
    }
    json!({"paths": paths})
}

/// `GET /openapi/v3/api/v1` and `/openapi/v3/apis/{group}/v1`: only what kubectl reads from it,
/// the PATCH operation of each kind with its `fieldValidation` parameter (kubectl's
/// QueryParamVerifierV3 then lets the server validate instead of downloading schemas).
/// Object schemas are not served: kubectl apply falls back to the compiled-in types.
pub fn openapi_v3_group_version(path: &str) -> Option<Value> {
    let kinds: Vec<&Kind> = KINDS
        .iter()
        .filter(|k| k.stored && gv_path(k.group, k.version) == path)
        .collect();
    if kinds.is_empty() {
        return None;
    }
    let mut paths = serde_json::Map::new();
    for k in kinds {
        let item = if k.namespaced {
            format!("/{path}/namespaces/{{namespace}}/{}/{{name}}", k.resource)
        } else {
            format!("/{path}/{}/{{name}}", k.resource)
        };
        let param = |name: &str| json!({"name": name, "in": "query", "schema": {"type": "string", "uniqueItems": true}});
        paths.insert(
            item,
            json!({"patch": {
                "operationId": format!("patch{}", k.kind),
                "parameters": [param("dryRun"), param("fieldManager"), param("fieldValidation"), param("force")],
                "responses": {"200": {"description": "OK"}},
                "x-kubernetes-action": "patch",
                "x-kubernetes-group-version-kind": {"group": k.group, "version": k.version, "kind": k.kind},
            }}),
        );
    }
    Some(json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": {}},
    }))
}
