//! Principal ARNs: parse, print, canonicalise. Partitions (which a principal may name, the one a
//! region belongs to) are in `partition`, EKS cluster ARNs in `cluster`.
//!
//! The principals EKS authenticates are the ones `sts:GetCallerIdentity` can return and the ones
//! an aws-auth ConfigMap maps (aws-iam-authenticator, `pkg/arn/arn.go`, `Canonicalize`):
//!
//! | kind            | example                                                         |
//! |-----------------|-----------------------------------------------------------------|
//! | root            | `arn:aws:iam::123456789012:root`                                |
//! | IAM user        | `arn:aws:iam::123456789012:user/division/Bob`                   |
//! | IAM role        | `arn:aws:iam::123456789012:role/service-role/Deploy`            |
//! | assumed role    | `arn:aws:sts::123456789012:assumed-role/Deploy/session-1`       |
//! | federated user  | `arn:aws:sts::123456789012:federated-user/Bob`                  |
//!
//! Canonicalisation turns an assumed-role ARN into the ARN of its role exactly the way
//! aws-iam-authenticator does: `arn:P:iam::ACCOUNT:role/` followed by everything between
//! `assumed-role/` and the last `/`. STS never puts the role's IAM path into an assumed-role ARN,
//! so the canonical ARN of a role created with path `/team/` has no path: that is why an
//! aws-auth `mapRoles` entry written with the path never matches (see [`Arn::without_path`]).

use std::fmt;
use std::str::FromStr;

mod cluster;
mod partition;

pub use cluster::{ClusterArn, is_cluster_name};
pub use partition::{PARTITIONS, dns_suffix, dual_stack_dns_suffix, partition_for_region};

/// What kind of principal an ARN names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PrincipalKind {
    /// `arn:P:iam::ACCOUNT:user/PATH/NAME`
    User,
    /// `arn:P:iam::ACCOUNT:role/PATH/NAME`
    Role,
    /// `arn:P:sts::ACCOUNT:assumed-role/NAME/SESSION`
    AssumedRole,
    /// `arn:P:sts::ACCOUNT:federated-user/NAME`
    FederatedUser,
    /// `arn:P:iam::ACCOUNT:root`
    Root,
}

impl PrincipalKind {
    /// The resource type as written in the ARN (`user`, `role`, `assumed-role`,
    /// `federated-user`, `root`).
    pub fn as_str(self) -> &'static str {
        match self {
            PrincipalKind::User => "user",
            PrincipalKind::Role => "role",
            PrincipalKind::AssumedRole => "assumed-role",
            PrincipalKind::FederatedUser => "federated-user",
            PrincipalKind::Root => "root",
        }
    }

    /// The service that owns ARNs of this kind: `iam` or `sts`.
    pub fn service(self) -> &'static str {
        match self {
            PrincipalKind::User | PrincipalKind::Role | PrincipalKind::Root => "iam",
            PrincipalKind::AssumedRole | PrincipalKind::FederatedUser => "sts",
        }
    }
}

impl fmt::Display for PrincipalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A principal ARN, parsed. `Display` prints it back exactly as parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Arn {
    partition: String,
    account: String,
    kind: PrincipalKind,
    /// `/` or `/a/b/`. Always `/` for root and federated users.
    path: String,
    /// User, role or federated-user name; `root` for the account root.
    name: String,
    /// Only for assumed roles.
    session: Option<String>,
}

