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
//! token -i`, with `--region` and the stanza's `AWS_PROFILE`/`AWS_REGION`). When the stanza
//! assumes a role (`--role-arn`, aws-iam-authenticator's `-r`), eks-grant's own EKS and IAM calls
//! assume it too, unless `--profile` names the identity to use.

use anyhow::{Result, bail};
use eks_auth::access::AuthenticationMode;
use eks_auth::arn::ClusterArn;
use eks_auth::aws::{AssumeRoleRequest, AwsContext, AwsError, AwsOptions, load_context};
use eks_auth::exec_stanza::{self, Ambient, ExecStanza};
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
    /// The role the stanza assumes (`--role-arn`), with the session name it gives it.
    pub role: Option<(String, String)>,
    /// Where the name came from, for messages.
    pub from: &'static str,
}

/// The cluster the kubeconfig context is: its EKS ARN, else its user's exec stanza (read by
/// the core's one reader, `eks_auth::exec_stanza`: ours, `aws eks get-token`,
/// aws-iam-authenticator). The stanza's profile (`--profile`, its env `AWS_PROFILE`) and region
/// (`--region`, its env `AWS_REGION`/`AWS_DEFAULT_REGION`) count either way; the shell's own
/// `AWS_PROFILE`/`AWS_REGION` are left to the AWS configuration, which reads them anyway.
pub fn cluster_ref(cluster: &Cluster) -> ClusterRef {
    cluster_ref_of(cluster.cluster_arn.as_ref(), cluster.exec.as_ref())
}

/// Pure: [`cluster_ref`] from the context's cluster ARN and exec stanza.
fn cluster_ref_of(arn: Option<&ClusterArn>, exec: Option<&ExecStanza>) -> ClusterRef {
    let mut found = ClusterRef::default();
    if let Some(arn) = arn {
        found = ClusterRef {
            name: Some(arn.name().to_owned()),
            region: Some(arn.region().to_owned()),
            profile: None,
            role: None,
            from: "the context's cluster ARN",
        };
    }
    if let Some(stanza) = exec {
        let e = exec_stanza::parse(stanza, &Ambient::default());
        found.role = e.assumed_role();
        if found.name.is_none() && e.cluster_name.is_some() {
            found.name = e.cluster_name;
            found.from = "the context's exec stanza";
        }
        if found.region.is_none() {
            found.region = e.region.map(|r| r.value);
        }
        found.profile = e.profile.map(|p| p.value);
    }
    found
}

/// The EKS cluster eks-grant works on: its name (`--cluster-name`, else the context's), the
/// AWS options that reach it (`--region`/`--profile`, else the context's), and the role the
/// context's exec stanza assumes. `None`: neither the flags nor the context name one.
pub struct EksCluster {
    pub name: String,
    pub options: AwsOptions,
    /// Assumed for the EKS and IAM calls, as the token plugin assumes it for the token, so that
    /// eks-grant acts as the identity the context uses. Not with an explicit `--profile`: that
    /// names the identity to use, as it is.
    pub role: Option<AssumeRoleRequest>,
}

pub fn eks_cluster(args: &StoreArgs, cluster: &Cluster) -> Option<EksCluster> {
    eks_cluster_of(args, cluster_ref(cluster))
}

/// Pure: [`eks_cluster`] from the flags and what the context names.
fn eks_cluster_of(args: &StoreArgs, found: ClusterRef) -> Option<EksCluster> {
    let name = args.cluster_name.clone().or(found.name)?;
    let role = match args.profile {
        Some(_) => None,
        None => found
            .role
            .map(|(role_arn, session_name)| AssumeRoleRequest {
                role_arn,
                session_name,
                external_id: None,
            }),
    };
    Some(EksCluster {
        name,
        options: AwsOptions {
            profile: args.profile.clone().or(found.profile),
            region: args.region.clone().or(found.region),
        },
        role,
    })
}

impl EksCluster {
    /// The AWS configuration for the EKS calls: the options' chain, then the stanza's role.
    pub async fn load(&self) -> Result<AwsContext, AwsError> {
        let aws = load_context(&self.options).await?;
        match &self.role {
            Some(role) => aws.assuming(role).await,
            None => Ok(aws),
        }
    }
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

/// What `Backend::select` already has for the same cluster: the AWS configuration, the EKS
/// client and (with `--backend auto`) DescribeCluster's answer.
pub type Known<'a> = (&'a AwsContext, &'a EksClient, Option<&'a AccessConfig>);

