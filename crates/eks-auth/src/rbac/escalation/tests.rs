use k8s_openapi::api::rbac::v1::AggregationRule;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::super::fixtures::*;
use super::*;
use crate::rbac::preset;

/// bob reads "" and apps cluster-wide, edits configmaps in dev, may write RBAC objects.
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
                "rbac-writer",
                vec![rule(
                    &["rbac.authorization.k8s.io"],
                    &[
                        "clusterroles",
                        "clusterrolebindings",
                        "roles",
                        "rolebindings",
                    ],
                    &["create", "update"],
                )],
            ),
        ],
        cluster_role_bindings: vec![
            crb("readers", "reader", vec![subject("Group", "reader")]),
            crb("rbac-writers", "rbac-writer", vec![subject("User", "bob")]),
        ],
        role_bindings: vec![rb(
            "dev",
            "cm",
            "ClusterRole",
            "cm-editor",
            vec![subject("User", "bob")],
        )],
        ..RbacObjects::default()
    }
}

#[test]
fn escalation_check_returns_the_missing_rules() {
    let o = objects();
    assert_eq!(
        o.escalation_check(&bob(), "", &[rule(&[""], &["pods"], &["get", "watch"])]),
        Ok(())
    );
    let wanted = vec![
        rule(&[""], &["configmaps"], &["get", "create", "update"]),
        rule(&["batch"], &["jobs"], &["list"]),
    ];
    assert_eq!(
        o.escalation_check(&bob(), "", &wanted),
        Err(vec![
            rule(&[""], &["configmaps"], &["create", "update"]),
            rule(&["batch"], &["jobs"], &["list"]),
        ])
    );
    // In dev bob holds the configmap writes through a RoleBinding.
    assert_eq!(
        o.escalation_check(&bob(), "dev", &wanted),
        Err(vec![rule(&["batch"], &["jobs"], &["list"])])
    );
    let admin = UserInfo::authenticated("admin", ["system:masters"]);
    assert_eq!(o.escalation_check(&admin, "", &wanted), Ok(()));
}

#[test]
fn cluster_role_write_is_refused_with_the_servers_message() {
    let o = objects();
    let reader = preset("cluster-reader")
        .unwrap()
        .objects("reader", &[])
        .unwrap();
    let role = &reader.cluster_roles[0];
    let err = o.check_cluster_role_write(&bob(), role, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "clusterroles.rbac.authorization.k8s.io \"eks-grant:cluster-reader\" is forbidden: user \"bob\" \
             (groups=[\"reader\" \"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n\
             {APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"get\" \"list\" \"watch\"]}\n\
             {APIGroups:[\"extensions\"], Resources:[\"*\"], Verbs:[\"get\" \"list\" \"watch\"]}"
    );
    assert_eq!((err.code(), err.reason()), (403, "Forbidden"));
    assert_eq!(err.missing().len(), 2);

    // `escalate` on clusterroles lifts the check.
    let mut o = o;
    o.cluster_roles.push(cluster_role(
        "escalator",
        vec![rule(
            &["rbac.authorization.k8s.io"],
            &["clusterroles"],
            &["escalate"],
        )],
    ));
    o.cluster_role_bindings
        .push(crb("escalators", "escalator", vec![subject("User", "bob")]));
    assert_eq!(o.check_cluster_role_write(&bob(), role, None), Ok(()));
}

#[test]
fn escalate_on_a_name_only_covers_updates() {
    let mut o = objects();
    o.cluster_roles.push(cluster_role(
        "escalate-one",
        vec![PolicyRule {
            resource_names: Some(strings(&["special"])),
            ..rule(
                &["rbac.authorization.k8s.io"],
                &["clusterroles"],
                &["escalate"],
            )
        }],
    ));
    o.cluster_role_bindings.push(crb(
        "escalate-one",
        "escalate-one",
        vec![subject("User", "bob")],
    ));
    let special = cluster_role("special", vec![rule(&["*"], &["*"], &["*"])]);
    // A create request has no name in its URL, so resourceNames never match it.
    assert!(o.check_cluster_role_write(&bob(), &special, None).is_err());
    assert_eq!(
        o.check_cluster_role_write(&bob(), &special, Some(&special)),
        Ok(())
    );
}

