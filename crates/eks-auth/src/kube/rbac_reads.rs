//! I/O: the four RBAC kinds, each listed once across all namespaces (four LIST requests,
//! whatever the number of namespaces), sent concurrently.

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::ListParams;
use kube::{Api, Client};

use super::error::{KubeError, request_error};
use crate::rbac::RbacObjects;

/// The four lists, each with its own outcome (a user may read some kinds and not others).
#[derive(Debug)]
pub struct RbacLists {
    /// ClusterRoleBindings.
    pub cluster_role_bindings: Result<Vec<ClusterRoleBinding>, KubeError>,
    /// RoleBindings in all namespaces.
    pub role_bindings: Result<Vec<RoleBinding>, KubeError>,
    /// ClusterRoles.
    pub cluster_roles: Result<Vec<ClusterRole>, KubeError>,
    /// Roles in all namespaces.
    pub roles: Result<Vec<Role>, KubeError>,
}

impl RbacLists {
    /// Whether all four could be listed.
    pub fn complete(&self) -> bool {
        self.cluster_role_bindings.is_ok()
            && self.role_bindings.is_ok()
            && self.cluster_roles.is_ok()
            && self.roles.is_ok()
    }

    /// What could be listed (an unreadable kind counts as empty).
    pub fn objects(&self) -> RbacObjects {
        RbacObjects {
            cluster_role_bindings: self
                .cluster_role_bindings
                .as_ref()
                .cloned()
                .unwrap_or_default(),
            role_bindings: self.role_bindings.as_ref().cloned().unwrap_or_default(),
            cluster_roles: self.cluster_roles.as_ref().cloned().unwrap_or_default(),
            roles: self.roles.as_ref().cloned().unwrap_or_default(),
        }
    }
}

async fn list_all<K>(client: &Client, what: &'static str) -> Result<Vec<K>, KubeError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    api.list(&ListParams::default())
        .await
        .map(|list| list.items)
        .map_err(|e| request_error("listing", what, e))
}

/// Lists the four kinds concurrently, each with its own outcome.
pub async fn list_rbac_each(client: &Client) -> RbacLists {
    let (cluster_role_bindings, role_bindings, cluster_roles, roles) = tokio::join!(
        list_all::<ClusterRoleBinding>(client, "ClusterRoleBindings"),
        list_all::<RoleBinding>(client, "RoleBindings in all namespaces"),
        list_all::<ClusterRole>(client, "ClusterRoles"),
        list_all::<Role>(client, "Roles in all namespaces"),
    );
    RbacLists {
        cluster_role_bindings,
        role_bindings,
        cluster_roles,
        roles,
    }
}

/// Lists the four kinds; the first that fails fails the whole.
pub async fn list_rbac(client: &Client) -> Result<RbacObjects, KubeError> {
    let lists = list_rbac_each(client).await;
    Ok(RbacObjects {
        cluster_roles: lists.cluster_roles?,
        cluster_role_bindings: lists.cluster_role_bindings?,
        roles: lists.roles?,
        role_bindings: lists.role_bindings?,
    })
}
