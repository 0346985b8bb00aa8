//! Pure: what each command reports, and how its table reads. JSON and YAML are these types as
//! serde writes them (public interface: add keys freely, change them only with a reason);
//! tables are kubectl-style ([`crate::output`]).

use std::collections::BTreeMap;

use eks_auth::aws_auth::DataKey;
use serde::{Serialize, Serializer};

use crate::output::{fields, table};
use crate::rbac_io::ObjectChange;

/// The aws-auth list a key names, as `mapUsers` / `mapRoles` (the core's [`DataKey`]).
fn data_key<S: Serializer>(key: &DataKey, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(key.as_str())
}

#[derive(Debug, Serialize)]
pub struct AddReport {
    /// The store written (`aws-auth`, `access entries`): the table's label.
    #[serde(skip)]
    pub store: &'static str,
    pub arn: String,
    pub given: String,
    #[serde(serialize_with = "data_key")]
    pub section: DataKey,
    pub username: String,
    pub groups: Vec<String>,
    /// `added`, `updated` or `unchanged` (with --dry-run: `would be added` ...).
    pub aws_auth: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    pub rbac: Vec<ObjectChange>,
    pub notes: Vec<String>,
    pub dry_run: bool,
}

impl AddReport {
    pub fn table(&self) -> String {
        let mut rows = vec![
            ("arn", self.arn.clone()),
            ("list", self.section.to_string()),
            ("username", self.username.clone()),
            ("groups", self.groups.join(", ")),
            (
                self.store,
                match self.revision {
                    Some(rev) => format!("{} (revision {rev})", self.aws_auth),
                    None => self.aws_auth.clone(),
                },
            ),
        ];
        if let Some(p) = &self.preset {
            rows.push(("preset", p.clone()));
        }
        for c in &self.rbac {
            rows.push(("rbac", c.display()));
        }
        fields(&rows)
    }
}

#[derive(Debug, Serialize)]
pub struct RevokeReport {
    /// The store written (`aws-auth`, `access entries`): the table's label.
    #[serde(skip)]
    pub store: &'static str,
    pub arn: String,
    pub removed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    pub rbac: Vec<ObjectChange>,
    pub notes: Vec<String>,
    pub dry_run: bool,
}

impl RevokeReport {
    pub fn table(&self) -> String {
        let mut rows = vec![
            ("arn", self.arn.clone()),
            (
                self.store,
                match (self.removed, self.revision) {
                    (0, _) => "unchanged".to_owned(),
                    (n, rev) => format!(
                        "{n} entr{} removed{}",
                        if n == 1 { "y" } else { "ies" },
                        rev.map(|r| format!(" (revision {r})")).unwrap_or_default()
                    ),
                },
            ),
        ];
        for c in &self.rbac {
            rows.push(("rbac", c.display()));
        }
        fields(&rows)
    }
}

#[derive(Debug, Serialize)]
pub struct ListEntry {
    /// Where the mapping lives: `mapRoles` or `mapUsers` (aws-auth, the core's [`DataKey`]), or
    /// `accessEntry`.
    pub list: &'static str,
    pub arn: String,
    pub username: String,
    pub groups: Vec<String>,
    /// Whether the authenticator would use this entry.
    pub effective: bool,
    /// What the entry does under the cluster's authentication mode: `active`, `shadowed` (a
    /// later aws-auth entry for the same ARN, or an access entry for the same principal, wins)
    /// or `ignored` (API mode ignores aws-auth; an entry that can never match).
    pub effect: &'static str,
    /// Why, when the effect is not `active`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    pub issues: Vec<String>,
    /// An access entry's access policies and their scopes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct ListReport {
    pub mappings: Vec<ListEntry>,
    pub accounts: Vec<String>,
    /// For every group handed out: the bindings that name it.
    pub groups: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_change: Option<serde_json::Value>,
}

