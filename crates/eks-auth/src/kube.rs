//! The Kubernetes I/O edge (feature `kube`): a client built from a kubeconfig the way kubectl
//! picks one, the aws-auth ConfigMap read and written with its resourceVersion, a conflict-safe
//! modify loop that keeps the previous version for `undo`, the access reviews, and RBAC listing.
//!
//! Everything that decides lives in the pure modules; this module only fetches and sends.
//!
//! # Where the previous versions of aws-auth are kept
//!
//! A ring of [`HISTORY_SLOTS`] ConfigMaps `kube-system/aws-auth-history-<revision % 10>`.
//! Every write through [`modify_aws_auth_data`] bumps the revision annotation on aws-auth
//! ([`REVISION_ANNOTATION`]) and, *before* it writes aws-auth, stores the data it is about to
//! replace in the slot of the new revision: the slot's `data` is the previous aws-auth `data`,
//! key for key and byte for byte, so `undo` restores it exactly. One ConfigMap per version (not one
//! ConfigMap holding all of them) because a ConfigMap is limited to 1 MiB and an aws-auth of
//! 5,000 entries is about half of that. The slot is written without a read (an unconditional
//! update, which the API server allows for ConfigMaps), so the happy path of a grant costs one GET
//! and two PUTs. A slot also records the SHA-256 of the data that replaced it, so `undo` can tell
//! when aws-auth was changed by someone else since (kubectl edit, eksctl) and refuse to clobber it.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
    SubjectAccessReview, SubjectAccessReviewSpec, SubjectRulesReviewStatus,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use kube::{Api, Client, Config};
use sha2::{Digest, Sha256};

use crate::arn::ClusterArn;
use crate::rbac::RbacObjects;

/// Namespace of the aws-auth ConfigMap.
pub const AWS_AUTH_NAMESPACE: &str = "kube-system";
/// Name of the aws-auth ConfigMap.
pub const AWS_AUTH_NAME: &str = "aws-auth";
/// Prefix of every annotation and label this project writes.
pub const ANNOTATION_PREFIX: &str = "eks-grant.kubectl-eks.io/";
/// On aws-auth: the number of writes made through kubectl-eks (the undo history position).
/// On a history slot: the revision whose write replaced the data the slot holds.
pub const REVISION_ANNOTATION: &str = "eks-grant.kubectl-eks.io/revision";
/// On aws-auth: JSON `{"revision","by","at","change"}` of the last write through kubectl-eks.
/// On a history slot: the same record of the write that replaced the slot's data.
pub const LAST_CHANGE_ANNOTATION: &str = "eks-grant.kubectl-eks.io/last-change";
/// On a history slot: resourceVersion of aws-auth when the slot's data was read.
pub const PREVIOUS_RESOURCE_VERSION_ANNOTATION: &str =
    "eks-grant.kubectl-eks.io/previous-resource-version";
/// On a history slot: `"false"` when aws-auth did not exist before the write.
pub const EXISTED_ANNOTATION: &str = "eks-grant.kubectl-eks.io/existed";
/// On a history slot: SHA-256 of the data written by the write that replaced the slot's data.
pub const REPLACED_BY_SHA256_ANNOTATION: &str = "eks-grant.kubectl-eks.io/replaced-by-sha256";
pub use crate::rbac::{MANAGED_BY_LABEL, MANAGED_BY_VALUE};
/// Prefix of the history slot ConfigMaps.
pub const HISTORY_PREFIX: &str = "aws-auth-history-";
/// How many previous versions of aws-auth are kept.
pub const HISTORY_SLOTS: u64 = 10;
/// How many times the modify loop tries before it gives up on 409 Conflicts.
pub const MAX_ATTEMPTS: u32 = 16;

