//! `Status` objects shaped and worded like kube-apiserver's.
//!
//! Wording follows k8s.io/apimachinery/pkg/api/errors/errors.go (NewNotFound, NewAlreadyExists,
//! NewConflict, NewInvalid, NewForbidden, NewUnauthorized, NewBadRequest, NewMethodNotSupported)
//! and k8s.io/apimachinery/pkg/util/validation/field/errors.go for field errors.

use serde_json::{Value, json};

use crate::kinds::Kind;

/// A failed request: HTTP status and the `Status` body the client sees.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub body: Value,
}

impl ApiError {
    pub(crate) fn new(
        code: u16,
        reason: &str,
        message: String,
        details: Option<Value>,
    ) -> ApiError {
        let mut body = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        });
        if let Some(details) = details {
            body["details"] = details;
        }
        ApiError { code, body }
    }

    /// The `message` field.
    pub fn message(&self) -> &str {
        self.body["message"].as_str().unwrap_or_default()
    }

    /// 404: `configmaps "x" not found`.
    pub fn not_found(kind: &Kind, name: &str) -> ApiError {
        let message = format!("{} \"{name}\" not found", kind.qualified_resource());
        ApiError::new(404, "NotFound", message, Some(details(kind, name)))
    }

    /// 409: `configmaps "x" already exists`.
    pub fn already_exists(kind: &Kind, name: &str) -> ApiError {
        let message = format!("{} \"{name}\" already exists", kind.qualified_resource());
        ApiError::new(409, "AlreadyExists", message, Some(details(kind, name)))
    }

    /// 409 Conflict for a write carrying a stale resourceVersion (the storage layer's wording,
    /// k8s.io/apiserver/pkg/registry/generic/registry/store.go `OptimisticLockErrorMsg`).
    pub fn conflict(kind: &Kind, name: &str) -> ApiError {
        ApiError::conflict_because(
            kind,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 409 Conflict with a given cause.
    pub fn conflict_because(kind: &Kind, name: &str, cause: &str) -> ApiError {
        let message = format!(
            "Operation cannot be fulfilled on {} \"{name}\": {cause}",
            kind.qualified_resource()
        );
        ApiError::new(409, "Conflict", message, Some(details(kind, name)))
    }

    /// 422: `ConfigMap "x" is invalid: metadata.name: Required value: ...`.
    pub fn invalid(kind: &Kind, name: &str, errors: &[FieldError]) -> ApiError {
        ApiError::invalid_group_kind(kind.group, kind.kind, name, errors)
    }

    /// 422 for request options (`CreateOptions.meta.k8s.io "" is invalid: dryRun: ...`), as the
    /// handlers answer when metav1 validation refuses them.
    pub fn invalid_options(options_kind: &str, errors: &[FieldError]) -> ApiError {
        ApiError::invalid_group_kind("meta.k8s.io", options_kind, "", errors)
    }

    /// 422 for any group and kind (errors.NewInvalid); an empty kind prints as `""`'s owner does,
    /// as nothing (` "" is invalid: ...`, what a patch that does not decode gets).
    pub fn invalid_group_kind(
        group: &str,
        kind_name: &str,
        name: &str,
        errors: &[FieldError],
    ) -> ApiError {
        let qualified_kind = if group.is_empty() {
            kind_name.to_string()
        } else {
            format!("{kind_name}.{group}")
        };
        let message = match errors {
            [] => format!("{qualified_kind} \"{name}\" is invalid"),
            [one] => format!("{qualified_kind} \"{name}\" is invalid: {one}"),
            many => {
                let joined: Vec<String> = many.iter().map(ToString::to_string).collect();
                format!(
                    "{qualified_kind} \"{name}\" is invalid: [{}]",
                    joined.join(", ")
                )
            }
        };
        let causes: Vec<Value> = errors
            .iter()
            .map(|e| json!({"reason": e.kind.cause_type(), "message": e.body(), "field": e.field}))
            .collect();
        let mut d = json!({"name": name, "kind": kind_name, "causes": causes});
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        ApiError::new(422, "Invalid", message, Some(d))
    }

    /// 403 with a message already worded (see `eks_auth::rbac::forbidden_status_message`);
    /// `resource` empty for non-resource paths.
    pub fn forbidden(message: String, group: &str, resource: &str, name: &str) -> ApiError {
        let mut d = json!({});
        if !name.is_empty() {
            d["name"] = json!(name);
        }
        if !group.is_empty() {
            d["group"] = json!(group);
        }
        if !resource.is_empty() {
            d["kind"] = json!(resource);
        }
        ApiError::new(403, "Forbidden", message, Some(d))
    }

    /// 401 as kube-apiserver answers any request whose credentials it rejects.
    pub fn unauthorized() -> ApiError {
        ApiError::new(401, "Unauthorized", "Unauthorized".to_string(), None)
    }

    /// 400 with a free-form message.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "BadRequest", message.into(), None)
    }

    /// 404 for a path that names no resource.
    pub fn path_not_found() -> ApiError {
        ApiError::new(
            404,
            "NotFound",
            "the server could not find the requested resource".to_string(),
            Some(json!({})),
        )
    }

    /// 405: `deletecollection is not supported on resources of kind "configmaps"`.
    pub fn method_not_supported(kind: &Kind, action: &str) -> ApiError {
        let message = format!(
            "{action} is not supported on resources of kind \"{}\"",
            kind.qualified_resource()
        );
        let mut d = json!({"kind": kind.resource});
        if !kind.group.is_empty() {
            d["group"] = json!(kind.group);
        }
        ApiError::new(405, "MethodNotAllowed", message, Some(d))
    }

    /// 415 for a body or patch type the server does not take.
    pub fn unsupported_media_type(content_type: &str) -> ApiError {
        let message = format!(
            "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got `{content_type}`)"
        );
        ApiError::new(415, "UnsupportedMediaType", message, Some(json!({})))
    }

    /// 500 for a bug or an unreachable dependency (the AWS side).
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, "InternalError", message.into(), Some(json!({})))
    }
}

