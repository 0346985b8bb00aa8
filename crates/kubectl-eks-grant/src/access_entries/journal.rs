//! The undo journal of access-entry changes, kept in the cluster beside aws-auth
//! (`kube-system/eks-grant-access-journal`, key `journal.json`), so that every admin's
//! `kubectl eks-grant undo` sees every admin's change.
//!
//! Each change appends a record: the principal's entry before and after, the RBAC objects it
//! wrote (what they were before), and aws-auth's revision at the time (which orders it against
//! aws-auth's own history for `undo`). The append is a read-modify-write guarded by the
//! ConfigMap's resourceVersion: a writer that loses the race gets 409 Conflict, reads again and
//! appends to what the winner wrote, so no record is lost. `undo` (`super::undo`) reverts a
//! record and marks it undone.
//!
//! Pure parts ([`Snapshot`], [`undo_calls`], [`Journal`]) are tested here; the rest is I/O.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use eks_auth::access::{AccessEntry, AccessScope};
use eks_auth::kube::{Cluster, RbacJournalEntry, fetch_aws_auth};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{ObjectMeta, PostParams};
use serde::{Deserialize, Serialize};

use super::calls::Call;
use crate::store::Target;

pub const NAMESPACE: &str = "kube-system";
pub const NAME: &str = "eks-grant-access-journal";
pub const KEY: &str = "journal.json";
/// Records kept; older ones are dropped.
pub const KEEP: usize = 50;

/// A policy association as journaled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalPolicy {
    pub policy_arn: String,
    /// Empty: cluster scope.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// One principal's entry at one moment (`exists: false`: no entry).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    pub principal: String,
    pub exists: bool,
    #[serde(default)]
    pub entry_type: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub policies: Vec<JournalPolicy>,
}

impl Snapshot {
    pub fn of(principal: &str, entry: Option<&AccessEntry>) -> Snapshot {
        match entry {
            None => Snapshot {
                principal: principal.to_owned(),
                exists: false,
                entry_type: String::new(),
                username: String::new(),
                groups: Vec::new(),
                policies: Vec::new(),
            },
            Some(e) => {
                let mut policies: Vec<JournalPolicy> = e
                    .policies
                    .iter()
                    .map(|p| JournalPolicy {
                        policy_arn: p.policy_arn.clone(),
                        namespaces: match &p.scope {
                            AccessScope::Cluster => Vec::new(),
                            AccessScope::Namespaces(ns) => ns.clone(),
                        },
                    })
                    .collect();
                policies.sort_by(|a, b| a.policy_arn.cmp(&b.policy_arn));
                Snapshot {
                    principal: principal.to_owned(),
                    exists: true,
                    entry_type: e.entry_type.to_string(),
                    username: e.username.clone(),
                    groups: e.kubernetes_groups.clone(),
                    policies,
                }
            }
        }
    }
}

fn scope(p: &JournalPolicy) -> AccessScope {
    if p.namespaces.is_empty() {
        AccessScope::Cluster
    } else {
        AccessScope::Namespaces(p.namespaces.clone())
    }
}

/// One journaled change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    pub seq: u64,
    pub time: String,
    pub cluster: String,
    /// `add`, `revoke`, `undo`.
    pub command: String,
    /// Who ran it (STS ARN), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    pub before: Snapshot,
    pub after: Snapshot,
    /// aws-auth's eks-grant revision when this change was journaled: `undo` orders the two
    /// stores' last changes by it (an aws-auth revision above it came later), whatever the
    /// clocks of the machines that made them. `None` in records of earlier versions, or when
    /// aws-auth could not be read: then by `time`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws_auth_revision: Option<u64>,
    /// The RBAC objects the change created, changed or deleted (a preset realised with RBAC):
    /// what they were before, for `undo`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rbac: Vec<RbacJournalEntry>,
    #[serde(default)]
    pub undone: bool,
}

/// The journal's records, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    pub records: Vec<Record>,
}

impl Journal {
    pub fn parse(data: Option<&BTreeMap<String, String>>) -> Journal {
        data.and_then(|d| d.get(KEY))
            .and_then(|s| serde_json::from_str(s).ok())
            .unwrap_or_default()
    }

