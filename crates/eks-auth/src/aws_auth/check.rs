//! Validation of aws-auth entries and the lockout guard.

use std::fmt;

use super::{AwsAuth, DataKey};

// The reserved-name rules are `crate::names`, one rule set for these checks and eks-grant.
use crate::names::{reserved_group, reserved_prefix, reserved_username};

pub const MASTERS: &str = "system:masters";
pub const NODES: &str = "system:nodes";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueKind {
    /// `Validate()` fails: the authenticator drops this entry (and logs an error).
    Dropped { reason: String },
    /// A role ARN with a path never matches: identities are canonicalised to
    /// `arn:P:iam::ACCOUNT:role/NAME`, without the path.
    RoleArnWithPath { without_path: String },
    /// The ARN can never be presented by STS as a canonical identity (assumed-role or
    /// federated-user ARN, other service, not an ARN).
    NeverMatches { reason: String },
    /// A user ARN under `mapRoles` or a role ARN under `mapUsers`: it still matches (the lookup
    /// is by ARN), but it is in the wrong list.
    WrongList,
    /// The username starts with a prefix EKS reserves.
    ReservedUsername { prefix: &'static str },
    /// A `system:` group other than the ones aws-auth is meant to hand out.
    ReservedGroup { group: String },
    /// An earlier entry for the same ARN: the authenticator keeps only the last one.
    Shadowed { effective: usize },
    /// `mapUsers` entries whose ARNs differ only in letter case: the authenticator keeps both
    /// and which one answers is undefined.
    Ambiguous { other: usize },
    /// An `sso` entry with an explicit `partition` never matches (the authenticator builds its
    /// pattern with an empty partition then).
    SsoPartitionNeverMatches,
    /// `sso` entries only match with the authenticator's `SSORoleMatch` feature gate (alpha,
    /// off by default).
    SsoNeedsFeatureGate,
    /// A `mapAccounts` item that is not a 12-digit account id never matches.
    BadAccount,
    /// A `mapUsers` entry for an ARN a usable `mapRoles` entry also matches: the authenticator
    /// looks in `mapRoles` first.
    ShadowedByRole { role: usize },
    /// A field the authenticator's decoder skipped for its type (the entry is kept, the field
    /// empty).
    FieldSkipped { message: String },
    /// The whole value: why it cannot be edited, and unless `readable`, why the authenticator
    /// reads no mappings from it. `index` is `usize::MAX` for these.
    Value { message: String },
}

impl IssueKind {
    /// Whether this finding means the entry can never be the one the authenticator answers with.
    pub fn is_dead(&self) -> bool {
        matches!(
            self,
            IssueKind::Dropped { .. }
                | IssueKind::RoleArnWithPath { .. }
                | IssueKind::NeverMatches { .. }
                | IssueKind::Shadowed { .. }
                | IssueKind::ShadowedByRole { .. }
                | IssueKind::SsoPartitionNeverMatches
                | IssueKind::SsoNeedsFeatureGate
        )
    }
}

/// A finding about one entry. `index` is the entry's position in its list, `line` its 1-based
/// line in the value of `key`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub key: DataKey,
    pub index: usize,
    pub line: usize,
    pub kind: IssueKind,
}

impl fmt::Display for Issue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let IssueKind::Value { message } = &self.kind {
            return write!(f, "{message}");
        }
        write!(
            f,
            "`{}` entry {} (line {}): ",
            self.key,
            self.index + 1,
            self.line
        )?;
        match &self.kind {
            IssueKind::Dropped { reason } => write!(f, "ignored by the authenticator: {reason}"),
            IssueKind::RoleArnWithPath { without_path } => write!(
                f,
                "a role ARN with a path never matches; the authenticator matches `{without_path}`"
            ),
            IssueKind::NeverMatches { reason } => write!(f, "never matches: {reason}"),
            IssueKind::WrongList => {
                write!(f, "the ARN belongs in the other list (it matches anyway)")
            }
            IssueKind::ReservedUsername { prefix } => {
                write!(
                    f,
                    "the username starts with `{prefix}`, a prefix EKS reserves"
                )
            }
            IssueKind::ReservedGroup { group } => match reserved_prefix(group) {
                Some(prefix) if prefix != "system:" => write!(
                    f,
                    "the group `{group}` starts with `{prefix}`, a prefix EKS reserves"
                ),
                _ => write!(f, "the group `{group}` is reserved by Kubernetes"),
            },
            IssueKind::Shadowed { effective } => write!(
                f,
                "shadowed by entry {} for the same ARN (the authenticator keeps the last one)",
                effective + 1
            ),
            IssueKind::Ambiguous { other } => write!(
                f,
                "entry {} has the same ARN in other letter case; which one applies is undefined",
                other + 1
            ),
            IssueKind::SsoPartitionNeverMatches => {
                write!(
                    f,
                    "an `sso` entry with `partition` set never matches (authenticator bug); drop `partition` for `aws`"
                )
            }
            IssueKind::SsoNeedsFeatureGate => write!(
                f,
                "`sso` entries match only when the authenticator's SSORoleMatch feature gate is on"
            ),
            IssueKind::BadAccount => write!(f, "not a 12-digit AWS account id"),
            IssueKind::ShadowedByRole { role } => write!(
                f,
                "never used: `mapRoles` entry {} matches the same ARN and is looked up first",
                role + 1
            ),
            IssueKind::FieldSkipped { message } => write!(
                f,
                "{message}; the authenticator skips the field and keeps the entry"
            ),
            IssueKind::Value { message } => write!(f, "{message}"),
        }
    }
}

