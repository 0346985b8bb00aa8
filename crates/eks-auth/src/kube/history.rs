//! I/O: where the previous versions of aws-auth are kept.
//!
//! A ring of [`HISTORY_SLOTS`] ConfigMaps `kube-system/aws-auth-history-<revision % 10>`.
//! Every write through [`super::modify_aws_auth_data`] bumps the revision annotation on aws-auth
//! ([`REVISION_ANNOTATION`]; revisions only go up, an undo is a write too) and, *once that write
//! has landed*, stores the data it replaced in the slot of its revision: the slot's `data` is the
//! previous aws-auth `data`, key for key and byte for byte, so `undo` restores it exactly. One
//! ConfigMap per version (not one ConfigMap holding all of them) because a ConfigMap is limited
//! to 1 MiB and an aws-auth of 5,000 entries is about half of that.
//!
//! A slot is only ever written over an older revision (read, then a PUT with the resourceVersion
//! read, or a POST): a writer that stalled while ten later writes went round the ring cannot
//! overwrite their record, and no writer records a change that did not land (it lost the 409 and
//! never got here). A slot also records the SHA-256 of the data that replaced it, so `undo` can
//! tell when aws-auth was changed by someone else since (kubectl edit, eksctl) and refuse to
//! clobber it, and the RBAC objects the change created, changed or deleted, so `undo` reverts
//! them too.
//!
//! The happy path of a grant costs one GET and one PUT of aws-auth, one GET and one PUT (or POST)
//! of the slot.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::Client;
use kube::api::{ListParams, PostParams};

use super::aws_auth_store::{
    AWS_AUTH_NAMESPACE, ChangeRecord, EXISTED_ANNOTATION, HISTORY_PREFIX, HISTORY_SLOTS,
    LAST_CHANGE_ANNOTATION, PREVIOUS_RESOURCE_VERSION_ANNOTATION, RBAC_JOURNAL_ANNOTATION,
    REPLACED_BY_SHA256_ANNOTATION, REVISION_ANNOTATION, config_maps,
};
use super::error::{ApiError, KubeError, request_error};
use crate::rbac::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};

/// One kept version of aws-auth.
#[derive(Debug, Clone, PartialEq)]
pub struct HistorySlot {
    /// The revision whose write replaced this data.
    pub revision: u64,
    /// aws-auth's data before that write, byte for byte.
    pub data: BTreeMap<String, String>,
    /// Whether aws-auth existed before that write.
    pub existed: bool,
    /// Its resourceVersion then.
    pub previous_resource_version: Option<String>,
    /// SHA-256 ([`data_sha256`]) of the data that write put in place.
    pub replaced_by_sha256: String,
    /// The record of that write.
    pub record: Option<ChangeRecord>,
    /// The RBAC objects that write's change created, changed or deleted besides aws-auth.
    pub rbac: Vec<RbacJournalEntry>,
}

/// An RBAC object a change created, changed or deleted: what `undo` puts back.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RbacJournalEntry {
    /// `ClusterRole`, `ClusterRoleBinding`, `Role` or `RoleBinding`.
    pub kind: String,
    /// The namespace of a Role or RoleBinding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
    /// The object before the change (JSON, without the fields the server owns); `None` when
    /// the change created it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<serde_json::Value>,
}

/// Name of the history slot of a revision.
pub fn history_slot_name(revision: u64) -> String {
    format!("{HISTORY_PREFIX}{}", revision % HISTORY_SLOTS)
}

fn history_config_map(slot: &HistorySlot) -> ConfigMap {
    let mut annotations = BTreeMap::new();
    annotations.insert(REVISION_ANNOTATION.to_owned(), slot.revision.to_string());
    annotations.insert(EXISTED_ANNOTATION.to_owned(), slot.existed.to_string());
    annotations.insert(
        REPLACED_BY_SHA256_ANNOTATION.to_owned(),
        slot.replaced_by_sha256.clone(),
    );
    if let Some(rv) = &slot.previous_resource_version {
        annotations.insert(PREVIOUS_RESOURCE_VERSION_ANNOTATION.to_owned(), rv.clone());
    }
    if let Some(record) = &slot.record {
        annotations.insert(
            LAST_CHANGE_ANNOTATION.to_owned(),
            serde_json::to_string(record).expect("a ChangeRecord serialises"),
        );
    }
    if !slot.rbac.is_empty() {
        annotations.insert(
            RBAC_JOURNAL_ANNOTATION.to_owned(),
            serde_json::to_string(&slot.rbac).expect("a journal serialises"),
        );
    }
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(history_slot_name(slot.revision)),
            namespace: Some(AWS_AUTH_NAMESPACE.to_owned()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY_VALUE.to_owned(),
            )])),
            annotations: Some(annotations),
            ..Default::default()
        },
        data: Some(slot.data.clone()),
        ..Default::default()
    }
}

fn history_slot_from(cm: &ConfigMap) -> Option<HistorySlot> {
    let annotations = cm.metadata.annotations.as_ref()?;
    Some(HistorySlot {
        revision: annotations.get(REVISION_ANNOTATION)?.parse().ok()?,
        data: cm.data.clone().unwrap_or_default(),
        existed: annotations.get(EXISTED_ANNOTATION).map(String::as_str) != Some("false"),
        previous_resource_version: annotations
            .get(PREVIOUS_RESOURCE_VERSION_ANNOTATION)
            .cloned(),
        replaced_by_sha256: annotations.get(REPLACED_BY_SHA256_ANNOTATION)?.clone(),
        record: annotations
            .get(LAST_CHANGE_ANNOTATION)
            .and_then(|r| serde_json::from_str(r).ok()),
        rbac: annotations
            .get(RBAC_JOURNAL_ANNOTATION)
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default(),
    })
}

