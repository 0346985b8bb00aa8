//! Pure: access entries, their types, policy associations and access scopes, and the rules EKS
//! checks when one is created or changed.
//!
//! Sources (EKS user guide, "Create access entries", creating-access-entries.html, and
//! "Associate access policies with access entries", access-policies.html; EKS API reference,
//! `CreateAccessEntry`, `AccessEntry`, `AccessScope`):
//! - one entry per IAM principal; a role ARN may carry its path (unlike aws-auth);
//! - EKS stores the principal's unique id (`AIDA...`/`AROA...`), so a principal deleted and
//!   recreated under the same ARN no longer matches its old entry;
//! - STS session ARNs and service-linked roles (`role/aws-service-role/...`) are refused;
//! - types `STANDARD` (default), `EC2_LINUX`, `EC2_WINDOWS`, `FARGATE_LINUX`, `HYBRID_LINUX`
//!   (and `EC2`, `HYPERPOD_LINUX` in the API reference); only `STANDARD` takes a username,
//!   groups or access policies, and non-`STANDARD` principals must be roles of the cluster's
//!   account;
//! - a username never starts with `system:`, `eks:`, `aws:`, `amazon:` or `iam:`, and has a `:`
//!   before `{{SessionName}}`/`{{SessionNameRaw}}`; default usernames are in
//!   [`default_username`];
//! - an access scope is the cluster or a list of namespaces, which may use `*` wildcards
//!   (`dev-*`); EKS does not check that they exist.

use std::fmt;
use std::str::FromStr;

use crate::arn::{Arn, PrincipalKind};

/// The type of an access entry (`type` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AccessEntryType {
    /// `STANDARD`: people and programs; username, groups and access policies allowed.
    Standard,
    /// `EC2_LINUX`: the node role of self-managed Linux or Bottlerocket nodes.
    Ec2Linux,
    /// `EC2_WINDOWS`: the node role of self-managed Windows nodes.
    Ec2Windows,
    /// `FARGATE_LINUX`: the pod execution role of Fargate.
    FargateLinux,
    /// `HYBRID_LINUX`: the role of EKS hybrid nodes.
    HybridLinux,
    /// `EC2`: custom node classes of EKS Auto Mode.
    Ec2,
    /// `HYPERPOD_LINUX`: SageMaker HyperPod nodes.
    HyperpodLinux,
}

/// Not a type EKS knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown access entry type `{0}` (expected STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, HYBRID_LINUX, EC2 or HYPERPOD_LINUX)"
)]
pub struct UnknownEntryType(pub String);

impl AccessEntryType {
    pub const ALL: [AccessEntryType; 7] = [
        AccessEntryType::Standard,
        AccessEntryType::Ec2Linux,
        AccessEntryType::Ec2Windows,
        AccessEntryType::FargateLinux,
        AccessEntryType::HybridLinux,
        AccessEntryType::Ec2,
        AccessEntryType::HyperpodLinux,
    ];

    /// The wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccessEntryType::Standard => "STANDARD",
            AccessEntryType::Ec2Linux => "EC2_LINUX",
            AccessEntryType::Ec2Windows => "EC2_WINDOWS",
            AccessEntryType::FargateLinux => "FARGATE_LINUX",
            AccessEntryType::HybridLinux => "HYBRID_LINUX",
            AccessEntryType::Ec2 => "EC2",
            AccessEntryType::HyperpodLinux => "HYPERPOD_LINUX",
        }
    }

    /// Only `STANDARD` entries take a username, Kubernetes groups and access policies.
    pub fn is_standard(self) -> bool {
        self == AccessEntryType::Standard
    }

    /// The Kubernetes groups EKS gives a node-type entry itself (the groups of the node mapping
    /// EKS writes into aws-auth for the same role, EKS user guide "aws-auth ConfigMap"):
    /// empty for `STANDARD`, whose groups are the entry's own.
    pub fn implied_groups(self) -> &'static [&'static str] {
        match self {
            AccessEntryType::Standard => &[],
            AccessEntryType::Ec2Windows => &[
                "system:bootstrappers",
                "system:nodes",
                "eks:kube-proxy-windows",
            ],
            AccessEntryType::FargateLinux => &[
                "system:bootstrappers",
                "system:nodes",
                "system:node-proxier",
            ],
            _ => &["system:bootstrappers", "system:nodes"],
        }
    }
}

