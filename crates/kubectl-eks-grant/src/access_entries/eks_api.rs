//! I/O: the EKS calls of the access-entry backend, over aws-sdk-eks.
//!
//! Reads fan out with at most [`MAX_IN_FLIGHT`] calls in flight (the bound); writes are
//! made one at a time, in the order planned. `ThrottlingException` (and the SDK's other
//! transient errors) are retried by the SDK's standard retry strategy with exponential backoff
//! and jitter, here with [`MAX_ATTEMPTS`] attempts (AWS SDKs and Tools reference guide,
//! "Retry behavior"). An `AccessDeniedException` names the IAM action that was refused.
//!
//! Note for the integrator: `crates/eks-auth/src/eks.rs` (helper `world`) is meant to hold the
//! shared EKS calls; when it lands, these should move there or call it.

use aws_sdk_eks::error::ProvideErrorMetadata;
use aws_sdk_eks::types::AccessScopeType;
use eks_auth::access::{
    AccessEntry, AccessEntryType, AccessScope, AuthenticationMode, PolicyAssociation,
};
use eks_auth::arn::Arn;
use eks_auth::aws::AwsContext;
use futures::{StreamExt, TryStreamExt};

use super::plan::Call;

/// The most EKS calls in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;
/// Attempts per call, throttling included.
pub const MAX_ATTEMPTS: u32 = 8;

/// A failed EKS call, with what the user can do.
#[derive(Debug, thiserror::Error)]
#[error("EKS {operation} on cluster `{cluster}`{} failed: {code}: {message}{}", on(.principal), hint(.code, .operation))]
pub struct EksCallError {
    pub operation: &'static str,
    pub cluster: String,
    pub principal: Option<String>,
    pub code: String,
    pub message: String,
}

fn on(principal: &Option<String>) -> String {
    principal
        .as_ref()
        .map(|p| format!(" for `{p}`"))
        .unwrap_or_default()
}

fn hint(code: &str, operation: &str) -> String {
    match code {
        "AccessDeniedException" => format!(
            "\n\nhint: your AWS identity needs `eks:{operation}` on the cluster (IAM policy action); `aws sts get-caller-identity` shows which identity was used"
        ),
        "ThrottlingException" => {
            format!("\n\nhint: EKS kept throttling after {MAX_ATTEMPTS} attempts; try again in a minute")
        }
        "ResourceNotFoundException" if operation == "DescribeCluster" => {
            "\n\nhint: pass the cluster's `--cluster-name` and `--region` (`aws eks list-clusters` lists them)".to_owned()
        }
        "InvalidRequestException" => "\n\nhint: `kubectl eks-grant migrate` moves the cluster to access entries; `--backend aws-auth` edits aws-auth".to_owned(),
        _ => String::new(),
    }
}

impl EksCallError {
    fn new<E, R>(
        operation: &'static str,
        cluster: &str,
        principal: Option<&str>,
        err: &aws_sdk_eks::error::SdkError<E, R>,
    ) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        let (code, message) = match err.as_service_error() {
            Some(e) => (
                e.code().unwrap_or("Unknown").to_owned(),
                e.message().unwrap_or_default().to_owned(),
            ),
            None => ("RequestFailed".to_owned(), error_chain(err)),
        };
        EksCallError {
            operation,
            cluster: cluster.to_owned(),
            principal: principal.map(str::to_owned),
            code,
            message,
        }
    }

    pub fn is_not_found(&self) -> bool {
        self.code == "ResourceNotFoundException"
    }
}

fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = Vec::new();
    let mut cur = err.source();
    while let Some(e) = cur {
        parts.push(e.to_string());
        cur = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// What DescribeCluster says about access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterAccess {
    pub arn: String,
    pub mode: AuthenticationMode,
}

/// The EKS client for one cluster.
#[derive(Debug, Clone)]
pub struct Eks {
    client: aws_sdk_eks::Client,
    pub cluster: String,
}

