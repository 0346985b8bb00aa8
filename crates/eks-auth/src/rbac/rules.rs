//! PolicyRule matching and comparison, as kube-apiserver does it.

use k8s_openapi::api::rbac::v1::PolicyRule;

use super::{NonResourceAttributes, ResourceAttributes};

pub(crate) const ALL: &str = "*";

pub(crate) fn list(v: &Option<Vec<String>>) -> &[String] {
    v.as_deref().unwrap_or(&[])
}

fn has(set: &[String], item: &str) -> bool {
    set.iter().any(|s| s == item)
}

fn has_all(set: &[String], items: &[String]) -> bool {
    items.iter().all(|i| has(set, i))
}

/// `VerbMatches` (evaluation_helpers.go).
pub(crate) fn verb_matches(rule: &PolicyRule, verb: &str) -> bool {
    rule.verbs.iter().any(|v| v == ALL || v == verb)
}

/// `APIGroupMatches`.
pub(crate) fn api_group_matches(rule: &PolicyRule, group: &str) -> bool {
    list(&rule.api_groups)
        .iter()
        .any(|g| g == ALL || g == group)
}

/// `ResourceMatches`: `*`, the exact `resource` or `resource/subresource`, or `*/subresource`.
pub(crate) fn resource_matches(rule: &PolicyRule, combined: &str, subresource: &str) -> bool {
    list(&rule.resources).iter().any(|r| {
        r == ALL
            || r == combined
            || (!subresource.is_empty()
                && r.len() == subresource.len() + 2
                && r.starts_with("*/")
                && r.ends_with(subresource))
    })
}

/// `ResourceNameMatches`: no names in the rule means every name.
pub(crate) fn resource_name_matches(rule: &PolicyRule, name: &str) -> bool {
    let names = list(&rule.resource_names);
    names.is_empty() || has(names, name)
}

/// `NonResourceURLMatches`: `*`, exact, or a prefix before trailing `*`s.
pub(crate) fn non_resource_url_matches(rule: &PolicyRule, path: &str) -> bool {
    list(&rule.non_resource_urls)
        .iter()
        .any(|u| non_resource_url_covers(u, path) || u == ALL)
}

fn non_resource_url_covers(owner: &str, path: &str) -> bool {
    owner == path || (owner.ends_with('*') && path.starts_with(owner.trim_end_matches('*')))
}

/// `RuleAllows` (rbac.go) for a resource request.
pub(crate) fn rule_allows(rule: &PolicyRule, attrs: &ResourceAttributes) -> bool {
    let combined = if attrs.subresource.is_empty() {
        attrs.resource.clone()
    } else {
        format!("{}/{}", attrs.resource, attrs.subresource)
    };
    verb_matches(rule, &attrs.verb)
        && api_group_matches(rule, &attrs.group)
        && resource_matches(rule, &combined, &attrs.subresource)
        && resource_name_matches(rule, &attrs.name)
}

/// `RuleAllows` for a non-resource request.
pub(crate) fn rule_allows_non_resource(rule: &PolicyRule, attrs: &NonResourceAttributes) -> bool {
    verb_matches(rule, &attrs.verb) && non_resource_url_matches(rule, &attrs.path)
}

/// Equality the way `equality.Semantic.DeepEqual` sees it: a missing list equals an empty one.
pub(crate) fn rules_equal(a: &PolicyRule, b: &PolicyRule) -> bool {
    a.verbs == b.verbs
        && list(&a.api_groups) == list(&b.api_groups)
        && list(&a.resources) == list(&b.resources)
        && list(&a.resource_names) == list(&b.resource_names)
        && list(&a.non_resource_urls) == list(&b.non_resource_urls)
}

fn some(v: Vec<String>) -> Option<Vec<String>> {
    Some(v)
}

