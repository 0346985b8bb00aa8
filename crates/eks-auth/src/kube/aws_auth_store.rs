//! I/O: the aws-auth ConfigMap read and written with its resourceVersion, and the
//! conflict-safe read-modify-write loop that keeps the version it replaces in the history ring
//! ([`super::history`]).

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, PostParams, Preconditions};
use kube::{Api, Client};
use sha2::{Digest, Sha256};

use super::error::{KubeError, request_error};
use super::history::{HistorySlot, RbacJournalEntry, latest_history_revision, write_history};

/// Namespace of the aws-auth ConfigMap.
pub const AWS_AUTH_NAMESPACE: &str = "kube-system";
/// Name of the aws-auth ConfigMap.
pub const AWS_AUTH_NAME: &str = "aws-auth";
/// Prefix of every annotation and label this project writes.
pub const ANNOTATION_PREFIX: &str = "eks-grant.kubectl-eks.io/";
/// On aws-auth: the number of writes made through kubectl-eks (the undo history position).
/// On a history slot: the revision whose write replaced the data the slot holds.
pub const REVISION_ANNOTATION: &str = "eks-grant.kubectl-eks.io/revision";
/// On aws-auth: JSON `{"revision","by","at","change"}` of the last write through kubectl-eks.
/// On a history slot: the same record of the write that replaced the slot's data.
pub const LAST_CHANGE_ANNOTATION: &str = "eks-grant.kubectl-eks.io/last-change";
/// On a history slot: resourceVersion of aws-auth when the slot's data was read.
pub const PREVIOUS_RESOURCE_VERSION_ANNOTATION: &str =
    "eks-grant.kubectl-eks.io/previous-resource-version";
/// On a history slot: `"false"` when aws-auth did not exist before the write.
pub const EXISTED_ANNOTATION: &str = "eks-grant.kubectl-eks.io/existed";
/// On a history slot: SHA-256 of the data written by the write that replaced the slot's data.
pub const REPLACED_BY_SHA256_ANNOTATION: &str = "eks-grant.kubectl-eks.io/replaced-by-sha256";
/// On a history slot: JSON list of the RBAC objects the change created, changed or deleted
/// ([`RbacJournalEntry`]), so that `undo` reverts them too.
pub const RBAC_JOURNAL_ANNOTATION: &str = "eks-grant.kubectl-eks.io/rbac";
pub use crate::rbac::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
/// Prefix of the history slot ConfigMaps.
pub const HISTORY_PREFIX: &str = "aws-auth-history-";
/// How many previous versions of aws-auth are kept.
pub const HISTORY_SLOTS: u64 = 10;
/// How many times the modify loop tries before it gives up on 409 Conflicts.
pub const MAX_ATTEMPTS: u32 = 16;

pub(super) fn aws_auth_object() -> String {
    format!("ConfigMap `{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}`")
}

/// aws-auth as read: its data (empty when absent), resourceVersion and annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsAuthObject {
    /// `data` (empty when the ConfigMap or its data is absent).
    pub data: BTreeMap<String, String>,
    /// `None` when the ConfigMap does not exist.
    pub resource_version: Option<String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The object as read, for writing it back with only data and annotations changed.
    pub config_map: Option<ConfigMap>,
}

impl AwsAuthObject {
    /// Whether the ConfigMap exists.
    pub fn exists(&self) -> bool {
        self.config_map.is_some()
    }

    /// The revision annotation (0 when absent or unreadable).
    pub fn revision(&self) -> u64 {
        self.annotations
            .get(REVISION_ANNOTATION)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }

    /// The record of the last write through kubectl-eks, when readable.
    pub fn last_change(&self) -> Option<ChangeRecord> {
        self.annotations
            .get(LAST_CHANGE_ANNOTATION)
            .and_then(|r| serde_json::from_str(r).ok())
    }

    /// The revision `undo` reverts next (0: nothing): [`ChangeRecord::undoable`] of the last
    /// write, or the revision for a record written before undo kept that pointer.
    pub fn undoable(&self) -> u64 {
        match self.last_change() {
            Some(record) if record.revision == self.revision() => record.undoable(),
            _ => self.revision(),
        }
    }

    fn from_config_map(cm: Option<ConfigMap>) -> Self {
        match cm {
            None => AwsAuthObject::default(),
            Some(cm) => AwsAuthObject {
                data: cm.data.clone().unwrap_or_default(),
                resource_version: cm.metadata.resource_version.clone(),
                annotations: cm.metadata.annotations.clone().unwrap_or_default(),
                config_map: Some(cm),
            },
        }
    }
}

