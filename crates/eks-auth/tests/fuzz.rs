//! The fuzz harness: bounded property tests (proptest, stable toolchain) over the inputs the core
//! takes from strangers: tokens (decode, verify), aws-auth values (read, parse, lint, mapping)
//! and edits of aws-auth.
//!
//! Properties: nothing panics, whatever the input; an edit that succeeds changes no byte outside
//! the lines of the entry it touched (nor any other key), and reads back as what was asked.
//!
//! `EKS_FUZZ_CASES` sets the cases per property (default 256, what `cargo test` runs); CI runs
//! it with more for a bounded time (see the README's test section). Each property prints its
//! case count and time.

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime};

use base64::Engine as _;
use eks_auth::aws_auth::{AwsAuth, RoleMapping, UserMapping};
use eks_auth::mapping::{Identity, map_identity};
use eks_auth::token::{VerifyRules, decode, verify};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

fn cases() -> u32 {
    std::env::var("EKS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

fn report(what: &str, started: Instant) {
    eprintln!(
        "fuzz: {what}: {} cases in {:.2} s",
        cases(),
        started.elapsed().as_secs_f64()
    );
}

// ---------------------------------------------------------------- tokens

const HOSTS: &[&str] = &[
    "sts.amazonaws.com",
    "sts.us-west-2.amazonaws.com",
    "sts-fips.us-east-1.amazonaws.com",
    "sts.cn-north-1.amazonaws.com.cn",
    "sts.us-west-2.api.aws",
    "sts.us-iso-east-1.c2s.ic.gov",
    "sts.x.y",
    "sts",
    "",
    "évil.example",
];
const KEYS: &[&str] = &[
    "Action",
    "action",
    "Version",
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "x-amz-credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-Security-Token",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "Other",
    "%41ction",
    "",
];
const VALUES: &[&str] = &[
    "GetCallerIdentity",
    "20230428T000000Z",
    "60",
    "901",
    "-1",
    "host%3Bx-k8s-aws-id",
    "x-k8s-aws-id",
    "AKIA%2F20230428%2Fus-west-2%2Fsts%2Faws4_request",
    "%zz",
    "a;b",
    "",
    "+",
];

fn url_strategy() -> impl Strategy<Value = String> {
    (
        prop::sample::select(&["https", "http", "HTTPS", ""][..]),
        prop::sample::select(HOSTS),
        prop::sample::select(&["/", "", "/x", "//"][..]),
        prop::collection::vec(
            (prop::sample::select(KEYS), prop::sample::select(VALUES)),
            0..12,
        ),
        ".{0,8}",
    )
        .prop_map(|(scheme, host, path, pairs, tail)| {
            let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
            format!("{scheme}://{host}{path}?{}{tail}", query.join("&"))
        })
}

fn token_strategy() -> impl Strategy<Value = String> {
    prop_oneof![
        url_strategy().prop_map(|url| format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
        )),
        ".{0,64}".prop_map(|s| format!("k8s-aws-v1.{s}")),
        ".{0,64}",
        prop::collection::vec(any::<u8>(), 0..96).prop_map(|b| format!(
            "k8s-aws-v1.{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
        )),
    ]
}

#[test]
fn tokens_never_panic() {
    let started = Instant::now();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_682_640_060);
    let all = [None, Some("aws"), Some("aws-cn"), Some("aws-iso")];
    runner()
        .run(&token_strategy(), |token| {
            let _ = decode(&token);
            for partition in all {
                let rules = VerifyRules {
                    partition: partition.map(str::to_owned),
                    region: Some("us-west-2".to_owned()),
                    ..VerifyRules::default()
                };
                if let Ok(req) = verify(&token, now, &rules) {
                    // Whatever passed is an https URL with a host and an access key id field.
                    prop_assert!(req.url.to_ascii_lowercase().starts_with("https://"));
                    prop_assert!(!req.host.is_empty());
                }
            }
            Ok(())
        })
        .unwrap();
    report("token decode/verify", started);
}

// ---------------------------------------------------------------- aws-auth reading

