//! I/O: the kubeconfig (read as kubectl merges it, with kube's `Kubeconfig`), the context in
//! use, and running the context's exec credential plugin as kubectl runs it.

use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use kube::config::{ExecConfig, Kubeconfig};

use crate::exec::ExecStanza;
use crate::report::ContextInfo;
use eks_auth::arn::ClusterArn;
use eks_auth::env;

/// How the context's user authenticates. `Debug` shows no secret: the exec stanza prints as
/// [`ExecStanza`] does (env names only), the token not at all.
#[derive(Clone)]
pub enum UserAuth {
    Exec(Box<ExecConfig>),
    /// A bearer token written into the kubeconfig (kept out of Debug output).
    Token(Secret),
    /// Client certificates, basic auth, nothing: no AWS identity to show.
    Other(String),
}

/// A string that never prints.
#[derive(Clone)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// The kubeconfig and the context in use. `Debug` leaves the kubeconfig out: kube's `ExecConfig`
/// prints its env values, which may be AWS keys.
#[derive(Clone)]
pub struct Loaded {
    pub kubeconfig: Kubeconfig,
    pub context: ContextInfo,
    pub user: UserAuth,
}

impl std::fmt::Debug for UserAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UserAuth::Exec(exec) => f.debug_tuple("Exec").field(&stanza(exec)).finish(),
            UserAuth::Token(secret) => f.debug_tuple("Token").field(secret).finish(),
            UserAuth::Other(what) => f.debug_tuple("Other").field(what).finish(),
        }
    }
}

impl std::fmt::Debug for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Loaded")
            .field("context", &self.context)
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

/// The command, args and env of an exec stanza.
pub fn stanza(exec: &ExecConfig) -> ExecStanza {
    eks_auth::kube::exec_stanza(exec)
}

/// Reads the kubeconfig (`--kubeconfig`, else `$KUBECONFIG` merged, else `~/.kube/config`) and
/// picks the context (`--context`, else the current one); `--cluster` and `--user` replace the
/// context's entries as kubectl does.
#[cfg(test)]
pub fn load(path: Option<&std::path::Path>, context: Option<&str>) -> anyhow::Result<Loaded> {
    load_args(&eks_auth::cli::KubeArgs {
        kubeconfig: path.map(std::path::Path::to_owned),
        context: context.map(str::to_owned),
        ..Default::default()
    })
}

/// [`load`] with every kubectl global flag.
pub fn load_args(kube: &eks_auth::cli::KubeArgs) -> anyhow::Result<Loaded> {
    let context = kube.context.as_deref();
    let mut kubeconfig = eks_auth::kube::read_kubeconfig(kube.kubeconfig.as_deref())?;
    eks_auth::kube::override_context(
        &mut kubeconfig,
        context,
        kube.cluster.as_deref(),
        kube.user.as_deref(),
    )?;
    let name = match context
        .map(str::to_owned)
        .or(kubeconfig.current_context.clone())
    {
        Some(n) if !n.is_empty() => n,
        _ => bail!(
            "the kubeconfig has no current context\n\nhint: pass `--context NAME` or run `kubectl config use-context NAME`"
        ),
    };
    let ctx = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)
        .and_then(|c| c.context.clone())
        .with_context(|| format!("context `{name}` is not in the kubeconfig"))?;
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == ctx.cluster)
        .and_then(|c| c.cluster.clone());
    let user_name = ctx.user.clone().unwrap_or_default();
    let auth_info = kubeconfig
        .auth_infos
        .iter()
        .find(|u| u.name == user_name)
        .and_then(|u| u.auth_info.clone());
    let user = match auth_info {
        Some(info) if info.exec.is_some() => {
            UserAuth::Exec(Box::new(info.exec.clone().unwrap_or_default()))
        }
        Some(info) => {
            // The token is a SecretString; serialising the AuthInfo is how kube lets it out.
            let value = serde_json::to_value(&info).unwrap_or_default();
            match value.get("token").and_then(|t| t.as_str()) {
                Some(t) => UserAuth::Token(Secret(t.to_owned())),
                None if info.client_certificate.is_some()
                    || info.client_certificate_data.is_some() =>
                {
                    UserAuth::Other("client-certificate".to_owned())
                }
                None if info.token_file.is_some() => UserAuth::Other("token-file".to_owned()),
                None => UserAuth::Other("none".to_owned()),
            }
        }
        None => UserAuth::Other("none".to_owned()),
    };
    let cluster_arn = ClusterArn::parse(&ctx.cluster).or_else(|| ClusterArn::parse(&name));
    let auth = match &user {
        UserAuth::Exec(_) => "exec".to_owned(),
        UserAuth::Token(_) => "token".to_owned(),
        UserAuth::Other(what) => what.clone(),
    };
    Ok(Loaded {
        context: ContextInfo {
            name,
            cluster: ctx.cluster.clone(),
            server: cluster.and_then(|c| c.server),
            cluster_arn,
            namespace: ctx.namespace.clone(),
            auth,
        },
        kubeconfig,
        user,
    })
}

