//! I/O: the AWS identity behind the context. The exec plugin runs as kubectl runs it; its token
//! is decoded locally and sent to STS exactly as EKS sends it (presigned GetCallerIdentity with
//! the signed `x-k8s-aws-id` header), so the identity shown is the one the cluster sees. When
//! the plugin is not installed, the stanza's profile, region and role are resolved through the
//! AWS SDK's credential chain (and AssumeRole) and a token is presigned from them instead.

use std::time::SystemTime;

use eks_auth::aws::{self, AwsError, AwsOptions, RoleSession, RoleToAssume, TokenSource};
use eks_auth::mapping::Identity;
use eks_auth::time::rfc3339;
use eks_auth::token::{self, VerifyRules};

use crate::exec::{ExecSource, ExecTool};
use crate::kubeconfig::{PluginError, run_plugin};
use crate::report::{AwsSection, AwsSource, TokenFacts};
use eks_auth::env;

/// What was learnt about the AWS side. `Debug` hides the token.
#[derive(Default)]
pub struct Resolved {
    pub section: AwsSection,
    pub identity: Option<Identity>,
    /// The token to present to the API server (what the plugin made, or what we presigned).
    pub token: Option<String>,
    /// The exec plugin's command, when it is not installed (or not on PATH): kubectl cannot use
    /// this context, whatever whoami could learn through the SDK instead.
    pub plugin_missing: Option<String>,
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolved")
            .field("section", &self.section)
            .field("identity", &self.identity)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("plugin_missing", &self.plugin_missing)
            .finish()
    }
}

/// The STS endpoint to send presigned URLs to instead of the host they name: the stanza's env
/// wins over ours; the STS-specific variable over the global one (AWS SDK endpoint settings).
pub fn sts_endpoint(
    stanza_env: &[(String, String)],
    process: &dyn Fn(&str) -> Option<String>,
) -> Option<String> {
    for var in [env::AWS_ENDPOINT_URL_STS, env::AWS_ENDPOINT_URL] {
        if let Some((_, v)) = stanza_env.iter().find(|(k, v)| k == var && !v.is_empty()) {
            return Some(v.clone());
        }
    }
    [env::AWS_ENDPOINT_URL_STS, env::AWS_ENDPOINT_URL]
        .into_iter()
        .find_map(|var| process(var).filter(|v| !v.is_empty()))
}

/// Decodes a token, checks it as EKS would and asks STS whose it is. `clusters` are the names
/// to try for the signed `x-k8s-aws-id` header, the expected one first.
pub async fn identify_token(
    token_text: &str,
    clusters: &[String],
    endpoint: Option<&str>,
    now: SystemTime,
) -> (TokenFacts, Option<Identity>) {
    let mut facts = TokenFacts::default();
    let rules = VerifyRules {
        cluster_name: clusters.first().cloned(),
        ..VerifyRules::default()
    };
    let request = match token::verify(token_text, now, &rules) {
        Ok(r) => r,
        Err(err) => {
            facts.verify_error = Some(err.to_string());
            if let Ok(url) = token::decode(token_text) {
                facts.url = token::redact_url(&url);
            }
            return (facts, None);
        }
    };
    facts.url = token::redact_url(&request.url);
    facts.sts_host = request.host.clone();
    facts.region = request.region.clone();
    facts.access_key_id = request.access_key_id.clone();
    facts.signed_at = rfc3339(request.signed_at);
    facts.expires_at = rfc3339(request.expires_at());
    facts.session_token = request.has_session_token;
    if clusters.is_empty() {
        facts.sts_error = Some(
            "the cluster name the token was signed for is unknown (no `--cluster-name` in the exec \
             args, no EKS ARN in the kubeconfig), so STS cannot check it"
                .to_owned(),
        );
        return (facts, None);
    }
    let mut first_error = None;
    for cluster in clusters {
        match aws::fetch_presigned_identity(&request.url, Some(cluster), endpoint).await {
            Ok(id) => {
                facts.cluster_name = Some(cluster.clone());
                let Ok(arn) = id.arn.parse() else {
                    facts.sts_error =
                        Some(format!("STS answered with an unknown ARN `{}`", id.arn));
                    return (facts, None);
                };
                let identity = Identity {
                    arn,
                    account: id.account,
                    user_id: id.user_id,
                    access_key_id: request.access_key_id.clone(),
                };
                return (facts, Some(identity));
            }
            Err(err) => {
                // Only a signature mismatch says anything about the cluster name: try the next.
                let mismatch = matches!(&err, AwsError::StsRejected { code, .. } if code == "SignatureDoesNotMatch");
                first_error.get_or_insert_with(|| format!("{:#}", anyhow::Error::new(err)));
                if !mismatch {
                    break;
                }
            }
        }
    }
    facts.sts_error = first_error;
    (facts, None)
}

