//! Which store a command edits: aws-auth or access entries (`--backend auto|aws-auth|
//! access-entries`), and which EKS cluster the kubeconfig context is.
//!
//! `auto` asks EKS (DescribeCluster) for the cluster's `accessConfig.authenticationMode`:
//! `CONFIG_MAP` means aws-auth, `API_AND_CONFIG_MAP` and `API` mean access entries (in
//! `API_AND_CONFIG_MAP` an access entry wins over aws-auth for the same principal; in `API`
//! aws-auth is ignored: EKS user guide, "Grant IAM users access to Kubernetes with EKS access
//! entries"). One line on stderr says which store and why.
//!
//! The cluster's name and region: `--cluster-name`/`--region`, else the context's cluster named
//! by its EKS ARN (as `aws eks update-kubeconfig` names it), else the context user's exec stanza
//! (`kubectl-eks_token --cluster-name`, `aws eks get-token --cluster-name`, `aws-iam-authenticator
//! token -i`, with `--region` and the stanza's `AWS_PROFILE`/`AWS_REGION`).

use std::path::Path;

use anyhow::{Context, Result, bail};
use eks_auth::access::AuthenticationMode;
use eks_auth::aws::{AwsContext, AwsOptions, load_context};
use eks_auth::kube::Cluster;

use crate::access_entries::eks_api::{ClusterAccess, Eks};

/// The store choice on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// Ask EKS for the cluster's authentication mode (DescribeCluster).
    #[default]
    Auto,
    /// The aws-auth ConfigMap, without asking EKS.
    AwsAuth,
    /// EKS access entries.
    AccessEntries,
}

/// `--backend`, `--cluster-name`, `--region`, `--profile`.
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = "AWS flags")]
pub struct BackendArgs {
    /// Which store to edit: `auto` reads the cluster's authentication mode from EKS.
    #[arg(long, global = true, value_enum, default_value_t = BackendChoice::Auto)]
    pub backend: BackendChoice,
    /// EKS cluster name (default: from the kubeconfig context).
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// AWS region of the cluster (default: from the context, else the AWS configuration).
    #[arg(long, global = true, value_name = "R")]
    pub region: Option<String>,
    /// AWS profile for the EKS and IAM calls (default: the context's exec stanza's, else the environment's).
    #[arg(long, global = true, value_name = "P")]
    pub profile: Option<String>,
}

/// The EKS cluster behind a kubeconfig context, as far as the kubeconfig says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterRef {
    pub name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    /// Where the name came from, for the one line.
    pub from: &'static str,
}

/// The value of `--flag V` / `--flag=V` (last wins) in exec args.
fn flag(args: &[String], names: &[&str]) -> Option<String> {
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        for n in names {
            if args[i] == *n {
                found = args.get(i + 1).cloned();
            } else if let Some(v) = args[i].strip_prefix(n).and_then(|r| r.strip_prefix('=')) {
                found = Some(v.to_owned());
            }
        }
        i += 1;
    }
    found
}

/// Pure: the cluster name, region and profile an exec stanza names.
pub fn from_exec(command: &str, args: &[String], env: &[(String, String)]) -> ClusterRef {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let names: &[&str] = match base.strip_suffix(".exe").unwrap_or(base) {
        "aws-iam-authenticator" => &["-i", "--cluster-id"],
        _ => &["--cluster-name"],
    };
    let env_of = |k: &str| {
        env.iter()
            .find(|(n, v)| n == k && !v.is_empty())
            .map(|(_, v)| v.clone())
    };
    ClusterRef {
        name: flag(args, names),
        region: flag(args, &["--region"]).or_else(|| env_of("AWS_REGION")),
        profile: flag(args, &["--profile"]).or_else(|| env_of("AWS_PROFILE")),
        from: "the context's exec stanza",
    }
}

/// The cluster the kubeconfig context is: its EKS ARN, else its exec stanza.
pub fn cluster_ref(cluster: &Cluster, kubeconfig: Option<&Path>) -> ClusterRef {
    let mut found = ClusterRef::default();
    if let Some(arn) = &cluster.cluster_arn {
        found = ClusterRef {
            name: Some(arn.name().to_owned()),
            region: Some(arn.region().to_owned()),
            profile: None,
            from: "the context's cluster ARN",
        };
    }
    // The exec stanza gives the profile (and the name when the ARN does not).
    let config = match kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p).ok(),
        None => kube::config::Kubeconfig::read().ok(),
    };
    let exec = config.and_then(|c| {
        let user = c
            .contexts
            .iter()
            .find(|x| x.name == cluster.context)
            .and_then(|x| x.context.as_ref())
            .and_then(|x| x.user.clone())?;
        c.auth_infos
            .into_iter()
            .find(|a| a.name == user)
            .and_then(|a| a.auth_info)
            .and_then(|a| a.exec)
    });
    if let Some(exec) = exec {
        let env: Vec<(String, String)> = exec
            .env
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| Some((m.get("name")?.clone(), m.get("value")?.clone())))
            .collect();
        let e = from_exec(
            exec.command.as_deref().unwrap_or_default(),
            &exec.args.unwrap_or_default(),
            &env,
        );
        if found.name.is_none() {
            found = e.clone();
        }
        found.profile = e.profile;
        if found.region.is_none() {
            found.region = e.region;
        }
    }
    found
}

/// Access entries of one cluster, with the AWS configuration that reaches them.
#[derive(Debug)]
pub struct Target {
    pub eks: Eks,
    pub aws: AwsContext,
    pub access: ClusterAccess,
}

