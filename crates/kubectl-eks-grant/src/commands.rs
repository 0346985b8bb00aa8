//! The subcommands: validated requests in, cluster I/O through `eks_auth::kube`, reports out.

use std::collections::BTreeMap;

use anyhow::{Context, Result, bail};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::aws_auth::{AwsAuth, DataKey, Upsert};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{
    AWS_AUTH_NAME, AWS_AUTH_NAMESPACE, Access, Attributes, Caller, Cluster, Edit, ModifyError,
    ModifyOptions, PARALLEL_REVIEWS, data_sha256, delete_aws_auth, fetch_aws_auth, fetch_caller,
    fetch_history, list_rbac, modify_aws_auth_data_from, subject_access_each,
};
use eks_auth::mapping::{Identity, map_identity};
use eks_auth::rbac::{RbacObjects, UserInfo, compact_string, preset, presets};
use k8s_openapi::api::authorization::v1::ResourceAttributes;
use serde::Serialize;

use crate::diff;
use crate::output::{emit, fields, note, table, write_stdout};
use crate::plan::{self, PlanError};
use crate::rbac_io::{self, ObjectChange};
use crate::request::{Grant, Revoke, Section};

const AWS_AUTH: &str = "kube-system/aws-auth";

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

fn caller_arn(caller: &Caller) -> Option<Arn> {
    caller
        .arn()
        .and_then(|a| a.parse::<Arn>().ok())
        .map(|a| a.canonical())
}

fn modify_error(err: ModifyError<PlanError>, context: &str) -> anyhow::Error {
    match err {
        // The edit's own errors carry their hint: not wrapped, so the hint stays last.
        ModifyError::Edit(e) => anyhow::Error::new(e),
        other => anyhow::Error::new(other).context(format!(
            "writing ConfigMap `{AWS_AUTH}` in context `{context}`"
        )),
    }
}

fn aws_auth_diff(
    before: &BTreeMap<String, String>,
    after: &BTreeMap<String, String>,
    existed: bool,
) -> String {
    diff::unified(
        AWS_AUTH,
        existed.then(|| diff::data_yaml(before)).as_deref(),
        Some(&diff::data_yaml(after)),
    )
}

#[derive(Debug, Serialize)]
pub struct AddReport {
    pub arn: String,
    pub given: String,
    pub section: Section,
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

fn upsert_word(u: &Upsert) -> &'static str {
    match u {
        Upsert::Added { .. } => "added",
        Upsert::Updated { .. } => "updated",
        Upsert::Unchanged { .. } => "unchanged",
    }
}

/// The RBAC objects of the grant's preset (one set per group).
fn preset_objects(grant: &Grant) -> Result<Option<(RbacObjects, Option<&'static str>)>> {
    let Some(name) = &grant.preset else {
        return Ok(None);
    };
    let p = preset(name)?;
    let mut objects = RbacObjects::default();
    for group in &grant.groups {
        let o = p.objects(group, &grant.namespaces)?;
        for r in o.cluster_roles {
            if !objects
                .cluster_roles
                .iter()
                .any(|x| x.metadata.name == r.metadata.name)
            {
                objects.cluster_roles.push(r);
            }
        }
        objects
            .cluster_role_bindings
            .extend(o.cluster_role_bindings);
        objects.roles.extend(o.roles);
        objects.role_bindings.extend(o.role_bindings);
    }
    Ok(Some((objects, p.caveat)))
}

