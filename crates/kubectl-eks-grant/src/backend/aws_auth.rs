//! I/O: the aws-auth backend. Reads `kube-system/aws-auth`, plans with the pure decisions of
//! [`crate::plan`], writes through the core's conflict-safe modify loop (which keeps the replaced
//! version and the change's RBAC journal in the history ring once the write has landed), and
//! undoes from that history.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use eks_auth::arn::{Arn, ClusterArn};
use eks_auth::aws_auth::{AwsAuth, DataKey, Upsert};
use eks_auth::kube::{
    AWS_AUTH_NAME, AWS_AUTH_NAMESPACE, AwsAuthObject, Cluster, Edit, HistorySlot, Modified,
    ModifyError, ModifyOptions, RbacJournalEntry, Undoing, data_sha256, delete_aws_auth,
    fetch_aws_auth, fetch_history, modify_aws_auth_data_from,
};
use eks_auth::mapping::{Identity, map_identity};
use kube::Client;

use super::{Mapping, Mappings};
use crate::diff;
use crate::plan::{self, PlanError};
use crate::report::ListEntry;
use crate::request::{Grant, Revoke};
use crate::shared_group;

/// The ConfigMap, as messages name it.
pub const AWS_AUTH: &str = "kube-system/aws-auth";

/// The aws-auth ConfigMap of one cluster.
#[derive(Clone)]
pub struct AwsAuthStore {
    client: Client,
    context: String,
    cluster_arn: Option<ClusterArn>,
}

impl std::fmt::Debug for AwsAuthStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsAuthStore")
            .field("context", &self.context)
            .finish_non_exhaustive()
    }
}

/// An add planned against aws-auth as read. Nothing is written yet.
#[derive(Debug)]
pub struct AddPlan {
    /// `added`, `updated` or `unchanged`.
    pub outcome: &'static str,
    /// The change as a unified diff (for `--dry-run`).
    pub diff: String,
    /// What the user should know (duplicates, ...).
    pub notes: Vec<String>,
    before: AwsAuthObject,
    parsed: AwsAuth,
    first: plan::AddPlan,
}

impl AddPlan {
    /// Every principal of aws-auth other than the grant's own that holds `group`.
    pub fn other_holders(&self, group: &str, grant: &Grant) -> Vec<String> {
        let spellings = shared_group::spellings(grant);
        shared_group::other_holders(&self.parsed, group, &spellings.iter().collect::<Vec<_>>())
    }
}

/// A revoke planned against aws-auth as read.
#[derive(Debug)]
pub struct RevokePlan {
    /// Entries that go.
    pub removed: usize,
    /// Groups that no mapping hands out once they are gone (their RBAC objects may go too).
    pub gone_groups: Vec<String>,
    pub diff: String,
    before: AwsAuthObject,
}

/// An undo planned: which change it reverts, and what that change did besides aws-auth.
#[derive(Debug)]
pub struct UndoPlan {
    /// The revision undone.
    pub target: u64,
    /// What that change was, as recorded.
    pub change: Option<String>,
    /// The RBAC objects that change created, changed or deleted.
    pub journal: Vec<RbacJournalEntry>,
    pub diff: String,
    before: AwsAuthObject,
    slot: HistorySlot,
    then: u64,
}

/// What a write did.
#[derive(Debug, Default)]
pub struct Written {
    /// The outcome word (`added`, `updated`, `unchanged`; `restored` for undo).
    pub outcome: String,
    /// Entries removed (revoke).
    pub removed: usize,
    /// The revision written, if something was written.
    pub revision: Option<u64>,
    pub notes: Vec<String>,
}

fn now() -> String {
    eks_auth::time::rfc3339(std::time::SystemTime::now())
}

fn upsert_word(u: &Upsert) -> &'static str {
    match u {
        Upsert::Added { .. } => "added",
        Upsert::Updated { .. } => "updated",
        Upsert::Unchanged { .. } => "unchanged",
    }
}