const FRAGMENTS: &[&str] = &[
    "- ",
    "  ",
    "    ",
    "rolearn: ",
    "userarn: ",
    "RoleArn: ",
    "username: ",
    "groups: ",
    "groups:\n    - ",
    "sso: ",
    "permissionSetName: ",
    "accountID: ",
    "arn:aws:iam::111122223333:role/Admin",
    "arn:aws:iam::111122223333:role/team/Dev",
    "arn:aws:sts::111122223333:assumed-role/A/s",
    "arn:aws:sts::111122223333:federated-user/Bob",
    "arn:aws:iam::111122223333:user/ann",
    "system:masters",
    "{{SessionName}}",
    "yes",
    "0x1FFFFFFFFFFFFFFFFF",
    "1e400",
    ".nan",
    "~",
    "null",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "!!int ",
    "!custom ",
    "\"q\\\"uoted\"",
    "'single'",
    "[a, b]",
    "{rolearn: x, groups: [g]}",
    "|\n    block",
    "# comment",
    "---",
    "...",
    "\t",
    "\n",
    "\n",
    "\n- ",
    ": ",
    "? ",
    "ſ",
    "\u{212a}",
    "é",
];

fn yamlish() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(FRAGMENTS), 0..40).prop_map(|v| v.concat())
}

fn data_strategy() -> impl Strategy<Value = BTreeMap<String, String>> {
    (yamlish(), yamlish(), yamlish()).prop_map(|(r, u, a)| {
        BTreeMap::from([
            ("mapRoles".to_owned(), r),
            ("mapUsers".to_owned(), u),
            ("mapAccounts".to_owned(), a),
        ])
    })
}

#[test]
fn reading_aws_auth_never_panics() {
    let started = Instant::now();
    let ids = [
        ("arn:aws:sts::111122223333:assumed-role/Admin/s", "AROA:s"),
        ("arn:aws:iam::111122223333:user/ann", "AIDA"),
        (
            "arn:aws:sts::111122223333:federated-user/Bob",
            "111122223333:Bob",
        ),
    ];
    runner()
        .run(&data_strategy(), |data| {
            let read = AwsAuth::read(&data);
            let _ = AwsAuth::parse(&data);
            let _ = read.validate();
            for i in 0..read.roles().len() {
                let _ = read.role_dead(i);
            }
            for i in 0..read.users().len() {
                let _ = read.user_dead(i);
            }
            for (arn, user_id) in ids {
                let id = Identity {
                    arn: arn.parse().unwrap(),
                    account: "111122223333".into(),
                    user_id: user_id.into(),
                    access_key_id: "AKIA".into(),
                };
                let _ = map_identity(&id, &read, None);
            }
            // The problems name positions inside the value.
            for p in read.problems() {
                let (line, column) = p.position();
                prop_assert!(line >= 1 && column >= 1, "{p}");
            }
            Ok(())
        })
        .unwrap();
    report("aws-auth read/parse/lint/map", started);
}

// ---------------------------------------------------------------- aws-auth editing

/// A block list of role entries in one of several styles, with comments between them.
fn entry_text() -> impl Strategy<Value = String> {
    (
        0..6usize,
        prop::sample::select(&["Admin", "Dev", "node", "ops", "ADMIN"][..]),
        prop::sample::select(&["admin", "\"quoted\"", "'single'", "{{SessionName}}", "yes"][..]),
        prop::sample::select(
            &[
                "[system:masters]",
                "\n    - system:masters\n    - dev",
                "\n  - a",
                "[]",
                "system:nodes",
            ][..],
        ),
        prop::sample::select(&["", "# note\n", "\n", "  # indented note\n"][..]),
    )
        .prop_map(|(style, name, user, groups, after)| {
            let arn = format!("arn:aws:iam::111122223333:role/{name}");
            let body = match style {
                0 => format!("- rolearn: {arn}\n  username: {user}\n  groups: {groups}\n"),
                1 => format!("- username: {user}\n  rolearn: {arn}\n  groups: {groups}\n"),
                2 => format!("- rolearn: \"{arn}\" # why\n  username: {user}\n"),
                3 => format!("- RoleARN: {arn}\n  UserName: {user}\n  Groups: {groups}\n"),
                4 => format!("- rolearn: {arn}\n  username: |\n    {name}\n  groups: {groups}\n"),
                _ => format!("- rolearn: {arn}\n  groups: {groups}\n"),
            };
            format!("{body}{after}")
        })
}

#[derive(Debug, Clone)]
enum Edit {
    Upsert(RoleMapping),
    UpsertUser(UserMapping),
    Remove(String),
}

