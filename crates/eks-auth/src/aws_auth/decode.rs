//! Decoding one aws-auth value the way aws-iam-authenticator does.
//!
//! Source: kubernetes-sigs/aws-iam-authenticator `pkg/mapper/configmap/configmap.go` (`ParseMap`):
//! `mapRoles` and `mapUsers` go through `utilyaml.ToJSON` (sigs.k8s.io/yaml: yaml.v2 into
//! `interface{}`, then JSON) and `encoding/json.Unmarshal` into `[]config.RoleMapping` /
//! `[]config.UserMapping` (`pkg/config/types.go`). Consequences mirrored here:
//! - field names match in any letter case (encoding/json falls back to a case-insensitive match,
//!   with Unicode simple folding: `ſ` matches `s`, the Kelvin sign matches `k`);
//! - unknown fields are ignored; a duplicate key keeps its last value; keys reach the JSON decoder
//!   sorted by bytes (json.Marshal of a map), so of `rolearn` and `RoleARN` the later in that order wins;
//! - a value of the wrong type (`username: yes`, a number, a list) is skipped: the field keeps
//!   its zero value (or what an earlier duplicate key set), the entry is kept, and the decoder
//!   goes on (encoding/json `Unmarshal`: "skips that field and completes the unmarshaling as
//!   best it can"); `ParseMap` logs the error and keeps "the data that was good";
//! - an item that is not a mapping decodes to an all-empty entry, which `Validate()` then drops;
//!   a value that is not a list decodes to no entries;
//! - `null` leaves a field as it is (a list becomes empty); a `null` list item is an all-empty
//!   entry;
//! - a float that JSON cannot hold (`.inf`, `.nan`) anywhere in the value fails `ToJSON`: no
//!   entries at all from that value.
//!
//! `mapAccounts` goes through yaml.v2 straight into `[]string`: any scalar is taken as its text;
//! an item that is not a scalar is skipped; a value that is not a list gives no accounts.
//! A value that is blank, `""`, `''` or two backticks is skipped (`isSkippable`).
//! Each decoded entry then goes through `Validate()` (`pkg/config/mapper.go`); an entry that
//! fails it is dropped by the authenticator with an error, the others stay.

use super::yaml::{Kind, Node, Resolved, Style, resolve_plain};
use super::{RoleMapping, SsoArnLike, UserMapping};

/// Where the decoded value of a field came from, as an index into the entry's mapping pairs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Refs {
    pub arn: Option<usize>,
    pub username: Option<usize>,
    pub groups: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TypeError {
    pub message: String,
    pub line: usize,
    pub column: usize,
}

fn type_error(node: &Node, message: String) -> TypeError {
    TypeError {
        message,
        line: node.pos.line,
        column: node.pos.column,
    }
}

pub(crate) fn describe(node: &Node) -> &'static str {
    match &node.kind {
        Kind::Seq { .. } => "a list",
        Kind::Map { .. } => "a mapping",
        Kind::Scalar {
            value,
            style: Style::Plain,
        } => match resolve_plain(value) {
            Resolved::Null => "null",
            Resolved::Bool => "a boolean",
            Resolved::Int | Resolved::Float => "a number",
            Resolved::Str => "a string",
        },
        Kind::Scalar { .. } => "a string",
    }
}

/// `isSkippable` in configmap.go.
pub(crate) fn is_skippable(text: &str) -> bool {
    matches!(text.trim(), "" | "``" | "\"\"" | "''")
}

/// Go's `bytes.EqualFold` between a YAML key and an ASCII field name.
pub(crate) fn fold_eq(key: &str, field: &str) -> bool {
    let mut k = key.chars().map(|c| match c {
        '\u{17f}' => 's',
        '\u{212a}' => 'k',
        c => c.to_ascii_lowercase(),
    });
    let mut f = field.chars().map(|c| c.to_ascii_lowercase());
    loop {
        match (k.next(), f.next()) {
            (None, None) => return true,
            (Some(a), Some(b)) if a == b => {}
            _ => return false,
        }
    }
}

/// The mapping's keys as the JSON decoder sees them: exact duplicates keep the last pair, then
/// sorted by bytes. Each item is (key, pair index).
fn json_keys(pairs: &[(Node, Node)]) -> Vec<(&str, usize)> {
    let mut keys: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for (i, (k, _)) in pairs.iter().enumerate() {
        if let Some((name, _)) = k.scalar() {
            keys.insert(name, i);
        }
    }
    keys.into_iter().collect()
}

/// One mapping list decoded leniently, as encoding/json does.
#[derive(Debug, Clone)]
pub(crate) struct Decoded<M> {
    pub entries: Vec<(M, Refs)>,
    /// Per entry, the fields the decoder skipped for their type.
    pub skipped: Vec<Vec<TypeError>>,
    /// Why the value as a whole gave no entries (not a list, or not convertible to JSON).
    pub top: Option<TypeError>,
}