/// The parts of an IAM/STS ARN that validation needs: (service, resource).
fn arn_parts(arn: &str) -> Option<(&str, &str)> {
    let mut it = arn.splitn(6, ':');
    let (prefix, _partition, service, _region, _account, resource) = (
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
        it.next()?,
    );
    (prefix == "arn").then_some((service, resource))
}

enum ArnClass {
    Role { path: bool },
    User,
    Root,
    Never(String),
}

fn classify(arn: &str) -> ArnClass {
    let Some((service, resource)) = arn_parts(arn) else {
        return ArnClass::Never(format!("`{arn}` is not an ARN"));
    };
    match (service, resource.split_once('/')) {
        ("iam", Some(("role", rest))) => ArnClass::Role { path: rest.contains('/') },
        ("iam", Some(("user", _))) => ArnClass::User,
        ("iam", None) if resource == "root" => ArnClass::Root,
        ("sts", Some(("assumed-role", _))) => ArnClass::Never(
            "an assumed-role ARN; the authenticator matches the role ARN `arn:P:iam::ACCOUNT:role/NAME`".to_owned(),
        ),
        // The authenticator canonicalises a federated user to its own ARN and matches it as it
        // is (pkg/arn Canonicalize; configmap Matches).
        ("sts", Some(("federated-user", _))) => ArnClass::User,
        _ => ArnClass::Never(format!("`{arn}` is not an IAM role or user ARN")),
    }
}

fn without_path(arn: &str) -> String {
    match arn.rfind('/') {
        Some(slash) => {
            let head = arn.find(":role/").map_or(0, |i| i + ":role/".len());
            format!("{}{}", &arn[..head], &arn[slash + 1..])
        }
        None => arn.to_owned(),
    }
}

fn username_issues(username: &str) -> Option<IssueKind> {
    reserved_username(username).map(|prefix| IssueKind::ReservedUsername { prefix })
}

fn group_issues(groups: &[String]) -> Vec<IssueKind> {
    groups
        .iter()
        .filter(|g| reserved_group(g).is_some())
        .map(|g| IssueKind::ReservedGroup { group: g.clone() })
        .collect()
}

impl AwsAuth {
    /// Why `mapRoles` entry `i` can never be the one the authenticator answers with, or `None`
    /// when some identity gets it (with the authenticator's defaults: `SSORoleMatch` off). The
    /// lint, `list` and the lockout guard all decide "this entry works" here.
    pub fn role_dead(&self, i: usize) -> Option<IssueKind> {
        let r = self.roles().get(i)?;
        if let Some(reason) = self.role_info(i).and_then(|e| e.dropped.clone()) {
            return Some(IssueKind::Dropped { reason });
        }
        if let Some(sso) = &r.sso {
            return Some(if sso.partition.is_empty() {
                IssueKind::SsoNeedsFeatureGate
            } else {
                IssueKind::SsoPartitionNeverMatches
            });
        }
        match classify(&r.rolearn) {
            ArnClass::Role { path: true } => {
                return Some(IssueKind::RoleArnWithPath {
                    without_path: without_path(&r.rolearn),
                });
            }
            ArnClass::Never(reason) => return Some(IssueKind::NeverMatches { reason }),
            ArnClass::Role { path: false } | ArnClass::User | ArnClass::Root => {}
        }
        match self.role_entries_for(&r.key()).last() {
            Some(&last) if last != i => Some(IssueKind::Shadowed { effective: last }),
            _ => None,
        }
    }