fn edit_strategy() -> impl Strategy<Value = Edit> {
    let name = || prop::sample::select(&["Admin", "Dev", "node", "ops", "new", "ADMIN"][..]);
    let username =
        || prop::sample::select(&["admin", "x:{{SessionName}}", "quo\"te", "a: b", ""][..]);
    let groups = prop::collection::vec(
        prop::sample::select(&["system:masters", "dev", "a b", "#x"][..]).prop_map(str::to_owned),
        0..3,
    );
    prop_oneof![
        (name(), username(), groups.clone()).prop_map(|(n, u, g)| Edit::Upsert(RoleMapping::new(
            format!("arn:aws:iam::111122223333:role/{n}"),
            u,
            g
        ))),
        (name(), username(), groups).prop_map(|(n, u, g)| Edit::UpsertUser(UserMapping::new(
            format!("arn:aws:iam::111122223333:user/{n}"),
            u,
            g
        ))),
        name().prop_map(|n| Edit::Remove(format!("arn:aws:iam::111122223333:role/{n}"))),
    ]
}

/// Byte offsets of the start of each 1-based line.
fn line_starts(text: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    v
}

#[test]
fn edits_touch_only_their_entry() {
    let started = Instant::now();
    let checked = std::sync::atomic::AtomicUsize::new(0);
    let strategy = (
        prop::sample::select(&["", "# header\n", "\n"][..]),
        prop::collection::vec(entry_text(), 0..6),
        edit_strategy(),
    );
    runner()
        .run(&strategy, |(header, entries, edit)| {
            let roles = format!("{header}{}", entries.concat());
            let users = "- userarn: arn:aws:iam::111122223333:user/ann\n  username: ann\n";
            let data = BTreeMap::from([
                ("mapRoles".to_owned(), roles.clone()),
                ("mapUsers".to_owned(), users.to_owned()),
                ("other".to_owned(), "kept: [as, is]".to_owned()),
            ]);
            let Ok(before) = AwsAuth::parse(&data) else {
                return Ok(());
            };
            let mut after = before.clone();
            let (key, touched) = match &edit {
                Edit::Upsert(m) => {
                    let Ok(up) = after.upsert_role(m.clone()) else {
                        return Ok(());
                    };
                    ("mapRoles", Some(up.index()))
                }
                Edit::UpsertUser(m) => {
                    let Ok(up) = after.upsert_user(m.clone()) else {
                        return Ok(());
                    };
                    ("mapUsers", Some(up.index()))
                }
                Edit::Remove(arn) => {
                    let Ok(n) = after.remove(arn) else {
                        return Ok(());
                    };
                    if n != 1 {
                        // Several entries removed: each is its own window; not checked here.
                        return Ok(());
                    }
                    let i = before
                        .roles()
                        .iter()
                        .position(|r| eks_auth::aws_auth::go_equal_fold(&r.rolearn, arn));
                    ("mapRoles", i)
                }
            };
            let old_all = before.render();
            let new_all = after.render();
            for (k, v) in &old_all {
                if k != key {
                    prop_assert_eq!(Some(v), new_all.get(k), "key {} changed", k);
                }
            }
            let old = old_all.get(key).cloned().unwrap_or_default();
            let new = new_all.get(key).cloned().unwrap_or_default();
            if old == new {
                return Ok(());
            }
            // The touched entry's lines: from its own line to the next entry's line; an
            // appended entry may only touch the end of the text after the last entry's line.
            let list_len = match key {
                "mapUsers" => before.users().len(),
                _ => before.roles().len(),
            };
            let line_of = |i: usize| match key {
                "mapUsers" => before.user_info(i).map(|e| e.line),
                _ => before.role_info(i).map(|e| e.line),
            };
            let starts = line_starts(&old);
            let window = match touched {
                Some(i) if i < list_len => {
                    let first = line_of(i).unwrap();
                    let end = line_of(i + 1).map_or(old.len(), |l| starts[l - 1]);
                    (starts[first - 1], end)
                }
                // Appended: after the start of the last entry's line (or anywhere if none).
                _ => (
                    list_len
                        .checked_sub(1)
                        .and_then(line_of)
                        .map_or(0, |l| starts[l - 1]),
                    old.len(),
                ),
            };
            checked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            // Some alignment keeps every byte before and after the window.
            let (head, tail) = (&old[..window.0], &old[window.1..]);
            prop_assert!(
                new.len() >= head.len() + tail.len()
                    && new.starts_with(head)
                    && new.ends_with(tail),
                "edit {:?} changed bytes outside the entry's {}..{} of:\n{}\n---\n{}",
                edit,
                window.0,
                window.1,
                old,
                new
            );
            Ok(())
        })
        .unwrap();
    report("aws-auth edit", started);
    let checked = checked.into_inner();
    eprintln!("fuzz: aws-auth edit: {checked} edits changed the text and were checked");
    assert!(checked > 0, "the generator produced no edit to check");
}
