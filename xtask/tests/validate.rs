//! One test per validation rule: a valid manifest, broken in exactly one way, gives exactly that
//! error.

use std::collections::BTreeMap;

use xtask::manifest::{FileOperation, Manifest, Selector, SelectorRequirement};
use xtask::validate::{Origin, ValidationError as E, parse_version, validate, validate_file};

const VALID: &str = r#"
apiVersion: krew.googlecontainertools.github.com/v1alpha2
kind: Plugin
metadata:
  name: eks-token
spec:
  version: v0.1.0
  homepage: https://github.com/kubectl-eks/kubectl-eks
  shortDescription: Fast EKS bearer tokens and kubeconfig entries
  description: Prints tokens.
  platforms:
  - selector:
      matchLabels:
        os: linux
        arch: amd64
    uri: https://example.com/v0.1.0/kubectl-eks_token-v0.1.0-linux-amd64.tar.gz
    sha256: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    bin: kubectl-eks_token
    files:
    - from: kubectl-eks_token
      to: .
    - from: LICENSE
      to: .
  - selector:
      matchLabels:
        os: windows
        arch: amd64
    uri: https://example.com/v0.1.0/kubectl-eks_token-v0.1.0-windows-amd64.zip
    sha256: fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210
    bin: kubectl-eks_token.exe
    files:
    - from: kubectl-eks_token.exe
      to: .
    - from: LICENSE
      to: .
"#;

fn valid() -> Manifest {
    Manifest::parse(VALID).unwrap()
}

/// Applies `change` to the valid manifest and returns the errors for plugin `eks-token`.
fn broken(change: impl FnOnce(&mut Manifest)) -> Vec<E> {
    let mut m = valid();
    change(&mut m);
    validate("eks-token", &m)
}

fn labels(pairs: &[(&str, &str)]) -> Option<BTreeMap<String, String>> {
    Some(
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
}

#[test]
fn the_base_manifest_is_valid() {
    assert_eq!(validate("eks-token", &valid()), []);
}

#[test]
fn manifest_file_must_be_yaml() {
    assert_eq!(
        validate_file("eks-token.yml", &valid()),
        [E::FileExtension("eks-token.yml".into())]
    );
    assert_eq!(validate_file("eks-token.yaml", &valid()), []);
}

#[test]
fn api_version() {
    assert_eq!(
        broken(|m| m.api_version = "krew.googlecontainertools.github.com/v1alpha1".into()),
        [E::ApiVersion(
            "krew.googlecontainertools.github.com/v1alpha1".into()
        )]
    );
}

#[test]
fn kind() {
    assert_eq!(
        broken(|m| m.kind = "Plugins".into()),
        [E::Kind("Plugins".into())]
    );
}

#[test]
fn unsafe_names() {
    for name in ["eks token", "eks/token", "", "NUL", "com1"] {
        let mut m = valid();
        m.metadata.name = name.into();
        assert_eq!(validate(name, &m), [E::UnsafeName(name.into())], "{name:?}");
    }
}

#[test]
fn name_must_match_file() {
    assert_eq!(
        broken(|m| m.metadata.name = "eks-tokens".into()),
        [E::NameMismatch {
            file: "eks-token".into(),
            metadata: "eks-tokens".into()
        }]
    );
}

#[test]
fn short_description_missing() {
    assert_eq!(
        broken(|m| m.spec.short_description.clear()),
        [E::MissingShortDescription]
    );
}

#[test]
fn short_description_line_break() {
    assert_eq!(
        broken(|m| m.spec.short_description = "two\nlines".into()),
        [E::ShortDescriptionLineBreak]
    );
}

#[test]
fn short_description_over_fifty_characters() {
    let text = "Fast EKS bearer tokens and kubeconfig entries, fast"; // 51
    assert_eq!(
        broken(|m| m.spec.short_description = text.into()),
        [E::ShortDescriptionTooLong(51)]
    );
    assert_eq!(E::ShortDescriptionTooLong(51).origin(), Origin::Project);
}

#[test]
fn no_platforms() {
    assert_eq!(broken(|m| m.spec.platforms.clear()), [E::NoPlatforms]);
}

#[test]
fn version_missing() {
    assert_eq!(broken(|m| m.spec.version.clear()), [E::MissingVersion]);
}

#[test]
fn version_not_semver() {
    let errors = broken(|m| m.spec.version = "0.1.0".into());
    assert_eq!(
        errors,
        [E::BadVersion {
            version: "0.1.0".into(),
            reason: "it does not start with `v`".into()
        }]
    );
}

#[test]
fn version_rules_follow_apimachinery_parse_semantic() {
    for ok in [
        "v0.1.0",
        "v1.22.333",
        "v1.0.0-rc.1",
        "v1.0.0-alpha-1+build.7",
        "v1.0.0+abc",
    ] {
        assert_eq!(parse_version(ok), Ok(()), "{ok}");
    }
    let bad = [
        ("v1.0", "it has 2 numeric components, not 3"),
        ("v1.0.0.0", "it has 4 numeric components, not 3"),
        ("v01.0.0", "component `01` has a leading zero"),
        ("v1.0.0-01", "pre-release `01` has a leading zero"),
        ("v1.0.0-", "`-` is not `-pre.release+build`"),
        ("v1.0.0_1", "`_1` is not `-pre.release+build`"),
        ("v1.0.0+", "`+` is not `-pre.release+build`"),
        ("vx", "it has no version numbers"),
    ];
    for (version, reason) in bad {
        assert_eq!(parse_version(version), Err(reason.to_owned()), "{version}");
    }
}

#[test]
fn uri_missing() {
    assert_eq!(
        broken(|m| m.spec.platforms[1].uri.clear()),
        [E::MissingUri(1)]
    );
}

#[test]
fn uri_not_https() {
    let uri = "http://example.com/a.tar.gz";
    assert_eq!(
        broken(|m| m.spec.platforms[0].uri = uri.into()),
        [E::UriNotHttps {
            index: 0,
            uri: uri.into()
        }]
    );
}

#[test]
fn uri_extension() {
    let uri = "https://example.com/a.tar.xz";
    assert_eq!(
        broken(|m| m.spec.platforms[0].uri = uri.into()),
        [E::UriExtension {
            index: 0,
            uri: uri.into()
        }]
    );
}

#[test]
fn sha256_missing() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].sha256.clear()),
        [E::MissingSha256(0)]
    );
}

