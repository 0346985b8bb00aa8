//! The `ExecCredential` object a kubeconfig `exec` credential plugin prints.
//!
//! client-go passes the ExecCredential it expects in `KUBERNETES_EXEC_INFO` (JSON with `kind`,
//! `apiVersion`, `spec`) and wants the same `apiVersion` back
//! (Kubernetes docs, "client-go credential plugins"). kubectl 1.24 and later only speak
//! `client.authentication.k8s.io/v1beta1` and `/v1`.

use serde::Serialize;

use super::{Token, rfc3339};

/// The ExecCredential API versions client-go speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExecApiVersion {
    #[default]
    V1Beta1,
    V1,
}

impl ExecApiVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            ExecApiVersion::V1Beta1 => "client.authentication.k8s.io/v1beta1",
            ExecApiVersion::V1 => "client.authentication.k8s.io/v1",
        }
    }
}

impl std::fmt::Display for ExecApiVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The API version to answer with, given the value of `KUBERNETES_EXEC_INFO` (`None` when unset).
///
/// Unset or empty: v1beta1, silently (aws-iam-authenticator does the same, and older clients do
/// not set it). Set but not JSON, or naming another version: v1beta1 and a warning for stderr.
/// The warning never repeats the variable's content beyond the `apiVersion` it names.
pub fn exec_api_version(exec_info: Option<&str>) -> (ExecApiVersion, Option<String>) {
    let fallback = ExecApiVersion::V1Beta1;
    let Some(text) = exec_info.filter(|s| !s.trim().is_empty()) else {
        return (fallback, None);
    };
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(err) => {
            return (
                fallback,
                Some(format!(
                    "KUBERNETES_EXEC_INFO is not valid JSON ({err}); answering with {fallback}"
                )),
            );
        }
    };
    match value.get("apiVersion").and_then(|v| v.as_str()) {
        Some(v) if v == ExecApiVersion::V1Beta1.as_str() => (ExecApiVersion::V1Beta1, None),
        Some(v) if v == ExecApiVersion::V1.as_str() => (ExecApiVersion::V1, None),
        Some(other) => (
            fallback,
            Some(format!(
                "KUBERNETES_EXEC_INFO asks for apiVersion `{other}`, which is not supported; \
                 answering with {fallback}"
            )),
        ),
        None => (
            fallback,
            Some(format!(
                "KUBERNETES_EXEC_INFO has no string `apiVersion`; answering with {fallback}"
            )),
        ),
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExecCredential<'a> {
    kind: &'static str,
    api_version: &'static str,
    spec: Spec,
    status: Status<'a>,
}

#[derive(Serialize)]
struct Spec {}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Status<'a> {
    expiration_timestamp: String,
    token: &'a str,
}

/// The ExecCredential for `token` on one line, no trailing newline:
/// `{"kind":"ExecCredential","apiVersion":"...","spec":{},"status":{"expirationTimestamp":"2023-04-28T00:14:00Z","token":"k8s-aws-v1...."}}`.
/// The expiration is RFC 3339 in UTC with whole seconds.
pub fn exec_credential_json(version: ExecApiVersion, token: &Token) -> String {
    let credential = ExecCredential {
        kind: "ExecCredential",
        api_version: version.as_str(),
        spec: Spec {},
        status: Status {
            expiration_timestamp: rfc3339(token.expiration),
            token: &token.token,
        },
    };
    serde_json::to_string(&credential).expect("an ExecCredential always serialises")
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    use super::*;

    #[test]
    fn exec_info_versions() {
        let v1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
        let v1beta1 = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":true}}"#;
        assert_eq!(exec_api_version(Some(v1)), (ExecApiVersion::V1, None));
        assert_eq!(
            exec_api_version(Some(v1beta1)),
            (ExecApiVersion::V1Beta1, None)
        );
        assert_eq!(exec_api_version(None), (ExecApiVersion::V1Beta1, None));
        assert_eq!(exec_api_version(Some("")), (ExecApiVersion::V1Beta1, None));
    }

    #[test]
    fn exec_info_malformed_or_unknown_falls_back_with_a_warning() {
        let cases = [
            (
                "{not json",
                "KUBERNETES_EXEC_INFO is not valid JSON (key must be a string at line 1 column 2); answering with client.authentication.k8s.io/v1beta1",
            ),
            (
                r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}"#,
                "KUBERNETES_EXEC_INFO asks for apiVersion `client.authentication.k8s.io/v1alpha1`, which is not supported; answering with client.authentication.k8s.io/v1beta1",
            ),
            (
                r#"{"kind":"ExecCredential"}"#,
                "KUBERNETES_EXEC_INFO has no string `apiVersion`; answering with client.authentication.k8s.io/v1beta1",
            ),
            (
                r#"["client.authentication.k8s.io/v1"]"#,
                "KUBERNETES_EXEC_INFO has no string `apiVersion`; answering with client.authentication.k8s.io/v1beta1",
            ),
        ];
        for (input, warning) in cases {
            let (version, got) = exec_api_version(Some(input));
            assert_eq!(version, ExecApiVersion::V1Beta1, "{input}");
            assert_eq!(got.as_deref(), Some(warning), "{input}");
        }
    }

    #[test]
    fn exec_credential_json_is_exact() {
        let token = Token {
            token: "k8s-aws-v1.aHR0cHM6Ly9zdHM".into(),
            // 2023-04-28T00:14:00.750Z: fractions are cut.
            expiration: SystemTime::UNIX_EPOCH + Duration::from_millis(1_682_640_840_750),
        };
        assert_eq!(
            exec_credential_json(ExecApiVersion::V1Beta1, &token),
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{},"status":{"expirationTimestamp":"2023-04-28T00:14:00Z","token":"k8s-aws-v1.aHR0cHM6Ly9zdHM"}}"#
        );
        assert_eq!(
            exec_credential_json(ExecApiVersion::V1, &token),
            r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{},"status":{"expirationTimestamp":"2023-04-28T00:14:00Z","token":"k8s-aws-v1.aHR0cHM6Ly9zdHM"}}"#
        );
    }

    #[test]
    fn exec_credential_for_the_golden_token() {
        let token = crate::token::presign(
            &crate::token::presign::golden::credentials(),
            "test-cluster",
            "us-west-2",
            crate::token::presign::golden::time(),
        )
        .unwrap();
        let json = exec_credential_json(ExecApiVersion::V1Beta1, &token);
        assert_eq!(
            json,
            format!(
                r#"{{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{{}},"status":{{"expirationTimestamp":"2023-04-28T00:14:00Z","token":"{}"}}}}"#,
                crate::token::presign::golden::TOKEN
            )
        );
    }
}
