//! The default command: one ExecCredential (or bare token) for a cluster.
//!
//! Three paths, fastest first:
//! 1. cache hit: arguments, key, one file read, print. No SDK, no async runtime.
//! 2. static credentials in the environment, no `--profile`/`--role-arn`, region from flag or
//!    environment: sign locally with `eks_auth::token::presign`. No aws-config.
//! 3. everything else: aws-config's standard chain on a current-thread runtime, AssumeRole if
//!    asked, then sign locally. Single flight first: of many processes missing the same key at
//!    once, one signs and the others take its cache entry (at most [`FLIGHT_WAIT`] of waiting).
//!
//! The cache key (path 1) covers the flags, the identity environment variables and the content
//! of the shared AWS config and credentials files: a hit reads those two small files and the
//! entry, nothing more.

use std::path::PathBuf;
use std::time::SystemTime;

use anyhow::{Context, Result, bail};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws::{
    self, AwsOptions, DEFAULT_ROLE_SESSION_NAME, RoleSession, RoleToAssume, TokenSource,
};
use eks_auth::token::{self, Credentials, Token};

use crate::cache::{self, Cache, Entry, FileState, Flight, KeyInputs};
use crate::cli::TokenArgs;
use eks_auth::env;

/// How long a process waits for another one signing the same identity before signing on its
/// own: a stuck or dead leader costs kubectl at most this.
const FLIGHT_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// How the AssumeRole session is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionName {
    Default,
    Explicit(String),
    /// The caller's own role session name (`--forward-session-name`).
    Forward,
}

/// A validated token request: everything checked before any I/O.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    pub cluster: String,
    /// `--region`, else AWS_REGION, else AWS_DEFAULT_REGION; None = the profile decides.
    pub region: Option<String>,
    /// `--profile`, else AWS_PROFILE.
    pub profile: Option<String>,
    pub role: Option<Arn>,
    pub external_id: Option<String>,
    pub session: SessionName,
    pub token_only: bool,
    pub use_cache: bool,
}

impl TokenRequest {
    pub fn from_args(args: TokenArgs) -> Result<TokenRequest> {
        let cluster = args.cluster_name.unwrap_or_default();
        validate_cluster_name(&cluster)?;
        let region = args
            .aws
            .region
            .or_else(|| env::var(env::AWS_REGION))
            .or_else(|| env::var(env::AWS_DEFAULT_REGION));
        if let Some(region) = &region {
            aws::check_region(region)?;
        }
        let role = match args.aws.role_arn {
            None => None,
            Some(text) => {
                let arn: Arn = text
                    .parse()
                    .with_context(|| format!("invalid `--role-arn` `{text}`"))?;
                if arn.kind() != PrincipalKind::Role {
                    bail!(
                        "`--role-arn` `{text}` is not an IAM role ARN (arn:PARTITION:iam::ACCOUNT:role/NAME)"
                    );
                }
                Some(arn)
            }
        };
        let session = match (args.session_name, args.forward_session_name) {
            (Some(name), _) => {
                validate_session_name(&name)?;
                SessionName::Explicit(name)
            }
            (None, true) => SessionName::Forward,
            (None, false) => SessionName::Default,
        };
        Ok(TokenRequest {
            cluster,
            region,
            // `--profile`, else AWS_PROFILE: a named profile means that profile, whatever keys
            // the environment holds (see `eks_auth::aws::load_context`).
            profile: args.aws.profile.or_else(|| env::var(env::AWS_PROFILE)),
            role,
            external_id: args.external_id,
            session,
            token_only: args.token_only,
            use_cache: !args.no_cache,
        })
    }

    pub fn cache_key(&self) -> String {
        let session = match &self.session {
            SessionName::Default => String::new(),
            SessionName::Explicit(s) => format!("name:{s}"),
            SessionName::Forward => "forward".to_owned(),
        };
        let role = self
            .role
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        cache::cache_key(&KeyInputs {
            cluster: &self.cluster,
            region: self.region.as_deref().unwrap_or(""),
            profile: self.profile.as_deref().unwrap_or(""),
            role_arn: &role,
            external_id: self.external_id.as_deref().unwrap_or(""),
            session: &session,
            env: env::IDENTITY_VARS
                .iter()
                .map(|name| (*name, env::var(name)))
                .collect(),
            files: shared_aws_files()
                .into_iter()
                .map(|(which, path)| {
                    (
                        which,
                        path.map_or(FileState::Missing, |p| cache::file_state(&p)),
                    )
                })
                .collect(),
        })
    }

