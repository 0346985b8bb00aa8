//! Authorization: may this user do this request? Answered by the core crate's RBAC evaluator
//! (`eks_auth::rbac`) over the stored RBAC objects.

use eks_auth::rbac::{NonResourceAttributes, RbacObjects, ResourceAttributes, UserInfo};
use serde_json::{Value, json};

use crate::auth::User;
use crate::status::ApiError;

/// What a request asks to do (k8s.io/apiserver/pkg/authorization/authorizer.Attributes).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Attributes {
    pub verb: String,
    /// True for requests on resources; false for paths like `/api` or `/version`.
    pub resource_request: bool,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub name: String,
    /// Empty for cluster scope.
    pub namespace: String,
    /// For non-resource requests.
    pub path: String,
}

impl Attributes {
    fn resource(&self) -> ResourceAttributes {
        ResourceAttributes {
            verb: self.verb.clone(),
            group: self.group.clone(),
            resource: self.resource.clone(),
            subresource: self.subresource.clone(),
            name: self.name.clone(),
            namespace: self.namespace.clone(),
        }
    }

    fn non_resource(&self) -> NonResourceAttributes {
        NonResourceAttributes {
            verb: self.verb.clone(),
            path: self.path.clone(),
        }
    }
}

/// The answer, with a reason worded like the RBAC authorizer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// An authorizer over the stored RBAC objects.
pub trait Authorizer: Send + Sync + std::fmt::Debug {
    fn authorize(&self, rbac: &RbacObjects, user: &User, attrs: &Attributes) -> Decision;
    /// `status` of a SelfSubjectRulesReview for `namespace`.
    fn rules_review(&self, rbac: &RbacObjects, user: &User, namespace: &str) -> Value;
    /// The 403 a denied request gets.
    fn forbidden(&self, user: &User, attrs: &Attributes, reason: &str) -> ApiError;
    /// Whether requests made as an impersonated user are authorized by [`Rbac`] alone (the
    /// `impersonate` checks themselves go through [`Authorizer::authorize`]); see
    /// crate::impersonate.
    fn rbac_only_when_impersonated(&self) -> bool {
        false
    }
}

fn user_info(user: &User) -> UserInfo {
    UserInfo::new(user.username.clone(), user.groups.clone())
}

/// kube-apiserver's chain on EKS as far as the testbed models it: `system:masters` first, then RBAC.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rbac;

impl Authorizer for Rbac {
    fn authorize(&self, rbac: &RbacObjects, user: &User, attrs: &Attributes) -> Decision {
        let u = user_info(user);
        let d = if attrs.resource_request {
            rbac.authorize(&u, &attrs.resource())
        } else {
            rbac.authorize_non_resource(&u, &attrs.non_resource())
        };
        Decision {
            allowed: d.allowed,
            reason: d.reason,
        }
    }

    fn rules_review(&self, rbac: &RbacObjects, user: &User, namespace: &str) -> Value {
        let status = rbac.rules_for(&user_info(user), namespace).into_status();
        serde_json::to_value(status).unwrap_or_else(
            |_| json!({"resourceRules": [], "nonResourceRules": [], "incomplete": true}),
        )
    }

    fn forbidden(&self, user: &User, attrs: &Attributes, reason: &str) -> ApiError {
        let u = user_info(user);
        if attrs.resource_request {
            let message = eks_auth::rbac::forbidden_status_message(&u, &attrs.resource(), reason);
            ApiError::forbidden(message, &attrs.group, &attrs.resource, &attrs.name)
        } else {
            let message = eks_auth::rbac::forbidden_status_message_non_resource(
                &u,
                &attrs.non_resource(),
                reason,
            );
            ApiError::forbidden(message, "", "", "")
        }
    }
}

/// EKS with access entries: [`Rbac`] (with `system:masters`), then the access-policy authorizer
/// over the policies of the caller's access entry (`eks_auth::access::authorize`); the first
/// allow wins, so the grants are the union of both. The caller's entry is found by the IAM
/// unique id the authenticator put in the user's `uid` (`aws-iam-authenticator:ACCOUNT:ID[:SESSION]`)
/// or `extra.principalId`, so a SubjectAccessReview that carries them sees policy grants; one
/// that names only a username and groups, and an impersonated user, get RBAC alone (EKS user
/// guide, access-policies.html: impersonating "forces the use of Kubernetes RBAC authorization").
/// SelfSubjectRulesReview lists RBAC only, as on EKS (same page: `kubectl auth can-i --list`
/// does not show access policy permissions).
#[derive(Debug)]
pub struct EksAccessPolicies {
    pub access: std::sync::Arc<crate::access::AccessCache>,
}

/// The IAM unique id of an authenticated EKS user, from its `uid` or `extra.principalId`.
fn principal_id(user: &User) -> Option<&str> {
    let from_uid = user
        .uid
        .strip_prefix("aws-iam-authenticator:")
        .and_then(|rest| rest.split_once(':'))
        .map(|(_account, id)| id);
    let from_extra = user
        .extra
        .get("principalId")
        .and_then(|v| v.first())
        .map(String::as_str);
    from_uid
        .or(from_extra)
        .map(eks_auth::access::principal_id)
        .filter(|id| !id.is_empty())
}

impl EksAccessPolicies {
    fn policy_decision(&self, user: &User, attrs: &Attributes) -> Option<Decision> {
        let snapshot = self.access.cached();
        if !snapshot.mode.uses_access_entries() {
            return None;
        }
        let entry = snapshot.entry_by_id(principal_id(user)?)?;
        let allowed_by = if attrs.resource_request {
            eks_auth::access::authorize(&entry.policies, &attrs.resource())
        } else {
            eks_auth::access::authorize_non_resource(&entry.policies, &attrs.non_resource())
        }?;
        Some(Decision {
            allowed: true,
            reason: format!(
                "EKS access policy: allowed by {} (scope {}) associated with the access entry of {}",
                allowed_by.policy_name(),
                allowed_by.scope,
                entry.principal_arn
            ),
        })
    }
}

impl Authorizer for EksAccessPolicies {
    fn authorize(&self, rbac: &RbacObjects, user: &User, attrs: &Attributes) -> Decision {
        let by_rbac = Rbac.authorize(rbac, user, attrs);
        if by_rbac.allowed {
            return by_rbac;
        }
        self.policy_decision(user, attrs).unwrap_or(by_rbac)
    }

    fn rules_review(&self, rbac: &RbacObjects, user: &User, namespace: &str) -> Value {
        Rbac.rules_review(rbac, user, namespace)
    }

    fn forbidden(&self, user: &User, attrs: &Attributes, reason: &str) -> ApiError {
        Rbac.forbidden(user, attrs, reason)
    }

    /// EKS: impersonation forces Kubernetes RBAC (access-policies.html), whatever uid or
    /// `principalId` extra the impersonator asks for.
    fn rbac_only_when_impersonated(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_id_from_uid_or_extra() {
        let mut user = User {
            username: "x".into(),
            uid: "aws-iam-authenticator:123456789012:AROAEXAMPLE:alice".into(),
            ..User::default()
        };
        assert_eq!(principal_id(&user), Some("AROAEXAMPLE"));
        user.uid = "aws-iam-authenticator:123456789012:AIDAEXAMPLE".into();
        assert_eq!(principal_id(&user), Some("AIDAEXAMPLE"));
        user.uid = String::new();
        assert_eq!(principal_id(&user), None);
        user.extra
            .insert("principalId".into(), vec!["AROAOTHER:s".into()]);
        assert_eq!(principal_id(&user), Some("AROAOTHER"));
    }
}
