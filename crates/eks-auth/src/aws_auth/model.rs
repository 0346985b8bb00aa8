//! Pure: the aws-auth model: the data keys, the mapping entries as the authenticator's
//! `config.RoleMapping` / `config.UserMapping` hold them, how one entry matches an ARN, and the
//! errors of reading and editing.

use std::fmt;

use super::edit::{Fields, Val};

/// The data keys the authenticator reads.
pub const MAP_ROLES: &str = "mapRoles";
pub const MAP_USERS: &str = "mapUsers";
pub const MAP_ACCOUNTS: &str = "mapAccounts";

/// Which list of the ConfigMap an entry lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataKey {
    MapRoles,
    MapUsers,
    MapAccounts,
}

impl DataKey {
    pub fn as_str(self) -> &'static str {
        match self {
            DataKey::MapRoles => MAP_ROLES,
            DataKey::MapUsers => MAP_USERS,
            DataKey::MapAccounts => MAP_ACCOUNTS,
        }
    }
}

impl fmt::Display for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Errors reading aws-auth. Lines and columns are 1-based, within the value of `key`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsAuthError {
    #[error(
        "`{key}` is not valid YAML at line {line}, column {column}: {message}; aws-iam-authenticator rejects the whole `{key}` value"
    )]
    Syntax {
        key: DataKey,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "`{key}` at line {line}, column {column}: {message}; aws-iam-authenticator rejects the whole `{key}` value"
    )]
    Type {
        key: DataKey,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "`{key}` uses {what} at line {line}, column {column}, which is not supported for editing"
    )]
    Unsupported {
        key: DataKey,
        line: usize,
        column: usize,
        what: &'static str,
    },
}

impl AwsAuthError {
    pub fn key(&self) -> DataKey {
        match self {
            AwsAuthError::Syntax { key, .. }
            | AwsAuthError::Type { key, .. }
            | AwsAuthError::Unsupported { key, .. } => *key,
        }
    }

    /// (line, column), 1-based, within the value of [`Self::key`].
    pub fn position(&self) -> (usize, usize) {
        match self {
            AwsAuthError::Syntax { line, column, .. }
            | AwsAuthError::Type { line, column, .. }
            | AwsAuthError::Unsupported { line, column, .. } => (*line, *column),
        }
    }
}

/// An edit that did not read back as intended: the document is left as it was. This is a bug in
/// the editor (`aws_auth::edit`), reported instead of writing a document that might not say what
/// was asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "editing `{key}` produced text that does not read back as the intended mappings, so the edit was not made (a bug in kubectl-eks: please report it with the aws-auth document)"
)]
pub struct EditError {
    pub key: DataKey,
}

/// An `sso` matcher of a role mapping (`config.SSOARNMatcher`): matches the roles IAM Identity
/// Center creates for a permission set, whatever their random suffix.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SsoArnLike {
    pub permission_set_name: String,
    pub account_id: String,
    /// "" means the default, `aws`.
    pub partition: String,
}

impl SsoArnLike {
    /// The lower-cased ArnLike pattern the authenticator matches canonical role ARNs against
    /// (`RoleMapping.SSOArnLike()`). Mirrors its behaviour exactly: it sets the partition to `aws`
    /// only when none is given and otherwise leaves it empty, so an entry with an explicit
    /// `partition` produces `arn::iam::...` and never matches.
    pub fn pattern(&self) -> String {
        let partition = if self.partition.is_empty() { "aws" } else { "" };
        format!(
            "arn:{partition}:iam::{}:role/AWSReservedSSO_{}_*",
            self.account_id, self.permission_set_name
        )
        .to_lowercase()
    }

    /// Does `canonical_arn` match [`Self::pattern`] (ArnLike: `*` any run, `?` one character,
    /// compared without case)?
    pub fn matches(&self, canonical_arn: &str) -> bool {
        glob_match(&self.pattern(), &canonical_arn.to_lowercase())
    }
}

fn glob_match(pattern: &str, s: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = s.chars().collect();
    let (mut pi, mut si, mut star, mut mark) = (0, 0, None, 0);
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = si;
            pi += 1;
        } else if let Some(st) = star {
            pi = st + 1;
            mark += 1;
            si = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// One `mapRoles` entry (`config.RoleMapping`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleMapping {
    pub rolearn: String,
    pub username: String,
    pub groups: Vec<String>,
    pub sso: Option<SsoArnLike>,
    /// Only read by the authenticator's DynamicFile backend; kept as written.
    pub userid: String,
}

