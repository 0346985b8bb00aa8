//! A small YAML node tree with byte ranges, built from granit-parser events: what [`super::plan`]
//! needs to find each user's `exec` stanza and the exact bytes of its values.

use anyhow::{Result, bail};
use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

#[derive(Debug, Clone)]
pub(super) enum Kind {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias,
}

#[derive(Debug, Clone)]
pub(super) struct Node {
    pub(super) kind: Kind,
    /// Byte offset of the node's first character (for block sequences: the first item; see
    /// [`block_seq_start`]).
    pub(super) start: usize,
    /// Byte offset just after the node's last character.
    pub(super) end: usize,
    pub(super) flow: bool,
    /// The node, or a node inside it, carries an anchor or is an alias: editing it in place
    /// could change another part of the document.
    pub(super) shared: bool,
}

impl Node {
    pub(super) fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(&k.kind, Kind::Scalar(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub(super) fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    pub(super) fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }
}

enum Frame {
    Seq {
        flow: bool,
        start: usize,
        shared: bool,
        items: Vec<Node>,
    },
    Map {
        flow: bool,
        start: usize,
        shared: bool,
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

fn byte_of(text: &str, m: &granit_parser::Marker) -> usize {
    m.byte_offset().unwrap_or_else(|| {
        text.char_indices()
            .nth(m.index())
            .map_or(text.len(), |(b, _)| b)
    })
}

/// Parses the first YAML document of `text`. `Ok(None)` for an empty stream.
pub(super) fn parse_tree(text: &str) -> Result<Option<Node>> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    for ev in Parser::new_from_str(text) {
        let (event, span) = ev.map_err(|e| {
            anyhow::anyhow!(
                "not valid YAML at line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            )
        })?;
        let start = byte_of(text, &span.start);
        let end = byte_of(text, &span.end);
        let node = match event {
            Event::DocumentEnd if root.is_some() => break,
            Event::Alias(_) | Event::UnresolvedAlias(_) => Node {
                kind: Kind::Alias,
                start,
                end,
                flow: false,
                shared: true,
            },
            Event::Scalar(value, style, anchor, _) => {
                let end = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    start + text[start..end].trim_end().len()
                } else {
                    end
                };
                Node {
                    kind: Kind::Scalar(value.into_owned()),
                    start,
                    end,
                    flow: false,
                    shared: anchor != 0,
                }
            }
            Event::SequenceStart(style, anchor, _) => {
                stack.push(Frame::Seq {
                    flow: style == StructureStyle::Flow,
                    start,
                    shared: anchor != 0,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(style, anchor, _) => {
                stack.push(Frame::Map {
                    flow: style == StructureStyle::Flow,
                    start,
                    shared: anchor != 0,
                    pairs: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    flow,
                    start,
                    shared,
                    items,
                }) => Node {
                    end: if flow {
                        end
                    } else {
                        items.last().map_or(start, |n| n.end)
                    },
                    shared: shared || items.iter().any(|n| n.shared),
                    kind: Kind::Seq(items),
                    start,
                    flow,
                },
                _ => bail!("unbalanced YAML sequence"),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    flow,
                    start,
                    shared,
                    pairs,
                    ..
                }) => Node {
                    end: if flow {
                        end
                    } else {
                        pairs.last().map_or(start, |(_, v)| v.end)
                    },
                    shared: shared || pairs.iter().any(|(k, v)| k.shared || v.shared),
                    kind: Kind::Map(pairs),
                    start,
                    flow,
                },
                _ => bail!("unbalanced YAML mapping"),
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { pairs, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
    }
    Ok(root)
}

/// The `-` of a block sequence whose first item starts at `first_item`.
pub(super) fn block_seq_start(text: &str, first_item: usize) -> Option<usize> {
    let before = text[..first_item].trim_end_matches([' ', '\t']);
    before.ends_with('-').then(|| before.len() - 1)
}

pub(super) fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just after the newline ending the line that holds `at - 1` (or the end of the text).
pub(super) fn next_line(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}
