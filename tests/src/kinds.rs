//! The resource kinds the testbed serves, their discovery documents and their table columns.

use serde_json::{Value, json};

/// One served resource (group/version/resource and what discovery says about it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kind {
    pub group: &'static str,
    pub version: &'static str,
    /// Plural resource name (`configmaps`).
    pub resource: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// Stored and served with CRUD (false for review kinds: create only, nothing stored).
    pub stored: bool,
    /// Known to discovery and authorization only (pods, deployments, events, ...): lists are
    /// empty, a get is 404, writes are 405. kubectl maps resource names through discovery
    /// (`auth can-i`, `create role --resource`, `describe`'s events, `get all`).
    pub empty: bool,
    /// Discovery categories (`all`).
    pub categories: &'static [&'static str],
}

const ALL_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// A kind served by discovery only (see [`Kind::empty`]).
const fn empty_kind(
    group: &'static str,
    resource: &'static str,
    singular: &'static str,
    kind: &'static str,
    namespaced: bool,
    short_names: &'static [&'static str],
    categories: &'static [&'static str],
) -> Kind {
    Kind {
        group,
        version: "v1",
        resource,
        singular,
        kind,
        namespaced,
        short_names,
        verbs: ALL_VERBS,
        stored: false,
        empty: true,
        categories,
    }
}

const ALL: &[&str] = &["all"];

const CRUD_VERBS: &[&str] = &["create", "delete", "get", "list", "patch", "update"];
const CREATE_ONLY: &[&str] = &["create"];

const RBAC: &str = "rbac.authorization.k8s.io";
const AUTHN: &str = "authentication.k8s.io";
const AUTHZ: &str = "authorization.k8s.io";
const APPS: &str = "apps";
const BATCH: &str = "batch";
const EVENTS: &str = "events.k8s.io";

