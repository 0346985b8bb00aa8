use super::*;

#[test]
fn resolves_like_yaml_v2() {
    for (s, r) in [
        ("yes", Resolved::Bool),
        ("Off", Resolved::Bool),
        ("~", Resolved::Null),
        ("", Resolved::Null),
        ("123", Resolved::Int),
        ("1_000", Resolved::Int),
        ("0x1F", Resolved::Int),
        // Out of 64 bits: hex stays a string, decimal becomes a float (yaml.v2).
        ("0xFFFFFFFFFFFFFFFF", Resolved::Int),
        ("0x1FFFFFFFFFFFFFFFF", Resolved::Str),
        ("-0x8000000000000000", Resolved::Int),
        ("-0x8000000000000001", Resolved::Str),
        ("0o7777777777777777777777", Resolved::Str),
        ("99999999999999999999", Resolved::Float),
        (
            "0b11111111111111111111111111111111111111111111111111111111111111111",
            Resolved::Str,
        ),
        ("012345678901", Resolved::Float),
        ("0777", Resolved::Int),
        ("-0b101", Resolved::Int),
        ("1e3", Resolved::Float),
        (".5", Resolved::Float),
        (".inf", Resolved::Float),
        ("2001-12-14", Resolved::Str),
        ("system:masters", Resolved::Str),
        ("-", Resolved::Str),
        ("1.2.3", Resolved::Str),
    ] {
        assert_eq!(resolve_plain(s), r, "{s:?}");
    }
}

#[test]
fn renders_scalars_that_read_back() {
    assert_eq!(
        render_scalar("system:masters", Style::Plain, false),
        "system:masters"
    );
    assert_eq!(
        render_scalar("{{SessionName}}", Style::Plain, false),
        "\"{{SessionName}}\""
    );
    assert_eq!(
        render_scalar("a:{{SessionName}}", Style::Plain, false),
        "a:{{SessionName}}"
    );
    assert_eq!(
        render_scalar("a:{{SessionName}}", Style::Plain, true),
        "\"a:{{SessionName}}\""
    );
    assert_eq!(render_scalar("yes", Style::Plain, false), "\"yes\"");
    assert_eq!(render_scalar("it's", Style::Single, false), "'it''s'");
    assert_eq!(
        render_scalar("a\"b\\", Style::Double, false),
        "\"a\\\"b\\\\\""
    );
    for s in [
        "a: b", "#x", "x #y", "", " a", "123", "null", "a\nb", "- x", "é", "[x]",
    ] {
        for style in [Style::Plain, Style::Single, Style::Double] {
            let text = format!("k: {}\n", render_scalar(s, style, false));
            let root = parse(&text).unwrap().unwrap();
            let Kind::Map { pairs, .. } = root.kind else {
                panic!()
            };
            let (v, st) = pairs[0].1.scalar().unwrap();
            assert_eq!(v, s, "{text:?}");
            assert!(
                st != Style::Plain || resolve_plain(v) == Resolved::Str,
                "{text:?}"
            );
        }
    }
}

#[test]
fn positions_and_refusals() {
    let err = parse("- a: b\n  c: [d\n").unwrap_err();
    assert_eq!(
        err,
        YamlError::Syntax {
            message: "unclosed bracket '['".to_owned(),
            pos: Pos { line: 2, column: 6 }
        }
    );
    assert_eq!(
        parse("- &x a\n- *x\n").unwrap_err(),
        YamlError::Unsupported {
            what: "an anchor (`&`)",
            pos: Pos { line: 1, column: 6 }
        }
    );
    assert!(matches!(
        parse("a: 1\n---\nb: 2\n"),
        Err(YamlError::Unsupported { .. })
    ));
    assert!(parse("# only a comment\n").unwrap().is_none());
    let root = parse("- a: |\n    lit\n\n  b: c\n").unwrap().unwrap();
    let Kind::Seq { items, .. } = root.kind else {
        panic!()
    };
    let Kind::Map { pairs, .. } = &items[0].kind else {
        panic!()
    };
    assert_eq!(
        &"- a: |\n    lit\n\n  b: c\n"[pairs[0].1.start..pairs[0].1.end],
        "lit"
    );
}