/// An error from the Kubernetes edge.
#[derive(Debug, thiserror::Error)]
pub enum KubeError {
    /// The kubeconfig named by `--kubeconfig` could not be read.
    #[error("reading kubeconfig `{}`", path.display())]
    ReadKubeconfig {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: KubeconfigError,
    },
    /// Neither `$KUBECONFIG` nor `~/.kube/config` could be read.
    #[error("reading the kubeconfig (`$KUBECONFIG` or `~/.kube/config`)")]
    ReadDefaultKubeconfig(#[source] KubeconfigError),
    /// `--cluster`, `--user` or the context names an entry the kubeconfig does not have.
    #[error("no {kind} `{name}` in the kubeconfig")]
    NoEntry {
        /// `cluster`, `user` or `context`.
        kind: &'static str,
        /// The name asked for.
        name: String,
    },
    /// The context could not be turned into a client configuration.
    #[error("loading context `{context}` from the kubeconfig")]
    LoadContext {
        /// The context (or `(current)`).
        context: String,
        /// Cause.
        #[source]
        source: KubeconfigError,
    },
    /// The HTTP client could not be built.
    #[error("building the Kubernetes client for context `{context}`")]
    BuildClient {
        /// The context.
        context: String,
        /// Cause.
        #[source]
        source: kube::Error,
    },
    /// A request failed.
    #[error("{action} {object}")]
    Request {
        /// What was being done, e.g. `reading`.
        action: &'static str,
        /// Which object, e.g. ``ConfigMap `kube-system/aws-auth` ``.
        object: String,
        /// Cause.
        #[source]
        source: ApiError,
    },
    /// The answer of the server was not what the API promises.
    #[error("unexpected answer to {0}: no status")]
    NoStatus(&'static str),
}

/// A failed request, with the API server's own words when it answered with a Status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The server answered with a Status.
    #[error("{message} (HTTP {code}{})", if reason.is_empty() { String::new() } else { format!(", {reason}") })]
    Status {
        /// HTTP status code.
        code: u16,
        /// Machine-readable reason, e.g. `Conflict`.
        reason: String,
        /// Human-readable message.
        message: String,
    },
    /// The request did not get a Status answer (connection, TLS, credentials, decoding).
    #[error(transparent)]
    Client(kube::Error),
}

impl ApiError {
    /// HTTP code when the server answered.
    pub fn code(&self) -> Option<u16> {
        match self {
            ApiError::Status { code, .. } => Some(*code),
            ApiError::Client(_) => None,
        }
    }
}

impl From<kube::Error> for ApiError {
    fn from(err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => ApiError::Status {
                code: status.code,
                reason: status.reason.clone(),
                message: status.message.clone(),
            },
            other => ApiError::Client(other),
        }
    }
}

fn request_error(action: &'static str, object: impl Into<String>, err: kube::Error) -> KubeError {
    KubeError::Request {
        action,
        object: object.into(),
        source: err.into(),
    }
}

fn code_of(err: &KubeError) -> Option<u16> {
    match err {
        KubeError::Request { source, .. } => source.code(),
        _ => None,
    }
}

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
}

impl fmt::Debug for Cluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cluster")
            .field("context", &self.context)
            .field("cluster_arn", &self.cluster_arn)
            .finish_non_exhaustive()
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

/// Builds a client the way kubectl picks its configuration: `--kubeconfig PATH` alone when given,
/// otherwise `$KUBECONFIG` (a list of files, merged) or `~/.kube/config`; `--context NAME` or the
/// current context. Exec credential plugins (`kubectl-eks_token`) run as kubectl runs them.
pub async fn connect(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<Cluster, KubeError> {
    connect_with(&KubeTarget {
        kubeconfig,
        context,
        ..KubeTarget::default()
    })
    .await
}

/// Where kubectl's global flags point (see [`crate::cli::KubeArgs`]).
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
    let mut config = match target.kubeconfig {
        Some(path) => Kubeconfig::read_from(path).map_err(|source| KubeError::ReadKubeconfig {
            path: path.to_owned(),
            source,
        })?,
        None => Kubeconfig::read().map_err(KubeError::ReadDefaultKubeconfig)?,
    };
    override_context(&mut config, target.context, target.cluster, target.user)?;
    let context = target.context;
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
    apply_request_timeout(&mut client_config, target.request_timeout);
    let client = Client::try_from(client_config).map_err(|source| KubeError::BuildClient {
        context: context_name.clone(),
        source,
    })?;
    Ok(Cluster {
        client,
        context: context_name,
        cluster_arn,
    })
}