/// `BreakdownRule` (policy_comparator.go): one rule per group x resource x verb (x name), and per
/// non-resource URL x verb.
pub(crate) fn breakdown(rule: &PolicyRule) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    for group in list(&rule.api_groups) {
        for resource in list(&rule.resources) {
            for verb in &rule.verbs {
                let base = PolicyRule {
                    api_groups: some(vec![group.clone()]),
                    resources: some(vec![resource.clone()]),
                    verbs: vec![verb.clone()],
                    ..PolicyRule::default()
                };
                let names = list(&rule.resource_names);
                if names.is_empty() {
                    out.push(base);
                } else {
                    for name in names {
                        out.push(PolicyRule {
                            resource_names: some(vec![name.clone()]),
                            ..base.clone()
                        });
                    }
                }
            }
        }
    }
    for url in list(&rule.non_resource_urls) {
        for verb in &rule.verbs {
            out.push(PolicyRule {
                non_resource_urls: some(vec![url.clone()]),
                verbs: vec![verb.clone()],
                ..PolicyRule::default()
            });
        }
    }
    out
}

fn resource_covers_all(owner: &[String], wanted: &[String]) -> bool {
    if has(owner, ALL) || has_all(owner, wanted) {
        return true;
    }
    wanted.iter().all(|path| {
        has(owner, path)
            || path
                .split_once('/')
                .is_some_and(|(_, sub)| has(owner, &format!("*/{sub}")))
    })
}

fn non_resource_urls_cover_all(owner: &[String], wanted: &[String]) -> bool {
    wanted
        .iter()
        .all(|path| owner.iter().any(|o| non_resource_url_covers(o, path)))
}

/// `ruleCovers`: does `owner` cover the broken-down `sub`?
fn rule_covers(owner: &PolicyRule, sub: &PolicyRule) -> bool {
    let verbs = has(&owner.verbs, ALL) || has_all(&owner.verbs, &sub.verbs);
    let groups = has(list(&owner.api_groups), ALL)
        || has_all(list(&owner.api_groups), list(&sub.api_groups));
    let resources = resource_covers_all(list(&owner.resources), list(&sub.resources));
    let urls =
        non_resource_urls_cover_all(list(&owner.non_resource_urls), list(&sub.non_resource_urls));
    let owner_names = list(&owner.resource_names);
    let names = if list(&sub.resource_names).is_empty() {
        owner_names.is_empty()
    } else {
        owner_names.is_empty() || has_all(owner_names, list(&sub.resource_names))
    };
    verbs && groups && resources && names && urls
}

/// `Covers` (component-helpers policy_comparator.go): whether `owner` rules hold every permission
/// of `servant` rules, and the broken-down rules they do not hold.
pub fn covers(owner: &[PolicyRule], servant: &[PolicyRule]) -> (bool, Vec<PolicyRule>) {
    let uncovered: Vec<PolicyRule> = servant
        .iter()
        .flat_map(breakdown)
        .filter(|sub| !owner.iter().any(|o| rule_covers(o, sub)))
        .collect();
    (uncovered.is_empty(), uncovered)
}

/// `CompactRules` (pkg/registry/rbac/validation/policy_compact.go): rules with one group, one
/// resource and nothing else are merged by (group, resource), their verbs appended in order.
/// Go returns the merged rules in map order; here they come after the others, in first-seen order.
pub fn compact_rules(rules: &[PolicyRule]) -> Vec<PolicyRule> {
    let mut out: Vec<PolicyRule> = Vec::new();
    let mut simple: Vec<((String, String), PolicyRule)> = Vec::new();
    for rule in rules {
        let groups = list(&rule.api_groups);
        let resources = list(&rule.resources);
        let is_simple = list(&rule.resource_names).is_empty()
            && list(&rule.non_resource_urls).is_empty()
            && groups.len() == 1
            && resources.len() == 1;
        if is_simple {
            let key = (groups[0].clone(), resources[0].clone());
            match simple.iter_mut().find(|(k, _)| *k == key) {
                Some((_, existing)) => existing.verbs.extend(rule.verbs.iter().cloned()),
                None => simple.push((key, rule.clone())),
            }
        } else {
            out.push(rule.clone());
        }
    }
    out.extend(simple.into_iter().map(|(_, r)| r));
    out
}

