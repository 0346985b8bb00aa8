//! RBAC escalation prevention: a user may only write a role, or bind one, when it already holds
//! every permission in it, unless it is in `system:masters` or holds the `escalate` (roles) or
//! `bind` (bindings) verb.
//!
//! Sources: `pkg/registry/rbac/validation/rule.go` (`ConfirmNoEscalation`),
//! `pkg/registry/rbac/escalation_check.go` (`EscalationAllowed`, `RoleEscalationAuthorized`,
//! `BindingAuthorized`), and the `policybased` storages of `clusterrole`, `role`, `rolebinding`
//! and `clusterrolebinding` in `pkg/registry/rbac/`. Not modelled: the update exemption for
//! changes to garbage-collection fields only (`IsOnlyMutatingGCFields`).

use std::fmt;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding, RoleRef,
};

use super::eval::{Index, ResolveError, aggregate_errors, full_authority};
use super::messages::forbidden_status_message;
use super::rules::{compact_rules, compact_string, covers, go_quote, go_quote_list};
use super::{RBAC_GROUP, RbacObjects, ResourceAttributes, UserInfo};

/// Why a write of an RBAC object is refused. `Display` is the `message` of the `Status` the API
/// server would answer with.
#[derive(Clone, Debug, PartialEq)]
pub enum EscalationError {
    /// The authorizer denies the write itself (403).
    Forbidden { message: String },
    /// The object grants permissions the user does not hold (403).
    NotHeld(Box<NotHeld>),
    /// Only a user holding `*` on everything may set an `aggregationRule` (403).
    AggregationRule { name: String },
    /// The binding's role does not exist (404).
    RoleRefNotFound { message: String },
}

impl EscalationError {
    /// The missing permissions, if that is the reason.
    pub fn missing(&self) -> &[PolicyRule] {
        match self {
            EscalationError::NotHeld(not_held) => &not_held.missing,
            _ => &[],
        }
    }

    /// HTTP status the API server answers with.
    pub fn code(&self) -> u16 {
        match self {
            EscalationError::RoleRefNotFound { .. } => 404,
            _ => 403,
        }
    }

    /// `Status.reason`.
    pub fn reason(&self) -> &'static str {
        match self {
            EscalationError::RoleRefNotFound { .. } => "NotFound",
            _ => "Forbidden",
        }
    }
}

/// The details of [`EscalationError::NotHeld`].
#[derive(Clone, Debug, PartialEq)]
pub struct NotHeld {
    /// `clusterroles`, `roles`, `clusterrolebindings` or `rolebindings`.
    pub resource: &'static str,
    pub name: String,
    pub username: String,
    pub groups: Vec<String>,
    /// Compacted, de-duplicated and sorted as the server lists them.
    pub missing: Vec<PolicyRule>,
    pub resolution_errors: Vec<String>,
}

fn qualified(resource: &str, name: &str) -> String {
    if name.is_empty() {
        format!("{resource}.{RBAC_GROUP}")
    } else {
        format!("{resource}.{RBAC_GROUP} {}", go_quote(name))
    }
}

impl fmt::Display for EscalationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EscalationError::Forbidden { message }
            | EscalationError::RoleRefNotFound { message } => f.write_str(message),
            EscalationError::NotHeld(not_held) => {
                let NotHeld {
                    resource,
                    name,
                    username,
                    groups,
                    missing,
                    resolution_errors,
                } = not_held.as_ref();
                let lines: Vec<String> = missing.iter().map(compact_string).collect();
                write!(
                    f,
                    "{} is forbidden: user {} (groups={}) is attempting to grant RBAC permissions not currently held:\n{}",
                    qualified(resource, name),
                    go_quote(username),
                    go_quote_list(groups),
                    lines.join("\n")
                )?;
                if !resolution_errors.is_empty() {
                    // `%v` of a one-element []error holding the resolver's aggregate error.
                    write!(
                        f,
                        "; resolution errors: [{}]",
                        aggregate_errors(resolution_errors)
                    )?;
                }
                Ok(())
            }
            EscalationError::AggregationRule { name } => write!(
                f,
                "{} is forbidden: must have cluster-admin privileges to use the aggregationRule",
                qualified("clusterroles", name)
            ),
        }
    }
}

impl std::error::Error for EscalationError {}

/// The missing rules of `Covers`, compacted, de-duplicated and sorted by their compact string, as
/// `ConfirmNoEscalation` lists them.
fn missing_rules(owner: &[PolicyRule], rules: &[PolicyRule]) -> Option<Vec<PolicyRule>> {
    let (ok, missing) = covers(owner, rules);
    if ok {
        return None;
    }
    let mut compact: Vec<(String, PolicyRule)> = compact_rules(&missing)
        .into_iter()
        .map(|r| (compact_string(&r), r))
        .collect();
    compact.sort_by(|a, b| a.0.cmp(&b.0));
    compact.dedup_by(|a, b| a.0 == b.0);
    Some(compact.into_iter().map(|(_, r)| r).collect())
}