fn aws_auth_object() -> String {
    format!("ConfigMap `{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}`")
}

/// aws-auth as read: its data (empty when absent), resourceVersion and annotations.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AwsAuthObject {
    /// `data` (empty when the ConfigMap or its data is absent).
    pub data: BTreeMap<String, String>,
    /// `None` when the ConfigMap does not exist.
    pub resource_version: Option<String>,
    /// `metadata.annotations`.
    pub annotations: BTreeMap<String, String>,
    /// The object as read, for writing it back with only data and annotations changed.
    pub config_map: Option<ConfigMap>,
}

impl AwsAuthObject {
    /// Whether the ConfigMap exists.
    pub fn exists(&self) -> bool {
        self.config_map.is_some()
    }

    /// The revision annotation (0 when absent or unreadable).
    pub fn revision(&self) -> u64 {
        self.annotations
            .get(REVISION_ANNOTATION)
            .and_then(|r| r.parse().ok())
            .unwrap_or(0)
    }

    fn from_config_map(cm: Option<ConfigMap>) -> Self {
        match cm {
            None => AwsAuthObject::default(),
            Some(cm) => AwsAuthObject {
                data: cm.data.clone().unwrap_or_default(),
                resource_version: cm.metadata.resource_version.clone(),
                annotations: cm.metadata.annotations.clone().unwrap_or_default(),
                config_map: Some(cm),
            },
        }
    }
}

/// SHA-256 (hex) over a ConfigMap's data: each key and value length-prefixed, in key order.
pub fn data_sha256(data: &BTreeMap<String, String>) -> String {
    let mut hasher = Sha256::new();
    for (key, value) in data {
        hasher.update((key.len() as u64).to_be_bytes());
        hasher.update(key.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    }
    hex::encode(hasher.finalize())
}

fn config_maps(client: &Client) -> Api<ConfigMap> {
    Api::namespaced(client.clone(), AWS_AUTH_NAMESPACE)
}

/// GET `kube-system/aws-auth` (absent is not an error).
pub async fn fetch_aws_auth(client: &Client) -> Result<AwsAuthObject, KubeError> {
    let cm = config_maps(client)
        .get_opt(AWS_AUTH_NAME)
        .await
        .map_err(|e| request_error("reading", aws_auth_object(), e))?;
    Ok(AwsAuthObject::from_config_map(cm))
}

/// Writes aws-auth with the resourceVersion that was read (PUT), or creates it (POST) when it
/// was absent. A concurrent change answers 409 Conflict (stale resourceVersion) or 409
/// AlreadyExists (someone created it first).
pub async fn replace_aws_auth(
    client: &Client,
    before: &AwsAuthObject,
    data: BTreeMap<String, String>,
    annotations: BTreeMap<String, String>,
) -> Result<ConfigMap, KubeError> {
    let api = config_maps(client);
    match &before.config_map {
        Some(cm) => {
            let mut cm = cm.clone();
            cm.data = Some(data);
            cm.metadata.annotations = Some(annotations);
            // The resourceVersion read stays in metadata: the server refuses a stale one with 409.
            api.replace(AWS_AUTH_NAME, &PostParams::default(), &cm)
                .await
                .map_err(|e| request_error("writing", aws_auth_object(), e))
        }
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(AWS_AUTH_NAME.to_owned()),
                    namespace: Some(AWS_AUTH_NAMESPACE.to_owned()),
                    annotations: Some(annotations),
                    ..Default::default()
                },
                data: Some(data),
                ..Default::default()
            };
            api.create(&PostParams::default(), &cm)
                .await
                .map_err(|e| request_error("creating", aws_auth_object(), e))
        }
    }
}

/// Who did what and when, recorded on aws-auth with every write.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChangeRecord {
    /// The revision this write made.
    pub revision: u64,
    /// The caller's username as the cluster sees it (SelfSubjectReview).
    pub by: String,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// What changed, e.g. ``add `arn:aws:iam::111122223333:user/bob` (mapUsers, added)``.
    pub change: String,
}

