//! Pure: one EKS write of the access-entry commands ([`Call`]), as the `aws` CLI line that makes
//! it (what `--dry-run` prints), and what a list of entries becomes after calls ([`apply_calls`]:
//! for the lockout guard and the report).

use std::fmt;

use eks_auth::access::{AccessEntry, AccessScope, PolicyAssociation};
use eks_auth::arn::Arn;

/// One EKS write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Call {
    Create {
        principal: String,
        username: Option<String>,
        groups: Vec<String>,
    },
    Update {
        principal: String,
        username: Option<String>,
        groups: Vec<String>,
    },
    Associate {
        principal: String,
        policy_arn: String,
        scope: AccessScope,
    },
    Disassociate {
        principal: String,
        policy_arn: String,
    },
    Delete {
        principal: String,
    },
}

fn shell_word(s: &str) -> String {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+".contains(&b))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

impl Call {
    /// The call as the `aws` CLI line that makes it (what `--dry-run` prints).
    pub fn to_cli(&self, cluster: &str) -> String {
        let c = shell_word(cluster);
        let groups = |g: &[String]| {
            if g.is_empty() {
                String::new()
            } else {
                format!(
                    " --kubernetes-groups {}",
                    g.iter()
                        .map(|g| shell_word(g))
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            }
        };
        let user = |u: &Option<String>| match u {
            Some(u) => format!(" --username {}", shell_word(u)),
            None => String::new(),
        };
        match self {
            Call::Create {
                principal,
                username,
                groups: g,
            } => format!(
                "aws eks create-access-entry --cluster-name {c} --principal-arn {}{}{}",
                shell_word(principal),
                user(username),
                groups(g)
            ),
            Call::Update {
                principal,
                username,
                groups: g,
            } => format!(
                "aws eks update-access-entry --cluster-name {c} --principal-arn {}{}{}",
                shell_word(principal),
                user(username),
                groups(g)
            ),
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => {
                let scope = match scope {
                    AccessScope::Cluster => "type=cluster".to_owned(),
                    AccessScope::Namespaces(ns) => {
                        format!("type=namespace,namespaces={}", ns.join(","))
                    }
                };
                format!(
                    "aws eks associate-access-policy --cluster-name {c} --principal-arn {} --policy-arn {} --access-scope {}",
                    shell_word(principal),
                    shell_word(policy_arn),
                    shell_word(&scope)
                )
            }
            Call::Disassociate {
                principal,
                policy_arn,
            } => format!(
                "aws eks disassociate-access-policy --cluster-name {c} --principal-arn {} --policy-arn {}",
                shell_word(principal),
                shell_word(policy_arn)
            ),
            Call::Delete { principal } => format!(
                "aws eks delete-access-entry --cluster-name {c} --principal-arn {}",
                shell_word(principal)
            ),
        }
    }
}

impl fmt::Display for Call {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Call::Create { principal, .. } => write!(f, "create access entry `{principal}`"),
            Call::Update { principal, .. } => write!(f, "update access entry `{principal}`"),
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => write!(
                f,
                "associate {} ({scope}) with `{principal}`",
                policy_arn.rsplit('/').next().unwrap_or(policy_arn)
            ),
            Call::Disassociate {
                principal,
                policy_arn,
            } => write!(
                f,
                "disassociate {} from `{principal}`",
                policy_arn.rsplit('/').next().unwrap_or(policy_arn)
            ),
            Call::Delete { principal } => write!(f, "delete access entry `{principal}`"),
        }
    }
}

/// `entries` after `calls` (what EKS will hold), for the lockout guard and the report.
pub fn apply_calls(entries: &[AccessEntry], calls: &[Call]) -> Vec<AccessEntry> {
    let mut out = entries.to_vec();
    let find = |out: &mut Vec<AccessEntry>, principal: &str| {
        out.iter()
            .position(|e| e.principal_arn.to_string() == principal)
    };
    for call in calls {
        match call {
            Call::Create {
                principal,
                username,
                groups,
            } => {
                if let Ok(arn) = principal.parse::<Arn>() {
                    let mut e = AccessEntry::standard(arn);
                    if let Some(u) = username {
                        e.username = u.clone();
                    }
                    e.kubernetes_groups = groups.clone();
                    out.push(e);
                }
            }
            Call::Update {
                principal,
                username,
                groups,
            } => {
                if let Some(i) = find(&mut out, principal) {
                    if let Some(u) = username {
                        out[i].username = u.clone();
                    }
                    out[i].kubernetes_groups = groups.clone();
                }
            }
            Call::Associate {
                principal,
                policy_arn,
                scope,
            } => {
                if let Some(i) = find(&mut out, principal) {
                    let policies = &mut out[i].policies;
                    match policies.iter_mut().find(|p| p.policy_arn == *policy_arn) {
                        Some(p) => p.scope = scope.clone(),
                        None => policies.push(PolicyAssociation {
                            policy_arn: policy_arn.clone(),
                            scope: scope.clone(),
                        }),
                    }
                }
            }
            Call::Disassociate {
                principal,
                policy_arn,
            } => {
                if let Some(i) = find(&mut out, principal) {
                    out[i].policies.retain(|p| p.policy_arn != *policy_arn);
                }
            }
            Call::Delete { principal } => {
                if let Some(i) = find(&mut out, principal) {
                    out.remove(i);
                }
            }
        }
    }
    out
}