/// Skips what does not fit: records a type error and leaves `out` as it was.
fn string_field(node: &Node, field: &str, out: &mut String, errs: &mut Vec<TypeError>) {
    let wrong = || {
        type_error(
            node,
            format!("`{field}` must be a string, found {}", describe(node)),
        )
    };
    match &node.kind {
        Kind::Scalar {
            value,
            style: Style::Plain,
        } => match resolve_plain(value) {
            Resolved::Null => {}
            Resolved::Str => value.clone_into(out),
            _ => errs.push(wrong()),
        },
        Kind::Scalar { value, .. } => value.clone_into(out),
        _ => errs.push(wrong()),
    }
}

fn groups_field(node: &Node, out: &mut Vec<String>, errs: &mut Vec<TypeError>) {
    match &node.kind {
        _ if node.is_null() => out.clear(),
        Kind::Seq { items, .. } => {
            // encoding/json decodes into the existing elements, then truncates.
            for (i, item) in items.iter().enumerate() {
                if i == out.len() {
                    out.push(String::new());
                }
                let before = errs.len();
                string_field(item, "groups", &mut out[i], errs);
                if errs.len() > before {
                    errs.truncate(before);
                    errs.push(type_error(
                        item,
                        format!(
                            "each of `groups` must be a string, found {}",
                            describe(item)
                        ),
                    ));
                }
            }
            out.truncate(items.len());
        }
        _ => errs.push(type_error(
            node,
            format!("`groups` must be a list, found {}", describe(node)),
        )),
    }
}

fn sso_field(node: &Node, out: &mut Option<SsoArnLike>, errs: &mut Vec<TypeError>) {
    if node.is_null() {
        *out = None;
        return;
    }
    let Kind::Map { pairs, .. } = &node.kind else {
        errs.push(type_error(
            node,
            format!("`sso` must be a mapping, found {}", describe(node)),
        ));
        return;
    };
    // encoding/json decodes into the existing struct behind a non-nil pointer.
    let sso = out.get_or_insert_with(SsoArnLike::default);
    for (key, i) in json_keys(pairs) {
        let value = &pairs[i].1;
        if fold_eq(key, "permissionSetName") {
            string_field(
                value,
                "sso.permissionSetName",
                &mut sso.permission_set_name,
                errs,
            );
        } else if fold_eq(key, "accountID") {
            string_field(value, "sso.accountID", &mut sso.account_id, errs);
        } else if fold_eq(key, "partition") {
            string_field(value, "sso.partition", &mut sso.partition, errs);
        }
    }
}

/// The entry's pairs; an item that is not a mapping decodes to an empty entry (with an error).
fn entry_pairs<'a>(item: &'a Node, what: &str, errs: &mut Vec<TypeError>) -> &'a [(Node, Node)] {
    match &item.kind {
        Kind::Map { pairs, .. } => pairs,
        _ if item.is_null() => &[],
        _ => {
            errs.push(type_error(
                item,
                format!("each {what} must be a mapping, found {}", describe(item)),
            ));
            &[]
        }
    }
}

fn top_items<'a>(root: Option<&'a Node>, what: &str) -> Result<&'a [Node], TypeError> {
    match root {
        None => Ok(&[]),
        Some(n) if n.is_null() => Ok(&[]),
        Some(Node {
            kind: Kind::Seq { items, .. },
            ..
        }) => Ok(items),
        Some(n) => Err(type_error(
            n,
            format!("expected a list of {what}, found {}", describe(n)),
        )),
    }
}

/// A plain float JSON cannot hold, anywhere in the tree: `ToJSON` fails on it.
fn unconvertible(node: &Node) -> Option<&Node> {
    match &node.kind {
        Kind::Scalar {
            value,
            style: Style::Plain,
        } if matches!(
            value.trim_start_matches(['+', '-']),
            ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF"
        ) && resolve_plain(value) == Resolved::Float =>
        {
            Some(node)
        }
        Kind::Scalar { .. } => None,
        Kind::Seq { items, .. } => items.iter().find_map(unconvertible),
        Kind::Map { pairs, .. } => pairs.iter().find_map(|(_, v)| unconvertible(v)),
    }
}

