//! The one error type of the AWS edge, and how a failing credential provider is sorted into
//! something the user can act on.

use std::error::Error as StdError;

use aws_credential_types::provider::error::CredentialsError;

use crate::errors::chain_text;

pub(crate) type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Errors of the AWS edge. `hint()` says what the user can do next.
#[derive(Debug, thiserror::Error)]
pub enum AwsError {
    #[error("no AWS region configured")]
    NoRegion,
    #[error("unknown AWS region `{region}`")]
    UnknownRegion { region: String },
    /// Nothing in the chain had credentials. What each provider said is kept for `Debug`, not
    /// shown: the user needs the ways to provide credentials, not why IMDS did not answer.
    #[error("no AWS credentials found{}", in_profile(.profile))]
    NoCredentials {
        profile: Option<String>,
        detail: CredentialsError,
    },
    #[error("the config profile ({profile}) could not be found")]
    ProfileNotFound { profile: String, known: Vec<String> },
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
    #[error("signing a token for cluster `{cluster}`")]
    Presign {
        cluster: String,
        #[source]
        source: crate::token::TokenError,
    },
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
                    "check that profile `{p}` has credentials (`aws configure list --profile {p}`), or run `aws sso login --profile {p}` for an SSO profile"
                ),
                None => "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; or run `aws configure` (it writes ~/.aws/credentials); or name a profile with `--profile NAME` or AWS_PROFILE (`aws configure sso --profile NAME` sets up an SSO one); or, on EC2, ECS or EKS, give the instance or task an IAM role".to_owned(),
            }),
            AwsError::ProfileNotFound { profile, known } => Some(if known.is_empty() {
                format!(
                    "no profile is configured (~/.aws/config, ~/.aws/credentials): create it with `aws configure --profile {profile}`, or `aws configure sso --profile {profile}` for SSO"
                )
            } else {
                format!(
                    "the profiles are: {}; create `{profile}` with `aws configure --profile {profile}`, or `aws configure sso --profile {profile}` for SSO",
                    known.join(", ")
                )
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

/// The SDK wraps a failing credentials provider inside the operation error; find it and classify it.
pub(crate) fn credentials_cause(
    err: &(dyn StdError + 'static),
    profile: Option<String>,
) -> Option<AwsError> {
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
    let text = chain_text(err);
    match err {
        CredentialsError::CredentialsNotLoaded(_) => CredentialsError::not_loaded(text),
        CredentialsError::InvalidConfiguration(_) => CredentialsError::invalid_configuration(text),
        CredentialsError::ProviderError(_) => CredentialsError::provider_error(text),
        _ => CredentialsError::unhandled(text),
    }
}

/// Sort a credentials failure into something the user can act on.
///
/// aws-config's SSO token errors are private types, so an expired or missing SSO session is
/// recognised by its messages (aws-config `sso/token.rs`: "the SSO token has expired and cannot
/// be refreshed", "failed to load the cached SSO token"; the portal answers an invalid token
/// with `UnauthorizedException`).
pub(crate) fn classify_credentials_error(
    profile: Option<String>,
    source: CredentialsError,
) -> AwsError {
    let text = chain_text(&source);
    if is_sso_login_error(&text) {
        return AwsError::SsoLoginRequired { profile, source };
    }
    match source {
        CredentialsError::CredentialsNotLoaded(_) => AwsError::NoCredentials {
            profile,
            detail: source,
        },
        // The default chain asks IMDS last, so an IMDS failure means nothing before it had
        // credentials (aws-config's `CredentialsProviderChain` moves on only past "not loaded").
        other if profile.is_none() && text.contains("IMDS") => AwsError::NoCredentials {
            profile,
            detail: other,
        },
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
