use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::ClusterRole;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};

use super::super::fixtures::*;
use super::*;
use crate::rbac::{RBAC_GROUP, builtin_cluster_roles};

fn get(resource: &str) -> ResourceAttributes {
    ResourceAttributes::new("get", "", resource)
}

fn allowed(d: Decision) -> String {
    assert!(d.allowed, "expected allowed, got {d:?}");
    d.reason
}

fn denied(d: Decision) -> String {
    assert!(!d.allowed, "expected denied, got {d:?}");
    d.reason
}

fn objects() -> RbacObjects {
    RbacObjects {
        cluster_roles: vec![
            cluster_role(
                "reader",
                vec![rule(&["", "apps"], &["*"], &["get", "list", "watch"])],
            ),
            cluster_role(
                "cm-editor",
                vec![rule(&[""], &["configmaps"], &["create", "update"])],
            ),
            cluster_role(
                "metrics",
                vec![url_rule(&["/metrics", "/logs/*"], &["get"])],
            ),
        ],
        cluster_role_bindings: vec![
            crb("readers", "reader", vec![subject("Group", "reader")]),
            crb("metrics", "metrics", vec![subject("User", "bob")]),
            crb(
                "sa-without-namespace",
                "cm-editor",
                vec![sa(None, "deployer")],
            ),
        ],
        roles: vec![
            role(
                "dev",
                "secret-reader",
                vec![rule(&[""], &["secrets"], &["get"])],
            ),
            role(
                "prod",
                "secret-reader",
                vec![rule(&[""], &["secrets"], &["get", "list"])],
            ),
        ],
        role_bindings: vec![
            rb(
                "dev",
                "cm",
                "ClusterRole",
                "cm-editor",
                vec![subject("User", "alice"), subject("User", "bob")],
            ),
            rb(
                "dev",
                "secrets",
                "Role",
                "secret-reader",
                vec![subject("Group", "secret-readers")],
            ),
            rb(
                "ci",
                "builder",
                "ClusterRole",
                "cm-editor",
                vec![sa(None, "builder")],
            ),
        ],
    }
}

#[test]
fn cluster_role_binding_to_group() {
    let o = objects();
    let reason = allowed(o.authorize(&bob(), &get("pods").in_namespace("default")));
    assert_eq!(
        reason,
        r#"RBAC: allowed by ClusterRoleBinding "readers" of ClusterRole "reader" to Group "reader""#
    );
    // Cluster scope too, and any group listed in the rule.
    let list = ResourceAttributes::new("list", "apps", "deployments");
    allowed(o.authorize(&bob(), &list));
    assert_eq!(
        denied(o.authorize(&bob(), &ResourceAttributes::new("list", "batch", "jobs"))),
        ""
    );
    assert_eq!(
        denied(o.authorize(
            &bob(),
            &ResourceAttributes::new("delete", "", "pods").in_namespace("default")
        )),
        ""
    );
    // A user without the group gets nothing from it.
    let carol = UserInfo::authenticated("carol", Vec::<String>::new());
    denied(o.authorize(&carol, &get("pods").in_namespace("default")));
}

#[test]
fn role_binding_to_cluster_role_is_scoped_to_its_namespace() {
    let o = objects();
    let create = ResourceAttributes::new("create", "", "configmaps");
    let reason = allowed(o.authorize(&bob(), &create.clone().in_namespace("dev")));
    // The first matching subject is named (alice does not match, bob does).
    assert_eq!(
        reason,
        r#"RBAC: allowed by RoleBinding "cm/dev" of ClusterRole "cm-editor" to User "bob""#
    );
    denied(o.authorize(&bob(), &create.clone().in_namespace("prod")));
    denied(o.authorize(&bob(), &create));
}

