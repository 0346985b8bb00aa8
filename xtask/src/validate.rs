//! krew's checks on a plugin manifest, plus the ones the krew-index CI and this project add.
//!
//! Sources (kubernetes-sigs/krew):
//! - `internal/index/validation/validate.go` `ValidatePlugin`: what `kubectl krew install` checks
//!   when it reads a manifest ([`Origin::Krew`]).
//! - `cmd/validate-krew-manifest/main.go`: what the krew-index CI adds: the file is `<name>.yaml`,
//!   every platform's selector matches a supported os/arch, no os/arch is matched twice, and the
//!   installation holds a license file ([`Origin::KrewIndex`]). The license check is made here on
//!   the `files` operations; `cargo xtask install-check` makes it on the installed files too.
//! - This project's own rules ([`Origin::Project`]).
//!
//! krew stops at the first error; [`validate`] reports all of them.

use std::collections::BTreeMap;
use std::fmt;

use crate::checksums::is_sha256;
use crate::manifest::{API_VERSION, FileOperation, KIND, Manifest, Selector};
use crate::plugins::SHORT_DESCRIPTION_MAX;

/// The os/arch pairs krew-index CI installs for (`allPlatforms` in validate-krew-manifest).
pub const SUPPORTED_PLATFORMS: &[(&str, &str)] = &[
    ("windows", "386"),
    ("windows", "amd64"),
    ("windows", "arm64"),
    ("linux", "386"),
    ("linux", "amd64"),
    ("linux", "arm"),
    ("linux", "arm64"),
    ("linux", "ppc64le"),
    ("darwin", "386"),
    ("darwin", "amd64"),
    ("darwin", "arm64"),
];

/// File names krew-index CI accepts as a license (compared lower-case).
pub const LICENSE_FILES: &[&str] = &[
    "license",
    "license.txt",
    "license.md",
    "licenses",
    "licenses.txt",
    "licenses.md",
    "copying",
    "copying.txt",
];

/// Windows reserved names krew refuses as plugin names.
const WINDOWS_FORBIDDEN: &[&str] = &[
    "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8",
    "COM9", "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
];

