//! The checks the EKS authenticator makes on a token before it calls STS.
//!
//! Source: aws-iam-authenticator `pkg/token/token.go`, `tokenVerifier.Verify` and
//! `verifySTSHostnameFormat`, in this order:
//!
//! 1. the token is at most 4096 bytes (`maxTokenLenBytes`);
//! 2. it starts with `k8s-aws-v1.`;
//! 3. the rest is unpadded base64url (`base64.RawURLEncoding`, which skips `\r` and `\n`);
//! 4. that is a URL (`url.Parse`) with scheme `https`;
//! 5. whose host is an STS endpoint of the cluster's partition ([`VerifyRules::partition`]; the
//!    rules are in `host.rs`);
//! 6. whose path is `/`;
//! 7. whose query parses (`url.ParseQuery`: `;` and bad percent-escapes are errors), has no key
//!    twice in any letter case (`validateDuplicateParameters`, the CVE-2022-2385 fix) nor any key
//!    with several values, and only the keys `Action`, `Version`, `X-Amz-Algorithm`,
//!    `X-Amz-Credential`, `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-Security-Token`,
//!    `X-Amz-Signature`, `X-Amz-SignedHeaders` in any letter case (`parameterWhitelist`);
//! 8. `Action` is `GetCallerIdentity`;
//! 9. `X-Amz-SignedHeaders` contains `x-k8s-aws-id` (any letter case);
//! 10. `X-Amz-Expires` is an integer in 0..=900;
//! 11. `X-Amz-Date` is present, is `YYYYMMDDTHHMMSSZ`, and `now` is not after it + 15 minutes.
//!
//! The authenticator does not check that `X-Amz-Date` is in the past: STS does that.
//!
//! Then it sends the URL to STS with `x-k8s-aws-id: <its cluster name>`. The cluster name is not
//! in the URL; it is a signed header, so only STS can tell whether the token was made for this
//! cluster (the signature does not match otherwise). [`VerifyRules::cluster_name`] is therefore
//! carried into [`PresignedRequest::cluster_name`] for the caller that sends the request.
//!
//! Deliberately stricter than the authenticator (never produced by a signer): a URL with user
//! info or a fragment is rejected, as are a non-UTF-8 URL and fractional seconds in
//! `X-Amz-Date`.

use std::borrow::Cow;
use std::fmt;
use std::time::SystemTime;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::host::{self, HostRule};
use super::{
    CLUSTER_ID_HEADER, MAX_TOKEN_LEN, PRESIGNED_URL_LIFETIME, TOKEN_PREFIX, redact_url, rfc3339,
};
use crate::arn::{PARTITIONS, partition_for_region};

/// What the verifier knows beyond the token.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyRules {
    /// The cluster the token must be for. It cannot be checked offline (see the module docs);
    /// it is passed on as [`PresignedRequest::cluster_name`] for the request to STS.
    pub cluster_name: Option<String>,
    /// The cluster's partition: only its STS hosts are accepted, as by the authenticator, which
    /// always runs with one (`aws` unless configured). `None` accepts the hosts of any partition
    /// (for a caller that does not know the cluster's).
    pub partition: Option<String>,
    /// The region the authenticator runs in (the cluster's), if known: with the partition it
    /// admits `sts.REGION.DOMAIN` for a region the SDK does not know yet.
    pub region: Option<String>,
}

impl VerifyRules {
    /// The rules of an authenticator for cluster `name` in `partition` and `region`.
    pub fn for_cluster(name: Option<&str>, partition: &str, region: Option<&str>) -> VerifyRules {
        VerifyRules {
            cluster_name: name.map(str::to_owned),
            partition: Some(partition.to_owned()),
            region: region.map(str::to_owned),
        }
    }
}

/// A token that passed every check the EKS authenticator makes before calling STS.
/// `Debug` redacts the URL.
#[derive(Clone, PartialEq, Eq)]
pub struct PresignedRequest {
    /// The full presigned URL (secret: print it with [`redact_url`]).
    pub url: String,
    /// The STS host it is for, e.g. `sts.us-west-2.amazonaws.com`.
    pub host: String,
    /// The region of that host (`us-east-1` for the global `sts.amazonaws.com`).
    pub region: String,
    /// From `X-Amz-Credential` (empty when absent: STS rejects that).
    pub access_key_id: String,
    /// `X-Amz-Date`.
    pub signed_at: SystemTime,
    /// `X-Amz-Expires` (STS ignores it: the URL is good for 15 minutes after `signed_at`).
    pub expires_secs: u64,
    /// Not in the token: the verifier's [`VerifyRules::cluster_name`], to be sent as the
    /// `x-k8s-aws-id` header with the request. `None` when the verifier gave none.
    pub cluster_name: Option<String>,
    /// Whether `X-Amz-Security-Token` is present (temporary credentials).
    pub has_session_token: bool,
}

