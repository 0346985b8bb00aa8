//! The Kubernetes side of a testbed as tests drive it: credentials, kubeconfigs, real kubectl,
//! and objects read and written past authorization.

use std::process::{Command, Output};
use std::sync::atomic::Ordering;

use base64::Engine;
use serde_json::{Value, json};

use crate::aws_side::{AwsKeys, AwsUser};
use crate::env_vars;
use crate::kinds::Kind;
use crate::reqlog::LoggedRequest;
use crate::status::ApiError;

use super::{Testbed, TestbedError, bin_path, io_dir};

/// Credentials a `kubectl` run presents. `Debug` redacts tokens.
#[derive(Clone)]
pub enum Creds {
    /// AWS keys: an `exec` stanza running `kubectl-eks_token` (or, when that binary is not
    /// built, a token presigned in-process by `eks_auth::token::presign`).
    Aws(AwsKeys),
    /// A bearer token as is (static test tokens, forged tokens).
    Token(String),
    /// No credentials at all.
    Anonymous,
}

impl std::fmt::Debug for Creds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Creds::Aws(keys) => f.debug_tuple("Aws").field(keys).finish(),
            Creds::Token(_) => f.write_str("Token(<redacted>)"),
            Creds::Anonymous => f.write_str("Anonymous"),
        }
    }
}

impl From<&AwsUser> for Creds {
    fn from(user: &AwsUser) -> Creds {
        Creds::Aws(user.keys.clone())
    }
}

impl Testbed {
    /// Everything the API server has answered so far.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.log.entries()
    }

    /// Writes an object directly into the store (no authorization), creating or replacing it.
    /// `obj` needs `apiVersion`, `kind` and `metadata.name` (and `metadata.namespace` if namespaced).
    pub fn put_object(&self, obj: Value) -> Result<Value, TestbedError> {
        let kind_name = obj["kind"].as_str().unwrap_or_default().to_string();
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let seed_err = |e: ApiError| TestbedError::Seed {
            kind: kind_name.clone(),
            name: name.clone(),
            message: e.message().to_string(),
        };
        let kind = Kind::by_kind(&kind_name)
            .ok_or_else(|| seed_err(ApiError::bad_request("unknown kind")))?;
        let namespace = obj["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let mut store = self.store.lock().unwrap_or_else(|e| e.into_inner());
        let now = jiff::Timestamp::now();
        let mut body = obj.clone();
        if let Some(m) = body["metadata"].as_object_mut() {
            m.remove("resourceVersion");
        }
        match store.get(kind, &namespace, &name) {
            Ok(_) => store
                .update(kind, &namespace, &name, &body, now)
                .map(|(o, _)| o),
            Err(_) => store.create(kind, &namespace, &body, now),
        }
        .map_err(seed_err)
    }

    /// Sets the `mapRoles` and `mapUsers` of the aws-auth ConfigMap (its only data keys after
    /// this), creating it if there is none; no authorization. The values are aws-auth's YAML text.
    pub fn set_aws_auth(&self, map_roles: &str, map_users: &str) -> Result<Value, TestbedError> {
        let mut aws_auth = self
            .get_object("ConfigMap", "kube-system", "aws-auth")
            .unwrap_or_else(|| {
                json!({
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": {"name": "aws-auth", "namespace": "kube-system"},
                })
            });
        aws_auth["data"] = json!({"mapRoles": map_roles, "mapUsers": map_users});
        self.put_object(aws_auth)
    }

    /// Reads an object from the store (no authorization).
    pub fn get_object(&self, kind: &str, namespace: &str, name: &str) -> Option<Value> {
        let kind = Kind::by_kind(kind)?;
        self.store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(kind, namespace, name)
            .ok()
    }

    /// A kubeconfig (YAML) for the cluster presenting `creds`; with `pin_creds` the AWS keys are
    /// put into the exec stanza's `env`, otherwise the exec plugin reads them from its environment.
    pub fn kubeconfig_for(&self, creds: &Creds, pin_creds: bool) -> String {
        let name = self.cluster_arn.clone();
        let user = match creds {
            Creds::Aws(keys) => match bin_path("kubectl-eks_token") {
                Some(bin) => {
                    let mut env =
                        vec![json!({"name": env_vars::AWS_REGION, "value": self.options.region})];
                    if let Some(endpoint) = self.aws_endpoint() {
                        env.push(json!({"name": env_vars::AWS_ENDPOINT_URL, "value": endpoint}));
                    }
                    if pin_creds {
                        env.push(json!({"name": env_vars::AWS_ACCESS_KEY_ID, "value": keys.access_key_id}));
                        env.push(json!({"name": env_vars::AWS_SECRET_ACCESS_KEY, "value": keys.secret_access_key}));
                        if let Some(t) = &keys.session_token {
                            env.push(json!({"name": env_vars::AWS_SESSION_TOKEN, "value": t}));
                        }
                    }
                    json!({"exec": {
                        "apiVersion": "client.authentication.k8s.io/v1beta1",
                        "command": bin.display().to_string(),
                        "args": ["--cluster-name", self.options.cluster_name],
                        "env": env,
                        "interactiveMode": "Never",
                        "provideClusterInfo": false,
                    }})
                }
                None => json!({"token": self.presign(keys)}),
            },
            Creds::Token(token) => json!({"token": token}),
            Creds::Anonymous => json!({}),
        };
        let config = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": name, "cluster": {
                "server": self.server_url(),
                "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(&self.ca_pem),
            }}],
            "contexts": [{"name": name, "context": {"cluster": name, "user": name}}],
            "current-context": name,
            "users": [{"name": name, "user": user}],
            "preferences": {},
        });
        serde_yaml::to_string(&config).unwrap_or_default()
    }

    /// Runs real `kubectl` with `args` against this cluster, hermetically: a kubeconfig for
    /// `creds`, HOME inside the testbed dir, no AWS_* or KUBECONFIG from the caller.
    pub fn kubectl(&self, creds: &Creds, args: &[&str]) -> Result<Output, TestbedError> {
        let n = self.kubeconfigs.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.join(format!("kubeconfig-{n}"));
        std::fs::write(&path, self.kubeconfig_for(creds, true)).map_err(io_dir(&path))?;
        let kubectl = std::env::var(env_vars::KUBECTL).unwrap_or_else(|_| "kubectl".into());
        let mut cmd = Command::new(&kubectl);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.join("home"))
            .env(env_vars::KUBECONFIG, &path)
            .args(args);
        cmd.output().map_err(|source| TestbedError::Run {
            program: kubectl,
            source,
        })
    }
}
