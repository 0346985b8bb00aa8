//! Pure: the plan of a move from aws-auth to access entries: each aws-auth entry -> the access
//! entry it becomes, or why it stays; and who would lose access if aws-auth stopped counting.
//!
//! Rules, from the EKS user guide ("Migrating existing aws-auth ConfigMap entries to access
//! entries", "Create access entries"):
//! - a node role mapping (`system:nodes` with `system:node:{{EC2PrivateDNSName}}`) becomes an
//!   `EC2_LINUX` entry, or `EC2_WINDOWS` with `eks:kube-proxy-windows`; a Fargate pod execution
//!   role (`system:node-proxier`) becomes `FARGATE_LINUX`; these take no username or groups;
//! - `system:masters` cannot be an access-entry group: it becomes AmazonEKSClusterAdminPolicy at
//!   cluster scope, the username kept, the other (non-`system:`) groups kept;
//! - any other `system:` group, a reserved username, `mapAccounts` and `sso` items, entries the
//!   authenticator drops or never matches, entries shadowed by a later one, and roles IAM no
//!   longer has are reported, not guessed;
//! - a role's access entry names it with its path, which only IAM knows: the caller passes what
//!   `GetRole` answered for each role name.

use std::collections::BTreeMap;

use crate::access::entry::{AccessEntry, AccessEntryType, check_username};
use crate::access::policies::policy_arn;
use crate::access::resolve::same_principal;
use crate::arn::Arn;
use crate::aws_auth::{AwsAuth, DataKey, IssueKind};

/// What IAM said about a role name (`GetRole`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleLookup {
    /// The role's full ARN, path included.
    Found(String),
    /// `NoSuchEntity`.
    Missing,
    /// IAM could not be asked (the error, for the report).
    Unknown(String),
}

/// What one aws-auth item becomes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// A new access entry (and its policy associations).
    Create(Box<AccessEntry>),
    /// An access entry for the principal exists already (a resumed run, or made by hand);
    /// `missing` are the planned policy associations it lacks (a run interrupted between the
    /// create and the associations), to be made now.
    Exists {
        principal: String,
        missing: Vec<crate::access::PolicyAssociation>,
    },
    /// Not migrated, and why.
    Stays { reason: String },
}

/// One line of the plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// `mapRoles[0]`, `mapUsers[2]`, `mapAccounts[0]`.
    pub source: String,
    /// The ARN (or account, or sso key) as aws-auth has it.
    pub arn: String,
    pub outcome: Outcome,
}

const NODE_USERNAME: &str = "system:node:{{EC2PrivateDNSName}}";

fn stays(source: String, arn: String, reason: impl Into<String>) -> Item {
    Item {
        source,
        arn,
        outcome: Outcome::Stays {
            reason: reason.into(),
        },
    }
}

/// The entry a mapping becomes, or why none.
fn entry_for(
    principal: Arn,
    username: &str,
    groups: &[String],
    is_role: bool,
) -> Result<AccessEntry, String> {
    let has = |g: &str| groups.iter().any(|x| x == g);
    if is_role && has("system:nodes") {
        let entry_type = if has("eks:kube-proxy-windows") {
            AccessEntryType::Ec2Windows
        } else if username == NODE_USERNAME {
            AccessEntryType::Ec2Linux
        } else {
            return Err(format!(
                "a `system:nodes` mapping with username `{username}` is not a node role EKS knows"
            ));
        };
        let mut e = AccessEntry::standard(principal);
        e.entry_type = entry_type;
        e.username = crate::access::default_username(&e.principal_arn, entry_type);
        return Ok(e);
    }
    if is_role && has("system:node-proxier") {
        let mut e = AccessEntry::standard(principal);
        e.entry_type = AccessEntryType::FargateLinux;
        e.username = crate::access::default_username(&e.principal_arn, e.entry_type);
        return Ok(e);
    }
    if let Some(g) = groups
        .iter()
        .find(|g| g.starts_with("system:") && *g != "system:masters")
    {
        return Err(format!(
            "group `{g}` cannot be given by an access entry (EKS refuses `system:` groups)"
        ));
    }
    check_username(username).map_err(|e| e.to_string())?;
    let mut e = AccessEntry::standard(principal);
    e.username = username.to_owned();
    e.kubernetes_groups = groups
        .iter()
        .filter(|g| *g != "system:masters")
        .cloned()
        .collect();
    if has("system:masters") {
        e.policies.push(crate::access::PolicyAssociation {
            policy_arn: policy_arn(e.principal_arn.partition(), "AmazonEKSClusterAdminPolicy"),
            scope: crate::access::AccessScope::Cluster,
        });
    }
    Ok(e)
}

