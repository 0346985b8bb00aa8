//! `--dry-run` output: unified diffs of aws-auth and of the RBAC objects, as YAML.

use std::collections::BTreeMap;

use similar::TextDiff;

/// A ConfigMap's data as the YAML `kubectl get -o yaml` would show under `data:` (keys in order,
/// values as block scalars so that line changes show as line changes).
pub fn data_yaml(data: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    for (key, value) in data {
        if value.is_empty() {
            out.push_str(&format!("{key}: \"\"\n"));
            continue;
        }
        let chomp = if value.ends_with('\n') { "" } else { "-" };
        // An explicit indentation indicator keeps leading spaces of the first line intact.
        let indicator = if value.starts_with(' ') { "2" } else { "" };
        out.push_str(&format!("{key}: |{indicator}{chomp}\n"));
        for line in value.strip_suffix('\n').unwrap_or(value).split('\n') {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str("  ");
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// A unified diff with 3 lines of context between `old` and `new`, headed `a/<name>` and
/// `b/<name>` (`/dev/null` for a side that does not exist). Empty when they are equal.
pub fn unified(name: &str, old: Option<&str>, new: Option<&str>) -> String {
    let before = old.unwrap_or("");
    let after = new.unwrap_or("");
    if old.is_some() == new.is_some() && before == after {
        return String::new();
    }
    let a = if old.is_some() {
        format!("a/{name}")
    } else {
        "/dev/null".to_owned()
    };
    let b = if new.is_some() {
        format!("b/{name}")
    } else {
        "/dev/null".to_owned()
    };
    TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_renders_as_block_scalars() {
        let data = BTreeMap::from([
            (
                "mapRoles".to_owned(),
                "- rolearn: a\n  username: b\n".to_owned(),
            ),
            ("mapAccounts".to_owned(), String::new()),
            ("x".to_owned(), "no newline".to_owned()),
        ]);
        assert_eq!(
            data_yaml(&data),
            "mapAccounts: \"\"\nmapRoles: |\n  - rolearn: a\n    username: b\nx: |-\n  no newline\n"
        );
    }

    #[test]
    fn unified_diff_shows_the_added_lines() {
        let old = "mapUsers: |\n  - userarn: a\n    username: a\n";
        let new = "mapUsers: |\n  - userarn: a\n    username: a\n  - userarn: b\n    username: b\n";
        assert_eq!(
            unified("kube-system/aws-auth", Some(old), Some(new)),
            "--- a/kube-system/aws-auth\n+++ b/kube-system/aws-auth\n@@ -1,3 +1,5 @@\n mapUsers: |\n   - userarn: a\n     username: a\n+  - userarn: b\n+    username: b\n"
        );
    }

    #[test]
    fn equal_sides_give_no_diff_and_new_objects_diff_from_dev_null() {
        assert_eq!(unified("x", Some("a\n"), Some("a\n")), "");
        assert_eq!(
            unified("ClusterRole/r", None, Some("kind: ClusterRole\n")),
            "--- /dev/null\n+++ b/ClusterRole/r\n@@ -0,0 +1 @@\n+kind: ClusterRole\n"
        );
    }
}
