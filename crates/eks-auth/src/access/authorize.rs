//! Pure: the access-policy authorizer EKS runs beside RBAC.
//!
//! A request is allowed when one of the caller's associated policies has a rule that allows it
//! (RBAC's rule matching, [`crate::rbac`]) and the association's scope covers the request's
//! namespace: a cluster scope covers everything, a namespace scope only requests inside the
//! listed namespaces (never cluster-scoped resources or non-resource URLs). The result is a
//! union with RBAC: kube-apiserver asks the authorizers in turn and the first allow wins (EKS user
//! guide, access-policies.html: "the IAM principal has all the permissions in all associated
//! access policies. It also has all the permissions in any Kubernetes Role or ClusterRole ...").
//!
//! What EKS does not show (same page): `kubectl auth can-i --list` (SelfSubjectRulesReview) lists
//! RBAC only; requests made while impersonating (`--as`) get no access-policy permissions. Grants
//! from policies do not count for RBAC's escalation check either (aws/containers-roadmap#2682:
//! AmazonEKSAdminPolicy lists `rolebindings` but binding a role it does not hold through RBAC is
//! refused).

use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::rbac::rules::{rule_allows, rule_allows_non_resource};
use crate::rbac::{NonResourceAttributes, ResourceAttributes};

use super::entry::PolicyAssociation;
use super::policies::{self, PolicyRuleData};

impl PolicyRuleData {
    /// The rule as an RBAC `PolicyRule`.
    pub fn to_policy_rule(&self) -> PolicyRule {
        let some = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
        PolicyRule {
            api_groups: some(&self.api_groups),
            resources: some(&self.resources),
            non_resource_urls: some(&self.non_resource_urls),
            resource_names: None,
            verbs: self.verbs.clone(),
        }
    }
}

/// The RBAC rules of the policy an ARN names; empty for unknown policies and for policies whose
/// rules are not published.
pub fn policy_rules(policy_arn: &str) -> Vec<PolicyRule> {
    policies::by_arn(policy_arn)
        .and_then(|p| p.rules.as_ref())
        .map(|rules| rules.iter().map(PolicyRuleData::to_policy_rule).collect())
        .unwrap_or_default()
}

/// The first association that allows the resource request, if any.
pub fn authorize<'a>(
    associations: &'a [PolicyAssociation],
    attrs: &ResourceAttributes,
) -> Option<&'a PolicyAssociation> {
    associations.iter().find(|a| {
        a.scope.covers(&attrs.namespace)
            && policy_rules(&a.policy_arn)
                .iter()
                .any(|r| rule_allows(r, attrs))
    })
}

