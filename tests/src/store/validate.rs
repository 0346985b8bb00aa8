//! Validation of an object before it is stored, worded as the API server words it (name
//! formats, ConfigMap keys, the fields each kind requires).

use serde_json::Value;

use crate::kinds::Kind;
use crate::status::FieldError;

use super::meta_str;

pub(super) const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Validation of the kinds' fields the real strategies check (names, config keys, roleRef, subjects).
pub(super) fn validate(kind: &Kind, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = meta_str(obj, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        match kind.resource {
            "namespaces" if !is_dns_label(name) => errs.push(FieldError::invalid(
                "metadata.name",
                name,
                DNS1123_LABEL_MSG,
            )),
            "configmaps" if !is_dns_subdomain(name) => {
                errs.push(FieldError::invalid(
                    "metadata.name",
                    name,
                    DNS1123_SUBDOMAIN_MSG,
                ));
            }
            // path.ValidatePathSegmentName, used by ValidateRBACName
            "clusterroles" | "clusterrolebindings" | "roles" | "rolebindings" => {
                if name == "." || name == ".." {
                    errs.push(FieldError::invalid(
                        "metadata.name",
                        name,
                        &format!("may not be '{name}'"),
                    ));
                } else if let Some(bad) = ["/", "%"].iter().find(|c| name.contains(*c)) {
                    errs.push(FieldError::invalid(
                        "metadata.name",
                        name,
                        &format!("may not contain '{bad}'"),
                    ));
                }
            }
            _ => {}
        }
    }
    match kind.resource {
        "configmaps" => {
            for field in ["data", "binaryData"] {
                if let Some(map) = obj[field].as_object() {
                    for key in map.keys() {
                        let ok = !key.is_empty()
                            && key.len() <= 253
                            && key
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
                            && key != "."
                            && key != "..";
                        if !ok {
                            errs.push(FieldError::invalid(
                                &format!("{field}[{key}]"),
                                key,
                                CONFIG_KEY_MSG,
                            ));
                        }
                    }
                }
            }
        }
        "clusterrolebindings" | "rolebindings" => {
            let rr = &obj["roleRef"];
            let supported: &[&str] = if kind.resource == "rolebindings" {
                &["Role", "ClusterRole"]
            } else {
                &["ClusterRole"]
            };
            let rk = rr["kind"].as_str().unwrap_or_default();
            if rk.is_empty() {
                errs.push(FieldError::required("roleRef.kind", ""));
            } else if !supported.contains(&rk) {
                errs.push(FieldError::not_supported("roleRef.kind", rk, supported));
            }
            let ag = rr["apiGroup"].as_str().unwrap_or_default();
            if ag != "rbac.authorization.k8s.io" {
                errs.push(FieldError::not_supported(
                    "roleRef.apiGroup",
                    ag,
                    &["rbac.authorization.k8s.io"],
                ));
            }
            if rr["name"].as_str().unwrap_or_default().is_empty() {
                errs.push(FieldError::required("roleRef.name", ""));
            }
            for (i, s) in obj["subjects"].as_array().into_iter().flatten().enumerate() {
                let sk = s["kind"].as_str().unwrap_or_default();
                if s["name"].as_str().unwrap_or_default().is_empty() {
                    errs.push(FieldError::required(&format!("subjects[{i}].name"), ""));
                }
                match sk {
                    "User" | "Group" => {
                        let ag = s["apiGroup"].as_str().unwrap_or_default();
                        if ag != "rbac.authorization.k8s.io" {
                            errs.push(FieldError::not_supported(
                                &format!("subjects[{i}].apiGroup"),
                                ag,
                                &["rbac.authorization.k8s.io"],
                            ));
                        }
                    }
                    // rbac validation's ValidateRoleBindingSubject
                    "ServiceAccount" => {
                        let name = s["name"].as_str().unwrap_or_default();
                        if !name.is_empty() && !is_dns_subdomain(name) {
                            errs.push(FieldError::invalid(
                                &format!("subjects[{i}].name"),
                                name,
                                DNS1123_SUBDOMAIN_MSG,
                            ));
                        }
                        let ag = s["apiGroup"].as_str().unwrap_or_default();
                        if !ag.is_empty() {
                            errs.push(FieldError::not_supported(
                                &format!("subjects[{i}].apiGroup"),
                                ag,
                                &[""],
                            ));
                        }
                        let ns = s["namespace"].as_str().unwrap_or_default();
                        if !kind.namespaced && ns.is_empty() {
                            errs.push(FieldError::required(
                                &format!("subjects[{i}].namespace"),
                                "",
                            ));
                        }
                    }
                    other => errs.push(FieldError::not_supported(
                        &format!("subjects[{i}].kind"),
                        other,
                        &["ServiceAccount", "User", "Group"],
                    )),
                }
            }
        }
        _ => {}
    }
    errs
}
