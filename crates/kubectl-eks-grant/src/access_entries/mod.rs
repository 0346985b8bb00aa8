//! The access-entry side of `add`, `revoke` and `undo` (clusters in `API` or
//! `API_AND_CONFIG_MAP` mode). A preset no access policy realises is given with RBAC ([`rbac`]).
//!
//! Each command: validate the arguments ([`plan`]), read what EKS holds, plan the calls, check
//! the lockout guard, then print the calls (`--dry-run`) or make them one at a time. A failure
//! part-way says which calls were made; running the same command again finishes the job (the
//! plan starts from what EKS holds, so nothing is done twice).

pub mod calls;
pub mod eks_api;
pub mod guard;
pub mod journal;
pub mod plan;
pub mod rbac;
pub mod undo;

use anyhow::{Context, Result, bail};
use eks_auth::access::{AccessEntry, AccessScope, same_principal};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{Cluster, fetch_aws_auth};
use serde::Serialize;

use crate::cli::{AddArgs, RevokeArgs};
use crate::output::{emit, note};
use crate::rbac_io;
use crate::store::Target;
use calls::Call;
use plan::{EntryGrant, EntryRevoke};

/// What an `add` or `revoke` did (or would do).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeReport {
    pub store: &'static str,
    pub cluster: String,
    pub mode: String,
    /// The ARN as given.
    pub given: String,
    /// The principal as the access entry names it.
    pub principal: String,
    /// `created`, `updated`, `unchanged`, `deleted`, `absent`.
    pub result: &'static str,
    /// Each call, as the `aws` CLI line that makes it.
    pub calls: Vec<String>,
    /// The RBAC objects written or deleted with it (a preset realised with RBAC), e.g.
    /// `ClusterRoleBinding/eks-grant:cluster-reader-no-secrets created`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rbac: Vec<String>,
    pub dry_run: bool,
    pub notes: Vec<String>,
}

fn render_change(r: &ChangeReport) -> String {
    let mut out = String::new();
    let verb = if r.dry_run { "would be" } else { "" };
    match (r.result, r.dry_run) {
        ("unchanged", _) => out.push_str(&format!(
            "access entry `{}` unchanged: it already grants this\n",
            r.principal
        )),
        ("absent", _) => out.push_str(&format!(
            "access entry `{}`: nothing to revoke\n",
            r.principal
        )),
        (result, true) => {
            out.push_str(&format!(
                "access entry `{}` {verb} {result}; the calls (nothing was changed):\n",
                r.principal
            ));
            for c in &r.calls {
                out.push_str(&format!("  {c}\n"));
            }
        }
        (result, false) => {
            out.push_str(&format!("access entry `{}` {result}\n", r.principal));
            for c in &r.calls {
                out.push_str(&format!("  {c}\n"));
            }
        }
    }
    for o in &r.rbac {
        out.push_str(&format!("  RBAC {o}\n"));
    }
    out
}

fn exit_with<E: std::fmt::Display>(e: E) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// The principal as IAM knows it: a role's ARN with its path (GetRole), a user's as given.
async fn principal_arn(
    target: &Target,
    principal: &plan::Principal,
) -> Result<(String, Vec<String>)> {
    let mut notes = Vec::new();
    let iam = &principal.iam;
    if !principal.needs_role_lookup() {
        return Ok((iam.to_string(), notes));
    }
    if target.account().is_some_and(|a| a != iam.account()) {
        notes.push(format!(
            "`{iam}` is in another account than the cluster's: written as given (IAM of that account was not asked for the role's path)"
        ));
        return Ok((iam.to_string(), notes));
    }
    match eks_auth::iam::fetch_role(&target.aws, iam.partition(), iam.name()).await {
        Ok(role) => {
            if role.arn != iam.to_string() {
                notes.push(format!(
                    "role `{}` lives under path `{}` in IAM: the access entry names `{}`",
                    iam.name(),
                    role.path,
                    role.arn
                ));
            }
            Ok((role.arn, notes))
        }
        Err(e) => {
            let hint = e
                .hint()
                .map(|h| format!("\n\nhint: {h}"))
                .unwrap_or_default();
            bail!(
                "cannot tell the path of role `{}`: an access entry needs the role's full ARN: {e}{hint}",
                iam.name()
            )
        }
    }
}

/// The entry of `principal` as stored, found by its ARN, else (a role named without its
/// path) among all entries by account and name.
async fn find_entry(target: &Target, principal: &plan::Principal) -> Result<Option<AccessEntry>> {
    let arn = principal.iam.to_string();
    if let Some(e) = target.eks.fetch_entry(&arn).await.map_err(exit_with)? {
        return Ok(Some(e));
    }
    if principal.iam.kind() != PrincipalKind::Role {
        return Ok(None);
    }
    let principals = target.eks.list_principals().await.map_err(exit_with)?;
    let Some(stored) = principals.into_iter().find(|p| {
        p.parse::<Arn>()
            .is_ok_and(|p| same_principal(&p, &principal.given))
    }) else {
        return Ok(None);
    };
    target.eks.fetch_entry(&stored).await.map_err(exit_with)
}

