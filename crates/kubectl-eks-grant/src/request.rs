//! Arguments validated into domain types, before any I/O (ripgrep's LowArgs -> HiArgs).

use eks_auth::arn::{Arn, ArnError, PrincipalKind};
use eks_auth::aws_auth::DataKey;

use crate::cli::{AddArgs, CheckArgs, RevokeArgs};

/// The reserved-name rules are the core's ([`eks_auth::names`]), shared with the aws-auth checks.
use eks_auth::names::{reserved_group, reserved_username};

/// The templates the authenticator expands in usernames (aws-iam-authenticator `renderTemplate`).
pub const TEMPLATES: &[&str] = &[
    "{{AccountID}}",
    "{{SessionName}}",
    "{{SessionNameRaw}}",
    "{{AccessKeyID}}",
    "{{EC2PrivateDNSName}}",
];

/// Why the arguments are refused.
#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error(
        "{0}\n\nhint: give the ARN of an IAM user or role, e.g. `arn:aws:iam::111122223333:user/bob`, or a session as `aws sts get-caller-identity` prints it"
    )]
    // Not `#[source]`: the message says it already, and `{:#}` would print it twice.
    Arn(ArnError),
    #[error(
        "`{arn}` is a {kind} ARN: aws-auth maps IAM users and roles only\n\nhint: map the role the principal comes from, or its account with mapAccounts"
    )]
    UnsupportedKind { arn: String, kind: PrincipalKind },
    #[error(
        "--username is empty\n\nhint: give a name, or leave --username out for the default (the IAM user's name, or `<role>:{{{{SessionName}}}}` for a role)"
    )]
    EmptyUsername(String),
    #[error(
        "username `{username}` starts with `{prefix}`, which EKS reserves\n\nhint: pick another --username (only node roles use `system:node:{{{{EC2PrivateDNSName}}}}`, and Fargate pod execution roles `system:node:{{{{SessionName}}}}`)"
    )]
    ReservedUsername {
        username: String,
        prefix: &'static str,
    },
    #[error(
        "group `{group}` starts with `{prefix}`, which EKS reserves\n\nhint: only system:masters, system:nodes, system:bootstrappers and (for Fargate) system:node-proxier are meant for aws-auth; pick another --group"
    )]
    ReservedGroup { group: String, prefix: &'static str },
    #[error(
        "--group is empty\n\nhint: give a group name, or leave --group out (with --preset, the preset's own group is used)"
    )]
    EmptyGroup(String),
    #[error(
        "username `{username}` uses unknown template `{template}`\n\nhint: the authenticator expands only {}", TEMPLATES.join(", ")
    )]
    UnknownTemplate { username: String, template: String },
    #[error(
        "`{0}` is not a valid namespace name (lower-case letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters)\n\nhint: `kubectl get namespaces` lists the cluster's namespaces"
    )]
    InvalidNamespace(String),
    #[error(
        "--namespace needs --preset: it says where the preset is bound\n\nhint: add a namespaced preset, e.g. --preset view (`kubectl eks-grant presets` lists them)"
    )]
    NamespaceWithoutPreset,
}

impl From<ArnError> for RequestError {
    fn from(err: ArnError) -> Self {
        RequestError::Arn(err)
    }
}

/// An `add` request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The ARN as it goes into aws-auth (canonical; roles without their path).
    pub principal: Arn,
    /// The ARN as typed.
    pub given: String,
    /// Which list of aws-auth it goes to (`mapUsers` or `mapRoles`).
    pub section: DataKey,
    /// What was changed about the ARN, to tell the user.
    pub notes: Vec<String>,
    pub username: String,
    pub groups: Vec<String>,
    pub preset: Option<String>,
    pub namespaces: Vec<String>,
    pub dry_run: bool,
    pub force: bool,
}

