//! Pure: RBAC rules into a resources x verbs matrix, and one-line summaries of a role's rules.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::authorization::v1::{NonResourceRule, ResourceRule};
use k8s_openapi::api::rbac::v1::PolicyRule;

use eks_auth::access::policies::AccessPolicy;
use eks_auth::access::{AccessScope, PolicyAssociation};

use crate::report::{Access, CellSource, NonResourceRow, ResourceRow};

/// The matrix columns, in kubectl's order; other verbs (`impersonate`, `bind`, `escalate`,
/// `use`, `approve`, ...) are kept in the row under their own name.
pub use eks_auth::rbac::STANDARD_VERBS;

/// `pods`, `deployments.apps`, `deployments.apps/scale`, `*.*` (kubectl `auth can-i --list`
/// spelling: the group goes before the subresource).
pub fn row_name(group: &str, resource: &str) -> String {
    match (group.is_empty(), resource.split_once('/')) {
        (true, _) => resource.to_owned(),
        (false, Some((r, sub))) => format!("{r}.{group}/{sub}"),
        (false, None) => format!("{resource}.{group}"),
    }
}

/// A cell key: (group, resource, verb).
pub type Cell = (String, String, String);

/// Every (group, resource, verb) a rule names, `*` verbs spelled out as the standard verbs plus
/// `*` itself, with the names it is limited to (empty: all objects).
pub fn cells_of(rule: &ResourceRule) -> Vec<(Cell, Vec<String>)> {
    let groups = rule.api_groups.clone().unwrap_or_default();
    let resources = rule.resources.clone().unwrap_or_default();
    let names = rule.resource_names.clone().unwrap_or_default();
    let mut verbs: Vec<String> = Vec::new();
    for verb in &rule.verbs {
        if verb == "*" {
            verbs.extend(STANDARD_VERBS.iter().map(|v| (*v).to_owned()));
        }
        verbs.push(verb.clone());
    }
    let mut out = Vec::new();
    for group in &groups {
        for resource in &resources {
            for verb in &verbs {
                out.push((
                    (group.clone(), resource.clone(), verb.clone()),
                    names.clone(),
                ));
            }
        }
    }
    out
}

/// Resource rules into rows sorted by group (core first), then resource. A cell is `all` when
/// any rule grants it without `resourceNames`.
pub fn matrix(rules: &[ResourceRule]) -> Vec<ResourceRow> {
    type Row = (BTreeMap<String, Access>, BTreeSet<String>);
    let mut rows: BTreeMap<(String, String), Row> = BTreeMap::new();
    for rule in rules {
        for ((group, resource, verb), names) in cells_of(rule) {
            let (verbs, row_names) = rows.entry((group, resource)).or_default();
            let access = if names.is_empty() {
                Access::All
            } else {
                row_names.extend(names);
                Access::Named
            };
            let cell = verbs.entry(verb).or_insert(access);
            *cell = (*cell).max(access);
        }
    }
    rows.into_iter()
        .map(|((group, resource), (verbs, names))| ResourceRow {
            resource: row_name(&group, &resource),
            group,
            // names only matter where some cell is limited to them
            names: if verbs.values().any(|a| *a == Access::Named) {
                names.into_iter().collect()
            } else {
                Vec::new()
            },
            verbs,
            sources: BTreeMap::new(),
        })
        .collect()
}

/// An access policy's rules as the rules review spells rules (no names: policies have none).
fn resource_rules_of(rules: &[PolicyRule]) -> Vec<ResourceRule> {
    rules
        .iter()
        .filter(|r| r.non_resource_urls.as_ref().is_none_or(Vec::is_empty))
        .map(|r| ResourceRule {
            verbs: r.verbs.clone(),
            api_groups: r.api_groups.clone(),
            resources: r.resources.clone(),
            resource_names: None,
        })
        .collect()
}

/// The access policies that count for a matrix of `namespace` (`None`: cluster-wide): a policy
/// counts cluster-wide only with a cluster scope, in a namespace when its scope covers it.
pub fn counting_policies<'a>(
    associations: &'a [PolicyAssociation],
    namespace: Option<&str>,
) -> Vec<&'a PolicyAssociation> {
    associations
        .iter()
        .filter(|a| match namespace {
            None => a.scope == AccessScope::Cluster,
            Some(ns) => a.scope.covers(ns),
        })
        .collect()
}

/// What one access policy adds to the matrix: its rules (the catalogue's, the user guide's
/// tables), the source its cells are marked with, and whether it holds cluster-wide (only then
/// do its non-resource URLs count).
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyGrant {
    pub rules: Vec<PolicyRule>,
    pub source: CellSource,
    pub cluster_wide: bool,
}

