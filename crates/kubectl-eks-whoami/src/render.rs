//! Pure: the report as text. Tables for people in the suite's one style
//! (`eks_auth::cli::table`: kubectl's borderless columns, wrapped to the terminal at word and list
//! boundaries), JSON and YAML for scripts.

use std::collections::BTreeSet;

use eks_auth::cli::OutputFormat;
use eks_auth::cli::table::{Cell, Color, Table, fields, paragraph, short_resource};

use crate::access_view;
use crate::permissions::{self, STANDARD_VERBS};
use crate::report::{
    Access, AwsSource, BindingView, CellSource, DiagnosisKind, EntryView, KubeStatus, MappingKind,
    OverrideReason, Report, ResourceRow, Verdict,
};

/// Renders the report in the format asked for (a trailing newline included). `width` is the
/// terminal's (tables wrap to it; prose wraps to it or to [`PROSE_WIDTH`]).
pub fn render(
    report: &Report,
    format: OutputFormat,
    color: bool,
    width: Option<usize>,
) -> anyhow::Result<String> {
    Ok(match format {
        OutputFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        OutputFormat::Yaml => serde_yaml::to_string(report)?,
        OutputFormat::Table => tables(report, color, width),
    })
}

/// Where prose wraps when the terminal's width is unknown (stdout is a pipe or a file).
const PROSE_WIDTH: usize = 100;

/// The group every authenticated user is in: bindings to it are everyone's, not the caller's.
const EVERYONE: &str = "Group system:authenticated";

/// Rules shown per role before `(+N more)`.
const RULES_SHOWN: usize = 4;

/// A rule summary (`get,list pods,deployments.apps`) with API groups shortened as kubectl reads
/// them; URLs (`get /healthz,/version`) and names (`[web]`) as they are.
fn short_rule(rule: &str) -> String {
    let mut words = rule.splitn(3, ' ');
    let verbs = words.next().unwrap_or_default();
    let Some(targets) = words.next() else {
        return rule.to_owned();
    };
    let targets = if targets.starts_with('/') {
        targets.to_owned()
    } else {
        targets
            .split(',')
            .map(short_resource)
            .collect::<Vec<_>>()
            .join(",")
    };
    match words.next() {
        Some(rest) => format!("{verbs} {targets} {rest}"),
        None => format!("{verbs} {targets}"),
    }
}

fn entry_text(e: &EntryView) -> String {
    let mut s = match e.position {
        Some(p) => format!("{} entry {p}", e.key),
        None => e.key.clone(),
    };
    if let Some(arn) = &e.arn {
        s.push_str(&format!(": {arn}"));
    }
    if let Some(u) = &e.username {
        s.push_str(&format!(" -> username {u}"));
    }
    if !e.groups.is_empty() {
        s.push_str(&format!(", groups {}", e.groups.join(", ")));
    }
    s
}

