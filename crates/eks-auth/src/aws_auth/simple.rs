//! A fast reader for the one layout nearly every aws-auth value has: a block list of block
//! mappings whose keys are words and whose values are plain scalars of a conservative character
//! set or block lists of them, e.g.
//!
//! ```yaml
//! - rolearn: arn:aws:iam::111122223333:role/node
//!   username: system:node:{{EC2PrivateDNSName}}
//!   groups:
//!     - system:nodes
//! ```
//!
//! It builds exactly the tree [`super::yaml::parse`] builds from granit-parser's events (the
//! tests compare both), and answers `None` for anything outside that layout (comments, quotes,
//! flow collections, tabs, carriage returns, trailing blanks, empty values, other indentation,
//! characters outside the set): the caller then runs the full parser. Accepting less is always
//! safe; everything accepted is YAML whose reading does not depend on anything this module does
//! not check.

use super::yaml::{Kind, Node, Pos, Style};

/// A plain scalar that reads as itself in block context: starts with a letter or digit (no
/// indicator), then letters, digits and `:/_.@=+{}-`, never ending in `:` (no space, so never
/// `: ` or ` #`).
fn plain_value(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1] != b':'
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || b":/_.@=+{}-".contains(&c))
}

/// A mapping key: letters only, and short (granit-parser refuses a simple key longer than its
/// look-ahead limit, 1,024 characters).
fn word(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|c| c.is_ascii_alphabetic())
}

struct Line<'a> {
    /// Byte offset of the line in the text.
    at: usize,
    /// 1-based line number.
    no: usize,
    indent: usize,
    /// After the indentation.
    rest: &'a str,
}

fn scalar(value: &str, at: usize, no: usize, col: usize) -> Node {
    Node {
        kind: Kind::Scalar {
            value: value.to_owned(),
            style: Style::Plain,
        },
        start: at,
        end: at + value.len(),
        pos: Pos {
            line: no,
            column: col + 1,
        },
        col,
    }
}

/// `KEY: VALUE` or `KEY:` at `col` of line `l`: the key node and the value text, if any.
fn key_value<'a>(l: &Line<'a>, rest: &'a str, col: usize) -> Option<(Node, Option<&'a str>)> {
    let (key, value) = match rest.split_once(':') {
        Some((k, "")) => (k, None),
        Some((k, v)) => (k, Some(v.strip_prefix(' ')?)),
        None => return None,
    };
    if !word(key) {
        return None;
    }
    if let Some(v) = value
        && !plain_value(v)
    {
        return None;
    }
    Some((scalar(key, l.at + col, l.no, col), value))
}