fn modify_error(err: ModifyError<PlanError>, context: &str) -> anyhow::Error {
    match err {
        // The edit's own errors carry their hint: not wrapped, so the hint stays last.
        ModifyError::Edit(e) => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(format!(
            "writing ConfigMap `{AWS_AUTH}` in context `{context}`"
        )),
    }
}

/// A write landed, but its version could not be kept for `undo`.
fn history_note(modified: &Modified, err: &str) -> String {
    format!(
        "revision {} was written, but the version it replaced could not be kept, so `undo` cannot revert it: {err}",
        modified.record.as_ref().map_or(0, |r| r.revision)
    )
}

fn aws_auth_diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    existed: bool,
) -> String {
    diff::unified(
        AWS_AUTH,
        existed.then(|| diff::data_yaml(before)).as_deref(),
        Some(&diff::data_yaml(after)),
    )
}

impl AwsAuthStore {
    pub fn new(cluster: &Cluster) -> AwsAuthStore {
        AwsAuthStore {
            client: cluster.client.clone(),
            context: cluster.context.clone(),
            cluster_arn: cluster.cluster_arn.clone(),
        }
    }

    async fn read(&self) -> Result<AwsAuthObject> {
        fetch_aws_auth(&self.client)
            .await
            .with_context(|| format!("in context `{}`", self.context))
    }

    pub async fn plan_add(&self, grant: &Grant, me: Option<&Arn>) -> Result<AddPlan> {
        let before = self.read().await?;
        let parsed = plan::parse(&before.data)?;
        plan::account_check(
            &grant.principal,
            &plan::known_accounts(&parsed, me, self.cluster_arn.as_ref()),
            grant.force,
        )?;
        let first = plan::plan_add(&parsed, grant, me)?;
        let notes = plan::duplicates_note(grant.section, &first.upsert)
            .into_iter()
            .collect();
        let diff = aws_auth_diff(&before.data, &first.after.render(), before.exists());
        Ok(AddPlan {
            outcome: upsert_word(&first.upsert),
            diff,
            notes,
            before,
            parsed,
            first,
        })
    }

    pub async fn write_add(
        &self,
        plan: AddPlan,
        grant: &Grant,
        me: Option<&Arn>,
        who: &str,
        journal: Vec<RbacJournalEntry>,
    ) -> Result<Written> {
        // The RBAC objects this grant created or changed go into the history with the aws-auth
        // version, so that `undo` takes the whole grant back.
        let options = ModifyOptions {
            who: who.to_owned(),
            at: now(),
            keep_history: true,
            rbac: journal,
            undo: None,
        };
        let mut last = None;
        let first_rv = plan.before.resource_version.clone();
        let mut first_plan = Some(plan.first);
        let modified =
            modify_aws_auth_data_from(&self.client, &options, Some(plan.before), |obj| {
                // The first attempt works on the read already parsed and planned.
                let p = match first_plan.take() {
                    Some(p) if obj.resource_version == first_rv => p,
                    _ => plan::plan_add(&plan::parse(&obj.data)?, grant, me)?,
                };
                let word = upsert_word(&p.upsert);
                let changed = p.upsert.changed();
                last = Some(p.upsert.clone());
                if !changed && obj.exists() {
                    return Ok(Edit::Unchanged);
                }
                Ok(Edit::Write {
                    data: p.after.render(),
                    change: format!(
                        "add `{}` ({}, {word}) username `{}` groups [{}]",
                        grant.principal,
                        grant.section,
                        grant.username,
                        grant.groups.join(", ")
                    ),
                })
            })
            .await
            .map_err(|e| modify_error(e, &self.context))?;
        let upsert = last.expect("the edit ran at least once");
        let mut notes = Vec::new();
        if let Some(e) = &modified.history_error {
            notes.push(history_note(&modified, e));
        }
        if modified.attempts > 1 {
            notes.push(format!(
                "aws-auth changed under us: written on attempt {} (409 Conflict before)",
                modified.attempts
            ));
        }
        Ok(Written {
            outcome: upsert_word(&upsert).to_owned(),
            removed: 0,
            revision: modified.record.as_ref().map(|r| r.revision),
            notes,
        })
    }

