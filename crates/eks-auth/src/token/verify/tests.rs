use std::time::Duration;

use super::*;
use crate::token::presign::{golden, token_for_url};
use crate::token::{Credentials, presign};

fn at(offset_secs: u64) -> SystemTime {
    golden::time() + Duration::from_secs(offset_secs)
}

fn rules() -> VerifyRules {
    VerifyRules {
        cluster_name: Some("test-cluster".into()),
        ..VerifyRules::default()
    }
}

/// The golden URL with `from` replaced by `to`, as a token.
fn forged(from: &str, to: &str) -> String {
    assert!(golden::URL.contains(from), "{from}");
    token_for_url(&golden::URL.replacen(from, to, 1))
}

fn reject(token: &str) -> VerifyError {
    let err = verify(token, at(60), &rules()).expect_err("token must be rejected");
    let message = err.to_string();
    assert!(!message.contains(golden::SIGNATURE), "{message}");
    assert!(!message.contains(golden::ACCESS_KEY_ID), "{message}");
    assert!(!message.contains(golden::SECRET), "{message}");
    if token.len() > 20 {
        assert!(!message.contains(&token[TOKEN_PREFIX.len()..]), "{message}");
    }
    err
}

#[test]
fn accepts_the_golden_token() {
    let request = verify(golden::TOKEN, at(60), &rules()).unwrap();
    assert_eq!(request.url, golden::URL);
    assert_eq!(request.host, "sts.us-west-2.amazonaws.com");
    assert_eq!(request.region, "us-west-2");
    assert_eq!(request.partition(), "aws");
    assert_eq!(request.access_key_id, golden::ACCESS_KEY_ID);
    assert_eq!(request.signed_at, golden::time());
    assert_eq!(request.expires_at(), at(15 * 60));
    assert_eq!(request.expires_secs, 60);
    assert_eq!(request.cluster_name.as_deref(), Some("test-cluster"));
    assert!(!request.has_session_token);

    let without_rules = verify(golden::TOKEN, at(0), &VerifyRules::default()).unwrap();
    assert_eq!(without_rules.cluster_name, None);
}

#[test]
fn accepts_presigned_tokens_of_every_partition_with_session_tokens() {
    let creds = Credentials {
        session_token: Some("FwoGZXIvYXdz+/=".into()),
        ..golden::credentials()
    };
    for region in [
        "us-east-1",
        "cn-north-1",
        "us-gov-west-1",
        "us-iso-east-1",
        "us-isob-east-1",
        "eu-isoe-west-1",
        "us-isof-south-1",
        "eusc-de-east-1",
    ] {
        let token = presign(&creds, "c", region, golden::time()).unwrap();
        let request = verify(&token.token, at(0), &VerifyRules::default()).unwrap();
        assert_eq!(request.region, region);
        assert!(request.has_session_token);
        assert_eq!(request.access_key_id, golden::ACCESS_KEY_ID);
        // The cluster's own partition accepts it; `aws-cn` accepts no other's.
        let own = partition_for_region(region).unwrap();
        let rules = VerifyRules::for_cluster(Some("c"), own, Some(region));
        verify(&token.token, at(0), &rules).unwrap_or_else(|e| panic!("{region}: {e}"));
        if own != "aws-cn" {
            let cn = VerifyRules::for_cluster(Some("c"), "aws-cn", Some("cn-north-1"));
            assert!(
                matches!(
                    verify(&token.token, at(0), &cn),
                    Err(VerifyError::Host { .. })
                ),
                "{region}"
            );
        }
    }
}

