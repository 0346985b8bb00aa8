//! The AWS I/O edge (cargo feature `aws`): the standard credential chain, region resolution,
//! STS AssumeRole and GetCallerIdentity, EKS DescribeCluster, and sending a presigned
//! GetCallerIdentity request the way the EKS authenticator does.
//!
//! Everything that decides is pure and lives elsewhere (`token`, `arn`); this module only fetches.
//! The SDK's own calls honour `AWS_ENDPOINT_URL` (aws-config reads it into the `SdkConfig`); the
//! token itself always names the partition's real STS host (see `token::presign`).

use std::error::Error as StdError;
use std::time::SystemTime;

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::ProvideErrorMetadata;

use crate::arn::{Arn, partition_for_region};
use crate::token::{CLUSTER_ID_HEADER, Credentials};

type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Session name `aws eks get-token --role-arn` uses (awscli `customizations/eks/get_token.py`:
/// `RoleSessionName='EKSGetTokenAuth'`). Using the same one keeps `{{SessionName}}` username
/// templates in aws-auth giving the same username whichever tool signed.
pub const DEFAULT_ROLE_SESSION_NAME: &str = "EKSGetTokenAuth";

/// Errors of the AWS edge. `hint()` says what the user can do next.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS region configured")]
    NoRegion,
    #[error("unknown AWS region `{region}`")]
    UnknownRegion { region: String },
    #[error("no AWS credentials found{}", in_profile(.profile))]
    NoCredentials {
        profile: Option<String>,
        #[source]
        source: CredentialsError,
    },
    #[error("the AWS SSO session{} has expired or was never started", in_profile(.profile))]
    SsoLoginRequired {
        profile: Option<String>,
        #[source]
        source: CredentialsError,
    },
    #[error("loading AWS credentials{} failed", in_profile(.profile))]
    Credentials {
        profile: Option<String>,
        #[source]
        source: CredentialsError,
    },
    #[error("access denied: `{principal}` may not assume role `{role}`")]
    AssumeRoleDenied {
        role: String,
        principal: String,
        #[source]
        source: BoxError,
    },
    #[error("STS AssumeRole of `{role}` failed")]
    AssumeRole {
        role: String,
        #[source]
        source: BoxError,
    },
    #[error("STS AssumeRole of `{role}` returned no credentials")]
    AssumeRoleNoCredentials { role: String },
    #[error("STS GetCallerIdentity failed")]
    CallerIdentity {
        #[source]
        source: BoxError,
    },
    #[error("EKS cluster `{name}` not found in region `{region}`")]
    ClusterNotFound { name: String, region: String },
    #[error("EKS DescribeCluster of `{name}` failed")]
    DescribeCluster {
        name: String,
        #[source]
        source: BoxError,
    },
    #[error("EKS cluster `{name}` is `{status}`, not ACTIVE or UPDATING")]
    ClusterNotActive { name: String, status: String },
    #[error("EKS DescribeCluster of `{name}` returned no `{field}`")]
    ClusterIncomplete { name: String, field: &'static str },
    #[error("invalid STS endpoint `{endpoint}`")]
    InvalidEndpoint {
        endpoint: String,
        #[source]
        source: BoxError,
    },
    #[error("sending the presigned request to `{endpoint}` failed")]
    PresignedSend {
        endpoint: String,
        #[source]
        source: BoxError,
    },
    #[error("STS rejected the token: {code}: {message}")]
    StsRejected {
        status: u16,
        code: String,
        message: String,
    },
    #[error("unexpected STS response (HTTP {status}): `{body}`")]
    StsResponse { status: u16, body: String },
}

fn in_profile(profile: &Option<String>) -> String {
    match profile {
        Some(p) => format!(" for profile `{p}`"),
        None => String::new(),
    }
}

impl AwsError {
    /// What the user can do about it, if anything useful can be said.
    pub fn hint(&self) -> Option<String> {
        match self {
            AwsError::NoRegion => Some(
                "pass `--region`, set AWS_REGION, or set `region` in the profile (`aws configure`)"
                    .to_owned(),
            ),
            AwsError::UnknownRegion { .. } => Some(
                "regions look like `us-east-1`, `eu-west-2`, `cn-north-1` or `us-gov-west-1`"
                    .to_owned(),
            ),
            AwsError::NoCredentials { profile, .. } => Some(match profile {
                Some(p) => format!(
                    "check that profile `{p}` exists and has credentials (`aws configure list --profile {p}`), or run `aws sso login --profile {p}` for an SSO profile"
                ),
                None => "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass `--profile`, or run `aws configure`".to_owned(),
            }),
            AwsError::SsoLoginRequired { profile, .. } => Some(match profile {
                Some(p) => format!("run `aws sso login --profile {p}`"),
                None => "run `aws sso login`".to_owned(),
            }),
            AwsError::AssumeRoleDenied { role, principal, .. } => Some(format!(
                "the trust policy of `{role}` must allow `{principal}` to call sts:AssumeRole, and that principal's own policy must allow it too; check `--external-id` if the trust policy requires one"
            )),
            AwsError::StsRejected { code, .. } if code == "SignatureDoesNotMatch" => Some(
                "the `x-k8s-aws-id` header is signed: pass the cluster name the token was made for"
                    .to_owned(),
            ),
            AwsError::ClusterNotFound { region, .. } => Some(format!(
                "list the clusters with `aws eks list-clusters --region {region}`, or pass the cluster's `--region`"
            )),
            _ => None,
        }
    }
}

/// What selects the AWS configuration: `--profile` and `--region` (flags win over the environment).
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// A loaded AWS configuration (region resolved and checked).
#[derive(Debug, Clone)]
pub struct AwsContext {
    config: SdkConfig,
    profile: Option<String>,
    region: String,
}

/// Caller identity as STS GetCallerIdentity reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub account: String,
    pub user_id: String,
}

