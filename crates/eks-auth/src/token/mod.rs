//! EKS bearer tokens: presign, ExecCredential output, verification.
//!
//! An EKS token is `k8s-aws-v1.` followed by the unpadded base64url encoding of a presigned
//! `GET https://sts.REGION.SUFFIX/?Action=GetCallerIdentity&Version=2011-06-15&X-Amz-...` URL
//! whose signature covers the `host` and `x-k8s-aws-id` (cluster name) headers. The API server's
//! authenticator (aws-iam-authenticator) checks the URL's shape, sends it to STS with the
//! `x-k8s-aws-id` header set to its own cluster name, and maps the identity STS answers with.
//!
//! Everything here is pure: time is a parameter, nothing touches the network.

mod exec;
pub mod host;
mod presign;
mod verify;

use std::fmt;
use std::time::{Duration, SystemTime};

pub use exec::{ExecApiVersion, exec_api_version, exec_credential_json};
pub use host::HostRule;
pub use presign::{TokenError, presign, sts_host};
pub use verify::{PresignedRequest, VerifyError, VerifyRules, decode, verify};

/// Every EKS token starts with this.
pub const TOKEN_PREFIX: &str = "k8s-aws-v1.";
/// The signed header that binds a token to one cluster.
pub const CLUSTER_ID_HEADER: &str = "x-k8s-aws-id";
/// The longest token aws-iam-authenticator accepts, in bytes (`maxTokenLenBytes`).
pub const MAX_TOKEN_LEN: usize = 4096;
/// `X-Amz-Expires` of a presigned token. STS ignores it for GetCallerIdentity (a presigned URL is
/// valid for 15 minutes after `X-Amz-Date`); aws-iam-authenticator sends 60 "for legacy
/// reasons" and old authenticators (0.3.0 and earlier) require 0..=60.
pub const PRESIGN_EXPIRES_SECS: u64 = 60;
/// How long STS accepts a presigned GetCallerIdentity URL after its `X-Amz-Date`.
pub const PRESIGNED_URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The expiry a token is announced with: one minute before STS stops accepting it, as
/// aws-iam-authenticator and `aws eks get-token` do.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(14 * 60);

/// AWS credentials to sign with. `Debug` shows the access key id only.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "** redacted **"),
            )
            .finish()
    }
}

/// A bearer token and the time it should no longer be used. `Debug` hides the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    pub token: String,
    pub expiration: SystemTime,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field(
                "token",
                &format_args!("{TOKEN_PREFIX}** redacted {} bytes **", self.token.len()),
            )
            .field("expiration", &format_args!("{}", rfc3339(self.expiration)))
            .finish()
    }
}

/// What replaces a secret in [`redact_url`].
const REDACTED: &str = "REDACTED";

/// Query parameters of a presigned URL that must never be shown: the credential scope (it names
/// the access key), the session token, the signature.
fn is_secret_parameter(key: &str) -> bool {
    [
        "x-amz-credential",
        "x-amz-security-token",
        "x-amz-signature",
    ]
    .iter()
    .any(|secret| key.eq_ignore_ascii_case(secret))
}

/// The URL with the values of `X-Amz-Credential`, `X-Amz-Security-Token` and `X-Amz-Signature`
/// (in any letter case, also percent-encoded) and any user info replaced by `REDACTED`; fit for
/// logs and error messages. Works on any string: without a `?` only user info is redacted.
pub fn redact_url(url: &str) -> String {
    let (before_fragment, fragment) = match url.split_once('#') {
        Some((before, fragment)) => (before, Some(fragment)),
        None => (url, None),
    };
    let (base, query) = match before_fragment.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (before_fragment, None),
    };

    let mut out = String::with_capacity(url.len());
    // User info: `scheme://USERINFO@host/...`.
    match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            out.push_str(scheme);
            out.push_str("://");
            match authority.rsplit_once('@') {
                Some((_, host)) => {
                    out.push_str(REDACTED);
                    out.push('@');
                    out.push_str(host);
                }
                None => out.push_str(authority),
            }
            out.push_str(path);
        }
        None => out.push_str(base),
    }
    if let Some(query) = query {
        out.push('?');
        for (i, segment) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match segment.split_once('=') {
                Some((key, _)) if is_secret_parameter(&lossy_unescape(key)) => {
                    out.push_str(key);
                    out.push('=');
                    out.push_str(REDACTED);
                }
                _ => out.push_str(segment),
            }
        }
    }
    if let Some(fragment) = fragment {
        out.push('#');
        out.push_str(fragment);
    }
    out
}

/// Percent-decode for comparison only (invalid escapes are kept as they are).
fn lossy_unescape(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

pub(crate) use crate::time::rfc3339;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_debug_hides_secret_and_session_token() {
        let creds = Credentials {
            access_key_id: "ASIAR2TG44V6AS3ZZE7C".into(),
            secret_access_key: "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q".into(),
            session_token: Some("FwoGZXIvYXdzEBQaDSESSIONTOKEN".into()),
        };
        let debug = format!("{creds:?}");
        assert_eq!(
            debug,
            "Credentials { access_key_id: \"ASIAR2TG44V6AS3ZZE7C\", secret_access_key: \"** redacted **\", session_token: Some(\"** redacted **\") }"
        );
        let pretty = format!("{creds:#?}");
        assert!(!pretty.contains("4KD5cnt") && !pretty.contains("SESSIONTOKEN"));
    }

    #[test]
    fn token_debug_hides_the_token() {
        let token = Token {
            token: "k8s-aws-v1.aHR0cHM6Ly9zdHMuYW1hem9uYXdzLmNvbS8_U0VDUkVU".into(),
            expiration: SystemTime::UNIX_EPOCH + Duration::from_secs(1_682_640_840),
        };
        assert_eq!(
            format!("{token:?}"),
            "Token { token: k8s-aws-v1.** redacted 55 bytes **, expiration: 2023-04-28T00:14:00Z }"
        );
    }

    #[test]
    fn redact_url_hides_credential_token_signature_and_user_info() {
        let url = "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
                   &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAR2TG44V6AS3ZZE7C%2F20230428%2Fus-west-2%2Fsts%2Faws4_request\
                   &X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-Security-Token=FwoGZXIvYXdz%2Bsecret\
                   &X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=e211dba77aba9dc44b0b6be38b8eaad092599c5157f6314444c5b9d85747f5ce";
        assert_eq!(
            redact_url(url),
            "https://sts.us-west-2.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15\
             &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=REDACTED\
             &X-Amz-Date=20230428T000000Z&X-Amz-Expires=60&X-Amz-Security-Token=REDACTED\
             &X-Amz-SignedHeaders=host%3Bx-k8s-aws-id&X-Amz-Signature=REDACTED"
        );
        // Any letter case, percent-encoded keys, user info, fragments.
        assert_eq!(
            redact_url(
                "https://me:pw@sts.amazonaws.com/?x-amz-signature=abc&%58-Amz-Credential=k#f"
            ),
            "https://REDACTED@sts.amazonaws.com/?x-amz-signature=REDACTED&%58-Amz-Credential=REDACTED#f"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            redact_url("https://h/?X-Amz-Signature"),
            "https://h/?X-Amz-Signature"
        );
    }
}
