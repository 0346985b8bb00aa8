//! Impersonation: `kubectl --as`, `--as-group`, `--as-uid` and `Impersonate-Extra-*` headers, as
//! kube-apiserver's impersonation filter handles them (k8s.io/apiserver/pkg/endpoints/filters/
//! impersonation.go, and the Kubernetes docs' "User impersonation" section):
//!
//! - each thing asked for is one authorization check of verb `impersonate` for the authenticated
//!   requester, in this order: the user (resource `users`, core group; or `serviceaccounts` in
//!   its namespace for `system:serviceaccount:NS:NAME`), each group (`groups`), each extra value
//!   (`userextras/<key>` in `authentication.k8s.io`), the uid (`uids` in `authentication.k8s.io`);
//!   the first refusal is the request's 403, worded by the authorizer as for any other request;
//! - groups, extras or a uid without a user are a 400;
//! - the new user has exactly the groups asked for, else a service account's two groups; then
//!   `system:authenticated` is added unless `system:authenticated` or `system:unauthenticated` is
//!   there (`system:unauthenticated` instead when impersonating `system:anonymous`).
//!
//! The checks go through the server's [`Authorizer`], so whatever authorizes requests (RBAC and,
//! where present, other authorizers chained behind the same trait) authorizes impersonation too.

use std::collections::BTreeMap;

use eks_auth::rbac::RbacObjects;
use http::HeaderMap;

use crate::auth::User;
use crate::authz::{Attributes, Authorizer};
use crate::status::ApiError;

const USER_HEADER: &str = "impersonate-user";
const GROUP_HEADER: &str = "impersonate-group";
const UID_HEADER: &str = "impersonate-uid";
const EXTRA_PREFIX: &str = "impersonate-extra-";

const SA_PREFIX: &str = "system:serviceaccount:";
const AUTHENTICATED: &str = "system:authenticated";
const UNAUTHENTICATED: &str = "system:unauthenticated";
const ANONYMOUS: &str = "system:anonymous";
const AUTHN_GROUP: &str = "authentication.k8s.io";

/// One thing asked to be impersonated (an ObjectReference in the filter).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Request {
    User(String),
    ServiceAccount { namespace: String, name: String },
    Group(String),
    Extra { key: String, value: String },
    Uid(String),
}

impl Request {
    /// The `impersonate` check for this request.
    fn attributes(&self) -> Attributes {
        let (group, resource, subresource, namespace, name) = match self {
            Request::User(n) => ("", "users", "", "", n.as_str()),
            Request::ServiceAccount { namespace, name } => {
                ("", "serviceaccounts", "", namespace.as_str(), name.as_str())
            }
            Request::Group(n) => ("", "groups", "", "", n.as_str()),
            Request::Extra { key, value } => {
                (AUTHN_GROUP, "userextras", key.as_str(), "", value.as_str())
            }
            Request::Uid(u) => (AUTHN_GROUP, "uids", "", "", u.as_str()),
        };
        Attributes {
            verb: "impersonate".into(),
            resource_request: true,
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: subresource.into(),
            name: name.into(),
            namespace: namespace.into(),
            path: String::new(),
        }
    }

    /// How Go prints the filter's ObjectReference value (`%v` of the struct: Kind, Namespace,
    /// Name, UID, APIVersion, ResourceVersion, FieldPath), for the 400's message.
    fn go_value(&self) -> String {
        let (kind, ns, name, api_version, field_path) = match self {
            Request::User(n) => ("User", "", n.as_str(), "", ""),
            Request::ServiceAccount { namespace, name } => {
                ("ServiceAccount", namespace.as_str(), name.as_str(), "", "")
            }
            Request::Group(n) => ("Group", "", n.as_str(), "", ""),
            Request::Extra { key, value } => (
                "UserExtra",
                "",
                value.as_str(),
                "authentication.k8s.io/v1",
                key.as_str(),
            ),
            Request::Uid(u) => ("UID", "", u.as_str(), "authentication.k8s.io/v1", ""),
        };
        format!("{{{kind} {ns} {name}  {api_version}  {field_path}}}")
    }
}

/// serviceaccount.SplitUsername: `system:serviceaccount:NS:NAME` with a valid namespace name
/// (a DNS label) and service account name (a DNS subdomain).
fn split_service_account(username: &str) -> Option<(String, String)> {
    let rest = username.strip_prefix(SA_PREFIX)?;
    let parts: Vec<&str> = rest.split(':').collect();
    match parts.as_slice() {
        [ns, name] if crate::store::is_dns_label(ns) && crate::store::is_dns_subdomain(name) => {
            Some((ns.to_string(), name.to_string()))
        }
        _ => None,
    }
}

