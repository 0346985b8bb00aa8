//! I/O: the EKS calls of the access-entry commands, through the core's EKS client
//! ([`eks_auth::eks::EksClient`]: every page read, `ThrottlingException` retried with backoff,
//! `AccessDeniedException` naming the IAM action). This module only adds what the commands need
//! on top: one principal's entry with its policies, every entry with at most [`MAX_IN_FLIGHT`]
//! calls in flight (the bound), and a planned [`Call`] made. Writes are made one at a
//! time, in the order planned.

use anyhow::Result;
use eks_auth::access::{AccessEntry, AccessEntryType, PolicyAssociation};
use eks_auth::eks::{EksClient, EksError, NewAccessEntry};
use futures::{StreamExt, TryStreamExt};

use super::calls::Call;
use crate::backend::eks_error;

/// The most EKS calls in flight at once.
pub const MAX_IN_FLIGHT: usize = 16;

/// The EKS access entries of one cluster.
#[derive(Debug, Clone)]
pub struct Eks {
    client: EksClient,
    pub cluster: String,
}

impl Eks {
    pub fn new(client: EksClient) -> Eks {
        Eks {
            cluster: client.cluster().to_owned(),
            client,
        }
    }

    /// ListAccessEntries, every page.
    pub async fn list_principals(&self) -> Result<Vec<String>> {
        self.client
            .list_access_entries(None)
            .await
            .map_err(eks_error)
    }

    /// DescribeAccessEntry and ListAssociatedAccessPolicies of one principal, concurrently;
    /// `None` when it has no entry.
    pub async fn fetch_entry(&self, principal: &str) -> Result<Option<AccessEntry>> {
        let (described, policies) = futures::join!(
            self.client.describe_access_entry(principal),
            self.client.list_associated_access_policies(principal)
        );
        let Some(mut entry) = described.map_err(eks_error)? else {
            return Ok(None);
        };
        entry.policies = match policies {
            Ok(p) => p,
            // Deleted between the two calls.
            Err(EksError::EntryNotFound { .. }) => return Ok(None),
            Err(e) => return Err(eks_error(e)),
        };
        Ok(Some(entry))
    }

    /// Every entry with its policies: one list, then at most [`MAX_IN_FLIGHT`] calls in flight,
    /// in the list's order.
    pub async fn fetch_all(&self) -> Result<Vec<AccessEntry>> {
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
    pub async fn list_policy_arns(&self) -> Result<Vec<String>> {
        Ok(self
            .client
            .list_access_policies()
            .await
            .map_err(eks_error)?
            .into_iter()
            .map(|p| p.arn)
            .collect())
    }

    /// One planned write.
    pub async fn apply(&self, call: &Call) -> Result<()> {
        let done = match call {
            Call::Create {
                principal,
                username,
                groups,
            } => self
                .client
                .create_access_entry(&NewAccessEntry {
                    principal_arn: principal.parse()?,
                    entry_type: AccessEntryType::Standard,
                    username: username.clone(),
                    kubernetes_groups: groups.clone(),
                })
                .await
                .map(drop),
            Call::Update {
                principal,
                username,
                groups,
            } => self
                .client
                .update_access_entry(principal, username.as_deref(), Some(groups))
                .await
                .map(drop),
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => {
                self.client
                    .associate_access_policy(
                        principal,
                        &PolicyAssociation {
                            policy_arn: policy_arn.clone(),
                            scope: scope.clone(),
                        },
                    )
                    .await
            }
            Call::Disassociate {
                principal,
                policy_arn,
            } => {
                self.client
                    .disassociate_access_policy(principal, policy_arn)
                    .await
            }
            Call::Delete { principal } => self.client.delete_access_entry(principal).await,
        };
        done.map_err(eks_error)
    }
}
