//! `undo`: reverts the last change made by eks-grant that is not undone yet, whole: the store as
//! it was before it, then the RBAC objects it created, changed or deleted. The undo is a change
//! of its own with the next revision; `undo` again reverts the change before.

use anyhow::{Context, Result};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{Cluster, fetch_caller};

use super::{caller_arn, partly_done};
use crate::backend::AwsAuthStore;
use crate::output::{emit, note, write_stdout};
use crate::rbac_io;
use crate::report::UndoReport;

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