/// Who enforces a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Krew,
    KrewIndex,
    Project,
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Origin::Krew => "krew",
            Origin::KrewIndex => "krew-index",
            Origin::Project => "kubectl-eks",
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValidationError {
    #[error("manifest file `{0}` must be named `<plugin>.yaml`")]
    FileExtension(String),
    #[error("apiVersion `{0}` is not `{API_VERSION}`")]
    ApiVersion(String),
    #[error("kind `{0}` is not `{KIND}`")]
    Kind(String),
    #[error(
        "plugin name `{0}` is not allowed: it must match `^[\\w-]+$` and not be a reserved Windows name"
    )]
    UnsafeName(String),
    #[error("metadata.name `{metadata}` differs from the file's plugin name `{file}`")]
    NameMismatch { file: String, metadata: String },
    #[error("spec.shortDescription is missing")]
    MissingShortDescription,
    #[error("spec.shortDescription has a line break")]
    ShortDescriptionLineBreak,
    #[error(
        "spec.shortDescription has {0} characters, `krew search` shows at most {SHORT_DESCRIPTION_MAX}"
    )]
    ShortDescriptionTooLong(usize),
    #[error("spec.platforms is empty")]
    NoPlatforms,
    #[error("spec.version is missing")]
    MissingVersion,
    #[error("spec.version `{version}` is not a v-prefixed semantic version: {reason}")]
    BadVersion { version: String, reason: String },
    #[error("spec.platforms[{0}].uri is missing")]
    MissingUri(usize),
    #[error("spec.platforms[{index}].uri `{uri}` is not https")]
    UriNotHttps { index: usize, uri: String },
    #[error("spec.platforms[{index}].uri `{uri}` does not end in `.tar.gz` or `.zip`")]
    UriExtension { index: usize, uri: String },
    #[error("spec.platforms[{0}].sha256 is missing")]
    MissingSha256(usize),
    #[error("spec.platforms[{index}].sha256 `{sha256}` must match `^[a-f0-9]{{64}}$`")]
    BadSha256 { index: usize, sha256: String },
    #[error("spec.platforms[{0}].bin is missing")]
    MissingBin(usize),
    #[error("spec.platforms[{index}].bin `{bin}` must end in `.exe` on windows")]
    WindowsBinWithoutExe { index: usize, bin: String },
    #[error("spec.platforms[{index}].bin `{bin}` is not placed by any of its `files`")]
    BinNotInstalled { index: usize, bin: String },
    #[error("spec.platforms[{0}].files is empty (leave it out to copy everything)")]
    EmptyFiles(usize),
    #[error("spec.platforms[{index}].files[{file}].from is missing")]
    FileWithoutFrom { index: usize, file: usize },
    #[error("spec.platforms[{index}].files[{file}].to is missing")]
    FileWithoutTo { index: usize, file: usize },
    #[error("spec.platforms[{index}].files[{file}].to `{to}` is not a clean path (`{clean}`)")]
    FileToNotClean {
        index: usize,
        file: usize,
        to: String,
        clean: String,
    },
    #[error("spec.platforms[{0}] installs no license file (LICENSE, COPYING, ...)")]
    NoLicenseFile(usize),
    #[error("spec.platforms[{0}].selector is missing")]
    NilSelector(usize),
    #[error("spec.platforms[{0}].selector is empty")]
    EmptySelector(usize),
    #[error(
        "spec.platforms[{index}].selector uses key `{key}`: only `os` and `arch` are supported"
    )]
    UnsupportedSelectorKey { index: usize, key: String },
    #[error("spec.platforms[{0}].selector.matchLabels is present but empty")]
    EmptyMatchLabels(usize),
    #[error("spec.platforms[{0}].selector.matchExpressions is present but empty")]
    EmptyMatchExpressions(usize),
    #[error("spec.platforms[{index}].selector has an invalid expression: {reason}")]
    BadSelectorExpression { index: usize, reason: String },
    #[error("spec.platforms[{0}].selector matches no platform krew supports")]
    SelectorMatchesNothing(usize),
    #[error("spec.platforms {indexes:?} all select {os}/{arch}")]
    OverlappingSelectors {
        indexes: Vec<usize>,
        os: String,
        arch: String,
    },
}

impl ValidationError {
    /// Who enforces this rule.
    pub fn origin(&self) -> Origin {
        use ValidationError::*;
        match self {
            ApiVersion(_)
            | Kind(_)
            | UnsafeName(_)
            | NameMismatch { .. }
            | MissingShortDescription
            | ShortDescriptionLineBreak
            | NoPlatforms
            | MissingVersion
            | BadVersion { .. }
            | MissingUri(_)
            | MissingSha256(_)
            | BadSha256 { .. }
            | MissingBin(_)
            | EmptyFiles(_)
            | FileWithoutFrom { .. }
            | FileWithoutTo { .. }
            | NilSelector(_)
            | EmptySelector(_)
            | UnsupportedSelectorKey { .. }
            | EmptyMatchLabels(_)
            | EmptyMatchExpressions(_) => Origin::Krew,
            // `kubectl krew install` fails on these while moving files and linking.
            FileToNotClean { .. } => Origin::Krew,
            FileExtension(_)
            | BadSelectorExpression { .. }
            | SelectorMatchesNothing(_)
            | OverlappingSelectors { .. }
            | NoLicenseFile(_) => Origin::KrewIndex,
            ShortDescriptionTooLong(_)
            | UriNotHttps { .. }
            | UriExtension { .. }
            | WindowsBinWithoutExe { .. }
            | BinNotInstalled { .. } => Origin::Project,
        }
    }
}

/// Checks the manifest file `file_name` (`eks-token.yaml`) holding `manifest`.
pub fn validate_file(file_name: &str, manifest: &Manifest) -> Vec<ValidationError> {
    match file_name.strip_suffix(".yaml") {
        Some(stem) => validate(stem, manifest),
        None => {
            // krew-index stops here; go on with the name before the extension.
            let stem = file_name
                .rsplit_once('.')
                .map_or(file_name, |(stem, _)| stem);
            let mut errors = vec![ValidationError::FileExtension(file_name.to_owned())];
            errors.extend(validate(stem, manifest));
            errors
        }
    }
}

