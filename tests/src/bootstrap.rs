//! The objects a fresh EKS cluster has at start.
//!
//! Namespaces and `kube-root-ca.crt` ConfigMaps as every cluster has them; the bootstrap RBAC
//! policy from the core crate (`eks_auth::rbac::builtin_cluster_roles` and
//! `builtin_cluster_role_bindings`: cluster-admin, admin, edit, view and their aggregation pieces,
//! the discovery roles, and their bindings); and optionally the aws-auth ConfigMap an EKS cluster
//! with a managed node group has.

use serde_json::{Value, json};

use crate::kinds::Kind;
use crate::store::{INITIAL_NAMESPACES, Store};

/// The node role mapping EKS writes into aws-auth when a managed node group is created.
pub const NODE_ROLE_ARN: &str = "arn:aws:iam::123456789012:role/eks-testbed-node-role";

/// The aws-auth ConfigMap data of a cluster with one managed node group.
pub fn node_group_aws_auth() -> Value {
    json!({
        "mapRoles": format!(
            "- groups:\n  - system:bootstrappers\n  - system:nodes\n  rolearn: {NODE_ROLE_ARN}\n  username: system:node:{{{{EC2PrivateDNSName}}}}\n"
        )
    })
}

/// A k8s-openapi object as stored JSON (with apiVersion and kind).
fn typed_to_json<T: k8s_openapi::Resource + serde::Serialize>(obj: &T) -> Value {
    let mut v = serde_json::to_value(obj).unwrap_or_default();
    v["apiVersion"] = json!(T::API_VERSION);
    v["kind"] = json!(T::KIND);
    v
}

/// Fills an empty store.
pub fn bootstrap(store: &mut Store, ca_pem: &str, seed_aws_auth: bool, now: jiff::Timestamp) {
    let kind = |k: &str| Kind::by_kind(k).expect("bootstrap kinds are served");
    let mut create = |k: &str, ns: &str, obj: Value| {
        // Bootstrap objects are fixed and valid: a failure is a bug in this file.
        if let Err(err) = store.create(kind(k), ns, &obj, now) {
            panic!(
                "bootstrap object {k} {ns}/{} refused: {}",
                obj["metadata"]["name"],
                err.message()
            );
        }
    };
    for ns in INITIAL_NAMESPACES {
        create("Namespace", "", json!({"metadata": {"name": ns}}));
    }
    for ns in INITIAL_NAMESPACES {
        create(
            "ConfigMap",
            ns,
            json!({"metadata": {"name": "kube-root-ca.crt"}, "data": {"ca.crt": ca_pem}}),
        );
    }
    for role in eks_auth::rbac::builtin_cluster_roles() {
        create("ClusterRole", "", typed_to_json(&role));
    }
    for binding in eks_auth::rbac::builtin_cluster_role_bindings() {
        create("ClusterRoleBinding", "", typed_to_json(&binding));
    }
    if seed_aws_auth {
        create(
            "ConfigMap",
            "kube-system",
            json!({"metadata": {"name": "aws-auth"}, "data": node_group_aws_auth()}),
        );
    }
}