#[test]
fn role_binding_to_role_uses_the_role_of_its_namespace() {
    let o = objects();
    let dana = UserInfo::authenticated("dana", ["secret-readers"]);
    let reason = allowed(o.authorize(&dana, &get("secrets").in_namespace("dev").named("db")));
    assert_eq!(
        reason,
        r#"RBAC: allowed by RoleBinding "secrets/dev" of Role "secret-reader" to Group "secret-readers""#
    );
    // The prod Role of the same name (which allows list) is not bound in dev.
    denied(o.authorize(
        &dana,
        &ResourceAttributes::new("list", "", "secrets").in_namespace("dev"),
    ));
    denied(o.authorize(&dana, &get("secrets").in_namespace("prod")));
    denied(o.authorize(&dana, &get("secrets")));
}

#[test]
fn service_accounts() {
    let o = objects();
    let builder = UserInfo::authenticated(
        "system:serviceaccount:ci:builder",
        ["system:serviceaccounts"],
    );
    let create = ResourceAttributes::new("create", "", "configmaps").in_namespace("ci");
    // A RoleBinding's ServiceAccount subject without namespace means the binding's namespace.
    assert_eq!(
        allowed(o.authorize(&builder, &create)),
        r#"RBAC: allowed by RoleBinding "builder/ci" of ClusterRole "cm-editor" to ServiceAccount "builder/ci""#
    );
    let other = UserInfo::authenticated("system:serviceaccount:dev:builder", Vec::<String>::new());
    denied(o.authorize(&other, &create.clone().in_namespace("ci")));
    // In a ClusterRoleBinding a ServiceAccount without namespace matches nobody.
    let deployer = UserInfo::authenticated(
        "system:serviceaccount:default:deployer",
        Vec::<String>::new(),
    );
    denied(o.authorize(&deployer, &create.clone().in_namespace("default")));

    let mut o = o;
    o.cluster_role_bindings.push(crb(
        "deployer",
        "cm-editor",
        vec![sa(Some("default"), "deployer")],
    ));
    assert_eq!(
        allowed(o.authorize(&deployer, &create.in_namespace("kube-system"))),
        r#"RBAC: allowed by ClusterRoleBinding "deployer" of ClusterRole "cm-editor" to ServiceAccount "deployer/default""#
    );
}

#[test]
fn resource_names_and_subresources() {
    let o = RbacObjects {
        cluster_roles: vec![cluster_role(
            "narrow",
            vec![
                PolicyRule {
                    resource_names: Some(strings(&["aws-auth"])),
                    ..rule(&[""], &["configmaps"], &["get", "update"])
                },
                rule(&[""], &["pods/log"], &["get"]),
                rule(&["*"], &["*/scale"], &["patch"]),
            ],
        )],
        cluster_role_bindings: vec![crb("narrow", "narrow", vec![subject("User", "bob")])],
        ..RbacObjects::default()
    };
    let ks = |a: ResourceAttributes| a.in_namespace("kube-system");
    allowed(o.authorize(&bob(), &ks(get("configmaps").named("aws-auth"))));
    allowed(o.authorize(
        &bob(),
        &ks(ResourceAttributes::new("update", "", "configmaps").named("aws-auth")),
    ));
    denied(o.authorize(&bob(), &ks(get("configmaps").named("coredns"))));
    denied(o.authorize(
        &bob(),
        &ks(ResourceAttributes::new("list", "", "configmaps")),
    ));
    allowed(o.authorize(&bob(), &ks(get("pods").named("x").subresource("log"))));
    denied(o.authorize(&bob(), &ks(get("pods").named("x"))));
    denied(o.authorize(&bob(), &ks(get("pods").named("x").subresource("exec"))));
    let scale = ResourceAttributes::new("patch", "apps", "deployments").subresource("scale");
    allowed(o.authorize(&bob(), &ks(scale)));
    denied(o.authorize(
        &bob(),
        &ks(ResourceAttributes::new("patch", "apps", "deployments")),
    ));
}