#[test]
fn aggregation_rule_needs_full_authority() {
    let mut o = objects();
    o.cluster_roles.push(cluster_role(
        "almost",
        vec![rule(
            &["*"],
            &["*"],
            &[
                "get", "list", "watch", "create", "update", "patch", "delete",
            ],
        )],
    ));
    o.cluster_role_bindings
        .push(crb("almost", "almost", vec![subject("User", "carol")]));
    let carol = UserInfo::authenticated("carol", Vec::<String>::new());
    let mut agg = cluster_role("agg", vec![]);
    agg.aggregation_rule = Some(AggregationRule {
        cluster_role_selectors: Some(vec![LabelSelector::default()]),
    });
    let err = o.check_cluster_role_write(&carol, &agg, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule"#
    );
    // Dropping the rule from an aggregated role is checked the same way.
    let plain = cluster_role("agg", vec![]);
    assert!(matches!(
        o.check_cluster_role_write(&carol, &plain, Some(&agg)),
        Err(EscalationError::AggregationRule { .. })
    ));
    // As cluster-admin (through RBAC, not system:masters) carol may.
    o.cluster_role_bindings.push(crb(
        "carol-admin",
        "cluster-admin",
        vec![subject("User", "carol")],
    ));
    o.cluster_roles.push(cluster_role(
        "cluster-admin",
        vec![rule(&["*"], &["*"], &["*"]), url_rule(&["*"], &["*"])],
    ));
    assert_eq!(o.check_cluster_role_write(&carol, &agg, None), Ok(()));
}

#[test]
fn role_write_is_checked_in_its_namespace() {
    let o = objects();
    let cm = role("dev", "cm", vec![rule(&[""], &["configmaps"], &["update"])]);
    assert_eq!(o.check_role_write(&bob(), &cm, None), Ok(()));
    let prod = role(
        "prod",
        "cm",
        vec![rule(&[""], &["configmaps"], &["update"])],
    );
    let err = o.check_role_write(&bob(), &prod, None).unwrap_err();
    assert_eq!(
        err.to_string(),
        "roles.rbac.authorization.k8s.io \"cm\" is forbidden: user \"bob\" (groups=[\"reader\" \"system:authenticated\"]) \
             is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"configmaps\"], Verbs:[\"update\"]}"
    );
}

#[test]
fn bindings_need_the_rules_or_bind() {
    let mut o = RbacObjects::bootstrap();
    o.role_bindings.push(rb(
        "dev",
        "dana-admin",
        "ClusterRole",
        "admin",
        vec![subject("User", "dana")],
    ));
    let dana = UserInfo::authenticated("dana", Vec::<String>::new());
    // A namespace admin may hand out view in its namespace: admin holds all of view there.
    let view_in_dev = rb(
        "dev",
        "v",
        "ClusterRole",
        "view",
        vec![subject("Group", "devs")],
    );
    assert_eq!(o.check_role_binding_write(&dana, &view_in_dev), Ok(()));
    // Not cluster-admin, though.
    let admin_in_dev = rb(
        "dev",
        "ca",
        "ClusterRole",
        "cluster-admin",
        vec![subject("Group", "devs")],
    );
    let err = o
        .check_role_binding_write(&dana, &admin_in_dev)
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "rolebindings.rbac.authorization.k8s.io \"ca\" is forbidden: user \"dana\" (groups=[\"system:authenticated\"]) \
             is attempting to grant RBAC permissions not currently held:\n\
             {APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}\n{NonResourceURLs:[\"*\"], Verbs:[\"*\"]}"
    );
    // And not view cluster-wide.
    let view_everywhere = crb("v", "view", vec![subject("Group", "devs")]);
    assert!(matches!(
        o.check_cluster_role_binding_write(&dana, &view_everywhere),
        Err(EscalationError::NotHeld(_))
    ));

    // `bind` on the ClusterRole `view` is enough, without holding it.
    o.cluster_roles.push(cluster_role(
        "view-binder",
        vec![PolicyRule {
            resource_names: Some(strings(&["view"])),
            ..rule(&["rbac.authorization.k8s.io"], &["clusterroles"], &["bind"])
        }],
    ));
    o.cluster_role_bindings.push(crb(
        "view-binder",
        "view-binder",
        vec![subject("User", "dana")],
    ));
    assert_eq!(
        o.check_cluster_role_binding_write(&dana, &view_everywhere),
        Ok(())
    );
    let edit_everywhere = crb("e", "edit", vec![subject("Group", "devs")]);
    assert!(
        o.check_cluster_role_binding_write(&dana, &edit_everywhere)
            .is_err()
    );
}