/// The associations `want` has that `have` lacks (by policy ARN).
fn missing_policies(
    want: &AccessEntry,
    have: &AccessEntry,
) -> Vec<crate::access::PolicyAssociation> {
    want.policies
        .iter()
        .filter(|p| !have.policies.iter().any(|h| h.policy_arn == p.policy_arn))
        .cloned()
        .collect()
}

/// The plan: every aws-auth item in order, with `entries` the access entries that exist and
/// `roles` what IAM answered for each role name (missing names count as not asked).
pub fn plan(
    aws_auth: &AwsAuth,
    entries: &[AccessEntry],
    roles: &BTreeMap<String, RoleLookup>,
) -> Vec<Item> {
    let issues = aws_auth.validate();
    let blocking = |key: DataKey, index: usize| {
        issues.iter().find(|i| {
            i.key == key
                && i.index == index
                && matches!(
                    i.kind,
                    IssueKind::Dropped { .. }
                        | IssueKind::RoleArnWithPath { .. }
                        | IssueKind::NeverMatches { .. }
                        | IssueKind::Shadowed { .. }
                )
        })
    };
    let mut out = Vec::new();
    let exists = |arn: &Arn| {
        entries
            .iter()
            .find(|e| same_principal(&e.principal_arn, arn))
    };
    for (i, r) in aws_auth.roles().iter().enumerate() {
        let source = format!("mapRoles[{i}]");
        if r.rolearn.is_empty() {
            out.push(stays(
                source,
                r.key(),
                "`sso` items need the permission set's role ARN: add it by hand",
            ));
            continue;
        }
        if let Some(issue) = blocking(DataKey::MapRoles, i) {
            out.push(stays(source, r.rolearn.clone(), issue.to_string()));
            continue;
        }
        let Ok(arn) = r.rolearn.parse::<Arn>() else {
            out.push(stays(source, r.rolearn.clone(), "not an IAM role ARN"));
            continue;
        };
        if let Some(existing) = exists(&arn) {
            let missing = entry_for(existing.principal_arn.clone(), &r.username, &r.groups, true)
                .map(|want| missing_policies(&want, existing))
                .unwrap_or_default();
            out.push(Item {
                source,
                arn: r.rolearn.clone(),
                outcome: Outcome::Exists {
                    principal: existing.principal_arn.to_string(),
                    missing,
                },
            });
            continue;
        }
        let full = match roles.get(arn.name()) {
            Some(RoleLookup::Found(full)) => full.clone(),
            Some(RoleLookup::Missing) => {
                out.push(stays(
                    source,
                    r.rolearn.clone(),
                    "IAM has no such role any more: nothing can use this mapping",
                ));
                continue;
            }
            Some(RoleLookup::Unknown(why)) => {
                out.push(stays(
                    source,
                    r.rolearn.clone(),
                    format!("IAM could not be asked for the role's path: {why}"),
                ));
                continue;
            }
            None => {
                out.push(stays(
                    source,
                    r.rolearn.clone(),
                    "the role's path was not looked up",
                ));
                continue;
            }
        };
        let Ok(principal) = full.parse::<Arn>() else {
            out.push(stays(
                source,
                r.rolearn.clone(),
                "IAM answered an ARN that does not parse",
            ));
            continue;
        };
        match entry_for(principal, &r.username, &r.groups, true) {
            Ok(e) => out.push(Item {
                source,
                arn: r.rolearn.clone(),
                outcome: Outcome::Create(Box::new(e)),
            }),
            Err(reason) => out.push(stays(source, r.rolearn.clone(), reason)),
        }
    }
    for (i, u) in aws_auth.users().iter().enumerate() {
        let source = format!("mapUsers[{i}]");
        if let Some(issue) = blocking(DataKey::MapUsers, i) {
            out.push(stays(source, u.userarn.clone(), issue.to_string()));
            continue;
        }
        let Ok(arn) = u.userarn.parse::<Arn>() else {
            out.push(stays(source, u.userarn.clone(), "not an IAM user ARN"));
            continue;
        };
        if let Some(existing) = exists(&arn) {
            let missing = entry_for(
                existing.principal_arn.clone(),
                &u.username,
                &u.groups,
                false,
            )
            .map(|want| missing_policies(&want, existing))
            .unwrap_or_default();
            out.push(Item {
                source,
                arn: u.userarn.clone(),
                outcome: Outcome::Exists {
                    principal: existing.principal_arn.to_string(),
                    missing,
                },
            });
            continue;
        }
        match entry_for(arn, &u.username, &u.groups, false) {
            Ok(e) => out.push(Item {
                source,
                arn: u.userarn.clone(),
                outcome: Outcome::Create(Box::new(e)),
            }),
            Err(reason) => out.push(stays(source, u.userarn.clone(), reason)),
        }
    }
    for (i, a) in aws_auth.accounts().iter().enumerate() {
        out.push(stays(
            format!("mapAccounts[{i}]"),
            a.clone(),
            "account mappings have no access-entry equivalent: give each principal its own entry",
        ));
    }
    out
}