/// What an edit of aws-auth decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Edit {
    /// Nothing to write.
    Unchanged,
    /// Write this data; `change` says what it is (for the annotation).
    Write {
        /// The new data.
        data: BTreeMap<String, String>,
        /// What changed.
        change: String,
    },
}

/// Options of one modify loop.
#[derive(Debug, Clone)]
pub struct ModifyOptions {
    /// The caller's username, for the change record.
    pub who: String,
    /// The time of the change (RFC 3339), taken by the caller so the loop has no clock.
    pub at: String,
    /// Whether to keep the version being replaced in the history ring (every write but `undo`).
    pub keep_history: bool,
    /// The revision the write should set; `None` = current + 1 (`undo` sets current - 1).
    pub revision: Option<fn(u64) -> u64>,
}

/// The result of a modify loop.
#[derive(Debug, Clone)]
pub struct Modified {
    /// aws-auth as read on the attempt that succeeded (or found nothing to do).
    pub before: AwsAuthObject,
    /// The object written, `None` when the edit was [`Edit::Unchanged`].
    pub written: Option<ConfigMap>,
    /// The change record written.
    pub record: Option<ChangeRecord>,
    /// How many attempts were made (1 on the happy path).
    pub attempts: u32,
}

/// Why a modify loop stopped.
#[derive(Debug, thiserror::Error)]
pub enum ModifyError<E: std::error::Error + 'static> {
    /// The edit refused (parse error, lockout guard, ...): nothing was written.
    #[error(transparent)]
    Edit(E),
    /// A request failed with something else than 409 Conflict: stopped there.
    #[error(transparent)]
    Kube(KubeError),
    /// Every attempt met a 409 Conflict.
    #[error(
        "ConfigMap `{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}` kept changing while it was being written: gave up after {attempts} attempts that all met 409 Conflict"
    )]
    Conflicts {
        /// Attempts made.
        attempts: u32,
    },
}

/// Backoff before attempt `attempt + 1` (attempt counts from 1): full jitter over an exponential
/// window of 20 ms .. 1.28 s (the AWS architecture blog's "full jitter").
fn backoff(attempt: u32) -> Duration {
    let window_ms = 20u64 << attempt.min(6);
    let random = std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish();
    Duration::from_millis(10 + random % window_ms)
}

/// The conflict-safe read-modify-write loop over aws-auth.
///
/// GET aws-auth with its resourceVersion, run `edit` on it, keep the version being replaced in
/// the history ring, PUT with the resourceVersion read. On 409 Conflict (or 409 AlreadyExists when
/// two writers create it at once) re-read and re-apply `edit`, at most [`MAX_ATTEMPTS`] times,
/// with backoff. Any other error stops the loop at once. `edit` runs on every attempt, so it must
/// be a pure function of what was read.
pub async fn modify_aws_auth_data<E, F>(
    client: &Client,
    options: &ModifyOptions,
    edit: F,
) -> Result<Modified, ModifyError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut(&AwsAuthObject) -> Result<Edit, E>,
{
    modify_aws_auth_data_from(client, options, None, edit).await
}