fn has_aggregation_rule(role: Option<&ClusterRole>) -> bool {
    role.and_then(|r| r.aggregation_rule.as_ref())
        .and_then(|a| a.cluster_role_selectors.as_ref())
        .is_some_and(|s| !s.is_empty())
}

impl Index<'_> {
    fn confirm_no_escalation(
        &self,
        user: &UserInfo,
        namespace: &str,
        rules: &[PolicyRule],
        resource: &'static str,
        name: &str,
    ) -> Result<(), EscalationError> {
        let (owner, errors) = self.rules_for(user, namespace);
        match missing_rules(&owner, rules) {
            None => Ok(()),
            Some(missing) => Err(EscalationError::NotHeld(Box::new(NotHeld {
                resource,
                name: name.to_owned(),
                username: user.username.clone(),
                groups: user.groups.clone(),
                missing,
                resolution_errors: errors.iter().map(ToString::to_string).collect(),
            }))),
        }
    }

    /// `RoleEscalationAuthorized`: the `escalate` verb on the role resource. The name is the one
    /// in the request URL: empty on create.
    fn escalate_authorized(
        &self,
        user: &UserInfo,
        resource: &str,
        name: &str,
        namespace: &str,
    ) -> bool {
        let attrs = ResourceAttributes::new("escalate", RBAC_GROUP, resource)
            .named(name)
            .in_namespace(namespace);
        self.authorize(user, &attrs).allowed
    }

    /// `BindingAuthorized`: the `bind` verb on the referenced role, in the binding's namespace.
    fn bind_authorized(&self, user: &UserInfo, role_ref: &RoleRef, namespace: &str) -> bool {
        let resource = match role_ref.kind.as_str() {
            "ClusterRole" => "clusterroles",
            "Role" => "roles",
            _ => return false,
        };
        let attrs = ResourceAttributes::new("bind", &role_ref.api_group, resource)
            .named(&role_ref.name)
            .in_namespace(namespace);
        self.authorize(user, &attrs).allowed
    }

    fn check_binding(
        &self,
        user: &UserInfo,
        resource: &'static str,
        name: &str,
        role_ref: &RoleRef,
        namespace: &str,
    ) -> Result<(), EscalationError> {
        if user.is_privileged() || self.bind_authorized(user, role_ref, namespace) {
            return Ok(());
        }
        let rules = self
            .role_ref_rules(role_ref, namespace, true)
            .map_err(|e| match e {
                ResolveError::NotFound { .. } | ResolveError::UnsupportedKind(_) => {
                    EscalationError::RoleRefNotFound {
                        message: e.to_string(),
                    }
                }
            })?;
        self.confirm_no_escalation(user, namespace, rules, resource, name)
    }
}

impl RbacObjects {
    /// `ConfirmNoEscalation`: `Ok` when `user` already holds every permission of `rules` in
    /// `namespace` (cluster-wide rules plus the namespace's; `""` for cluster scope) or is in
    /// `system:masters`; otherwise the rules it lacks, compacted and sorted as the server lists
    /// them. The `escalate` and `bind` exemptions are in the `check_*_write` functions.
    pub fn escalation_check(
        &self,
        user: &UserInfo,
        namespace: &str,
        rules: &[PolicyRule],
    ) -> Result<(), Vec<PolicyRule>> {
        if user.is_privileged() {
            return Ok(());
        }
        let (owner, _) = Index::new(self).rules_for(user, namespace);
        missing_rules(&owner, rules).map_or(Ok(()), Err)
    }

    /// The escalation checks of a ClusterRole create (`old` = `None`) or update: `system:masters`
    /// or `escalate` on `clusterroles` pass; otherwise every rule must be held cluster-wide, and an
    /// `aggregationRule` (on the new or the old object) needs `*` on everything.
    pub fn check_cluster_role_write(
        &self,
        user: &UserInfo,
        role: &ClusterRole,
        old: Option<&ClusterRole>,
    ) -> Result<(), EscalationError> {
        let index = Index::new(self);
        let name = role.metadata.name.as_deref().unwrap_or("");
        let url_name = if old.is_some() { name } else { "" };
        if user.is_privileged() || index.escalate_authorized(user, "clusterroles", url_name, "") {
            return Ok(());
        }
        let rules = role.rules.as_deref().unwrap_or(&[]);
        index.confirm_no_escalation(user, "", rules, "clusterroles", name)?;
        if has_aggregation_rule(Some(role)) || has_aggregation_rule(old) {
            index
                .confirm_no_escalation(user, "", &full_authority(), "clusterroles", name)
                .map_err(|_| EscalationError::AggregationRule {
                    name: name.to_owned(),
                })?;
        }
        Ok(())
    }

