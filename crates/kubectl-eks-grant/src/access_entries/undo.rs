//! I/O: `undo` of one journaled access-entry change: refused (unless `--force`) when the entry
//! is no longer what that change left; else the calls that restore the entry as it was, then the
//! change's RBAC objects put back (what it created deleted while eks-grant still manages it, what
//! it deleted or changed restored), then the record marked undone. Which change `undo` takes,
//! across aws-auth and access entries, is `crate::commands::undo`'s decision.

use anyhow::{Result, bail};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::Cluster;
use serde::Serialize;

use super::journal::{self, NAME, NAMESPACE, Record, Snapshot, undo_calls};
use super::rbac;
use crate::rbac_io;
use crate::store::Target;

/// What `undo` did.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoReport {
    pub store: &'static str,
    pub cluster: String,
    pub undone: Option<u64>,
    pub command: Option<String>,
    pub principal: Option<String>,
    pub calls: Vec<String>,
    /// The RBAC objects put back, e.g. `ClusterRoleBinding/eks-grant:auditors deleted`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rbac: Vec<String>,
    pub dry_run: bool,
}

/// The last change of this cluster in the journal not undone yet.
pub async fn last_open(cluster: &Cluster, target: &Target) -> Result<Option<Record>> {
    Ok(journal::read(cluster)
        .await?
        .last_open(target.name())
        .cloned())
}

/// Why there is nothing to undo on access entries.
pub fn nothing_to_undo(target: &Target) -> anyhow::Error {
    anyhow::anyhow!(
        "nothing to undo: the journal `{NAMESPACE}/{NAME}` has no change of access entries on cluster `{}` that is not undone yet",
        target.name()
    )
}

/// Reverts `last`, a journaled change of this cluster.
pub async fn undo(
    cluster: &Cluster,
    target: &Target,
    format: OutputFormat,
    last: Record,
    dry_run: bool,
    force: bool,
) -> Result<()> {
    let principal = &last.before.principal;
    let now = target.eks.fetch_entry(principal).await?;
    let now = Snapshot::of(principal, now.as_ref());
    if now != last.after && !force {
        bail!(
            "the access entry of `{principal}` changed since change #{} (`{}` at {}): undoing it would overwrite that\n\nhint: `kubectl eks-grant list` shows it now; pass --force to restore it as it was before #{} anyway",
            last.seq,
            last.command,
            last.time,
            last.seq
        );
    }
    let calls = undo_calls(&last.before, &now);
    let client = &cluster.client;
    // What putting the RBAC objects back does, read only: checked before any call is made.
    let mut rbac_changes = rbac::shown(&rbac_io::revert(client, &last.rbac, true).await?.changes);
    if !dry_run {
        for call in &calls {
            target.eks.apply(call).await.map_err(|e| {
                anyhow::anyhow!("{e}\n\n{call} failed while undoing change #{}; running `kubectl eks-grant undo --force` again finishes it", last.seq)
            })?;
        }
        let reverted = rbac_io::revert(client, &last.rbac, false).await.map_err(|err| {
            crate::commands::partly_done(
                &err,
                &format!(
                    "the access entry of `{principal}` was restored as it was before change #{}, but the RBAC objects of that change were not all put back",
                    last.seq
                ),
                "run `kubectl eks-grant undo --force` again to finish, or look at the bindings with `kubectl eks-grant list`",
            )
        })?;
        rbac_changes = rbac::shown(&reverted.changes);
        journal::mark_undone(cluster, last.seq).await?;
    }
    let report = UndoReport {
        store: "access-entries",
        cluster: target.name().to_owned(),
        undone: Some(last.seq),
        command: Some(last.command.clone()),
        principal: Some(principal.clone()),
        calls: calls.iter().map(|c| c.to_cli(target.name())).collect(),
        rbac: rbac_changes,
        dry_run,
    };
    crate::output::emit(format, &report, |r| {
        let mut s = format!(
            "{} change #{} (`{}` of `{}`)\n",
            if r.dry_run { "would undo" } else { "undone:" },
            last.seq,
            last.command,
            last.before.principal
        );
        for c in &r.calls {
            s.push_str(&format!("  {c}\n"));
        }
        for o in &r.rbac {
            s.push_str(&format!("  RBAC {o}\n"));
        }
        s
    })
}