#[test]
fn sha256_upper_case_or_short() {
    let upper = "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef";
    assert_eq!(
        broken(|m| m.spec.platforms[0].sha256 = upper.into()),
        [E::BadSha256 {
            index: 0,
            sha256: upper.into()
        }]
    );
    assert_eq!(
        broken(|m| m.spec.platforms[0].sha256 = "abc".into()),
        [E::BadSha256 {
            index: 0,
            sha256: "abc".into()
        }]
    );
}

#[test]
fn bin_missing() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].bin.clear()),
        [E::MissingBin(0)]
    );
}

#[test]
fn windows_bin_needs_exe() {
    assert_eq!(
        broken(|m| {
            let p = &mut m.spec.platforms[1];
            p.bin = "kubectl-eks_token".into();
            p.files.as_mut().unwrap()[0].from = "kubectl-eks_token".into();
        }),
        [E::WindowsBinWithoutExe {
            index: 1,
            bin: "kubectl-eks_token".into()
        }]
    );
}

#[test]
fn bin_must_be_installed_by_files() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].bin = "kubectl-eks_grant".into()),
        [E::BinNotInstalled {
            index: 0,
            bin: "kubectl-eks_grant".into()
        }]
    );
}

#[test]
fn files_empty_list() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].files = Some(vec![])),
        [E::EmptyFiles(0)]
    );
}

#[test]
fn files_absent_means_copy_everything() {
    assert_eq!(broken(|m| m.spec.platforms[0].files = None), []);
}

#[test]
fn file_without_from() {
    assert_eq!(
        broken(|m| m.spec.platforms[0]
            .files
            .as_mut()
            .unwrap()
            .push(FileOperation {
                from: String::new(),
                to: ".".into()
            })),
        [E::FileWithoutFrom { index: 0, file: 2 }]
    );
}

#[test]
fn file_without_to() {
    assert_eq!(
        broken(|m| m.spec.platforms[0]
            .files
            .as_mut()
            .unwrap()
            .push(FileOperation {
                from: "README.md".into(),
                to: String::new()
            })),
        [E::FileWithoutTo { index: 0, file: 2 }]
    );
}

#[test]
fn file_to_not_clean() {
    assert_eq!(
        broken(|m| m.spec.platforms[0]
            .files
            .as_mut()
            .unwrap()
            .push(FileOperation {
                from: "README.md".into(),
                to: "./doc/".into()
            })),
        [E::FileToNotClean {
            index: 0,
            file: 2,
            to: "./doc/".into(),
            clean: "doc".into()
        }]
    );
}

