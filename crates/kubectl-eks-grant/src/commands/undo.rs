//! `undo`: reverts the last change made by eks-grant that is not undone yet, whole, on either
//! store. [`run_either`] picks the store whose last change not undone yet is the later ([`later`],
//! the rule in docs/eks-grant.md): aws-auth's (history ring beside aws-auth) or the access-entry
//! journal's (`kube-system/eks-grant-access-journal`, reverted by `crate::access_entries::undo`).
//!
//! On aws-auth ([`run`]): aws-auth as it was before the change, then the RBAC objects it created,
//! changed or deleted. The undo is a change of its own with the next revision; `undo` again
//! reverts the change before.

use anyhow::{Context, Result, bail};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{Cluster, fetch_caller};

use super::{caller_arn, partly_done};
use crate::access_entries::journal::{NAME as JOURNAL, NAMESPACE as JOURNAL_NAMESPACE, Record};
use crate::backend::AwsAuthStore;
use crate::output::{emit, note, write_stdout};
use crate::rbac_io;
use crate::report::UndoReport;
use crate::store::Target;

/// The store whose last change not undone yet came later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Later {
    AwsAuth,
    AccessEntries,
}

/// Pure: which of the two last changes not undone yet is the later. `aws_auth`: the revision of
/// aws-auth's and the time its record gives; `entry`: the journal's record.
///
/// The order is read from the journal: each record keeps aws-auth's revision when it was made,
/// so an aws-auth revision above it came later, one at or below it came before, whatever the
/// clocks of the machines that made the changes. A record without it (written by an earlier
/// version, or when aws-auth could not be read) is ordered by the two times (whole seconds,
/// UTC); on a tie, or a time that does not parse, the access-entry change counts as the later.
pub fn later(aws_auth: Option<(u64, Option<&str>)>, entry: Option<&Record>) -> Option<Later> {
    match (aws_auth, entry) {
        (None, None) => None,
        (Some(_), None) => Some(Later::AwsAuth),
        (None, Some(_)) => Some(Later::AccessEntries),
        (Some((revision, at)), Some(record)) => {
            let aws_auth_later = match record.aws_auth_revision {
                Some(seen) => revision > seen,
                None => {
                    let parse = |t: &str| t.parse::<jiff::Timestamp>().ok();
                    match (at.and_then(parse), parse(&record.time)) {
                        (Some(a), Some(e)) => a > e,
                        _ => false,
                    }
                }
            };
            Some(if aws_auth_later {
                Later::AwsAuth
            } else {
                Later::AccessEntries
            })
        }
    }
}

/// `undo` on a cluster with access entries: the later of aws-auth's and the journal's last
/// change not undone yet. `with_aws_auth`: whether aws-auth is a candidate (the mode reads it and
/// no `--backend` limited `undo` to access entries).
pub async fn run_either(
    cluster: &Cluster,
    target: &Target,
    with_aws_auth: bool,
    format: OutputFormat,
    dry_run: bool,
    force: bool,
) -> Result<()> {
    let store = AwsAuthStore::new(cluster);
    let aws_auth = if with_aws_auth {
        store.last_undoable().await?
    } else {
        None
    };
    let entry = crate::access_entries::undo::last_open(cluster, target).await?;
    let pick = later(
        aws_auth.as_ref().map(|(r, at)| (*r, at.as_deref())),
        entry.as_ref(),
    );
    match (pick, entry) {
        (Some(Later::AccessEntries), Some(entry)) => {
            if let Some((revision, _)) = &aws_auth {
                note(&format!(
                    "undoing access-entry change #{}: it came after aws-auth revision {revision}, which the next `undo` reverts",
                    entry.seq
                ));
            }
            crate::access_entries::undo::undo(cluster, target, format, entry, dry_run, force).await
        }
        (Some(Later::AwsAuth), entry) => {
            if let Some(entry) = &entry {
                note(&format!(
                    "undoing aws-auth: its last change came after access-entry change #{}, which the next `undo` reverts",
                    entry.seq
                ));
            }
            run(cluster, &store, format, dry_run, force).await
        }
        _ if with_aws_auth => bail!(
            "nothing to undo on cluster `{}`: neither aws-auth (its history ring) nor the access-entry journal `{JOURNAL_NAMESPACE}/{JOURNAL}` has a change made by eks-grant that is not undone yet\n\nhint: undo reverts only what eks-grant wrote; `kubectl eks-grant list` shows both stores as they are",
            target.name()
        ),
        _ => Err(crate::access_entries::undo::nothing_to_undo(target)),
    }
}

