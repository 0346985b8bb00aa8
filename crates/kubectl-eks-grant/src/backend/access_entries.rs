//! I/O: the access-entries backend (issue 11): EKS access entries of one cluster, through the
//! core's EKS client (`eks_auth::eks`), for what `list` and `check` read. The writes (`add`,
//! `revoke`, `undo`) are the access-entry commands of `crate::access_entries`, which take the
//! EKS client and DescribeCluster answer kept here ([`AccessEntriesStore::eks`]).

use anyhow::Result;
use eks_auth::access::{self, AccessEntry, AccessScope, AuthenticationMode};
use eks_auth::arn::Arn;
use eks_auth::aws::AwsContext;
use eks_auth::aws_auth::AwsAuth;
use eks_auth::eks::{AccessConfig, EksClient, EksError};
use eks_auth::kube::Cluster;
use eks_auth::mapping::{Identity, MapOptions};

use super::{AwsAuthStore, Mapping, Mappings};
use crate::report::ListEntry;

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
    aws: AwsContext,
    eks: EksClient,
    /// DescribeCluster's answer, when `Backend::select` read it (`--backend auto`): passed on,
    /// not asked again.
    config: Option<AccessConfig>,
    /// The cluster's aws-auth, which `list` shows beside the entries with its effect in the mode.
    aws_auth: AwsAuthStore,
}

impl AccessEntriesStore {
    pub fn new(
        aws: AwsContext,
        eks: EksClient,
        config: Option<AccessConfig>,
        cluster: &Cluster,
    ) -> AccessEntriesStore {
        AccessEntriesStore {
            aws,
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

    /// The AWS configuration, the EKS client, and DescribeCluster's answer when
    /// `Backend::select` read it.
    pub fn eks(&self) -> crate::store::Known<'_> {
        (&self.aws, &self.eks, self.config.as_ref())
    }

    /// Both stores, each row with its effect under the cluster's mode (issue 11): an access
    /// entry is active in API and API_AND_CONFIG_MAP; an aws-auth entry is ignored in API mode
    /// and, in API_AND_CONFIG_MAP, shadowed by an access entry for the same principal (EKS user
    /// guide, "Grant IAM users access to Kubernetes with EKS access entries": access entries win).
    pub async fn mappings(&self) -> Result<Mappings> {
        let entries = self.fetch_all().await?;
        let mode = match &self.config {
            Some(config) => config.mode,
            None => self.eks.access_config().await.map_err(eks_error)?.mode,
        };
        let aws_auth = self.aws_auth.mappings().await?;
        Ok(list_both(mode, &entries, aws_auth))
    }

    pub async fn mapping_of(&self, identity: &Identity) -> Result<Option<Mapping>> {
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
    use eks_auth::access::PolicyAssociation;
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
