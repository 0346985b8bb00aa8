use std::collections::BTreeMap;

use super::*;
use crate::exec::{ExecSource, ExecTool, Origin, Sourced};
use crate::report::{
    AwsAuthStatus, AwsSection, BindingsSection, ContextInfo, Diagnosis, KubeSection,
    MappingSection, NonResourceRow, PermissionsSection, TokenFacts,
};

const ARN: &str = "arn:aws:iam::123456789012:user/reader";

fn row(resource: &str, group: &str, verbs: &[(&str, Access)], names: &[&str]) -> ResourceRow {
    ResourceRow {
        resource: resource.to_owned(),
        group: group.to_owned(),
        verbs: verbs.iter().map(|(v, a)| ((*v).to_owned(), *a)).collect(),
        names: names.iter().map(|n| (*n).to_owned()).collect(),
        sources: BTreeMap::new(),
    }
}

fn binding(
    kind: &str,
    ns: Option<&str>,
    name: &str,
    role: &str,
    subject: &str,
    rules: &[&str],
) -> BindingView {
    BindingView {
        kind: kind.to_owned(),
        namespace: ns.map(str::to_owned),
        name: name.to_owned(),
        role: role.to_owned(),
        subject: subject.to_owned(),
        rules: rules.iter().map(|r| (*r).to_owned()).collect(),
        rules_note: None,
    }
}

/// `kubectl eks-whoami --all` for a mapped user bound to `view` cluster-wide and to a Role in
/// one namespace, who may not list RBAC objects: every section of the table.
fn reader_report() -> Report {
    let read = [
        ("get", Access::All),
        ("list", Access::All),
        ("watch", Access::All),
    ];
    Report {
            context: ContextInfo {
                name: "arn:aws:eks:us-east-1:123456789012:cluster/prod".to_owned(),
                auth: "exec".to_owned(),
                ..ContextInfo::default()
            },
            aws: AwsSection {
                exec: Some(ExecSource {
                    tool: ExecTool::KubectlEksToken,
                    command: "kubectl-eks_token".to_owned(),
                    args: vec![],
                    cluster_name: Some("prod".to_owned()),
                    region: Some(Sourced {
                        value: "us-east-1".to_owned(),
                        origin: Origin::Argument("--region".to_owned()),
                    }),
                    profile: Some(Sourced {
                        value: "reader".to_owned(),
                        origin: Origin::ExecEnv("AWS_PROFILE".to_owned()),
                    }),
                    role_arn: None,
                    session_name: None,
                    forward_session_name: false,
                    env_names: vec!["AWS_PROFILE".to_owned()],
                }),
                source: Some(AwsSource::ExecPlugin),
                arn: Some(ARN.to_owned()),
                account: Some("123456789012".to_owned()),
                user_id: Some("AIDAEXAMPLEREADER0001".to_owned()),
                canonical_arn: Some(ARN.to_owned()),
                access_key_id: Some("AKIAEXAMPLEREADER001".to_owned()),
                token: Some(TokenFacts {
                    region: "us-east-1".to_owned(),
                    signed_at: "2026-12-01T16:31:31Z".to_owned(),
                    expires_at: "2026-12-01T16:45:31Z".to_owned(),
                    cluster_name: Some("prod".to_owned()),
                    ..TokenFacts::default()
                }),
                ..AwsSection::default()
            },
            kubernetes: KubeSection {
                status: KubeStatus::Authenticated,
                username: Some("reader".to_owned()),
                uid: Some("aws-iam-authenticator:123456789012:AIDAEXAMPLEREADER0001".to_owned()),
                groups: vec!["readers".to_owned(), "system:authenticated".to_owned()],
                extra: BTreeMap::from([
                    ("accessKeyId".to_owned(), vec!["AKIAEXAMPLEREADER001".to_owned()]),
                    ("arn".to_owned(), vec![ARN.to_owned()]),
                ]),
                error: None,
            },
            mapping: MappingSection {
                aws_auth: AwsAuthStatus::Read,
                source: MappingKind::MapUsers,
                entry: Some(EntryView {
                    key: "mapUsers".to_owned(),
                    position: Some(2),
                    arn: Some(ARN.to_owned()),
                    username: Some("reader".to_owned()),
                    groups: vec!["readers".to_owned()],
                }),
                shadowed: vec![EntryView {
                    key: "mapUsers".to_owned(),
                    position: Some(1),
                    arn: Some(ARN.to_owned()),
                    username: Some("old-reader".to_owned()),
                    groups: vec!["nobody".to_owned()],
                }],
                username: Some("reader".to_owned()),
                groups: vec!["readers".to_owned()],
                agrees: Some(true),
                inferred: vec![],
                notes: vec!["the authenticator uses the last of several entries for one ARN: entry 1 is shadowed".to_owned()],
                access: None,
                overrides: vec![],
            },
            bindings: Some(BindingsSection {
                items: vec![
                    binding("ClusterRoleBinding", None, "readers-view", "ClusterRole/view", "Group readers", &[
                        "get,list,watch configmaps,endpoints,persistentvolumeclaims,pods,replicationcontrollers,services",
                        "get,list,watch daemonsets.apps,deployments.apps,replicasets.apps,statefulsets.apps",
                        "get,list,watch ingresses.networking.k8s.io,networkpolicies.networking.k8s.io",
                        "get,list,watch events.events.k8s.io",
                        "get,list,watch cronjobs.batch,jobs.batch",
                    ]),
                    binding("RoleBinding", Some("team-a"), "deployers", "Role/deployer", "User reader", &[
                        "get,list,patch,update deployments.apps,deployments.apps/scale",
                    ]),
                    binding("ClusterRoleBinding", None, "system:basic-user", "ClusterRole/system:basic-user", EVERYONE, &[
                        "create selfsubjectaccessreviews.authorization.k8s.io,selfsubjectrulesreviews.authorization.k8s.io",
                    ]),
                    binding("ClusterRoleBinding", None, "system:discovery", "ClusterRole/system:discovery", EVERYONE, &[
                        "get /api,/api/*,/apis,/apis/*,/healthz,/livez,/openapi,/openapi/*,/readyz,/version,/version/",
                    ]),
                ],
                complete: false,
                errors: vec!["list rolebindings.rbac.authorization.k8s.io in all namespaces: forbidden; only the bindings of namespace `team-a` were read".to_owned()],
            }),
            permissions: Some(PermissionsSection {
                scope: "cluster".to_owned(),
                namespace: None,
                method: "SelfSubjectRulesReview in namespace `default`, confirmed cluster-wide with SelfSubjectAccessReviews".to_owned(),
                incomplete: false,
                evaluation_error: None,
                resources: vec![
                    row("configmaps", "", &read, &[]),
                    row("pods", "", &read, &[]),
                    row("secrets", "", &[("get", Access::Named)], &["app-config"]),
                    row("deployments.apps", "apps", &read, &[]),
                    row("selfsubjectaccessreviews.authorization.k8s.io", "authorization.k8s.io", &[("create", Access::All)], &[]),
                    row("clusterroles.rbac.authorization.k8s.io", "rbac.authorization.k8s.io", &[("bind", Access::Named), ("escalate", Access::Named)], &["view"]),
                ],
                non_resource: vec![NonResourceRow {
                    urls: ["/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*", "/readyz", "/version", "/version/"].map(str::to_owned).to_vec(),
                    verbs: vec!["get".to_owned()],
                }],
                notes: vec![],
            }),
            diagnosis: Some(Diagnosis {
                kind: DiagnosisKind::Forbidden,
                http_status: Some(403),
                summary: "Some of what eks-whoami asked was refused (403 Forbidden): the bindings may be incomplete.".to_owned(),
                causes: vec![],
                missing: vec!["list rolebindings.rbac.authorization.k8s.io in all namespaces".to_owned()],
                grant_command: None,
                access_policies: vec![],
            }),
        }
}

