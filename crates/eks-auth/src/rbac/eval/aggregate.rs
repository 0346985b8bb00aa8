//! ClusterRole aggregation as kube-controller-manager's ClusterRole aggregation controller does
//! it: a role with an `aggregationRule` gets the rules of every ClusterRole its selectors match.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{ClusterRole, PolicyRule};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::list_rules;
use crate::rbac::RbacObjects;
use crate::rbac::rules::{list, rules_equal};

impl RbacObjects {
    /// The ClusterRoles with every `aggregationRule` applied, as the clusterrole-aggregation
    /// controller leaves them once it has settled.
    pub fn aggregated(&self) -> Vec<ClusterRole> {
        aggregate(&self.cluster_roles)
    }
}

/// `labels.Selector` from `metav1.LabelSelectorAsSelector`; `Err` for an invalid selector.
fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, ()> {
    let match_labels = selector.match_labels.as_ref();
    let exprs = selector.match_expressions.as_deref().unwrap_or(&[]);
    // An empty selector selects everything.
    let mut matched = true;
    for (k, v) in match_labels.into_iter().flatten() {
        matched &= labels.get(k) == Some(v);
    }
    for e in exprs {
        let values = list(&e.values);
        let value = labels.get(&e.key);
        let ok = match e.operator.as_str() {
            "In" if !values.is_empty() => value.is_some_and(|v| values.contains(v)),
            "NotIn" if !values.is_empty() => value.is_none_or(|v| !values.contains(v)),
            "Exists" if values.is_empty() => value.is_some(),
            "DoesNotExist" if values.is_empty() => value.is_none(),
            _ => return Err(()),
        };
        matched &= ok;
    }
    Ok(matched)
}

/// One `syncClusterRole` pass for the role at `at`: the rules of every other role its selectors
/// select (selector order, then name order), without duplicates. `None` when a selector is
/// invalid: the controller then fails and leaves the role as it is.
fn aggregate_one(roles: &[ClusterRole], at: usize) -> Option<Vec<PolicyRule>> {
    let rule = roles[at].aggregation_rule.as_ref()?;
    let me = roles[at].metadata.name.as_deref().unwrap_or("");
    let mut by_name: Vec<&ClusterRole> = roles.iter().collect();
    by_name.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
    let empty = BTreeMap::new();
    let mut new_rules: Vec<PolicyRule> = Vec::new();
    for selector in rule.cluster_role_selectors.as_deref().unwrap_or(&[]) {
        for other in &by_name {
            if other.metadata.name.as_deref().unwrap_or("") == me {
                continue;
            }
            if !selector_matches(selector, other.metadata.labels.as_ref().unwrap_or(&empty)).ok()? {
                continue;
            }
            for r in list_rules(&other.rules) {
                if !new_rules.iter().any(|n| rules_equal(n, r)) {
                    new_rules.push(r.clone());
                }
            }
        }
    }
    Some(new_rules)
}

/// Runs the aggregation controller until nothing changes (aggregated roles may select each other,
/// as `admin` selects `edit`, which selects `view`).
pub(super) fn aggregate(roles: &[ClusterRole]) -> Vec<ClusterRole> {
    let mut roles = roles.to_vec();
    let mut order: Vec<usize> = (0..roles.len())
        .filter(|&i| roles[i].aggregation_rule.is_some())
        .collect();
    order.sort_by(|&a, &b| roles[a].metadata.name.cmp(&roles[b].metadata.name));
    // Each pass can only copy rules one step along a chain of selectors; a bound keeps a
    // pathological cycle from looping forever.
    for _ in 0..=order.len() + 1 {
        let mut changed = false;
        for &i in &order {
            if let Some(new_rules) = aggregate_one(&roles, i) {
                let same = list_rules(&roles[i].rules).len() == new_rules.len()
                    && list_rules(&roles[i].rules)
                        .iter()
                        .zip(&new_rules)
                        .all(|(a, b)| rules_equal(a, b));
                if !same {
                    roles[i].rules = Some(new_rules);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    roles
}
