use super::*;
use crate::exec::{Ambient, ExecStanza, parse};

fn identity(arn: &str, account: &str, user_id: &str) -> Identity {
    Identity {
        arn: arn.parse().unwrap(),
        account: account.to_owned(),
        user_id: user_id.to_owned(),
        access_key_id: "AKIAEXAMPLE".to_owned(),
    }
}

fn exec(args: &[&str], ambient_profile: Option<&str>) -> ExecSource {
    parse(
        &ExecStanza {
            command: "kubectl-eks_token".to_owned(),
            args: args.iter().map(|a| (*a).to_owned()).collect(),
            env: Vec::new(),
        },
        &Ambient {
            aws_profile: ambient_profile.map(str::to_owned),
            ..Ambient::default()
        },
    )
}

fn verdicts(d: &Diagnosis) -> Vec<(&str, Verdict)> {
    d.causes
        .iter()
        .map(|c| (c.id.as_str(), c.verdict))
        .collect()
}

/// The 401 diagnosis of `id`, whose exec stanza names cluster `exec_cluster`, on the kubeconfig
/// cluster `cluster_arn`, with no token or AWS error known.
fn unauthorized_401(id: &Identity, exec_cluster: &str, cluster_arn: &str) -> Diagnosis {
    let src = exec(&["--cluster-name", exec_cluster], None);
    let cluster = ClusterArn::parse(cluster_arn).unwrap();
    unauthorized(&Facts {
        exec: Some(&src),
        cluster_arn: Some(&cluster),
        identity: Some(id),
        token: None,
        aws_error: None,
        http_401: true,
    })
}

#[test]
fn unmapped_user_gets_the_grant_line() {
    let id = identity(
        "arn:aws:iam::123456789012:user/bob",
        "123456789012",
        "AIDAX",
    );
    let d = unauthorized_401(
        &id,
        "testbed",
        "arn:aws:eks:us-east-1:123456789012:cluster/testbed",
    );
    assert_eq!(d.kind, DiagnosisKind::Unauthorized);
    assert_eq!(
        d.summary,
        "The API server refused the token (401 Unauthorized): EKS found no mapping for `arn:aws:iam::123456789012:user/bob`."
    );
    assert_eq!(
        verdicts(&d),
        vec![
            ("not-mapped", Verdict::Likely),
            ("role-path", Verdict::RuledOut),
            ("other-account", Verdict::RuledOut),
            ("other-profile", Verdict::Possible),
            ("expired-credentials", Verdict::RuledOut),
        ]
    );
    assert_eq!(
        d.grant_command.as_deref(),
        Some(
            "kubectl eks-grant add arn:aws:iam::123456789012:user/bob --username bob --group eks-grant:cluster-reader --preset cluster-reader"
        )
    );
}

#[test]
fn role_with_a_path_is_likely_and_grant_names_the_role_without_it() {
    let id = identity(
        "arn:aws:sts::123456789012:assumed-role/deploy/EKSGetTokenAuth",
        "123456789012",
        "AROAX:EKSGetTokenAuth",
    );
    let src = exec(
        &[
            "--cluster-name",
            "testbed",
            "--role-arn",
            "arn:aws:iam::123456789012:role/team/deploy",
        ],
        Some("ops"),
    );
    let d = unauthorized(&Facts {
        exec: Some(&src),
        cluster_arn: None,
        identity: Some(&id),
        token: None,
        aws_error: None,
        http_401: true,
    });
    assert_eq!(d.causes[1].verdict, Verdict::Likely);
    assert_eq!(
        d.causes[1].detail,
        "you assume `arn:aws:iam::123456789012:role/team/deploy`, which has the path `/team/`; EKS drops the path and matches `arn:aws:iam::123456789012:role/deploy`, so an aws-auth entry written as `arn:aws:iam::123456789012:role/team/deploy` never matches: it must name `arn:aws:iam::123456789012:role/deploy`"
    );
    assert_eq!(d.causes[2].verdict, Verdict::Possible);
    assert!(d.causes[3].detail.starts_with(
            "the kubeconfig names no profile, so the plugin used profile `ops` from your environment's `AWS_PROFILE`"
        ));
    assert_eq!(
        d.grant_command.as_deref(),
        Some(
            "kubectl eks-grant add arn:aws:iam::123456789012:role/deploy --username 'deploy:{{SessionName}}' --group eks-grant:cluster-reader --preset cluster-reader"
        )
    );
}