/// Checks `manifest` as the plugin `name` (the manifest's file name without `.yaml`).
pub fn validate(name: &str, manifest: &Manifest) -> Vec<ValidationError> {
    use ValidationError as E;
    let mut errors = Vec::new();
    if manifest.api_version != API_VERSION {
        errors.push(E::ApiVersion(manifest.api_version.clone()));
    }
    if manifest.kind != KIND {
        errors.push(E::Kind(manifest.kind.clone()));
    }
    if !is_safe_plugin_name(name) {
        errors.push(E::UnsafeName(name.to_owned()));
    }
    if manifest.metadata.name != name {
        errors.push(E::NameMismatch {
            file: name.to_owned(),
            metadata: manifest.metadata.name.clone(),
        });
    }
    let spec = &manifest.spec;
    if spec.short_description.is_empty() {
        errors.push(E::MissingShortDescription);
    }
    if spec.short_description.contains(['\r', '\n']) {
        errors.push(E::ShortDescriptionLineBreak);
    }
    let len = spec.short_description.chars().count();
    if len > SHORT_DESCRIPTION_MAX {
        errors.push(E::ShortDescriptionTooLong(len));
    }
    if spec.platforms.is_empty() {
        errors.push(E::NoPlatforms);
    }
    if spec.version.is_empty() {
        errors.push(E::MissingVersion);
    } else if let Err(reason) = parse_version(&spec.version) {
        errors.push(E::BadVersion {
            version: spec.version.clone(),
            reason,
        });
    }
    // Platforms whose selector is valid: only those take part in the coverage checks.
    let mut valid_selectors = Vec::new();
    for (index, p) in spec.platforms.iter().enumerate() {
        if p.uri.is_empty() {
            errors.push(E::MissingUri(index));
        } else {
            if !p.uri.starts_with("https://") {
                errors.push(E::UriNotHttps {
                    index,
                    uri: p.uri.clone(),
                });
            }
            if !(p.uri.ends_with(".tar.gz") || p.uri.ends_with(".zip")) {
                errors.push(E::UriExtension {
                    index,
                    uri: p.uri.clone(),
                });
            }
        }
        if p.sha256.is_empty() {
            errors.push(E::MissingSha256(index));
        } else if !is_sha256(&p.sha256) {
            errors.push(E::BadSha256 {
                index,
                sha256: p.sha256.clone(),
            });
        }
        if p.bin.is_empty() {
            errors.push(E::MissingBin(index));
        }
        if let Some(files) = &p.files {
            errors.extend(validate_files(index, files));
            if !p.bin.is_empty() && !files.is_empty() && !files_place(files, &p.bin) {
                errors.push(E::BinNotInstalled {
                    index,
                    bin: p.bin.clone(),
                });
            }
            if !files.is_empty() && !files_install_license(files) {
                errors.push(E::NoLicenseFile(index));
            }
        }
        match &p.selector {
            None => errors.push(E::NilSelector(index)),
            Some(sel) => {
                let before = errors.len();
                errors.extend(validate_selector(index, sel));
                if errors.len() == before {
                    valid_selectors.push((index, sel));
                    let matched = SUPPORTED_PLATFORMS
                        .iter()
                        .filter(|(os, arch)| selector_matches(sel, os, arch) == Ok(true))
                        .collect::<Vec<_>>();
                    if matched.is_empty() {
                        errors.push(E::SelectorMatchesNothing(index));
                    }
                    if !p.bin.is_empty()
                        && !p.bin.ends_with(".exe")
                        && matched.iter().any(|(os, _)| *os == "windows")
                    {
                        errors.push(E::WindowsBinWithoutExe {
                            index,
                            bin: p.bin.clone(),
                        });
                    }
                }
            }
        }
    }
    for (os, arch) in SUPPORTED_PLATFORMS {
        let indexes: Vec<usize> = valid_selectors
            .iter()
            .filter(|(_, sel)| selector_matches(sel, os, arch) == Ok(true))
            .map(|(i, _)| *i)
            .collect();
        if indexes.len() > 1 {
            errors.push(E::OverlappingSelectors {
                indexes,
                os: (*os).to_owned(),
                arch: (*arch).to_owned(),
            });
        }
    }
    errors
}

