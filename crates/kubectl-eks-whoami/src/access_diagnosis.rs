//! Pure: a 401 on a cluster whose authentication mode uses access entries (API,
//! API_AND_CONFIG_MAP). The aws-auth diagnosis of [`crate::diagnose`] is rewritten where access
//! entries change the answer:
//!
//! - no access entry names the principal (in API mode aws-auth does not count at all);
//! - an entry names it but EKS does not match it: EKS matches the IAM unique id it stored when
//!   the entry was made (EKS API reference, `AccessEntry.principalArn`), so a role recreated
//!   since, or an entry that names the role with another path, lets nobody in;
//! - the fix, as the exact `kubectl eks-grant add` line (eks-grant writes an access entry in
//!   these modes), with the role's path when the kubeconfig knows it: unlike aws-auth, an access
//!   entry names a role with its path.

use eks_auth::access::{AccessEntry, AccessScope, AuthenticationMode, PolicyAssociation};
use eks_auth::arn::Arn;
use eks_auth::mapping::Identity;
use eks_auth::rbac::ResourceAttributes;

use crate::access_view::{EntryLookup, ModeLookup};
use crate::diagnose::{Refusal, SUGGESTED_PRESET, shell_word};
use crate::exec::ExecSource;
use crate::report::{Cause, Diagnosis, MissingPolicy, Overridden, Verdict};

/// What the access-entry side knows about a refused caller.
#[derive(Debug, Clone, Copy)]
pub struct AccessDiagFacts<'a> {
    pub mode: &'a ModeLookup,
    pub entry: &'a EntryLookup,
    pub identity: Option<&'a Identity>,
    pub exec: Option<&'a ExecSource>,
    /// aws-auth entries that match but do not count (from the mapping section).
    pub overrides: &'a [Overridden],
}

/// The access policy suggested for a first grant: the one like the `cluster-reader` preset.
pub fn suggested_policy() -> &'static str {
    eks_auth::access::policies::for_preset(SUGGESTED_PRESET)
        .map(|p| p.name.as_str())
        .unwrap_or("AmazonEKSAdminViewPolicy")
}

/// The principal an access entry should name: the role from the kubeconfig's exec stanza (it
/// carries the path) when it is the caller's role, else the canonical ARN.
pub fn entry_principal(identity: &Identity, exec: Option<&ExecSource>) -> Arn {
    let canonical = identity.canonical_arn();
    exec.and_then(|e| e.role_arn.as_deref())
        .and_then(|r| r.parse::<Arn>().ok())
        .filter(|r| eks_auth::access::same_principal(r, &identity.arn))
        .unwrap_or(canonical)
}

