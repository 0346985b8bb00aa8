//! The whole stand-in EKS in one value: AWS side, API server, cluster creator, files.
//!
//! Here: starting and stopping it, its files and environment. `aws`: what tests do on the AWS side
//! (users, roles, the aws CLI, presigned tokens); `cluster`: credentials, kubeconfigs, kubectl
//! runs, objects read and written past authorization.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eks_auth::access::AuthenticationMode;

use crate::access::AccessCache;
use crate::auth::{Authenticator, StaticTokenError, StaticTokens};
use crate::authz::Authorizer;
use crate::aws_side::{AwsSide, AwsSideError, AwsUser};
use crate::eks_authn::EksAuthenticator;
use crate::env_vars;
use crate::reqlog::RequestLog;
use crate::server::{self, State};
use crate::store::Store;
use crate::tls::{ServerTls, TlsError};

mod aws;
mod cluster;

pub use aws::presign_token;
pub use cluster::Creds;

/// Account of everything the AWS side creates (moto's default account).
pub const ACCOUNT_ID: &str = "123456789012";

/// How to start a testbed.
#[derive(Debug, Clone)]
pub struct TestbedOptions {
    pub cluster_name: String,
    pub region: String,
    /// Where the files go; `None` makes a temporary directory that is removed on drop.
    pub dir: Option<PathBuf>,
    /// API server port; 0 picks a free one.
    pub port: u16,
    /// `TOKEN=user:group1,group2` tokens accepted besides EKS tokens.
    pub static_tokens: Vec<String>,
    /// Also write the request log as JSON lines to this file.
    pub request_log_file: Option<PathBuf>,
    /// Start with the aws-auth ConfigMap of a cluster with a managed node group (default true).
    pub seed_aws_auth: bool,
    /// Start the AWS side (default true). Without it only static tokens authenticate.
    pub aws: bool,
    /// Name of the IAM user that creates the cluster.
    pub creator_name: String,
    /// Send the AWS side's log to stderr instead of `DIR/aws.log`.
    pub aws_log_to_stderr: bool,
    /// The cluster's `accessConfig.authenticationMode` at creation (default CONFIG_MAP). In the
    /// API modes the creator has an access entry with AmazonEKSClusterAdminPolicy instead of the
    /// implicit `system:masters`.
    pub auth_mode: AuthenticationMode,
}

impl Default for TestbedOptions {
    fn default() -> TestbedOptions {
        TestbedOptions {
            cluster_name: "testbed".into(),
            region: "us-east-1".into(),
            dir: None,
            port: 0,
            static_tokens: Vec::new(),
            request_log_file: None,
            seed_aws_auth: true,
            aws: true,
            creator_name: "cluster-creator".into(),
            aws_log_to_stderr: false,
            auth_mode: AuthenticationMode::ConfigMap,
        }
    }
}

/// Errors starting or driving a testbed.
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    #[error("preparing the directory `{path}`")]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("binding the API server to 127.0.0.1:{port}")]
    Bind {
        port: u16,
        #[source]
        source: std::io::Error,
    },
    #[error("starting the API server thread")]
    Thread(#[source] std::io::Error),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    AwsSide(#[from] AwsSideError),
    #[error(transparent)]
    StaticToken(#[from] StaticTokenError),
    #[error("this testbed was started without the AWS side")]
    NoAws,
    #[error("seeding {kind} `{name}`: {message}")]
    Seed {
        kind: String,
        name: String,
        message: String,
    },
    #[error("running `{program}`")]
    Run {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// A running stand-in EKS. Dropping it stops the server and the AWS side.
pub struct Testbed {
    options: TestbedOptions,
    dir: PathBuf,
    _tempdir: Option<tempfile::TempDir>,
    aws: Option<AwsSide>,
    addr: SocketAddr,
    ca_pem: String,
    creator: Option<AwsUser>,
    cluster_arn: String,
    store: Arc<Mutex<Store>>,
    log: Arc<RequestLog>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    kubeconfigs: AtomicUsize,
    started_in: Duration,
    /// Set when `kubectl-eks_token` is not built: DIR/kubeconfig uses this static token.
    creator_token: Option<String>,
    /// The access entries and mode as the API server sees them (with the AWS side only).
    access: Option<Arc<AccessCache>>,
}

impl std::fmt::Debug for Testbed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Testbed")
            .field("cluster_arn", &self.cluster_arn)
            .field("server", &self.addr)
            .field("aws", &self.aws)
            .field("dir", &self.dir)
            .field("creator", &self.creator)
            .finish_non_exhaustive()
    }
}

/// Workspace binaries (`kubectl-eks_token`, ...) live next to the running executable, or one
/// level up from a test executable in `deps/`. Built by `cargo build --workspace --bins`.
pub fn bin_path(name: &str) -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let mut dir = exe.parent()?.to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let path = dir.join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    path.is_file().then_some(path)
}

