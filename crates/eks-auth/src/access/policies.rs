//! Pure: the catalogue of AWS-managed EKS access policies, as data.
//!
//! The data is `policies.json` beside this file, read by this module and by the stand-in EKS
//! (tests/aws), so that there is one copy. Source: Amazon EKS User Guide, "Review access policy
//! permissions" (access-policy-permissions.html; in awsdocs/amazon-eks-user-guide
//! `latest/ug/manage-access/k8s-access/access-policy-reference.adoc`): one rule per row of each
//! policy's table, in the page's order. Policies whose rules the page does not publish (EKS Auto
//! Mode, AIOps, ARC) are listed with `rules: None`.

use std::sync::OnceLock;

/// The account part of every policy ARN: `arn:PARTITION:eks::aws:cluster-access-policy/NAME`.
pub const POLICY_ARN_RESOURCE_PREFIX: &str = "cluster-access-policy/";

/// A Kubernetes rule of an access policy, with the fields of an RBAC `PolicyRule`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PolicyRuleData {
    #[serde(default)]
    pub api_groups: Vec<String>,
    #[serde(default)]
    pub resources: Vec<String>,
    #[serde(default, rename = "nonResourceURLs")]
    pub non_resource_urls: Vec<String>,
    pub verbs: Vec<String>,
}

/// An AWS-managed access policy.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessPolicy {
    /// `AmazonEKSViewPolicy`, ...
    pub name: String,
    /// One line, ours, summarising the user guide's description.
    pub description: String,
    /// The `kubectl eks-grant` preset whose grant this policy resembles (`view`, `edit`,
    /// `admin`, `cluster-admin`, `cluster-reader`), if any. Resembles, not equals: the policy's
    /// rules are the ones here, not those of the preset's ClusterRole.
    pub preset: Option<String>,
    /// The user guide says it is for AWS service-linked roles only.
    pub service_linked_roles_only: bool,
    /// The Kubernetes rules it grants; `None` when the user guide does not publish them.
    pub rules: Option<Vec<PolicyRuleData>>,
}

impl AccessPolicy {
    /// The policy's ARN in `partition`: `arn:aws:eks::aws:cluster-access-policy/NAME`.
    pub fn arn(&self, partition: &str) -> String {
        policy_arn(partition, &self.name)
    }
}

#[derive(serde::Deserialize)]
struct Catalogue {
    policies: Vec<AccessPolicy>,
}

/// The data file, for tools that want the raw JSON.
pub const CATALOGUE_JSON: &str = include_str!("policies.json");

/// Every AWS-managed access policy, sorted by name (the order of `ListAccessPolicies`).
pub fn catalogue() -> &'static [AccessPolicy] {
    static CATALOGUE: OnceLock<Vec<AccessPolicy>> = OnceLock::new();
    CATALOGUE.get_or_init(|| {
        let mut c: Catalogue =
            serde_json::from_str(CATALOGUE_JSON).expect("policies.json is checked by a unit test");
        c.policies.sort_by(|a, b| a.name.cmp(&b.name));
        c.policies
    })
}

/// `arn:PARTITION:eks::aws:cluster-access-policy/NAME`.
pub fn policy_arn(partition: &str, name: &str) -> String {
    format!("arn:{partition}:eks::aws:{POLICY_ARN_RESOURCE_PREFIX}{name}")
}

/// The partition and name of a policy ARN, if `arn` has the form of one (known or not).
pub fn parse_policy_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let name = rest
        .strip_prefix("eks::aws:")?
        .strip_prefix(POLICY_ARN_RESOURCE_PREFIX)?;
    let valid = !partition.is_empty()
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric());
    valid.then_some((partition, name))
}

/// The policy called `name` (exactly, as EKS spells it).
pub fn by_name(name: &str) -> Option<&'static AccessPolicy> {
    catalogue().iter().find(|p| p.name == name)
}

