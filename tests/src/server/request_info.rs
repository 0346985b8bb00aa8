//! Request info as k8s.io/apiserver's RequestInfoFactory derives it: the target of a path
//! (resource or non-resource), the query parameters, and the verb.

use std::collections::BTreeMap;

use http::Method;

/// What the URL names, as k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Target {
    NonResource,
    Resource {
        group: String,
        version: String,
        resource: String,
        subresource: String,
        name: String,
        namespace: String,
    },
}

pub(super) fn parse_target(path: &str) -> Target {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return Target::NonResource,
    };
    let mut namespace = String::new();
    let mut rest: &[&str] = rest;
    if rest[0] == "namespaces" && rest.len() > 1 {
        namespace = rest[1].to_string();
        if rest.len() > 2 && !["status", "finalize"].contains(&rest[2]) {
            rest = &rest[2..];
        }
    }
    let resource = rest[0].to_string();
    let name = rest.get(1).map(|s| s.to_string()).unwrap_or_default();
    let subresource = rest.get(2..).map(|s| s.join("/")).unwrap_or_default();
    Target::Resource {
        group: group.into(),
        version: version.into(),
        resource,
        subresource,
        name,
        namespace,
    }
}

pub(super) fn query_params(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

pub(super) fn verb_for(method: &Method, name: &str, params: &BTreeMap<String, String>) -> String {
    match *method {
        Method::GET | Method::HEAD if name.is_empty() => {
            if params.get("watch").is_some_and(|w| w == "true" || w == "1") {
                "watch"
            } else {
                "list"
            }
        }
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if name.is_empty() => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    }
    .to_string()
}
