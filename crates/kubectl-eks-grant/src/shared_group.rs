//! Pure: the shared-group check. A grant must never change what anyone else may do: a group
//! of the grant that other principals of the store already hold, bound more widely by the grant,
//! widens their access too. Default groups (one per preset and scope) never trigger it; a group
//! the user named may.

use std::collections::BTreeSet;

use eks_auth::arn::Arn;
use eks_auth::aws_auth::AwsAuth;
use eks_auth::rbac::Preset;

use crate::request::Grant;

/// A group of the grant that other principals already hold, and what they would gain with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedGroup {
    pub group: String,
    /// The other principals whose aws-auth entries hand out the group (ARN or SSO pattern).
    pub holders: Vec<String>,
    /// What the grant's new or changed bindings would give everyone in the group, e.g.
    /// ``view in every namespace (ClusterRoleBinding `eks-grant:readers:view`)``.
    pub gains: Vec<String>,
    /// The group to use instead: the preset's own for the scope, which means only this grant.
    pub instead: String,
}

pub fn message(shared: &[SharedGroup]) -> String {
    let mut out =
        String::from("refused, nothing was written: this grant would change what others may do:");
    for s in shared {
        let holders = s
            .holders
            .iter()
            .map(|h| format!("`{h}`"))
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str(&format!(
            "\n  - group `{}` is also held by {holders}, who would gain {}",
            s.group,
            s.gains.join(" and ")
        ));
    }
    let instead = shared
        .iter()
        .map(|s| format!("`{}`", s.instead))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect::<Vec<_>>()
        .join(", ");
    out.push_str(&format!(
        "\n\nhint: leave out --group to grant through the preset's own group for this scope ({instead}), which nobody else holds with another meaning; or pass --force to widen the group for everyone in it"
    ));
    out
}

/// Whether an aws-auth ARN names `principal` (compared as the authenticator compares: without
/// case), in any of its spellings.
fn names_principal(arn: &str, spellings: &[&Arn]) -> bool {
    spellings
        .iter()
        .any(|p| arn.eq_ignore_ascii_case(&p.to_string()))
}

/// Every principal of aws-auth, other than `spellings`, whose entry hands out `group`.
pub fn other_holders(aws_auth: &AwsAuth, group: &str, spellings: &[&Arn]) -> Vec<String> {
    let mut holders = BTreeSet::new();
    for r in aws_auth.roles() {
        if r.groups.iter().any(|g| g == group) && !names_principal(&r.rolearn, spellings) {
            holders.insert(if r.rolearn.is_empty() {
                r.key()
            } else {
                r.rolearn.clone()
            });
        }
    }
    for u in aws_auth.users() {
        if u.groups.iter().any(|g| g == group) && !names_principal(&u.userarn, spellings) {
            holders.insert(u.userarn.clone());
        }
    }
    holders.into_iter().collect()
}

/// A binding the grant creates or changes, as the shared-group check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewBinding {
    /// `ClusterRoleBinding` or `RoleBinding`.
    pub kind: &'static str,
    pub name: String,
    /// The namespace of a RoleBinding.
    pub namespace: Option<String>,
    /// The group it binds.
    pub group: String,
}

/// The shared-group check: a grant must never change what anyone else may do. For each group of
/// the grant that another principal of aws-auth already holds, the bindings the grant would
/// create or change for that group are a widening of that principal's access. Groups nobody else
/// holds, and bindings that already exist as they are, change nothing for anyone else.
/// The principal of a grant as mapped, and as typed (a role with its path, an assumed-role
/// session): every spelling of it in a store.
pub fn spellings(grant: &Grant) -> Vec<Arn> {
    std::iter::once(grant.principal.clone())
        .chain(grant.given.trim().parse::<Arn>().ok())
        .collect()
}

