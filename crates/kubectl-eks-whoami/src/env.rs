//! Every environment variable this plugin reads, in one place.

/// Kubeconfig search path (colon-separated on Unix), as kubectl reads it.
pub const KUBECONFIG: &str = "KUBECONFIG";
/// Disables colour when set to anything non-empty (<https://no-color.org>).
pub const NO_COLOR: &str = "NO_COLOR";
/// What kubectl tells an exec credential plugin about the request (apiVersion, interactive).
pub const KUBERNETES_EXEC_INFO: &str = "KUBERNETES_EXEC_INFO";
/// The AWS profile an exec plugin uses when its arguments name none.
pub const AWS_PROFILE: &str = "AWS_PROFILE";
/// Region, as the AWS SDKs and CLI read it.
pub const AWS_REGION: &str = "AWS_REGION";
/// Fallback region, as the AWS SDKs and CLI read it.
pub const AWS_DEFAULT_REGION: &str = "AWS_DEFAULT_REGION";
/// Global endpoint override of the AWS SDKs (also where a stand-in STS is reached).
pub const AWS_ENDPOINT_URL: &str = "AWS_ENDPOINT_URL";
/// STS-only endpoint override (service-specific variables win over the global one).
pub const AWS_ENDPOINT_URL_STS: &str = "AWS_ENDPOINT_URL_STS";
/// Static AWS credentials, as the SDKs read them (here: from the exec stanza's env).
pub const AWS_ACCESS_KEY_ID: &str = "AWS_ACCESS_KEY_ID";
/// The secret of [`AWS_ACCESS_KEY_ID`].
pub const AWS_SECRET_ACCESS_KEY: &str = "AWS_SECRET_ACCESS_KEY";
/// The session token of temporary credentials.
pub const AWS_SESSION_TOKEN: &str = "AWS_SESSION_TOKEN";