pub async fn add(cluster: &Cluster, format: OutputFormat, grant: Grant) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let mut notes = grant.notes.clone();
    let rbac = preset_objects(&grant)?;
    if grant.groups.is_empty() {
        notes.push(
            "no --group: the identity authenticates but gets only what system:authenticated may do"
                .to_owned(),
        );
    }

    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{ctx}`"))?;
    let me = caller_arn(&caller);
    let before = fetch_aws_auth(client)
        .await
        .with_context(|| format!("in context `{ctx}`"))?;
    let parsed = plan::parse(&before.data)?;
    plan::account_check(
        &grant.principal,
        &plan::known_accounts(&parsed, me.as_ref(), cluster.cluster_arn.as_ref()),
        grant.force,
    )?;
    let first = plan::plan_add(&parsed, &grant, me.as_ref())?;
    if let Some(dup) = plan::duplicates_note(grant.section, &first.upsert) {
        notes.push(dup);
    }
    if let Some((objects, _)) = &rbac {
        rbac_io::escalation_preflight(client, &caller, objects).await?;
    }

    if grant.dry_run {
        let mut out = aws_auth_diff(&before.data, &first.after.render(), before.exists());
        let mut changes = Vec::new();
        if let Some((objects, _)) = &rbac {
            let (c, d) = rbac_io::apply(client, objects, true).await?;
            changes = c;
            out.push_str(&d);
        }
        for n in &notes {
            note(n);
        }
        note(&format!(
            "dry run: aws-auth entry would be {}, {} RBAC object(s) would change; nothing was written",
            upsert_word(&first.upsert),
            changes.iter().filter(|c| c.action != "unchanged").count()
        ));
        write_stdout(&out)?;
        return Ok(());
    }

    let mut changes = Vec::new();
    if let Some((objects, caveat)) = &rbac {
        changes = rbac_io::apply(client, objects, false).await?.0;
        if let Some(c) = caveat {
            notes.push(format!("preset caveat: {c}"));
        }
    }

    let options = ModifyOptions {
        who: caller.username.clone(),
        at: now(),
        keep_history: true,
        revision: None,
    };
    let mut last = None;
    let first_rv = before.resource_version.clone();
    let mut first_plan = Some(first);
    let modified = modify_aws_auth_data_from(client, &options, Some(before), |obj| {
        // The first attempt works on the read already parsed and planned above.
        let p = match first_plan.take() {
            Some(p) if obj.resource_version == first_rv => p,
            _ => plan::plan_add(&plan::parse(&obj.data)?, &grant, me.as_ref())?,
        };
        let word = upsert_word(&p.upsert);
        let changed = p.upsert.changed();
        last = Some(p.upsert.clone());
        if !changed && obj.exists() {
            return Ok(Edit::Unchanged);
        }
        Ok(Edit::Write {
            data: p.after.render(),
            change: format!(
                "add `{}` ({}, {word}) username `{}` groups [{}]",
                grant.principal,
                grant.section,
                grant.username,
                grant.groups.join(", ")
            ),
        })
    })
    .await
    .map_err(|e| modify_error(e, ctx))?;
    let upsert = last.expect("the edit ran at least once");
    if modified.attempts > 1 {
        notes.push(format!(
            "aws-auth changed under us: written on attempt {} (409 Conflict before)",
            modified.attempts
        ));
    }
    let report = AddReport {
        arn: grant.principal.to_string(),
        given: grant.given.clone(),
        section: grant.section,
        username: grant.username.clone(),
        groups: grant.groups.clone(),
        aws_auth: upsert_word(&upsert).to_owned(),
        revision: modified.record.as_ref().map(|r| r.revision),
        preset: grant.preset.clone(),
        rbac: changes,
        notes,
        dry_run: false,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, |r| {
        let mut rows = vec![
            ("arn", r.arn.clone()),
            ("list", r.section.to_string()),
            ("username", r.username.clone()),
            ("groups", r.groups.join(", ")),
            (
                "aws-auth",
                match r.revision {
                    Some(rev) => format!("{} (revision {rev})", r.aws_auth),
                    None => r.aws_auth.clone(),
                },
            ),
        ];
        if let Some(p) = &r.preset {
            rows.push(("preset", p.clone()));
        }
        for c in &r.rbac {
            rows.push(("rbac", c.display()));
        }
        fields(&rows)
    })
}

#[derive(Debug, Serialize)]
pub struct RevokeReport {
    pub arn: String,
    pub removed: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revision: Option<u64>,
    pub rbac: Vec<ObjectChange>,
    pub notes: Vec<String>,
    pub dry_run: bool,
}

pub async fn revoke(cluster: &Cluster, format: OutputFormat, revoke: Revoke) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{ctx}`"))?;
    let me = caller_arn(&caller);
    let before = fetch_aws_auth(client)
        .await
        .with_context(|| format!("in context `{ctx}`"))?;
    let parsed = plan::parse(&before.data)?;
    let first = plan::plan_revoke(&parsed, &revoke, me.as_ref())?;
    let mut notes = revoke.notes.clone();

    // RBAC objects made for groups that no mapping hands out any more.
    let unused_for = |after: &AwsAuth, groups: &std::collections::BTreeSet<String>| {
        let in_use = plan::groups_in_use(after);
        groups
            .iter()
            .filter(|g| !in_use.contains(*g))
            .cloned()
            .collect::<Vec<_>>()
    };
    let gone = unused_for(&first.after, &first.groups);
    let rbac_unused = if gone.is_empty() {
        RbacObjects::default()
    } else {
        match list_rbac(client).await {
            Ok(objects) => rbac_io::unused_objects(&objects, &gone),
            Err(e) => {
                notes.push(format!("RBAC objects were not cleaned up: {e:#}"));
                RbacObjects::default()
            }
        }
    };

    if revoke.dry_run {
        let mut out = if first.removed > 0 {
            aws_auth_diff(&before.data, &first.after.render(), true)
        } else {
            String::new()
        };
        let (_, d) = rbac_io::delete(client, &rbac_unused, true).await?;
        out.push_str(&d);
        for n in &notes {
            note(n);
        }
        note(&format!(
            "dry run: {} aws-auth entr(y/ies) would be removed; nothing was written",
            first.removed
        ));
        write_stdout(&out)?;
        return Ok(());
    }

    let options = ModifyOptions {
        who: caller.username.clone(),
        at: now(),
        keep_history: true,
        revision: None,
    };
    let mut removed = 0;
    let modified = modify_aws_auth_data_from(client, &options, Some(before), |obj| {
        let current = plan::parse(&obj.data)?;
        let p = plan::plan_revoke(&current, &revoke, me.as_ref())?;
        removed = p.removed;
        if p.removed == 0 {
            return Ok(Edit::Unchanged);
        }
        Ok(Edit::Write {
            data: p.after.render(),
            change: format!(
                "revoke `{}` ({} entries removed)",
                revoke.principal, p.removed
            ),
        })
    })
    .await
    .map_err(|e| modify_error(e, ctx))?;
    if removed == 0 {
        notes.push(format!(
            "`{}` had no aws-auth entry: nothing to revoke",
            revoke.principal
        ));
    }
    let (changes, _) = rbac_io::delete(client, &rbac_unused, false).await?;
    let report = RevokeReport {
        arn: revoke.principal.to_string(),
        removed,
        revision: modified.record.as_ref().map(|r| r.revision),
        rbac: changes,
        notes,
        dry_run: false,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, |r| {
        let mut rows = vec![
            ("arn", r.arn.clone()),
            (
                "aws-auth",
                match r.revision {
                    Some(rev) => format!(
                        "{} entr{} removed (revision {rev})",
                        r.removed,
                        if r.removed == 1 { "y" } else { "ies" }
                    ),
                    None => "unchanged".to_owned(),
                },
            ),
        ];
        for c in &r.rbac {
            rows.push(("rbac", c.display()));
        }
        fields(&rows)
    })
}

