//! Pure: which STS hosts the EKS authenticator accepts in a token, for a cluster's partition.
//!
//! Source: aws-iam-authenticator `pkg/token/token.go` (`verifySTSHostnameFormat`,
//! `getStsRegion`, `getDefaultHostNamesForRegion`, `validateInputRegion`) and
//! `pkg/endpoints/partitions.go`. The authenticator runs with one partition (its `--partition`,
//! `aws` unless set) and the region it runs in. For a host `sts[-fips].R.DOMAIN` it:
//!
//! 1. accepts the global `sts.amazonaws.com` only in partition `aws`;
//! 2. takes `R`, the second label, which must look like a region
//!    (`^[[:alnum:]]([[:alnum:]-]*[[:alnum:]])?$`);
//! 3. asks the SDK's STS endpoint rules for the hosts of region `R` with FIPS and dual-stack on
//!    and off. A region that matches no partition's pattern falls back to `aws`, so
//!    `sts.not-a-region.amazonaws.com` is among them (upstream documents this in
//!    `TestSTSEndpointResolution`);
//! 4. if the host is not among them, accepts it only when it is `sts.REGION.DOMAIN` or
//!    `sts.REGION.DUALSTACK` for the verifier's own region and partition (regions the SDK does
//!    not know yet);
//! 5. else accepts it only when everything after the second label is the partition's STS
//!    domain or dual-stack domain. The ISO partitions have no dual-stack domain there, so their
//!    dual-stack hosts are never accepted; `aws` and `aws-us-gov` share `amazonaws.com`, so
//!    each accepts the other's regional hosts (STS then answers with the other partition's
//!    identity, which no aws-auth entry of this partition names).

use crate::arn::{dns_suffix, partition_for_region};

/// The partition the authenticator assumes when none is configured (`--partition` default).
pub const DEFAULT_PARTITION: &str = "aws";

/// Why a host is not accepted: the rule it breaks, in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostRule {
    /// Not `sts[-fips].REGION.DOMAIN` of any kind.
    NotSts,
    /// `sts.amazonaws.com` outside partition `aws`.
    GlobalOutsideAws { partition: String },
    /// An STS host, but of another partition's domain.
    OtherPartition { partition: String },
}

impl HostRule {
    pub fn describe(&self) -> String {
        match self {
            HostRule::NotSts => "which is not an STS endpoint of any AWS partition".to_owned(),
            HostRule::GlobalOutsideAws { partition } => format!(
                "the global STS endpoint, which the EKS authenticator accepts only in partition \
                 `aws`; the cluster is in partition `{partition}`"
            ),
            HostRule::OtherPartition { partition } => {
                let domains = match sts_dual_stack_domain(partition) {
                    Some(dual) => format!(
                        "`sts.REGION.{}` or `sts.REGION.{dual}`",
                        sts_domain(partition).unwrap_or("?")
                    ),
                    None => format!("`sts.REGION.{}`", sts_domain(partition).unwrap_or("?")),
                };
                format!(
                    "which is not an STS endpoint of partition `{partition}`, the cluster's (the \
                     EKS authenticator accepts {domains} there)"
                )
            }
        }
    }
}

/// The STS domain of a partition (`GetSTSPartitionDomain`).
pub fn sts_domain(partition: &str) -> Option<&'static str> {
    dns_suffix(partition)
}

/// The STS dual-stack domain the authenticator accepts for a partition
/// (`GetSTSDualStackPartitionDomain`): none for the ISO partitions.
pub fn sts_dual_stack_domain(partition: &str) -> Option<&'static str> {
    Some(match partition {
        "aws" | "aws-us-gov" => "api.aws",
        "aws-cn" => "api.amazonwebservices.com.cn",
        "aws-eusc" => "api.amazonwebservices.eu",
        _ => return None,
    })
}

