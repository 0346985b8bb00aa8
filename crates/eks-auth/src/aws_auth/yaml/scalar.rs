//! Plain scalars as gopkg.in/yaml.v2 resolves them (the authenticator's reading), and writing a
//! string as a scalar that reads back as the same string.

use super::Style;

/// How gopkg.in/yaml.v2 (used by sigs.k8s.io/yaml, hence by the authenticator) resolves a plain
/// scalar: YAML 1.1 booleans (`yes`, `off`, ...), nulls, ints (with `_`, `0x`, `0o`, leading-0
/// octal, `0b`) and floats. Timestamps stay strings for `interface{}` targets.
/// Source: go-yaml v2 `resolve.go`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolved {
    Null,
    Bool,
    Int,
    Float,
    Str,
}

pub(crate) fn resolve_plain(s: &str) -> Resolved {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Resolved::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True" | "TRUE" | "n"
        | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False" | "FALSE" => {
            return Resolved::Bool;
        }
        ".nan" | ".NaN" | ".NAN" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF"
        | "-.inf" | "-.Inf" | "-.INF" => return Resolved::Float,
        _ => {}
    }
    let first = s.as_bytes()[0];
    if !b"-+.0123456789".contains(&first) {
        return Resolved::Str;
    }
    let plain: String = s.chars().filter(|&c| c != '_').collect();
    if go_parse_int(&plain) {
        return Resolved::Int;
    }
    if yaml_style_float(&plain) {
        return Resolved::Float;
    }
    // yaml.v2 then tries `0b`/`-0b` in base 2, which accepts nothing `go_parse_int` refused.
    Resolved::Str
}

/// Go's `strconv.ParseInt(s, 0, 64)` or `ParseUint(s, 0, 64)` succeeds. Out of range fails:
/// an over-long decimal or leading-zero octal is then a float for yaml.v2 (`yamlStyleFloat`),
/// but an over-long `0x`, `0o` or `0b` number matches nothing and stays a string.
fn go_parse_int(s: &str) -> bool {
    let (sign, body) = match s.as_bytes().first() {
        Some(b'-') => (Some('-'), &s[1..]),
        Some(b'+') => (Some('+'), &s[1..]),
        _ => (None, s),
    };
    let (digits, radix) = if let Some(r) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (r, 2)
    } else if body.len() > 1 && body.starts_with('0') {
        (&body[1..], 8)
    } else {
        (body, 10)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return false;
    }
    let Ok(magnitude) = u64::from_str_radix(digits, radix) else {
        return false;
    };
    match sign {
        Some('-') => magnitude <= 1 << 63,
        Some(_) => magnitude <= i64::MAX as u64,
        None => true,
    }
}

/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$` (yaml.v2 `yamlStyleFloat`).
fn yaml_style_float(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
        i += 1;
    }
    let digits = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - s
    };
    if i < b.len() && b[i] == b'.' {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if i < b.len() && b[i] == b'.' {
            i += 1;
            digits(&mut i);
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Can `s` be written as a plain scalar and read back as the same string, by both this parser
/// and yaml.v2? Conservative: when in doubt, no.
pub(crate) fn plain_safe(s: &str, flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s || resolve_plain(s) != Resolved::Str {
        return false;
    }
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return false;
    }
    if flow && s.contains([',', '[', ']', '{', '}']) {
        return false;
    }
    s.chars()
        .all(|c| c == ' ' || (!c.is_control() && c != '\u{feff}'))
}

/// Write `s` as a scalar in the preferred style, or the nearest style that can hold it.
pub(crate) fn render_scalar(s: &str, preferred: Style, flow: bool) -> String {
    match preferred {
        Style::Plain | Style::Block if plain_safe(s, flow) => s.to_owned(),
        Style::Single if !s.chars().any(char::is_control) => format!("'{}'", s.replace('\'', "''")),
        _ => double_quoted(s),
    }
}

pub(crate) fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || c == '\u{feff}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