impl PresignedRequest {
    /// When STS stops accepting the request: `signed_at` + 15 minutes.
    pub fn expires_at(&self) -> SystemTime {
        self.signed_at + PRESIGNED_URL_LIFETIME
    }

    /// The partition of [`Self::region`]. An API server only accepts hosts of its own partition.
    pub fn partition(&self) -> &'static str {
        partition_for_region(&self.region).unwrap_or("aws")
    }
}

impl fmt::Debug for PresignedRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PresignedRequest")
            .field("url", &redact_url(&self.url))
            .field("host", &self.host)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("signed_at", &format_args!("{}", rfc3339(self.signed_at)))
            .field("expires_secs", &self.expires_secs)
            .field("cluster_name", &self.cluster_name)
            .field("has_session_token", &self.has_session_token)
            .finish()
    }
}

/// Which check a token failed. Messages quote the offending part, never the token, the
/// signature, the credential or the session token.
#[derive(Debug, thiserror::Error)]
pub enum VerifyError {
    #[error("token is {len} bytes long; the EKS authenticator accepts at most {MAX_TOKEN_LEN}")]
    TooLong { len: usize },
    #[error("token does not start with `{TOKEN_PREFIX}`")]
    MissingPrefix,
    #[error("token is not unpadded base64url after `{TOKEN_PREFIX}`")]
    Base64(#[source] base64::DecodeError),
    #[error("decoded token is not UTF-8 text")]
    NotUtf8,
    #[error("decoded token is not a URL: {reason}")]
    InvalidUrl { reason: &'static str },
    #[error("pre-signed URL has scheme `{scheme}`; expected `https`")]
    Scheme { scheme: String },
    #[error("pre-signed URL has {part}; STS pre-signed URLs have none")]
    UnexpectedUrlPart { part: &'static str },
    #[error("pre-signed URL names host `{host}`, {}", rule.describe())]
    Host { host: String, rule: HostRule },
    #[error("pre-signed URL has path `{path}`; expected `/`")]
    Path { path: String },
    #[error("pre-signed URL has a malformed query: {reason}")]
    MalformedQuery { reason: &'static str },
    #[error(
        "query parameter `{key}` appears more than once (in some letter case): a forged token \
         (CVE-2022-2385)"
    )]
    DuplicateParameter { key: String },
    #[error("query parameter `{key}` is not allowed in a pre-signed GetCallerIdentity URL")]
    ParameterNotAllowed { key: String },
    #[error("`Action` is `{action}`; expected `GetCallerIdentity`")]
    Action { action: String },
    #[error(
        "`{CLUSTER_ID_HEADER}` is not among the signed headers (`X-Amz-SignedHeaders` is \
         `{signed_headers}`)"
    )]
    ClusterIdNotSigned { signed_headers: String },
    #[error("`X-Amz-Expires` is `{value}`; expected whole seconds in 0..=900")]
    Expires { value: String },
    #[error("`X-Amz-Date` is missing")]
    MissingDate,
    #[error("`X-Amz-Date` is `{value}`; expected `YYYYMMDDTHHMMSSZ`")]
    Date { value: String },
    #[error(
        "token expired at {expired_at}: it was signed at {signed_at} and STS accepts it for 15 \
         minutes"
    )]
    Expired {
        signed_at: String,
        expired_at: String,
    },
}

/// `base64.RawURLEncoding` of Go: URL-safe alphabet, no padding allowed, non-zero trailing bits
/// tolerated.
const RAW_URL: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

/// The presigned URL inside a token: prefix and base64url only, no other check. For
/// diagnosis (`whoami`, `verify` output); print the result with [`redact_url`].
pub fn decode(token: &str) -> Result<String, VerifyError> {
    let encoded = token
        .strip_prefix(TOKEN_PREFIX)
        .ok_or(VerifyError::MissingPrefix)?;
    // Go's base64 decoder skips `\r` and `\n`.
    let encoded: Cow<'_, str> = if encoded.contains(['\r', '\n']) {
        Cow::Owned(encoded.replace(['\r', '\n'], ""))
    } else {
        Cow::Borrowed(encoded)
    };
    let bytes = RAW_URL
        .decode(encoded.as_bytes())
        .map_err(VerifyError::Base64)?;
    String::from_utf8(bytes).map_err(|_| VerifyError::NotUtf8)
}

