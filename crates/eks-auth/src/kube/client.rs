//! I/O: the kubeconfig read the way kubectl reads it, and a client for one of its contexts.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use kube::config::{ExecConfig, KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};

use super::error::KubeError;
use crate::arn::ClusterArn;
use crate::exec_stanza::ExecStanza;

/// A client and the name of the context it was built from (for messages).
#[derive(Clone)]
pub struct Cluster {
    /// The client.
    pub client: Client,
    /// The kubeconfig context in use.
    pub context: String,
    /// The EKS cluster ARN the context's cluster entry is named after, when it is (as
    /// `aws eks update-kubeconfig` and `kubectl eks-token update-kubeconfig` name it): the only
    /// place the cluster's account is known without AWS credentials.
    pub cluster_arn: Option<ClusterArn>,
    /// The context user's exec stanza as kubectl runs it (after `--user`), when it has one: read
    /// with [`crate::exec_stanza::parse`], it names the cluster a context not named by its ARN
    /// signs for. Its env values may be secrets: its `Debug` shows names only.
    pub exec: Option<ExecStanza>,
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("cluster_arn", &self.cluster_arn)
            .field("exec", &self.exec)
            .finish_non_exhaustive()
    }
}

/// Reads the kubeconfig as kubectl does: `--kubeconfig PATH` alone when given, otherwise
/// `$KUBECONFIG` (a list of files, merged) or `~/.kube/config`.
pub fn read_kubeconfig(path: Option<&Path>) -> Result<Kubeconfig, KubeError> {
    match path {
        Some(path) => Kubeconfig::read_from(path).map_err(|source| KubeError::ReadKubeconfig {
            path: path.to_owned(),
            source,
        }),
        None => Kubeconfig::read().map_err(KubeError::ReadDefaultKubeconfig),
    }
}

/// kubectl's `--cluster` and `--user`: the context in use (`context`, else the current one)
/// points at another cluster or user entry of the kubeconfig, in memory. An entry that does not
/// exist is an error, as in kubectl.
pub fn override_context(
    kubeconfig: &mut Kubeconfig,
    context: Option<&str>,
    cluster: Option<&str>,
    user: Option<&str>,
) -> Result<(), KubeError> {
    if cluster.is_none() && user.is_none() {
        return Ok(());
    }
    if let Some(name) = cluster
        && !kubeconfig.clusters.iter().any(|c| c.name == name)
    {
        return Err(KubeError::NoEntry {
            kind: "cluster",
            name: name.to_owned(),
        });
    }
    if let Some(name) = user
        && !kubeconfig.auth_infos.iter().any(|u| u.name == name)
    {
        return Err(KubeError::NoEntry {
            kind: "user",
            name: name.to_owned(),
        });
    }
    let context_name = context
        .map(str::to_owned)
        .or_else(|| kubeconfig.current_context.clone())
        .unwrap_or_default();
    let entry = kubeconfig
        .contexts
        .iter_mut()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_mut());
    match entry {
        Some(ctx) => {
            if let Some(name) = cluster {
                ctx.cluster = name.to_owned();
            }
            if let Some(name) = user {
                ctx.user = Some(name.to_owned());
            }
            Ok(())
        }
        None => Err(KubeError::NoEntry {
            kind: "context",
            name: context_name,
        }),
    }
}

/// kubectl's `--request-timeout` on a client configuration: `Some(None)` (`0`) lifts every
/// bound, `Some(Some(d))` bounds connecting, reading and writing by `d`; `None` (no flag) keeps
/// kube's defaults.
pub fn apply_request_timeout(config: &mut Config, timeout: Option<Option<Duration>>) {
    if let Some(t) = timeout {
        config.connect_timeout = t;
        config.read_timeout = t;
        config.write_timeout = t;
    }
}

/// Where kubectl's global flags point (see `eks_auth::cli::KubeArgs`).
#[derive(Debug, Clone, Copy, Default)]
pub struct KubeTarget<'a> {
    /// `--kubeconfig`.
    pub kubeconfig: Option<&'a Path>,
    /// `--context`.
    pub context: Option<&'a str>,
    /// `--cluster`.
    pub cluster: Option<&'a str>,
    /// `--user`.
    pub user: Option<&'a str>,
    /// `--request-timeout` (`Some(None)` = `0`, no limit).
    pub request_timeout: Option<Option<Duration>>,
}

/// [`connect`] with every kubectl global flag.
pub async fn connect_with(target: &KubeTarget<'_>) -> Result<Cluster, KubeError> {
    let mut config = read_kubeconfig(target.kubeconfig)?;
    override_context(&mut config, target.context, target.cluster, target.user)?;
    connect_to(config, target.context, None, target.request_timeout).await
}