fn slot_revision(cm: &ConfigMap) -> Option<u64> {
    cm.metadata
        .annotations
        .as_ref()?
        .get(REVISION_ANNOTATION)?
        .parse()
        .ok()
}

/// Why a slot was not written.
fn slot_error(object: &str, code: u16, reason: &str, message: String) -> KubeError {
    KubeError::Request {
        action: "writing",
        object: object.to_owned(),
        source: ApiError::Status {
            code,
            reason: reason.to_owned(),
            message,
        },
    }
}

/// Stores a version in its slot, after its write landed, over an older revision only: GET the
/// slot, then POST it when absent or PUT it with the resourceVersion read when it holds an older
/// revision; a 409 (another writer of the ring in between) reads again. A slot that already holds
/// this revision or a newer one is left as it is, and said (only a write of the same revision
/// that did not go through the modify loop, or a writer that stalled while the ring went round,
/// gets there).
pub async fn write_history(client: &Client, slot: &HistorySlot) -> Result<(), KubeError> {
    let api = config_maps(client);
    let mut cm = history_config_map(slot);
    let name = history_slot_name(slot.revision);
    let object = format!("ConfigMap `{AWS_AUTH_NAMESPACE}/{name}`");
    for _ in 0..5 {
        let existing = api
            .get_opt(&name)
            .await
            .map_err(|e| request_error("reading", object.clone(), e))?;
        let result = match existing {
            None => {
                cm.metadata.resource_version = None;
                api.create(&PostParams::default(), &cm).await
            }
            Some(current) => {
                let held = slot_revision(&current).unwrap_or(0);
                if held >= slot.revision {
                    return Err(slot_error(
                        &object,
                        409,
                        "Conflict",
                        format!(
                            "it already holds revision {held}, so the version before revision {} is not kept",
                            slot.revision
                        ),
                    ));
                }
                cm.metadata.resource_version = current.metadata.resource_version.clone();
                api.replace(&name, &PostParams::default(), &cm).await
            }
        };
        match result {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 409 => continue,
            Err(err) => return Err(request_error("writing", object, err)),
        }
    }
    Err(slot_error(
        &object,
        409,
        "Conflict",
        "it kept changing while it was being written".to_owned(),
    ))
}

/// The newest revision the history ring holds (0 when it holds none): where revisions continue
/// when aws-auth is absent. One LIST of the slots by their label.
pub async fn latest_history_revision(client: &Client) -> Result<u64, KubeError> {
    let params = ListParams::default().labels(&format!("{MANAGED_BY_LABEL}={MANAGED_BY_VALUE}"));
    let slots = config_maps(client).list(&params).await.map_err(|e| {
        request_error(
            "listing",
            format!("the history ConfigMaps `{AWS_AUTH_NAMESPACE}/{HISTORY_PREFIX}*`"),
            e,
        )
    })?;
    Ok(slots
        .items
        .iter()
        .filter(|cm| {
            cm.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with(HISTORY_PREFIX))
        })
        .filter_map(slot_revision)
        .max()
        .unwrap_or(0))
}

/// Reads the history slot of `revision`; `None` when it is absent or holds another revision
/// (overwritten: older than [`HISTORY_SLOTS`] writes).
pub async fn fetch_history(
    client: &Client,
    revision: u64,
) -> Result<Option<HistorySlot>, KubeError> {
    let name = history_slot_name(revision);
    let cm = config_maps(client).get_opt(&name).await.map_err(|e| {
        request_error(
            "reading",
            format!("ConfigMap `{AWS_AUTH_NAMESPACE}/{name}`"),
            e,
        )
    })?;
    Ok(cm
        .as_ref()
        .and_then(history_slot_from)
        .filter(|slot| slot.revision == revision))
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
    fn slot_names_form_a_ring_of_ten() {
        assert_eq!(history_slot_name(1), "aws-auth-history-1");
        assert_eq!(history_slot_name(10), "aws-auth-history-0");
        assert_eq!(history_slot_name(23), "aws-auth-history-3");
    }

    #[test]
    fn history_slot_round_trips_through_a_config_map() {
        let slot = HistorySlot {
            revision: 12,
            data: data(&[
                ("mapRoles", "# keep me\n- rolearn: x\n"),
                ("other", "  odd  "),
            ]),
            existed: true,
            previous_resource_version: Some("981".to_owned()),
            replaced_by_sha256: "abc".to_owned(),
            record: Some(ChangeRecord {
                revision: 12,
                by: "kubernetes-admin".to_owned(),
                at: "2025-01-02T03:04:05Z".to_owned(),
                change: "add".to_owned(),
                undoes: None,
                undo_next: Some(12),
                undo_next_before: Some(9),
            }),
            rbac: vec![
                RbacJournalEntry {
                    kind: "RoleBinding".to_owned(),
                    namespace: Some("team-a".to_owned()),
                    name: "eks-grant:view@team-a".to_owned(),
                    before: None,
                },
                RbacJournalEntry {
                    kind: "ClusterRole".to_owned(),
                    namespace: None,
                    name: "eks-grant:cluster-reader".to_owned(),
                    before: Some(serde_json::json!({"kind": "ClusterRole", "rules": []})),
                },
            ],
        };
        let cm = history_config_map(&slot);
        assert_eq!(cm.metadata.name.as_deref(), Some("aws-auth-history-2"));
        assert_eq!(
            cm.metadata
                .labels
                .as_ref()
                .unwrap()
                .get(MANAGED_BY_LABEL)
                .map(String::as_str),
            Some("kubectl-eks-grant")
        );
        assert_eq!(history_slot_from(&cm), Some(slot));
    }
}