fn decode_list<M: Default>(
    root: Option<&Node>,
    what: &str,
    item_what: &str,
    mut field: impl FnMut(&str, &Node, usize, &mut M, &mut Refs, &mut Vec<TypeError>),
) -> Decoded<M> {
    let mut out = Decoded {
        entries: Vec::new(),
        skipped: Vec::new(),
        top: None,
    };
    if let Some(bad) = root.and_then(unconvertible) {
        out.top = Some(type_error(
            bad,
            "a float JSON cannot hold (`.inf`, `.nan`): the value cannot be converted to JSON"
                .to_owned(),
        ));
        return out;
    }
    let items = match top_items(root, what) {
        Ok(items) => items,
        Err(e) => {
            out.top = Some(e);
            return out;
        }
    };
    for item in items {
        let mut errs = Vec::new();
        let pairs = entry_pairs(item, item_what, &mut errs);
        let mut m = M::default();
        let mut refs = Refs::default();
        for (key, i) in json_keys(pairs) {
            field(key, &pairs[i].1, i, &mut m, &mut refs, &mut errs);
        }
        out.entries.push((m, refs));
        out.skipped.push(errs);
    }
    out
}

pub(crate) fn roles(root: Option<&Node>) -> Decoded<RoleMapping> {
    decode_list(
        root,
        "role mappings",
        "role mapping",
        |key, value, i, m: &mut RoleMapping, refs, errs| {
            if fold_eq(key, "rolearn") {
                string_field(value, "rolearn", &mut m.rolearn, errs);
                refs.arn = Some(i);
            } else if fold_eq(key, "sso") {
                sso_field(value, &mut m.sso, errs);
            } else if fold_eq(key, "username") {
                string_field(value, "username", &mut m.username, errs);
                refs.username = Some(i);
            } else if fold_eq(key, "groups") {
                groups_field(value, &mut m.groups, errs);
                refs.groups = Some(i);
            } else if fold_eq(key, "userid") {
                string_field(value, "userid", &mut m.userid, errs);
            }
        },
    )
}

pub(crate) fn users(root: Option<&Node>) -> Decoded<UserMapping> {
    decode_list(
        root,
        "user mappings",
        "user mapping",
        |key, value, i, m: &mut UserMapping, refs, errs| {
            if fold_eq(key, "userarn") {
                string_field(value, "userarn", &mut m.userarn, errs);
                refs.arn = Some(i);
            } else if fold_eq(key, "username") {
                string_field(value, "username", &mut m.username, errs);
                refs.username = Some(i);
            } else if fold_eq(key, "groups") {
                groups_field(value, &mut m.groups, errs);
                refs.groups = Some(i);
            } else if fold_eq(key, "userid") {
                string_field(value, "userid", &mut m.userid, errs);
            }
        },
    )
}

/// yaml.v2 into `[]string`: a scalar item is its text (a plain null is ""); another item is
/// skipped with an error; a value that is not a list gives nothing.
pub(crate) fn accounts(root: Option<&Node>) -> (Vec<String>, Vec<TypeError>) {
    let items = match top_items(root, "account ids") {
        Ok(items) => items,
        Err(e) => return (Vec::new(), vec![e]),
    };
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for item in items {
        match &item.kind {
            Kind::Scalar { .. } if item.is_null() => out.push(String::new()),
            Kind::Scalar { value, .. } => out.push(value.clone()),
            _ => errs.push(type_error(
                item,
                format!("each account id must be a scalar, found {}", describe(item)),
            )),
        }
    }
    (out, errs)
}

/// `RoleMapping.Validate()`: why the authenticator drops this entry, if it does.
pub(crate) fn role_invalid(m: &RoleMapping) -> Option<String> {
    match (&m.sso, m.rolearn.is_empty()) {
        (None, true) => Some("neither `rolearn` nor `sso` is set".to_owned()),
        (Some(_), false) => Some("both `rolearn` and `sso` are set".to_owned()),
        (None, false) => None,
        (Some(sso), true) => {
            if !(sso.account_id.len() == 12 && sso.account_id.bytes().all(|b| b.is_ascii_digit())) {
                return Some(format!(
                    "`sso.accountID` `{}` is not a 12-digit account id",
                    sso.account_id
                ));
            }
            // ^[\w+=,.@-]{1,32}$, \w being ASCII in Go's regexp.
            let name = &sso.permission_set_name;
            let ok_char = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
            if name.is_empty() || name.chars().count() > 32 || !name.chars().all(ok_char) {
                return Some(format!(
                    "`sso.permissionSetName` `{name}` is not a valid permission set name"
                ));
            }
            if !sso.partition.is_empty()
                && !crate::arn::PARTITIONS.contains(&sso.partition.as_str())
            {
                return Some(format!(
                    "`sso.partition` `{}` is not an AWS partition",
                    sso.partition
                ));
            }
            None
        }
    }
}

/// `UserMapping.Validate()`.
pub(crate) fn user_invalid(m: &UserMapping) -> Option<String> {
    m.userarn
        .is_empty()
        .then(|| "`userarn` is not set".to_owned())
}
