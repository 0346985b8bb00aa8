//! Pure: the EKS side of the mapping. The cluster's authentication mode (DescribeCluster) and the
//! caller's access entry (DescribeAccessEntry, ListAssociatedAccessPolicies) turn the aws-auth
//! explanation of [`crate::mapping_view`] into the one EKS applies, by its precedence
//! ([`eks_auth::access::resolve`]):
//!
//! - `CONFIG_MAP`: aws-auth (and the cluster creator) only; access entries are not asked for.
//! - `API_AND_CONFIG_MAP`: the caller's access entry wins over an aws-auth entry for the same
//!   principal, which is then reported in `overrides`.
//! - `API`: the access entry only; a matching aws-auth entry is reported as ignored.
//!
//! When the mode or the entry cannot be read (the caller lacks `eks:DescribeCluster` or
//! `eks:DescribeAccessEntry`), what the API server says is used to infer the source, and the IAM
//! action that would confirm it is named.

use eks_auth::access::{
    self, AccessEntry, AccessScope, AccessSource, AuthenticationMode, Ignored, PolicyAssociation,
};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::mapping::{Identity, MapOptions};

use crate::mapping_view::{KubeUser, entry_view};
use crate::report::{
    AccessEntryView, AccessSection, EntryStatus, EntryView, MappingKind, MappingSection,
    Overridden, OverrideReason, PolicyView,
};

/// The IAM action that reads the mode.
pub const DESCRIBE_CLUSTER: &str = "eks:DescribeCluster";

/// What DescribeCluster gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModeLookup {
    Known(AuthenticationMode),
    /// AccessDenied: the caller lacks `eks:DescribeCluster`.
    Forbidden(String),
    Failed(String),
}

/// What the access-entry calls gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryLookup {
    /// Not asked: the mode does not use access entries, or is unknown.
    NotAsked,
    /// The caller's entry with its associated policies.
    Found(AccessEntry),
    /// No entry names the caller's principal.
    NotFound,
    /// AccessDenied on `action`.
    Forbidden {
        action: String,
        message: String,
    },
    Failed(String),
}

/// Everything [`apply`] needs.
#[derive(Debug, Clone, Copy)]
pub struct AccessFacts<'a> {
    pub cluster_name: &'a str,
    pub mode: &'a ModeLookup,
    pub entry: &'a EntryLookup,
    pub identity: Option<&'a Identity>,
    /// aws-auth, when it could be read (or is absent: empty).
    pub aws_auth: Option<&'a AwsAuth>,
    /// The user the API server reports; `None` when not authenticated.
    pub kube: Option<&'a KubeUser>,
}

/// The entry as the report shows it.
pub fn entry_view_of(entry: &AccessEntry) -> AccessEntryView {
    AccessEntryView {
        principal_arn: entry.principal_arn.to_string(),
        entry_type: entry.entry_type.as_str().to_owned(),
        username: entry.username.clone(),
        groups: entry.groups(),
        policies: entry.policies.iter().map(policy_view).collect(),
    }
}

pub fn policy_view(p: &PolicyAssociation) -> PolicyView {
    PolicyView {
        name: p.policy_name().to_owned(),
        arn: p.policy_arn.clone(),
        scope: p.scope.type_str().to_owned(),
        namespaces: match &p.scope {
            AccessScope::Cluster => Vec::new(),
            AccessScope::Namespaces(ns) => ns.clone(),
        },
    }
}

/// Whether the user is the API server's view of an access entry's default username (a user's
/// ARN, or a role's `assumed-role/NAME/SESSION`): what EKS gives an entry that sets none.
fn default_entry_username(kube: &KubeUser, identity: Option<&Identity>) -> bool {
    match identity {
        Some(id) => {
            kube.username == id.arn.to_string() || kube.username == id.canonical_arn().to_string()
        }
        None => kube.username.starts_with("arn:"),
    }
}

