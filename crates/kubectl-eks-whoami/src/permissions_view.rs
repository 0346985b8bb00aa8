//! I/O: the permissions section of `--all`: SelfSubjectRulesReview in a namespace, reduced to
//! what holds cluster-wide (from the RBAC objects, or one SelfSubjectAccessReview per cell), and
//! what the caller's EKS access policies add.

use std::collections::BTreeSet;

use eks_auth::kube::{self as k8s, RbacLists};
use eks_auth::rbac::{RbacObjects, UserInfo};
use k8s_openapi::api::authorization::v1::ResourceAttributes;
use kube::Client;

use crate::permissions::{self, PolicyGrant};
use crate::policy_probe;
use crate::progress::Progress;
use crate::report::{Access, PermissionsSection};

/// A SelfSubjectAccessReview's question for `cell` (`resource/subresource` split into its parts),
/// on object `name` when given, in `namespace` (`None`: cluster scope).
fn question(
    (group, resource, verb): &permissions::Cell,
    name: Option<String>,
    namespace: Option<&str>,
) -> ResourceAttributes {
    let (resource, subresource) = match resource.split_once('/') {
        Some((r, s)) => (r.to_owned(), Some(s.to_owned()).filter(|s| !s.is_empty())),
        None => (resource.clone(), None),
    };
    ResourceAttributes {
        group: Some(group.clone()),
        resource: Some(resource),
        subresource,
        verb: Some(verb.clone()),
        name,
        namespace: namespace.map(str::to_owned),
        ..Default::default()
    }
}