fn scope_of(s: Option<&aws_sdk_eks::types::AccessScope>) -> AccessScope {
    match s {
        Some(s) if s.r#type() == Some(&AccessScopeType::Namespace) => {
            AccessScope::Namespaces(s.namespaces().to_vec())
        }
        _ => AccessScope::Cluster,
    }
}

fn sdk_scope(scope: &AccessScope) -> aws_sdk_eks::types::AccessScope {
    match scope {
        AccessScope::Cluster => aws_sdk_eks::types::AccessScope::builder()
            .r#type(AccessScopeType::Cluster)
            .build(),
        AccessScope::Namespaces(ns) => aws_sdk_eks::types::AccessScope::builder()
            .r#type(AccessScopeType::Namespace)
            .set_namespaces(Some(ns.clone()))
            .build(),
    }
}

impl Eks {
    pub fn new(ctx: &AwsContext, cluster: &str) -> Eks {
        let config = aws_sdk_eks::config::Builder::from(ctx.sdk_config())
            .retry_config(
                aws_sdk_eks::config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS),
            )
            .build();
        Eks {
            client: aws_sdk_eks::Client::from_conf(config),
            cluster: cluster.to_owned(),
        }
    }

    fn err<E, R>(
        &self,
        op: &'static str,
        principal: Option<&str>,
        e: &aws_sdk_eks::error::SdkError<E, R>,
    ) -> EksCallError
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        EksCallError::new(op, &self.cluster, principal, e)
    }

    /// DescribeCluster: the cluster's ARN and authentication mode (`CONFIG_MAP` when EKS
    /// reports none, the API's default).
    pub async fn describe_access(&self) -> Result<ClusterAccess, EksCallError> {
        let out = self
            .client
            .describe_cluster()
            .name(&self.cluster)
            .send()
            .await
            .map_err(|e| self.err("DescribeCluster", None, &e))?;
        let cluster = out.cluster();
        let mode = cluster
            .and_then(|c| c.access_config())
            .and_then(|a| a.authentication_mode())
            .map(|m| m.as_str().parse().unwrap_or(AuthenticationMode::ConfigMap))
            .unwrap_or(AuthenticationMode::ConfigMap);
        Ok(ClusterAccess {
            arn: cluster.and_then(|c| c.arn()).unwrap_or_default().to_owned(),
            mode,
        })
    }

    /// ListAccessEntries, every page.
    pub async fn list_principals(&self) -> Result<Vec<String>, EksCallError> {
        let pages = self
            .client
            .list_access_entries()
            .cluster_name(&self.cluster)
            .max_results(100)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("ListAccessEntries", None, &e))?;
            out.extend(page.access_entries().iter().cloned());
        }
        Ok(out)
    }

    /// DescribeAccessEntry and ListAssociatedAccessPolicies of one principal, concurrently;
    /// `None` when it has no entry.
    pub async fn fetch_entry(&self, principal: &str) -> Result<Option<AccessEntry>, EksCallError> {
        let describe = async {
            self.client
                .describe_access_entry()
                .cluster_name(&self.cluster)
                .principal_arn(principal)
                .send()
                .await
                .map_err(|e| self.err("DescribeAccessEntry", Some(principal), &e))
        };
        let policies = self.fetch_policies(principal);
        let (described, policies) = futures::join!(describe, policies);
        let described = match described {
            Ok(d) => d,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let policies = match policies {
            Ok(p) => p,
            Err(e) if e.is_not_found() => return Ok(None),
            Err(e) => return Err(e),
        };
        let Some(e) = described.access_entry() else {
            return Ok(None);
        };
        let arn: Arn = e.principal_arn().unwrap_or(principal).parse().map_err(
            |err: eks_auth::arn::ArnError| EksCallError {
                operation: "DescribeAccessEntry",
                cluster: self.cluster.clone(),
                principal: Some(principal.to_owned()),
                code: "UnexpectedAnswer".into(),
                message: err.to_string(),
            },
        )?;
        let entry_type = e
            .r#type()
            .and_then(|t| t.parse().ok())
            .unwrap_or(AccessEntryType::Standard);
        let mut entry = AccessEntry::standard(arn);
        entry.entry_type = entry_type;
        if let Some(u) = e.username() {
            entry.username = u.to_owned();
        }
        entry.kubernetes_groups = e.kubernetes_groups().to_vec();
        entry.policies = policies;
        Ok(Some(entry))
    }

    /// ListAssociatedAccessPolicies, every page.
    pub async fn fetch_policies(
        &self,
        principal: &str,
    ) -> Result<Vec<PolicyAssociation>, EksCallError> {
        let pages = self
            .client
            .list_associated_access_policies()
            .cluster_name(&self.cluster)
            .principal_arn(principal)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| self.err("ListAssociatedAccessPolicies", Some(principal), &e))?;
            for p in page.associated_access_policies() {
                out.push(PolicyAssociation {
                    policy_arn: p.policy_arn().unwrap_or_default().to_owned(),
                    scope: scope_of(p.access_scope()),
                });
            }
        }
        Ok(out)
    }

    /// Every entry with its policies: one list, then at most [`MAX_IN_FLIGHT`] entries fetched
    /// at once, in the list's order.
    pub async fn fetch_all(&self) -> Result<Vec<AccessEntry>, EksCallError> {
        let principals = self.list_principals().await?;
        let fetched: Vec<Option<AccessEntry>> = futures::stream::iter(principals)
            .map(|p| async move { self.fetch_entry(&p).await })
            // Each entry is two calls in flight (describe + policies).
            .buffered(MAX_IN_FLIGHT / 2)
            .try_collect()
            .await?;
        // An entry deleted between the list and its describe is gone: leave it out.
        Ok(fetched.into_iter().flatten().collect())
    }

    /// ListAccessPolicies: every policy ARN EKS offers.
    pub async fn list_policy_arns(&self) -> Result<Vec<String>, EksCallError> {
        let pages = self.client.list_access_policies().into_paginator().send();
        let mut out = Vec::new();
        let mut pages = std::pin::pin!(pages);
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("ListAccessPolicies", None, &e))?;
            out.extend(
                page.access_policies()
                    .iter()
                    .filter_map(|p| p.arn().map(str::to_owned)),
            );
        }
        Ok(out)
    }

    /// One planned write.
    pub async fn apply(&self, call: &Call) -> Result<(), EksCallError> {
        match call {
            Call::Create {
                principal,
                username,
                groups,
            } => {
                self.client
                    .create_access_entry()
                    .cluster_name(&self.cluster)
                    .principal_arn(principal)
                    .set_username(username.clone())
                    .set_kubernetes_groups((!groups.is_empty()).then(|| groups.clone()))
                    .send()
                    .await
                    .map_err(|e| self.err("CreateAccessEntry", Some(principal), &e))?;
            }
            Call::Update {
                principal,
                username,
                groups,
            } => {
                self.client
                    .update_access_entry()
                    .cluster_name(&self.cluster)
                    .principal_arn(principal)
                    .set_username(username.clone())
                    .set_kubernetes_groups(Some(groups.clone()))
                    .send()
                    .await
                    .map_err(|e| self.err("UpdateAccessEntry", Some(principal), &e))?;
            }
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => {
                self.client
                    .associate_access_policy()
                    .cluster_name(&self.cluster)
                    .principal_arn(principal)
                    .policy_arn(policy_arn)
                    .access_scope(sdk_scope(scope))
                    .send()
                    .await
                    .map_err(|e| self.err("AssociateAccessPolicy", Some(principal), &e))?;
            }
            Call::Disassociate {
                principal,
                policy_arn,
            } => {
                self.client
                    .disassociate_access_policy()
                    .cluster_name(&self.cluster)
                    .principal_arn(principal)
                    .policy_arn(policy_arn)
                    .send()
                    .await
                    .map_err(|e| self.err("DisassociateAccessPolicy", Some(principal), &e))?;
            }
            Call::Delete { principal } => {
                self.client
                    .delete_access_entry()
                    .cluster_name(&self.cluster)
                    .principal_arn(principal)
                    .send()
                    .await
                    .map_err(|e| self.err("DeleteAccessEntry", Some(principal), &e))?;
            }
        }
        Ok(())
    }
}