    /// The escalation checks of a Role create or update, in the Role's namespace.
    pub fn check_role_write(
        &self,
        user: &UserInfo,
        role: &Role,
        old: Option<&Role>,
    ) -> Result<(), EscalationError> {
        let index = Index::new(self);
        let name = role.metadata.name.as_deref().unwrap_or("");
        let namespace = role.metadata.namespace.as_deref().unwrap_or("");
        let url_name = if old.is_some() { name } else { "" };
        if user.is_privileged() || index.escalate_authorized(user, "roles", url_name, namespace) {
            return Ok(());
        }
        index.confirm_no_escalation(
            user,
            namespace,
            role.rules.as_deref().unwrap_or(&[]),
            "roles",
            name,
        )
    }

    /// The escalation checks of a ClusterRoleBinding write: `system:masters`, or `bind` on the
    /// referenced ClusterRole, or holding all of its rules cluster-wide.
    pub fn check_cluster_role_binding_write(
        &self,
        user: &UserInfo,
        binding: &ClusterRoleBinding,
    ) -> Result<(), EscalationError> {
        let name = binding.metadata.name.as_deref().unwrap_or("");
        Index::new(self).check_binding(user, "clusterrolebindings", name, &binding.role_ref, "")
    }

    /// The escalation checks of a RoleBinding write: `system:masters`, or `bind` on the referenced
    /// role in the binding's namespace, or holding all of its rules in that namespace.
    pub fn check_role_binding_write(
        &self,
        user: &UserInfo,
        binding: &RoleBinding,
    ) -> Result<(), EscalationError> {
        let name = binding.metadata.name.as_deref().unwrap_or("");
        let namespace = binding.metadata.namespace.as_deref().unwrap_or("");
        Index::new(self).check_binding(user, "rolebindings", name, &binding.role_ref, namespace)
    }

    /// Would the API server accept `user` creating (or updating, where an object of that name
    /// exists) every object of `grant`, in the order a grant writes them (roles, then bindings)?
    /// Checks the authorizer for the write itself and then the escalation rules; returns every
    /// refusal, empty when all writes pass.
    pub fn check_grant(&self, user: &UserInfo, grant: &RbacObjects) -> Vec<EscalationError> {
        let mut refusals = Vec::new();
        let mut after = self.clone();
        let index = Index::new(self);
        let write = |refusals: &mut Vec<EscalationError>,
                     exists: bool,
                     resource: &str,
                     name: &str,
                     ns: &str| {
            let verb = if exists { "update" } else { "create" };
            let mut attrs = ResourceAttributes::new(verb, RBAC_GROUP, resource).in_namespace(ns);
            if exists {
                attrs = attrs.named(name);
            }
            let decision = index.authorize(user, &attrs);
            if !decision.allowed {
                let message = forbidden_status_message(user, &attrs, &decision.reason);
                refusals.push(EscalationError::Forbidden { message });
                return false;
            }
            true
        };
        for role in &grant.cluster_roles {
            let old = self
                .cluster_roles
                .iter()
                .find(|r| r.metadata.name == role.metadata.name);
            let name = role.metadata.name.as_deref().unwrap_or("");
            if write(&mut refusals, old.is_some(), "clusterroles", name, "")
                && let Err(e) = self.check_cluster_role_write(user, role, old)
            {
                refusals.push(e);
            }
            after
                .cluster_roles
                .retain(|r| r.metadata.name != role.metadata.name);
            after.cluster_roles.push(role.clone());
        }
        for role in &grant.roles {
            let old = self.roles.iter().find(|r| {
                r.metadata.name == role.metadata.name
                    && r.metadata.namespace == role.metadata.namespace
            });
            let name = role.metadata.name.as_deref().unwrap_or("");
            let ns = role.metadata.namespace.as_deref().unwrap_or("");
            if write(&mut refusals, old.is_some(), "roles", name, ns)
                && let Err(e) = self.check_role_write(user, role, old)
            {
                refusals.push(e);
            }
            after.roles.retain(|r| {
                !(r.metadata.name == role.metadata.name
                    && r.metadata.namespace == role.metadata.namespace)
            });
            after.roles.push(role.clone());
        }
        for binding in &grant.cluster_role_bindings {
            let exists = self
                .cluster_role_bindings
                .iter()
                .any(|b| b.metadata.name == binding.metadata.name);
            let name = binding.metadata.name.as_deref().unwrap_or("");
            if write(&mut refusals, exists, "clusterrolebindings", name, "")
                && let Err(e) = after.check_cluster_role_binding_write(user, binding)
            {
                refusals.push(e);
            }
        }
        for binding in &grant.role_bindings {
            let exists = self.role_bindings.iter().any(|b| {
                b.metadata.name == binding.metadata.name
                    && b.metadata.namespace == binding.metadata.namespace
            });
            let name = binding.metadata.name.as_deref().unwrap_or("");
            let ns = binding.metadata.namespace.as_deref().unwrap_or("");
            if write(&mut refusals, exists, "rolebindings", name, ns)
                && let Err(e) = after.check_role_binding_write(user, binding)
            {
                refusals.push(e);
            }
        }
        refusals
    }
}

#[cfg(test)]
mod tests;
