//! The `kube-system/aws-auth` ConfigMap's `data` as a lossless document.
//!
//! [`AwsAuth::parse`] reads `mapRoles`, `mapUsers` and `mapAccounts` exactly as
//! aws-iam-authenticator's EKS ConfigMap mapper does (see `decode.rs` for the source and the
//! rules), but refuses what the authenticator would reject: a value that does not decode is an
//! [`AwsAuthError`] with its key, line and column, never a silently empty list (the authenticator
//! drops or freezes the whole value: "a typo in aws-auth drops every mapping").
//!
//! Edits ([`AwsAuth::upsert_role`], [`AwsAuth::upsert_user`], [`AwsAuth::remove`]) change only
//! the bytes of the entry they touch; [`AwsAuth::render`] returns every other key and line byte
//! for byte. After each edit the value is parsed again and checked to read back as intended.

mod check;
mod decode;
mod edit;
mod yaml;

use std::collections::BTreeMap;
use std::fmt;

pub use check::{Issue, IssueKind, LockoutRisk, lockout_check};

use edit::{EntryStyle, Fields, Val};
use yaml::{Kind, Node, YamlError};

/// The data keys the authenticator reads.
pub const MAP_ROLES: &str = "mapRoles";
pub const MAP_USERS: &str = "mapUsers";
pub const MAP_ACCOUNTS: &str = "mapAccounts";

