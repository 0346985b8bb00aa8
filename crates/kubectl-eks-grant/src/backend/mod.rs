//! Where an identity's way into the cluster is stored, behind one seam.
//!
//! The commands (`crate::commands`) own the RBAC side and the order of writes; a [`Backend`]
//! owns one store of mappings: reading it, planning an add or a revoke against it, writing with
//! conflict safety, and undoing its own changes from the history it keeps. Today the one store is
//! the aws-auth ConfigMap; EKS access entries (issue 11) become a second variant beside it,
//! `Backend::AccessEntries(..)`, not a layer through it. An enum, not a trait object: two closed
//! async backends, matched where they differ.

mod access_entries;
mod aws_auth;

use anyhow::{Context, Result, bail};
use eks_auth::arn::Arn;
use eks_auth::eks::EksClient;
use eks_auth::kube::{Cluster, RbacJournalEntry};
use eks_auth::mapping::Identity;

pub use access_entries::{AccessEntriesStore, eks_error};
pub use aws_auth::AwsAuthStore;

use crate::cli::{BackendChoice, StoreArgs};
use crate::report::ListEntry;
use crate::request::{Grant, Revoke};

/// The store of mappings eks-grant writes.
#[derive(Debug)]
pub enum Backend {
    /// The `kube-system/aws-auth` ConfigMap, with its history ring for `undo`.
    AwsAuth(AwsAuthStore),
    /// EKS access entries, through the EKS API.
    AccessEntries(AccessEntriesStore),
}

/// An add planned against the store as read. Nothing is written yet.
#[derive(Debug)]
pub struct AddPlan {
    /// `added`, `updated` or `unchanged`.
    pub outcome: &'static str,
    /// The change as a unified diff (for `--dry-run`).
    pub diff: String,
    /// What the user should know (duplicates, ...).
    pub notes: Vec<String>,
    state: AddState,
}

#[derive(Debug)]
enum AddState {
    AwsAuth(Box<aws_auth::AddState>),
    AccessEntries(Box<access_entries::AddState>),
}

/// A revoke planned against the store as read.
#[derive(Debug)]
pub struct RevokePlan {
    /// Entries that go.
    pub removed: usize,
    /// Groups that no mapping hands out once they are gone (their RBAC objects may go too).
    pub gone_groups: Vec<String>,
    pub diff: String,
    state: RevokeState,
}

#[derive(Debug)]
enum RevokeState {
    AwsAuth(Box<aws_auth::RevokeState>),
    AccessEntries(access_entries::RevokeState),
}

/// An undo planned: which change it reverts, and what that change did besides the store.
#[derive(Debug)]
pub struct UndoPlan {
    /// The revision undone.
    pub target: u64,
    /// What that change was, as recorded.
    pub change: Option<String>,
    /// The RBAC objects that change created, changed or deleted.
    pub journal: Vec<RbacJournalEntry>,
    pub diff: String,
    state: UndoState,
}

#[derive(Debug)]
enum UndoState {
    AwsAuth(aws_auth::UndoState),
}

