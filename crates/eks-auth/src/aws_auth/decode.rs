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
//! - a value of the wrong type (`username: yes`, a number, a list) fails the whole value;
//! - `null` leaves a field empty; a `null` list item is an all-empty entry.
//!
//! `mapAccounts` goes through yaml.v2 straight into `[]string`: any scalar is taken as its text.
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

#[derive(Debug, Clone)]
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

fn string_field(node: &Node, field: &str, out: &mut String) -> Result<(), TypeError> {
    match &node.kind {
        Kind::Scalar { value, style } => match style {
            Style::Plain => match resolve_plain(value) {
                Resolved::Null => Ok(()),
                Resolved::Str => {
                    value.clone_into(out);
                    Ok(())
                }
                _ => Err(type_error(
                    node,
                    format!("`{field}` must be a string, found {}", describe(node)),
                )),
            },
            _ => {
                value.clone_into(out);
                Ok(())
            }
        },
        _ => Err(type_error(
            node,
            format!("`{field}` must be a string, found {}", describe(node)),
        )),
    }
}

fn groups_field(node: &Node, out: &mut Vec<String>) -> Result<(), TypeError> {
    match &node.kind {
        _ if node.is_null() => {
            out.clear();
            Ok(())
        }
        Kind::Seq { items, .. } => {
            out.clear();
            for item in items {
                let mut s = String::new();
                string_field(item, "groups", &mut s).map_err(|_| {
                    type_error(
                        item,
                        format!(
                            "each of `groups` must be a string, found {}",
                            describe(item)
                        ),
                    )
                })?;
                out.push(s);
            }
            Ok(())
        }
        _ => Err(type_error(
            node,
            format!("`groups` must be a list, found {}", describe(node)),
        )),
    }
}

fn sso_field(node: &Node, out: &mut Option<SsoArnLike>) -> Result<(), TypeError> {
    if node.is_null() {
        *out = None;
        return Ok(());
    }
    let Kind::Map { pairs, .. } = &node.kind else {
        return Err(type_error(
            node,
            format!("`sso` must be a mapping, found {}", describe(node)),
        ));
    };
    // encoding/json decodes into the existing struct behind a non-nil pointer.
    let sso = out.get_or_insert_with(SsoArnLike::default);
    for (key, i) in json_keys(pairs) {
        let value = &pairs[i].1;
        if fold_eq(key, "permissionSetName") {
            string_field(value, "sso.permissionSetName", &mut sso.permission_set_name)?;
        } else if fold_eq(key, "accountID") {
            string_field(value, "sso.accountID", &mut sso.account_id)?;
        } else if fold_eq(key, "partition") {
            string_field(value, "sso.partition", &mut sso.partition)?;
        }
    }
    Ok(())
}

fn entry_pairs<'a>(item: &'a Node, what: &str) -> Result<&'a [(Node, Node)], TypeError> {
    match &item.kind {
        Kind::Map { pairs, .. } => Ok(pairs),
        _ if item.is_null() => Ok(&[]),
        _ => Err(type_error(
            item,
            format!("each {what} must be a mapping, found {}", describe(item)),
        )),
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

pub(crate) fn roles(root: Option<&Node>) -> Result<Vec<(RoleMapping, Refs)>, TypeError> {
    let mut out = Vec::new();
    for item in top_items(root, "role mappings")? {
        let pairs = entry_pairs(item, "role mapping")?;
        let mut m = RoleMapping::default();
        let mut refs = Refs::default();
        for (key, i) in json_keys(pairs) {
            let value = &pairs[i].1;
            if fold_eq(key, "rolearn") {
                string_field(value, "rolearn", &mut m.rolearn)?;
                refs.arn = Some(i);
            } else if fold_eq(key, "sso") {
                sso_field(value, &mut m.sso)?;
            } else if fold_eq(key, "username") {
                string_field(value, "username", &mut m.username)?;
                refs.username = Some(i);
            } else if fold_eq(key, "groups") {
                groups_field(value, &mut m.groups)?;
                refs.groups = Some(i);
            } else if fold_eq(key, "userid") {
                string_field(value, "userid", &mut m.userid)?;
            }
        }
        out.push((m, refs));
    }
    Ok(out)
}

pub(crate) fn users(root: Option<&Node>) -> Result<Vec<(UserMapping, Refs)>, TypeError> {
    let mut out = Vec::new();
    for item in top_items(root, "user mappings")? {
        let pairs = entry_pairs(item, "user mapping")?;
        let mut m = UserMapping::default();
        let mut refs = Refs::default();
        for (key, i) in json_keys(pairs) {
            let value = &pairs[i].1;
            if fold_eq(key, "userarn") {
                string_field(value, "userarn", &mut m.userarn)?;
                refs.arn = Some(i);
            } else if fold_eq(key, "username") {
                string_field(value, "username", &mut m.username)?;
                refs.username = Some(i);
            } else if fold_eq(key, "groups") {
                groups_field(value, &mut m.groups)?;
                refs.groups = Some(i);
            } else if fold_eq(key, "userid") {
                string_field(value, "userid", &mut m.userid)?;
            }
        }
        out.push((m, refs));
    }
    Ok(out)
}

/// yaml.v2 into `[]string`: a scalar item is its text (a plain null is ""), anything else fails.
pub(crate) fn accounts(root: Option<&Node>) -> Result<Vec<String>, TypeError> {
    let mut out = Vec::new();
    for item in top_items(root, "account ids")? {
        match &item.kind {
            Kind::Scalar { .. } if item.is_null() => out.push(String::new()),
            Kind::Scalar { value, .. } => out.push(value.clone()),
            _ => {
                return Err(type_error(
                    item,
                    format!("each account id must be a scalar, found {}", describe(item)),
                ));
            }
        }
    }
    Ok(out)
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
