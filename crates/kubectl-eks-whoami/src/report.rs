//! What `kubectl eks-whoami` found, as one value: rendered as a table for people, or as JSON /
//! YAML for scripts. The top-level keys `aws`, `kubernetes`, `mapping` (and with `--all`
//! `bindings`, `permissions`) are public interface (DESIGN.md).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::exec::ExecSource;
use eks_auth::arn::ClusterArn;

/// The whole answer.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub context: ContextInfo,
    pub aws: AwsSection,
    pub kubernetes: KubeSection,
    pub mapping: MappingSection,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bindings: Option<BindingsSection>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub permissions: Option<PermissionsSection>,
    /// Present when something was refused (401 or 403): why, and what to do.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diagnosis: Option<Diagnosis>,
}

/// The kubeconfig context in use.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContextInfo {
    pub name: String,
    /// The kubeconfig `clusters` entry the context names.
    pub cluster: String,
    pub server: Option<String>,
    /// When the cluster entry (or the context) is named by its EKS ARN, as `aws eks
    /// update-kubeconfig` names them.
    pub cluster_arn: Option<ClusterArn>,
    pub namespace: Option<String>,
    /// `exec`, `token`, or what else the user entry holds.
    pub auth: String,
}

/// How the AWS identity was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AwsSource {
    /// The context's exec plugin was run as kubectl runs it; its token was sent to STS.
    ExecPlugin,
    /// The kubeconfig holds an EKS token as is.
    KubeconfigToken,
    /// The exec plugin could not be run; the same profile, region and role were resolved
    /// through the AWS SDK's credential chain instead.
    CredentialChain,
}

/// The AWS side: who signed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AwsSection {
    /// The context's exec stanza, as read.
    pub exec: Option<ExecSource>,
    pub source: Option<AwsSource>,
    /// As STS GetCallerIdentity reports it.
    pub arn: Option<String>,
    pub account: Option<String>,
    pub user_id: Option<String>,
    /// The ARN EKS matches against aws-auth and access entries.
    pub canonical_arn: Option<String>,
    pub access_key_id: Option<String>,
    pub session_name: Option<String>,
    /// What the token says about itself (decoded locally).
    pub token: Option<TokenFacts>,
    /// Why the identity is unknown, when it is.
    pub error: Option<String>,
    pub notes: Vec<String>,
}

/// What a decoded EKS token shows (never the signature or the session token).
#[derive(Debug, Clone, Default, Serialize)]
pub struct TokenFacts {
    /// The presigned URL with credential, session token and signature redacted.
    pub url: String,
    pub sts_host: String,
    /// Region of the STS endpoint the token was signed for.
    pub region: String,
    pub access_key_id: String,
    pub signed_at: String,
    pub expires_at: String,
    /// Temporary credentials (assumed role, SSO) sign with a session token.
    pub session_token: bool,
    /// The cluster the token was signed for, when STS confirmed it (the `x-k8s-aws-id` header
    /// is signed, so STS only accepts the token with the cluster name it was signed for).
    pub cluster_name: Option<String>,
    /// What the local checks (those EKS makes before it calls STS) found wrong.
    pub verify_error: Option<String>,
    /// What STS said when it refused the token.
    pub sts_error: Option<String>,
}

/// The outcome of asking the API server who we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum KubeStatus {
    Authenticated,
    /// 401: the token was refused.
    Unauthenticated,
    /// The server could not be asked (plugin failure, network, TLS, ...).
    Error,
}

/// The Kubernetes side: who the API server says we are (SelfSubjectReview).
#[derive(Debug, Clone, Serialize)]
pub struct KubeSection {
    pub status: KubeStatus,
    pub username: Option<String>,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
    pub error: Option<String>,
}

/// Whether aws-auth could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AwsAuthStatus {
    Read,
    /// The ConfigMap does not exist.
    Absent,
    /// 403 for the caller.
    Forbidden,
    /// Not asked (not authenticated) or the request failed.
    Unavailable,
}

