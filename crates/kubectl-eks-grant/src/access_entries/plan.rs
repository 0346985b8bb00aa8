//! Pure: an `add` or `revoke` on access entries, from the arguments to the EKS calls.
//!
//! Two steps here, none of them I/O:
//! 1. [`EntryGrant::from_args`] / [`EntryRevoke::from_args`]: the arguments as domain values,
//!    refused before anything is read or written (a `system:` group, an unknown preset or
//!    policy, a reserved username);
//! 2. [`plan_add`] / [`plan_revoke`]: the entry as EKS holds it now (or none) and the request
//!    -> the calls ([`super::calls`]) that make it so, none when it already is (an `add` run
//!    twice calls nothing).
//!
//! Then [`super::guard`] checks what the entries would look like after the calls.
//!
//! EKS semantics relied on (EKS API reference): `UpdateAccessEntry` replaces
//! `kubernetesGroups` whole and changes `username` in place; `AssociateAccessPolicy` on an
//! already associated policy replaces its access scope; `DeleteAccessEntry` removes the entry's
//! associations with it.

use eks_auth::access::entry::{check_groups, check_username};
use eks_auth::access::policies;
use eks_auth::access::{AccessEntry, AccessScope};
use eks_auth::arn::{Arn, PrincipalKind};

use super::calls::Call;
use crate::cli::{AddArgs, RevokeArgs};

/// The presets that have an AWS-managed access policy of their own (the mapping, from
/// the `preset` field of the policy catalogue).
pub fn policy_for_preset(preset: &str) -> Option<&'static policies::AccessPolicy> {
    policies::for_preset(preset)
}

/// Why an access-entry request is refused before any call.
#[derive(Debug, thiserror::Error)]
pub enum EntryRequestError {
    #[error(transparent)]
    Arn(#[from] eks_auth::arn::ArnError),
    #[error(
        "`{arn}` is a {kind} ARN: access entries are for IAM users and roles\n\nhint: give the user's or role's ARN"
    )]
    UnsupportedKind { arn: String, kind: PrincipalKind },
    #[error(
        "group `system:masters` cannot be given by an access entry: EKS refuses `system:` groups\n\nhint: use `--preset cluster-admin`, which associates AmazonEKSClusterAdminPolicy at cluster scope"
    )]
    SystemMasters,
    #[error(
        "group `{group}` starts with `system:`, which EKS refuses in access entries\n\nhint: pick another --group, or give the rights with --preset or --policy"
    )]
    SystemGroup { group: String },
    #[error("{0}\n\nhint: pick another --username")]
    Username(eks_auth::access::EntryError),
    #[error("{0}")]
    Entry(eks_auth::access::EntryError),
    #[error(
        "unknown preset `{0}`\n\nhint: `kubectl eks-grant presets` lists them; `--policy NAME` associates any AWS-managed access policy"
    )]
    UnknownPreset(String),
    #[error("{0}")]
    Preset(eks_auth::rbac::PresetError),
    #[error(
        "unknown access policy `{0}`\n\nhint: give a policy name such as `AmazonEKSViewPolicy` or its ARN; `aws eks list-access-policies` lists them"
    )]
    UnknownPolicy(String),
    #[error(
        "namespace `{0}` is not a namespace name or pattern (lower-case letters, digits, `-` and `*` wildcards, at most 63)"
    )]
    InvalidNamespace(String),
    #[error(
        "--namespace needs --preset or --policy: it scopes their access policies (or the preset's bindings)"
    )]
    NamespaceWithoutPolicy,
}

/// The principal as given: an IAM user or role, or an assumed-role session of a role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// As typed.
    pub given: Arn,
    /// The user or role (an assumed-role session's role, without a path: only IAM knows it).
    pub iam: Arn,
}

impl Principal {
    pub fn parse(arn: &str) -> Result<Principal, EntryRequestError> {
        let given: Arn = arn.trim().parse()?;
        match given.kind() {
            PrincipalKind::User | PrincipalKind::Role | PrincipalKind::AssumedRole => {}
            kind => {
                return Err(EntryRequestError::UnsupportedKind {
                    arn: given.to_string(),
                    kind,
                });
            }
        }
        Ok(Principal {
            iam: given.canonical(),
            given,
        })
    }