/// `kubectl eks-grant add ARN --policy AmazonEKSAdminViewPolicy`, ready to paste.
pub fn grant_command(principal: &Arn) -> String {
    format!(
        "kubectl eks-grant add {} --policy {}",
        shell_word(&principal.to_string()),
        suggested_policy()
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

/// Rewrites the 401 diagnosis for a mode with access entries; leaves it as it is in
/// `CONFIG_MAP` or when the mode is unknown.
pub fn refine_unauthorized(d: &mut Diagnosis, f: &AccessDiagFacts<'_>) {
    let ModeLookup::Known(mode) = f.mode else {
        return;
    };
    if *mode == AuthenticationMode::ConfigMap {
        return;
    }
    let Some(identity) = f.identity else {
        return;
    };
    // In API_AND_CONFIG_MAP an aws-auth entry would have let the caller in: the diagnosis
    // concerns both stores; in API only the access entry.
    let principal = entry_principal(identity, f.exec);
    let ignored: Vec<String> = f
        .overrides
        .iter()
        .filter_map(|o| {
            o.entry
                .position
                .map(|p| format!("{} entry {p}", o.entry.key))
        })
        .collect();
    let ignored_text = if ignored.is_empty() || *mode != AuthenticationMode::Api {
        String::new()
    } else {
        format!(
            "; aws-auth names you ({}), but API mode ignores aws-auth",
            ignored.join(", ")
        )
    };
    let first = match f.entry {
        EntryLookup::NotFound => cause(
            "no-access-entry",
            Verdict::Likely,
            "no access entry for this identity",
            format!(
                "the cluster is in {} mode; EKS found no access entry for `{principal}`{}{ignored_text}",
                mode.as_str(),
                if *mode == AuthenticationMode::Api {
                    " and lets in only principals that have one"
                } else {
                    " and no aws-auth entry maps it either"
                }
            ),
        ),
        EntryLookup::Found(entry) => stale_entry(entry, identity, f.exec),
        EntryLookup::Forbidden { action, message } => cause(
            "no-access-entry",
            Verdict::Possible,
            "no access entry for this identity",
            format!(
                "the cluster is in {} mode, and your access entry could not be read to check \
                 ({message}); `{action}` on the cluster would tell",
                mode.as_str()
            ),
        ),
        EntryLookup::Failed(msg) => cause(
            "no-access-entry",
            Verdict::Unknown,
            "no access entry for this identity",
            format!("your access entry could not be read: {msg}"),
        ),
        EntryLookup::NotAsked => return,
    };
    d.summary = match (f.entry, mode) {
        (EntryLookup::Found(_), _) => format!(
            "The API server refused the token (401 Unauthorized): an access entry names \
             `{}`, but EKS does not match it to you.",
            identity.canonical_arn()
        ),
        (_, AuthenticationMode::Api) => format!(
            "The API server refused the token (401 Unauthorized): the cluster is in API mode, \
             which lets in only principals with an access entry, and none was found for `{}`.",
            principal
        ),
        _ => format!(
            "The API server refused the token (401 Unauthorized): the cluster is in \
             API_AND_CONFIG_MAP mode, and neither an access entry nor aws-auth maps `{}`.",
            principal
        ),
    };
    match d.causes.iter().position(|c| c.id == "not-mapped") {
        Some(i) => d.causes[i] = first,
        None => d.causes.insert(0, first),
    }
    // aws-auth's path rule does not hold for access entries: they keep a role's path.
    if *mode == AuthenticationMode::Api
        && let Some(c) = d.causes.iter_mut().find(|c| c.id == "role-path")
    {
        c.verdict = Verdict::RuledOut;
        c.detail = "API mode does not read aws-auth; an access entry names a role with its path"
            .to_owned();
    }
    d.grant_command = Some(grant_command(&principal));
}

/// The presets whose policies are tried for a 403, least first (`policies.json` links each
/// policy to the eks-grant preset it resembles).
const POLICY_LADDER: &[&str] = &["view", "cluster-reader", "edit", "admin", "cluster-admin"];

/// The scope a refused request needs: its namespace, or the cluster for a cluster-scoped or
/// all-namespaces request.
fn scope_for(r: &Refusal) -> AccessScope {
    match (&r.namespace, r.all_namespaces) {
        (Some(ns), false) => AccessScope::Namespaces(vec![ns.clone()]),
        _ => AccessScope::Cluster,
    }
}

/// The least access policy of the ladder that allows `r` at its scope.
fn policy_for(r: &Refusal) -> Option<(&'static str, AccessScope)> {
    let scope = scope_for(r);
    let attrs = ResourceAttributes {
        name: r.name.clone().unwrap_or_default(),
        ..ResourceAttributes::new(&r.verb, &r.group, &r.resource).in_namespace(match &scope {
            AccessScope::Namespaces(ns) => ns[0].as_str(),
            AccessScope::Cluster => "",
        })
    };
    POLICY_LADDER.iter().find_map(|preset| {
        let policy = eks_auth::access::policies::for_preset(preset)?;
        let association = PolicyAssociation {
            policy_arn: policy.arn("aws"),
            scope: scope.clone(),
        };
        eks_auth::access::authorize(std::slice::from_ref(&association), &attrs)
            .map(|_| (policy.name.as_str(), scope.clone()))
    })
}

/// A 403 of a caller let in by an access entry: which access policy, at which scope, would allow
/// each refused request, and the `kubectl eks-grant add` line for the least policy that allows
/// them all (eks-grant associates it with the existing entry).
pub fn refine_forbidden(d: &mut Diagnosis, refusals: &[Refusal], principal: &Arn) {
    for r in refusals {
        if let Some((policy, scope)) = policy_for(r) {
            d.access_policies.push(MissingPolicy {
                request: r.describe(),
                policy: policy.to_owned(),
                scope: scope.type_str().to_owned(),
                namespaces: match scope {
                    AccessScope::Namespaces(ns) => ns,
                    AccessScope::Cluster => Vec::new(),
                },
            });
        }
    }
    if d.access_policies.is_empty() {
        return;
    }
    d.summary
        .push_str(" Or associate an access policy with your access entry: see `access_policies`.");
    // One policy for all: the highest rung any request needed, at cluster scope when any needs it.
    let rung = |name: &str| {
        POLICY_LADDER
            .iter()
            .position(|p| eks_auth::access::policies::for_preset(p).is_some_and(|x| x.name == name))
            .unwrap_or(0)
    };
    let Some(top) = d.access_policies.iter().max_by_key(|m| rung(&m.policy)) else {
        return;
    };
    let mut line = format!(
        "kubectl eks-grant add {} --policy {}",
        shell_word(&principal.to_string()),
        top.policy
    );
    if d.access_policies.iter().all(|m| m.scope == "namespace") {
        let mut namespaces: Vec<&String> = d
            .access_policies
            .iter()
            .flat_map(|m| &m.namespaces)
            .collect();
        namespaces.sort();
        namespaces.dedup();
        for ns in namespaces {
            line.push_str(&format!(" --namespace {}", shell_word(ns)));
        }
    }
    d.grant_command = Some(line);
}

/// An entry names the caller's principal and still the token is refused.
fn stale_entry(entry: &AccessEntry, identity: &Identity, exec: Option<&ExecSource>) -> Cause {
    let configured: Option<Arn> = exec
        .and_then(|e| e.role_arn.as_deref())
        .and_then(|r| r.parse().ok());
    let entry_arn = entry.principal_arn.to_string();
    match configured {
        Some(role) if !role.to_string().eq_ignore_ascii_case(&entry_arn) => cause(
            "entry-path",
            Verdict::Likely,
            "the access entry names the role with another path",
            format!(
                "your access entry names `{entry_arn}`, but you assume `{role}`: EKS matched the \
                 entry to the principal its ARN named when it was made, which is not your role; \
                 the entry must name `{role}`"
            ),
        ),
        _ => cause(
            "recreated-principal",
            Verdict::Likely,
            "the principal was recreated after its access entry was made",
            format!(
                "an access entry names `{entry_arn}`, but EKS matches the IAM unique id it \
                 stored when the entry was made, and `{}` (id `{}`) is not that principal: \
                 delete the entry (`kubectl eks-grant revoke {}`) and create it again",
                identity.canonical_arn(),
                eks_auth::access::principal_id(&identity.user_id),
                shell_word(&entry_arn)
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{DiagnosisKind, EntryView, OverrideReason};

    const ACCOUNT: &str = "111122223333";

    fn diagnosis() -> Diagnosis {
        let c = |id: &str| Cause {
            id: id.to_owned(),
            verdict: Verdict::Likely,
            title: id.to_owned(),
            detail: String::new(),
        };
        Diagnosis {
            kind: DiagnosisKind::Unauthorized,
            http_status: Some(401),
            summary: "refused".to_owned(),
            causes: vec![c("not-mapped"), c("role-path"), c("other-account")],
            missing: vec![],
            grant_command: Some("kubectl eks-grant add x --preset cluster-reader".to_owned()),
            access_policies: vec![],
        }
    }

    fn user(name: &str) -> Identity {
        Identity {
            arn: format!("arn:aws:iam::{ACCOUNT}:user/{name}")
                .parse()
                .unwrap(),
            account: ACCOUNT.to_owned(),
            user_id: "AIDANEW".to_owned(),
            access_key_id: "AKIAEXAMPLE".to_owned(),
        }
    }

    #[test]
    fn api_mode_without_entry_names_the_grant_line() {
        let id = user("mallory");
        let overrides = [Overridden {
            entry: EntryView {
                key: "mapUsers".to_owned(),
                position: Some(1),
                arn: Some(id.arn.to_string()),
                username: Some("mallory".to_owned()),
                groups: vec![],
            },
            reason: OverrideReason::IgnoredByMode,
        }];
        let mut d = diagnosis();
        refine_unauthorized(
            &mut d,
            &AccessDiagFacts {
                mode: &ModeLookup::Known(AuthenticationMode::Api),
                entry: &EntryLookup::NotFound,
                identity: Some(&id),
                exec: None,
                overrides: &overrides,
            },
        );
        assert_eq!(d.causes[0].id, "no-access-entry");
        assert_eq!(d.causes[0].verdict, Verdict::Likely);
        assert_eq!(
            d.causes[0].detail,
            format!(
                "the cluster is in API mode; EKS found no access entry for `{}` and lets in only \
                 principals that have one; aws-auth names you (mapUsers entry 1), but API mode \
                 ignores aws-auth",
                id.arn
            )
        );
        assert_eq!(d.causes[1].verdict, Verdict::RuledOut);
        assert_eq!(
            d.grant_command.as_deref(),
            Some(
                format!(
                    "kubectl eks-grant add {} --policy AmazonEKSAdminViewPolicy",
                    id.arn
                )
                .as_str()
            )
        );
    }

    #[test]
    fn an_entry_that_does_not_match_is_a_recreated_principal() {
        let id = user("bob");
        let entry = AccessEntry::standard(id.arn.clone());
        let mut d = diagnosis();
        refine_unauthorized(
            &mut d,
            &AccessDiagFacts {
                mode: &ModeLookup::Known(AuthenticationMode::Api),
                entry: &EntryLookup::Found(entry),
                identity: Some(&id),
                exec: None,
                overrides: &[],
            },
        );
        assert_eq!(d.causes[0].id, "recreated-principal");
        assert!(
            d.causes[0]
                .detail
                .contains("kubectl eks-grant revoke arn:aws:iam::111122223333:user/bob"),
            "{}",
            d.causes[0].detail
        );
    }

    #[test]
    fn a_403_names_the_least_policy_and_its_scope() {
        let refusal =
            |verb: &str, group: &str, resource: &str, ns: Option<&str>, all: bool| Refusal {
                verb: verb.into(),
                group: group.into(),
                resource: resource.into(),
                name: None,
                namespace: ns.map(str::to_owned),
                all_namespaces: all,
            };
        let rbac = "rbac.authorization.k8s.io";
        let mut d = diagnosis();
        let id = user("viewer");
        refine_forbidden(
            &mut d,
            &[
                refusal("list", rbac, "clusterrolebindings", None, false),
                refusal("create", "", "configmaps", Some("dev"), false),
            ],
            &id.arn,
        );
        let got: Vec<(&str, &str, &str)> = d
            .access_policies
            .iter()
            .map(|m| (m.request.as_str(), m.policy.as_str(), m.scope.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (
                    "list clusterrolebindings.rbac.authorization.k8s.io at cluster scope",
                    "AmazonEKSAdminViewPolicy",
                    "cluster"
                ),
                (
                    "create configmaps in namespace `dev`",
                    "AmazonEKSEditPolicy",
                    "namespace"
                ),
            ]
        );
        assert_eq!(d.access_policies[1].namespaces, ["dev"]);
        assert_eq!(
            d.grant_command.as_deref(),
            Some(
                "kubectl eks-grant add arn:aws:iam::111122223333:user/viewer --policy AmazonEKSEditPolicy"
            )
        );
    }

    #[test]
    fn config_map_mode_keeps_the_aws_auth_diagnosis() {
        let id = user("bob");
        let mut d = diagnosis();
        refine_unauthorized(
            &mut d,
            &AccessDiagFacts {
                mode: &ModeLookup::Known(AuthenticationMode::ConfigMap),
                entry: &EntryLookup::NotAsked,
                identity: Some(&id),
                exec: None,
                overrides: &[],
            },
        );
        assert_eq!(d.causes[0].id, "not-mapped");
        assert_eq!(
            d.grant_command.as_deref(),
            Some("kubectl eks-grant add x --preset cluster-reader")
        );
    }
}