/// `CompactString` (evaluation_helpers.go), used in escalation messages:
/// `{APIGroups:[""], Resources:["configmaps"], Verbs:["create"]}`.
pub fn compact_string(rule: &PolicyRule) -> String {
    let mut parts = Vec::new();
    let mut part = |label: &str, v: &[String]| {
        if !v.is_empty() {
            parts.push(format!("{label}:{}", go_quote_list(v)));
        }
    };
    part("APIGroups", list(&rule.api_groups));
    part("Resources", list(&rule.resources));
    part("NonResourceURLs", list(&rule.non_resource_urls));
    part("ResourceNames", list(&rule.resource_names));
    part("Verbs", &rule.verbs);
    format!("{{{}}}", parts.join(", "))
}

/// Go's `%q` of a string (strconv.Quote), enough for names and paths.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%q` of a `[]string`: `["a" "b"]`.
pub(crate) fn go_quote_list(v: &[String]) -> String {
    let items: Vec<String> = v.iter().map(|s| go_quote(s)).collect();
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    pub(crate) fn rule(groups: &[&str], resources: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            api_groups: Some(strings(groups)),
            resources: Some(strings(resources)),
            verbs: strings(verbs),
            ..PolicyRule::default()
        }
    }

    pub(crate) fn url_rule(urls: &[&str], verbs: &[&str]) -> PolicyRule {
        PolicyRule {
            non_resource_urls: Some(strings(urls)),
            verbs: strings(verbs),
            ..PolicyRule::default()
        }
    }

    fn attrs(verb: &str, group: &str, resource: &str, sub: &str, name: &str) -> ResourceAttributes {
        ResourceAttributes::new(verb, group, resource)
            .subresource(sub)
            .named(name)
    }

    #[test]
    fn subresource_matching_follows_resource_matches() {
        let r = rule(&[""], &["pods"], &["get"]);
        assert!(rule_allows(&r, &attrs("get", "", "pods", "", "")));
        // `pods` does not grant `pods/log`.
        assert!(!rule_allows(&r, &attrs("get", "", "pods", "log", "")));

        let log = rule(&[""], &["pods/log"], &["get"]);
        assert!(rule_allows(&log, &attrs("get", "", "pods", "log", "")));
        assert!(!rule_allows(&log, &attrs("get", "", "pods", "", "")));

        let any_status = rule(&["*"], &["*/status"], &["get"]);
        assert!(rule_allows(
            &any_status,
            &attrs("get", "apps", "deployments", "status", "")
        ));
        assert!(!rule_allows(
            &any_status,
            &attrs("get", "apps", "deployments", "scale", "")
        ));
        assert!(!rule_allows(
            &any_status,
            &attrs("get", "apps", "deployments", "", "")
        ));
        // `*/status` must be exactly `*/` + the subresource.
        let odd = rule(&["*"], &["x*/status"], &["get"]);
        assert!(!rule_allows(&odd, &attrs("get", "", "pods", "status", "")));

        let star = rule(&[""], &["*"], &["get"]);
        assert!(rule_allows(&star, &attrs("get", "", "pods", "exec", "")));
    }

    #[test]
    fn verbs_groups_and_names() {
        let r = PolicyRule {
            resource_names: Some(strings(&["a", "b"])),
            ..rule(&["", "apps"], &["configmaps"], &["get", "update"])
        };
        assert!(rule_allows(&r, &attrs("get", "", "configmaps", "", "a")));
        assert!(rule_allows(
            &r,
            &attrs("update", "apps", "configmaps", "", "b")
        ));
        assert!(!rule_allows(&r, &attrs("get", "", "configmaps", "", "c")));
        // A list has no name: resourceNames never match it.
        assert!(!rule_allows(&r, &attrs("get", "", "configmaps", "", "")));
        assert!(!rule_allows(
            &r,
            &attrs("delete", "", "configmaps", "", "a")
        ));
        assert!(!rule_allows(
            &r,
            &attrs("get", "batch", "configmaps", "", "a")
        ));

        let all = rule(&["*"], &["*"], &["*"]);
        assert!(rule_allows(
            &all,
            &attrs("escalate", "rbac.authorization.k8s.io", "roles", "", "")
        ));
    }

    #[test]
    fn non_resource_urls() {
        let r = url_rule(&["/healthz", "/apis/*", "/logs**"], &["get"]);
        let allows = |p: &str| rule_allows_non_resource(&r, &NonResourceAttributes::new("get", p));
        assert!(allows("/healthz"));
        assert!(!allows("/healthz/etcd"));
        assert!(allows("/apis/"));
        assert!(allows("/apis/apps/v1"));
        assert!(!allows("/apis"));
        assert!(allows("/logs"));
        assert!(allows("/logsX"));
        assert!(!rule_allows_non_resource(
            &r,
            &NonResourceAttributes::new("post", "/healthz")
        ));
        let star = url_rule(&["*"], &["*"]);
        assert!(rule_allows_non_resource(
            &star,
            &NonResourceAttributes::new("delete", "/x")
        ));
    }

    #[test]
    fn covers_reports_broken_down_missing_rules() {
        let owner = vec![
            rule(&[""], &["configmaps"], &["get", "list"]),
            rule(&["apps"], &["*/scale"], &["*"]),
            url_rule(&["/metrics*"], &["get"]),
        ];
        let (ok, missing) = covers(&owner, &[rule(&[""], &["configmaps"], &["get"])]);
        assert!(ok);
        assert!(missing.is_empty());

        let servant = vec![
            rule(&[""], &["configmaps", "secrets"], &["get", "create"]),
            rule(&["apps"], &["deployments/scale"], &["patch"]),
            url_rule(&["/metrics/slis", "/healthz"], &["get"]),
        ];
        let (ok, missing) = covers(&owner, &servant);
        assert!(!ok);
        assert_eq!(
            missing,
            vec![
                rule(&[""], &["configmaps"], &["create"]),
                rule(&[""], &["secrets"], &["get"]),
                rule(&[""], &["secrets"], &["create"]),
                url_rule(&["/healthz"], &["get"]),
            ]
        );
    }

    #[test]
    fn covers_resource_names() {
        let named = PolicyRule {
            resource_names: Some(strings(&["a"])),
            ..rule(&[""], &["configmaps"], &["get"])
        };
        // An owner limited to a name does not cover every name.
        assert!(
            !covers(
                std::slice::from_ref(&named),
                &[rule(&[""], &["configmaps"], &["get"])]
            )
            .0
        );
        // An unlimited owner covers a name.
        assert!(
            covers(
                &[rule(&[""], &["configmaps"], &["get"])],
                std::slice::from_ref(&named)
            )
            .0
        );
        assert!(covers(std::slice::from_ref(&named), std::slice::from_ref(&named)).0);
    }

    #[test]
    fn compaction_and_compact_string() {
        let missing = vec![
            rule(&[""], &["configmaps"], &["create"]),
            rule(&[""], &["secrets"], &["get"]),
            rule(&[""], &["configmaps"], &["update"]),
            url_rule(&["/healthz"], &["get"]),
        ];
        let compact = compact_rules(&missing);
        assert_eq!(
            compact,
            vec![
                url_rule(&["/healthz"], &["get"]),
                rule(&[""], &["configmaps"], &["create", "update"]),
                rule(&[""], &["secrets"], &["get"]),
            ]
        );
        let strings: Vec<String> = compact.iter().map(compact_string).collect();
        assert_eq!(
            strings,
            vec![
                r#"{NonResourceURLs:["/healthz"], Verbs:["get"]}"#,
                r#"{APIGroups:[""], Resources:["configmaps"], Verbs:["create" "update"]}"#,
                r#"{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}"#,
            ]
        );
        let named = PolicyRule {
            resource_names: Some(vec!["x".into()]),
            ..rule(&["apps"], &["deployments"], &["get"])
        };
        assert_eq!(
            compact_string(&named),
            r#"{APIGroups:["apps"], Resources:["deployments"], ResourceNames:["x"], Verbs:["get"]}"#
        );
    }

    #[test]
    fn go_quoting() {
        assert_eq!(go_quote("bob"), r#""bob""#);
        assert_eq!(go_quote("a\"b\\c\n"), r#""a\"b\\c\n""#);
        assert_eq!(go_quote("\u{1}é"), "\"\\x01é\"");
        assert_eq!(
            go_quote_list(&strings(&["a", "system:authenticated"])),
            r#"["a" "system:authenticated"]"#
        );
        assert_eq!(go_quote_list(&[]), "[]");
    }
}
