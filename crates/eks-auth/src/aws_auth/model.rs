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

/// Why a value of aws-auth cannot be edited, and for `Syntax` and `Type` also why the
/// authenticator reads no mappings from it. Lines and columns are 1-based, within the value of
/// `key`. Reading ([`super::AwsAuth::read`]) never fails: it records these and reads what the
/// authenticator reads; [`super::AwsAuth::parse`], for editing, refuses them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AwsAuthError {
    #[error(
        "`{key}` is not valid YAML at line {line}, column {column}: {message}; aws-iam-authenticator reads no mappings from it"
    )]
    Syntax {
        key: DataKey,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "`{key}` at line {line}, column {column}: {message}; aws-iam-authenticator reads no mappings from it"
    )]
    Type {
        key: DataKey,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "`{key}` uses {what} at line {line}, column {column}: aws-iam-authenticator reads it, but kubectl-eks cannot edit it without rewriting the value"
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

    /// Whether the authenticator still reads mappings from the value (only editing is refused).
    pub fn readable(&self) -> bool {
        matches!(self, AwsAuthError::Unsupported { .. })
    }
}

/// An edit that was not made; the document is left as it was.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    /// The edit did not read back as intended. This is a bug in the editor
    /// (`aws_auth::edit`), reported instead of writing a document that might not say what was
    /// asked.
    #[error(
        "editing `{key}` produced text that does not read back as the intended mappings, so the edit was not made (a bug in kubectl-eks: please report it with the aws-auth document)"
    )]
    NoReadBack { key: DataKey },
    /// The value cannot be edited losslessly (see [`AwsAuthError`]).
    #[error("{0}")]
    NotEditable(AwsAuthError),
}

/// A field the authenticator's decoder skipped because of its type: the entry is kept, the field
/// keeps its zero value (encoding/json). Line and column are 1-based, within the key's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedField {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Go's `strings.ToLower`: each character mapped on its own by `unicode.ToLower` (one character
/// to one: `İ` becomes `i`, where Rust's full mapping gives two characters).
pub fn go_to_lower(s: &str) -> String {
    s.chars().map(lower1).collect()
}

fn lower1(c: char) -> char {
    if c == '\u{130}' {
        return 'i';
    }
    let mut l = c.to_lowercase();
    match (l.next(), l.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

fn upper1(c: char) -> char {
    let mut u = c.to_uppercase();
    match (u.next(), u.next()) {
        (Some(one), None) => one,
        _ => c,
    }
}

/// The class of `c` under Unicode simple case folding, as Go's `unicode.SimpleFold` orbits
/// group characters: `k`, `K` and the Kelvin sign `K` are one class, `s`, `S` and `ſ` another;
/// dotless `ı` and dotted `İ` fold to nothing else.
fn fold_class(c: char) -> char {
    match c {
        '\u{131}' | '\u{130}' => c,
        _ => lower1(upper1(c)),
    }
}

/// Go's `strings.EqualFold`: equal under simple Unicode case folding, character by character.
pub fn go_equal_fold(a: &str, b: &str) -> bool {
    let mut a = a.chars();
    let mut b = b.chars();
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if x == y || fold_class(x) == fold_class(y) => {}
            _ => return false,
        }
    }
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

    /// Does `canonical_arn`, lower-cased as the authenticator's `Map` does, match
    /// [`Self::pattern`] by [`arn_like`]?
    pub fn matches(&self, canonical_arn: &str) -> bool {
        arn_like(&go_to_lower(canonical_arn), &self.pattern()).unwrap_or(false)
    }
}

/// The authenticator's `arn.ArnLike` (pkg/arn/arnlike.go): both strings start with `arn:` and
/// have six `:`-separated sections (the last takes the rest); each section of `arn` matches the
/// pattern's section, where `*` is any run of characters and `?` is at most one (it becomes the
/// regexp `.?`), neither crossing a newline, everything else literal and case-sensitive.
/// `None` when either does not parse (the authenticator returns an error, so no match).
pub fn arn_like(arn: &str, pattern: &str) -> Option<bool> {
    let sections = |s: &str| -> Option<Vec<String>> {
        let v: Vec<String> = s.splitn(6, ':').map(str::to_owned).collect();
        (s.starts_with("arn:") && v.len() == 6).then_some(v)
    };
    let (a, p) = (sections(arn)?, sections(pattern)?);
    Some(a.iter().zip(&p).all(|(a, p)| section_like(a, p)))
}

fn section_like(s: &str, p: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = p.chars().collect();
    // reach[j]: the first j pattern characters can match the text read so far.
    let mut reach = vec![false; p.len() + 1];
    reach[0] = true;
    let close = |reach: &mut Vec<bool>| {
        for j in 0..p.len() {
            if reach[j] && (p[j] == '*' || p[j] == '?') {
                reach[j + 1] = true;
            }
        }
    };
    close(&mut reach);
    for &c in &s {
        let mut next = vec![false; p.len() + 1];
        for j in 0..p.len() {
            if !reach[j] {
                continue;
            }
            match p[j] {
                '*' if c != '\n' => next[j] = true,
                '?' if c != '\n' => next[j + 1] = true,
                '*' | '?' => {}
                lit if lit == c => next[j + 1] = true,
                _ => {}
            }
        }
        close(&mut next);
        reach = next;
    }
    reach[p.len()]
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

    /// The authenticator's `Key()`: the lower-cased `rolearn` (`strings.ToLower`), or the `sso`
    /// pattern.
    pub fn key(&self) -> String {
        match &self.sso {
            Some(sso) if self.rolearn.is_empty() => sso.pattern(),
            _ => go_to_lower(&self.rolearn),
        }
    }

    /// Does this entry match a canonical role ARN the way the authenticator's `Matches` does?
    /// `sso_role_match` is the authenticator's `SSORoleMatch` feature gate (alpha, off by default).
    pub fn matches(&self, canonical_arn: &str, sso_role_match: bool) -> bool {
        if !self.rolearn.is_empty() {
            // `Map` lower-cases the subject, `Matches` compares with strings.EqualFold.
            return go_equal_fold(&self.rolearn, &go_to_lower(canonical_arn));
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
        !self.userarn.is_empty() && go_equal_fold(&self.userarn, &go_to_lower(canonical_arn))
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

/// Where an entry was found: its 1-based line in its key's value, why the authenticator drops
/// it (`Validate()`), if it does, and the fields its decoder skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryInfo {
    pub line: usize,
    pub dropped: Option<String>,
    pub skipped: Vec<SkippedField>,
}