#[test]
fn host_allow_list() {
    let accepted = [
        ("sts.amazonaws.com", "us-east-1"),
        ("sts.eu-west-1.amazonaws.com", "eu-west-1"),
        ("sts-fips.us-east-1.amazonaws.com", "us-east-1"),
        ("sts.us-east-1.api.aws", "us-east-1"),
        ("sts-fips.us-east-2.api.aws", "us-east-2"),
        ("sts.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"),
        ("sts.cn-north-1.api.amazonwebservices.com.cn", "cn-north-1"),
        ("sts.us-gov-east-1.amazonaws.com", "us-gov-east-1"),
        ("sts-fips.us-gov-west-1.api.aws", "us-gov-west-1"),
        ("sts.us-iso-west-1.c2s.ic.gov", "us-iso-west-1"),
        ("sts.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"),
        ("sts.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1"),
        ("sts.us-isof-east-1.csp.hci.ic.gov", "us-isof-east-1"),
        ("sts.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"),
        // A region no partition's pattern knows resolves in `aws` (the SDK's fallback).
        ("sts.no-such-place.amazonaws.com", "no-such-place"),
    ];
    for (host, region) in accepted {
        let token = forged("sts.us-west-2.amazonaws.com", host);
        let request = verify(&token, at(60), &rules()).unwrap_or_else(|e| panic!("{host}: {e}"));
        assert_eq!(request.host, host);
        assert_eq!(request.region, region);
    }
    let rejected = [
        "evil.example.com",
        "sts.evil.example.com",
        "sts.us-west-2.amazonaws.com.evil.example.com",
        "sts.us-west-2.amazonaws.com:443",
        "STS.us-west-2.amazonaws.com",
        "sts.amazonaws.com.cn",
        "sts.cn-north-1.amazonaws.com",
        "sts.us-west-2.amazonaws.com.cn",
        "sts.us-iso-east-1.amazonaws.com",
        "sts-fips.us-gov-west-1.amazonaws.com",
        "sts.us-iso-east-1.api.aws.ic.gov",
        "s3.us-west-2.amazonaws.com",
        "sts.us-west-2.amazonaws.eu",
        "",
    ];
    for host in rejected {
        let token = forged("sts.us-west-2.amazonaws.com", host);
        match reject(&token) {
            VerifyError::Host { host: got, .. } => assert_eq!(got, host),
            other => panic!("{host}: {other}"),
        }
    }
    assert_eq!(
        reject(&forged(
            "sts.us-west-2.amazonaws.com",
            "sts.evil.example.com"
        ))
        .to_string(),
        "pre-signed URL names host `sts.evil.example.com`, which is not an STS endpoint of any AWS partition"
    );
}

#[test]
fn a_token_for_another_partition_names_the_rule_it_breaks() {
    // Signed for China's STS; the cluster is in `aws`.
    let token = forged(
        "sts.us-west-2.amazonaws.com",
        "sts.cn-north-1.amazonaws.com.cn",
    );
    let aws = VerifyRules::for_cluster(Some("c"), "aws", Some("us-west-2"));
    assert_eq!(
        verify(&token, at(60), &aws).unwrap_err().to_string(),
        "pre-signed URL names host `sts.cn-north-1.amazonaws.com.cn`, which is not an STS \
             endpoint of partition `aws`, the cluster's (the EKS authenticator accepts \
             `sts.REGION.amazonaws.com` or `sts.REGION.api.aws` there)"
    );
    let cn = VerifyRules::for_cluster(Some("c"), "aws-cn", Some("cn-north-1"));
    verify(&token, at(60), &cn).unwrap();
    assert_eq!(
        verify(golden::TOKEN, at(60), &cn).unwrap_err().to_string(),
        "pre-signed URL names host `sts.us-west-2.amazonaws.com`, which is not an STS \
             endpoint of partition `aws-cn`, the cluster's (the EKS authenticator accepts \
             `sts.REGION.amazonaws.com.cn` or `sts.REGION.api.amazonwebservices.com.cn` there)"
    );
    let global = forged("sts.us-west-2.amazonaws.com", "sts.amazonaws.com");
    assert_eq!(
        verify(&global, at(60), &cn).unwrap_err().to_string(),
        "pre-signed URL names host `sts.amazonaws.com`, the global STS endpoint, which the \
             EKS authenticator accepts only in partition `aws`; the cluster is in partition \
             `aws-cn`"
    );
}

