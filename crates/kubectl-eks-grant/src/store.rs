//! The EKS side of the access-entry commands: which EKS cluster the kubeconfig context is, the
//! AWS configuration that reaches it, and its authentication mode (`--backend` itself is
//! decided by `crate::backend::Backend::select`).
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

use anyhow::{Result, bail};
use eks_auth::access::AuthenticationMode;
use eks_auth::aws::{AwsContext, AwsOptions, load_context};
use eks_auth::kube::Cluster;

use eks_auth::eks::{AccessConfig, EksClient};

use crate::access_entries::eks_api::Eks;
use crate::backend::eks_error;
use crate::cli::StoreArgs;

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
    pub access: AccessConfig,
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
        self.access.cluster_arn.as_deref()?.split(':').nth(4)
    }
}

/// Loads the AWS side and asks EKS for the cluster's mode, unless `known` (the backend's
/// DescribeCluster answer, for the same cluster) already says it.
pub async fn connect_eks(
    args: &StoreArgs,
    cluster: &Cluster,
    kubeconfig: Option<&Path>,
    known: Option<(&EksClient, Option<&AccessConfig>)>,
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
    let client = match known {
        Some((client, _)) if client.cluster() == name => client.clone(),
        _ => aws.eks_client(&name),
    };
    let access = match known {
        Some((client, Some(config))) if client.cluster() == name => config.clone(),
        _ => client.access_config().await.map_err(|e| {
            let denied = matches!(e, eks_auth::eks::EksError::AccessDenied { .. });
            let err = eks_error(e);
            if denied {
                anyhow::anyhow!(
                    "{err}; or pass `--backend aws-auth` to edit aws-auth without asking EKS"
                )
            } else {
                err
            }
        })?,
    };
    let eks = Eks::new(client);
    Ok(Target { eks, aws, access })
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
}