#[test]
fn wildcards_and_system_masters() {
    let admin = UserInfo::authenticated("kubernetes-admin", ["system:masters"]);
    // No objects at all: the privileged-group authorizer still allows, with no reason.
    let none = RbacObjects::default();
    let anything = ResourceAttributes::new("escalate", RBAC_GROUP, "clusterroles").named("x");
    assert_eq!(
        none.authorize(&admin, &anything),
        Decision {
            allowed: true,
            reason: String::new()
        }
    );
    assert!(
        none.authorize_non_resource(&admin, &NonResourceAttributes::new("delete", "/x"))
            .allowed
    );

    let o = RbacObjects {
        cluster_roles: vec![cluster_role("all", vec![rule(&["*"], &["*"], &["*"])])],
        cluster_role_bindings: vec![crb("all", "all", vec![subject("User", "root")])],
        ..RbacObjects::default()
    };
    let root = UserInfo::new("root", Vec::<String>::new());
    assert_eq!(
        allowed(o.authorize(&root, &anything)),
        r#"RBAC: allowed by ClusterRoleBinding "all" of ClusterRole "all" to User "root""#
    );
    // `*` resources do not reach non-resource URLs.
    denied(o.authorize_non_resource(&root, &NonResourceAttributes::new("get", "/healthz")));
}

#[test]
fn non_resource_urls_need_a_cluster_role_binding() {
    let mut o = objects();
    let metrics = NonResourceAttributes::new("get", "/metrics");
    assert_eq!(
        allowed(o.authorize_non_resource(&bob(), &metrics)),
        r#"RBAC: allowed by ClusterRoleBinding "metrics" of ClusterRole "metrics" to User "bob""#
    );
    allowed(o.authorize_non_resource(
        &bob(),
        &NonResourceAttributes::new("get", "/logs/kube-apiserver.log"),
    ));
    denied(o.authorize_non_resource(&bob(), &NonResourceAttributes::new("get", "/logs")));
    denied(o.authorize_non_resource(&bob(), &NonResourceAttributes::new("post", "/metrics")));
    // A RoleBinding to the same ClusterRole grants no URL.
    let alice = UserInfo::authenticated("alice", Vec::<String>::new());
    o.role_bindings.push(rb(
        "dev",
        "m",
        "ClusterRole",
        "metrics",
        vec![subject("User", "alice")],
    ));
    denied(o.authorize_non_resource(&alice, &metrics));
}

#[test]
fn missing_roles_become_the_denial_reason() {
    let o = RbacObjects {
        cluster_roles: vec![cluster_role(
            "reader",
            vec![rule(&[""], &["pods"], &["get"])],
        )],
        cluster_role_bindings: vec![
            crb("gone", "gone", vec![subject("Group", "reader")]),
            crb("readers", "reader", vec![subject("Group", "reader")]),
        ],
        role_bindings: vec![rb(
            "dev",
            "r",
            "Role",
            "missing",
            vec![subject("User", "bob")],
        )],
        ..RbacObjects::default()
    };
    // Allowed despite the error: errors only explain a denial.
    allowed(o.authorize(&bob(), &get("pods").in_namespace("dev")));
    assert_eq!(
        denied(o.authorize(&bob(), &get("secrets"))),
        r#"RBAC: clusterrole.rbac.authorization.k8s.io "gone" not found"#
    );
    assert_eq!(
        denied(o.authorize(&bob(), &get("secrets").in_namespace("dev"))),
        r#"RBAC: [clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "missing" not found]"#
    );
    assert_eq!(
        o.rules_for(&bob(), "dev").evaluation_error.as_deref(),
        Some(
            r#"[clusterrole.rbac.authorization.k8s.io "gone" not found, role.rbac.authorization.k8s.io "missing" not found]"#
        )
    );
}

fn builtin(name: &str) -> Vec<PolicyRule> {
    builtin_cluster_roles()
        .into_iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .and_then(|r| r.rules)
        .unwrap_or_default()
}

fn aggregated_rules(o: &RbacObjects, name: &str) -> Vec<PolicyRule> {
    o.aggregated()
        .into_iter()
        .find(|r| r.metadata.name.as_deref() == Some(name))
        .unwrap()
        .rules
        .unwrap()
}

