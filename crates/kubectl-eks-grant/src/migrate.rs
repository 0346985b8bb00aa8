//! `kubectl eks-grant migrate [--to API_AND_CONFIG_MAP|API] [--dry-run]`: aws-auth entries to
//! access entries, with nobody locked out.
//!
//! Plan first ([`eks_auth::access::migrate::plan`], printed as a table), then act, in the order
//! that never removes anyone's way in:
//! 1. `CONFIG_MAP` -> `API_AND_CONFIG_MAP` (both stores count; waited for until the update is
//!    `Successful`);
//! 2. the access entries the plan creates, at most 16 principals at a time (an entry that
//!    appeared meanwhile, e.g. from an interrupted run, is taken as made);
//! 3. only with `--to API`, and only when nobody who gets in through aws-auth today lacks an
//!    access entry (they are listed otherwise): `API_AND_CONFIG_MAP` -> `API`.
//!
//! aws-auth is never deleted (it is ignored in `API` mode). A second run after a failure
//! re-plans from what EKS holds and finishes the job without duplicates.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use eks_auth::access::AuthenticationMode;
use eks_auth::access::migrate::{Item, Outcome, RoleLookup, plan, would_lose_access};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::cli::OutputFormat;
use eks_auth::eks::{EksClient, EksError, NewAccessEntry};
use eks_auth::kube::{Cluster, fetch_aws_auth};
use futures::StreamExt;
use serde::Serialize;

use crate::access_entries::eks_api::MAX_IN_FLIGHT;
use crate::cli::StoreArgs;
use crate::output::{emit, note, table};
use crate::store::{Target, connect_eks};

/// One row of the printed plan.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanRow {
    pub source: String,
    pub arn: String,
    /// `create`, `exists`, `stays`.
    pub action: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub entry_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub policies: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// What `migrate` did (or would do).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MigrateReport {
    pub cluster: String,
    pub mode_before: String,
    pub mode_after: String,
    pub to: String,
    pub plan: Vec<PlanRow>,
    /// Mode changes and entries made (or, with --dry-run, to be made), in order.
    pub steps: Vec<String>,
    pub dry_run: bool,
}

fn row(item: &Item) -> PlanRow {
    let mut r = PlanRow {
        source: item.source.clone(),
        arn: item.arn.clone(),
        action: "stays",
        principal: None,
        entry_type: None,
        username: None,
        groups: Vec::new(),
        policies: Vec::new(),
        reason: None,
    };
    match &item.outcome {
        Outcome::Create(e) => {
            r.action = "create";
            r.principal = Some(e.principal_arn.to_string());
            r.entry_type = Some(e.entry_type.to_string());
            r.username = Some(e.username.clone());
            r.groups = e.kubernetes_groups.clone();
            r.policies = e
                .policies
                .iter()
                .map(|p| format!("{} ({})", p.policy_name(), p.scope))
                .collect();
        }
        Outcome::Exists { principal, missing } => {
            r.action = "exists";
            r.principal = Some(principal.clone());
            r.policies = missing
                .iter()
                .map(|p| format!("{} ({}) to associate", p.policy_name(), p.scope))
                .collect();
        }
        Outcome::Stays { reason } => r.reason = Some(reason.clone()),
    }
    r
}

fn render(r: &MigrateReport) -> String {
    let dash = |v: &[String]| {
        if v.is_empty() {
            "-".to_owned()
        } else {
            v.join(", ")
        }
    };
    let mut out = table(
        &[
            "aws-auth", "arn", "becomes", "username", "groups", "policies",
        ],
        r.plan.iter().map(|p| {
            let becomes = match p.action {
                "create" => format!(
                    "{} {}",
                    p.entry_type.as_deref().unwrap_or_default(),
                    p.principal.as_deref().unwrap_or_default()
                ),
                "exists" => format!(
                    "(entry exists) {}",
                    p.principal.as_deref().unwrap_or_default()
                ),
                _ => format!("stays: {}", p.reason.as_deref().unwrap_or_default()),
            };
            vec![
                p.source.clone(),
                p.arn.clone(),
                becomes,
                p.username.clone().unwrap_or_else(|| "-".into()),
                dash(&p.groups),
                dash(&p.policies),
            ]
        }),
    );
    out.push('\n');
    let head = if r.dry_run {
        format!(
            "would move cluster `{}` from {} towards {} (nothing was changed):",
            r.cluster, r.mode_before, r.to
        )
    } else {
        format!(
            "cluster `{}`: {} -> {}",
            r.cluster, r.mode_before, r.mode_after
        )
    };
    out.push_str(&head);
    out.push('\n');
    for s in &r.steps {
        out.push_str(&format!("  {s}\n"));
    }
    if r.steps.is_empty() {
        out.push_str("  nothing to do\n");
    }
    out
}

