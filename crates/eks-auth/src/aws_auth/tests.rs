use std::collections::BTreeMap;

use super::*;

fn data(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn roles_text(a: &AwsAuth) -> String {
    a.render()[MAP_ROLES].clone()
}

#[test]
fn field_names_in_any_case_and_json_key_order() {
    let a = AwsAuth::parse(&data(&[(
        MAP_ROLES,
        "- rOlEaRn: arn:aws:iam::555555555555:role/nodes\n  UsErNaMe: system:node:{{EC2PrivateDNSName}}\n  gRoUpS:\n    - system:bootstrappers\n    - system:nodes\n\
         - RoleArn: arn:aws:iam::1:role/first\n  rolearn: arn:aws:iam::1:role/second\n  username: u\n",
    )]))
    .unwrap();
    assert_eq!(a.roles()[0].rolearn, "arn:aws:iam::555555555555:role/nodes");
    assert_eq!(
        a.roles()[0].groups,
        ["system:bootstrappers", "system:nodes"]
    );
    // Keys reach encoding/json sorted by bytes: `RoleArn` < `rolearn`, the latter wins.
    assert_eq!(a.roles()[1].rolearn, "arn:aws:iam::1:role/second");
}

#[test]
fn values_and_empties() {
    let a = AwsAuth::parse(&data(&[
        (
            MAP_ROLES,
            "- rolearn: arn:aws:iam::1:role/a\n  username:\n  groups:\n  userid: AROAX\n- ~\n",
        ),
        (MAP_USERS, "\"\"\n"),
        (MAP_ACCOUNTS, "- 012345678901\n- '111122223333'\n- ~\n"),
    ]))
    .unwrap();
    assert_eq!(
        a.roles()[0],
        RoleMapping {
            userid: "AROAX".into(),
            ..RoleMapping::new("arn:aws:iam::1:role/a", "", vec![])
        }
    );
    assert_eq!(a.roles()[1], RoleMapping::default());
    assert_eq!(
        a.role_info(1).unwrap().dropped.as_deref(),
        Some("neither `rolearn` nor `sso` is set")
    );
    assert!(a.users().is_empty());
    assert_eq!(a.accounts(), ["012345678901", "111122223333", ""]);
}

#[test]
fn reading_is_as_lenient_as_the_authenticator_and_editing_names_the_position() {
    // Not YAML: that key reads as empty; every other key stands alone (ParseMap).
    let input = data(&[
        (
            MAP_USERS,
            "- userarn: arn:aws:iam::1:user/u
  username: u
",
        ),
        (
            MAP_ROLES,
            "- rolearn: arn:aws:iam::1:role/a\n  username: a\n   groups: [x]\n",
        ),
    ]);
    let err = AwsAuth::parse(&input).unwrap_err();
    assert_eq!(err.key(), DataKey::MapRoles);
    assert_eq!(err.position(), (3, 10));
    assert_eq!(
        err.to_string(),
        "`mapRoles` is not valid YAML at line 3, column 10: mapping values are not allowed in this context; aws-iam-authenticator reads no mappings from it"
    );
    let read = AwsAuth::read(&input);
    assert!(read.roles().is_empty());
    assert_eq!(read.users().len(), 1);
    assert_eq!(read.problems(), [&err]);

    // A field of the wrong type is skipped; the entry is kept and editing goes on.
    let a = AwsAuth::parse(&data(&[(
        MAP_USERS,
        "- userarn: arn:aws:iam::1:user/a\n  username: yes\n  groups: [system:masters]\n",
    )]))
    .unwrap();
    assert_eq!(
        a.users(),
        [UserMapping::new(
            "arn:aws:iam::1:user/a",
            "",
            vec!["system:masters".into()]
        )]
    );
    assert_eq!(
        a.user_info(0).unwrap().skipped,
        [SkippedField {
            line: 2,
            column: 13,
            message: "`username` must be a string, found a boolean".into()
        }]
    );

    // Not a list: no entries, and not editable.
    let err = AwsAuth::parse(&data(&[(MAP_USERS, "userarn: x\n")])).unwrap_err();
    assert_eq!(err.position(), (1, 1));
    assert!(
        err.to_string()
            .contains("expected a list of user mappings, found a mapping"),
        "{err}"
    );
    let a = AwsAuth::parse(&data(&[(MAP_ROLES, "- rolearn: a\n  groups: [1, b]\n")])).unwrap();
    assert_eq!(a.roles()[0].groups, ["", "b"]);
    assert!(
        a.role_info(0).unwrap().skipped[0]
            .message
            .contains("each of `groups` must be a string, found a number")
    );
    let a = AwsAuth::parse(&data(&[(MAP_ACCOUNTS, "- [1]\n- \"111122223333\"\n")])).unwrap();
    assert_eq!(a.accounts(), ["111122223333"]);
    assert_eq!(a.accounts_skipped().len(), 1);

    // Anchors: read as yaml.v2 reads them; editing refuses with the position.
    let input = data(&[(MAP_ROLES, "- &a {rolearn: x, groups: [g]}\n- *a\n")]);
    let err = AwsAuth::parse(&input).unwrap_err();
    assert!(
        matches!(
            err,
            AwsAuthError::Unsupported {
                what: "an anchor (`&`)",
                line: 1,
                column: 6,
                ..
            }
        ),
        "{err:?}"
    );
    let mut read = AwsAuth::read(&input);
    assert_eq!(read.roles().len(), 2);
    assert_eq!(read.roles()[1].rolearn, "x");
    assert!(read.problems()[0].readable());
    assert_eq!(
        read.upsert_role(RoleMapping::new("y", "y", vec![])),
        Err(EditError::NotEditable(err))
    );
}

#[test]
fn upsert_updates_the_effective_duplicate_in_place() {
    let text = "# admins\n- rolearn: arn:aws:iam::1:role/Admin\n  username: old\n  groups:\n    - a\n- rolearn: ARN:AWS:IAM::1:ROLE/ADMIN # second\n  username: \"admin\"\n  groups:\n    - system:masters\n";
    let mut a = AwsAuth::parse(&data(&[(MAP_ROLES, text)])).unwrap();
    let same = RoleMapping::new(
        "arn:aws:iam::1:role/admin",
        "admin",
        vec!["system:masters".into()],
    );
    assert_eq!(
        a.upsert_role(same).unwrap(),
        Upsert::Unchanged {
            index: 1,
            shadowed: vec![0]
        }
    );
    assert_eq!(roles_text(&a), text);
    let up = RoleMapping::new(
        "arn:aws:iam::1:role/admin",
        "root:{{SessionName}}",
        vec!["system:masters".into(), "ops".into()],
    );
    assert_eq!(
        a.upsert_role(up).unwrap(),
        Upsert::Updated {
            index: 1,
            shadowed: vec![0]
        }
    );
    assert_eq!(
        roles_text(&a),
        "# admins\n- rolearn: arn:aws:iam::1:role/Admin\n  username: old\n  groups:\n    - a\n- rolearn: ARN:AWS:IAM::1:ROLE/ADMIN # second\n  username: \"root:{{SessionName}}\"\n  groups:\n    - system:masters\n    - ops\n"
    );
    assert_eq!(a.roles()[1].groups, ["system:masters", "ops"]);
}

#[test]
fn add_to_missing_and_empty_keys() {
    let mut a = AwsAuth::parse(&data(&[("other", "keep: me\n")])).unwrap();
    let up = a
        .upsert_user(UserMapping::new(
            "arn:aws:iam::1:user/bob",
            "bob",
            vec!["reader".into()],
        ))
        .unwrap();
    assert_eq!(up, Upsert::Added { index: 0 });
    let r = a.render();
    assert_eq!(
        r["mapUsers"],
        "- userarn: arn:aws:iam::1:user/bob\n  username: bob\n  groups:\n    - reader\n"
    );
    assert_eq!(r["other"], "keep: me\n");
    assert!(!r.contains_key(MAP_ROLES));

    let mut a = AwsAuth::parse(&data(&[(MAP_USERS, "[]\n")])).unwrap();
    a.upsert_user(UserMapping::new("arn:aws:iam::1:user/bob", "bob", vec![]))
        .unwrap();
    assert_eq!(
        a.render()[MAP_USERS],
        "- userarn: arn:aws:iam::1:user/bob\n  username: bob\n  groups: []\n"
    );
}

#[test]
fn remove_takes_every_duplicate_and_nothing_else() {
    let text = "- rolearn: arn:aws:iam::1:role/a\n  username: a\n# keep this comment\n- rolearn: arn:aws:iam::1:role/b\n  username: b\n  groups: [x]\n- rolearn: ARN:aws:iam::1:role/A\n  username: a2\n";
    let mut a = AwsAuth::parse(&data(&[
        (MAP_ROLES, text),
        (
            MAP_USERS,
            "- {userarn: 'arn:aws:iam::1:role/a', username: u}\n",
        ),
    ]))
    .unwrap();
    assert_eq!(a.remove("arn:aws:iam::1:role/A").unwrap(), 3);
    assert_eq!(
        roles_text(&a),
        "# keep this comment\n- rolearn: arn:aws:iam::1:role/b\n  username: b\n  groups: [x]\n"
    );
    assert_eq!(a.render()[MAP_USERS], "");
    assert_eq!(a.remove("arn:aws:iam::1:role/none").unwrap(), 0);
}

#[test]
fn validation_findings() {
    let a = AwsAuth::parse(&data(&[
        (
            MAP_ROLES,
            "- rolearn: arn:aws:iam::111122223333:role/team/dev\n  username: dev\n\
             - rolearn: arn:aws:iam::111122223333:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n\
             - rolearn: arn:aws:sts::111122223333:assumed-role/x/y\n  username: eks:me\n  groups: [system:authenticated]\n\
             - rolearn: arn:aws:iam::111122223333:role/node\n  username: again\n\
             - sso: {permissionSetName: Admin, accountID: '111122223333', partition: aws}\n  username: s\n\
             - sso: {permissionSetName: Admin, accountID: '1'}\n",
        ),
        (
            MAP_USERS,
            "- userarn: arn:aws:iam::111122223333:user/Bob\n  username: bob\n- userarn: arn:aws:iam::111122223333:user/bob\n  username: bob2\n",
        ),
        (MAP_ACCOUNTS, "- '1234'\n"),
    ]))
    .unwrap();
    let found: Vec<String> = a.validate().iter().map(ToString::to_string).collect();
    assert_eq!(
        found,
        [
            "`mapRoles` entry 1 (line 1): a role ARN with a path never matches; the authenticator matches `arn:aws:iam::111122223333:role/dev`",
            "`mapRoles` entry 2 (line 3): shadowed by entry 4 for the same ARN (the authenticator keeps the last one)",
            "`mapRoles` entry 3 (line 6): never matches: an assumed-role ARN; the authenticator matches the role ARN `arn:P:iam::ACCOUNT:role/NAME`",
            "`mapRoles` entry 3 (line 6): the username starts with `eks:`, a prefix EKS reserves",
            "`mapRoles` entry 3 (line 6): the group `system:authenticated` is reserved by Kubernetes",
            "`mapRoles` entry 5 (line 11): an `sso` entry with `partition` set never matches (authenticator bug); drop `partition` for `aws`",
            "`mapRoles` entry 6 (line 13): ignored by the authenticator: `sso.accountID` `1` is not a 12-digit account id",
            "`mapUsers` entry 1 (line 1): entry 2 has the same ARN in other letter case; which one applies is undefined",
            "`mapUsers` entry 2 (line 3): entry 1 has the same ARN in other letter case; which one applies is undefined",
            "`mapAccounts` entry 1 (line 0): not a 12-digit AWS account id",
        ]
    );
}

fn arn(s: &str) -> crate::arn::Arn {
    s.parse().unwrap()
}

#[test]
fn lockout_rules() {
    let before = AwsAuth::parse(&data(&[
        (
            MAP_ROLES,
            "- rolearn: arn:aws:iam::1:role/node\n  username: system:node:{{EC2PrivateDNSName}}\n  groups: [system:bootstrappers, system:nodes]\n\
             - rolearn: arn:aws:iam::111122223333:role/Admin\n  username: admin\n  groups: [system:masters]\n",
        ),
        (MAP_USERS, "- userarn: arn:aws:iam::111122223333:user/ops\n  username: ops\n  groups: [system:masters]\n"),
    ]))
    .unwrap();
    let me = arn("arn:aws:sts::111122223333:assumed-role/Admin/me");

    let mut demote = before.clone();
    demote
        .upsert_role(RoleMapping::new(
            "arn:aws:iam::111122223333:role/admin",
            "admin",
            vec!["view".into()],
        ))
        .unwrap();
    let risks = lockout_check(&before, &demote, Some(&me));
    assert_eq!(
        risks,
        [LockoutRisk::CallerAdminLost {
            caller: "arn:aws:iam::111122223333:role/Admin".into(),
            removed: false
        }]
    );
    assert_eq!(
        risks[0].reason(),
        "this takes `system:masters` away from your own mapping `arn:aws:iam::111122223333:role/Admin`: you could not undo it"
    );
    // Someone else may be demoted while another admin remains.
    assert!(
        lockout_check(
            &before,
            &demote,
            Some(&arn("arn:aws:iam::111122223333:user/ops"))
        )
        .is_empty()
    );

    let mut none = before.clone();
    none.remove("arn:aws:iam::111122223333:role/Admin").unwrap();
    none.remove("arn:aws:iam::111122223333:user/ops").unwrap();
    none.remove("arn:aws:iam::1:role/node").unwrap();
    let risks = lockout_check(&before, &none, Some(&me));
    assert_eq!(
        risks,
        [
            LockoutRisk::LastMastersRemoved {
                removed: vec![
                    "arn:aws:iam::111122223333:role/Admin".into(),
                    "arn:aws:iam::111122223333:user/ops".into()
                ]
            },
            LockoutRisk::CallerAdminLost {
                caller: "arn:aws:iam::111122223333:role/Admin".into(),
                removed: true
            },
            LockoutRisk::NodeRoleDropped {
                rolearn: "arn:aws:iam::1:role/node".into()
            },
        ]
    );
    assert!(risks[2].reason().contains("`system:nodes`"));
    assert!(lockout_check(&before, &before, Some(&me)).is_empty());
}

/// An edited document must be in the state a fresh parse of its text gives: same entries, same
/// node positions, lines and field references (the window re-read patches these in place).
#[track_caller]
fn assert_as_parsed(a: &AwsAuth, what: &str) {
    let fresh = AwsAuth::parse(&a.render()).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert_eq!(a.roles(), fresh.roles(), "{what}");
    assert_eq!(a.users(), fresh.users(), "{what}");
    assert_eq!(
        format!("{:?}", a.roles_doc),
        format!("{:?}", fresh.roles_doc),
        "{what}"
    );
    assert_eq!(
        format!("{:?}", a.users_doc),
        format!("{:?}", fresh.users_doc),
        "{what}"
    );
}

/// Every edit must read back as intended (the commit step errs otherwise): run edits with
/// awkward values over documents in many layouts.
#[test]
fn edits_read_back_on_odd_documents() {
    let docs = [
        "- rolearn: arn:aws:iam::1:role/a\n  username: |\n    block\n  groups: # c\n    - g\n",
        "- rolearn: arn:aws:iam::1:role/a\n  username: >-\n    folded\n  groups:\n",
        "- \"rolearn\": 'arn:aws:iam::1:role/a'\n  \"username\": 'x'\n  \"groups\": ['g']\n",
        "  - rolearn: arn:aws:iam::1:role/a\r\n    username: a\r\n",
        "---\n- rolearn: arn:aws:iam::1:role/a\n...\n",
        "- rolearn: arn:aws:iam::1:role/é\n  username: é\n  groups: [ g , h ]\n",
        "[ {rolearn: 'arn:aws:iam::1:role/a'} ]\n",
        "- {}\n",
        "- ~\n- rolearn: arn:aws:iam::1:role/a\n",
        "# only a comment",
        "null\n",
        "- rolearn: arn:aws:iam::1:role/a\n  groups:\n  - a\n  - b\n  username: a\n",
    ];
    let names = [
        "plain",
        "{{SessionName}}",
        "a: b",
        "yes",
        "#x",
        "it's",
        "é",
        "x,y",
        "",
        "- z",
        "123",
    ];
    for doc in docs {
        for (i, name) in names.iter().enumerate() {
            let mut a = AwsAuth::parse(&data(&[
                (MAP_ROLES, doc),
                (MAP_USERS, doc.replace("role", "user").as_str()),
            ]))
            .unwrap_or_else(|e| panic!("{doc:?}: {e}"));
            let groups = vec![(*name).to_owned(), names[(i + 1) % names.len()].to_owned()];
            let u = a
                .upsert_role(RoleMapping::new(
                    "arn:aws:iam::1:role/a",
                    *name,
                    groups.clone(),
                ))
                .unwrap();
            assert_as_parsed(&a, doc);
            let eff = a.effective_role("arn:aws:iam::1:role/a", false).unwrap();
            assert_eq!(
                (u.index(), &a.roles()[eff].username, &a.roles()[eff].groups),
                (eff, &(*name).to_owned(), &groups),
                "{doc:?}"
            );
            a.upsert_role(RoleMapping::new("arn:aws:iam::1:role/new", *name, vec![]))
                .unwrap();
            assert_as_parsed(&a, doc);
            a.upsert_user(UserMapping::new(
                "arn:aws:iam::1:user/a",
                *name,
                groups.clone(),
            ))
            .unwrap();
            a.upsert_user(UserMapping::new(
                "arn:aws:iam::1:user/new",
                "n",
                groups.clone(),
            ))
            .unwrap();
            assert_as_parsed(&a, doc);
            let again = AwsAuth::parse(&a.render()).unwrap();
            assert_eq!(again.roles(), a.roles());
            assert_eq!(again.users(), a.users());
            a.remove("arn:aws:iam::1:role/a").unwrap();
            a.remove("arn:aws:iam::1:user/new").unwrap();
            assert_as_parsed(&a, doc);
            assert!(a.effective_role("arn:aws:iam::1:role/a", false).is_none());
            assert_eq!(a.roles().last().unwrap().rolearn, "arn:aws:iam::1:role/new");
        }
    }
}

/// Edits of block lists are read back through the lines they touched: first, middle and last
/// entries, comments and blank lines between entries, block scalars, an indented list, a text
/// without a final newline; after each edit the document is exactly what a full parse gives.
#[test]
fn window_rereads_match_a_full_parse() {
    let docs = [
        "- rolearn: arn:aws:iam::1:role/a\n  username: a\n  groups:\n    - g\n# between\n\n- rolearn: arn:aws:iam::1:role/b\n  username: b\n- rolearn: arn:aws:iam::1:role/c\n  username: c\n  groups: [g]\n# tail\n",
        "  - rolearn: arn:aws:iam::1:role/a\n    username: |\n      block\n\n  - rolearn: arn:aws:iam::1:role/b\n    username: b\n  - rolearn: arn:aws:iam::1:role/c\n    username: >\n      folded\n",
        "- rolearn: arn:aws:iam::1:role/a\n  username: a\n- rolearn: arn:aws:iam::1:role/b # c\n  username: b\n- rolearn: arn:aws:iam::1:role/c\n  username: 'c'",
        "- rolearn: arn:aws:iam::1:role/a\n  username: a\n- {rolearn: 'arn:aws:iam::1:role/b', username: b}\n- rolearn: arn:aws:iam::1:role/c\n  username: c\n  groups:\n  - x\n",
        "-   rolearn: arn:aws:iam::1:role/a\n    username: a\n-\n  rolearn: arn:aws:iam::1:role/b\n  username: b\n- rolearn: arn:aws:iam::1:role/c\n  username: \"c\"\n...\n",
    ];
    for doc in docs {
        let mut a =
            AwsAuth::parse(&data(&[(MAP_ROLES, doc)])).unwrap_or_else(|e| panic!("{doc:?}: {e}"));
        for (arn, name, groups) in [
            ("a", "a2", vec!["g", "h"]),
            ("b", "b2", vec![]),
            ("c", "{{SessionName}}", vec!["x: y"]),
            ("new", "n", vec!["g"]),
            ("new2", "n2", vec![]),
            ("b", "b3", vec!["z"]),
        ] {
            let arn = format!("arn:aws:iam::1:role/{arn}");
            let groups: Vec<String> = groups.into_iter().map(str::to_owned).collect();
            a.upsert_role(RoleMapping::new(arn.as_str(), name, groups.clone()))
                .unwrap();
            assert_as_parsed(&a, doc);
            let eff = a.effective_role(&arn, false).unwrap();
            assert_eq!(
                (a.roles()[eff].username.as_str(), &a.roles()[eff].groups),
                (name, &groups)
            );
        }
        for arn in ["b", "a", "new2", "c", "new"] {
            assert_eq!(
                a.remove(&format!("arn:aws:iam::1:role/{arn}")).unwrap(),
                1,
                "{doc:?}"
            );
            assert_as_parsed(&a, doc);
        }
        assert!(a.roles().is_empty(), "{doc:?}");
    }
}

#[test]
fn add_to_five_thousand_entries() {
    let mut text = String::new();
    for i in 0..5000 {
        text.push_str(&format!(
            "- rolearn: arn:aws:iam::111122223333:role/r{i}\n  username: u{i}\n  groups:\n    - g{i}\n"
        ));
    }
    let start = std::time::Instant::now();
    let mut a = AwsAuth::parse(&data(&[(MAP_ROLES, &text)])).unwrap();
    let parsed = start.elapsed();
    let t = std::time::Instant::now();
    let _ = yaml::parse(&text).unwrap();
    let raw = t.elapsed();
    let u = a
        .upsert_role(RoleMapping::new(
            "arn:aws:iam::111122223333:role/new",
            "new",
            vec!["g".into()],
        ))
        .unwrap();
    let out = a.render();
    let elapsed = start.elapsed();
    assert_eq!(u, Upsert::Added { index: 5000 });
    assert_eq!(out[MAP_ROLES].len(), text.len() + "- rolearn: arn:aws:iam::111122223333:role/new\n  username: new\n  groups:\n    - g\n".len());
    assert!(out[MAP_ROLES].starts_with(&text));
    eprintln!(
        "5000 entries: parse {parsed:?} (YAML events alone {raw:?}), parse + add + render {elapsed:?}"
    );
}

/// The data of `kubectl-eks-grant`'s `bench_grant` example: 2,500 `mapRoles` + 2,500 `mapUsers`.
fn bench_data() -> BTreeMap<String, String> {
    let mut roles = String::new();
    let mut users = String::new();
    for i in 0..2500 {
        roles.push_str(&format!(
            "- rolearn: arn:aws:iam::123456789012:role/team-{i:05}\n  username: team-{i:05}:{{{{SessionName}}}}\n  groups:\n    - team-{}\n",
            i % 50
        ));
        users.push_str(&format!(
            "- userarn: arn:aws:iam::123456789012:user/user-{i:05}\n  username: user-{i:05}\n  groups:\n    - readers\n"
        ));
    }
    data(&[(MAP_ROLES, &roles), (MAP_USERS, &users)])
}

/// Timing of each step of `add` on the benchmark's 5,000 entries (not a test: run with
/// `cargo test --release -p eks-auth --lib -- --ignored --nocapture time_add_steps`).
#[test]
#[ignore = "timing, not a test"]
fn time_add_steps() {
    let data = bench_data();
    let caller = arn("arn:aws:iam::123456789012:user/user-00001");
    for _ in 0..3 {
        let t = std::time::Instant::now();
        let before = AwsAuth::parse(&data).unwrap();
        let parse = t.elapsed();
        let t = std::time::Instant::now();
        let raw = yaml::parse(&data[MAP_USERS]).unwrap();
        let events = t.elapsed();
        drop(raw);
        let t = std::time::Instant::now();
        let mut after = before.clone();
        let clone = t.elapsed();
        let t = std::time::Instant::now();
        let u = after
            .upsert_user(UserMapping::new(
                "arn:aws:iam::123456789012:user/bench-000",
                "bench-000",
                vec!["bench".into()],
            ))
            .unwrap();
        let upsert = t.elapsed();
        assert_eq!(u, Upsert::Added { index: 2500 });
        let t = std::time::Instant::now();
        let risks = lockout_check(&before, &after, Some(&caller));
        let lockout = t.elapsed();
        let t = std::time::Instant::now();
        let out = after.render();
        let render = t.elapsed();
        assert_eq!(out[MAP_ROLES], data[MAP_ROLES]);
        eprintln!(
            "parse {parse:?} (yaml tree of mapUsers alone {events:?}), clone {clone:?}, upsert_user {upsert:?}, lockout_check {lockout:?} ({} risks), render {render:?}",
            risks.len()
        );
    }
}

/// The lockout guard, the lint and `list` (through `role_live`/`user_live`) share one notion of
/// "this entry can match": for every kind of entry that never does, a `system:masters` mapping
/// of that kind does not count as a working admin mapping.
#[test]
fn every_kind_of_dead_entry_is_dead_for_the_guard_the_lint_and_list() {
    const WORKING: &str = "arn:aws:iam::111122223333:role/Working";
    let cases: [(&str, &str, &str, DataKey, usize); 10] = [
        (
            "dropped (no rolearn)",
            "- username: a\n  groups: [system:masters]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "role ARN with a path",
            "- rolearn: arn:aws:iam::111122223333:role/team/Admin\n  username: a\n  groups: [system:masters]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "assumed-role ARN",
            "- rolearn: arn:aws:sts::111122223333:assumed-role/Admin/me\n  username: a\n  groups: [system:masters]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "not an ARN",
            "- rolearn: Admin\n  username: a\n  groups: [system:masters]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "shadowed duplicate",
            "- rolearn: arn:aws:iam::111122223333:role/Admin\n  username: a\n  groups: [system:masters]\n- rolearn: ARN:AWS:IAM::111122223333:ROLE/ADMIN\n  username: a\n  groups: [view]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "sso entry (feature gate off)",
            "- sso: {permissionSetName: Admin, accountID: \"111122223333\"}\n  username: a\n  groups: [system:masters]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "sso entry with a partition",
            "- sso: {permissionSetName: Admin, accountID: \"111122223333\", partition: aws}\n  username: a\n  groups: [system:masters]\n",
            "",
            DataKey::MapRoles,
            1,
        ),
        (
            "user shadowed by an exact duplicate",
            "",
            "- userarn: arn:aws:iam::111122223333:user/ann\n  username: a\n  groups: [system:masters]\n- userarn: arn:aws:iam::111122223333:user/ann\n  username: a\n  groups: [view]\n",
            DataKey::MapUsers,
            0,
        ),
        (
            "user entry behind a mapRoles entry for the same ARN",
            "- rolearn: arn:aws:iam::111122223333:role/Ops\n  username: ops\n  groups: [view]\n",
            "- userarn: arn:aws:iam::111122223333:role/Ops\n  username: a\n  groups: [system:masters]\n",
            DataKey::MapUsers,
            0,
        ),
        (
            "user ARN with an assumed-role ARN",
            "",
            "- userarn: arn:aws:sts::111122223333:assumed-role/Admin/me\n  username: a\n  groups: [system:masters]\n",
            DataKey::MapUsers,
            0,
        ),
    ];
    for (what, roles, users, key, index) in cases {
        let roles_text = format!(
            "- rolearn: {WORKING}\n  username: working\n  groups: [system:masters]\n{roles}"
        );
        let before = AwsAuth::parse(&data(&[(MAP_ROLES, &roles_text), (MAP_USERS, users)]))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        let live = match key {
            DataKey::MapUsers => before.user_live(index),
            _ => before.role_live(index),
        };
        assert!(!live, "{what}: counted as live");
        let dead: Vec<_> = before
            .validate()
            .into_iter()
            .filter(|i| i.key == key && i.index == index && i.kind.is_dead())
            .collect();
        assert_eq!(dead.len(), 1, "{what}: {:?}", before.validate());
        let mut after = before.clone();
        after.remove(WORKING).unwrap();
        let risks = lockout_check(&before, &after, None);
        assert!(
            matches!(risks.as_slice(), [LockoutRisk::LastMastersRemoved { removed }] if removed == &[WORKING.to_owned()]),
            "{what}: {risks:?}"
        );
    }
}

#[test]
fn arns_compare_like_go_equal_fold() {
    // strings.EqualFold: simple case folding, so the Kelvin sign is a `k` and `ſ` an `s`.
    assert!(go_equal_fold(
        "arn:aws:iam::1:role/\u{212a}ube",
        "arn:aws:iam::1:role/kube"
    ));
    assert!(go_equal_fold(
        "arn:aws:iam::1:role/\u{17f}re",
        "arn:aws:iam::1:role/SRE"
    ));
    assert!(!go_equal_fold(
        "arn:aws:iam::1:role/\u{131}",
        "arn:aws:iam::1:role/i"
    ));
    assert!(!go_equal_fold("ab", "abc"));
    let a = AwsAuth::parse(&data(&[(
        MAP_ROLES,
        "- rolearn: arn:aws:iam::111122223333:role/\u{17f}re\n  username: sre\n",
    )]))
    .unwrap();
    assert_eq!(
        a.effective_role("arn:aws:iam::111122223333:role/sre", false),
        Some(0)
    );
}
