//! The stand-in EKS for tests: an HTTPS Kubernetes API server (this crate) and an AWS emulator
//! (moto, in `tests/aws`, run as a child process), wired together as EKS wires them.
//!
//! [`Testbed::start`] runs both on free ports for one test; the `eks-testbed up` binary runs them
//! for a shell. See tests/README.md for what is faithful to EKS and what is not.

pub mod access;
pub mod auth;
pub mod authz;
pub mod aws_side;
pub mod bootstrap;
pub mod decode;
pub mod eks_authn;
pub mod http1;
pub mod impersonate;
pub mod kinds;
pub mod openapi;
pub mod protobuf;
pub mod reqlog;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;
pub mod testbed;
pub mod tls;
pub mod watch;

pub use aws_side::{AwsKeys, AwsRole, AwsUser};
pub use reqlog::LoggedRequest;
pub use testbed::{Creds, Testbed, TestbedError, TestbedOptions, bin_path, presign_token};

/// Environment variables the testbed reads or writes, in one place.
pub mod env_vars {
    /// Overrides the path of `tests/aws/stand_in.py`.
    pub const AWS_SCRIPT: &str = "EKS_TESTBED_AWS_SCRIPT";
    /// Overrides the Python interpreter (default `python3`).
    pub const PYTHON: &str = "EKS_TESTBED_PYTHON";
    /// Overrides the kubectl binary (default `kubectl` on PATH).
    pub const KUBECTL: &str = "EKS_TESTBED_KUBECTL";
    pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
    pub const AWS_REGION: &str = "AWS_REGION";
    pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
    pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
    pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
    pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
    pub const KUBECONFIG: &str = "KUBECONFIG";
    pub const EKS_CLUSTER_NAME: &str = "EKS_CLUSTER_NAME";
}
