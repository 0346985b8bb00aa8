//! `revoke ARN`: every entry of the ARN leaves the store, then the RBAC objects eks-grant made
//! for groups that nobody holds any more. Both go into the history, for `undo`.

use anyhow::{Context, Result};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{Cluster, fetch_caller, list_rbac};
use eks_auth::rbac::RbacObjects;

use super::{caller_arn, partly_done};
use crate::backend::AwsAuthStore;
use crate::output::{emit, note, write_stdout};
use crate::rbac_io;
use crate::rbac_plan;
use crate::report::RevokeReport;
use crate::request::Revoke;

pub async fn run(
    cluster: &Cluster,
    store: &AwsAuthStore,
    format: OutputFormat,
    revoke: Revoke,
) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{ctx}`"))?;
    let me = caller_arn(&caller);
    let plan = store.plan_revoke(&revoke, me.as_ref()).await?;
    let mut notes = revoke.notes.clone();

    // RBAC objects made for groups that no mapping hands out any more.
    let rbac_unused = if plan.gone_groups.is_empty() {
        RbacObjects::default()
    } else {
        match list_rbac(client).await {
            Ok(objects) => rbac_plan::unused_objects(&objects, &plan.gone_groups),
            Err(e) => {
                notes.push(format!("RBAC objects were not cleaned up: {e:#}"));
                RbacObjects::default()
            }
        }
    };
    let planned = rbac_io::delete(client, &rbac_unused, true).await?;

    if revoke.dry_run {
        let mut out = plan.diff.clone();
        out.push_str(&planned.diff);
        for n in &notes {
            note(n);
        }
        note(&format!(
            "dry run: {} aws-auth entr(y/ies) would be removed; nothing was written",
            plan.removed
        ));
        write_stdout(&out)?;
        return Ok(());
    }

    let written = store
        .write_revoke(
            plan,
            &revoke,
            me.as_ref(),
            &caller.username,
            planned.journal,
        )
        .await?;
    notes.extend(written.notes);
    let changes = rbac_io::delete(client, &rbac_unused, false)
        .await
        .map_err(|err| {
            let objects = rbac_plan::kubectl_delete_commands(&rbac_unused);
            partly_done(
                &err,
                &format!(
                    "the aws-auth entries of `{}` were removed{}, but its RBAC objects were not all deleted",
                    revoke.principal,
                    written
                        .revision
                        .map(|r| format!(" (revision {r})"))
                        .unwrap_or_default()
                ),
                &format!("delete what is left by hand: {}", objects.join("; ")),
            )
        })?
        .changes;
    let report = RevokeReport {
        store: "aws-auth",
        arn: revoke.principal.to_string(),
        removed: written.removed,
        revision: written.revision,
        rbac: changes,
        notes,
        dry_run: false,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, RevokeReport::table)
}
