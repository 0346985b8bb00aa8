//! I/O: the EKS access-entry API and the cluster's access configuration, through aws-sdk-eks
//! (cargo feature `aws`).
//!
//! Three kinds of calls, cheapest first:
//! - reads of the cluster: [`EksClient::access_config`] (DescribeCluster's `accessConfig`),
//!   [`EksClient::describe_update`];
//! - reads of entries: [`EksClient::list_access_entries`] and
//!   [`EksClient::list_associated_access_policies`] (every page), [`EksClient::describe_access_entry`],
//!   and [`EksClient::fetch_access_entries`], which combines them into the core's
//!   [`AccessEntry`] values for [`crate::access::resolve`];
//! - writes: create, update, delete entries, associate and disassociate policies, and
//!   [`EksClient::update_authentication_mode`].
//!
//! Every call goes through the SDK's standard retry strategy, set here to up to
//! [`MAX_ATTEMPTS`] attempts with exponential backoff from [`INITIAL_BACKOFF`] (with jitter):
//! `ThrottlingException` (429) is retried that way, and only reported when every attempt was
//! throttled. Errors name the cluster and principal, and `AccessDeniedException` names the IAM
//! action that was refused (`eks:CreateAccessEntry`, ...), so the hint can say what to ask for.
//!
//! Error codes and status codes: botocore's EKS service model (`service-2.json`); the messages
//! that tell a missing cluster from a missing entry: "No cluster found for name: NAME." and "The
//! specified principalArn could not be found. ..." (quoted in tests/aws/standin_eks.py).

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::types::{AccessScopeType, UpdateAccessConfigRequest};
use aws_smithy_types::retry::RetryConfig;

use crate::access::{
    AccessEntry, AccessEntryType, AccessScope, AuthenticationMode, PolicyAssociation,
};
use crate::arn::Arn;
use crate::aws::AwsContext;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Attempts per call, the first included (the SDK's standard strategy; its default is 3).
pub const MAX_ATTEMPTS: u32 = 5;
/// The first retry waits up to this long; each further one up to twice as long as the last.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

/// The EKS operations this module calls; each names its IAM action `eks:<Operation>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    DescribeCluster,
    UpdateClusterConfig,
    DescribeUpdate,
    ListAccessEntries,
    DescribeAccessEntry,
    CreateAccessEntry,
    UpdateAccessEntry,
    DeleteAccessEntry,
    AssociateAccessPolicy,
    DisassociateAccessPolicy,
    ListAssociatedAccessPolicies,
    ListAccessPolicies,
}

impl Operation {
    pub fn name(self) -> &'static str {
        match self {
            Operation::DescribeCluster => "DescribeCluster",
            Operation::UpdateClusterConfig => "UpdateClusterConfig",
            Operation::DescribeUpdate => "DescribeUpdate",
            Operation::ListAccessEntries => "ListAccessEntries",
            Operation::DescribeAccessEntry => "DescribeAccessEntry",
            Operation::CreateAccessEntry => "CreateAccessEntry",
            Operation::UpdateAccessEntry => "UpdateAccessEntry",
            Operation::DeleteAccessEntry => "DeleteAccessEntry",
            Operation::AssociateAccessPolicy => "AssociateAccessPolicy",
            Operation::DisassociateAccessPolicy => "DisassociateAccessPolicy",
            Operation::ListAssociatedAccessPolicies => "ListAssociatedAccessPolicies",
            Operation::ListAccessPolicies => "ListAccessPolicies",
        }
    }

    /// The IAM action that allows it: `eks:CreateAccessEntry`.
    pub fn iam_action(self) -> String {
        format!("eks:{}", self.name())
    }
}

