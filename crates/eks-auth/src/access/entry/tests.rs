use super::*;

fn arn(s: &str) -> Arn {
    s.parse().unwrap()
}

#[test]
fn default_usernames_as_eks_sets_them() {
    assert_eq!(
        default_username(
            &arn("arn:aws:iam::111122223333:user/ops/alice"),
            AccessEntryType::Standard
        ),
        "arn:aws:iam::111122223333:user/ops/alice"
    );
    // The path goes; the session template stays for the authenticator to fill in.
    assert_eq!(
        default_username(
            &arn("arn:aws-cn:iam::111122223333:role/development/apps/my-role"),
            AccessEntryType::Standard
        ),
        "arn:aws-cn:sts::111122223333:assumed-role/my-role/{{SessionName}}"
    );
    let node = arn("arn:aws:iam::111122223333:role/node");
    assert_eq!(
        default_username(&node, AccessEntryType::Ec2Linux),
        "system:node:{{EC2PrivateDNSName}}"
    );
    assert_eq!(
        default_username(&node, AccessEntryType::FargateLinux),
        "system:node:{{SessionName}}"
    );
    assert_eq!(
        default_username(&node, AccessEntryType::HybridLinux),
        "system:node:{{SessionName}}"
    );
}

#[test]
fn types_parse_without_case() {
    assert_eq!(
        "EC2_Windows".parse::<AccessEntryType>().unwrap(),
        AccessEntryType::Ec2Windows
    );
    assert_eq!(
        "standard".parse::<AccessEntryType>().unwrap(),
        AccessEntryType::Standard
    );
    assert!("NODE".parse::<AccessEntryType>().is_err());
}

#[test]
fn principals() {
    let t = AccessEntryType::Standard;
    assert_eq!(
        check_principal(
            &arn("arn:aws:sts::111122223333:assumed-role/dev/alice"),
            t,
            "111122223333"
        )
        .unwrap_err()
        .to_string(),
        "`arn:aws:sts::111122223333:assumed-role/dev/alice` is an STS session, not an IAM principal: an access entry names the user or role (for `arn:aws:sts::111122223333:assumed-role/dev/alice`, the role `arn:aws:iam::111122223333:role/dev`)"
    );
    assert!(matches!(
        check_principal(
            &arn(
                "arn:aws:iam::111122223333:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"
            ),
            t,
            "111122223333"
        ),
        Err(EntryError::ServiceLinkedRole { .. })
    ));
    assert!(matches!(
        check_principal(&arn("arn:aws:iam::111122223333:root"), t, "111122223333"),
        Err(EntryError::NotUserOrRole { .. })
    ));
    // Pathed roles are fine, and STANDARD entries may name other accounts.
    assert_eq!(
        check_principal(
            &arn("arn:aws:iam::444455556666:role/team/dev"),
            t,
            "111122223333"
        ),
        Ok(())
    );
    assert!(matches!(
        check_principal(
            &arn("arn:aws:iam::444455556666:role/node"),
            AccessEntryType::Ec2Linux,
            "111122223333"
        ),
        Err(EntryError::NodeTypeOtherAccount { .. })
    ));
    assert!(matches!(
        check_principal(
            &arn("arn:aws:iam::111122223333:user/node"),
            AccessEntryType::Ec2Linux,
            "111122223333"
        ),
        Err(EntryError::NodeTypeNeedsRole { .. })
    ));
}

#[test]
fn usernames_and_groups() {
    for ok in [
        "alice",
        ":john{{SessionName}}",
        "jo:hn{{SessionName}}",
        "arn:aws:sts::111122223333:assumed-role/r/{{SessionName}}",
        "dev:{{SessionNameRaw}}",
        "no-session-needs-no-colon",
    ] {
        assert_eq!(check_username(ok), Ok(()), "{ok}");
    }
    assert_eq!(
        check_username("john{{SessionName}}")
            .unwrap_err()
            .to_string(),
        "username `john{{SessionName}}` needs a `:` before `{{SessionName}}`"
    );
    assert_eq!(
        check_username("eks:admin").unwrap_err().to_string(),
        "username `eks:admin` starts with the reserved prefix `eks:` (reserved: system:, eks:, aws:, amazon:, iam:)"
    );
    for bad in ["system:x", "aws:x", "amazon:x", "iam:x"] {
        assert!(check_username(bad).is_err(), "{bad}");
    }
    assert_eq!(check_groups(&["dev".into(), "ops".into()]), Ok(()));
    assert_eq!(
        check_groups(&["system:masters".into()])
            .unwrap_err()
            .to_string(),
        "Kubernetes group `system:masters` starts with the reserved prefix `system:`"
    );
    assert_eq!(
        check_standard_only(AccessEntryType::Ec2Linux, false, true, false)
            .unwrap_err()
            .to_string(),
        "a `EC2_LINUX` access entry takes no Kubernetes groups: only STANDARD entries do"
    );
    assert_eq!(
        check_standard_only(AccessEntryType::Standard, true, true, true),
        Ok(())
    );
}

#[test]
fn scopes_and_wildcards() {
    let s = parse_scope("namespace", &["dev-*".into(), "prod".into()]).unwrap();
    assert!(s.covers("dev-a"));
    assert!(s.covers("dev-"));
    assert!(s.covers("prod"));
    assert!(!s.covers("production"));
    assert!(!s.covers("dev"));
    // Cluster-scoped requests are outside every namespace scope.
    assert!(!s.covers(""));
    assert!(AccessScope::Cluster.covers(""));
    assert!(AccessScope::Cluster.covers("kube-system"));
    assert!(wildcard_match("*", "anything"));
    assert!(wildcard_match("a*b*c", "aXXbYYc"));
    assert!(!wildcard_match("a*b*c", "aXXcYYb"));
    assert!(wildcard_match("*-dev", "team-dev"));
    assert!(!wildcard_match("ab*ba", "aba"));
    assert_eq!(parse_scope("namespace", &[]), Err(EntryError::NoNamespaces));
    assert_eq!(
        parse_scope("cluster", &["x".into()]),
        Err(EntryError::ClusterScopeWithNamespaces)
    );
}
