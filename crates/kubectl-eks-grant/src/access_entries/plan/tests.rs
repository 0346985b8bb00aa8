//! The pure planning of access-entry `add` and `revoke`.

use super::*;
use crate::access_entries::calls::apply_calls;

const ROLE: &str = "arn:aws:iam::123456789012:role/team/dev";

fn add_args(arn: &str) -> AddArgs {
    AddArgs {
        arn: arn.to_owned(),
        username: None,
        groups: Vec::new(),
        preset: None,
        namespaces: Vec::new(),
        dry_run: false,
        force: false,
        policies: Vec::new(),
    }
}

fn grant(args: AddArgs) -> Result<EntryGrant, EntryRequestError> {
    let policies = args.policies.clone();
    EntryGrant::from_args(&args, &policies, |_, _| None)
}

fn entry(arn: &str) -> AccessEntry {
    AccessEntry::standard(arn.parse().unwrap())
}

#[test]
fn system_groups_are_refused_before_anything() {
    let mut a = add_args(ROLE);
    a.groups = vec!["system:masters".into()];
    let err = grant(a).unwrap_err().to_string();
    assert!(err.contains("hint: use `--preset cluster-admin`"), "{err}");
    let mut a = add_args(ROLE);
    a.groups = vec!["ops".into(), "system:nodes".into()];
    assert!(matches!(
        grant(a),
        Err(EntryRequestError::SystemGroup { group }) if group == "system:nodes"
    ));
}

#[test]
fn presets_become_policies_and_namespaces_scope_them() {
    for (preset, policy) in [
        ("cluster-admin", "AmazonEKSClusterAdminPolicy"),
        ("admin", "AmazonEKSAdminPolicy"),
        ("edit", "AmazonEKSEditPolicy"),
        ("view", "AmazonEKSViewPolicy"),
        ("cluster-reader", "AmazonEKSAdminViewPolicy"),
    ] {
        let mut a = add_args(ROLE);
        a.preset = Some(preset.into());
        let g = grant(a).unwrap();
        assert_eq!(
            g.policies,
            [format!("arn:aws:eks::aws:cluster-access-policy/{policy}")]
        );
        assert_eq!(g.scope, AccessScope::Cluster);
    }
    let mut a = add_args(ROLE);
    a.preset = Some("view".into());
    a.policies = vec!["AmazonEKSSecretReaderPolicy".into(), "view".into()];
    a.namespaces = vec!["b".into(), "a".into(), "b".into()];
    let g = grant(a).unwrap();
    assert_eq!(g.policies.len(), 2, "view named twice is associated once");
    assert_eq!(
        g.scope,
        AccessScope::Namespaces(vec!["a".into(), "b".into()])
    );
    let mut a = add_args(ROLE);
    a.policies = vec!["AmazonEKSNoSuchPolicy".into()];
    assert!(matches!(grant(a), Err(EntryRequestError::UnknownPolicy(_))));

    let mut a = add_args(ROLE);
    a.namespaces = vec!["a".into()];
    assert!(matches!(
        grant(a),
        Err(EntryRequestError::NamespaceWithoutPolicy)
    ));
}

#[test]
fn a_preset_without_an_access_policy_becomes_groups_and_rbac() {
    let mut a = add_args(ROLE);
    a.preset = Some("cluster-reader-no-secrets".into());
    let g = grant(a).unwrap();
    assert_eq!(g.rbac_preset.as_deref(), Some("cluster-reader-no-secrets"));
    assert_eq!(g.policies, Vec::<String>::new());
    // Without --group, the preset's own group: everyone in it has exactly this grant.
    assert_eq!(g.groups, ["eks-grant:cluster-reader-no-secrets"]);
    assert_eq!(
        plan_add(None, ROLE, &g).unwrap(),
        [Call::Create {
            principal: ROLE.into(),
            username: None,
            groups: vec!["eks-grant:cluster-reader-no-secrets".into()],
        }]
    );
    let mut a = add_args(ROLE);
    a.preset = Some("cluster-reader-no-secrets".into());
    a.groups = vec!["auditors".into()];
    assert_eq!(grant(a).unwrap().groups, ["auditors"]);
    // A cluster-wide preset refuses --namespace before anything is read.
    let mut a = add_args(ROLE);
    a.preset = Some("cluster-reader-no-secrets".into());
    a.namespaces = vec!["team-a".into()];
    let err = grant(a).unwrap_err().to_string();
    assert!(err.contains("--preset view --namespace"), "{err}");
    let mut a = add_args(ROLE);
    a.preset = Some("no-such-preset".into());
    assert!(matches!(grant(a), Err(EntryRequestError::UnknownPreset(_))));
}

#[test]
fn assumed_roles_need_iam_for_the_path() {
    let p = Principal::parse("arn:aws:sts::123456789012:assumed-role/dev/alice").unwrap();
    assert_eq!(p.iam.to_string(), "arn:aws:iam::123456789012:role/dev");
    assert!(p.needs_role_lookup());
    assert!(!Principal::parse(ROLE).unwrap().needs_role_lookup());
    assert!(
        !Principal::parse("arn:aws:iam::123456789012:user/bob")
            .unwrap()
            .needs_role_lookup()
    );
}

#[test]
fn add_creates_then_is_idempotent_and_never_narrows() {
    let mut a = add_args(ROLE);
    a.preset = Some("view".into());
    a.groups = vec!["devs".into()];
    a.namespaces = vec!["team-a".into()];
    let g = grant(a).unwrap();
    let calls = plan_add(None, ROLE, &g).unwrap();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        calls[1].to_cli("demo"),
        "aws eks associate-access-policy --cluster-name demo --principal-arn arn:aws:iam::123456789012:role/team/dev --policy-arn arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy --access-scope type=namespace,namespaces=team-a"
    );
    let after = apply_calls(&[], &calls);
    assert_eq!(plan_add(after.first(), ROLE, &g).unwrap(), []);
    // Another namespace widens the scope; cluster scope is never narrowed.
    let mut a = add_args(ROLE);
    a.preset = Some("view".into());
    a.namespaces = vec!["team-b".into()];
    let calls = plan_add(after.first(), ROLE, &grant(a).unwrap()).unwrap();
    assert_eq!(
        calls,
        [Call::Associate {
            principal: ROLE.into(),
            policy_arn: "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy".into(),
            scope: AccessScope::Namespaces(vec!["team-a".into(), "team-b".into()]),
        }]
    );
    assert_eq!(
        widened_scope(
            &AccessScope::Cluster,
            &AccessScope::Namespaces(vec!["x".into()])
        ),
        None
    );
    // Groups are added to, never replaced.
    let mut a = add_args(ROLE);
    a.groups = vec!["ops".into()];
    let calls = plan_add(after.first(), ROLE, &grant(a).unwrap()).unwrap();
    assert_eq!(
        calls,
        [Call::Update {
            principal: ROLE.into(),
            username: None,
            groups: vec!["devs".into(), "ops".into()],
        }]
    );
}

#[test]
fn node_entries_take_no_policies() {
    let mut node = entry("arn:aws:iam::123456789012:role/node");
    node.entry_type = eks_auth::access::AccessEntryType::Ec2Linux;
    let mut a = add_args("arn:aws:iam::123456789012:role/node");
    a.preset = Some("view".into());
    assert!(matches!(
        plan_add(
            Some(&node),
            "arn:aws:iam::123456789012:role/node",
            &grant(a).unwrap()
        ),
        Err(PlanError::NotStandard { .. })
    ));
}
