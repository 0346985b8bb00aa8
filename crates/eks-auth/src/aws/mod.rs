//! The AWS I/O edge (cargo feature `aws`), one module per job:
//!
//! - [`error`]: [`AwsError`], the one error type of this edge, with what-to-do hints;
//! - [`context`]: the configuration (profile, region, credential chain) and the STS and EKS
//!   calls made with it;
//! - [`signing`]: credentials, then AssumeRole when asked, then a presigned token: the one path
//!   every plugin takes to a token;
//! - [`presigned`]: sending a presigned GetCallerIdentity request the way the EKS authenticator
//!   does.
//!
//! Everything that decides is pure and lives elsewhere (`token`, `arn`); this module only fetches.
//! The SDK's own calls honour `AWS_ENDPOINT_URL` (aws-config reads it into the `SdkConfig`); the
//! token itself always names the partition's real STS host (see `token::presign`).

pub mod context;
pub mod error;
pub mod presigned;
pub mod signing;

pub use context::*;
pub use error::*;
pub use presigned::*;
pub use signing::*;

pub use crate::exec_stanza::DEFAULT_ROLE_SESSION_NAME;
