//! Pure: which source made the Kubernetes identity, from the AWS identity, aws-auth (when it
//! could be read) and what the API server says the user is.

use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::mapping::{self, CLUSTER_CREATOR_USERNAME, Identity, Mapped, MappingSource};

use crate::report::{AwsAuthStatus, EntryView, MappingKind, MappingSection};

const SYSTEM_MASTERS: &str = "system:masters";
const SYSTEM_AUTHENTICATED: &str = "system:authenticated";

/// What became of reading aws-auth.
#[derive(Debug, Clone, Copy)]
pub enum AwsAuthInput<'a> {
    Read(&'a AwsAuth),
    Absent,
    Forbidden,
    Unavailable,
}

/// The user as the API server reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeUser {
    pub username: String,
    pub groups: Vec<String>,
    pub session_name: Option<String>,
}

pub fn entry_view(source: &MappingSource, aws_auth: &AwsAuth, canonical: &Arn) -> EntryView {
    match source {
        MappingSource::Role { index } => {
            let r = &aws_auth.roles()[*index];
            let arn = if r.rolearn.is_empty() {
                r.sso.as_ref().map(|s| s.pattern())
            } else {
                Some(r.rolearn.clone())
            };
            EntryView {
                key: "mapRoles".to_owned(),
                position: Some(index + 1),
                arn,
                username: Some(r.username.clone()),
                groups: r.groups.clone(),
            }
        }
        MappingSource::User { index } => {
            let u = &aws_auth.users()[*index];
            EntryView {
                key: "mapUsers".to_owned(),
                position: Some(index + 1),
                arn: Some(u.userarn.clone()),
                username: Some(u.username.clone()),
                groups: u.groups.clone(),
            }
        }
        MappingSource::Account => EntryView {
            key: "mapAccounts".to_owned(),
            position: None,
            arn: None,
            username: None,
            groups: Vec::new(),
        },
        MappingSource::ClusterCreator => EntryView {
            key: "cluster-creator".to_owned(),
            position: None,
            arn: Some(canonical.to_string()),
            username: Some(CLUSTER_CREATOR_USERNAME.to_owned()),
            groups: vec![SYSTEM_MASTERS.to_owned()],
        },
    }
}

fn kind_of(source: &MappingSource) -> MappingKind {
    match source {
        MappingSource::Role { .. } => MappingKind::MapRoles,
        MappingSource::User { .. } => MappingKind::MapUsers,
        MappingSource::Account => MappingKind::MapAccounts,
        MappingSource::ClusterCreator => MappingKind::ClusterCreator,
    }
}

/// The mapped identity agrees with the server's when the usernames are equal and every mapped
/// group is among the server's groups (the server adds `system:authenticated`).
pub fn agrees(mapped: &Mapped, kube: &KubeUser) -> bool {
    mapped.username == kube.username && mapped.groups.iter().all(|g| kube.groups.contains(g))
}

fn looks_like_creator(kube: &KubeUser) -> bool {
    kube.username == CLUSTER_CREATOR_USERNAME && kube.groups.iter().any(|g| g == SYSTEM_MASTERS)
}

/// aws-auth entries that name the identity's role with a path: EKS drops the path of the role
/// before it compares (aws-iam-authenticator `arn.Canonicalize`), so they never match.
pub fn path_entries(aws_auth: &AwsAuth, canonical: &Arn) -> Vec<(usize, String)> {
    if canonical.kind() != PrincipalKind::Role {
        return Vec::new();
    }
    let want = canonical.to_string().to_lowercase();
    aws_auth
        .roles()
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let arn: Arn = r.rolearn.parse().ok()?;
            (arn.has_path() && arn.without_path().to_string().to_lowercase() == want)
                .then(|| (i + 1, r.rolearn.clone()))
        })
        .collect()
}

fn base(status: AwsAuthStatus, source: MappingKind) -> MappingSection {
    MappingSection {
        aws_auth: status,
        source,
        entry: None,
        shadowed: Vec::new(),
        username: None,
        groups: Vec::new(),
        agrees: None,
        inferred: Vec::new(),
        notes: Vec::new(),
        access: None,
        overrides: Vec::new(),
    }
}