impl Target {
    pub fn name(&self) -> &str {
        &self.eks.cluster
    }
    pub fn mode(&self) -> AuthenticationMode {
        self.access.mode
    }
    /// The account of the cluster, from its ARN.
    pub fn account(&self) -> Option<&str> {
        self.access.arn.split(':').nth(4)
    }
}

/// The store a command works on.
#[derive(Debug)]
pub enum Store {
    AwsAuth,
    AccessEntries(Box<Target>),
}

/// The one line that says which store and why.
pub fn store_line(name: &str, mode: AuthenticationMode, explicit: bool) -> String {
    let why = match mode {
        AuthenticationMode::ConfigMap => "CONFIG_MAP mode: EKS reads aws-auth only",
        AuthenticationMode::ApiAndConfigMap => {
            "API_AND_CONFIG_MAP mode: an access entry wins over aws-auth for the same principal"
        }
        AuthenticationMode::Api => "API mode: EKS ignores aws-auth",
    };
    let store = if mode.uses_access_entries() {
        "access entries"
    } else {
        "aws-auth"
    };
    let how = if explicit { " (--backend)" } else { "" };
    format!("store: {store}{how}; cluster `{name}` is in {why}")
}

/// Loads the AWS side and asks EKS for the cluster's mode.
pub async fn connect_eks(
    args: &BackendArgs,
    cluster: &Cluster,
    kubeconfig: Option<&Path>,
) -> Result<Target> {
    let found = cluster_ref(cluster, kubeconfig);
    let Some(name) = args.cluster_name.clone().or(found.name.clone()) else {
        bail!(
            "cannot tell which EKS cluster context `{}` is: its cluster is not named by an EKS ARN and its user runs no known EKS exec plugin\n\nhint: pass `--cluster-name NAME` (and `--region`), or `--backend aws-auth` to edit aws-auth without asking EKS",
            cluster.context
        );
    };
    let options = AwsOptions {
        profile: args.profile.clone().or(found.profile.clone()),
        region: args.region.clone().or(found.region.clone()),
    };
    let aws = load_context(&options).await.map_err(|e| {
        let hint = e
            .hint()
            .map(|h| format!("\n\nhint: {h}"))
            .unwrap_or_default();
        anyhow::anyhow!("{e}{hint}")
    })?;
    // Credentials first: a missing or expired identity is named as such, with what to do.
    if let Err(e) = aws.fetch_credentials().await {
        let hint = e
            .hint()
            .map(|h| format!("\n\nhint: {h}; or pass `--backend aws-auth` to edit aws-auth without asking EKS"))
            .unwrap_or_default();
        bail!("cannot ask EKS for the authentication mode of cluster `{name}`: {e}{hint}");
    }
    let eks = Eks::new(&aws, &name);
    let access = eks.describe_access().await.map_err(|e| {
        let extra = if e.code == "AccessDeniedException" {
            "; or pass `--backend aws-auth` to edit aws-auth without asking EKS"
        } else {
            ""
        };
        anyhow::anyhow!("{e}{extra}")
    })?;
    Ok(Target { eks, aws, access })
}

/// The store for this command.
pub async fn choose(
    args: &BackendArgs,
    cluster: &Cluster,
    kubeconfig: Option<&Path>,
) -> Result<Store> {
    if args.backend == BackendChoice::AwsAuth {
        return Ok(Store::AwsAuth);
    }
    let target = connect_eks(args, cluster, kubeconfig)
        .await
        .context("finding the cluster's authentication mode")?;
    let mode = target.mode();
    let explicit = args.backend == BackendChoice::AccessEntries;
    if explicit && !mode.uses_access_entries() {
        bail!(
            "cluster `{}` is in CONFIG_MAP mode: EKS accepts no access entries there\n\nhint: `kubectl eks-grant migrate` moves it to API_AND_CONFIG_MAP; leave out --backend to edit aws-auth",
            target.name()
        );
    }
    eprintln!("{}", store_line(target.name(), mode, explicit));
    if mode.uses_access_entries() {
        Ok(Store::AccessEntries(Box::new(target)))
    } else {
        Ok(Store::AwsAuth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn exec_stanzas_name_the_cluster() {
        let ours = from_exec(
            "/usr/local/bin/kubectl-eks_token",
            &s(&["--cluster-name", "prod", "--region=eu-west-1"]),
            &[("AWS_PROFILE".into(), "admin".into())],
        );
        assert_eq!(
            (
                ours.name.as_deref(),
                ours.region.as_deref(),
                ours.profile.as_deref()
            ),
            (Some("prod"), Some("eu-west-1"), Some("admin"))
        );
        let cli = from_exec(
            "aws",
            &s(&[
                "--region",
                "us-west-2",
                "eks",
                "get-token",
                "--cluster-name",
                "dev",
                "--output",
                "json",
            ]),
            &[],
        );
        assert_eq!(cli.name.as_deref(), Some("dev"));
        assert_eq!(cli.region.as_deref(), Some("us-west-2"));
        let auth = from_exec(
            "aws-iam-authenticator",
            &s(&["token", "-i", "legacy"]),
            &[("AWS_REGION".into(), "ap-south-1".into())],
        );
        assert_eq!(auth.name.as_deref(), Some("legacy"));
        assert_eq!(auth.region.as_deref(), Some("ap-south-1"));
    }

    #[test]
    fn the_line_says_store_and_why() {
        assert_eq!(
            store_line("demo", AuthenticationMode::Api, false),
            "store: access entries; cluster `demo` is in API mode: EKS ignores aws-auth"
        );
        assert_eq!(
            store_line("demo", AuthenticationMode::ConfigMap, false),
            "store: aws-auth; cluster `demo` is in CONFIG_MAP mode: EKS reads aws-auth only"
        );
    }
}