/// Which source made the Kubernetes identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MappingKind {
    MapRoles,
    MapUsers,
    MapAccounts,
    /// EKS's implicit admin mapping of the IAM principal that created the cluster.
    ClusterCreator,
    /// An EKS access entry (API or API_AND_CONFIG_MAP mode): see `mapping.access`.
    AccessEntry,
    /// Authenticated, but not by anything aws-auth says, and the access entry could not be read.
    Other,
    /// Could not be determined (aws-auth unreadable): see `inferred`.
    Unknown,
    /// Nothing maps the identity (401).
    None,
}

/// One aws-auth entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EntryView {
    /// `mapRoles`, `mapUsers`, `mapAccounts` or `cluster-creator`.
    pub key: String,
    /// 1-based position in its list (`None` for mapAccounts and the creator).
    pub position: Option<usize>,
    pub arn: Option<String>,
    pub username: Option<String>,
    pub groups: Vec<String>,
}

/// How the identity came about.
#[derive(Debug, Clone, Serialize)]
pub struct MappingSection {
    pub aws_auth: AwsAuthStatus,
    pub source: MappingKind,
    /// The entry that matched.
    pub entry: Option<EntryView>,
    /// Entries that match too but lose (earlier duplicates, mapUsers behind mapRoles, aws-auth
    /// entries behind the cluster creator).
    pub shadowed: Vec<EntryView>,
    /// Username and groups the matched entry gives (templates filled in).
    pub username: Option<String>,
    pub groups: Vec<String>,
    /// Whether that agrees with what the API server says.
    pub agrees: Option<bool>,
    /// What was inferred from the username and groups when aws-auth could not be read.
    pub inferred: Vec<String>,
    pub notes: Vec<String>,
    /// The EKS side: the cluster's authentication mode and the caller's access entry. Absent
    /// when the cluster's name is unknown (not an EKS cluster, or not named in the kubeconfig).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access: Option<AccessSection>,
    /// What the source that counts overrides: an aws-auth entry behind the caller's access
    /// entry (API_AND_CONFIG_MAP), or ignored by the mode (API).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overrides: Vec<Overridden>,
}

/// Whether the caller's access entry could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EntryStatus {
    /// DescribeAccessEntry found it.
    Found,
    /// There is no access entry for the caller.
    NotFound,
    /// The caller may not read it (an IAM action is missing: see `confirm_with`).
    Forbidden,
    /// The mode does not use access entries (CONFIG_MAP), or the mode is unknown.
    NotAsked,
    /// The call failed otherwise.
    Unavailable,
}

/// An access policy associated with the caller's entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyView {
    /// `AmazonEKSViewPolicy`.
    pub name: String,
    pub arn: String,
    /// `cluster` or `namespace`.
    pub scope: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}

/// The caller's access entry, as EKS returns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccessEntryView {
    pub principal_arn: String,
    /// `STANDARD`, `EC2_LINUX`, ...
    #[serde(rename = "type")]
    pub entry_type: String,
    /// As stored (may hold `{{SessionName}}`).
    pub username: String,
    pub groups: Vec<String>,
    pub policies: Vec<PolicyView>,
}

/// The cluster's authentication mode and the caller's access entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AccessSection {
    /// The cluster's name in EKS.
    pub cluster_name: String,
    /// `CONFIG_MAP`, `API_AND_CONFIG_MAP` or `API` (DescribeCluster `accessConfig`); `None` when
    /// it could not be read.
    pub authentication_mode: Option<String>,
    pub entry_status: Option<EntryStatus>,
    pub entry: Option<AccessEntryView>,
    /// What failed, in a sentence.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The IAM actions that would confirm what is inferred (`eks:DescribeAccessEntry`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub confirm_with: Vec<String>,
}

/// Why an aws-auth entry does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OverrideReason {
    /// API_AND_CONFIG_MAP: the access entry for the same principal wins.
    BehindAccessEntry,
    /// API: aws-auth is not read at all.
    IgnoredByMode,
}

/// An aws-auth entry (or the creator's implicit admin) that matches the caller but does not count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overridden {
    pub entry: EntryView,
    pub reason: OverrideReason,
}

