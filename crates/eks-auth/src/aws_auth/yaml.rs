//! A small YAML node tree with source positions, built from granit-parser's events.
//!
//! The tree is only used to read one value of the aws-auth ConfigMap (`mapRoles`, `mapUsers` or
//! `mapAccounts`) and to find the byte ranges an edit must touch. YAML features that would make a
//! byte-range edit unsafe (anchors, aliases, merge keys, tags other than `!!str`, complex keys,
//! several documents) are refused with their position rather than half-understood.
//!
//! Scalars (how a plain one resolves, how to write one) are in `scalar`.

use granit_parser::{Event, Parser, ScalarStyle, Span, StructureStyle};

mod scalar;

pub(crate) use scalar::{Resolved, render_scalar, resolve_plain};

/// A position in the text of one ConfigMap value: 1-based line, 1-based column (in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub column: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum YamlError {
    Syntax { message: String, pos: Pos },
    Unsupported { what: &'static str, pos: Pos },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Style {
    Plain,
    Single,
    Double,
    Block,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Scalar {
        value: String,
        style: Style,
    },
    Seq {
        flow: bool,
        items: Vec<Node>,
    },
    Map {
        flow: bool,
        pairs: Vec<(Node, Node)>,
    },
}

#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub kind: Kind,
    /// Byte offset where the node starts: a scalar's first character (or quote), the `-` of a
    /// block sequence, the first key of a block mapping, the `[` or `{` of a flow collection.
    /// For block scalars (`|`, `>`) it is the first content character, after the header line.
    pub start: usize,
    /// Byte offset just after the node's last content character (trailing blank lines of block
    /// scalars excluded; for flow collections just after `]` or `}`).
    pub end: usize,
    pub pos: Pos,
    /// 0-based column in characters.
    pub col: usize,
}

impl Node {
    pub fn scalar(&self) -> Option<(&str, Style)> {
        match &self.kind {
            Kind::Scalar { value, style } => Some((value, *style)),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar { value, style: Style::Plain } if resolve_plain(value) == Resolved::Null)
    }
}

pub(crate) fn pos_of(span: &Span) -> Pos {
    Pos {
        line: span.start.line(),
        column: span.start.col() + 1,
    }
}

pub(crate) fn byte(text: &str, m: &granit_parser::Marker) -> usize {
    // granit-parser reports byte offsets for &str input; fall back to the char index.
    m.byte_offset().unwrap_or_else(|| {
        text.char_indices()
            .nth(m.index())
            .map_or(text.len(), |(b, _)| b)
    })
}

/// Where one event stands in the text: its byte range, position and 0-based column.
#[derive(Clone, Copy)]
pub(crate) struct At {
    pub start: usize,
    pub end: usize,
    pub pos: Pos,
    pub col: usize,
}

/// granit-parser's events over `text`, each with where it stands; a scan error becomes a
/// [`YamlError::Syntax`] at its marker. Shared by the editing tree and the reading tree
/// ([`super::yaml_read`]).
pub(crate) fn events(text: &str) -> impl Iterator<Item = Result<(Event<'_>, At), YamlError>> {
    Parser::new_from_str(text).map(move |ev| {
        let (event, span) = ev.map_err(|e| YamlError::Syntax {
            message: e.info(),
            pos: Pos {
                line: e.marker().line(),
                column: e.marker().col() + 1,
            },
        })?;
        let at = At {
            start: byte(text, &span.start),
            end: byte(text, &span.end),
            pos: pos_of(&span),
            col: span.start.col(),
        };
        Ok((event, at))
    })
}

/// The style a scalar is written in, before any tag.
pub(crate) fn natural_style(style: ScalarStyle) -> Style {
    match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::Single,
        ScalarStyle::DoubleQuoted => Style::Double,
        _ => Style::Block,
    }
}

/// A scalar node at `at`; a block scalar's trailing blank lines are left out of its range.
pub(crate) fn scalar_node(text: &str, value: String, style: Style, at: At) -> Node {
    let end = if style == Style::Block {
        at.start + text[at.start..at.end].trim_end().len()
    } else {
        at.end
    };
    Node {
        kind: Kind::Scalar { value, style },
        start: at.start,
        end,
        pos: at.pos,
        col: at.col,
    }
}