#[test]
fn table_at_80_columns() {
    insta::assert_snapshot!(tables(&reader_report(), false, Some(80)));
}

#[test]
fn table_at_120_columns() {
    insta::assert_snapshot!(tables(&reader_report(), false, Some(120)));
}

#[test]
fn no_line_is_wider_than_the_terminal_where_a_break_exists() {
    for width in [80, 100, 120] {
        let text = tables(&reader_report(), false, Some(width));
        for line in text.lines() {
            assert!(line.chars().count() <= width, "{width}: {line}");
        }
    }
}

#[test]
fn colour_marks_the_matrix_only() {
    let text = tables(&reader_report(), true, Some(120));
    assert!(text.contains("\x1b[32m✓\x1b[0m"), "{text}");
    assert!(text.contains("\x1b[33m~\x1b[0m"), "{text}");
    let plain = tables(&reader_report(), false, Some(120));
    assert!(!plain.contains('\x1b'));
}

#[test]
fn rules_read_with_short_groups() {
    assert_eq!(
        short_rule(
            "create selfsubjectaccessreviews.authorization.k8s.io,selfsubjectrulesreviews.authorization.k8s.io"
        ),
        "create selfsubjectaccessreviews.authorization,selfsubjectrulesreviews.authorization"
    );
    assert_eq!(short_rule("get /healthz,/version"), "get /healthz,/version");
    assert_eq!(
        short_rule("update deployments.apps/scale [web]"),
        "update deployments.apps/scale [web]"
    );
    assert_eq!(short_rule("* *.*"), "* *.*");
}

#[test]
fn short_verbs_are_one_letter_but_deletecollection() {
    let short: Vec<String> = STANDARD_VERBS.iter().map(|v| short_verb(v)).collect();
    assert_eq!(short, ["G", "L", "W", "C", "U", "P", "D", "DC"]);
}