fn io_dir(path: &Path) -> impl FnOnce(std::io::Error) -> TestbedError + '_ {
    move |source| TestbedError::Dir {
        path: path.display().to_string(),
        source,
    }
}

/// Quotes a value for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

impl Testbed {
    /// [`Testbed::start`] with the default options but the cluster's authentication mode.
    pub fn start_in(mode: AuthenticationMode) -> Result<Testbed, TestbedError> {
        Testbed::start(TestbedOptions {
            auth_mode: mode,
            ..TestbedOptions::default()
        })
    }

    /// Starts the AWS side and the API server, creates the cluster creator and registers the cluster.
    pub fn start(options: TestbedOptions) -> Result<Testbed, TestbedError> {
        let began = Instant::now();
        let (dir, tempdir) = match &options.dir {
            Some(d) => {
                std::fs::create_dir_all(d).map_err(io_dir(d))?;
                (d.clone(), None)
            }
            None => {
                let t = tempfile::Builder::new()
                    .prefix("eks-testbed-")
                    .tempdir()
                    .map_err(io_dir(Path::new("/tmp")))?;
                (t.path().to_path_buf(), Some(t))
            }
        };
        std::fs::create_dir_all(dir.join("home")).map_err(io_dir(&dir))?;

        // The AWS side imports moto, which takes the longest: start it first.
        let aws_log = dir.join("aws.log");
        let aws_start = options.aws.then(|| {
            let region = options.region.clone();
            let log = (!options.aws_log_to_stderr).then(|| aws_log.clone());
            std::thread::spawn(move || AwsSide::start(&region, log.as_deref()))
        });

        let tls = ServerTls::generate()?;
        let listener =
            std::net::TcpListener::bind(("127.0.0.1", options.port)).map_err(|source| {
                TestbedError::Bind {
                    port: options.port,
                    source,
                }
            })?;
        listener
            .set_nonblocking(true)
            .map_err(|source| TestbedError::Bind {
                port: options.port,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| TestbedError::Bind {
            port: options.port,
            source,
        })?;

        let store = Arc::new(Mutex::new(Store::default()));
        crate::bootstrap::bootstrap(
            &mut store.lock().unwrap_or_else(|e| e.into_inner()),
            &tls.ca_pem,
            options.seed_aws_auth,
            jiff::Timestamp::now(),
        );

        let mut static_tokens = StaticTokens::default();
        for spec in &options.static_tokens {
            static_tokens.add_spec(spec)?;
        }
        // Without `kubectl-eks_token`, DIR/kubeconfig carries a fixed token for the creator's
        // mapping instead of an exec stanza (a presigned token would expire in 15 minutes).
        let creator_token = (options.aws && bin_path("kubectl-eks_token").is_none())
            .then(|| format!("testbed-creator-{}", crate::store::new_uid()));
        if let Some(token) = &creator_token {
            let user = crate::auth::User {
                username: eks_auth::mapping::CLUSTER_CREATOR_USERNAME.into(),
                groups: vec!["system:masters".into()],
                ..crate::auth::User::default()
            };
            static_tokens.add(token, user);
        }
        let creator_arn: Arc<Mutex<Option<String>>> = Arc::default();
        let aws = match aws_start {
            Some(handle) => Some(
                handle
                    .join()
                    .map_err(|_| AwsSideError::NotReady { log: String::new() })??,
            ),
            None => None,
        };
        let mut authenticators: Vec<Arc<dyn Authenticator>> = vec![Arc::new(static_tokens)];
        let mut authorizer: Arc<dyn Authorizer> = Arc::new(crate::authz::Rbac);
        let mut access = None;
        if let Some(aws) = &aws {
            let cache = Arc::new(AccessCache::new(aws.addr(), &options.cluster_name));
            authenticators.push(Arc::new(
                EksAuthenticator::new(
                    &options.cluster_name,
                    aws.addr(),
                    store.clone(),
                    creator_arn.clone(),
                    cache.clone(),
                )
                .serving_region(&options.region),
            ));
            authorizer = Arc::new(crate::authz::EksAccessPolicies {
                access: cache.clone(),
            });
            access = Some(cache);
        }
        let log = Arc::new(match &options.request_log_file {
            Some(path) => RequestLog::with_file(path).map_err(io_dir(path))?,
            None => RequestLog::default(),
        });
        let state = Arc::new(State {
            store: store.clone(),
            authenticators,
            authorizer,
            log: log.clone(),
            server_address: addr.to_string(),
        });
        let (shutdown, stop) = tokio::sync::oneshot::channel::<()>();
        let config = tls.config.clone();
        let thread = std::thread::Builder::new()
            .name("eks-testbed-apiserver".into())
            .spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build();
                let Ok(runtime) = runtime else { return };
                runtime.block_on(async move {
                    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                        return;
                    };
                    server::serve(listener, config, state, async move {
                        let _ = stop.await;
                    })
                    .await;
                });
            })
            .map_err(TestbedError::Thread)?;

        let mut testbed = Testbed {
            options: options.clone(),
            dir,
            _tempdir: tempdir,
            aws,
            addr,
            ca_pem: tls.ca_pem.clone(),
            creator: None,
            cluster_arn: format!(
                "arn:aws:eks:{}:{ACCOUNT_ID}:cluster/{}",
                options.region, options.cluster_name
            ),
            store,
            log,
            shutdown: Some(shutdown),
            thread: Some(thread),
            kubeconfigs: AtomicUsize::new(0),
            started_in: Duration::ZERO,
            creator_token,
            access,
        };
        if let Some(aws) = &testbed.aws {
            let creator = aws.create_user(&options.creator_name, "/")?;
            *creator_arn.lock().unwrap_or_else(|e| e.into_inner()) = Some(creator.arn.clone());
            testbed.cluster_arn = aws.register_cluster(
                &options.cluster_name,
                &testbed.server_url(),
                &testbed.ca_pem,
                &creator.arn,
                options.auth_mode,
            )?;
            testbed.creator = Some(creator);
        }
        testbed.write_files()?;
        testbed.started_in = began.elapsed();
        Ok(testbed)
    }

    fn write_files(&self) -> Result<(), TestbedError> {
        let write = |name: &str, text: &str| {
            let path = self.dir.join(name);
            std::fs::write(&path, text).map_err(io_dir(&path))
        };
        write("ca.pem", &self.ca_pem)?;
        let creds = match (&self.creator_token, &self.creator) {
            (Some(token), _) => Creds::Token(token.clone()),
            (None, Some(c)) => Creds::from(c),
            (None, None) => Creds::Anonymous,
        };
        let kubeconfig = self.kubeconfig_for(&creds, false);
        write("kubeconfig", &kubeconfig)?;
        let mut env = String::from(
            "# written by eks-testbed: `source` this file\nunset AWS_PROFILE AWS_SESSION_TOKEN\n",
        );
        for (k, v) in self.env() {
            env.push_str(&format!("export {k}={}\n", shell_quote(&v)));
        }
        write("env", &env)
    }

    /// Whether DIR/kubeconfig holds a static creator token because `kubectl-eks_token` is not built.
    pub fn kubeconfig_uses_static_token(&self) -> bool {
        self.creator_token.is_some()
    }

    /// How long `start` took, start to serving with files written.
    pub fn started_in(&self) -> Duration {
        self.started_in
    }

    /// The directory holding `env`, `kubeconfig`, `ca.pem`, `aws.log`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// `https://127.0.0.1:PORT`.
    pub fn server_url(&self) -> String {
        format!("https://{}", self.addr)
    }

    /// The CA certificate of the API server, PEM.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    pub fn cluster_name(&self) -> &str {
        &self.options.cluster_name
    }

    pub fn cluster_arn(&self) -> &str {
        &self.cluster_arn
    }

    /// `http://127.0.0.1:PORT` of the AWS side.
    pub fn aws_endpoint(&self) -> Option<String> {
        self.aws.as_ref().map(AwsSide::endpoint)
    }

    /// The IAM user that created the cluster (`system:masters` without an aws-auth entry).
    pub fn creator(&self) -> Option<&AwsUser> {
        self.creator.as_ref()
    }

    /// `DIR/kubeconfig`: the cluster with an `exec` stanza; credentials come from the environment.
    pub fn kubeconfig(&self) -> PathBuf {
        self.dir.join("kubeconfig")
    }

    /// The variables of `DIR/env`: AWS endpoint and region, the creator's keys, KUBECONFIG,
    /// EKS_CLUSTER_NAME.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        if let (Some(endpoint), Some(creator)) = (self.aws_endpoint(), &self.creator) {
            env.push((env_vars::AWS_ENDPOINT_URL.into(), endpoint));
            env.push((env_vars::AWS_REGION.into(), self.options.region.clone()));
            env.push((
                env_vars::AWS_DEFAULT_REGION.into(),
                self.options.region.clone(),
            ));
            env.push((
                env_vars::AWS_ACCESS_KEY_ID.into(),
                creator.keys.access_key_id.clone(),
            ));
            env.push((
                env_vars::AWS_SECRET_ACCESS_KEY.into(),
                creator.keys.secret_access_key.clone(),
            ));
        }
        env.push((
            env_vars::KUBECONFIG.into(),
            self.kubeconfig().display().to_string(),
        ));
        env.push((
            env_vars::EKS_CLUSTER_NAME.into(),
            self.options.cluster_name.clone(),
        ));
        env
    }
}

impl Drop for Testbed {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        drop(self.aws.take());
    }
}