    pub async fn plan_revoke(&self, revoke: &Revoke, me: Option<&Arn>) -> Result<RevokePlan> {
        let before = self.read().await?;
        let parsed = plan::parse(&before.data)?;
        let first = plan::plan_revoke(&parsed, revoke, me)?;
        let in_use = plan::groups_in_use(&first.after);
        let gone_groups = first
            .groups
            .iter()
            .filter(|g| !in_use.contains(*g))
            .cloned()
            .collect();
        let diff = if first.removed > 0 {
            aws_auth_diff(&before.data, &first.after.render(), true)
        } else {
            String::new()
        };
        Ok(RevokePlan {
            removed: first.removed,
            gone_groups,
            diff,
            before,
        })
    }

    pub async fn write_revoke(
        &self,
        plan: RevokePlan,
        revoke: &Revoke,
        me: Option<&Arn>,
        who: &str,
        journal: Vec<RbacJournalEntry>,
    ) -> Result<Written> {
        // The RBAC objects revoke deletes (after aws-auth) are kept with the aws-auth version, so
        // that `undo` re-creates them.
        let options = ModifyOptions {
            who: who.to_owned(),
            at: now(),
            keep_history: true,
            rbac: journal,
            undo: None,
        };
        let mut removed = 0;
        let modified =
            modify_aws_auth_data_from(&self.client, &options, Some(plan.before), |obj| {
                let current = plan::parse(&obj.data)?;
                let p = plan::plan_revoke(&current, revoke, me)?;
                removed = p.removed;
                if p.removed == 0 {
                    return Ok(Edit::Unchanged);
                }
                Ok(Edit::Write {
                    data: p.after.render(),
                    change: format!(
                        "revoke `{}` ({} entries removed)",
                        revoke.principal, p.removed
                    ),
                })
            })
            .await
            .map_err(|e| modify_error(e, &self.context))?;
        let mut notes = Vec::new();
        if removed == 0 {
            notes.push(format!(
                "`{}` had no aws-auth entry: nothing to revoke",
                revoke.principal
            ));
        }
        if let Some(e) = &modified.history_error {
            notes.push(history_note(&modified, e));
        }
        Ok(Written {
            outcome: if removed == 0 { "unchanged" } else { "removed" }.to_owned(),
            removed,
            revision: modified.record.as_ref().map(|r| r.revision),
            notes,
        })
    }

    /// The revision of the last change eks-grant made to aws-auth that is not undone yet, and
    /// when it was made (as its history slot records it; `None` when the slot is gone). `None`:
    /// nothing to undo.
    pub async fn last_undoable(&self) -> Result<Option<(u64, Option<String>)>> {
        let obj = self.read().await?;
        let target = obj.undoable();
        if target == 0 {
            return Ok(None);
        }
        let slot = fetch_history(&self.client, target)
            .await
            .with_context(|| format!("in context `{}`", self.context))?;
        Ok(Some((target, slot.and_then(|s| s.record).map(|r| r.at))))
    }

