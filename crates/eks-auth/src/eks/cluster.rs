//! Reads and writes of the cluster itself: its access configuration (DescribeCluster),
//! UpdateClusterConfig of the authentication mode, DescribeUpdate.

use aws_sdk_eks::types::UpdateAccessConfigRequest;

use super::{EksClient, EksError, Operation};
use crate::access::AuthenticationMode;

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

impl EksClient {
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
}