    /// Appends a record with the next sequence number; keeps the last [`KEEP`].
    pub fn append(&mut self, mut record: Record) {
        record.seq = self.records.last().map_or(1, |r| r.seq + 1);
        self.records.push(record);
        if self.records.len() > KEEP {
            let extra = self.records.len() - KEEP;
            self.records.drain(..extra);
        }
    }

    /// The last change not undone yet, for `cluster`.
    pub fn last_open(&self, cluster: &str) -> Option<&Record> {
        self.records
            .iter()
            .rev()
            .find(|r| !r.undone && r.command != "undo" && r.cluster == cluster)
    }
}

/// Pure: the calls that turn `now` back into `before`.
pub fn undo_calls(before: &Snapshot, now: &Snapshot) -> Vec<Call> {
    let principal = before.principal.clone();
    let mut calls = Vec::new();
    match (before.exists, now.exists) {
        (false, false) => return calls,
        (false, true) => return vec![Call::Delete { principal }],
        (true, false) => {
            calls.push(Call::Create {
                principal: principal.clone(),
                username: Some(before.username.clone()),
                groups: before.groups.clone(),
            });
            for p in &before.policies {
                calls.push(Call::Associate {
                    principal: principal.clone(),
                    policy_arn: p.policy_arn.clone(),
                    scope: scope(p),
                });
            }
            return calls;
        }
        (true, true) => {}
    }
    if before.username != now.username || before.groups != now.groups {
        calls.push(Call::Update {
            principal: principal.clone(),
            username: (before.username != now.username).then(|| before.username.clone()),
            groups: before.groups.clone(),
        });
    }
    for p in &now.policies {
        if !before.policies.iter().any(|b| b.policy_arn == p.policy_arn) {
            calls.push(Call::Disassociate {
                principal: principal.clone(),
                policy_arn: p.policy_arn.clone(),
            });
        }
    }
    for p in &before.policies {
        if !now.policies.contains(p) {
            calls.push(Call::Associate {
                principal: principal.clone(),
                policy_arn: p.policy_arn.clone(),
                scope: scope(p),
            });
        }
    }
    calls
}

fn api(cluster: &Cluster) -> kube::Api<ConfigMap> {
    kube::Api::namespaced(cluster.client.clone(), NAMESPACE)
}

/// Read-modify-write of the journal, retried on 409 Conflict (a lost race) with a fresh read.
async fn update_journal(cluster: &Cluster, change: impl Fn(&mut Journal)) -> Result<()> {
    let api = api(cluster);
    let object = format!("ConfigMap `{NAMESPACE}/{NAME}`");
    for _ in 0..8 {
        let current = api
            .get_opt(NAME)
            .await
            .with_context(|| format!("reading {object}"))?;
        let mut journal = Journal::parse(current.as_ref().and_then(|c| c.data.as_ref()));
        change(&mut journal);
        let text = serde_json::to_string_pretty(&journal).context("serialising the journal")?;
        let cm = ConfigMap {
            metadata: ObjectMeta {
                name: Some(NAME.to_owned()),
                namespace: Some(NAMESPACE.to_owned()),
                resource_version: current
                    .as_ref()
                    .and_then(|c| c.metadata.resource_version.clone()),
                labels: Some(BTreeMap::from([(
                    "app.kubernetes.io/managed-by".to_owned(),
                    "kubectl-eks-grant".to_owned(),
                )])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(KEY.to_owned(), text)])),
            ..Default::default()
        };
        let result = match current {
            Some(_) => api.replace(NAME, &PostParams::default(), &cm).await,
            None => api.create(&PostParams::default(), &cm).await,
        };
        match result {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) => {
                return Err(anyhow::anyhow!("{}", e)).with_context(|| format!("writing {object}"));
            }
        }
    }
    bail!("writing ConfigMap `{NAMESPACE}/{NAME}`: it kept changing under us (8 conflicts)")
}

