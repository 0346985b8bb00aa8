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

pub use check::{Issue, IssueKind, LockoutRisk, lockout_check};
pub use document::AwsAuth;
pub use model::{
    AwsAuthError, DataKey, EditError, EntryInfo, MAP_ACCOUNTS, MAP_ROLES, MAP_USERS, RoleMapping,
    SsoArnLike, Upsert, UserMapping,
};

#[cfg(test)]
mod tests;
