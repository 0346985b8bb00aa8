//! The RBAC authorizer: which rules apply to a user, decisions, rules reviews. ClusterRole
//! aggregation (the controller's job, which the authorizer reads the result of) is in `aggregate`.

use std::collections::HashMap;
use std::fmt;

use k8s_openapi::api::authorization::v1::{
    NonResourceRule, ResourceRule, SubjectRulesReviewStatus,
};
use k8s_openapi::api::rbac::v1::{PolicyRule, RoleRef, Subject};

use super::rules::{ALL, go_quote, list, rule_allows, rule_allows_non_resource, rules_equal};
use super::{
    Decision, NonResourceAttributes, RbacObjects, ResourceAttributes, SERVICE_ACCOUNT_PREFIX,
    UserInfo,
};

mod aggregate;

use aggregate::aggregate;

/// What SelfSubjectRulesReview reports (`status` of the review).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RulesReview {
    pub resource_rules: Vec<ResourceRule>,
    pub non_resource_rules: Vec<NonResourceRule>,
    /// Always false here: RBAC enumerates its rules completely (rbac.go `RulesFor`).
    pub incomplete: bool,
    /// Errors met while resolving bindings (a binding to a missing role), as the server words them.
    pub evaluation_error: Option<String>,
}

impl RulesReview {
    /// The review as the `status` of a `SelfSubjectRulesReview` object.
    pub fn into_status(self) -> SubjectRulesReviewStatus {
        SubjectRulesReviewStatus {
            evaluation_error: self.evaluation_error,
            incomplete: self.incomplete,
            non_resource_rules: self.non_resource_rules,
            resource_rules: self.resource_rules,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum BindingKind {
    ClusterRoleBinding,
    RoleBinding,
}

impl fmt::Display for BindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BindingKind::ClusterRoleBinding => "ClusterRoleBinding",
            BindingKind::RoleBinding => "RoleBinding",
        })
    }
}

/// A binding one of whose subjects is the user (or one of its groups).
#[derive(Clone, Debug, PartialEq)]
pub struct BindingRef {
    pub kind: BindingKind,
    pub name: String,
    /// The RoleBinding's namespace; `None` for a ClusterRoleBinding.
    pub namespace: Option<String>,
    pub role_ref: RoleRef,
    /// The first subject that matched, as `appliesTo` picks it.
    pub subject: Subject,
    /// Whether the referenced role exists.
    pub role_found: bool,
}

/// An error met while resolving a role reference; worded as kube-apiserver words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ResolveError {
    /// `resource` is the lister's singular (`clusterrole`, authorizer) or the registry's plural
    /// (`clusterroles`, escalation checks on binding writes).
    NotFound {
        resource: &'static str,
        name: String,
    },
    UnsupportedKind(String),
}

impl fmt::Display for ResolveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResolveError::NotFound { resource, name } => {
                write!(
                    f,
                    "{resource}.rbac.authorization.k8s.io {} not found",
                    go_quote(name)
                )
            }
            ResolveError::UnsupportedKind(kind) => {
                write!(f, "unsupported role reference kind: {}", go_quote(kind))
            }
        }
    }
}

/// `utilerrors.NewAggregate(errs).Error()`: one message as is, several de-duplicated in `[a, b]`.
pub(crate) fn aggregate_errors(errors: &[String]) -> String {
    let mut seen: Vec<&str> = Vec::new();
    for e in errors {
        if !seen.contains(&e.as_str()) {
            seen.push(e);
        }
    }
    match seen.len() {
        0 => String::new(),
        1 if errors.len() == 1 => errors[0].clone(),
        1 => seen[0].to_owned(),
        _ => format!("[{}]", seen.join(", ")),
    }
}

/// The source of a rule, described like `clusterRoleBindingDescriber` / `roleBindingDescriber`.
pub(crate) struct Source<'a> {
    kind: BindingKind,
    name: &'a str,
    namespace: &'a str,
    role_ref: &'a RoleRef,
    subject: &'a Subject,
}

impl fmt::Display for Source<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let binding = match self.kind {
            BindingKind::ClusterRoleBinding => go_quote(self.name),
            BindingKind::RoleBinding => go_quote(&format!("{}/{}", self.name, self.namespace)),
        };
        // describeSubject: a service account as "name/namespace", defaulting to the binding's.
        let subject = if self.subject.kind == "ServiceAccount" {
            let ns = self
                .subject
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(self.namespace);
            go_quote(&format!("{}/{}", self.subject.name, ns))
        } else {
            go_quote(&self.subject.name)
        };
        write!(
            f,
            "{} {binding} of {} {} to {} {subject}",
            self.kind,
            self.role_ref.kind,
            go_quote(&self.role_ref.name),
            self.subject.kind
        )
    }
}

/// `appliesToUser` (rule.go).
fn applies_to_user(user: &UserInfo, subject: &Subject, namespace: &str) -> bool {
    match subject.kind.as_str() {
        "User" => user.username == subject.name,
        "Group" => user.in_group(&subject.name),
        "ServiceAccount" => {
            let ns = subject
                .namespace
                .as_deref()
                .filter(|n| !n.is_empty())
                .unwrap_or(namespace);
            !ns.is_empty()
                && user.username == format!("{SERVICE_ACCOUNT_PREFIX}{ns}:{}", subject.name)
        }
        _ => false,
    }
}