/// Why a string is not a principal ARN.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArnError {
    #[error("`{input}` is not an ARN: it must start with `arn:`")]
    MissingPrefix { input: String },
    #[error("`{input}` is not an ARN: expected `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`")]
    MissingSections { input: String },
    #[error(
        "unknown partition `{partition}` in `{input}` (expected one of aws, aws-cn, aws-us-gov, \
         aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)"
    )]
    UnknownPartition { input: String, partition: String },
    #[error("service `{service}` in `{input}` does not name principals (expected `iam` or `sts`)")]
    UnsupportedService { input: String, service: String },
    #[error("principal ARN `{input}` has region `{region}`: IAM and STS principal ARNs have none")]
    UnexpectedRegion { input: String, region: String },
    #[error("account `{account}` in `{input}` is not a 12-digit AWS account id")]
    InvalidAccount { input: String, account: String },
    #[error(
        "resource `{resource}` in `{input}` is not a principal (expected `user/`, `role/` or \
         `root` for iam, `assumed-role/` or `federated-user/` for sts)"
    )]
    UnsupportedResource { input: String, resource: String },
    #[error("`{input}` has no {kind} name")]
    MissingName { input: String, kind: PrincipalKind },
    #[error(
        "{kind} name `{name}` in `{input}` is invalid: 1 to 64 characters from letters, digits \
         and `+=,.@_-`"
    )]
    InvalidName {
        input: String,
        kind: PrincipalKind,
        name: String,
    },
    #[error(
        "path `{path}` in `{input}` is invalid: `/` or `/segment/.../` of printable ASCII, at \
         most 512 characters"
    )]
    InvalidPath { input: String, path: String },
    #[error(
        "assumed-role ARN `{input}` has no session name (expected `assumed-role/ROLE/SESSION`)"
    )]
    MissingSession { input: String },
    #[error(
        "session name `{session}` in `{input}` is invalid: 1 to 64 characters from letters, \
         digits and `+=,.@_-`"
    )]
    InvalidSession { input: String, session: String },
    #[error("federated-user ARN `{input}` has a path; expected `federated-user/NAME`")]
    FederatedUserPath { input: String },
}

/// IAM user and role names, STS session names and federated-user names: `[\w+=,.@-]`, at most
/// 64 characters (IAM `CreateUser`/`CreateRole`, STS `AssumeRole` `RoleSessionName`,
/// `GetFederationToken` `Name` in the IAM and STS API references).
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

/// IAM paths: `/` or `/` + printable ASCII (`!`..`~`) + `/`, at most 512 characters
/// (IAM API reference, `Path`). Empty segments (`//`) never come out of IAM.
fn valid_path(path: &str) -> bool {
    path.len() <= 512
        && path.starts_with('/')
        && path.ends_with('/')
        && (path == "/" || !path.contains("//"))
        && path.bytes().all(|b| (b'!'..=b'~').contains(&b))
}

impl FromStr for Arn {
    type Err = ArnError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let owned = || input.to_owned();
        let rest = input
            .strip_prefix("arn:")
            .ok_or_else(|| ArnError::MissingPrefix { input: owned() })?;
        let mut sections = rest.splitn(5, ':');
        let (Some(partition), Some(service), Some(region), Some(account), Some(resource)) = (
            sections.next(),
            sections.next(),
            sections.next(),
            sections.next(),
            sections.next(),
        ) else {
            return Err(ArnError::MissingSections { input: owned() });
        };
        if !PARTITIONS.contains(&partition) {
            return Err(ArnError::UnknownPartition {
                input: owned(),
                partition: partition.to_owned(),
            });
        }
        if service != "iam" && service != "sts" {
            return Err(ArnError::UnsupportedService {
                input: owned(),
                service: service.to_owned(),
            });
        }
        if !region.is_empty() {
            return Err(ArnError::UnexpectedRegion {
                input: owned(),
                region: region.to_owned(),
            });
        }
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(ArnError::InvalidAccount {
                input: owned(),
                account: account.to_owned(),
            });
        }

        let unsupported = || ArnError::UnsupportedResource {
            input: owned(),
            resource: resource.to_owned(),
        };
        let (kind, rest) = match (service, resource.split_once('/')) {
            ("iam", None) if resource == "root" => {
                return Ok(Arn {
                    partition: partition.to_owned(),
                    account: account.to_owned(),
                    kind: PrincipalKind::Root,
                    path: "/".to_owned(),
                    name: "root".to_owned(),
                    session: None,
                });
            }
            ("iam", Some(("user", rest))) => (PrincipalKind::User, rest),
            ("iam", Some(("role", rest))) => (PrincipalKind::Role, rest),
            ("sts", Some(("assumed-role", rest))) => (PrincipalKind::AssumedRole, rest),
            ("sts", Some(("federated-user", rest))) => (PrincipalKind::FederatedUser, rest),
            _ => return Err(unsupported()),
        };
        if rest.is_empty() {
            return Err(ArnError::MissingName {
                input: owned(),
                kind,
            });
        }

        // For assumed roles the last segment is the session name; aws-iam-authenticator treats
        // everything between `assumed-role/` and the last `/` as the role (pkg/arn/arn.go).
        let (rest, session) = if kind == PrincipalKind::AssumedRole {
            let Some((role, session)) = rest.rsplit_once('/') else {
                return Err(ArnError::MissingSession { input: owned() });
            };
            if session.is_empty() || !valid_name(session) {
                return Err(ArnError::InvalidSession {
                    input: owned(),
                    session: session.to_owned(),
                });
            }
            (role, Some(session.to_owned()))
        } else {
            (rest, None)
        };

        let (path, name) = match rest.rsplit_once('/') {
            Some((path, name)) => (format!("/{path}/"), name),
            None => ("/".to_owned(), rest),
        };
        if kind == PrincipalKind::FederatedUser && path != "/" {
            return Err(ArnError::FederatedUserPath { input: owned() });
        }
        if name.is_empty() {
            return Err(ArnError::MissingName {
                input: owned(),
                kind,
            });
        }
        if !valid_name(name) {
            return Err(ArnError::InvalidName {
                input: owned(),
                kind,
                name: name.to_owned(),
            });
        }
        if !valid_path(&path) {
            return Err(ArnError::InvalidPath {
                input: owned(),
                path,
            });
        }
        Ok(Arn {
            partition: partition.to_owned(),
            account: account.to_owned(),
            kind,
            path,
            name: name.to_owned(),
            session,
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Arn {
            partition,
            account,
            kind,
            path,
            name,
            session,
        } = self;
        write!(f, "arn:{partition}:{}::{account}:", kind.service())?;
        match kind {
            PrincipalKind::Root => f.write_str("root"),
            _ => {
                write!(f, "{kind}{path}{name}")?;
                match session {
                    Some(session) => write!(f, "/{session}"),
                    None => Ok(()),
                }
            }
        }
    }
}

