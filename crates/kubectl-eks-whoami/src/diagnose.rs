//! Pure: why the API server refused us, and what to do about it.
//!
//! On 401 EKS has either not accepted the token (STS refused it, or it was signed for another
//! cluster) or not found a mapping for the canonical ARN (aws-iam-authenticator `server.go`:
//! cluster creator / access entries, then `mapRoles`, `mapUsers`, `mapAccounts`). The causes are
//! listed in the order worth checking, each with how strongly the evidence points at it.
//!
//! The 401, 403 and missing-plugin diagnoses stay in one file because they share the cause type,
//! the credential classification and the shell quoting; their tests are in `diagnose/tests.rs`.

use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::mapping::Identity;

use crate::exec::{ExecSource, Origin};
use crate::report::{Cause, Diagnosis, DiagnosisKind, TokenFacts, Verdict};
use eks_auth::arn::ClusterArn;

/// What kind of credential trouble a plugin failure or an STS refusal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialProblem {
    None,
    /// The SSO session is over: `aws sso login` needed.
    SsoExpired,
    /// Temporary credentials (or the token) expired.
    Expired,
    /// No credentials at all.
    Missing,
    /// The named AWS profile is in neither shared file ("The config profile (X) could not be
    /// found", as the aws CLI and kubectl-eks_token say).
    ProfileNotFound,
    /// Something else went wrong.
    Other,
}

/// Sorts an error text (plugin stderr, STS error code and message) into a problem. The AWS
/// CLI says "Error when retrieving token from sso: Token has expired and refresh failed";
/// the Rust SDK "the SSO token has expired"; STS answers `ExpiredToken`; botocore says
/// "Unable to locate credentials".
pub fn classify(text: &str) -> CredentialProblem {
    let lower = text.to_lowercase();
    if lower.contains("config profile") && lower.contains("could not be found") {
        CredentialProblem::ProfileNotFound
    } else if lower.contains("sso") && (lower.contains("expired") || lower.contains("sso login")) {
        CredentialProblem::SsoExpired
    } else if lower.contains("expiredtoken")
        || lower.contains("token has expired")
        || lower.contains("token expired")
        || lower.contains("signature expired")
    {
        CredentialProblem::Expired
    } else if lower.contains("unable to locate credentials")
        || lower.contains("no aws credentials")
        || lower.contains("no credentials")
    {
        CredentialProblem::Missing
    } else if lower.trim().is_empty() {
        CredentialProblem::None
    } else {
        CredentialProblem::Other
    }
}

/// Everything known when the API server answered 401 (or no token could be made).
#[derive(Debug, Clone, Copy)]
pub struct Facts<'a> {
    pub exec: Option<&'a ExecSource>,
    pub cluster_arn: Option<&'a ClusterArn>,
    /// The identity STS confirmed for the token.
    pub identity: Option<&'a Identity>,
    pub token: Option<&'a TokenFacts>,
    /// Why no identity (plugin failure, STS refusal), if so.
    pub aws_error: Option<&'a str>,
    /// The API server did answer 401 (otherwise no token could be made).
    pub http_401: bool,
}

/// Quotes a word for a POSIX shell when it needs it.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The group and preset suggested for a first grant: read-only, cluster-wide.
pub const SUGGESTED_PRESET: &str = "cluster-reader";

/// `kubectl eks-grant add ARN --username U --group G --preset P`, ready to paste.
pub fn grant_command(canonical: &Arn) -> String {
    let group = eks_auth::rbac::default_group(SUGGESTED_PRESET);
    format!(
        "kubectl eks-grant add {} --username {} --group {} --preset {SUGGESTED_PRESET}",
        shell_word(&canonical.to_string()),
        shell_word(&canonical.default_username()),
        shell_word(&group),
    )
}

fn cause(id: &str, verdict: Verdict, title: &str, detail: String) -> Cause {
    Cause {
        id: id.to_owned(),
        verdict,
        title: title.to_owned(),
        detail,
    }
}

