//! Presigning `sts:GetCallerIdentity` into an EKS token.

use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use base64::Engine as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use super::{
    CLUSTER_ID_HEADER, Credentials, PRESIGN_EXPIRES_SECS, TOKEN_LIFETIME, TOKEN_PREFIX, Token,
};
use crate::arn::{dns_suffix, partition_for_region};

/// Why a token could not be made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("unknown region `{region}`: it belongs to no AWS partition")]
    UnknownRegion { region: String },
    #[error("the access key id is empty")]
    MissingAccessKeyId,
    #[error("the secret access key is empty")]
    MissingSecretAccessKey,
    #[error(
        "cluster name `{cluster}` cannot be sent in the `x-k8s-aws-id` header: it must be \
         non-empty printable ASCII without spaces"
    )]
    InvalidClusterName { cluster: String },
    #[error("signing time is outside the years 1970 to 9999")]
    TimeOutOfRange,
    #[error("signing the STS GetCallerIdentity request failed")]
    Signing(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// The regional STS host of `region` in its partition, e.g. `sts.us-west-2.amazonaws.com`,
/// `sts.cn-north-1.amazonaws.com.cn`, `sts.us-isob-east-1.sc2s.sgov.gov`,
/// `sts.eusc-de-east-1.amazonaws.eu`: `sts.{region}.{dnsSuffix}`, the endpoint the AWS SDKs'
/// STS endpoint rules give without FIPS or dual-stack (aws-sdk-sts `config/endpoint.rs`).
///
/// The token always names the real STS host, even when the SDK's own calls go elsewhere
/// (`AWS_ENDPOINT_URL`): the API server decides where to send it.
pub fn sts_host(region: &str) -> Result<String, TokenError> {
    let suffix = partition_for_region(region)
        .and_then(dns_suffix)
        .ok_or_else(|| TokenError::UnknownRegion {
            region: region.to_owned(),
        })?;
    Ok(format!("sts.{region}.{suffix}"))
}

/// RFC 3986 unreserved characters stay, everything else is percent-encoded: SigV4's URI
/// encoding, and what Go's `url.Values.Encode` produces for these values.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// Presign `GET https://sts.REGION.SUFFIX/?Action=GetCallerIdentity&Version=2011-06-15` at
/// `now`, valid for [`PRESIGN_EXPIRES_SECS`], with the signature over the headers
/// `host;x-k8s-aws-id` and the session token (if any) in the signed query, and wrap it as
/// `k8s-aws-v1.` + unpadded base64url. The token expires [`TOKEN_LIFETIME`] after `now`.
///
/// The query is laid out as the AWS SDK for Go v2 does it for aws-iam-authenticator (keys in
/// order, `X-Amz-Signature` last), so the token is byte-for-byte the one
/// `aws-iam-authenticator token` makes for the same inputs.
pub fn presign(
    creds: &Credentials,
    cluster: &str,
    region: &str,
    now: SystemTime,
) -> Result<Token, TokenError> {
    let host = sts_host(region)?;
    if creds.access_key_id.is_empty() {
        return Err(TokenError::MissingAccessKeyId);
    }
    if creds.secret_access_key.is_empty() {
        return Err(TokenError::MissingSecretAccessKey);
    }
    if cluster.is_empty() || !cluster.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(TokenError::InvalidClusterName {
            cluster: cluster.to_owned(),
        });
    }
    // The signer writes X-Amz-Date as YYYYMMDD...: keep to the years it can write.
    let since_epoch = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_err(|_| TokenError::TimeOutOfRange)?;
    if since_epoch >= Duration::from_secs(253_402_300_800) {
        // 10000-01-01T00:00:00Z
        return Err(TokenError::TimeOutOfRange);
    }

    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        creds.session_token.clone(),
        None,
        "eks-auth",
    )
    .into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(PRESIGN_EXPIRES_SECS));
    // Default `SessionTokenMode::Include`: X-Amz-Security-Token is part of the signed query.
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("sts")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| TokenError::Signing(e.into()))?
        .into();

    const BASE_QUERY: &str = "Action=GetCallerIdentity&Version=2011-06-15";
    let unsigned = format!("https://{host}/?{BASE_QUERY}");
    let request = SignableRequest::new(
        "GET",
        unsigned.as_str(),
        [("host", host.as_str()), (CLUSTER_ID_HEADER, cluster)].into_iter(),
        // The Go SDK presigns with the SHA-256 of the empty body, as does this.
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| TokenError::Signing(e.into()))?;
    let (instructions, _signature) = sign(request, &params)
        .map_err(|e| TokenError::Signing(e.into()))?
        .into_parts();
    let (_headers, mut signed_params) = instructions.into_parts();

    // Keys in order, the signature last: Action, Version, X-Amz-Algorithm, X-Amz-Credential,
    // X-Amz-Date, X-Amz-Expires, [X-Amz-Security-Token], X-Amz-SignedHeaders, X-Amz-Signature.
    signed_params.sort_by_key(|&(key, _)| (key == "X-Amz-Signature", key));
    let mut url = unsigned;
    for (key, value) in &signed_params {
        url.push('&');
        url.push_str(key);
        url.push('=');
        url.extend(utf8_percent_encode(value, QUERY_VALUE));
    }

    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url.as_bytes());
    Ok(Token {
        token: format!("{TOKEN_PREFIX}{encoded}"),
        expiration: now + TOKEN_LIFETIME,
    })
}

