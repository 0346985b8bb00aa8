//! The API server's 403 wording (responsewriters/errors.go `Forbidden`, `forbiddenMessage`, and
//! apimachinery's `errors.NewForbidden`).

use super::rules::go_quote;
use super::{NonResourceAttributes, ResourceAttributes, UserInfo};

/// `errors.go` replaces these so that an error never looks like HTML.
fn sanitize(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `forbiddenMessage` for a resource request:
/// `User "bob" cannot create resource "configmaps" in API group "" in the namespace "default"`,
/// or `... at the cluster scope`.
pub fn forbidden_message(user: &UserInfo, attrs: &ResourceAttributes) -> String {
    let mut resource = attrs.resource.clone();
    if !attrs.subresource.is_empty() {
        resource = format!("{resource}/{}", attrs.subresource);
    }
    let head = format!(
        "User {} cannot {} resource {} in API group {}",
        go_quote(&user.username),
        attrs.verb,
        go_quote(&resource),
        go_quote(&attrs.group)
    );
    let msg = if attrs.namespace.is_empty() {
        format!("{head} at the cluster scope")
    } else {
        format!("{head} in the namespace {}", go_quote(&attrs.namespace))
    };
    sanitize(&msg)
}

/// `forbiddenMessage` for a non-resource request: `User "bob" cannot get path "/metrics"`.
pub fn forbidden_message_non_resource(user: &UserInfo, attrs: &NonResourceAttributes) -> String {
    sanitize(&format!(
        "User {} cannot {} path {}",
        go_quote(&user.username),
        attrs.verb,
        go_quote(&attrs.path)
    ))
}

fn with_reason(msg: String, reason: &str) -> String {
    if reason.is_empty() {
        msg
    } else {
        format!("{msg}: {reason}")
    }
}

/// The `message` of the 403 `Status` the API server returns for a resource request:
/// `configmaps is forbidden: User "bob" cannot create resource "configmaps" in API group "" in the
/// namespace "default"`; with a name `configmaps "x" is forbidden: ...`; the group joins the
/// resource (`clusterroles.rbac.authorization.k8s.io`); a non-empty authorizer `reason` follows
/// after `: `.
pub fn forbidden_status_message(
    user: &UserInfo,
    attrs: &ResourceAttributes,
    reason: &str,
) -> String {
    let err = with_reason(forbidden_message(user, attrs), reason);
    let qualified = if attrs.group.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}.{}", attrs.resource, attrs.group)
    };
    if qualified.is_empty() {
        format!("forbidden: {err}")
    } else if attrs.name.is_empty() {
        format!("{qualified} is forbidden: {err}")
    } else {
        format!("{qualified} {} is forbidden: {err}", go_quote(&attrs.name))
    }
}

/// The `message` of the 403 `Status` for a non-resource request:
/// `forbidden: User "bob" cannot get path "/metrics"`.
pub fn forbidden_status_message_non_resource(
    user: &UserInfo,
    attrs: &NonResourceAttributes,
    reason: &str,
) -> String {
    format!(
        "forbidden: {}",
        with_reason(forbidden_message_non_resource(user, attrs), reason)
    )
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::bob;
    use super::*;

    #[test]
    fn namespaced_and_cluster_scope() {
        let create = ResourceAttributes::new("create", "", "configmaps").in_namespace("default");
        assert_eq!(
            forbidden_message(&bob(), &create),
            r#"User "bob" cannot create resource "configmaps" in API group "" in the namespace "default""#
        );
        assert_eq!(
            forbidden_status_message(&bob(), &create, ""),
            r#"configmaps is forbidden: User "bob" cannot create resource "configmaps" in API group "" in the namespace "default""#
        );
        let list = ResourceAttributes::new("list", "rbac.authorization.k8s.io", "clusterroles");
        assert_eq!(
            forbidden_status_message(&bob(), &list, ""),
            r#"clusterroles.rbac.authorization.k8s.io is forbidden: User "bob" cannot list resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope"#
        );
    }

    #[test]
    fn name_subresource_and_reason() {
        let get = ResourceAttributes::new("get", "", "pods")
            .in_namespace("kube-system")
            .named("coredns-1")
            .subresource("log");
        assert_eq!(
            forbidden_status_message(
                &bob(),
                &get,
                r#"RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found"#
            ),
            r#"pods "coredns-1" is forbidden: User "bob" cannot get resource "pods/log" in API group "" in the namespace "kube-system": RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found"#
        );
    }

    #[test]
    fn non_resource_and_sanitizing() {
        let path = NonResourceAttributes::new("get", "/metrics");
        assert_eq!(
            forbidden_status_message_non_resource(&bob(), &path, ""),
            r#"forbidden: User "bob" cannot get path "/metrics""#
        );
        let odd = UserInfo::new("<script>&", Vec::<String>::new());
        assert_eq!(
            forbidden_message_non_resource(&odd, &path),
            r#"User "&lt;script&gt;&amp;" cannot get path "/metrics""#
        );
    }
}
