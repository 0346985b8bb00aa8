//! The core of kubectl-eks.
//!
//! Pure modules take values and return values (no network, no clock): `arn`, `token`,
//! `aws_auth`, `mapping`, `exec_stanza`, and with the `rbac` feature `rbac`. The I/O edges live behind the
//! `aws` and `kube` features so that `kubectl-eks_token` never compiles a Kubernetes client.

pub mod access;
pub mod arn;
pub mod aws_auth;
#[cfg(feature = "cli")]
pub mod cli;
pub mod env;
pub mod errors;
pub mod exec_stanza;
#[cfg(feature = "kube")]
pub mod kube;
pub mod mapping;
pub mod names;
#[cfg(feature = "rbac")]
pub mod rbac;
pub mod time;
pub mod token;

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod eks;
#[cfg(feature = "aws")]
pub mod iam;
