//! Server-side tables (`Accept: ...;as=Table`): the columns and cells kubectl prints per kind.

use serde_json::{Value, json};

use super::Kind;

/// Column definitions and row cells of the server-side table for a kind, as
/// pkg/printers/internalversion/printers.go defines them for these kinds.
pub fn table(kind: &Kind, items: &[Value], resource_version: &str, now: jiff::Timestamp) -> Value {
    let col = |name: &str, ty: &str, format: &str, priority: u8, description: &str| json!({"name": name, "type": ty, "format": format, "description": description, "priority": priority});
    let name_col = col(
        "Name",
        "string",
        "name",
        0,
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    );
    let age_col = col(
        "Age",
        "string",
        "",
        0,
        "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    );
    let created_col = col(
        "Created At",
        "date",
        "",
        0,
        "Time when this Role was created",
    );
    let binding_cols = || {
        vec![
            name_col.clone(),
            col("Role", "string", "", 0, "Role of the binding."),
            age_col.clone(),
            col("Users", "string", "", 1, "Users in the binding."),
            col("Groups", "string", "", 1, "Groups in the binding."),
            col(
                "ServiceAccounts",
                "string",
                "",
                1,
                "ServiceAccounts in the binding.",
            ),
        ]
    };
    let columns: Vec<Value> = match kind.resource {
        "namespaces" => vec![
            name_col,
            col("Status", "string", "", 0, "The status of the namespace"),
            age_col,
        ],
        "configmaps" => vec![
            name_col,
            col(
                "Data",
                "string",
                "",
                0,
                "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
            ),
            age_col,
        ],
        "clusterroles" | "roles" => vec![name_col, created_col],
        "clusterrolebindings" | "rolebindings" => binding_cols(),
        _ => vec![name_col, age_col],
    };
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let meta = &obj["metadata"];
            let name = meta["name"].as_str().unwrap_or_default();
            let created = meta["creationTimestamp"].as_str().unwrap_or_default();
            let age = created
                .parse::<jiff::Timestamp>()
                .map(|t| human_duration(now.duration_since(t).as_secs()))
                .unwrap_or_else(|_| "<unknown>".into());
            let cells: Vec<Value> = match kind.resource {
                "namespaces" => {
                    let phase = obj["status"]["phase"].as_str().unwrap_or("Active");
                    vec![json!(name), json!(phase), json!(age)]
                }
                "configmaps" => {
                    let count = obj["data"].as_object().map_or(0, |m| m.len())
                        + obj["binaryData"].as_object().map_or(0, |m| m.len());
                    vec![json!(name), json!(count), json!(age)]
                }
                "clusterroles" | "roles" => vec![json!(name), json!(created)],
                "clusterrolebindings" | "rolebindings" => {
                    let role_ref = &obj["roleRef"];
                    let role = format!(
                        "{}/{}",
                        role_ref["kind"].as_str().unwrap_or_default(),
                        role_ref["name"].as_str().unwrap_or_default()
                    );
                    let (users, groups, sas) = binding_subjects(obj);
                    vec![
                        json!(name),
                        json!(role),
                        json!(age),
                        json!(users),
                        json!(groups),
                        json!(sas),
                    ]
                }
                _ => vec![json!(name), json!(age)],
            };
            let mut partial = json!({
                "kind": "PartialObjectMetadata",
                "apiVersion": "meta.k8s.io/v1",
                "metadata": meta.clone(),
            });
            if let Some(m) = partial["metadata"].as_object_mut() {
                m.remove("managedFields");
            }
            json!({"cells": cells, "object": partial})
        })
        .collect();
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": {"resourceVersion": resource_version},
        "columnDefinitions": columns,
        "rows": rows,
    })
}

fn binding_subjects(obj: &Value) -> (String, String, String) {
    let (mut users, mut groups, mut sas) = (Vec::new(), Vec::new(), Vec::new());
    for s in obj["subjects"].as_array().into_iter().flatten() {
        let name = s["name"].as_str().unwrap_or_default().to_string();
        match s["kind"].as_str() {
            Some("User") => users.push(name),
            Some("Group") => groups.push(name),
            Some("ServiceAccount") => {
                sas.push(format!(
                    "{}/{name}",
                    s["namespace"].as_str().unwrap_or_default()
                ));
            }
            _ => {}
        }
    }
    (users.join(", "), groups.join(", "), sas.join(", "))
}

/// k8s.io/apimachinery/pkg/util/duration.HumanDuration for whole seconds.
pub fn human_duration(seconds: i64) -> String {
    if seconds < -1 {
        return "<invalid>".into();
    }
    if seconds < 0 {
        return "0s".into();
    }
    if seconds < 120 {
        return format!("{seconds}s");
    }
    let minutes = seconds / 60;
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    }
    if minutes < 180 {
        return format!("{minutes}m");
    }
    let hours = seconds / 3600;
    if hours < 8 {
        let m = minutes % 60;
        return if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        };
    }
    if hours < 48 {
        return format!("{hours}h");
    }
    if hours < 24 * 8 {
        let h = hours % 24;
        return if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        };
    }
    if hours < 24 * 365 * 2 {
        return format!("{}d", hours / 24);
    }
    if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        return if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        };
    }
    format!("{}y", hours / 24 / 365)
}
