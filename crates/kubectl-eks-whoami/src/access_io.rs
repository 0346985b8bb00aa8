//! I/O: the EKS side, asked with the AWS identity of the context's exec stanza (its env keys,
//! endpoint, profile, region and role, as the plugin would use them): DescribeCluster for the
//! authentication mode, then in the modes that use them the caller's access entry
//! (DescribeAccessEntry) and its policies (ListAssociatedAccessPolicies).
//!
//! Three calls in the usual case, whatever the number of entries. A role's entry may name the
//! role with its path, which STS does not report: when the kubeconfig does not name the role
//! either, a DescribeAccessEntry without the path finds nothing and ListAccessEntries is read to
//! find the entry by account and role name (EKS user guide, "Create access entries": a role ARN
//! in an access entry keeps its path).
//!
//! The EKS calls belong in the core (`eks_auth::eks`, being written on another branch); they sit
//! here until it lands, each a thin request/answer with no decisions.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use aws_sdk_eks::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_eks::types::AccessScopeType;
use eks_auth::access::{
    AccessEntry, AccessEntryType, AccessScope, AuthenticationMode, PolicyAssociation,
    same_principal,
};
use eks_auth::arn::Arn;
use eks_auth::env as eks_env;
use eks_auth::mapping::Identity;

use crate::access_diagnosis::entry_principal;
use crate::access_view::{
    DESCRIBE_ACCESS_ENTRY, DESCRIBE_CLUSTER, EntryLookup, LIST_ASSOCIATED_ACCESS_POLICIES,
    ModeLookup,
};
use crate::exec::{ExecSource, ExecStanza};

/// `eks:ListAccessEntries`, read when a role's entry may carry a path.
pub const LIST_ACCESS_ENTRIES: &str = "eks:ListAccessEntries";

/// What the EKS side said.
#[derive(Debug, Clone)]
pub struct AccessLookup {
    pub cluster_name: String,
    pub mode: ModeLookup,
    pub entry: EntryLookup,
}

/// Where to ask: the cluster's name and region, from the exec stanza or the kubeconfig's ARN.
#[derive(Debug, Clone, Copy)]
pub struct Target<'a> {
    pub cluster_name: &'a str,
    pub region: Option<&'a str>,
    pub stanza: Option<&'a ExecStanza>,
    pub source: Option<&'a ExecSource>,
    pub identity: Option<&'a Identity>,
}

fn stanza_var<'a>(stanza: Option<&'a ExecStanza>, name: &str) -> Option<&'a str> {
    stanza?
        .env
        .iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v.as_str())
}

/// The SDK configuration the exec plugin would run with: the stanza's env over the process's.
async fn sdk_config(t: &Target<'_>) -> Result<aws_config::SdkConfig, String> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    let profile = t
        .source
        .and_then(|s| s.profile.as_ref())
        .map(|p| p.value.clone());
    if let Some(p) = &profile {
        loader = loader.profile_name(p);
    }
    let region = t
        .source
        .and_then(|s| s.region.as_ref())
        .map(|r| r.value.clone())
        .or_else(|| t.region.map(str::to_owned));
    if let Some(r) = region {
        loader = loader.region(aws_config::Region::new(r));
    }
    if let Some(url) = stanza_var(t.stanza, eks_env::AWS_ENDPOINT_URL) {
        loader = loader.endpoint_url(url);
    }
    if let (Some(key), Some(secret)) = (
        stanza_var(t.stanza, eks_env::AWS_ACCESS_KEY_ID),
        stanza_var(t.stanza, eks_env::AWS_SECRET_ACCESS_KEY),
    ) {
        loader = loader.credentials_provider(Credentials::new(
            key,
            secret,
            stanza_var(t.stanza, eks_env::AWS_SESSION_TOKEN).map(str::to_owned),
            None,
            "exec-stanza-env",
        ));
    }
    let config = loader.load().await;
    let Some(role_arn) = t.source.and_then(|s| s.role_arn.as_deref()) else {
        return Ok(config);
    };
    // The stanza assumes a role: so do we, with the same base credentials.
    let session = t
        .source
        .and_then(|s| s.session_name.clone())
        .unwrap_or_else(|| eks_auth::aws::DEFAULT_ROLE_SESSION_NAME.to_owned());
    let sts = aws_sdk_sts::Client::new(&config);
    let out = sts
        .assume_role()
        .role_arn(role_arn)
        .role_session_name(session)
        .send()
        .await
        .map_err(|e| format!("assuming `{role_arn}`: {}", DisplayErrorContext(&e)))?;
    let c = out
        .credentials()
        .ok_or_else(|| format!("assuming `{role_arn}`: STS returned no credentials"))?;
    Ok(config
        .into_builder()
        .credentials_provider(
            aws_credential_types::provider::SharedCredentialsProvider::new(Credentials::new(
                c.access_key_id(),
                c.secret_access_key(),
                Some(c.session_token().to_owned()),
                None,
                "assumed-role",
            )),
        )
        .build())
}

