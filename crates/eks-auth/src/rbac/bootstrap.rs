//! The ClusterRoles and ClusterRoleBindings a fresh cluster bootstraps, from kube-apiserver's
//! `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go` (Kubernetes 1.33, default feature
//! gates: `APISelfSubjectReview` is GA, so `system:basic-user` includes `selfsubjectreviews`).
//!
//! Only the roles the suite needs are here: `cluster-admin`, `admin`, `edit`, `view` with their
//! `system:aggregate-to-*` pieces, and `system:basic-user`, `system:discovery`,
//! `system:public-info-viewer`. The controller, node and scheduler roles are left out.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    AggregationRule, ClusterRole, ClusterRoleBinding, PolicyRule, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

use super::{
    RBAC_GROUP, STANDARD_VERBS, SYSTEM_AUTHENTICATED, SYSTEM_MASTERS, SYSTEM_UNAUTHENTICATED,
};

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &["create", "update", "patch", "delete", "deletecollection"];
const READ_WRITE: &[&str] = STANDARD_VERBS;

const AGGREGATE_TO_ADMIN: &str = "rbac.authorization.k8s.io/aggregate-to-admin";
const AGGREGATE_TO_EDIT: &str = "rbac.authorization.k8s.io/aggregate-to-edit";
const AGGREGATE_TO_VIEW: &str = "rbac.authorization.k8s.io/aggregate-to-view";

fn sorted(v: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = v.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

/// `rbacv1helpers.NewRule(verbs).Groups(groups).Resources(resources).RuleOrDie()`, which sorts
/// every list.
fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(sorted(groups)),
        resources: Some(sorted(resources)),
        verbs: sorted(verbs),
        ..PolicyRule::default()
    }
}

/// `NewRule(verbs).URLs(urls).RuleOrDie()`.
fn url_rule(verbs: &[&str], urls: &[&str]) -> PolicyRule {
    PolicyRule {
        non_resource_urls: Some(sorted(urls)),
        verbs: sorted(verbs),
        ..PolicyRule::default()
    }
}

/// `addDefaultMetadata`: the bootstrapping label and the autoupdate annotation.
fn meta(name: &str, labels: &[(&str, &str)]) -> ObjectMeta {
    let mut all: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    all.insert("kubernetes.io/bootstrapping".into(), "rbac-defaults".into());
    ObjectMeta {
        name: Some(name.into()),
        labels: Some(all),
        annotations: Some(BTreeMap::from([(
            "rbac.authorization.kubernetes.io/autoupdate".to_owned(),
            "true".to_owned(),
        )])),
        ..ObjectMeta::default()
    }
}

fn role(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, labels),
        rules: Some(rules),
        aggregation_rule: None,
    }
}

fn aggregated_role(name: &str, labels: &[(&str, &str)], select: &str) -> ClusterRole {
    ClusterRole {
        metadata: meta(name, labels),
        // Stored without rules; the aggregation controller fills them in.
        rules: None,
        aggregation_rule: Some(AggregationRule {
            cluster_role_selectors: Some(vec![LabelSelector {
                match_labels: Some(BTreeMap::from([(select.to_owned(), "true".to_owned())])),
                match_expressions: None,
            }]),
        }),
    }
}

