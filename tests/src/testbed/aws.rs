//! The AWS side of a testbed: IAM users and roles, STS, the admin API, the aws CLI, presigned
//! tokens.

use std::process::{Command, Output};

use serde_json::Value;

use crate::access::AccessSnapshot;
use crate::aws_side::{AwsKeys, AwsRole, AwsSide, AwsUser};
use crate::env_vars;

use super::{Testbed, TestbedError};

impl Testbed {
    pub(super) fn aws(&self) -> Result<&AwsSide, TestbedError> {
        self.aws.as_ref().ok_or(TestbedError::NoAws)
    }

    /// Creates an IAM user (path `/`) with an access key.
    pub fn create_user(&self, name: &str) -> Result<AwsUser, TestbedError> {
        Ok(self.aws()?.create_user(name, "/")?)
    }

    /// Creates an IAM role that any principal in the account may assume.
    pub fn create_role(&self, name: &str, path: &str) -> Result<AwsRole, TestbedError> {
        Ok(self.aws()?.create_role(name, path)?)
    }

    /// Temporary keys for a session of `role_arn` (the AWS side's AssumeRole).
    pub fn assume_role(&self, role_arn: &str, session_name: &str) -> Result<AwsKeys, TestbedError> {
        Ok(self.aws()?.assume_role(role_arn, session_name)?)
    }

    /// Deletes an IAM role; creating it again gives the same ARN and a new unique id.
    pub fn delete_role(&self, name: &str) -> Result<(), TestbedError> {
        Ok(self.aws()?.delete_role(name)?)
    }

    /// Calls the AWS side's admin API (`/_testbed/...`, tests/aws/README.md).
    pub fn aws_admin(&self, path: &str, body: &Value) -> Result<Value, TestbedError> {
        Ok(self.aws()?.admin(path, body)?)
    }

    /// The mode and access entries as the API server last read them (a CONFIG_MAP view before
    /// the first EKS request).
    pub fn access_snapshot(&self) -> AccessSnapshot {
        self.access
            .as_ref()
            .map(|a| (*a.cached()).clone())
            .unwrap_or_else(AccessSnapshot::config_map)
    }

    /// Runs the real AWS CLI (`aws ARGS --endpoint-url AWS-SIDE`) with `keys`, hermetically
    /// (no config or credentials files, HOME inside the testbed's directory).
    pub fn aws_cli(&self, keys: &AwsKeys, args: &[&str]) -> Result<Output, TestbedError> {
        let endpoint = self.aws_endpoint().ok_or(TestbedError::NoAws)?;
        let mut cmd = Command::new("aws");
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.join("home"))
            .env("AWS_CONFIG_FILE", "/dev/null")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
            .env(env_vars::AWS_DEFAULT_REGION, &self.options.region)
            .env(env_vars::AWS_ACCESS_KEY_ID, &keys.access_key_id)
            .env(env_vars::AWS_SECRET_ACCESS_KEY, &keys.secret_access_key)
            .args(args)
            .args(["--endpoint-url", &endpoint, "--output", "json"]);
        if let Some(token) = &keys.session_token {
            cmd.env(env_vars::AWS_SESSION_TOKEN, token);
        }
        cmd.output().map_err(|source| TestbedError::Run {
            program: "aws".into(),
            source,
        })
    }

    /// A presigned EKS token for the keys, made in-process.
    pub fn presign(&self, keys: &AwsKeys) -> String {
        presign_token(
            keys,
            &self.options.cluster_name,
            &self.options.region,
            std::time::SystemTime::now(),
        )
    }
}

/// A presigned EKS token (`k8s-aws-v1.` + base64url of the URL) for the keys, made in-process by
/// `eks_auth::token::presign`.
pub fn presign_token(
    keys: &AwsKeys,
    cluster: &str,
    region: &str,
    now: std::time::SystemTime,
) -> String {
    // Fails only for a region without a partition; the testbed's regions are real ones.
    eks_auth::token::presign(keys, cluster, region, now)
        .map(|t| t.token)
        .unwrap_or_default()
}