/// An EKS error as one line, and whether it is AccessDenied.
fn describe<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
    err: &aws_sdk_eks::error::SdkError<E, R>,
) -> (String, bool, bool) {
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("");
    let denied = code == "AccessDeniedException" || code == "AccessDenied";
    let not_found = code == "ResourceNotFoundException";
    let text = match err.as_service_error() {
        Some(e) => format!("{code}: {}", e.message().unwrap_or("")),
        None => DisplayErrorContext(err).to_string(),
    };
    (text, denied, not_found)
}

/// Asks EKS. `None` when there is no cluster name to ask about.
pub async fn lookup(t: &Target<'_>) -> AccessLookup {
    let done = |mode, entry| AccessLookup {
        cluster_name: t.cluster_name.to_owned(),
        mode,
        entry,
    };
    let config = match sdk_config(t).await {
        Ok(c) => c,
        Err(e) => return done(ModeLookup::Failed(e), EntryLookup::NotAsked),
    };
    let client = aws_sdk_eks::Client::new(&config);
    let mode = match client.describe_cluster().name(t.cluster_name).send().await {
        Ok(out) => {
            // A cluster that never had access entries turned on may answer without
            // `accessConfig`: that is CONFIG_MAP (EKS API reference, `AccessConfigResponse`).
            let mode = out
                .cluster()
                .and_then(|c| c.access_config())
                .and_then(|a| a.authentication_mode())
                .map(|m| m.as_str().to_owned());
            match mode.as_deref().map(str::parse::<AuthenticationMode>) {
                None => ModeLookup::Known(AuthenticationMode::ConfigMap),
                Some(Ok(m)) => ModeLookup::Known(m),
                Some(Err(e)) => ModeLookup::Failed(e.to_string()),
            }
        }
        Err(err) => {
            let (text, denied, _) = describe(&err);
            return done(
                if denied {
                    ModeLookup::Forbidden(format!("{DESCRIBE_CLUSTER} was refused ({text})"))
                } else {
                    ModeLookup::Failed(text)
                },
                EntryLookup::NotAsked,
            );
        }
    };
    let (ModeLookup::Known(m), Some(identity)) = (&mode, t.identity) else {
        return done(mode, EntryLookup::NotAsked);
    };
    if !m.uses_access_entries() {
        return done(mode, EntryLookup::NotAsked);
    }
    let entry = fetch_entry(&client, t, identity).await;
    done(mode, entry)
}