/// A principal turned into what aws-auth can match: (ARN to map, section, notes).
pub fn mappable(given: &str) -> Result<(Arn, DataKey, Vec<String>), RequestError> {
    let arn: Arn = given.trim().parse()?;
    let mut notes = Vec::new();
    match arn.kind() {
        PrincipalKind::User => Ok((arn, DataKey::MapUsers, notes)),
        PrincipalKind::Role => {
            if arn.has_path() {
                let bare = arn.without_path();
                // aws-iam-authenticator canonicalises the assumed-role ARN STS returns to
                // `arn:P:iam::ACCT:role/NAME`: the path is not in it, so an entry with a path never matches.
                notes.push(format!(
                    "role ARN `{arn}` has the path `{}`: mapped as `{bare}`, because the authenticator compares role ARNs without their path",
                    arn.path()
                ));
                Ok((bare, DataKey::MapRoles, notes))
            } else {
                Ok((arn, DataKey::MapRoles, notes))
            }
        }
        PrincipalKind::AssumedRole => {
            let role = arn.canonical();
            notes.push(format!(
                "`{arn}` is an assumed-role session: mapped as its role `{role}` (every session of the role)"
            ));
            Ok((role, DataKey::MapRoles, notes))
        }
        kind @ (PrincipalKind::FederatedUser | PrincipalKind::Root) => {
            Err(RequestError::UnsupportedKind {
                arn: given.to_owned(),
                kind,
            })
        }
    }
}

/// Usernames may not take a reserved prefix (the node usernames are the exception) and may use
/// only the templates the authenticator knows.
pub fn validate_username(username: &str) -> Result<(), RequestError> {
    if username.trim().is_empty() {
        return Err(RequestError::EmptyUsername(username.to_owned()));
    }
    if let Some(prefix) = reserved_username(username) {
        return Err(RequestError::ReservedUsername {
            username: username.to_owned(),
            prefix,
        });
    }
    let mut rest = username;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start..];
        let end = after.find("}}").map_or(after.len(), |e| e + 2);
        let template = &after[..end];
        if !TEMPLATES.contains(&template) {
            return Err(RequestError::UnknownTemplate {
                username: username.to_owned(),
                template: template.to_owned(),
            });
        }
        rest = &after[end..];
    }
    Ok(())
}

pub fn validate_group(group: &str) -> Result<(), RequestError> {
    if group.trim().is_empty() {
        return Err(RequestError::EmptyGroup(group.to_owned()));
    }
    if let Some(prefix) = reserved_group(group) {
        return Err(RequestError::ReservedGroup {
            group: group.to_owned(),
            prefix,
        });
    }
    Ok(())
}

/// RFC 1123 label, as namespace names are.
pub fn validate_namespace(ns: &str) -> Result<(), RequestError> {
    let ok = !ns.is_empty()
        && ns.len() <= 63
        && ns
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !ns.starts_with('-')
        && !ns.ends_with('-');
    if ok {
        Ok(())
    } else {
        Err(RequestError::InvalidNamespace(ns.to_owned()))
    }
}

impl Grant {
    /// For unit tests: a valid grant of `arn` as `username` in `groups`, without a preset.
    #[cfg(test)]
    pub(crate) fn for_test(arn: &str, username: &str, groups: &[&str], force: bool) -> Grant {
        Grant::from_args(AddArgs {
            arn: arn.to_owned(),
            username: Some(username.to_owned()),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            preset: None,
            namespaces: vec![],
            dry_run: false,
            force,
            policies: vec![],
        })
        .unwrap()
    }

    /// Validates `add` arguments. The preset name is checked later against the core's presets.
    pub fn from_args(args: AddArgs) -> Result<Grant, RequestError> {
        let (principal, section, notes) = mappable(&args.arn)?;
        let username = args
            .username
            .unwrap_or_else(|| principal.default_username());
        validate_username(&username)?;
        let mut groups: Vec<String> = Vec::new();
        for group in args.groups {
            validate_group(&group)?;
            if !groups.contains(&group) {
                groups.push(group);
            }
        }
        if args.preset.is_none() && !args.namespaces.is_empty() {
            return Err(RequestError::NamespaceWithoutPreset);
        }
        let mut namespaces: Vec<String> = Vec::new();
        for ns in args.namespaces {
            validate_namespace(&ns)?;
            if !namespaces.contains(&ns) {
                namespaces.push(ns);
            }
        }
        // Without --group: the preset's own group for this scope, which nobody holds with any
        // other meaning (see `Preset::default_group`). An unknown preset is refused later, with
        // the list of presets; its name is kept as the group until then.
        if let Some(name) = &args.preset
            && groups.is_empty()
        {
            groups.push(match eks_auth::rbac::preset(name) {
                Ok(p) => p.default_group(&namespaces),
                Err(_) => eks_auth::rbac::default_group(name),
            });
        }
        Ok(Grant {
            principal,
            given: args.arn,
            section,
            notes,
            username,
            groups,
            preset: args.preset,
            namespaces,
            dry_run: args.dry_run,
            force: args.force,
        })
    }
}

