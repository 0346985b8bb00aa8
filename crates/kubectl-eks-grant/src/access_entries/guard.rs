//! Pure: the lockout guard of the access-entry commands: what the entries would look like after
//! the calls, refused (unless `--force`) when nobody could administer the cluster any more or the
//! caller loses its own access.

use std::fmt;

use eks_auth::access::{AccessEntry, AccessScope, AuthenticationMode};
use eks_auth::arn::Arn;
use eks_auth::aws_auth::AwsAuth;

use super::calls::Call;

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
    use crate::access_entries::calls::apply_calls;
    use crate::access_entries::plan::{EntryRevoke, Principal, plan_revoke};
    use eks_auth::access::{PolicyAssociation, policies};

    const ROLE: &str = "arn:aws:iam::123456789012:role/team/dev";

    fn entry(arn: &str) -> AccessEntry {
        AccessEntry::standard(arn.parse().unwrap())
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
