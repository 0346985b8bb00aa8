//! I/O: the AWS configuration (profile, region, the standard credential chain) and the STS and
//! EKS calls made with it.

use std::time::SystemTime;

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::provider_config::ProviderConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_sts::error::ProvideErrorMetadata;

use super::error::{AwsError, classify_credentials_error, credentials_cause};
use crate::arn::partition_for_region;
use crate::token::Credentials;

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

/// Load the standard configuration: credentials and region (`--region` > AWS_REGION >
/// AWS_DEFAULT_REGION > profile > IMDS).
///
/// # A named profile means that profile
///
/// With a profile named (by `--profile`, or by `AWS_PROFILE`), credentials come from that
/// profile alone (its keys, `credential_process`, SSO, or `role_arn` with its source), never
/// from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` in the environment. This is what the aws CLI
/// does for `--profile`: botocore's `create_credential_resolver` removes its environment provider
/// from the chain when a profile was set explicitly ("An explicitly provided profile will negate
/// an EnvProvider"). The aws CLI keeps environment keys ahead of an `AWS_PROFILE` that comes from
/// the environment; we do not, because kubectl hands a kubeconfig's exec `env` to the plugin as
/// plain environment variables, so `AWS_PROFILE` written into a kubeconfig (as
/// `aws eks update-kubeconfig --profile` writes it) looks exactly like one exported in a shell,
/// and the profile the kubeconfig names must be the identity that signs. A profile that is in
/// neither shared file is an error, as in the aws CLI ("The config profile (NAME) could not be
/// found").
///
/// Without a profile, the standard chain: environment, shared files (`default` profile), web
/// identity, container, IMDS.
pub async fn load_context(options: &AwsOptions) -> Result<AwsContext, AwsError> {
    let profile = options
        .profile
        .clone()
        .or_else(|| crate::env::var(crate::env::AWS_PROFILE));
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(name) = &profile {
        ensure_profile_exists(name).await?;
        loader = loader.profile_name(name);
    }
    let region = match &options.region {
        Some(region) => Some(Region::new(region.clone())),
        None => {
            let mut chain = aws_config::default_provider::region::DefaultRegionChain::builder();
            if let Some(name) = &profile {
                chain = chain.profile_name(name);
            }
            chain.build().region().await
        }
    };
    let region = region.ok_or(AwsError::NoRegion)?;
    check_region(region.as_ref())?;
    loader = loader.region(region.clone());
    if let Some(name) = &profile {
        let provider_config = ProviderConfig::default().with_region(Some(region.clone()));
        let provider = ProfileFileCredentialsProvider::builder()
            .configure(&provider_config)
            .profile_name(name)
            .build();
        loader = loader.credentials_provider(provider);
    }
    let config = loader.load().await;
    Ok(AwsContext {
        config,
        profile,
        region: region.as_ref().to_owned(),
    })
}

/// Fails with [`AwsError::ProfileNotFound`] unless `name` is a profile of the shared config or
/// credentials file (`AWS_CONFIG_FILE`, `AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/...`), read
/// as aws-config reads them.
async fn ensure_profile_exists(name: &str) -> Result<(), AwsError> {
    let files = aws_runtime::env_config::file::EnvConfigFiles::default();
    let env = aws_types::os_shim_internal::Env::real();
    let fs = aws_types::os_shim_internal::Fs::real();
    // An unreadable or unparsable file is left for the credential provider to report.
    let Ok(profiles) = aws_config::profile::load(&fs, &env, &files, None).await else {
        return Ok(());
    };
    if profiles.get_profile(name).is_some() {
        return Ok(());
    }
    Err(AwsError::ProfileNotFound {
        profile: name.to_owned(),
        known: profiles.profiles().map(str::to_owned).collect(),
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
                detail: CredentialsError::not_loaded("no credentials provider configured"),
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

    /// A context over an SDK configuration loaded elsewhere (an exec stanza's environment, say),
    /// for the calls made with it. Its region is the configuration's (empty when it has none).
    pub fn from_config(config: SdkConfig, profile: Option<String>) -> AwsContext {
        let region = config
            .region()
            .map(|r| r.as_ref().to_owned())
            .unwrap_or_default();
        AwsContext {
            config,
            profile,
            region,
        }
    }

    /// This context as the role `request` names: AssumeRole with the chain's credentials, then
    /// the same region and profile with the role's (temporary) credentials, for the SDK clients
    /// made from it. What a kubeconfig's `--role-arn` means for the token, so for our own calls.
    pub async fn assuming(&self, request: &AssumeRoleRequest) -> Result<AwsContext, AwsError> {
        let role = self.assume_role(request).await?;
        let c = role.credentials;
        let credentials = aws_credential_types::Credentials::new(
            c.access_key_id,
            c.secret_access_key,
            c.session_token,
            role.expiration,
            "assumed-role",
        );
        let config = self
            .config
            .clone()
            .into_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build();
        Ok(AwsContext {
            config,
            profile: self.profile.clone(),
            region: self.region.clone(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_check() {
        assert!(check_region("us-west-2").is_ok());
        assert!(check_region("cn-north-1").is_ok());
        let err = check_region("mars-north-1").unwrap_err();
        assert_eq!(err.to_string(), "unknown AWS region `mars-north-1`");
        assert!(err.hint().unwrap().contains("us-east-1"));
    }
}