/// Explains the identity. `kube` is `None` when the server did not authenticate the caller.
pub fn explain(
    identity: Option<&Identity>,
    aws_auth: AwsAuthInput<'_>,
    kube: Option<&KubeUser>,
) -> MappingSection {
    let empty = AwsAuth::empty();
    let (status, document) = match aws_auth {
        AwsAuthInput::Read(doc) => (AwsAuthStatus::Read, Some(doc)),
        AwsAuthInput::Absent => (AwsAuthStatus::Absent, Some(&empty)),
        AwsAuthInput::Forbidden => (AwsAuthStatus::Forbidden, None),
        AwsAuthInput::Unavailable => (AwsAuthStatus::Unavailable, None),
    };
    let Some(doc) = document else {
        return infer(status, identity, kube);
    };
    let Some(identity) = identity else {
        let mut out = infer(status, None, kube);
        out.notes.push(
            "the AWS identity is unknown, so aws-auth cannot be matched against it".to_owned(),
        );
        return out;
    };
    let canonical = identity.canonical_arn();
    let mut out = base(status, MappingKind::None);
    for problem in doc.problems() {
        out.notes.push(format!("aws-auth: {problem}"));
    }
    if status == AwsAuthStatus::Absent {
        out.notes
            .push("there is no aws-auth ConfigMap in kube-system".to_owned());
    }
    for (position, arn) in path_entries(doc, &canonical) {
        out.notes.push(format!(
            "mapRoles entry {position} names `{arn}`; EKS drops the path from role ARNs before \
             it compares, so that entry never matches: it should name `{canonical}`"
        ));
    }
    let mapped = match mapping::map_identity(identity, doc, None) {
        Ok(m) => m,
        Err(err) => {
            out.notes
                .push(format!("aws-auth does not map this identity: {err}"));
            None
        }
    };
    let chosen = match (kube, &mapped) {
        (Some(k), Some(m)) if agrees(m, k) => Some(m.clone()),
        (Some(k), _) if looks_like_creator(k) => {
            // EKS puts the creator in front of aws-auth: any matching entry is shadowed.
            mapping::map_identity(identity, doc, Some(&canonical))
                .ok()
                .flatten()
        }
        (None, m) => m.clone(),
        (Some(k), None) => {
            out.source = MappingKind::Other;
            out.agrees = Some(false);
            out.notes.push(format!(
                "the API server knows you as `{}`, but no aws-auth entry matches `{canonical}`: \
                 the identity comes from elsewhere (an EKS access entry, in API authentication \
                 mode)",
                k.username
            ));
            return out;
        }
        (Some(k), Some(m)) => {
            out.source = MappingKind::Other;
            out.agrees = Some(false);
            out.entry = Some(entry_view(&m.source, doc, &canonical));
            out.username = Some(m.username.clone());
            out.groups = m.groups.clone();
            out.notes.push(format!(
                "{} would make you `{}`, but the API server knows you as `{}`: something in \
                 front of aws-auth (an EKS access entry) made this identity",
                m.source, m.username, k.username
            ));
            return out;
        }
    };
    if let Some(m) = chosen {
        out.source = kind_of(&m.source);
        out.entry = Some(entry_view(&m.source, doc, &canonical));
        out.shadowed = m
            .shadowed
            .iter()
            .map(|s| entry_view(s, doc, &canonical))
            .collect();
        out.username = Some(m.username.clone());
        out.groups = m.groups.clone();
        out.agrees = kube.map(|k| agrees(&m, k));
        if m.source == MappingSource::ClusterCreator {
            out.notes.push(
                "EKS maps the IAM principal that created the cluster to `kubernetes-admin` in \
                 `system:masters` without an aws-auth entry"
                    .to_owned(),
            );
        }
    } else if kube.is_none() {
        out.notes.push(format!(
            "no aws-auth entry matches `{canonical}`, and it is not the cluster creator"
        ));
    }
    out
}