impl ListReport {
    pub fn table(&self) -> String {
        let mut rows: Vec<Vec<String>> = self
            .mappings
            .iter()
            .map(|m| {
                let bindings = m
                    .groups
                    .iter()
                    .map(|g| match self.groups.get(g).map(Vec::as_slice) {
                        Some([]) if g == "system:masters" => {
                            format!("{g}: (superuser, no binding needed)")
                        }
                        Some([]) | None => format!("{g}: (no binding)"),
                        Some(b) => format!("{g}: {}", b.join(", ")),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                let mut bindings = bindings;
                for p in &m.policies {
                    if !bindings.is_empty() {
                        bindings.push('\n');
                    }
                    bindings.push_str(&format!("policy: {p}"));
                }
                let status = match (&m.why, m.issues.is_empty()) {
                    (Some(why), _) => format!("{}: {why}", m.effect),
                    (None, false) => m.issues.join("\n"),
                    (None, true) if m.effective => "ok".to_owned(),
                    (None, true) => "not used".to_owned(),
                };
                vec![
                    m.list.to_owned(),
                    m.arn.clone(),
                    m.username.clone(),
                    m.groups.join(", "),
                    status,
                    bindings,
                ]
            })
            .collect();
        for a in &self.accounts {
            rows.push(vec![
                DataKey::MapAccounts.to_string(),
                a.clone(),
                String::new(),
                String::new(),
                "ok".to_owned(),
                String::new(),
            ]);
        }
        table(
            &["list", "arn", "username", "groups", "status", "bindings"],
            rows,
        )
    }
}

/// The verbs `check` asks about, in kubectl's order.
pub const VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

#[derive(Debug, Serialize)]
pub struct CheckRow {
    pub resource: String,
    pub namespace: String,
    /// verb -> allowed
    pub verbs: BTreeMap<String, bool>,
}

#[derive(Debug, Serialize)]
pub struct CheckReport {
    pub arn: String,
    pub mapped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    pub groups: Vec<String>,
    pub bindings: Vec<String>,
    pub access: Vec<CheckRow>,
    pub notes: Vec<String>,
}

impl CheckReport {
    pub fn table(&self) -> String {
        if !self.mapped {
            return fields(&[
                ("arn", self.arn.clone()),
                ("mapped", "no (401 Unauthorized)".to_owned()),
            ]);
        }
        let mut out = fields(&[
            ("arn", self.arn.clone()),
            ("mapped by", self.source.clone().unwrap_or_default()),
            ("username", self.username.clone().unwrap_or_default()),
            ("groups", self.groups.join(", ")),
            (
                "bindings",
                if self.bindings.is_empty() {
                    "(none)".to_owned()
                } else {
                    self.bindings.join("\n")
                },
            ),
        ]);
        out.push('\n');
        let mut headers = vec!["resource", "namespace"];
        headers.extend(VERBS);
        out.push_str(&table(
            &headers,
            self.access.iter().map(|row| {
                let mut cells = vec![row.resource.clone(), row.namespace.clone()];
                cells.extend(VERBS.iter().map(|v| {
                    if row.verbs.get(*v) == Some(&true) {
                        "yes"
                    } else {
                        "no"
                    }
                    .to_owned()
                }));
                cells
            }),
        ));
        out
    }
}

#[derive(Debug, Serialize)]
pub struct PresetView {
    pub name: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    /// The caveat of a grant with --namespace, when it differs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespaced_caveat: Option<String>,
    pub namespaced: bool,
    pub cluster_role: String,
    pub creates_cluster_role: bool,
    pub rules: Vec<String>,
}

/// The table of `presets`: one line per preset, then each preset's caveat and rules.
pub fn presets_table(views: &[PresetView]) -> String {
    let mut out = table(
        &["name", "namespaced", "clusterrole", "description"],
        views.iter().map(|p| {
            vec![
                p.name.to_owned(),
                if p.namespaced { "yes" } else { "no" }.to_owned(),
                p.cluster_role.clone(),
                p.description.clone(),
            ]
        }),
    );
    for p in views {
        out.push_str(&format!("\n{}:\n", p.name));
        match (&p.caveat, &p.namespaced_caveat) {
            (Some(c), Some(n)) => {
                out.push_str(&format!("  caveat without --namespace: {c}\n"));
                out.push_str(&format!("  caveat with --namespace: {n}\n"));
            }
            (Some(c), None) => out.push_str(&format!("  caveat: {c}\n")),
            _ => {}
        }
        if p.creates_cluster_role {
            for r in &p.rules {
                out.push_str(&format!("  rule: {r}\n"));
            }
        } else {
            out.push_str(&format!(
                "  binds the built-in ClusterRole `{}` ({} rules)\n",
                p.cluster_role,
                p.rules.len()
            ));
        }
    }
    out
}

#[derive(Debug, Serialize)]
pub struct UndoReport {
    pub undone_revision: u64,
    pub undone_change: Option<String>,
    pub restored: String,
    /// The revision the undo itself wrote (revisions only go up); none when aws-auth was deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    /// The RBAC objects of the undone change, put back as they were.
    pub rbac: Vec<ObjectChange>,
    pub notes: Vec<String>,
    pub dry_run: bool,
}

impl UndoReport {
    pub fn table(&self) -> String {
        let mut rows = vec![
            ("undone", format!("revision {}", self.undone_revision)),
            ("change", self.undone_change.clone().unwrap_or_default()),
            (
                "aws-auth",
                match self.revision {
                    Some(rev) => format!("{} (revision {rev})", self.restored),
                    None => self.restored.clone(),
                },
            ),
        ];
        for c in &self.rbac {
            rows.push(("rbac", c.display()));
        }
        fields(&rows)
    }
}