/// Go's url.PathUnescape: `%XX` escapes decoded, `None` for a malformed escape.
fn path_unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn header_values<'a>(headers: &'a HeaderMap, name: &str) -> Vec<&'a str> {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The impersonation requests the headers make, in the filter's order; a 400 for groups, extras
/// or a uid without a user.
fn requests(headers: &HeaderMap) -> Result<Vec<Request>, ApiError> {
    let mut out = Vec::new();
    let user = header_values(headers, USER_HEADER)
        .first()
        .copied()
        .unwrap_or_default();
    let has_user = !user.is_empty();
    if has_user {
        out.push(match split_service_account(user) {
            Some((namespace, name)) => Request::ServiceAccount { namespace, name },
            None => Request::User(user.to_string()),
        });
    }
    for group in header_values(headers, GROUP_HEADER) {
        out.push(Request::Group(group.to_string()));
    }
    // Header names arrive lower-case; the key is then %-unescaped (unescapeExtraKey). Go walks
    // the header map in random order; sorting makes the first refusal deterministic.
    let mut extras: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let Some(encoded) = name.as_str().strip_prefix(EXTRA_PREFIX) else {
            continue;
        };
        let key = path_unescape(encoded).unwrap_or_else(|| encoded.to_string());
        if let Ok(v) = value.to_str() {
            extras.entry(key).or_default().push(v.to_string());
        }
    }
    for (key, values) in extras {
        for value in values {
            out.push(Request::Extra {
                key: key.clone(),
                value,
            });
        }
    }
    let uid = header_values(headers, UID_HEADER)
        .first()
        .copied()
        .unwrap_or_default();
    if !uid.is_empty() {
        out.push(Request::Uid(uid.to_string()));
    }
    if !has_user && !out.is_empty() {
        let listed: Vec<String> = out.iter().map(Request::go_value).collect();
        return Err(ApiError::bad_request(format!(
            "requested [{}] without impersonating a user",
            listed.join(" ")
        )));
    }
    Ok(out)
}

/// The user a request acts as: `None` without impersonation headers, the impersonated user when
/// `requestor` may impersonate everything asked for, else the 403 (or 400) to answer.
pub fn impersonate(
    authorizer: &dyn Authorizer,
    rbac: &RbacObjects,
    requestor: &User,
    headers: &HeaderMap,
) -> Result<Option<User>, ApiError> {
    let requests = requests(headers)?;
    if requests.is_empty() {
        return Ok(None);
    }
    let groups_specified = requests.iter().any(|r| matches!(r, Request::Group(_)));
    let mut user = User::default();
    for request in &requests {
        let attrs = request.attributes();
        let decision = authorizer.authorize(rbac, requestor, &attrs);
        if !decision.allowed {
            return Err(authorizer.forbidden(requestor, &attrs, &decision.reason));
        }
        match request {
            Request::User(name) => user.username = name.clone(),
            Request::ServiceAccount { namespace, name } => {
                user.username = format!("{SA_PREFIX}{namespace}:{name}");
                if !groups_specified {
                    user.groups = vec![
                        "system:serviceaccounts".into(),
                        format!("system:serviceaccounts:{namespace}"),
                    ];
                }
            }
            Request::Group(g) => user.groups.push(g.clone()),
            Request::Extra { key, value } => {
                user.extra
                    .entry(key.clone())
                    .or_default()
                    .push(value.clone());
            }
            Request::Uid(uid) => user.uid = uid.clone(),
        }
    }
    if user.username == ANONYMOUS {
        if !user.groups.iter().any(|g| g == UNAUTHENTICATED) {
            user.groups.push(UNAUTHENTICATED.into());
        }
    } else if !user
        .groups
        .iter()
        .any(|g| g == AUTHENTICATED || g == UNAUTHENTICATED)
    {
        user.groups.push(AUTHENTICATED.into());
    }
    Ok(Some(user))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn service_accounts_are_split_as_the_apiserver_splits_them() {
        assert_eq!(
            split_service_account("system:serviceaccount:kube-system:default"),
            Some(("kube-system".into(), "default".into()))
        );
        assert_eq!(split_service_account("system:serviceaccount:a:b:c"), None);
        assert_eq!(split_service_account("system:serviceaccount:Bad:x"), None);
        assert_eq!(split_service_account("alice"), None);
    }

    #[test]
    fn requests_in_the_filters_order() {
        let h = headers(&[
            ("impersonate-uid", "u-1"),
            ("impersonate-extra-scopes", "b"),
            ("impersonate-group", "g1"),
            ("impersonate-user", "alice"),
            ("impersonate-extra-a%2fb", "x"),
            ("impersonate-group", "g2"),
        ]);
        assert_eq!(
            requests(&h).unwrap(),
            vec![
                Request::User("alice".into()),
                Request::Group("g1".into()),
                Request::Group("g2".into()),
                Request::Extra {
                    key: "a/b".into(),
                    value: "x".into()
                },
                Request::Extra {
                    key: "scopes".into(),
                    value: "b".into()
                },
                Request::Uid("u-1".into()),
            ]
        );
        assert_eq!(requests(&HeaderMap::new()).unwrap(), vec![]);
        assert_eq!(path_unescape("a%2Fb+c"), Some("a/b+c".into()));
        assert_eq!(path_unescape("bad%zz"), None);
    }

    #[test]
    fn groups_without_a_user_are_a_bad_request() {
        let err = requests(&headers(&[("impersonate-group", "dev")])).unwrap_err();
        assert_eq!(err.code, 400);
        assert_eq!(
            err.message(),
            "requested [{Group  dev    }] without impersonating a user"
        );
    }
}