/// Errors of the EKS access calls. `hint()` says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum EksError {
    #[error("EKS cluster `{cluster}` not found in region `{region}`")]
    ClusterNotFound { cluster: String, region: String },
    #[error("EKS cluster `{cluster}` has no access entry for `{principal}`")]
    EntryNotFound { cluster: String, principal: String },
    #[error("EKS cluster `{cluster}` already has an access entry for `{principal}`")]
    EntryExists { cluster: String, principal: String },
    #[error(
        "EKS cluster `{cluster}` does not use access entries (its authentication mode is CONFIG_MAP)"
    )]
    AccessEntriesOff { cluster: String },
    #[error("access denied: `{action}` on EKS cluster `{cluster}`: {message}")]
    AccessDenied {
        action: String,
        cluster: String,
        message: String,
    },
    #[error("EKS kept throttling `{operation}` on cluster `{cluster}` ({attempts} attempts)")]
    Throttled {
        operation: &'static str,
        cluster: String,
        attempts: u32,
    },
    #[error("EKS refused `{operation}` on cluster `{cluster}`: {code}: {message}")]
    Refused {
        operation: &'static str,
        cluster: String,
        code: String,
        message: String,
    },
    #[error("EKS `{operation}` on cluster `{cluster}` failed")]
    Call {
        operation: &'static str,
        cluster: String,
        #[source]
        source: BoxError,
    },
    #[error("EKS `{operation}` on cluster `{cluster}` answered without `{field}`")]
    Incomplete {
        operation: &'static str,
        cluster: String,
        field: &'static str,
    },
    #[error(
        "EKS `{operation}` on cluster `{cluster}` answered `{value}` for `{field}`, which this version does not know"
    )]
    Unexpected {
        operation: &'static str,
        cluster: String,
        field: &'static str,
        value: String,
    },
}

impl EksError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            EksError::ClusterNotFound { region, .. } => Some(format!(
                "list the clusters with `aws eks list-clusters --region {region}`, or pass the cluster's `--region`"
            )),
            EksError::EntryNotFound { cluster, .. } => Some(format!(
                "list the entries with `aws eks list-access-entries --cluster-name {cluster}`"
            )),
            EksError::EntryExists { .. } => Some(
                "change the existing entry instead (`aws eks update-access-entry`), or delete it first"
                    .to_owned(),
            ),
            EksError::AccessEntriesOff { cluster } => Some(format!(
                "turn access entries on with `aws eks update-cluster-config --name {cluster} --access-config authenticationMode=API_AND_CONFIG_MAP`, or edit the aws-auth ConfigMap instead"
            )),
            EksError::AccessDenied { action, cluster, .. } => Some(format!(
                "your AWS identity needs the IAM permission `{action}` on the cluster `{cluster}`: ask an administrator of the account to allow it in your IAM policy"
            )),
            EksError::Throttled { .. } => Some(
                "EKS is rate-limiting this account's API calls: wait a minute and run the command again"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// The cluster's `accessConfig`, and the cluster's ARN from the same DescribeCluster answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessConfig {
    pub mode: AuthenticationMode,
    pub bootstrap_cluster_creator_admin_permissions: bool,
    /// `cluster.arn` (its account is the cluster's).
    pub cluster_arn: Option<String>,
}

/// An update EKS runs on the cluster (UpdateClusterConfig's answer, DescribeUpdate's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterUpdate {
    pub id: String,
    /// `InProgress`, `Successful`, `Failed`, `Cancelled`.
    pub status: String,
    /// The error messages of a failed update.
    pub errors: Vec<String>,
}

impl ClusterUpdate {
    pub fn is_done(&self) -> bool {
        self.status != "InProgress"
    }
}

/// What `CreateAccessEntry` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessEntry {
    pub principal_arn: Arn,
    pub entry_type: AccessEntryType,
    /// `None`: EKS sets its default ([`crate::access::default_username`]).
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
}

/// An AWS-managed access policy as ListAccessPolicies names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPolicy {
    pub name: String,
    pub arn: String,
}

/// The EKS access API of one cluster.
#[derive(Debug, Clone)]
pub struct EksClient {
    client: aws_sdk_eks::Client,
    cluster: String,
    region: String,
}

impl AwsContext {
    /// An [`EksClient`] for `cluster` in this context's region and with its credentials.
    pub fn eks_client(&self, cluster: &str) -> EksClient {
        EksClient::new(self.sdk_config(), cluster)
    }
}