#[test]
fn builtin_aggregation_matches_the_controller() {
    let o = RbacObjects::bootstrap();
    let view = builtin("system:aggregate-to-view");
    let edit_piece = builtin("system:aggregate-to-edit");
    let admin_piece = builtin("system:aggregate-to-admin");
    assert_eq!(aggregated_rules(&o, "view"), view);
    // edit selects system:aggregate-to-edit and view (name order), admin selects edit and
    // system:aggregate-to-admin.
    let edit: Vec<PolicyRule> = edit_piece.iter().chain(&view).cloned().collect();
    assert_eq!(aggregated_rules(&o, "edit"), edit);
    let admin: Vec<PolicyRule> = edit.iter().chain(&admin_piece).cloned().collect();
    assert_eq!(aggregated_rules(&o, "admin"), admin);
    assert_eq!((view.len(), edit.len(), admin.len()), (10, 23, 25));
    // Aggregating again changes nothing (the controller's fixed point).
    let again = RbacObjects {
        cluster_roles: o.aggregated(),
        ..RbacObjects::default()
    };
    assert_eq!(again.aggregated(), o.aggregated());
}

#[test]
fn aggregated_roles_decide_through_bindings() {
    let mut o = RbacObjects::bootstrap();
    o.role_bindings.push(rb(
        "dev",
        "dev-edit",
        "ClusterRole",
        "edit",
        vec![subject("Group", "reader")],
    ));
    let dev = |a: ResourceAttributes| a.in_namespace("dev");
    // From system:aggregate-to-edit.
    allowed(o.authorize(&bob(), &dev(get("secrets"))));
    allowed(o.authorize(
        &bob(),
        &dev(ResourceAttributes::new("create", "", "pods").subresource("exec")),
    ));
    // From view, through edit.
    assert_eq!(
        allowed(o.authorize(&bob(), &dev(get("pods").subresource("log")))),
        r#"RBAC: allowed by RoleBinding "dev-edit/dev" of ClusterRole "edit" to Group "reader""#
    );
    // admin only.
    denied(o.authorize(
        &bob(),
        &dev(ResourceAttributes::new(
            "create",
            RBAC_GROUP,
            "rolebindings",
        )),
    ));
    // Nothing outside dev.
    denied(o.authorize(&bob(), &get("secrets").in_namespace("prod")));

    // A CRD's role labelled aggregate-to-view reaches view, edit and admin.
    let mut widgets = cluster_role(
        "widgets-view",
        vec![rule(&["example.com"], &["widgets"], &["get"])],
    );
    widgets.metadata.labels = Some(BTreeMap::from([(
        "rbac.authorization.k8s.io/aggregate-to-view".to_owned(),
        "true".to_owned(),
    )]));
    o.cluster_roles.push(widgets);
    allowed(o.authorize(
        &bob(),
        &dev(ResourceAttributes::new("get", "example.com", "widgets")),
    ));
    for name in ["view", "edit", "admin"] {
        assert!(
            aggregated_rules(&o, name).contains(&rule(&["example.com"], &["widgets"], &["get"])),
            "{name}"
        );
    }
}

fn labelled(name: &str, labels: &[(&str, &str)], rules: Vec<PolicyRule>) -> ClusterRole {
    let mut r = cluster_role(name, rules);
    r.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    r
}

fn aggregating(name: &str, selectors: Vec<LabelSelector>, own: Vec<PolicyRule>) -> ClusterRole {
    let mut r = cluster_role(name, own);
    r.aggregation_rule = Some(k8s_openapi::api::rbac::v1::AggregationRule {
        cluster_role_selectors: Some(selectors),
    });
    r
}

fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelector {
    LabelSelector {
        match_expressions: Some(vec![LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: (!values.is_empty()).then(|| strings(values)),
        }]),
        match_labels: None,
    }
}

