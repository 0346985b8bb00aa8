//! Which Kubernetes user and groups an AWS identity becomes on EKS, and why.
//!
//! Mirrors aws-iam-authenticator (`pkg/server/server.go` `doMapping`, `renderTemplate`;
//! `pkg/mapper/configmap`): the canonical ARN is looked up in `mapRoles`, then in `mapUsers`
//! (ARNs compared without case; of duplicates the authenticator keeps the last, see
//! [`crate::aws_auth`]); failing both, an identity whose account is listed in `mapAccounts` gets
//! its canonical ARN as username and no groups. EKS puts the cluster creator in front of all of
//! this (the creator is `system:masters` without an aws-auth entry).

use std::fmt;

use crate::arn::{Arn, PrincipalKind};
use crate::aws_auth::AwsAuth;

/// The username EKS gives the cluster creator's implicit admin mapping.
pub const CLUSTER_CREATOR_USERNAME: &str = "kubernetes-admin";

/// An AWS identity as STS GetCallerIdentity reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// As presented by STS (e.g. `arn:aws:sts::111122223333:assumed-role/dev/alice`).
    pub arn: Arn,
    pub account: String,
    /// `AROA...:session` for assumed roles, `AIDA...` for users.
    pub user_id: String,
    pub access_key_id: String,
}

impl Identity {
    /// The ARN the authenticator maps: an assumed role becomes its role ARN, without path.
    pub fn canonical_arn(&self) -> Arn {
        self.arn.canonical()
    }

    /// Whether the authenticator splits the user id into principal id and session name: for
    /// roles and assumed roles it does; for users, the root and federated users it keeps the
    /// whole user id, "because otherwise, its just the account ID and is indistinguishable
    /// from the UserID of the root user" (`getIdentityFromSTSResponse`, pkg/token/token.go).
    fn splits_user_id(&self) -> bool {
        matches!(
            self.arn.kind(),
            PrincipalKind::Role | PrincipalKind::AssumedRole
        )
    }

    /// The session name as the authenticator takes it: for roles the part after `:` of the
    /// user id (`AROA...:session`); users, the root and federated users have none.
    pub fn session_name(&self) -> Option<&str> {
        if !self.splits_user_id() {
            return None;
        }
        match self.user_id.split_once(':') {
            Some((_, session)) if !session.contains(':') => Some(session),
            _ => None,
        }
    }

    /// The principal id the authenticator reports (the TokenReview's uid and the
    /// `sigs.k8s.io/aws-iam-authenticator/principalId` extra): for roles the part of the user id
    /// before `:`, otherwise the whole user id.
    pub fn principal_id(&self) -> &str {
        if self.splits_user_id() {
            self.user_id.split(':').next().unwrap_or_default()
        } else {
            &self.user_id
        }
    }
}

/// Where a mapping came from. Indices are positions in [`AwsAuth::roles`] / [`AwsAuth::users`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MappingSource {
    Role { index: usize },
    User { index: usize },
    Account,
    ClusterCreator,
}

impl fmt::Display for MappingSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingSource::Role { index } => write!(f, "mapRoles entry {}", index + 1),
            MappingSource::User { index } => write!(f, "mapUsers entry {}", index + 1),
            MappingSource::Account => f.write_str("mapAccounts"),
            MappingSource::ClusterCreator => {
                f.write_str("the cluster creator's implicit admin access")
            }
        }
    }
}

/// The Kubernetes identity an AWS identity maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mapped {
    pub username: String,
    pub groups: Vec<String>,
    pub source: MappingSource,
    /// Entries that also match this identity but are not used (earlier duplicates, a `mapUsers`
    /// entry behind a `mapRoles` one, aws-auth entries behind the cluster creator).
    pub shadowed: Vec<MappingSource>,
    /// The username as written in the entry, before templates were filled in.
    pub username_template: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MappingError {
    #[error(
        "the mapping's template `{template}` needs the EC2 private DNS name of instance `{instance_id}`, which only EKS looks up"
    )]
    Ec2PrivateDnsNameUnknown {
        template: String,
        instance_id: String,
    },
    #[error(
        "the mapping's template `{template}` needs `{{{{EC2PrivateDNSName}}}}`, but the session name `{session}` is not an EC2 instance id, so the authenticator rejects this identity"
    )]
    NotAnInstance { template: String, session: String },
    #[error(
        "the username `{username}` (from template `{template}`) starts with the reserved prefix `{prefix}`, so the authenticator rejects this identity"
    )]
    ReservedUsername {
        username: String,
        template: String,
        prefix: String,
    },
    #[error(
        "the user id `{user_id}` of a role is not `PRINCIPAL:SESSION`, so the authenticator rejects this identity"
    )]
    MalformedUserId { user_id: String },
}