/// Rewrites `section` (the aws-auth explanation) with what the EKS side says.
pub fn apply(section: &mut MappingSection, f: &AccessFacts<'_>) {
    let mut access = AccessSection {
        cluster_name: f.cluster_name.to_owned(),
        ..AccessSection::default()
    };
    let mode = match f.mode {
        ModeLookup::Known(m) => {
            access.authentication_mode = Some(m.as_str().to_owned());
            Some(*m)
        }
        ModeLookup::Forbidden(msg) => {
            access.errors.push(format!(
                "the authentication mode of cluster `{}` could not be read: {msg}",
                f.cluster_name
            ));
            access.confirm_with.push(DESCRIBE_CLUSTER.to_owned());
            None
        }
        ModeLookup::Failed(msg) => {
            access.errors.push(format!(
                "the authentication mode of cluster `{}` could not be read: {msg}",
                f.cluster_name
            ));
            None
        }
    };
    access.entry_status = Some(match f.entry {
        EntryLookup::NotAsked => EntryStatus::NotAsked,
        EntryLookup::Found(e) => {
            access.entry = Some(entry_view_of(e));
            EntryStatus::Found
        }
        EntryLookup::NotFound => EntryStatus::NotFound,
        EntryLookup::Forbidden { action, message } => {
            access
                .errors
                .push(format!("your access entry could not be read: {message}"));
            access.confirm_with.push(action.clone());
            EntryStatus::Forbidden
        }
        EntryLookup::Failed(msg) => {
            access
                .errors
                .push(format!("your access entry could not be read: {msg}"));
            EntryStatus::Unavailable
        }
    });

    match (mode, f.entry, f.identity) {
        (Some(AuthenticationMode::ConfigMap), _, _) => {
            section.notes.push(
                "authentication mode CONFIG_MAP: only aws-auth and the cluster creator let anyone \
                 in; access entries are not used"
                    .to_owned(),
            );
        }
        (Some(mode), EntryLookup::Found(_) | EntryLookup::NotFound, Some(identity)) => {
            resolve_known(section, mode, f, identity);
        }
        (Some(mode), _, _) => infer(section, Some(mode), f, &mut access),
        (None, _, _) => infer(section, None, f, &mut access),
    }
    section.access = Some(access);
}

/// Mode and entry known: EKS's own precedence decides.
fn resolve_known(
    section: &mut MappingSection,
    mode: AuthenticationMode,
    f: &AccessFacts<'_>,
    identity: &Identity,
) {
    let empty = AwsAuth::empty();
    let doc = f.aws_auth.unwrap_or(&empty);
    let entries: Vec<AccessEntry> = match f.entry {
        EntryLookup::Found(e) => vec![e.clone()],
        _ => Vec::new(),
    };
    let canonical = identity.canonical_arn();
    let resolution =
        match access::resolve(identity, mode, &entries, doc, None, &MapOptions::default()) {
            Ok(r) => r,
            Err(err) => {
                section
                    .notes
                    .push(format!("EKS would refuse this identity's mapping: {err}"));
                return;
            }
        };
    for ignored in &resolution.ignored {
        let (source, reason) = match ignored {
            Ignored::AwsAuthBehindAccessEntry(s) => (s, OverrideReason::BehindAccessEntry),
            Ignored::AwsAuthIgnoredByMode(s) => (s, OverrideReason::IgnoredByMode),
            Ignored::AccessEntryIgnoredByMode { .. } | Ignored::StalePrincipalId { .. } => {
                continue;
            }
        };
        // aws-auth entries are only known when aws-auth was read.
        if f.aws_auth.is_some() || *source == eks_auth::mapping::MappingSource::ClusterCreator {
            section.overrides.push(Overridden {
                entry: entry_view(source, doc, &canonical),
                reason,
            });
        }
    }
    match resolution.resolved {
        Some(r) if matches!(r.source, AccessSource::AccessEntry { .. }) => {
            let EntryLookup::Found(entry) = f.entry else {
                return;
            };
            section.source = MappingKind::AccessEntry;
            section.entry = Some(EntryView {
                key: "access-entry".to_owned(),
                position: None,
                arn: Some(entry.principal_arn.to_string()),
                username: Some(entry.username.clone()),
                groups: entry.groups(),
            });
            section.shadowed.clear();
            section.inferred.clear();
            section.username = Some(r.username.clone());
            section.groups = r.groups.clone();
            section.agrees = f
                .kube
                .map(|k| k.username == r.username && r.groups.iter().all(|g| k.groups.contains(g)));
            // The aws-auth explanation's notes spoke of aws-auth as the source: drop them.
            section.notes.clear();
            if section.agrees == Some(false)
                && let Some(k) = f.kube
            {
                section.notes.push(format!(
                    "your access entry makes you `{}`, but the API server knows you as `{}`",
                    r.username, k.username
                ));
            }
            if section
                .overrides
                .iter()
                .any(|o| o.reason == OverrideReason::BehindAccessEntry)
            {
                section.notes.push(
                    "in API_AND_CONFIG_MAP mode the access entry for a principal wins over its \
                     aws-auth entry"
                        .to_owned(),
                );
            }
        }
        Some(_) => {
            if mode == AuthenticationMode::ApiAndConfigMap {
                section.notes.push(
                    "authentication mode API_AND_CONFIG_MAP and no access entry for you: aws-auth \
                     decides"
                        .to_owned(),
                );
            }
        }
        None => {
            if f.kube.is_none() {
                section.source = MappingKind::None;
                section.entry = None;
                section.shadowed.clear();
            }
            if mode == AuthenticationMode::Api {
                section.notes.push(
                    "authentication mode API: only access entries let anyone in, and none names \
                     you; aws-auth is ignored"
                        .to_owned(),
                );
            }
        }
    }
}