/// The aws-auth items that let someone in today and have no access entry in `entries`: who
/// would lose access if aws-auth stopped counting (mode `API`).
pub fn would_lose_access(items: &[Item], entries: &[AccessEntry]) -> Vec<Item> {
    items
        .iter()
        .filter(|item| match &item.outcome {
            Outcome::Exists { .. } => false,
            Outcome::Create(e) => !entries
                .iter()
                .any(|x| same_principal(&x.principal_arn, &e.principal_arn)),
            Outcome::Stays { reason } => {
                // Items that never let anyone in lose nothing.
                !(reason.contains("never")
                    || reason.contains("drops")
                    || reason.contains("no such role")
                    || reason.contains("later"))
            }
        })
        .cloned()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(roles: &str, users: &str, accounts: &str) -> AwsAuth {
        let mut d = BTreeMap::new();
        d.insert("mapRoles".to_owned(), roles.to_owned());
        d.insert("mapUsers".to_owned(), users.to_owned());
        if !accounts.is_empty() {
            d.insert("mapAccounts".to_owned(), accounts.to_owned());
        }
        AwsAuth::parse(&d).unwrap()
    }

    const ROLES: &str = "\
- rolearn: arn:aws:iam::111122223333:role/node
  username: system:node:{{EC2PrivateDNSName}}
  groups: [system:bootstrappers, system:nodes]
- rolearn: arn:aws:iam::111122223333:role/Admin
  username: admin:{{SessionName}}
  groups: [system:masters, ops]
- rolearn: arn:aws:iam::111122223333:role/gone
  username: gone
  groups: [devs]
- rolearn: arn:aws:iam::111122223333:role/proxy
  username: proxy
  groups: [system:node-proxier]
";
    const USERS: &str = "\
- userarn: arn:aws:iam::111122223333:user/bob
  username: bob
  groups: [readers]
- userarn: arn:aws:iam::111122223333:user/eve
  username: system:eve
  groups: [readers]
";

    fn lookups() -> BTreeMap<String, RoleLookup> {
        BTreeMap::from([
            (
                "node".into(),
                RoleLookup::Found("arn:aws:iam::111122223333:role/node".into()),
            ),
            (
                "Admin".into(),
                RoleLookup::Found(
                    "arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/Admin".into(),
                ),
            ),
            ("gone".into(), RoleLookup::Missing),
            (
                "proxy".into(),
                RoleLookup::Found("arn:aws:iam::111122223333:role/proxy".into()),
            ),
        ])
    }

    #[test]
    fn each_item_becomes_an_entry_or_says_why_not() {
        let a = auth(ROLES, USERS, "- \"444455556666\"\n");
        let items = plan(&a, &[], &lookups());
        let summary: Vec<(String, String)> = items
            .iter()
            .map(|i| {
                (
                    i.source.clone(),
                    match &i.outcome {
                        Outcome::Create(e) => format!(
                            "{} {} {} [{}] {}",
                            e.entry_type,
                            e.principal_arn,
                            e.username,
                            e.kubernetes_groups.join(","),
                            e.policies
                                .iter()
                                .map(|p| p.policy_name())
                                .collect::<Vec<_>>()
                                .join(",")
                        ),
                        Outcome::Exists { principal, .. } => format!("exists {principal}"),
                        Outcome::Stays { reason } => format!("stays: {reason}"),
                    },
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("mapRoles[0]".into(), "EC2_LINUX arn:aws:iam::111122223333:role/node system:node:{{EC2PrivateDNSName}} [] ".into()),
                ("mapRoles[1]".into(), "STANDARD arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/Admin admin:{{SessionName}} [ops] AmazonEKSClusterAdminPolicy".into()),
                ("mapRoles[2]".into(), "stays: IAM has no such role any more: nothing can use this mapping".into()),
                ("mapRoles[3]".into(), "FARGATE_LINUX arn:aws:iam::111122223333:role/proxy system:node:{{SessionName}} [] ".into()),
                ("mapUsers[0]".into(), "STANDARD arn:aws:iam::111122223333:user/bob bob [readers] ".into()),
                ("mapUsers[1]".into(), "stays: username `system:eve` starts with the reserved prefix `system:` (reserved: system:, eks:, aws:, amazon:, iam:)".into()),
                ("mapAccounts[0]".into(), "stays: account mappings have no access-entry equivalent: give each principal its own entry".into()),
            ]
        );
    }

    #[test]
    fn a_resumed_run_creates_nothing_twice_and_losers_are_listed() {
        let a = auth(ROLES, USERS, "");
        let first = plan(&a, &[], &lookups());
        let made: Vec<AccessEntry> = first
            .iter()
            .filter_map(|i| match &i.outcome {
                Outcome::Create(e) => Some((**e).clone()),
                _ => None,
            })
            .collect();
        // Half done: the first entry was created, the second without its policy.
        let mut half = made[..2].to_vec();
        half[1].policies.clear();
        let second = plan(&a, &half, &lookups());
        assert!(
            matches!(&second[0].outcome, Outcome::Exists { missing, .. } if missing.is_empty())
        );
        assert!(matches!(&second[1].outcome, Outcome::Exists { missing, .. }
            if missing.len() == 1 && missing[0].policy_name() == "AmazonEKSClusterAdminPolicy"));
        assert!(matches!(second[3].outcome, Outcome::Create(_)));
        // Everything created: the only ones who would lose access are those who stay.
        let third = plan(&a, &made, &lookups());
        let losers: Vec<String> = would_lose_access(&third, &made)
            .into_iter()
            .map(|i| i.source)
            .collect();
        assert_eq!(losers, ["mapUsers[1]"]);
        assert_eq!(would_lose_access(&first, &[]).len(), 5);
    }
}
