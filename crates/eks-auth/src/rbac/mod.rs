//! Kubernetes RBAC, evaluated without a cluster: who may do what, given a set of Roles,
//! ClusterRoles and their bindings, plus the presets of `kubectl eks-grant`.
//!
//! The evaluator follows the kube-apiserver code, cited where it matters:
//!
//! - rule matching: `pkg/apis/rbac/v1/evaluation_helpers.go` (`VerbMatches`, `APIGroupMatches`,
//!   `ResourceMatches`, `ResourceNameMatches`, `NonResourceURLMatches`) and
//!   `plugin/pkg/auth/authorizer/rbac/rbac.go` (`RuleAllows`, `RBACAuthorizer.Authorize`, `RulesFor`);
//! - which rules apply to a user: `pkg/registry/rbac/validation/rule.go`
//!   (`DefaultRuleResolver.VisitRulesFor`, `appliesToUser`, `GetRoleReferenceRules`);
//! - ClusterRole aggregation: `pkg/controller/clusterroleaggregation` (`syncClusterRole`);
//! - escalation prevention: `pkg/registry/rbac/validation/rule.go` (`ConfirmNoEscalation`),
//!   `staging/src/k8s.io/component-helpers/auth/rbac/validation/policy_comparator.go` (`Covers`),
//!   `pkg/registry/rbac/escalation_check.go` (`EscalationAllowed`, `RoleEscalationAuthorized`,
//!   `BindingAuthorized`) and the `policybased` storages of roles and bindings;
//! - the bootstrap policy: `plugin/pkg/auth/authorizer/rbac/bootstrappolicy/policy.go`;
//! - the 403 wording: `staging/src/k8s.io/apiserver/pkg/endpoints/handlers/responsewriters/errors.go`.
//!
//! # The authorizer chain this models
//!
//! kube-apiserver puts a privileged-group authorizer in front of the configured modes: any user in
//! the group `system:masters` is allowed everything, with an empty reason, before RBAC is asked
//! (`authorizerfactory.NewPrivilegedGroups(user.SystemPrivilegedGroup)`, wired in by
//! `staging/src/k8s.io/apiserver/pkg/server/config.go`). On EKS the configured modes are Node and
//! RBAC (and, for clusters using access entries, the EKS access-policy webhook). This module models
//! the `system:masters` shortcut and RBAC. It does not model the Node authorizer (kubelets) or EKS
//! access policies; a webhook authorizer would make a real SelfSubjectRulesReview report
//! `incomplete: true`, which [`RbacObjects::rules_for`] never does.

mod bootstrap;
mod escalation;
mod eval;
mod messages;
mod presets;
pub(crate) mod rules;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};

pub use bootstrap::{builtin_cluster_role_bindings, builtin_cluster_roles};
pub use escalation::{EscalationError, NotHeld};
pub use eval::{BindingKind, BindingRef, RulesReview};
pub use messages::{
    forbidden_message, forbidden_message_non_resource, forbidden_status_message,
    forbidden_status_message_non_resource,
};
pub use presets::{
    GROUP_ANNOTATION, MANAGED_BY_LABEL, MANAGED_BY_VALUE, ManagedGrant, NAME_PREFIX,
    PRESET_ANNOTATION, Preset, PresetError, PresetRole, binding_name, default_group, managed_grant,
    preset, presets,
};
pub use rules::{compact_rules, compact_string, covers};

/// The standard verbs of resource requests, in kubectl's order: `ReadWrite` of the bootstrap
/// policy (`bootstrappolicy/policy.go`). A rule's `*` covers these and any other verb
/// (`impersonate`, `bind`, `escalate`, `use`, `approve`, ...).
pub const STANDARD_VERBS: &[&str] = &[
    "get",
    "list",
    "watch",
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
];

/// The RBAC API group, used in role references and subjects.
pub const RBAC_GROUP: &str = "rbac.authorization.k8s.io";
/// The group whose members kube-apiserver allows everything, ahead of RBAC.
pub const SYSTEM_MASTERS: &str = "system:masters";
/// The group kube-apiserver adds to every authenticated user.
pub const SYSTEM_AUTHENTICATED: &str = "system:authenticated";
/// The group kube-apiserver gives anonymous requests.
pub const SYSTEM_UNAUTHENTICATED: &str = "system:unauthenticated";
/// Prefix of service-account user names: `system:serviceaccount:<namespace>:<name>`.
pub const SERVICE_ACCOUNT_PREFIX: &str = "system:serviceaccount:";

/// A user as the API server sees it after authentication.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub username: String,
    /// All groups, including `system:authenticated` (see [`UserInfo::authenticated`]).
    pub groups: Vec<String>,
}

impl UserInfo {
    /// A user with exactly these groups.
    pub fn new(
        username: impl Into<String>,
        groups: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            username: username.into(),
            groups: groups.into_iter().map(Into::into).collect(),
        }
    }

    /// An authenticated user: the mapped groups plus `system:authenticated`, which kube-apiserver
    /// adds to every authenticated request (`authenticatorfactory`'s group adder).
    pub fn authenticated(
        username: impl Into<String>,
        groups: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        let mut user = Self::new(username, groups);
        if !user.in_group(SYSTEM_AUTHENTICATED) {
            user.groups.push(SYSTEM_AUTHENTICATED.to_owned());
        }
        user
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    /// Member of `system:masters`: allowed everything and exempt from escalation checks.
    pub fn is_privileged(&self) -> bool {
        self.in_group(SYSTEM_MASTERS)
    }
}