/// One RBAC binding that applies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BindingView {
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// `ClusterRole/view`, `Role/reader`.
    pub role: String,
    /// The subject that matched: `User alice`, `Group reader`.
    pub subject: String,
    /// The role's rules, summarised (`get,list,watch pods,services`); empty when unknown.
    pub rules: Vec<String>,
    /// Why there is no summary (role missing, roles not readable).
    pub rules_note: Option<String>,
}

/// The bindings whose subjects are the user or one of its groups.
#[derive(Debug, Clone, Default, Serialize)]
pub struct BindingsSection {
    pub items: Vec<BindingView>,
    /// False when some kind could not be listed.
    pub complete: bool,
    pub errors: Vec<String>,
}

/// A matrix cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// Only on named objects (`resourceNames`).
    Named,
    /// On every object.
    All,
}

/// One row of the matrix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ResourceRow {
    /// `pods`, `deployments.apps`, `*.*`.
    pub resource: String,
    pub group: String,
    pub verbs: BTreeMap<String, Access>,
    /// Object names for `named` cells.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub names: Vec<String>,
    /// Where each verb's permission comes from: RBAC, an access policy, or both. Present when
    /// the caller has access policies.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sources: BTreeMap<String, Vec<CellSource>>,
}

/// What grants a cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from")]
pub enum CellSource {
    /// A Role or ClusterRole bound to the caller (as SelfSubjectRulesReview reports).
    Rbac,
    /// An EKS access policy associated with the caller's access entry (enforced beside RBAC,
    /// invisible to SelfSubjectRulesReview). `probed`: the entry could not be read, and
    /// SelfSubjectAccessReviews showed that this policy (or one that holds all of its rules)
    /// applies at `scope` (`cluster`, or `namespace NAME` for `-n`).
    AccessPolicy {
        policy: String,
        scope: String,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        probed: bool,
    },
}

/// Non-resource URLs and their verbs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NonResourceRow {
    pub urls: Vec<String>,
    pub verbs: Vec<String>,
}

/// The effective permissions.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionsSection {
    /// `cluster` or `namespace`.
    pub scope: String,
    pub namespace: Option<String>,
    /// How they were found (`SelfSubjectRulesReview in namespace default`, ...).
    pub method: String,
    /// The server says (or we know) the list may be incomplete.
    pub incomplete: bool,
    pub evaluation_error: Option<String>,
    pub resources: Vec<ResourceRow>,
    pub non_resource: Vec<NonResourceRow>,
    pub notes: Vec<String>,
}

/// How strongly the evidence points at a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Likely,
    Possible,
    RuledOut,
    Unknown,
}

/// One possible reason for a refusal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// Stable identifier: `not-mapped`, `role-path`, `other-account`, `other-profile`,
    /// `expired-credentials`, `other-cluster`.
    pub id: String,
    pub verdict: Verdict,
    pub title: String,
    pub detail: String,
}

/// What went wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiagnosisKind {
    /// HTTP 401: the API server did not accept the token.
    Unauthorized,
    /// HTTP 403: authenticated, but some request was refused.
    Forbidden,
    /// No token could be made (no credentials, expired SSO session, plugin failure).
    NoCredentials,
    /// The context's exec credential plugin is not installed (or not on PATH): kubectl cannot
    /// authenticate with this context at all.
    PluginMissing,
}

/// Why something was refused.
#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub kind: DiagnosisKind,
    /// 401 or 403 when the API server answered.
    pub http_status: Option<u16>,
    pub summary: String,
    /// Likely causes, in the order they are worth checking.
    pub causes: Vec<Cause>,
    /// What a 403 lacked (`list clusterrolebindings.rbac.authorization.k8s.io (cluster scope)`).
    pub missing: Vec<String>,
    /// The exact command an admin would run.
    pub grant_command: Option<String>,
    /// For a 403 of a caller let in by an access entry: the access policy, and its scope, that
    /// would allow each refused request (an RBAC binding would too).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub access_policies: Vec<MissingPolicy>,
}

/// An access policy that would allow a refused request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MissingPolicy {
    /// As in `missing`.
    pub request: String,
    /// `AmazonEKSAdminViewPolicy`.
    pub policy: String,
    /// `cluster`, or `namespace` with `namespaces`.
    pub scope: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub namespaces: Vec<String>,
}
