use super::*;

fn parse(s: &str) -> Arn {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn cluster_arns_parse_and_round_trip() {
    let arn = ClusterArn::parse("arn:aws:eks:us-west-2:111122223333:cluster/prod").unwrap();
    assert_eq!(
        (arn.partition(), arn.region(), arn.account(), arn.name()),
        ("aws", "us-west-2", "111122223333", "prod")
    );
    assert_eq!(
        arn.to_string(),
        "arn:aws:eks:us-west-2:111122223333:cluster/prod"
    );
    let cn = ClusterArn::parse("arn:aws-cn:eks:cn-north-1:111122223333:cluster/c").unwrap();
    assert_eq!(cn.partition(), "aws-cn");
    for other in [
        "prod",
        "kind-kind",
        "arn:aws:iam::111122223333:role/x",
        "arn:aws:eks:us-west-2:111122223333:nodegroup/prod/ng/1",
        "arn:aws:eks:us-west-2:1111:cluster/prod",
        "arn:aws:eks:us-west-2:111122223333:cluster/",
        "arn:aws-cn:eks:us-west-2:111122223333:cluster/prod",
    ] {
        assert_eq!(ClusterArn::parse(other), None, "{other}");
    }
}

#[test]
fn parses_every_principal_kind_and_round_trips() {
    let cases: &[(&str, PrincipalKind, &str, &str, Option<&str>)] = &[
        (
            "arn:aws:iam::123456789012:root",
            PrincipalKind::Root,
            "/",
            "root",
            None,
        ),
        (
            "arn:aws:iam::123456789012:user/Bob",
            PrincipalKind::User,
            "/",
            "Bob",
            None,
        ),
        (
            "arn:aws:iam::123456789012:user/division_abc/subdivision_xyz/Bob",
            PrincipalKind::User,
            "/division_abc/subdivision_xyz/",
            "Bob",
            None,
        ),
        (
            "arn:aws:iam::123456789012:role/S3Access",
            PrincipalKind::Role,
            "/",
            "S3Access",
            None,
        ),
        (
            "arn:aws:iam::123456789012:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS",
            PrincipalKind::Role,
            "/aws-service-role/eks.amazonaws.com/",
            "AWSServiceRoleForAmazonEKS",
            None,
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/Accounting-Role/Mary",
            PrincipalKind::AssumedRole,
            "/",
            "Accounting-Role",
            Some("Mary"),
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/mary@example.com",
            PrincipalKind::AssumedRole,
            "/",
            "AWSReservedSSO_Admin_0123456789abcdef",
            Some("mary@example.com"),
        ),
        (
            "arn:aws:sts::123456789012:federated-user/Bob",
            PrincipalKind::FederatedUser,
            "/",
            "Bob",
            None,
        ),
    ];
    for &(input, kind, path, name, session) in cases {
        let arn = parse(input);
        assert_eq!(arn.kind(), kind, "{input}");
        assert_eq!(arn.partition(), "aws", "{input}");
        assert_eq!(arn.account(), "123456789012", "{input}");
        assert_eq!(arn.path(), path, "{input}");
        assert_eq!(arn.name(), name, "{input}");
        assert_eq!(arn.session_name(), session, "{input}");
        assert_eq!(arn.to_string(), input, "round trip");
    }
}

#[test]
fn parses_every_partition() {
    for partition in PARTITIONS {
        for input in [
            format!("arn:{partition}:iam::111122223333:role/team/Deploy"),
            format!("arn:{partition}:sts::111122223333:assumed-role/Deploy/i-0123456789abcdef0"),
            format!("arn:{partition}:iam::111122223333:root"),
        ] {
            let arn = parse(&input);
            assert_eq!(arn.partition(), *partition);
            assert_eq!(arn.to_string(), input);
        }
    }
}

#[test]
fn canonicalises_assumed_role_like_aws_iam_authenticator() {
    // As aws-iam-authenticator pkg/arn/arn.go `Canonicalize` maps them.
    let cases = [
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/Session",
            "arn:aws:iam::123456789012:role/Admin",
        ),
        (
            "arn:aws-cn:sts::123456789012:assumed-role/Admin/Session",
            "arn:aws-cn:iam::123456789012:role/Admin",
        ),
        (
            "arn:aws-iso-b:sts::123456789012:assumed-role/Admin/Session",
            "arn:aws-iso-b:iam::123456789012:role/Admin",
        ),
        // The authenticator keeps everything between `assumed-role/` and the session.
        (
            "arn:aws:sts::123456789012:assumed-role/extra/Admin/Session",
            "arn:aws:iam::123456789012:role/extra/Admin",
        ),
        // Others are unchanged.
        (
            "arn:aws:iam::123456789012:role/a/b/Admin",
            "arn:aws:iam::123456789012:role/a/b/Admin",
        ),
        (
            "arn:aws:iam::123456789012:user/Alice",
            "arn:aws:iam::123456789012:user/Alice",
        ),
        (
            "arn:aws:iam::123456789012:root",
            "arn:aws:iam::123456789012:root",
        ),
        (
            "arn:aws:sts::123456789012:federated-user/Bob",
            "arn:aws:sts::123456789012:federated-user/Bob",
        ),
    ];
    for (input, canonical) in cases {
        let got = parse(input).canonical();
        assert_eq!(got.to_string(), canonical, "{input}");
        assert_eq!(got.session_name(), None);
    }
    assert_eq!(
        parse("arn:aws:sts::123456789012:assumed-role/Admin/Session")
            .canonical()
            .kind(),
        PrincipalKind::Role
    );
}