/// Knobs the authenticator has that the mapping itself does not say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MapOptions {
    /// The `SSORoleMatch` feature gate (alpha, off by default): whether `sso` entries match.
    pub sso_role_match: bool,
    /// The private DNS name of the EC2 instance whose id is the session name, if known (EKS
    /// looks it up with ec2:DescribeInstances).
    pub ec2_private_dns_name: Option<String>,
    /// The mapper's `usernamePrefixReserveList` (server config `reservedPrefixConfig`; empty
    /// unless configured): a *rendered* username starting with one is refused (`doMapping`,
    /// `ReservedPrefixExists`), whatever its template looked like.
    pub reserved_prefixes: Vec<String>,
}

/// `^i-(\w{8}|\w{17})$` (server.go `instanceIDPattern`; `\w` is ASCII in Go).
fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("i-").is_some_and(|id| {
        (id.len() == 8 || id.len() == 17)
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// Fill in `{{EC2PrivateDNSName}}`, `{{AccountID}}`, `{{SessionName}}` (with `@` replaced by
/// `-`), `{{SessionNameRaw}}` and `{{AccessKeyID}}`, in that order, as `renderTemplate` does.
pub fn render_template(
    template: &str,
    identity: &Identity,
    options: &MapOptions,
) -> Result<String, MappingError> {
    let session = identity.session_name().unwrap_or("");
    let mut out = template.to_owned();
    if out.contains("{{EC2PrivateDNSName}}") {
        if !is_instance_id(session) {
            return Err(MappingError::NotAnInstance {
                template: template.to_owned(),
                session: session.to_owned(),
            });
        }
        let Some(dns) = &options.ec2_private_dns_name else {
            return Err(MappingError::Ec2PrivateDnsNameUnknown {
                template: template.to_owned(),
                instance_id: session.to_owned(),
            });
        };
        out = out.replace("{{EC2PrivateDNSName}}", dns);
    }
    out = out.replace("{{AccountID}}", &identity.account);
    out = out.replace("{{SessionName}}", &session.replace('@', "-"));
    out = out.replace("{{SessionNameRaw}}", session);
    out = out.replace("{{AccessKeyID}}", &identity.access_key_id);
    Ok(out)
}

/// [`map_identity_with`] with the authenticator's defaults (no SSO matching, EC2 DNS name unknown).
pub fn map_identity(
    identity: &Identity,
    aws_auth: &AwsAuth,
    cluster_creator: Option<&Arn>,
) -> Result<Option<Mapped>, MappingError> {
    map_identity_with(identity, aws_auth, cluster_creator, &MapOptions::default())
}

/// Map `identity` the way EKS does: cluster creator, then `mapRoles`, `mapUsers`, `mapAccounts`.
/// `Ok(None)`: not mapped (the API server answers 401).
pub fn map_identity_with(
    identity: &Identity,
    aws_auth: &AwsAuth,
    cluster_creator: Option<&Arn>,
    options: &MapOptions,
) -> Result<Option<Mapped>, MappingError> {
    if identity.splits_user_id() && identity.user_id.split(':').count() != 2 {
        return Err(MappingError::MalformedUserId {
            user_id: identity.user_id.clone(),
        });
    }
    let canonical = identity.canonical_arn().to_string();
    let mut candidates: Vec<MappingSource> = Vec::new();
    for (i, r) in aws_auth.roles().iter().enumerate() {
        let valid = aws_auth.role_info(i).is_none_or(|e| e.dropped.is_none());
        if valid && r.matches(&canonical, options.sso_role_match) {
            candidates.push(MappingSource::Role { index: i });
        }
    }
    let roles_found = candidates.len();
    for (i, u) in aws_auth.users().iter().enumerate() {
        let valid = aws_auth.user_info(i).is_none_or(|e| e.dropped.is_none());
        if valid && u.matches(&canonical) {
            candidates.push(MappingSource::User { index: i });
        }
    }

    let creator = cluster_creator
        .is_some_and(|c| c.canonical().to_string().to_lowercase() == canonical.to_lowercase());
    if creator {
        return Ok(Some(Mapped {
            username: CLUSTER_CREATOR_USERNAME.to_owned(),
            groups: vec!["system:masters".to_owned()],
            source: MappingSource::ClusterCreator,
            shadowed: candidates,
            username_template: CLUSTER_CREATOR_USERNAME.to_owned(),
        }));
    }

    // The effective entry: the last matching role, else the last matching user.
    let chosen = if roles_found > 0 {
        roles_found - 1
    } else {
        candidates.len().wrapping_sub(1)
    };
    if let Some(source) = candidates.get(chosen).cloned() {
        let (template, groups) = match source {
            MappingSource::Role { index } => (
                &aws_auth.roles()[index].username,
                &aws_auth.roles()[index].groups,
            ),
            MappingSource::User { index } => (
                &aws_auth.users()[index].username,
                &aws_auth.users()[index].groups,
            ),
            _ => unreachable!("only entries are candidates"),
        };
        let username = render_template(template, identity, options)?;
        if let Some(prefix) = options
            .reserved_prefixes
            .iter()
            .find(|p| !p.is_empty() && username.starts_with(p.as_str()))
        {
            return Err(MappingError::ReservedUsername {
                username,
                template: template.clone(),
                prefix: prefix.clone(),
            });
        }
        let groups = groups
            .iter()
            .map(|g| render_template(g, identity, options))
            .collect::<Result<Vec<_>, _>>()?;
        candidates.remove(chosen);
        return Ok(Some(Mapped {
            username,
            groups,
            source,
            shadowed: candidates,
            username_template: template.clone(),
        }));
    }

    if aws_auth.accounts().contains(&identity.account) {
        return Ok(Some(Mapped {
            username: canonical.clone(),
            groups: Vec::new(),
            source: MappingSource::Account,
            shadowed: Vec::new(),
            username_template: canonical,
        }));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn auth(roles: &str, users: &str, accounts: &str) -> AwsAuth {
        let mut data = BTreeMap::new();
        data.insert("mapRoles".to_owned(), roles.to_owned());
        data.insert("mapUsers".to_owned(), users.to_owned());
        data.insert("mapAccounts".to_owned(), accounts.to_owned());
        AwsAuth::parse(&data).unwrap()
    }

    fn assumed(session: &str) -> Identity {
        Identity {
            arn: format!("arn:aws:sts::111122223333:assumed-role/Dev/{session}")
                .parse()
                .unwrap(),
            account: "111122223333".to_owned(),
            user_id: format!("AROAEXAMPLE:{session}"),
            access_key_id: "ASIAEXAMPLE".to_owned(),
        }
    }

    fn user(name: &str) -> Identity {
        Identity {
            arn: format!("arn:aws:iam::111122223333:user/{name}")
                .parse()
                .unwrap(),
            account: "111122223333".to_owned(),
            user_id: "AIDAEXAMPLE".to_owned(),
            access_key_id: "AKIAEXAMPLE".to_owned(),
        }
    }

    #[test]
    fn templates_as_the_authenticator_renders_them() {
        let id = assumed("jdoe@example.com");
        let o = MapOptions::default();
        assert_eq!(
            render_template("a-{{AccountID}}-b", &id, &o).unwrap(),
            "a-111122223333-b"
        );
        assert_eq!(
            render_template("a-{{SessionName}}-b", &id, &o).unwrap(),
            "a-jdoe-example.com-b"
        );
        assert_eq!(
            render_template("a-{{SessionNameRaw}}-b", &id, &o).unwrap(),
            "a-jdoe@example.com-b"
        );
        assert_eq!(
            render_template("{{AccessKeyID}}", &id, &o).unwrap(),
            "ASIAEXAMPLE"
        );
        assert_eq!(
            render_template("{{AccountID}}:{{SessionName}}:{{SessionName}}", &id, &o).unwrap(),
            "111122223333:jdoe-example.com:jdoe-example.com"
        );
        assert_eq!(
            render_template("system:node:{{EC2PrivateDNSName}}", &id, &o).unwrap_err(),
            MappingError::NotAnInstance {
                template: "system:node:{{EC2PrivateDNSName}}".to_owned(),
                session: "jdoe@example.com".to_owned()
            }
        );
        let node = assumed("i-0123456789abcdef0");
        assert_eq!(
            render_template("system:node:{{EC2PrivateDNSName}}", &node, &o)
                .unwrap_err()
                .to_string(),
            "the mapping's template `system:node:{{EC2PrivateDNSName}}` needs the EC2 private DNS name of instance `i-0123456789abcdef0`, which only EKS looks up"
        );
        let known = MapOptions {
            ec2_private_dns_name: Some("ip-10-0-0-1.ec2.internal".to_owned()),
            ..o.clone()
        };
        assert_eq!(
            render_template("system:node:{{EC2PrivateDNSName}}", &node, &known).unwrap(),
            "system:node:ip-10-0-0-1.ec2.internal"
        );
        assert!(is_instance_id("i-01234567"));
        assert!(!is_instance_id("i-012345678"));
        // An IAM user has no session: the templates render empty.
        assert_eq!(
            render_template("u-{{SessionName}}", &user("bob"), &o).unwrap(),
            "u-"
        );
    }

    #[test]
    fn order_duplicates_and_shadowing() {
        let a = auth(
            "- rolearn: arn:aws:iam::111122223333:role/dev\n  username: first\n  groups: [a]\n\
             - rolearn: arn:aws:iam::111122223333:role/team/Dev\n  username: path\n  groups: [p]\n\
             - rolearn: ARN:AWS:IAM::111122223333:ROLE/DEV\n  username: dev:{{SessionName}}\n  groups: [b, '{{AccountID}}']\n",
            "- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob\n  groups: [r]\n\
             - userarn: arn:aws:iam::111122223333:role/Dev\n  username: shadowed-user\n",
            "- 111122223333\n",
        );
        let m = map_identity(&assumed("alice@corp"), &a, None)
            .unwrap()
            .unwrap();
        assert_eq!(m.username, "dev:alice-corp");
        assert_eq!(m.groups, ["b", "111122223333"]);
        assert_eq!(m.source, MappingSource::Role { index: 2 });
        assert_eq!(
            m.shadowed,
            [
                MappingSource::Role { index: 0 },
                MappingSource::User { index: 1 }
            ]
        );
        assert_eq!(m.username_template, "dev:{{SessionName}}");

        let m = map_identity(&user("bob"), &a, None).unwrap().unwrap();
        assert_eq!(
            (m.username.as_str(), m.source),
            ("bob", MappingSource::User { index: 0 })
        );

        // Not mapped, but the account is listed: the canonical ARN, no groups.
        let m = map_identity(&user("carol"), &a, None).unwrap().unwrap();
        assert_eq!(m.username, "arn:aws:iam::111122223333:user/carol");
        assert!(m.groups.is_empty());
        assert_eq!(m.source, MappingSource::Account);

        // The cluster creator comes first and shadows aws-auth.
        let creator: Arn = "arn:aws:iam::111122223333:role/dev".parse().unwrap();
        let m = map_identity(&assumed("x"), &a, Some(&creator))
            .unwrap()
            .unwrap();
        assert_eq!(m.source, MappingSource::ClusterCreator);
        assert_eq!(
            (m.username.as_str(), m.groups.as_slice()),
            ("kubernetes-admin", &["system:masters".to_owned()][..])
        );
        assert_eq!(m.shadowed.len(), 3);
    }

    #[test]
    fn unmapped_and_other_account() {
        let a = auth(
            "- rolearn: arn:aws:iam::111122223333:role/team/Dev\n  username: x\n",
            "",
            "",
        );
        assert_eq!(map_identity(&assumed("s"), &a, None).unwrap(), None);
        let mut other = user("bob");
        other.account = "444455556666".to_owned();
        other.arn = "arn:aws:iam::444455556666:user/bob".parse().unwrap();
        let a = auth("", "", "- '111122223333'\n");
        assert_eq!(map_identity(&other, &a, None).unwrap(), None);
        // Only a role's user id is split (token.go getIdentityFromSTSResponse): a user's is
        // kept whole, a role's must be exactly PRINCIPAL:SESSION.
        let mut odd_user = user("bob");
        odd_user.user_id = "A:B:C".to_owned();
        assert!(map_identity(&odd_user, &a, None).unwrap().is_some());
        assert_eq!(odd_user.session_name(), None);
        assert_eq!(odd_user.principal_id(), "A:B:C");
        for bad_id in ["A:B:C", "AROANOSESSION"] {
            let mut bad = assumed("s");
            bad.user_id = bad_id.to_owned();
            assert!(matches!(
                map_identity(&bad, &a, None),
                Err(MappingError::MalformedUserId { .. })
            ));
        }
    }

    #[test]
    fn reserved_prefixes_are_checked_on_the_rendered_username() {
        let a = auth(
            "- rolearn: arn:aws:iam::111122223333:role/Dev\n  username: \"{{SessionName}}:x\"\n",
            "",
            "",
        );
        let options = MapOptions {
            reserved_prefixes: vec!["eks:".into()],
            ..MapOptions::default()
        };
        // The template does not start with `eks:`, the username it renders to does.
        let mut id = assumed("eks");
        id.arn = "arn:aws:sts::111122223333:assumed-role/Dev/eks"
            .parse()
            .unwrap();
        id.user_id = "AROADEV:eks".into();
        assert_eq!(
            map_identity_with(&id, &a, None, &options).unwrap_err(),
            MappingError::ReservedUsername {
                username: "eks:x".into(),
                template: "{{SessionName}}:x".into(),
                prefix: "eks:".into()
            }
        );
        id.user_id = "AROADEV:alice".into();
        assert_eq!(
            map_identity_with(&id, &a, None, &options)
                .unwrap()
                .unwrap()
                .username,
            "alice:x"
        );
        // No list configured (the authenticator's default): nothing is refused.
        id.user_id = "AROADEV:eks".into();
        assert!(map_identity(&id, &a, None).unwrap().is_some());
    }

    #[test]
    fn federated_users_match_as_they_are_with_no_session_name() {
        let a = auth(
            "",
            "- userarn: arn:aws:sts::111122223333:federated-user/Bob\n  username: fed-{{SessionName}}\n  groups: [g]\n",
            "",
        );
        let id = Identity {
            arn: "arn:aws:sts::111122223333:federated-user/Bob"
                .parse()
                .unwrap(),
            account: "111122223333".into(),
            user_id: "111122223333:Bob".into(),
            access_key_id: "ASIAFED".into(),
        };
        assert_eq!(id.session_name(), None);
        assert_eq!(id.principal_id(), "111122223333:Bob");
        let m = map_identity(&id, &a, None).unwrap().unwrap();
        assert_eq!(m.username, "fed-");
        assert_eq!(m.source, MappingSource::User { index: 0 });
        // The lint agrees: the entry can match.
        assert!(a.user_live(0));
        assert!(a.validate().is_empty(), "{:?}", a.validate());
    }

    #[test]
    fn sso_entries_need_the_feature_gate() {
        let a = auth(
            "- sso:\n    permissionSetName: Admin\n    accountID: \"111122223333\"\n  username: sso:{{SessionName}}\n  groups: [system:masters]\n\
             - sso: {permissionSetName: View, accountID: \"111122223333\", partition: aws}\n  username: never\n",
            "",
            "",
        );
        let mut id = assumed("alice");
        id.arn = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_Admin_0123abcd/alice"
            .parse()
            .unwrap();
        assert_eq!(map_identity(&id, &a, None).unwrap(), None);
        let on = MapOptions {
            sso_role_match: true,
            ..MapOptions::default()
        };
        let m = map_identity_with(&id, &a, None, &on).unwrap().unwrap();
        assert_eq!(
            (m.username.as_str(), m.source),
            ("sso:alice", MappingSource::Role { index: 0 })
        );
        // An explicit partition makes the authenticator's pattern `arn::iam::...`: no match.
        id.arn = "arn:aws:sts::111122223333:assumed-role/AWSReservedSSO_View_0123abcd/alice"
            .parse()
            .unwrap();
        assert_eq!(map_identity_with(&id, &a, None, &on).unwrap(), None);
    }
}
