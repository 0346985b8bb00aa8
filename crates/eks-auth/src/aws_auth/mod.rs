//! The `kube-system/aws-auth` ConfigMap's `data` as a lossless document.
//!
//! [`AwsAuth::read`] reads `mapRoles`, `mapUsers` and `mapAccounts` exactly as
//! aws-iam-authenticator's EKS ConfigMap mapper does (see `decode.rs` for the source and the
//! rules): each key stands alone; a value that is not YAML gives no mappings; a field of the
//! wrong type is skipped and its entry kept; anchors, aliases, merge keys and tags are read
//! (`yaml_read.rs`); only the first document counts. What it had to skip is recorded with its
//! position ([`AwsAuth::problems`], [`EntryInfo::skipped`]) for the lint.
//!
//! [`AwsAuth::parse`] is the same reading for editing: it refuses, with key, line and column, a
//! value it cannot edit losslessly (not YAML, not a list, or using a YAML feature the editor
//! does not rewrite), never writing over a document it does not fully understand.
//!
//! Edits ([`AwsAuth::upsert_role`], [`AwsAuth::upsert_user`], [`AwsAuth::remove`]) change only
//! the bytes of the entry they touch; [`AwsAuth::render`] returns every other key and line byte
//! for byte. After each edit the changed value is read again and checked to read back as exactly
//! the intended entries: through the lines of the one entry it touched when the list is a block
//! list (see `reread_window`), otherwise by parsing the whole value. An edit that does not read
//! back is an [`EditError`] and changes nothing.
//!
//! Files: `model.rs` (keys, entries, errors), `document.rs` ([`AwsAuth`] and the read API),
//! `editing.rs` (the editing API), `reread.rs` (the read-back check of an edit), `decode.rs`
//! (the authenticator's decoding rules), `yaml.rs`/`simple.rs` (the node tree), `edit.rs` (text
//! splices), `check.rs` (validation and the lockout guard).

mod check;
mod decode;
mod document;
mod edit;
mod editing;
mod model;
mod reread;
mod simple;
mod yaml;
mod yaml_read;

pub use check::{Issue, IssueKind, LockoutRisk, lockout_check};
pub use document::AwsAuth;
pub use model::{
    AwsAuthError, DataKey, EditError, EntryInfo, MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, RoleMapping,
    SkippedField, SsoArnLike, Upsert, UserMapping, arn_like, go_equal_fold, go_to_lower,
};

#[cfg(test)]
mod tests;
