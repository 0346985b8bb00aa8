use super::*;
use crate::rbac::{ResourceAttributes, UserInfo, fixtures::rule, forbidden_status_message};

fn ns(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

#[test]
fn preset_names_and_kinds() {
    let all = presets();
    let summary: Vec<(&str, bool, bool, String)> = all
        .iter()
        .map(|p| {
            (
                p.name,
                p.namespaced,
                p.creates_cluster_role(),
                p.cluster_role_name(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                "cluster-reader",
                false,
                true,
                "eks-grant:cluster-reader".to_owned()
            ),
            (
                "cluster-reader-no-secrets",
                false,
                true,
                "eks-grant:cluster-reader-no-secrets".to_owned()
            ),
            ("view", true, false, "view".to_owned()),
            ("edit", true, false, "edit".to_owned()),
            ("admin", true, false, "admin".to_owned()),
            ("cluster-admin", false, false, "cluster-admin".to_owned()),
        ]
    );
    assert!(all.iter().all(|p| p.caveat.is_some()));
    assert!(
        preset("cluster-reader")
            .unwrap()
            .caveat
            .unwrap()
            .contains("reads Secrets")
    );
    assert!(
        preset("admin")
            .unwrap()
            .caveat
            .unwrap()
            .contains("almost cluster-admin")
    );
}

#[test]
fn cluster_reader_is_the_seed_recipe_exactly() {
    let objects = preset("cluster-reader")
        .unwrap()
        .objects("reader", &[])
        .unwrap();
    assert!(objects.roles.is_empty() && objects.role_bindings.is_empty());
    let json = serde_json::to_value(&objects.cluster_roles).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {
                "name": "eks-grant:cluster-reader",
                "labels": {"app.kubernetes.io/managed-by": "kubectl-eks-grant"},
                "annotations": {"kubectl-eks/preset": "cluster-reader"}
            },
            "rules": [{
                "apiGroups": ["", "extensions", "apps", "*"],
                "resources": ["*"],
                "verbs": ["get", "list", "watch"]
            }]
        }])
    );
    let json = serde_json::to_value(&objects.cluster_role_bindings).unwrap();
    assert_eq!(
        json,
        serde_json::json!([{
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {
                "name": "eks-grant:reader:cluster-reader",
                "labels": {"app.kubernetes.io/managed-by": "kubectl-eks-grant"},
                "annotations": {"kubectl-eks/preset": "cluster-reader", "kubectl-eks/group": "reader"}
            },
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "eks-grant:cluster-reader"},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "reader"}]
        }])
    );
    assert_eq!(
        managed_grant(&objects.cluster_role_bindings[0].metadata),
        Some(ManagedGrant {
            preset: "cluster-reader".into(),
            group: Some("reader".into())
        })
    );
    assert_eq!(
        managed_grant(&objects.cluster_roles[0].metadata),
        Some(ManagedGrant {
            preset: "cluster-reader".into(),
            group: None
        })
    );
    assert_eq!(managed_grant(&ObjectMeta::default()), None);
}

#[test]
fn namespaced_presets_make_role_bindings() {
    let objects = preset("view")
        .unwrap()
        .objects("devs", &ns(&["team-b", "team-a", "team-b"]))
        .unwrap();
    assert!(objects.cluster_roles.is_empty() && objects.cluster_role_bindings.is_empty());
    let bindings: Vec<(Option<String>, Option<String>, String)> = objects
        .role_bindings
        .iter()
        .map(|b| {
            (
                b.metadata.namespace.clone(),
                b.metadata.name.clone(),
                b.role_ref.name.clone(),
            )
        })
        .collect();
    assert_eq!(
        bindings,
        vec![
            (
                Some("team-a".into()),
                Some("eks-grant:devs:view".into()),
                "view".into()
            ),
            (
                Some("team-b".into()),
                Some("eks-grant:devs:view".into()),
                "view".into()
            ),
        ]
    );
    let everywhere = preset("admin").unwrap().objects("ops", &[]).unwrap();
    assert_eq!(everywhere.cluster_role_bindings.len(), 1);
    assert_eq!(
        everywhere.cluster_role_bindings[0].metadata.name.as_deref(),
        Some("eks-grant:ops:admin")
    );
    assert_eq!(everywhere.cluster_role_bindings[0].role_ref.name, "admin");
}