fn applies_to<'a>(
    user: &UserInfo,
    subjects: &'a Option<Vec<Subject>>,
    namespace: &str,
) -> Option<&'a Subject> {
    subjects
        .as_deref()
        .unwrap_or(&[])
        .iter()
        .find(|s| applies_to_user(user, s, namespace))
}

/// Lookups over a snapshot of the objects, with ClusterRoles aggregated.
pub(crate) struct Index<'a> {
    objects: &'a RbacObjects,
    cluster_roles: HashMap<String, Vec<PolicyRule>>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(objects: &'a RbacObjects) -> Self {
        let mut cluster_roles = HashMap::new();
        for role in aggregate(&objects.cluster_roles) {
            let name = role.metadata.name.clone().unwrap_or_default();
            cluster_roles
                .entry(name)
                .or_insert_with(|| role.rules.unwrap_or_default());
        }
        Self {
            objects,
            cluster_roles,
        }
    }

    /// `GetRoleReferenceRules` (rule.go). `plural` selects the registry's NotFound wording.
    pub(crate) fn role_ref_rules(
        &self,
        role_ref: &RoleRef,
        namespace: &str,
        plural: bool,
    ) -> Result<&[PolicyRule], ResolveError> {
        match role_ref.kind.as_str() {
            "Role" => self
                .objects
                .roles
                .iter()
                .find(|r| {
                    !namespace.is_empty()
                        && r.metadata.namespace.as_deref() == Some(namespace)
                        && r.metadata.name.as_deref() == Some(role_ref.name.as_str())
                })
                .map(|r| list_rules(&r.rules))
                .ok_or_else(|| ResolveError::NotFound {
                    resource: if plural { "roles" } else { "role" },
                    name: role_ref.name.clone(),
                }),
            "ClusterRole" => self
                .cluster_roles
                .get(&role_ref.name)
                .map(Vec::as_slice)
                .ok_or_else(|| ResolveError::NotFound {
                    resource: if plural {
                        "clusterroles"
                    } else {
                        "clusterrole"
                    },
                    name: role_ref.name.clone(),
                }),
            other => Err(ResolveError::UnsupportedKind(other.to_owned())),
        }
    }

    /// `DefaultRuleResolver.VisitRulesFor`: ClusterRoleBindings first, then the RoleBindings of
    /// `namespace` (none when it is empty). The visitor returns false to stop.
    pub(crate) fn visit_rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
        visitor: &mut dyn FnMut(&Source<'_>, &PolicyRule) -> bool,
        errors: &mut Vec<ResolveError>,
    ) {
        for b in &self.objects.cluster_role_bindings {
            let Some(subject) = applies_to(user, &b.subjects, "") else {
                continue;
            };
            let rules = match self.role_ref_rules(&b.role_ref, "", false) {
                Ok(rules) => rules,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let source = Source {
                kind: BindingKind::ClusterRoleBinding,
                name: b.metadata.name.as_deref().unwrap_or(""),
                namespace: "",
                role_ref: &b.role_ref,
                subject,
            };
            for rule in rules {
                if !visitor(&source, rule) {
                    return;
                }
            }
        }
        if namespace.is_empty() {
            return;
        }
        for b in &self.objects.role_bindings {
            if b.metadata.namespace.as_deref() != Some(namespace) {
                continue;
            }
            let Some(subject) = applies_to(user, &b.subjects, namespace) else {
                continue;
            };
            let rules = match self.role_ref_rules(&b.role_ref, namespace, false) {
                Ok(rules) => rules,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let source = Source {
                kind: BindingKind::RoleBinding,
                name: b.metadata.name.as_deref().unwrap_or(""),
                namespace,
                role_ref: &b.role_ref,
                subject,
            };
            for rule in rules {
                if !visitor(&source, rule) {
                    return;
                }
            }
        }
    }

    /// `DefaultRuleResolver.RulesFor`: every rule that applies, and the resolution errors.
    pub(crate) fn rules_for(
        &self,
        user: &UserInfo,
        namespace: &str,
    ) -> (Vec<PolicyRule>, Vec<ResolveError>) {
        let mut rules = Vec::new();
        let mut errors = Vec::new();
        self.visit_rules_for(
            user,
            namespace,
            &mut |_, rule| {
                rules.push(rule.clone());
                true
            },
            &mut errors,
        );
        (rules, errors)
    }

    /// `RBACAuthorizer.Authorize`, behind the `system:masters` shortcut.
    pub(crate) fn decide(
        &self,
        user: &UserInfo,
        namespace: &str,
        allows: &dyn Fn(&PolicyRule) -> bool,
    ) -> Decision {
        if user.is_privileged() {
            // privilegedGroupAuthorizer: DecisionAllow with an empty reason.
            return Decision {
                allowed: true,
                reason: String::new(),
            };
        }
        let mut reason = None;
        let mut errors = Vec::new();
        self.visit_rules_for(
            user,
            namespace,
            &mut |source, rule| {
                if allows(rule) {
                    reason = Some(format!("RBAC: allowed by {source}"));
                    false
                } else {
                    true
                }
            },
            &mut errors,
        );
        match reason {
            Some(reason) => Decision {
                allowed: true,
                reason,
            },
            None if errors.is_empty() => Decision {
                allowed: false,
                reason: String::new(),
            },
            None => {
                let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
                Decision {
                    allowed: false,
                    reason: format!("RBAC: {}", aggregate_errors(&messages)),
                }
            }
        }
    }

    pub(crate) fn authorize(&self, user: &UserInfo, attrs: &ResourceAttributes) -> Decision {
        self.decide(user, &attrs.namespace, &|rule| rule_allows(rule, attrs))
    }
}

fn list_rules(rules: &Option<Vec<PolicyRule>>) -> &[PolicyRule] {
    rules.as_deref().unwrap_or(&[])
}

/// The rules of kube-apiserver's built-in `cluster-admin`, which the bootstrap policy binds to
/// `system:masters`.
pub(crate) fn full_authority() -> Vec<PolicyRule> {
    vec![
        PolicyRule {
            api_groups: Some(vec![ALL.into()]),
            resources: Some(vec![ALL.into()]),
            verbs: vec![ALL.into()],
            ..PolicyRule::default()
        },
        PolicyRule {
            non_resource_urls: Some(vec![ALL.into()]),
            verbs: vec![ALL.into()],
            ..PolicyRule::default()
        },
    ]
}

impl RbacObjects {
    /// May `user` make this resource request? (`system:masters` first, then RBAC.)
    pub fn authorize(&self, user: &UserInfo, attrs: &ResourceAttributes) -> Decision {
        Index::new(self).authorize(user, attrs)
    }

    /// May `user` make this non-resource request? Only ClusterRoleBindings count: a non-resource
    /// request has no namespace.
    pub fn authorize_non_resource(
        &self,
        user: &UserInfo,
        attrs: &NonResourceAttributes,
    ) -> Decision {
        Index::new(self).decide(user, "", &|rule| rule_allows_non_resource(rule, attrs))
    }

    /// SelfSubjectRulesReview for `user` in `namespace`: the rules of the ClusterRoleBindings plus
    /// those of the namespace's RoleBindings, split into resource and non-resource rules as
    /// rbac.go's `RulesFor` does. For a `system:masters` member the `*` rules of `cluster-admin`
    /// come first when no binding already gives them (on a real cluster the bootstrap
    /// ClusterRoleBinding `cluster-admin` does).
    pub fn rules_for(&self, user: &UserInfo, namespace: &str) -> RulesReview {
        let (mut rules, errors) = Index::new(self).rules_for(user, namespace);
        if user.is_privileged() {
            let full = full_authority();
            if !full.iter().all(|f| rules.iter().any(|r| rules_equal(r, f))) {
                rules.splice(0..0, full);
            }
        }
        let mut review = RulesReview::default();
        for rule in rules {
            if !list(&rule.resources).is_empty() {
                review.resource_rules.push(ResourceRule {
                    api_groups: rule.api_groups.clone(),
                    resource_names: rule.resource_names.clone(),
                    resources: rule.resources.clone(),
                    verbs: rule.verbs.clone(),
                });
            }
            if !list(&rule.non_resource_urls).is_empty() {
                review.non_resource_rules.push(NonResourceRule {
                    non_resource_urls: rule.non_resource_urls.clone(),
                    verbs: rule.verbs.clone(),
                });
            }
        }
        if !errors.is_empty() {
            let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
            review.evaluation_error = Some(aggregate_errors(&messages));
        }
        review
    }

    /// Every binding (cluster-wide and in any namespace) one of whose subjects is `user`.
    pub fn bindings_for(&self, user: &UserInfo) -> Vec<BindingRef> {
        let index = Index::new(self);
        let mut out = Vec::new();
        for b in &self.cluster_role_bindings {
            if let Some(subject) = applies_to(user, &b.subjects, "") {
                out.push(BindingRef {
                    kind: BindingKind::ClusterRoleBinding,
                    name: b.metadata.name.clone().unwrap_or_default(),
                    namespace: None,
                    role_ref: b.role_ref.clone(),
                    subject: subject.clone(),
                    role_found: index.role_ref_rules(&b.role_ref, "", false).is_ok(),
                });
            }
        }
        for b in &self.role_bindings {
            let namespace = b.metadata.namespace.as_deref().unwrap_or("");
            if let Some(subject) = applies_to(user, &b.subjects, namespace) {
                out.push(BindingRef {
                    kind: BindingKind::RoleBinding,
                    name: b.metadata.name.clone().unwrap_or_default(),
                    namespace: Some(namespace.to_owned()),
                    role_ref: b.role_ref.clone(),
                    subject: subject.clone(),
                    role_found: index.role_ref_rules(&b.role_ref, namespace, false).is_ok(),
                });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
