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
//! The calls are the core's (`eks_auth::eks::EksClient`); this file builds the SDK configuration
//! the exec stanza implies and turns the answers into [`crate::access_view`]'s inputs.

use aws_config::BehaviorVersion;
use aws_credential_types::Credentials;
use eks_auth::access::same_principal;
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws::{AssumeRoleRequest, AwsContext};
use eks_auth::eks::{EksClient, EksError};
use eks_auth::env as eks_env;
use eks_auth::mapping::Identity;

use crate::access_diagnosis::entry_principal;
use crate::access_view::{EntryLookup, ModeLookup};
use crate::exec::{ExecSource, ExecStanza};

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
    let Some((role_arn, session_name)) = t.source.and_then(ExecSource::assumed_role) else {
        return Ok(config);
    };
    // The stanza assumes a role: so do we, with the same base credentials, through the core's
    // one AssumeRole (its errors name the role and, when refused, the principal).
    let request = AssumeRoleRequest {
        role_arn,
        session_name,
        external_id: None,
    };
    AwsContext::from_config(config, profile)
        .assuming(&request)
        .await
        .map(|assumed| assumed.sdk_config().clone())
        .map_err(|e| eks_auth::cli::error_report(&e))
}

/// An EKS error as a lookup answer: AccessDenied names the refused IAM action.
fn entry_error(err: EksError) -> EntryLookup {
    match err {
        EksError::AccessDenied {
            action, message, ..
        } => EntryLookup::Forbidden { action, message },
        other => EntryLookup::Failed(format!("{:#}", anyhow::Error::new(other))),
    }
}

/// Asks EKS about `t.cluster_name`.
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
    let client = EksClient::new(&config, t.cluster_name);
    let mode = match client.access_config().await {
        Ok(c) => c.mode,
        Err(EksError::AccessDenied {
            action, message, ..
        }) => {
            return done(
                ModeLookup::Forbidden(format!("`{action}` was refused ({message})")),
                EntryLookup::NotAsked,
            );
        }
        Err(e) => {
            return done(
                ModeLookup::Failed(format!("{:#}", anyhow::Error::new(e))),
                EntryLookup::NotAsked,
            );
        }
    };
    let Some(identity) = t.identity.filter(|_| mode.uses_access_entries()) else {
        return done(ModeLookup::Known(mode), EntryLookup::NotAsked);
    };
    let entry = fetch_entry(&client, t, identity).await;
    done(ModeLookup::Known(mode), entry)
}

/// The caller's entry and its policies: DescribeAccessEntry and ListAssociatedAccessPolicies,
/// with ListAccessEntries in between only for a role whose entry may carry a path.
async fn fetch_entry(client: &EksClient, t: &Target<'_>, identity: &Identity) -> EntryLookup {
    let principal = entry_principal(identity, t.source);
    let mut found = match client.describe_access_entry(&principal.to_string()).await {
        Ok(e) => e,
        Err(e) => return entry_error(e),
    };
    if found.is_none() && principal.kind() == PrincipalKind::Role && !principal.has_path() {
        let listed = match client.list_access_entries(None).await {
            Ok(l) => l,
            Err(e) => return entry_error(e),
        };
        if let Some(pathed) = listed
            .iter()
            .filter_map(|a| a.parse::<Arn>().ok())
            .find(|a| same_principal(a, &identity.arn))
        {
            found = match client.describe_access_entry(&pathed.to_string()).await {
                Ok(e) => e,
                Err(e) => return entry_error(e),
            };
        }
    }
    let Some(mut entry) = found else {
        return EntryLookup::NotFound;
    };
    match client
        .list_associated_access_policies(&entry.principal_arn.to_string())
        .await
    {
        Ok(policies) => entry.policies = policies,
        Err(e) => return entry_error(e),
    }
    EntryLookup::Found(entry)
}