fn tables(r: &Report, color: bool, width: Option<usize>) -> String {
    let prose = width.unwrap_or(PROSE_WIDTH);
    let mut out = String::new();

    // AWS
    out.push_str("AWS identity\n");
    let a = &r.aws;
    let via = a
        .exec
        .as_ref()
        .map(|e| {
            // The command in parentheses only when it says more than the tool's name (a path).
            let mut s = if e.command == e.tool.label() {
                e.command.clone()
            } else {
                format!("{} ({})", e.tool.label(), e.command)
            };
            if let Some(c) = &e.cluster_name {
                s.push_str(&format!(", cluster {c}"));
            }
            if let Some(p) = &e.profile {
                s.push_str(&format!(", profile {} from {}", p.value, p.origin));
            }
            if let Some(reg) = &e.region {
                s.push_str(&format!(", region {} from {}", reg.value, reg.origin));
            }
            if let Some(role) = &e.role_arn {
                s.push_str(&format!(", assumes {role}"));
            }
            s
        })
        .unwrap_or_else(|| format!("kubeconfig user ({})", r.context.auth));
    let source = match a.source {
        Some(AwsSource::ExecPlugin) => "token from the exec plugin, confirmed with STS",
        Some(AwsSource::KubeconfigToken) => "token in the kubeconfig, confirmed with STS",
        Some(AwsSource::CredentialChain) => "AWS SDK credential chain (plugin not installed)",
        None => "",
    };
    let token = a
        .token
        .as_ref()
        .map(|t| {
            let mut s = String::new();
            if let Some(c) = &t.cluster_name {
                s.push_str(&format!("signed for cluster {c}, "));
            }
            if !t.region.is_empty() {
                s.push_str(&format!(
                    "STS region {}, signed {}, expires {}",
                    t.region, t.signed_at, t.expires_at
                ));
            }
            s
        })
        .unwrap_or_default();
    out.push_str(&fields(
        &[
            ("arn", a.arn.clone().unwrap_or_default()),
            ("account", a.account.clone().unwrap_or_default()),
            ("user id", a.user_id.clone().unwrap_or_default()),
            ("canonical arn", a.canonical_arn.clone().unwrap_or_default()),
            ("access key", a.access_key_id.clone().unwrap_or_default()),
            ("via", via),
            ("source", source.to_owned()),
            ("token", token),
            ("error", a.error.clone().unwrap_or_default()),
        ],
        width,
    ));
    for note in &a.notes {
        out.push_str(&paragraph(&format!("note: {note}"), "", prose));
    }

    // Kubernetes
    out.push_str(&format!(
        "\nKubernetes identity (context {})\n",
        r.context.name
    ));
    let k = &r.kubernetes;
    let status = match k.status {
        KubeStatus::Authenticated => "authenticated",
        KubeStatus::Unauthenticated => "NOT authenticated (401 Unauthorized)",
        KubeStatus::Error => "not asked",
    };
    let extra = k
        .extra
        .iter()
        .map(|(key, v)| format!("{key}={}", v.join(",")))
        .collect::<Vec<_>>()
        .join("\n");
    out.push_str(&fields(
        &[
            ("status", status.to_owned()),
            ("username", k.username.clone().unwrap_or_default()),
            ("uid", k.uid.clone().unwrap_or_default()),
            ("groups", k.groups.join(", ")),
            ("extra", extra),
            ("error", k.error.clone().unwrap_or_default()),
        ],
        width,
    ));

    // Mapping
    out.push_str("\nMapping\n");
    let m = &r.mapping;
    let access = m.access.as_ref();
    let access_entry = access.and_then(|a| a.entry.as_ref());
    let source = match m.source {
        MappingKind::MapRoles | MappingKind::MapUsers | MappingKind::MapAccounts => {
            m.entry.as_ref().map(entry_text).unwrap_or_default()
        }
        MappingKind::ClusterCreator => {
            "cluster creator (implicit admin: kubernetes-admin in system:masters)".to_owned()
        }
        MappingKind::AccessEntry => match access_entry {
            Some(e) => access_view::entry_line(e),
            None => "an EKS access entry (inferred: see below)".to_owned(),
        },
        MappingKind::Other => "not aws-auth (an EKS access entry?)".to_owned(),
        MappingKind::Unknown => "unknown (aws-auth not readable)".to_owned(),
        MappingKind::None => "none: nothing maps this identity".to_owned(),
    };
    let aws_auth = serde_json::to_value(m.aws_auth)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let mode = access
        .map(|a| match &a.authentication_mode {
            Some(mode) => format!("{mode} (cluster {})", a.cluster_name),
            None => format!("unknown (cluster {})", a.cluster_name),
        })
        .unwrap_or_default();
    let policies = access_entry
        .map(|e| {
            if e.policies.is_empty() {
                "(none associated)".to_owned()
            } else {
                e.policies
                    .iter()
                    .map(access_view::policy_line)
                    .collect::<Vec<_>>()
                    .join("\n")
            }
        })
        .unwrap_or_default();
    let overrides = m
        .overrides
        .iter()
        .map(|o| {
            let why = match o.reason {
                OverrideReason::BehindAccessEntry => "behind the access entry",
                OverrideReason::IgnoredByMode => "ignored in API mode",
            };
            format!("{} ({why})", entry_text(&o.entry))
        })
        .collect::<Vec<_>>()
        .join("\n");
    let confirm = access
        .map(|a| a.confirm_with.join(", "))
        .unwrap_or_default();
    out.push_str(&fields(
        &[
            ("mode", mode),
            ("aws-auth", aws_auth),
            ("source", source),
            ("policies", policies),
            ("overrides", overrides),
            (
                "shadowed",
                m.shadowed
                    .iter()
                    .map(entry_text)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            ("inferred", m.inferred.join("\n")),
            ("confirm with", confirm),
        ],
        width,
    ));
    for e in access.map(|a| a.errors.as_slice()).unwrap_or_default() {
        out.push_str(&paragraph(&format!("note: {e}"), "", prose));
    }
    for note in &m.notes {
        out.push_str(&paragraph(&format!("note: {note}"), "", prose));
    }

    if let Some(b) = &r.bindings {
        out.push_str("\nBindings\n");
        out.push_str(&bindings(&b.items, color, width, prose));
        for e in &b.errors {
            out.push_str(&paragraph(&format!("incomplete: {e}"), "", prose));
        }
    }

    if let Some(p) = &r.permissions {
        match &p.namespace {
            Some(ns) => out.push_str(&format!("\nPermissions in namespace {ns}\n")),
            None => out.push_str("\nPermissions (cluster-wide)\n"),
        }
        if p.resources.is_empty() {
            out.push_str("(no resource permissions)\n");
        } else {
            let (matrix, short) = matrix(&p.resources, color, width);
            out.push_str(&matrix);
            if permissions::any_policy_cell(&p.resources) {
                let mut names: Vec<String> = p
                    .resources
                    .iter()
                    .flat_map(|r| r.sources.values().flatten())
                    .filter_map(|s| match s {
                        CellSource::AccessPolicy { policy, .. } => Some(policy.clone()),
                        CellSource::Rbac => None,
                    })
                    .collect();
                names.sort();
                names.dedup();
                // Probed: the entry could not be read (the permissions notes say why).
                let probed = p.resources.iter().any(|r| {
                    r.sources
                        .values()
                        .flatten()
                        .any(|s| matches!(s, CellSource::AccessPolicy { probed: true, .. }))
                });
                out.push_str("✓ RBAC, every object   ~ RBAC, only the named objects\n");
                out.push_str(&paragraph(
                    &format!(
                        "A an access policy ({}{}): not in `kubectl auth can-i --list`",
                        names.join(", "),
                        if probed {
                            ", found by access reviews"
                        } else {
                            ""
                        }
                    ),
                    "",
                    prose,
                ));
            } else {
                out.push_str("✓ every object   ~ only the named objects\n");
            }
            if short {
                let verbs = STANDARD_VERBS
                    .iter()
                    .map(|v| format!("{} {v}", short_verb(v)))
                    .collect::<Vec<_>>()
                    .join(", ");
                out.push_str(&paragraph(&format!("verbs: {verbs}"), "", prose));
            }
            if let Some(details) = details(&p.resources, color, width) {
                out.push('\n');
                out.push_str(&details);
            }
        }
        if !p.non_resource.is_empty() {
            out.push('\n');
            let mut t = Table::new(["non-resource urls", "verbs"]);
            for row in &p.non_resource {
                t.push([row.urls.join(","), row.verbs.join(",")]);
            }
            out.push_str(&t.render(width, color));
        }
        out.push_str(&paragraph(&format!("from: {}", p.method), "", prose));
        if p.incomplete {
            out.push_str("INCOMPLETE: the list may not show everything you may do\n");
        }
        if let Some(e) = &p.evaluation_error {
            out.push_str(&paragraph(&format!("evaluation error: {e}"), "", prose));
        }
        for note in &p.notes {
            out.push_str(&paragraph(&format!("note: {note}"), "", prose));
        }
    }

    if let Some(d) = &r.diagnosis {
        out.push_str("\nDiagnosis\n");
        out.push_str(&paragraph(&d.summary, "", prose));
        if !d.causes.is_empty() {
            out.push_str("Likely causes, in order:\n");
            for (i, c) in d.causes.iter().enumerate() {
                let verdict = match c.verdict {
                    Verdict::Likely => "likely",
                    Verdict::Possible => "possible",
                    Verdict::RuledOut => "ruled out",
                    Verdict::Unknown => "unknown",
                };
                out.push_str(&format!("  {}. [{verdict}] {}\n", i + 1, c.title));
                out.push_str(&paragraph(&c.detail, "     ", prose));
            }
        }
        if !d.missing.is_empty() {
            out.push_str("Missing:\n");
            for m in &d.missing {
                out.push_str(&format!("  - {m}\n"));
            }
        }
        if !d.access_policies.is_empty() {
            out.push_str("Access policies that would allow them (or an RBAC binding):\n");
            for m in &d.access_policies {
                let scope = if m.namespaces.is_empty() {
                    m.scope.clone()
                } else {
                    format!("namespaces {}", m.namespaces.join(", "))
                };
                out.push_str(&format!("  - {}: {} ({scope})\n", m.request, m.policy));
            }
        }
        if let Some(cmd) = &d.grant_command {
            out.push_str(match d.kind {
                DiagnosisKind::Forbidden => "To allow them, a cluster admin runs:\n",
                _ => "To give this identity access, a cluster admin runs:\n",
            });
            out.push_str(&format!("  {cmd}\n"));
        }
    }
    out
}

/// The bindings that name the caller, then the rules of the roles they bind. Bindings to
/// `system:authenticated` are everyone's: one line names them.
fn bindings(items: &[BindingView], color: bool, width: Option<usize>, prose: usize) -> String {
    let (everyone, own): (Vec<&BindingView>, Vec<&BindingView>) =
        items.iter().partition(|b| b.subject == EVERYONE);
    let mut out = String::new();
    if own.is_empty() {
        out.push_str("(none found that name you or your groups)\n");
    } else {
        // NAMESPACE only when some binding has one, as kubectl shows it only with `-A`.
        let namespaced = own.iter().any(|b| b.namespace.is_some());
        let mut t = if namespaced {
            Table::new(["kind", "namespace", "name", "role", "subject"])
        } else {
            Table::new(["kind", "name", "role", "subject"])
        };
        for b in &own {
            let mut row = vec![b.kind.clone()];
            if namespaced {
                row.push(b.namespace.clone().unwrap_or_default());
            }
            row.extend([b.name.clone(), b.role.clone(), b.subject.clone()]);
            t.push(row);
        }
        out.push_str(&t.render(width, color));
    }
    if !everyone.is_empty() {
        let names: Vec<&str> = everyone.iter().map(|b| b.name.as_str()).collect();
        out.push_str(&paragraph(
            &format!(
                "and, as every signed-in user ({EVERYONE}): {}",
                names.join(", ")
            ),
            "",
            prose,
        ));
    }
    // One row per bound role (a Role is its namespace's).
    let mut seen = BTreeSet::new();
    let namespaced = own.iter().any(|b| b.role.starts_with("Role/"));
    let mut roles = if namespaced {
        Table::new(["role", "namespace", "rules"])
    } else {
        Table::new(["role", "rules"])
    };
    for b in &own {
        let namespace = if b.role.starts_with("Role/") {
            b.namespace.clone().unwrap_or_default()
        } else {
            String::new()
        };
        if !seen.insert((b.role.clone(), namespace.clone())) {
            continue;
        }
        let mut rules: Vec<String> = b
            .rules
            .iter()
            .take(RULES_SHOWN)
            .map(|r| short_rule(r))
            .collect();
        if b.rules.len() > RULES_SHOWN {
            rules.push(format!("(+{} more)", b.rules.len() - RULES_SHOWN));
        }
        if let Some(n) = &b.rules_note {
            rules.push(n.clone());
        }
        if namespaced {
            roles.push([b.role.clone(), namespace, rules.join("\n")]);
        } else {
            roles.push([b.role.clone(), rules.join("\n")]);
        }
    }
    if !roles.is_empty() {
        out.push('\n');
        out.push_str(&roles.render(width, color));
    }
    out
}

/// The one-letter column names of the matrix when the verbs do not fit (`DC`:
/// deletecollection).
fn short_verb(verb: &str) -> String {
    match verb {
        "deletecollection" => "DC".to_owned(),
        v => v
            .chars()
            .next()
            .map(|c| c.to_ascii_uppercase())
            .into_iter()
            .collect(),
    }
}

/// The permission matrix: resources by the standard verbs, one mark a cell (rakkess-like), and
/// whether it uses the one-letter verb columns. Other verbs and the names behind `~` cells go to
/// [`details`], so that the matrix stays narrow.
fn matrix(rows: &[ResourceRow], color: bool, width: Option<usize>) -> (String, bool) {
    let mut long = vec!["resource".to_owned()];
    long.extend(STANDARD_VERBS.iter().map(|v| (*v).to_owned()));
    let mut short = vec!["resource".to_owned()];
    short.extend(STANDARD_VERBS.iter().map(|v| short_verb(v)));
    let mut t = Table::new(&long).short_headers(&short);
    for row in rows {
        if !STANDARD_VERBS.iter().any(|v| row.verbs.contains_key(*v)) {
            continue;
        }
        let mut cells = vec![Cell::new(short_resource(&row.resource))];
        for verb in STANDARD_VERBS {
            cells.push(mark(row, verb));
        }
        t.push(cells);
    }
    if t.is_empty() {
        return (String::new(), false);
    }
    (t.render(width, color), t.uses_short_headers(width))
}

/// A matrix cell: `✓` (RBAC, every object), `~` (RBAC, named objects only), `A` (an access
/// policy), `✓A` (both). `A`, not `P`: `P` is the patch column of the one-letter headers.
fn mark(row: &ResourceRow, verb: &str) -> Cell {
    let sources = row.sources.get(verb);
    let policy = sources.is_some_and(|s| {
        s.iter()
            .any(|c| matches!(c, CellSource::AccessPolicy { .. }))
    });
    // Without sources (no access policies in play) a cell is RBAC's.
    let rbac = sources.is_none_or(|s| s.contains(&CellSource::Rbac));
    let rbac_mark = match row.verbs.get(verb) {
        Some(Access::All) if rbac => Some("✓"),
        Some(Access::Named) if rbac => Some("~"),
        _ => None,
    };
    match (rbac_mark, policy) {
        (Some(m), false) if m == "~" => Cell::new(m).color(Color::Yellow),
        (Some(m), false) => Cell::new(m).color(Color::Green),
        (Some(m), true) => Cell::new(format!("{m}A")).color(Color::Green),
        (None, true) => Cell::new("A").color(Color::Cyan),
        (None, false) => Cell::new(""),
    }
}

/// The rows with verbs beyond the standard ones (`bind`, `escalate`, `impersonate`, ...) or
/// cells limited to named objects: which verbs, which names. `None` when there are none.
fn details(rows: &[ResourceRow], color: bool, width: Option<usize>) -> Option<String> {
    let mut t = Table::new(["resource", "other verbs", "names"]);
    for row in rows {
        let other: Vec<String> = row
            .verbs
            .iter()
            .filter(|(v, _)| !STANDARD_VERBS.contains(&v.as_str()))
            .map(|(v, a)| match a {
                Access::All => v.clone(),
                Access::Named => format!("{v}~"),
            })
            .collect();
        if other.is_empty() && row.names.is_empty() {
            continue;
        }
        t.push([
            short_resource(&row.resource),
            other.join(","),
            row.names.join(","),
        ]);
    }
    (!t.is_empty()).then(|| t.render(width, color))
}

#[cfg(test)]
mod tests;
