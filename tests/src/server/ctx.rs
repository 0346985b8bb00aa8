//! One resource request once routed and authorized: what its handlers read from it (query,
//! headers, body, dry run, field validation).

use std::collections::BTreeMap;

use http::{HeaderMap, header};
use serde_json::Value;

use crate::auth::User;
use crate::authz::Authorizer;
use crate::decode::FieldValidation;
use crate::kinds::Kind;
use crate::status::ApiError;
use crate::store::Store;

use super::State;

pub(super) struct Ctx<'a> {
    pub(super) state: &'a State,
    pub(super) user: &'a User,
    /// The authorizer for `user` (RBAC alone for an impersonated user on EKS).
    pub(super) authorizer: &'a dyn Authorizer,
    pub(super) kind: &'static Kind,
    /// From the URL; for `namespaces/NAME` it is NAME, as in RequestInfo.
    pub(super) namespace: String,
    pub(super) name: String,
    pub(super) params: BTreeMap<String, String>,
    /// The raw query (for parameters that may repeat, such as `dryRun`).
    pub(super) query: &'a str,
    pub(super) headers: &'a HeaderMap,
    pub(super) body: &'a [u8],
    /// Warnings for the client (`Warning: 299 - "..."` headers).
    pub(super) warnings: std::cell::RefCell<Vec<String>>,
}

impl Ctx<'_> {
    /// The decoded object; its warnings go to the response.
    pub(super) fn decoded(&self, d: crate::decode::Decoded) -> Value {
        self.warnings.borrow_mut().extend(d.warnings);
        d.object
    }

    pub(super) fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    pub(super) fn wants_table(&self) -> bool {
        self.header(header::ACCEPT)
            .split(',')
            .any(|part| part.contains("as=Table"))
    }

    /// Whether the query asks for a dry run (`dryRun=All`, possibly repeated); any other value
    /// is refused as metav1 validation's ValidateDryRun refuses it, naming the options kind.
    pub(super) fn query_dry_run(&self, options_kind: &str) -> Result<bool, ApiError> {
        let values: Vec<String> = url::form_urlencoded::parse(self.query.as_bytes())
            .filter(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.into_owned())
            .collect();
        check_dry_run(&values, options_kind)
    }

    /// The object namespace for store calls (empty for cluster-scoped kinds).
    pub(super) fn object_namespace(&self) -> &str {
        if self.kind.namespaced {
            &self.namespace
        } else {
            ""
        }
    }

    pub(super) fn body_json(&self) -> Result<Value, ApiError> {
        let content_type = self.header(header::CONTENT_TYPE);
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            ""
            | "application/json"
            | "application/merge-patch+json"
            | "application/strategic-merge-patch+json" => serde_json::from_slice(self.body)
                .map_err(|e| {
                    ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
                }),
            "application/vnd.kubernetes.protobuf" => {
                crate::protobuf::decode(self.body).map_err(|e| {
                    ApiError::bad_request(format!("the request body is not valid protobuf: {e}"))
                })
            }
            "application/yaml" => serde_yaml::from_slice(self.body).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid YAML: {e}"))
            }),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }

    /// `fieldValidation`, refused as metav1 ValidateFieldValidation refuses an unknown value.
    pub(super) fn field_validation(&self, options_kind: &str) -> Result<FieldValidation, ApiError> {
        let value = self.params.get("fieldValidation").map(String::as_str);
        FieldValidation::parse(value).ok_or_else(|| {
            let err = crate::status::FieldError::not_supported(
                "fieldValidation",
                value.unwrap_or_default(),
                &["", "Ignore", "Strict", "Warn"],
            );
            ApiError::invalid_options(options_kind, &[err])
        })
    }

    /// Runs a write against the store, or for a dry run against a scratch copy that is dropped.
    pub(super) fn write<T>(
        &self,
        dry_run: bool,
        op: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut store = self.state.store.lock().unwrap_or_else(|e| e.into_inner());
        if dry_run {
            let mut scratch = store.scratch();
            op(&mut scratch)
        } else {
            op(&mut store)
        }
    }
}

/// metav1 validation's ValidateDryRun: only `All` is a dry-run value.
pub(super) fn check_dry_run(values: &[String], options_kind: &str) -> Result<bool, ApiError> {
    if values.iter().any(|v| v != "All") {
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        let err = crate::status::FieldError::not_supported_raw(
            "dryRun",
            &format!("[]string{{{}}}", quoted.join(", ")),
            &["All"],
        );
        return Err(ApiError::invalid_options(options_kind, &[err]));
    }
    Ok(!values.is_empty())
}