#[test]
fn path_detection_and_stripping() {
    let with = parse("arn:aws:iam::123456789012:role/team/ops/Deploy");
    assert!(with.has_path());
    assert_eq!(
        with.without_path().to_string(),
        "arn:aws:iam::123456789012:role/Deploy"
    );
    assert!(!with.without_path().has_path());

    let user = parse("arn:aws-us-gov:iam::123456789012:user/people/Bob");
    assert!(user.has_path());
    assert_eq!(
        user.without_path().to_string(),
        "arn:aws-us-gov:iam::123456789012:user/Bob"
    );

    for plain in [
        "arn:aws:iam::123456789012:role/Deploy",
        "arn:aws:iam::123456789012:root",
        "arn:aws:sts::123456789012:assumed-role/Deploy/s",
        "arn:aws:sts::123456789012:federated-user/Bob",
    ] {
        let arn = parse(plain);
        assert!(!arn.has_path(), "{plain}");
        assert_eq!(arn.without_path(), arn, "{plain}");
    }
}

#[test]
fn default_usernames_template_the_session_for_roles() {
    for (arn, username) in [
        ("arn:aws:iam::123456789012:user/people/Bob", "Bob"),
        (
            "arn:aws:iam::123456789012:role/Deploy",
            "Deploy:{{SessionName}}",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/Deploy/alice",
            "Deploy:{{SessionName}}",
        ),
    ] {
        assert_eq!(parse(arn).default_username(), username, "{arn}");
    }
}