/// The editing tree refuses anchors and tags on a collection (see the module docs).
fn refuse_anchor_or_tag(anchor: usize, tagged: bool, pos: Pos) -> Result<(), YamlError> {
    if anchor != 0 {
        return Err(YamlError::Unsupported {
            what: "an anchor (`&`)",
            pos,
        });
    }
    if tagged {
        return Err(YamlError::Unsupported {
            what: "a tag (`!`)",
            pos,
        });
    }
    Ok(())
}

/// A collection whose start event has come and whose end event has not.
pub(crate) struct Open {
    pub flow: bool,
    pub start: usize,
    pub pos: Pos,
    pub col: usize,
    /// The anchor id of the collection, 0 for none (the editing tree refuses anchors).
    pub anchor: usize,
}

enum Frame {
    Seq(Open, Vec<Node>),
    Map(Open, Vec<(Node, Node)>, Option<Node>),
}

/// The stack of open collections both trees build from events; each tree keeps its own rules
/// for what a collection's range is and which keys it accepts.
#[derive(Default)]
pub(crate) struct Builder {
    stack: Vec<Frame>,
    /// The finished top-level node.
    pub root: Option<Node>,
}

impl Builder {
    pub fn open_seq(&mut self, style: StructureStyle, anchor: usize, at: At) {
        let open = Open::new(style, anchor, at);
        self.stack.push(Frame::Seq(open, Vec::new()));
    }

    pub fn open_map(&mut self, style: StructureStyle, anchor: usize, at: At) {
        let open = Open::new(style, anchor, at);
        self.stack.push(Frame::Map(open, Vec::new(), None));
    }

    /// The sequence that `SequenceEnd` at `pos` closes, with its items.
    pub fn close_seq(&mut self, pos: Pos) -> Result<(Open, Vec<Node>), YamlError> {
        match self.stack.pop() {
            Some(Frame::Seq(open, items)) => Ok((open, items)),
            _ => Err(unbalanced(pos)),
        }
    }

    /// The mapping that `MappingEnd` at `pos` closes, with its pairs.
    pub fn close_map(&mut self, pos: Pos) -> Result<(Open, Vec<(Node, Node)>), YamlError> {
        match self.stack.pop() {
            Some(Frame::Map(open, pairs, _)) => Ok((open, pairs)),
            _ => Err(unbalanced(pos)),
        }
    }

    /// Puts a finished node into the innermost open collection, or makes it the root.
    /// `check_key` judges a node about to become a mapping key (each tree's own rules).
    pub fn add(
        &mut self,
        node: Node,
        check_key: impl FnOnce(&Node) -> Result<(), YamlError>,
    ) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq(_, items)) => items.push(node),
            Some(Frame::Map(_, pairs, key)) => match key.take() {
                None => {
                    check_key(&node)?;
                    *key = Some(node);
                }
                Some(k) => pairs.push((k, node)),
            },
        }
        Ok(())
    }
}

impl Open {
    /// The finished collection node: `kind` from this start to `end`.
    pub fn node(&self, kind: Kind, end: usize) -> Node {
        Node {
            kind,
            start: self.start,
            end,
            pos: self.pos,
            col: self.col,
        }
    }

    fn new(style: StructureStyle, anchor: usize, at: At) -> Self {
        Open {
            flow: style == StructureStyle::Flow,
            start: at.start,
            pos: at.pos,
            col: at.col,
            anchor,
        }
    }
}

/// Parse one YAML document. `Ok(None)` for a stream without a document (empty or only comments).
pub(crate) fn parse(text: &str) -> Result<Option<Node>, YamlError> {
    if let Some(root) = super::simple::parse(text) {
        return Ok(Some(root));
    }
    parse_events(text)
}

