//! Pure: which Kubernetes user an AWS identity becomes on a cluster, over both stores, with
//! EKS's precedence.
//!
//! - `CONFIG_MAP`: the cluster creator's implicit admin, then aws-auth ([`crate::mapping`]).
//! - `API_AND_CONFIG_MAP`: the caller's access entry, else aws-auth (an entry wins over an
//!   aws-auth entry for the same principal; EKS user guide, "Migrating existing aws-auth
//!   ConfigMap entries to access entries": "the settings for the access entry for the IAM
//!   principal ARN override the ConfigMap entry"). The creator
//!   has no implicit admin any more: EKS gave it an access entry when access entries were
//!   turned on (or at creation, with `bootstrapClusterCreatorAdminPermissions`).
//! - `API`: access entries only; aws-auth is ignored.
//!
//! Matching an entry: EKS keeps the principal's unique id (`AIDA...` for a user, `AROA...` for a
//! role) and compares it with the id STS reports for the caller (GetCallerIdentity `UserId`,
//! before the `:` of an assumed role), so a pathed role matches its full-ARN entry and a
//! principal recreated under the same ARN does not match its old entry (EKS API reference,
//! `AccessEntry.principalArn`). When the entry's id is not known (entries read through the EKS
//! API, which does not return it), this module matches on account, kind and name instead and
//! says so in [`EntryMatch::ByArn`].

use crate::arn::{Arn, PrincipalKind};
use crate::aws_auth::AwsAuth;
use crate::mapping::{self, Identity, MapOptions, MappingError, MappingSource};

use super::entry::{AccessEntry, PolicyAssociation};
use super::mode::AuthenticationMode;

/// How the caller was matched to an access entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryMatch {
    /// The entry's stored unique id equals the caller's: exactly what EKS does.
    ById,
    /// The entry's id is unknown; the ARNs name the same account, kind and name (the role's
    /// path ignored, names compared without case as IAM does). EKS would refuse the caller if
    /// the principal had been recreated since the entry was made, which an ARN cannot tell.
    ByArn,
}

/// Where the Kubernetes identity came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessSource {
    /// An access entry; `index` is its position in the entries given to [`resolve`].
    AccessEntry {
        index: usize,
        principal_arn: Arn,
        matched: EntryMatch,
    },
    /// aws-auth or the cluster creator (`CONFIG_MAP` and `API_AND_CONFIG_MAP` only).
    AwsAuth(MappingSource),
}

/// Something that also concerns the caller but does not count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ignored {
    /// An aws-auth entry behind the caller's access entry (`API_AND_CONFIG_MAP`).
    AwsAuthBehindAccessEntry(MappingSource),
    /// An aws-auth entry (or the creator's implicit admin) that the mode ignores (`API`).
    AwsAuthIgnoredByMode(MappingSource),
    /// Access entries exist but the mode (`CONFIG_MAP`) does not read them.
    AccessEntryIgnoredByMode { index: usize },
    /// An entry for the caller's ARN whose stored id is another principal's: the principal was
    /// deleted and recreated after the entry was made. Delete and recreate the entry.
    StalePrincipalId {
        index: usize,
        entry_id: String,
        caller_id: String,
    },
}

/// The Kubernetes identity and where it came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub username: String,
    /// The groups, before kube-apiserver adds `system:authenticated`.
    pub groups: Vec<String>,
    /// The username as stored, before templates were filled in.
    pub username_template: String,
    pub source: AccessSource,
    /// The access policies of the matched entry (empty for aws-auth).
    pub policies: Vec<PolicyAssociation>,
    /// For an aws-auth source: the aws-auth entries that also match but are not used (see
    /// [`crate::mapping::Mapped::shadowed`]).
    pub shadowed: Vec<MappingSource>,
}

/// The answer of [`resolve`]: `resolved` is `None` when the caller is not let in (401).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub resolved: Option<Resolved>,
    pub ignored: Vec<Ignored>,
}

/// The unique id part of a GetCallerIdentity `UserId`: `AROA...:session` -> `AROA...`.
pub fn principal_id(user_id: &str) -> &str {
    user_id.split(':').next().unwrap_or(user_id)
}

