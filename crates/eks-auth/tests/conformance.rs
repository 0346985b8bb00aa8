//! Conformance vectors from suites we did not write, run against the core.
//!
//! The tables in `tests/conformance/*.json` are the test tables of kubernetes-sigs/
//! aws-iam-authenticator (pkg/token, pkg/arn, pkg/mapper/configmap, pkg/server), ported as data:
//! each row names the upstream file and test it comes from; the facts carry over, the code
//! below is ours. The test prints how many vectors each table holds and fails on the first
//! row the core answers differently, naming it.

use std::collections::BTreeMap;
use std::time::SystemTime;

use base64::Engine as _;
use eks_auth::arn::Arn;
use eks_auth::aws_auth::{AwsAuth, arn_like};
use eks_auth::mapping::{
    Identity, MapOptions, MappingError, map_identity, map_identity_with, render_template,
};
use eks_auth::token::host::{check_host, sts_domain, valid_region_label};
use eks_auth::token::{VerifyRules, verify};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/conformance/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn s<'a>(row: &'a Value, key: &str) -> &'a str {
    row[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} in {row}"))
}

fn opt<'a>(row: &'a Value, key: &str) -> Option<&'a str> {
    row[key].as_str()
}

fn rows<'a>(doc: &'a Value, table: &str) -> &'a [Value] {
    doc[table].as_array().unwrap()
}

/// Runs `check` on every row of `table`, returning the count; a failure names the row.
fn run(doc: &Value, table: &str, counts: &mut Vec<(String, usize)>, check: impl Fn(&Value)) {
    let rows = rows(doc, table);
    for row in rows {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(row)));
        assert!(outcome.is_ok(), "vector {table} {row} failed");
    }
    counts.push((table.to_owned(), rows.len()));
}

fn amz_now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y%m%dT%H%M%SZ")
        .to_string()
}

