//! EKS authentication of `k8s-aws-v1.` bearer tokens, as aws-iam-authenticator does it:
//! `eks_auth::token::verify` (the checks before STS), the presigned GetCallerIdentity sent to the
//! STS stand-in with the signed Host and `x-k8s-aws-id: <cluster>`, then the caller resolved by
//! the cluster's authentication mode with `eks_auth::access::resolve`: CONFIG_MAP maps through
//! the stored aws-auth ConfigMap (the cluster creator is `system:masters` without an entry),
//! API_AND_CONFIG_MAP tries the access entries first (matched on the IAM unique id STS reports)
//! and aws-auth after, API reads access entries only. The user's `extra` and `uid` are set as the
//! authenticator sets them (pkg/server/server.go).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use eks_auth::access::{self, Ignored};
use eks_auth::arn::{Arn, partition_for_region};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::mapping::{Identity, MapOptions};
use eks_auth::token::{CLUSTER_ID_HEADER, TOKEN_PREFIX, VerifyRules, verify};

use crate::access::AccessCache;
use crate::auth::{AuthError, Authenticator, BoxFuture, User};
use crate::http1;
use crate::store::Store;

/// How long a token's STS answer is reused (kube-apiserver caches webhook token reviews for 2
/// minutes by default, `--authentication-token-webhook-cache-ttl`). Only the STS identity is
/// cached; the aws-auth mapping is evaluated on every request so that edits take effect at once.
const IDENTITY_TTL: Duration = Duration::from_secs(120);

/// What STS said about a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub arn: String,
    pub user_id: String,
    pub account: String,
}

/// Authenticates EKS tokens for one cluster.
pub struct EksAuthenticator {
    cluster_name: String,
    /// The region served: only its partition's STS hosts are accepted, as by the authenticator.
    region: String,
    sts: SocketAddr,
    store: Arc<Mutex<Store>>,
    /// The cluster creator's ARN, known once the AWS side has created it.
    creator: Arc<Mutex<Option<String>>>,
    /// The authentication mode and access entries, from the AWS side.
    access: Arc<AccessCache>,
    /// token -> identity and when the entry expires. Tokens are secrets: never printed.
    cache: Mutex<HashMap<String, (CallerIdentity, Instant)>>,
}

impl std::fmt::Debug for EksAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EksAuthenticator")
            .field("cluster_name", &self.cluster_name)
            .field("sts", &self.sts)
            .finish_non_exhaustive()
    }
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn xml_element<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(&xml[start..end])
}

/// Reads `Arn`, `UserId` and `Account` from STS's GetCallerIdentityResponse XML.
pub fn parse_caller_identity(xml: &str) -> Option<CallerIdentity> {
    let result = xml_element(xml, "GetCallerIdentityResult")?;
    Some(CallerIdentity {
        arn: xml_unescape(xml_element(result, "Arn")?.trim()),
        user_id: xml_unescape(xml_element(result, "UserId")?.trim()),
        account: xml_unescape(xml_element(result, "Account")?.trim()),
    })
}

impl EksAuthenticator {
    pub fn new(
        cluster_name: &str,
        sts: SocketAddr,
        store: Arc<Mutex<Store>>,
        creator: Arc<Mutex<Option<String>>>,
        access: Arc<AccessCache>,
    ) -> EksAuthenticator {
        EksAuthenticator {
            cluster_name: cluster_name.to_string(),
            region: "us-east-1".to_string(),
            sts,
            store,
            creator,
            access,
            cache: Mutex::default(),
        }
    }

    /// Serve `region` (default `us-east-1`): tokens for another partition's STS are rejected.
    pub fn serving_region(mut self, region: &str) -> EksAuthenticator {
        region.clone_into(&mut self.region);
        self
    }

    async fn caller_identity(
        &self,
        token: &str,
        url: &str,
        host: &str,
    ) -> Result<CallerIdentity, AuthError> {
        if let Some((id, until)) = self
            .cache
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            && *until > Instant::now()
        {
            return Ok(id.clone());
        }
        let parsed = url::Url::parse(url)
            .map_err(|_| AuthError::Rejected("token URL does not parse".into()))?;
        let target = format!("{}?{}", parsed.path(), parsed.query().unwrap_or_default());
        let headers = [
            (("Host"), host),
            (CLUSTER_ID_HEADER, self.cluster_name.as_str()),
        ];
        let resp = http1::send(self.sts, "GET", &target, &headers, b"")
            .await
            .map_err(|e| AuthError::Rejected(format!("sts getCallerIdentity failed: {e}")))?;
        let body = String::from_utf8_lossy(&resp.body);
        if resp.status != 200 {
            // The authenticator's wording (pkg/token/token.go): the STS error body follows.
            let code = xml_element(&body, "Code").unwrap_or("unknown");
            return Err(AuthError::Rejected(format!(
                "sts getCallerIdentity failed: error from AWS (expected 200, got {}): {code}",
                resp.status
            )));
        }
        let id = parse_caller_identity(&body).ok_or_else(|| {
            AuthError::Rejected("sts getCallerIdentity returned an unreadable body".into())
        })?;
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        cache.retain(|_, (_, until)| *until > now);
        cache.insert(token.to_string(), (id.clone(), now + IDENTITY_TTL));
        Ok(id)
    }