/// The effective permissions: SelfSubjectRulesReview in the namespace asked for; for the
/// cluster-wide view the rules of the reviewed namespace reduced to those that hold at cluster
/// scope: from the listed RBAC objects when they could be read, else by a
/// SelfSubjectAccessReview per cell (a number bounded by the rules, not the namespaces).
pub(crate) async fn permissions_section(
    client: &Client,
    user: &UserInfo,
    namespace: Option<String>,
    context_namespace: Option<&str>,
    lists: &RbacLists,
    objects: Option<&RbacObjects>,
    progress: &Progress,
) -> PermissionsSection {
    let reviewed_ns = namespace
        .clone()
        .or(context_namespace.map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    progress.step(&format!("reviewing your rules in namespace {reviewed_ns}"));
    let mut section = PermissionsSection {
        scope: if namespace.is_some() {
            "namespace"
        } else {
            "cluster"
        }
        .to_owned(),
        namespace: namespace.clone(),
        method: format!("SelfSubjectRulesReview in namespace `{reviewed_ns}`"),
        incomplete: false,
        evaluation_error: None,
        resources: Vec::new(),
        non_resource: Vec::new(),
        notes: Vec::new(),
    };
    let status = match k8s::fetch_own_rules(client, &reviewed_ns).await {
        Ok(s) => s,
        Err(e) => {
            section.incomplete = true;
            section
                .notes
                .push(format!("SelfSubjectRulesReview failed: {}", e.reason()));
            return section;
        }
    };
    section.incomplete = status.incomplete;
    section.evaluation_error = status.evaluation_error.filter(|e| !e.is_empty());
    section.resources = permissions::matrix(&status.resource_rules);
    section.non_resource = permissions::non_resource_rows(&status.non_resource_rules);
    if status.incomplete {
        section.notes.push(
            "the server says this list may be incomplete: another authorizer (an EKS access \
             policy, a webhook) may allow more than RBAC shows"
                .to_owned(),
        );
    }
    if namespace.is_some() {
        return section;
    }

    // Cluster-wide: drop what only RoleBindings of the reviewed namespace give.
    let namespace_bindings = lists.role_bindings.as_ref().ok().map(|rbs| {
        let objs = RbacObjects {
            role_bindings: rbs
                .iter()
                .filter(|rb| rb.metadata.namespace.as_deref() == Some(reviewed_ns.as_str()))
                .cloned()
                .collect(),
            ..Default::default()
        };
        !objs.bindings_for(user).is_empty()
    });
    match (namespace_bindings, objects) {
        (Some(false), _) => {
            section.method = format!(
                "SelfSubjectRulesReview in namespace `{reviewed_ns}`, which has no RoleBinding \
                 for you: its rules are the cluster-wide ones"
            );
        }
        (_, Some(objects)) => {
            let cluster_rules = objects.rules_for(user, "");
            let allowed: BTreeSet<(String, String, String)> = cluster_rules
                .resource_rules
                .iter()
                .flat_map(permissions::cells_of)
                .map(|(cell, _)| cell)
                .collect();
            permissions::retain_cells(&mut section.resources, |g, r, v| {
                allowed.contains(&(g.to_owned(), r.to_owned(), v.to_owned()))
            });
            section.method = format!(
                "SelfSubjectRulesReview in namespace `{reviewed_ns}`, less the rules its \
                 RoleBindings give (from the listed RBAC objects)"
            );
        }
        _ => {
            // RBAC objects unreadable: ask the server about each cell at cluster scope.
            let mut cells: Vec<(String, String, String, Option<String>)> = Vec::new();
            for row in &section.resources {
                let resource = permissions::resource_of(row);
                for (verb, access) in &row.verbs {
                    let name = (*access == Access::Named)
                        .then(|| row.names.first().cloned())
                        .flatten();
                    cells.push((row.group.clone(), resource.clone(), verb.clone(), name));
                }
            }
            let questions: Vec<ResourceAttributes> = cells
                .iter()
                .map(|(group, resource, verb, name)| {
                    let cell = (group.clone(), resource.clone(), verb.clone());
                    question(&cell, name.clone(), None)
                })
                .collect();
            let asked = questions.len();
            let answers = k8s::can_i_each(client, questions, k8s::PARALLEL_REVIEWS, &|d, t| {
                progress.step(&format!("checking cluster-wide access {d}/{t}"));
            })
            .await;
            let mut allowed = BTreeSet::new();
            let mut failed = 0;
            for (cell, answer) in cells.into_iter().zip(answers) {
                match answer {
                    Ok(access) if access.allowed => {
                        allowed.insert((cell.0, cell.1, cell.2));
                    }
                    Ok(_) => {}
                    Err(_) => failed += 1,
                }
            }
            permissions::retain_cells(&mut section.resources, |g, r, v| {
                allowed.contains(&(g.to_owned(), r.to_owned(), v.to_owned()))
            });
            if failed > 0 {
                section.incomplete = true;
                section
                    .notes
                    .push(format!("{failed} of {asked} access reviews failed"));
            }
            section.method = format!(
                "SelfSubjectRulesReview in namespace `{reviewed_ns}`, each cell confirmed at \
                 cluster scope by SelfSubjectAccessReview ({asked} reviews)"
            );
        }
    }
    section
}

/// What the caller's access policies add to the matrix. SelfSubjectRulesReview does not see
/// them (EKS user guide, access-policies.html), so their cells come from the policies' published
/// rules ([`eks_auth::access::policy_rules`]), and one SelfSubjectAccessReview per policy, on a
/// cell only that policy grants, checks that EKS enforces it here: a number of requests bounded
/// by the caller's policies, never by the namespaces.
pub(crate) async fn add_access_policies(
    client: &Client,
    section: &mut PermissionsSection,
    policies: &[eks_auth::access::PolicyAssociation],
    namespace: Option<&str>,
) {
    let counting = permissions::counting_policies(policies, namespace);
    for p in policies {
        if !counting.contains(&p) {
            section.notes.push(format!(
                "access policy {} applies in namespaces {} only: see `kubectl eks-whoami --all -n NAMESPACE`",
                p.policy_name(),
                match &p.scope {
                    eks_auth::access::AccessScope::Namespaces(ns) => ns.join(", "),
                    eks_auth::access::AccessScope::Cluster => String::new(),
                }
            ));
        }
    }
    if counting.is_empty() {
        return;
    }
    let rbac_cells: BTreeSet<(String, String, String)> = section
        .resources
        .iter()
        .flat_map(|row| {
            let resource = permissions::resource_of(row);
            row.verbs
                .keys()
                .map(move |v| (row.group.clone(), resource.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    // One probe per policy: its first cell that RBAC does not already give.
    let mut probes = Vec::new();
    for p in &counting {
        let probe = eks_auth::access::policy_rules(&p.policy_arn)
            .iter()
            .filter(|r| r.non_resource_urls.as_ref().is_none_or(Vec::is_empty))
            .flat_map(|r| {
                let groups = r.api_groups.clone().unwrap_or_default();
                let resources = r.resources.clone().unwrap_or_default();
                let verbs = r.verbs.clone();
                groups.into_iter().flat_map(move |g| {
                    let verbs = verbs.clone();
                    resources.clone().into_iter().flat_map(move |res| {
                        let g = g.clone();
                        verbs
                            .clone()
                            .into_iter()
                            .map(move |v| (g.clone(), res.clone(), v))
                    })
                })
            })
            // A wildcard is probed on one concrete cell it covers: `get namespaces`.
            .map(|(g, r, v)| {
                let concrete = |x: String, with: &str| if x == "*" { with.to_owned() } else { x };
                (
                    concrete(g, ""),
                    concrete(r, "namespaces"),
                    concrete(v, "get"),
                )
            })
            .find(|cell| !rbac_cells.contains(cell));
        if let Some(cell) = probe {
            probes.push((p.policy_name().to_owned(), cell));
        }
    }
    let questions = probes
        .iter()
        .map(|(_, cell)| question(cell, None, namespace))
        .collect();
    let answers = k8s::can_i_each(client, questions, k8s::PARALLEL_REVIEWS, &|_, _| {}).await;
    let mut refused = Vec::new();
    for ((policy, (group, resource, verb)), answer) in probes.iter().zip(answers) {
        match answer {
            Ok(access) if access.allowed => {}
            Ok(_) => refused.push(policy.clone()),
            Err(e) => section.notes.push(format!(
                "checking access policy {policy} ({verb} {}): {e}",
                permissions::row_name(group, resource)
            )),
        }
    }
    let confirmed: Vec<&eks_auth::access::PolicyAssociation> = counting
        .into_iter()
        .filter(|p| !refused.iter().any(|r| r == p.policy_name()))
        .collect();
    for policy in &refused {
        section.notes.push(format!(
            "access policy {policy} is associated with your entry, but the API server does not \
             grant what it lists: its cells are left out"
        ));
    }
    let grants: Vec<PolicyGrant> = confirmed.into_iter().map(PolicyGrant::associated).collect();
    permissions::merge_policies(&mut section.resources, &grants);
    if namespace.is_none() {
        permissions::merge_policy_urls(&mut section.non_resource, &grants);
    }
    if !probes.is_empty() {
        section.method.push_str(&format!(
            "; access policies from their published rules, each confirmed by a \
             SelfSubjectAccessReview ({} reviews)",
            probes.len()
        ));
    }
}

/// What access policies add when the caller's access entry could not be read (`unreadable`
/// says why, naming the refused IAM action): one SelfSubjectAccessReview per policy of the
/// catalogue with published rules, on a cell RBAC does not give ([`policy_probe`]); the
/// policies it proves add their published rules, marked `probed`. At most one review per such
/// policy, whatever the number of namespaces.
pub(crate) async fn probe_access_policies(
    client: &Client,
    section: &mut PermissionsSection,
    namespace: Option<&str>,
    unreadable: &str,
) {
    let probes = policy_probe::probes(|cell| permissions::rows_grant(&section.resources, cell));
    if probes.is_empty() {
        return;
    }
    let questions = probes
        .iter()
        .map(|probe| question(&probe.cell, None, namespace))
        .collect();
    let answers = k8s::can_i_each(client, questions, k8s::PARALLEL_REVIEWS, &|_, _| {}).await;
    let mut allowed = Vec::new();
    for (probe, answer) in probes.iter().zip(answers) {
        let (group, resource, verb) = &probe.cell;
        match answer {
            Ok(access) if access.allowed => allowed.push(probe.policy),
            Ok(_) => {}
            Err(e) => {
                section.incomplete = true;
                section.notes.push(format!(
                    "probing access policy {} ({verb} {}): {e}",
                    probe.policy.name,
                    permissions::row_name(group, resource)
                ));
            }
        }
    }
    let proven = policy_probe::proven(&allowed);
    let grants: Vec<PolicyGrant> = proven
        .iter()
        .map(|p| PolicyGrant::probed(p, namespace))
        .collect();
    permissions::merge_policies(&mut section.resources, &grants);
    if namespace.is_none() {
        permissions::merge_policy_urls(&mut section.non_resource, &grants);
    }
    let found = if proven.is_empty() {
        "none grants you anything RBAC does not".to_owned()
    } else {
        format!(
            "{} (or a policy holding all of its rules) grants you more than RBAC",
            proven
                .iter()
                .map(|p| p.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    section.notes.push(format!(
        "{unreadable}, so its access policies were probed with {} SelfSubjectAccessReviews, one \
         per access policy with published rules: {found}",
        probes.len()
    ));
    section.method.push_str(&format!(
        "; access policies probed by SelfSubjectAccessReview ({} reviews)",
        probes.len()
    ));
}