/// Mode or entry unknown: what the API server's answer says.
fn infer(
    section: &mut MappingSection,
    mode: Option<AuthenticationMode>,
    f: &AccessFacts<'_>,
    access: &mut AccessSection,
) {
    let Some(kube) = f.kube else {
        return;
    };
    let aws_auth_explains = matches!(
        section.source,
        MappingKind::MapRoles
            | MappingKind::MapUsers
            | MappingKind::MapAccounts
            | MappingKind::ClusterCreator
    ) && section.agrees == Some(true);
    let confirm = access
        .confirm_with
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(" and ");
    let confirm = if confirm.is_empty() {
        String::new()
    } else {
        format!(" (confirm with {confirm})")
    };
    match mode {
        Some(AuthenticationMode::Api) => {
            section.source = MappingKind::AccessEntry;
            section.inferred.push(format!(
                "authentication mode API lets only access entries in, and the API server \
                 authenticated you: an access entry for your principal{confirm}"
            ));
            if aws_auth_explains && let Some(entry) = section.entry.take() {
                section.overrides.push(Overridden {
                    entry,
                    reason: OverrideReason::IgnoredByMode,
                });
            }
        }
        Some(AuthenticationMode::ApiAndConfigMap) if aws_auth_explains => {
            section.inferred.push(format!(
                "aws-auth explains your identity, but an access entry for your principal would \
                 win over it in API_AND_CONFIG_MAP mode{confirm}"
            ));
        }
        _ if !aws_auth_explains && default_entry_username(kube, f.identity) => {
            section.source = MappingKind::AccessEntry;
            section.inferred.push(format!(
                "your username is the one EKS gives an access entry that sets none, and aws-auth \
                 does not explain it: an access entry{confirm}"
            ));
        }
        _ if !aws_auth_explains && section.source == MappingKind::Other => {
            section.inferred.push(format!(
                "aws-auth does not explain your identity: an access entry{confirm}"
            ));
        }
        _ => {}
    }
    if mode.is_none() && !access.confirm_with.is_empty() {
        access
            .confirm_with
            .retain(|a| a.as_str() == DESCRIBE_CLUSTER);
    }
}

/// A line for the SOURCE row: `access entry arn:... (STANDARD) -> username U, groups a, b`.
pub fn entry_line(e: &AccessEntryView) -> String {
    let mut s = format!(
        "access entry {} ({}) -> username {}",
        e.principal_arn, e.entry_type, e.username
    );
    if !e.groups.is_empty() {
        s.push_str(&format!(", groups {}", e.groups.join(", ")));
    }
    s
}