async fn make_calls(target: &Target, calls: &[Call]) -> Result<()> {
    for (i, call) in calls.iter().enumerate() {
        if let Err(e) = target.eks.apply(call).await {
            let done: Vec<String> = calls[..i].iter().map(ToString::to_string).collect();
            let done = if done.is_empty() {
                "nothing was changed".to_owned()
            } else {
                format!("done before it: {}", done.join("; "))
            };
            bail!("{e}\n\n{call} failed; {done}. Running the same command again finishes the job.");
        }
    }
    Ok(())
}

/// `add` on access entries.
pub async fn add(
    cluster: &Cluster,
    target: &Target,
    format: OutputFormat,
    args: &AddArgs,
) -> Result<()> {
    let mut listed: Option<Vec<String>> = None;
    let unknown: Vec<&String> = args
        .policies
        .iter()
        .filter(|p| plan::known_policy_arn(p, "aws").is_none())
        .collect();
    if !unknown.is_empty() {
        listed = Some(target.eks.list_policy_arns().await.map_err(exit_with)?);
    }
    let grant = EntryGrant::from_args(args, &args.policies, |p, _| {
        listed.as_ref().and_then(|all| {
            all.iter()
                .find(|a| *a == p || a.rsplit('/').next() == Some(p))
                .cloned()
        })
    })
    .map_err(exit_with)?;
    let (principal, mut notes) = principal_arn(target, &grant.principal).await?;
    let current = target
        .eks
        .fetch_entry(&principal)
        .await
        .map_err(exit_with)?;
    let calls = plan::plan_add(current.as_ref(), &principal, &grant).map_err(exit_with)?;
    if let Some(AccessScope::Cluster) = current
        .as_ref()
        .and_then(|e| {
            grant
                .policies
                .iter()
                .find_map(|p| e.policies.iter().find(|a| a.policy_arn == *p))
        })
        .map(|a| &a.scope)
        && grant.scope != AccessScope::Cluster
    {
        notes.push("a policy already associated at cluster scope stays so: `add` never narrows access (revoke it first to narrow)".to_owned());
    }
    // A preset no access policy realises: its RBAC objects, bound to the entry's groups.
    let preset_rbac = rbac::plan_preset(cluster, target, &grant, &principal, &mut notes).await?;
    let rbac_changes = preset_rbac
        .as_ref()
        .is_some_and(rbac::PresetRbac::changes_something);
    let result = match (&current, calls.is_empty(), rbac_changes) {
        (_, true, false) => "unchanged",
        (None, false, _) => "created",
        _ => "updated",
    };
    let mut rbac_shown = preset_rbac
        .as_ref()
        .map(|r| rbac::shown(&r.planned.changes))
        .unwrap_or_default();
    if let Some(caveat) = preset_rbac.as_ref().and_then(|r| r.caveat) {
        notes.push(format!("preset caveat: {caveat}"));
    }
    if result != "unchanged" && !grant.dry_run {
        let before = journal::Snapshot::of(&principal, current.as_ref());
        // The RBAC objects first, so that an entry never lands without its binding.
        let applied = match &preset_rbac {
            Some(r) => rbac_io::apply(&cluster.client, &r.objects, false).await?,
            None => rbac_io::Applied::default(),
        };
        rbac_shown = rbac::shown(&applied.changes);
        make_calls(target, &calls).await.map_err(|err| {
            if rbac_shown.is_empty() {
                err
            } else {
                crate::commands::partly_done(
                    &err,
                    &format!(
                        "the RBAC objects were written ({}), but the access entry was not",
                        rbac_shown.join(", ")
                    ),
                    &format!(
                        "run the same `kubectl eks-grant add` again to finish, or `kubectl eks-grant revoke {principal}` to remove what was made"
                    ),
                )
            }
        })?;
        if let Err(e) = journal::record(cluster, target, "add", &before, applied.journal).await {
            notes.push(format!(
                "the change was made but not journaled, so `undo` cannot revert it: {e:#}"
            ));
        }
    }
    let report = ChangeReport {
        store: "access-entries",
        cluster: target.name().to_owned(),
        mode: target.mode().to_string(),
        given: args.arn.clone(),
        principal,
        result,
        calls: calls.iter().map(|c| c.to_cli(target.name())).collect(),
        rbac: rbac_shown,
        dry_run: grant.dry_run,
        notes: notes.clone(),
    };
    for n in &notes {
        note(n);
    }
    emit(format, &report, render_change)
}

/// The caller's IAM principal (STS), for the lockout guard; `None` when STS cannot say.
async fn caller(target: &Target) -> Option<Arn> {
    target
        .aws
        .fetch_caller_identity()
        .await
        .ok()
        .and_then(|c| c.arn.parse().ok())
}

