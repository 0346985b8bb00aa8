//! Pure: which access policies grant the caller something, told by SelfSubjectAccessReviews,
//! for when its access entry cannot be read (`eks:DescribeAccessEntry` or
//! `eks:ListAssociatedAccessPolicies` refused, or the mode unknown).
//!
//! EKS enforces access policies in an authorizer that SelfSubjectRulesReview does not see (EKS
//! user guide, access-policies.html), but a SelfSubjectAccessReview goes through every
//! authorizer. So one review per candidate policy, on a cell that RBAC does not already give and
//! that only that policy, or a policy holding all of its rules, grants: an allowed answer means
//! that every rule of the candidate holds at the scope asked (the catalogue's published rules,
//! `eks_auth::access::policies`). The number of reviews is bounded by the catalogue (one per
//! policy with published rules), never by the namespaces.
//!
//! What this cannot see: a policy whose rules the user guide does not publish (it may grant a
//! probed cell without holding the candidate's rules), and a namespace-scoped association
//! outside the namespace asked about.

use eks_auth::access::policies::{self, AccessPolicy};
use k8s_openapi::api::rbac::v1::PolicyRule;

use crate::permissions::{Cell, STANDARD_VERBS};

/// Concrete cells a wildcard rule is probed on, first fitting first: resources no policy with
/// named resources lists, so an allowed answer comes from a wildcard rule.
const WILDCARD_CELLS: &[(&str, &str)] = &[
    ("rbac.authorization.k8s.io", "clusterrolebindings"),
    ("rbac.authorization.k8s.io", "clusterroles"),
    ("apiextensions.k8s.io", "customresourcedefinitions"),
    ("", "nodes"),
    ("", "persistentvolumes"),
    ("", "namespaces"),
];

/// A review to make: does the caller hold `cell`? Allowed means `policy` holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    pub policy: &'static AccessPolicy,
    pub cell: Cell,
}

fn resource_rules(policy: &AccessPolicy) -> Vec<PolicyRule> {
    policy
        .rules
        .iter()
        .flatten()
        .map(|r| r.to_policy_rule())
        .collect()
}

fn cell_rule((group, resource, verb): &Cell) -> PolicyRule {
    PolicyRule {
        api_groups: Some(vec![group.clone()]),
        resources: Some(vec![resource.clone()]),
        verbs: vec![verb.clone()],
        ..PolicyRule::default()
    }
}

/// Whether the policy's rules allow the concrete request `cell`.
pub fn grants(policy: &AccessPolicy, cell: &Cell) -> bool {
    eks_auth::rbac::covers(&resource_rules(policy), &[cell_rule(cell)]).0
}

/// Whether `owner` holds every rule of `servant` (RBAC's Covers).
pub fn includes(owner: &AccessPolicy, servant: &AccessPolicy) -> bool {
    eks_auth::rbac::covers(&resource_rules(owner), &resource_rules(servant)).0
}

/// The policies that can be told by probing: those with published rules that a caller's entry
/// may hold (not the ones the user guide reserves for service-linked roles).
pub fn candidates() -> Vec<&'static AccessPolicy> {
    policies::catalogue()
        .iter()
        .filter(|p| !p.service_linked_roles_only && p.rules.as_ref().is_some_and(|r| !r.is_empty()))
        .collect()
}

/// The concrete cells of a policy's resource rules, wildcards replaced by [`WILDCARD_CELLS`]
/// and `*` verbs by the standard verbs.
fn concrete_cells(policy: &AccessPolicy) -> Vec<Cell> {
    let mut out = Vec::new();
    for rule in policy.rules.iter().flatten() {
        if rule.resources.is_empty() {
            continue; // a non-resource rule
        }
        let verbs: Vec<&str> = if rule.verbs.iter().any(|v| v == "*") {
            STANDARD_VERBS.to_vec()
        } else {
            rule.verbs.iter().map(String::as_str).collect()
        };
        let wildcard =
            rule.api_groups.iter().any(|g| g == "*") || rule.resources.iter().any(|r| r == "*");
        let pairs: Vec<(String, String)> = if wildcard {
            WILDCARD_CELLS
                .iter()
                .filter(|(g, r)| {
                    rule.api_groups.iter().any(|x| x == "*" || x == g)
                        && rule.resources.iter().any(|x| x == "*" || x == r)
                })
                .map(|(g, r)| ((*g).to_owned(), (*r).to_owned()))
                .collect()
        } else {
            rule.api_groups
                .iter()
                .flat_map(|g| rule.resources.iter().map(move |r| (g.clone(), r.clone())))
                .collect()
        };
        for (group, resource) in pairs {
            for verb in &verbs {
                out.push((group.clone(), resource.clone(), (*verb).to_owned()));
            }
        }
    }
    out
}