/// Classifies an SDK error of `operation`.
fn classify<E>(
    err: SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    operation: Operation,
    cluster: &str,
    region: &str,
    principal: Option<&str>,
) -> EksError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let code = err.code().map(str::to_owned);
    let message = err.message().unwrap_or_default().to_owned();
    let cluster = cluster.to_owned();
    match code.as_deref() {
        Some("ResourceNotFoundException") => {
            // One code for both; the messages differ (module doc).
            match principal {
                Some(p) if !message.starts_with("No cluster found") => EksError::EntryNotFound {
                    cluster,
                    principal: p.to_owned(),
                },
                _ => EksError::ClusterNotFound {
                    cluster,
                    region: region.to_owned(),
                },
            }
        }
        Some("ResourceInUseException") if operation == Operation::CreateAccessEntry => {
            EksError::EntryExists {
                cluster,
                principal: principal.unwrap_or_default().to_owned(),
            }
        }
        Some("InvalidRequestException") if message.contains("authentication mode") => {
            EksError::AccessEntriesOff { cluster }
        }
        Some("AccessDeniedException") => EksError::AccessDenied {
            action: operation.iam_action(),
            cluster,
            message,
        },
        Some("ThrottlingException") => EksError::Throttled {
            operation: operation.name(),
            cluster,
            attempts: MAX_ATTEMPTS,
        },
        Some(code) => EksError::Refused {
            operation: operation.name(),
            cluster,
            code: code.to_owned(),
            message,
        },
        None => EksError::Call {
            operation: operation.name(),
            cluster,
            source: Box::new(err),
        },
    }
}