/// Why the exec plugin gave no token.
#[derive(Debug, thiserror::Error)]
pub enum PluginError {
    #[error("exec plugin `{command}` was not found")]
    NotFound { command: String },
    #[error("running exec plugin `{command}`")]
    Start {
        command: String,
        #[source]
        source: std::io::Error,
    },
    #[error("exec plugin `{command}` failed ({status}){}", stderr_tail(.stderr))]
    Failed {
        command: String,
        status: String,
        stderr: String,
    },
    #[error("exec plugin `{command}` did not answer within {}s", .timeout.as_secs())]
    Timeout { command: String, timeout: Duration },
    #[error("exec plugin `{command}` printed no ExecCredential with a token")]
    NoToken { command: String },
}

fn stderr_tail(stderr: &str) -> String {
    let trimmed = stderr.trim();
    if trimmed.is_empty() {
        return String::new();
    }
    let tail: Vec<&str> = trimmed.lines().rev().take(5).collect();
    let tail: Vec<&str> = tail.into_iter().rev().collect();
    format!(": {}", tail.join(" / "))
}

/// How long a plugin may take (an SSO refresh or AssumeRole is a few round trips).
pub const PLUGIN_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs the plugin as kubectl does (client-go `exec.go`): its `env` on top of ours,
/// `KUBERNETES_EXEC_INFO` naming the apiVersion, non-interactive (stdin closed), and reads
/// `status.token` from the ExecCredential it prints.
pub async fn run_plugin(exec: &ExecConfig) -> Result<String, PluginError> {
    let command = exec.command.clone().unwrap_or_default();
    let api_version = exec
        .api_version
        .clone()
        .unwrap_or_else(|| "client.authentication.k8s.io/v1beta1".to_owned());
    let exec_info = serde_json::json!({
        "apiVersion": api_version,
        "kind": "ExecCredential",
        "spec": {"interactive": false},
    });
    let mut cmd = tokio::process::Command::new(&command);
    cmd.args(exec.args.iter().flatten())
        .envs(stanza(exec).env)
        .env(env::KUBERNETES_EXEC_INFO, exec_info.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(PluginError::NotFound { command });
        }
        Err(source) => return Err(PluginError::Start { command, source }),
    };
    let output = match tokio::time::timeout(PLUGIN_TIMEOUT, child.wait_with_output()).await {
        Ok(Ok(out)) => out,
        Ok(Err(source)) => return Err(PluginError::Start { command, source }),
        Err(_) => {
            return Err(PluginError::Timeout {
                command,
                timeout: PLUGIN_TIMEOUT,
            });
        }
    };
    if !output.status.success() {
        return Err(PluginError::Failed {
            command,
            status: output.status.to_string(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    // client-go decodes the output with a YAML-tolerant decoder; JSON is YAML.
    let credential: serde_yaml::Value =
        serde_yaml::from_slice(&output.stdout).map_err(|_| PluginError::NoToken {
            command: command.clone(),
        })?;
    credential
        .get("status")
        .and_then(|s| s.get("token"))
        .and_then(|t| t.as_str())
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .ok_or(PluginError::NoToken { command })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: arn:aws:eks:us-east-1:123456789012:cluster/testbed
clusters:
- name: arn:aws:eks:us-east-1:123456789012:cluster/testbed
  cluster: {server: "https://127.0.0.1:6443"}
- name: plain
  cluster: {server: "https://10.0.0.1"}
contexts:
- name: arn:aws:eks:us-east-1:123456789012:cluster/testbed
  context: {cluster: "arn:aws:eks:us-east-1:123456789012:cluster/testbed", user: eks, namespace: team-a}
- name: static
  context: {cluster: plain, user: static}
users:
- name: eks
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [--region, us-east-1, eks, get-token, --cluster-name, testbed]
      env: [{name: AWS_PROFILE, value: dev}]
- name: static
  user: {token: k8s-aws-v1.abc}
"#;

    fn write(dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join("config");
        std::fs::write(&path, CONFIG).unwrap();
        path
    }

    #[test]
    fn current_context_with_exec() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load(Some(&write(dir.path())), None).unwrap();
        assert_eq!(loaded.context.auth, "exec");
        assert_eq!(loaded.context.namespace.as_deref(), Some("team-a"));
        assert_eq!(
            loaded.context.server.as_deref(),
            Some("https://127.0.0.1:6443")
        );
        assert_eq!(
            loaded.context.cluster_arn.as_ref().map(|c| c.name()),
            Some("testbed")
        );
        let UserAuth::Exec(exec) = &loaded.user else {
            panic!("expected exec")
        };
        let s = stanza(exec);
        assert_eq!(s.command, "aws");
        assert_eq!(s.env, vec![("AWS_PROFILE".to_owned(), "dev".to_owned())]);
    }

    #[test]
    fn exec_env_values_stay_out_of_debug() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            CONFIG.replace(
                "env: [{name: AWS_PROFILE, value: dev}]",
                "env: [{name: AWS_SECRET_ACCESS_KEY, value: wJalrXUtnFEMI-SECRET}]",
            ),
        )
        .unwrap();
        let loaded = load(Some(&path), None).unwrap();
        let debug = format!("{loaded:?}");
        assert!(!debug.contains("wJalrXUtnFEMI-SECRET"), "{debug}");
        assert!(debug.contains("AWS_SECRET_ACCESS_KEY"), "{debug}");
        let UserAuth::Exec(exec) = &loaded.user else {
            panic!("expected exec")
        };
        assert_eq!(
            stanza(exec).env,
            vec![(
                "AWS_SECRET_ACCESS_KEY".to_owned(),
                "wJalrXUtnFEMI-SECRET".to_owned()
            )]
        );
    }

    #[test]
    fn named_context_with_token_redacts_debug() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load(Some(&write(dir.path())), Some("static")).unwrap();
        let UserAuth::Token(token) = &loaded.user else {
            panic!("expected token")
        };
        assert_eq!(token.0, "k8s-aws-v1.abc");
        assert!(!format!("{loaded:?}").contains("k8s-aws-v1.abc"));
        assert_eq!(loaded.context.cluster_arn, None);
    }

    #[test]
    fn unknown_context_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = load(Some(&write(dir.path())), Some("nope")).unwrap_err();
        assert_eq!(err.to_string(), "context `nope` is not in the kubeconfig");
    }

    #[tokio::test]
    async fn plugin_output_and_failures() {
        let dir = tempfile::tempdir().unwrap();
        let ok = ExecConfig {
            command: Some("sh".to_owned()),
            args: Some(vec![
                "-c".to_owned(),
                r#"test -n "$KUBERNETES_EXEC_INFO" && printf '{"kind":"ExecCredential","status":{"token":"%s"}}' "$TOKEN""#.to_owned(),
            ]),
            env: Some(vec![[
                ("name".to_owned(), "TOKEN".to_owned()),
                ("value".to_owned(), "k8s-aws-v1.xyz".to_owned()),
            ]
            .into_iter()
            .collect()]),
            ..Default::default()
        };
        assert_eq!(run_plugin(&ok).await.unwrap(), "k8s-aws-v1.xyz");

        let failing = ExecConfig {
            command: Some("sh".to_owned()),
            args: Some(vec![
                "-c".to_owned(),
                "echo 'Token has expired and refresh failed' >&2; exit 255".to_owned(),
            ]),
            ..Default::default()
        };
        let err = run_plugin(&failing).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "exec plugin `sh` failed (exit status: 255): Token has expired and refresh failed"
        );

        let missing = ExecConfig {
            command: Some(dir.path().join("nope").display().to_string()),
            ..Default::default()
        };
        assert!(matches!(
            run_plugin(&missing).await.unwrap_err(),
            PluginError::NotFound { .. }
        ));
    }
}
