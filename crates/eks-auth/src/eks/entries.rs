//! Reads of access entries and access policies (every page), and [`EksClient::fetch_access_entries`],
//! which combines them into the core's [`AccessEntry`] values.

use super::{EksClient, EksError, Operation, classify, scope_of};
use crate::access::{AccessEntry, PolicyAssociation};
use crate::arn::Arn;

/// An AWS-managed access policy as ListAccessPolicies names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPolicy {
    pub name: String,
    pub arn: String,
}

impl EksClient {
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

    pub(super) fn entry_of(
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
