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
fn errors_name_key_line_and_column() {
    let err = AwsAuth::parse(&data(&[
        (MAP_USERS, "[]\n"),
        (
            MAP_ROLES,
            "- rolearn: arn:aws:iam::1:role/a\n  username: a\n   groups: [x]\n",
        ),
    ]))
    .unwrap_err();
    assert_eq!(err.key(), DataKey::MapRoles);
    assert_eq!(err.position(), (3, 10));
    assert_eq!(
        err.to_string(),
        "`mapRoles` is not valid YAML at line 3, column 10: mapping values are not allowed in this context; aws-iam-authenticator rejects the whole `mapRoles` value"
    );
    let err = AwsAuth::parse(&data(&[(
        MAP_USERS,
        "- userarn: arn:aws:iam::1:user/a\n  username: yes\n",
    )]))
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "`mapUsers` at line 2, column 13: `username` must be a string, found a boolean; aws-iam-authenticator rejects the whole `mapUsers` value"
    );
    let err = AwsAuth::parse(&data(&[(MAP_USERS, "userarn: x\n")])).unwrap_err();
    assert_eq!(err.position(), (1, 1));
    assert!(
        err.to_string()
            .contains("expected a list of user mappings, found a mapping"),
        "{err}"
    );
    let err = AwsAuth::parse(&data(&[(MAP_ROLES, "- rolearn: a\n  groups: [1]\n")])).unwrap_err();
    assert!(
        err.to_string()
            .contains("each of `groups` must be a string, found a number"),
        "{err}"
    );
    let err = AwsAuth::parse(&data(&[(MAP_ACCOUNTS, "- [1]\n")])).unwrap_err();
    assert_eq!(err.key(), DataKey::MapAccounts);
    let err = AwsAuth::parse(&data(&[(MAP_ROLES, "- &a {rolearn: x}\n- *a\n")])).unwrap_err();
    assert!(
        matches!(
            err,
            AwsAuthError::Unsupported {
                what: "an anchor (`&`)",
                ..
            }
        ),
        "{err}"
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
        a.upsert_role(same),
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
        a.upsert_role(up),
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
    let up = a.upsert_user(UserMapping::new(
        "arn:aws:iam::1:user/bob",
        "bob",
        vec!["reader".into()],
    ));
    assert_eq!(up, Upsert::Added { index: 0 });
    let r = a.render();
    assert_eq!(
        r["mapUsers"],
        "- userarn: arn:aws:iam::1:user/bob\n  username: bob\n  groups:\n    - reader\n"
    );
    assert_eq!(r["other"], "keep: me\n");
    assert!(!r.contains_key(MAP_ROLES));

    let mut a = AwsAuth::parse(&data(&[(MAP_USERS, "[]\n")])).unwrap();
    a.upsert_user(UserMapping::new("arn:aws:iam::1:user/bob", "bob", vec![]));
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
    assert_eq!(a.remove("arn:aws:iam::1:role/A"), 3);
    assert_eq!(
        roles_text(&a),
        "# keep this comment\n- rolearn: arn:aws:iam::1:role/b\n  username: b\n  groups: [x]\n"
    );
    assert_eq!(a.render()[MAP_USERS], "");
    assert_eq!(a.remove("arn:aws:iam::1:role/none"), 0);
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
    demote.upsert_role(RoleMapping::new(
        "arn:aws:iam::111122223333:role/admin",
        "admin",
        vec!["view".into()],
    ));
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
    none.remove("arn:aws:iam::111122223333:role/Admin");
    none.remove("arn:aws:iam::111122223333:user/ops");
    none.remove("arn:aws:iam::1:role/node");
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

/// Every edit must read back as intended (the commit step panics otherwise): run edits with
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
            let u = a.upsert_role(RoleMapping::new(
                "arn:aws:iam::1:role/a",
                *name,
                groups.clone(),
            ));
            let eff = a.effective_role("arn:aws:iam::1:role/a", false).unwrap();
            assert_eq!(
                (u.index(), &a.roles()[eff].username, &a.roles()[eff].groups),
                (eff, &(*name).to_owned(), &groups),
                "{doc:?}"
            );
            a.upsert_role(RoleMapping::new("arn:aws:iam::1:role/new", *name, vec![]));
            a.upsert_user(UserMapping::new(
                "arn:aws:iam::1:user/a",
                *name,
                groups.clone(),
            ));
            a.upsert_user(UserMapping::new(
                "arn:aws:iam::1:user/new",
                "n",
                groups.clone(),
            ));
            let again = AwsAuth::parse(&a.render()).unwrap();
            assert_eq!(again.roles(), a.roles());
            assert_eq!(again.users(), a.users());
            a.remove("arn:aws:iam::1:role/a");
            a.remove("arn:aws:iam::1:user/new");
            assert!(a.effective_role("arn:aws:iam::1:role/a", false).is_none());
            assert_eq!(a.roles().last().unwrap().rolearn, "arn:aws:iam::1:role/new");
        }
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
    let u = a.upsert_role(RoleMapping::new(
        "arn:aws:iam::111122223333:role/new",
        "new",
        vec!["g".into()],
    ));
    let out = a.render();
    let elapsed = start.elapsed();
    assert_eq!(u, Upsert::Added { index: 5000 });
    assert_eq!(out[MAP_ROLES].len(), text.len() + "- rolearn: arn:aws:iam::111122223333:role/new\n  username: new\n  groups:\n    - g\n".len());
    assert!(out[MAP_ROLES].starts_with(&text));
    eprintln!(
        "5000 entries: parse {parsed:?} (YAML events alone {raw:?}), parse + add + render {elapsed:?}"
    );
}