impl fmt::Display for AccessEntryType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AccessEntryType {
    type Err = UnknownEntryType;

    /// EKS accepts the types without regard to case (the user guide itself writes
    /// `EC2_Windows`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        AccessEntryType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownEntryType(s.to_owned()))
    }
}

/// Where an associated access policy applies.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AccessScope {
    /// `{"type": "cluster"}`: every namespace and the cluster-scoped resources.
    Cluster,
    /// `{"type": "namespace", "namespaces": [...]}`: requests in these namespaces only; a name
    /// may contain `*` wildcards (`dev-*`).
    Namespaces(Vec<String>),
}

impl AccessScope {
    /// The wire value of `accessScope.type`.
    pub fn type_str(&self) -> &'static str {
        match self {
            AccessScope::Cluster => "cluster",
            AccessScope::Namespaces(_) => "namespace",
        }
    }

    /// Whether a request in `namespace` (`""`: a cluster-scoped request or a non-resource URL)
    /// is inside this scope. A namespace scope never covers cluster-scoped requests.
    pub fn covers(&self, namespace: &str) -> bool {
        match self {
            AccessScope::Cluster => true,
            AccessScope::Namespaces(patterns) => {
                !namespace.is_empty() && patterns.iter().any(|p| wildcard_match(p, namespace))
            }
        }
    }
}

impl fmt::Display for AccessScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessScope::Cluster => f.write_str("cluster"),
            AccessScope::Namespaces(ns) => write!(f, "namespaces {}", ns.join(", ")),
        }
    }
}

/// `*` matches any run of characters (none included); everything else matches itself.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        // No `*` at all: an exact match.
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// An access policy associated with an access entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyAssociation {
    /// `arn:PARTITION:eks::aws:cluster-access-policy/NAME`.
    pub policy_arn: String,
    pub scope: AccessScope,
}

impl PolicyAssociation {
    /// The policy's name: the part after the last `/` of its ARN.
    pub fn policy_name(&self) -> &str {
        self.policy_arn
            .rsplit('/')
            .next()
            .unwrap_or(&self.policy_arn)
    }
}

/// An access entry as EKS keeps it, with the policies associated with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEntry {
    /// The IAM user or role, as given at creation (a role keeps its path).
    pub principal_arn: Arn,
    /// The principal's IAM unique id (`AIDA...`, `AROA...`) when known. EKS stores it and
    /// matches callers on it; the EKS API does not return it, so a client that read entries
    /// through the API has `None` and matching falls back to the ARN (see
    /// [`super::resolve`]).
    pub principal_id: Option<String>,
    pub entry_type: AccessEntryType,
    /// As stored: what was given, else [`default_username`]. May hold templates.
    pub username: String,
    pub kubernetes_groups: Vec<String>,
    pub policies: Vec<PolicyAssociation>,
}

impl AccessEntry {
    /// A `STANDARD` entry with EKS's default username and nothing else.
    pub fn standard(principal_arn: Arn) -> Self {
        let username = default_username(&principal_arn, AccessEntryType::Standard);
        Self {
            principal_arn,
            principal_id: None,
            entry_type: AccessEntryType::Standard,
            username,
            kubernetes_groups: Vec::new(),
            policies: Vec::new(),
        }
    }

    /// The groups a caller matched to this entry gets (before `system:authenticated`): the
    /// type's own groups, then the entry's.
    pub fn groups(&self) -> Vec<String> {
        self.entry_type
            .implied_groups()
            .iter()
            .map(|g| (*g).to_owned())
            .chain(self.kubernetes_groups.iter().cloned())
            .collect()
    }
}