/// The entries and aws-auth the lockout guard needs: every entry that could hold cluster
/// admin (associated with AmazonEKSClusterAdminPolicy) and aws-auth when the mode reads it.
async fn guard_inputs(cluster: &Cluster, target: &Target) -> Result<(Vec<AccessEntry>, AwsAuth)> {
    let entries = target.eks.fetch_all().await.map_err(exit_with)?;
    let aws_auth = if target.mode().uses_aws_auth() {
        let obj = fetch_aws_auth(&cluster.client)
            .await
            .with_context(|| format!("reading aws-auth in context `{}`", cluster.context))?;
        AwsAuth::parse(&obj.data).map_err(exit_with)?
    } else {
        AwsAuth::empty()
    };
    Ok((entries, aws_auth))
}

/// `revoke` on access entries: the entry, or one `--policy`.
pub async fn revoke(
    cluster: &Cluster,
    target: &Target,
    format: OutputFormat,
    args: &RevokeArgs,
) -> Result<()> {
    let revoke = EntryRevoke::from_args(args, args.policy.as_deref()).map_err(exit_with)?;
    let current = find_entry(target, &revoke.principal).await?;
    let calls = plan::plan_revoke(current.as_ref(), &revoke);
    let principal = current
        .as_ref()
        .map(|e| e.principal_arn.to_string())
        .unwrap_or_else(|| revoke.principal.iam.to_string());
    let mut notes = Vec::new();
    // The RBAC objects eks-grant made for groups nobody holds once the entry is gone.
    let mut unused = eks_auth::rbac::RbacObjects::default();
    if !calls.is_empty() {
        let (before, aws_auth) = guard_inputs(cluster, target).await?;
        let after = calls::apply_calls(&before, &calls);
        let gone = rbac::gone_groups(&before, &after, &aws_auth, &calls);
        unused = rbac::unused(cluster, &gone, &mut notes).await?;
        let me = caller(target).await;
        let risks = guard::lockout_risks(
            target.mode(),
            &before,
            &after,
            &aws_auth,
            &calls,
            me.as_ref(),
        );
        if !risks.is_empty() && !revoke.force {
            let reasons: Vec<String> = risks.iter().map(|r| format!("- {r}")).collect();
            bail!(
                "refusing to revoke `{principal}`:\n{}\n\nhint: add another cluster admin first (`kubectl eks-grant add ARN --preset cluster-admin`), or pass --force if you are sure",
                reasons.join("\n")
            );
        }
        if !risks.is_empty() {
            notes.extend(risks.iter().map(|r| format!("--force: {r}")));
        }
    }
    let result = match (&current, calls.is_empty(), &revoke.policy) {
        (_, true, _) => "absent",
        (_, false, None) => "deleted",
        (_, false, Some(_)) => "updated",
    };
    let planned = rbac_io::delete(&cluster.client, &unused, true).await?;
    let mut rbac_shown = rbac::shown(&planned.changes);
    if !calls.is_empty() && !revoke.dry_run {
        let before = journal::Snapshot::of(&principal, current.as_ref());
        make_calls(target, &calls).await?;
        // The entry is gone: its unused RBAC objects next. Whatever happens to them, the
        // entry's change is journaled (with the objects deleted), so `undo` can bring it back.
        let (rbac_journal, rbac_failed) =
            match rbac_io::delete(&cluster.client, &unused, false).await {
                Ok(applied) => {
                    rbac_shown = rbac::shown(&applied.changes);
                    (applied.journal, None)
                }
                Err(err) => (Vec::new(), Some(err)),
            };
        if let Err(e) = journal::record(cluster, target, "revoke", &before, rbac_journal).await {
            notes.push(format!(
                "the change was made but not journaled, so `undo` cannot revert it: {e:#}"
            ));
        }
        if let Some(err) = rbac_failed {
            return Err(crate::commands::partly_done(
                &err,
                &format!(
                    "the access entry of `{principal}` was deleted, but its RBAC objects were not all deleted"
                ),
                &format!(
                    "delete what is left by hand: {}",
                    crate::rbac_plan::kubectl_delete_commands(&unused).join("; ")
                ),
            ));
        }
    }
    if calls.is_empty() && revoke.policy.is_some() && current.is_some() {
        notes.push("the entry has no such policy associated".to_owned());
    }
    for n in &notes {
        note(n);
    }
    let report = ChangeReport {
        store: "access-entries",
        cluster: target.name().to_owned(),
        mode: target.mode().to_string(),
        given: args.arn.clone(),
        principal,
        result,
        calls: calls.iter().map(|c| c.to_cli(target.name())).collect(),
        rbac: rbac_shown,
        dry_run: revoke.dry_run,
        notes,
    };
    emit(format, &report, render_change)
}