/// The RBAC objects of a cluster (or the ones a grant would create).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RbacObjects {
    pub cluster_roles: Vec<ClusterRole>,
    pub cluster_role_bindings: Vec<ClusterRoleBinding>,
    pub roles: Vec<Role>,
    pub role_bindings: Vec<RoleBinding>,
}

impl RbacObjects {
    /// The built-in ClusterRoles and ClusterRoleBindings of a fresh cluster
    /// ([`builtin_cluster_roles`], [`builtin_cluster_role_bindings`]).
    pub fn bootstrap() -> Self {
        Self {
            cluster_roles: builtin_cluster_roles(),
            cluster_role_bindings: builtin_cluster_role_bindings(),
            ..Self::default()
        }
    }

    /// Adds every object of `other` (no de-duplication; lookups by name take the first).
    pub fn extend(&mut self, other: RbacObjects) {
        self.cluster_roles.extend(other.cluster_roles);
        self.cluster_role_bindings
            .extend(other.cluster_role_bindings);
        self.roles.extend(other.roles);
        self.role_bindings.extend(other.role_bindings);
    }
}

/// A resource request, as `authorizer.Attributes` has it. `namespace` empty = cluster scope.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceAttributes {
    pub verb: String,
    /// API group, `""` for the core group.
    pub group: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    pub namespace: String,
}

impl ResourceAttributes {
    /// `verb` on `resource` of `group`, cluster scope, any name.
    pub fn new(verb: &str, group: &str, resource: &str) -> Self {
        Self {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            ..Self::default()
        }
    }

    pub fn in_namespace(mut self, namespace: &str) -> Self {
        self.namespace = namespace.into();
        self
    }

    pub fn named(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }

    pub fn subresource(mut self, subresource: &str) -> Self {
        self.subresource = subresource.into();
        self
    }
}

/// A request for a path that is no resource (`/healthz`, `/version`, `/apis`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NonResourceAttributes {
    pub verb: String,
    pub path: String,
}

impl NonResourceAttributes {
    pub fn new(verb: &str, path: &str) -> Self {
        Self {
            verb: verb.into(),
            path: path.into(),
        }
    }
}

/// An authorization decision. `reason` is worded like the real authorizer's: for an allow by RBAC
/// `RBAC: allowed by ClusterRoleBinding "x" of ClusterRole "y" to Group "z"`; for an allow by
/// `system:masters` empty (the privileged-group authorizer gives none); for a denial empty, or
/// `RBAC: ` followed by the errors met while resolving bindings (a missing role).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

#[cfg(test)]
pub(crate) mod fixtures {
    //! Builders for test objects.
    use k8s_openapi::api::rbac::v1::{
        ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef, Subject,
    };
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub(crate) use super::rules::tests::{rule, strings, url_rule};

    /// The user most tests ask about: `bob`, in the group `reader`.
    pub(crate) fn bob() -> super::UserInfo {
        super::UserInfo::authenticated("bob", ["reader"])
    }

    fn meta(name: &str, namespace: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.into()),
            namespace: namespace.map(Into::into),
            ..ObjectMeta::default()
        }
    }

    pub(crate) fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> ClusterRole {
        ClusterRole {
            metadata: meta(name, None),
            rules: Some(rules),
            aggregation_rule: None,
        }
    }

    pub(crate) fn role(namespace: &str, name: &str, rules: Vec<PolicyRule>) -> Role {
        Role {
            metadata: meta(name, Some(namespace)),
            rules: Some(rules),
        }
    }

    pub(crate) fn subject(kind: &str, name: &str) -> Subject {
        Subject {
            api_group: (kind != "ServiceAccount").then(|| super::RBAC_GROUP.to_owned()),
            kind: kind.into(),
            name: name.into(),
            namespace: None,
        }
    }

    pub(crate) fn sa(namespace: Option<&str>, name: &str) -> Subject {
        Subject {
            namespace: namespace.map(Into::into),
            ..subject("ServiceAccount", name)
        }
    }

    fn role_ref(kind: &str, name: &str) -> RoleRef {
        RoleRef {
            api_group: super::RBAC_GROUP.into(),
            kind: kind.into(),
            name: name.into(),
        }
    }

    pub(crate) fn crb(
        name: &str,
        cluster_role: &str,
        subjects: Vec<Subject>,
    ) -> ClusterRoleBinding {
        ClusterRoleBinding {
            metadata: meta(name, None),
            role_ref: role_ref("ClusterRole", cluster_role),
            subjects: Some(subjects),
        }
    }

    pub(crate) fn rb(
        namespace: &str,
        name: &str,
        kind: &str,
        role: &str,
        subjects: Vec<Subject>,
    ) -> RoleBinding {
        RoleBinding {
            metadata: meta(name, Some(namespace)),
            role_ref: role_ref(kind, role),
            subjects: Some(subjects),
        }
    }
}