/// SHA-256 (hex) over a ConfigMap's data: each key and value length-prefixed, in key order.
pub fn data_sha256(data: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in data {
        hasher.update((key.len() as u64).to_be_bytes());
        hasher.update(key.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    hex::encode(hasher.finalize())
}

pub(super) fn config_maps(client: &Client) -> Api<ConfigMap> {
    Api::namespaced(client.clone(), AWS_AUTH_NAMESPACE)
}

/// GET `kube-system/aws-auth` (absent is not an error).
pub async fn fetch_aws_auth(client: &Client) -> Result<AwsAuthObject, KubeError> {
    let cm = config_maps(client)
        .get_opt(AWS_AUTH_NAME)
        .await
        .map_err(|e| request_error("reading", aws_auth_object(), e))?;
    Ok(AwsAuthObject::from_config_map(cm))
}

/// Writes aws-auth with the resourceVersion that was read (PUT), or creates it (POST) when it
/// was absent. A concurrent change answers 409 Conflict (stale resourceVersion) or 409
/// AlreadyExists (someone created it first).
pub async fn replace_aws_auth(
    client: &Client,
    before: &AwsAuthObject,
    data: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
) -> Result<ConfigMap, KubeError> {
    let api = config_maps(client);
    match &before.config_map {
        Some(cm) => {
            let mut cm = cm.clone();
            cm.data = Some(data);
            cm.metadata.annotations = Some(annotations);
            // The resourceVersion read stays in metadata: the server refuses a stale one with 409.
            api.replace(AWS_AUTH_NAME, &PostParams::default(), &cm)
                .await
                .map_err(|e| request_error("writing", aws_auth_object(), e))
        }
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(AWS_AUTH_NAME.to_owned()),
                    namespace: Some(AWS_AUTH_NAMESPACE.to_owned()),
                    annotations: Some(annotations),
                    ..Default::default()
                },
                data: Some(data),
                ..Default::default()
            };
            api.create(&PostParams::default(), &cm)
                .await
                .map_err(|e| request_error("creating", aws_auth_object(), e))
        }
    }
}

/// Who did what and when, recorded on aws-auth with every write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeRecord {
    /// The revision this write made.
    pub revision: u64,
    /// The caller's username as the cluster sees it (SelfSubjectReview).
    pub by: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What changed, e.g. ``add `arn:aws:iam::111122223333:user/bob` (mapUsers, added)``.
    pub change: String,
    /// For an `undo`: the revision it reverted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undoes: Option<u64>,
    /// The revision `undo` reverts after this write (0: nothing). Absent from records written
    /// before undo kept this pointer: then it is `revision`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_next: Option<u64>,
    /// What `undo_next` was before this write: where undoing this write goes back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undo_next_before: Option<u64>,
}

impl ChangeRecord {
    /// The revision `undo` reverts after this write (see [`ChangeRecord::undo_next`]).
    pub fn undoable(&self) -> u64 {
        self.undo_next.unwrap_or(self.revision)
    }

    /// What `undo` of this write leaves as the next revision to undo: the pointer before it, or,
    /// for a record without one, the revision before it (as undo did before revisions only went up).
    pub fn undoable_after_undo(&self) -> u64 {
        self.undo_next_before
            .unwrap_or(self.revision.saturating_sub(1))
    }
}

/// What an edit of aws-auth decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Nothing to write.
    Unchanged,
    /// Write this data; `change` says what it is (for the annotation).
    Write {
        /// The new data.
        data: BTreeMap<String, String>,
        /// What changed.
        change: String,
    },
}

/// Options of one modify loop.
#[derive(Debug, Clone, Default)]
pub struct ModifyOptions {
    /// The caller's username, for the change record.
    pub who: String,
    /// The time of the change (RFC 3339), taken by the caller so the loop has no clock.
    pub at: String,
    /// Whether to keep the version being replaced in the history ring.
    pub keep_history: bool,
    /// The RBAC objects the change creates, changes or deletes besides aws-auth, kept with the
    /// version in the history ring so that `undo` reverts them too.
    pub rbac: Vec<RbacJournalEntry>,
    /// Set by `undo`: the revision it reverts and what `undo` reverts after it. Every write,
    /// an undo too, makes the next revision: revisions only go up.
    pub undo: Option<Undoing>,
}

/// What an `undo` write records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Undoing {
    /// The revision being reverted.
    pub revision: u64,
    /// The revision `undo` reverts after this one ([`ChangeRecord::undoable_after_undo`]).
    pub then: u64,
}

/// The result of a modify loop.
#[derive(Debug, Clone)]
pub struct Modified {
    /// aws-auth as read on the attempt that succeeded (or found nothing to do).
    pub before: AwsAuthObject,
    /// The object written, `None` when the edit was [`Edit::Unchanged`].
    pub written: Option<ConfigMap>,
    /// The change record written.
    pub record: Option<ChangeRecord>,
    /// How many attempts were made (1 on the happy path).
    pub attempts: u32,
    /// Why the replaced version could not be kept for `undo`, when the write landed but the
    /// history slot was not written.
    pub history_error: Option<String>,
}