#[test]
fn malformed_inputs_give_precise_errors() {
    let cases = [
        ("", "`` is not an ARN: it must start with `arn:`"),
        (
            "aws:iam::123456789012:root",
            "`aws:iam::123456789012:root` is not an ARN: it must start with `arn:`",
        ),
        (
            "arn:aws:iam::123456789012",
            "`arn:aws:iam::123456789012` is not an ARN: expected `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`",
        ),
        (
            "arn:aws-mars:iam::123456789012:root",
            "unknown partition `aws-mars` in `arn:aws-mars:iam::123456789012:root` (expected one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc)",
        ),
        (
            "arn:aws:s3:::bucket/key",
            "service `s3` in `arn:aws:s3:::bucket/key` does not name principals (expected `iam` or `sts`)",
        ),
        (
            "arn:aws:iam:us-east-1:123456789012:root",
            "principal ARN `arn:aws:iam:us-east-1:123456789012:root` has region `us-east-1`: IAM and STS principal ARNs have none",
        ),
        (
            "arn:aws:iam::12345:root",
            "account `12345` in `arn:aws:iam::12345:root` is not a 12-digit AWS account id",
        ),
        (
            "arn:aws:iam::123456789012:group/Admins",
            "resource `group/Admins` in `arn:aws:iam::123456789012:group/Admins` is not a principal (expected `user/`, `role/` or `root` for iam, `assumed-role/` or `federated-user/` for sts)",
        ),
        (
            "arn:aws:sts::123456789012:role/Admin",
            "resource `role/Admin` in `arn:aws:sts::123456789012:role/Admin` is not a principal (expected `user/`, `role/` or `root` for iam, `assumed-role/` or `federated-user/` for sts)",
        ),
        (
            "arn:aws:iam::123456789012:root/x",
            "resource `root/x` in `arn:aws:iam::123456789012:root/x` is not a principal (expected `user/`, `role/` or `root` for iam, `assumed-role/` or `federated-user/` for sts)",
        ),
        (
            "arn:aws:iam::123456789012:role/",
            "`arn:aws:iam::123456789012:role/` has no role name",
        ),
        (
            "arn:aws:iam::123456789012:user/team/",
            "`arn:aws:iam::123456789012:user/team/` has no user name",
        ),
        (
            "arn:aws:iam::123456789012:role/my role",
            "role name `my role` in `arn:aws:iam::123456789012:role/my role` is invalid: 1 to 64 characters from letters, digits and `+=,.@_-`",
        ),
        (
            "arn:aws:iam::123456789012:role/a//Deploy",
            "path `/a//` in `arn:aws:iam::123456789012:role/a//Deploy` is invalid: `/` or `/segment/.../` of printable ASCII, at most 512 characters",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/Admin",
            "assumed-role ARN `arn:aws:sts::123456789012:assumed-role/Admin` has no session name (expected `assumed-role/ROLE/SESSION`)",
        ),
        (
            "arn:aws:sts::123456789012:assumed-role/Admin/",
            "session name `` in `arn:aws:sts::123456789012:assumed-role/Admin/` is invalid: 1 to 64 characters from letters, digits and `+=,.@_-`",
        ),
        (
            "arn:aws:sts::123456789012:federated-user/a/Bob",
            "federated-user ARN `arn:aws:sts::123456789012:federated-user/a/Bob` has a path; expected `federated-user/NAME`",
        ),
    ];
    for (input, message) in cases {
        let err = input.parse::<Arn>().expect_err(input);
        assert_eq!(err.to_string(), message, "{input}");
    }
    let long = format!("arn:aws:iam::123456789012:role/{}", "a".repeat(65));
    assert!(matches!(
        long.parse::<Arn>(),
        Err(ArnError::InvalidName { .. })
    ));
}

#[test]
fn partition_for_region_follows_the_sdk_region_patterns() {
    let cases = [
        ("us-east-1", Some("aws")),
        ("us-west-2", Some("aws")),
        ("eu-central-2", Some("aws")),
        ("ap-southeast-7", Some("aws")),
        ("mx-central-1", Some("aws")),
        ("il-central-1", Some("aws")),
        ("us-north-9", Some("aws")),
        ("cn-north-1", Some("aws-cn")),
        ("cn-northwest-1", Some("aws-cn")),
        ("us-gov-west-1", Some("aws-us-gov")),
        ("us-gov-east-1", Some("aws-us-gov")),
        ("us-iso-east-1", Some("aws-iso")),
        ("us-isob-east-1", Some("aws-iso-b")),
        ("eu-isoe-west-1", Some("aws-iso-e")),
        ("us-isof-south-1", Some("aws-iso-f")),
        ("eusc-de-east-1", Some("aws-eusc")),
        ("", None),
        ("local", None),
        ("aws-global", None),
        ("xx-east-1", None),
        ("us-east", None),
        ("us-east-1a", None),
        ("US-EAST-1", None),
        ("us_east_1", None),
        ("us--1", None),
        ("us-gov-west", None),
        ("eusc-fr-east-1", None),
    ];
    for (region, partition) in cases {
        assert_eq!(partition_for_region(region), partition, "{region}");
    }
}

#[test]
fn every_partition_has_dns_suffixes() {
    for partition in PARTITIONS {
        assert!(dns_suffix(partition).is_some(), "{partition}");
        assert!(dual_stack_dns_suffix(partition).is_some(), "{partition}");
    }
    assert_eq!(dns_suffix("aws-iso-e"), Some("cloud.adc-e.uk"));
    assert_eq!(dns_suffix("nope"), None);
}

#[test]
fn serde_uses_the_arn_string() {
    let arn = parse("arn:aws:iam::123456789012:role/team/Deploy");
    let json = serde_json::to_string(&arn).unwrap();
    assert_eq!(json, "\"arn:aws:iam::123456789012:role/team/Deploy\"");
    assert_eq!(serde_json::from_str::<Arn>(&json).unwrap(), arn);
    let err = serde_json::from_str::<Arn>("\"arn:aws:iam::1:root\"").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("account `1` in `arn:aws:iam::1:root` is not a 12-digit AWS account id"),
        "{err}"
    );
}
