//! stdout is data: tables, JSON or YAML. Everything else goes to stderr.

use eks_auth::cli::OutputFormat;
use eks_auth::cli::table::{Table, terminal_width};
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

/// A kubectl-style table (the suite's one style, `eks_auth::cli::table`): upper-case headers, no
/// borders, wrapped to the terminal at word and list boundaries.
pub fn table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut t = Table::new(headers);
    for row in rows {
        t.push(row);
    }
    t.render(terminal_width(), false)
}

/// `KEY   value` lines (rows with an empty value are left out).
pub fn fields(rows: &[(&str, String)]) -> String {
    eks_auth::cli::table::fields(rows, terminal_width())
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
        assert_eq!(t, "NAME   GROUPS\nbob    reader\n");
    }
}