/// `other_holders(group)`: the principals of the store(s), other than the grant's own, that hold
/// `group` (for aws-auth, [`other_holders`]); `groups` and `namespaces`: the grant's.
pub fn shared_groups(
    other_holders: impl Fn(&str) -> Vec<String>,
    groups: &[String],
    namespaces: &[String],
    preset: &Preset,
    new_bindings: &[NewBinding],
) -> Vec<SharedGroup> {
    let mut out = Vec::new();
    for group in groups {
        let gains: Vec<String> = new_bindings
            .iter()
            .filter(|b| &b.group == group)
            .map(|b| {
                let scope = match (&b.namespace, preset.namespaced) {
                    (Some(ns), _) => format!("in namespace `{ns}`"),
                    (None, true) => "in every namespace".to_owned(),
                    (None, false) => "cluster-wide".to_owned(),
                };
                let at = b
                    .namespace
                    .as_ref()
                    .map(|ns| format!("{ns}/"))
                    .unwrap_or_default();
                format!("{} {scope} ({} `{at}{}`)", preset.name, b.kind, b.name)
            })
            .collect();
        if gains.is_empty() {
            continue;
        }
        let holders = other_holders(group);
        if holders.is_empty() {
            continue;
        }
        out.push(SharedGroup {
            group: group.clone(),
            holders,
            gains,
            instead: preset.default_group(namespaces),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn grant(arn: &str, username: &str, groups: &[&str], force: bool) -> Grant {
        Grant::for_test(arn, username, groups, force)
    }

    const ROLES: &str = "- rolearn: arn:aws:iam::123456789012:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups:\n    - system:bootstrappers\n    - system:nodes\n";

    fn parse(map_roles: &str, map_users: &str) -> AwsAuth {
        AwsAuth::parse(&BTreeMap::from([
            ("mapRoles".to_owned(), map_roles.to_owned()),
            ("mapUsers".to_owned(), map_users.to_owned()),
        ]))
        .unwrap()
    }

    #[test]
    fn shared_groups_name_the_other_holders_and_what_they_gain() {
        let users = "- userarn: arn:aws:iam::123456789012:user/Bob\n  username: bob\n  groups: [readers]\n- userarn: arn:aws:iam::123456789012:user/dev\n  username: d\n  groups: [readers]\n";
        let roles = format!(
            "{ROLES}- rolearn: arn:aws:iam::123456789012:role/ops\n  username: ops\n  groups: [readers]\n"
        );
        let before = parse(&roles, users);
        let mut g = grant(
            "arn:aws:iam::123456789012:user/bob",
            "bob",
            &["readers"],
            false,
        );
        g.namespaces = vec!["team-b".to_owned()];
        let view = eks_auth::rbac::preset("view").unwrap();
        let binding = NewBinding {
            kind: "RoleBinding",
            name: "eks-grant:readers:view".to_owned(),
            namespace: Some("team-b".to_owned()),
            group: "readers".to_owned(),
        };
        // bob himself (in another case) is not an "other" holder.
        let spelled = spellings(&g);
        let holders =
            |group: &str| other_holders(&before, group, &spelled.iter().collect::<Vec<_>>());
        let shared = shared_groups(
            holders,
            &g.groups,
            &g.namespaces,
            &view,
            std::slice::from_ref(&binding),
        );
        assert_eq!(
            shared,
            [SharedGroup {
                group: "readers".to_owned(),
                holders: vec![
                    "arn:aws:iam::123456789012:role/ops".to_owned(),
                    "arn:aws:iam::123456789012:user/dev".to_owned()
                ],
                gains: vec![
                    "view in namespace `team-b` (RoleBinding `team-b/eks-grant:readers:view`)"
                        .to_owned()
                ],
                instead: "eks-grant:view@team-b".to_owned(),
            }]
        );
        // Nothing new bound: nothing widened.
        assert!(shared_groups(holders, &g.groups, &g.namespaces, &view, &[]).is_empty());
        // A group nobody else holds: nothing widened.
        let mut own = g.clone();
        own.groups = vec!["bobs".to_owned()];
        let mut b = binding.clone();
        b.group = "bobs".to_owned();
        assert!(shared_groups(holders, &own.groups, &own.namespaces, &view, &[b]).is_empty());
    }
}
