//! Pure: the one rule set of Kubernetes user and group names EKS reserves, and the reserved names
//! an aws-auth entry may still carry because EKS itself writes them.
//!
//! - EKS user guide, "Create access entries": a Kubernetes username or group "can't start with
//!   `system:`, `eks:`, `aws:`, `amazon:`, or `iam:`".
//! - What EKS writes into aws-auth itself: node roles get username
//!   `system:node:{{EC2PrivateDNSName}}` and groups `system:bootstrappers`, `system:nodes`
//!   (EKS user guide, "Apply the aws-auth ConfigMap"); the pod execution role of a Fargate
//!   profile gets username `system:node:{{SessionName}}` and groups `system:bootstrappers`,
//!   `system:nodes`, `system:node-proxier` (EKS user guide, "Amazon EKS Pod execution IAM role":
//!   the role is added to the cluster's RBAC so the Fargate kubelet can register as a node; the
//!   entry EKS writes carries `system:node-proxier` for kube-proxy). `system:masters` is the admin
//!   group the EKS guide maps administrators to.
//!
//! So `system:node-proxier` is an allowed aws-auth group: an entry carrying it is what EKS wrote
//! for Fargate, not a mistake.

/// Prefixes EKS reserves for user and group names.
pub const RESERVED_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

/// Reserved groups an aws-auth entry legitimately carries.
pub const AWS_AUTH_SYSTEM_GROUPS: &[&str] = &[
    "system:masters",
    "system:bootstrappers",
    "system:nodes",
    "system:node-proxier",
];

/// The usernames EKS writes for node roles (EC2) and Fargate pod execution roles.
pub const NODE_USERNAMES: &[&str] = &[
    "system:node:{{EC2PrivateDNSName}}",
    "system:node:{{SessionName}}",
];

/// The reserved prefix `name` starts with, if any.
pub fn reserved_prefix(name: &str) -> Option<&'static str> {
    RESERVED_PREFIXES
        .iter()
        .copied()
        .find(|p| name.starts_with(p))
}

/// The reserved prefix of a username an aws-auth entry may not carry (the node usernames are
/// allowed).
pub fn reserved_username(username: &str) -> Option<&'static str> {
    if NODE_USERNAMES.contains(&username) {
        return None;
    }
    reserved_prefix(username)
}

/// The reserved prefix of a group an aws-auth entry may not carry ([`AWS_AUTH_SYSTEM_GROUPS`]
/// are allowed).
pub fn reserved_group(group: &str) -> Option<&'static str> {
    if AWS_AUTH_SYSTEM_GROUPS.contains(&group) {
        return None;
    }
    reserved_prefix(group)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_eks_writes_is_allowed() {
        for group in AWS_AUTH_SYSTEM_GROUPS {
            assert_eq!(reserved_group(group), None, "{group}");
        }
        assert_eq!(reserved_group("system:node-proxier"), None);
        assert_eq!(reserved_username("system:node:{{SessionName}}"), None);
        assert_eq!(reserved_username("system:node:{{EC2PrivateDNSName}}"), None);
    }

    #[test]
    fn everything_else_reserved_is_refused() {
        assert_eq!(reserved_group("system:authenticated"), Some("system:"));
        assert_eq!(reserved_group("eks:admins"), Some("eks:"));
        assert_eq!(reserved_username("amazon:x"), Some("amazon:"));
        assert_eq!(reserved_username("system:node:bob"), Some("system:"));
        assert_eq!(reserved_group("team-a"), None);
        assert_eq!(reserved_username("alice"), None);
    }
}
