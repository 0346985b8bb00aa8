//! The resource kinds the testbed serves, their discovery documents and their table columns.
//!
//! Here: the kinds and subresources as data (most of this file is the one [`KINDS`] table);
//! `discovery`: the documents built from them; `table`: the server-side table columns.

mod discovery;
mod table;

pub use discovery::{
    core_versions, group, group_list, openapi_v3_group_version, openapi_v3_root, resource_list,
    version,
};
pub use table::{human_duration, table};

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

#[cfg(test)]
mod tests;