    /// Why `mapUsers` entry `i` can never be the one the authenticator answers with (see
    /// [`Self::role_dead`]).
    pub fn user_dead(&self, i: usize) -> Option<IssueKind> {
        let u = self.users().get(i)?;
        if let Some(reason) = self.user_info(i).and_then(|e| e.dropped.clone()) {
            return Some(IssueKind::Dropped { reason });
        }
        match classify(&u.userarn) {
            ArnClass::Role { path: true } => {
                return Some(IssueKind::RoleArnWithPath {
                    without_path: without_path(&u.userarn),
                });
            }
            ArnClass::Never(reason) => return Some(IssueKind::NeverMatches { reason }),
            _ => {}
        }
        // Users are keyed by their exact ARN text: a later exact duplicate replaces this one.
        let later_same = (i + 1..self.users().len()).rev().find(|&j| {
            self.user_info(j).is_none_or(|e| e.dropped.is_none())
                && self.users()[j].userarn == u.userarn
        });
        if let Some(effective) = later_same {
            return Some(IssueKind::Shadowed { effective });
        }
        // mapRoles is looked up first, by the same ARN.
        let role = (0..self.roles().len()).rev().find(|&r| {
            self.role_dead(r).is_none()
                && !self.roles()[r].rolearn.is_empty()
                && super::model::go_equal_fold(&self.roles()[r].rolearn, &u.userarn)
        });
        role.map(|role| IssueKind::ShadowedByRole { role })
    }

    /// Whether some identity gets `mapRoles` entry `i` ([`Self::role_dead`] is `None`).
    pub fn role_live(&self, i: usize) -> bool {
        i < self.roles().len() && self.role_dead(i).is_none()
    }

    /// Whether some identity gets `mapUsers` entry `i` ([`Self::user_dead`] is `None`).
    pub fn user_live(&self, i: usize) -> bool {
        i < self.users().len() && self.user_dead(i).is_none()
    }

    /// Everything about the entries that will not do what it looks like it does.
    pub fn validate(&self) -> Vec<Issue> {
        let mut out = Vec::new();
        for p in self.problems() {
            out.push(Issue {
                key: p.key(),
                index: usize::MAX,
                line: p.position().0,
                kind: IssueKind::Value {
                    message: p.to_string(),
                },
            });
        }
        for (i, r) in self.roles().iter().enumerate() {
            let info = self.role_info(i);
            let line = info.map_or(0, |e| e.line);
            let mut push = |kind| {
                out.push(Issue {
                    key: DataKey::MapRoles,
                    index: i,
                    line,
                    kind,
                })
            };
            for f in info.map_or(&[][..], |e| &e.skipped) {
                push(IssueKind::FieldSkipped {
                    message: format!("line {}: {}", f.line, f.message),
                });
            }
            let dead = self.role_dead(i);
            if let Some(kind @ IssueKind::Dropped { .. }) = dead {
                push(kind);
                continue;
            }
            if r.sso.is_none() && matches!(classify(&r.rolearn), ArnClass::User | ArnClass::Root) {
                push(IssueKind::WrongList);
            }
            if let Some(kind) = dead {
                push(kind);
            }
            if let Some(k) = username_issues(&r.username) {
                push(k);
            }
            for k in group_issues(&r.groups) {
                push(k);
            }
        }
        for (i, u) in self.users().iter().enumerate() {
            let info = self.user_info(i);
            let line = info.map_or(0, |e| e.line);
            let mut push = |kind| {
                out.push(Issue {
                    key: DataKey::MapUsers,
                    index: i,
                    line,
                    kind,
                })
            };
            for f in info.map_or(&[][..], |e| &e.skipped) {
                push(IssueKind::FieldSkipped {
                    message: format!("line {}: {}", f.line, f.message),
                });
            }
            let dead = self.user_dead(i);
            if let Some(kind @ IssueKind::Dropped { .. }) = dead {
                push(kind);
                continue;
            }
            if matches!(classify(&u.userarn), ArnClass::Role { path: false }) {
                push(IssueKind::WrongList);
            }
            let ambiguous = self
                .user_entries_for(&u.userarn)
                .into_iter()
                .find(|&j| j != i && self.users()[j].userarn != u.userarn && self.user_live(j));
            match (dead, ambiguous) {
                (Some(kind), _) => push(kind),
                (None, Some(other)) => push(IssueKind::Ambiguous { other }),
                (None, None) => {}
            }
            if let Some(k) = username_issues(&u.username) {
                push(k);
            }
            for k in group_issues(&u.groups) {
                push(k);
            }
        }
        for (i, a) in self.accounts().iter().enumerate() {
            if !(a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit())) {
                out.push(Issue {
                    key: DataKey::MapAccounts,
                    index: i,
                    line: 0,
                    kind: IssueKind::BadAccount,
                });
            }
        }
        for f in self.accounts_skipped() {
            out.push(Issue {
                key: DataKey::MapAccounts,
                index: usize::MAX,
                line: f.line,
                kind: IssueKind::FieldSkipped {
                    message: f.message.clone(),
                },
            });
        }
        out
    }

    /// The entries some identity gets (see [`Self::role_dead`]) whose groups include `group`,
    /// as (list, index, ARN or key).
    pub fn effective_with_group(&self, group: &str) -> Vec<(DataKey, usize, String)> {
        let mut out = Vec::new();
        for (i, r) in self.roles().iter().enumerate() {
            if self.role_live(i) && r.groups.iter().any(|g| g == group) {
                let name = if r.rolearn.is_empty() {
                    r.key()
                } else {
                    r.rolearn.clone()
                };
                out.push((DataKey::MapRoles, i, name));
            }
        }
        for (i, u) in self.users().iter().enumerate() {
            if self.user_live(i) && u.groups.iter().any(|g| g == group) {
                out.push((DataKey::MapUsers, i, u.userarn.clone()));
            }
        }
        out
    }

    /// The groups the effective entry for `canonical_arn` grants (roles first, then users, as
    /// the authenticator looks up), or `None` when it is not mapped.
    fn groups_of(&self, canonical_arn: &str) -> Option<&[String]> {
        if let Some(i) = self.effective_role(canonical_arn, false) {
            return Some(&self.roles()[i].groups);
        }
        self.effective_user(canonical_arn)
            .map(|i| self.users()[i].groups.as_slice())
    }
}