/// The first association that allows the non-resource request (cluster scope only), if any.
pub fn authorize_non_resource<'a>(
    associations: &'a [PolicyAssociation],
    attrs: &NonResourceAttributes,
) -> Option<&'a PolicyAssociation> {
    associations.iter().find(|a| {
        a.scope.covers("")
            && policy_rules(&a.policy_arn)
                .iter()
                .any(|r| rule_allows_non_resource(r, attrs))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::entry::AccessScope;

    fn assoc(name: &str, scope: AccessScope) -> PolicyAssociation {
        PolicyAssociation {
            policy_arn: policies::policy_arn("aws", name),
            scope,
        }
    }

    fn ns(list: &[&str]) -> AccessScope {
        AccessScope::Namespaces(list.iter().map(|s| (*s).to_owned()).collect())
    }

    #[test]
    fn view_reads_and_does_not_write() {
        let a = [assoc("AmazonEKSViewPolicy", AccessScope::Cluster)];
        let get_pods = ResourceAttributes::new("list", "", "pods").in_namespace("default");
        assert!(authorize(&a, &get_pods).is_some());
        assert!(
            authorize(
                &a,
                &ResourceAttributes::new("create", "", "configmaps").in_namespace("default")
            )
            .is_none()
        );
        assert!(
            authorize(
                &a,
                &ResourceAttributes::new("get", "", "secrets").in_namespace("default")
            )
            .is_none()
        );
        // Namespaces are readable, other cluster-scoped kinds are not.
        assert!(authorize(&a, &ResourceAttributes::new("list", "", "namespaces")).is_some());
        assert!(authorize(&a, &ResourceAttributes::new("list", "", "nodes")).is_none());
        assert!(
            authorize(
                &a,
                &ResourceAttributes::new("list", "rbac.authorization.k8s.io", "clusterroles")
            )
            .is_none()
        );
        assert!(
            authorize(
                &a,
                &ResourceAttributes::new("get", "", "pods")
                    .subresource("log")
                    .in_namespace("x")
            )
            .is_some()
        );
    }

    #[test]
    fn scopes_limit_to_namespaces_with_wildcards() {
        let a = [assoc("AmazonEKSEditPolicy", ns(&["dev-*"]))];
        let create = |n: &str| ResourceAttributes::new("create", "", "configmaps").in_namespace(n);
        assert!(authorize(&a, &create("dev-a")).is_some());
        assert!(authorize(&a, &create("prod")).is_none());
        assert!(authorize(&a, &ResourceAttributes::new("list", "", "namespaces")).is_none());
    }

    #[test]
    fn cluster_admin_everything_and_non_resource_urls() {
        let a = [assoc("AmazonEKSClusterAdminPolicy", AccessScope::Cluster)];
        assert!(
            authorize(
                &a,
                &ResourceAttributes::new("escalate", "rbac.authorization.k8s.io", "clusterroles")
            )
            .is_some()
        );
        assert!(
            authorize_non_resource(&a, &NonResourceAttributes::new("get", "/healthz")).is_some()
        );
        let scoped = [assoc("AmazonEKSClusterAdminPolicy", ns(&["team"]))];
        assert!(
            authorize_non_resource(&scoped, &NonResourceAttributes::new("get", "/healthz"))
                .is_none()
        );
        assert!(
            authorize(
                &scoped,
                &ResourceAttributes::new("delete", "", "secrets").in_namespace("team")
            )
            .is_some()
        );
    }

    #[test]
    fn secret_reader_admin_view_and_unknown() {
        let s = [assoc("AmazonEKSSecretReaderPolicy", AccessScope::Cluster)];
        assert!(
            authorize(
                &s,
                &ResourceAttributes::new("get", "", "secrets").in_namespace("a")
            )
            .is_some()
        );
        assert!(
            authorize(
                &s,
                &ResourceAttributes::new("get", "", "configmaps").in_namespace("a")
            )
            .is_none()
        );
        let v = [assoc("AmazonEKSAdminViewPolicy", AccessScope::Cluster)];
        assert!(authorize(&v, &ResourceAttributes::new("watch", "apps", "deployments")).is_some());
        assert!(
            authorize(
                &v,
                &ResourceAttributes::new("get", "", "secrets").in_namespace("a")
            )
            .is_some()
        );
        assert!(
            authorize(
                &v,
                &ResourceAttributes::new("update", "", "secrets").in_namespace("a")
            )
            .is_none()
        );
        // Unpublished rules grant nothing here.
        let auto = [assoc("AmazonEKSAutoNodePolicy", AccessScope::Cluster)];
        assert!(
            authorize(
                &auto,
                &ResourceAttributes::new("get", "", "pods").in_namespace("a")
            )
            .is_none()
        );
        // Admin: RBAC objects in its namespaces, and impersonating service accounts.
        let admin = [assoc("AmazonEKSAdminPolicy", ns(&["team"]))];
        assert!(
            authorize(
                &admin,
                &ResourceAttributes::new("create", "rbac.authorization.k8s.io", "rolebindings")
                    .in_namespace("team")
            )
            .is_some()
        );
        assert!(
            authorize(
                &admin,
                &ResourceAttributes::new("impersonate", "", "serviceaccounts").in_namespace("team")
            )
            .is_some()
        );
    }
}