#[test]
fn no_license_file() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].files.as_mut().unwrap().truncate(1)),
        [E::NoLicenseFile(0)]
    );
    // COPYING and LICENSE.md count too, in any case.
    assert_eq!(
        broken(|m| m.spec.platforms[0].files.as_mut().unwrap()[1].to = "Copying".into()),
        []
    );
}

#[test]
fn selector_missing() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].selector = None),
        [E::NilSelector(0)]
    );
}

#[test]
fn selector_empty() {
    assert_eq!(
        broken(|m| m.spec.platforms[0].selector = Some(Selector::default())),
        [E::EmptySelector(0)]
    );
}

#[test]
fn selector_unsupported_key() {
    assert_eq!(
        broken(|m| {
            m.spec.platforms[0].selector.as_mut().unwrap().match_labels =
                labels(&[("os", "linux"), ("arch", "amd64"), ("libc", "musl")]);
        }),
        [E::UnsupportedSelectorKey {
            index: 0,
            key: "libc".into()
        }]
    );
}

#[test]
fn selector_empty_match_labels() {
    assert_eq!(
        broken(|m| {
            m.spec.platforms[0].selector = Some(Selector {
                match_labels: Some(BTreeMap::new()),
                match_expressions: Some(vec![SelectorRequirement {
                    key: "os".into(),
                    operator: "In".into(),
                    values: vec!["darwin".into()],
                }]),
            });
        }),
        [E::EmptyMatchLabels(0)]
    );
}

#[test]
fn selector_empty_match_expressions() {
    assert_eq!(
        broken(|m| {
            m.spec.platforms[0]
                .selector
                .as_mut()
                .unwrap()
                .match_expressions = Some(vec![]);
        }),
        [E::EmptyMatchExpressions(0)]
    );
}

#[test]
fn selector_bad_expression() {
    assert_eq!(
        broken(|m| {
            m.spec.platforms[0].selector = Some(Selector {
                match_labels: None,
                match_expressions: Some(vec![SelectorRequirement {
                    key: "os".into(),
                    operator: "Equals".into(),
                    values: vec!["darwin".into()],
                }]),
            });
        }),
        [E::BadSelectorExpression {
            index: 0,
            reason: "operator `Equals` is not supported".into()
        }]
    );
}

#[test]
fn selector_matching_no_supported_platform() {
    assert_eq!(
        broken(|m| {
            m.spec.platforms[0].selector.as_mut().unwrap().match_labels =
                labels(&[("os", "linux"), ("arch", "riscv64")]);
        }),
        [E::SelectorMatchesNothing(0)]
    );
}

#[test]
fn overlapping_selectors() {
    // `os: windows` alone selects windows/386, amd64 and arm64, one of which platform 1 has.
    assert_eq!(
        broken(|m| {
            m.spec.platforms[0].selector.as_mut().unwrap().match_labels =
                labels(&[("os", "windows")]);
            m.spec.platforms[0].bin = "kubectl-eks_token.exe".into();
            m.spec.platforms[0].files.as_mut().unwrap()[0].from = "kubectl-eks_token.exe".into();
        }),
        [E::OverlappingSelectors {
            indexes: vec![0, 1],
            os: "windows".into(),
            arch: "amd64".into()
        }]
    );
}

#[test]
fn expressions_select_like_label_selectors() {
    // linux on every arch but amd64, beside the linux/amd64 platform: no overlap.
    let mut m = valid();
    let mut extra = m.spec.platforms[0].clone();
    extra.selector = Some(Selector {
        match_labels: labels(&[("os", "linux")]),
        match_expressions: Some(vec![SelectorRequirement {
            key: "arch".into(),
            operator: "NotIn".into(),
            values: vec!["amd64".into()],
        }]),
    });
    m.spec.platforms.push(extra);
    assert_eq!(validate("eks-token", &m), []);
}

#[test]
fn every_error_names_its_enforcer() {
    assert_eq!(E::MissingSha256(0).origin(), Origin::Krew);
    assert_eq!(E::NoLicenseFile(0).origin(), Origin::KrewIndex);
    assert_eq!(
        E::BadSha256 {
            index: 2,
            sha256: "x".into()
        }
        .to_string(),
        "spec.platforms[2].sha256 `x` must match `^[a-f0-9]{64}$`"
    );
}
