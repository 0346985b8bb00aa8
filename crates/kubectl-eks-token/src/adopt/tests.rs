use super::plan::{install_hint_lines, scalar};
use super::translate::{tool_of, translate_aws};
use super::*;
use crate::kubeconfig;

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_owned()).collect()
}

/// What `aws eks update-kubeconfig` (awscli 1.45) writes for a static-key context and a
/// `--role-arn ... --user-alias role-user` context, plus a comment and a foreign user.
const AWS_WRITTEN: &str = "\
apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0t
    server: https://127.0.0.1:46179
  name: arn:aws:eks:us-east-1:123456789012:cluster/testbed
contexts:
- context:
    cluster: arn:aws:eks:us-east-1:123456789012:cluster/testbed
    user: arn:aws:eks:us-east-1:123456789012:cluster/testbed
  name: static
- context:
    cluster: arn:aws:eks:us-east-1:123456789012:cluster/testbed
    user: role-user
  name: role
- context: {cluster: kind, user: kind}
  name: kind
current-context: role
kind: Config
preferences: {}
users:
# written by aws eks update-kubeconfig
- name: arn:aws:eks:us-east-1:123456789012:cluster/testbed
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - us-east-1
      - eks
      - get-token
      - --cluster-name
      - testbed
      - --output
      - json
      command: aws
      env:
      - name: AWS_PROFILE
        value: dev
- name: role-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      args:
      - --region
      - us-east-1
      - eks
      - get-token
      - --cluster-name
      - testbed
      - --output
      - json
      - --role
      - arn:aws:iam::123456789012:role/foo
      command: aws
- name: kind
  user:
    token: abc   # a static token
";

#[test]
fn aws_cli_stanzas_move_with_the_same_identity() {
    let plan = plan(AWS_WRITTEN, &Selection::All).unwrap();
    assert_eq!(plan.contexts_moved(), 2);
    assert_eq!(plan.skipped, []);
    assert_eq!(
        plan.moved[0].identity.args(),
        ["--cluster-name", "testbed", "--region", "us-east-1"]
    );
    assert_eq!(plan.moved[0].contexts, ["static"]);
    assert_eq!(
        plan.moved[1].identity.args(),
        [
            "--cluster-name",
            "testbed",
            "--region",
            "us-east-1",
            "--role-arn",
            "arn:aws:iam::123456789012:role/foo"
        ]
    );
    let hint = install_hint_lines("      ");
    let expected = AWS_WRITTEN
        .replacen(
            "      - --region
      - us-east-1
      - eks
      - get-token
      - --cluster-name
      - testbed
      - --output
      - json
      command: aws
      env:
      - name: AWS_PROFILE
        value: dev
",
            &format!(
                "      - --cluster-name
      - testbed
      - --region
      - us-east-1
      command: kubectl-eks_token
      env:
      - name: AWS_PROFILE
        value: dev
{hint}"
            ),
            1,
        )
        .replacen(
            "      - --region
      - us-east-1
      - eks
      - get-token
      - --cluster-name
      - testbed
      - --output
      - json
      - --role
      - arn:aws:iam::123456789012:role/foo
      command: aws
",
            &format!(
                "      - --cluster-name
      - testbed
      - --region
      - us-east-1
      - --role-arn
      - arn:aws:iam::123456789012:role/foo
      command: kubectl-eks_token
{hint}"
            ),
            1,
        );
    assert_eq!(plan.text, expected);
    // The result is a kubeconfig whose exec stanza kubectl reads as intended.
    let doc: serde_yaml::Value = serde_yaml::from_str(&plan.text).unwrap();
    assert_eq!(
        doc["users"][0]["user"]["exec"]["installHint"].as_str(),
        Some(kubeconfig::INSTALL_HINT)
    );
    // A second run changes nothing.
    let again = super::plan(&plan.text, &Selection::All).unwrap();
    assert_eq!(again.text, plan.text);
    assert_eq!(again.contexts_moved(), 0);
    assert_eq!(again.already.len(), 2);
}

#[test]
fn only_the_selected_contexts_move() {
    let plan = plan(AWS_WRITTEN, &Selection::Contexts(v(&["static"]))).unwrap();
    assert_eq!(plan.contexts_moved(), 1);
    assert_eq!(plan.moved[0].contexts, ["static"]);
    assert!(plan.text.contains("      - --role\n"));
    let current = super::plan(AWS_WRITTEN, &Selection::Current).unwrap();
    assert_eq!(current.moved.len(), 1);
    assert_eq!(current.moved[0].user, "role-user");
    let err = super::plan(AWS_WRITTEN, &Selection::Contexts(v(&["nope"]))).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "no context `nope` in the kubeconfig\n\nhint: its contexts are: static, role, kind"
    );
    let kind = super::plan(AWS_WRITTEN, &Selection::Contexts(v(&["kind"]))).unwrap();
    assert_eq!(kind.text, AWS_WRITTEN);
    assert_eq!(kind.skipped[0].reason, "it has no exec credential plugin");
}