/// Diagnosis of a 401 (or of a token that could not be made).
pub fn unauthorized(f: &Facts<'_>) -> Diagnosis {
    let canonical = f.identity.map(Identity::canonical_arn);
    let sts_error = f.token.and_then(|t| t.sts_error.as_deref());
    let problem = classify(
        &[
            f.aws_error.unwrap_or_default(),
            sts_error.unwrap_or_default(),
        ]
        .join("\n"),
    );
    let token_expired = f
        .token
        .and_then(|t| t.verify_error.as_deref())
        .is_some_and(|e| e.contains("expired"));
    let confirmed = f.identity.is_some() && sts_error.is_none();
    let exec_cluster = f.exec.and_then(|e| e.cluster_name.as_deref());
    let real_cluster = f.cluster_arn.map(|c| c.name());

    let mut causes = Vec::new();

    // 1. not the cluster creator and not mapped
    causes.push(match (&canonical, confirmed) {
        (Some(c), true) => cause(
            "not-mapped",
            Verdict::Likely,
            "not the cluster creator and not mapped",
            format!(
                "STS confirmed the token as `{}`; EKS looks for `{c}` in aws-auth (mapRoles, \
                 mapUsers, mapAccounts) and its access entries, and nothing maps it; it is not \
                 the principal that created the cluster either",
                f.identity.map(|i| i.arn.to_string()).unwrap_or_default()
            ),
        ),
        _ => cause(
            "not-mapped",
            Verdict::Unknown,
            "not the cluster creator and not mapped",
            "the token's identity could not be confirmed with STS, so whether a mapping exists \
             cannot be told"
                .to_owned(),
        ),
    });

    // 2. a role ARN mapped with a path
    let configured_role: Option<Arn> = f
        .exec
        .and_then(|e| e.role_arn.as_deref())
        .and_then(|r| r.parse().ok());
    causes.push(match (&canonical, &configured_role) {
        (_, Some(role)) if role.has_path() => {
            let without = role.without_path();
            cause(
                "role-path",
                Verdict::Likely,
                "a role ARN mapped with a path",
                format!(
                    "you assume `{role}`, which has the path `{}`; EKS drops the path and \
                     matches `{without}`, so an aws-auth entry written as `{role}` never \
                     matches: it must name `{without}`",
                    role.path()
                ),
            )
        }
        (Some(c), _) if c.kind() == PrincipalKind::Role => cause(
            "role-path",
            Verdict::Possible,
            "a role ARN mapped with a path",
            format!(
                "EKS matches `{c}` without the role's path; if the role has a path and aws-auth \
                 names it with that path (`role/<path>/{}`), the entry never matches",
                c.name()
            ),
        ),
        (Some(c), _) => cause(
            "role-path",
            Verdict::RuledOut,
            "a role ARN mapped with a path",
            format!(
                "you sign as `{c}`, not as a role; user ARNs are matched with their path as STS \
                 reports it"
            ),
        ),
        (None, _) => cause(
            "role-path",
            Verdict::Unknown,
            "a role ARN mapped with a path",
            "the identity is unknown".to_owned(),
        ),
    });

    // 3. mapped in another account
    let identity_account = f.identity.map(|i| i.account.as_str());
    causes.push(match (identity_account, f.cluster_arn) {
        (Some(mine), Some(cluster)) if mine != cluster.account() => cause(
            "other-account",
            Verdict::Likely,
            "mapped in another account",
            format!(
                "you sign as account `{mine}`, the cluster lives in account `{}`; an entry for \
                 a principal of the same name in account `{}` is another principal and does \
                 not match `{}`",
                cluster.account(),
                cluster.account(),
                canonical
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            ),
        ),
        (Some(mine), Some(_)) => cause(
            "other-account",
            Verdict::RuledOut,
            "mapped in another account",
            format!("you sign as account `{mine}`, the cluster's account"),
        ),
        (Some(mine), None) => cause(
            "other-account",
            Verdict::Possible,
            "mapped in another account",
            format!(
                "you sign as account `{mine}`; the cluster's account is not known from the \
                 kubeconfig, so check that the mapping names account `{mine}`"
            ),
        ),
        (None, _) => cause(
            "other-account",
            Verdict::Unknown,
            "mapped in another account",
            "the identity is unknown".to_owned(),
        ),
    });

    // 4. credentials of another profile than intended
    let profile = f.exec.and_then(|e| e.profile.as_ref());
    let who = f
        .identity
        .map(|i| format!(", which resolved to `{}`", i.arn))
        .unwrap_or_default();
    causes.push(match profile {
        Some(p) if problem == CredentialProblem::ProfileNotFound => cause(
            "other-profile",
            Verdict::Likely,
            "the profile does not exist",
            format!(
                "profile `{}` ({}) is in neither ~/.aws/config nor ~/.aws/credentials, so no \
                 token could be made with it: create it (`aws configure --profile {0}`, or \
                 `aws configure sso --profile {0}`), or name an existing one",
                p.value, p.origin
            ),
        ),
        Some(p) if matches!(p.origin, Origin::Ambient(_)) => cause(
            "other-profile",
            Verdict::Possible,
            "credentials of another profile than intended",
            format!(
                "the kubeconfig names no profile, so the plugin used profile `{}` from {}{who}; \
                 if the mapped identity is another profile's, pin it with `--profile` in the \
                 exec args or `AWS_PROFILE` in the exec env",
                p.value, p.origin
            ),
        ),
        Some(p) => cause(
            "other-profile",
            Verdict::Possible,
            "credentials of another profile than intended",
            format!(
                "the kubeconfig pins profile `{}` ({}){who}; check that this profile is the \
                 one that was granted access",
                p.value, p.origin
            ),
        ),
        None => cause(
            "other-profile",
            Verdict::Possible,
            "credentials of another profile than intended",
            format!(
                "neither the kubeconfig nor your environment names a profile, so the plugin \
                 used the default credentials (environment keys, the `default` profile, or an \
                 instance role){who}"
            ),
        ),
    });

    // 5. expired SSO session (or other expired credentials)
    causes.push(if problem == CredentialProblem::SsoExpired {
        let login = match profile {
            Some(p) => format!("aws sso login --profile {}", shell_word(&p.value)),
            None => "aws sso login".to_owned(),
        };
        cause(
            "expired-credentials",
            Verdict::Likely,
            "expired SSO session",
            format!("the AWS SSO session has expired: run `{login}`"),
        )
    } else if problem == CredentialProblem::Expired || token_expired {
        cause(
            "expired-credentials",
            Verdict::Likely,
            "expired SSO session",
            format!(
                "the credentials or the token have expired ({}); refresh them (`aws sso login`, \
                 a new role session) and retry",
                sts_error
                    .or(f.aws_error)
                    .or(f.token.and_then(|t| t.verify_error.as_deref()))
                    .unwrap_or("expired")
            ),
        )
    } else if confirmed {
        cause(
            "expired-credentials",
            Verdict::RuledOut,
            "expired SSO session",
            "STS accepted the token just now, so the credentials behind it are valid".to_owned(),
        )
    } else {
        cause(
            "expired-credentials",
            Verdict::Unknown,
            "expired SSO session",
            "the credentials could not be checked with STS".to_owned(),
        )
    });

    // 6. signed for another cluster (only when the kubeconfig shows it)
    if let (Some(signed), Some(real)) = (exec_cluster, real_cluster)
        && signed != real
    {
        causes.push(cause(
            "other-cluster",
            Verdict::Likely,
            "token signed for another cluster",
            format!(
                "the exec plugin signs for cluster `{signed}`, but this context's cluster is \
                 `{real}`; EKS only accepts tokens signed for its own name: fix the cluster \
                 name in the exec args"
            ),
        ));
    }

    let summary = match (&canonical, f.http_401) {
        (Some(c), true) if confirmed => format!(
            "The API server refused the token (401 Unauthorized): EKS found no mapping for `{c}`."
        ),
        (_, true) => format!(
            "The API server refused the token (401 Unauthorized), and STS did not confirm it: {}.",
            sts_error.or(f.aws_error).unwrap_or("no identity")
        ),
        (_, false) => format!(
            "No token could be made for the cluster: {}.",
            f.aws_error.unwrap_or("the exec plugin failed")
        ),
    };
    Diagnosis {
        kind: if f.http_401 {
            DiagnosisKind::Unauthorized
        } else {
            DiagnosisKind::NoCredentials
        },
        http_status: f.http_401.then_some(401),
        summary,
        causes,
        missing: Vec::new(),
        grant_command: canonical.filter(|_| confirmed).map(|c| grant_command(&c)),
        access_policies: Vec::new(),
    }
}