/// Why a modify loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum ModifyError<E: std::error::Error + 'static> {
    /// The edit refused (parse error, lockout guard, ...): nothing was written.
    #[error(transparent)]
    Edit(E),
    /// A request failed with something else than 409 Conflict: stopped there.
    #[error(transparent)]
    Kube(KubeError),
    /// Every attempt met a 409 Conflict.
    #[error(
        "ConfigMap `{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}` kept changing while it was being written: gave up after {attempts} attempts that all met 409 Conflict"
    )]
    Conflicts {
        /// Attempts made.
        attempts: u32,
    },
}

/// Backoff before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential
/// window of 20 ms .. 1.28 s (the AWS architecture blog's "full jitter").
fn backoff(attempt: u32) -> Duration {
    let window_ms = 20u64 << attempt.min(6);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(10 + random % window_ms)
}

/// The conflict-safe read-modify-write loop over aws-auth.
///
/// GET aws-auth with its resourceVersion, run `edit` on it, PUT with the resourceVersion read,
/// and once the PUT has landed keep the version it replaced in the history ring. On 409 Conflict
/// (or 409 AlreadyExists when two writers create it at once) re-read and re-apply `edit`, at most
/// [`MAX_ATTEMPTS`] times, with backoff. Any other error stops the loop at once. `edit` runs on
/// every attempt, so it must be a pure function of what was read.
///
/// The slot is written only after the write landed (issue 9: written before, a writer that then
/// lost the 409 overwrote the winner's slot of the same revision), and only over an older
/// revision ([`write_history`]): a slot records exactly the change that landed as its revision.
/// A write that lands while its slot cannot be written is reported in
/// [`Modified::history_error`]; `undo` then refuses that revision rather than guess.
pub async fn modify_aws_auth_data<E, F>(
    client: &Client,
    options: &ModifyOptions,
    edit: F,
) -> Result<Modified, ModifyError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut(&AwsAuthObject) -> Result<Edit, E>,
{
    modify_aws_auth_data_from(client, options, None, edit).await
}

/// [`modify_aws_auth_data`] starting from a read the caller already made (one GET less on the
/// happy path); a conflict re-reads as usual.
pub async fn modify_aws_auth_data_from<E, F>(
    client: &Client,
    options: &ModifyOptions,
    first_read: Option<AwsAuthObject>,
    mut edit: F,
) -> Result<Modified, ModifyError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut(&AwsAuthObject) -> Result<Edit, E>,
{
    let mut first_read = first_read;
    for attempt in 1..=MAX_ATTEMPTS {
        let before = match first_read.take() {
            Some(read) => read,
            None => fetch_aws_auth(client).await.map_err(ModifyError::Kube)?,
        };
        let (data, change) = match edit(&before).map_err(ModifyError::Edit)? {
            Edit::Unchanged => {
                return Ok(Modified {
                    before,
                    written: None,
                    record: None,
                    attempts: attempt,
                    history_error: None,
                });
            }
            Edit::Write { data, change } => (data, change),
        };
        // Revisions only go up: an absent aws-auth (deleted by an undo, or by hand) continues
        // from the newest revision the history ring holds.
        let current = if before.exists() {
            before.revision()
        } else {
            latest_history_revision(client)
                .await
                .map_err(ModifyError::Kube)?
                .max(before.revision())
        };
        let revision = current + 1;
        let record = ChangeRecord {
            revision,
            by: options.who.clone(),
            at: options.at.clone(),
            change,
            undoes: options.undo.map(|u| u.revision),
            undo_next: Some(options.undo.map_or(revision, |u| u.then)),
            undo_next_before: Some(if before.exists() {
                before.undoable()
            } else {
                0
            }),
        };
        let record_json = serde_json::to_string(&record).expect("a ChangeRecord serialises");
        let slot = options.keep_history.then(|| HistorySlot {
            revision,
            data: before.data.clone(),
            existed: before.exists(),
            previous_resource_version: before.resource_version.clone(),
            replaced_by_sha256: data_sha256(&data),
            record: Some(record.clone()),
            rbac: options.rbac.clone(),
        });
        let mut annotations = before.annotations.clone();
        annotations.insert(REVISION_ANNOTATION.to_owned(), revision.to_string());
        annotations.insert(LAST_CHANGE_ANNOTATION.to_owned(), record_json);
        match replace_aws_auth(client, &before, data, annotations).await {
            Ok(written) => {
                // Landed: now, and only now, the slot records it.
                let history_error = match &slot {
                    Some(slot) => write_history(client, slot)
                        .await
                        .err()
                        .map(|e| crate::errors::chain_text(&e)),
                    None => None,
                };
                return Ok(Modified {
                    before,
                    written: Some(written),
                    record: Some(record),
                    attempts: attempt,
                    history_error,
                });
            }
            Err(err) if err.code() == Some(409) => {
                if attempt < MAX_ATTEMPTS {
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
            Err(err) => return Err(ModifyError::Kube(err)),
        }
    }
    Err(ModifyError::Conflicts {
        attempts: MAX_ATTEMPTS,
    })
}

/// Why [`modify_aws_auth`] stopped before writing: aws-auth could not be read as the
/// authenticator reads it (never rewritten), or the edit refused.
#[derive(Debug, thiserror::Error)]
pub enum AwsAuthEditError<E: std::error::Error + 'static> {
    /// aws-auth does not parse: it is left untouched.
    #[error(
        "ConfigMap `{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}` cannot be read, so it is left untouched"
    )]
    Unreadable(#[source] crate::aws_auth::AwsAuthError),
    /// The edit refused.
    #[error(transparent)]
    Edit(E),
}

