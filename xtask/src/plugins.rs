//! `plugins.yaml`: the one description of the plugins, their platforms and archive names.
//!
//! Pure: [`Plugins::parse`] takes the file's text; nothing here reads files.

use serde::Deserialize;

/// The most `krew search` shows of a short description before it cuts (the issue's limit).
pub const SHORT_DESCRIPTION_MAX: usize = 50;

/// Errors in `plugins.yaml` itself.
#[derive(Debug, thiserror::Error)]
pub enum PluginsError {
    #[error("plugins.yaml is not valid")]
    Yaml(#[source] serde_yaml::Error),
    #[error("plugin `{name}`: binary must be `{expected}`, not `{binary}`")]
    BinaryName {
        name: String,
        binary: String,
        expected: String,
    },
    #[error("plugin `{name}`: shortDescription has {len} characters, at most {max} allowed")]
    ShortDescriptionTooLong {
        name: String,
        len: usize,
        max: usize,
    },
    #[error("plugin `{0}` is listed twice")]
    DuplicatePlugin(String),
    #[error("platform `{os}/{arch}` is listed twice")]
    DuplicatePlatform { os: String, arch: String },
    #[error("no plugins listed")]
    NoPlugins,
    #[error("no platforms listed")]
    NoPlatforms,
    #[error("template `{template}` names unknown placeholder `{{{placeholder}}}`")]
    UnknownPlaceholder {
        template: String,
        placeholder: String,
    },
    #[error("template `{template}` has an unclosed `{{`")]
    UnclosedPlaceholder { template: String },
    #[error("version `{0}` must be `v`-prefixed, like `v0.1.0`")]
    VersionPrefix(String),
}

/// The archive format of one platform (krew detects it from the content, the name follows it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ArchiveFormat {
    #[serde(rename = "tar.gz")]
    TarGz,
    #[serde(rename = "zip")]
    Zip,
}

impl ArchiveFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ArchiveFormat::TarGz => "tar.gz",
            ArchiveFormat::Zip => "zip",
        }
    }
}

/// A platform released: krew's `os`/`arch` labels and the Rust target built for it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub target: String,
    pub format: ArchiveFormat,
}

impl Platform {
    pub fn is_windows(&self) -> bool {
        self.os == "windows"
    }

    /// `os-arch`, as in archive names and `dist --platform`.
    pub fn label(&self) -> String {
        format!("{}-{}", self.os, self.arch)
    }
}

/// One plugin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Plugin {
    /// The krew name, also the manifest file name: `eks-token`.
    pub name: String,
    /// The cargo package that builds the binary.
    pub package: String,
    /// The binary, without `.exe`: `kubectl-eks_token`.
    pub binary: String,
    pub short_description: String,
    pub description: String,
    /// May name `{version}`.
    #[serde(default)]
    pub caveats: Option<String>,
}

impl Plugin {
    /// The executable's file name on `platform` (`.exe` on windows).
    pub fn bin_file(&self, platform: &Platform) -> String {
        if platform.is_windows() {
            format!("{}.exe", self.binary)
        } else {
            self.binary.clone()
        }
    }

    /// The completion helper kubectl (1.26+) looks up on PATH for this plugin, without extension.
    ///
    /// kubectl's `lookupCompletionExec` (staging/src/k8s.io/kubectl/pkg/cmd/plugin/
    /// plugin_completion.go) takes the plugin's command path, `kubectl eks-token`, turns `-` into
    /// `_` and ` ` into `-` (`kubectl-eks_token`), then replaces the first `-` with `_complete-`.
    pub fn completion_helper(&self) -> String {
        self.binary.replacen('-', "_complete-", 1)
    }

    /// The completion helper's file name on `platform`: a `sh` script, or a `.cmd` on windows
    /// (Go's `exec.LookPath` finds it there through PATHEXT).
    pub fn completion_helper_file(&self, platform: &Platform) -> String {
        if platform.is_windows() {
            format!("{}.cmd", self.completion_helper())
        } else {
            self.completion_helper()
        }
    }
}