/// `validateInputRegion`: `^[[:alnum:]]([[:alnum:]\-]*[[:alnum:]])?$`.
pub fn valid_region_label(region: &str) -> bool {
    let b = region.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// The hosts the SDK's STS endpoint rules give for `region` with FIPS and dual-stack on and off
/// (aws-sdk-sts endpoint rules: `sts.R.DNS`, `sts-fips.R.DNS` (GovCloud: `sts.R.amazonaws.com`),
/// `sts.R.DUALSTACK`, `sts-fips.R.DUALSTACK`), the region's partition found by its pattern and
/// `aws` when none matches.
fn sdk_hosts(region: &str) -> Vec<String> {
    let partition = partition_for_region(region).unwrap_or(DEFAULT_PARTITION);
    let dns = dns_suffix(partition).unwrap_or("amazonaws.com");
    let mut hosts = vec![format!("sts.{region}.{dns}")];
    if partition == "aws-us-gov" {
        hosts.push(format!("sts.{region}.amazonaws.com"));
    } else {
        hosts.push(format!("sts-fips.{region}.{dns}"));
    }
    if let Some(dual) = crate::arn::dual_stack_dns_suffix(partition) {
        hosts.push(format!("sts.{region}.{dual}"));
        hosts.push(format!("sts-fips.{region}.{dual}"));
    }
    hosts
}

/// Whether the authenticator of `partition` running in `region` (empty: unknown) accepts
/// `host` (the URL's host, with its port if any); on success, the region the host serves
/// (`us-east-1` for the global endpoint).
pub fn check_host(host: &str, partition: &str, region: &str) -> Result<String, HostRule> {
    if host == "sts.amazonaws.com" {
        return if partition == DEFAULT_PARTITION {
            Ok("us-east-1".to_owned())
        } else {
            Err(HostRule::GlobalOutsideAws {
                partition: partition.to_owned(),
            })
        };
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() < 3 || !valid_region_label(labels[1]) {
        return Err(HostRule::NotSts);
    }
    let host_region = labels[1];
    if !sdk_hosts(host_region).iter().any(|h| h == host) {
        let defaults: Vec<String> = if valid_region_label(region) {
            [sts_domain(partition), sts_dual_stack_domain(partition)]
                .into_iter()
                .flatten()
                .map(|d| format!("sts.{region}.{d}"))
                .collect()
        } else {
            Vec::new()
        };
        return if defaults.iter().any(|h| h == host) {
            Ok(host_region.to_owned())
        } else if sts_partition_of_domain(&labels[2..].join(".")).is_some() {
            Err(HostRule::OtherPartition {
                partition: partition.to_owned(),
            })
        } else {
            Err(HostRule::NotSts)
        };
    }
    if labels.len() < 4 {
        return Err(HostRule::NotSts);
    }
    let domain = labels[2..].join(".");
    if Some(domain.as_str()) == sts_domain(partition)
        || Some(domain.as_str()) == sts_dual_stack_domain(partition)
    {
        Ok(host_region.to_owned())
    } else {
        Err(HostRule::OtherPartition {
            partition: partition.to_owned(),
        })
    }
}

/// Some partition whose STS domain or dual-stack domain `domain` is (for wording errors).
fn sts_partition_of_domain(domain: &str) -> Option<&'static str> {
    crate::arn::PARTITIONS.iter().copied().find(|p| {
        Some(domain) == sts_domain(p)
            || Some(domain) == sts_dual_stack_domain(p)
            || Some(domain) == crate::arn::dual_stack_dns_suffix(p)
    })
}

/// The partition for a verifier: `partition` if given, else that of `region`, else `aws`.
/// `None` when `partition` is not a partition the authenticator knows, or `region` matches no
/// partition's pattern and no partition is given.
pub fn cluster_partition(partition: Option<&str>, region: Option<&str>) -> Option<&'static str> {
    match (partition, region) {
        (Some(p), _) => crate::arn::PARTITIONS.iter().copied().find(|k| *k == p),
        (None, Some(r)) => partition_for_region(r),
        (None, None) => Some(DEFAULT_PARTITION),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_dual_stack_hosts_are_never_accepted() {
        for (partition, host) in [
            ("aws-iso", "sts.us-iso-east-1.api.aws.ic.gov"),
            ("aws-iso-b", "sts.us-isob-east-1.api.aws.scloud"),
        ] {
            assert_eq!(
                check_host(host, partition, ""),
                Err(HostRule::OtherPartition {
                    partition: partition.to_owned()
                }),
                "{host}"
            );
        }
        assert_eq!(
            check_host("sts.us-iso-east-1.c2s.ic.gov", "aws-iso", ""),
            Ok("us-iso-east-1".to_owned())
        );
    }

    #[test]
    fn each_partition_only_its_own_hosts() {
        assert!(check_host("sts.cn-north-1.amazonaws.com.cn", "aws", "").is_err());
        assert!(check_host("sts.us-west-2.amazonaws.com", "aws-cn", "").is_err());
        assert!(check_host("sts.cn-north-1.amazonaws.com.cn", "aws-cn", "").is_ok());
        assert_eq!(
            check_host("sts.amazonaws.com", "aws-cn", ""),
            Err(HostRule::GlobalOutsideAws {
                partition: "aws-cn".to_owned()
            })
        );
        assert_eq!(
            check_host("evil.example.com", "aws", ""),
            Err(HostRule::NotSts)
        );
    }

    #[test]
    fn cluster_partition_from_flags() {
        assert_eq!(cluster_partition(None, None), Some("aws"));
        assert_eq!(cluster_partition(None, Some("cn-north-1")), Some("aws-cn"));
        assert_eq!(
            cluster_partition(Some("aws-iso"), Some("us-east-1")),
            Some("aws-iso")
        );
        assert_eq!(cluster_partition(Some("aws-moon"), None), None);
        assert_eq!(cluster_partition(None, Some("moon-1")), None);
    }
}
