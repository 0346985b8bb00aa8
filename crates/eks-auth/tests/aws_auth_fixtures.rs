//! Before/after fixtures for lossless aws-auth edits.
//!
//! Each directory under `tests/fixtures/aws_auth/` holds:
//! - `before/KEY`, `after/KEY`: the ConfigMap data, one file per key, compared byte for byte
//!   (a key absent from `after/` must be absent from the rendered data);
//! - `ops`: one edit per line, tab-separated: `upsert-role ARN USERNAME GROUPS`,
//!   `upsert-user ARN USERNAME GROUPS` (GROUPS comma-separated, `-` for none), `remove ARN`;
//! - `outcomes`: what each edit reported, one line per op.

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use eks_auth::aws_auth::{AwsAuth, RoleMapping, Upsert, UserMapping};

fn read_dir(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for entry in fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        let key = path.file_name().unwrap().to_str().unwrap().to_owned();
        out.insert(key, fs::read_to_string(&path).unwrap());
    }
    out
}

fn groups(s: &str) -> Vec<String> {
    if s == "-" {
        Vec::new()
    } else {
        s.split(',').map(str::to_owned).collect()
    }
}

fn outcome(u: &Upsert) -> String {
    let shadowed = |s: &[usize]| {
        if s.is_empty() {
            String::new()
        } else {
            format!(
                " shadowed {}",
                s.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
        }
    };
    match u {
        Upsert::Unchanged { index, shadowed: s } => format!("unchanged {index}{}", shadowed(s)),
        Upsert::Updated { index, shadowed: s } => format!("updated {index}{}", shadowed(s)),
        Upsert::Added { index } => format!("added {index}"),
    }
}

fn run_case(dir: &Path) {
    let before = read_dir(&dir.join("before"));
    let after = read_dir(&dir.join("after"));
    let mut doc = AwsAuth::parse(&before).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let ops = fs::read_to_string(dir.join("ops")).unwrap();
    let mut got = Vec::new();
    for line in ops.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let result = match f[0] {
            "upsert-role" => outcome(
                &doc.upsert_role(RoleMapping::new(f[1], f[2], groups(f[3])))
                    .unwrap(),
            ),
            "upsert-user" => outcome(
                &doc.upsert_user(UserMapping::new(f[1], f[2], groups(f[3])))
                    .unwrap(),
            ),
            "remove" => format!("removed {}", doc.remove(f[1]).unwrap()),
            op => panic!("{}: unknown op `{op}`", dir.display()),
        };
        got.push(result);
    }
    let want: Vec<String> = fs::read_to_string(dir.join("outcomes"))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, want, "{}: outcomes", dir.display());
    let rendered = doc.render();
    for (key, text) in &after {
        assert_eq!(rendered.get(key), Some(text), "{}: `{key}`", dir.display());
    }
    let extra: Vec<&String> = rendered
        .keys()
        .filter(|k| !after.contains_key(*k))
        .collect();
    assert!(
        extra.is_empty(),
        "{}: unexpected keys {extra:?}",
        dir.display()
    );
    // The result reads back, and a second run of the same upserts changes nothing.
    let mut again = AwsAuth::parse(&rendered).unwrap();
    // (Only the last upsert per ARN, and only when nothing was removed.)
    let mut last: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    if !ops.contains("remove\t") {
        for line in ops.lines().filter(|l| l.starts_with("upsert")) {
            let f: Vec<&str> = line.split('\t').collect();
            last.insert(f[1].to_lowercase(), f);
        }
    }
    for f in last.values() {
        let u = if f[0] == "upsert-role" {
            again
                .upsert_role(RoleMapping::new(f[1], f[2], groups(f[3])))
                .unwrap()
        } else {
            again
                .upsert_user(UserMapping::new(f[1], f[2], groups(f[3])))
                .unwrap()
        };
        assert!(
            !u.changed(),
            "{}: `{}` not idempotent: {u:?}",
            dir.display(),
            f.join(" ")
        );
    }
    assert_eq!(again.render(), rendered);
}

#[test]
fn fixtures() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/aws_auth");
    let mut cases: Vec<_> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(
        cases.len() >= 10,
        "expected the fixture cases, found {}",
        cases.len()
    );
    for case in &cases {
        run_case(case);
    }
}