/// A `revoke` request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoke {
    /// The ARN whose entries go (canonical, roles without path).
    pub principal: Arn,
    /// The ARN as typed (access entries want a role with its path).
    pub given: String,
    /// Other spellings that name the same principal in aws-auth (a role with its path, which
    /// never matched but is removed too).
    pub also: Vec<Arn>,
    pub notes: Vec<String>,
    pub dry_run: bool,
    pub force: bool,
}

impl Revoke {
    pub fn from_args(args: RevokeArgs) -> Result<Revoke, RequestError> {
        let given: Arn = args.arn.trim().parse()?;
        let (principal, _, notes) = mappable(&args.arn)?;
        let also = if given != principal && given.kind() == PrincipalKind::Role {
            vec![given]
        } else {
            Vec::new()
        };
        Ok(Revoke {
            principal,
            given: args.arn.clone(),
            also,
            notes,
            dry_run: args.dry_run,
            force: args.force,
        })
    }
}

/// A `check` request, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// The ARN as given (a role is checked as one of its sessions).
    pub given: Arn,
    pub namespace: String,
}

impl Check {
    pub fn from_args(args: CheckArgs) -> Result<Check, RequestError> {
        let given: Arn = args.arn.trim().parse()?;
        validate_namespace(&args.namespace)?;
        Ok(Check {
            given,
            namespace: args.namespace,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn add(arn: &str) -> AddArgs {
        AddArgs {
            arn: arn.to_owned(),
            username: None,
            groups: vec![],
            preset: None,
            namespaces: vec![],
            dry_run: false,
            force: false,
            policies: vec![],
        }
    }

    #[test]
    fn user_maps_to_map_users_with_its_name() {
        let g = Grant::from_args(add("arn:aws:iam::111122223333:user/bob")).unwrap();
        assert_eq!(
            g.principal.to_string(),
            "arn:aws:iam::111122223333:user/bob"
        );
        assert_eq!(g.section, DataKey::MapUsers);
        assert_eq!(g.username, "bob");
        assert!(g.notes.is_empty());
        assert!(g.groups.is_empty());
    }

    #[test]
    fn user_path_is_kept() {
        let g = Grant::from_args(add("arn:aws:iam::111122223333:user/ops/alice")).unwrap();
        assert_eq!(
            g.principal.to_string(),
            "arn:aws:iam::111122223333:user/ops/alice"
        );
        assert_eq!(g.username, "alice");
    }

    #[test]
    fn assumed_role_becomes_its_role_with_session_username() {
        let g = Grant::from_args(add(
            "arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com",
        ))
        .unwrap();
        assert_eq!(
            g.principal.to_string(),
            "arn:aws:iam::111122223333:role/Dev"
        );
        assert_eq!(g.section, DataKey::MapRoles);
        assert_eq!(g.username, "Dev:{{SessionName}}");
        assert_eq!(
            g.notes,
            [
                "`arn:aws:sts::111122223333:assumed-role/Dev/alice@example.com` is an assumed-role session: mapped as its role `arn:aws:iam::111122223333:role/Dev` (every session of the role)"
            ]
        );
    }

    #[test]
    fn role_path_is_dropped_and_said() {
        let g = Grant::from_args(add("arn:aws:iam::111122223333:role/teams/dev/Deployer")).unwrap();
        assert_eq!(
            g.principal.to_string(),
            "arn:aws:iam::111122223333:role/Deployer"
        );
        assert_eq!(g.notes.len(), 1);
        assert!(
            g.notes[0].contains("has the path `/teams/dev/`"),
            "{}",
            g.notes[0]
        );
    }

    #[test]
    fn reserved_usernames_and_groups_are_refused() {
        let mut a = add("arn:aws:iam::111122223333:user/bob");
        a.username = Some("eks:bob".to_owned());
        assert_eq!(
            Grant::from_args(a).unwrap_err().to_string(),
            "username `eks:bob` starts with `eks:`, which EKS reserves\n\nhint: pick another --username (only node roles use `system:node:{{EC2PrivateDNSName}}`, and Fargate pod execution roles `system:node:{{SessionName}}`)"
        );
        let mut a = add("arn:aws:iam::111122223333:user/bob");
        a.groups = vec!["system:admins".to_owned()];
        assert!(matches!(
            Grant::from_args(a),
            Err(RequestError::ReservedGroup {
                prefix: "system:",
                ..
            })
        ));
        let mut a = add("arn:aws:iam::111122223333:role/node");
        a.username = Some(eks_auth::names::NODE_USERNAMES[0].to_owned());
        a.groups = vec!["system:nodes".to_owned(), "system:bootstrappers".to_owned()];
        assert!(Grant::from_args(a).is_ok());
        // What EKS writes for a Fargate profile's pod execution role.
        let mut a = add("arn:aws:iam::111122223333:role/fargate");
        a.username = Some("system:node:{{SessionName}}".to_owned());
        a.groups = vec!["system:nodes".to_owned(), "system:node-proxier".to_owned()];
        assert!(Grant::from_args(a).is_ok());
    }

    #[test]
    fn unknown_templates_are_refused() {
        assert!(validate_username("dev:{{SessionName}}").is_ok());
        assert!(matches!(
            validate_username("dev:{{Session}}"),
            Err(RequestError::UnknownTemplate { template, .. }) if template == "{{Session}}"
        ));
    }

    #[test]
    fn preset_without_group_gets_a_default_group_and_groups_dedupe() {
        let mut a = add("arn:aws:iam::111122223333:user/bob");
        a.preset = Some("view".to_owned());
        a.namespaces = vec!["team-a".to_owned(), "team-a".to_owned()];
        let g = Grant::from_args(a).unwrap();
        assert_eq!(g.groups, ["eks-grant:view@team-a"]);
        assert_eq!(g.namespaces, ["team-a"]);
        let mut a = add("arn:aws:iam::111122223333:user/bob");
        a.groups = vec!["reader".to_owned(), "reader".to_owned()];
        assert_eq!(Grant::from_args(a).unwrap().groups, ["reader"]);
    }

    #[test]
    fn namespace_needs_preset_and_a_valid_name() {
        let mut a = add("arn:aws:iam::111122223333:user/bob");
        a.namespaces = vec!["x".to_owned()];
        assert!(matches!(
            Grant::from_args(a),
            Err(RequestError::NamespaceWithoutPreset)
        ));
        assert!(validate_namespace("Team").is_err());
        assert!(validate_namespace("-a").is_err());
        assert!(validate_namespace("team-a1").is_ok());
    }

    #[test]
    fn root_and_federated_users_are_refused() {
        assert!(matches!(
            Grant::from_args(add("arn:aws:iam::111122223333:root")),
            Err(RequestError::UnsupportedKind {
                kind: PrincipalKind::Root,
                ..
            })
        ));
        assert!(Grant::from_args(add("arn:aws:sts::111122223333:federated-user/x")).is_err());
        assert!(matches!(
            Grant::from_args(add("arn:aws:s3:::bucket")),
            Err(RequestError::Arn(_))
        ));
    }

    #[test]
    fn revoke_of_a_role_with_path_also_removes_the_path_spelling() {
        let r = Revoke::from_args(RevokeArgs {
            arn: "arn:aws:iam::111122223333:role/a/R".to_owned(),
            dry_run: false,
            force: false,
            policy: None,
        })
        .unwrap();
        assert_eq!(r.principal.to_string(), "arn:aws:iam::111122223333:role/R");
        assert_eq!(
            r.also.iter().map(ToString::to_string).collect::<Vec<_>>(),
            ["arn:aws:iam::111122223333:role/a/R"]
        );
    }
}
