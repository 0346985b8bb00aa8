//! EKS cluster ARNs (`arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`) and cluster names.

use std::fmt;

use super::partition::{PARTITIONS, partition_for_region};

/// An EKS cluster ARN, `arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME` (the resource format in
/// the EKS API reference, `Cluster.arn`). `aws eks update-kubeconfig` and `kubectl eks-token
/// update-kubeconfig` name a kubeconfig's cluster, user and context after it, which is how the
/// plugins learn a cluster's account without AWS credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterArn {
    partition: String,
    region: String,
    account: String,
    name: String,
}

impl ClusterArn {
    /// Parses an EKS cluster ARN; `None` for anything else (a kubeconfig cluster entry may be
    /// named anything).
    pub fn parse(input: &str) -> Option<ClusterArn> {
        let mut parts = input.splitn(6, ':');
        let (
            Some("arn"),
            Some(partition),
            Some("eks"),
            Some(region),
            Some(account),
            Some(resource),
        ) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        )
        else {
            return None;
        };
        let name = resource.strip_prefix("cluster/")?;
        let valid = PARTITIONS.contains(&partition)
            && partition_for_region(region) == Some(partition)
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && is_cluster_name(name);
        valid.then(|| ClusterArn {
            partition: partition.to_owned(),
            region: region.to_owned(),
            account: account.to_owned(),
            name: name.to_owned(),
        })
    }

    pub fn partition(&self) -> &str {
        &self.partition
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn account(&self) -> &str {
        &self.account
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// As eks-whoami's JSON shows it: the ARN and its parts.
impl serde::Serialize for ClusterArn {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("ClusterArn", 5)?;
        s.serialize_field("arn", &self.to_string())?;
        s.serialize_field("partition", &self.partition)?;
        s.serialize_field("region", &self.region)?;
        s.serialize_field("account", &self.account)?;
        s.serialize_field("name", &self.name)?;
        s.end()
    }
}

/// An EKS cluster name: 1-100 letters, digits, `-` and `_`, starting with a letter or digit
/// (EKS CreateCluster API reference: "The name can contain only alphanumeric characters
/// (case-sensitive), hyphens, and underscores. It must start with an alphanumeric character and
/// can't be longer than 100 characters.").
pub fn is_cluster_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl fmt::Display for ClusterArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ClusterArn {
            partition,
            region,
            account,
            name,
        } = self;
        write!(f, "arn:{partition}:eks:{region}:{account}:cluster/{name}")
    }
}