    /// Static credentials from the environment, when they alone decide the identity (no profile
    /// named, no role) and the region is known without a profile: the aws-config chain would
    /// pick the same ones (its environment provider comes first).
    fn static_credentials(&self) -> Option<(Credentials, &str)> {
        if self.profile.is_some() || self.role.is_some() {
            return None;
        }
        let region = self.region.as_deref()?;
        let creds = Credentials {
            access_key_id: env::var(env::AWS_ACCESS_KEY_ID)?,
            secret_access_key: env::var(env::AWS_SECRET_ACCESS_KEY)?,
            session_token: env::var(env::AWS_SESSION_TOKEN),
        };
        Some((creds, region))
    }
}

/// EKS cluster names, by the core's one rule ([`eks_auth::arn::is_cluster_name`]).
pub fn validate_cluster_name(name: &str) -> Result<()> {
    if !eks_auth::arn::is_cluster_name(name) {
        bail!(
            "invalid cluster name `{name}`: EKS names are 1-100 letters, digits, `-` or `_`, starting with a letter or digit"
        );
    }
    Ok(())
}

/// STS RoleSessionName: 2-64 characters of `[\w+=,.@-]` (STS AssumeRole API reference).
fn validate_session_name(name: &str) -> Result<()> {
    let ok = (2..=64).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c));
    if !ok {
        bail!(
            "invalid `--session-name` `{name}`: STS wants 2-64 characters of letters, digits and `_+=,.@-`"
        );
    }
    Ok(())
}

