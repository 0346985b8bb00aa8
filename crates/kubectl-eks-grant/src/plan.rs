//! Pure decisions over aws-auth: what `add` and `revoke` change, the account check and the
//! lockout guard. No I/O: the modify loop calls these on every attempt with what it read.

use std::collections::{BTreeMap, BTreeSet};

use eks_auth::arn::{Arn, ClusterArn};
use eks_auth::aws_auth::{
    AwsAuth, AwsAuthError, DataKey, EditError, LockoutRisk, RoleMapping, Upsert, UserMapping,
    lockout_check,
};

use crate::request::{Grant, Revoke};

/// Why an edit of aws-auth is refused; nothing is written.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error(
        "ConfigMap `kube-system/aws-auth` was left untouched: {0}\n\nhint: fix it by hand (`kubectl edit -n kube-system configmap aws-auth`); eks-grant never rewrites a document it cannot read"
    )]
    Unreadable(AwsAuthError),
    #[error("ConfigMap `kube-system/aws-auth` was left untouched: {0}")]
    Edit(#[from] EditError),
    #[error("refused, nothing was written: {}\n\nhint: pass --force if this is really intended", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Lockout(Vec<LockoutRisk>),
    #[error(
        "`{arn}` is in account {account}, but the cluster `{cluster}` is in account {cluster_account}\n\nhint: aws-auth can map a principal of another account, but that is rarely what is meant: check the ARN, or pass --force for a cross-account principal"
    )]
    OtherClusterAccount {
        arn: String,
        account: String,
        cluster: String,
        cluster_account: String,
    },
    #[error(
        "`{arn}` is in partition `{partition}`, but the cluster `{cluster}` is in partition `{cluster_partition}`\n\nhint: a cluster only authenticates principals of its own partition; check the ARN (or pass --force)"
    )]
    OtherClusterPartition {
        arn: String,
        partition: String,
        cluster: String,
        cluster_partition: String,
    },
    #[error(
        "`{arn}` is in account {account}, but the cluster's aws-auth maps only account(s) {known}\n\nhint: the cluster's own account cannot be learned without AWS credentials, so eks-grant goes by the accounts aws-auth already maps; pass --force for a cross-account principal"
    )]
    OtherAccount {
        arn: String,
        account: String,
        known: String,
    },
    #[error(
        "`{arn}` is in partition `{partition}`, but aws-auth maps principals of partition(s) {known}\n\nhint: a cluster only authenticates principals of its own partition; check the ARN (or pass --force)"
    )]
    OtherPartition {
        arn: String,
        partition: String,
        known: String,
    },
    #[error(
        "aws-auth changed while undoing (revision {expected} became {found}): nothing was written\n\nhint: run `kubectl eks-grant undo` again"
    )]
    UndoMoved { expected: u64, found: u64 },
    #[error("{}", crate::shared_group::message(.0))]
    SharedGroup(Vec<crate::shared_group::SharedGroup>),
}

/// Parses aws-auth data, refusing to go on with a document the authenticator cannot read.
pub fn parse(data: &BTreeMap<String, String>) -> Result<AwsAuth, PlanError> {
    AwsAuth::parse(data).map_err(PlanError::Unreadable)
}

/// What is known of the cluster's account: its ARN when the kubeconfig names the cluster after it,
/// else the accounts and partitions aws-auth already maps, plus the caller's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownAccounts {
    pub cluster: Option<ClusterArn>,
    pub accounts: BTreeSet<String>,
    pub partitions: BTreeSet<String>,
}

pub fn known_accounts(
    aws_auth: &AwsAuth,
    caller: Option<&Arn>,
    cluster: Option<&ClusterArn>,
) -> KnownAccounts {
    let mut known = KnownAccounts {
        cluster: cluster.cloned(),
        ..KnownAccounts::default()
    };
    let arns = aws_auth
        .roles()
        .iter()
        .map(|r| r.rolearn.as_str())
        .chain(aws_auth.users().iter().map(|u| u.userarn.as_str()))
        .filter_map(|a| a.parse::<Arn>().ok())
        .chain(caller.cloned());
    for arn in arns {
        known.accounts.insert(arn.account().to_owned());
        known.partitions.insert(arn.partition().to_owned());
    }
    known.accounts.extend(aws_auth.accounts().iter().cloned());
    known
}