/// Temporary credentials from STS AssumeRole.
#[derive(Debug, Clone)]
pub struct AssumedRole {
    pub credentials: Credentials,
    pub assumed_role_arn: Option<String>,
    pub expiration: Option<SystemTime>,
}

/// An AssumeRole request.
#[derive(Debug, Clone)]
pub struct AssumeRoleRequest {
    pub role_arn: String,
    pub session_name: String,
    pub external_id: Option<String>,
}

/// Endpoint and CA of an EKS cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    pub name: String,
    pub arn: String,
    pub endpoint: String,
    /// base64 PEM, as DescribeCluster returns it and kubeconfig wants it.
    pub certificate_authority_data: String,
}

/// Check a region name against the partitions we know.
pub fn check_region(region: &str) -> Result<(), AwsError> {
    match partition_for_region(region) {
        Some(_) => Ok(()),
        None => Err(AwsError::UnknownRegion {
            region: region.to_owned(),
        }),
    }
}

/// Load the standard configuration: credentials chain (env, shared config/credentials files and
/// profiles, SSO, web identity, container, IMDS, credential_process) and region
/// (`--region` > AWS_REGION > AWS_DEFAULT_REGION > profile > IMDS).
pub async fn load_context(options: &AwsOptions) -> Result<AwsContext, AwsError> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(profile) = &options.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &options.region {
        loader = loader.region(Region::new(region.clone()));
    }
    let config = loader.load().await;
    let region = config
        .region()
        .map(|r| r.as_ref().to_owned())
        .ok_or(AwsError::NoRegion)?;
    check_region(&region)?;
    Ok(AwsContext {
        config,
        profile: options
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok()),
        region,
    })
}

impl AwsContext {
    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn profile(&self) -> Option<&str> {
        self.profile.as_deref()
    }

    pub fn sdk_config(&self) -> &SdkConfig {
        &self.config
    }

    /// Resolve credentials from the chain.
    pub async fn fetch_credentials(&self) -> Result<Credentials, AwsError> {
        let Some(provider) = self.config.credentials_provider() else {
            return Err(AwsError::NoCredentials {
                profile: self.profile.clone(),
                source: CredentialsError::not_loaded("no credentials provider configured"),
            });
        };
        let creds = provider
            .provide_credentials()
            .await
            .map_err(|source| classify_credentials_error(self.profile.clone(), source))?;
        Ok(Credentials {
            access_key_id: creds.access_key_id().to_owned(),
            secret_access_key: creds.secret_access_key().to_owned(),
            session_token: creds.session_token().map(str::to_owned),
        })
    }

    /// STS GetCallerIdentity with the chain's credentials.
    pub async fn fetch_caller_identity(&self) -> Result<CallerIdentity, AwsError> {
        let client = aws_sdk_sts::Client::new(&self.config);
        let out = client.get_caller_identity().send().await.map_err(|err| {
            credentials_cause(&err, self.profile.clone()).unwrap_or_else(|| {
                AwsError::CallerIdentity {
                    source: Box::new(err),
                }
            })
        })?;
        Ok(CallerIdentity {
            arn: out.arn().unwrap_or_default().to_owned(),
            account: out.account().unwrap_or_default().to_owned(),
            user_id: out.user_id().unwrap_or_default().to_owned(),
        })
    }

