//! Pure: the bindings section of `--all`: which RoleBindings and ClusterRoleBindings apply to
//! the user, with their roles' rules summarised, from the four RBAC lists; and the 403s met
//! listing them.

use eks_auth::kube::{KubeError, RbacLists};
use eks_auth::rbac::{BindingKind, RbacObjects, UserInfo};

use crate::diagnose::Refusal;
use crate::permissions;
use crate::report::{BindingView, BindingsSection};

pub(crate) fn refusal_for(
    err: &KubeError,
    resource: &str,
    all_namespaces: bool,
) -> Option<Refusal> {
    (err.code() == Some(403)).then(|| Refusal {
        verb: "list".into(),
        group: eks_auth::rbac::RBAC_GROUP.into(),
        resource: resource.into(),
        name: None,
        namespace: None,
        all_namespaces,
    })
}

/// The bindings that apply, with their roles' rules summarised; the objects when all four
/// kinds could be listed.
pub(crate) fn bindings_section(
    user: &UserInfo,
    lists: &RbacLists,
    refusals: &mut Vec<Refusal>,
) -> (BindingsSection, Option<RbacObjects>) {
    let mut section = BindingsSection {
        complete: true,
        ..Default::default()
    };
    let mut note = |err: &KubeError, what: &str, resource: &str, all_ns: bool| {
        section.complete = false;
        section
            .errors
            .push(format!("listing {what}: {}", err.reason()));
        if let Some(r) = refusal_for(err, resource, all_ns) {
            refusals.push(r);
        }
    };
    if let Err(e) = &lists.cluster_role_bindings {
        note(e, "ClusterRoleBindings", "clusterrolebindings", false);
    }
    if let Err(e) = &lists.role_bindings {
        note(e, "RoleBindings in all namespaces", "rolebindings", true);
    }
    if let Err(e) = &lists.cluster_roles {
        note(e, "ClusterRoles", "clusterroles", false);
    }
    if let Err(e) = &lists.roles {
        note(e, "Roles in all namespaces", "roles", true);
    }
    let objects = lists.objects();
    let aggregated = objects.aggregated();
    let roles_readable = |kind: &str| match kind {
        "ClusterRole" => lists.cluster_roles.is_ok(),
        _ => lists.roles.is_ok(),
    };
    for b in objects.bindings_for(user) {
        let role_kind = b.role_ref.kind.clone();
        let role_name = b.role_ref.name.clone();
        let rules = if role_kind == "ClusterRole" {
            aggregated
                .iter()
                .find(|r| r.metadata.name.as_deref() == Some(role_name.as_str()))
                .map(|r| r.rules.clone().unwrap_or_default())
        } else {
            objects
                .roles
                .iter()
                .find(|r| {
                    r.metadata.name.as_deref() == Some(role_name.as_str())
                        && r.metadata.namespace == b.namespace
                })
                .map(|r| r.rules.clone().unwrap_or_default())
        };
        let (rules, rules_note) = match rules {
            Some(rules) => (permissions::summarise_rules(&rules), None),
            None if !roles_readable(&role_kind) => (
                Vec::new(),
                Some(format!("{role_kind}s cannot be read with your rights")),
            ),
            None => (
                Vec::new(),
                Some(format!("{role_kind} `{role_name}` does not exist")),
            ),
        };
        section.items.push(BindingView {
            kind: b.kind.to_string(),
            namespace: b.namespace.clone(),
            name: b.name.clone(),
            role: format!("{role_kind}/{role_name}"),
            subject: format!("{} {}", b.subject.kind, b.subject.name),
            rules,
            rules_note,
        });
    }
    section.items.sort_by(|a, b| {
        (
            a.kind != BindingKind::ClusterRoleBinding.to_string(),
            &a.namespace,
            &a.name,
        )
            .cmp(&(
                b.kind != BindingKind::ClusterRoleBinding.to_string(),
                &b.namespace,
                &b.name,
            ))
    });
    (section, lists.complete().then_some(objects))
}