async fn fetch_entry(
    client: &aws_sdk_eks::Client,
    t: &Target<'_>,
    identity: &Identity,
) -> EntryLookup {
    let mut principal = entry_principal(identity, t.source);
    let described = match describe_entry(client, t.cluster_name, &principal).await {
        Ok(Some(e)) => e,
        Ok(None) if principal.kind() == eks_auth::arn::PrincipalKind::Role => {
            // The entry may name the role with a path STS does not tell.
            match find_pathed(client, t.cluster_name, identity).await {
                Ok(Some(arn)) => {
                    principal = arn;
                    match describe_entry(client, t.cluster_name, &principal).await {
                        Ok(Some(e)) => e,
                        Ok(None) => return EntryLookup::NotFound,
                        Err(e) => return e,
                    }
                }
                Ok(None) => return EntryLookup::NotFound,
                Err(e) => return e,
            }
        }
        Ok(None) => return EntryLookup::NotFound,
        Err(e) => return e,
    };
    let mut entry = described;
    let mut token: Option<String> = None;
    loop {
        let out = match client
            .list_associated_access_policies()
            .cluster_name(t.cluster_name)
            .principal_arn(principal.to_string())
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(o) => o,
            Err(err) => {
                let (text, denied, _) = describe(&err);
                return if denied {
                    EntryLookup::Forbidden {
                        action: LIST_ASSOCIATED_ACCESS_POLICIES.to_owned(),
                        message: text,
                    }
                } else {
                    EntryLookup::Failed(text)
                };
            }
        };
        for p in out.associated_access_policies() {
            let Some(policy_arn) = p.policy_arn() else {
                continue;
            };
            let scope = match p.access_scope() {
                Some(s) if s.r#type() == Some(&AccessScopeType::Namespace) => {
                    AccessScope::Namespaces(s.namespaces().to_vec())
                }
                _ => AccessScope::Cluster,
            };
            entry.policies.push(PolicyAssociation {
                policy_arn: policy_arn.to_owned(),
                scope,
            });
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    EntryLookup::Found(entry)
}

/// DescribeAccessEntry: `Ok(None)` when there is none for `principal`.
async fn describe_entry(
    client: &aws_sdk_eks::Client,
    cluster: &str,
    principal: &Arn,
) -> Result<Option<AccessEntry>, EntryLookup> {
    match client
        .describe_access_entry()
        .cluster_name(cluster)
        .principal_arn(principal.to_string())
        .send()
        .await
    {
        Ok(out) => {
            let Some(e) = out.access_entry() else {
                return Ok(None);
            };
            let mut entry = AccessEntry::standard(principal.clone());
            if let Some(t) = e.r#type().and_then(|t| t.parse::<AccessEntryType>().ok()) {
                entry.entry_type = t;
            }
            if let Some(u) = e.username() {
                entry.username = u.to_owned();
            }
            entry.kubernetes_groups = e.kubernetes_groups().to_vec();
            Ok(Some(entry))
        }
        Err(err) => {
            let (text, denied, not_found) = describe(&err);
            if not_found {
                Ok(None)
            } else if denied {
                Err(EntryLookup::Forbidden {
                    action: DESCRIBE_ACCESS_ENTRY.to_owned(),
                    message: text,
                })
            } else {
                Err(EntryLookup::Failed(text))
            }
        }
    }
}

/// ListAccessEntries: the entry of the caller's role under any path.
async fn find_pathed(
    client: &aws_sdk_eks::Client,
    cluster: &str,
    identity: &Identity,
) -> Result<Option<Arn>, EntryLookup> {
    let mut token: Option<String> = None;
    loop {
        let out = match client
            .list_access_entries()
            .cluster_name(cluster)
            .set_next_token(token.clone())
            .send()
            .await
        {
            Ok(o) => o,
            Err(err) => {
                let (text, denied, _) = describe(&err);
                return Err(if denied {
                    EntryLookup::Forbidden {
                        action: LIST_ACCESS_ENTRIES.to_owned(),
                        message: text,
                    }
                } else {
                    EntryLookup::Failed(text)
                });
            }
        };
        for arn in out.access_entries() {
            if let Ok(a) = arn.parse::<Arn>()
                && same_principal(&a, &identity.arn)
            {
                return Ok(Some(a));
            }
        }
        token = out.next_token().map(str::to_owned);
        if token.is_none() {
            return Ok(None);
        }
    }
}
