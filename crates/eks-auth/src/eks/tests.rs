use super::*;

#[test]
fn access_denied_names_the_action_and_hints_at_it() {
    let err = EksError::AccessDenied {
        action: Operation::CreateAccessEntry.iam_action(),
        cluster: "prod".into(),
        message:
            "User: arn:aws:iam::1:user/bob is not authorized to perform: eks:CreateAccessEntry"
                .into(),
    };
    assert_eq!(
        err.to_string(),
        "access denied: `eks:CreateAccessEntry` on EKS cluster `prod`: User: arn:aws:iam::1:user/bob is not authorized to perform: eks:CreateAccessEntry"
    );
    assert_eq!(
        err.hint().unwrap(),
        "your AWS identity needs the IAM permission `eks:CreateAccessEntry` on the cluster `prod`: ask an administrator of the account to allow it in your IAM policy"
    );
    assert_eq!(
        EksError::AccessEntriesOff {
            cluster: "c".into()
        }
        .hint()
        .unwrap(),
        "turn access entries on with `aws eks update-cluster-config --name c --access-config authenticationMode=API_AND_CONFIG_MAP`, or edit the aws-auth ConfigMap instead"
    );
}

#[test]
fn scopes_to_and_from_the_sdk() {
    let ns = AccessScope::Namespaces(vec!["dev-*".into()]);
    assert_eq!(scope_of(Some(&sdk_scope(&ns))), ns);
    assert_eq!(
        scope_of(Some(&sdk_scope(&AccessScope::Cluster))),
        AccessScope::Cluster
    );
}
