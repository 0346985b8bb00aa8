//! Every environment variable the three plugins read, in one place (uv's `EnvVars`), and one
//! rule for reading them: unset, empty and non-UTF-8 all count as absent ([`var`]), as the AWS
//! CLI treats an empty `AWS_PROFILE` or `AWS_REGION`.

/// Static credentials: the access key id.
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// Static credentials: the secret key.
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// Static credentials: the session token of temporary ones.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
/// Region, as the AWS SDKs and CLI read it first.
pub const AWS_REGION: &str = "AWS_REGION";
/// Fallback region, as the AWS SDKs and CLI read it.
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// The profile to use when no `--profile` names one.
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// The older name of [`AWS_PROFILE`], still honoured by the SDKs.
pub const AWS_DEFAULT_PROFILE: &str = "AWS_DEFAULT_PROFILE";
/// Where the shared config file is (default `~/.aws/config`).
pub const AWS_CONFIG_FILE: &str = "AWS_CONFIG_FILE";
/// Where the shared credentials file is (default `~/.aws/credentials`).
pub const AWS_SHARED_CREDENTIALS_FILE: &str = "AWS_SHARED_CREDENTIALS_FILE";
/// Global endpoint override of the AWS SDKs (also where a stand-in STS is reached).
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// STS-only endpoint override (service-specific variables win over the global one).
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
/// Overrides the token cache directory of eks-token (default `~/.kube/cache/eks-token`).
pub const KUBECTL_EKS_TOKEN_CACHE_DIR: &str = "KUBECTL_EKS_TOKEN_CACHE_DIR";
/// Set by kubectl for exec credential plugins: `{"apiVersion": ..., "spec": {...}}`.
pub const KUBERNETES_EXEC_INFO: &str = "KUBERNETES_EXEC_INFO";
/// Kubeconfig search path (colon-separated on Unix), as kubectl reads it.
pub const KUBECONFIG: &str = "KUBECONFIG";
/// The home directory (`~/.kube`, `~/.aws`).
pub const HOME: &str = "HOME";
/// Where commands (exec credential plugins) are looked up.
pub const PATH: &str = "PATH";
/// Disables colour when set to anything non-empty (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// The terminal's width in columns, overriding what the terminal says (tables, `cli::table`).
pub const COLUMNS: &str = "COLUMNS";

/// Variables that change which AWS identity signs, beyond the flags. eks-token's cache key holds
/// their hashed values, so that a token is never served to a different identity.
pub const IDENTITY_VARS: &[&str] = &[
    AWS_ACCESS_KEY_ID,
    AWS_PROFILE,
    AWS_DEFAULT_PROFILE,
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

/// Whether a variable is set to something (the `NO_COLOR` rule: empty is unset).
pub fn is_set(name: &str) -> bool {
    std::env::var_os(name).is_some_and(|v| !v.is_empty())
}