/// The shared AWS config and credentials files the profile chain reads: `AWS_CONFIG_FILE`
/// (default `~/.aws/config`) and `AWS_SHARED_CREDENTIALS_FILE` (default `~/.aws/credentials`),
/// `~/` expanded as the SDKs do (AWS SDKs and Tools reference guide, "Location of the shared
/// config and credentials files").
fn shared_aws_files() -> [(&'static str, Option<PathBuf>); 2] {
    let home = env::var(env::HOME);
    let locate = |var: &str, default: &str| -> Option<PathBuf> {
        match env::var(var) {
            Some(p) => match (p.strip_prefix("~/"), &home) {
                (Some(rest), Some(h)) => Some(PathBuf::from(h).join(rest)),
                _ => Some(PathBuf::from(p)),
            },
            None => home
                .as_ref()
                .map(|h| PathBuf::from(h).join(".aws").join(default)),
        }
    };
    [
        ("config", locate(env::AWS_CONFIG_FILE, "config")),
        (
            "credentials",
            locate(env::AWS_SHARED_CREDENTIALS_FILE, "credentials"),
        ),
    ]
}

pub fn default_cache_dir() -> Option<PathBuf> {
    if let Some(dir) = env::var(env::KUBECTL_EKS_TOKEN_CACHE_DIR) {
        return Some(PathBuf::from(dir));
    }
    env::var(env::HOME).map(|home| {
        PathBuf::from(home)
            .join(".kube")
            .join("cache")
            .join("eks-token")
    })
}

/// Open the cache or say on stderr why it is not used (a cache problem never fails kubectl).
fn open_cache() -> Option<Cache> {
    let dir = default_cache_dir()?;
    match Cache::open(dir) {
        Ok(c) => Some(c),
        Err(err) => {
            eprintln!("warning: {err:#}");
            None
        }
    }
}

pub fn run(args: TokenArgs) -> Result<()> {
    let request = TokenRequest::from_args(args)?;
    let (version, warning) =
        token::exec_api_version(env::var(env::KUBERNETES_EXEC_INFO).as_deref());
    if let Some(warning) = warning {
        eprintln!("warning: {warning}");
    }

    let cache = if request.use_cache {
        open_cache()
    } else {
        None
    };
    let key = request.cache_key();
    if let Some(entry) = cache
        .as_ref()
        .and_then(|c| c.lookup(&key, SystemTime::now()))
    {
        let token = Token {
            token: entry.token.clone(),
            expiration: entry.expiration(),
        };
        return emit(&request, version, &token);
    }

    // Held (when we lead a single flight) until the entry is stored.
    let mut flight_lock = None;
    let (token, region) = match request.static_credentials() {
        Some((creds, region)) => {
            let token = token::presign(&creds, &request.cluster, region, SystemTime::now())
                .with_context(|| format!("signing a token for cluster `{}`", request.cluster))?;
            (token, region.to_owned())
        }
        None => {
            // The SDK path may call STS (AssumeRole, SSO): when many kubectl processes start
            // at once on a cold cache, one of them signs and the others take its entry.
            match cache.as_ref().map(|c| c.single_flight(&key, FLIGHT_WAIT)) {
                Some(Flight::Served(entry)) => {
                    let token = Token {
                        token: entry.token.clone(),
                        expiration: entry.expiration(),
                    };
                    return emit(&request, version, &token);
                }
                Some(Flight::Leader(lock)) => flight_lock = Some(lock),
                Some(Flight::Alone) | None => {}
            }
            fetch_token_with_sdk(&request)?
        }
    };

    if let Some(cache) = &cache {
        let entry = Entry {
            version: 1,
            token: token.token.clone(),
            expires: cache::unix_secs(token.expiration),
            cluster: request.cluster.clone(),
            region,
            profile: request.profile.clone(),
            role_arn: request.role.as_ref().map(ToString::to_string),
        };
        if let Err(err) = cache.store(&key, &entry) {
            eprintln!("warning: {err:#}");
        }
    }
    // The waiting processes find the entry as soon as the lock goes.
    drop(flight_lock);
    emit(&request, version, &token)
}

/// The slow path: aws-config's chain on a current-thread runtime, through the core's one path
/// from credentials to a token.
fn fetch_token_with_sdk(request: &TokenRequest) -> Result<(Token, String)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let source = TokenSource {
        options: AwsOptions {
            profile: request.profile.clone(),
            region: request.region.clone(),
        },
        role: request.role.as_ref().map(|role| RoleToAssume {
            role_arn: role.to_string(),
            session: match &request.session {
                SessionName::Explicit(s) => RoleSession::Named(s.clone()),
                SessionName::Default => RoleSession::default(),
                SessionName::Forward => RoleSession::Forward {
                    fallback: DEFAULT_ROLE_SESSION_NAME.to_owned(),
                },
            },
            external_id: request.external_id.clone(),
        }),
    };
    let signed = runtime.block_on(aws::fetch_token(
        &source,
        &request.cluster,
        SystemTime::now(),
    ))?;
    for warning in &signed.warnings {
        eprintln!("warning: {warning}");
    }
    Ok((signed.token, signed.region))
}

/// The one writer of the ExecCredential. A closed stdout (kubectl went away) is not an error.
fn emit(request: &TokenRequest, version: token::ExecApiVersion, token: &Token) -> Result<()> {
    let mut line = if request.token_only {
        token.token.clone()
    } else {
        token::exec_credential_json(version, token)
    };
    line.push('\n');
    write_stdout(&line)
}

/// Writes `text` to stdout as is; a closed stdout (kubectl or `| head` went away) is not an
/// error. Every command of this binary writes its data through here.
pub fn write_stdout(text: &str) -> Result<()> {
    eks_auth::cli::write_stdout(text).context("writing to stdout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_names() {
        for ok in ["demo", "a", "prod-eu_1", "1x"] {
            validate_cluster_name(ok).unwrap();
        }
        for bad in ["", "-x", "a b", "a/b", &"x".repeat(101)] {
            assert!(validate_cluster_name(bad).is_err(), "{bad}");
        }
        assert_eq!(
            validate_cluster_name("a b").unwrap_err().to_string(),
            "invalid cluster name `a b`: EKS names are 1-100 letters, digits, `-` or `_`, starting with a letter or digit"
        );
    }

    #[test]
    fn session_names() {
        for ok in ["ab", "alice@example.com", "a_b+c=d,e.f-g", &"s".repeat(64)] {
            validate_session_name(ok).unwrap();
        }
        for bad in ["a", "has space", "ü-x", &"s".repeat(65)] {
            assert!(validate_session_name(bad).is_err(), "{bad}");
        }
    }
}
