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