/// Every kind the server knows, in discovery order.
pub static KINDS: &[Kind] = &[
    Kind {
        group: "",
        version: "v1",
        resource: "configmaps",
        singular: "configmap",
        kind: "ConfigMap",
        namespaced: true,
        short_names: &["cm"],
        verbs: CRUD_VERBS,
        stored: true,
        empty: false,
        categories: &[],
    },
    Kind {
        group: "",
        version: "v1",
        resource: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        verbs: CRUD_VERBS,
        stored: true,
        empty: false,
        categories: &[],
    },
    Kind {
        group: RBAC,
        version: "v1",
        resource: "clusterrolebindings",
        singular: "clusterrolebinding",
        kind: "ClusterRoleBinding",
        namespaced: false,
        short_names: &[],
        verbs: CRUD_VERBS,
        stored: true,
        empty: false,
        categories: &[],
    },
    Kind {
        group: RBAC,
        version: "v1",
        resource: "clusterroles",
        singular: "clusterrole",
        kind: "ClusterRole",
        namespaced: false,
        short_names: &[],
        verbs: CRUD_VERBS,
        stored: true,
        empty: false,
        categories: &[],
    },
    Kind {
        group: RBAC,
        version: "v1",
        resource: "rolebindings",
        singular: "rolebinding",
        kind: "RoleBinding",
        namespaced: true,
        short_names: &[],
        verbs: CRUD_VERBS,
        stored: true,
        empty: false,
        categories: &[],
    },
    Kind {
        group: RBAC,
        version: "v1",
        resource: "roles",
        singular: "role",
        kind: "Role",
        namespaced: true,
        short_names: &[],
        verbs: CRUD_VERBS,
        stored: true,
        empty: false,
        categories: &[],
    },
    Kind {
        group: AUTHN,
        version: "v1",
        resource: "selfsubjectreviews",
        singular: "selfsubjectreview",
        kind: "SelfSubjectReview",
        namespaced: false,
        short_names: &[],
        verbs: CREATE_ONLY,
        stored: false,
        empty: false,
        categories: &[],
    },
    Kind {
        group: AUTHZ,
        version: "v1",
        resource: "localsubjectaccessreviews",
        singular: "localsubjectaccessreview",
        kind: "LocalSubjectAccessReview",
        namespaced: true,
        short_names: &[],
        verbs: CREATE_ONLY,
        stored: false,
        empty: false,
        categories: &[],
    },
    Kind {
        group: AUTHZ,
        version: "v1",
        resource: "selfsubjectaccessreviews",
        singular: "selfsubjectaccessreview",
        kind: "SelfSubjectAccessReview",
        namespaced: false,
        short_names: &[],
        verbs: CREATE_ONLY,
        stored: false,
        empty: false,
        categories: &[],
    },
    Kind {
        group: AUTHZ,
        version: "v1",
        resource: "selfsubjectrulesreviews",
        singular: "selfsubjectrulesreview",
        kind: "SelfSubjectRulesReview",
        namespaced: false,
        short_names: &[],
        verbs: CREATE_ONLY,
        stored: false,
        empty: false,
        categories: &[],
    },
    Kind {
        group: AUTHZ,
        version: "v1",
        resource: "subjectaccessreviews",
        singular: "subjectaccessreview",
        kind: "SubjectAccessReview",
        namespaced: false,
        short_names: &[],
        verbs: CREATE_ONLY,
        stored: false,
        empty: false,
        categories: &[],
    },
    // Discovery only (names, scope, short names and categories as kube-apiserver v1.32 lists them).
    empty_kind(
        "",
        "endpoints",
        "endpoints",
        "Endpoints",
        true,
        &["ep"],
        &[],
    ),
    empty_kind("", "events", "event", "Event", true, &["ev"], &[]),
    empty_kind(
        "",
        "limitranges",
        "limitrange",
        "LimitRange",
        true,
        &["limits"],
        &[],
    ),
    empty_kind("", "nodes", "node", "Node", false, &["no"], &[]),
    empty_kind(
        "",
        "persistentvolumeclaims",
        "persistentvolumeclaim",
        "PersistentVolumeClaim",
        true,
        &["pvc"],
        &[],
    ),
    empty_kind(
        "",
        "persistentvolumes",
        "persistentvolume",
        "PersistentVolume",
        false,
        &["pv"],
        &[],
    ),
    empty_kind("", "pods", "pod", "Pod", true, &["po"], ALL),
    empty_kind(
        "",
        "replicationcontrollers",
        "replicationcontroller",
        "ReplicationController",
        true,
        &["rc"],
        ALL,
    ),
    empty_kind(
        "",
        "resourcequotas",
        "resourcequota",
        "ResourceQuota",
        true,
        &["quota"],
        &[],
    ),
    empty_kind("", "secrets", "secret", "Secret", true, &[], &[]),
    empty_kind(
        "",
        "serviceaccounts",
        "serviceaccount",
        "ServiceAccount",
        true,
        &["sa"],
        &[],
    ),
    empty_kind("", "services", "service", "Service", true, &["svc"], ALL),
    empty_kind(
        APPS,
        "controllerrevisions",
        "controllerrevision",
        "ControllerRevision",
        true,
        &[],
        &[],
    ),
    empty_kind(
        APPS,
        "daemonsets",
        "daemonset",
        "DaemonSet",
        true,
        &["ds"],
        ALL,
    ),
    empty_kind(
        APPS,
        "deployments",
        "deployment",
        "Deployment",
        true,
        &["deploy"],
        ALL,
    ),
    empty_kind(
        APPS,
        "replicasets",
        "replicaset",
        "ReplicaSet",
        true,
        &["rs"],
        ALL,
    ),
    empty_kind(
        APPS,
        "statefulsets",
        "statefulset",
        "StatefulSet",
        true,
        &["sts"],
        ALL,
    ),
    empty_kind(BATCH, "cronjobs", "cronjob", "CronJob", true, &["cj"], ALL),
    empty_kind(BATCH, "jobs", "job", "Job", true, &[], ALL),
    empty_kind(EVENTS, "events", "event", "Event", true, &["ev"], &[]),
];

/// API groups (other than the core group) in discovery order.
pub const GROUPS: &[&str] = &[APPS, EVENTS, AUTHN, AUTHZ, BATCH, RBAC];

/// Subresources listed in discovery (parent resource, subresource, kind, verbs); none is served.
const SUBRESOURCES: &[(&str, &str, &str, &str, &[&str])] = &[
    ("", "pods", "attach", "PodAttachOptions", &["create", "get"]),
    ("", "pods", "exec", "PodExecOptions", &["create", "get"]),
    ("", "pods", "log", "Pod", &["get"]),
    (
        "",
        "pods",
        "portforward",
        "PodPortForwardOptions",
        &["create", "get"],
    ),
    ("", "pods", "status", "Pod", &["get", "patch", "update"]),
    ("", "namespaces", "finalize", "Namespace", &["update"]),
    (
        "",
        "namespaces",
        "status",
        "Namespace",
        &["get", "patch", "update"],
    ),
    (
        "",
        "services",
        "proxy",
        "ServiceProxyOptions",
        &["create", "delete", "get", "patch", "update"],
    ),
    (
        APPS,
        "deployments",
        "scale",
        "Scale",
        &["get", "patch", "update"],
    ),
    (
        APPS,
        "deployments",
        "status",
        "Deployment",
        &["get", "patch", "update"],
    ),
    (
        APPS,
        "statefulsets",
        "scale",
        "Scale",
        &["get", "patch", "update"],
    ),
    (
        APPS,
        "replicasets",
        "scale",
        "Scale",
        &["get", "patch", "update"],
    ),
    (BATCH, "jobs", "status", "Job", &["get", "patch", "update"]),
    (
        BATCH,
        "cronjobs",
        "status",
        "CronJob",
        &["get", "patch", "update"],
    ),
];

