//! What the store derives from its objects: aggregated ClusterRoles, aws-auth's data, and the
//! RBAC objects the authorizer reads.

use std::collections::BTreeMap;

use eks_auth::rbac::RbacObjects;
use serde_json::{Value, json};

use crate::kinds::Kind;

use super::watch::ChangeType;
use super::{Store, labels_of, meta_str};

/// metav1.LabelSelectorAsSelector then Matches: matchLabels and matchExpressions (In, NotIn,
/// Exists, DoesNotExist); an empty selector matches everything.
fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let match_labels = selector["matchLabels"].as_object();
    let labels_ok = match_labels
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let exprs = selector["matchExpressions"].as_array();
    let exprs_ok = exprs.into_iter().flatten().all(|e| {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).map(String::as_str);
        match e["operator"].as_str().unwrap_or_default() {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

impl Store {
    /// What the clusterrole-aggregation controller does (pkg/controller/clusterroleaggregation):
    /// the rules of a ClusterRole with an aggregationRule become, for each selector in turn, the
    /// rules of the other ClusterRoles it selects in name order, each rule once. Repeated until
    /// nothing changes, as the controller's resyncs converge (admin aggregates edit).
    pub(super) fn aggregate_cluster_roles(&mut self) {
        for _ in 0..10 {
            let roles: Vec<Value> = self
                .objects
                .range(("clusterroles", String::new(), String::new())..)
                .take_while(|((r, _, _), _)| *r == "clusterroles")
                .map(|(_, v)| v.clone())
                .collect();
            let mut changed = false;
            for role in roles.iter().filter(|r| r["aggregationRule"].is_object()) {
                let name = meta_str(role, "name");
                let mut rules: Vec<Value> = Vec::new();
                let selectors = role["aggregationRule"]["clusterRoleSelectors"].as_array();
                for selector in selectors.into_iter().flatten() {
                    // `roles` is in name order already (the store's key order).
                    let selected = roles.iter().filter(|other| {
                        meta_str(other, "name") != name
                            && selector_matches(selector, &labels_of(other))
                    });
                    for rule in
                        selected.flat_map(|o| o["rules"].as_array().cloned().unwrap_or_default())
                    {
                        if !rules.contains(&rule) {
                            rules.push(rule);
                        }
                    }
                }
                let current = role["rules"].as_array().cloned().unwrap_or_default();
                if current != rules {
                    let key = ("clusterroles", String::new(), name.to_string());
                    let rv = self.next_revision();
                    let updated = self.objects.get_mut(&key).map(|stored| {
                        stored["rules"] = Value::Array(rules);
                        stored["metadata"]["resourceVersion"] = json!(rv);
                        stored.clone()
                    });
                    if let (Some(updated), Some(kind)) = (updated, Kind::by_kind("ClusterRole")) {
                        self.emit(kind, ChangeType::Modified, &updated);
                    }
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// The `data` of ConfigMap `kube-system/aws-auth`, if it exists.
    pub fn aws_auth_data(&self) -> Option<BTreeMap<String, String>> {
        let cm = self.objects.get(&(
            "configmaps",
            "kube-system".to_string(),
            "aws-auth".to_string(),
        ))?;
        Some(
            cm["data"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The RBAC objects as typed values (cached until the next write).
    pub fn rbac(&mut self) -> std::sync::Arc<RbacObjects> {
        if let Some(s) = &self.rbac {
            return s.clone();
        }
        let typed = |resource: &str| -> Vec<Value> {
            self.objects
                .range((resource_static(resource), String::new(), String::new())..)
                .take_while(|((r, _, _), _)| *r == resource)
                .map(|(_, v)| v.clone())
                .collect()
        };
        fn parse<T: serde::de::DeserializeOwned>(values: Vec<Value>) -> Vec<T> {
            // Stored objects passed validation; one that does not parse is skipped as the
            // authorizer would skip it (it could never have been written by a real server).
            values
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect()
        }
        let snap = std::sync::Arc::new(RbacObjects {
            cluster_roles: parse(typed("clusterroles")),
            cluster_role_bindings: parse(typed("clusterrolebindings")),
            roles: parse(typed("roles")),
            role_bindings: parse(typed("rolebindings")),
        });
        self.rbac = Some(snap.clone());
        snap
    }
}

fn resource_static(resource: &str) -> &'static str {
    crate::kinds::KINDS
        .iter()
        .find(|k| k.resource == resource)
        .map_or("", |k| k.resource)
}
