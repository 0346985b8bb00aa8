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
//! for byte. After each edit the changed value is read again and checked to read back as exactly
//! the intended entries: through the lines of the one entry it touched when the list is a block
//! list (see `reread_window`), otherwise by parsing the whole value. An edit that does not read
//! back is an [`EditError`] and changes nothing.

mod check;
mod decode;
mod edit;
mod simple;
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

/// How one mapping list is decoded: the entry type, its decoder and its `Validate()`.
trait Entry: Clone + PartialEq + Sized {
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

fn load<M: Entry>(text: &str) -> Result<(Doc, Vec<M>), AwsAuthError> {
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

/// Where the lines of block-list item `item` begin: the start of the line of its `-`, when only
/// spaces precede that `-` and it is at the list's column `col`.
fn item_line_start(text: &str, item: &Node, col: usize) -> Option<(usize, usize)> {
    let (dash, pos, dash_col) = yaml::dash_before(text, item)?;
    let ls = edit::line_start(text, dash);
    (dash_col == col && text.as_bytes()[ls..dash].iter().all(|&b| b == b' '))
        .then_some((ls, pos.line))
}

fn shift(node: &mut Node, bytes: isize, lines: isize) {
    node.start = node.start.wrapping_add_signed(bytes);
    node.end = node.end.wrapping_add_signed(bytes);
    node.pos.line = node.pos.line.wrapping_add_signed(lines);
    match &mut node.kind {
        Kind::Scalar { .. } => {}
        Kind::Seq { items, .. } => items.iter_mut().for_each(|n| shift(n, bytes, lines)),
        Kind::Map { pairs, .. } => pairs.iter_mut().for_each(|(k, v)| {
            shift(k, bytes, lines);
            shift(v, bytes, lines);
        }),
    }
}

/// An edit of a block list re-read through the one window of lines it changed.
struct Window<M> {
    /// Index of the old item whose lines were the window.
    index: usize,
    /// Byte offset of the window in both texts, its line number (1-based) there.
    start: usize,
    line: usize,
    /// What the edit did to everything after the window.
    bytes: isize,
    lines: isize,
    /// The window's items (positions relative to the window) and their decoded entries.
    items: Vec<Node>,
    decoded: Vec<(M, decode::Refs)>,
}

/// Reads `edited` back without parsing all of it, when `edited` differs from `doc.text` only
/// inside the lines of block-list item `index` (from the line of its `-` to the line of the next
/// item's `-`, or to the end of the text for the last item).
///
/// Why this reads the same as a full parse: the untouched text before the window ends at the
/// start of a line whose `-` is an item of the top-level block list (the full parse of the old
/// text says so), so a parser is in the same state there, before the edit and after it; the
/// window is parsed on its own from that state; and the untouched text after it starts with the
/// next item's `-` at the list's column, which closes whatever the window's last item holds
/// (block scalars, plain multi-line scalars and mappings all end at a line indented no more than
/// their parent). A window that would change the document level (`---`, `...`, a `%` directive)
/// or leave an open line is not accepted here. `None` means "not shown by this route": the
/// caller then parses the whole text.
fn reread_window<M: Entry>(doc: &Doc, edited: &str, index: usize, want: &[M]) -> Option<Window<M>> {
    let root = doc.root.as_ref()?;
    let Kind::Seq { flow: false, items } = &root.kind else {
        return None;
    };
    let old = doc.text.as_str();
    let (start, line) = item_line_start(old, items.get(index)?, root.col)?;
    let old_end = match items.get(index + 1) {
        Some(next) => item_line_start(old, next, root.col)?.0,
        None => old.len(),
    };
    let bytes = edited.len() as isize - old.len() as isize;
    let end = old_end.checked_add_signed(bytes)?;
    if end < start
        || !edited.is_char_boundary(start)
        || !edited.is_char_boundary(end)
        || edited.as_bytes()[..start] != old.as_bytes()[..start]
        || edited.as_bytes()[end..] != old.as_bytes()[old_end..]
    {
        return None;
    }
    let window = &edited[start..end];
    if old_end < old.len() && !window.ends_with('\n') {
        return None;
    }
    if window
        .split('\n')
        .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
    {
        return None;
    }
    // The window's items replace the one old item.
    let count = (want.len() + 1).checked_sub(items.len())?;
    let parsed = yaml::parse(window).ok()?;
    let new_items = match parsed {
        None => Vec::new(),
        Some(Node {
            kind: Kind::Seq { flow: false, items },
            col,
            ..
        }) if col == root.col => items,
        Some(_) => return None,
    };
    if new_items.len() != count || (index == 0 && count == 0) {
        return None;
    }
    let wrapped = Node {
        kind: Kind::Seq {
            flow: false,
            items: new_items,
        },
        start: 0,
        end: window.len(),
        pos: yaml::Pos { line: 1, column: 1 },
        col: root.col,
    };
    let decoded = M::decode(Some(&wrapped)).ok()?;
    if decoded
        .iter()
        .map(|(m, _)| m)
        .ne(&want[index..index + count])
    {
        return None;
    }
    let Kind::Seq {
        items: new_items, ..
    } = wrapped.kind
    else {
        return None;
    };
    let nl = |s: &str| s.bytes().filter(|&b| b == b'\n').count() as isize;
    Some(Window {
        index,
        start,
        line,
        bytes,
        lines: nl(window) - nl(&old[start..old_end]),
        items: new_items,
        decoded,
    })
}

/// Applies a re-read window to the parsed document and its entries.
fn patch_doc<M: Entry>(doc: &mut Doc, entries: &mut Vec<M>, edited: String, w: Window<M>) {
    let Window {
        index,
        start,
        line,
        bytes,
        lines,
        mut items,
        decoded,
    } = w;
    let root = doc.root.as_mut().expect("a window comes from a block list");
    let Kind::Seq {
        items: old_items, ..
    } = &mut root.kind
    else {
        unreachable!("a window comes from a block list");
    };
    for n in &mut items {
        shift(n, start as isize, line as isize - 1);
    }
    let count = items.len();
    let mut infos = Vec::with_capacity(count);
    let mut refs = Vec::with_capacity(count);
    let mut ms = Vec::with_capacity(count);
    for ((m, r), n) in decoded.into_iter().zip(&items) {
        infos.push(EntryInfo {
            line: n.pos.line,
            dropped: m.invalid(),
        });
        refs.push(r);
        ms.push(m);
    }
    old_items.splice(index..=index, items);
    doc.info.splice(index..=index, infos);
    doc.refs.splice(index..=index, refs);
    entries.splice(index..=index, ms);
    for n in &mut old_items[index + count..] {
        shift(n, bytes, lines);
    }
    for i in &mut doc.info[index + count..] {
        i.line = i.line.wrapping_add_signed(lines);
    }
    root.end = old_items.last().map_or(root.start, |n| n.end);
    if index == 0
        && let Some((dash, pos, col)) = yaml::dash_before(&edited, &old_items[0])
    {
        root.start = dash;
        root.pos = pos;
        root.col = col;
    }
    doc.text = edited;
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
    pub fn upsert_role(&mut self, m: RoleMapping) -> Result<Upsert, EditError> {
        self.upsert(m)
    }

    /// Add or update the mapping for `m.userarn` (compared without case), as [`Self::upsert_role`].
    pub fn upsert_user(&mut self, m: UserMapping) -> Result<Upsert, EditError> {
        self.upsert(m)
    }

    fn upsert<M: Entry>(&mut self, m: M) -> Result<Upsert, EditError> {
        let found = m.same_identity(self);
        let style = self.style_for(M::KEY);
        let (doc, entries) = M::list(self);
        let text = doc.map_or("", |d| d.text.as_str()).to_owned();
        if let Some((&index, rest)) = found.split_last() {
            let shadowed = rest.to_vec();
            let cur = &entries[index];
            let username = (cur.username() != m.username()).then_some(m.username());
            let groups = (!same_groups(cur.groups(), m.groups())).then_some(m.groups());
            if username.is_none() && groups.is_none() {
                return Ok(Upsert::Unchanged { index, shadowed });
            }
            let mut want = entries.to_vec();
            want[index].update_from(&m, groups.is_some());
            let doc = doc.expect("entries come from a document");
            let entry = &items(doc.root.as_ref())[index];
            let splices =
                edit::update_entry(&text, entry, &doc.refs[index], &style, username, groups);
            let edited = edit::apply(&text, splices);
            let fallback = edit::replace_entry_flow(
                &text,
                doc.root.as_ref().expect("root"),
                index,
                &want[index].fields(),
            );
            self.commit(Some(index), edited, fallback, want)?;
            return Ok(Upsert::Updated { index, shadowed });
        }
        let root = doc.and_then(|d| d.root.as_ref());
        let edited = edit::append_entry(&text, root, &style, &m.fields());
        let fallback = edit::append_entry(
            &text,
            root,
            &EntryStyle::default_at(root.map_or(0, |r| r.col)),
            &m.fields(),
        );
        let last = entries.len().checked_sub(1);
        let mut want = entries.to_vec();
        want.push(m);
        let added = want.len() - 1;
        self.commit(last, edited, fallback, want)?;
        Ok(Upsert::Added { index: added })
    }

    /// Remove every `mapRoles` and `mapUsers` entry whose ARN equals `arn` without case (all
    /// duplicates, valid or not). Returns how many entries were removed.
    pub fn remove(&mut self, arn: &str) -> Result<usize, EditError> {
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
            self.commit(Some(i), edited.clone(), edited, want)?;
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
            self.commit(Some(i), edited.clone(), edited, want)?;
            removed += 1;
        }
        Ok(removed)
    }

    /// Replaces the list `M::KEY` by `edited` (or, if that does not read back as `want`,
    /// `fallback`), after checking that it reads back as exactly `want`. `index` is the entry
    /// whose lines the edit changed (for an append, the last old entry). Nothing changes on error.
    fn commit<M: Entry>(
        &mut self,
        index: Option<usize>,
        edited: String,
        fallback: String,
        want: Vec<M>,
    ) -> Result<(), EditError> {
        let (data, doc_slot, entries) = M::parts(self);
        for text in [edited, fallback] {
            if let (Some(doc), Some(i)) = (doc_slot.as_mut(), index)
                && let Some(w) = reread_window(doc, &text, i, &want)
            {
                data.insert(M::KEY.as_str().to_owned(), text.clone());
                patch_doc(doc, entries, text, w);
                return Ok(());
            }
            if let Ok((doc, read)) = load::<M>(&text)
                && read == want
            {
                data.insert(M::KEY.as_str().to_owned(), text);
                *doc_slot = Some(doc);
                *entries = read;
                return Ok(());
            }
        }
        Err(EditError { key: M::KEY })
    }

    /// The ConfigMap data: keys and lines no edit touched are byte-for-byte as parsed.
    pub fn render(&self) -> BTreeMap<String, String> {
        self.data.clone()
    }
}

#[cfg(test)]
mod tests;