/// Resolves the identity from the exec stanza (or a token written into the kubeconfig).
pub async fn resolve(
    exec: Option<(&kube::config::ExecConfig, &ExecSource)>,
    static_token: Option<&str>,
    clusters: &[String],
    process_env: &dyn Fn(&str) -> Option<String>,
    now: SystemTime,
) -> Resolved {
    let mut out = Resolved::default();
    let stanza_env = exec
        .map(|(e, _)| crate::kubeconfig::stanza(e).env)
        .unwrap_or_default();
    let endpoint = sts_endpoint(&stanza_env, process_env);
    let token_text = match (exec, static_token) {
        (Some((config, source)), _) => {
            out.section.exec = Some(source.clone());
            match run_plugin(config).await {
                Ok(t) => {
                    out.section.source = Some(AwsSource::ExecPlugin);
                    Some(t)
                }
                Err(PluginError::NotFound { command }) if source.tool != ExecTool::Other => {
                    out.plugin_missing = Some(command.clone());
                    out.section.notes.push(format!(
                        "the exec plugin `{command}` is not installed here; the stanza's profile, \
                         region and role were resolved with the AWS SDK credential chain instead"
                    ));
                    match presign_from_chain(source, clusters, now).await {
                        Ok(t) => {
                            out.section.source = Some(AwsSource::CredentialChain);
                            Some(t)
                        }
                        Err(err) => {
                            out.section.error = Some(err);
                            None
                        }
                    }
                }
                Err(err) => {
                    if let PluginError::NotFound { command } = &err {
                        out.plugin_missing = Some(command.clone());
                    }
                    let mut text = format!("{:#}", anyhow::Error::new(err));
                    if text.len() > 2000 {
                        text.truncate(2000);
                    }
                    out.section.error = Some(text);
                    None
                }
            }
        }
        (None, Some(t)) if t.starts_with(token::TOKEN_PREFIX) => {
            out.section.source = Some(AwsSource::KubeconfigToken);
            Some(t.to_owned())
        }
        (None, _) => {
            out.section.error =
                Some("the context's user does not authenticate with an AWS token".to_owned());
            None
        }
    };
    let Some(token_text) = token_text else {
        return out;
    };
    if token_text.starts_with(token::TOKEN_PREFIX) {
        let (facts, identity) =
            identify_token(&token_text, clusters, endpoint.as_deref(), now).await;
        if identity.is_none() && out.section.error.is_none() {
            out.section.error = facts
                .verify_error
                .clone()
                .or_else(|| facts.sts_error.clone());
        }
        out.section.token = Some(facts);
        if let Some(id) = &identity {
            out.section.arn = Some(id.arn.to_string());
            out.section.account = Some(id.account.clone());
            out.section.user_id = Some(id.user_id.clone());
            out.section.canonical_arn = Some(id.canonical_arn().to_string());
            out.section.access_key_id = Some(id.access_key_id.clone());
            out.section.session_name = id.session_name().map(str::to_owned);
        }
        out.identity = identity;
    } else {
        out.section.error = Some(
            "the exec plugin's token is not an EKS token (`k8s-aws-v1.`), so it names no AWS identity"
                .to_owned(),
        );
    }
    out.token = Some(token_text);
    out
}

/// The stanza's settings through the core's one path from credentials to a token (AssumeRole
/// when a role is set).
async fn presign_from_chain(
    source: &ExecSource,
    clusters: &[String],
    now: SystemTime,
) -> Result<String, String> {
    let cluster = clusters
        .first()
        .ok_or_else(|| "the cluster name is unknown, so no token can be presigned".to_owned())?;
    let token_source = TokenSource {
        options: AwsOptions {
            profile: source.profile.as_ref().map(|p| p.value.clone()),
            region: source.region.as_ref().map(|r| r.value.clone()),
        },
        role: source.role_arn.as_ref().map(|role_arn| RoleToAssume {
            role_arn: role_arn.clone(),
            session: RoleSession::Named(
                source
                    .session_name
                    .clone()
                    .or_else(|| source.tool.default_session_name().map(str::to_owned))
                    .unwrap_or_else(|| aws::DEFAULT_ROLE_SESSION_NAME.to_owned()),
            ),
            external_id: None,
        }),
    };
    aws::fetch_token(&token_source, cluster, now)
        .await
        .map(|signed| signed.token.token)
        .map_err(|e| eks_auth::cli::error_report(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_prefers_stanza_then_sts_specific() {
        let none = |_: &str| None;
        let process = |v: &str| (v == "AWS_ENDPOINT_URL").then(|| "http://process".to_owned());
        assert_eq!(sts_endpoint(&[], &none), None);
        assert_eq!(
            sts_endpoint(&[], &process).as_deref(),
            Some("http://process")
        );
        let stanza = vec![
            ("AWS_ENDPOINT_URL".to_owned(), "http://global".to_owned()),
            ("AWS_ENDPOINT_URL_STS".to_owned(), "http://sts".to_owned()),
        ];
        assert_eq!(
            sts_endpoint(&stanza, &process).as_deref(),
            Some("http://sts")
        );
    }

    #[test]
    fn resolved_debug_hides_the_token() {
        let resolved = Resolved {
            token: Some("k8s-aws-v1.c2VjcmV0".to_owned()),
            ..Resolved::default()
        };
        let debug = format!("{resolved:?}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
        assert!(debug.contains("token: Some(\"<redacted>\")"), "{debug}");
    }

    #[tokio::test]
    async fn malformed_token_reports_the_local_check() {
        let (facts, identity) = identify_token(
            "k8s-aws-v1.bm90IGEgdXJs",
            &["c".to_owned()],
            None,
            SystemTime::now(),
        )
        .await;
        assert!(identity.is_none());
        assert_eq!(
            facts.verify_error.as_deref(),
            Some("pre-signed URL has scheme ``; expected `https`")
        );
    }
}