/// [`modify_aws_auth_data`] starting from a read the caller already made (one GET less on the
/// happy path); a conflict re-reads as usual.
pub async fn modify_aws_auth_data_from<E, F>(
    client: &Client,
    options: &ModifyOptions,
    first_read: Option<AwsAuthObject>,
    mut edit: F,
) -> Result<Modified, ModifyError<E>>
where
    E: std::error::Error + 'static,
    F: FnMut(&AwsAuthObject) -> Result<Edit, E>,
{
    let mut first_read = first_read;
    for attempt in 1..=MAX_ATTEMPTS {
        let before = match first_read.take() {
            Some(read) => read,
            None => fetch_aws_auth(client).await.map_err(ModifyError::Kube)?,
        };
        let (data, change) = match edit(&before).map_err(ModifyError::Edit)? {
            Edit::Unchanged => {
                return Ok(Modified {
                    before,
                    written: None,
                    record: None,
                    attempts: attempt,
                });
            }
            Edit::Write { data, change } => (data, change),
        };
        let current = before.revision();
        let revision = options.revision.map_or(current + 1, |f| f(current));
        let record = ChangeRecord {
            revision,
            by: options.who.clone(),
            at: options.at.clone(),
            change,
        };
        let record_json = serde_json::to_string(&record).expect("a ChangeRecord serialises");
        if options.keep_history {
            let slot = HistorySlot {
                revision,
                data: before.data.clone(),
                existed: before.exists(),
                previous_resource_version: before.resource_version.clone(),
                replaced_by_sha256: data_sha256(&data),
                record: Some(record.clone()),
            };
            write_history(client, &slot)
                .await
                .map_err(ModifyError::Kube)?;
        }
        let mut annotations = before.annotations.clone();
        annotations.insert(REVISION_ANNOTATION.to_owned(), revision.to_string());
        annotations.insert(LAST_CHANGE_ANNOTATION.to_owned(), record_json);
        match replace_aws_auth(client, &before, data, annotations).await {
            Ok(written) => {
                return Ok(Modified {
                    before,
                    written: Some(written),
                    record: Some(record),
                    attempts: attempt,
                });
            }
            Err(err) if code_of(&err) == Some(409) => {
                if attempt < MAX_ATTEMPTS {
                    tokio::time::sleep(backoff(attempt)).await;
                }
            }
            Err(err) => return Err(ModifyError::Kube(err)),
        }
    }
    Err(ModifyError::Conflicts {
        attempts: MAX_ATTEMPTS,
    })
}

/// Why [`modify_aws_auth`] stopped before writing: aws-auth could not be read as the
/// authenticator reads it (never rewritten), or the edit refused.
#[derive(Debug, thiserror::Error)]
pub enum AwsAuthEditError<E: std::error::Error + 'static> {
    /// aws-auth does not parse: it is left untouched.
    #[error(
        "ConfigMap `{AWS_AUTH_NAMESPACE}/{AWS_AUTH_NAME}` cannot be read, so it is left untouched"
    )]
    Unreadable(#[source] crate::aws_auth::AwsAuthError),
    /// The edit refused.
    #[error(transparent)]
    Edit(E),
}

/// The conflict-safe loop at the level of the parsed document: `edit` gets aws-auth as the
/// authenticator reads it (and the object, for its annotations); a document that does not parse
/// stops the loop and is never rewritten.
pub async fn modify_aws_auth<E, F>(
    client: &Client,
    options: &ModifyOptions,
    mut edit: F,
) -> Result<Modified, ModifyError<AwsAuthEditError<E>>>
where
    E: std::error::Error + 'static,
    F: FnMut(&crate::aws_auth::AwsAuth, &AwsAuthObject) -> Result<Edit, E>,
{
    modify_aws_auth_data(client, options, |obj| {
        let doc =
            crate::aws_auth::AwsAuth::parse(&obj.data).map_err(AwsAuthEditError::Unreadable)?;
        edit(&doc, obj).map_err(AwsAuthEditError::Edit)
    })
    .await
}

/// Deletes aws-auth if its resourceVersion is still `resource_version` (used by `undo` when the
/// version before was "absent").
pub async fn delete_aws_auth(client: &Client, resource_version: &str) -> Result<(), KubeError> {
    let params = DeleteParams {
        preconditions: Some(Preconditions {
            resource_version: Some(resource_version.to_owned()),
            uid: None,
        }),
        ..Default::default()
    };
    config_maps(client)
        .delete(AWS_AUTH_NAME, &params)
        .await
        .map_err(|e| request_error("deleting", aws_auth_object(), e))?;
    Ok(())
}

/// One kept version of aws-auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistorySlot {
    /// The revision whose write replaced this data.
    pub revision: u64,
    /// aws-auth's data before that write, byte for byte.
    pub data: BTreeMap<String, String>,
    /// Whether aws-auth existed before that write.
    pub existed: bool,
    /// Its resourceVersion then.
    pub previous_resource_version: Option<String>,
    /// SHA-256 ([`data_sha256`]) of the data that write put in place.
    pub replaced_by_sha256: String,
    /// The record of that write.
    pub record: Option<ChangeRecord>,
}