const AUTHENTICATOR: &str = "\
users:
- name: old
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1alpha1
      command: /usr/local/bin/aws-iam-authenticator
      args: [\"token\", \"-i\", \"prod\", \"-r\", \"arn:aws:iam::111122223333:role/admin\"]
      env:
        - name: AWS_PROFILE
          value: ops
- name: regional
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws-iam-authenticator
      args:
        - token
        - --cluster-id=prod
        - --region
        - eu-west-1
contexts:
- name: prod
  context: {cluster: prod, user: old}
";

#[test]
fn authenticator_stanzas_move() {
    let plan = plan(AUTHENTICATOR, &Selection::All).unwrap();
    assert_eq!(plan.skipped, []);
    assert_eq!(plan.contexts_moved(), 1);
    let hint = install_hint_lines("      ");
    let expected = format!(
        "\
users:
- name: old
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl-eks_token
      args: [\"--cluster-name\", \"prod\", \"--region\", \"us-east-1\", \"--role-arn\", \"arn:aws:iam::111122223333:role/admin\"]
      env:
        - name: AWS_PROFILE
          value: ops
{hint}- name: regional
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl-eks_token
      args:
        - --cluster-name
        - prod
        - --region
        - eu-west-1
{hint}contexts:
- name: prod
  context: {{cluster: prod, user: old}}
"
    );
    assert_eq!(plan.text, expected);
}

#[test]
fn untranslatable_stanzas_are_left_alone_with_the_reason() {
    let text = "\
users:
- name: endpoint
  user:
    exec:
      command: aws
      args: [eks, get-token, --cluster-name, x, --endpoint-url, https://example]
- name: gke
  user:
    exec:
      command: gke-gcloud-auth-plugin
- name: default-role
  user:
    exec:
      command: aws-iam-authenticator
      args: [token, -i, x]
      env: [{name: DEFAULT_ROLE, value: arn:aws:iam::1:role/r}]
- name: anchored
  user:
    exec: &e
      command: aws
      args: [eks, get-token, --cluster-name, x]
- name: outposts
  user:
    exec:
      command: aws
      args: [eks, get-token, --cluster-id, 0123, --region, us-west-2]
";
    let plan = plan(text, &Selection::All).unwrap();
    assert_eq!(plan.text, text, "nothing changes");
    let reasons: Vec<(&str, &str)> = plan
        .skipped
        .iter()
        .map(|s| (s.user.as_str(), s.reason.as_str()))
        .collect();
    assert_eq!(
        reasons,
        [
            ("endpoint", "unknown argument `--endpoint-url`"),
            (
                "gke",
                "it runs `gke-gcloud-auth-plugin`, not `aws eks get-token` or `aws-iam-authenticator token`"
            ),
            (
                "default-role",
                "its env sets `DEFAULT_ROLE`, which kubectl-eks_token does not read"
            ),
            ("anchored", "its exec stanza uses YAML anchors or aliases"),
            (
                "outposts",
                "`--cluster-id` (a local cluster on AWS Outposts) is not supported"
            ),
        ]
    );
}

#[test]
fn aws_arguments_in_any_order_and_form() {
    let id = translate_aws(&v(&[
        "--profile=dev",
        "eks",
        "--region",
        "eu-west-1",
        "get-token",
        "--role-arn",
        "arn:aws:iam::1:role/r",
        "--cluster-name=prod",
    ]))
    .unwrap();
    assert_eq!(
        id.args(),
        [
            "--cluster-name",
            "prod",
            "--region",
            "eu-west-1",
            "--profile",
            "dev",
            "--role-arn",
            "arn:aws:iam::1:role/r"
        ]
    );
    assert_eq!(
        translate_aws(&v(&["eks", "get-token"])).unwrap_err(),
        "no `--cluster-name`"
    );
    assert_eq!(
        translate_aws(&v(&["eks", "describe-cluster", "--cluster-name", "x"])).unwrap_err(),
        "not `aws eks get-token` (arguments `eks describe-cluster`)"
    );
    assert_eq!(
        translate_aws(&v(&["eks", "get-token", "--cluster-name"])).unwrap_err(),
        "`--cluster-name` has no value"
    );
    assert_eq!(
        translate_aws(&v(&[
            "eks",
            "get-token",
            "--cluster-name",
            "x",
            "--output",
            "text"
        ]))
        .unwrap_err(),
        "`--output text` (kubectl reads json)"
    );
}

#[test]
fn commands_by_file_name() {
    assert_eq!(tool_of("aws"), Tool::AwsCli);
    assert_eq!(tool_of("/opt/homebrew/bin/aws"), Tool::AwsCli);
    assert_eq!(
        tool_of("C:\\Program Files\\Amazon\\AWSCLIV2\\aws.exe"),
        Tool::AwsCli
    );
    assert_eq!(tool_of("aws-iam-authenticator"), Tool::Authenticator);
    assert_eq!(tool_of("/x/kubectl-eks_token"), Tool::Ours);
    assert_eq!(tool_of("awsx"), Tool::Other);
}

#[test]
fn scalars_that_would_not_read_back_as_strings_are_quoted() {
    assert_eq!(scalar("--cluster-name", false), "--cluster-name");
    assert_eq!(
        scalar("arn:aws:iam::1:role/r", false),
        "arn:aws:iam::1:role/r"
    );
    for odd in ["123", "yes", "on", "a b", "", "x:", "#x", "*a"] {
        let quoted = scalar(odd, false);
        assert!(quoted.starts_with('"'), "{odd} -> {quoted}");
        let back: String = serde_yaml::from_str(&quoted).unwrap();
        assert_eq!(back, odd);
    }
}

#[test]
fn empty_and_odd_documents() {
    assert_eq!(plan("", &Selection::All).unwrap().text, "");
    assert_eq!(
        format!("{:#}", plan("- a\n", &Selection::All).unwrap_err()),
        "the kubeconfig is not a YAML mapping"
    );
    let no_newline = "users:\n- name: u\n  user:\n    exec:\n      command: aws\n      args: [eks, get-token, --cluster-name, c]";
    let p = plan(no_newline, &Selection::All).unwrap();
    assert!(
        p.text
            .ends_with(&format!("\"c\"]\n{}", install_hint_lines("      "))),
        "{}",
        p.text
    );
}