/// The username EKS sets when none is given (creating-access-entries.html, the table "Username
/// value that Amazon EKS automatically sets"):
/// - `STANDARD` user: the user's ARN;
/// - `STANDARD` role: `arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/{{SessionName}}`, the path
///   removed;
/// - `EC2_LINUX`, `EC2_WINDOWS` (and `EC2`): `system:node:{{EC2PrivateDNSName}}`;
/// - `FARGATE_LINUX`, `HYBRID_LINUX` (and `HYPERPOD_LINUX`): `system:node:{{SessionName}}`.
pub fn default_username(principal: &Arn, entry_type: AccessEntryType) -> String {
    match entry_type {
        AccessEntryType::Standard => match principal.kind() {
            PrincipalKind::Role => format!(
                "arn:{}:sts::{}:assumed-role/{}/{{{{SessionName}}}}",
                principal.partition(),
                principal.account(),
                principal.name()
            ),
            _ => principal.to_string(),
        },
        AccessEntryType::Ec2Linux | AccessEntryType::Ec2Windows | AccessEntryType::Ec2 => {
            "system:node:{{EC2PrivateDNSName}}".to_owned()
        }
        AccessEntryType::FargateLinux
        | AccessEntryType::HybridLinux
        | AccessEntryType::HyperpodLinux => "system:node:{{SessionName}}".to_owned(),
    }
}

/// Prefixes no access-entry username may start with.
pub const RESERVED_USERNAME_PREFIXES: &[&str] = &["system:", "eks:", "aws:", "amazon:", "iam:"];

/// The prefix no Kubernetes group of an access entry may start with.
pub const RESERVED_GROUP_PREFIX: &str = "system:";

/// A rule of EKS's that an access entry request breaks. The wording is ours; EKS answers
/// `InvalidParameterException` for all of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    #[error(
        "`{arn}` is an STS session, not an IAM principal: an access entry names the user or role (for `{arn}`, the role `{role}`)"
    )]
    SessionPrincipal { arn: String, role: String },
    #[error("`{arn}` is not an IAM user or role: access entries take `user/` or `role/` ARNs")]
    NotUserOrRole { arn: String },
    #[error(
        "`{arn}` is a service-linked role (`role/aws-service-role/...`): access entries do not support them"
    )]
    ServiceLinkedRole { arn: String },
    #[error("a `{entry_type}` access entry needs an IAM role, not `{arn}`")]
    NodeTypeNeedsRole {
        arn: String,
        entry_type: AccessEntryType,
    },
    #[error(
        "a `{entry_type}` access entry needs a role of the cluster's account `{cluster_account}`, not of `{account}`"
    )]
    NodeTypeOtherAccount {
        entry_type: AccessEntryType,
        account: String,
        cluster_account: String,
    },
    #[error("a `{entry_type}` access entry takes no {what}: only STANDARD entries do")]
    NotStandard {
        entry_type: AccessEntryType,
        what: &'static str,
    },
    #[error(
        "username `{username}` starts with the reserved prefix `{prefix}` (reserved: system:, eks:, aws:, amazon:, iam:)"
    )]
    ReservedUsername {
        username: String,
        prefix: &'static str,
    },
    #[error("username `{username}` needs a `:` before `{{{{{template}}}}}`")]
    SessionNameWithoutColon {
        username: String,
        template: &'static str,
    },
    #[error("Kubernetes group `{group}` starts with the reserved prefix `system:`")]
    ReservedGroup { group: String },
    #[error("an empty {what} is not allowed")]
    Empty { what: &'static str },
    #[error("a namespace access scope needs at least one namespace")]
    NoNamespaces,
    #[error("a cluster access scope takes no namespaces")]
    ClusterScopeWithNamespaces,
}