#[test]
fn refusals() {
    assert_eq!(
        preset("reader").unwrap_err().to_string(),
        "unknown preset `reader`\n\nhint: presets are cluster-reader, cluster-reader-no-secrets, view, edit, admin, cluster-admin"
    );
    let reader = preset("cluster-reader").unwrap();
    assert_eq!(
        reader
            .objects("reader", &ns(&["dev"]))
            .unwrap_err()
            .to_string(),
        "preset `cluster-reader` is cluster-wide and takes no namespace\n\nhint: for read access in a namespace use --preset view --namespace NS"
    );
    assert_eq!(
        reader.objects("a/b", &[]).unwrap_err(),
        PresetError::InvalidGroup {
            group: "a/b".into(),
            why: "RBAC object names may not contain `/` or `%`"
        }
    );
    assert!(matches!(
        reader.objects("", &[]),
        Err(PresetError::InvalidGroup { .. })
    ));
    let view = preset("view").unwrap();
    for bad in ["Dev", "-dev", "dev-", "", "d_v", &"a".repeat(64)] {
        assert_eq!(
            view.objects("g", &ns(&[bad])).unwrap_err(),
            PresetError::InvalidNamespace(bad.into()),
            "{bad}"
        );
    }
    assert!(
        view.objects("g", &ns(&["a", &"b".repeat(63), "kube-system"]))
            .is_ok()
    );
}

fn granted(preset_name: &str, namespaces: &[&str]) -> (RbacObjects, UserInfo) {
    let mut objects = RbacObjects::bootstrap();
    objects.extend(
        preset(preset_name)
            .unwrap()
            .objects("reader", &ns(namespaces))
            .unwrap(),
    );
    (objects, UserInfo::authenticated("bob", ["reader"]))
}

#[test]
fn the_seed_scenario() {
    let (o, bob) = granted("cluster-reader", &[]);
    for (group, resource) in [
        ("", "pods"),
        ("", "secrets"),
        ("apps", "deployments"),
        ("example.com", "widgets"),
    ] {
        for verb in ["get", "list", "watch"] {
            let d = o.authorize(
                &bob,
                &ResourceAttributes::new(verb, group, resource).in_namespace("default"),
            );
            assert_eq!(
                d.reason,
                r#"RBAC: allowed by ClusterRoleBinding "eks-grant:reader:cluster-reader" of ClusterRole "eks-grant:cluster-reader" to Group "reader""#
            );
        }
    }
    // The caveat: `get` on pods/exec is granted too.
    assert!(
        o.authorize(
            &bob,
            &ResourceAttributes::new("get", "", "pods")
                .subresource("exec")
                .in_namespace("default")
        )
        .allowed
    );
    let create = ResourceAttributes::new("create", "", "configmaps").in_namespace("default");
    let d = o.authorize(&bob, &create);
    assert!(!d.allowed);
    assert_eq!(
        forbidden_status_message(&bob, &create, &d.reason),
        r#"configmaps is forbidden: User "bob" cannot create resource "configmaps" in API group "" in the namespace "default""#
    );
    // What `kubectl auth can-i --list` shows: basic-user's rules (bound first), then the preset's.
    let review = o.rules_for(&bob, "default");
    assert_eq!(review.resource_rules[2].verbs, vec!["get", "list", "watch"]);
    assert_eq!(
        review.resource_rules[2].resources,
        Some(vec!["*".to_owned()])
    );
    assert_eq!(review.resource_rules.len(), 3);
    assert_eq!(review.non_resource_rules.len(), 2);
}

#[test]
fn cluster_reader_no_secrets_reads_everything_else() {
    let (o, bob) = granted("cluster-reader-no-secrets", &[]);
    let can = |verb: &str, group: &str, resource: &str, sub: &str| {
        o.authorize(
            &bob,
            &ResourceAttributes::new(verb, group, resource)
                .subresource(sub)
                .in_namespace("default"),
        )
        .allowed
    };
    for (group, resource, sub) in [
        ("", "pods", ""),
        ("", "pods", "log"),
        ("", "configmaps", ""),
        ("", "nodes", ""),
        ("apps", "deployments", "status"),
        ("apps", "deployments", "scale"),
        ("rbac.authorization.k8s.io", "clusterroles", ""),
        ("storage.k8s.io", "storageclasses", ""),
        ("networking.k8s.io", "servicecidrs", ""),
    ] {
        assert!(can("get", group, resource, sub), "{group}/{resource}/{sub}");
        assert!(
            can("list", group, resource, sub),
            "{group}/{resource}/{sub}"
        );
    }
    assert!(!can("get", "", "secrets", ""));
    assert!(!can("list", "", "secrets", ""));
    assert!(!can("get", "", "pods", "exec"));
    assert!(!can("get", "", "pods", "portforward"));
    assert!(!can("get", "", "services", "proxy"));
    assert!(!can("get", "", "nodes", "proxy"));
    assert!(!can("get", "example.com", "widgets", ""));
    assert!(!can("update", "", "configmaps", ""));
    // Every rule reads, and secrets are nowhere.
    let rules = preset("cluster-reader-no-secrets").unwrap().rules();
    assert!(rules.iter().all(|r| r.verbs == ["get", "list", "watch"]));
    assert!(rules.iter().all(|r| {
        !r.resources
            .as_ref()
            .unwrap()
            .iter()
            .any(|x| x.contains("secret"))
    }));
    assert_eq!(rules.len(), BUILTIN_READABLE.len() + 1);
}

