//! The AWS side: the Python moto stand-in (tests/aws/stand_in.py) as a child process, and its
//! admin API (see the protocol in tests/aws/README.md).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::env_vars;
use crate::http1::{self, HttpError};

/// The script, found next to this crate at compile time unless overridden.
pub fn script_path() -> PathBuf {
    std::env::var_os(env_vars::AWS_SCRIPT)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/aws/stand_in.py")))
}

/// Errors starting or calling the AWS side.
#[derive(Debug, thiserror::Error)]
pub enum AwsSideError {
    #[error("starting `{python} {script}`")]
    Spawn {
        python: String,
        script: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "the AWS side exited before it was ready (its log: `{log}`)\n\nhint: install its requirements: `python3 -m pip install -r tests/aws/requirements.txt`"
    )]
    NotReady { log: String },
    #[error("the AWS side printed `{0}` instead of `READY http://127.0.0.1:PORT`")]
    BadReadyLine(String),
    #[error("the AWS side was not ready within {0:?}")]
    Timeout(Duration),
    #[error("calling the AWS side's admin API `{path}`")]
    Http {
        path: String,
        #[source]
        source: HttpError,
    },
    #[error("the AWS side's admin API `{path}` answered {status}: {body}")]
    Api {
        path: String,
        status: u16,
        body: String,
    },
}

/// IAM access keys (an IAM user's, or temporary ones with a session token): the core's
/// credentials type, whose `Debug` shows the access key id only.
pub type AwsKeys = eks_auth::token::Credentials;

/// An IAM user created in the stand-in, with one access key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsUser {
    pub name: String,
    pub arn: String,
    pub user_id: String,
    pub keys: AwsKeys,
}

/// An IAM role created in the stand-in (any principal of the account may assume it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsRole {
    pub arn: String,
    pub role_id: String,
}

/// The running Python process. Dropping it closes its stdin and kills it.
#[derive(Debug)]
pub struct AwsSide {
    child: Child,
    stdin: Option<ChildStdin>,
    addr: SocketAddr,
}

/// How long the stand-in may take to import moto and listen.
const READY_TIMEOUT: Duration = Duration::from_secs(30);

impl AwsSide {
    /// Starts the stand-in on a free loopback port; its stderr goes to `log` (a file path) or is
    /// inherited.
    pub fn start(region: &str, log: Option<&std::path::Path>) -> Result<AwsSide, AwsSideError> {
        let python = std::env::var(env_vars::PYTHON).unwrap_or_else(|_| "python3".into());
        let script = script_path();
        let spawn_err = |source| AwsSideError::Spawn {
            python: python.clone(),
            script: script.display().to_string(),
            source,
        };
        let stderr = match log {
            Some(path) => Stdio::from(std::fs::File::create(path).map_err(spawn_err)?),
            None => Stdio::inherit(),
        };
        let mut child = Command::new(&python)
            .arg(&script)
            .args(["--host", "127.0.0.1", "--port", "0", "--region", region])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(spawn_err)?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut reader = std::io::BufReader::new(stdout);
            let mut line = String::new();
            let read = reader.read_line(&mut line).map(|_| line);
            let _ = tx.send(read);
            // Keep draining so a chatty child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut side = AwsSide {
            child,
            stdin,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let line = match rx.recv_timeout(READY_TIMEOUT) {
            Ok(Ok(line)) if !line.is_empty() => line,
            Ok(_) => {
                let log = log
                    .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                    .unwrap_or_default();
                return Err(AwsSideError::NotReady {
                    log: log.trim().to_string(),
                });
            }
            Err(_) => return Err(AwsSideError::Timeout(READY_TIMEOUT)),
        };
        let line = line.trim();
        side.addr = line
            .strip_prefix("READY http://")
            .and_then(|a| a.parse().ok())
            .ok_or_else(|| AwsSideError::BadReadyLine(line.to_string()))?;
        Ok(side)
    }

    /// `http://127.0.0.1:PORT` (AWS_ENDPOINT_URL).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Calls the admin API (`POST path` with a JSON body; see tests/aws/README.md).
    pub fn admin(&self, path: &str, body: &Value) -> Result<Value, AwsSideError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let host = self.addr.to_string();
        let headers = [
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
        ];
        let resp =
            http1::send_blocking(self.addr, "POST", path, &headers, &bytes).map_err(|source| {
                AwsSideError::Http {
                    path: path.to_string(),
                    source,
                }
            })?;
        let text = String::from_utf8_lossy(&resp.body).to_string();
        if resp.status != 200 && resp.status != 201 {
            return Err(AwsSideError::Api {
                path: path.to_string(),
                status: resp.status,
                body: text,
            });
        }
        serde_json::from_str(&text).map_err(|_| AwsSideError::Api {
            path: path.to_string(),
            status: resp.status,
            body: text,
        })
    }

    /// Creates an IAM user with an access key.
    pub fn create_user(&self, name: &str, path: &str) -> Result<AwsUser, AwsSideError> {
        let v = self.admin("/_testbed/users", &json!({"name": name, "path": path}))?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(AwsUser {
            name: name.to_string(),
            arn: s("arn"),
            user_id: s("user_id"),
            keys: AwsKeys {
                access_key_id: s("access_key_id"),
                secret_access_key: s("secret_access_key"),
                session_token: None,
            },
        })
    }

    /// Creates an IAM role that any principal of the account may assume.
    pub fn create_role(&self, name: &str, path: &str) -> Result<AwsRole, AwsSideError> {
        let v = self.admin(
            "/_testbed/roles",
            &json!({"name": name, "path": path, "trust": "*"}),
        )?;
        Ok(AwsRole {
            arn: v["arn"].as_str().unwrap_or_default().to_string(),
            role_id: v["role_id"].as_str().unwrap_or_default().to_string(),
        })
    }

    /// Temporary keys of a session of `role_arn` named `session_name` (moto's AssumeRole).
    pub fn assume_role(&self, role_arn: &str, session_name: &str) -> Result<AwsKeys, AwsSideError> {
        let v = self.admin(
            "/_testbed/assume-role",
            &json!({"role_arn": role_arn, "session_name": session_name}),
        )?;
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_string();
        Ok(AwsKeys {
            access_key_id: s("access_key_id"),
            secret_access_key: s("secret_access_key"),
            session_token: Some(s("session_token")),
        })
    }

    /// Deletes an IAM role (to recreate it under the same ARN with a new unique id).
    pub fn delete_role(&self, name: &str) -> Result<(), AwsSideError> {
        self.admin("/_testbed/roles/delete", &json!({"name": name}))
            .map(|_| ())
    }

    /// Registers the EKS cluster with the API server's endpoint and CA, in `auth_mode` (the
    /// creator gets its admin access entry when the mode uses entries); returns its ARN.
    pub fn register_cluster(
        &self,
        name: &str,
        endpoint: &str,
        ca_pem: &str,
        creator_arn: &str,
        auth_mode: eks_auth::access::AuthenticationMode,
    ) -> Result<String, AwsSideError> {
        let body = json!({"name": name, "endpoint": endpoint, "ca_pem": ca_pem,
            "creator_arn": creator_arn, "auth_mode": auth_mode.as_str()});
        let v = self.admin("/_testbed/clusters", &body)?;
        Ok(v["arn"].as_str().unwrap_or_default().to_string())
    }
}

impl Drop for AwsSide {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