    /// STS AssumeRole with the chain's credentials.
    pub async fn assume_role(&self, request: &AssumeRoleRequest) -> Result<AssumedRole, AwsError> {
        let client = aws_sdk_sts::Client::new(&self.config);
        let result = client
            .assume_role()
            .role_arn(&request.role_arn)
            .role_session_name(&request.session_name)
            .set_external_id(request.external_id.clone())
            .send()
            .await;
        let out = match result {
            Ok(out) => out,
            Err(err) => {
                if let Some(cred_err) = credentials_cause(&err, self.profile.clone()) {
                    return Err(cred_err);
                }
                let denied = err.as_service_error().and_then(|e| e.code()) == Some("AccessDenied");
                if denied {
                    // Name the principal that was refused: ask STS who we are (best effort).
                    let principal = match self.fetch_caller_identity().await {
                        Ok(id) => id.arn,
                        Err(_) => "the current AWS identity".to_owned(),
                    };
                    return Err(AwsError::AssumeRoleDenied {
                        role: request.role_arn.clone(),
                        principal,
                        source: Box::new(err),
                    });
                }
                return Err(AwsError::AssumeRole {
                    role: request.role_arn.clone(),
                    source: Box::new(err),
                });
            }
        };
        let Some(c) = out.credentials() else {
            return Err(AwsError::AssumeRoleNoCredentials {
                role: request.role_arn.clone(),
            });
        };
        Ok(AssumedRole {
            credentials: Credentials {
                access_key_id: c.access_key_id().to_owned(),
                secret_access_key: c.secret_access_key().to_owned(),
                session_token: Some(c.session_token().to_owned()),
            },
            assumed_role_arn: out.assumed_role_user().map(|u| u.arn().to_owned()),
            expiration: SystemTime::try_from(*c.expiration()).ok(),
        })
    }

    /// EKS DescribeCluster: endpoint and CA of a cluster in this context's region.
    pub async fn describe_cluster(&self, name: &str) -> Result<ClusterInfo, AwsError> {
        let client = aws_sdk_eks::Client::new(&self.config);
        let out = match client.describe_cluster().name(name).send().await {
            Ok(out) => out,
            Err(err) => {
                if let Some(cred_err) = credentials_cause(&err, self.profile.clone()) {
                    return Err(cred_err);
                }
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_not_found_exception())
                {
                    // The service's message only repeats this, so it is not kept as a source.
                    return Err(AwsError::ClusterNotFound {
                        name: name.to_owned(),
                        region: self.region.clone(),
                    });
                }
                return Err(AwsError::DescribeCluster {
                    name: name.to_owned(),
                    source: Box::new(err),
                });
            }
        };
        let incomplete = |field| AwsError::ClusterIncomplete {
            name: name.to_owned(),
            field,
        };
        let cluster = out.cluster().ok_or_else(|| incomplete("cluster"))?;
        if let Some(status) = cluster.status() {
            let status = status.as_str();
            // awscli update-kubeconfig accepts these two only.
            if status != "ACTIVE" && status != "UPDATING" {
                return Err(AwsError::ClusterNotActive {
                    name: name.to_owned(),
                    status: status.to_owned(),
                });
            }
        }
        Ok(ClusterInfo {
            name: name.to_owned(),
            arn: cluster.arn().ok_or_else(|| incomplete("arn"))?.to_owned(),
            endpoint: cluster
                .endpoint()
                .ok_or_else(|| incomplete("endpoint"))?
                .to_owned(),
            certificate_authority_data: cluster
                .certificate_authority()
                .and_then(|c| c.data())
                .ok_or_else(|| incomplete("certificateAuthority.data"))?
                .to_owned(),
        })
    }
}

/// The SDK wraps a failing credentials provider inside the operation error; find it and classify it.
fn credentials_cause(err: &(dyn StdError + 'static), profile: Option<String>) -> Option<AwsError> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(c) = e.downcast_ref::<CredentialsError>() {
            return Some(classify_credentials_error(
                profile,
                clone_credentials_error(c),
            ));
        }
        cur = e.source();
    }
    None
}