/// The principal rules of `CreateAccessEntry`: an IAM user or role (no STS session, no root, no
/// service-linked role); node types need a role of the cluster's account.
pub fn check_principal(
    principal: &Arn,
    entry_type: AccessEntryType,
    cluster_account: &str,
) -> Result<(), EntryError> {
    match principal.kind() {
        PrincipalKind::AssumedRole => {
            return Err(EntryError::SessionPrincipal {
                arn: principal.to_string(),
                role: principal.canonical().to_string(),
            });
        }
        PrincipalKind::FederatedUser | PrincipalKind::Root => {
            return Err(EntryError::NotUserOrRole {
                arn: principal.to_string(),
            });
        }
        PrincipalKind::User | PrincipalKind::Role => {}
    }
    if principal.kind() == PrincipalKind::Role && principal.path().starts_with("/aws-service-role/")
    {
        return Err(EntryError::ServiceLinkedRole {
            arn: principal.to_string(),
        });
    }
    if !entry_type.is_standard() {
        if principal.kind() != PrincipalKind::Role {
            return Err(EntryError::NodeTypeNeedsRole {
                arn: principal.to_string(),
                entry_type,
            });
        }
        if principal.account() != cluster_account {
            return Err(EntryError::NodeTypeOtherAccount {
                entry_type,
                account: principal.account().to_owned(),
                cluster_account: cluster_account.to_owned(),
            });
        }
    }
    Ok(())
}

/// The username rules: not empty, no reserved prefix, a `:` somewhere before
/// `{{SessionName}}` / `{{SessionNameRaw}}`.
pub fn check_username(username: &str) -> Result<(), EntryError> {
    if username.is_empty() {
        return Err(EntryError::Empty { what: "username" });
    }
    if let Some(prefix) = RESERVED_USERNAME_PREFIXES
        .iter()
        .find(|p| username.starts_with(**p))
    {
        return Err(EntryError::ReservedUsername {
            username: username.to_owned(),
            prefix,
        });
    }
    for template in ["SessionNameRaw", "SessionName"] {
        if let Some(at) = username.find(&format!("{{{{{template}}}}}"))
            && !username[..at].contains(':')
        {
            return Err(EntryError::SessionNameWithoutColon {
                username: username.to_owned(),
                template,
            });
        }
    }
    Ok(())
}

/// The group rules: not empty, never `system:...`.
pub fn check_groups(groups: &[String]) -> Result<(), EntryError> {
    for group in groups {
        if group.is_empty() {
            return Err(EntryError::Empty {
                what: "Kubernetes group",
            });
        }
        if group.starts_with(RESERVED_GROUP_PREFIX) {
            return Err(EntryError::ReservedGroup {
                group: group.clone(),
            });
        }
    }
    Ok(())
}

/// What may be set on an entry of this type: a non-`STANDARD` entry takes no username, no
/// groups and no access policies.
pub fn check_standard_only(
    entry_type: AccessEntryType,
    has_username: bool,
    has_groups: bool,
    has_policies: bool,
) -> Result<(), EntryError> {
    if entry_type.is_standard() {
        return Ok(());
    }
    let what = if has_username {
        "username"
    } else if has_groups {
        "Kubernetes groups"
    } else if has_policies {
        "access policies"
    } else {
        return Ok(());
    };
    Err(EntryError::NotStandard { entry_type, what })
}

/// An access scope from its wire form (`type`, `namespaces`).
pub fn parse_scope(scope_type: &str, namespaces: &[String]) -> Result<AccessScope, EntryError> {
    match scope_type {
        "cluster" if namespaces.is_empty() => Ok(AccessScope::Cluster),
        "cluster" => Err(EntryError::ClusterScopeWithNamespaces),
        _ if namespaces.is_empty() => Err(EntryError::NoNamespaces),
        _ => {
            if namespaces.iter().any(String::is_empty) {
                return Err(EntryError::Empty { what: "namespace" });
            }
            Ok(AccessScope::Namespaces(namespaces.to_vec()))
        }
    }
}

#[cfg(test)]
mod tests;