pub async fn run(
    cluster: &Cluster,
    store: &AwsAuthStore,
    format: OutputFormat,
    dry_run: bool,
    force: bool,
) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{ctx}`"))?;
    let me = caller_arn(&caller);
    let plan = store.plan_undo(me.as_ref(), force).await?;
    let target = plan.target;
    let change = plan.change.clone();
    let journal = plan.journal.clone();
    // What reverting the RBAC objects does, read only: shown by --dry-run, and kept as the undo's
    // own journal.
    let planned = rbac_io::revert(client, &journal, true).await?;
    if dry_run {
        let mut out = plan.diff.clone();
        out.push_str(&planned.diff);
        note(&format!(
            "dry run: would undo revision {target}{}; nothing was written",
            change
                .as_ref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        ));
        write_stdout(&out)?;
        return Ok(());
    }
    let written = store
        .write_undo(plan, &caller.username, planned.journal)
        .await?;
    let rbac = rbac_io::revert(client, &journal, false)
        .await
        .map_err(|err| {
            partly_done(
                &err,
                &format!(
                    "aws-auth was restored to its version before revision {target}, but the RBAC objects of that change were not all put back"
                ),
                "run `kubectl eks-grant list` to see the bindings that are left, and delete or re-create them with kubectl",
            )
        })?
        .changes;
    let report = UndoReport {
        undone_revision: target,
        undone_change: change,
        restored: written.outcome,
        revision: written.revision,
        rbac,
        notes: written.notes,
        dry_run: false,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, UndoReport::table)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access_entries::journal::Snapshot;

    fn record(aws_auth_revision: Option<u64>, time: &str) -> Record {
        let none = Snapshot::of("arn:aws:iam::123456789012:user/bob", None);
        Record {
            seq: 1,
            time: time.to_owned(),
            cluster: "c".to_owned(),
            command: "add".to_owned(),
            by: None,
            before: none.clone(),
            after: none,
            aws_auth_revision,
            rbac: Vec::new(),
            undone: false,
        }
    }

    #[test]
    fn the_later_change_is_undone_first_by_the_revision_the_journal_saw() {
        let t = "2026-12-01T10:00:00Z";
        // Only one store has something.
        assert_eq!(later(None, None), None);
        assert_eq!(later(Some((3, Some(t))), None), Some(Later::AwsAuth));
        assert_eq!(
            later(None, Some(&record(Some(3), t))),
            Some(Later::AccessEntries)
        );
        // aws-auth revision 3, then the access-entry change (which saw revision 3): the entry.
        assert_eq!(
            later(Some((3, Some(t))), Some(&record(Some(3), t))),
            Some(Later::AccessEntries)
        );
        // The access-entry change saw revision 2; revision 3 came after it, even with clocks
        // that say otherwise.
        assert_eq!(
            later(
                Some((3, Some("2026-12-01T09:00:00Z"))),
                Some(&record(Some(2), t))
            ),
            Some(Later::AwsAuth)
        );
        // After undoing revision 3 (undoable back at 2), the entry is next.
        assert_eq!(
            later(Some((2, Some(t))), Some(&record(Some(2), t))),
            Some(Later::AccessEntries)
        );
    }

    #[test]
    fn records_without_the_revision_are_ordered_by_time_and_a_tie_goes_to_the_entry() {
        let r = record(None, "2026-12-01T10:00:00Z");
        assert_eq!(
            later(Some((1, Some("2026-12-01T10:00:01Z"))), Some(&r)),
            Some(Later::AwsAuth)
        );
        assert_eq!(
            later(Some((1, Some("2026-12-01T09:59:59Z"))), Some(&r)),
            Some(Later::AccessEntries)
        );
        assert_eq!(
            later(Some((1, Some("2026-12-01T10:00:00Z"))), Some(&r)),
            Some(Later::AccessEntries)
        );
        assert_eq!(later(Some((1, None)), Some(&r)), Some(Later::AccessEntries));
    }
}