fn list(set: &BTreeSet<String>) -> String {
    set.iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Refuses, unless forced, a principal from another account (or partition) than the cluster's
/// when the cluster's ARN is known, else from one that nothing in aws-auth uses. When neither is
/// known (aws-auth maps nothing yet) there is nothing to compare with: accepted.
pub fn account_check(principal: &Arn, known: &KnownAccounts, force: bool) -> Result<(), PlanError> {
    if force {
        return Ok(());
    }
    if let Some(cluster) = &known.cluster {
        if principal.partition() != cluster.partition() {
            return Err(PlanError::OtherClusterPartition {
                arn: principal.to_string(),
                partition: principal.partition().to_owned(),
                cluster: cluster.to_string(),
                cluster_partition: cluster.partition().to_owned(),
            });
        }
        if principal.account() != cluster.account() {
            return Err(PlanError::OtherClusterAccount {
                arn: principal.to_string(),
                account: principal.account().to_owned(),
                cluster: cluster.to_string(),
                cluster_account: cluster.account().to_owned(),
            });
        }
        return Ok(());
    }
    if !known.partitions.is_empty() && !known.partitions.contains(principal.partition()) {
        return Err(PlanError::OtherPartition {
            arn: principal.to_string(),
            partition: principal.partition().to_owned(),
            known: list(&known.partitions),
        });
    }
    if !known.accounts.is_empty() && !known.accounts.contains(principal.account()) {
        return Err(PlanError::OtherAccount {
            arn: principal.to_string(),
            account: principal.account().to_owned(),
            known: list(&known.accounts),
        });
    }
    Ok(())
}

/// What an `add` does to aws-auth.
#[derive(Debug, Clone)]
pub struct AddPlan {
    pub after: AwsAuth,
    pub upsert: Upsert,
}

/// Adds or updates the mapping, refusing lockouts unless forced.
pub fn plan_add(
    before: &AwsAuth,
    grant: &Grant,
    caller: Option<&Arn>,
) -> Result<AddPlan, PlanError> {
    let mut after = before.clone();
    let arn = grant.principal.to_string();
    let upsert = match grant.section {
        DataKey::MapRoles => after.upsert_role(RoleMapping::new(
            arn,
            grant.username.clone(),
            grant.groups.clone(),
        ))?,
        // `mappable` never gives mapAccounts: an ARN is a user or a role.
        DataKey::MapUsers | DataKey::MapAccounts => after.upsert_user(UserMapping::new(
            arn,
            grant.username.clone(),
            grant.groups.clone(),
        ))?,
    };
    guard(before, &after, caller, grant.force)?;
    Ok(AddPlan { after, upsert })
}

/// What a `revoke` does to aws-auth.
#[derive(Debug, Clone)]
pub struct RevokePlan {
    pub after: AwsAuth,
    pub removed: usize,
    /// Groups the removed entries had.
    pub groups: BTreeSet<String>,
}

pub fn plan_revoke(
    before: &AwsAuth,
    revoke: &Revoke,
    caller: Option<&Arn>,
) -> Result<RevokePlan, PlanError> {
    let spellings: Vec<String> = std::iter::once(&revoke.principal)
        .chain(&revoke.also)
        .map(ToString::to_string)
        .collect();
    let mut groups = BTreeSet::new();
    for arn in &spellings {
        let lower = arn.to_lowercase();
        for r in before
            .roles()
            .iter()
            .filter(|r| r.rolearn.to_lowercase() == lower)
        {
            groups.extend(r.groups.iter().cloned());
        }
        for u in before
            .users()
            .iter()
            .filter(|u| u.userarn.to_lowercase() == lower)
        {
            groups.extend(u.groups.iter().cloned());
        }
    }
    let mut after = before.clone();
    let mut removed = 0;
    for arn in &spellings {
        removed += after.remove(arn)?;
    }
    guard(before, &after, caller, revoke.force)?;
    Ok(RevokePlan {
        after,
        removed,
        groups,
    })
}

/// The lockout guard: refused unless forced.
pub fn guard(
    before: &AwsAuth,
    after: &AwsAuth,
    caller: Option<&Arn>,
    force: bool,
) -> Result<(), PlanError> {
    let risks = lockout_check(before, after, caller);
    if risks.is_empty() || force {
        Ok(())
    } else {
        Err(PlanError::Lockout(risks))
    }
}

/// Groups that some mapping of aws-auth still hands out.
pub fn groups_in_use(aws_auth: &AwsAuth) -> BTreeSet<String> {
    aws_auth
        .roles()
        .iter()
        .flat_map(|r| r.groups.iter())
        .chain(aws_auth.users().iter().flat_map(|u| u.groups.iter()))
        .cloned()
        .collect()
}

/// One line per duplicate: which entries share the ARN and which one the authenticator uses.
pub fn duplicates_note(section: DataKey, upsert: &Upsert) -> Option<String> {
    let shadowed = upsert.shadowed();
    if shadowed.is_empty() {
        return None;
    }
    let entries = shadowed
        .iter()
        .map(|i| (i + 1).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Some(format!(
        "{section} has {} entries for this ARN: entry {} is the effective one (the authenticator keeps the last) and was the one compared and updated; entries {entries} are shadowed and were left as they are (`revoke` removes them all)",
        shadowed.len() + 1,
        upsert.index() + 1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::RevokeArgs;

    fn data(map_roles: &str, map_users: &str) -> BTreeMap<String, String> {
        let mut d = BTreeMap::new();
        if !map_roles.is_empty() {
            d.insert("mapRoles".to_owned(), map_roles.to_owned());
        }
        if !map_users.is_empty() {
            d.insert("mapUsers".to_owned(), map_users.to_owned());
        }
        d
    }

    fn grant(arn: &str, username: &str, groups: &[&str], force: bool) -> Grant {
        Grant::for_test(arn, username, groups, force)
    }

    const ROLES: &str = "# node role, keep\n- rolearn: arn:aws:iam::123456789012:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n- rolearn: arn:aws:iam::123456789012:role/admin\n  username: admin\n  groups:\n    - system:masters\n";

    #[test]
    fn add_user_appends_and_keeps_other_keys_byte_for_byte() {
        let before = parse(&data(ROLES, "")).unwrap();
        let plan = plan_add(
            &before,
            &grant(
                "arn:aws:iam::123456789012:user/bob",
                "bob",
                &["reader"],
                false,
            ),
            None,
        )
        .unwrap();
        assert!(matches!(plan.upsert, Upsert::Added { index: 0 }));
        let rendered = plan.after.render();
        assert_eq!(rendered["mapRoles"], ROLES);
        assert_eq!(plan.after.users().len(), 1);
        assert_eq!(
            plan.after.users()[0].userarn,
            "arn:aws:iam::123456789012:user/bob"
        );
        assert_eq!(plan.after.users()[0].groups, ["reader"]);
    }

    #[test]
    fn same_grant_twice_is_unchanged() {
        let before = parse(&data(ROLES, "")).unwrap();
        let g = grant(
            "arn:aws:iam::123456789012:user/bob",
            "bob",
            &["reader"],
            false,
        );
        let once = plan_add(&before, &g, None).unwrap();
        let twice = plan_add(&once.after, &g, None).unwrap();
        assert!(matches!(twice.upsert, Upsert::Unchanged { index: 0, .. }));
        assert_eq!(twice.after.render(), once.after.render());
    }

    #[test]
    fn different_case_arn_updates_in_place() {
        let users =
            "- userarn: arn:aws:iam::123456789012:user/Bob\n  username: bob\n  groups: [old]\n";
        let before = parse(&data(ROLES, users)).unwrap();
        let plan = plan_add(
            &before,
            &grant(
                "arn:aws:iam::123456789012:user/bob",
                "bob",
                &["reader"],
                false,
            ),
            None,
        )
        .unwrap();
        assert!(matches!(plan.upsert, Upsert::Updated { index: 0, .. }));
        assert_eq!(plan.after.users().len(), 1);
        assert_eq!(plan.after.users()[0].groups, ["reader"]);
    }

    #[test]
    fn duplicates_are_reported_with_the_effective_one() {
        let users = "- userarn: arn:aws:iam::123456789012:user/bob\n  username: a\n  groups: []\n- userarn: arn:aws:iam::123456789012:user/bob\n  username: b\n  groups: []\n";
        let before = parse(&data(ROLES, users)).unwrap();
        let plan = plan_add(
            &before,
            &grant("arn:aws:iam::123456789012:user/bob", "c", &[], false),
            None,
        )
        .unwrap();
        assert_eq!(
            duplicates_note(DataKey::MapUsers, &plan.upsert).unwrap(),
            "mapUsers has 2 entries for this ARN: entry 2 is the effective one (the authenticator keeps the last) and was the one compared and updated; entries 1 are shadowed and were left as they are (`revoke` removes them all)"
        );
    }

    #[test]
    fn demoting_the_last_admin_is_refused_unless_forced() {
        let before = parse(&data(ROLES, "")).unwrap();
        let g = grant(
            "arn:aws:iam::123456789012:role/admin",
            "admin",
            &["reader"],
            false,
        );
        let err = plan_add(&before, &g, None).unwrap_err();
        assert!(
            matches!(&err, PlanError::Lockout(r) if matches!(r[0], LockoutRisk::LastMastersRemoved { .. })),
            "{err}"
        );
        let forced = grant(
            "arn:aws:iam::123456789012:role/admin",
            "admin",
            &["reader"],
            true,
        );
        assert!(plan_add(&before, &forced, None).is_ok());
    }

    #[test]
    fn revoke_removes_every_duplicate_and_guards_node_roles() {
        let users = "- userarn: arn:aws:iam::123456789012:user/bob\n  username: a\n  groups: [x]\n- userarn: ARN:aws:iam::123456789012:user/BOB\n  username: b\n  groups: [z]\n";
        let before = parse(&data(ROLES, users)).unwrap();
        let r = Revoke::from_args(RevokeArgs {
            arn: "arn:aws:iam::123456789012:user/bob".to_owned(),
            dry_run: false,
            force: false,
            policy: None,
        })
        .unwrap();
        let plan = plan_revoke(&before, &r, None).unwrap();
        assert_eq!(plan.removed, 2);
        assert!(plan.after.users().is_empty());
        assert_eq!(plan.groups.iter().collect::<Vec<_>>(), ["x", "z"]);
        assert_eq!(plan.after.render()["mapRoles"], ROLES);

        let node = Revoke::from_args(RevokeArgs {
            arn: "arn:aws:iam::123456789012:role/node".to_owned(),
            dry_run: false,
            force: false,
            policy: None,
        })
        .unwrap();
        let err = plan_revoke(&before, &node, None).unwrap_err();
        assert!(
            matches!(&err, PlanError::Lockout(r) if matches!(r[0], LockoutRisk::NodeRoleDropped { .. })),
            "{err}"
        );
    }

    #[test]
    fn other_account_is_refused_unless_forced_and_empty_aws_auth_accepts() {
        let before = parse(&data(ROLES, "")).unwrap();
        let known = known_accounts(&before, None, None);
        assert_eq!(known.accounts.iter().collect::<Vec<_>>(), ["123456789012"]);
        let other: Arn = "arn:aws:iam::999999999999:user/eve".parse().unwrap();
        let err = account_check(&other, &known, false).unwrap_err();
        assert!(err.to_string().starts_with(
            "`arn:aws:iam::999999999999:user/eve` is in account 999999999999, but the cluster's aws-auth maps only account(s) `123456789012`"
        ));
        assert!(account_check(&other, &known, true).is_ok());
        let cn: Arn = "arn:aws-cn:iam::123456789012:user/eve".parse().unwrap();
        assert!(matches!(
            account_check(&cn, &known, false),
            Err(PlanError::OtherPartition { .. })
        ));
        let empty = parse(&BTreeMap::new()).unwrap();
        assert!(account_check(&other, &known_accounts(&empty, None, None), false).is_ok());
    }

    #[test]
    fn the_clusters_own_account_decides_when_the_kubeconfig_names_it() {
        // aws-auth maps nothing of account 999999999999, but the cluster is in it: accepted.
        let before = parse(&data(ROLES, "")).unwrap();
        let cluster = ClusterArn::parse("arn:aws:eks:us-east-1:999999999999:cluster/prod").unwrap();
        let known = known_accounts(&before, None, Some(&cluster));
        let own: Arn = "arn:aws:iam::999999999999:user/eve".parse().unwrap();
        assert!(account_check(&own, &known, false).is_ok());
        // An account aws-auth already maps, but not the cluster's: refused, with the cluster named.
        let mapped: Arn = "arn:aws:iam::123456789012:user/bob".parse().unwrap();
        let err = account_check(&mapped, &known, false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`arn:aws:iam::123456789012:user/bob` is in account 123456789012, but the cluster \
             `arn:aws:eks:us-east-1:999999999999:cluster/prod` is in account 999999999999\n\n\
             hint: aws-auth can map a principal of another account, but that is rarely what is \
             meant: check the ARN, or pass --force for a cross-account principal"
        );
        assert!(account_check(&mapped, &known, true).is_ok());
        let gov: Arn = "arn:aws-us-gov:iam::999999999999:user/eve".parse().unwrap();
        assert!(matches!(
            account_check(&gov, &known, false),
            Err(PlanError::OtherClusterPartition { .. })
        ));
    }

    #[test]
    fn malformed_aws_auth_is_refused_with_its_position() {
        let err = parse(&data("- rolearn: [unclosed\n", "")).unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("ConfigMap `kube-system/aws-auth` was left untouched: `mapRoles`"),
            "{text}"
        );
        assert!(text.contains("line "), "{text}");
    }

    #[test]
    fn groups_in_use_collects_all_lists() {
        let before = parse(&data(
            ROLES,
            "- userarn: arn:aws:iam::123456789012:user/bob\n  username: b\n  groups: [reader]\n",
        ))
        .unwrap();
        assert_eq!(
            groups_in_use(&before).into_iter().collect::<Vec<_>>(),
            [
                "reader",
                "system:bootstrappers",
                "system:masters",
                "system:nodes"
            ]
        );
    }
}