/// Lines krew-index CI warns about (not errors): over 70 characters in shortDescription, over 80
/// in description and caveats, unless the line is one word.
pub fn line_length_warnings(manifest: &Manifest) -> Vec<String> {
    let spec = &manifest.spec;
    let mut warnings = Vec::new();
    for (field, text, max) in [
        ("shortDescription", &spec.short_description, 70),
        ("description", &spec.description, 80),
        ("caveats", &spec.caveats, 80),
    ] {
        for (i, line) in text.split('\n').enumerate() {
            if line.len() > max && line.trim().contains(' ') {
                warnings.push(format!(
                    "{field} line {} has {} characters (krew-index warns above {max})",
                    i + 1,
                    line.len()
                ));
            }
        }
    }
    warnings
}

/// krew's `IsSafePluginName`: `^[\w-]+$` (Go's `\w` is ASCII) and no Windows device name.
pub fn is_safe_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        && !WINDOWS_FORBIDDEN
            .iter()
            .any(|f| f.eq_ignore_ascii_case(name))
}

/// krew's version rule: a leading `v`, then a semantic version as k8s.io/apimachinery's
/// `ParseSemantic` reads it: exactly three numeric components without leading zeros, then an
/// optional `-pre.release` (numeric identifiers without leading zeros) and `+build.metadata`.
pub fn parse_version(version: &str) -> Result<(), String> {
    let rest = version
        .strip_prefix('v')
        .ok_or_else(|| "it does not start with `v`".to_owned())?;
    let numbers_end = rest
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit()
                || (*c == '.'
                    && rest[..*i].ends_with(|d: char| d.is_ascii_digit())
                    && rest[i + 1..].starts_with(|d: char| d.is_ascii_digit())))
        })
        .map_or(rest.len(), |(i, _)| i);
    let (numbers, extra) = rest.split_at(numbers_end);
    if numbers.is_empty() {
        return Err("it has no version numbers".into());
    }
    let components: Vec<&str> = numbers.split('.').collect();
    if components.len() != 3 {
        return Err(format!(
            "it has {} numeric components, not 3",
            components.len()
        ));
    }
    for c in &components {
        if c.len() > 1 && c.starts_with('0') {
            return Err(format!("component `{c}` has a leading zero"));
        }
        c.parse::<u64>()
            .map_err(|_| format!("component `{c}` is too large"))?;
    }
    if extra.is_empty() {
        return Ok(());
    }
    let (pre, build) = match extra.split_once('+') {
        Some((pre, build)) => (pre, Some(build)),
        None => (extra, None),
    };
    let identifiers = |s: &str| {
        !s.is_empty()
            && s.split('.').all(|id| {
                !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            })
    };
    if !pre.is_empty() {
        let pre = pre
            .strip_prefix('-')
            .filter(|p| identifiers(p))
            .ok_or_else(|| format!("`{extra}` is not `-pre.release+build`"))?;
        for id in pre.split('.') {
            if id.len() > 1 && id.starts_with('0') && id.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("pre-release `{id}` has a leading zero"));
            }
        }
    }
    if let Some(build) = build
        && !identifiers(build)
    {
        return Err(format!("`{extra}` is not `-pre.release+build`"));
    }
    Ok(())
}

