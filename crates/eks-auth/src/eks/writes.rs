//! Writes of access entries: create, update, delete, associate and disassociate policies.

use super::{EksClient, EksError, Operation, sdk_scope};
use crate::access::{AccessEntry, AccessEntryType, PolicyAssociation};
use crate::arn::Arn;

/// What `CreateAccessEntry` takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessEntry {
    pub principal_arn: Arn,
    pub entry_type: AccessEntryType,
    /// `None`: EKS sets its default ([`crate::access::default_username`]).
    pub username: Option<String>,
    pub kubernetes_groups: Vec<String>,
}

impl EksClient {
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
}