    async fn authenticate_eks(&self, token: &str) -> Result<User, AuthError> {
        let partition = partition_for_region(&self.region).unwrap_or("aws");
        let rules =
            VerifyRules::for_cluster(Some(&self.cluster_name), partition, Some(&self.region));
        let request = verify(token, SystemTime::now(), &rules)
            .map_err(|e| AuthError::Rejected(e.to_string()))?;
        let caller = self
            .caller_identity(token, &request.url, &request.host)
            .await?;
        let arn: Arn = caller
            .arn
            .parse()
            .map_err(|e: eks_auth::arn::ArnError| AuthError::Rejected(e.to_string()))?;
        let identity = Identity {
            arn,
            account: caller.account.clone(),
            user_id: caller.user_id.clone(),
            access_key_id: request.access_key_id.clone(),
        };
        // Read as the authenticator reads it: a value it cannot read maps nobody, each key
        // stands alone, a wrong-typed field is skipped.
        let data = self
            .store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .aws_auth_data()
            .unwrap_or_default();
        let aws_auth = AwsAuth::read(&data);
        let creator: Option<Arn> = self
            .creator
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_deref()
            .and_then(|a| a.parse().ok());
        let snapshot = self.access.fresh().await.map_err(AuthError::Rejected)?;
        let resolution = access::resolve(
            &identity,
            snapshot.mode,
            &snapshot.entries,
            &aws_auth,
            creator.as_ref(),
            &MapOptions::default(),
        )
        .map_err(|e| AuthError::Rejected(e.to_string()))?;
        let Some(mapped) = resolution.resolved else {
            return Err(AuthError::Rejected(unmapped_reason(
                &identity,
                snapshot.mode,
                &resolution.ignored,
            )));
        };
        let extra = BTreeMap::from([
            (
                "accessKeyId".to_string(),
                vec![identity.access_key_id.clone()],
            ),
            ("arn".to_string(), vec![caller.arn.clone()]),
            (
                "canonicalArn".to_string(),
                vec![identity.canonical_arn().to_string()],
            ),
            // For roles the part of the user id before `:` (token.go
            // getIdentityFromSTSResponse), under both keys the authenticator sets.
            (
                "principalId".to_string(),
                vec![identity.principal_id().to_string()],
            ),
            (
                "sigs.k8s.io/aws-iam-authenticator/principalId".to_string(),
                vec![identity.principal_id().to_string()],
            ),
            (
                "sessionName".to_string(),
                vec![identity.session_name().unwrap_or_default().to_string()],
            ),
        ]);
        Ok(User {
            username: mapped.username,
            uid: format!(
                "aws-iam-authenticator:{}:{}",
                caller.account,
                identity.principal_id()
            ),
            groups: mapped.groups,
            extra,
        })
    }
}

/// Why nobody let the caller in: the authenticator's "ARN is not mapped", and for the request
/// log what was passed over (an aws-auth entry in API mode, a stale access entry).
fn unmapped_reason(
    identity: &Identity,
    mode: access::AuthenticationMode,
    ignored: &[Ignored],
) -> String {
    let mut reason = format!("ARN is not mapped: `{}`", identity.canonical_arn());
    if mode != access::AuthenticationMode::ConfigMap {
        reason.push_str(&format!(" (authentication mode {mode})"));
    }
    for i in ignored {
        match i {
            Ignored::AwsAuthIgnoredByMode(source) => {
                reason.push_str(&format!("; {source} ignored in mode {mode}"));
            }
            Ignored::StalePrincipalId { entry_id, .. } => reason.push_str(&format!(
                "; the access entry for this ARN was made for the principal id `{entry_id}`, not this one (the principal was recreated)"
            )),
            _ => {}
        }
    }
    reason
}

impl Authenticator for EksAuthenticator {
    fn authenticate<'a>(&'a self, token: &'a str) -> BoxFuture<'a, Result<User, AuthError>> {
        Box::pin(async move {
            if !token.starts_with(TOKEN_PREFIX) {
                return Err(AuthError::NotMine);
            }
            self.authenticate_eks(token).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sts_xml() {
        let xml = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/dev/alice</Arn>
    <UserId>AROAEXAMPLE:alice</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>x</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;
        assert_eq!(
            parse_caller_identity(xml).unwrap(),
            CallerIdentity {
                arn: "arn:aws:sts::123456789012:assumed-role/dev/alice".into(),
                user_id: "AROAEXAMPLE:alice".into(),
                account: "123456789012".into(),
            }
        );
        assert_eq!(parse_caller_identity("<ErrorResponse/>"), None);
    }
}