fn details(kind: &Kind, name: &str) -> Value {
    let mut d = json!({"name": name, "kind": kind.resource});
    if !kind.group.is_empty() {
        d["group"] = json!(kind.group);
    }
    d
}

/// The types of field.Error that the testbed's validation produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldErrorKind {
    Required,
    Invalid,
    NotSupported,
    Forbidden,
}

impl FieldErrorKind {
    fn cause_type(self) -> &'static str {
        match self {
            FieldErrorKind::Required => "FieldValueRequired",
            FieldErrorKind::Invalid => "FieldValueInvalid",
            FieldErrorKind::NotSupported => "FieldValueNotSupported",
            FieldErrorKind::Forbidden => "FieldValueForbidden",
        }
    }
}

/// One validation failure, printed as field.Error prints (`field: Type: "value": detail`).
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub kind: FieldErrorKind,
    pub field: String,
    pub value: Option<String>,
    /// Whether `value` prints quoted (`%q` of a string) or as is (`%#v` of a slice, a number).
    pub quoted: bool,
    pub detail: String,
}

impl FieldError {
    pub fn required(field: &str, detail: &str) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Required,
            field: field.into(),
            value: None,
            quoted: true,
            detail: detail.into(),
        }
    }
    pub fn invalid(field: &str, value: &str, detail: &str) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Invalid,
            field: field.into(),
            value: Some(value.into()),
            quoted: true,
            detail: detail.into(),
        }
    }
    pub fn not_supported(field: &str, value: &str, supported: &[&str]) -> FieldError {
        let quoted: Vec<String> = supported.iter().map(|s| format!("\"{s}\"")).collect();
        FieldError {
            kind: FieldErrorKind::NotSupported,
            field: field.into(),
            value: Some(value.into()),
            quoted: true,
            detail: format!("supported values: {}", quoted.join(", ")),
        }
    }
    /// NotSupported with a value already printed as Go's `%#v` prints it (`[]string{"x"}`).
    pub fn not_supported_raw(field: &str, value: &str, supported: &[&str]) -> FieldError {
        FieldError {
            quoted: false,
            ..FieldError::not_supported(field, value, supported)
        }
    }
    pub fn forbidden(field: &str, detail: &str) -> FieldError {
        FieldError {
            kind: FieldErrorKind::Forbidden,
            field: field.into(),
            value: None,
            quoted: true,
            detail: detail.into(),
        }
    }

    /// field.Error.ErrorBody: the message without the field path.
    pub fn body(&self) -> String {
        let head = match self.kind {
            FieldErrorKind::Required => "Required value",
            FieldErrorKind::Invalid => "Invalid value",
            FieldErrorKind::NotSupported => "Unsupported value",
            FieldErrorKind::Forbidden => "Forbidden",
        };
        let mut s = head.to_string();
        match &self.value {
            Some(v) if self.quoted => s = format!("{s}: \"{v}\""),
            Some(v) => s = format!("{s}: {v}"),
            None => {}
        }
        if !self.detail.is_empty() {
            s = format!("{s}: {}", self.detail);
        }
        s
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.body())
    }
}