#[derive(Debug, Serialize)]
pub struct ListEntry {
    pub list: &'static str,
    pub arn: String,
    pub username: String,
    pub groups: Vec<String>,
    /// Whether the authenticator would use this entry.
    pub effective: bool,
    pub issues: Vec<String>,
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

pub async fn list(cluster: &Cluster, format: OutputFormat) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let obj = fetch_aws_auth(client)
        .await
        .with_context(|| format!("in context `{ctx}`"))?;
    let aws_auth = plan::parse(&obj.data)?;
    let issues = aws_auth.validate();
    let issues_of = |key: DataKey, index: usize| {
        issues
            .iter()
            .filter(|i| i.key == key && i.index == index)
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    };
    let mut mappings = Vec::new();
    for (i, r) in aws_auth.roles().iter().enumerate() {
        let key = r.key();
        let effective = aws_auth.role_entries_for(&key).last() == Some(&i);
        mappings.push(ListEntry {
            list: "mapRoles",
            arn: if r.rolearn.is_empty() {
                key
            } else {
                r.rolearn.clone()
            },
            username: r.username.clone(),
            groups: r.groups.clone(),
            effective: effective
                && issues_of(DataKey::MapRoles, i)
                    .iter()
                    .all(|s| !s.contains("never")),
            issues: issues_of(DataKey::MapRoles, i),
        });
    }
    for (i, u) in aws_auth.users().iter().enumerate() {
        let effective = aws_auth.user_entries_for(&u.userarn).last() == Some(&i);
        mappings.push(ListEntry {
            list: "mapUsers",
            arn: u.userarn.clone(),
            username: u.username.clone(),
            groups: u.groups.clone(),
            effective,
            issues: issues_of(DataKey::MapUsers, i),
        });
    }
    let mut groups: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in plan::groups_in_use(&aws_auth) {
        groups.insert(g, Vec::new());
    }
    match list_rbac(client).await {
        Ok(objects) => {
            for (g, bindings) in groups.iter_mut() {
                for b in objects.bindings_for(&UserInfo::new("", [g.clone()])) {
                    let at = b
                        .namespace
                        .map(|ns| format!(" in {ns}"))
                        .unwrap_or_default();
                    bindings.push(format!(
                        "{}/{}{at} -> {}/{}",
                        b.kind, b.name, b.role_ref.kind, b.role_ref.name
                    ));
                }
            }
        }
        Err(e) => note(&format!("bindings are not shown: {e:#}")),
    }
    let report = ListReport {
        mappings,
        accounts: aws_auth.accounts().to_vec(),
        groups,
        last_change: obj
            .annotations
            .get(eks_auth::kube::LAST_CHANGE_ANNOTATION)
            .and_then(|s| serde_json::from_str(s).ok()),
    };
    emit(format, &report, |r| {
        let mut rows: Vec<Vec<String>> = r
            .mappings
            .iter()
            .map(|m| {
                let bindings = m
                    .groups
                    .iter()
                    .map(|g| match r.groups.get(g).map(Vec::as_slice) {
                        Some([]) if g == "system:masters" => {
                            format!("{g}: (superuser, no binding needed)")
                        }
                        Some([]) | None => format!("{g}: (no binding)"),
                        Some(b) => format!("{g}: {}", b.join(", ")),
                    })
                    .collect::<Vec<_>>()
                    .join("\n");
                let status = if m.issues.is_empty() {
                    if m.effective {
                        "ok".to_owned()
                    } else {
                        "not used".to_owned()
                    }
                } else {
                    m.issues.join("\n")
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
        for a in &r.accounts {
            rows.push(vec![
                "mapAccounts".to_owned(),
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
    })
}

/// The questions `check` asks: (group, resource, namespaced).
const CHECKED: &[(&str, &str, bool)] = &[
    ("", "pods", true),
    ("", "pods/exec", true),
    ("", "pods/log", true),
    ("", "services", true),
    ("", "configmaps", true),
    ("", "secrets", true),
    ("", "serviceaccounts", true),
    ("apps", "deployments", true),
    ("batch", "jobs", true),
    ("rbac.authorization.k8s.io", "rolebindings", true),
    ("", "namespaces", false),
    ("", "nodes", false),
    ("", "persistentvolumes", false),
    ("rbac.authorization.k8s.io", "clusterroles", false),
    ("rbac.authorization.k8s.io", "clusterrolebindings", false),
];
const VERBS: &[&str] = &[
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

pub async fn check(
    cluster: &Cluster,
    format: OutputFormat,
    arn: &str,
    namespace: &str,
) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let given: Arn = arn.trim().parse()?;
    crate::request::validate_namespace(namespace)?;
    let mut notes = Vec::new();
    // The identity STS would present: a session of the role (its name unknown: a placeholder).
    let presented: Arn = match given.kind() {
        PrincipalKind::Role => {
            let a = format!(
                "arn:{}:sts::{}:assumed-role/{}/eks-grant-check",
                given.partition(),
                given.account(),
                given.name()
            );
            notes.push(format!("`{{{{SessionName}}}}` is shown as `eks-grant-check`: {arn} is checked as one of its sessions"));
            a.parse()?
        }
        _ => given.clone(),
    };
    let identity = Identity {
        account: presented.account().to_owned(),
        user_id: presented
            .session_name()
            .map(|s| format!("AROAEKSGRANTCHECK:{s}"))
            .unwrap_or_else(|| "AIDAEKSGRANTCHECK".to_owned()),
        access_key_id: "AKIAEKSGRANTCHECK".to_owned(),
        arn: presented,
    };
    notes.push(
        "the cluster creator's implicit admin access is not visible in aws-auth and not shown"
            .to_owned(),
    );
    let obj = fetch_aws_auth(client)
        .await
        .with_context(|| format!("in context `{ctx}`"))?;
    let aws_auth = plan::parse(&obj.data)?;
    let mapped = map_identity(&identity, &aws_auth, None)?;
    let Some(mapped) = mapped else {
        let report = CheckReport {
            arn: given.to_string(),
            mapped: false,
            source: None,
            username: None,
            groups: vec![],
            bindings: vec![],
            access: vec![],
            notes: vec![format!(
                "`{}` has no aws-auth mapping: the API server answers 401 Unauthorized",
                identity.canonical_arn()
            )],
        };
        for n in &report.notes {
            note(n);
        }
        return emit(format, &report, |r| {
            fields(&[
                ("arn", r.arn.clone()),
                ("mapped", "no (401 Unauthorized)".to_owned()),
            ])
        });
    };
    let mut groups = mapped.groups.clone();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".to_owned());
    }
    let bindings = match list_rbac(client).await {
        Ok(objects) => objects
            .bindings_for(&UserInfo::new(mapped.username.clone(), groups.clone()))
            .into_iter()
            .map(|b| {
                let at = b
                    .namespace
                    .map(|ns| format!(" in {ns}"))
                    .unwrap_or_default();
                format!(
                    "{}/{}{at} -> {}/{}",
                    b.kind, b.name, b.role_ref.kind, b.role_ref.name
                )
            })
            .collect(),
        Err(e) => {
            notes.push(format!("bindings are not shown: {e:#}"));
            vec![]
        }
    };
    let mut asked: Vec<(usize, &str)> = Vec::new();
    let mut questions: Vec<Attributes> = Vec::new();
    for (row, (group, resource, namespaced)) in CHECKED.iter().enumerate() {
        for verb in VERBS {
            let (res, sub) = resource
                .split_once('/')
                .map_or((*resource, None), |(r, s)| (r, Some(s)));
            let attrs = ResourceAttributes {
                verb: Some((*verb).to_owned()),
                group: Some((*group).to_owned()),
                resource: Some(res.to_owned()),
                subresource: sub.map(str::to_owned),
                namespace: namespaced.then(|| namespace.to_owned()),
                ..Default::default()
            };
            asked.push((row, verb));
            questions.push(Attributes::Resource(Box::new(attrs)));
        }
    }
    let answers = subject_access_each(
        client,
        &mapped.username,
        &groups,
        questions,
        PARALLEL_REVIEWS,
    )
    .await;
    let mut access: Vec<CheckRow> = CHECKED
        .iter()
        .map(|(g, r, namespaced)| CheckRow {
            resource: if g.is_empty() {
                (*r).to_owned()
            } else {
                format!("{r}.{g}")
            },
            namespace: if *namespaced {
                namespace.to_owned()
            } else {
                String::new()
            },
            verbs: BTreeMap::new(),
        })
        .collect();
    for ((row, verb), answer) in asked.into_iter().zip(answers) {
        let Access { allowed, .. } =
            answer.with_context(|| format!("asking the API server in context `{ctx}`"))?;
        access[row].verbs.insert(verb.to_owned(), allowed);
    }
    let report = CheckReport {
        arn: given.to_string(),
        mapped: true,
        source: Some(mapped.source.to_string()),
        username: Some(mapped.username.clone()),
        groups,
        bindings,
        access,
        notes,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, |r| {
        let mut out = fields(&[
            ("arn", r.arn.clone()),
            ("mapped by", r.source.clone().unwrap_or_default()),
            ("username", r.username.clone().unwrap_or_default()),
            ("groups", r.groups.join(", ")),
            (
                "bindings",
                if r.bindings.is_empty() {
                    "(none)".to_owned()
                } else {
                    r.bindings.join("\n")
                },
            ),
        ]);
        out.push('\n');
        let mut headers = vec!["resource", "namespace"];
        headers.extend(VERBS);
        out.push_str(&table(
            &headers,
            r.access.iter().map(|row| {
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
    })
}

#[derive(Debug, Serialize)]
pub struct PresetView {
    pub name: &'static str,
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub caveat: Option<String>,
    pub namespaced: bool,
    pub cluster_role: String,
    pub creates_cluster_role: bool,
    pub rules: Vec<String>,
}

pub fn show_presets(format: OutputFormat) -> Result<()> {
    let views: Vec<PresetView> = presets()
        .into_iter()
        .map(|p| PresetView {
            name: p.name,
            description: squash(p.description),
            caveat: p.caveat.map(squash),
            namespaced: p.namespaced,
            cluster_role: p.cluster_role_name(),
            creates_cluster_role: p.creates_cluster_role(),
            rules: p.rules().iter().map(compact_string).collect(),
        })
        .collect();
    emit(format, &views, |v| {
        let mut out = table(
            &["name", "namespaced", "clusterrole", "description"],
            v.iter().map(|p| {
                vec![
                    p.name.to_owned(),
                    if p.namespaced { "yes" } else { "no" }.to_owned(),
                    p.cluster_role.clone(),
                    p.description.clone(),
                ]
            }),
        );
        for p in v {
            out.push_str(&format!("\n{}:\n", p.name));
            if let Some(c) = &p.caveat {
                out.push_str(&format!("  caveat: {c}\n"));
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
    })
}

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[derive(Debug, Serialize)]
pub struct UndoReport {
    pub undone_revision: u64,
    pub undone_change: Option<String>,
    pub restored: &'static str,
    pub dry_run: bool,
}

pub async fn undo(
    cluster: &Cluster,
    format: OutputFormat,
    dry_run: bool,
    force: bool,
) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let caller = fetch_caller(client)
        .await
        .with_context(|| format!("asking who the caller is in context `{ctx}`"))?;
    let me = caller_arn(&caller);
    let before = fetch_aws_auth(client)
        .await
        .with_context(|| format!("in context `{ctx}`"))?;
    let revision = before.revision();
    if revision == 0 {
        bail!("ConfigMap `{AWS_AUTH}` has no change made by eks-grant to undo");
    }
    let slot = fetch_history(client, revision)
        .await
        .with_context(|| format!("in context `{ctx}`"))?
        .with_context(|| {
            format!(
                "the version of aws-auth before revision {revision} is no longer kept (eks-grant keeps the last {} in `{AWS_AUTH_NAMESPACE}/aws-auth-history-*`)",
                eks_auth::kube::HISTORY_SLOTS
            )
        })?;
    if data_sha256(&before.data) != slot.replaced_by_sha256 && !force {
        bail!(
            "ConfigMap `{AWS_AUTH}` was changed by something else than eks-grant after revision {revision}: undoing would lose that change; nothing was written\n\nhint: look at `kubectl get -n kube-system configmap {AWS_AUTH_NAME} -o yaml`; pass --force to restore the version before revision {revision} anyway"
        );
    }
    let change = slot.record.as_ref().map(|r| r.change.clone());
    if !force {
        let now_parsed = plan::parse(&before.data)?;
        if let Ok(then) = AwsAuth::parse(&slot.data) {
            plan::guard(&now_parsed, &then, me.as_ref(), false)?;
        }
    }
    if dry_run {
        let out = if slot.existed {
            aws_auth_diff(&before.data, &slot.data, true)
        } else {
            diff::unified(AWS_AUTH, Some(&diff::data_yaml(&before.data)), None)
        };
        note(&format!(
            "dry run: would undo revision {revision}; nothing was written"
        ));
        write_stdout(&out)?;
        return Ok(());
    }
    if slot.existed {
        let options = ModifyOptions {
            who: caller.username.clone(),
            at: now(),
            keep_history: false,
            revision: Some(|r| r.saturating_sub(1)),
        };
        modify_aws_auth_data_from(client, &options, Some(before.clone()), |obj| {
            if obj.revision() != revision {
                return Err(PlanError::UndoMoved {
                    expected: revision,
                    found: obj.revision(),
                });
            }
            Ok(Edit::Write {
                data: slot.data.clone(),
                change: format!(
                    "undo revision {revision}{}",
                    change
                        .as_ref()
                        .map(|c| format!(": {c}"))
                        .unwrap_or_default()
                ),
            })
        })
        .await
        .map_err(|e| modify_error(e, ctx))?;
    } else {
        let rv = before
            .resource_version
            .as_deref()
            .context("aws-auth has no resourceVersion")?;
        delete_aws_auth(client, rv)
            .await
            .with_context(|| format!("restoring the absence of aws-auth in context `{ctx}`"))?;
    }
    let report = UndoReport {
        undone_revision: revision,
        undone_change: change,
        restored: if slot.existed {
            "restored"
        } else {
            "deleted (it did not exist before)"
        },
        dry_run: false,
    };
    emit(format, &report, |r| {
        fields(&[
            ("undone", format!("revision {}", r.undone_revision)),
            ("change", r.undone_change.clone().unwrap_or_default()),
            ("aws-auth", r.restored.to_owned()),
        ])
    })
}
