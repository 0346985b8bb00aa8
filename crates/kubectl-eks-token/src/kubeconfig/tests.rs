use super::*;

fn info() -> ClusterInfo {
    ClusterInfo {
        name: "demo".into(),
        arn: "arn:aws:eks:eu-west-1:123456789012:cluster/demo".into(),
        endpoint: "https://ABC.gr7.eu-west-1.eks.amazonaws.com".into(),
        certificate_authority_data: "LS0tLS1CRUdJTg==".into(),
    }
}

const EXISTING: &str = r#"apiVersion: v1
kind: Config
preferences:
  colors: true
current-context: kind-dev
clusters:
- name: kind-dev
  cluster:
    server: https://127.0.0.1:6443
    insecure-skip-tls-verify: true
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  cluster:
    server: https://old.example
    certificate-authority-data: T0xE
users:
- name: kind-dev
  user:
    token: abc
- name: arn:aws:eks:eu-west-1:123456789012:cluster/demo
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token]
contexts:
- name: kind-dev
  context:
    cluster: kind-dev
    user: kind-dev
    namespace: work
extensions:
  custom: kept
"#;

#[test]
fn entries_default_to_arn_names() {
    let e = build_entries(&info(), &EntryOptions::default()).unwrap();
    assert_eq!(
        e.cluster_name,
        "arn:aws:eks:eu-west-1:123456789012:cluster/demo"
    );
    assert_eq!(e.user_name, e.cluster_name);
    assert_eq!(e.context_name, e.cluster_name);
    assert_eq!(
        e.exec_args,
        ["--cluster-name", "demo", "--region", "eu-west-1"]
    );
    assert_eq!(e.profile, None);
}

#[test]
fn aliases_role_and_profile() {
    let e = build_entries(
        &info(),
        &EntryOptions {
            role_arn: Some("arn:aws:iam::123456789012:role/admin".into()),
            profile: Some("dev".into()),
            alias: Some("demo".into()),
            user_alias: Some("demo-user".into()),
        },
    )
    .unwrap();
    assert_eq!(e.context_name, "demo");
    assert_eq!(e.user_name, "demo-user");
    assert_eq!(
        e.exec_args,
        [
            "--cluster-name",
            "demo",
            "--region",
            "eu-west-1",
            "--role-arn",
            "arn:aws:iam::123456789012:role/admin"
        ]
    );
    let (text, _) = merge("", &e).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let exec = &doc["users"][0]["user"]["exec"];
    assert_eq!(exec["env"][0]["name"], s("AWS_PROFILE"));
    assert_eq!(exec["env"][0]["value"], s("dev"));
    assert_eq!(doc["contexts"][0]["context"]["user"], s("demo-user"));
    assert_eq!(doc["current-context"], s("demo"));
}

#[test]
fn new_file_gets_a_full_skeleton() {
    let e = build_entries(&info(), &EntryOptions::default()).unwrap();
    let (text, updated) = merge("", &e).unwrap();
    assert!(!updated);
    let arn = "arn:aws:eks:eu-west-1:123456789012:cluster/demo";
    let expected = format!(
        "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTg==
    server: https://ABC.gr7.eu-west-1.eks.amazonaws.com
  name: {arn}
contexts:
- context:
    cluster: {arn}
    user: {arn}
  name: {arn}
current-context: {arn}
kind: Config
preferences: {{}}
users:
- name: {arn}
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubectl-eks_token
      args:
      - --cluster-name
      - demo
      - --region
      - eu-west-1
      interactiveMode: IfAvailable
      provideClusterInfo: false
      installHint: |-
        kubectl-eks_token is needed to authenticate to this EKS cluster.
        Install it with krew:
          kubectl krew index add kubectl-eks https://github.com/kubectl-eks/krew-index.git
          kubectl krew install kubectl-eks/eks-token
        or from a clone of https://github.com/kubectl-eks/kubectl-eks with ./scripts/install,
        and make sure it is on your PATH.
"
    );
    assert_eq!(text, expected);
}

#[test]
fn merge_replaces_by_name_and_keeps_everything_else() {
    let e = build_entries(&info(), &EntryOptions::default()).unwrap();
    let (text, updated) = merge(EXISTING, &e).unwrap();
    assert!(updated);
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    let before: Value = serde_yaml::from_str(EXISTING).unwrap();
    // untouched entries and unknown fields
    assert_eq!(doc["clusters"][0], before["clusters"][0]);
    assert_eq!(doc["users"][0], before["users"][0]);
    assert_eq!(doc["contexts"][0], before["contexts"][0]);
    assert_eq!(doc["preferences"], before["preferences"]);
    assert_eq!(doc["extensions"], before["extensions"]);
    // replaced in place (same index), not appended
    assert_eq!(doc["clusters"].as_sequence().unwrap().len(), 2);
    assert_eq!(doc["users"].as_sequence().unwrap().len(), 2);
    assert_eq!(
        doc["clusters"][1]["cluster"]["server"],
        s("https://ABC.gr7.eu-west-1.eks.amazonaws.com")
    );
    assert_eq!(
        doc["users"][1]["user"]["exec"]["command"],
        s("kubectl-eks_token")
    );
    // context appended, current-context switched
    assert_eq!(doc["contexts"].as_sequence().unwrap().len(), 2);
    assert_eq!(doc["contexts"][1]["name"], s(&e.context_name));
    assert_eq!(doc["current-context"], s(&e.context_name));
    // key order of the document is kept
    let keys: Vec<&str> = doc
        .as_mapping()
        .unwrap()
        .keys()
        .map(|k| k.as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "apiVersion",
            "kind",
            "preferences",
            "current-context",
            "clusters",
            "users",
            "contexts",
            "extensions"
        ]
    );
}