/// The whole of `plugins.yaml`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Plugins {
    pub homepage: String,
    /// Archive file name template: `{binary}`, `{version}`, `{os}`, `{arch}`, `{ext}`.
    pub archive: String,
    /// Download URI template: `{version}`, `{archive}`.
    pub uri: String,
    /// Files from the workspace root packed into every archive (LICENSE, README.md).
    pub extra_files: Vec<String>,
    pub platforms: Vec<Platform>,
    pub plugins: Vec<Plugin>,
}

impl Plugins {
    /// Parses and checks `plugins.yaml`.
    pub fn parse(text: &str) -> Result<Plugins, PluginsError> {
        let plugins: Plugins = serde_yaml::from_str(text).map_err(PluginsError::Yaml)?;
        plugins.check()?;
        Ok(plugins)
    }

    fn check(&self) -> Result<(), PluginsError> {
        if self.plugins.is_empty() {
            return Err(PluginsError::NoPlugins);
        }
        if self.platforms.is_empty() {
            return Err(PluginsError::NoPlatforms);
        }
        for (i, p) in self.plugins.iter().enumerate() {
            // krew links `bin` as `kubectl-<name with - as _>` and kubectl runs
            // `kubectl eks-token` as that file: the binary must carry the same name.
            let expected = format!("kubectl-{}", p.name.replace('-', "_"));
            if p.binary != expected {
                return Err(PluginsError::BinaryName {
                    name: p.name.clone(),
                    binary: p.binary.clone(),
                    expected,
                });
            }
            let len = p.short_description.chars().count();
            if len > SHORT_DESCRIPTION_MAX {
                return Err(PluginsError::ShortDescriptionTooLong {
                    name: p.name.clone(),
                    len,
                    max: SHORT_DESCRIPTION_MAX,
                });
            }
            if self.plugins[..i].iter().any(|q| q.name == p.name) {
                return Err(PluginsError::DuplicatePlugin(p.name.clone()));
            }
        }
        for (i, p) in self.platforms.iter().enumerate() {
            if self.platforms[..i]
                .iter()
                .any(|q| q.os == p.os && q.arch == p.arch)
            {
                return Err(PluginsError::DuplicatePlatform {
                    os: p.os.clone(),
                    arch: p.arch.clone(),
                });
            }
        }
        // Render every template once so a typo fails here, not in the middle of a release.
        let (plugin, platform) = (&self.plugins[0], &self.platforms[0]);
        self.uri(plugin, platform, "v0.0.0")?;
        for p in &self.plugins {
            p.caveats
                .as_deref()
                .map(|c| render(c, &[("version", "v0.0.0")]))
                .transpose()?;
        }
        Ok(())
    }

    pub fn plugin(&self, name: &str) -> Option<&Plugin> {
        self.plugins.iter().find(|p| p.name == name)
    }

    /// The platform with krew labels `os`/`arch`.
    pub fn platform(&self, os: &str, arch: &str) -> Option<&Platform> {
        self.platforms.iter().find(|p| p.os == os && p.arch == arch)
    }

    /// The archive file name of `plugin` on `platform` at `version`.
    pub fn archive_name(
        &self,
        plugin: &Plugin,
        platform: &Platform,
        version: &str,
    ) -> Result<String, PluginsError> {
        check_version_prefix(version)?;
        render(
            &self.archive,
            &[
                ("binary", &plugin.binary),
                ("version", version),
                ("os", &platform.os),
                ("arch", &platform.arch),
                ("ext", platform.format.extension()),
            ],
        )
    }

    /// The download URI of `plugin`'s archive for `platform` at `version`.
    pub fn uri(
        &self,
        plugin: &Plugin,
        platform: &Platform,
        version: &str,
    ) -> Result<String, PluginsError> {
        let archive = self.archive_name(plugin, platform, version)?;
        render(&self.uri, &[("version", version), ("archive", &archive)])
    }
}

fn check_version_prefix(version: &str) -> Result<(), PluginsError> {
    if version.starts_with('v') {
        Ok(())
    } else {
        Err(PluginsError::VersionPrefix(version.to_owned()))
    }
}

