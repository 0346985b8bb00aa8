//! Pure: reading an edited block list back through the one window of lines an edit changed,
//! instead of parsing the whole value again (see [`reread_window`]).

use super::decode;
use super::document::{Doc, Entry};
use super::edit;
use super::model::EntryInfo;
use super::yaml::{self, Kind, Node};

/// Where the lines of block-list item `item` begin: the start of the line of its `-`, when only
/// spaces precede that `-` and it is at the list's column `col`.
fn item_line_start(text: &str, item: &Node, col: usize) -> Option<(usize, usize)> {
    let (dash, pos, dash_col) = yaml::dash_before(text, item)?;
    let ls = edit::line_start(text, dash);
    (dash_col == col && text.as_bytes()[ls..dash].iter().all(|&b| b == b' '))
        .then_some((ls, pos.line))
}

fn shift(node: &mut Node, bytes: isize, lines: isize) {
    node.start = node.start.wrapping_add_signed(bytes);
    node.end = node.end.wrapping_add_signed(bytes);
    node.pos.line = node.pos.line.wrapping_add_signed(lines);
    match &mut node.kind {
        Kind::Scalar { .. } => {}
        Kind::Seq { items, .. } => items.iter_mut().for_each(|n| shift(n, bytes, lines)),
        Kind::Map { pairs, .. } => pairs.iter_mut().for_each(|(k, v)| {
            shift(k, bytes, lines);
            shift(v, bytes, lines);
        }),
    }
}

/// An edit of a block list re-read through the one window of lines it changed.
pub(super) struct Window<M> {
    /// Index of the old item whose lines were the window.
    index: usize,
    /// Byte offset of the window in both texts, its line number (1-based) there.
    start: usize,
    line: usize,
    /// What the edit did to everything after the window.
    bytes: isize,
    lines: isize,
    /// The window's items (positions relative to the window) and their decoded entries.
    items: Vec<Node>,
    decoded: decode::Decoded<M>,
}

/// Reads `edited` back without parsing all of it, when `edited` differs from `doc.text` only
/// inside the lines of block-list item `index` (from the line of its `-` to the line of the next
/// item's `-`, or to the end of the text for the last item).
///
/// Why this reads the same as a full parse: the untouched text before the window ends at the
/// start of a line whose `-` is an item of the top-level block list (the full parse of the old
/// text says so), so a parser is in the same state there, before the edit and after it; the
/// window is parsed on its own from that state; and the untouched text after it starts with the
/// next item's `-` at the list's column, which closes whatever the window's last item holds
/// (block scalars, plain multi-line scalars and mappings all end at a line indented no more than
/// their parent). A window that would change the document level (`---`, `...`, a `%` directive)
/// or leave an open line is not accepted here. `None` means "not shown by this route": the
/// caller then parses the whole text.
pub(super) fn reread_window<M: Entry>(
    doc: &Doc,
    edited: &str,
    index: usize,
    want: &[M],
) -> Option<Window<M>> {
    let root = doc.root.as_ref()?;
    let Kind::Seq { flow: false, items } = &root.kind else {
        return None;
    };
    let old = doc.text.as_str();
    let (start, line) = item_line_start(old, items.get(index)?, root.col)?;
    let old_end = match items.get(index + 1) {
        Some(next) => item_line_start(old, next, root.col)?.0,
        None => old.len(),
    };
    let bytes = edited.len() as isize - old.len() as isize;
    let end = old_end.checked_add_signed(bytes)?;
    if end < start
        || !edited.is_char_boundary(start)
        || !edited.is_char_boundary(end)
        || edited.as_bytes()[..start] != old.as_bytes()[..start]
        || edited.as_bytes()[end..] != old.as_bytes()[old_end..]
    {
        return None;
    }
    let window = &edited[start..end];
    if old_end < old.len() && !window.ends_with('\n') {
        return None;
    }
    if window
        .split('\n')
        .any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('%'))
    {
        return None;
    }
    // The window's items replace the one old item.
    let count = (want.len() + 1).checked_sub(items.len())?;
    let parsed = yaml::parse(window).ok()?;
    let new_items = match parsed {
        None => Vec::new(),
        Some(Node {
            kind: Kind::Seq { flow: false, items },
            col,
            ..
        }) if col == root.col => items,
        Some(_) => return None,
    };
    if new_items.len() != count || (index == 0 && count == 0) {
        return None;
    }
    let wrapped = Node {
        kind: Kind::Seq {
            flow: false,
            items: new_items,
        },
        start: 0,
        end: window.len(),
        pos: yaml::Pos { line: 1, column: 1 },
        col: root.col,
    };
    let decoded = M::decode(Some(&wrapped));
    if decoded.top.is_some()
        || decoded
            .entries
            .iter()
            .map(|(m, _)| m)
            .ne(&want[index..index + count])
    {
        return None;
    }
    let Kind::Seq {
        items: new_items, ..
    } = wrapped.kind
    else {
        return None;
    };
    let nl = |s: &str| s.bytes().filter(|&b| b == b'\n').count() as isize;
    Some(Window {
        index,
        start,
        line,
        bytes,
        lines: nl(window) - nl(&old[start..old_end]),
        items: new_items,
        decoded,
    })
}

/// Applies a re-read window to the parsed document and its entries.
pub(super) fn patch_doc<M: Entry>(
    doc: &mut Doc,
    entries: &mut Vec<M>,
    edited: String,
    w: Window<M>,
) {
    let Window {
        index,
        start,
        line,
        bytes,
        lines,
        mut items,
        decoded,
    } = w;
    let root = doc.root.as_mut().expect("a window comes from a block list");
    let Kind::Seq {
        items: old_items, ..
    } = &mut root.kind
    else {
        unreachable!("a window comes from a block list");
    };
    for n in &mut items {
        shift(n, start as isize, line as isize - 1);
    }
    let count = items.len();
    let mut infos = Vec::with_capacity(count);
    let mut refs = Vec::with_capacity(count);
    let mut ms = Vec::with_capacity(count);
    for (((m, r), errs), n) in decoded.entries.into_iter().zip(decoded.skipped).zip(&items) {
        infos.push(EntryInfo {
            line: n.pos.line,
            dropped: m.invalid(),
            skipped: errs
                .into_iter()
                .map(|mut e| {
                    e.line += line - 1;
                    super::document::skipped(e)
                })
                .collect(),
        });
        refs.push(r);
        ms.push(m);
    }
    old_items.splice(index..=index, items);
    doc.info.splice(index..=index, infos);
    doc.refs.splice(index..=index, refs);
    entries.splice(index..=index, ms);
    for n in &mut old_items[index + count..] {
        shift(n, bytes, lines);
    }
    for i in &mut doc.info[index + count..] {
        i.line = i.line.wrapping_add_signed(lines);
        for f in &mut i.skipped {
            f.line = f.line.wrapping_add_signed(lines);
        }
    }
    root.end = old_items.last().map_or(root.start, |n| n.end);
    if index == 0
        && let Some((dash, pos, col)) = yaml::dash_before(&edited, &old_items[0])
    {
        root.start = dash;
        root.pos = pos;
        root.col = col;
    }
    doc.text = edited;
}