/// `CredentialsError` is not `Clone`; keep its message chain as an unhandled error of the same kind.
fn clone_credentials_error(err: &CredentialsError) -> CredentialsError {
    let text = error_chain_text(err);
    match err {
        CredentialsError::CredentialsNotLoaded(_) => CredentialsError::not_loaded(text),
        CredentialsError::InvalidConfiguration(_) => CredentialsError::invalid_configuration(text),
        CredentialsError::ProviderError(_) => CredentialsError::provider_error(text),
        _ => CredentialsError::unhandled(text),
    }
}

fn error_chain_text(err: &(dyn StdError + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut cur = err.source();
    while let Some(e) = cur {
        parts.push(e.to_string());
        cur = e.source();
    }
    parts.join(": ")
}

/// Sort a credentials failure into something the user can act on.
///
/// aws-config's SSO token errors are private types, so an expired or missing SSO session is
/// recognised by its messages (aws-config `sso/token.rs`: "the SSO token has expired and cannot
/// be refreshed", "failed to load the cached SSO token"; the portal answers an invalid token
/// with `UnauthorizedException`).
fn classify_credentials_error(profile: Option<String>, source: CredentialsError) -> AwsError {
    let text = error_chain_text(&source);
    if is_sso_login_error(&text) {
        return AwsError::SsoLoginRequired { profile, source };
    }
    match source {
        CredentialsError::CredentialsNotLoaded(_) => AwsError::NoCredentials { profile, source },
        other => AwsError::Credentials {
            profile,
            source: other,
        },
    }
}

fn is_sso_login_error(text: &str) -> bool {
    text.contains("SSO token has expired")
        || text.contains("cached SSO token")
        || (text.contains("SSO") && text.contains("UnauthorizedException"))
}

/// Send a presigned GetCallerIdentity URL as the EKS authenticator does: GET, with the
/// `x-k8s-aws-id` header, to the URL's own host, or to `endpoint` (scheme://host:port) keeping
/// the signed Host header. Returns the identity STS answers with.
pub async fn fetch_presigned_identity(
    url: &str,
    cluster_id: Option<&str>,
    endpoint: Option<&str>,
) -> Result<CallerIdentity, AwsError> {
    use aws_smithy_http_client::tls;
    use aws_smithy_runtime_api::client::http::HttpConnector;
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;

    let parsed = url::Url::parse(url).map_err(|e| AwsError::InvalidEndpoint {
        endpoint: crate::token::redact_url(url),
        source: Box::new(e),
    })?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => {
            return Err(AwsError::InvalidEndpoint {
                endpoint: crate::token::redact_url(url),
                source: "no host in the presigned URL".into(),
            });
        }
    };
    let (target, shown) = match endpoint {
        Some(ep) => {
            let base = url::Url::parse(ep).map_err(|e| AwsError::InvalidEndpoint {
                endpoint: ep.to_owned(),
                source: Box::new(e),
            })?;
            let mut t = base.clone();
            t.set_path(parsed.path());
            t.set_query(parsed.query());
            (t.to_string(), ep.to_owned())
        }
        None => (url.to_owned(), format!("{}://{host}", parsed.scheme())),
    };

    let mut builder = http::Request::builder()
        .method("GET")
        .uri(&target)
        .header("host", &host);
    if let Some(id) = cluster_id {
        builder = builder.header(CLUSTER_ID_HEADER, id);
    }
    let send_err = |source: BoxError| AwsError::PresignedSend {
        endpoint: shown.clone(),
        source,
    };
    let request = builder
        .body(SdkBody::empty())
        .map_err(|e| send_err(Box::new(e)))?;
    let request = HttpRequest::try_from(request).map_err(|e| send_err(Box::new(e)))?;

    let connector = aws_smithy_http_client::Connector::builder()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build();
    let response = connector
        .call(request)
        .await
        .map_err(|e| send_err(Box::new(e)))?;
    let status = response.status().as_u16();
    // The body streams: collect it (STS answers are a few hundred bytes).
    let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(|e| send_err(Box::new(e)))?
        .to_vec();
    let text = String::from_utf8_lossy(&bytes);
    parse_sts_response(status, &text)
}