/// Partitions the authenticator accepts for `sso.partition` (`endpoints.PARTITIONS`).
pub(crate) const PARTITIONS: &[&str] = &[
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

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

    fn fields(&self) -> Fields {
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

    fn fields(&self) -> Fields {
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

#[derive(Debug, Clone)]
struct Doc {
    text: String,
    root: Option<Node>,
    refs: Vec<decode::Refs>,
    info: Vec<EntryInfo>,
}

/// The aws-auth ConfigMap data, parsed as the authenticator parses it, editable losslessly.
#[derive(Debug, Clone)]
pub struct AwsAuth {
    data: BTreeMap<String, String>,
    roles_doc: Option<Doc>,
    users_doc: Option<Doc>,
    roles: Vec<RoleMapping>,
    users: Vec<UserMapping>,
    accounts: Vec<String>,
}

fn from_yaml(key: DataKey, e: YamlError) -> AwsAuthError {
    match e {
        YamlError::Syntax { message, pos } => AwsAuthError::Syntax {
            key,
            line: pos.line,
            column: pos.column,
            message,
        },
        YamlError::Unsupported { what, pos } => AwsAuthError::Unsupported {
            key,
            line: pos.line,
            column: pos.column,
            what,
        },
    }
}

fn from_type(key: DataKey, e: decode::TypeError) -> AwsAuthError {
    AwsAuthError::Type {
        key,
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

fn parse_root(key: DataKey, text: &str) -> Result<Option<Node>, AwsAuthError> {
    if decode::is_skippable(text) {
        return Ok(None);
    }
    yaml::parse(text).map_err(|e| from_yaml(key, e))
}

fn items(root: Option<&Node>) -> &[Node] {
    match root {
        Some(Node {
            kind: Kind::Seq { items, .. },
            ..
        }) => items,
        _ => &[],
    }
}

fn load_roles(text: &str) -> Result<(Doc, Vec<RoleMapping>), AwsAuthError> {
    let root = parse_root(DataKey::MapRoles, text)?;
    let decoded = decode::roles(root.as_ref()).map_err(|e| from_type(DataKey::MapRoles, e))?;
    let lines = items(root.as_ref()).iter().map(|n| n.pos.line);
    let mut roles = Vec::new();
    let mut refs = Vec::new();
    let mut info = Vec::new();
    for ((m, r), line) in decoded.into_iter().zip(lines) {
        info.push(EntryInfo {
            line,
            dropped: decode::role_invalid(&m),
        });
        roles.push(m);
        refs.push(r);
    }
    Ok((
        Doc {
            text: text.to_owned(),
            root,
            refs,
            info,
        },
        roles,
    ))
}

fn load_users(text: &str) -> Result<(Doc, Vec<UserMapping>), AwsAuthError> {
    let root = parse_root(DataKey::MapUsers, text)?;
    let decoded = decode::users(root.as_ref()).map_err(|e| from_type(DataKey::MapUsers, e))?;
    let lines = items(root.as_ref()).iter().map(|n| n.pos.line);
    let mut users = Vec::new();
    let mut refs = Vec::new();
    let mut info = Vec::new();
    for ((m, r), line) in decoded.into_iter().zip(lines) {
        info.push(EntryInfo {
            line,
            dropped: decode::user_invalid(&m),
        });
        users.push(m);
        refs.push(r);
    }
    Ok((
        Doc {
            text: text.to_owned(),
            root,
            refs,
            info,
        },
        users,
    ))
}

const ROLE_FIELDS: &[&str] = &["rolearn", "sso", "username", "groups", "userid"];
const USER_FIELDS: &[&str] = &["userarn", "username", "groups", "userid"];

fn same_groups(a: &[String], b: &[String]) -> bool {
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    a.dedup();
    b.sort();
    b.dedup();
    a == b
}

impl AwsAuth {
    /// Parse the ConfigMap's `data` (keys other than the three mapping keys are kept as is).
    pub fn parse(data: &BTreeMap<String, String>) -> Result<AwsAuth, AwsAuthError> {
        let (roles_doc, roles) = match data.get(MAP_ROLES) {
            Some(t) => {
                let (d, r) = load_roles(t)?;
                (Some(d), r)
            }
            None => (None, Vec::new()),
        };
        let (users_doc, users) = match data.get(MAP_USERS) {
            Some(t) => {
                let (d, u) = load_users(t)?;
                (Some(d), u)
            }
            None => (None, Vec::new()),
        };
        let accounts = match data.get(MAP_ACCOUNTS) {
            Some(t) => {
                let root = parse_root(DataKey::MapAccounts, t)?;
                decode::accounts(root.as_ref()).map_err(|e| from_type(DataKey::MapAccounts, e))?
            }
            None => Vec::new(),
        };
        Ok(AwsAuth {
            data: data.clone(),
            roles_doc,
            users_doc,
            roles,
            users,
            accounts,
        })
    }

    /// An empty aws-auth (no keys), for a cluster without the ConfigMap.
    pub fn empty() -> AwsAuth {
        AwsAuth {
            data: BTreeMap::new(),
            roles_doc: None,
            users_doc: None,
            roles: Vec::new(),
            users: Vec::new(),
            accounts: Vec::new(),
        }
    }

    pub fn roles(&self) -> &[RoleMapping] {
        &self.roles
    }

    pub fn users(&self) -> &[UserMapping] {
        &self.users
    }

    pub fn accounts(&self) -> &[String] {
        &self.accounts
    }

    /// Line and validity of `mapRoles` entry `index`.
    pub fn role_info(&self, index: usize) -> Option<&EntryInfo> {
        self.roles_doc.as_ref()?.info.get(index)
    }

    /// Line and validity of `mapUsers` entry `index`.
    pub fn user_info(&self, index: usize) -> Option<&EntryInfo> {
        self.users_doc.as_ref()?.info.get(index)
    }

    fn role_valid(&self, i: usize) -> bool {
        self.role_info(i).is_none_or(|e| e.dropped.is_none())
    }

    fn user_valid(&self, i: usize) -> bool {
        self.user_info(i).is_none_or(|e| e.dropped.is_none())
    }

    /// Indices of the valid `mapRoles` entries with this key (see [`RoleMapping::key`]), in order;
    /// the last one is the one the authenticator uses.
    pub fn role_entries_for(&self, key: &str) -> Vec<usize> {
        let key = key.to_lowercase();
        (0..self.roles.len())
            .filter(|&i| self.role_valid(i) && self.roles[i].key() == key)
            .collect()
    }

    /// Indices of the valid `mapUsers` entries for this ARN (compared without case), in order.
    pub fn user_entries_for(&self, arn: &str) -> Vec<usize> {
        (0..self.users.len())
            .filter(|&i| self.user_valid(i) && self.users[i].matches(arn))
            .collect()
    }

    /// The effective `mapRoles` entry for a canonical role ARN, as the authenticator looks it up
    /// (keyed by lower-cased ARN, last duplicate wins; `sso` entries only with `sso_role_match`).
    pub fn effective_role(&self, canonical_arn: &str, sso_role_match: bool) -> Option<usize> {
        (0..self.roles.len())
            .rev()
            .find(|&i| self.role_valid(i) && self.roles[i].matches(canonical_arn, sso_role_match))
    }

    /// The effective `mapUsers` entry for an ARN. The authenticator keys users by their exact
    /// ARN text and compares without case, so two entries differing only in case are both kept
    /// and which one answers is not defined; this returns the last (see [`IssueKind::Ambiguous`]).
    pub fn effective_user(&self, canonical_arn: &str) -> Option<usize> {
        (0..self.users.len())
            .rev()
            .find(|&i| self.user_valid(i) && self.users[i].matches(canonical_arn))
    }

    fn style_for(&self, key: DataKey) -> EntryStyle {
        let (own, other, canon, other_canon, from, to) = match key {
            DataKey::MapUsers => (
                &self.users_doc,
                &self.roles_doc,
                USER_FIELDS,
                ROLE_FIELDS,
                "rolearn",
                "userarn",
            ),
            _ => (
                &self.roles_doc,
                &self.users_doc,
                ROLE_FIELDS,
                USER_FIELDS,
                "userarn",
                "rolearn",
            ),
        };
        let template = |doc: &Option<Doc>, canon: &[&'static str]| {
            let doc = doc.as_ref()?;
            let root = doc.root.as_ref()?;
            let Kind::Seq { items, flow } = &root.kind else {
                return None;
            };
            let entry = items
                .iter()
                .rev()
                .find(|n| matches!(n.kind, Kind::Map { .. }))?;
            let dash_col = if *flow { 0 } else { root.col };
            Some(EntryStyle::learn(&doc.text, entry, canon, dash_col))
        };
        if let Some(st) = template(own, canon) {
            return st;
        }
        let own_col = own
            .as_ref()
            .and_then(|d| d.root.as_ref())
            .map_or(0, |r| r.col);
        match template(other, other_canon) {
            Some(st) if !st.flow_entry => st.translate(from, to, own_col),
            _ => EntryStyle::default_at(own_col),
        }
    }

    /// Add or update the mapping for `m.rolearn` (or its `sso` matcher). An existing entry is
    /// updated in place (username and groups only; groups compared as a set); with duplicates,
    /// the effective (last) one is updated and the others are reported as shadowed.
    pub fn upsert_role(&mut self, m: RoleMapping) -> Upsert {
        let found = self.role_entries_for(&m.key());
        let text = self
            .roles_doc
            .as_ref()
            .map_or("", |d| d.text.as_str())
            .to_owned();
        if let Some((&index, rest)) = found.split_last() {
            let shadowed = rest.to_vec();
            let cur = &self.roles[index];
            let username = (cur.username != m.username).then_some(m.username.as_str());
            let groups = (!same_groups(&cur.groups, &m.groups)).then_some(m.groups.as_slice());
            if username.is_none() && groups.is_none() {
                return Upsert::Unchanged { index, shadowed };
            }
            let mut want = self.roles.clone();
            want[index].username.clone_from(&m.username);
            if groups.is_some() {
                want[index].groups.clone_from(&m.groups);
            }
            let doc = self
                .roles_doc
                .as_ref()
                .expect("entries come from a document");
            let entry = &items(doc.root.as_ref())[index];
            let style = self.style_for(DataKey::MapRoles);
            let splices =
                edit::update_entry(&text, entry, &doc.refs[index], &style, username, groups);
            let edited = edit::apply(&text, splices);
            let fallback = edit::replace_entry_flow(
                &text,
                doc.root.as_ref().expect("root"),
                index,
                &want[index].fields(),
            );
            self.commit_roles(edited, fallback, &want);
            return Upsert::Updated { index, shadowed };
        }
        let style = self.style_for(DataKey::MapRoles);
        let root = self.roles_doc.as_ref().and_then(|d| d.root.as_ref());
        let edited = edit::append_entry(&text, root, &style, &m.fields());
        let mut want = self.roles.clone();
        want.push(m.clone());
        let fallback = edit::append_entry(
            &text,
            root,
            &EntryStyle::default_at(root.map_or(0, |r| r.col)),
            &m.fields(),
        );
        self.commit_roles(edited, fallback, &want);
        Upsert::Added {
            index: self.roles.len() - 1,
        }
    }

    /// Add or update the mapping for `m.userarn` (compared without case), as [`Self::upsert_role`].
    pub fn upsert_user(&mut self, m: UserMapping) -> Upsert {
        let found = self.user_entries_for(&m.userarn);
        let text = self
            .users_doc
            .as_ref()
            .map_or("", |d| d.text.as_str())
            .to_owned();
        if let Some((&index, rest)) = found.split_last() {
            let shadowed = rest.to_vec();
            let cur = &self.users[index];
            let username = (cur.username != m.username).then_some(m.username.as_str());
            let groups = (!same_groups(&cur.groups, &m.groups)).then_some(m.groups.as_slice());
            if username.is_none() && groups.is_none() {
                return Upsert::Unchanged { index, shadowed };
            }
            let mut want = self.users.clone();
            want[index].username.clone_from(&m.username);
            if groups.is_some() {
                want[index].groups.clone_from(&m.groups);
            }
            let doc = self
                .users_doc
                .as_ref()
                .expect("entries come from a document");
            let entry = &items(doc.root.as_ref())[index];
            let style = self.style_for(DataKey::MapUsers);
            let splices =
                edit::update_entry(&text, entry, &doc.refs[index], &style, username, groups);
            let edited = edit::apply(&text, splices);
            let fallback = edit::replace_entry_flow(
                &text,
                doc.root.as_ref().expect("root"),
                index,
                &want[index].fields(),
            );
            self.commit_users(edited, fallback, &want);
            return Upsert::Updated { index, shadowed };
        }
        let style = self.style_for(DataKey::MapUsers);
        let root = self.users_doc.as_ref().and_then(|d| d.root.as_ref());
        let edited = edit::append_entry(&text, root, &style, &m.fields());
        let mut want = self.users.clone();
        want.push(m.clone());
        let fallback = edit::append_entry(
            &text,
            root,
            &EntryStyle::default_at(root.map_or(0, |r| r.col)),
            &m.fields(),
        );
        self.commit_users(edited, fallback, &want);
        Upsert::Added {
            index: self.users.len() - 1,
        }
    }

    /// Remove every `mapRoles` and `mapUsers` entry whose ARN equals `arn` without case (all
    /// duplicates, valid or not). Returns how many entries were removed.
    pub fn remove(&mut self, arn: &str) -> usize {
        let lower = arn.to_lowercase();
        let mut removed = 0;
        while let Some(i) = self
            .roles
            .iter()
            .rposition(|r| !r.rolearn.is_empty() && r.rolearn.to_lowercase() == lower)
        {
            let doc = self
                .roles_doc
                .as_ref()
                .expect("entries come from a document");
            let edited = edit::remove_entry(&doc.text, doc.root.as_ref().expect("root"), i);
            let mut want = self.roles.clone();
            want.remove(i);
            self.commit_roles(edited.clone(), edited, &want);
            removed += 1;
        }
        while let Some(i) = self
            .users
            .iter()
            .rposition(|u| !u.userarn.is_empty() && u.userarn.to_lowercase() == lower)
        {
            let doc = self
                .users_doc
                .as_ref()
                .expect("entries come from a document");
            let edited = edit::remove_entry(&doc.text, doc.root.as_ref().expect("root"), i);
            let mut want = self.users.clone();
            want.remove(i);
            self.commit_users(edited.clone(), edited, &want);
            removed += 1;
        }
        removed
    }

    fn commit_roles(&mut self, edited: String, fallback: String, want: &[RoleMapping]) {
        let check = |t: &str| load_roles(t).ok().filter(|(_, r)| r == want);
        let (doc, roles) = check(&edited)
            .or_else(|| check(&fallback))
            .expect("an aws-auth edit must read back as intended (bug in aws_auth::edit)");
        self.data.insert(MAP_ROLES.to_owned(), doc.text.clone());
        self.roles_doc = Some(doc);
        self.roles = roles;
    }

    fn commit_users(&mut self, edited: String, fallback: String, want: &[UserMapping]) {
        let check = |t: &str| load_users(t).ok().filter(|(_, u)| u == want);
        let (doc, users) = check(&edited)
            .or_else(|| check(&fallback))
            .expect("an aws-auth edit must read back as intended (bug in aws_auth::edit)");
        self.data.insert(MAP_USERS.to_owned(), doc.text.clone());
        self.users_doc = Some(doc);
        self.users = users;
    }

    /// The ConfigMap data: keys and lines no edit touched are byte-for-byte as parsed.
    pub fn render(&self) -> BTreeMap<String, String> {
        self.data.clone()
    }
}

#[cfg(test)]
mod tests;
