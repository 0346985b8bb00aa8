//! RBAC's escalation prevention on writes of Roles, ClusterRoles and their bindings.

use serde_json::{Value, json};

use crate::authz::Attributes;
use crate::kinds::Kind;
use crate::status::ApiError;
use crate::store::Store;

use super::ctx::Ctx;

/// pkg/registry/rbac/escalation_check.go: a write of a role passes when the request's
/// authorizer allows `escalate` on it (with the URL's name, empty for a create), a write of a
/// binding when it allows `bind` on the referenced role in the binding's namespace. The
/// authorizer is the whole chain (on EKS, access policies too), not RBAC alone.
fn explicitly_authorized(
    ctx: &Ctx<'_>,
    rbac: &eks_auth::rbac::RbacObjects,
    namespace: &str,
    body: &Value,
) -> bool {
    let kind = ctx.kind;
    let attrs = match kind.resource {
        "roles" | "clusterroles" => Attributes {
            verb: "escalate".into(),
            resource_request: true,
            group: kind.group.into(),
            version: "*".into(),
            resource: kind.resource.into(),
            name: ctx.name.clone(),
            namespace: namespace.to_string(),
            ..Attributes::default()
        },
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = &body["roleRef"];
            let resource = match role_ref["kind"].as_str() {
                Some("ClusterRole") => "clusterroles",
                Some("Role") => "roles",
                _ => return false,
            };
            Attributes {
                verb: "bind".into(),
                resource_request: true,
                group: role_ref["apiGroup"].as_str().unwrap_or_default().into(),
                resource: resource.into(),
                name: role_ref["name"].as_str().unwrap_or_default().into(),
                namespace: namespace.to_string(),
                ..Attributes::default()
            }
        }
        _ => return false,
    };
    ctx.authorizer.authorize(rbac, ctx.user, &attrs).allowed
}

/// RBAC escalation prevention on writes of roles and bindings (the `policybased` storages of
/// kube-apiserver), by `eks_auth::rbac`: checked before the object is validated and stored.
pub(super) fn check_escalation(
    store: &mut Store,
    ctx: &Ctx<'_>,
    namespace: &str,
    body: &Value,
    update: bool,
) -> Result<(), ApiError> {
    let (user, kind) = (ctx.user, ctx.kind);
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    fn typed<T: serde::de::DeserializeOwned>(
        kind: &Kind,
        mut body: Value,
        namespace: &str,
    ) -> Result<T, ApiError> {
        if kind.namespaced && body["metadata"].is_object() {
            body["metadata"]["namespace"] = json!(namespace);
        }
        serde_json::from_value(body).map_err(|e| {
            ApiError::bad_request(format!(
                "the {} in the request body does not decode: {e}",
                kind.kind
            ))
        })
    }
    fn old<T: serde::de::DeserializeOwned>(
        store: &Store,
        kind: &'static Kind,
        ns: &str,
        name: &str,
        update: bool,
    ) -> Option<T> {
        if !update {
            return None;
        }
        store
            .get(kind, ns, name)
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
    }
    if kind.group != "rbac.authorization.k8s.io" {
        return Ok(());
    }
    let rbac = store.rbac();
    if explicitly_authorized(ctx, &rbac, namespace, body) {
        return Ok(());
    }
    let u = eks_auth::rbac::UserInfo::new(user.username.clone(), user.groups.clone());
    let name = body["metadata"]["name"].as_str().unwrap_or_default();
    let result = match kind.resource {
        "clusterroles" => {
            let role: ClusterRole = typed(kind, body.clone(), namespace)?;
            let previous: Option<ClusterRole> = old(store, kind, namespace, name, update);
            rbac.check_cluster_role_write(&u, &role, previous.as_ref())
        }
        "roles" => {
            let role: Role = typed(kind, body.clone(), namespace)?;
            let previous: Option<Role> = old(store, kind, namespace, name, update);
            rbac.check_role_write(&u, &role, previous.as_ref())
        }
        "clusterrolebindings" => {
            let binding: ClusterRoleBinding = typed(kind, body.clone(), namespace)?;
            rbac.check_cluster_role_binding_write(&u, &binding)
        }
        "rolebindings" => {
            let binding: RoleBinding = typed(kind, body.clone(), namespace)?;
            rbac.check_role_binding_write(&u, &binding)
        }
        _ => Ok(()),
    };
    result.map_err(|e| {
        let mut details = json!({"group": kind.group, "kind": kind.resource});
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        ApiError::new(e.code(), e.reason(), e.to_string(), Some(details))
    })
}
