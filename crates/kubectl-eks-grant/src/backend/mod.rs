//! Where an identity's way into the cluster is stored, behind one seam.
//!
//! [`Backend::select`] picks the store that counts for the cluster (`--backend`, or the cluster's
//! authentication mode); a [`Backend`] then answers what both stores really share: every mapping
//! (`list`) and how one identity is mapped (`check`). Writing differs too much to share one
//! shape: `add`, `revoke` and `undo` on aws-auth take the [`AwsAuthStore`] itself (plan, conflict-
//! safe write, history ring; `crate::commands`), and on access entries they are the access-entry
//! commands (`crate::access_entries`: EKS calls, IAM role paths, the journal). An enum, not a
//! trait object: two closed async backends, matched where they differ.

mod access_entries;
mod aws_auth;

use anyhow::{Context, Result, bail};
use eks_auth::aws::AwsContext;
use eks_auth::eks::EksClient;
use eks_auth::kube::Cluster;
use eks_auth::mapping::Identity;

pub use access_entries::{AccessEntriesStore, eks_error};
pub use aws_auth::AwsAuthStore;

use crate::cli::{BackendChoice, StoreArgs};
use crate::report::ListEntry;

/// The store of mappings eks-grant writes.
#[derive(Debug)]
#[expect(
    clippy::large_enum_variant,
    reason = "one Backend per run, never in a collection: boxing buys nothing"
)]
pub enum Backend {
    /// The `kube-system/aws-auth` ConfigMap, with its history ring for `undo`.
    AwsAuth(AwsAuthStore),
    /// EKS access entries, through the EKS API.
    AccessEntries(AccessEntriesStore),
}

/// Every mapping of the store, for `list`.
#[derive(Debug)]
pub struct Mappings {
    pub entries: Vec<ListEntry>,
    pub accounts: Vec<String>,
    /// Every group some mapping hands out.
    pub groups: Vec<String>,
    /// The record of the last change made by eks-grant.
    pub last_change: Option<serde_json::Value>,
}

/// How the store maps one identity, for `check`.
#[derive(Debug)]
pub struct Mapping {
    /// Which entry, in the user's terms.
    pub source: String,
    pub username: String,
    pub groups: Vec<String>,
}

/// The AWS configuration and EKS client of the cluster, as [`crate::store::eks_cluster`] finds
/// it (the flags, else the context's cluster ARN or exec stanza); `None` when nothing names it.
async fn eks_client(
    cluster: &Cluster,
    args: &StoreArgs,
) -> Result<Option<(AwsContext, EksClient)>> {
    let Some(target) = crate::store::eks_cluster(args, cluster) else {
        return Ok(None);
    };
    let aws = target
        .load()
        .await
        .context("loading the AWS configuration for the EKS calls")?;
    let eks = aws.eks_client(&target.name);
    Ok(Some((aws, eks)))
}

impl Backend {
    /// The backend `--backend` asks for: `aws-auth` and `access-entries` as asked (the latter
    /// needs the EKS cluster's name: the flags, else the context's cluster ARN or exec stanza);
    /// `auto` reads the cluster's authentication mode with DescribeCluster.
    pub async fn select(cluster: &Cluster, args: &StoreArgs) -> Result<Backend> {
        match args.backend {
            BackendChoice::AwsAuth => Ok(Backend::AwsAuth(AwsAuthStore::new(cluster))),
            BackendChoice::AccessEntries => {
                let Some((aws, eks)) = eks_client(cluster, args).await? else {
                    bail!(
                        "--backend access-entries needs the EKS cluster's name, and context `{}` names none (no EKS cluster ARN, no exec stanza of kubectl-eks_token, `aws eks get-token` or aws-iam-authenticator)\n\nhint: pass --cluster-name NAME (and --region R)",
                        cluster.context
                    );
                };
                Ok(Backend::AccessEntries(AccessEntriesStore::new(
                    aws, eks, None, cluster,
                )))
            }
            BackendChoice::Auto => {
                let Some((aws, eks)) = eks_client(cluster, args).await? else {
                    crate::output::note(&format!(
                        "using aws-auth: context `{}` does not name an EKS cluster (no cluster ARN, no EKS exec stanza, no --cluster-name), so its authentication mode cannot be read",
                        cluster.context
                    ));
                    return Ok(Backend::AwsAuth(AwsAuthStore::new(cluster)));
                };
                // DescribeCluster's accessConfig.authenticationMode decides: CONFIG_MAP counts
                // aws-auth only; API and API_AND_CONFIG_MAP count access entries, which win over
                // aws-auth for the same principal ("Grant IAM users access to Kubernetes with EKS
                // access entries", EKS user guide).
                let config = eks.access_config().await.map_err(|err| {
                    let err = access_entries::eks_error(err);
                    crate::commands::partly_done(
                        &err,
                        "eks-grant reads the cluster's authentication mode to pick the store that counts, and could not",
                        "pass --backend aws-auth to edit aws-auth without asking EKS (right only for a cluster in CONFIG_MAP mode)",
                    )
                })?;
                let mode = config.mode;
                if mode.uses_access_entries() {
                    let config = Some(config);
                    crate::output::note(&format!(
                        "using access entries: cluster `{}` is in {mode} mode",
                        eks.cluster()
                    ));
                    Ok(Backend::AccessEntries(AccessEntriesStore::new(
                        aws, eks, config, cluster,
                    )))
                } else {
                    crate::output::note(&format!(
                        "using aws-auth: cluster `{}` is in {mode} mode",
                        eks.cluster()
                    ));
                    Ok(Backend::AwsAuth(AwsAuthStore::new(cluster)))
                }
            }
        }
    }

    pub async fn mappings(&self) -> Result<Mappings> {
        match self {
            Backend::AwsAuth(s) => s.mappings().await,
            Backend::AccessEntries(s) => s.mappings().await,
        }
    }

    pub async fn mapping_of(&self, identity: &Identity) -> Result<Option<Mapping>> {
        match self {
            Backend::AwsAuth(s) => s.mapping_of(identity).await,
            Backend::AccessEntries(s) => s.mapping_of(identity).await,
        }
    }
}