    /// A role named without its path (a role ARN without one, or an assumed-role session):
    /// IAM must say whether it has a path.
    pub fn needs_role_lookup(&self) -> bool {
        self.iam.kind() == PrincipalKind::Role && self.given.path() == "/"
    }
}

/// `add` on access entries, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryGrant {
    pub principal: Principal,
    pub username: Option<String>,
    pub groups: Vec<String>,
    /// Policy ARNs, in the order asked, deduplicated.
    pub policies: Vec<String>,
    /// A preset no AWS-managed access policy realises (`cluster-reader-no-secrets`): the entry
    /// gets `groups` (the preset's own group without `--group`) and eks-grant binds the
    /// preset's ClusterRole to them. EKS authorizes an entry's `kubernetesGroups` through
    /// Kubernetes RBAC ("Create access entries", EKS user guide).
    pub rbac_preset: Option<String>,
    /// Where the policies apply.
    pub scope: AccessScope,
    pub dry_run: bool,
    pub force: bool,
}

fn check_namespace(ns: &str) -> Result<(), EntryRequestError> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'*');
    if ok {
        Ok(())
    } else {
        Err(EntryRequestError::InvalidNamespace(ns.to_owned()))
    }
}

/// A `--policy` value as a policy ARN of `partition`, from the catalogue; `None` when the
/// catalogue does not know it (it may still be one ListAccessPolicies knows: the caller asks).
pub fn known_policy_arn(name_or_arn: &str, partition: &str) -> Option<String> {
    policies::lookup(name_or_arn).map(|p| p.arn(partition))
}

impl EntryGrant {
    /// `unknown_policy` is asked about `--policy` values the catalogue does not know (the
    /// caller answers from ListAccessPolicies, or refuses).
    pub fn from_args(
        args: &AddArgs,
        policy_args: &[String],
        mut resolve_policy: impl FnMut(&str, &str) -> Option<String>,
    ) -> Result<EntryGrant, EntryRequestError> {
        let principal = Principal::parse(&args.arn)?;
        let partition = principal.iam.partition().to_owned();
        for g in &args.groups {
            if g == "system:masters" {
                return Err(EntryRequestError::SystemMasters);
            }
            if g.starts_with("system:") {
                return Err(EntryRequestError::SystemGroup { group: g.clone() });
            }
        }
        check_groups(&args.groups).map_err(EntryRequestError::Entry)?;
        if let Some(u) = &args.username {
            check_username(u).map_err(EntryRequestError::Username)?;
        }
        let mut policies: Vec<String> = Vec::new();
        let mut rbac_preset = None;
        let mut groups = args.groups.clone();
        if let Some(name) = &args.preset {
            let Ok(preset) = eks_auth::rbac::preset(name) else {
                return Err(EntryRequestError::UnknownPreset(name.clone()));
            };
            match policy_for_preset(name) {
                Some(p) => policies.push(p.arn(&partition)),
                None => {
                    // Realised with RBAC: the preset's own group unless --group names others,
                    // and its objects checked now (a cluster-wide preset refuses --namespace).
                    if groups.is_empty() {
                        groups.push(preset.default_group(&args.namespaces));
                    }
                    for g in &groups {
                        preset
                            .objects(g, &args.namespaces)
                            .map_err(EntryRequestError::Preset)?;
                    }
                    rbac_preset = Some(name.clone());
                }
            }
        }
        for p in policy_args {
            let arn = known_policy_arn(p, &partition)
                .or_else(|| resolve_policy(p, &partition))
                .ok_or_else(|| EntryRequestError::UnknownPolicy(p.clone()))?;
            if !policies.contains(&arn) {
                policies.push(arn);
            }
        }
        for ns in &args.namespaces {
            check_namespace(ns)?;
        }
        if !args.namespaces.is_empty() && policies.is_empty() && rbac_preset.is_none() {
            return Err(EntryRequestError::NamespaceWithoutPolicy);
        }
        let scope = if args.namespaces.is_empty() {
            AccessScope::Cluster
        } else {
            let mut ns = args.namespaces.clone();
            ns.sort();
            ns.dedup();
            AccessScope::Namespaces(ns)
        };
        groups.dedup();
        Ok(EntryGrant {
            principal,
            username: args.username.clone(),
            groups,
            policies,
            rbac_preset,
            scope,
            dry_run: args.dry_run,
            force: args.force,
        })
    }
}