/// Parse STS's XML answer to GetCallerIdentity (success or error document).
pub fn parse_sts_response(status: u16, body: &str) -> Result<CallerIdentity, AwsError> {
    if (200..300).contains(&status) {
        let get = |tag| xml_text(body, tag);
        match (get("Arn"), get("Account"), get("UserId")) {
            (Some(arn), Some(account), Some(user_id)) => Ok(CallerIdentity {
                arn,
                account,
                user_id,
            }),
            _ => Err(AwsError::StsResponse {
                status,
                body: truncate(body),
            }),
        }
    } else {
        match (xml_text(body, "Code"), xml_text(body, "Message")) {
            (Some(code), message) => Err(AwsError::StsRejected {
                status,
                code,
                message: message.unwrap_or_default(),
            }),
            _ => Err(AwsError::StsResponse {
                status,
                body: truncate(body),
            }),
        }
    }
}

fn truncate(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &body[..i]),
        None => body.to_owned(),
    }
}

/// Text of the first `<tag>...</tag>` element, XML entities decoded. STS documents are flat
/// and small; a full XML parser would add a dependency for five fields.
pub(crate) fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&close)?;
    Some(
        doc[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// The caller's session name for `--forward-session-name`: the session of an assumed-role ARN.
pub fn session_name_of(identity: &CallerIdentity) -> Option<String> {
    identity
        .arn
        .parse::<Arn>()
        .ok()?
        .session_name()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/dev/alice&amp;co</Arn>
    <UserId>AROAEXAMPLE:alice&amp;co</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

    const DENIED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided.</Message></Error>
  <RequestId>x</RequestId></ErrorResponse>"#;

    #[test]
    fn parses_caller_identity() {
        let id = parse_sts_response(200, OK).unwrap();
        assert_eq!(
            id,
            CallerIdentity {
                arn: "arn:aws:sts::123456789012:assumed-role/dev/alice&co".into(),
                account: "123456789012".into(),
                user_id: "AROAEXAMPLE:alice&co".into(),
            }
        );
    }

    #[test]
    fn parses_sts_error() {
        let err = parse_sts_response(403, DENIED).unwrap_err();
        assert_eq!(
            err.to_string(),
            "STS rejected the token: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided."
        );
        let AwsError::StsRejected { status, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(status, 403);
    }

    #[test]
    fn garbage_response_is_reported_truncated() {
        let body = "x".repeat(500);
        let err = parse_sts_response(200, &body).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "unexpected STS response (HTTP 200): `{}...`",
                "x".repeat(300)
            )
        );
    }

    #[test]
    fn region_check() {
        assert!(check_region("us-west-2").is_ok());
        assert!(check_region("cn-north-1").is_ok());
        let err = check_region("mars-north-1").unwrap_err();
        assert_eq!(err.to_string(), "unknown AWS region `mars-north-1`");
        assert!(err.hint().unwrap().contains("us-east-1"));
    }

    #[test]
    fn sso_errors_are_recognised() {
        let err = classify_credentials_error(
            Some("dev".into()),
            CredentialsError::provider_error("the SSO token has expired and cannot be refreshed"),
        );
        assert_eq!(
            err.to_string(),
            "the AWS SSO session for profile `dev` has expired or was never started"
        );
        assert_eq!(err.hint().unwrap(), "run `aws sso login --profile dev`");

        let err = classify_credentials_error(
            None,
            CredentialsError::not_loaded("no providers in chain provided credentials"),
        );
        assert!(matches!(err, AwsError::NoCredentials { .. }));
        assert_eq!(err.to_string(), "no AWS credentials found");

        let err = classify_credentials_error(
            Some("x".into()),
            CredentialsError::invalid_configuration("bad"),
        );
        assert_eq!(
            err.to_string(),
            "loading AWS credentials for profile `x` failed"
        );
    }

    #[test]
    fn assume_role_denied_names_both() {
        let err = AwsError::AssumeRoleDenied {
            role: "arn:aws:iam::1:role/admin".into(),
            principal: "arn:aws:iam::1:user/bob".into(),
            source: "AccessDenied".into(),
        };
        assert_eq!(
            err.to_string(),
            "access denied: `arn:aws:iam::1:user/bob` may not assume role `arn:aws:iam::1:role/admin`"
        );
    }

    #[test]
    fn forwarded_session_name() {
        let id = CallerIdentity {
            arn: "arn:aws:sts::123456789012:assumed-role/dev/alice".into(),
            account: "123456789012".into(),
            user_id: "AROA:alice".into(),
        };
        assert_eq!(session_name_of(&id).as_deref(), Some("alice"));
        let user = CallerIdentity {
            arn: "arn:aws:iam::123456789012:user/bob".into(),
            ..id
        };
        assert_eq!(session_name_of(&user), None);
    }
}