/// A reason to refuse a change to aws-auth (unless forced).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockoutRisk {
    /// No entry maps to `system:masters` any more; `removed` are the ARNs that did.
    LastMastersRemoved { removed: Vec<String> },
    /// The caller's own mapping loses `system:masters` (removed or demoted).
    CallerAdminLost { caller: String, removed: bool },
    /// A node role mapping (`system:nodes`) is removed or loses that group.
    NodeRoleDropped { rolearn: String },
}

impl LockoutRisk {
    /// The human reason, one sentence.
    pub fn reason(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for LockoutRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockoutRisk::LastMastersRemoved { removed } => write!(
                f,
                "this removes the last aws-auth mapping to `system:masters` ({}): only the cluster creator could still administer the cluster",
                removed
                    .iter()
                    .map(|a| format!("`{a}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            LockoutRisk::CallerAdminLost {
                caller,
                removed: true,
            } => write!(
                f,
                "this removes your own mapping `{caller}`, which grants `system:masters`: you could not undo it"
            ),
            LockoutRisk::CallerAdminLost {
                caller,
                removed: false,
            } => write!(
                f,
                "this takes `system:masters` away from your own mapping `{caller}`: you could not undo it"
            ),
            LockoutRisk::NodeRoleDropped { rolearn } => write!(
                f,
                "this drops the node role mapping `{rolearn}` (`system:nodes`): its nodes could no longer join the cluster or report status"
            ),
        }
    }
}

/// What `after` would break compared to `before`: the last `system:masters` mapping, the
/// caller's own admin mapping (caller compared by canonical ARN), node role mappings.
pub fn lockout_check(
    before: &AwsAuth,
    after: &AwsAuth,
    caller: Option<&crate::arn::Arn>,
) -> Vec<LockoutRisk> {
    let mut risks = Vec::new();
    let masters_before = before.effective_with_group(MASTERS);
    if !masters_before.is_empty() && after.effective_with_group(MASTERS).is_empty() {
        risks.push(LockoutRisk::LastMastersRemoved {
            removed: masters_before.into_iter().map(|(_, _, arn)| arn).collect(),
        });
    }
    if let Some(caller) = caller {
        let canonical = caller.canonical().to_string();
        let had = before
            .groups_of(&canonical)
            .is_some_and(|g| g.iter().any(|g| g == MASTERS));
        let after_groups = after.groups_of(&canonical);
        if had && !after_groups.is_some_and(|g| g.iter().any(|g| g == MASTERS)) {
            risks.push(LockoutRisk::CallerAdminLost {
                caller: canonical,
                removed: after_groups.is_none(),
            });
        }
    }
    for (key, i, arn) in before.effective_with_group(NODES) {
        if key != DataKey::MapRoles {
            continue;
        }
        let rkey = before.roles()[i].key();
        let kept = after
            .role_entries_for(&rkey)
            .last()
            .is_some_and(|&j| after.roles()[j].groups.iter().any(|g| g == NODES));
        if !kept {
            risks.push(LockoutRisk::NodeRoleDropped { rolearn: arn });
        }
    }
    risks
}