#[test]
fn binding_a_missing_role_is_not_found() {
    let o = objects();
    let err = o
        .check_cluster_role_binding_write(&bob(), &crb("x", "nope", vec![subject("User", "bob")]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"clusterroles.rbac.authorization.k8s.io "nope" not found"#
    );
    assert_eq!((err.code(), err.reason()), (404, "NotFound"));
    let err = o
        .check_role_binding_write(&bob(), &rb("dev", "x", "Role", "nope", vec![]))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        r#"roles.rbac.authorization.k8s.io "nope" not found"#
    );
    // system:masters skips every check.
    let admin = UserInfo::authenticated("admin", ["system:masters"]);
    assert_eq!(
        o.check_cluster_role_binding_write(&admin, &crb("x", "nope", vec![])),
        Ok(())
    );
}

#[test]
fn resolution_errors_are_appended() {
    let mut o = objects();
    o.cluster_role_bindings
        .push(crb("gone", "gone", vec![subject("User", "bob")]));
    let err = o
        .check_role_write(
            &bob(),
            &role("prod", "x", vec![rule(&[""], &["pods"], &["delete"])]),
            None,
        )
        .unwrap_err();
    assert!(
        err.to_string().ends_with(
            "{APIGroups:[\"\"], Resources:[\"pods\"], Verbs:[\"delete\"]}; resolution errors: \
                 [clusterrole.rbac.authorization.k8s.io \"gone\" not found]"
        ),
        "{err}"
    );
}

#[test]
fn check_grant_follows_the_order_of_writes() {
    let o = RbacObjects::bootstrap();
    let grant = preset("cluster-reader")
        .unwrap()
        .objects("reader", &[])
        .unwrap();

    // system:masters may do it all.
    let admin = UserInfo::authenticated("kubernetes-admin", ["system:masters"]);
    assert_eq!(o.check_grant(&admin, &grant), vec![]);

    // cluster-admin through RBAC also holds every rule; the binding is checked against the new
    // ClusterRole, which does not exist yet.
    let mut o2 = o.clone();
    o2.cluster_role_bindings
        .push(crb("root", "cluster-admin", vec![subject("User", "root")]));
    let root = UserInfo::authenticated("root", Vec::<String>::new());
    assert_eq!(o2.check_grant(&root, &grant), vec![]);

    // A user who may not even create ClusterRoles.
    let bob = UserInfo::authenticated("bob", Vec::<String>::new());
    let refusals: Vec<String> = o
        .check_grant(&bob, &grant)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        refusals,
        vec![
            r#"clusterroles.rbac.authorization.k8s.io is forbidden: User "bob" cannot create resource "clusterroles" in API group "rbac.authorization.k8s.io" at the cluster scope"#,
            r#"clusterrolebindings.rbac.authorization.k8s.io is forbidden: User "bob" cannot create resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope"#,
        ]
    );

    // A user who may write RBAC objects but holds none of the rules: both writes escalate.
    let o3 = objects();
    let refusals = o3.check_grant(
        &UserInfo::authenticated("bob", Vec::<String>::new()),
        &grant,
    );
    assert_eq!(refusals.len(), 2);
    assert!(refusals.iter().all(|r| r.missing()
        == [
            rule(&[""], &["*"], &["get", "list", "watch"]),
            rule(&["*"], &["*"], &["get", "list", "watch"]),
            rule(&["apps"], &["*"], &["get", "list", "watch"]),
            rule(&["extensions"], &["*"], &["get", "list", "watch"])
        ]));

    // Updating an existing binding asks for `update` on it by name.
    let mut o4 = o.clone();
    o4.cluster_role_bindings
        .extend(grant.cluster_role_bindings.clone());
    let refusals: Vec<String> = o4
        .check_grant(
            &bob,
            &RbacObjects {
                cluster_role_bindings: grant.cluster_role_bindings.clone(),
                ..RbacObjects::default()
            },
        )
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        refusals,
        vec![
            r#"clusterrolebindings.rbac.authorization.k8s.io "eks-grant:reader:cluster-reader" is forbidden: User "bob" cannot update resource "clusterrolebindings" in API group "rbac.authorization.k8s.io" at the cluster scope"#
        ]
    );
}