/// Whether an entry's principal and the caller's ARN name the same IAM user or role (account,
/// kind and name; a role's path and an assumed role's session do not count).
pub fn same_principal(entry: &Arn, caller: &Arn) -> bool {
    let caller = caller.canonical();
    entry.partition() == caller.partition()
        && entry.account() == caller.account()
        && entry.kind() == caller.kind()
        && matches!(entry.kind(), PrincipalKind::User | PrincipalKind::Role)
        && entry.name().eq_ignore_ascii_case(caller.name())
}

/// The entry the caller matches, with how, and the stale entries met on the way.
fn find_entry(
    identity: &Identity,
    entries: &[AccessEntry],
) -> (Option<(usize, EntryMatch)>, Vec<Ignored>) {
    let caller_id = principal_id(&identity.user_id);
    let mut stale = Vec::new();
    // By id first: that is EKS's own key.
    if let Some(i) = entries
        .iter()
        .position(|e| e.principal_id.as_deref() == Some(caller_id))
    {
        return (Some((i, EntryMatch::ById)), stale);
    }
    for (i, e) in entries.iter().enumerate() {
        if !same_principal(&e.principal_arn, &identity.arn) {
            continue;
        }
        match &e.principal_id {
            None => return (Some((i, EntryMatch::ByArn)), stale),
            Some(id) => stale.push(Ignored::StalePrincipalId {
                index: i,
                entry_id: id.clone(),
                caller_id: caller_id.to_owned(),
            }),
        }
    }
    (None, stale)
}

