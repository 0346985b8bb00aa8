//! The committed krew-manifests/ are what plugins.yaml and krew-manifests/checksums.txt render,
//! byte for byte, and every one passes krew's validation.

use std::fs;

use xtask::checksums::Checksums;
use xtask::manifest::{Manifest, render_all};
use xtask::plugins::Plugins;
use xtask::validate::validate_file;
use xtask::workspace_root;

fn plugins() -> Plugins {
    Plugins::parse(&fs::read_to_string(workspace_root().join("plugins.yaml")).unwrap()).unwrap()
}

/// The committed manifests by file name, sorted.
fn committed() -> Vec<(String, String)> {
    let dir = workspace_root().join("krew-manifests");
    let mut out: Vec<(String, String)> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read_to_string(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn there_is_one_manifest_per_plugin() {
    let mut expected: Vec<String> = plugins()
        .plugins
        .iter()
        .map(|p| format!("{}.yaml", p.name))
        .collect();
    expected.sort();
    let names: Vec<String> = committed().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, expected);
}

#[test]
fn committed_manifests_are_up_to_date_with_plugins_yaml() {
    let committed = committed();
    let versions: Vec<String> = committed
        .iter()
        .map(|(_, text)| Manifest::parse(text).unwrap().spec.version)
        .collect();
    let version = &versions[0];
    assert!(
        versions.iter().all(|v| v == version),
        "manifests disagree on the version: {versions:?}"
    );
    let sums_text =
        fs::read_to_string(workspace_root().join("krew-manifests/checksums.txt")).unwrap();
    let sums = Checksums::parse(&sums_text).unwrap();
    let rendered = render_all(&plugins(), version, &sums, false).unwrap();
    for m in &rendered {
        let file = format!("{}.yaml", m.metadata.name);
        let (_, text) = committed.iter().find(|(n, _)| *n == file).unwrap();
        assert_eq!(
            *text,
            m.to_yaml(),
            "krew-manifests/{file} is out of date: run \
             `cargo xtask manifests --version {version} --sha256-file krew-manifests/checksums.txt`"
        );
    }
    // Every sum in checksums.txt is used: no stale archive lingers there.
    let used: usize = rendered.iter().map(|m| m.spec.platforms.len()).sum();
    assert_eq!(used, sums.len());
}

#[test]
fn committed_manifests_pass_validation() {
    for (file, text) in committed() {
        let m = Manifest::parse(&text).unwrap();
        assert_eq!(validate_file(&file, &m), [], "{file}");
    }
}