impl serde::Serialize for Arn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Arn {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl Arn {
    /// `aws`, `aws-cn`, ...
    pub fn partition(&self) -> &str {
        &self.partition
    }

    /// The 12-digit account id.
    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn kind(&self) -> PrincipalKind {
        self.kind
    }

    /// The user, role or federated-user name (for an assumed role: the role's name); `root` for
    /// the account root.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The IAM path: `/` when there is none, else `/a/b/`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The session name of an assumed role.
    pub fn session_name(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The ARN aws-iam-authenticator maps: an assumed role becomes
    /// `arn:P:iam::ACCOUNT:role/NAME` (keeping whatever stood between `assumed-role/` and the
    /// session, which from STS is never a path); every other principal is returned unchanged.
    pub fn canonical(&self) -> Arn {
        match self.kind {
            PrincipalKind::AssumedRole => Arn {
                kind: PrincipalKind::Role,
                session: None,
                ..self.clone()
            },
            _ => self.clone(),
        }
    }

    /// Whether the ARN has an IAM path other than `/`. EKS matches aws-auth `rolearn` entries
    /// against the canonical ARN, which has no path, so a role ARN with a path never matches
    /// (EKS user guide, "aws-auth ConfigMap": "the role ARN can't include a path").
    pub fn has_path(&self) -> bool {
        self.path != "/"
    }

    /// The Kubernetes username `kubectl eks-grant add` maps this principal to when none is given
    /// (and `kubectl eks-whoami` suggests): the IAM user name; for a role or an assumed role
    /// `<role-name>:{{SessionName}}`, which the authenticator fills in per session, so that audit
    /// logs tell sessions apart.
    pub fn default_username(&self) -> String {
        match self.kind {
            PrincipalKind::Role | PrincipalKind::AssumedRole => {
                format!("{}:{{{{SessionName}}}}", self.name)
            }
            _ => self.name.clone(),
        }
    }

    /// The same ARN with its path set to `/`: `role/team/Deploy` becomes `role/Deploy`
    /// (aws-iam-authenticator `StripPath` does this for roles).
    pub fn without_path(&self) -> Arn {
        Arn {
            path: "/".to_owned(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests;