#[test]
fn label_selector_operators() {
    let a = rule(&[""], &["a"], &["get"]);
    let b = rule(&[""], &["b"], &["get"]);
    let c = rule(&[""], &["c"], &["get"]);
    let base = vec![
        labelled("role-a", &[("tier", "gold")], vec![a.clone()]),
        labelled(
            "role-b",
            &[("tier", "silver"), ("team", "x")],
            vec![b.clone(), a.clone()],
        ),
        labelled("role-c", &[], vec![c.clone()]),
    ];
    let run = |selectors: Vec<LabelSelector>| {
        let mut roles = base.clone();
        roles.push(aggregating(
            "agg",
            selectors,
            vec![rule(&[""], &["own"], &["get"])],
        ));
        aggregated_rules(
            &RbacObjects {
                cluster_roles: roles,
                ..RbacObjects::default()
            },
            "agg",
        )
    };
    assert_eq!(
        run(vec![expr("tier", "In", &["gold", "silver"])]),
        vec![a.clone(), b.clone()]
    );
    // NotIn also selects roles without the label.
    assert_eq!(
        run(vec![expr("tier", "NotIn", &["gold"])]),
        vec![b.clone(), a.clone(), c.clone()]
    );
    assert_eq!(
        run(vec![expr("team", "Exists", &[])]),
        vec![b.clone(), a.clone()]
    );
    assert_eq!(
        run(vec![expr("team", "DoesNotExist", &[])]),
        vec![a.clone(), c.clone()]
    );
    // Selector order first, then name order; duplicates dropped; the role's own rules replaced.
    assert_eq!(
        run(vec![
            expr("team", "Exists", &[]),
            expr("tier", "In", &["gold"])
        ]),
        vec![b.clone(), a.clone()]
    );
    // An empty selector selects every role (but never the role itself).
    assert_eq!(
        run(vec![LabelSelector::default()]),
        vec![a.clone(), b.clone(), c.clone()]
    );
    assert_eq!(run(vec![]), Vec::<PolicyRule>::new());
    // An invalid selector makes the controller fail: the stored rules stay.
    assert_eq!(
        run(vec![expr("tier", "In", &[])]),
        vec![rule(&[""], &["own"], &["get"])]
    );
    assert_eq!(
        run(vec![expr("tier", "Exists", &["x"])]),
        vec![rule(&[""], &["own"], &["get"])]
    );
    assert_eq!(
        run(vec![expr("tier", "Gt", &["1"])]),
        vec![rule(&[""], &["own"], &["get"])]
    );
}

#[test]
fn rules_review_splits_and_scopes_rules() {
    let o = objects();
    let both = UserInfo::authenticated("bob", ["reader", "secret-readers"]);
    let review = o.rules_for(&both, "dev");
    assert!(!review.incomplete);
    assert_eq!(review.evaluation_error, None);
    let resources: Vec<(Vec<String>, Vec<String>, Vec<String>)> = review
        .resource_rules
        .iter()
        .map(|r| {
            (
                list(&r.api_groups).to_vec(),
                list(&r.resources).to_vec(),
                r.verbs.clone(),
            )
        })
        .collect();
    assert_eq!(
        resources,
        vec![
            (
                strings(&["", "apps"]),
                strings(&["*"]),
                strings(&["get", "list", "watch"])
            ),
            (
                strings(&[""]),
                strings(&["configmaps"]),
                strings(&["create", "update"])
            ),
            (strings(&[""]), strings(&["secrets"]), strings(&["get"])),
        ]
    );
    assert_eq!(
        review.non_resource_rules,
        vec![NonResourceRule {
            non_resource_urls: Some(strings(&["/metrics", "/logs/*"])),
            verbs: strings(&["get"])
        }]
    );
    // Without a namespace: ClusterRoleBindings only.
    assert_eq!(o.rules_for(&bob(), "").resource_rules.len(), 1);
    assert_eq!(o.rules_for(&bob(), "prod").resource_rules.len(), 1);
    let status = review.into_status();
    assert!(!status.incomplete);
    assert_eq!(status.resource_rules.len(), 3);
}