#[test]
fn rejects_too_long_tokens() {
    // Exactly 4096 bytes passes the length check (and fails a later one).
    let padded = format!("{}{}", golden::URL, "&Version=x".repeat(1000));
    let at_limit = &token_for_url(&padded)[..MAX_TOKEN_LEN];
    assert!(!matches!(reject(at_limit), VerifyError::TooLong { .. }));
    let too_long = &token_for_url(&padded)[..MAX_TOKEN_LEN + 1];
    let err = reject(too_long);
    assert_eq!(
        err.to_string(),
        "token is 4097 bytes long; the EKS authenticator accepts at most 4096"
    );
}

#[test]
fn rejects_a_missing_or_wrong_prefix() {
    for token in [
        &golden::TOKEN["k8s-aws-v1.".len()..],
        &golden::TOKEN.replacen("k8s-aws-v1.", "K8S-AWS-V1.", 1),
        &golden::TOKEN.replacen("k8s-aws-v1.", "k8s-aws-v2.", 1),
        "",
    ] {
        let err = reject(token);
        assert_eq!(err.to_string(), "token does not start with `k8s-aws-v1.`");
    }
}

#[test]
fn rejects_bad_and_padded_base64() {
    let err = reject("k8s-aws-v1.aHR0cHM6Ly9z*HM");
    assert!(matches!(err, VerifyError::Base64(_)), "{err}");
    assert_eq!(
        err.to_string(),
        "token is not unpadded base64url after `k8s-aws-v1.`"
    );
    assert!(std::error::Error::source(&err).is_some());

    // Standard alphabet (`+`, `/`) is not base64url.
    for symbol in ["+", "/"] {
        let token = format!("{}{symbol}{}", &golden::TOKEN[..50], &golden::TOKEN[51..]);
        assert!(matches!(reject(&token), VerifyError::Base64(_)), "{symbol}");
    }

    // A URL whose encoding needs padding: padded is rejected, unpadded accepted.
    let url = ["X-Amz-Expires=060", "X-Amz-Expires=0060"]
        .iter()
        .map(|expires| golden::URL.replacen("X-Amz-Expires=60", expires, 1))
        .find(|url| url.len() % 3 != 0)
        .unwrap();
    let padded = base64::engine::general_purpose::URL_SAFE.encode(url.as_bytes());
    assert!(padded.ends_with('='));
    assert!(matches!(
        reject(&format!("{TOKEN_PREFIX}{padded}")),
        VerifyError::Base64(_)
    ));
    verify(&token_for_url(&url), at(60), &rules()).unwrap();

    // Go skips newlines inside base64.
    let (a, b) = golden::TOKEN.split_at(40);
    verify(&format!("{a}\r\n{b}"), at(60), &rules()).unwrap();

    let not_utf8 = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x00])
    );
    assert!(matches!(reject(&not_utf8), VerifyError::NotUtf8));
}

#[test]
fn rejects_other_schemes_user_info_paths_and_fragments() {
    let err = reject(&forged("https://", "http://"));
    assert_eq!(
        err.to_string(),
        "pre-signed URL has scheme `http`; expected `https`"
    );
    assert!(
        matches!(reject(&forged("https://", "//")), VerifyError::Scheme { scheme } if scheme.is_empty())
    );
    // Go lower-cases the scheme.
    verify(&forged("https://", "HTTPS://"), at(60), &rules()).unwrap();
    assert!(matches!(
        reject(&forged("https://", ":")),
        VerifyError::InvalidUrl {
            reason: "missing protocol scheme"
        }
    ));

    let err = reject(&forged("https://", "https://me@"));
    assert_eq!(
        err.to_string(),
        "pre-signed URL has user info; STS pre-signed URLs have none"
    );

    for (path, shown) in [
        ("/foo/?", "/foo/"),
        ("?", ""),
        ("//?", "//"),
        ("/%2F?", "/%2F"),
    ] {
        let err = reject(&forged("/?", path));
        assert_eq!(
            err.to_string(),
            format!("pre-signed URL has path `{shown}`; expected `/`")
        );
    }

    let err = reject(&token_for_url(&format!("{}#frag", golden::URL)));
    assert_eq!(
        err.to_string(),
        "pre-signed URL has a fragment; STS pre-signed URLs have none"
    );

    let err = reject(&token_for_url(&format!("{}\n", golden::URL)));
    assert_eq!(
        err.to_string(),
        "decoded token is not a URL: it contains a control character"
    );
}