fn scope_of(scope: Option<&aws_sdk_eks::types::AccessScope>) -> AccessScope {
    match scope {
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

impl EksClient {
    /// A client for `cluster` from an SDK configuration (region, credentials, endpoint), with
    /// this module's retry policy.
    pub fn new(config: &SdkConfig, cluster: &str) -> EksClient {
        let retry = RetryConfig::standard()
            .with_max_attempts(MAX_ATTEMPTS)
            .with_initial_backoff(INITIAL_BACKOFF);
        let conf = aws_sdk_eks::config::Builder::from(config)
            .retry_config(retry)
            .build();
        EksClient {
            client: aws_sdk_eks::Client::from_conf(conf),
            cluster: cluster.to_owned(),
            region: config
                .region()
                .map(|r| r.as_ref().to_owned())
                .unwrap_or_default(),
        }
    }

    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    fn err<E>(
        &self,
        op: Operation,
        principal: Option<&str>,
    ) -> impl FnOnce(
        SdkError<E, aws_smithy_runtime_api::client::orchestrator::HttpResponse>,
    ) -> EksError
    + '_
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        let principal = principal.map(str::to_owned);
        move |e| classify(e, op, &self.cluster, &self.region, principal.as_deref())
    }

    fn incomplete(&self, operation: Operation, field: &'static str) -> EksError {
        EksError::Incomplete {
            operation: operation.name(),
            cluster: self.cluster.clone(),
            field,
        }
    }

    /// DescribeCluster's `accessConfig`. A cluster whose answer has none predates access entries:
    /// CONFIG_MAP.
    pub async fn access_config(&self) -> Result<AccessConfig, EksError> {
        let op = Operation::DescribeCluster;
        let out = self
            .client
            .describe_cluster()
            .name(&self.cluster)
            .send()
            .await
            .map_err(self.err(op, None))?;
        let cluster = out
            .cluster()
            .ok_or_else(|| self.incomplete(op, "cluster"))?;
        let cluster_arn = cluster.arn().map(str::to_owned);
        let Some(access) = cluster.access_config() else {
            return Ok(AccessConfig {
                mode: AuthenticationMode::ConfigMap,
                bootstrap_cluster_creator_admin_permissions: false,
                cluster_arn,
            });
        };
        let mode = match access.authentication_mode() {
            None => AuthenticationMode::ConfigMap,
            Some(m) => m.as_str().parse().map_err(|_| EksError::Unexpected {
                operation: op.name(),
                cluster: self.cluster.clone(),
                field: "accessConfig.authenticationMode",
                value: m.as_str().to_owned(),
            })?,
        };
        Ok(AccessConfig {
            mode,
            bootstrap_cluster_creator_admin_permissions: access
                .bootstrap_cluster_creator_admin_permissions()
                .unwrap_or(false),
            cluster_arn,
        })
    }

    fn update_of(
        &self,
        op: Operation,
        update: Option<&aws_sdk_eks::types::Update>,
    ) -> Result<ClusterUpdate, EksError> {
        let u = update.ok_or_else(|| self.incomplete(op, "update"))?;
        Ok(ClusterUpdate {
            id: u
                .id()
                .ok_or_else(|| self.incomplete(op, "update.id"))?
                .to_owned(),
            status: u
                .status()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
            errors: u
                .errors()
                .iter()
                .filter_map(|e| e.error_message().map(str::to_owned))
                .collect(),
        })
    }

    /// UpdateClusterConfig with `accessConfig.authenticationMode`. EKS moves the mode one step
    /// forward only ([`AuthenticationMode::check_change`] says so before any I/O); the change
    /// counts once the returned update is `Successful` ([`EksClient::describe_update`]).
    pub async fn update_authentication_mode(
        &self,
        mode: AuthenticationMode,
    ) -> Result<ClusterUpdate, EksError> {
        let op = Operation::UpdateClusterConfig;
        let request = UpdateAccessConfigRequest::builder()
            .authentication_mode(mode.as_str().into())
            .build();
        let out = self
            .client
            .update_cluster_config()
            .name(&self.cluster)
            .access_config(request)
            .send()
            .await
            .map_err(self.err(op, None))?;
        self.update_of(op, out.update())
    }

    /// DescribeUpdate.
    pub async fn describe_update(&self, id: &str) -> Result<ClusterUpdate, EksError> {
        let op = Operation::DescribeUpdate;
        let out = self
            .client
            .describe_update()
            .name(&self.cluster)
            .update_id(id)
            .send()
            .await
            .map_err(self.err(op, None))?;
        self.update_of(op, out.update())
    }

    /// Every principal ARN with an access entry (all pages), optionally only those associated
    /// with `policy_arn`.
    pub async fn list_access_entries(
        &self,
        policy_arn: Option<&str>,
    ) -> Result<Vec<String>, EksError> {
        let op = Operation::ListAccessEntries;
        let pages = self
            .client
            .list_access_entries()
            .cluster_name(&self.cluster)
            .set_associated_policy_arn(policy_arn.map(str::to_owned))
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(self.err(op, None))?;
        Ok(pages
            .into_iter()
            .flat_map(|p| p.access_entries.unwrap_or_default())
            .collect())
    }

    /// The policies associated with a principal's entry (all pages).
    pub async fn list_associated_access_policies(
        &self,
        principal_arn: &str,
    ) -> Result<Vec<PolicyAssociation>, EksError> {
        let op = Operation::ListAssociatedAccessPolicies;
        let pages = self
            .client
            .list_associated_access_policies()
            .cluster_name(&self.cluster)
            .principal_arn(principal_arn)
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(self.err(op, Some(principal_arn)))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.associated_access_policies())
            .filter_map(|a| {
                Some(PolicyAssociation {
                    policy_arn: a.policy_arn()?.to_owned(),
                    scope: scope_of(a.access_scope()),
                })
            })
            .collect())
    }

    fn entry_of(
        &self,
        op: Operation,
        e: Option<&aws_sdk_eks::types::AccessEntry>,
    ) -> Result<AccessEntry, EksError> {
        let e = e.ok_or_else(|| self.incomplete(op, "accessEntry"))?;
        let arn = e
            .principal_arn()
            .ok_or_else(|| self.incomplete(op, "accessEntry.principalArn"))?;
        let unexpected = |field, value: &str| EksError::Unexpected {
            operation: op.name(),
            cluster: self.cluster.clone(),
            field,
            value: value.to_owned(),
        };
        let principal_arn: Arn = arn
            .parse()
            .map_err(|_| unexpected("accessEntry.principalArn", arn))?;
        let type_str = e.r#type().unwrap_or("STANDARD");
        let entry_type = type_str
            .parse()
            .map_err(|_| unexpected("accessEntry.type", type_str))?;
        Ok(AccessEntry {
            principal_arn,
            principal_id: None,
            entry_type,
            username: e.username().unwrap_or_default().to_owned(),
            kubernetes_groups: e.kubernetes_groups().to_vec(),
            policies: Vec::new(),
        })
    }

    /// DescribeAccessEntry, without its policies; `None` when the principal has no entry.
    pub async fn describe_access_entry(
        &self,
        principal_arn: &str,
    ) -> Result<Option<AccessEntry>, EksError> {
        let op = Operation::DescribeAccessEntry;
        match self
            .client
            .describe_access_entry()
            .cluster_name(&self.cluster)
            .principal_arn(principal_arn)
            .send()
            .await
        {
            Ok(out) => self.entry_of(op, out.access_entry()).map(Some),
            Err(e) => match classify(e, op, &self.cluster, &self.region, Some(principal_arn)) {
                EksError::EntryNotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    /// Every entry with its policies: ListAccessEntries, then DescribeAccessEntry and
    /// ListAssociatedAccessPolicies for each (1 + 2n calls). The entries carry no unique id
    /// (the API does not return it), so [`crate::access::resolve`] matches them by ARN.
    pub async fn fetch_access_entries(&self) -> Result<Vec<AccessEntry>, EksError> {
        let mut entries = Vec::new();
        for arn in self.list_access_entries(None).await? {
            // An entry deleted between the list and the describe is skipped.
            let Some(mut entry) = self.describe_access_entry(&arn).await? else {
                continue;
            };
            entry.policies = self.list_associated_access_policies(&arn).await?;
            entries.push(entry);
        }
        Ok(entries)
    }

    /// CreateAccessEntry; the entry as EKS stored it (with its default username if none was
    /// given).
    pub async fn create_access_entry(
        &self,
        request: &NewAccessEntry,
    ) -> Result<AccessEntry, EksError> {
        let op = Operation::CreateAccessEntry;
        let principal = request.principal_arn.to_string();
        let groups =
            (!request.kubernetes_groups.is_empty()).then(|| request.kubernetes_groups.clone());
        let out = self
            .client
            .create_access_entry()
            .cluster_name(&self.cluster)
            .principal_arn(&principal)
            .r#type(request.entry_type.as_str())
            .set_username(request.username.clone())
            .set_kubernetes_groups(groups)
            .send()
            .await
            .map_err(self.err(op, Some(&principal)))?;
        self.entry_of(op, out.access_entry())
    }

    /// UpdateAccessEntry: a new username, and/or a new list of groups (replacing the old one
    /// whole).
    pub async fn update_access_entry(
        &self,
        principal_arn: &str,
        username: Option<&str>,
        kubernetes_groups: Option<&[String]>,
    ) -> Result<AccessEntry, EksError> {
        let op = Operation::UpdateAccessEntry;
        let out = self
            .client
            .update_access_entry()
            .cluster_name(&self.cluster)
            .principal_arn(principal_arn)
            .set_username(username.map(str::to_owned))
            .set_kubernetes_groups(kubernetes_groups.map(<[String]>::to_vec))
            .send()
            .await
            .map_err(self.err(op, Some(principal_arn)))?;
        self.entry_of(op, out.access_entry())
    }

    /// DeleteAccessEntry (EKS removes its policy associations with it).
    pub async fn delete_access_entry(&self, principal_arn: &str) -> Result<(), EksError> {
        let op = Operation::DeleteAccessEntry;
        self.client
            .delete_access_entry()
            .cluster_name(&self.cluster)
            .principal_arn(principal_arn)
            .send()
            .await
            .map_err(self.err(op, Some(principal_arn)))?;
        Ok(())
    }

    /// AssociateAccessPolicy (associating a policy again replaces its scope).
    pub async fn associate_access_policy(
        &self,
        principal_arn: &str,
        association: &PolicyAssociation,
    ) -> Result<(), EksError> {
        let op = Operation::AssociateAccessPolicy;
        self.client
            .associate_access_policy()
            .cluster_name(&self.cluster)
            .principal_arn(principal_arn)
            .policy_arn(&association.policy_arn)
            .access_scope(sdk_scope(&association.scope))
            .send()
            .await
            .map_err(self.err(op, Some(principal_arn)))?;
        Ok(())
    }

    /// DisassociateAccessPolicy.
    pub async fn disassociate_access_policy(
        &self,
        principal_arn: &str,
        policy_arn: &str,
    ) -> Result<(), EksError> {
        let op = Operation::DisassociateAccessPolicy;
        self.client
            .disassociate_access_policy()
            .cluster_name(&self.cluster)
            .principal_arn(principal_arn)
            .policy_arn(policy_arn)
            .send()
            .await
            .map_err(self.err(op, Some(principal_arn)))?;
        Ok(())
    }

    /// ListAccessPolicies (all pages): what this account's EKS offers.
    pub async fn list_access_policies(&self) -> Result<Vec<ListedPolicy>, EksError> {
        let op = Operation::ListAccessPolicies;
        let pages = self
            .client
            .list_access_policies()
            .into_paginator()
            .send()
            .try_collect()
            .await
            .map_err(self.err(op, None))?;
        Ok(pages
            .iter()
            .flat_map(|p| p.access_policies())
            .filter_map(|p| {
                Some(ListedPolicy {
                    name: p.name()?.to_owned(),
                    arn: p.arn()?.to_owned(),
                })
            })
            .collect())
    }
}

#[cfg(test)]
mod tests;