/// The built-in ClusterRoles (as stored before aggregation: `admin`, `edit` and `view` carry an
/// `aggregationRule` and no rules; [`super::RbacObjects::aggregated`] computes them).
pub fn builtin_cluster_roles() -> Vec<ClusterRole> {
    vec![
        // a "root" role which can do absolutely anything
        role(
            "cluster-admin",
            &[],
            vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])],
        ),
        role(
            "system:discovery",
            &[],
            vec![url_rule(
                &["get"],
                &[
                    "/livez",
                    "/readyz",
                    "/healthz",
                    "/version",
                    "/version/",
                    "/openapi",
                    "/openapi/*",
                    "/api",
                    "/api/*",
                    "/apis",
                    "/apis/*",
                ],
            )],
        ),
        role(
            "system:basic-user",
            &[],
            vec![
                rule(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                ),
                rule(
                    &["create"],
                    &["authentication.k8s.io"],
                    &["selfsubjectreviews"],
                ),
            ],
        ),
        role(
            "system:public-info-viewer",
            &[],
            vec![url_rule(
                &["get"],
                &["/livez", "/readyz", "/healthz", "/version", "/version/"],
            )],
        ),
        aggregated_role("admin", &[], AGGREGATE_TO_ADMIN),
        aggregated_role("edit", &[(AGGREGATE_TO_ADMIN, "true")], AGGREGATE_TO_EDIT),
        aggregated_role("view", &[(AGGREGATE_TO_EDIT, "true")], AGGREGATE_TO_VIEW),
        role(
            "system:aggregate-to-admin",
            &[(AGGREGATE_TO_ADMIN, "true")],
            vec![
                rule(
                    &["create"],
                    &["authorization.k8s.io"],
                    &["localsubjectaccessreviews"],
                ),
                rule(READ_WRITE, &[RBAC_GROUP], &["roles", "rolebindings"]),
            ],
        ),
        role(
            "system:aggregate-to-edit",
            &[(AGGREGATE_TO_EDIT, "true")],
            vec![
                // Allow read on escalating resources
                rule(
                    READ,
                    &[""],
                    &[
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                        "secrets",
                        "services/proxy",
                    ],
                ),
                rule(&["impersonate"], &[""], &["serviceaccounts"]),
                rule(
                    WRITE,
                    &[""],
                    &[
                        "pods",
                        "pods/attach",
                        "pods/proxy",
                        "pods/exec",
                        "pods/portforward",
                    ],
                ),
                rule(&["create"], &[""], &["pods/eviction"]),
                rule(
                    WRITE,
                    &[""],
                    &[
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/proxy",
                        "persistentvolumeclaims",
                        "configmaps",
                        "secrets",
                        "events",
                    ],
                ),
                rule(&["create"], &[""], &["serviceaccounts/token"]),
                rule(
                    WRITE,
                    &["apps"],
                    &[
                        "statefulsets",
                        "statefulsets/scale",
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "replicasets",
                        "replicasets/scale",
                    ],
                ),
                rule(WRITE, &["autoscaling"], &["horizontalpodautoscalers"]),
                rule(WRITE, &["batch"], &["jobs", "cronjobs"]),
                rule(
                    WRITE,
                    &["extensions"],
                    &[
                        "daemonsets",
                        "deployments",
                        "deployments/scale",
                        "deployments/rollback",
                        "ingresses",
                        "replicasets",
                        "replicasets/scale",
                        "replicationcontrollers/scale",
                        "networkpolicies",
                    ],
                ),
                rule(WRITE, &["policy"], &["poddisruptionbudgets"]),
                rule(
                    WRITE,
                    &["networking.k8s.io"],
                    &["networkpolicies", "ingresses"],
                ),
                rule(READ_WRITE, &["coordination.k8s.io"], &["leases"]),
            ],
        ),
        role(
            "system:aggregate-to-view",
            &[(AGGREGATE_TO_VIEW, "true")],
            vec![
                rule(
                    READ,
                    &[""],
                    &[
                        "pods",
                        "replicationcontrollers",
                        "replicationcontrollers/scale",
                        "serviceaccounts",
                        "services",
                        "services/status",
                        "endpoints",
                        "persistentvolumeclaims",
                        "persistentvolumeclaims/status",
                        "configmaps",
                    ],
                ),
                rule(
                    READ,
                    &[""],
                    &[
                        "limitranges",
                        "resourcequotas",
                        "bindings",
                        "events",
                        "pods/status",
                        "resourcequotas/status",
                        "namespaces/status",
                        "replicationcontrollers/status",
                        "pods/log",
                    ],
                ),
                // read access to namespaces at the namespace scope means you can read *this*
                // namespace.
                rule(READ, &[""], &["namespaces"]),
                rule(READ, &["discovery.k8s.io"], &["endpointslices"]),
                rule(
                    READ,
                    &["apps"],
                    &[
                        "controllerrevisions",
                        "statefulsets",
                        "statefulsets/status",
                        "statefulsets/scale",
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/status",
                        "deployments/scale",
                        "replicasets",
                        "replicasets/status",
                        "replicasets/scale",
                    ],
                ),
                rule(
                    READ,
                    &["autoscaling"],
                    &[
                        "horizontalpodautoscalers",
                        "horizontalpodautoscalers/status",
                    ],
                ),
                rule(
                    READ,
                    &["batch"],
                    &["jobs", "cronjobs", "cronjobs/status", "jobs/status"],
                ),
                rule(
                    READ,
                    &["extensions"],
                    &[
                        "daemonsets",
                        "daemonsets/status",
                        "deployments",
                        "deployments/scale",
                        "deployments/status",
                        "ingresses",
                        "ingresses/status",
                        "replicasets",
                        "replicasets/scale",
                        "replicasets/status",
                        "replicationcontrollers/scale",
                        "networkpolicies",
                    ],
                ),
                rule(
                    READ,
                    &["policy"],
                    &["poddisruptionbudgets", "poddisruptionbudgets/status"],
                ),
                rule(
                    READ,
                    &["networking.k8s.io"],
                    &["networkpolicies", "ingresses", "ingresses/status"],
                ),
            ],
        ),
    ]
}

