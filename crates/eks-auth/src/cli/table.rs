//! Pure: the one table style of the suite, drawn as `kubectl get` draws its tables.
//!
//! - No borders. Upper-case headers. Columns left-aligned and separated by three spaces, no
//!   leading space, no trailing spaces: what kubectl's printers get from Go's tabwriter with a
//!   padding of 3 (`kubectl get ns`: `NAME              STATUS   AGE`).
//! - When a table is wider than the terminal, its widest columns are narrowed, and their cells
//!   wrap only between words (at a space) or list items (after a comma): a name, an ARN or a
//!   resource is never cut. When even that does not fit, the table is drawn whole and the
//!   terminal wraps it, as it wraps kubectl's: a split word misleads, a long line does not.
//! - A table may carry short headers (a permission matrix's verbs), used only when the long ones
//!   make it too wide.
//! - [`short_resource`]: `clusterrolebindings.rbac.authorization.k8s.io` reads
//!   `clusterrolebindings.rbac`, a name kubectl itself accepts (`kubectl get
//!   clusterrolebindings.rbac` resolves the group from its first part).
//!
//! Widths are counted in `char`s: the names shown (Kubernetes objects, ARNs, verbs) are ASCII,
//! and the matrix marks are one column wide.
//!
//! The one I/O function, [`terminal_width`], asks how wide stdout's terminal is; everything else
//! takes the width as a value, so tables are tested at 80 and 120 columns without a terminal.

use std::fmt::Write as _;

/// Spaces between two columns (kubectl's tabwriter padding).
pub const GAP: usize = 3;

/// Width of stdout's terminal: `COLUMNS` (as `ls` reads it) when set to a positive number, else the terminal's own
/// size, else `None` (stdout is a pipe or a file: tables are not wrapped, so that every row stays
/// one line for `grep`, as kubectl's are).
pub fn terminal_width() -> Option<usize> {
    if let Some(n) = crate::env::var(crate::env::COLUMNS)
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
    {
        return Some(n);
    }
    terminal_size::terminal_size_of(std::io::stdout())
        .map(|(terminal_size::Width(w), _)| usize::from(w))
}

/// Colours a cell may have; rendered only when the caller asks for colour, and never needed to
/// read the table (the text says it all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Green,
    Yellow,
    Cyan,
    Red,
}

impl Color {
    fn code(self) -> &'static str {
        match self {
            Color::Red => "31",
            Color::Green => "32",
            Color::Yellow => "33",
            Color::Cyan => "36",
        }
    }
}

/// One cell: text (lines separated by `\n`) and an optional colour.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Cell {
    text: String,
    color: Option<Color>,
}

impl Cell {
    pub fn new(text: impl Into<String>) -> Self {
        Cell {
            text: text.into(),
            color: None,
        }
    }

    /// The same cell, coloured.
    #[must_use]
    pub fn color(mut self, color: Color) -> Self {
        self.color = Some(color);
        self
    }
}

impl From<String> for Cell {
    fn from(text: String) -> Self {
        Cell::new(text)
    }
}

impl From<&str> for Cell {
    fn from(text: &str) -> Self {
        Cell::new(text)
    }
}

impl From<&String> for Cell {
    fn from(text: &String) -> Self {
        Cell::new(text.clone())
    }
}

/// A table: optional headers, rows of cells.
#[derive(Debug, Clone, Default)]
pub struct Table {
    headers: Vec<String>,
    short_headers: Vec<String>,
    rows: Vec<Vec<Cell>>,
}

impl Table {
    /// A table with these headers (upper-cased, as kubectl prints them).
    pub fn new<I, S>(headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        Table {
            headers: headers
                .into_iter()
                .map(|h| h.as_ref().to_uppercase())
                .collect(),
            ..Table::default()
        }
    }

    /// A table without a header line (`KEY  value` lists).
    pub fn headless() -> Self {
        Table::default()
    }

    /// Headers to use instead when the table does not fit with the long ones.
    #[must_use]
    pub fn short_headers<I, S>(mut self, headers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.short_headers = headers
            .into_iter()
            .map(|h| h.as_ref().to_uppercase())
            .collect();
        self
    }