impl Kind {
    /// `configmaps` or `clusterroles.rbac.authorization.k8s.io` (schema.GroupResource.String).
    pub fn qualified_resource(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }

    /// `v1` or `rbac.authorization.k8s.io/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// Looks a kind up by group, version and plural resource.
    pub fn find(group: &str, version: &str, resource: &str) -> Option<&'static Kind> {
        KINDS
            .iter()
            .find(|k| k.group == group && k.version == version && k.resource == resource)
    }

    /// Looks a stored kind up by its `kind` name (`ClusterRole`).
    pub fn by_kind(kind: &str) -> Option<&'static Kind> {
        KINDS.iter().find(|k| k.kind == kind && k.stored)
    }
}

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

/// Column definitions and row cells of the server-side table for a kind, as
/// pkg/printers/internalversion/printers.go defines them for these kinds.
pub fn table(kind: &Kind, items: &[Value], resource_version: &str, now: jiff::Timestamp) -> Value {
    let col = |name: &str, ty: &str, format: &str, priority: u8, description: &str| json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority});
    let name_col = col(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    );
    let age_col = col(
        "Age",
        "string",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    );
    let created_col = col(
        "Created At",
        "date",
        "",
        0,
        "Time when this Role was created",
    );
    let binding_cols = || {
        vec![
            name_col.clone(),
            col("Role", "string", "", 0, "Role of the binding."),
            age_col.clone(),
            col("Users", "string", "", 1, "Users in the binding."),
            col("Groups", "string", "", 1, "Groups in the binding."),
            col(
                "ServiceAccounts",
                "string",
                "",
                1,
                "ServiceAccounts in the binding.",
            ),
        ]
    };
    let columns: Vec<Value> = match kind.resource {
        "namespaces" => vec![
            name_col,
            col("Status", "string", "", 0, "The status of the namespace"),
            age_col,
        ],
        "configmaps" => vec![
            name_col,
            col(
                "Data",
                "string",
                "",
                0,
                "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
            ),
            age_col,
        ],
        "clusterroles" | "roles" => vec![name_col, created_col],
        "clusterrolebindings" | "rolebindings" => binding_cols(),
        _ => vec![name_col, age_col],
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let meta = &obj["metadata"];
            let name = meta["name"].as_str().unwrap_or_default();
            let created = meta["creationTimestamp"].as_str().unwrap_or_default();
            let age = created
                .parse::<jiff::Timestamp>()
                .map(|t| human_duration(now.duration_since(t).as_secs()))
                .unwrap_or_else(|_| "<unknown>".into());
            let cells: Vec<Value> = match kind.resource {
                "namespaces" => {
                    let phase = obj["status"]["phase"].as_str().unwrap_or("Active");
                    vec![json!(name), json!(phase), json!(age)]
                }
                "configmaps" => {
                    let count = obj["data"].as_object().map_or(0, |m| m.len())
                        + obj["binaryData"].as_object().map_or(0, |m| m.len());
                    vec![json!(name), json!(count), json!(age)]
                }
                "clusterroles" | "roles" => vec![json!(name), json!(created)],
                "clusterrolebindings" | "rolebindings" => {
                    let role_ref = &obj["roleRef"];
                    let role = format!(
                        "{}/{}",
                        role_ref["kind"].as_str().unwrap_or_default(),
                        role_ref["name"].as_str().unwrap_or_default()
                    );
                    let (users, groups, sas) = binding_subjects(obj);
                    vec![
                        json!(name),
                        json!(role),
                        json!(age),
                        json!(users),
                        json!(groups),
                        json!(sas),
                    ]
                }
                _ => vec![json!(name), json!(age)],
            };
            let mut partial = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta.clone(),
            });
            if let Some(m) = partial["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells, "object": partial})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn binding_subjects(obj: &Value) -> (String, String, String) {
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for s in obj["subjects"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or_default().to_string();
        match s["kind"].as_str() {
            Some("User") => users.push(name),
            Some("Group") => groups.push(name),
            Some("ServiceAccount") => {
                sas.push(format!(
                    "{}/{name}",
                    s["namespace"].as_str().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    (users.join(", "), groups.join(", "), sas.join(", "))
}

/// k8s.io/apimachinery/pkg/util/duration.HumanDuration for whole seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}

#[cfg(test)]
mod tests;