fn token_of(url: &str) -> String {
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

fn identity(arn: &str, account: &str, user_id: &str, key: &str) -> Identity {
    Identity {
        arn: arn.parse().unwrap(),
        account: account.to_owned(),
        user_id: user_id.to_owned(),
        access_key_id: key.to_owned(),
    }
}

fn data(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn aws_iam_authenticator_vectors() {
    let mut counts = Vec::new();

    let token = load("aws-iam-authenticator-token.json");
    run(&token, "sts_hosts", &mut counts, |r| {
        let got = check_host(s(r, "host"), s(r, "partition"), s(r, "region"));
        assert_eq!(got.is_ok(), r["valid"].as_bool().unwrap(), "{got:?}");
    });
    run(&token, "region_labels", &mut counts, |r| {
        assert_eq!(
            valid_region_label(s(r, "region")),
            r["valid"].as_bool().unwrap()
        );
    });
    run(&token, "sts_region", &mut counts, |r| {
        // getStsRegion names the global endpoint `global`; it is signed for us-east-1.
        let got = check_host(s(r, "host"), "aws", "");
        match opt(r, "region") {
            Some("global") => assert_eq!(got.as_deref(), Ok("us-east-1")),
            Some(region) => assert_eq!(got.as_deref(), Ok(region)),
            None => assert!(got.is_err()),
        }
    });
    run(&token, "default_hostnames", &mut counts, |r| {
        let (partition, region) = (s(r, "partition"), s(r, "region"));
        match opt(r, "host") {
            Some(host) => {
                // The default host of a region the SDK does not know is accepted for STS.
                let (_, rest) = host.split_once('.').unwrap();
                assert_eq!(
                    Some(rest),
                    Some(format!("{region}.{}", sts_domain(partition).unwrap())).as_deref()
                );
                let sts = format!("sts.{rest}");
                assert!(check_host(&sts, partition, region).is_ok(), "{sts}");
            }
            None => assert!(!valid_region_label(region)),
        }
    });
    run(&token, "pre_sts", &mut counts, |r| {
        let text = match opt(r, "url") {
            Some(url) => token_of(&url.replace("{DATE}", &amz_now())),
            None => s(r, "token").to_owned(),
        };
        let rules = VerifyRules {
            partition: Some(s(r, "partition").to_owned()),
            ..VerifyRules::default()
        };
        let got = verify(&text, SystemTime::now(), &rules);
        assert_eq!(
            got.is_ok(),
            r["accept"].as_bool().unwrap(),
            "{:?}",
            got.err().map(|e| e.to_string())
        );
    });
    run(&token, "identity", &mut counts, |r| {
        let arn: Result<Arn, _> = s(r, "arn").parse();
        if r["error"].as_bool().unwrap() {
            if let Ok(arn) = arn {
                let id = identity(&arn.to_string(), s(r, "account"), s(r, "user_id"), "AKIA");
                assert!(matches!(
                    map_identity(&id, &AwsAuth::empty(), None),
                    Err(MappingError::MalformedUserId { .. })
                ));
            }
            return;
        }
        let id = identity(s(r, "arn"), s(r, "account"), s(r, "user_id"), "AKIA");
        assert_eq!(id.canonical_arn().to_string(), s(r, "canonical_arn"));
        assert_eq!(id.principal_id(), s(r, "principal_id"));
        assert_eq!(id.session_name(), opt(r, "session_name"));
        assert!(map_identity(&id, &AwsAuth::empty(), None).is_ok());
    });

    let arn = load("aws-iam-authenticator-arn.json");
    run(&arn, "canonicalize", &mut counts, |r| {
        let got = s(r, "arn")
            .parse::<Arn>()
            .map(|a| a.canonical().to_string());
        assert_eq!(got.ok().as_deref(), opt(r, "canonical"));
    });
    run(&arn, "strip_path", &mut counts, |r| {
        let got = s(r, "arn")
            .parse::<Arn>()
            .map(|a| a.without_path().to_string());
        assert_eq!(got.ok().as_deref(), opt(r, "stripped"));
    });
    run(&arn, "arn_like", &mut counts, |r| {
        assert_eq!(
            arn_like(s(r, "arn"), s(r, "pattern")),
            r["result"].as_bool()
        );
    });

    let cm = load("aws-iam-authenticator-configmap.json");
    run(&cm, "parse", &mut counts, |r| {
        let a = AwsAuth::read(&data(&r["data"]));
        let roles = rows(r, "roles");
        assert_eq!(a.roles().len(), roles.len(), "{:?}", a.roles());
        for (got, want) in a.roles().iter().zip(roles) {
            assert_eq!(got.rolearn, opt(want, "rolearn").unwrap_or_default());
            assert_eq!(got.username, s(want, "username"));
            assert_eq!(got.groups, strings(&want["groups"]));
            if let Some(sso) = want.get("sso") {
                let g = got.sso.as_ref().unwrap();
                assert_eq!(g.permission_set_name, s(sso, "permissionSetName"));
                assert_eq!(g.account_id, s(sso, "accountID"));
                assert_eq!(g.partition, opt(sso, "partition").unwrap_or_default());
            }
        }
        let users = rows(r, "users");
        assert_eq!(a.users().len(), users.len());
        for (got, want) in a.users().iter().zip(users) {
            assert_eq!(got.userarn, s(want, "userarn"));
            assert_eq!(got.username, s(want, "username"));
            assert_eq!(got.groups, strings(&want["groups"]));
        }
        assert_eq!(a.accounts(), strings(&r["accounts"]));
    });
    let store = AwsAuth::read(&data(&cm["store"]));
    let sso = cm["sso_role_match"].as_bool().unwrap();
    run(&cm, "lookups", &mut counts, |r| {
        let found = match s(r, "list") {
            "user" => store.effective_user(s(r, "arn")).is_some(),
            _ => store.effective_role(s(r, "arn"), sso).is_some(),
        };
        assert_eq!(found, r["found"].as_bool().unwrap());
    });

    let server = load("aws-iam-authenticator-server.json");
    run(&server, "reserved_prefix", &mut counts, |r| {
        let aws_auth = AwsAuth::read(&BTreeMap::from([(
            "mapUsers".to_owned(),
            format!(
                "- userarn: arn:aws:iam::111122223333:user/u\n  username: \"{}\"\n",
                s(r, "username")
            ),
        )]));
        let options = MapOptions {
            reserved_prefixes: strings(&r["reserved"]),
            ..MapOptions::default()
        };
        let id = identity(
            "arn:aws:iam::111122223333:user/u",
            "111122223333",
            "AIDA",
            "AKIA",
        );
        let got = map_identity_with(&id, &aws_auth, None, &options);
        assert_eq!(
            matches!(got, Err(MappingError::ReservedUsername { .. })),
            r["reserved_hit"].as_bool().unwrap()
        );
    });
    run(&server, "templates", &mut counts, |r| {
        let i = &r["identity"];
        let account = opt(i, "account").unwrap_or("111122223333");
        let key = opt(i, "access_key_id").unwrap_or("AKIA");
        let id = match opt(i, "session") {
            Some(session) => identity(
                &format!(
                    "arn:aws:sts::111122223333:assumed-role/r/{}",
                    session.replace('@', "-")
                ),
                account,
                &format!("AROA:{session}"),
                key,
            ),
            None => identity("arn:aws:iam::111122223333:user/u", account, "AIDA", key),
        };
        let got = render_template(s(r, "template"), &id, &MapOptions::default());
        assert_eq!(got.ok().as_deref(), opt(r, "want"));
    });
    run(&server, "reviews", &mut counts, |r| {
        let aws_auth = AwsAuth::read(&BTreeMap::from([(
            "mapRoles".to_owned(),
            s(r, "map_roles").to_owned(),
        )]));
        let id = identity(
            s(r, "arn"),
            s(r, "account"),
            s(r, "user_id"),
            s(r, "access_key_id"),
        );
        let m = map_identity(&id, &aws_auth, None).unwrap().unwrap();
        assert_eq!(m.username, s(r, "username"));
        assert_eq!(m.groups, strings(&r["groups"]));
        assert_eq!(
            format!("aws-iam-authenticator:{}:{}", id.account, id.principal_id()),
            s(r, "uid")
        );
        assert_eq!(id.session_name(), opt(r, "session_name"));
        assert_eq!(id.principal_id(), s(r, "principal_id"));
    });

    let total: usize = counts.iter().map(|(_, n)| n).sum();
    for (table, n) in &counts {
        eprintln!("conformance: aws-iam-authenticator {table}: {n} vectors, all passing");
    }
    eprintln!("conformance: aws-iam-authenticator: {total} vectors ported, {total} passing");
}

/// The test tables of Kubernetes' RBAC: `Covers` and `nonResourceURLCovers`
/// (pkg/registry/rbac/validation/policy_comparator_test.go), `RuleAllows` and the authorizer
/// (plugin/pkg/auth/authorizer/rbac/rbac_test.go), run against `eks_auth::rbac`.
#[cfg(feature = "rbac")]
#[test]
fn kubernetes_rbac_vectors() {
    use eks_auth::rbac::{
        NonResourceAttributes, RbacObjects, ResourceAttributes, UserInfo, covers,
    };
    use k8s_openapi::api::rbac::v1::{
        ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding,
    };

    fn rules(v: &Value) -> Vec<PolicyRule> {
        serde_json::from_value(v.clone()).unwrap()
    }
    /// A rule as `equality.Semantic.DeepEqual` compares it: empty lists are absent.
    fn normal(rule: &PolicyRule) -> Value {
        let mut v = serde_json::to_value(rule).unwrap();
        v.as_object_mut()
            .unwrap()
            .retain(|_, x| !x.as_array().is_some_and(Vec::is_empty));
        v
    }
    fn objects<T: serde::de::DeserializeOwned>(v: &Value) -> Vec<T> {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    let doc = load("kubernetes-rbac.json");
    let mut counts = Vec::new();
    run(&doc, "covers", &mut counts, |r| {
        let (covered, uncovered) = covers(&rules(&r["owner"]), &rules(&r["servant"]));
        assert_eq!(covered, r["covered"].as_bool().unwrap());
        let mut got: Vec<String> = uncovered.iter().map(|x| normal(x).to_string()).collect();
        let mut want: Vec<String> = rules(&r["uncovered"])
            .iter()
            .map(|x| normal(x).to_string())
            .collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    });
    run(&doc, "non_resource_url_covers", &mut counts, |r| {
        let rule = |url: &str, verb: &str| PolicyRule {
            non_resource_urls: Some(vec![url.to_owned()]),
            verbs: vec![verb.to_owned()],
            ..PolicyRule::default()
        };
        let (covered, _) = covers(
            &[rule(s(r, "owner"), "*")],
            &[rule(s(r, "requested"), "get")],
        );
        assert_eq!(covered, r["covers"].as_bool().unwrap());
    });
    let user = UserInfo::new("u", Vec::<String>::new());
    run(&doc, "rule_matches", &mut counts, |r| {
        let objects = RbacObjects {
            cluster_roles: vec![ClusterRole {
                metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                    name: Some("r".into()),
                    ..Default::default()
                },
                rules: Some(vec![serde_json::from_value(r["rule"].clone()).unwrap()]),
                ..ClusterRole::default()
            }],
            cluster_role_bindings: vec![serde_json::from_value(serde_json::json!({
                "metadata": {"name": "b"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "r"},
                "subjects": [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"}],
            }))
            .unwrap()],
            ..RbacObjects::default()
        };
        let q = &r["request"];
        let allowed = match opt(q, "path") {
            Some(path) => {
                objects
                    .authorize_non_resource(&user, &NonResourceAttributes::new(s(q, "verb"), path))
                    .allowed
            }
            None => {
                objects
                    .authorize(
                        &user,
                        &ResourceAttributes::new(s(q, "verb"), s(q, "group"), s(q, "resource"))
                            .subresource(s(q, "subresource")),
                    )
                    .allowed
            }
        };
        assert_eq!(allowed, r["allowed"].as_bool().unwrap());
    });
    let cases: Vec<RbacObjects> = rows(&doc, "authorizer_cases")
        .iter()
        .map(|c| RbacObjects {
            cluster_roles: objects::<ClusterRole>(&c["clusterRoles"]),
            cluster_role_bindings: objects::<ClusterRoleBinding>(&c["clusterRoleBindings"]),
            roles: objects::<Role>(&c["roles"]),
            role_bindings: objects::<RoleBinding>(&c["roleBindings"]),
        })
        .collect();
    run(&doc, "authorizer", &mut counts, |r| {
        let objects = &cases[r["case"].as_u64().unwrap() as usize];
        let q = &r["request"];
        let user = UserInfo::new(s(q, "user"), strings(&q["groups"]));
        let allowed = match opt(q, "path") {
            Some(path) => {
                objects
                    .authorize_non_resource(&user, &NonResourceAttributes::new(s(q, "verb"), path))
                    .allowed
            }
            None => {
                objects
                    .authorize(
                        &user,
                        &ResourceAttributes::new(s(q, "verb"), s(q, "group"), s(q, "resource"))
                            .subresource(s(q, "subresource"))
                            .in_namespace(s(q, "namespace")),
                    )
                    .allowed
            }
        };
        assert_eq!(allowed, r["allowed"].as_bool().unwrap());
    });
    let total: usize = counts.iter().map(|(_, n)| n).sum();
    for (table, n) in &counts {
        eprintln!("conformance: kubernetes {table}: {n} vectors, all passing");
    }
    eprintln!("conformance: kubernetes: {total} vectors ported, {total} passing");
}