/// Check `token` as the EKS authenticator does before it calls STS (see the module docs), at
/// time `now`.
pub fn verify(
    token: &str,
    now: SystemTime,
    rules: &VerifyRules,
) -> Result<PresignedRequest, VerifyError> {
    if token.len() > MAX_TOKEN_LEN {
        return Err(VerifyError::TooLong { len: token.len() });
    }
    let url = decode(token)?;
    let parts = UrlParts::parse(&url)?;

    if !parts.scheme.eq_ignore_ascii_case("https") {
        return Err(VerifyError::Scheme {
            scheme: parts.scheme.to_ascii_lowercase(),
        });
    }
    if parts.user_info {
        return Err(VerifyError::UnexpectedUrlPart { part: "user info" });
    }
    let host_error = |rule| VerifyError::Host {
        host: parts.host.to_owned(),
        rule,
    };
    let region = match &rules.partition {
        Some(partition) => host::check_host(
            parts.host,
            partition,
            rules.region.as_deref().unwrap_or_default(),
        )
        .map_err(host_error)?,
        None => PARTITIONS
            .iter()
            .find_map(|p| host::check_host(parts.host, p, "").ok())
            .ok_or_else(|| host_error(HostRule::NotSts))?,
    };
    if parts.path != "/" {
        return Err(VerifyError::Path {
            path: parts.path.to_owned(),
        });
    }
    if parts.fragment {
        return Err(VerifyError::UnexpectedUrlPart { part: "a fragment" });
    }

    let params = parse_query(parts.query)?;
    for (i, (key, _)) in params.iter().enumerate() {
        if params[..i]
            .iter()
            .any(|(earlier, _)| earlier.eq_ignore_ascii_case(key))
        {
            return Err(VerifyError::DuplicateParameter { key: key.clone() });
        }
    }
    for (key, _) in &params {
        if !ALLOWED_PARAMETERS
            .iter()
            .any(|allowed| allowed.eq_ignore_ascii_case(key))
        {
            return Err(VerifyError::ParameterNotAllowed { key: key.clone() });
        }
    }
    // Keys are unique ignoring case from here on.
    let get = |name: &str| {
        params
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    };

    let action = get("Action").unwrap_or_default();
    if action != "GetCallerIdentity" {
        return Err(VerifyError::Action {
            action: action.to_owned(),
        });
    }

    let signed_headers = get("X-Amz-SignedHeaders").unwrap_or_default();
    if !signed_headers
        .split(';')
        .any(|header| header.eq_ignore_ascii_case(CLUSTER_ID_HEADER))
    {
        return Err(VerifyError::ClusterIdNotSigned {
            signed_headers: signed_headers.to_owned(),
        });
    }

    // Go's strconv.Atoi: optional sign, decimal digits, as i64::from_str.
    let expires_value = get("X-Amz-Expires").unwrap_or_default();
    let expires_secs = expires_value
        .parse::<i64>()
        .ok()
        .filter(|secs| (0..=900).contains(secs))
        .ok_or_else(|| VerifyError::Expires {
            value: expires_value.to_owned(),
        })?;

    let date = get("X-Amz-Date")
        .filter(|date| !date.is_empty())
        .ok_or(VerifyError::MissingDate)?;
    let signed_at = parse_amz_date(date).ok_or_else(|| VerifyError::Date {
        value: date.to_owned(),
    })?;
    let expired_at = signed_at + PRESIGNED_URL_LIFETIME;
    if now > expired_at {
        return Err(VerifyError::Expired {
            signed_at: rfc3339(signed_at),
            expired_at: rfc3339(expired_at),
        });
    }

    let access_key_id = get("X-Amz-Credential")
        .unwrap_or_default()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let has_session_token = get("X-Amz-Security-Token").is_some();
    let host = parts.host.to_owned();
    Ok(PresignedRequest {
        url,
        host,
        region,
        access_key_id,
        signed_at,
        expires_secs: expires_secs.unsigned_abs(),
        cluster_name: rules.cluster_name.clone(),
        has_session_token,
    })
}

