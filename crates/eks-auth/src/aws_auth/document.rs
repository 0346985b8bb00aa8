//! Pure: one aws-auth ConfigMap `data` parsed as the authenticator parses it: [`AwsAuth`], its
//! per-key documents (text, node tree, where each entry's fields sit) and the read API (entries,
//! validity, the effective entry for an ARN). Editing is in `editing.rs`.

use std::collections::BTreeMap;

use super::decode;
use super::edit::Fields;
use super::model::{
    AwsAuthError, DataKey, EntryInfo, MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, RoleMapping,
    SkippedField, UserMapping,
};
use super::yaml::{self, Kind, Node, YamlError};
use super::yaml_read;

#[derive(Debug, Clone)]
pub(super) struct Doc {
    pub(super) text: String,
    pub(super) root: Option<Node>,
    pub(super) refs: Vec<decode::Refs>,
    pub(super) info: Vec<EntryInfo>,
    /// Why this value cannot be edited (and, unless `Unsupported`, gives no mappings).
    pub(super) problem: Option<AwsAuthError>,
}

/// The aws-auth ConfigMap data, parsed as the authenticator parses it, editable losslessly.
#[derive(Debug, Clone)]
pub struct AwsAuth {
    pub(super) data: BTreeMap<String, String>,
    pub(super) roles_doc: Option<Doc>,
    pub(super) users_doc: Option<Doc>,
    pub(super) roles: Vec<RoleMapping>,
    pub(super) users: Vec<UserMapping>,
    pub(super) accounts: Vec<String>,
    /// `mapAccounts`: why it cannot be read or edited, and the items yaml.v2 skipped.
    pub(super) accounts_problem: Option<AwsAuthError>,
    pub(super) accounts_skipped: Vec<SkippedField>,
}

