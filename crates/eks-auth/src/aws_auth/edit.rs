//! Text edits on one aws-auth value: replace or insert only the bytes of the entry being changed,
//! in the style (indentation, key spelling, quoting, list layout) the document already uses.

use super::decode::{Refs, fold_eq};
use super::yaml::{Kind, Node, Style, render_scalar};

/// A value of a field in a new or changed entry.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Str(String),
    List(Vec<String>),
    Map(Vec<(&'static str, String)>),
}

/// An entry to write: canonical field names (`rolearn`, `username`, ...) and values.
pub(crate) type Fields = Vec<(&'static str, Val)>;

/// One replacement of `text[start..end]`.
#[derive(Debug, Clone)]
pub(crate) struct Splice {
    pub start: usize,
    pub end: usize,
    pub text: String,
}

pub(crate) fn apply(text: &str, mut splices: Vec<Splice>) -> String {
    splices.sort_by_key(|s| std::cmp::Reverse((s.start, s.end)));
    let mut out = text.to_owned();
    for s in splices {
        out.replace_range(s.start..s.end, &s.text);
    }
    out
}

pub(crate) fn line_start(text: &str, pos: usize) -> usize {
    text[..pos].rfind('\n').map_or(0, |i| i + 1)
}

/// Index of the `\n` ending the line that contains `pos` (or the text's length).
pub(crate) fn line_end(text: &str, pos: usize) -> usize {
    text[pos..].find('\n').map_or(text.len(), |i| pos + i)
}

/// Position just after the `:` that follows a mapping key.
fn colon_end(text: &str, key_end: usize) -> usize {
    text[key_end..]
        .find(':')
        .map_or(key_end, |i| key_end + i + 1)
}

/// How the entries of a list are written, learned from an existing entry.
#[derive(Debug, Clone)]
pub(crate) struct EntryStyle {
    pub flow_entry: bool,
    pub flow_padded: bool,
    pub dash_col: usize,
    pub key_offset: usize,
    pub order: Vec<&'static str>,
    pub spelled: Vec<(&'static str, String)>,
    pub key_style: Style,
    pub value_styles: Vec<(&'static str, Style)>,
    pub item_style: Style,
    pub groups_flow: bool,
    pub groups_offset: usize,
}

impl EntryStyle {
    pub fn default_at(dash_col: usize) -> EntryStyle {
        EntryStyle {
            flow_entry: false,
            flow_padded: false,
            dash_col,
            key_offset: 2,
            order: Vec::new(),
            spelled: Vec::new(),
            key_style: Style::Plain,
            value_styles: Vec::new(),
            item_style: Style::Plain,
            groups_flow: false,
            groups_offset: 2,
        }
    }

    /// Learn from `entry` (a mapping inside a list whose `-` is at `dash_col`).
    pub fn learn(text: &str, entry: &Node, canon: &[&'static str], dash_col: usize) -> EntryStyle {
        let mut st = EntryStyle::default_at(dash_col);
        let Kind::Map { flow, pairs } = &entry.kind else {
            return st;
        };
        st.flow_entry = *flow;
        st.flow_padded = *flow && text[entry.start + 1..].starts_with(' ');
        st.key_offset = entry.col.saturating_sub(dash_col).max(2);
        for (i, (k, v)) in pairs.iter().enumerate() {
            let Some((name, kstyle)) = k.scalar() else {
                continue;
            };
            if i == 0 {
                st.key_style = if kstyle == Style::Block {
                    Style::Plain
                } else {
                    kstyle
                };
            }
            let Some(c) = canon.iter().find(|c| fold_eq(name, c)) else {
                continue;
            };
            if !st.order.contains(c) {
                st.order.push(c);
            }
            st.spelled.retain(|(x, _)| x != c);
            st.spelled.push((c, name.to_owned()));
            match &v.kind {
                Kind::Scalar { style, .. } if !v.is_null() => st.value_styles.push((c, *style)),
                Kind::Seq { flow, items } => {
                    st.groups_flow = *flow;
                    if !flow && v.col >= k.col {
                        st.groups_offset = v.col - k.col;
                    }
                    if let Some((_, s)) = items.first().and_then(Node::scalar) {
                        st.item_style = s;
                    }
                }
                _ => {}
            }
        }
        st
    }

    /// The same style for the other list (`rolearn` <-> `userarn`), used when a list is empty.
    pub fn translate(
        mut self,
        from: &'static str,
        to: &'static str,
        dash_col: usize,
    ) -> EntryStyle {
        self.dash_col = dash_col;
        for c in &mut self.order {
            if *c == from {
                *c = to;
            }
        }
        for (c, spelled) in &mut self.spelled {
            if *c == from {
                *c = to;
                let prefix = if spelled.starts_with(|c: char| c.is_ascii_uppercase()) {
                    "User"
                } else {
                    "user"
                };
                *spelled = format!("{prefix}{}", spelled.get(4..).unwrap_or("arn"));
            }
        }
        for (c, _) in &mut self.value_styles {
            if *c == from {
                *c = to;
            }
        }
        self
    }

    fn key(&self, c: &'static str, flow: bool) -> String {
        let name = self
            .spelled
            .iter()
            .find(|(x, _)| *x == c)
            .map_or(c, |(_, s)| s.as_str());
        render_scalar(name, self.key_style, flow)
    }

    fn value_style(&self, c: &'static str) -> Style {
        self.value_styles
            .iter()
            .find(|(x, _)| *x == c)
            .or_else(|| self.value_styles.first())
            .map_or(Style::Plain, |(_, s)| *s)
    }

    fn ordered<'f>(&self, fields: &'f Fields) -> Vec<&'f (&'static str, Val)> {
        let mut out: Vec<_> = fields.iter().collect();
        out.sort_by_key(|(c, _)| self.order.iter().position(|o| o == c).unwrap_or(usize::MAX));
        out
    }

    fn flow_list(&self, items: &[String], padded: bool) -> String {
        if items.is_empty() {
            return "[]".to_owned();
        }
        let inner: Vec<String> = items
            .iter()
            .map(|s| render_scalar(s, self.item_style, true))
            .collect();
        if padded {
            format!("[ {} ]", inner.join(", "))
        } else {
            format!("[{}]", inner.join(", "))
        }
    }

    fn flow_value(&self, c: &'static str, v: &Val) -> String {
        match v {
            Val::Str(s) => render_scalar(s, self.value_style(c), true),
            Val::List(items) => self.flow_list(items, false),
            Val::Map(kv) => {
                let inner: Vec<String> = kv
                    .iter()
                    .map(|(k, s)| {
                        format!(
                            "{}: {}",
                            render_scalar(k, self.key_style, true),
                            render_scalar(s, self.value_style(c), true)
                        )
                    })
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// `{key: value, ...}` for a new entry in flow style.
    pub fn flow_entry(&self, fields: &Fields) -> String {
        let parts: Vec<String> = self
            .ordered(fields)
            .into_iter()
            .map(|(c, v)| format!("{}: {}", self.key(c, true), self.flow_value(c, v)))
            .collect();
        if self.flow_padded {
            format!("{{ {} }}", parts.join(", "))
        } else {
            format!("{{{}}}", parts.join(", "))
        }
    }

    /// Lines of one field in a block mapping whose keys are at `key_col`.
    pub fn field_lines(&self, c: &'static str, v: &Val, key_col: usize) -> Vec<String> {
        let pad = " ".repeat(key_col);
        let key = self.key(c, false);
        match v {
            Val::Str(s) => vec![format!(
                "{pad}{key}: {}",
                render_scalar(s, self.value_style(c), false)
            )],
            Val::List(items) if items.is_empty() => vec![format!("{pad}{key}: []")],
            Val::List(items) if self.groups_flow => {
                vec![format!("{pad}{key}: {}", self.flow_list(items, false))]
            }
            Val::List(items) => {
                let mut lines = vec![format!("{pad}{key}:")];
                lines.extend(self.block_items(items, key_col + self.groups_offset));
                lines
            }
            Val::Map(kv) => {
                let mut lines = vec![format!("{pad}{key}:")];
                let sub = " ".repeat(key_col + 2);
                for (k, s) in kv {
                    lines.push(format!(
                        "{sub}{}: {}",
                        render_scalar(k, self.key_style, false),
                        render_scalar(s, self.value_style(c), false)
                    ));
                }
                lines
            }
        }
    }

    fn block_items(&self, items: &[String], col: usize) -> Vec<String> {
        let pad = " ".repeat(col);
        items
            .iter()
            .map(|s| format!("{pad}- {}", render_scalar(s, self.item_style, false)))
            .collect()
    }

    /// The lines of a new entry in a block list, the first one starting with the `-`.
    pub fn block_entry(&self, fields: &Fields) -> Vec<String> {
        let dash = " ".repeat(self.dash_col);
        if self.flow_entry {
            return vec![format!("{dash}- {}", self.flow_entry(fields))];
        }
        let key_col = self.dash_col + self.key_offset;
        let mut lines = Vec::new();
        for (c, v) in self.ordered(fields) {
            lines.extend(self.field_lines(c, v, key_col));
        }
        if let Some(first) = lines.first_mut() {
            let rest = first[key_col..].to_owned();
            *first = format!("{dash}-{}{rest}", " ".repeat(self.key_offset - 1));
        }
        lines
    }
}

/// Splices that set `username` and/or `groups` of an existing entry, touching nothing else.
pub(crate) fn update_entry(
    text: &str,
    entry: &Node,
    refs: &Refs,
    style: &EntryStyle,
    username: Option<&str>,
    groups: Option<&[String]>,
) -> Vec<Splice> {
    let Kind::Map { flow, pairs } = &entry.kind else {
        return Vec::new();
    };
    let flow = *flow;
    let mut splices = Vec::new();
    let mut missing: Fields = Vec::new();
    if let Some(u) = username {
        match refs.username {
            Some(i) => splices.push(replace_scalar(text, &pairs[i], u, style, flow)),
            None => missing.push(("username", Val::Str(u.to_owned()))),
        }
    }
    if let Some(g) = groups {
        match refs.groups {
            Some(i) => splices.push(replace_groups(text, &pairs[i], g, style, flow)),
            None => missing.push(("groups", Val::List(g.to_vec()))),
        }
    }
    if !missing.is_empty() {
        if flow {
            let close = entry.end - 1;
            let parts: Vec<String> = missing
                .iter()
                .map(|(c, v)| format!("{}: {}", style.key(c, true), style.flow_value(c, v)))
                .collect();
            let sep = if pairs.is_empty() { "" } else { ", " };
            splices.push(Splice {
                start: close,
                end: close,
                text: format!("{sep}{}", parts.join(", ")),
            });
        } else {
            let at = line_end(text, entry.end);
            let mut lines = Vec::new();
            for (c, v) in &missing {
                lines.extend(style.field_lines(c, v, entry.col));
            }
            splices.push(Splice {
                start: at,
                end: at,
                text: format!("\n{}", lines.join("\n")),
            });
        }
    }
    splices
}

fn replace_scalar(
    text: &str,
    (k, v): &(Node, Node),
    new: &str,
    style: &EntryStyle,
    flow: bool,
) -> Splice {
    match v.scalar() {
        Some((_, s)) if s != Style::Block && !v.is_null() => Splice {
            start: v.start,
            end: v.end,
            text: render_scalar(new, s, flow),
        },
        _ => {
            let start = colon_end(text, k.end);
            Splice {
                start,
                end: v.end.max(start),
                text: format!(
                    " {}",
                    render_scalar(new, style.value_style("username"), flow)
                ),
            }
        }
    }
}

fn replace_groups(
    text: &str,
    (k, v): &(Node, Node),
    groups: &[String],
    style: &EntryStyle,
    flow: bool,
) -> Splice {
    let start = colon_end(text, k.end);
    match &v.kind {
        Kind::Seq { flow: true, items } => {
            let mut st = style.clone();
            if let Some((_, s)) = items.first().and_then(Node::scalar) {
                st.item_style = s;
            }
            let padded = text[v.start + 1..].starts_with(' ');
            Splice {
                start: v.start,
                end: v.end,
                text: st.flow_list(groups, padded),
            }
        }
        Kind::Seq { flow: false, items } if !groups.is_empty() => {
            let mut st = style.clone();
            if let Some((_, s)) = items.first().and_then(Node::scalar) {
                st.item_style = s;
            }
            let lines = st.block_items(groups, v.col);
            Splice {
                start: v.start,
                end: v.end,
                text: lines.join("\n")[v.col..].to_owned(),
            }
        }
        _ if groups.is_empty() => Splice {
            start,
            end: v.end.max(start),
            text: " []".to_owned(),
        },
        _ if flow => Splice {
            start,
            end: v.end.max(start),
            text: format!(" {}", style.flow_list(groups, false)),
        },
        _ => {
            let lines = style.block_items(groups, k.col + style.groups_offset);
            Splice {
                start,
                end: v.end.max(start),
                text: format!("\n{}", lines.join("\n")),
            }
        }
    }
}

/// Append a new entry to the list at `root` (or start a list).
pub(crate) fn append_entry(
    text: &str,
    root: Option<&Node>,
    style: &EntryStyle,
    fields: &Fields,
) -> String {
    if let Some(node) = root {
        match &node.kind {
            Kind::Seq { flow: false, items } if !items.is_empty() => {
                let at = line_end(text, node.end);
                let lines = style.block_entry(fields).join("\n");
                return apply(
                    text,
                    vec![Splice {
                        start: at,
                        end: at,
                        text: format!("\n{lines}"),
                    }],
                );
            }
            Kind::Seq { flow: true, items } if !items.is_empty() => {
                let last = &items[items.len() - 1];
                let sep = if items.len() >= 2 {
                    text[items[items.len() - 2].end..last.start].to_owned()
                } else if text[node.start + 1..last.start].contains('\n') {
                    format!(",{}", &text[node.start + 1..last.start])
                } else {
                    ", ".to_owned()
                };
                let mut st = style.clone();
                st.flow_entry = true;
                let entry = st.flow_entry(fields);
                return apply(
                    text,
                    vec![Splice {
                        start: last.end,
                        end: last.end,
                        text: format!("{sep}{entry}"),
                    }],
                );
            }
            _ => {
                // `[]` or `null`: a fresh block list in its place, starting at its column.
                let mut st = style.clone();
                st.dash_col = node.col;
                st.flow_entry = false;
                let lines = st.block_entry(fields).join("\n");
                return apply(
                    text,
                    vec![Splice {
                        start: node.start,
                        end: node.end,
                        text: lines[node.col..].to_owned(),
                    }],
                );
            }
        }
    }
    // No document: blank, only comments, or a skippable `""`.
    let mut st = style.clone();
    st.dash_col = 0;
    st.flow_entry = false;
    let lines = st.block_entry(fields).join("\n");
    if super::decode::is_skippable(text) && !text.trim().is_empty() {
        format!("{lines}\n")
    } else if text.is_empty() || text.ends_with('\n') {
        format!("{text}{lines}\n")
    } else {
        format!("{text}\n{lines}\n")
    }
}

/// Remove one entry of the list at `root`: its whole lines in a block list, the item and one
/// comma in a flow list.
pub(crate) fn remove_entry(text: &str, root: &Node, index: usize) -> String {
    let Kind::Seq { flow, items } = &root.kind else {
        return text.to_owned();
    };
    let item = &items[index];
    let splice = if *flow {
        if index + 1 < items.len() {
            Splice {
                start: item.start,
                end: items[index + 1].start,
                text: String::new(),
            }
        } else if index > 0 {
            Splice {
                start: items[index - 1].end,
                end: item.end,
                text: String::new(),
            }
        } else {
            Splice {
                start: item.start,
                end: item.end,
                text: String::new(),
            }
        }
    } else {
        // The `-` precedes the item, separated by blanks (or a line break).
        let before = text[..item.start].trim_end();
        let dash = before.len().saturating_sub(1);
        let ls = line_start(text, dash);
        let start = if text[ls..dash].trim().is_empty() {
            ls
        } else {
            dash
        };
        let le = line_end(text, item.end);
        let end = if le < text.len() { le + 1 } else { le };
        // At the end of a text without a final newline, take the preceding line break instead.
        let start = if end == text.len() && !text.ends_with('\n') && start > 0 {
            start - 1
        } else {
            start
        };
        Splice {
            start,
            end,
            text: String::new(),
        }
    };
    apply(text, vec![splice])
}

/// Replace the whole entry `index` with a JSON-style flow mapping (the fallback when a surgical
/// edit did not read back as intended).
pub(crate) fn replace_entry_flow(text: &str, root: &Node, index: usize, fields: &Fields) -> String {
    let Kind::Seq { items, .. } = &root.kind else {
        return text.to_owned();
    };
    let item = &items[index];
    let mut st = EntryStyle::default_at(0);
    st.key_style = Style::Double;
    st.value_styles = vec![("username", Style::Double)];
    st.item_style = Style::Double;
    apply(
        text,
        vec![Splice {
            start: item.start,
            end: item.end,
            text: st.flow_entry(fields),
        }],
    )
}
