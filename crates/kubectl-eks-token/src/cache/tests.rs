use super::*;

fn inputs() -> KeyInputs<'static> {
    KeyInputs {
        cluster: "demo",
        region: "us-west-2",
        profile: "",
        role_arn: "",
        external_id: "",
        session: "",
        env: vec![
            ("AWS_ACCESS_KEY_ID", Some("AKIAEXAMPLE".to_owned())),
            ("AWS_PROFILE", None),
        ],
        files: vec![
            ("config", FileState::Content([1; 32])),
            ("credentials", FileState::Missing),
        ],
    }
}

#[test]
fn key_is_stable_hex() {
    let k = cache_key(&inputs());
    assert_eq!(k.len(), 64);
    assert!(k.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(k, cache_key(&inputs()));
}

#[test]
fn key_changes_with_every_identity_input() {
    let base = cache_key(&inputs());
    let variants: Vec<KeyInputs<'static>> = vec![
        KeyInputs {
            cluster: "other",
            ..inputs()
        },
        KeyInputs {
            region: "us-east-1",
            ..inputs()
        },
        KeyInputs {
            profile: "dev",
            ..inputs()
        },
        KeyInputs {
            role_arn: "arn:aws:iam::1:role/r",
            ..inputs()
        },
        KeyInputs {
            external_id: "x",
            ..inputs()
        },
        KeyInputs {
            session: "s",
            ..inputs()
        },
        KeyInputs {
            env: vec![
                ("AWS_ACCESS_KEY_ID", Some("AKIAOTHER".into())),
                ("AWS_PROFILE", None),
            ],
            ..inputs()
        },
        KeyInputs {
            env: vec![
                ("AWS_ACCESS_KEY_ID", Some("AKIAEXAMPLE".into())),
                ("AWS_PROFILE", Some(String::new())),
            ],
            ..inputs()
        },
        // an edited profile
        KeyInputs {
            files: vec![
                ("config", FileState::Content([2; 32])),
                ("credentials", FileState::Missing),
            ],
            ..inputs()
        },
        KeyInputs {
            files: vec![
                ("config", FileState::Content([1; 32])),
                (
                    "credentials",
                    FileState::Unread {
                        len: 1,
                        modified_ns: 2,
                    },
                ),
            ],
            ..inputs()
        },
    ];
    let mut keys: Vec<String> = variants.iter().map(cache_key).collect();
    keys.push(base);
    let n = keys.len();
    keys.sort();
    keys.dedup();
    assert_eq!(keys.len(), n, "every variant must have its own key");
}

#[test]
fn length_prefix_prevents_field_shifting() {
    let a = KeyInputs {
        cluster: "ab",
        region: "c",
        ..inputs()
    };
    let b = KeyInputs {
        cluster: "a",
        region: "bc",
        ..inputs()
    };
    assert_ne!(cache_key(&a), cache_key(&b));
}

#[test]
fn file_states() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("config");
    assert_eq!(file_state(&p), FileState::Missing);
    fs::write(&p, "[profile dev]\nrole_arn = a\n").unwrap();
    let a = file_state(&p);
    fs::write(&p, "[profile dev]\nrole_arn = b\n").unwrap();
    let b = file_state(&p);
    assert!(matches!(a, FileState::Content(_)));
    assert_ne!(a, b);
    assert_eq!(file_state(dir.path()), file_state(dir.path()));
}

#[test]
fn freshness_window() {
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let at = |s: u64| now + Duration::from_secs(s);
    assert!(is_fresh(at(14 * 60), now));
    assert!(is_fresh(at(5 * 60), now));
    assert!(!is_fresh(at(5 * 60 - 1), now));
    assert!(!is_fresh(now, now));
    assert!(!is_fresh(UNIX_EPOCH, now));
    // claims more life than a token can have: clock moved back or not ours
    assert!(!is_fresh(at(16 * 60), now));
}

#[test]
fn entry_round_trip_and_debug_redacts() {
    let e = Entry {
        version: 1,
        token: "k8s-aws-v1.c2VjcmV0".into(),
        expires: 1_700_000_840,
        cluster: "demo".into(),
        region: "us-west-2".into(),
        profile: None,
        role_arn: Some("arn:aws:iam::1:role/r".into()),
    };
    let bytes = serde_json::to_vec(&e).unwrap();
    assert_eq!(parse_entry(&bytes).unwrap(), e);
    let dbg = format!("{e:?}");
    assert!(!dbg.contains("c2VjcmV0"), "{dbg}");
    assert!(dbg.contains("<redacted>"));
}

#[test]
fn corrupt_entries_are_rejected() {
    assert_eq!(parse_entry(b"{not json"), Err(Rejected::Corrupt));
    assert_eq!(parse_entry(b""), Err(Rejected::Corrupt));
    let wrong_version = br#"{"version":2,"token":"k8s-aws-v1.x","expires":1,"cluster":"c","region":"r","profile":null,"role_arn":null}"#;
    assert_eq!(parse_entry(wrong_version), Err(Rejected::Corrupt));
    let not_a_token = br#"{"version":1,"token":"hello","expires":1,"cluster":"c","region":"r","profile":null,"role_arn":null}"#;
    assert_eq!(parse_entry(not_a_token), Err(Rejected::Corrupt));
}