/// The conflict-safe loop at the level of the parsed document: `edit` gets aws-auth as the
/// authenticator reads it (and the object, for its annotations); a document that does not parse
/// stops the loop and is never rewritten.
pub async fn modify_aws_auth<E, F>(
    client: &Client,
    options: &ModifyOptions,
    mut edit: F,
) -> Result<Modified, ModifyError<AwsAuthEditError<E>>>
where
    E: std::error::Error + 'static,
    F: FnMut(&crate::aws_auth::AwsAuth, &AwsAuthObject) -> Result<Edit, E>,
{
    modify_aws_auth_data(client, options, |obj| {
        let doc =
            crate::aws_auth::AwsAuth::parse(&obj.data).map_err(AwsAuthEditError::Unreadable)?;
        edit(&doc, obj).map_err(AwsAuthEditError::Edit)
    })
    .await
}

/// Deletes aws-auth if its resourceVersion is still `resource_version` (used by `undo` when the
/// version before was "absent").
pub async fn delete_aws_auth(client: &Client, resource_version: &str) -> Result<(), KubeError> {
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some(resource_version.to_owned()),
            uid: None,
        }),
        ..Default::default()
    };
    config_maps(client)
        .delete(AWS_AUTH_NAME, &params)
        .await
        .map_err(|e| request_error("deleting", aws_auth_object(), e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn data_hash_separates_keys_from_values() {
        let a = data(&[("ab", "c")]);
        let b = data(&[("a", "bc")]);
        assert_ne!(data_sha256(&a), data_sha256(&b));
        assert_eq!(
            data_sha256(&BTreeMap::new()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn absent_aws_auth_reads_as_empty_revision_zero() {
        let obj = AwsAuthObject::from_config_map(None);
        assert!(!obj.exists());
        assert_eq!(obj.revision(), 0);
        assert!(obj.data.is_empty());
    }

    #[test]
    fn undo_pointer_of_records_old_and_new() {
        // A record written before undo kept its pointer: undo reverts its revision, and after
        // that the one before (as undo did then).
        let old: ChangeRecord =
            serde_json::from_str(r#"{"revision":3,"by":"a","at":"t","change":"c"}"#).unwrap();
        assert_eq!(old.undoable(), 3);
        assert_eq!(old.undoable_after_undo(), 2);
        // An undo of revision 4 written as revision 5 points back past 4.
        let undo = ChangeRecord {
            revision: 5,
            by: "a".to_owned(),
            at: "t".to_owned(),
            change: "undo revision 4".to_owned(),
            undoes: Some(4),
            undo_next: Some(2),
            undo_next_before: Some(4),
        };
        let json = serde_json::to_string(&undo).unwrap();
        assert_eq!(serde_json::from_str::<ChangeRecord>(&json).unwrap(), undo);
        let obj = AwsAuthObject {
            annotations: BTreeMap::from([
                (REVISION_ANNOTATION.to_owned(), "5".to_owned()),
                (LAST_CHANGE_ANNOTATION.to_owned(), json),
            ]),
            ..AwsAuthObject::default()
        };
        assert_eq!(obj.undoable(), 2);
        // A record that is not of the current revision (aws-auth edited by hand with an old
        // annotation copied) does not count: the revision does.
        let stale = AwsAuthObject {
            annotations: BTreeMap::from([
                (REVISION_ANNOTATION.to_owned(), "6".to_owned()),
                (
                    LAST_CHANGE_ANNOTATION.to_owned(),
                    serde_json::to_string(&undo).unwrap(),
                ),
            ]),
            ..AwsAuthObject::default()
        };
        assert_eq!(stale.undoable(), 6);
    }

    #[test]
    fn backoff_stays_in_its_window() {
        for attempt in 1..=20 {
            let d = backoff(attempt).as_millis() as u64;
            assert!(
                (10..10 + (20u64 << attempt.min(6))).contains(&d),
                "{attempt}: {d}"
            );
        }
    }
}
