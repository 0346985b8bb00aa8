//! Pure: one aws-auth ConfigMap `data` parsed as the authenticator parses it: [`AwsAuth`], its
//! per-key documents (text, node tree, where each entry's fields sit) and the read API (entries,
//! validity, the effective entry for an ARN). Editing is in `editing.rs`.

use std::collections::BTreeMap;

use super::decode;
use super::edit::Fields;
use super::model::{
    AwsAuthError, DataKey, EntryInfo, MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, RoleMapping, UserMapping,
};
use super::yaml::{self, Kind, Node, YamlError};

#[derive(Debug, Clone)]
pub(super) struct Doc {
    pub(super) text: String,
    pub(super) root: Option<Node>,
    pub(super) refs: Vec<decode::Refs>,
    pub(super) info: Vec<EntryInfo>,
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

pub(super) fn parse_root(key: DataKey, text: &str) -> Result<Option<Node>, AwsAuthError> {
    if decode::is_skippable(text) {
        return Ok(None);
    }
    yaml::parse(text).map_err(|e| from_yaml(key, e))
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
    fn decode(root: Option<&Node>) -> Result<Vec<(Self, decode::Refs)>, decode::TypeError>;
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
    fn decode(root: Option<&Node>) -> Result<Vec<(Self, decode::Refs)>, decode::TypeError> {
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
    fn decode(root: Option<&Node>) -> Result<Vec<(Self, decode::Refs)>, decode::TypeError> {
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

pub(super) fn load<M: Entry>(text: &str) -> Result<(Doc, Vec<M>), AwsAuthError> {
    let root = parse_root(M::KEY, text)?;
    let decoded = M::decode(root.as_ref()).map_err(|e| from_type(M::KEY, e))?;
    let lines = items(root.as_ref()).iter().map(|n| n.pos.line);
    let mut entries = Vec::with_capacity(decoded.len());
    let mut refs = Vec::with_capacity(decoded.len());
    let mut info = Vec::with_capacity(decoded.len());
    for ((m, r), line) in decoded.into_iter().zip(lines) {
        info.push(EntryInfo {
            line,
            dropped: m.invalid(),
        });
        entries.push(m);
        refs.push(r);
    }
    Ok((
        Doc {
            text: text.to_owned(),
            root,
            refs,
            info,
        },
        entries,
    ))
}

impl AwsAuth {
    /// Parse the ConfigMap's `data` (keys other than the three mapping keys are kept as is).
    pub fn parse(data: &BTreeMap<String, String>) -> Result<AwsAuth, AwsAuthError> {
        let (roles_doc, roles) = match data.get(MAP_ROLES) {
            Some(t) => {
                let (d, r) = load::<RoleMapping>(t)?;
                (Some(d), r)
            }
            None => (None, Vec::new()),
        };
        let (users_doc, users) = match data.get(MAP_USERS) {
            Some(t) => {
                let (d, u) = load::<UserMapping>(t)?;
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
}