/// Name of the history slot of a revision.
pub fn history_slot_name(revision: u64) -> String {
    format!("{HISTORY_PREFIX}{}", revision % HISTORY_SLOTS)
}

fn history_config_map(slot: &HistorySlot) -> ConfigMap {
    let mut annotations = BTreeMap::new();
    annotations.insert(REVISION_ANNOTATION.to_owned(), slot.revision.to_string());
    annotations.insert(EXISTED_ANNOTATION.to_owned(), slot.existed.to_string());
    annotations.insert(
        REPLACED_BY_SHA256_ANNOTATION.to_owned(),
        slot.replaced_by_sha256.clone(),
    );
    if let Some(rv) = &slot.previous_resource_version {
        annotations.insert(PREVIOUS_RESOURCE_VERSION_ANNOTATION.to_owned(), rv.clone());
    }
    if let Some(record) = &slot.record {
        annotations.insert(
            LAST_CHANGE_ANNOTATION.to_owned(),
            serde_json::to_string(record).expect("a ChangeRecord serialises"),
        );
    }
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(history_slot_name(slot.revision)),
            namespace: Some(AWS_AUTH_NAMESPACE.to_owned()),
            labels: Some(BTreeMap::from([(
                MANAGED_BY_LABEL.to_owned(),
                MANAGED_BY_VALUE.to_owned(),
            )])),
            annotations: Some(annotations),
            ..Default::default()
        },
        data: Some(slot.data.clone()),
        ..Default::default()
    }
}

fn history_slot_from(cm: &ConfigMap) -> Option<HistorySlot> {
    let annotations = cm.metadata.annotations.as_ref()?;
    Some(HistorySlot {
        revision: annotations.get(REVISION_ANNOTATION)?.parse().ok()?,
        data: cm.data.clone().unwrap_or_default(),
        existed: annotations.get(EXISTED_ANNOTATION).map(String::as_str) != Some("false"),
        previous_resource_version: annotations
            .get(PREVIOUS_RESOURCE_VERSION_ANNOTATION)
            .cloned(),
        replaced_by_sha256: annotations.get(REPLACED_BY_SHA256_ANNOTATION)?.clone(),
        record: annotations
            .get(LAST_CHANGE_ANNOTATION)
            .and_then(|r| serde_json::from_str(r).ok()),
    })
}

/// Stores a version in its slot: an unconditional PUT (no resourceVersion: last writer wins,
/// which is right because two writers of one revision read the same version), POST when the slot
/// does not exist yet.
pub async fn write_history(client: &Client, slot: &HistorySlot) -> Result<(), KubeError> {
    let api = config_maps(client);
    let cm = history_config_map(slot);
    let name = history_slot_name(slot.revision);
    let object = format!("ConfigMap `{AWS_AUTH_NAMESPACE}/{name}`");
    for _ in 0..3 {
        match api.replace(&name, &PostParams::default(), &cm).await {
            Ok(_) => return Ok(()),
            Err(kube::Error::Api(status)) if status.code == 404 => {
                match api.create(&PostParams::default(), &cm).await {
                    Ok(_) => return Ok(()),
                    // created by a concurrent writer in between: replace it
                    Err(kube::Error::Api(status)) if status.code == 409 => continue,
                    Err(err) => return Err(request_error("creating", object, err)),
                }
            }
            Err(err) => return Err(request_error("writing", object, err)),
        }
    }
    Err(KubeError::Request {
        action: "writing",
        object,
        source: ApiError::Status {
            code: 409,
            reason: "Conflict".to_owned(),
            message: "the history slot was created and deleted repeatedly".to_owned(),
        },
    })
}