#[test]
fn merge_is_idempotent() {
    let e = build_entries(&info(), &EntryOptions::default()).unwrap();
    let (once, _) = merge(EXISTING, &e).unwrap();
    let (twice, updated) = merge(&once, &e).unwrap();
    assert!(updated);
    assert_eq!(once, twice);
}

#[test]
fn null_lists_and_bad_documents() {
    let e = build_entries(&info(), &EntryOptions::default()).unwrap();
    let (text, _) = merge("apiVersion: v1\nclusters:\nusers: null\n", &e).unwrap();
    let doc: Value = serde_yaml::from_str(&text).unwrap();
    assert_eq!(doc["clusters"].as_sequence().unwrap().len(), 1);
    assert_eq!(doc["users"].as_sequence().unwrap().len(), 1);
    assert_eq!(
        merge("- a\n- b\n", &e).unwrap_err().to_string(),
        "the kubeconfig is not a YAML mapping"
    );
    assert_eq!(
        merge("clusters: 3\n", &e).unwrap_err().to_string(),
        "kubeconfig `clusters` is not a list"
    );
    assert_eq!(
        merge("users: [a]\n", &e).unwrap_err().to_string(),
        "kubeconfig `users` has an entry that is not a mapping"
    );
}

/// Issue 15: the hint installs the way the README does (krew's custom index).
#[test]
fn install_hint_matches_the_readme() {
    let readme = include_str!("../../../../README.md");
    for line in [
        "kubectl krew index add kubectl-eks https://github.com/kubectl-eks/krew-index.git",
        "kubectl krew install kubectl-eks/eks-token",
        "./scripts/install",
    ] {
        assert!(INSTALL_HINT.contains(line), "hint lacks `{line}`");
        assert!(readme.contains(line), "README lacks `{line}`");
    }
    assert!(!INSTALL_HINT.contains("krew install eks-token"));
}

#[test]
fn name_or_cluster_arn() {
    assert_eq!(
        cluster_target("demo", None).unwrap(),
        ("demo".to_owned(), None)
    );
    assert_eq!(
        cluster_target("arn:aws:eks:eu-west-1:123456789012:cluster/demo", None).unwrap(),
        ("demo".to_owned(), Some("eu-west-1".to_owned()))
    );
    assert_eq!(
        cluster_target(
            "arn:aws-cn:eks:cn-north-1:123456789012:cluster/demo",
            Some("cn-north-1")
        )
        .unwrap(),
        ("demo".to_owned(), Some("cn-north-1".to_owned()))
    );
    let err = |n: &str, r: Option<&str>| format!("{:#}", cluster_target(n, r).unwrap_err());
    assert_eq!(
        err(
            "arn:aws:eks:eu-west-1:123456789012:cluster/demo",
            Some("us-east-1")
        ),
        "`--region us-east-1` contradicts the cluster ARN `arn:aws:eks:eu-west-1:123456789012:cluster/demo` (region eu-west-1)\n\nhint: drop `--region`: the ARN names the region"
    );
    assert_eq!(
        err(
            "arn:aws:eks:eu-west-1:123456789012:nodegroup/demo/ng/1",
            None
        ),
        "`--name` `arn:aws:eks:eu-west-1:123456789012:nodegroup/demo/ng/1` is an EKS ARN but not a cluster's (`nodegroup/demo/ng/1`)\n\nhint: a cluster ARN ends in `:cluster/NAME`"
    );
    assert_eq!(
        err("arn:aws:iam::123456789012:role/x", None),
        "`--name` `arn:aws:iam::123456789012:role/x` is not an EKS cluster ARN\n\nhint: a cluster ARN reads `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`; or pass the cluster's name"
    );
    assert!(err("<demo>", None).starts_with("invalid cluster name `<demo>`"));
}

#[test]
fn finds_cluster_by_name() {
    assert!(has_cluster(EXISTING, "kind-dev"));
    assert!(!has_cluster(EXISTING, "nope"));
    assert!(!has_cluster(": not yaml", "kind-dev"));
}