impl PolicyGrant {
    /// A policy associated with the caller's access entry, as read from EKS.
    pub fn associated(a: &PolicyAssociation) -> PolicyGrant {
        PolicyGrant {
            rules: eks_auth::access::policy_rules(&a.policy_arn),
            source: CellSource::AccessPolicy {
                policy: a.policy_name().to_owned(),
                scope: a.scope.to_string(),
                probed: false,
            },
            cluster_wide: a.scope == AccessScope::Cluster,
        }
    }

    /// A policy SelfSubjectAccessReviews showed to apply in `namespace` (`None`: cluster-wide).
    pub fn probed(p: &AccessPolicy, namespace: Option<&str>) -> PolicyGrant {
        PolicyGrant {
            rules: p
                .rules
                .iter()
                .flatten()
                .map(|r| r.to_policy_rule())
                .collect(),
            source: CellSource::AccessPolicy {
                policy: p.name.clone(),
                scope: namespace
                    .map_or_else(|| "cluster".to_owned(), |ns| format!("namespace {ns}")),
                probed: true,
            },
            cluster_wide: namespace.is_none(),
        }
    }
}

/// Adds what the access policies grant to the matrix (RBAC rows from the rules review), each
/// cell marked with its sources; `policies` are those that count here ([`counting_policies`],
/// or the probed ones). Rows come out sorted as [`matrix`] sorts them.
pub fn merge_policies(rows: &mut Vec<ResourceRow>, policies: &[PolicyGrant]) {
    type Key = (String, String);
    let mut by_key: BTreeMap<Key, ResourceRow> = BTreeMap::new();
    for mut row in rows.drain(..) {
        let key = (row.group.clone(), resource_of(&row));
        for verb in row.verbs.keys() {
            row.sources
                .entry(verb.clone())
                .or_default()
                .push(CellSource::Rbac);
        }
        by_key.insert(key, row);
    }
    for grant in policies {
        let source = &grant.source;
        for rule in &resource_rules_of(&grant.rules) {
            for ((group, resource, verb), _) in cells_of(rule) {
                let row = by_key
                    .entry((group.clone(), resource.clone()))
                    .or_insert_with(|| ResourceRow {
                        resource: row_name(&group, &resource),
                        group: group.clone(),
                        verbs: BTreeMap::new(),
                        names: Vec::new(),
                        sources: BTreeMap::new(),
                    });
                row.verbs.insert(verb.clone(), Access::All);
                let sources = row.sources.entry(verb).or_default();
                if !sources.contains(source) {
                    sources.push(source.clone());
                }
            }
        }
    }
    *rows = by_key.into_values().collect();
    for row in rows.iter_mut() {
        if !row.verbs.values().any(|a| *a == Access::Named) {
            row.names.clear();
        }
    }
}

/// Non-resource URLs the cluster-wide policies grant, added to `rows`.
pub fn merge_policy_urls(rows: &mut Vec<NonResourceRow>, policies: &[PolicyGrant]) {
    for grant in policies {
        if !grant.cluster_wide {
            continue;
        }
        for rule in &grant.rules {
            if let Some(urls) = rule.non_resource_urls.clone().filter(|u| !u.is_empty()) {
                rows.push(NonResourceRow {
                    urls,
                    verbs: rule.verbs.clone(),
                });
            }
        }
    }
    rows.sort_by(|a, b| a.urls.cmp(&b.urls).then(a.verbs.cmp(&b.verbs)));
    rows.dedup();
}

/// Whether some cell of the matrix comes from an access policy.
pub fn any_policy_cell(rows: &[ResourceRow]) -> bool {
    rows.iter().any(|r| {
        r.sources
            .values()
            .flatten()
            .any(|s| matches!(s, CellSource::AccessPolicy { .. }))
    })
}

/// Non-resource rules, as given, sorted.
pub fn non_resource_rows(rules: &[NonResourceRule]) -> Vec<NonResourceRow> {
    let mut rows: Vec<NonResourceRow> = rules
        .iter()
        .map(|r| NonResourceRow {
            urls: r.non_resource_urls.clone().unwrap_or_default(),
            verbs: r.verbs.clone(),
        })
        .collect();
    rows.sort_by(|a, b| a.urls.cmp(&b.urls).then(a.verbs.cmp(&b.verbs)));
    rows.dedup();
    rows
}

