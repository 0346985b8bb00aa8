//! Pure: an `add` or `revoke` on access entries, from the arguments to the EKS calls.
//!
//! Three steps, none of them I/O:
//! 1. [`EntryGrant::from_args`] / [`EntryRevoke::from_args`]: the arguments as domain values,
//!    refused before anything is read or written (a `system:` group, an unknown preset or
//!    policy, a reserved username);
//! 2. [`plan_add`] / [`plan_revoke`]: the entry as EKS holds it now (or none) and the request
//!    -> the calls that make it so, none when it already is (an `add` run twice calls nothing);
//! 3. [`lockout_risks`]: what the entries would look like after the calls, refused when nobody
//!    could administer the cluster any more or the caller loses its own access.
//!
//! EKS semantics relied on (EKS API reference): `UpdateAccessEntry` replaces
//! `kubernetesGroups` whole and changes `username` in place; `AssociateAccessPolicy` on an
//! already associated policy replaces its access scope; `DeleteAccessEntry` removes the entry's
//! associations with it.

use std::fmt;

use eks_auth::access::entry::{check_groups, check_username};
use eks_auth::access::policies;
use eks_auth::access::{AccessEntry, AccessScope, AuthenticationMode, PolicyAssociation};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws_auth::AwsAuth;

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
    #[error(
        "preset `{0}` has no AWS-managed access policy and is not available on access entries yet\n\nhint: use `--preset cluster-reader` (AmazonEKSAdminViewPolicy) or `--policy AmazonEKSViewPolicy`, or `--backend aws-auth` on a cluster that still reads aws-auth"
    )]
    PresetWithoutPolicy(String),
    #[error(
        "unknown access policy `{0}`\n\nhint: give a policy name such as `AmazonEKSViewPolicy` or its ARN; `aws eks list-access-policies` lists them"
    )]
    UnknownPolicy(String),
    #[error(
        "namespace `{0}` is not a namespace name or pattern (lower-case letters, digits, `-` and `*` wildcards, at most 63)"
    )]
    InvalidNamespace(String),
    #[error("--namespace needs --preset or --policy: it scopes their access policies")]
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
        if let Some(preset) = &args.preset {
            let known = eks_auth::rbac::presets().iter().any(|p| p.name == preset);
            match policy_for_preset(preset) {
                Some(p) => policies.push(p.arn(&partition)),
                None if known => {
                    return Err(EntryRequestError::PresetWithoutPolicy(preset.clone()));
                }
                None => return Err(EntryRequestError::UnknownPreset(preset.clone())),
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
        if !args.namespaces.is_empty() && policies.is_empty() {
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
        let mut groups = args.groups.clone();
        groups.dedup();
        Ok(EntryGrant {
            principal,
            username: args.username.clone(),
            groups,
            policies,
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

/// One EKS write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create {
        principal: String,
        username: Option<String>,
        groups: Vec<String>,
    },
    Update {
        principal: String,
        username: Option<String>,
        groups: Vec<String>,
    },
    Associate {
        principal: String,
        policy_arn: String,
        scope: AccessScope,
    },
    Disassociate {
        principal: String,
        policy_arn: String,
    },
    Delete {
        principal: String,
    },
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Call {
    /// The call as the `aws` CLI line that makes it (what `--dry-run` prints).
    pub fn to_cli(&self, cluster: &str) -> String {
        let c = shell_word(cluster);
        let groups = |g: &[String]| {
            if g.is_empty() {
                String::new()
            } else {
                format!(
                    " --kubernetes-groups {}",
                    g.iter()
                        .map(|g| shell_word(g))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        };
        let user = |u: &Option<String>| match u {
            Some(u) => format!(" --username {}", shell_word(u)),
            None => String::new(),
        };
        match self {
            Call::Create {
                principal,
                username,
                groups: g,
            } => format!(
                "aws eks create-access-entry --cluster-name {c} --principal-arn {}{}{}",
                shell_word(principal),
                user(username),
                groups(g)
            ),
            Call::Update {
                principal,
                username,
                groups: g,
            } => format!(
                "aws eks update-access-entry --cluster-name {c} --principal-arn {}{}{}",
                shell_word(principal),
                user(username),
                groups(g)
            ),
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => {
                let scope = match scope {
                    AccessScope::Cluster => "type=cluster".to_owned(),
                    AccessScope::Namespaces(ns) => {
                        format!("type=namespace,namespaces={}", ns.join(","))
                    }
                };
                format!(
                    "aws eks associate-access-policy --cluster-name {c} --principal-arn {} --policy-arn {} --access-scope {}",
                    shell_word(principal),
                    shell_word(policy_arn),
                    shell_word(&scope)
                )
            }
            Call::Disassociate {
                principal,
                policy_arn,
            } => format!(
                "aws eks disassociate-access-policy --cluster-name {c} --principal-arn {} --policy-arn {}",
                shell_word(principal),
                shell_word(policy_arn)
            ),
            Call::Delete { principal } => format!(
                "aws eks delete-access-entry --cluster-name {c} --principal-arn {}",
                shell_word(principal)
            ),
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Create { principal, .. } => write!(f, "create access entry `{principal}`"),
            Call::Update { principal, .. } => write!(f, "update access entry `{principal}`"),
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => write!(
                f,
                "associate {} ({scope}) with `{principal}`",
                policy_arn.rsplit('/').next().unwrap_or(policy_arn)
            ),
            Call::Disassociate {
                principal,
                policy_arn,
            } => write!(
                f,
                "disassociate {} from `{principal}`",
                policy_arn.rsplit('/').next().unwrap_or(policy_arn)
            ),
            Call::Delete { principal } => write!(f, "delete access entry `{principal}`"),
        }
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

/// `entries` after `calls` (what EKS will hold), for the lockout guard and the report.
pub fn apply_calls(entries: &[AccessEntry], calls: &[Call]) -> Vec<AccessEntry> {
    let mut out = entries.to_vec();
    let find = |out: &mut Vec<AccessEntry>, principal: &str| {
        out.iter()
            .position(|e| e.principal_arn.to_string() == principal)
    };
    for call in calls {
        match call {
            Call::Create {
                principal,
                username,
                groups,
            } => {
                if let Ok(arn) = principal.parse::<Arn>() {
                    let mut e = AccessEntry::standard(arn);
                    if let Some(u) = username {
                        e.username = u.clone();
                    }
                    e.kubernetes_groups = groups.clone();
                    out.push(e);
                }
            }
            Call::Update {
                principal,
                username,
                groups,
            } => {
                if let Some(i) = find(&mut out, principal) {
                    if let Some(u) = username {
                        out[i].username = u.clone();
                    }
                    out[i].kubernetes_groups = groups.clone();
                }
            }
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => {
                if let Some(i) = find(&mut out, principal) {
                    let policies = &mut out[i].policies;
                    match policies.iter_mut().find(|p| p.policy_arn == *policy_arn) {
                        Some(p) => p.scope = scope.clone(),
                        None => policies.push(PolicyAssociation {
                            policy_arn: policy_arn.clone(),
                            scope: scope.clone(),
                        }),
                    }
                }
            }
            Call::Disassociate {
                principal,
                policy_arn,
            } => {
                if let Some(i) = find(&mut out, principal) {
                    out[i].policies.retain(|p| p.policy_arn != *policy_arn);
                }
            }
            Call::Delete { principal } => {
                if let Some(i) = find(&mut out, principal) {
                    out.remove(i);
                }
            }
        }
    }
    out
}

/// Who can administer the cluster: principals holding AmazonEKSClusterAdminPolicy at cluster
/// scope through an access entry, and (in a mode that reads aws-auth) the aws-auth mappings to
/// `system:masters` that can match a caller (a pathed role ARN or an assumed-role ARN in
/// aws-auth never matches: `aws_auth::check`).
pub fn cluster_admins(
    mode: AuthenticationMode,
    entries: &[AccessEntry],
    aws_auth: &AwsAuth,
) -> Vec<String> {
    let mut admins: Vec<String> = Vec::new();
    if mode.uses_access_entries() {
        for e in entries {
            let admin = e.policies.iter().any(|p| {
                p.policy_name() == "AmazonEKSClusterAdminPolicy" && p.scope == AccessScope::Cluster
            });
            if admin {
                admins.push(e.principal_arn.to_string());
            }
        }
    }
    if mode.uses_aws_auth() {
        for (_, _, arn) in aws_auth.effective_with_group("system:masters") {
            // An access entry for the same principal wins over its aws-auth mapping.
            let behind_entry = mode.uses_access_entries()
                && arn.parse::<Arn>().is_ok_and(|a| {
                    entries
                        .iter()
                        .any(|e| eks_auth::access::same_principal(&e.principal_arn, &a))
                });
            let matchable = arn
                .parse::<Arn>()
                .is_ok_and(|a| a.path() == "/" && a.canonical() == a);
            if matchable && !behind_entry {
                admins.push(arn);
            }
        }
    }
    admins
}

/// A reason to refuse a change to access entries (unless `--force`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryLockout {
    /// Nobody could administer the cluster afterwards; `before` could.
    NoAdminLeft { before: Vec<String> },
    /// The caller's own entry is deleted or loses a policy.
    CallerLosesAccess { caller: String, what: String },
}

impl fmt::Display for EntryLockout {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EntryLockout::NoAdminLeft { before } => write!(
                f,
                "after this change nobody holds AmazonEKSClusterAdminPolicy at cluster scope or a `system:masters` mapping that counts (today: {})",
                before
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            EntryLockout::CallerLosesAccess { caller, what } => write!(
                f,
                "this {what} of your own principal `{caller}`: you could lose the access to undo it"
            ),
        }
    }
}

/// What the change from `before` to `after` (by `calls`) would break.
pub fn lockout_risks(
    mode: AuthenticationMode,
    before: &[AccessEntry],
    after: &[AccessEntry],
    aws_auth: &AwsAuth,
    calls: &[Call],
    caller: Option<&Arn>,
) -> Vec<EntryLockout> {
    let mut risks = Vec::new();
    let admins_before = cluster_admins(mode, before, aws_auth);
    if !admins_before.is_empty() && cluster_admins(mode, after, aws_auth).is_empty() {
        risks.push(EntryLockout::NoAdminLeft {
            before: admins_before,
        });
    }
    if let Some(caller) = caller {
        let own = |principal: &str| {
            principal
                .parse::<Arn>()
                .is_ok_and(|p| eks_auth::access::same_principal(&p, caller))
        };
        for call in calls {
            let what = match call {
                Call::Delete { principal } if own(principal) => "deletes the access entry",
                Call::Disassociate { principal, .. } if own(principal) => {
                    "removes an access policy"
                }
                _ => continue,
            };
            risks.push(EntryLockout::CallerLosesAccess {
                caller: caller.canonical().to_string(),
                what: what.to_owned(),
            });
        }
    }
    risks
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "arn:aws:iam::123456789012:role/team/dev";

    fn add_args(arn: &str) -> AddArgs {
        AddArgs {
            arn: arn.to_owned(),
            username: None,
            groups: Vec::new(),
            preset: None,
            namespaces: Vec::new(),
            dry_run: false,
            force: false,
            policies: Vec::new(),
        }
    }

    fn grant(args: AddArgs) -> Result<EntryGrant, EntryRequestError> {
        let policies = args.policies.clone();
        EntryGrant::from_args(&args, &policies, |_, _| None)
    }

    fn entry(arn: &str) -> AccessEntry {
        AccessEntry::standard(arn.parse().unwrap())
    }

    #[test]
    fn system_groups_are_refused_before_anything() {
        let mut a = add_args(ROLE);
        a.groups = vec!["system:masters".into()];
        let err = grant(a).unwrap_err().to_string();
        assert!(err.contains("hint: use `--preset cluster-admin`"), "{err}");
        let mut a = add_args(ROLE);
        a.groups = vec!["ops".into(), "system:nodes".into()];
        assert!(matches!(
            grant(a),
            Err(EntryRequestError::SystemGroup { group }) if group == "system:nodes"
        ));
    }

    #[test]
    fn presets_become_policies_and_namespaces_scope_them() {
        for (preset, policy) in [
            ("cluster-admin", "AmazonEKSClusterAdminPolicy"),
            ("admin", "AmazonEKSAdminPolicy"),
            ("edit", "AmazonEKSEditPolicy"),
            ("view", "AmazonEKSViewPolicy"),
            ("cluster-reader", "AmazonEKSAdminViewPolicy"),
        ] {
            let mut a = add_args(ROLE);
            a.preset = Some(preset.into());
            let g = grant(a).unwrap();
            assert_eq!(
                g.policies,
                [format!("arn:aws:eks::aws:cluster-access-policy/{policy}")]
            );
            assert_eq!(g.scope, AccessScope::Cluster);
        }
        let mut a = add_args(ROLE);
        a.preset = Some("view".into());
        a.policies = vec!["AmazonEKSSecretReaderPolicy".into(), "view".into()];
        a.namespaces = vec!["b".into(), "a".into(), "b".into()];
        let g = grant(a).unwrap();
        assert_eq!(g.policies.len(), 2, "view named twice is associated once");
        assert_eq!(
            g.scope,
            AccessScope::Namespaces(vec!["a".into(), "b".into()])
        );
        let mut a = add_args(ROLE);
        a.policies = vec!["AmazonEKSNoSuchPolicy".into()];
        assert!(matches!(grant(a), Err(EntryRequestError::UnknownPolicy(_))));
        let mut a = add_args(ROLE);
        a.preset = Some("cluster-reader-no-secrets".into());
        assert!(matches!(
            grant(a),
            Err(EntryRequestError::PresetWithoutPolicy(_))
        ));
        let mut a = add_args(ROLE);
        a.namespaces = vec!["a".into()];
        assert!(matches!(
            grant(a),
            Err(EntryRequestError::NamespaceWithoutPolicy)
        ));
    }

    #[test]
    fn assumed_roles_need_iam_for_the_path() {
        let p = Principal::parse("arn:aws:sts::123456789012:assumed-role/dev/alice").unwrap();
        assert_eq!(p.iam.to_string(), "arn:aws:iam::123456789012:role/dev");
        assert!(p.needs_role_lookup());
        assert!(!Principal::parse(ROLE).unwrap().needs_role_lookup());
        assert!(
            !Principal::parse("arn:aws:iam::123456789012:user/bob")
                .unwrap()
                .needs_role_lookup()
        );
    }

    #[test]
    fn add_creates_then_is_idempotent_and_never_narrows() {
        let mut a = add_args(ROLE);
        a.preset = Some("view".into());
        a.groups = vec!["devs".into()];
        a.namespaces = vec!["team-a".into()];
        let g = grant(a).unwrap();
        let calls = plan_add(None, ROLE, &g).unwrap();
        assert_eq!(calls.len(), 2);
        assert_eq!(
            calls[1].to_cli("demo"),
            "aws eks associate-access-policy --cluster-name demo --principal-arn arn:aws:iam::123456789012:role/team/dev --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=namespace,namespaces=team-a"
        );
        let after = apply_calls(&[], &calls);
        assert_eq!(plan_add(after.first(), ROLE, &g).unwrap(), []);
        // Another namespace widens the scope; cluster scope is never narrowed.
        let mut a = add_args(ROLE);
        a.preset = Some("view".into());
        a.namespaces = vec!["team-b".into()];
        let calls = plan_add(after.first(), ROLE, &grant(a).unwrap()).unwrap();
        assert_eq!(
            calls,
            [Call::Associate {
                principal: ROLE.into(),
                policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
                scope: AccessScope::Namespaces(vec!["team-a".into(), "team-b".into()]),
            }]
        );
        assert_eq!(
            widened_scope(
                &AccessScope::Cluster,
                &AccessScope::Namespaces(vec!["x".into()])
            ),
            None
        );
        // Groups are added to, never replaced.
        let mut a = add_args(ROLE);
        a.groups = vec!["ops".into()];
        let calls = plan_add(after.first(), ROLE, &grant(a).unwrap()).unwrap();
        assert_eq!(
            calls,
            [Call::Update {
                principal: ROLE.into(),
                username: None,
                groups: vec!["devs".into(), "ops".into()],
            }]
        );
    }

    #[test]
    fn node_entries_take_no_policies() {
        let mut node = entry("arn:aws:iam::123456789012:role/node");
        node.entry_type = eks_auth::access::AccessEntryType::Ec2Linux;
        let mut a = add_args("arn:aws:iam::123456789012:role/node");
        a.preset = Some("view".into());
        assert!(matches!(
            plan_add(
                Some(&node),
                "arn:aws:iam::123456789012:role/node",
                &grant(a).unwrap()
            ),
            Err(PlanError::NotStandard { .. })
        ));
    }

    #[test]
    fn the_guard_counts_admins_that_can_match_and_the_callers_own_entry() {
        let mut admin = entry("arn:aws:iam::123456789012:user/admin");
        admin.policies.push(PolicyAssociation {
            policy_arn: policies::policy_arn("aws", "AmazonEKSClusterAdminPolicy"),
            scope: AccessScope::Cluster,
        });
        let before = vec![admin, entry(ROLE)];
        let revoke = EntryRevoke {
            principal: Principal::parse("arn:aws:iam::123456789012:user/admin").unwrap(),
            policy: None,
            dry_run: false,
            force: false,
        };
        let calls = plan_revoke(before.first(), &revoke);
        let after = apply_calls(&before, &calls);
        let mut data = std::collections::BTreeMap::new();
        // A pathed role ARN in aws-auth never matches: it does not count as an admin.
        data.insert(
            "mapRoles".to_owned(),
            "- rolearn: arn:aws:iam::123456789012:role/x/ops\n  username: ops\n  groups: [system:masters]\n"
                .to_owned(),
        );
        let aws_auth = AwsAuth::parse(&data).unwrap();
        let caller: Arn = "arn:aws:iam::123456789012:user/admin".parse().unwrap();
        let risks = lockout_risks(
            AuthenticationMode::ApiAndConfigMap,
            &before,
            &after,
            &aws_auth,
            &calls,
            Some(&caller),
        );
        assert_eq!(risks.len(), 2, "{risks:?}");
        assert!(matches!(risks[0], EntryLockout::NoAdminLeft { .. }));
        assert!(matches!(risks[1], EntryLockout::CallerLosesAccess { .. }));
        // A matchable system:masters mapping keeps someone in, in a mode that reads aws-auth only.
        data.insert(
            "mapRoles".to_owned(),
            "- rolearn: arn:aws:iam::123456789012:role/ops\n  username: ops\n  groups: [system:masters]\n"
                .to_owned(),
        );
        let aws_auth = AwsAuth::parse(&data).unwrap();
        let other: Arn = "arn:aws:iam::123456789012:user/other".parse().unwrap();
        assert_eq!(
            lockout_risks(
                AuthenticationMode::ApiAndConfigMap,
                &before,
                &after,
                &aws_auth,
                &calls,
                Some(&other)
            ),
            []
        );
        assert_eq!(
            lockout_risks(
                AuthenticationMode::Api,
                &before,
                &after,
                &aws_auth,
                &calls,
                Some(&other)
            )
            .len(),
            1
        );
    }
}
