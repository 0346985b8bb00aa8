//! Pure: one aws-auth value as the authenticator's YAML reader (gopkg.in/yaml.v2, through
//! sigs.k8s.io/yaml `ToJSON`) sees it, for reading only: aliases expanded, merge keys (`<<`)
//! applied, tags resolved, and only the first document. The editing tree ([`super::yaml::parse`])
//! refuses all of these; this one never edits, so it may flatten them.
//!
//! yaml.v2 facts mirrored (go-yaml v2 `decode.go`, `resolve.go`):
//! - `Unmarshal` decodes the first document of the stream and ignores the rest;
//! - a merge key's value is a mapping or a list of mappings; its pairs are set into the mapping
//!   where the `<<` stands, so a key written after it wins and a key written before it loses;
//!   of a list, earlier mappings win (`merge` walks it backwards). Anything else is an error
//!   for the whole value;
//! - `!!str` makes a string; `!!int`, `!!float`, `!!bool`, `!!null` must fit the scalar's text
//!   or the whole value fails ("cannot decode !!str `x` as a !!int"); other tags leave the text
//!   as a string;
//! - a mapping key that is not a scalar cannot be a key of the `map[interface{}]interface{}`
//!   yaml.v2 decodes into: the whole value fails;
//! - aliasing that multiplies the document is refused ("excessive aliasing"); here past
//!   [`MAX_NODES`] nodes.

use std::collections::HashMap;

use granit_parser::{Event, ScalarStyle};

use super::yaml::{
    Builder, Kind, Node, Pos, Resolved, Style, YamlError, events, natural_style, resolve_plain,
    scalar_node,
};

/// The most nodes a value may expand to through aliases.
pub(crate) const MAX_NODES: usize = 100_000;

fn count(node: &Node) -> usize {
    1 + match &node.kind {
        Kind::Scalar { .. } => 0,
        Kind::Seq { items, .. } => items.iter().map(count).sum(),
        Kind::Map { pairs, .. } => pairs.iter().map(|(k, v)| count(k) + count(v)).sum(),
    }
}

fn fail(message: impl Into<String>, pos: Pos) -> YamlError {
    YamlError::Syntax {
        message: message.into(),
        pos,
    }
}

/// A tagged scalar as yaml.v2 resolves it: its text and the style that makes
/// [`resolve_plain`]-based decoding read it as yaml.v2 does.
fn tagged(
    value: &str,
    style: ScalarStyle,
    tag: Option<&granit_parser::Tag>,
    pos: Pos,
) -> Result<Style, YamlError> {
    let natural = natural_style(style);
    let Some(tag) = tag else {
        return Ok(natural);
    };
    let core = |s: &str| tag.is_yaml_core_schema_tag(s);
    let want = if core("str") {
        return Ok(Style::Double);
    } else if core("int") || core("float") {
        [Resolved::Int, Resolved::Float].as_slice()
    } else if core("bool") {
        [Resolved::Bool].as_slice()
    } else if core("null") {
        [Resolved::Null].as_slice()
    } else {
        // Any other tag: yaml.v2 keeps the text (a string for `interface{}`).
        return Ok(Style::Double);
    };
    let resolved = if value.is_empty() {
        Resolved::Null
    } else {
        resolve_plain(value)
    };
    if want.contains(&resolved) {
        Ok(Style::Plain)
    } else {
        Err(fail(
            format!("cannot decode `{value}` with its tag (yaml.v2 refuses the whole value)"),
            pos,
        ))
    }
}