/// Keeps only the cells `keep` says hold (used to reduce a namespace's rules to the
/// cluster-wide ones); rows left without cells disappear.
pub fn retain_cells(rows: &mut Vec<ResourceRow>, mut keep: impl FnMut(&str, &str, &str) -> bool) {
    for row in rows.iter_mut() {
        let (group, resource) = (row.group.clone(), resource_of(row));
        row.verbs.retain(|verb, _| keep(&group, &resource, verb));
        if !row.verbs.values().any(|a| *a == Access::Named) {
            row.names.clear();
        }
    }
    rows.retain(|row| !row.verbs.is_empty());
}

/// Whether the rows give `cell` on every object (`*` in a row's group, resource or verb
/// matches anything; a cell limited to named objects does not count).
pub fn rows_grant(rows: &[ResourceRow], (group, resource, verb): &Cell) -> bool {
    rows.iter().any(|row| {
        let row_resource = resource_of(row);
        (row.group == "*" || row.group == *group)
            && (row_resource == "*" || row_resource == *resource)
            && row
                .verbs
                .iter()
                .any(|(v, a)| *a == Access::All && (v == "*" || v == verb))
    })
}

/// The bare resource of a row (`deployments` of `deployments.apps`).
pub fn resource_of(row: &ResourceRow) -> String {
    if row.group.is_empty() {
        row.resource.clone()
    } else {
        row.resource.replacen(&format!(".{}", row.group), "", 1)
    }
}

/// One line per rule: `get,list,watch pods,services.` with groups folded into the resource
/// names (`deployments.apps`), `[names]` for resourceNames, URLs for non-resource rules.
pub fn summarise_rules(rules: &[PolicyRule]) -> Vec<String> {
    eks_auth::rbac::compact_rules(rules)
        .iter()
        .map(summarise_rule)
        .collect()
}