/// GetRole for each role name of mapRoles, at most [`MAX_IN_FLIGHT`] at once.
async fn look_up_roles(target: &Target, aws_auth: &AwsAuth) -> BTreeMap<String, RoleLookup> {
    let mut names: Vec<(String, String)> = aws_auth
        .roles()
        .iter()
        .filter_map(|r| r.rolearn.parse::<Arn>().ok())
        .filter(|a| a.kind() == PrincipalKind::Role)
        .map(|a| (a.name().to_owned(), a.partition().to_owned()))
        .collect();
    names.sort();
    names.dedup();
    futures::stream::iter(names)
        .map(|(name, partition)| async move {
            let found = match eks_auth::iam::fetch_role(&target.aws, &partition, &name).await {
                Ok(role) => RoleLookup::Found(role.arn),
                Err(eks_auth::iam::IamError::NoSuchRole { .. }) => RoleLookup::Missing,
                Err(e) => RoleLookup::Unknown(e.to_string()),
            };
            (name, found)
        })
        .buffer_unordered(MAX_IN_FLIGHT)
        .collect()
        .await
}

async fn change_mode(eks: &EksClient, to: AuthenticationMode) -> Result<()> {
    let mut update = eks
        .update_authentication_mode(to)
        .await
        .map_err(|e| anyhow::anyhow!("{}", with_hint(&e)))?;
    while !update.is_done() {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        update = eks
            .describe_update(&update.id)
            .await
            .map_err(|e| anyhow::anyhow!("{}", with_hint(&e)))?;
    }
    if update.status != "Successful" {
        bail!(
            "the mode change to {to} ended `{}`: {}",
            update.status,
            update.errors.join("; ")
        );
    }
    Ok(())
}

fn with_hint(e: &EksError) -> String {
    match e.hint() {
        Some(h) => format!("{e}\n\nhint: {h}"),
        None => e.to_string(),
    }
}

/// Creates one planned entry and its associations; an entry that already exists is taken as
/// made (its associations are still set: associating again only replaces the scope).
async fn create(eks: &EksClient, entry: &eks_auth::access::AccessEntry) -> Result<(), String> {
    let username = (entry.entry_type.is_standard()
        && entry.username
            != eks_auth::access::default_username(&entry.principal_arn, entry.entry_type))
    .then(|| entry.username.clone());
    let request = NewAccessEntry {
        principal_arn: entry.principal_arn.clone(),
        entry_type: entry.entry_type,
        username,
        kubernetes_groups: entry.kubernetes_groups.clone(),
    };
    match eks.create_access_entry(&request).await {
        Ok(_) | Err(EksError::EntryExists { .. }) => {}
        Err(e) => return Err(with_hint(&e)),
    }
    for p in &entry.policies {
        eks.associate_access_policy(&entry.principal_arn.to_string(), p)
            .await
            .map_err(|e| with_hint(&e))?;
    }
    Ok(())
}