/// aws-iam-authenticator `parameterWhitelist` (compared ignoring case).
const ALLOWED_PARAMETERS: &[&str] = &[
    "Action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
];

/// The pieces of a URL as Go's `url.Parse` splits them.
struct UrlParts<'a> {
    scheme: &'a str,
    user_info: bool,
    host: &'a str,
    path: &'a str,
    query: &'a str,
    fragment: bool,
}

impl<'a> UrlParts<'a> {
    fn parse(url: &'a str) -> Result<Self, VerifyError> {
        if url.bytes().any(|b| b < 0x20 || b == 0x7f) {
            return Err(VerifyError::InvalidUrl {
                reason: "it contains a control character",
            });
        }
        let (url, fragment) = match url.split_once('#') {
            Some((before, _)) => (before, true),
            None => (url, false),
        };
        // Go's getScheme: a letter, then letters, digits, `+`, `-`, `.`, up to `:`. Anything
        // else first means there is no scheme.
        let mut scheme = "";
        let mut rest = url;
        for (i, c) in url.char_indices() {
            match c {
                'a'..='z' | 'A'..='Z' => {}
                '0'..='9' | '+' | '-' | '.' if i > 0 => {}
                ':' if i == 0 => {
                    return Err(VerifyError::InvalidUrl {
                        reason: "missing protocol scheme",
                    });
                }
                ':' => {
                    scheme = &url[..i];
                    rest = &url[i + 1..];
                    break;
                }
                _ => break,
            }
        }
        let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (user_info, host, path) = match rest.strip_prefix("//") {
            Some(authority_and_path) => {
                let (authority, path) = match authority_and_path.find('/') {
                    Some(i) => authority_and_path.split_at(i),
                    None => (authority_and_path, ""),
                };
                match authority.rsplit_once('@') {
                    Some((_, host)) => (true, host, path),
                    None => (false, authority, path),
                }
            }
            None => (false, "", rest),
        };
        Ok(UrlParts {
            scheme,
            user_info,
            host,
            path,
            query,
            fragment,
        })
    }
}

/// Go's `url.ParseQuery`: `&`-separated, empty pieces skipped, a piece containing `;` is an
/// error, keys and values are query-unescaped (`+` is a space, `%XX` must be hex).
fn parse_query(query: &str) -> Result<Vec<(String, String)>, VerifyError> {
    let mut params = Vec::new();
    for piece in query.split('&') {
        if piece.contains(';') {
            return Err(VerifyError::MalformedQuery {
                reason: "`;` separates parameters (only `&` may)",
            });
        }
        if piece.is_empty() {
            continue;
        }
        let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
        let bad_escape = || VerifyError::MalformedQuery {
            reason: "invalid percent-escape",
        };
        params.push((
            query_unescape(key).ok_or_else(bad_escape)?,
            query_unescape(value).ok_or_else(bad_escape)?,
        ));
    }
    Ok(params)
}

fn query_unescape(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3)?;
                let hex = std::str::from_utf8(hex).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    Some(String::from_utf8_lossy(&out).into_owned())
}

/// `X-Amz-Date` as Go's `time.Parse("20060102T150405Z", ...)` reads it.
fn parse_amz_date(date: &str) -> Option<SystemTime> {
    let b = date.as_bytes();
    let digits = |range: std::ops::Range<usize>| -> Option<i32> {
        let part = b.get(range)?;
        part.iter()
            .all(u8::is_ascii_digit)
            .then(|| part.iter().fold(0, |n, d| n * 10 + i32::from(d - b'0')))
    };
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = i16::try_from(digits(0..4)?).ok()?;
    let month = i8::try_from(digits(4..6)?).ok()?;
    let day = i8::try_from(digits(6..8)?).ok()?;
    let hour = i8::try_from(digits(9..11)?).ok()?;
    let minute = i8::try_from(digits(11..13)?).ok()?;
    let second = i8::try_from(digits(13..15)?).ok()?;
    let civil = jiff::civil::DateTime::new(year, month, day, hour, minute, second, 0).ok()?;
    let timestamp = jiff::tz::TimeZone::UTC.to_timestamp(civil).ok()?;
    Some(SystemTime::from(timestamp))
}

#[cfg(test)]
mod tests {
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
            let request =
                verify(&token, at(60), &rules()).unwrap_or_else(|e| panic!("{host}: {e}"));
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
}
