//! The review kinds: TokenReview, SelfSubjectReview and the access reviews (Subject,
//! SelfSubject, Local, SelfSubjectRules).

use http::Method;
use serde_json::{Value, json};

use crate::auth::User;
use crate::authz::{Attributes, Authorizer};
use crate::status::ApiError;

use super::ctx::Ctx;

pub(super) fn review(
    ctx: &Ctx<'_>,
    rbac: &eks_auth::rbac::RbacObjects,
    method: &Method,
) -> Result<(u16, Value), ApiError> {
    let kind = ctx.kind;
    if method != Method::POST || !ctx.name.is_empty() {
        return Err(ApiError::method_not_supported(
            kind,
            &method.as_str().to_ascii_lowercase(),
        ));
    }
    let body = ctx.body_json()?;
    let spec = body["spec"].clone();
    // Self reviews answer for the acting user with its authorizer; SubjectAccessReviews name a
    // subject that is not impersonated, so the full chain answers.
    let authorizer = ctx.state.authorizer.as_ref();
    let status = match kind.resource {
        "selfsubjectreviews" => json!({"userInfo": ctx.user}),
        "selfsubjectrulesreviews" => {
            let namespace = spec["namespace"].as_str().unwrap_or_default();
            ctx.authorizer.rules_review(rbac, ctx.user, namespace)
        }
        "selfsubjectaccessreviews" => access_review(ctx.authorizer, rbac, ctx.user, &spec, None)?,
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let subject = User {
                username: spec["user"].as_str().unwrap_or_default().to_string(),
                uid: spec["uid"].as_str().unwrap_or_default().to_string(),
                groups: serde_json::from_value(spec["groups"].clone()).unwrap_or_default(),
                extra: serde_json::from_value(spec["extra"].clone()).unwrap_or_default(),
            };
            if subject.username.is_empty() && subject.groups.is_empty() {
                let err = crate::status::FieldError::invalid(
                    "spec.user",
                    "",
                    "at least one of user or group must be specified",
                );
                return Err(ApiError::invalid(kind, "", &[err]));
            }
            let local_ns =
                (kind.resource == "localsubjectaccessreviews").then_some(ctx.namespace.as_str());
            access_review(authorizer, rbac, &subject, &spec, local_ns)?
        }
        _ => return Err(ApiError::path_not_found()),
    };
    let mut metadata = json!({"creationTimestamp": null});
    if kind.namespaced {
        metadata["namespace"] = json!(ctx.namespace);
    }
    let mut out = json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": metadata, "status": status});
    if !spec.is_null() {
        out["spec"] = spec;
    }
    Ok((201, out))
}

fn access_review(
    authorizer: &dyn Authorizer,
    rbac: &eks_auth::rbac::RbacObjects,
    user: &User,
    spec: &Value,
    local_namespace: Option<&str>,
) -> Result<Value, ApiError> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let attrs = if let Some(ra) = spec["resourceAttributes"].as_object() {
        let ra = Value::Object(ra.clone());
        let mut namespace = s(&ra["namespace"]);
        if let Some(local) = local_namespace {
            if !namespace.is_empty() && namespace != local {
                return Err(ApiError::bad_request(format!(
                    "spec.resourceAttributes.namespace must match namespace: {local}"
                )));
            }
            namespace = local.to_string();
        }
        Attributes {
            verb: s(&ra["verb"]),
            resource_request: true,
            group: s(&ra["group"]),
            version: s(&ra["version"]),
            resource: s(&ra["resource"]),
            subresource: s(&ra["subresource"]),
            name: s(&ra["name"]),
            namespace,
            path: String::new(),
        }
    } else if let Some(nra) = spec["nonResourceAttributes"].as_object() {
        let nra = Value::Object(nra.clone());
        Attributes {
            verb: s(&nra["verb"]),
            resource_request: false,
            path: s(&nra["path"]),
            ..Attributes::default()
        }
    } else {
        return Err(ApiError::bad_request(
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    let decision = authorizer.authorize(rbac, user, &attrs);
    let mut status = json!({"allowed": decision.allowed});
    if !decision.reason.is_empty() {
        status["reason"] = json!(decision.reason);
    }
    Ok(status)
}