/// The context's exec plugin is not installed: name it and say how to get it. kubectl fails the
/// same way with this context, so nothing about mappings or profiles is worth listing.
pub fn plugin_missing(command: &str, install_hint: Option<&str>) -> Diagnosis {
    let where_ = if command.contains('/') {
        "does not exist"
    } else {
        "is not on PATH"
    };
    Diagnosis {
        kind: DiagnosisKind::PluginMissing,
        http_status: None,
        summary: format!(
            "The context's credential plugin `{command}` {where_}: kubectl cannot authenticate \
             with this context until it is installed."
        ),
        causes: vec![cause(
            "plugin-missing",
            Verdict::Likely,
            "the credential plugin is not installed",
            eks_auth::kube::exec_not_found_hint(command, install_hint),
        )],
        missing: Vec::new(),
        access_policies: Vec::new(),
        grant_command: None,
    }
}

/// A request the API server refused with 403.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub name: Option<String>,
    /// `None`: cluster scope, or all namespaces when `all_namespaces`.
    pub namespace: Option<String>,
    pub all_namespaces: bool,
}

impl Refusal {
    pub fn describe(&self) -> String {
        let resource = crate::permissions::row_name(&self.group, &self.resource);
        let mut out = format!("{} {resource}", self.verb);
        if let Some(name) = &self.name {
            out.push_str(&format!(" `{name}`"));
        }
        match &self.namespace {
            Some(ns) => out.push_str(&format!(" in namespace `{ns}`")),
            None if self.all_namespaces => out.push_str(" in all namespaces"),
            None => out.push_str(" at cluster scope"),
        }
        out
    }
}

/// Diagnosis of 403s: who you are and what is missing.
pub fn forbidden(
    username: &str,
    groups: &[String],
    canonical: Option<&Arn>,
    refusals: &[Refusal],
) -> Diagnosis {
    let groups = if groups.is_empty() {
        "no groups".to_owned()
    } else {
        format!(
            "groups {}",
            groups
                .iter()
                .map(|g| format!("`{g}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let arn = canonical
        .map(|c| format!(" (IAM `{c}`)"))
        .unwrap_or_default();
    Diagnosis {
        kind: DiagnosisKind::Forbidden,
        http_status: Some(403),
        summary: format!(
            "You are `{username}`{arn} in {groups}; RBAC refused {} of the requests whoami made \
             (403 Forbidden). An admin can bind a role that allows them to one of your groups.",
            refusals.len()
        ),
        causes: Vec::new(),
        missing: refusals.iter().map(Refusal::describe).collect(),
        grant_command: None,
        access_policies: Vec::new(),
    }
}

#[cfg(test)]
mod tests;
