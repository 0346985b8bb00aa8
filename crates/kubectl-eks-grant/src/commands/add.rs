//! `add ARN`: the RBAC objects of the preset first (so that a mapping never lands without
//! them), then the mapping in the store; both go into the history, for `undo`. Before anything is
//! written: the namespaces exist, the caller may grant this (RBAC escalation), and the grant
//! changes nothing for anyone else (the shared-group check).

use anyhow::{Context, Result};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{Cluster, fetch_caller};
use eks_auth::rbac::preset;

use super::{caller_arn, partly_done};
use crate::backend::AwsAuthStore;
use crate::output::{emit, note, write_stdout};
use crate::plan::PlanError;
use crate::rbac_io::{self, ObjectChange};
use crate::report::AddReport;
use crate::request::Grant;
use crate::{rbac_plan, shared_group};

pub async fn run(
    cluster: &Cluster,
    store: &AwsAuthStore,
    format: OutputFormat,
    grant: Grant,
) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let mut notes = grant.notes.clone();
    let rbac = match &grant.preset {
        Some(name) => {
            let p = preset(name)?;
            Some((
                rbac_plan::preset_objects(&p, &grant.groups, &grant.namespaces)?,
                p,
            ))
        }
        None => None,
    };
    if grant.groups.is_empty() {
        notes.push(
            "no --group: the identity authenticates but gets only what system:authenticated may do"
                .to_owned(),
        );
    }

    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{ctx}`"))?;
    let me = caller_arn(&caller);
    rbac_io::check_namespaces(client, &grant.namespaces, ctx).await?;
    let plan = store.plan_add(&grant, me.as_ref()).await?;
    notes.extend(plan.notes.iter().cloned());

    // What the RBAC objects would become (read only), for the shared-group check and --dry-run.
    let mut planned = rbac_io::Applied::default();
    if let Some((objects, preset)) = &rbac {
        rbac_io::escalation_preflight(client, &caller, objects).await?;
        planned = rbac_io::apply(client, objects, true).await?;
        let new_bindings = rbac_plan::new_bindings(objects, &planned.changes);
        let shared = shared_group::shared_groups(
            |group| plan.other_holders(group, &grant),
            &grant.groups,
            &grant.namespaces,
            preset,
            &new_bindings,
        );
        if !shared.is_empty() {
            if !grant.force {
                return Err(PlanError::SharedGroup(shared).into());
            }
            for s in &shared {
                notes.push(format!(
                    "--force: group `{}` widened for {} as well",
                    s.group,
                    s.holders.join(", ")
                ));
            }
        }
    }

    if grant.dry_run {
        let mut out = plan.diff.clone();
        out.push_str(&planned.diff);
        for n in &notes {
            note(n);
        }
        note(&format!(
            "dry run: aws-auth entry would be {}, {} RBAC object(s) would change; nothing was written",
            plan.outcome,
            planned
                .changes
                .iter()
                .filter(|c| c.action != "unchanged")
                .count()
        ));
        write_stdout(&out)?;
        return Ok(());
    }

    let mut changes = Vec::new();
    let mut journal = Vec::new();
    if let Some((objects, preset)) = &rbac {
        let applied = rbac_io::apply(client, objects, false).await?;
        changes = applied.changes;
        journal = applied.journal;
        if let Some(c) = preset.caveat_for(&grant.namespaces) {
            notes.push(format!("preset caveat: {c}"));
        }
    }

    let written = store
        .write_add(plan, &grant, me.as_ref(), &caller.username, journal)
        .await
        .map_err(|err| {
            let written: Vec<String> = changes
                .iter()
                .filter(|c| c.action != "unchanged")
                .map(ObjectChange::display)
                .collect();
            if written.is_empty() {
                err
            } else {
                // The RBAC objects went first: say what is left behind and how to finish or
                // clean up.
                partly_done(
                    &err,
                    &format!(
                        "the RBAC objects were written ({}), but the aws-auth mapping was not",
                        written.join(", ")
                    ),
                    &format!(
                        "run the same `kubectl eks-grant add` again to finish, or `kubectl eks-grant revoke {}` to remove what was made",
                        grant.principal
                    ),
                )
            }
        })?;
    notes.extend(written.notes);
    let report = AddReport {
        store: "aws-auth",
        arn: grant.principal.to_string(),
        given: grant.given.clone(),
        section: grant.section,
        username: grant.username.clone(),
        groups: grant.groups.clone(),
        aws_auth: written.outcome,
        revision: written.revision,
        preset: grant.preset.clone(),
        rbac: changes,
        notes,
        dry_run: false,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, AddReport::table)
}