/// `NewClusterBinding(role).Groups(groups...)`: binding named after the role, Group subjects.
fn binding(role: &str, groups: &[&str]) -> ClusterRoleBinding {
    ClusterRoleBinding {
        metadata: meta(role, &[]),
        role_ref: RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "ClusterRole".into(),
            name: role.into(),
        },
        subjects: Some(
            groups
                .iter()
                .map(|g| Subject {
                    api_group: Some(RBAC_GROUP.into()),
                    kind: "Group".into(),
                    name: (*g).into(),
                    namespace: None,
                })
                .collect(),
        ),
    }
}

/// The bootstrap ClusterRoleBindings of the roles above: `cluster-admin` to `system:masters`,
/// `system:discovery` and `system:basic-user` to `system:authenticated` (so every authenticated
/// user may run SelfSubjectReview, SelfSubjectAccessReview and SelfSubjectRulesReview), and
/// `system:public-info-viewer` to `system:authenticated` and `system:unauthenticated`.
pub fn builtin_cluster_role_bindings() -> Vec<ClusterRoleBinding> {
    vec![
        binding("cluster-admin", &[SYSTEM_MASTERS]),
        binding("system:discovery", &[SYSTEM_AUTHENTICATED]),
        binding("system:basic-user", &[SYSTEM_AUTHENTICATED]),
        binding(
            "system:public-info-viewer",
            &[SYSTEM_AUTHENTICATED, SYSTEM_UNAUTHENTICATED],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_and_bindings_of_a_fresh_cluster() {
        let names: Vec<String> = builtin_cluster_roles()
            .into_iter()
            .map(|r| r.metadata.name.unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "cluster-admin",
                "system:discovery",
                "system:basic-user",
                "system:public-info-viewer",
                "admin",
                "edit",
                "view",
                "system:aggregate-to-admin",
                "system:aggregate-to-edit",
                "system:aggregate-to-view",
            ]
        );
        let bindings: Vec<(String, String, Vec<String>)> = builtin_cluster_role_bindings()
            .into_iter()
            .map(|b| {
                let subjects = b
                    .subjects
                    .unwrap()
                    .into_iter()
                    .map(|s| format!("{}:{}", s.kind, s.name))
                    .collect();
                (b.metadata.name.unwrap(), b.role_ref.name, subjects)
            })
            .collect();
        assert_eq!(
            bindings,
            vec![
                (
                    "cluster-admin".into(),
                    "cluster-admin".into(),
                    vec!["Group:system:masters".into()]
                ),
                (
                    "system:discovery".into(),
                    "system:discovery".into(),
                    vec!["Group:system:authenticated".into()]
                ),
                (
                    "system:basic-user".into(),
                    "system:basic-user".into(),
                    vec!["Group:system:authenticated".into()]
                ),
                (
                    "system:public-info-viewer".into(),
                    "system:public-info-viewer".into(),
                    vec![
                        "Group:system:authenticated".into(),
                        "Group:system:unauthenticated".into()
                    ]
                ),
            ]
        );
    }

    #[test]
    fn rules_are_sorted_and_labelled_like_rule_or_die() {
        let roles = builtin_cluster_roles();
        let edit = roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some("edit"))
            .unwrap();
        let labels = edit.metadata.labels.as_ref().unwrap();
        assert_eq!(
            labels
                .get("kubernetes.io/bootstrapping")
                .map(String::as_str),
            Some("rbac-defaults")
        );
        assert_eq!(
            labels.get(AGGREGATE_TO_ADMIN).map(String::as_str),
            Some("true")
        );
        assert_eq!(edit.rules, None);
        let piece = roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some("system:aggregate-to-edit"))
            .unwrap();
        let first = &piece.rules.as_ref().unwrap()[0];
        assert_eq!(first.verbs, ["get", "list", "watch"]);
        assert_eq!(
            first.resources.as_deref().unwrap(),
            [
                "pods/attach",
                "pods/exec",
                "pods/portforward",
                "pods/proxy",
                "secrets",
                "services/proxy"
            ]
        );
        let writes = &piece.rules.as_ref().unwrap()[2];
        assert_eq!(
            writes.verbs,
            ["create", "delete", "deletecollection", "patch", "update"]
        );
        let admin = roles
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some("cluster-admin"))
            .unwrap();
        assert_eq!(
            admin
                .metadata
                .annotations
                .as_ref()
                .unwrap()
                .get("rbac.authorization.kubernetes.io/autoupdate")
                .map(String::as_str),
            Some("true")
        );
    }
}
