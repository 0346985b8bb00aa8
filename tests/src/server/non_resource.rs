//! Non-resource paths: version, discovery, OpenAPI, health.

use std::collections::BTreeMap;

use http::{HeaderMap, Method, header};

use crate::kinds;
use crate::status::ApiError;

use super::{Body, Reply, State};

pub(super) fn non_resource(
    state: &State,
    method: &Method,
    path: &str,
    params: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Result<Reply, ApiError> {
    if method != Method::GET {
        return Err(ApiError::path_not_found());
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let doc = match parts.as_slice() {
        ["version"] => Some(kinds::version()),
        ["api"] => Some(kinds::core_versions(&state.server_address)),
        ["api", v] => kinds::resource_list("", v),
        ["apis"] => Some(kinds::group_list()),
        ["apis", g] => kinds::group(g),
        ["apis", g, v] => kinds::resource_list(g, v),
        ["healthz" | "livez" | "readyz"] => {
            let text = health_report(parts[0], params.contains_key("verbose"));
            return Ok(Reply {
                code: 200,
                body: Body::Text(text),
                warnings: Vec::new(),
            });
        }
        ["openapi", "v2"] => {
            let doc = crate::openapi::document();
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if crate::openapi::PROTOBUF_ACCEPTED
                .iter()
                .any(|t| accept.contains(t))
            {
                return Ok(Reply {
                    code: 200,
                    body: Body::Bytes {
                        content_type: crate::openapi::PROTOBUF_CONTENT_TYPE,
                        data: crate::openapi::encode(&doc),
                    },
                    warnings: Vec::new(),
                });
            }
            Some(doc)
        }
        ["openapi", "v3"] => Some(kinds::openapi_v3_root()),
        ["openapi", "v3", rest @ ..] => kinds::openapi_v3_group_version(&rest.join("/")),
        _ => None,
    };
    doc.map(|d| Reply::json(200, d))
        .ok_or_else(ApiError::path_not_found)
}

/// `/healthz`, `/livez`, `/readyz`: `ok`, or with `?verbose` one line per check and a summary,
/// as k8s.io/apiserver/pkg/server/healthz words it (the checks are those of kube-apiserver that
/// mean something here; all pass while the server serves).
fn health_report(endpoint: &str, verbose: bool) -> String {
    if !verbose {
        return "ok".into();
    }
    let mut checks = vec!["ping", "log", "etcd"];
    if endpoint == "readyz" {
        checks.extend(["etcd-readiness", "informer-sync"]);
    }
    checks.extend([
        "poststarthook/start-apiserver-admission-initializer",
        "poststarthook/rbac/bootstrap-roles",
    ]);
    if endpoint == "readyz" {
        checks.push("shutdown");
    }
    let mut out: String = checks.iter().map(|c| format!("[+]{c} ok\n")).collect();
    out.push_str(&format!("{endpoint} check passed\n"));
    out
}