/// Journals a change of `before.principal` made by `command`: reads the entry as it is now.
pub async fn record(
    cluster: &Cluster,
    target: &Target,
    command: &str,
    before: &Snapshot,
    rbac: Vec<RbacJournalEntry>,
) -> Result<()> {
    let after = target
        .eks
        .fetch_entry(&before.principal)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let after = Snapshot::of(&before.principal, after.as_ref());
    let by = target.aws.fetch_caller_identity().await.ok().map(|c| c.arn);
    let aws_auth_revision = fetch_aws_auth(&cluster.client)
        .await
        .ok()
        .map(|o| o.revision());
    let record = Record {
        seq: 0,
        time: eks_auth::time::rfc3339(std::time::SystemTime::now()),
        cluster: target.name().to_owned(),
        command: command.to_owned(),
        by,
        before: before.clone(),
        after,
        aws_auth_revision,
        rbac,
        undone: false,
    };
    update_journal(cluster, |j| j.append(record.clone())).await
}

/// The journal as it is in the cluster (empty when it does not exist yet).
pub async fn read(cluster: &Cluster) -> Result<Journal> {
    let cm = api(cluster)
        .get_opt(NAME)
        .await
        .with_context(|| format!("reading ConfigMap `{NAMESPACE}/{NAME}`"))?;
    Ok(Journal::parse(cm.as_ref().and_then(|c| c.data.as_ref())))
}

/// Marks record `seq` undone.
pub async fn mark_undone(cluster: &Cluster, seq: u64) -> Result<()> {
    update_journal(cluster, |j| {
        if let Some(r) = j.records.iter_mut().find(|r| r.seq == seq) {
            r.undone = true;
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(exists: bool, groups: &[&str], policies: &[(&str, &[&str])]) -> Snapshot {
        Snapshot {
            principal: "arn:aws:iam::123456789012:user/bob".into(),
            exists,
            entry_type: if exists {
                "STANDARD".into()
            } else {
                String::new()
            },
            username: if exists { "bob".into() } else { String::new() },
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
            policies: policies
                .iter()
                .map(|(p, ns)| JournalPolicy {
                    policy_arn: (*p).to_owned(),
                    namespaces: ns.iter().map(|n| (*n).to_owned()).collect(),
                })
                .collect(),
        }
    }

    #[test]
    fn undo_restores_what_was_there() {
        let none = snap(false, &[], &[]);
        let made = snap(true, &["devs"], &[("P", &["a"])]);
        assert_eq!(
            undo_calls(&none, &made),
            [Call::Delete {
                principal: made.principal.clone()
            }]
        );
        let calls = undo_calls(&made, &none);
        assert_eq!(calls.len(), 2);
        assert!(
            matches!(&calls[1], Call::Associate { scope: AccessScope::Namespaces(ns), .. } if ns == &["a"])
        );
        // Widened scope and an extra group go back; an extra policy is disassociated.
        let wider = snap(true, &["devs", "ops"], &[("P", &["a", "b"]), ("Q", &[])]);
        let calls = undo_calls(&made, &wider);
        assert_eq!(calls.len(), 3, "{calls:?}");
        assert!(
            matches!(&calls[0], Call::Update { groups, username: None, .. } if groups == &["devs"])
        );
        assert!(matches!(&calls[1], Call::Disassociate { policy_arn, .. } if policy_arn == "Q"));
        assert!(matches!(&calls[2], Call::Associate { policy_arn, .. } if policy_arn == "P"));
        assert_eq!(undo_calls(&made, &made), []);
    }

    #[test]
    fn the_journal_appends_in_order_and_keeps_the_last() {
        let mut j = Journal::default();
        for i in 0..(KEEP + 3) {
            j.append(Record {
                seq: 0,
                time: String::new(),
                cluster: if i % 2 == 0 { "a".into() } else { "b".into() },
                command: "add".into(),
                by: None,
                before: snap(false, &[], &[]),
                after: snap(true, &[], &[]),
                aws_auth_revision: None,
                rbac: Vec::new(),
                undone: false,
            });
        }
        assert_eq!(j.records.len(), KEEP);
        assert_eq!(j.records.last().unwrap().seq, (KEEP + 3) as u64);
        assert_eq!(j.records.first().unwrap().seq, 4);
        assert_eq!(j.last_open("a").unwrap().seq, (KEEP + 3) as u64);
        assert_eq!(j.last_open("b").unwrap().seq, (KEEP + 2) as u64);
        let text = serde_json::to_string(&j).unwrap();
        let data = BTreeMap::from([(KEY.to_owned(), text)]);
        assert_eq!(Journal::parse(Some(&data)), j);
    }
}