fn summarise_rule(rule: &PolicyRule) -> String {
    let verbs = rule.verbs.join(",");
    let urls = rule.non_resource_urls.clone().unwrap_or_default();
    if !urls.is_empty() {
        return format!("{verbs} {}", urls.join(","));
    }
    let groups = rule.api_groups.clone().unwrap_or_default();
    let resources = rule.resources.clone().unwrap_or_default();
    let mut targets = Vec::new();
    for group in &groups {
        for resource in &resources {
            targets.push(row_name(group, resource));
        }
    }
    let mut line = format!("{verbs} {}", targets.join(","));
    let names = rule.resource_names.clone().unwrap_or_default();
    if !names.is_empty() {
        line.push_str(&format!(" [{}]", names.join(",")));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|x| (*x).to_owned()).collect())
    }

    fn rr(verbs: &[&str], groups: &[&str], resources: &[&str], names: &[&str]) -> ResourceRule {
        ResourceRule {
            verbs: verbs.iter().map(|x| (*x).to_owned()).collect(),
            api_groups: s(groups),
            resources: s(resources),
            resource_names: if names.is_empty() { None } else { s(names) },
        }
    }

    #[test]
    fn matrix_merges_rules_and_prefers_all_over_named() {
        let rows = matrix(&[
            rr(
                &["get", "list"],
                &["", "apps"],
                &["pods", "deployments"],
                &[],
            ),
            rr(&["get", "update"], &[""], &["configmaps"], &["aws-auth"]),
            rr(&["get"], &[""], &["configmaps"], &[]),
        ]);
        let names: Vec<&str> = rows.iter().map(|r| r.resource.as_str()).collect();
        assert_eq!(
            names,
            vec![
                "configmaps",
                "deployments",
                "pods",
                "deployments.apps",
                "pods.apps"
            ]
        );
        let cm = &rows[0];
        assert_eq!(cm.verbs.get("get"), Some(&Access::All));
        assert_eq!(cm.verbs.get("update"), Some(&Access::Named));
        assert_eq!(cm.verbs.get("list"), None);
        assert_eq!(cm.names, vec!["aws-auth".to_owned()]);
        assert!(rows[1].names.is_empty());
    }

    fn view(scope: AccessScope) -> PolicyAssociation {
        PolicyAssociation {
            policy_arn: eks_auth::access::policies::policy_arn("aws", "AmazonEKSViewPolicy"),
            scope,
        }
    }

    #[test]
    fn policies_add_cells_marked_with_their_source() {
        let mut rows = matrix(&[
            rr(&["get"], &[""], &["configmaps"], &[]),
            rr(
                &["create"],
                &["authorization.k8s.io"],
                &["selfsubjectaccessreviews"],
                &[],
            ),
        ]);
        let cluster = view(AccessScope::Cluster);
        let only_dev = view(AccessScope::Namespaces(vec!["dev-*".into()]));
        let all = [cluster.clone(), only_dev];
        // cluster-wide: the namespace-scoped association does not count
        assert_eq!(counting_policies(&all, None), vec![&cluster]);
        assert_eq!(counting_policies(&all, Some("dev-1")).len(), 2);
        assert_eq!(counting_policies(&all, Some("prod")).len(), 1);

        let grants: Vec<PolicyGrant> = counting_policies(&all, None)
            .into_iter()
            .map(PolicyGrant::associated)
            .collect();
        merge_policies(&mut rows, &grants);
        let row = |name: &str| rows.iter().find(|r| r.resource == name).unwrap();
        let policy = CellSource::AccessPolicy {
            policy: "AmazonEKSViewPolicy".into(),
            scope: "cluster".into(),
            probed: false,
        };
        let cm = row("configmaps");
        assert_eq!(cm.verbs.get("list"), Some(&Access::All));
        assert_eq!(cm.sources["list"], vec![policy.clone()]);
        assert_eq!(cm.sources["get"], vec![CellSource::Rbac, policy.clone()]);
        assert_eq!(
            row("selfsubjectaccessreviews.authorization.k8s.io").sources["create"],
            vec![CellSource::Rbac]
        );
        assert!(any_policy_cell(&rows));
        // view reads no secrets
        assert!(rows.iter().all(|r| r.resource != "secrets"));
        // sorted as the rules review's matrix: core group first
        let groups: Vec<&str> = rows.iter().map(|r| r.group.as_str()).collect();
        let mut sorted = groups.clone();
        sorted.sort();
        assert_eq!(groups, sorted);
    }

    #[test]
    fn rows_grant_matches_wildcards_and_not_named_cells() {
        let rows = matrix(&[
            rr(&["get"], &[""], &["secrets"], &["a"]),
            rr(&["list"], &["*"], &["*"], &[]),
        ]);
        let cell = |g: &str, r: &str, v: &str| (g.to_owned(), r.to_owned(), v.to_owned());
        assert!(rows_grant(&rows, &cell("apps", "deployments", "list")));
        assert!(!rows_grant(&rows, &cell("", "secrets", "get")));
        assert!(!rows_grant(&rows, &cell("", "pods", "get")));
    }

    #[test]
    fn wildcard_verbs_fill_every_standard_column() {
        let rows = matrix(&[rr(&["*"], &["*"], &["*"], &[])]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].resource, "*.*");
        let verbs: Vec<&str> = rows[0].verbs.keys().map(String::as_str).collect();
        assert_eq!(
            verbs,
            vec![
                "*",
                "create",
                "delete",
                "deletecollection",
                "get",
                "list",
                "patch",
                "update",
                "watch"
            ]
        );
    }

    #[test]
    fn row_names_put_the_group_before_the_subresource() {
        assert_eq!(row_name("", "pods/log"), "pods/log");
        assert_eq!(
            row_name("apps", "deployments/scale"),
            "deployments.apps/scale"
        );
        assert_eq!(row_name("*", "*"), "*.*");
        let rows = matrix(&[rr(&["get"], &["apps"], &["deployments/scale"], &[])]);
        assert_eq!(resource_of(&rows[0]), "deployments/scale");
    }

    #[test]
    fn retain_cells_drops_empty_rows_and_stale_names() {
        let mut rows = matrix(&[
            rr(&["get"], &[""], &["secrets"], &["a"]),
            rr(&["list"], &[""], &["secrets"], &[]),
            rr(&["get"], &[""], &["pods"], &[]),
        ]);
        retain_cells(&mut rows, |_, resource, verb| {
            resource == "secrets" && verb == "list"
        });
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].resource, "secrets");
        assert!(rows[0].names.is_empty());
    }

    #[test]
    fn summaries_compact_and_spell_groups() {
        let rules = vec![
            PolicyRule {
                verbs: vec!["get".into()],
                api_groups: s(&[""]),
                resources: s(&["pods"]),
                ..Default::default()
            },
            PolicyRule {
                verbs: vec!["list".into()],
                api_groups: s(&[""]),
                resources: s(&["pods"]),
                ..Default::default()
            },
            PolicyRule {
                verbs: vec!["get".into()],
                non_resource_urls: s(&["/healthz", "/version"]),
                ..Default::default()
            },
            PolicyRule {
                verbs: vec!["update".into()],
                api_groups: s(&["apps"]),
                resources: s(&["deployments", "deployments/scale"]),
                resource_names: s(&["web"]),
                ..Default::default()
            },
        ];
        assert_eq!(
            summarise_rules(&rules),
            vec![
                "get /healthz,/version".to_owned(),
                "update deployments.apps,deployments.apps/scale [web]".to_owned(),
                "get,list pods".to_owned(),
            ]
        );
    }
}
