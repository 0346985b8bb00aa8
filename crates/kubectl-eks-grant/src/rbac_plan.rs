//! Pure: decisions over RBAC objects: the objects of a preset for some groups, which bindings a
//! grant creates or changes (for the shared-group check), which objects eks-grant made that
//! nothing needs any more (for revoke), and the kubectl commands that delete objects by hand
//! (for hints).

use eks_auth::rbac::{Preset, PresetError, RbacObjects, managed_grant};
use kube::ResourceExt;

use crate::rbac_io::ObjectChange;
use crate::shared_group::NewBinding;

/// The bindings of `objects` that `changes` (from [`apply`], in its order) create or change, with
/// the group each binds.
pub fn new_bindings(objects: &RbacObjects, changes: &[ObjectChange]) -> Vec<NewBinding> {
    let changed = |kind: &str, name: &Option<String>, namespace: &Option<String>| {
        changes.iter().any(|c| {
            c.kind == kind
                && Some(&c.name) == name.as_ref()
                && &c.namespace == namespace
                && c.action != "unchanged"
        })
    };
    let group_of = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>| {
        subjects
            .iter()
            .flatten()
            .find(|s| s.kind == "Group")
            .map(|s| s.name.clone())
    };
    let mut out = Vec::new();
    for b in &objects.cluster_role_bindings {
        if changed("ClusterRoleBinding", &b.metadata.name, &None)
            && let Some(group) = group_of(&b.subjects)
        {
            out.push(NewBinding {
                kind: "ClusterRoleBinding",
                name: b.name_any(),
                namespace: None,
                group,
            });
        }
    }
    for b in &objects.role_bindings {
        if changed("RoleBinding", &b.metadata.name, &b.metadata.namespace)
            && let Some(group) = group_of(&b.subjects)
        {
            out.push(NewBinding {
                kind: "RoleBinding",
                name: b.name_any(),
                namespace: b.metadata.namespace.clone(),
                group,
            });
        }
    }
    out
}

/// `kubectl delete ...` for every object of `objects`, for a hint.
pub fn kubectl_delete_commands(objects: &RbacObjects) -> Vec<String> {
    let mut out = Vec::new();
    for b in &objects.cluster_role_bindings {
        out.push(format!(
            "kubectl delete clusterrolebinding '{}'",
            b.name_any()
        ));
    }
    for b in &objects.role_bindings {
        out.push(format!(
            "kubectl delete rolebinding -n {} '{}'",
            b.namespace().unwrap_or_default(),
            b.name_any()
        ));
    }
    for r in &objects.cluster_roles {
        out.push(format!("kubectl delete clusterrole '{}'", r.name_any()));
    }
    for r in &objects.roles {
        out.push(format!(
            "kubectl delete role -n {} '{}'",
            r.namespace().unwrap_or_default(),
            r.name_any()
        ));
    }
    out
}

/// The RBAC objects that grant `preset` to each of `groups` (in `namespaces`, or cluster-wide):
/// its ClusterRole once, and a binding per group (per namespace). The same objects whichever
/// store hands out the groups (aws-auth mappings or access entries' `kubernetesGroups`).
pub fn preset_objects(
    preset: &Preset,
    groups: &[String],
    namespaces: &[String],
) -> Result<RbacObjects, PresetError> {
    let mut objects = RbacObjects::default();
    for group in groups {
        let o = preset.objects(group, namespaces)?;
        for r in o.cluster_roles {
            if !objects
                .cluster_roles
                .iter()
                .any(|x| x.metadata.name == r.metadata.name)
            {
                objects.cluster_roles.push(r);
            }
        }
        objects
            .cluster_role_bindings
            .extend(o.cluster_role_bindings);
        objects.roles.extend(o.roles);
        objects.role_bindings.extend(o.role_bindings);
    }
    Ok(objects)
}

