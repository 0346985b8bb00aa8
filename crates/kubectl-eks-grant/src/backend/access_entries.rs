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
use eks_auth::eks::{AccessConfig, EksClient, EksError, NewAccessEntry};
use eks_auth::kube::Cluster;
use eks_auth::mapping::{Identity, MapOptions};
use eks_auth::rbac::preset;

use super::{AddPlan, AwsAuthStore, Mapping, Mappings, RevokePlan, UndoPlan, Written};
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
    /// DescribeCluster's answer, when `Backend::select` read it (`--backend auto`): passed on,
    /// not asked again.
    config: Option<AccessConfig>,
    /// The cluster's aws-auth, which `list` shows beside the entries with its effect in the mode.
    aws_auth: AwsAuthStore,
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
    pub fn new(
        eks: EksClient,
        config: Option<AccessConfig>,
        cluster: &Cluster,
    ) -> AccessEntriesStore {
        AccessEntriesStore {
            eks,
            config,
            aws_auth: AwsAuthStore::new(cluster),
        }
    }

    /// Every entry with its policies, at most 16 calls in flight (the access-entry commands'
    /// fetch: one way to read them all).
    async fn fetch_all(&self) -> Result<Vec<AccessEntry>> {
        crate::access_entries::eks_api::Eks::new(self.eks.clone())
            .fetch_all()
            .await
    }

    /// The EKS client, and DescribeCluster's answer when `Backend::select` read it.
    pub fn eks(&self) -> (&EksClient, Option<&AccessConfig>) {
        (&self.eks, self.config.as_ref())
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

    /// Both stores, each row with its effect under the cluster's mode (issue 11): an access
    /// entry is active in API and API_AND_CONFIG_MAP; an aws-auth entry is ignored in API mode
    /// and, in API_AND_CONFIG_MAP, shadowed by an access entry for the same principal (EKS user
    /// guide, "Grant IAM users access to Kubernetes with EKS access entries": access entries win).
    pub(super) async fn mappings(&self) -> Result<Mappings> {
        let entries = self.fetch_all().await?;
        let mode = match &self.config {
            Some(config) => config.mode,
            None => self.eks.access_config().await.map_err(eks_error)?.mode,
        };
        let aws_auth = self.aws_auth.mappings().await?;
        Ok(list_both(mode, &entries, aws_auth))
    }

    pub(super) async fn mapping_of(&self, identity: &Identity) -> Result<Option<Mapping>> {
        let entries = self.fetch_all().await?;
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

/// Pure: the access entries and aws-auth's mappings as one list, each with its effect in `mode`.
fn list_both(mode: AuthenticationMode, entries: &[AccessEntry], aws_auth: Mappings) -> Mappings {
    let (effect, why) = if mode.uses_access_entries() {
        ("active", None)
    } else {
        (
            "ignored",
            Some("CONFIG_MAP mode reads aws-auth only".to_owned()),
        )
    };
    let mut list: Vec<ListEntry> = entries
        .iter()
        .map(|e| ListEntry {
            list: "accessEntry",
            arn: e.principal_arn.to_string(),
            username: e.username.clone(),
            groups: e.kubernetes_groups.clone(),
            effective: effect == "active",
            effect,
            why: why.clone(),
            issues: Vec::new(),
            policies: e
                .policies
                .iter()
                .map(|p| format!("{} ({})", p.policy_name(), scope_text(&p.scope)))
                .collect(),
        })
        .collect();
    for mut m in aws_auth.entries {
        if !mode.uses_aws_auth() {
            m.effective = false;
            m.effect = "ignored";
            m.why = Some("API mode ignores aws-auth".to_owned());
        } else if m.effective
            && mode.uses_access_entries()
            && let Ok(arn) = m.arn.parse::<Arn>()
            && let Some(entry) = entries
                .iter()
                .find(|e| access::same_principal(&e.principal_arn, &arn))
        {
            m.effective = false;
            m.effect = "shadowed";
            m.why = Some(format!(
                "access entry `{}` wins over aws-auth",
                entry.principal_arn
            ));
        }
        list.push(m);
    }
    let mut groups: Vec<String> = entries
        .iter()
        .flat_map(|e| e.kubernetes_groups.iter().cloned())
        .chain(aws_auth.groups)
        .collect();
    groups.sort();
    groups.dedup();
    Mappings {
        entries: list,
        accounts: if mode.uses_aws_auth() {
            aws_auth.accounts
        } else {
            Vec::new()
        },
        groups,
        last_change: aws_auth.last_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn list_says_what_each_row_does_in_each_mode() {
        let mut e =
            AccessEntry::standard("arn:aws:iam::123456789012:role/team/dev".parse().unwrap());
        e.policies.push(PolicyAssociation {
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
            scope: AccessScope::Namespaces(vec!["a".into()]),
        });
        let data = BTreeMap::from([(
            "mapRoles".to_owned(),
            "- rolearn: arn:aws:iam::123456789012:role/dev\n  username: dev\n  groups: [devs]\n- rolearn: arn:aws:iam::123456789012:role/ops\n  username: ops\n  groups: [ops]\n".to_owned(),
        )]);
        let aws_auth = || {
            let a = AwsAuth::read(&data);
            Mappings {
                entries: super::super::aws_auth::list_entries(&a),
                accounts: Vec::new(),
                groups: vec!["devs".into(), "ops".into()],
                last_change: None,
            }
        };
        let effects = |m: &Mappings| m.entries.iter().map(|r| r.effect).collect::<Vec<_>>();
        let why = |m: &Mappings, i: usize| m.entries[i].why.clone();
        let both = list_both(
            AuthenticationMode::ApiAndConfigMap,
            &[e.clone()],
            aws_auth(),
        );
        assert_eq!(effects(&both), ["active", "shadowed", "active"]);
        assert_eq!(
            both.entries[0].policies,
            ["AmazonEKSViewPolicy (namespaces a)"]
        );
        assert_eq!(
            why(&both, 1).as_deref(),
            Some("access entry `arn:aws:iam::123456789012:role/team/dev` wins over aws-auth")
        );
        assert!(!both.entries[1].effective);
        let api = list_both(AuthenticationMode::Api, &[e.clone()], aws_auth());
        assert_eq!(effects(&api), ["active", "ignored", "ignored"]);
        assert_eq!(why(&api, 2).as_deref(), Some("API mode ignores aws-auth"));
        let cm = list_both(AuthenticationMode::ConfigMap, &[e], aws_auth());
        assert_eq!(effects(&cm), ["ignored", "active", "active"]);
    }
}