/// The policy an ARN names, in any partition.
pub fn by_arn(arn: &str) -> Option<&'static AccessPolicy> {
    parse_policy_arn(arn).and_then(|(_, name)| by_name(name))
}

/// The policy that resembles a `kubectl eks-grant` preset.
pub fn for_preset(preset: &str) -> Option<&'static AccessPolicy> {
    catalogue()
        .iter()
        .find(|p| p.preset.as_deref() == Some(preset))
}

/// The policy called `name_or_arn`: a name (`AmazonEKSViewPolicy`), a short name without the
/// `AmazonEKS` prefix and `Policy` suffix in any case (`view`, `ClusterAdmin`), or an ARN.
pub fn lookup(name_or_arn: &str) -> Option<&'static AccessPolicy> {
    if name_or_arn.starts_with("arn:") {
        return by_arn(name_or_arn);
    }
    by_name(name_or_arn).or_else(|| {
        catalogue().iter().find(|p| {
            p.name
                .strip_prefix("AmazonEKS")
                .and_then(|s| s.strip_suffix("Policy"))
                .is_some_and(|short| short.eq_ignore_ascii_case(name_or_arn))
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_file_parses_and_is_complete() {
        let c = catalogue();
        assert_eq!(c.len(), 19);
        let names: Vec<&str> = c.iter().map(|p| p.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        // The six the issue names have published rules.
        for n in [
            "AmazonEKSClusterAdminPolicy",
            "AmazonEKSAdminPolicy",
            "AmazonEKSEditPolicy",
            "AmazonEKSViewPolicy",
            "AmazonEKSAdminViewPolicy",
            "AmazonEKSSecretReaderPolicy",
        ] {
            let p = by_name(n).unwrap();
            assert!(p.rules.as_ref().is_some_and(|r| !r.is_empty()), "{n}");
        }
        assert!(by_name("AmazonEKSAutoNodePolicy").unwrap().rules.is_none());
        // Rows counted on the page: Admin 22, Edit 20, View 10.
        let rows = |n: &str| by_name(n).unwrap().rules.as_ref().unwrap().len();
        assert_eq!(
            (
                rows("AmazonEKSAdminPolicy"),
                rows("AmazonEKSEditPolicy"),
                rows("AmazonEKSViewPolicy")
            ),
            (22, 20, 10)
        );
        let admin = by_name("AmazonEKSClusterAdminPolicy").unwrap();
        assert_eq!(
            admin.rules.as_ref().unwrap()[1],
            PolicyRuleData {
                api_groups: vec![],
                resources: vec![],
                non_resource_urls: vec!["*".into()],
                verbs: vec!["*".into()],
            }
        );
    }

    #[test]
    fn arns_and_lookups() {
        assert_eq!(
            policy_arn("aws", "AmazonEKSViewPolicy"),
            "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
        );
        assert_eq!(
            parse_policy_arn("arn:aws-cn:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"),
            Some(("aws-cn", "AmazonEKSEditPolicy"))
        );
        assert_eq!(
            parse_policy_arn("arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"),
            None
        );
        assert_eq!(
            by_arn("arn:aws:eks::aws:cluster-access-policy/AmazonEKSNoSuchPolicy"),
            None
        );
        assert_eq!(lookup("view").unwrap().name, "AmazonEKSViewPolicy");
        assert_eq!(
            lookup("ClusterAdmin").unwrap().name,
            "AmazonEKSClusterAdminPolicy"
        );
        assert_eq!(
            lookup("arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminViewPolicy")
                .unwrap()
                .name,
            "AmazonEKSAdminViewPolicy"
        );
        assert_eq!(for_preset("edit").unwrap().name, "AmazonEKSEditPolicy");
        assert_eq!(
            for_preset("cluster-admin").unwrap().arn("aws-us-gov"),
            "arn:aws-us-gov:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
        );
        assert!(for_preset("cluster-reader-no-secrets").is_none());
    }
}