/// Resolve `identity` on a cluster in `mode` with these access entries, this aws-auth and this
/// creator (`cluster_creator` counts in `CONFIG_MAP` only). Errors are the authenticator's:
/// a template that cannot be filled in, or a malformed user id.
pub fn resolve(
    identity: &Identity,
    mode: AuthenticationMode,
    entries: &[AccessEntry],
    aws_auth: &AwsAuth,
    cluster_creator: Option<&Arn>,
    options: &MapOptions,
) -> Result<Resolution, MappingError> {
    let mut ignored = Vec::new();
    let (found, stale) = if mode.uses_access_entries() {
        find_entry(identity, entries)
    } else {
        let (found, _) = find_entry(identity, entries);
        if let Some((index, _)) = found {
            ignored.push(Ignored::AccessEntryIgnoredByMode { index });
        }
        (None, Vec::new())
    };
    ignored.extend(stale);

    let creator = if mode == AuthenticationMode::ConfigMap {
        cluster_creator
    } else {
        None
    };
    let from_aws_auth = mapping::map_identity_with(identity, aws_auth, creator, options)?;

    if let Some((index, matched)) = found {
        let entry = &entries[index];
        if let Some(m) = from_aws_auth {
            ignored.push(Ignored::AwsAuthBehindAccessEntry(m.source));
        }
        let username = mapping::render_template(&entry.username, identity, options)?;
        return Ok(Resolution {
            resolved: Some(Resolved {
                username,
                groups: entry.groups(),
                username_template: entry.username.clone(),
                source: AccessSource::AccessEntry {
                    index,
                    principal_arn: entry.principal_arn.clone(),
                    matched,
                },
                policies: entry.policies.clone(),
                shadowed: Vec::new(),
            }),
            ignored,
        });
    }

    match from_aws_auth {
        Some(m) if mode.uses_aws_auth() => Ok(Resolution {
            resolved: Some(Resolved {
                username: m.username,
                groups: m.groups,
                username_template: m.username_template,
                source: AccessSource::AwsAuth(m.source),
                policies: Vec::new(),
                shadowed: m.shadowed,
            }),
            ignored,
        }),
        Some(m) => {
            ignored.push(Ignored::AwsAuthIgnoredByMode(m.source));
            Ok(Resolution {
                resolved: None,
                ignored,
            })
        }
        None => {
            // Outside CONFIG_MAP the creator's implicit admin is gone (its access entry, if any,
            // replaced it): say so if the caller is the creator.
            if mode != AuthenticationMode::ConfigMap
                && cluster_creator.is_some_and(|c| same_principal(&c.canonical(), &identity.arn))
            {
                ignored.push(Ignored::AwsAuthIgnoredByMode(MappingSource::ClusterCreator));
            }
            Ok(Resolution {
                resolved: None,
                ignored,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::access::entry::{AccessEntryType, AccessScope};
    use crate::access::policies::policy_arn;

    const ACCOUNT: &str = "111122223333";

    fn aws_auth(roles: &str) -> AwsAuth {
        let mut data = BTreeMap::new();
        data.insert("mapRoles".to_owned(), roles.to_owned());
        AwsAuth::parse(&data).unwrap()
    }

    fn role_caller(role: &str, id: &str, session: &str) -> Identity {
        Identity {
            arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}")
                .parse()
                .unwrap(),
            account: ACCOUNT.to_owned(),
            user_id: format!("{id}:{session}"),
            access_key_id: "ASIAEXAMPLE".to_owned(),
        }
    }

    fn user_caller(name: &str, id: &str) -> Identity {
        Identity {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}")
                .parse()
                .unwrap(),
            account: ACCOUNT.to_owned(),
            user_id: id.to_owned(),
            access_key_id: "AKIAEXAMPLE".to_owned(),
        }
    }

    fn entry(arn: &str, id: Option<&str>) -> AccessEntry {
        let mut e = AccessEntry::standard(arn.parse().unwrap());
        e.principal_id = id.map(str::to_owned);
        e
    }

    fn run(
        caller: &Identity,
        mode: AuthenticationMode,
        entries: &[AccessEntry],
        auth: &AwsAuth,
        creator: Option<&Arn>,
    ) -> Resolution {
        resolve(caller, mode, entries, auth, creator, &MapOptions::default()).unwrap()
    }

    const DEV_MAPPING: &str = "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: from-aws-auth\n  groups: [cm]\n";

    #[test]
    fn precedence_by_mode() {
        let caller = role_caller("dev", "AROADEV", "alice@corp");
        let mut e = entry("arn:aws:iam::111122223333:role/team/dev", Some("AROADEV"));
        e.kubernetes_groups = vec!["from-entry".into()];
        e.policies.push(PolicyAssociation {
            policy_arn: policy_arn("aws", "AmazonEKSViewPolicy"),
            scope: AccessScope::Cluster,
        });
        let entries = [e];
        let auth = aws_auth(DEV_MAPPING);

        // CONFIG_MAP: aws-auth; the entry does not count.
        let r = run(
            &caller,
            AuthenticationMode::ConfigMap,
            &entries,
            &auth,
            None,
        );
        let got = r.resolved.unwrap();
        assert_eq!(got.username, "from-aws-auth");
        assert_eq!(
            got.source,
            AccessSource::AwsAuth(MappingSource::Role { index: 0 })
        );
        assert!(got.policies.is_empty());
        assert_eq!(r.ignored, [Ignored::AccessEntryIgnoredByMode { index: 0 }]);

        // API_AND_CONFIG_MAP: the entry wins; the default username drops the path and renders
        // the session name as the authenticator does (`@` -> `-`).
        let r = run(
            &caller,
            AuthenticationMode::ApiAndConfigMap,
            &entries,
            &auth,
            None,
        );
        let got = r.resolved.unwrap();
        assert_eq!(
            got.username,
            "arn:aws:sts::111122223333:assumed-role/dev/alice-corp"
        );
        assert_eq!(got.groups, ["from-entry"]);
        assert_eq!(got.policies.len(), 1);
        assert!(matches!(
            got.source,
            AccessSource::AccessEntry {
                index: 0,
                matched: EntryMatch::ById,
                ..
            }
        ));
        assert_eq!(
            r.ignored,
            [Ignored::AwsAuthBehindAccessEntry(MappingSource::Role {
                index: 0
            })]
        );

        // API: aws-auth alone lets nobody in.
        let r = run(&caller, AuthenticationMode::Api, &[], &auth, None);
        assert_eq!(r.resolved, None);
        assert_eq!(
            r.ignored,
            [Ignored::AwsAuthIgnoredByMode(MappingSource::Role {
                index: 0
            })]
        );
        // API_AND_CONFIG_MAP without an entry falls back to aws-auth.
        let r = run(
            &caller,
            AuthenticationMode::ApiAndConfigMap,
            &[],
            &auth,
            None,
        );
        assert_eq!(r.resolved.unwrap().username, "from-aws-auth");
    }

    #[test]
    fn a_recreated_principal_no_longer_matches() {
        let caller = user_caller("bob", "AIDANEW");
        let entries = [entry("arn:aws:iam::111122223333:user/bob", Some("AIDAOLD"))];
        let r = run(
            &caller,
            AuthenticationMode::Api,
            &entries,
            &aws_auth(""),
            None,
        );
        assert_eq!(r.resolved, None);
        assert_eq!(
            r.ignored,
            [Ignored::StalePrincipalId {
                index: 0,
                entry_id: "AIDAOLD".into(),
                caller_id: "AIDANEW".into()
            }]
        );
        // Without a stored id (entries read through the EKS API), the ARN decides.
        let entries = [entry("arn:aws:iam::111122223333:user/bob", None)];
        let got = run(
            &caller,
            AuthenticationMode::Api,
            &entries,
            &aws_auth(""),
            None,
        )
        .resolved
        .unwrap();
        assert_eq!(got.username, "arn:aws:iam::111122223333:user/bob");
        assert!(matches!(
            got.source,
            AccessSource::AccessEntry {
                matched: EntryMatch::ByArn,
                ..
            }
        ));
        // Another user's entry never matches by ARN.
        let entries = [entry("arn:aws:iam::111122223333:user/bobby", None)];
        assert_eq!(
            run(
                &caller,
                AuthenticationMode::Api,
                &entries,
                &aws_auth(""),
                None
            )
            .resolved,
            None
        );
    }

    #[test]
    fn the_creator_only_in_config_map_and_node_entries() {
        let creator: Arn = "arn:aws:iam::111122223333:user/admin".parse().unwrap();
        let caller = user_caller("admin", "AIDAADMIN");
        let got = run(
            &caller,
            AuthenticationMode::ConfigMap,
            &[],
            &aws_auth(""),
            Some(&creator),
        )
        .resolved
        .unwrap();
        assert_eq!(got.groups, ["system:masters"]);
        let r = run(
            &caller,
            AuthenticationMode::Api,
            &[],
            &aws_auth(""),
            Some(&creator),
        );
        assert_eq!(r.resolved, None);
        assert_eq!(
            r.ignored,
            [Ignored::AwsAuthIgnoredByMode(MappingSource::ClusterCreator)]
        );

        let mut node = entry(
            "arn:aws:iam::111122223333:role/fargate",
            Some("AROAFARGATE"),
        );
        node.entry_type = AccessEntryType::FargateLinux;
        node.username = crate::access::default_username(&node.principal_arn, node.entry_type);
        let got = run(
            &role_caller("fargate", "AROAFARGATE", "fargate-ip-10-0-0-1"),
            AuthenticationMode::Api,
            &[node],
            &aws_auth(""),
            None,
        )
        .resolved
        .unwrap();
        assert_eq!(got.username, "system:node:fargate-ip-10-0-0-1");
        assert_eq!(
            got.groups,
            [
                "system:bootstrappers",
                "system:nodes",
                "system:node-proxier"
            ]
        );
    }

    #[test]
    fn same_principal_ignores_path_and_session_not_kind() {
        let role: Arn = "arn:aws:iam::111122223333:role/a/b/Dev".parse().unwrap();
        let session: Arn = "arn:aws:sts::111122223333:assumed-role/dev/x"
            .parse()
            .unwrap();
        assert!(same_principal(&role, &session));
        let user: Arn = "arn:aws:iam::111122223333:user/dev".parse().unwrap();
        assert!(!same_principal(&user, &session));
        let other: Arn = "arn:aws:sts::444455556666:assumed-role/dev/x"
            .parse()
            .unwrap();
        assert!(!same_principal(&role, &other));
        assert_eq!(principal_id("AROAX:session"), "AROAX");
        assert_eq!(principal_id("AIDAX"), "AIDAX");
    }
}
