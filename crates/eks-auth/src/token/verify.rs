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
mod tests;