/// The `k8s-aws-v1.` token of a URL, for tests that forge tokens.
#[cfg(test)]
pub(crate) fn token_for_url(url: &str) -> String {
    format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

/// The fixed inputs of aws-iam-authenticator's `TestGetWithSTS` (pkg/token/token_test.go).
#[cfg(test)]
pub(crate) mod golden {
    use super::*;

    pub const ACCESS_KEY_ID: &str = "ASIAR2TG44V6AS3ZZE7C";
    pub const SECRET: &str = "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q";
    pub const SIGNATURE: &str = "e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce";
    /// 2023-04-28T00:00:00Z
    pub const TIME_SECS: u64 = 1_682_640_000;
    pub const URL: &str = "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request&X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce";
    /// The token `TestGetWithSTS` expects, verbatim.
    pub const TOKEN: &str = "k8s-aws-v1.aHR0cHM6Ly9zdHMudXMtd2VzdC0yLmFtYXpvbmF3cy5jb20vP0FjdGlvbj1HZXRDYWxsZXJJZGVudGl0eSZWZXJzaW9uPTIwMTEtMDYtMTUmWC1BbXotQWxnb3JpdGhtPUFXUzQtSE1BQy1TSEEyNTYmWC1BbXotQ3JlZGVudGlhbD1BU0lBUjJURzQ0VjZBUzNaWkU3QyUyRjIwMjMwNDI4JTJGdXMtd2VzdC0yJTJGc3RzJTJGYXdzNF9yZXF1ZXN0JlgtQW16LURhdGU9MjAyMzA0MjhUMDAwMDAwWiZYLUFtei1FeHBpcmVzPTYwJlgtQW16LVNpZ25lZEhlYWRlcnM9aG9zdCUzQngtazhzLWF3cy1pZCZYLUFtei1TaWduYXR1cmU9ZTIxMWRiYTc3YWJhOWRjNDRiMGI2YmUzOGI4ZWFhZDA5MjU5OWM1MTU3ZjYzMTQ0NDRjNWI5ZDg1NzQ3ZjVjZQ";

    pub fn credentials() -> Credentials {
        Credentials {
            access_key_id: ACCESS_KEY_ID.into(),
            secret_access_key: SECRET.into(),
            session_token: None,
        }
    }

    pub fn time() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(TIME_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::golden;
    use super::*;
    use crate::token::{decode, rfc3339};

    #[test]
    fn golden_vector_from_aws_iam_authenticator() {
        let token = presign(
            &golden::credentials(),
            "test-cluster",
            "us-west-2",
            golden::time(),
        )
        .unwrap();
        assert_eq!(decode(&token.token).unwrap(), golden::URL);
        assert_eq!(token.token, golden::TOKEN);
        assert!(golden::URL.ends_with(&format!("&X-Amz-Signature={}", golden::SIGNATURE)));
        assert_eq!(rfc3339(token.expiration), "2023-04-28T00:14:00Z");
        assert_eq!(
            token.expiration,
            SystemTime::UNIX_EPOCH + Duration::from_secs(golden::TIME_SECS + 14 * 60)
        );
    }

    #[test]
    fn the_cluster_name_is_signed() {
        let other = presign(
            &golden::credentials(),
            "other-cluster",
            "us-west-2",
            golden::time(),
        )
        .unwrap();
        let url = decode(&other.token).unwrap();
        assert!(!url.contains(golden::SIGNATURE), "{url}");
        assert!(
            !url.contains("other-cluster"),
            "the cluster name is a header, not in the URL"
        );
    }

    #[test]
    fn session_token_is_in_the_signed_query() {
        let creds = Credentials {
            session_token: Some("FwoGZXIvYXdzEBQaD+token/with=specials".into()),
            ..golden::credentials()
        };
        let token = presign(&creds, "test-cluster", "us-west-2", golden::time()).unwrap();
        let url = decode(&token.token).unwrap();
        let (without_signature, signature) = url.rsplit_once("&X-Amz-Signature=").unwrap();
        assert_eq!(
            without_signature,
            "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256\
             &X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request\
             &X-Amz-Date=20230428T000000Z&X-Amz-Expires=60\
             &X-Amz-Security-Token=FwoGZXIvYXdzEBQaD%2Btoken%2Fwith%3Dspecials\
             &X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"
        );
        assert_eq!(signature.len(), 64);
        assert!(signature.bytes().all(|b| b.is_ascii_hexdigit()));
        // The token is part of the signature: another token value signs differently.
        assert_ne!(signature, golden::SIGNATURE);
        let other = Credentials {
            session_token: Some("another".into()),
            ..golden::credentials()
        };
        let other_url = decode(
            &presign(&other, "test-cluster", "us-west-2", golden::time())
                .unwrap()
                .token,
        )
        .unwrap();
        assert!(!other_url.ends_with(signature));
    }

    #[test]
    fn sts_host_for_every_partition() {
        let cases = [
            ("us-east-1", "sts.us-east-1.amazonaws.com"),
            ("eu-west-1", "sts.eu-west-1.amazonaws.com"),
            ("cn-north-1", "sts.cn-north-1.amazonaws.com.cn"),
            ("cn-northwest-1", "sts.cn-northwest-1.amazonaws.com.cn"),
            ("us-gov-west-1", "sts.us-gov-west-1.amazonaws.com"),
            ("us-iso-east-1", "sts.us-iso-east-1.c2s.ic.gov"),
            ("us-isob-east-1", "sts.us-isob-east-1.sc2s.sgov.gov"),
            ("eu-isoe-west-1", "sts.eu-isoe-west-1.cloud.adc-e.uk"),
            ("us-isof-south-1", "sts.us-isof-south-1.csp.hci.ic.gov"),
            ("eusc-de-east-1", "sts.eusc-de-east-1.amazonaws.eu"),
        ];
        for (region, host) in cases {
            assert_eq!(sts_host(region).unwrap(), host);
            let token = presign(&golden::credentials(), "c", region, golden::time()).unwrap();
            let url = decode(&token.token).unwrap();
            assert!(
                url.starts_with(&format!("https://{host}/?Action=")),
                "{url}"
            );
            assert!(
                url.contains(&format!("%2F{region}%2Fsts%2Faws4_request")),
                "{url}"
            );
        }
    }

    #[test]
    fn unknown_region_and_bad_inputs_are_errors() {
        let err = presign(&golden::credentials(), "c", "moon-base-1", golden::time()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown region `moon-base-1`: it belongs to no AWS partition"
        );
        assert!(matches!(
            sts_host("aws-global"),
            Err(TokenError::UnknownRegion { .. })
        ));

        let err = presign(&golden::credentials(), "a b", "us-west-2", golden::time()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "cluster name `a b` cannot be sent in the `x-k8s-aws-id` header: it must be non-empty printable ASCII without spaces"
        );
        assert!(matches!(
            presign(&golden::credentials(), "", "us-west-2", golden::time()),
            Err(TokenError::InvalidClusterName { .. })
        ));

        let no_key = Credentials {
            access_key_id: String::new(),
            ..golden::credentials()
        };
        assert_eq!(
            presign(&no_key, "c", "us-west-2", golden::time())
                .unwrap_err()
                .to_string(),
            "the access key id is empty"
        );
        let no_secret = Credentials {
            secret_access_key: String::new(),
            ..golden::credentials()
        };
        assert!(matches!(
            presign(&no_secret, "c", "us-west-2", golden::time()),
            Err(TokenError::MissingSecretAccessKey)
        ));
        let before_epoch = SystemTime::UNIX_EPOCH - Duration::from_secs(1);
        assert!(matches!(
            presign(&golden::credentials(), "c", "us-west-2", before_epoch),
            Err(TokenError::TimeOutOfRange)
        ));
    }
}