#[test]
fn rejects_duplicate_parameters_in_any_letter_case() {
    // CVE-2022-2385: the authenticator read one `Action`, STS another.
    let cases = [
        (
            "Action=GetCallerIdentity",
            "Action=GetCallerIdentity&action=AssumeRole",
            "action",
        ),
        (
            "Action=GetCallerIdentity",
            "Action=GetCallerIdentity&Action=GetCallerIdentity",
            "Action",
        ),
        (
            "Action=GetCallerIdentity",
            "Action=GetCallerIdentity&%41CTION=x",
            "ACTION",
        ),
        (
            "X-Amz-Date=",
            "x-amz-date=20990101T000000Z&X-Amz-Date=",
            "X-Amz-Date",
        ),
        (
            "X-Amz-SignedHeaders=",
            "X-AMZ-SIGNEDHEADERS=host&X-Amz-SignedHeaders=",
            "X-Amz-SignedHeaders",
        ),
    ];
    for (from, to, key) in cases {
        match reject(&forged(from, to)) {
            VerifyError::DuplicateParameter { key: got } => assert_eq!(got, key, "{to}"),
            other => panic!("{to}: {other}"),
        }
    }
    // The signature itself twice: the error names the key, never a value.
    let err = reject(&forged(
        "&X-Amz-Signature=",
        "&x-amz-signature=00&X-Amz-Signature=",
    ));
    assert_eq!(
        err.to_string(),
        "query parameter `X-Amz-Signature` appears more than once (in some letter case): a forged token (CVE-2022-2385)"
    );
}

#[test]
fn rejects_parameters_outside_the_allow_list() {
    let err = reject(&forged("&Version=", "&X-Amz-User-Agent=x&Version="));
    assert_eq!(
        err.to_string(),
        "query parameter `X-Amz-User-Agent` is not allowed in a pre-signed GetCallerIdentity URL"
    );
    // Any letter case of an allowed key is allowed.
    verify(&forged("Version=", "VERSION="), at(60), &rules()).unwrap();
}

#[test]
fn rejects_malformed_queries() {
    let err = reject(&forged("Version=2011-06-15", "Version=2011-06-15%zz"));
    assert_eq!(
        err.to_string(),
        "pre-signed URL has a malformed query: invalid percent-escape"
    );
    let err = reject(&forged("host%3Bx-k8s-aws-id", "host;x-k8s-aws-id"));
    assert_eq!(
        err.to_string(),
        "pre-signed URL has a malformed query: `;` separates parameters (only `&` may)"
    );
}

#[test]
fn rejects_other_actions() {
    let err = reject(&forged("Action=GetCallerIdentity", "Action=AssumeRole"));
    assert_eq!(
        err.to_string(),
        "`Action` is `AssumeRole`; expected `GetCallerIdentity`"
    );
    assert!(matches!(
        reject(&forged("Action=GetCallerIdentity&", "")),
        VerifyError::Action { action } if action.is_empty()
    ));
    // The value is compared exactly.
    assert!(matches!(
        reject(&forged(
            "Action=GetCallerIdentity",
            "Action=getcalleridentity"
        )),
        VerifyError::Action { .. }
    ));
    // But the key in any case.
    verify(&forged("Action=", "ACTION="), at(60), &rules()).unwrap();
}

#[test]
fn rejects_tokens_without_the_signed_cluster_header() {
    let err = reject(&forged("host%3Bx-k8s-aws-id", "host"));
    assert_eq!(
        err.to_string(),
        "`x-k8s-aws-id` is not among the signed headers (`X-Amz-SignedHeaders` is `host`)"
    );
    assert!(matches!(
        reject(&forged("&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id", "")),
        VerifyError::ClusterIdNotSigned { .. }
    ));
    verify(
        &forged("host%3Bx-k8s-aws-id", "host%3BX-K8S-AWS-ID"),
        at(60),
        &rules(),
    )
    .unwrap();
}