    /// Adds a row.
    pub fn push<I, C>(&mut self, row: I)
    where
        I: IntoIterator<Item = C>,
        C: Into<Cell>,
    {
        self.rows.push(row.into_iter().map(Into::into).collect());
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Whether [`Table::render`] at this width draws the short headers: the long ones make the
    /// table wider than `width` and the short ones make it narrower.
    pub fn uses_short_headers(&self, width: Option<usize>) -> bool {
        let (Some(max), false) = (width, self.short_headers.is_empty()) else {
            return false;
        };
        match (
            self.layout(&self.headers, width),
            self.layout(&self.short_headers, width),
        ) {
            (Some(long), Some(short)) => total(&long) > max && total(&short) < total(&long),
            _ => false,
        }
    }

    /// The table as lines ending in `\n`, wrapped to `width` columns when given, coloured when
    /// `color`.
    pub fn render(&self, width: Option<usize>, color: bool) -> String {
        let headers = if self.uses_short_headers(width) {
            &self.short_headers
        } else {
            &self.headers
        };
        let widths = self.layout(headers, width).unwrap_or_default();
        let mut out = String::new();
        if !headers.is_empty() {
            let cells: Vec<Cell> = headers.iter().map(Cell::new).collect();
            draw_row(&mut out, &cells, &widths, false);
        }
        for row in &self.rows {
            draw_row(&mut out, row, &widths, color);
        }
        out
    }

    fn columns(&self) -> usize {
        self.rows
            .iter()
            .map(Vec::len)
            .chain([self.headers.len()])
            .max()
            .unwrap_or(0)
    }

    /// Column widths: each column as wide as its widest line, then, when that is wider than
    /// `width`, the widest columns capped at one width (as large as fits), never below their
    /// longest unbreakable piece. `None` for a table with no columns.
    fn layout(&self, headers: &[String], width: Option<usize>) -> Option<Vec<usize>> {
        let n = self.columns();
        if n == 0 {
            return None;
        }
        let mut natural = vec![0; n];
        let mut least = vec![0; n];
        let header_cells = headers.iter().map(|h| h.as_str());
        for (i, text) in header_cells.enumerate() {
            natural[i] = natural[i].max(len(text));
            least[i] = least[i].max(len(text));
        }
        for row in &self.rows {
            for (i, cell) in row.iter().enumerate() {
                for line in cell.text.lines() {
                    natural[i] = natural[i].max(len(line));
                    least[i] = least[i].max(longest_piece(line));
                }
            }
        }
        let Some(max) = width else {
            return Some(natural);
        };
        if total(&natural) <= max {
            return Some(natural);
        }
        // The largest cap that fits; the columns below it keep their width.
        let fits = |cap: usize| -> bool {
            let w: Vec<usize> = natural
                .iter()
                .zip(&least)
                .map(|(n, l)| (*n).min(cap).max(*l))
                .collect();
            total(&w) <= max
        };
        let (mut lo, mut hi) = (0, natural.iter().copied().max().unwrap_or(0));
        if !fits(lo) {
            // Too wide even with every column at its longest word: wrapping would only add lines
            // to a table the terminal wraps anyway. Drawn whole, as kubectl draws its tables.
            return Some(natural);
        }
        while lo < hi {
            let mid = (lo + hi).div_ceil(2);
            if fits(mid) {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        Some(
            natural
                .iter()
                .zip(&least)
                .map(|(n, l)| (*n).min(lo).max(*l))
                .collect(),
        )
    }
}

/// The width of a line of a table with these column widths.
fn total(widths: &[usize]) -> usize {
    widths.iter().sum::<usize>() + GAP * widths.len().saturating_sub(1)
}

fn len(s: &str) -> usize {
    s.chars().count()
}

/// Draws one row; wrapped cells make it several lines.
fn draw_row(out: &mut String, row: &[Cell], widths: &[usize], color: bool) {
    let wrapped: Vec<Vec<String>> = widths
        .iter()
        .enumerate()
        .map(|(i, w)| {
            row.get(i)
                .map(|c| c.text.lines().flat_map(|l| wrap_line(l, *w)).collect())
                .unwrap_or_default()
        })
        .collect();
    let height = wrapped.iter().map(Vec::len).max().unwrap_or(0).max(1);
    for line_no in 0..height {
        let mut line = String::new();
        let last = wrapped
            .iter()
            .rposition(|lines| lines.get(line_no).is_some_and(|l| !l.is_empty()));
        for (i, lines) in wrapped.iter().enumerate() {
            if last.is_none_or(|last| i > last) {
                break;
            }
            let text = lines.get(line_no).map(String::as_str).unwrap_or("");
            let paint = row.get(i).and_then(|c| c.color).filter(|_| color);
            match paint {
                Some(c) if !text.is_empty() => {
                    let _ = write!(line, "\x1b[{}m{text}\x1b[0m", c.code());
                }
                _ => line.push_str(text),
            }
            if last.is_some_and(|last| i < last) {
                line.push_str(&" ".repeat(widths[i] - len(text).min(widths[i]) + GAP));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The pieces a line may break between: words (a space between them, dropped at a break) and
/// list items (a comma ends one, kept on the line it ends).
fn pieces(line: &str) -> Vec<(&str, bool)> {
    // (piece, whether a space separated it from the previous piece)
    let mut out = Vec::new();
    let mut spaced = false;
    for word in line.split(' ') {
        if word.is_empty() {
            spaced = true;
            continue;
        }
        let mut rest = word;
        let mut first = true;
        while let Some(at) = rest.find(',') {
            let (item, tail) = rest.split_at(at + 1);
            out.push((item, spaced && first));
            first = false;
            rest = tail;
        }
        if !rest.is_empty() {
            out.push((rest, spaced && first));
        }
        spaced = true;
    }
    out
}

/// The longest piece of a line: the narrowest a column holding it may be.
fn longest_piece(line: &str) -> usize {
    pieces(line).iter().map(|(p, _)| len(p)).max().unwrap_or(0)
}

/// Greedy wrap at word and list boundaries; a piece longer than `width` gets a line of its own.
fn wrap_line(line: &str, width: usize) -> Vec<String> {
    if len(line) <= width {
        return vec![line.to_owned()];
    }
    let mut lines = Vec::new();
    let mut current = String::new();
    for (piece, spaced) in pieces(line) {
        let extra = usize::from(spaced && !current.is_empty()) + len(piece);
        if !current.is_empty() && len(&current) + extra > width {
            lines.push(std::mem::take(&mut current));
        }
        if spaced && !current.is_empty() {
            current.push(' ');
        }
        current.push_str(piece);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

/// `KEY   value` lines: upper-case keys in the first column, values wrapped beside them.
/// Rows with an empty value are left out.
pub fn fields<K: AsRef<str>>(rows: &[(K, String)], width: Option<usize>) -> String {
    let mut t = Table::headless();
    for (k, v) in rows {
        if !v.is_empty() {
            t.push([k.as_ref().to_uppercase(), v.clone()]);
        }
    }
    t.render(width, false)
}

/// A paragraph wrapped at word and list boundaries to `width` columns, each line starting with
/// `indent`; the lines of `text` are kept as they are.
pub fn paragraph(text: &str, indent: &str, width: usize) -> String {
    let room = width.saturating_sub(len(indent)).max(1);
    let mut out = String::new();
    for line in text.lines() {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        for l in wrap_line(&line, room) {
            if l.is_empty() {
                out.push('\n');
            } else {
                out.push_str(indent);
                out.push_str(&l);
                out.push('\n');
            }
        }
    }
    out
}

/// An API group as a table shows it: Kubernetes' own groups (`*.k8s.io`, a suffix only the
/// Kubernetes project registers) by their first part, as kubectl accepts them; other groups whole.
pub fn short_group(group: &str) -> &str {
    match group.strip_suffix(".k8s.io") {
        Some(rest) if !rest.is_empty() => rest.split('.').next().unwrap_or(rest),
        _ => group,
    }
}

/// A `resource.group[/subresource]` name (kubectl's spelling, as `kubectl auth can-i --list`
/// prints it) with its group shortened by [`short_group`].
pub fn short_resource(name: &str) -> String {
    let (main, sub) = match name.split_once('/') {
        Some((m, s)) => (m, Some(s)),
        None => (name, None),
    };
    let short = match main.split_once('.') {
        Some((resource, group)) => format!("{resource}.{}", short_group(group)),
        None => main.to_owned(),
    };
    match sub {
        Some(s) => format!("{short}/{s}"),
        None => short,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn looks_like_kubectl_get() {
        let mut t = Table::new(["name", "status", "age"]);
        t.push(["default", "Active", "5d"]);
        t.push(["kube-system", "Active", "5d"]);
        assert_eq!(
            t.render(None, false),
            "NAME          STATUS   AGE\ndefault       Active   5d\nkube-system   Active   5d\n"
        );
    }

    #[test]
    fn empty_trailing_cells_leave_no_trailing_spaces() {
        let mut t = Table::new(["a", "b", "c"]);
        t.push(["x", "", ""]);
        t.push(["", "y", ""]);
        assert_eq!(t.render(None, false), "A   B   C\nx\n    y\n");
    }

    #[test]
    fn wraps_between_words_and_list_items_only() {
        let mut t = Table::new(["role", "rules"]);
        t.push([
            "ClusterRole/view",
            "get,list,watch configmaps,endpoints,persistentvolumeclaims",
        ]);
        let out = t.render(Some(51), false);
        assert_eq!(
            out,
            "ROLE               RULES\n\
             ClusterRole/view   get,list,watch configmaps,\n\
             \x20                  endpoints,persistentvolumeclaims\n"
        );
        assert!(out.lines().all(|l| l.len() <= 51), "{out}");
    }

    #[test]
    fn never_cuts_a_word_even_when_it_does_not_fit() {
        let mut t = Table::new(["resource", "get"]);
        t.push(["selfsubjectaccessreviews.authorization", "✓"]);
        let out = t.render(Some(20), false);
        assert_eq!(
            out,
            "RESOURCE                                 GET\nselfsubjectaccessreviews.authorization   ✓\n"
        );
        // nor wraps other columns of a table that cannot fit anyway
        let mut t = Table::new(["resource", "verbs"]);
        t.push(["selfsubjectaccessreviews.authorization", "get, list"]);
        assert_eq!(
            t.render(Some(40), false),
            "RESOURCE                                 VERBS\nselfsubjectaccessreviews.authorization   get, list\n"
        );
    }

    #[test]
    fn narrows_the_widest_column_first() {
        let mut t = Table::new(["kind", "subject", "rules"]);
        t.push([
            "RoleBinding",
            "Group readers",
            "get pods, list pods, watch pods, get services, list services",
        ]);
        let out = t.render(Some(62), false);
        assert_eq!(
            out,
            "KIND          SUBJECT         RULES\n\
             RoleBinding   Group readers   get pods, list pods, watch pods,\n\
             \x20                             get services, list services\n"
        );
    }

    #[test]
    fn short_headers_only_when_the_long_ones_do_not_fit() {
        let mut t = Table::new(["resource", "get", "deletecollection"])
            .short_headers(["resource", "g", "dc"]);
        t.push(["pods", "✓", "✓"]);
        assert_eq!(
            t.render(Some(80), false),
            "RESOURCE   GET   DELETECOLLECTION\npods       ✓     ✓\n"
        );
        assert_eq!(
            t.render(Some(20), false),
            "RESOURCE   G   DC\npods       ✓   ✓\n"
        );
    }

    #[test]
    fn colour_does_not_count_towards_width() {
        let mut t = Table::new(["a", "b"]);
        t.push([Cell::new("✓").color(Color::Green), Cell::new("x")]);
        assert_eq!(t.render(None, true), "A   B\n\x1b[32m✓\x1b[0m   x\n");
        assert_eq!(t.render(None, false), "A   B\n✓   x\n");
    }

    #[test]
    fn multi_line_cells() {
        let mut t = Table::new(["k", "v"]);
        t.push(["extra", "a=1\nb=2"]);
        assert_eq!(
            t.render(None, false),
            "K       V\nextra   a=1\n        b=2\n"
        );
    }

    #[test]
    fn fields_skip_empty_values() {
        let out = fields(
            &[
                ("arn", "arn:aws:iam::1:user/a".to_owned()),
                ("user id", String::new()),
                ("canonical arn", "arn:aws:iam::1:user/a".to_owned()),
            ],
            None,
        );
        assert_eq!(
            out,
            "ARN             arn:aws:iam::1:user/a\nCANONICAL ARN   arn:aws:iam::1:user/a\n"
        );
    }

    #[test]
    fn paragraphs_wrap_with_indent() {
        assert_eq!(
            paragraph("aaa bbb ccc ddd", "  ", 9),
            "  aaa bbb\n  ccc ddd\n"
        );
        assert_eq!(paragraph("", "  ", 9), "");
        assert_eq!(paragraph("a,b,c", "", 2), "a,\nb,\nc\n");
    }

    #[test]
    fn groups_read_as_kubectl_accepts_them() {
        assert_eq!(short_group("rbac.authorization.k8s.io"), "rbac");
        assert_eq!(short_group("authorization.k8s.io"), "authorization");
        assert_eq!(short_group("apps"), "apps");
        assert_eq!(short_group("eks.amazonaws.com"), "eks.amazonaws.com");
        assert_eq!(short_group("k8s.io"), "k8s.io");
        assert_eq!(
            short_resource("clusterrolebindings.rbac.authorization.k8s.io"),
            "clusterrolebindings.rbac"
        );
        assert_eq!(
            short_resource("deployments.apps/scale"),
            "deployments.apps/scale"
        );
        assert_eq!(
            short_resource("selfsubjectreviews.authentication.k8s.io"),
            "selfsubjectreviews.authentication"
        );
        assert_eq!(short_resource("pods/log"), "pods/log");
        assert_eq!(short_resource("*.*"), "*.*");
    }

    #[test]
    fn pieces_split_at_spaces_and_after_commas() {
        assert_eq!(
            pieces("get,list pods, svc"),
            vec![
                ("get,", false),
                ("list", false),
                ("pods,", true),
                ("svc", true)
            ]
        );
    }
}