/// The RBAC objects eks-grant made for `groups` that nothing needs once those groups are no longer
/// handed out: their bindings (only those whose sole subject is the group), then the preset
/// ClusterRoles that no remaining binding references.
pub fn unused_objects(cluster: &RbacObjects, gone_groups: &[String]) -> RbacObjects {
    let only_group = |subjects: &Option<Vec<k8s_openapi::api::rbac::v1::Subject>>, group: &str| {
        subjects
            .as_deref()
            .is_some_and(|s| s.len() == 1 && s[0].kind == "Group" && s[0].name == group)
    };
    let ours_for = |meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta| {
        managed_grant(meta)
            .and_then(|m| m.group)
            .filter(|g| gone_groups.contains(g))
    };
    let mut out = RbacObjects::default();
    for b in &cluster.cluster_role_bindings {
        if let Some(g) = ours_for(&b.metadata)
            && only_group(&b.subjects, &g)
        {
            out.cluster_role_bindings.push(b.clone());
        }
    }
    for b in &cluster.role_bindings {
        if let Some(g) = ours_for(&b.metadata)
            && only_group(&b.subjects, &g)
        {
            out.role_bindings.push(b.clone());
        }
    }
    let deleted_crb: Vec<_> = out
        .cluster_role_bindings
        .iter()
        .map(|b| b.metadata.name.clone())
        .collect();
    let deleted_rb: Vec<_> = out
        .role_bindings
        .iter()
        .map(|b| (b.metadata.namespace.clone(), b.metadata.name.clone()))
        .collect();
    let referenced = |role: &str| {
        cluster
            .cluster_role_bindings
            .iter()
            .filter(|b| !deleted_crb.contains(&b.metadata.name))
            .any(|b| b.role_ref.kind == "ClusterRole" && b.role_ref.name == role)
            || cluster
                .role_bindings
                .iter()
                .filter(|b| {
                    !deleted_rb.contains(&(b.metadata.namespace.clone(), b.metadata.name.clone()))
                })
                .any(|b| b.role_ref.kind == "ClusterRole" && b.role_ref.name == role)
    };
    let was_used_by_deleted = |role: &str| {
        out.cluster_role_bindings
            .iter()
            .any(|b| b.role_ref.name == role)
            || out
                .role_bindings
                .iter()
                .any(|b| b.role_ref.kind == "ClusterRole" && b.role_ref.name == role)
    };
    for r in &cluster.cluster_roles {
        let name = r.metadata.name.as_deref().unwrap_or("");
        if managed_grant(&r.metadata).is_some_and(|m| m.group.is_none())
            && was_used_by_deleted(name)
            && !referenced(name)
        {
            out.cluster_roles.push(r.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_auth::rbac::preset;

    #[test]
    fn unused_objects_are_the_groups_bindings_and_their_now_unreferenced_role() {
        let p = preset("cluster-reader").unwrap();
        let mut cluster = p.objects("reader", &[]).unwrap();
        cluster.extend(
            p.objects("other", &[])
                .unwrap()
                .cluster_role_bindings
                .into_iter()
                .fold(RbacObjects::default(), |mut o, b| {
                    o.cluster_role_bindings.push(b);
                    o
                }),
        );
        // Another group still uses the ClusterRole: only the binding goes.
        let unused = unused_objects(&cluster, &["reader".to_owned()]);
        assert_eq!(
            unused
                .cluster_role_bindings
                .iter()
                .map(|b| b.metadata.name.clone().unwrap())
                .collect::<Vec<_>>(),
            ["eks-grant:reader:cluster-reader"]
        );
        assert!(unused.cluster_roles.is_empty());
        // Both groups gone: the ClusterRole goes too.
        let unused = unused_objects(&cluster, &["reader".to_owned(), "other".to_owned()]);
        assert_eq!(unused.cluster_role_bindings.len(), 2);
        assert_eq!(
            unused
                .cluster_roles
                .iter()
                .map(|r| r.metadata.name.clone().unwrap())
                .collect::<Vec<_>>(),
            ["eks-grant:cluster-reader"]
        );
    }

    #[test]
    fn objects_not_made_by_eks_grant_are_never_unused() {
        let p = preset("view").unwrap();
        let mut cluster = p.objects("reader", &["a".to_owned()]).unwrap();
        cluster.role_bindings[0].metadata.labels = None;
        assert_eq!(
            unused_objects(&cluster, &["reader".to_owned()]),
            RbacObjects::default()
        );
    }
}
