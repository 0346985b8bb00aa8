//! I/O: the access-entries backend (issue 11): EKS access entries of one cluster, through the
//! core's EKS client (`eks_auth::eks`). A preset that an AWS-managed access policy realises
//! (view, edit, admin, cluster-admin, cluster-reader) becomes that policy, associated at cluster
//! scope or in the `--namespace`s; other presets keep their RBAC objects and the entry's
//! Kubernetes groups. `add` is idempotent: the entry is created, or updated in place, and the
//! policy associated only when it is not already there as asked.
//!
//! Not yet here (issue 11, next steps): the undo journal for access entries, the lockout guard
//! for access entries, a role's path found through IAM for an assumed-role ARN.

use anyhow::{Result, bail};
use eks_auth::access::{
    self, AccessEntry, AccessEntryType, AccessScope, AuthenticationMode, PolicyAssociation,
};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::eks::{EksClient, EksError, NewAccessEntry};
use eks_auth::mapping::{Identity, MapOptions};
use eks_auth::rbac::preset;

use super::{AddPlan, Mapping, Mappings, RevokePlan, UndoPlan, Written};
use crate::report::ListEntry;
use crate::request::{Grant, Revoke};

/// An EKS error as the user reads it: the error and its causes once, then what to do.
pub fn eks_error(err: EksError) -> anyhow::Error {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(&err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    match err.hint() {
        Some(hint) => anyhow::anyhow!("{text}\n\nhint: {hint}"),
        None => anyhow::anyhow!("{text}"),
    }
}

/// The access entries of one EKS cluster.
#[derive(Debug, Clone)]
pub struct AccessEntriesStore {
    eks: EksClient,
}

#[derive(Debug)]
pub(super) struct AddState {
    principal: String,
    existing: Option<AccessEntry>,
    username: String,
    groups: Vec<String>,
    policy: Option<PolicyAssociation>,
}

#[derive(Debug)]
pub(super) struct RevokeState {
    principal: String,
}

/// The principal as access entries want it: a user or a role ARN as IAM knows it (a role keeps
/// its path: EKS matches entries on the IAM unique id, "Create access entries", EKS user guide).
fn entry_principal(grant_given: &str) -> Result<Arn> {
    let arn: Arn = grant_given.trim().parse()?;
    match arn.kind() {
        PrincipalKind::User | PrincipalKind::Role => Ok(arn),
        PrincipalKind::AssumedRole => bail!(
            "`{arn}` is an assumed-role session: an access entry names the role with its path, which the session ARN does not show\n\nhint: give the role's ARN as `aws iam get-role --role-name {}` prints it",
            arn.name()
        ),
        kind => bail!(
            "`{arn}` is a {kind} ARN: access entries are for IAM users and roles\n\nhint: give the ARN of an IAM user or role"
        ),
    }
}

/// The policy association a preset becomes, when an AWS-managed access policy realises it.
pub fn preset_policy(grant: &Grant, partition: &str) -> Option<PolicyAssociation> {
    let name = grant.preset.as_deref()?;
    let policy = access::policies::for_preset(name)?;
    Some(PolicyAssociation {
        policy_arn: policy.arn(partition),
        scope: if grant.namespaces.is_empty() {
            AccessScope::Cluster
        } else {
            AccessScope::Namespaces(grant.namespaces.clone())
        },
    })
}

impl AccessEntriesStore {
    pub fn new(eks: EksClient) -> AccessEntriesStore {
        AccessEntriesStore { eks }
    }

    /// Whether this store realises `grant`'s preset itself (an access policy), so that no RBAC
    /// objects are needed.
    pub fn realises_preset(&self, grant: &Grant) -> bool {
        preset_policy(grant, grant.principal.partition()).is_some()
    }

    pub(super) async fn plan_add(&self, grant: &Grant) -> Result<AddPlan> {
        let principal = entry_principal(&grant.given)?;
        let policy = preset_policy(grant, principal.partition());
        // With a policy, the preset's own default group binds nothing: it is left out.
        let preset = grant.preset.as_deref().and_then(|p| preset(p).ok());
        let groups: Vec<String> = grant
            .groups
            .iter()
            .filter(|g| policy.is_none() || !preset.as_ref().is_some_and(|p| p.is_default_group(g)))
            .cloned()
            .collect();
        let key = principal.to_string();
        let existing = self
            .eks
            .describe_access_entry(&key)
            .await
            .map_err(eks_error)?;
        let existing = match existing {
            Some(mut e) => {
                e.policies = self
                    .eks
                    .list_associated_access_policies(&key)
                    .await
                    .map_err(eks_error)?;
                Some(e)
            }
            None => None,
        };
        let username = grant.username.clone();
        let outcome = match &existing {
            None => "added",
            Some(e) => {
                let same_policy = policy
                    .as_ref()
                    .is_none_or(|p| e.policies.iter().any(|q| q == p));
                if e.username == username && e.kubernetes_groups == groups && same_policy {
                    "unchanged"
                } else {
                    "updated"
                }
            }
        };
        let diff = format!(
            "access entry `{key}`: {outcome}; username `{username}`, groups [{}]{}\n",
            groups.join(", "),
            policy
                .as_ref()
                .map(|p| format!(", policy {} ({})", p.policy_name(), scope_text(&p.scope)))
                .unwrap_or_default()
        );
        Ok(AddPlan {
            outcome,
            diff,
            notes: Vec::new(),
            state: super::AddState::AccessEntries(Box::new(AddState {
                principal: key,
                existing,
                username,
                groups,
                policy,
            })),
        })
    }

    pub(super) async fn write_add(&self, state: AddState) -> Result<Written> {
        let AddState {
            principal,
            existing,
            username,
            groups,
            policy,
        } = state;
        let mut outcome = "unchanged";
        match &existing {
            None => {
                self.eks
                    .create_access_entry(&NewAccessEntry {
                        principal_arn: principal.parse()?,
                        entry_type: AccessEntryType::Standard,
                        username: Some(username.clone()),
                        kubernetes_groups: groups.clone(),
                    })
                    .await
                    .map_err(eks_error)?;
                outcome = "added";
            }
            Some(e) if e.username != username || e.kubernetes_groups != groups => {
                self.eks
                    .update_access_entry(&principal, Some(&username), Some(&groups))
                    .await
                    .map_err(eks_error)?;
                outcome = "updated";
            }
            Some(_) => {}
        }
        if let Some(p) = &policy
            && !existing
                .as_ref()
                .is_some_and(|e| e.policies.iter().any(|q| q == p))
        {
            self.eks
                .associate_access_policy(&principal, p)
                .await
                .map_err(eks_error)?;
            if outcome == "unchanged" {
                outcome = "updated";
            }
        }
        Ok(Written {
            outcome: outcome.to_owned(),
            ..Written::default()
        })
    }

    pub(super) async fn plan_revoke(&self, revoke: &Revoke) -> Result<RevokePlan> {
        let principal = entry_principal(&revoke.given)?.to_string();
        let existing = self
            .eks
            .describe_access_entry(&principal)
            .await
            .map_err(eks_error)?;
        let (removed, gone_groups, diff) = match &existing {
            Some(e) => (
                1,
                e.kubernetes_groups.clone(),
                format!("access entry `{principal}`: deleted, with its access policies\n"),
            ),
            None => (0, Vec::new(), String::new()),
        };
        Ok(RevokePlan {
            removed,
            gone_groups,
            diff,
            state: super::RevokeState::AccessEntries(RevokeState { principal }),
        })
    }

    pub(super) async fn write_revoke(&self, state: RevokeState, removed: usize) -> Result<Written> {
        let mut notes = Vec::new();
        if removed > 0 {
            // EKS removes the entry's policy associations with it (DeleteAccessEntry).
            self.eks
                .delete_access_entry(&state.principal)
                .await
                .map_err(eks_error)?;
        } else {
            notes.push(format!(
                "`{}` had no access entry: nothing to revoke",
                state.principal
            ));
        }
        Ok(Written {
            outcome: if removed == 0 { "unchanged" } else { "removed" }.to_owned(),
            removed,
            revision: None,
            notes,
        })
    }

    pub(super) fn plan_undo(&self) -> Result<UndoPlan> {
        bail!(
            "undo does not revert access-entry changes yet: eks-grant keeps no history of them\n\nhint: take a grant back with `kubectl eks-grant revoke ARN --backend access-entries`, or add it again as it was"
        )
    }

    pub(super) async fn mappings(&self) -> Result<Mappings> {
        let entries = self.eks.fetch_access_entries().await.map_err(eks_error)?;
        let mut groups: Vec<String> = entries
            .iter()
            .flat_map(|e| e.kubernetes_groups.iter().cloned())
            .collect();
        groups.sort();
        groups.dedup();
        Ok(Mappings {
            entries: entries
                .iter()
                .map(|e| ListEntry {
                    list: "accessEntry",
                    arn: e.principal_arn.to_string(),
                    username: e.username.clone(),
                    groups: e.kubernetes_groups.clone(),
                    effective: true,
                    issues: Vec::new(),
                    policies: e
                        .policies
                        .iter()
                        .map(|p| format!("{} ({})", p.policy_name(), scope_text(&p.scope)))
                        .collect(),
                })
                .collect(),
            accounts: Vec::new(),
            groups,
            last_change: None,
        })
    }

    pub(super) async fn mapping_of(&self, identity: &Identity) -> Result<Option<Mapping>> {
        let entries = self.eks.fetch_access_entries().await.map_err(eks_error)?;
        let empty = AwsAuth::parse(&Default::default())?;
        let resolution = access::resolve(
            identity,
            AuthenticationMode::Api,
            &entries,
            &empty,
            None,
            &MapOptions::default(),
        )?;
        Ok(resolution.resolved.map(|r| Mapping {
            source: format!(
                "access entry{}",
                if r.policies.is_empty() {
                    String::new()
                } else {
                    format!(
                        " with {}",
                        r.policies
                            .iter()
                            .map(|p| format!("{} ({})", p.policy_name(), scope_text(&p.scope)))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                }
            ),
            username: r.username,
            groups: r.groups,
        }))
    }
}

fn scope_text(scope: &AccessScope) -> String {
    match scope {
        AccessScope::Cluster => "cluster".to_owned(),
        AccessScope::Namespaces(ns) => format!("namespaces {}", ns.join(", ")),
    }
}