/// [`parse`] through granit-parser's events, whatever the layout.
pub(crate) fn parse_events(text: &str) -> Result<Option<Node>, YamlError> {
    let mut tree = Builder::default();
    let mut documents = 0usize;
    for ev in events(text) {
        let (event, at) = ev?;
        let (end, pos) = (at.end, at.pos);
        let node = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => continue,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(YamlError::Unsupported {
                        what: "a second YAML document",
                        pos,
                    });
                }
                continue;
            }
            Event::Alias(_) | Event::UnresolvedAlias(_) => {
                return Err(YamlError::Unsupported {
                    what: "an alias (`*`)",
                    pos,
                });
            }
            Event::Anchor(..) => {
                return Err(YamlError::Unsupported {
                    what: "an anchor (`&`)",
                    pos,
                });
            }
            Event::Scalar(value, style, anchor, tag) => {
                if anchor != 0 {
                    return Err(YamlError::Unsupported {
                        what: "an anchor (`&`)",
                        pos,
                    });
                }
                let tagged_str = match &tag {
                    None => false,
                    Some(t) if t.is_yaml_core_schema_tag("str") => true,
                    Some(_) => {
                        return Err(YamlError::Unsupported {
                            what: "a tag (`!`)",
                            pos,
                        });
                    }
                };
                let style = match natural_style(style) {
                    Style::Plain if tagged_str => Style::Double,
                    style => style,
                };
                scalar_node(text, value.into_owned(), style, at)
            }
            Event::SequenceStart(style, anchor, tag) => {
                refuse_anchor_or_tag(anchor, tag.is_some(), pos)?;
                tree.open_seq(style, anchor, at);
                continue;
            }
            Event::MappingStart(style, anchor, tag) => {
                refuse_anchor_or_tag(anchor, tag.is_some(), pos)?;
                tree.open_map(style, anchor, at);
                continue;
            }
            Event::SequenceEnd => {
                let (open, items) = tree.close_seq(pos)?;
                let end = if open.flow {
                    end
                } else {
                    items.last().map_or(open.start, |n| n.end)
                };
                // An indentless block sequence (`key:\n- a`) reports its start at the
                // first item; normalise every block sequence to start at its first `-`.
                let dash = match items.first() {
                    Some(first) if !open.flow => dash_before(text, first),
                    _ => None,
                };
                let mut node = open.node(
                    Kind::Seq {
                        flow: open.flow,
                        items,
                    },
                    end,
                );
                if let Some((start, pos, col)) = dash {
                    (node.start, node.pos, node.col) = (start, pos, col);
                }
                node
            }
            Event::MappingEnd => {
                let (open, pairs) = tree.close_map(pos)?;
                let end = if open.flow {
                    end
                } else {
                    pairs.last().map_or(open.start, |(_, v)| v.end)
                };
                open.node(
                    Kind::Map {
                        flow: open.flow,
                        pairs,
                    },
                    end,
                )
            }
            #[allow(unreachable_patterns)]
            _ => continue,
        };
        tree.add(node, |key| {
            if key.scalar().is_none() {
                return Err(YamlError::Unsupported {
                    what: "a mapping key that is not a scalar",
                    pos: key.pos,
                });
            }
            if matches!(key.scalar(), Some(("<<", Style::Plain))) {
                return Err(YamlError::Unsupported {
                    what: "a merge key (`<<`)",
                    pos: key.pos,
                });
            }
            Ok(())
        })?;
    }
    Ok(tree.root)
}

/// The `-` indicator before a block sequence item starting at `item_start`.
pub(crate) fn dash_before(text: &str, item: &Node) -> Option<(usize, Pos, usize)> {
    let item_start = item.start;
    let before = text[..item_start].trim_end();
    if !before.ends_with('-') {
        return None;
    }
    let dash = before.len() - 1;
    let line_start = text[..dash].rfind('\n').map_or(0, |i| i + 1);
    let col = text[line_start..dash].chars().count();
    let line = item.pos.line - text[dash..item_start].matches('\n').count();
    Some((
        dash,
        Pos {
            line,
            column: col + 1,
        },
        col,
    ))
}

fn unbalanced(pos: Pos) -> YamlError {
    YamlError::Syntax {
        message: "unbalanced collection events".to_owned(),
        pos,
    }
}

#[cfg(test)]
mod tests;