    /// The last change not undone yet, from the history ring: refused when its version is no
    /// longer kept, when aws-auth was changed by something else since (unless forced), or when
    /// restoring it would lock someone out (unless forced).
    pub async fn plan_undo(&self, me: Option<&Arn>, force: bool) -> Result<UndoPlan> {
        let before = self.read().await?;
        let target = before.undoable();
        if target == 0 {
            bail!(
                "ConfigMap `{AWS_AUTH}` has no change made by eks-grant to undo\n\nhint: undo reverts only what eks-grant wrote; `kubectl eks-grant list` shows aws-auth as it is"
            );
        }
        let slot = fetch_history(&self.client, target)
            .await
            .with_context(|| format!("in context `{}`", self.context))?
            .with_context(|| {
                format!(
                    "the version of aws-auth before revision {target} is no longer kept (eks-grant keeps the last {} in `{AWS_AUTH_NAMESPACE}/aws-auth-history-*`); nothing was written\n\nhint: change aws-auth with `kubectl eks-grant add`/`revoke`, or by hand with `kubectl edit -n kube-system configmap aws-auth`",
                    eks_auth::kube::HISTORY_SLOTS
                )
            })?;
        if data_sha256(&before.data) != slot.replaced_by_sha256 && !force {
            bail!(
                "ConfigMap `{AWS_AUTH}` was changed by something else than eks-grant after revision {target}: undoing would lose that change; nothing was written\n\nhint: look at `kubectl get -n kube-system configmap {AWS_AUTH_NAME} -o yaml`; pass --force to restore the version before revision {target} anyway"
            );
        }
        let change = slot.record.as_ref().map(|r| r.change.clone());
        let then = slot
            .record
            .as_ref()
            .map_or(target.saturating_sub(1), |r| r.undoable_after_undo());
        if !force {
            let now_parsed = plan::parse(&before.data)?;
            if let Ok(then) = AwsAuth::parse(&slot.data) {
                plan::guard(&now_parsed, &then, me, false)?;
            }
        }
        let diff = if slot.existed {
            aws_auth_diff(&before.data, &slot.data, true)
        } else {
            diff::unified(AWS_AUTH, Some(&diff::data_yaml(&before.data)), None)
        };
        Ok(UndoPlan {
            target,
            change,
            journal: slot.rbac.clone(),
            diff,
            before,
            slot,
            then,
        })
    }

    pub async fn write_undo(
        &self,
        plan: UndoPlan,
        who: &str,
        journal: Vec<RbacJournalEntry>,
    ) -> Result<Written> {
        let UndoPlan {
            target,
            change,
            before,
            slot,
            then,
            ..
        } = plan;
        if !slot.existed {
            let rv = before
                .resource_version
                .as_deref()
                .context("aws-auth has no resourceVersion")?;
            delete_aws_auth(&self.client, rv).await.with_context(|| {
                format!(
                    "restoring the absence of aws-auth in context `{}`",
                    self.context
                )
            })?;
            return Ok(Written {
                outcome: "deleted (it did not exist before)".to_owned(),
                ..Written::default()
            });
        }
        let options = ModifyOptions {
            who: who.to_owned(),
            at: now(),
            keep_history: true,
            rbac: journal,
            undo: Some(Undoing {
                revision: target,
                then,
            }),
        };
        let modified = modify_aws_auth_data_from(&self.client, &options, Some(before), |obj| {
            if obj.undoable() != target {
                return Err(PlanError::UndoMoved {
                    expected: target,
                    found: obj.undoable(),
                });
            }
            Ok(Edit::Write {
                data: slot.data.clone(),
                change: format!(
                    "undo revision {target}{}",
                    change
                        .as_ref()
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default()
                ),
            })
        })
        .await
        .map_err(|e| modify_error(e, &self.context))?;
        let mut notes = Vec::new();
        if let Some(e) = &modified.history_error {
            notes.push(history_note(&modified, e));
        }
        Ok(Written {
            outcome: "restored".to_owned(),
            removed: 0,
            revision: modified.record.map(|r| r.revision),
            notes,
        })
    }

    pub async fn mappings(&self) -> Result<Mappings> {
        let obj = self.read().await?;
        // Reading: as the authenticator reads it, whatever the editor could not edit.
        let aws_auth = AwsAuth::read(&obj.data);
        Ok(Mappings {
            entries: list_entries(&aws_auth),
            accounts: aws_auth.accounts().to_vec(),
            groups: plan::groups_in_use(&aws_auth).into_iter().collect(),
            last_change: obj
                .annotations
                .get(eks_auth::kube::LAST_CHANGE_ANNOTATION)
                .and_then(|s| serde_json::from_str(s).ok()),
        })
    }