/// Builds a client the way kubectl picks its configuration: the kubeconfig of
/// [`read_kubeconfig`], `--context NAME` or the current context. Exec credential plugins
/// (`kubectl-eks_token`) run as kubectl runs them.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Cluster, KubeError> {
    connect_to(read_kubeconfig(kubeconfig)?, context, None, None).await
}

/// [`connect`] over a kubeconfig already read. With `token`, the context's own credentials are
/// replaced by that bearer token (eks-whoami presents the token it already made, so the exec
/// plugin does not run twice). `request_timeout` is kubectl's `--request-timeout` (see
/// [`apply_request_timeout`]).
pub async fn connect_to(
    config: Kubeconfig,
    context: Option<&str>,
    token: Option<&str>,
    request_timeout: Option<Option<Duration>>,
) -> Result<Cluster, KubeError> {
    let context_name = context
        .map(str::to_owned)
        .or_else(|| config.current_context.clone())
        .unwrap_or_else(|| "(current)".to_owned());
    let cluster_arn = config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .and_then(|c| ClusterArn::parse(&c.cluster));
    let options = KubeConfigOptions {
        context: context.map(str::to_owned),
        ..Default::default()
    };
    let mut client_config = Config::from_custom_kubeconfig(config, &options)
        .await
        .map_err(|source| KubeError::LoadContext {
            context: context_name.clone(),
            source,
        })?;
    apply_request_timeout(&mut client_config, request_timeout);
    let exec = client_config.auth_info.exec.as_ref().map(exec_stanza);
    match token {
        Some(token) => {
            client_config.auth_info.exec = None;
            client_config.auth_info.token = Some(token.to_owned().into());
            client_config.auth_info.token_file = None;
        }
        None => {
            if let Some(exec) = &client_config.auth_info.exec {
                check_exec_command(exec, &context_name)?;
            }
        }
    }
    let client = Client::try_from(client_config).map_err(|source| KubeError::BuildClient {
        context: context_name.clone(),
        source,
    })?;
    Ok(Cluster {
        client,
        context: context_name,
        cluster_arn,
        exec,
    })
}

/// A kubeconfig exec stanza as the pure reader takes it: command, args and env as listed.
pub fn exec_stanza(exec: &ExecConfig) -> ExecStanza {
    ExecStanza {
        command: exec.command.clone().unwrap_or_default(),
        args: exec.args.clone().unwrap_or_default(),
        env: exec
            .env
            .iter()
            .flatten()
            .filter_map(|e| Some((e.get("name")?.clone(), e.get("value")?.clone())))
            .collect(),
    }
}

/// Fails early, naming the command, when the exec plugin cannot be started: kube's client would
/// only say "unable to run auth exec: No such file or directory" on every request.
fn check_exec_command(exec: &ExecConfig, context: &str) -> Result<(), KubeError> {
    let Some(command) = exec.command.as_deref() else {
        return Ok(());
    };
    // The child's PATH decides the lookup when the stanza sets one (std's `Command` on Unix).
    let path_var = exec
        .env
        .iter()
        .flatten()
        .find(|e| e.get("name").map(String::as_str) == Some("PATH"))
        .and_then(|e| e.get("value").cloned())
        .or_else(|| crate::env::var(crate::env::PATH));
    if find_command(command, path_var.as_deref()).is_some() {
        return Ok(());
    }
    Err(KubeError::ExecNotFound {
        context: context.to_owned(),
        command: command.to_owned(),
        install_hint: exec.install_hint.clone(),
    })
}

/// Where `command` is found as `Command::new` finds it: a name with a `/` as a path, a bare name
/// in the directories of `path_var`.
pub fn find_command(command: &str, path_var: Option<&str>) -> Option<PathBuf> {
    if command.is_empty() {
        return None;
    }
    if command.contains('/') {
        let path = PathBuf::from(command);
        return path.is_file().then_some(path);
    }
    std::env::split_paths(path_var?)
        .map(|dir| dir.join(command))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_found_on_the_path_given() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("kubectl-eks_token");
        std::fs::write(&bin, "").unwrap();
        let path = format!("/nonexistent:{}", dir.path().display());
        assert_eq!(
            find_command("kubectl-eks_token", Some(&path)),
            Some(bin.clone())
        );
        assert_eq!(find_command("aws-nothere", Some(&path)), None);
        assert_eq!(find_command("kubectl-eks_token", None), None);
        assert_eq!(find_command(bin.to_str().unwrap(), None), Some(bin));
        assert_eq!(find_command("/nonexistent/aws", Some(&path)), None);
    }
}
