//! The one error type of the Kubernetes edge, and what the user can do about each case
//! ([`KubeError::hint`], shown by `eks_auth::cli::report_error` after a blank line).

use std::path::PathBuf;

use kube::config::KubeconfigError;

use crate::errors::chain_text;

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
    /// The context's user runs an exec credential plugin that is not installed (or not on PATH).
    #[error(
        "the credential plugin `{command}` of context `{context}` was not found{}",
        if command.contains('/') { "" } else { " on PATH" }
    )]
    ExecNotFound {
        /// The context.
        context: String,
        /// The command as the kubeconfig names it.
        command: String,
        /// The kubeconfig's `installHint` for it, if any.
        install_hint: Option<String>,
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
    /// A concurrent request task stopped (panicked or was cancelled) before it answered.
    #[error("the {0} task stopped before answering")]
    TaskFailed(&'static str),
    /// The answer of the server was not what the API promises.
    #[error("unexpected answer to {0}: no status")]
    NoStatus(&'static str),
}

impl KubeError {
    /// HTTP code when the server answered a request.
    pub fn code(&self) -> Option<u16> {
        match self {
            KubeError::Request { source, .. } => source.code(),
            _ => None,
        }
    }

    /// The cause alone, without this layer's "what was being done" (for a report that says
    /// that itself): the API server's words for a request, else the whole chain.
    pub fn reason(&self) -> String {
        match self {
            KubeError::Request { source, .. } => chain_text(source),
            other => chain_text(other),
        }
    }

    /// What the user can do about it, when something useful can be said.
    pub fn hint(&self) -> Option<String> {
        match self {
            KubeError::ReadDefaultKubeconfig(_) => Some(
                "write a context for the cluster with `kubectl eks-token update-kubeconfig --name CLUSTER`, or pass `--kubeconfig PATH`"
                    .to_owned(),
            ),
            KubeError::ReadKubeconfig { .. } => {
                Some("check the path given to `--kubeconfig`".to_owned())
            }
            KubeError::NoEntry { kind, .. } => Some(format!(
                "list the kubeconfig's {kind}s with `kubectl config get-{kind}s`"
            )),
            KubeError::LoadContext { .. } => Some(
                "list the contexts with `kubectl config get-contexts`, then pass one with `--context NAME`"
                    .to_owned(),
            ),
            KubeError::ExecNotFound {
                command,
                install_hint,
                ..
            } => Some(exec_not_found_hint(command, install_hint.as_deref())),
            KubeError::Request { source, .. } => match source.code() {
                Some(401) => Some(
                    "the API server did not accept your credentials: run `kubectl eks-whoami` to see which identity was presented and why it is not mapped"
                        .to_owned(),
                ),
                Some(403) => Some(
                    "your identity is authenticated but RBAC refuses this request: run `kubectl eks-whoami --all` to see what you may do"
                        .to_owned(),
                ),
                _ => None,
            },
            KubeError::BuildClient { .. } | KubeError::NoStatus(_) | KubeError::TaskFailed(_) => {
                None
            }
        }
    }
}

/// How to get a missing credential plugin: the kubeconfig's own `installHint` when it has one,
/// else what we know of the usual ones.
pub fn exec_not_found_hint(command: &str, install_hint: Option<&str>) -> String {
    let base = command.rsplit('/').next().unwrap_or(command);
    let how = match install_hint.map(str::trim).filter(|h| !h.is_empty()) {
        Some(h) => h.to_owned(),
        None => match base {
            "kubectl-eks_token" => {
                "install it with `kubectl krew install kubectl-eks/eks-token`".to_owned()
            }
            "aws" => "install the AWS CLI v2 (`aws --version` should work)".to_owned(),
            "aws-iam-authenticator" => {
                "install aws-iam-authenticator from its release page".to_owned()
            }
            _ => format!("install `{base}`"),
        },
    };
    if command.contains('/') {
        format!("{how}, or correct the path `{command}` in the kubeconfig's exec stanza")
    } else {
        format!("{how}, or add the directory that holds `{command}` to PATH")
    }
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

pub(crate) fn request_error(
    action: &'static str,
    object: impl Into<String>,
    err: kube::Error,
) -> KubeError {
    KubeError::Request {
        action,
        object: object.into(),
        source: err.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_missing_plugin_is_named_with_a_way_to_get_it() {
        let err = KubeError::ExecNotFound {
            context: "dev".to_owned(),
            command: "kubectl-eks_token".to_owned(),
            install_hint: None,
        };
        assert_eq!(
            err.to_string(),
            "the credential plugin `kubectl-eks_token` of context `dev` was not found on PATH"
        );
        assert_eq!(
            err.hint().unwrap(),
            "install it with `kubectl krew install kubectl-eks/eks-token`, or add the directory that holds `kubectl-eks_token` to PATH"
        );
        let err = KubeError::ExecNotFound {
            context: "dev".to_owned(),
            command: "/opt/bin/aws".to_owned(),
            install_hint: Some("see the wiki".to_owned()),
        };
        assert_eq!(
            err.to_string(),
            "the credential plugin `/opt/bin/aws` of context `dev` was not found"
        );
        assert_eq!(
            err.hint().unwrap(),
            "see the wiki, or correct the path `/opt/bin/aws` in the kubeconfig's exec stanza"
        );
    }
}
