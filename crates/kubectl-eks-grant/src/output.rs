//! stdout is data: tables, JSON or YAML. Everything else goes to stderr.

use comfy_table::{Table, presets};
use eks_auth::cli::OutputFormat;
use serde::Serialize;

pub use eks_auth::cli::write_stdout;

/// Prints `value` as JSON or YAML, or as the table `table` renders.
pub fn emit<T: Serialize>(
    format: OutputFormat,
    value: &T,
    table: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    let text = match format {
        OutputFormat::Json => serde_json::to_string_pretty(value)? + "\n",
        OutputFormat::Yaml => serde_yaml::to_string(value)?,
        OutputFormat::Table => table(value),
    };
    write_stdout(&text)?;
    Ok(())
}

/// A kubectl-style table: upper-case headers, no borders.
pub fn table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    t.set_header(headers.iter().map(|h| h.to_uppercase()));
    for row in rows {
        t.add_row(row);
    }
    let mut s = t.trim_fmt();
    s.push('\n');
    s
}

/// `KEY  value` lines.
pub fn fields(rows: &[(&str, String)]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::NOTHING);
    for (k, v) in rows {
        t.add_row(vec![k.to_uppercase(), v.clone()]);
    }
    let mut s = t.trim_fmt();
    s.push('\n');
    s
}

/// A note for the user on stderr.
pub fn note(text: &str) {
    eprintln!("note: {text}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_look_like_kubectl() {
        let t = table(
            &["name", "groups"],
            [vec!["bob".to_owned(), "reader".to_owned()]],
        );
        assert_eq!(t, " NAME  GROUPS\n bob   reader\n");
    }
}