/// `migrate`.
pub async fn migrate(
    cluster: &Cluster,
    backend: &StoreArgs,
    format: OutputFormat,
    to: AuthenticationMode,
    dry_run: bool,
) -> Result<()> {
    if to == AuthenticationMode::ConfigMap {
        bail!(
            "`--to CONFIG_MAP` is not a migration: EKS never moves back to CONFIG_MAP\n\nhint: `--to API_AND_CONFIG_MAP` (the default) or `--to API`"
        );
    }
    let target = connect_eks(backend, cluster, None)
        .await
        .context("finding the cluster's authentication mode")?;
    let eks = target.aws.eks_client(target.name());
    let before = target.mode();
    let aws_auth = {
        let obj = fetch_aws_auth(&cluster.client)
            .await
            .with_context(|| format!("reading aws-auth in context `{}`", cluster.context))?;
        AwsAuth::parse(&obj.data).map_err(|e| anyhow::anyhow!("{e}"))?
    };
    let entries = if before.uses_access_entries() {
        target
            .eks
            .fetch_all()
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?
    } else {
        Vec::new()
    };
    let roles = look_up_roles(&target, &aws_auth).await;
    let items = plan(&aws_auth, &entries, &roles);
    let created: Vec<eks_auth::access::AccessEntry> = items
        .iter()
        .filter_map(|i| match &i.outcome {
            Outcome::Create(e) => Some((**e).clone()),
            // An entry made by an interrupted run, without all its policies yet.
            Outcome::Exists { principal, missing } if !missing.is_empty() => {
                let mut e = eks_auth::access::AccessEntry::standard(principal.parse().ok()?);
                e.policies = missing.clone();
                Some(e)
            }
            _ => None,
        })
        .collect();

    let mut steps = Vec::new();
    if before == AuthenticationMode::ConfigMap {
        steps.push("set the authentication mode to API_AND_CONFIG_MAP (both stores count), and wait for the update".to_owned());
    }
    for e in &created {
        steps.push(format!(
            "create {} access entry `{}`{}",
            e.entry_type,
            e.principal_arn,
            if e.policies.is_empty() {
                String::new()
            } else {
                format!(
                    " with {}",
                    e.policies
                        .iter()
                        .map(|p| format!("{} ({})", p.policy_name(), p.scope))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
    }
    let wants_api = to == AuthenticationMode::Api && before != AuthenticationMode::Api;
    if wants_api {
        let mut after = entries.clone();
        after.extend(created.iter().cloned());
        let losers = would_lose_access(&items, &after);
        if !losers.is_empty() {
            let list: Vec<String> = losers
                .iter()
                .map(|i| match &i.outcome {
                    Outcome::Stays { reason } => format!("- {} `{}`: {reason}", i.source, i.arn),
                    _ => format!("- {} `{}`", i.source, i.arn),
                })
                .collect();
            bail!(
                "refusing `--to API`: these aws-auth entries let someone in today and would have no access entry, so they would lose access:\n{}\n\nhint: give each an access entry (`kubectl eks-grant add ARN ...`) or remove the mapping if it is no longer needed, then run migrate again; `migrate` alone (to API_AND_CONFIG_MAP) is safe now",
                list.join("\n")
            );
        }
        steps.push(
            "set the authentication mode to API (aws-auth stops counting; it is kept, not deleted)"
                .to_owned(),
        );
    }

    if !dry_run {
        if before == AuthenticationMode::ConfigMap {
            change_mode(&eks, AuthenticationMode::ApiAndConfigMap).await?;
        }
        let results: Vec<(String, Result<(), String>)> = futures::stream::iter(created.iter())
            .map(|e| {
                let eks = &eks;
                async move { (e.principal_arn.to_string(), create(eks, e).await) }
            })
            .buffer_unordered(MAX_IN_FLIGHT)
            .collect()
            .await;
        let failed: Vec<String> = results
            .iter()
            .filter_map(|(p, r)| r.as_ref().err().map(|e| format!("- `{p}`: {e}")))
            .collect();
        if !failed.is_empty() {
            let done = results.len() - failed.len();
            bail!(
                "migrate stopped: {} of {} access entries could not be made:\n{}\n\nThe mode is API_AND_CONFIG_MAP and {done} entries were made; aws-auth still counts, so nobody lost access. Run `kubectl eks-grant migrate` again to finish.",
                failed.len(),
                results.len(),
                failed.join("\n")
            );
        }
        if wants_api {
            // Re-check against what EKS now holds before aws-auth stops counting.
            let now = target
                .eks
                .fetch_all()
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let losers = would_lose_access(&plan(&aws_auth, &now, &roles), &now);
            if !losers.is_empty() {
                bail!(
                    "not moving to API: {} aws-auth entries still have no access entry (run `kubectl eks-grant migrate --to API --dry-run` to see them)",
                    losers.len()
                );
            }
            change_mode(&eks, AuthenticationMode::Api).await?;
        }
    }
    let after = if dry_run {
        before
    } else if wants_api {
        AuthenticationMode::Api
    } else {
        before.max(AuthenticationMode::ApiAndConfigMap)
    };
    if !dry_run && before != after {
        note(&format!(
            "cluster `{}` is now in {after} mode",
            target.name()
        ));
    }
    let report = MigrateReport {
        cluster: target.name().to_owned(),
        mode_before: before.to_string(),
        mode_after: after.to_string(),
        to: to.to_string(),
        plan: items.iter().map(row).collect(),
        steps,
        dry_run,
    };
    emit(format, &report, render)
}