#[test]
fn builtin_presets_in_a_namespace_or_everywhere() {
    let (o, bob) = granted("edit", &["dev"]);
    let secrets = |ns: &str| ResourceAttributes::new("get", "", "secrets").in_namespace(ns);
    assert_eq!(
        o.authorize(&bob, &secrets("dev")).reason,
        r#"RBAC: allowed by RoleBinding "eks-grant:reader:edit/dev" of ClusterRole "edit" to Group "reader""#
    );
    assert!(!o.authorize(&bob, &secrets("prod")).allowed);
    let (o, bob) = granted("admin", &[]);
    assert!(o.authorize(&bob, &secrets("kube-system")).allowed);
    assert!(
        o.authorize(
            &bob,
            &ResourceAttributes::new("create", RBAC_GROUP, "rolebindings")
                .in_namespace("kube-system")
        )
        .allowed
    );
    // Still not cluster-scoped objects.
    assert!(
        !o.authorize(&bob, &ResourceAttributes::new("list", "", "nodes"))
            .allowed
    );
    let (o, bob) = granted("cluster-admin", &[]);
    assert!(
        o.authorize(
            &bob,
            &ResourceAttributes::new("delete", "", "nodes").named("n1")
        )
        .allowed
    );

    let view = preset("view").unwrap().rules();
    assert_eq!(view.len(), 10);
    assert!(view.contains(&rule(&[""], &["namespaces"], &["get", "list", "watch"])));
    assert_eq!(preset("cluster-admin").unwrap().rules().len(), 2);
}

#[test]
fn binding_names() {
    assert_eq!(
        binding_name("system:readers", "view"),
        "eks-grant:system:readers:view"
    );
    assert_eq!(default_group("cluster-reader"), "eks-grant:cluster-reader");
    assert_eq!(default_group("view"), "eks-grant:view:cluster-wide");
}

#[test]
fn caveats_fit_the_scope_of_the_grant() {
    let a = ns(&["team-a"]);
    for p in presets() {
        let cluster_wide = p.caveat_for(&[]).unwrap();
        assert_eq!(Some(cluster_wide), p.caveat, "{}", p.name);
        if p.namespaced {
            let namespaced = p.caveat_for(&a).unwrap();
            // The caveat of a grant in namespaces never speaks of the grant without one.
            assert!(!namespaced.contains("without --namespace"), "{}", p.name);
            assert!(!namespaced.contains("Give --namespace"), "{}", p.name);
        }
    }
    assert!(
        preset("admin")
            .unwrap()
            .caveat_for(&a)
            .unwrap()
            .starts_with("admin reads the Secrets of its namespaces")
    );
}

#[test]
fn default_groups_say_preset_and_scope_and_name_their_bindings() {
    let view = preset("view").unwrap();
    let team_a = ns(&["team-a"]);
    assert_eq!(view.default_group(&team_a), "eks-grant:view@team-a");
    assert_eq!(
        view.default_group(&ns(&["team-b", "team-a", "team-b"])),
        "eks-grant:view@team-a,team-b"
    );
    assert_eq!(view.default_group(&[]), "eks-grant:view:cluster-wide");
    // A namespace called `cluster-wide` is a scope of its own.
    assert_ne!(
        view.default_group(&ns(&["cluster-wide"])),
        view.default_group(&[])
    );
    let reader = preset("cluster-reader").unwrap();
    assert_eq!(reader.default_group(&[]), "eks-grant:cluster-reader");

    for (group, default) in [
        ("eks-grant:view@team-a", true),
        ("eks-grant:view:cluster-wide", true),
        ("eks-grant:view", false),
        ("eks-grant:view@", false),
        ("eks-grant:viewer@team-a", false),
        ("eks-grant:edit@team-a", false),
        ("readers", false),
    ] {
        assert_eq!(view.is_default_group(group), default, "{group}");
    }
    assert!(reader.is_default_group("eks-grant:cluster-reader"));
    assert!(!reader.is_default_group("eks-grant:cluster-reader:cluster-wide"));

    let objects = view.objects("eks-grant:view@team-a", &team_a).unwrap();
    assert_eq!(
        objects.role_bindings[0].metadata.name.as_deref(),
        Some("eks-grant:view@team-a")
    );
    let objects = view.objects("readers", &team_a).unwrap();
    assert_eq!(
        objects.role_bindings[0].metadata.name.as_deref(),
        Some("eks-grant:readers:view")
    );
    let objects = reader.objects("eks-grant:cluster-reader", &[]).unwrap();
    assert_eq!(
        objects.cluster_role_bindings[0].metadata.name.as_deref(),
        Some("eks-grant:cluster-reader")
    );
}
