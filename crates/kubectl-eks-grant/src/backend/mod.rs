//! Where an identity's way into the cluster is stored, behind one seam.
//!
//! The commands (`crate::commands`) own the RBAC side and the order of writes; a [`Backend`]
//! owns one store of mappings: reading it, planning an add or a revoke against it, writing with
//! conflict safety, and undoing its own changes from the history it keeps. Today the one store is
//! the aws-auth ConfigMap; EKS access entries (issue 11) become a second variant beside it,
//! `Backend::AccessEntries(..)`, not a layer through it. An enum, not a trait object: two closed
//! async backends, matched where they differ.

mod aws_auth;

use anyhow::Result;
use eks_auth::arn::Arn;
use eks_auth::kube::{Cluster, RbacJournalEntry};
use eks_auth::mapping::Identity;

pub use aws_auth::AwsAuthStore;

use crate::report::ListEntry;
use crate::request::{Grant, Revoke};

/// The store of mappings eks-grant writes.
#[derive(Debug)]
pub enum Backend {
    /// The `kube-system/aws-auth` ConfigMap, with its history ring for `undo`.
    AwsAuth(AwsAuthStore),
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
    AwsAuth(aws_auth::AddState),
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
    AwsAuth(aws_auth::RevokeState),
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

impl Backend {
    /// The backend of a cluster. Issue 11 chooses by the cluster's authentication mode; until
    /// then, aws-auth.
    pub fn for_cluster(cluster: &Cluster) -> Backend {
        Backend::AwsAuth(AwsAuthStore::new(cluster))
    }

    pub async fn plan_add(&self, grant: &Grant, me: Option<&Arn>) -> Result<AddPlan> {
        match self {
            Backend::AwsAuth(s) => s.plan_add(grant, me).await,
        }
    }

    /// Every principal of the store other than the grant's own that holds `group`.
    pub fn other_holders(&self, plan: &AddPlan, group: &str, grant: &Grant) -> Vec<String> {
        match &plan.state {
            AddState::AwsAuth(state) => aws_auth::other_holders(state, group, grant),
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
                s.write_add(state, grant, me, who, journal).await
            }
        }
    }

    pub async fn plan_revoke(&self, revoke: &Revoke, me: Option<&Arn>) -> Result<RevokePlan> {
        match self {
            Backend::AwsAuth(s) => s.plan_revoke(revoke, me).await,
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
                s.write_revoke(state, revoke, me, who, journal).await
            }
        }
    }

    pub async fn plan_undo(&self, me: Option<&Arn>, force: bool) -> Result<UndoPlan> {
        match self {
            Backend::AwsAuth(s) => s.plan_undo(me, force).await,
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
        }
    }

    pub async fn mappings(&self) -> Result<Mappings> {
        match self {
            Backend::AwsAuth(s) => s.mappings().await,
        }
    }

    pub async fn mapping_of(&self, identity: &Identity) -> Result<Option<Mapping>> {
        match self {
            Backend::AwsAuth(s) => s.mapping_of(identity).await,
        }
    }
}