pub(super) fn from_yaml(key: DataKey, e: YamlError) -> AwsAuthError {
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

pub(super) fn from_type(key: DataKey, e: decode::TypeError) -> AwsAuthError {
    AwsAuthError::Type {
        key,
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

pub(super) fn skipped(e: decode::TypeError) -> SkippedField {
    SkippedField {
        line: e.line,
        column: e.column,
        message: e.message,
    }
}

/// The tree of one value as the authenticator reads it: the editing tree when the editor
/// understands the value, else yaml.v2's reading tree with the reason it cannot be edited, or no
/// tree with the reason it gives no mappings.
pub(super) fn read_root(key: DataKey, text: &str) -> (Option<Node>, Option<AwsAuthError>) {
    if decode::is_skippable(text) {
        return (None, None);
    }
    match yaml::parse(text) {
        Ok(root) => (root, None),
        Err(unsupported @ YamlError::Unsupported { .. }) => match yaml_read::parse_read(text) {
            Ok(root) => (root, Some(from_yaml(key, unsupported))),
            Err(e) => (None, Some(from_yaml(key, e))),
        },
        Err(e) => (None, Some(from_yaml(key, e))),
    }
}

pub(super) fn items(root: Option<&Node>) -> &[Node] {
    match root {
        Some(Node {
            kind: Kind::Seq { items, .. },
            ..
        }) => items,
        _ => &[],
    }
}

/// How one mapping list is decoded: the entry type, its decoder and its `Validate()`.
pub(super) trait Entry: Clone + PartialEq + Sized {
    const KEY: DataKey;
    /// The ConfigMap data, this list's document and its entries.
    fn parts(
        a: &mut AwsAuth,
    ) -> (
        &mut BTreeMap<String, String>,
        &mut Option<Doc>,
        &mut Vec<Self>,
    );
    fn decode(root: Option<&Node>) -> decode::Decoded<Self>;
    fn invalid(&self) -> Option<String>;
    /// This list's document and entries, for reading.
    fn list(a: &AwsAuth) -> (Option<&Doc>, &[Self]);
    /// The valid entries that map the same identity as `self`, in order (the last is effective).
    fn same_identity(&self, a: &AwsAuth) -> Vec<usize>;
    fn username(&self) -> &str;
    fn groups(&self) -> &[String];
    /// Sets what an upsert may change in place: the username, and the groups when given.
    fn update_from(&mut self, other: &Self, groups: bool);
    fn fields(&self) -> Fields;
}

impl Entry for RoleMapping {
    const KEY: DataKey = DataKey::MapRoles;
    fn parts(
        a: &mut AwsAuth,
    ) -> (
        &mut BTreeMap<String, String>,
        &mut Option<Doc>,
        &mut Vec<Self>,
    ) {
        (&mut a.data, &mut a.roles_doc, &mut a.roles)
    }
    fn decode(root: Option<&Node>) -> decode::Decoded<Self> {
        decode::roles(root)
    }
    fn invalid(&self) -> Option<String> {
        decode::role_invalid(self)
    }
    fn list(a: &AwsAuth) -> (Option<&Doc>, &[Self]) {
        (a.roles_doc.as_ref(), &a.roles)
    }
    fn same_identity(&self, a: &AwsAuth) -> Vec<usize> {
        a.role_entries_for(&self.key())
    }
    fn username(&self) -> &str {
        &self.username
    }
    fn groups(&self) -> &[String] {
        &self.groups
    }
    fn update_from(&mut self, other: &Self, groups: bool) {
        self.username.clone_from(&other.username);
        if groups {
            self.groups.clone_from(&other.groups);
        }
    }
    fn fields(&self) -> Fields {
        RoleMapping::fields(self)
    }
}

impl Entry for UserMapping {
    const KEY: DataKey = DataKey::MapUsers;
    fn parts(
        a: &mut AwsAuth,
    ) -> (
        &mut BTreeMap<String, String>,
        &mut Option<Doc>,
        &mut Vec<Self>,
    ) {
        (&mut a.data, &mut a.users_doc, &mut a.users)
    }
    fn decode(root: Option<&Node>) -> decode::Decoded<Self> {
        decode::users(root)
    }
    fn invalid(&self) -> Option<String> {
        decode::user_invalid(self)
    }
    fn list(a: &AwsAuth) -> (Option<&Doc>, &[Self]) {
        (a.users_doc.as_ref(), &a.users)
    }
    fn same_identity(&self, a: &AwsAuth) -> Vec<usize> {
        a.user_entries_for(&self.userarn)
    }
    fn username(&self) -> &str {
        &self.username
    }
    fn groups(&self) -> &[String] {
        &self.groups
    }
    fn update_from(&mut self, other: &Self, groups: bool) {
        self.username.clone_from(&other.username);
        if groups {
            self.groups.clone_from(&other.groups);
        }
    }
    fn fields(&self) -> Fields {
        UserMapping::fields(self)
    }
}

/// Reads one mapping list as the authenticator does; never fails (see [`Doc::problem`]).
pub(super) fn load<M: Entry>(text: &str) -> (Doc, Vec<M>) {
    let (mut root, mut problem) = read_root(M::KEY, text);
    let decoded = M::decode(root.as_ref());
    if let Some(top) = decoded.top {
        problem = Some(from_type(M::KEY, top));
        root = None;
    }
    let lines = items(root.as_ref()).iter().map(|n| n.pos.line);
    let count = decoded.entries.len();
    let mut entries = Vec::with_capacity(count);
    let mut refs = Vec::with_capacity(count);
    let mut info = Vec::with_capacity(count);
    for (((m, r), errs), line) in decoded.entries.into_iter().zip(decoded.skipped).zip(lines) {
        info.push(EntryInfo {
            line,
            dropped: m.invalid(),
            skipped: errs.into_iter().map(skipped).collect(),
        });
        entries.push(m);
        refs.push(r);
    }
    (
        Doc {
            text: text.to_owned(),
            root,
            refs,
            info,
            problem,
        },
        entries,
    )
}

impl AwsAuth {
    /// Read the ConfigMap's `data` as the authenticator reads it (keys other than the three
    /// mapping keys are kept as is). Never fails: what it could not read is in
    /// [`Self::problems`] and [`EntryInfo::skipped`], and reads as the authenticator reads it.
    pub fn read(data: &BTreeMap<String, String>) -> AwsAuth {
        let (roles_doc, roles) = match data.get(MAP_ROLES) {
            Some(t) => {
                let (d, r) = load::<RoleMapping>(t);
                (Some(d), r)
            }
            None => (None, Vec::new()),
        };
        let (users_doc, users) = match data.get(MAP_USERS) {
            Some(t) => {
                let (d, u) = load::<UserMapping>(t);
                (Some(d), u)
            }
            None => (None, Vec::new()),
        };
        let (accounts, accounts_problem, accounts_skipped) = match data.get(MAP_ACCOUNTS) {
            Some(t) => {
                let (root, problem) = read_root(DataKey::MapAccounts, t);
                let (accounts, mut errs) = decode::accounts(root.as_ref());
                // A value that is not a list reads as no accounts: that is a problem, not a skip.
                let top = root
                    .as_ref()
                    .is_some_and(|r| !r.is_null() && !matches!(r.kind, Kind::Seq { .. }));
                let problem = if top {
                    Some(from_type(DataKey::MapAccounts, errs.remove(0)))
                } else {
                    problem
                };
                (accounts, problem, errs.into_iter().map(skipped).collect())
            }
            None => (Vec::new(), None, Vec::new()),
        };
        AwsAuth {
            data: data.clone(),
            roles_doc,
            users_doc,
            roles,
            users,
            accounts,
            accounts_problem,
            accounts_skipped,
        }
    }

    /// [`Self::read`], for editing: refuses a document with a value it cannot edit losslessly
    /// (the first such problem, with its key and position).
    pub fn parse(data: &BTreeMap<String, String>) -> Result<AwsAuth, AwsAuthError> {
        let a = AwsAuth::read(data);
        match a.problems().into_iter().next() {
            Some(p) => Err(p.clone()),
            None => Ok(a),
        }
    }

    /// Why values cannot be edited (and, unless [`AwsAuthError::readable`], why the
    /// authenticator reads no mappings from them), in key order: `mapRoles`, `mapUsers`,
    /// `mapAccounts`.
    pub fn problems(&self) -> Vec<&AwsAuthError> {
        [
            self.roles_doc.as_ref().and_then(|d| d.problem.as_ref()),
            self.users_doc.as_ref().and_then(|d| d.problem.as_ref()),
            self.accounts_problem.as_ref(),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    /// The `mapAccounts` items yaml.v2 skipped (not scalars).
    pub fn accounts_skipped(&self) -> &[SkippedField] {
        &self.accounts_skipped
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
            accounts_problem: None,
            accounts_skipped: Vec::new(),
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
        let key = super::model::go_to_lower(key);
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
}
