//! The EKS operations this module calls and [`EksError`]: how an SDK error of one becomes what
//! the user reads, with the hint.

use std::error::Error as StdError;

use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};

use super::MAX_ATTEMPTS;

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

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

/// Classifies an SDK error of `operation`.
pub(super) fn classify<E>(
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