/// A line for the POLICIES row: `AmazonEKSViewPolicy (cluster)`,
/// `AmazonEKSEditPolicy (namespaces dev-*, qa)`.
pub fn policy_line(p: &PolicyView) -> String {
    if p.namespaces.is_empty() {
        format!("{} ({})", p.name, p.scope)
    } else {
        format!("{} (namespaces {})", p.name, p.namespaces.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use eks_auth::access::policies::policy_arn;

    use super::*;
    use crate::mapping_view::{AwsAuthInput, explain};
    use crate::report::AwsAuthStatus;

    const ACCOUNT: &str = "111122223333";

    fn user(name: &str) -> Identity {
        Identity {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}")
                .parse()
                .unwrap(),
            account: ACCOUNT.to_owned(),
            user_id: "AIDAEXAMPLE".to_owned(),
            access_key_id: "AKIAEXAMPLE".to_owned(),
        }
    }

    fn aws_auth_users(users: &str) -> AwsAuth {
        let mut data = BTreeMap::new();
        data.insert("mapUsers".to_owned(), users.to_owned());
        AwsAuth::parse(&data).unwrap()
    }

    fn viewer_entry(name: &str) -> AccessEntry {
        let mut e = AccessEntry::standard(
            format!("arn:aws:iam::{ACCOUNT}:user/{name}")
                .parse()
                .unwrap(),
        );
        e.policies.push(PolicyAssociation {
            policy_arn: policy_arn("aws", "AmazonEKSViewPolicy"),
            scope: AccessScope::Cluster,
        });
        e
    }

    fn kube(username: &str, groups: &[&str]) -> KubeUser {
        KubeUser {
            username: username.to_owned(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            session_name: None,
        }
    }

    fn run(
        id: &Identity,
        doc: Option<&AwsAuth>,
        k: Option<&KubeUser>,
        mode: ModeLookup,
        entry: EntryLookup,
    ) -> MappingSection {
        let input = match doc {
            Some(d) => AwsAuthInput::Read(d),
            None => AwsAuthInput::Forbidden,
        };
        let mut section = explain(Some(id), input, k);
        apply(
            &mut section,
            &AccessFacts {
                cluster_name: "prod",
                mode: &mode,
                entry: &entry,
                identity: Some(id),
                aws_auth: doc,
                kube: k,
            },
        );
        section
    }

    #[test]
    fn an_access_entry_with_a_view_policy_is_the_source() {
        let id = user("viewer");
        let arn = id.arn.to_string();
        let k = kube(&arn, &["system:authenticated"]);
        let s = run(
            &id,
            Some(&AwsAuth::empty()),
            Some(&k),
            ModeLookup::Known(AuthenticationMode::Api),
            EntryLookup::Found(viewer_entry("viewer")),
        );
        assert_eq!(s.source, MappingKind::AccessEntry);
        assert_eq!(s.agrees, Some(true));
        assert_eq!(s.username.as_deref(), Some(arn.as_str()));
        let access = s.access.unwrap();
        assert_eq!(access.authentication_mode.as_deref(), Some("API"));
        assert_eq!(access.entry_status, Some(EntryStatus::Found));
        let entry = access.entry.unwrap();
        assert_eq!(entry.principal_arn, arn);
        assert_eq!(entry.entry_type, "STANDARD");
        assert_eq!(entry.policies[0].name, "AmazonEKSViewPolicy");
        assert_eq!(entry.policies[0].scope, "cluster");
        assert!(s.overrides.is_empty());
    }

    #[test]
    fn the_entry_wins_over_aws_auth_in_api_and_config_map() {
        let id = user("both");
        let doc = aws_auth_users(&format!(
            "- userarn: {}\n  username: from-aws-auth\n  groups: [cm]\n",
            id.arn
        ));
        let k = kube(&id.arn.to_string(), &["system:authenticated"]);
        let s = run(
            &id,
            Some(&doc),
            Some(&k),
            ModeLookup::Known(AuthenticationMode::ApiAndConfigMap),
            EntryLookup::Found(viewer_entry("both")),
        );
        assert_eq!(s.source, MappingKind::AccessEntry);
        assert_eq!(s.overrides.len(), 1);
        assert_eq!(s.overrides[0].reason, OverrideReason::BehindAccessEntry);
        assert_eq!(s.overrides[0].entry.key, "mapUsers");
        assert_eq!(
            s.overrides[0].entry.username.as_deref(),
            Some("from-aws-auth")
        );
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("wins over its aws-auth entry"))
        );
    }

    #[test]
    fn api_mode_ignores_aws_auth_and_lets_nobody_in_without_an_entry() {
        let id = user("old");
        let doc = aws_auth_users(&format!(
            "- userarn: {}\n  username: old\n  groups: [cm]\n",
            id.arn
        ));
        let s = run(
            &id,
            Some(&doc),
            None,
            ModeLookup::Known(AuthenticationMode::Api),
            EntryLookup::NotFound,
        );
        assert_eq!(s.source, MappingKind::None);
        assert_eq!(s.overrides[0].reason, OverrideReason::IgnoredByMode);
        assert_eq!(s.overrides[0].entry.username.as_deref(), Some("old"));
        assert_eq!(s.access.unwrap().entry_status, Some(EntryStatus::NotFound));
    }

    #[test]
    fn api_and_config_map_without_entry_keeps_aws_auth() {
        let id = user("cm");
        let doc = aws_auth_users(&format!(
            "- userarn: {}\n  username: cm\n  groups: [g]\n",
            id.arn
        ));
        let k = kube("cm", &["g", "system:authenticated"]);
        let s = run(
            &id,
            Some(&doc),
            Some(&k),
            ModeLookup::Known(AuthenticationMode::ApiAndConfigMap),
            EntryLookup::NotFound,
        );
        assert_eq!(s.source, MappingKind::MapUsers);
        assert!(s.overrides.is_empty());
        assert!(s.notes.iter().any(|n| n.contains("aws-auth decides")));
    }

    #[test]
    fn an_unreadable_entry_is_inferred_with_the_action_to_confirm() {
        let id = user("viewer");
        let k = kube(&id.arn.to_string(), &["system:authenticated"]);
        let s = run(
            &id,
            None,
            Some(&k),
            ModeLookup::Known(AuthenticationMode::Api),
            EntryLookup::Forbidden {
                action: "eks:DescribeAccessEntry".to_owned(),
                message: "AccessDeniedException: not authorized".to_owned(),
            },
        );
        assert_eq!(s.source, MappingKind::AccessEntry);
        assert!(
            s.inferred
                .iter()
                .any(|i| i.contains("(confirm with `eks:DescribeAccessEntry`)")),
            "{:?}",
            s.inferred
        );
        let access = s.access.unwrap();
        assert_eq!(access.entry_status, Some(EntryStatus::Forbidden));
        assert_eq!(access.confirm_with, ["eks:DescribeAccessEntry"]);

        // Mode unknown too: the default username gives it away.
        let s = run(
            &id,
            Some(&AwsAuth::empty()),
            Some(&k),
            ModeLookup::Forbidden("AccessDeniedException".to_owned()),
            EntryLookup::NotAsked,
        );
        assert_eq!(s.source, MappingKind::AccessEntry);
        assert_eq!(s.access.unwrap().confirm_with, ["eks:DescribeCluster"]);
    }

    #[test]
    fn config_map_mode_changes_nothing() {
        let id = user("cm");
        let doc = aws_auth_users(&format!(
            "- userarn: {}\n  username: cm\n  groups: [g]\n",
            id.arn
        ));
        let k = kube("cm", &["g", "system:authenticated"]);
        let s = run(
            &id,
            Some(&doc),
            Some(&k),
            ModeLookup::Known(AuthenticationMode::ConfigMap),
            EntryLookup::NotAsked,
        );
        assert_eq!(s.source, MappingKind::MapUsers);
        assert_eq!(
            s.access.as_ref().unwrap().authentication_mode.as_deref(),
            Some("CONFIG_MAP")
        );
        assert_eq!(AwsAuthStatus::Read, s.aws_auth);
    }
}