/// One probe per candidate policy: its first cell that `rbac_grants` does not already give and
/// that every candidate granting it holds all the rules of. A candidate without such a cell is
/// left out (it adds nothing RBAC does not give, or cannot be told from another policy).
pub fn probes(rbac_grants: impl Fn(&Cell) -> bool) -> Vec<Probe> {
    let all = candidates();
    all.iter()
        .filter_map(|policy| {
            concrete_cells(policy)
                .into_iter()
                .filter(|cell| !rbac_grants(cell))
                .find(|cell| {
                    all.iter()
                        .filter(|other| grants(other, cell))
                        .all(|other| includes(other, policy))
                })
                .map(|cell| Probe { policy, cell })
        })
        .collect()
}

/// The policies the allowed probes prove, without those another proven one includes (it
/// grants nothing more): what the matrix names.
pub fn proven<'a>(allowed: &[&'a AccessPolicy]) -> Vec<&'a AccessPolicy> {
    allowed
        .iter()
        .filter(|p| {
            !allowed
                .iter()
                .any(|q| q.name != p.name && includes(q, p) && !includes(p, q))
        })
        .copied()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(name: &str) -> &'static AccessPolicy {
        policies::by_name(name).unwrap()
    }

    fn cell(g: &str, r: &str, v: &str) -> Cell {
        (g.to_owned(), r.to_owned(), v.to_owned())
    }

    #[test]
    fn every_candidate_gets_a_probe_only_it_or_a_larger_policy_grants() {
        let found = probes(|_| false);
        let names: Vec<&str> = found.iter().map(|p| p.policy.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "AmazonEKSAdminPolicy",
                "AmazonEKSAdminViewPolicy",
                "AmazonEKSClusterAdminPolicy",
                "AmazonEKSEditPolicy",
                "AmazonEKSSecretReaderPolicy",
                "AmazonEKSViewPolicy",
            ]
        );
        for probe in &found {
            assert!(grants(probe.policy, &probe.cell), "{probe:?}");
            for other in candidates() {
                if grants(other, &probe.cell) {
                    assert!(includes(other, probe.policy), "{} on {probe:?}", other.name);
                }
            }
        }
        // View's probe is also granted by Edit (which holds all of View's rules): an allowed
        // answer proves View's rules either way.
        let view = found
            .iter()
            .find(|p| p.policy.name == "AmazonEKSViewPolicy")
            .unwrap();
        assert!(grants(policy("AmazonEKSEditPolicy"), &view.cell));
        // SecretReader's probe is a secret: View does not read secrets.
        let secrets = found
            .iter()
            .find(|p| p.policy.name == "AmazonEKSSecretReaderPolicy")
            .unwrap();
        assert_eq!(secrets.cell.1, "secrets");
        assert!(!grants(policy("AmazonEKSViewPolicy"), &secrets.cell));
    }

    #[test]
    fn cells_rbac_gives_are_not_probed() {
        let view = policy("AmazonEKSViewPolicy");
        let first = probes(|_| false)
            .into_iter()
            .find(|p| p.policy.name == view.name)
            .unwrap();
        let next = probes(|c| *c == first.cell)
            .into_iter()
            .find(|p| p.policy.name == view.name)
            .unwrap();
        assert_ne!(first.cell, next.cell);
        // RBAC giving everything: nothing to probe.
        assert!(probes(|_| true).is_empty());
    }

    #[test]
    fn proven_names_the_largest_policies() {
        let view = policy("AmazonEKSViewPolicy");
        let edit = policy("AmazonEKSEditPolicy");
        let secrets = policy("AmazonEKSSecretReaderPolicy");
        assert_eq!(proven(&[view, edit]), [edit]);
        assert_eq!(proven(&[view, secrets]), [view, secrets]);
        assert!(includes(edit, view) && !includes(view, edit));
        assert!(grants(view, &cell("", "configmaps", "list")));
        assert!(!grants(view, &cell("", "configmaps", "create")));
    }
}
