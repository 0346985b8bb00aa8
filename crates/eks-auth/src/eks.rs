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
//! Modules: `error` ([`Operation`], [`EksError`] and how an SDK error becomes one), `cluster`,
//! `entries` (reads), `writes`; the client, its retry policy and the scope conversions are here.
//!
//! Error codes and status codes: botocore's EKS service model (`service-2.json`); the messages
//! that tell a missing cluster from a missing entry: "No cluster found for name: NAME." and "The
//! specified principalArn could not be found. ..." (quoted in tests/aws/standin_eks.py).

use std::error::Error as StdError;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_sdk_eks::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_eks::types::AccessScopeType;
use aws_smithy_types::retry::RetryConfig;

use crate::access::AccessScope;
use crate::aws::AwsContext;

mod cluster;
mod entries;
mod error;
mod writes;

pub use cluster::{AccessConfig, ClusterUpdate};
pub use entries::ListedPolicy;
use error::classify;
pub use error::{EksError, Operation};
pub use writes::NewAccessEntry;

/// Attempts per call, the first included (the SDK's standard strategy; its default is 3).
pub const MAX_ATTEMPTS: u32 = 5;
/// The first retry waits up to this long; each further one up to twice as long as the last.
pub const INITIAL_BACKOFF: Duration = Duration::from_millis(200);

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
}

#[cfg(test)]
mod tests;