fn validate_files(index: usize, files: &[FileOperation]) -> Vec<ValidationError> {
    use ValidationError as E;
    if files.is_empty() {
        return vec![E::EmptyFiles(index)];
    }
    let mut errors = Vec::new();
    for (file, op) in files.iter().enumerate() {
        if op.from.is_empty() {
            errors.push(E::FileWithoutFrom { index, file });
        } else if op.to.is_empty() {
            errors.push(E::FileWithoutTo { index, file });
        } else {
            let clean = clean_path(&op.to);
            if clean != op.to {
                errors.push(E::FileToNotClean {
                    index,
                    file,
                    to: op.to.clone(),
                    clean,
                });
            }
        }
    }
    errors
}

fn has_glob(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Where krew puts a non-glob file operation: `to`, or the source's base name when `to` is `.`.
pub fn file_target(op: &FileOperation) -> String {
    if clean_path(&op.to) == "." {
        base_name(&clean_path(&op.from)).to_owned()
    } else {
        clean_path(&op.to)
    }
}

/// Whether `files` put something at `bin`. A glob may place anything, so it counts as yes: the
/// install check then finds out for real.
fn files_place(files: &[FileOperation], bin: &str) -> bool {
    let bin = clean_path(bin);
    files.iter().any(|op| {
        has_glob(&op.from) || file_target(op) == bin || bin.starts_with(&format!("{}/", op.to))
    })
}

fn files_install_license(files: &[FileOperation]) -> bool {
    files.iter().any(|op| {
        has_glob(&op.from)
            || LICENSE_FILES.contains(&base_name(&file_target(op)).to_ascii_lowercase().as_str())
    })
}

/// Go's `path.Clean` for `/`-separated paths.
pub fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".into();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.last().is_some_and(|p| *p != "..") {
                    parts.pop();
                } else if !rooted {
                    parts.push("..");
                }
            }
            p => parts.push(p),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

fn validate_selector(index: usize, sel: &Selector) -> Vec<ValidationError> {
    use ValidationError as E;
    let mut errors = Vec::new();
    let expressions_empty = sel.match_expressions.as_ref().is_none_or(Vec::is_empty);
    if sel.match_labels.is_none() && expressions_empty {
        errors.push(E::EmptySelector(index));
        return errors;
    }
    let keys = sel
        .match_labels
        .iter()
        .flat_map(BTreeMap::keys)
        .chain(sel.match_expressions.iter().flatten().map(|e| &e.key));
    for key in keys {
        if key != "os" && key != "arch" {
            errors.push(E::UnsupportedSelectorKey {
                index,
                key: key.clone(),
            });
        }
    }
    if sel.match_labels.as_ref().is_some_and(BTreeMap::is_empty) {
        errors.push(E::EmptyMatchLabels(index));
    }
    if sel.match_expressions.as_ref().is_some_and(Vec::is_empty) {
        errors.push(E::EmptyMatchExpressions(index));
    }
    if errors.is_empty()
        && let Err(reason) = selector_matches(sel, "linux", "amd64")
    {
        errors.push(E::BadSelectorExpression { index, reason });
    }
    errors
}

/// `metav1.LabelSelectorAsSelector(sel).Matches({os, arch})`; an invalid expression is an error.
pub fn selector_matches(sel: &Selector, os: &str, arch: &str) -> Result<bool, String> {
    let label = |key: &str| match key {
        "os" => Some(os),
        "arch" => Some(arch),
        _ => None,
    };
    let mut matches = true;
    for (k, v) in sel.match_labels.iter().flatten() {
        matches &= label(k) == Some(v.as_str());
    }
    for e in sel.match_expressions.iter().flatten() {
        let value = label(&e.key);
        let in_values = value.is_some_and(|v| e.values.iter().any(|x| x == v));
        matches &= match e.operator.as_str() {
            "In" | "NotIn" if e.values.is_empty() => {
                return Err(format!(
                    "operator `{}` on `{}` needs values",
                    e.operator, e.key
                ));
            }
            "Exists" | "DoesNotExist" if !e.values.is_empty() => {
                return Err(format!(
                    "operator `{}` on `{}` takes no values",
                    e.operator, e.key
                ));
            }
            "In" => in_values,
            "NotIn" => !in_values,
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => return Err(format!("operator `{other}` is not supported")),
        };
    }
    Ok(matches)
}