#[test]
fn rules_review_for_system_masters() {
    let admin = UserInfo::authenticated("admin", ["system:masters"]);
    let star = strings(&["*"]);
    let review = RbacObjects::default().rules_for(&admin, "default");
    assert_eq!(
        review.resource_rules,
        vec![ResourceRule {
            api_groups: Some(star.clone()),
            resources: Some(star.clone()),
            resource_names: None,
            verbs: star.clone()
        }]
    );
    assert_eq!(
        review.non_resource_rules,
        vec![NonResourceRule {
            non_resource_urls: Some(star.clone()),
            verbs: star.clone()
        }]
    );
    // On a bootstrapped cluster the `*` rules come from the cluster-admin binding, once, and the
    // rules every authenticated user has follow.
    let review = RbacObjects::bootstrap().rules_for(&admin, "default");
    assert_eq!(review.resource_rules.len(), 1 + 2);
    assert_eq!(review.resource_rules[0].verbs, star);
    assert_eq!(review.non_resource_rules.len(), 1 + 2);
    assert_eq!(review.non_resource_rules[0].non_resource_urls, Some(star));
}

#[test]
fn every_authenticated_user_may_review_itself() {
    let o = RbacObjects::bootstrap();
    let nobody = UserInfo::authenticated("nobody", Vec::<String>::new());
    for (group, resource) in [
        ("authentication.k8s.io", "selfsubjectreviews"),
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
    ] {
        let reason =
            allowed(o.authorize(&nobody, &ResourceAttributes::new("create", group, resource)));
        assert_eq!(
            reason,
            r#"RBAC: allowed by ClusterRoleBinding "system:basic-user" of ClusterRole "system:basic-user" to Group "system:authenticated""#
        );
    }
    denied(o.authorize(
        &nobody,
        &ResourceAttributes::new("create", "authorization.k8s.io", "subjectaccessreviews"),
    ));
    for path in [
        "/api",
        "/apis/apps/v1",
        "/version",
        "/openapi/v3",
        "/healthz",
    ] {
        allowed(o.authorize_non_resource(&nobody, &NonResourceAttributes::new("get", path)));
    }
    denied(o.authorize_non_resource(&nobody, &NonResourceAttributes::new("get", "/metrics")));
    // Anonymous requests only see the public info.
    let anonymous = UserInfo::new("system:anonymous", ["system:unauthenticated"]);
    assert_eq!(
        allowed(
            o.authorize_non_resource(&anonymous, &NonResourceAttributes::new("get", "/version"))
        ),
        r#"RBAC: allowed by ClusterRoleBinding "system:public-info-viewer" of ClusterRole "system:public-info-viewer" to Group "system:unauthenticated""#
    );
    denied(o.authorize_non_resource(&anonymous, &NonResourceAttributes::new("get", "/apis")));
}

#[test]
fn bindings_for_lists_matching_bindings() {
    let mut o = objects();
    o.role_bindings.push(rb(
        "dev",
        "dangling",
        "Role",
        "nope",
        vec![subject("Group", "reader")],
    ));
    let found: Vec<(BindingKind, String, Option<String>, String, bool)> = o
        .bindings_for(&bob())
        .into_iter()
        .map(|b| (b.kind, b.name, b.namespace, b.subject.name, b.role_found))
        .collect();
    assert_eq!(
        found,
        vec![
            (
                BindingKind::ClusterRoleBinding,
                "readers".into(),
                None,
                "reader".into(),
                true
            ),
            (
                BindingKind::ClusterRoleBinding,
                "metrics".into(),
                None,
                "bob".into(),
                true
            ),
            (
                BindingKind::RoleBinding,
                "cm".into(),
                Some("dev".into()),
                "bob".into(),
                true
            ),
            (
                BindingKind::RoleBinding,
                "dangling".into(),
                Some("dev".into()),
                "reader".into(),
                false
            ),
        ]
    );
    assert!(
        o.bindings_for(&UserInfo::new("eve", Vec::<String>::new()))
            .is_empty()
    );
}

#[test]
fn error_aggregation_wording() {
    assert_eq!(aggregate_errors(&[]), "");
    assert_eq!(aggregate_errors(&["a".into()]), "a");
    assert_eq!(aggregate_errors(&["a".into(), "a".into()]), "a");
    assert_eq!(
        aggregate_errors(&["a".into(), "b".into(), "a".into()]),
        "[a, b]"
    );
}
