//! Output: tables for people (comfy-table), JSON and YAML for scripts.

use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Cell, Color, ContentArrangement, Table};
use eks_auth::cli::OutputFormat;

use crate::permissions::STANDARD_VERBS;
use crate::report::{Access, AwsSource, EntryView, KubeStatus, MappingKind, Report, Verdict};

/// Renders the report in the format asked for (a trailing newline included).
pub fn render(report: &Report, format: OutputFormat, color: bool) -> anyhow::Result<String> {
    Ok(match format {
        OutputFormat::Json => serde_json::to_string_pretty(report)? + "\n",
        OutputFormat::Yaml => serde_yaml::to_string(report)?,
        OutputFormat::Table => tables(report, color),
    })
}

fn table(color: bool) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic);
    if !color {
        t.force_no_tty();
    }
    t
}

fn key_values(rows: Vec<(&str, String)>, color: bool) -> String {
    let mut t = table(color);
    for (k, v) in rows {
        if !v.is_empty() {
            t.add_row(vec![Cell::new(k), Cell::new(v)]);
        }
    }
    t.to_string()
}

/// Wraps `text` at `width` columns, each line indented by `indent`.
fn wrap(text: &str, indent: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && indent.len() + line.len() + 1 + word.len() > width {
            out.push_str(indent);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(indent);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

const WIDTH: usize = 100;

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

fn tables(r: &Report, color: bool) -> String {
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
    out.push_str(&key_values(
        vec![
            ("ARN", a.arn.clone().unwrap_or_default()),
            ("Account", a.account.clone().unwrap_or_default()),
            ("User ID", a.user_id.clone().unwrap_or_default()),
            ("Canonical ARN", a.canonical_arn.clone().unwrap_or_default()),
            ("Access key", a.access_key_id.clone().unwrap_or_default()),
            ("Via", via),
            ("Source", source.to_owned()),
            ("Token", token),
            ("Error", a.error.clone().unwrap_or_default()),
        ],
        color,
    ));
    out.push('\n');
    for note in &a.notes {
        out.push_str(&wrap(&format!("note: {note}"), "", WIDTH));
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
    out.push_str(&key_values(
        vec![
            ("Status", status.to_owned()),
            ("Username", k.username.clone().unwrap_or_default()),
            ("UID", k.uid.clone().unwrap_or_default()),
            ("Groups", k.groups.join(", ")),
            ("Extra", extra),
            ("Error", k.error.clone().unwrap_or_default()),
        ],
        color,
    ));
    out.push('\n');

    // Mapping
    out.push_str("\nMapping\n");
    let m = &r.mapping;
    let source = match m.source {
        MappingKind::MapRoles | MappingKind::MapUsers | MappingKind::MapAccounts => {
            m.entry.as_ref().map(entry_text).unwrap_or_default()
        }
        MappingKind::ClusterCreator => {
            "cluster creator (implicit admin: kubernetes-admin in system:masters)".to_owned()
        }
        MappingKind::Other => "not aws-auth (an EKS access entry?)".to_owned(),
        MappingKind::Unknown => "unknown (aws-auth not readable)".to_owned(),
        MappingKind::None => "none: nothing maps this identity".to_owned(),
    };
    let aws_auth = serde_json::to_value(m.aws_auth)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    out.push_str(&key_values(
        vec![
            ("aws-auth", aws_auth),
            ("Source", source),
            (
                "Shadowed",
                m.shadowed
                    .iter()
                    .map(entry_text)
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            ("Inferred", m.inferred.join("\n")),
        ],
        color,
    ));
    out.push('\n');
    for note in &m.notes {
        out.push_str(&wrap(&format!("note: {note}"), "", WIDTH));
    }

    if let Some(b) = &r.bindings {
        out.push_str("\nBindings\n");
        if b.items.is_empty() {
            out.push_str("(none found)\n");
        } else {
            let mut t = table(color);
            t.set_header(vec![
                "KIND",
                "NAMESPACE",
                "NAME",
                "ROLE",
                "SUBJECT",
                "RULES",
            ]);
            for item in &b.items {
                let mut rules: Vec<String> = item.rules.iter().take(4).cloned().collect();
                if item.rules.len() > 4 {
                    rules.push(format!("(+{} more)", item.rules.len() - 4));
                }
                if let Some(n) = &item.rules_note {
                    rules.push(n.clone());
                }
                t.add_row(vec![
                    item.kind.clone(),
                    item.namespace.clone().unwrap_or_default(),
                    item.name.clone(),
                    item.role.clone(),
                    item.subject.clone(),
                    rules.join("\n"),
                ]);
            }
            out.push_str(&t.to_string());
            out.push('\n');
        }
        for e in &b.errors {
            out.push_str(&wrap(&format!("incomplete: {e}"), "", WIDTH));
        }
    }

    if let Some(p) = &r.permissions {
        match &p.namespace {
            Some(ns) => out.push_str(&format!("\nPermissions in namespace {ns}\n")),
            None => out.push_str("\nPermissions (cluster-wide)\n"),
        }
        let mut t = table(color);
        let mut header = vec!["RESOURCE".to_owned()];
        header.extend(STANDARD_VERBS.iter().map(|v| v.to_uppercase()));
        header.push("OTHER".to_owned());
        let any_names = p.resources.iter().any(|r| !r.names.is_empty());
        if any_names {
            header.push("NAMES".to_owned());
        }
        t.set_header(header);
        for row in &p.resources {
            let mut cells = vec![Cell::new(&row.resource)];
            for verb in STANDARD_VERBS {
                cells.push(match row.verbs.get(*verb) {
                    Some(Access::All) => Cell::new("✓").fg(Color::Green),
                    Some(Access::Named) => Cell::new("~").fg(Color::Yellow),
                    None => Cell::new(""),
                });
            }
            let other: Vec<String> = row
                .verbs
                .iter()
                .filter(|(v, _)| !STANDARD_VERBS.contains(&v.as_str()))
                .map(|(v, a)| match a {
                    Access::All => v.clone(),
                    Access::Named => format!("{v}~"),
                })
                .collect();
            cells.push(Cell::new(other.join(",")));
            if any_names {
                cells.push(Cell::new(row.names.join(",")));
            }
            t.add_row(cells);
        }
        if p.resources.is_empty() {
            out.push_str("(no resource permissions)\n");
        } else {
            out.push_str(&t.to_string());
            out.push('\n');
            out.push_str("✓ every object   ~ only the named objects\n");
        }
        for row in &p.non_resource {
            out.push_str(&format!(
                "non-resource {}: {}\n",
                row.urls.join(","),
                row.verbs.join(",")
            ));
        }
        out.push_str(&wrap(&format!("from: {}", p.method), "", WIDTH));
        if p.incomplete {
            out.push_str("INCOMPLETE: the list may not show everything you may do\n");
        }
        if let Some(e) = &p.evaluation_error {
            out.push_str(&wrap(&format!("evaluation error: {e}"), "", WIDTH));
        }
        for note in &p.notes {
            out.push_str(&wrap(&format!("note: {note}"), "", WIDTH));
        }
    }

    if let Some(d) = &r.diagnosis {
        out.push_str("\nDiagnosis\n");
        out.push_str(&wrap(&d.summary, "", WIDTH));
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
                out.push_str(&wrap(&c.detail, "     ", WIDTH));
            }
        }
        if !d.missing.is_empty() {
            out.push_str("Missing:\n");
            for m in &d.missing {
                out.push_str(&format!("  - {m}\n"));
            }
        }
        if let Some(cmd) = &d.grant_command {
            out.push_str("To give this identity access, a cluster admin runs:\n");
            out.push_str(&format!("  {cmd}\n"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_words_with_indent() {
        assert_eq!(wrap("aaa bbb ccc ddd", "  ", 9), "  aaa bbb\n  ccc ddd\n");
        assert_eq!(wrap("", "  ", 9), "");
    }
}
