//! Every environment variable the binary reads, in one place (uv's `EnvVars`).

/// Static credentials (the fast path signs with these without loading aws-config).
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// Region, in aws-config's order: AWS_REGION, then AWS_DEFAULT_REGION.
pub const AWS_REGION: &str = "AWS_REGION";
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// The shared config and credentials files (their content is part of the cache key).
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// Overrides the token cache directory (default `~/.kube/cache/eks-token`).
pub const KUBECTL_EKS_TOKEN_CACHE_DIR: &str = "KUBECTL_EKS_TOKEN_CACHE_DIR";
/// Set by kubectl for exec credential plugins: `{"apiVersion": ..., "spec": {...}}`.
pub const KUBERNETES_EXEC_INFO: &str = "KUBERNETES_EXEC_INFO";
pub const KUBECONFIG: &str = "KUBECONFIG";
pub const HOME: &str = "HOME";
/// Where AWS calls go instead of their public endpoints (AWS SDK endpoint settings): the
/// STS-specific variable wins over the global one. `verify --resolve` honours both.
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";

/// Variables that change which AWS identity signs, beyond the flags. Part of the cache key, so
/// that a token is never served to a different identity. Values are hashed, never stored.
pub const IDENTITY_VARS: &[&str] = &[
    AWS_ACCESS_KEY_ID,
    AWS_PROFILE,
    "AWS_DEFAULT_PROFILE",
    AWS_CONFIG_FILE,
    AWS_SHARED_CREDENTIALS_FILE,
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    AWS_ENDPOINT_URL,
    AWS_ENDPOINT_URL_STS,
];

/// A variable's value; unset, empty and non-UTF-8 all count as absent.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}