/// What a write did.
#[derive(Debug, Default)]
pub struct Written {
    /// The outcome word (`added`, `updated`, `unchanged`; `restored` for undo).
    pub outcome: String,
    /// Entries removed (revoke).
    pub removed: usize,
    /// The revision written, if the store keeps revisions and something was written.
    pub revision: Option<u64>,
    pub notes: Vec<String>,
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

/// The EKS client of the cluster: its name and region from `--cluster-name`/`--region`, else
/// from the context's cluster ARN (as `update-kubeconfig` names it); `None` when no name is
/// known. The AWS identity is the AWS environment's, or `--profile`'s.
async fn eks_client(cluster: &Cluster, args: &StoreArgs) -> Result<Option<EksClient>> {
    let from_arn = cluster.cluster_arn.as_ref();
    let Some(name) = args
        .cluster_name
        .clone()
        .or_else(|| from_arn.map(|a| a.name().to_owned()))
    else {
        return Ok(None);
    };
    let region = args
        .region
        .clone()
        .or_else(|| from_arn.map(|a| a.region().to_owned()));
    let aws = eks_auth::aws::load_context(&eks_auth::aws::AwsOptions {
        profile: args.profile.clone(),
        region,
    })
    .await
    .context("loading the AWS configuration for the EKS calls")?;
    Ok(Some(aws.eks_client(&name)))
}

impl Backend {
    /// The backend `--backend` asks for. `auto` is aws-auth until eks-grant reads the cluster's
    /// authentication mode (issue 11); `access-entries` needs the EKS cluster's name and region:
    /// the flags, else the context's cluster ARN (as `update-kubeconfig` names it).
    pub async fn select(cluster: &Cluster, args: &StoreArgs) -> Result<Backend> {
        match args.backend {
            BackendChoice::AwsAuth => Ok(Backend::AwsAuth(AwsAuthStore::new(cluster))),
            BackendChoice::AccessEntries => {
                let Some(eks) = eks_client(cluster, args).await? else {
                    bail!(
                        "--backend access-entries needs the EKS cluster's name, and context `{}` does not name its cluster by its EKS ARN\n\nhint: pass --cluster-name NAME (and --region R)",
                        cluster.context
                    );
                };
                Ok(Backend::AccessEntries(AccessEntriesStore::new(
                    eks, None, cluster,
                )))
            }
            BackendChoice::Auto => {
                let Some(eks) = eks_client(cluster, args).await? else {
                    crate::output::note(&format!(
                        "using aws-auth: context `{}` does not name an EKS cluster (no cluster ARN, no --cluster-name), so its authentication mode cannot be read",
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
                        eks, config, cluster,
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

    /// The store, as tables label it.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::AwsAuth(_) => "aws-auth",
            Backend::AccessEntries(_) => "access entries",
        }
    }

    /// Whether the store realises the grant's preset itself (an access policy), so that the
    /// command makes no RBAC objects for it.
    pub fn realises_preset(&self, grant: &Grant) -> bool {
        match self {
            Backend::AwsAuth(_) => false,
            Backend::AccessEntries(s) => s.realises_preset(grant),
        }
    }

    pub async fn plan_add(&self, grant: &Grant, me: Option<&Arn>) -> Result<AddPlan> {
        match self {
            Backend::AwsAuth(s) => s.plan_add(grant, me).await,
            Backend::AccessEntries(s) => s.plan_add(grant).await,
        }
    }

    /// Every principal of the store other than the grant's own that holds `group`.
    pub fn other_holders(&self, plan: &AddPlan, group: &str, grant: &Grant) -> Vec<String> {
        match &plan.state {
            AddState::AwsAuth(state) => aws_auth::other_holders(state, group, grant),
            // Access entries are read one principal at a time here: the shared-group check of
            // access entries is issue 11's (every entry's groups in one list).
            AddState::AccessEntries(_) => Vec::new(),
        }
    }

    pub async fn write_add(
        &self,
        plan: AddPlan,
        grant: &Grant,
        me: Option<&Arn>,
        who: &str,
        journal: Vec<RbacJournalEntry>,
    ) -> Result<Written> {
        match (self, plan.state) {
            (Backend::AwsAuth(s), AddState::AwsAuth(state)) => {
                s.write_add(*state, grant, me, who, journal).await
            }
            (Backend::AccessEntries(s), AddState::AccessEntries(state)) => {
                s.write_add(*state).await
            }
            _ => unreachable!("a plan is written by the backend that made it"),
        }
    }

    pub async fn plan_revoke(&self, revoke: &Revoke, me: Option<&Arn>) -> Result<RevokePlan> {
        match self {
            Backend::AwsAuth(s) => s.plan_revoke(revoke, me).await,
            Backend::AccessEntries(s) => s.plan_revoke(revoke).await,
        }
    }

    pub async fn write_revoke(
        &self,
        plan: RevokePlan,
        revoke: &Revoke,
        me: Option<&Arn>,
        who: &str,
        journal: Vec<RbacJournalEntry>,
    ) -> Result<Written> {
        match (self, plan.state) {
            (Backend::AwsAuth(s), RevokeState::AwsAuth(state)) => {
                s.write_revoke(*state, revoke, me, who, journal).await
            }
            (Backend::AccessEntries(s), RevokeState::AccessEntries(state)) => {
                s.write_revoke(state, plan.removed).await
            }
            _ => unreachable!("a plan is written by the backend that made it"),
        }
    }

    pub async fn plan_undo(&self, me: Option<&Arn>, force: bool) -> Result<UndoPlan> {
        match self {
            Backend::AwsAuth(s) => s.plan_undo(me, force).await,
            Backend::AccessEntries(s) => s.plan_undo(),
        }
    }

    pub async fn write_undo(
        &self,
        plan: UndoPlan,
        who: &str,
        journal: Vec<RbacJournalEntry>,
    ) -> Result<Written> {
        match (self, plan.state) {
            (Backend::AwsAuth(s), UndoState::AwsAuth(state)) => {
                s.write_undo(state, plan.target, plan.change, who, journal)
                    .await
            }
            (Backend::AccessEntries(_), UndoState::AwsAuth(_)) => {
                unreachable!("a plan is written by the backend that made it")
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
