//! I/O: the one path from AWS credentials to an EKS token: the credential chain of a profile,
//! STS AssumeRole when a role is asked for, then a token presigned locally.

use std::time::SystemTime;

use super::DEFAULT_ROLE_SESSION_NAME;
use super::context::{AssumeRoleRequest, AwsOptions, CallerIdentity, load_context};
use super::error::AwsError;
use crate::arn::Arn;
use crate::token::{self, Token};

/// Where a token's credentials come from: a profile and region (or the environment's), and a
/// role to assume with them.
#[derive(Debug, Clone, Default)]
pub struct TokenSource {
    /// `--profile` and `--region`.
    pub options: AwsOptions,
    /// The role to assume first, if any.
    pub role: Option<RoleToAssume>,
}

/// A role to assume before signing.
#[derive(Debug, Clone)]
pub struct RoleToAssume {
    /// The role's ARN.
    pub role_arn: String,
    /// How the session is named.
    pub session: RoleSession,
    /// `--external-id`.
    pub external_id: Option<String>,
}

/// How an AssumeRole session is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleSession {
    /// This name.
    Named(String),
    /// The caller's own role session name (`--forward-session-name`); this name when the
    /// caller is not a role session.
    Forward {
        /// The name used when there is nothing to forward.
        fallback: String,
    },
}

impl Default for RoleSession {
    fn default() -> Self {
        RoleSession::Named(DEFAULT_ROLE_SESSION_NAME.to_owned())
    }
}

/// A token and what was learnt on the way.
#[derive(Debug, Clone)]
pub struct SignedToken {
    /// The token.
    pub token: Token,
    /// The region it was signed for.
    pub region: String,
    /// Things the user should know (e.g. a session name that could not be forwarded).
    pub warnings: Vec<String>,
}

/// Credentials from the chain of `source.options`, then STS AssumeRole when `source.role` asks
/// for one, then a token presigned for `cluster` at `now`. eks-token's default command and
/// eks-whoami (when the exec plugin is not installed) both sign through here.
pub async fn fetch_token(
    source: &TokenSource,
    cluster: &str,
    now: SystemTime,
) -> Result<SignedToken, AwsError> {
    let context = load_context(&source.options).await?;
    let mut warnings = Vec::new();
    let credentials = match &source.role {
        None => context.fetch_credentials().await?,
        Some(role) => {
            let session_name = match &role.session {
                RoleSession::Named(name) => name.clone(),
                RoleSession::Forward { fallback } => {
                    let me = context.fetch_caller_identity().await?;
                    session_name_of(&me).unwrap_or_else(|| {
                        warnings.push(format!(
                            "`{}` is not a role session; using session name `{fallback}`",
                            me.arn
                        ));
                        fallback.clone()
                    })
                }
            };
            let request = AssumeRoleRequest {
                role_arn: role.role_arn.clone(),
                session_name,
                external_id: role.external_id.clone(),
            };
            context.assume_role(&request).await?.credentials
        }
    };
    let token = token::presign(&credentials, cluster, context.region(), now).map_err(|source| {
        AwsError::Presign {
            cluster: cluster.to_owned(),
            source,
        }
    })?;
    Ok(SignedToken {
        token,
        region: context.region().to_owned(),
        warnings,
    })
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