/// `revoke` on access entries, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRevoke {
    pub principal: Principal,
    /// Only this policy's association; `None`: the whole entry.
    pub policy: Option<String>,
    pub dry_run: bool,
    pub force: bool,
}

impl EntryRevoke {
    pub fn from_args(
        args: &RevokeArgs,
        policy: Option<&str>,
    ) -> Result<EntryRevoke, EntryRequestError> {
        let principal = Principal::parse(&args.arn)?;
        let policy = match policy {
            None => None,
            Some(p) => Some(
                known_policy_arn(p, principal.iam.partition())
                    .or_else(|| policies::parse_policy_arn(p).map(|_| p.to_owned()))
                    .ok_or_else(|| EntryRequestError::UnknownPolicy(p.to_owned()))?,
            ),
        };
        Ok(EntryRevoke {
            principal,
            policy,
            dry_run: args.dry_run,
            force: args.force,
        })
    }
}

/// Why an entry cannot take the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(
        "the access entry of `{principal}` is of type `{entry_type}`: only STANDARD entries take a username, groups or access policies\n\nhint: node and Fargate entries are managed by EKS; grant a person or program through its own IAM principal"
    )]
    NotStandard {
        principal: String,
        entry_type: eks_auth::access::AccessEntryType,
    },
}

/// The scope after adding `want` to `have`: never narrower than either (an `add` never takes
/// access away). `None` when `have` already covers `want`.
pub fn widened_scope(have: &AccessScope, want: &AccessScope) -> Option<AccessScope> {
    match (have, want) {
        (AccessScope::Cluster, _) => None,
        (AccessScope::Namespaces(_), AccessScope::Cluster) => Some(AccessScope::Cluster),
        (AccessScope::Namespaces(h), AccessScope::Namespaces(w)) => {
            let mut all = h.clone();
            for n in w {
                if !all.contains(n) {
                    all.push(n.clone());
                }
            }
            (all.len() != h.len()).then(|| {
                all.sort();
                AccessScope::Namespaces(all)
            })
        }
    }
}

/// The calls that make `current` (the principal's entry now, or none) grant `grant`, with
/// `principal_arn` the ARN as IAM knows it. Empty: nothing to do.
pub fn plan_add(
    current: Option<&AccessEntry>,
    principal_arn: &str,
    grant: &EntryGrant,
) -> Result<Vec<Call>, PlanError> {
    let mut calls = Vec::new();
    let principal = principal_arn.to_owned();
    match current {
        None => calls.push(Call::Create {
            principal: principal.clone(),
            username: grant.username.clone(),
            groups: grant.groups.clone(),
        }),
        Some(entry) => {
            let asks_standard =
                grant.username.is_some() || !grant.groups.is_empty() || !grant.policies.is_empty();
            if !entry.entry_type.is_standard() && asks_standard {
                return Err(PlanError::NotStandard {
                    principal,
                    entry_type: entry.entry_type,
                });
            }
            let username = grant.username.clone().filter(|u| *u != entry.username);
            let mut groups = entry.kubernetes_groups.clone();
            for g in &grant.groups {
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
            if username.is_some() || groups != entry.kubernetes_groups {
                calls.push(Call::Update {
                    principal: principal.clone(),
                    username,
                    groups,
                });
            }
        }
    }
    for policy in &grant.policies {
        let have = current.and_then(|e| e.policies.iter().find(|p| p.policy_arn == *policy));
        let scope = match have {
            None => Some(grant.scope.clone()),
            Some(p) => widened_scope(&p.scope, &grant.scope),
        };
        if let Some(scope) = scope {
            calls.push(Call::Associate {
                principal: principal.clone(),
                policy_arn: policy.clone(),
                scope,
            });
        }
    }
    Ok(calls)
}

/// The calls that take `revoke` away from `current`. Empty: nothing to take away.
pub fn plan_revoke(current: Option<&AccessEntry>, revoke: &EntryRevoke) -> Vec<Call> {
    let Some(entry) = current else {
        return Vec::new();
    };
    let principal = entry.principal_arn.to_string();
    match &revoke.policy {
        None => vec![Call::Delete { principal }],
        Some(policy) if entry.policies.iter().any(|p| p.policy_arn == *policy) => {
            vec![Call::Disassociate {
                principal,
                policy_arn: policy.clone(),
            }]
        }
        Some(_) => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