/// What can be said without aws-auth.
fn infer(
    status: AwsAuthStatus,
    identity: Option<&Identity>,
    kube: Option<&KubeUser>,
) -> MappingSection {
    let mut out = base(status, MappingKind::Unknown);
    match status {
        AwsAuthStatus::Forbidden => out.notes.push(
            "aws-auth cannot be read with your rights (403 on `get configmaps` `aws-auth` in \
             `kube-system`), so the entry that matched cannot be shown; what follows is \
             inferred from your username and groups"
                .to_owned(),
        ),
        AwsAuthStatus::Unavailable if kube.is_some() => out
            .notes
            .push("aws-auth could not be read; what follows is inferred".to_owned()),
        _ => {}
    }
    let Some(kube) = kube else {
        out.source = MappingKind::None;
        return out;
    };
    if looks_like_creator(kube) {
        out.inferred.push(
            "username `kubernetes-admin` in `system:masters`: the cluster creator's implicit \
             admin mapping (or an aws-auth entry written the same way)"
                .to_owned(),
        );
    }
    if let Some(session) = kube
        .session_name
        .as_deref()
        .filter(|s| !s.is_empty() && kube.username.contains(*s))
    {
        out.inferred.push(format!(
            "the username contains your session name `{session}`: a mapRoles entry whose \
             username has `{{{{SessionName}}}}`"
        ));
    }
    if let Some(identity) = identity {
        let canonical = identity.canonical_arn().to_string();
        let custom: Vec<&String> = kube
            .groups
            .iter()
            .filter(|g| g.as_str() != SYSTEM_AUTHENTICATED)
            .collect();
        if kube.username.eq_ignore_ascii_case(&canonical) && custom.is_empty() {
            out.inferred.push(
                "the username is your canonical ARN and there are no groups: an account mapping \
                 (mapAccounts) or an EKS access entry"
                    .to_owned(),
            );
        } else if kube.username.starts_with("arn:") {
            out.inferred.push(
                "the username is an ARN: the default username EKS gives an access entry".to_owned(),
            );
        }
        if identity.arn.kind() == PrincipalKind::AssumedRole {
            out.inferred.push(format!(
                "as an assumed role you match entries for `{canonical}` (no path, no session)"
            ));
        }
    }
    let custom: Vec<&str> = kube
        .groups
        .iter()
        .map(String::as_str)
        .filter(|g| *g != SYSTEM_AUTHENTICATED)
        .collect();
    if !custom.is_empty() && !looks_like_creator(kube) {
        out.inferred.push(format!(
            "groups {} come from the entry that matched",
            custom
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.username = Some(kube.username.clone());
    out.groups = kube.groups.clone();
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn identity(arn: &str, user_id: &str) -> Identity {
        Identity {
            arn: arn.parse().unwrap(),
            account: "111122223333".to_owned(),
            user_id: user_id.to_owned(),
            access_key_id: "AKIAEXAMPLE".to_owned(),
        }
    }

    fn aws_auth(map_roles: &str, map_users: &str) -> AwsAuth {
        let mut data = BTreeMap::new();
        if !map_roles.is_empty() {
            data.insert("mapRoles".to_owned(), map_roles.to_owned());
        }
        if !map_users.is_empty() {
            data.insert("mapUsers".to_owned(), map_users.to_owned());
        }
        AwsAuth::parse(&data).unwrap()
    }

    fn kube(username: &str, groups: &[&str]) -> KubeUser {
        KubeUser {
            username: username.to_owned(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            session_name: None,
        }
    }

    const ROLES: &str = "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev:{{SessionName}}\n  groups:\n  - old\n- rolearn: arn:aws:iam::111122223333:role/dev\n  username: dev:{{SessionName}}\n  groups:\n  - reader\n";

    #[test]
    fn role_entry_with_shadowed_duplicate() {
        let id = identity(
            "arn:aws:sts::111122223333:assumed-role/dev/alice",
            "AROAEXAMPLE:alice",
        );
        let doc = aws_auth(ROLES, "");
        let k = kube("dev:alice", &["reader", "system:authenticated"]);
        let out = explain(Some(&id), AwsAuthInput::Read(&doc), Some(&k));
        assert_eq!(out.source, MappingKind::MapRoles);
        assert_eq!(out.entry.as_ref().unwrap().position, Some(2));
        assert_eq!(out.shadowed.len(), 1);
        assert_eq!(out.shadowed[0].position, Some(1));
        assert_eq!(out.username.as_deref(), Some("dev:alice"));
        assert_eq!(out.agrees, Some(true));
    }

    #[test]
    fn creator_shadows_an_aws_auth_entry() {
        let id = identity("arn:aws:iam::111122223333:user/admin", "AIDAEXAMPLE");
        let doc = aws_auth(
            "",
            "- userarn: arn:aws:iam::111122223333:user/admin\n  username: admin\n  groups: [ops]\n",
        );
        let k = kube(
            "kubernetes-admin",
            &["system:masters", "system:authenticated"],
        );
        let out = explain(Some(&id), AwsAuthInput::Read(&doc), Some(&k));
        assert_eq!(out.source, MappingKind::ClusterCreator);
        assert_eq!(out.shadowed.len(), 1);
        assert_eq!(out.shadowed[0].key, "mapUsers");
        assert_eq!(out.agrees, Some(true));
    }

    #[test]
    fn creator_without_aws_auth() {
        let id = identity("arn:aws:iam::111122223333:user/admin", "AIDAEXAMPLE");
        let k = kube(
            "kubernetes-admin",
            &["system:masters", "system:authenticated"],
        );
        let out = explain(Some(&id), AwsAuthInput::Absent, Some(&k));
        assert_eq!(out.source, MappingKind::ClusterCreator);
        assert_eq!(
            out.entry.unwrap().arn.as_deref(),
            Some("arn:aws:iam::111122223333:user/admin")
        );
    }

    #[test]
    fn unmapped_and_unauthenticated_flags_path_entries() {
        let id = identity(
            "arn:aws:sts::111122223333:assumed-role/deploy/ci",
            "AROAEXAMPLE:ci",
        );
        let doc = aws_auth(
            "- rolearn: arn:aws:iam::111122223333:role/team/deploy\n  username: ci\n  groups: [ci]\n",
            "",
        );
        let out = explain(Some(&id), AwsAuthInput::Read(&doc), None);
        assert_eq!(out.source, MappingKind::None);
        assert_eq!(out.notes.len(), 2);
        assert!(out.notes[0].starts_with(
            "mapRoles entry 1 names `arn:aws:iam::111122223333:role/team/deploy`; EKS drops the path"
        ));
        assert!(out.notes[0].ends_with("it should name `arn:aws:iam::111122223333:role/deploy`"));
    }

    #[test]
    fn authenticated_without_an_entry_is_another_source() {
        let id = identity("arn:aws:iam::111122223333:user/bob", "AIDAEXAMPLE");
        let out = explain(
            Some(&id),
            AwsAuthInput::Absent,
            Some(&kube(
                "arn:aws:iam::111122223333:user/bob",
                &["system:authenticated"],
            )),
        );
        assert_eq!(out.source, MappingKind::Other);
        assert_eq!(out.agrees, Some(false));
    }

    #[test]
    fn forbidden_infers_from_username_and_groups() {
        let id = identity(
            "arn:aws:sts::111122223333:assumed-role/dev/alice",
            "AROAEXAMPLE:alice",
        );
        let mut k = kube("dev:alice", &["reader", "system:authenticated"]);
        k.session_name = Some("alice".to_owned());
        let out = explain(Some(&id), AwsAuthInput::Forbidden, Some(&k));
        assert_eq!(out.source, MappingKind::Unknown);
        assert_eq!(out.aws_auth, AwsAuthStatus::Forbidden);
        assert_eq!(
            out.inferred,
            vec![
                "the username contains your session name `alice`: a mapRoles entry whose username has `{{SessionName}}`".to_owned(),
                "as an assumed role you match entries for `arn:aws:iam::111122223333:role/dev` (no path, no session)".to_owned(),
                "groups `reader` come from the entry that matched".to_owned(),
            ]
        );
        assert!(out.notes[0].starts_with("aws-auth cannot be read with your rights (403"));
    }

    #[test]
    fn forbidden_creator_is_inferred() {
        let out = explain(
            None,
            AwsAuthInput::Forbidden,
            Some(&kube(
                "kubernetes-admin",
                &["system:masters", "system:authenticated"],
            )),
        );
        assert_eq!(out.inferred.len(), 1);
        assert!(out.inferred[0].starts_with("username `kubernetes-admin` in `system:masters`"));
    }
}