/// Expands the merge keys of a finished mapping's pairs (see the module docs).
fn merge_pairs(pairs: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, YamlError> {
    let mut out = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        if !matches!(k.scalar(), Some(("<<", Style::Plain))) {
            out.push((k, v));
            continue;
        }
        let bad = || {
            fail(
                "map merge requires map or sequence of maps as the value (yaml.v2 refuses the whole value)",
                v.pos,
            )
        };
        match v.kind {
            Kind::Map { pairs, .. } => out.extend(pairs),
            Kind::Seq { items, .. } => {
                let mut maps = Vec::with_capacity(items.len());
                for item in items {
                    match item.kind {
                        Kind::Map { pairs, .. } => maps.push(pairs),
                        _ => return Err(bad()),
                    }
                }
                for pairs in maps.into_iter().rev() {
                    out.extend(pairs);
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(out)
}

/// Parse the first document of `text` as yaml.v2 reads it (see the module docs). `Ok(None)` for
/// a stream without a document. An error means the authenticator reads nothing from the value.
pub(crate) fn parse_read(text: &str) -> Result<Option<Node>, YamlError> {
    let mut tree = Builder::default();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut documents = 0usize;
    for ev in events(text) {
        let (event, at) = ev?;
        let pos = at.pos;
        let (node, anchor) = match event {
            Event::StreamStart => continue,
            Event::StreamEnd | Event::DocumentEnd => break,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    break;
                }
                continue;
            }
            Event::Alias(id) => {
                let node = anchors
                    .get(&id)
                    .cloned()
                    .ok_or_else(|| fail("unknown anchor", pos))?;
                (node, 0)
            }
            Event::Scalar(value, style, anchor, tag) => {
                let style = tagged(&value, style, tag.as_deref(), pos)?;
                (scalar_node(text, value.into_owned(), style, at), anchor)
            }
            Event::SequenceStart(style, anchor, _) => {
                tree.open_seq(style, anchor, at);
                continue;
            }
            Event::MappingStart(style, anchor, _) => {
                tree.open_map(style, anchor, at);
                continue;
            }
            Event::SequenceEnd => {
                let (open, items) = tree.close_seq(pos)?;
                let end = items.last().map_or(open.start, |n| n.end.max(open.start));
                let kind = Kind::Seq {
                    flow: open.flow,
                    items,
                };
                (open.node(kind, end), open.anchor)
            }
            Event::MappingEnd => {
                let (open, pairs) = tree.close_map(pos)?;
                let pairs = merge_pairs(pairs)?;
                let end = pairs
                    .last()
                    .map_or(open.start, |(_, v)| v.end.max(open.start));
                let kind = Kind::Map {
                    flow: open.flow,
                    pairs,
                };
                (open.node(kind, end), open.anchor)
            }
            #[allow(unreachable_patterns)]
            _ => continue,
        };
        nodes += count(&node);
        if nodes > MAX_NODES {
            return Err(fail(
                "document contains excessive aliasing (yaml.v2 refuses the whole value)",
                pos,
            ));
        }
        if anchor != 0 {
            anchors.insert(anchor, node.clone());
        }
        tree.add(node, |key| {
            if key.scalar().is_none() {
                return Err(fail(
                    "a mapping key that is not a scalar (yaml.v2 refuses the whole value)",
                    key.pos,
                ));
            }
            Ok(())
        })?;
    }
    Ok(tree.root)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Node {
        parse_read(text).unwrap().unwrap()
    }

    fn pairs_text(node: &Node) -> Vec<(String, String)> {
        match &node.kind {
            Kind::Map { pairs, .. } => pairs
                .iter()
                .map(|(k, v)| {
                    (
                        k.scalar().unwrap().0.to_owned(),
                        v.scalar().map_or("<node>".to_owned(), |s| s.0.to_owned()),
                    )
                })
                .collect(),
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn aliases_expand_and_merges_apply_in_place() {
        let root = read("a: &x {u: 1, v: 2}\nb:\n  u: 0\n  <<: *x\n  v: 3\n");
        let Kind::Map { pairs, .. } = &root.kind else {
            panic!()
        };
        // `u: 0` before the merge loses to the merged `u: 1`; `v: 3` after it wins.
        let b = pairs_text(&pairs[1].1);
        assert_eq!(
            b,
            [("u", "0"), ("u", "1"), ("v", "2"), ("v", "3")]
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
    }

    #[test]
    fn earlier_maps_of_a_merge_list_win() {
        let root = read("- &a {k: a}\n- &b {k: b}\n- <<: [*a, *b]\n");
        let Kind::Seq { items, .. } = &root.kind else {
            panic!()
        };
        assert_eq!(
            pairs_text(&items[2]).last().unwrap(),
            &("k".to_owned(), "a".to_owned())
        );
    }

    #[test]
    fn only_the_first_document() {
        let root = read("- a\n---\n- b\n- [unclosed\n");
        let Kind::Seq { items, .. } = &root.kind else {
            panic!()
        };
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn tags() {
        let root = read("- !!str 123\n- !custom 456\n- !!int \"7\"\n");
        let Kind::Seq { items, .. } = &root.kind else {
            panic!()
        };
        assert_eq!(items[0].scalar(), Some(("123", Style::Double)));
        assert_eq!(items[1].scalar(), Some(("456", Style::Double)));
        assert_eq!(items[2].scalar(), Some(("7", Style::Plain)));
        assert!(parse_read("- !!int abc\n").is_err());
        assert!(parse_read("- <<: 1\n").is_err());
        assert!(parse_read("? [a]\n: b\n").is_err());
    }

    #[test]
    fn excessive_aliasing_is_refused() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            text.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let err = parse_read(&text).unwrap_err();
        assert!(matches!(err, YamlError::Syntax { message, .. } if message.contains("excessive")));
    }
}