/// Reads the history slot of `revision`; `None` when it is absent or holds another revision
/// (overwritten: older than [`HISTORY_SLOTS`] writes).
pub async fn fetch_history(
    client: &Client,
    revision: u64,
) -> Result<Option<HistorySlot>, KubeError> {
    let name = history_slot_name(revision);
    let cm = config_maps(client).get_opt(&name).await.map_err(|e| {
        request_error(
            "reading",
            format!("ConfigMap `{AWS_AUTH_NAMESPACE}/{name}`"),
            e,
        )
    })?;
    Ok(cm
        .as_ref()
        .and_then(history_slot_from)
        .filter(|slot| slot.revision == revision))
}

/// The caller as the cluster sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    /// Username.
    pub username: String,
    /// Groups (including `system:authenticated`).
    pub groups: Vec<String>,
    /// Extra attributes; EKS puts `arn`, `canonicalArn`, `sessionName`, `accessKeyId` there.
    pub extra: BTreeMap<String, Vec<String>>,
}

impl Caller {
    /// The caller's canonical IAM ARN when the authenticator told it (`extra["canonicalArn"]`,
    /// else `extra["arn"]`).
    pub fn arn(&self) -> Option<&str> {
        ["canonicalArn", "canonicalarn", "arn"]
            .iter()
            .find_map(|key| self.extra.get(*key).and_then(|v| v.first()))
            .map(String::as_str)
    }
}

/// POST a SelfSubjectReview: who the cluster thinks the caller is.
pub async fn fetch_caller(client: &Client) -> Result<Caller, KubeError> {
    let review = SelfSubjectReview {
        metadata: ObjectMeta::default(),
        status: None,
    };
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SelfSubjectReview", e))?;
    let info = answer
        .status
        .and_then(|s| s.user_info)
        .ok_or(KubeError::NoStatus("SelfSubjectReview"))?;
    Ok(Caller {
        username: info.username.unwrap_or_default(),
        groups: info.groups.unwrap_or_default(),
        extra: info.extra.unwrap_or_default(),
    })
}

/// The answer of an access review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Access {
    /// Allowed.
    pub allowed: bool,
    /// The authorizer's reason (may be empty).
    pub reason: String,
}

/// SelfSubjectAccessReview: may the caller do this?
pub async fn can_i(client: &Client, attributes: ResourceAttributes) -> Result<Access, KubeError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(attributes),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SelfSubjectAccessReview", e))?;
    let status = answer
        .status
        .ok_or(KubeError::NoStatus("SelfSubjectAccessReview"))?;
    Ok(Access {
        allowed: status.allowed,
        reason: status.reason.unwrap_or_default(),
    })
}

/// What a SubjectAccessReview asks about.
#[derive(Debug, Clone)]
pub enum Attributes {
    /// A resource request.
    Resource(Box<ResourceAttributes>),
    /// A non-resource URL.
    NonResource(NonResourceAttributes),
}

/// SubjectAccessReview: may this user with these groups do this? (What the API server would
/// decide; no impersonation.)
pub async fn subject_access(
    client: &Client,
    user: &str,
    groups: &[String],
    attributes: Attributes,
) -> Result<Access, KubeError> {
    let (resource_attributes, non_resource_attributes) = match attributes {
        Attributes::Resource(r) => (Some(*r), None),
        Attributes::NonResource(n) => (None, Some(n)),
    };
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            groups: Some(groups.to_vec()),
            resource_attributes,
            non_resource_attributes,
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SubjectAccessReview", e))?;
    let status = answer
        .status
        .ok_or(KubeError::NoStatus("SubjectAccessReview"))?;
    Ok(Access {
        allowed: status.allowed,
        reason: status.reason.unwrap_or_default(),
    })
}

/// SelfSubjectRulesReview in a namespace: the caller's rules there (cluster-wide ones included).
pub async fn fetch_own_rules(
    client: &Client,
    namespace: &str,
) -> Result<SubjectRulesReviewStatus, KubeError> {
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.to_owned()),
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectRulesReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SelfSubjectRulesReview", e))?;
    answer
        .status
        .ok_or(KubeError::NoStatus("SelfSubjectRulesReview"))
}