#[test]
fn x_amz_expires_must_be_0_to_900() {
    for ok in ["0", "900", "+60", "-0"] {
        let token = forged(
            "X-Amz-Expires=60",
            &format!("X-Amz-Expires={}", ok.replace('+', "%2B")),
        );
        verify(&token, at(60), &rules()).unwrap_or_else(|e| panic!("{ok}: {e}"));
    }
    for bad in ["901", "-1", "abc", "", "60s", " 60", "99999999999999999999"] {
        let token = forged(
            "X-Amz-Expires=60",
            &format!("X-Amz-Expires={}", bad.replace(' ', "+")),
        );
        match reject(&token) {
            VerifyError::Expires { value } => assert_eq!(value, bad),
            other => panic!("{bad}: {other}"),
        }
    }
    assert_eq!(
        reject(&forged("X-Amz-Expires=60", "X-Amz-Expires=901")).to_string(),
        "`X-Amz-Expires` is `901`; expected whole seconds in 0..=900"
    );
    assert!(matches!(
        reject(&forged("&X-Amz-Expires=60", "")),
        VerifyError::Expires { .. }
    ));
}

#[test]
fn x_amz_date_must_parse() {
    assert_eq!(
        reject(&forged("&X-Amz-Date=20230428T000000Z", "")).to_string(),
        "`X-Amz-Date` is missing"
    );
    assert!(matches!(
        reject(&forged("X-Amz-Date=20230428T000000Z", "X-Amz-Date=")),
        VerifyError::MissingDate
    ));
    for bad in [
        "2023-04-28T00:00:00Z",
        "20230428T000000",
        "20231328T000000Z",
        "20230431T000000Z",
        "20230428T240000Z",
        "20230428T000060Z",
        "20230428 000000Z",
        "20230428T000000.5Z",
    ] {
        let token = forged("X-Amz-Date=20230428T000000Z", &format!("X-Amz-Date={bad}"));
        match reject(&token) {
            VerifyError::Date { value } => assert_eq!(value, bad),
            other => panic!("{bad}: {other}"),
        }
    }
}

#[test]
fn tokens_expire_15_minutes_after_signing() {
    verify(golden::TOKEN, at(15 * 60), &rules()).unwrap();
    let err = verify(golden::TOKEN, at(15 * 60 + 1), &rules()).unwrap_err();
    assert_eq!(
        err.to_string(),
        "token expired at 2023-04-28T00:15:00Z: it was signed at 2023-04-28T00:00:00Z and STS accepts it for 15 minutes"
    );
    // The authenticator does not reject dates in the future (STS does).
    verify(
        golden::TOKEN,
        golden::time() - Duration::from_secs(3600),
        &rules(),
    )
    .unwrap();
}

#[test]
fn decode_only_checks_prefix_and_base64() {
    assert_eq!(decode(golden::TOKEN).unwrap(), golden::URL);
    assert_eq!(
        decode(&token_for_url("http://example.com/")).unwrap(),
        "http://example.com/"
    );
    assert!(matches!(
        decode("Bearer x"),
        Err(VerifyError::MissingPrefix)
    ));
}

#[test]
fn debug_of_a_presigned_request_is_redacted() {
    let creds = Credentials {
        session_token: Some("SESSION-TOKEN-SECRET".into()),
        ..golden::credentials()
    };
    let token = presign(&creds, "c", "us-west-2", golden::time()).unwrap();
    let request = verify(&token.token, at(0), &VerifyRules::default()).unwrap();
    let signature = request
        .url
        .rsplit_once("X-Amz-Signature=")
        .unwrap()
        .1
        .to_owned();
    let debug = format!("{request:?}");
    assert!(!debug.contains(&signature), "{debug}");
    assert!(!debug.contains("SESSION-TOKEN-SECRET"), "{debug}");
    assert!(debug.contains("X-Amz-Signature=REDACTED"), "{debug}");
    assert!(debug.contains("signed_at: 2023-04-28T00:00:00Z"), "{debug}");
}