/// Loads the AWS side and asks EKS for the cluster's mode, unless `known` (the backend's,
/// for the same cluster) already has them: one DescribeCluster per command at most.
pub async fn connect_eks(
    args: &StoreArgs,
    cluster: &Cluster,
    known: Option<Known<'_>>,
) -> Result<Target> {
    let Some(target) = eks_cluster(args, cluster) else {
        bail!(
            "cannot tell which EKS cluster context `{}` is: its cluster is not named by an EKS ARN and its user runs no known EKS exec plugin\n\nhint: pass `--cluster-name NAME` (and `--region`), or `--backend aws-auth` to edit aws-auth without asking EKS",
            cluster.context
        );
    };
    let name = target.name.clone();
    let known = known.filter(|(_, client, _)| client.cluster() == name);
    let aws = match known {
        Some((aws, _, _)) => aws.clone(),
        None => target.load().await.map_err(|e| {
            let hint = e
                .hint()
                .map(|h| format!("\n\nhint: {h}"))
                .unwrap_or_default();
            anyhow::anyhow!("{e}{hint}")
        })?,
    };
    // Credentials first: a missing or expired identity is named as such, with what to do.
    if let Err(e) = aws.fetch_credentials().await {
        let hint = e
            .hint()
            .map(|h| format!("\n\nhint: {h}; or pass `--backend aws-auth` to edit aws-auth without asking EKS"))
            .unwrap_or_default();
        bail!("cannot ask EKS for the authentication mode of cluster `{name}`: {e}{hint}");
    }
    let client = match known {
        Some((_, client, _)) => client.clone(),
        None => aws.eks_client(&name),
    };
    let access = match known {
        Some((_, _, Some(config))) => config.clone(),
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

    fn triple(r: &ClusterRef) -> (Option<&str>, Option<&str>, Option<&str>, &str) {
        (
            r.name.as_deref(),
            r.region.as_deref(),
            r.profile.as_deref(),
            r.from,
        )
    }

    #[test]
    fn the_cluster_arn_names_the_cluster_and_the_exec_stanza_the_rest() {
        let ours = ExecStanza::new(
            "/usr/local/bin/kubectl-eks_token",
            &["--cluster-name", "prod", "--region=eu-west-1"],
            &[("AWS_PROFILE", "admin")],
        );
        assert_eq!(
            triple(&cluster_ref_of(None, Some(&ours))),
            (
                Some("prod"),
                Some("eu-west-1"),
                Some("admin"),
                "the context's exec stanza"
            )
        );
        // The ARN wins for name and region; the stanza's profile still counts.
        let arn = ClusterArn::parse("arn:aws:eks:us-east-1:123456789012:cluster/testbed").unwrap();
        assert_eq!(
            triple(&cluster_ref_of(Some(&arn), Some(&ours))),
            (
                Some("testbed"),
                Some("us-east-1"),
                Some("admin"),
                "the context's cluster ARN"
            )
        );
        // as `aws eks update-kubeconfig` writes it, global options after the subcommand
        let cli = ExecStanza::new(
            "/usr/bin/aws",
            &[
                "eks",
                "get-token",
                "--cluster-name=dev",
                "--region=us-west-2",
            ],
            &[],
        );
        assert_eq!(
            triple(&cluster_ref_of(None, Some(&cli))),
            (
                Some("dev"),
                Some("us-west-2"),
                None,
                "the context's exec stanza"
            )
        );
        let auth = ExecStanza::new(
            "aws-iam-authenticator",
            &["token", "-i", "legacy"],
            &[("AWS_REGION", "ap-south-1")],
        );
        assert_eq!(
            triple(&cluster_ref_of(None, Some(&auth))),
            (
                Some("legacy"),
                Some("ap-south-1"),
                None,
                "the context's exec stanza"
            )
        );
        // Another plugin names nothing: no guess from its flags.
        let other = ExecStanza::new("gke-gcloud-auth-plugin", &["--cluster-name", "x"], &[]);
        assert_eq!(cluster_ref_of(None, Some(&other)), ClusterRef::default());
    }

    #[test]
    fn the_stanzas_role_is_assumed_unless_a_profile_is_named() {
        let auth = ExecStanza::new(
            "aws-iam-authenticator",
            &[
                "token",
                "-i",
                "prod",
                "-r",
                "arn:aws:iam::123456789012:role/admin",
            ],
            &[("AWS_PROFILE", "base")],
        );
        let found = cluster_ref_of(None, Some(&auth));
        assert_eq!(
            found.role.as_ref().map(|(arn, _)| arn.as_str()),
            Some("arn:aws:iam::123456789012:role/admin")
        );
        let ours = ExecStanza::new(
            "kubectl-eks_token",
            &[
                "--cluster-name",
                "prod",
                "--role-arn",
                "arn:aws:iam::123456789012:role/x",
            ],
            &[],
        );
        assert_eq!(
            cluster_ref_of(None, Some(&ours)).role,
            Some((
                "arn:aws:iam::123456789012:role/x".to_owned(),
                eks_auth::aws::DEFAULT_ROLE_SESSION_NAME.to_owned()
            ))
        );
        // The ARN names the cluster; the stanza still says who signs.
        let arn = ClusterArn::parse("arn:aws:eks:us-east-1:123456789012:cluster/prod").unwrap();
        assert!(cluster_ref_of(Some(&arn), Some(&ours)).role.is_some());
        let none = ExecStanza::new("kubectl-eks_token", &["--cluster-name", "prod"], &[]);
        assert_eq!(cluster_ref_of(None, Some(&none)).role, None);

        let mut args = StoreArgs {
            backend: crate::cli::BackendChoice::Auto,
            cluster_name: None,
            region: None,
            profile: None,
        };
        let kept = eks_cluster_of(&args, cluster_ref_of(None, Some(&auth))).unwrap();
        assert_eq!(kept.name, "prod");
        assert_eq!(kept.options.profile.as_deref(), Some("base"));
        assert_eq!(
            kept.role.map(|r| r.role_arn).as_deref(),
            Some("arn:aws:iam::123456789012:role/admin")
        );
        // `--profile` names the identity as it is: no role from the stanza on top of it.
        args.profile = Some("ops".into());
        let explicit = eks_cluster_of(&args, cluster_ref_of(None, Some(&auth))).unwrap();
        assert_eq!(explicit.options.profile.as_deref(), Some("ops"));
        assert!(explicit.role.is_none());
    }
}