#[test]
fn other_account_and_other_cluster() {
    let id = identity(
        "arn:aws:iam::111122223333:user/bob",
        "111122223333",
        "AIDAX",
    );
    let d = unauthorized_401(
        &id,
        "staging",
        "arn:aws:eks:us-east-1:123456789012:cluster/prod",
    );
    assert_eq!(d.causes[2].verdict, Verdict::Likely);
    assert_eq!(d.causes[5].id, "other-cluster");
    assert_eq!(d.causes[5].verdict, Verdict::Likely);
}

#[test]
fn expired_sso_session_without_a_token() {
    let src = exec(&["--cluster-name", "c", "--profile", "dev"], None);
    let d = unauthorized(&Facts {
        exec: Some(&src),
        cluster_arn: None,
        identity: None,
        token: None,
        aws_error: Some("the AWS SSO session for profile `dev` has expired or was never started"),
        http_401: false,
    });
    assert_eq!(d.kind, DiagnosisKind::NoCredentials);
    assert_eq!(d.grant_command, None);
    assert_eq!(d.causes[4].verdict, Verdict::Likely);
    assert_eq!(
        d.causes[4].detail,
        "the AWS SSO session has expired: run `aws sso login --profile dev`"
    );
}

#[test]
fn sts_refusal_is_expired_credentials() {
    let token = TokenFacts {
        sts_error: Some(
            "ExpiredToken: The security token included in the request is expired".to_owned(),
        ),
        ..TokenFacts::default()
    };
    let d = unauthorized(&Facts {
        exec: None,
        cluster_arn: None,
        identity: None,
        token: Some(&token),
        aws_error: None,
        http_401: true,
    });
    assert_eq!(d.causes[0].verdict, Verdict::Unknown);
    assert_eq!(d.causes[4].verdict, Verdict::Likely);
    assert!(d.summary.contains("STS did not confirm it: ExpiredToken"));
}

#[test]
fn classify_texts() {
    assert_eq!(
        classify("Error when retrieving token from sso: Token has expired and refresh failed"),
        CredentialProblem::SsoExpired
    );
    assert_eq!(
        classify(
            "Unable to locate credentials. You can configure credentials by running \"aws configure\"."
        ),
        CredentialProblem::Missing
    );
    assert_eq!(classify("ExpiredToken"), CredentialProblem::Expired);
    assert_eq!(classify("connection refused"), CredentialProblem::Other);
    assert_eq!(classify(""), CredentialProblem::None);
}

#[test]
fn forbidden_lists_what_is_missing() {
    let d = forbidden(
        "dev:alice",
        &["reader".to_owned(), "system:authenticated".to_owned()],
        None,
        &[
            Refusal {
                verb: "get".into(),
                group: "".into(),
                resource: "configmaps".into(),
                name: Some("aws-auth".into()),
                namespace: Some("kube-system".into()),
                all_namespaces: false,
            },
            Refusal {
                verb: "list".into(),
                group: "rbac.authorization.k8s.io".into(),
                resource: "clusterrolebindings".into(),
                name: None,
                namespace: None,
                all_namespaces: false,
            },
        ],
    );
    assert_eq!(
        d.missing,
        vec![
            "get configmaps `aws-auth` in namespace `kube-system`".to_owned(),
            "list clusterrolebindings.rbac.authorization.k8s.io at cluster scope".to_owned(),
        ]
    );
    assert!(d.summary.starts_with(
        "You are `dev:alice` in groups `reader`, `system:authenticated`; RBAC refused 2"
    ));
}

#[test]
fn shell_words() {
    assert_eq!(shell_word("arn:aws:iam::1:role/x"), "arn:aws:iam::1:role/x");
    assert_eq!(shell_word("a:{{SessionName}}"), "'a:{{SessionName}}'");
    assert_eq!(shell_word("it's"), "'it'\\''s'");
}
