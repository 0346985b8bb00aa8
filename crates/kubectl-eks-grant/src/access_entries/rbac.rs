//! I/O: the RBAC side of access entries. A preset that no AWS-managed access policy realises
//! (`cluster-reader-no-secrets`) is given as it is on aws-auth: the entry carries a Kubernetes
//! group (`kubernetesGroups`), and eks-grant writes the preset's ClusterRole and binds it to that
//! group. An entry's `kubernetesGroups` are the names of `kind: Group` subjects of RoleBindings and
//! ClusterRoleBindings, and Kubernetes authorizes the principal for what the bound roles allow;
//! EKS does not check that such bindings exist (EKS API reference, CreateAccessEntry
//! `kubernetesGroups`; EKS user guide, "Create an access entry using Kubernetes groups"). So the
//! binding eks-grant writes is what grants the access.
//!
//! The objects are the aws-auth path's (`rbac_plan::preset_objects`, written by `rbac_io`):
//! before anything is written the caller must be allowed to grant them (RBAC escalation
//! prevention); they are written before the entry (an entry never lands without its binding);
//! what they were before goes into the access-entry journal, so that `undo` puts them back, and
//! `revoke` deletes the ones no entry or aws-auth mapping needs any more, journaled the same way.

use anyhow::{Context, Result};
use eks_auth::access::{AccessEntry, same_principal};
use eks_auth::arn::Arn;
use eks_auth::aws_auth::AwsAuth;
use eks_auth::kube::{Cluster, fetch_caller, list_rbac};
use eks_auth::rbac::{RbacObjects, preset};

use super::calls::Call;
use super::plan::EntryGrant;
use crate::rbac_io::{self, Applied, ObjectChange};
use crate::store::Target;
use crate::{rbac_plan, shared_group};

/// The RBAC objects of an `add`'s preset, checked and planned (nothing written).
#[derive(Debug)]
pub struct PresetRbac {
    pub objects: RbacObjects,
    /// What writing them would do (`would be created`, `unchanged`, ...).
    pub planned: Applied,
    /// The preset's caveat for the report, if it has one.
    pub caveat: Option<&'static str>,
}

impl PresetRbac {
    /// Whether writing them changes anything.
    pub fn changes_something(&self) -> bool {
        self.planned.changes.iter().any(|c| c.action != "unchanged")
    }
}

/// The objects `grant.rbac_preset` needs, refused before anything is written when the caller
/// may not grant them, or (unless `--force`, then with a note) when a binding would widen what
/// others in the group may do: principals of other access entries, or of aws-auth mappings in a
/// mode that reads aws-auth (the same shared-group check as on aws-auth). `principal`: the
/// entry's ARN as written. `None`: the grant has no such preset.
pub async fn plan_preset(
    cluster: &Cluster,
    target: &Target,
    grant: &EntryGrant,
    principal: &str,
    notes: &mut Vec<String>,
) -> Result<Option<PresetRbac>> {
    let Some(name) = &grant.rbac_preset else {
        return Ok(None);
    };
    let p = preset(name)?;
    let namespaces = match &grant.scope {
        eks_auth::access::AccessScope::Cluster => Vec::new(),
        eks_auth::access::AccessScope::Namespaces(ns) => ns.clone(),
    };
    let objects = rbac_plan::preset_objects(&p, &grant.groups, &namespaces)?;
    let client = &cluster.client;
    rbac_io::check_namespaces(client, &namespaces, &cluster.context).await?;
    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{}`", cluster.context))?;
    rbac_io::escalation_preflight(client, &caller, &objects).await?;
    let planned = rbac_io::apply(client, &objects, true).await?;
    let new_bindings = rbac_plan::new_bindings(&objects, &planned.changes);
    if !new_bindings.is_empty() {
        let (entries, aws_auth) = super::guard_inputs(cluster, target).await?;
        let spellings: Vec<Arn> = [
            principal.parse::<Arn>().ok(),
            Some(grant.principal.given.clone()),
        ]
        .into_iter()
        .flatten()
        .collect();
        let spelled: Vec<&Arn> = spellings.iter().collect();
        let holders = |group: &str| {
            let mut h: Vec<String> = entries
                .iter()
                .filter(|e| e.kubernetes_groups.iter().any(|g| g == group))
                .filter(|e| !spelled.iter().any(|p| same_principal(&e.principal_arn, p)))
                .map(|e| e.principal_arn.to_string())
                .collect();
            h.extend(shared_group::other_holders(&aws_auth, group, &spelled));
            h
        };
        let shared =
            shared_group::shared_groups(holders, &grant.groups, &namespaces, &p, &new_bindings);
        if !shared.is_empty() {
            if !grant.force {
                return Err(crate::plan::PlanError::SharedGroup(shared).into());
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
    Ok(Some(PresetRbac {
        objects,
        planned,
        caveat: p.caveat_for(&namespaces),
    }))
}

/// The groups `calls` take away from everyone: the deleted entries' `kubernetesGroups` that no
/// other entry (after the calls) and no aws-auth mapping in `aws_auth` (empty when the mode ignores
/// aws-auth) still hands out.
pub fn gone_groups(
    before: &[AccessEntry],
    after: &[AccessEntry],
    aws_auth: &AwsAuth,
    calls: &[Call],
) -> Vec<String> {
    let in_aws_auth = crate::plan::groups_in_use(aws_auth);
    let mut gone: Vec<String> = Vec::new();
    for call in calls {
        let Call::Delete { principal } = call else {
            continue;
        };
        let Some(entry) = before
            .iter()
            .find(|e| e.principal_arn.to_string() == *principal)
        else {
            continue;
        };
        for g in &entry.kubernetes_groups {
            let held =
                after.iter().any(|e| e.kubernetes_groups.contains(g)) || in_aws_auth.contains(g);
            if !held && !gone.contains(g) {
                gone.push(g.clone());
            }
        }
    }
    gone
}

/// The objects eks-grant made for `gone` groups that nothing needs any more. A cluster whose
/// RBAC cannot be listed keeps them, with a note saying so.
pub async fn unused(
    cluster: &Cluster,
    gone: &[String],
    notes: &mut Vec<String>,
) -> Result<RbacObjects> {
    if gone.is_empty() {
        return Ok(RbacObjects::default());
    }
    match list_rbac(&cluster.client).await {
        Ok(objects) => Ok(rbac_plan::unused_objects(&objects, gone)),
        Err(e) => {
            notes.push(format!("RBAC objects were not cleaned up: {e:#}"));
            Ok(RbacObjects::default())
        }
    }
}

/// The changes a report shows: those that change something.
pub fn shown(changes: &[ObjectChange]) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.action != "unchanged")
        .map(ObjectChange::display)
        .collect()
}