/// Replaces `{key}` placeholders; an unknown key is an error, so a typo cannot ship.
pub fn render(template: &str, values: &[(&str, &str)]) -> Result<String, PluginsError> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        // Shell parameter expansions in caveats (`${KREW_ROOT:-...}`) are not placeholders.
        if rest[..start].ends_with('$') {
            let end = after
                .find('}')
                .ok_or_else(|| PluginsError::UnclosedPlaceholder {
                    template: template.to_owned(),
                })?;
            out.push('{');
            out.push_str(&after[..=end]);
            rest = &after[end + 1..];
            continue;
        }
        let end = after
            .find('}')
            .ok_or_else(|| PluginsError::UnclosedPlaceholder {
                template: template.to_owned(),
            })?;
        let key = &after[..end];
        let value = values
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .ok_or_else(|| PluginsError::UnknownPlaceholder {
                template: template.to_owned(),
                placeholder: key.to_owned(),
            })?;
        out.push_str(value);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
homepage: https://example.com/h
archive: "{binary}-{version}-{os}-{arch}.{ext}"
uri: "https://example.com/d/{version}/{archive}"
extraFiles: [LICENSE]
platforms:
  - { os: linux, arch: amd64, target: x86_64-unknown-linux-gnu, format: tar.gz }
  - { os: windows, arch: arm64, target: aarch64-pc-windows-msvc, format: zip }
plugins:
  - name: eks-token
    package: kubectl-eks-token
    binary: kubectl-eks_token
    shortDescription: Tokens
    description: Long.
    caveats: "cp ${KREW_ROOT:-$HOME/.krew}/store/eks-token/{version}/x"
"#;

    #[test]
    fn names_archives_uris_and_helpers() {
        let p = Plugins::parse(SMALL).unwrap();
        let token = p.plugin("eks-token").unwrap();
        let linux = p.platform("linux", "amd64").unwrap();
        let windows = p.platform("windows", "arm64").unwrap();
        assert_eq!(
            p.archive_name(token, linux, "v1.2.3").unwrap(),
            "kubectl-eks_token-v1.2.3-linux-amd64.tar.gz"
        );
        assert_eq!(
            p.uri(token, windows, "v1.2.3").unwrap(),
            "https://example.com/d/v1.2.3/kubectl-eks_token-v1.2.3-windows-arm64.zip"
        );
        assert_eq!(token.bin_file(linux), "kubectl-eks_token");
        assert_eq!(token.bin_file(windows), "kubectl-eks_token.exe");
        assert_eq!(token.completion_helper(), "kubectl_complete-eks_token");
        assert_eq!(
            token.completion_helper_file(windows),
            "kubectl_complete-eks_token.cmd"
        );
    }

    #[test]
    fn caveats_keep_shell_expansions_and_fill_version() {
        let out = render(
            "cp ${KREW_ROOT:-$HOME/.krew}/store/eks-token/{version}/x",
            &[("version", "v1.0.0")],
        )
        .unwrap();
        assert_eq!(out, "cp ${KREW_ROOT:-$HOME/.krew}/store/eks-token/v1.0.0/x");
    }

    #[test]
    fn rejects_unknown_placeholder() {
        let bad = SMALL.replace("{ext}", "{extension}");
        let err = Plugins::parse(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "template `{binary}-{version}-{os}-{arch}.{extension}` names unknown placeholder `{extension}`"
        );
    }

    #[test]
    fn rejects_binary_kubectl_would_not_find() {
        let bad = SMALL.replace("binary: kubectl-eks_token", "binary: kubectl-eks-token");
        let err = Plugins::parse(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin `eks-token`: binary must be `kubectl-eks_token`, not `kubectl-eks-token`"
        );
    }

    #[test]
    fn rejects_long_short_description() {
        let long = "x".repeat(51);
        let bad = SMALL.replace(
            "shortDescription: Tokens",
            &format!("shortDescription: {long}"),
        );
        let err = Plugins::parse(&bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "plugin `eks-token`: shortDescription has 51 characters, at most 50 allowed"
        );
    }

    #[test]
    fn rejects_duplicate_platform() {
        let bad = SMALL.replace("os: windows, arch: arm64", "os: linux, arch: amd64");
        let err = Plugins::parse(&bad).unwrap_err();
        assert_eq!(err.to_string(), "platform `linux/amd64` is listed twice");
    }

    #[test]
    fn rejects_unprefixed_version() {
        let p = Plugins::parse(SMALL).unwrap();
        let err = p
            .archive_name(&p.plugins[0], &p.platforms[0], "1.2.3")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "version `1.2.3` must be `v`-prefixed, like `v0.1.0`"
        );
    }
}
