//! The Kubernetes I/O edge (feature `kube`), one module per job:
//!
//! - [`client`]: the kubeconfig read as kubectl reads it, a client for a context;
//! - [`error`]: [`KubeError`], the one error type of this edge, with what-to-do hints;
//! - [`aws_auth_store`]: the aws-auth ConfigMap read and written with its resourceVersion, and
//!   the conflict-safe modify loop;
//! - [`history`]: the ring of previous aws-auth versions that `undo` restores;
//! - [`reviews`]: SelfSubjectReview, SelfSubjectAccessReview, SelfSubjectRulesReview,
//!   SubjectAccessReview, and a bounded fan-out of access reviews;
//! - [`rbac_reads`]: the four RBAC kinds listed.
//!
//! Everything that decides lives in the pure modules; this edge only fetches and sends. Every
//! item is re-exported here, so callers write `eks_auth::kube::fetch_caller`.

pub mod aws_auth_store;
pub mod client;
pub mod error;
pub mod history;
pub mod rbac_reads;
pub mod reviews;

pub use aws_auth_store::*;
pub use client::*;
pub use error::*;
pub use history::*;
pub use rbac_reads::*;
pub use reviews::*;