    pub async fn mapping_of(&self, identity: &Identity) -> Result<Option<Mapping>> {
        let obj = self.read().await?;
        // Reading: as the authenticator reads it, whatever the editor could not edit.
        let aws_auth = AwsAuth::read(&obj.data);
        Ok(map_identity(identity, &aws_auth, None)?.map(|m| Mapping {
            source: m.source.to_string(),
            username: m.username,
            groups: m.groups,
        }))
    }
}

/// Pure: every entry of aws-auth for `list`, effective when the authenticator would use it: the
/// last valid entry for its ARN, with no finding that keeps it from matching.
pub(super) fn list_entries(aws_auth: &AwsAuth) -> Vec<ListEntry> {
    let issues = aws_auth.validate();
    let issues_of = |key: DataKey, index: usize| {
        issues
            .iter()
            .filter(move |i| i.key == key && i.index == index)
    };
    let texts = |key: DataKey, index: usize| {
        issues_of(key, index)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    let mut entries = Vec::new();
    for (i, r) in aws_auth.roles().iter().enumerate() {
        let key = r.key();
        entries.push(ListEntry {
            list: DataKey::MapRoles.as_str(),
            arn: if r.rolearn.is_empty() {
                key
            } else {
                r.rolearn.clone()
            },
            username: r.username.clone(),
            groups: r.groups.clone(),
            // One notion of "this entry can match", shared with the lint and the lockout guard.
            effective: aws_auth.role_live(i),
            effect: effect_of(aws_auth.role_live(i), &texts(DataKey::MapRoles, i)),
            why: None,
            issues: texts(DataKey::MapRoles, i),
            policies: Vec::new(),
        });
    }
    for (i, u) in aws_auth.users().iter().enumerate() {
        entries.push(ListEntry {
            list: DataKey::MapUsers.as_str(),
            arn: u.userarn.clone(),
            username: u.username.clone(),
            groups: u.groups.clone(),
            effective: aws_auth.user_live(i),
            effect: effect_of(aws_auth.user_live(i), &texts(DataKey::MapUsers, i)),
            why: None,
            issues: texts(DataKey::MapUsers, i),
            policies: Vec::new(),
        });
    }
    entries
}

/// An aws-auth entry's effect on its own: used, never matching (a finding says why), or shadowed
/// by a later entry for the same ARN (the authenticator keeps the last).
fn effect_of(live: bool, issues: &[String]) -> &'static str {
    match (live, issues.is_empty()) {
        (true, _) => "active",
        (false, false) => "ignored",
        (false, true) => "shadowed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_decides_effectiveness_on_the_typed_finding() {
        let data = BTreeMap::from([
            (
                "mapRoles".to_owned(),
                "- rolearn: arn:aws:iam::123456789012:role/team/dev\n  username: dev\n  groups: [devs]\n\
                 - rolearn: arn:aws:iam::123456789012:role/ops\n  username: a\n  groups: []\n\
                 - rolearn: arn:aws:iam::123456789012:role/ops\n  username: b\n  groups: []\n"
                    .to_owned(),
            ),
            (
                "mapUsers".to_owned(),
                "- userarn: arn:aws:sts::123456789012:assumed-role/dev/alice\n  username: alice\n  groups: []\n\
                 - userarn: arn:aws:iam::123456789012:user/bob\n  username: never-mind\n  groups: []\n"
                    .to_owned(),
            ),
        ]);
        let entries = list_entries(&AwsAuth::parse(&data).unwrap());
        let effective: Vec<(String, bool)> = entries
            .iter()
            .map(|e| (e.username.clone(), e.effective))
            .collect();
        assert_eq!(
            effective,
            [
                // A role ARN with a path never matches.
                ("dev".to_owned(), false),
                // Shadowed by the later entry for the same ARN.
                ("a".to_owned(), false),
                ("b".to_owned(), true),
                // An assumed-role ARN is never presented as a canonical identity.
                ("alice".to_owned(), false),
                // Its username says "never", but nothing is wrong with it: decided on the
                // finding, not on words.
                ("never-mind".to_owned(), true),
            ]
        );
        assert!(
            entries[0].issues[0].contains("never matches"),
            "{:?}",
            entries[0].issues
        );
    }
}