/// Lists the four RBAC kinds (four LIST requests).
pub async fn list_rbac(client: &Client) -> Result<RbacObjects, KubeError> {
    let lp = ListParams::default();
    let cluster_roles = Api::<ClusterRole>::all(client.clone())
        .list(&lp)
        .await
        .map_err(|e| request_error("listing", "ClusterRoles", e))?
        .items;
    let cluster_role_bindings = Api::<ClusterRoleBinding>::all(client.clone())
        .list(&lp)
        .await
        .map_err(|e| request_error("listing", "ClusterRoleBindings", e))?
        .items;
    let roles = Api::<Role>::all(client.clone())
        .list(&lp)
        .await
        .map_err(|e| request_error("listing", "Roles in all namespaces", e))?
        .items;
    let role_bindings = Api::<RoleBinding>::all(client.clone())
        .list(&lp)
        .await
        .map_err(|e| request_error("listing", "RoleBindings in all namespaces", e))?
        .items;
    Ok(RbacObjects {
        cluster_roles,
        cluster_role_bindings,
        roles,
        role_bindings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn slot_names_form_a_ring_of_ten() {
        assert_eq!(history_slot_name(1), "aws-auth-history-1");
        assert_eq!(history_slot_name(10), "aws-auth-history-0");
        assert_eq!(history_slot_name(23), "aws-auth-history-3");
    }

    #[test]
    fn data_hash_separates_keys_from_values() {
        let a = data(&[("ab", "c")]);
        let b = data(&[("a", "bc")]);
        assert_ne!(data_sha256(&a), data_sha256(&b));
        assert_eq!(
            data_sha256(&BTreeMap::new()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn history_slot_round_trips_through_a_config_map() {
        let slot = HistorySlot {
            revision: 12,
            data: data(&[
                ("mapRoles", "# keep me\n- rolearn: x\n"),
                ("other", "  odd  "),
            ]),
            existed: true,
            previous_resource_version: Some("981".to_owned()),
            replaced_by_sha256: "abc".to_owned(),
            record: Some(ChangeRecord {
                revision: 12,
                by: "kubernetes-admin".to_owned(),
                at: "2025-01-02T03:04:05Z".to_owned(),
                change: "add".to_owned(),
            }),
        };
        let cm = history_config_map(&slot);
        assert_eq!(cm.metadata.name.as_deref(), Some("aws-auth-history-2"));
        assert_eq!(
            cm.metadata
                .labels
                .as_ref()
                .unwrap()
                .get(MANAGED_BY_LABEL)
                .map(String::as_str),
            Some("kubectl-eks-grant")
        );
        assert_eq!(history_slot_from(&cm), Some(slot));
    }

    #[test]
    fn absent_aws_auth_reads_as_empty_revision_zero() {
        let obj = AwsAuthObject::from_config_map(None);
        assert!(!obj.exists());
        assert_eq!(obj.revision(), 0);
        assert!(obj.data.is_empty());
    }

    #[test]
    fn backoff_stays_in_its_window() {
        for attempt in 1..=20 {
            let d = backoff(attempt).as_millis() as u64;
            assert!(
                (10..10 + (20u64 << attempt.min(6))).contains(&d),
                "{attempt}: {d}"
            );
        }
    }

    #[test]
    fn api_status_error_reads_like_the_server() {
        let err = ApiError::Status {
            code: 409,
            reason: "Conflict".to_owned(),
            message: "the object has been modified".to_owned(),
        };
        assert_eq!(
            err.to_string(),
            "the object has been modified (HTTP 409, Conflict)"
        );
        assert_eq!(err.code(), Some(409));
    }

    #[test]
    fn caller_arn_prefers_canonical() {
        let caller = Caller {
            extra: BTreeMap::from([
                (
                    "arn".to_owned(),
                    vec!["arn:aws:sts::1:assumed-role/r/s".to_owned()],
                ),
                (
                    "canonicalArn".to_owned(),
                    vec!["arn:aws:iam::1:role/r".to_owned()],
                ),
            ]),
            ..Default::default()
        };
        assert_eq!(caller.arn(), Some("arn:aws:iam::1:role/r"));
    }
}