impl RoleMapping {
    pub fn new(
        rolearn: impl Into<String>,
        username: impl Into<String>,
        groups: Vec<String>,
    ) -> Self {
        RoleMapping {
            rolearn: rolearn.into(),
            username: username.into(),
            groups,
            ..Default::default()
        }
    }

    /// The authenticator's `Key()`: the lower-cased `rolearn`, or the `sso` pattern.
    pub fn key(&self) -> String {
        match &self.sso {
            Some(sso) if self.rolearn.is_empty() => sso.pattern(),
            _ => self.rolearn.to_lowercase(),
        }
    }

    /// Does this entry match a canonical role ARN the way the authenticator's `Matches` does?
    /// `sso_role_match` is the authenticator's `SSORoleMatch` feature gate (alpha, off by default).
    pub fn matches(&self, canonical_arn: &str, sso_role_match: bool) -> bool {
        if !self.rolearn.is_empty() {
            return self.rolearn.to_lowercase() == canonical_arn.to_lowercase();
        }
        sso_role_match && self.sso.as_ref().is_some_and(|s| s.matches(canonical_arn))
    }

    pub(super) fn fields(&self) -> Fields {
        let mut f: Fields = Vec::new();
        if !self.rolearn.is_empty() || self.sso.is_none() {
            f.push(("rolearn", Val::Str(self.rolearn.clone())));
        }
        if let Some(sso) = &self.sso {
            let mut kv = vec![
                ("permissionSetName", sso.permission_set_name.clone()),
                ("accountID", sso.account_id.clone()),
            ];
            if !sso.partition.is_empty() {
                kv.push(("partition", sso.partition.clone()));
            }
            f.push(("sso", Val::Map(kv)));
        }
        f.push(("username", Val::Str(self.username.clone())));
        f.push(("groups", Val::List(self.groups.clone())));
        if !self.userid.is_empty() {
            f.push(("userid", Val::Str(self.userid.clone())));
        }
        f
    }
}

/// One `mapUsers` entry (`config.UserMapping`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UserMapping {
    pub userarn: String,
    pub username: String,
    pub groups: Vec<String>,
    pub userid: String,
}

impl UserMapping {
    pub fn new(
        userarn: impl Into<String>,
        username: impl Into<String>,
        groups: Vec<String>,
    ) -> Self {
        UserMapping {
            userarn: userarn.into(),
            username: username.into(),
            groups,
            ..Default::default()
        }
    }

    pub fn matches(&self, canonical_arn: &str) -> bool {
        !self.userarn.is_empty() && self.userarn.to_lowercase() == canonical_arn.to_lowercase()
    }

    pub(super) fn fields(&self) -> Fields {
        let mut f: Fields = vec![
            ("userarn", Val::Str(self.userarn.clone())),
            ("username", Val::Str(self.username.clone())),
            ("groups", Val::List(self.groups.clone())),
        ];
        if !self.userid.is_empty() {
            f.push(("userid", Val::Str(self.userid.clone())));
        }
        f
    }
}

/// What an upsert did. `index` is the entry that now holds the mapping (the effective one: of
/// duplicates the authenticator keeps the last); `shadowed` are the other entries for the same
/// ARN, which the authenticator ignores and which were left as they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upsert {
    Unchanged { index: usize, shadowed: Vec<usize> },
    Updated { index: usize, shadowed: Vec<usize> },
    Added { index: usize },
}

impl Upsert {
    pub fn index(&self) -> usize {
        match self {
            Upsert::Unchanged { index, .. }
            | Upsert::Updated { index, .. }
            | Upsert::Added { index } => *index,
        }
    }

    pub fn shadowed(&self) -> &[usize] {
        match self {
            Upsert::Unchanged { shadowed, .. } | Upsert::Updated { shadowed, .. } => shadowed,
            Upsert::Added { .. } => &[],
        }
    }

    pub fn changed(&self) -> bool {
        !matches!(self, Upsert::Unchanged { .. })
    }
}

/// Where an entry was found: its 1-based line in its key's value, and why the authenticator
/// drops it (`Validate()`), if it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub line: usize,
    pub dropped: Option<String>,
}