/// The tree of `text` when it has the simple layout, else `None`.
pub(crate) fn parse(text: &str) -> Option<Node> {
    let mut lines = Vec::new();
    let mut at = 0;
    for (i, raw) in text.split_inclusive('\n').enumerate() {
        let line = raw.strip_suffix('\n').unwrap_or(raw);
        if line.is_empty() {
            at += raw.len();
            continue;
        }
        let rest = line.trim_start_matches(' ');
        if rest.is_empty()
            || rest.ends_with(' ')
            || !rest.is_ascii()
            || rest.contains(['\t', '\r', '#', '\'', '"'])
        {
            return None;
        }
        lines.push(Line {
            at,
            no: i + 1,
            indent: line.len() - rest.len(),
            rest,
        });
        at += raw.len();
    }
    let first = lines.first()?;
    let dash_col = first.indent;
    let key_col = dash_col + 2;
    let mut items: Vec<Node> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        // `- KEY: ...` at the list's column starts an entry.
        let l = &lines[i];
        if l.indent != dash_col {
            return None;
        }
        let mut rest = l.rest.strip_prefix("- ")?;
        let mut pairs: Vec<(Node, Node)> = Vec::new();
        let mut line = l;
        loop {
            let (key, value) = key_value(line, rest, key_col)?;
            i += 1;
            let value = match value {
                Some(v) => scalar(
                    v,
                    line.at + line.rest.len() - v.len() + line.indent,
                    line.no,
                    line.indent + line.rest.len() - v.len(),
                ),
                None => {
                    // A block list of values: `- VALUE` lines at one column, at least the key's.
                    let item_col = lines.get(i)?.indent;
                    if item_col < key_col {
                        return None;
                    }
                    let mut values = Vec::new();
                    while let Some(l) = lines
                        .get(i)
                        .filter(|l| l.indent == item_col && l.rest.starts_with("- "))
                    {
                        let v = l.rest.strip_prefix("- ")?;
                        if !plain_value(v) {
                            return None;
                        }
                        values.push((l, scalar(v, l.at + item_col + 2, l.no, item_col + 2)));
                        i += 1;
                    }
                    let (dash_line, _) = values.first()?;
                    let start = dash_line.at + item_col;
                    let pos = Pos {
                        line: dash_line.no,
                        column: item_col + 1,
                    };
                    let items: Vec<Node> = values.into_iter().map(|(_, n)| n).collect();
                    Node {
                        end: items.last()?.end,
                        kind: Kind::Seq { flow: false, items },
                        start,
                        pos,
                        col: item_col,
                    }
                }
            };
            pairs.push((key, value));
            // The entry goes on with `KEY: ...` lines at the key column.
            match lines.get(i) {
                Some(next) if next.indent == key_col => {
                    line = next;
                    rest = next.rest;
                }
                Some(next) if next.indent == dash_col => break,
                None => break,
                Some(_) => return None,
            }
        }
        let (k0, _) = &pairs[0];
        items.push(Node {
            start: k0.start,
            pos: k0.pos,
            col: key_col,
            end: pairs.last()?.1.end,
            kind: Kind::Map { flow: false, pairs },
        });
    }
    Some(Node {
        start: first.at + dash_col,
        end: items.last()?.end,
        pos: Pos {
            line: first.no,
            column: dash_col + 1,
        },
        col: dash_col,
        kind: Kind::Seq { flow: false, items },
    })
}

#[cfg(test)]
mod tests {
    use super::super::yaml::parse_events;
    use super::parse;

    /// Both readers give the same tree (positions included) where the fast one answers.
    #[track_caller]
    fn same(text: &str) {
        let fast = parse(text).unwrap_or_else(|| panic!("not simple: {text:?}"));
        let full = parse_events(text).unwrap().unwrap();
        assert_eq!(format!("{fast:?}"), format!("{full:?}"), "{text:?}");
    }

    #[test]
    fn builds_the_tree_the_event_parser_builds() {
        for text in [
            "- rolearn: arn:aws:iam::123456789012:role/team-00001\n  username: team-00001:{{SessionName}}\n  groups:\n    - team-1\n- userarn: arn:aws:iam::1:user/x\n  username: x\n  groups:\n    - a\n    - b\n",
            "- rolearn: arn:aws:iam::1:role/a\n  groups:\n  - system:bootstrappers\n  - system:nodes\n  username: system:node:{{EC2PrivateDNSName}}",
            "  - rolearn: a\n\n    username: yes\n\n  - rolearn: b\n    UserName: 0x1F\n    groups:\n        - g\n",
            "- a: b\n  a: c\n",
            "- username: null\n  groups:\n      - 123\n      - x.y@z+=w\n",
        ] {
            same(text);
        }
    }

    #[test]
    fn leaves_everything_else_to_the_event_parser() {
        for text in [
            "",
            "\n",
            "# c\n- a: b\n",
            "- a: b # c\n",
            "- a: 'b'\n",
            "- a: \"b\"\n",
            "- a: [b]\n",
            "- {a: b}\n",
            "- a: b\n  c:\n",
            "- a:  b\n",
            "- a: b \n",
            "- a: b\r\n",
            "-\ta: b\n",
            "- a: é\n",
            "- a: -b\n",
            "- a: b:\n",
            "- a: b c\n",
            "- a: {{x}}\n",
            "---\n- a: b\n",
            "- a: b\n...\n",
            "- a: b\n   c: d\n",
            "- a: b\n - c: d\n",
            "-  a: b\n",
            "- a:\n    b: c\n",
            "- a:\n  - b\n   - c\n",
            "- a:\n    - b\n  - c: d\n",
            "- x\n",
            "- <<: b\n",
            "- a1: b\n",
            "  \n- a: b\n",
        ] {
            assert!(parse(text).is_none(), "{text:?}");
        }
    }
}
