//! The completion helpers shipped in every archive.
//!
//! kubectl (1.26+) completes `kubectl eks-token <TAB>` by running `kubectl_complete-eks_token`
//! from PATH with the words after the plugin name, the last being the word under the cursor
//! (empty when a new word starts), and reads candidates one per line, then an optional
//! `:<directive>` line (cobra's ShellCompDirective). The helper hands that to the plugin's hidden
//! `__complete` subcommand, which speaks this protocol (docs/krew.md).

use crate::plugins::{Platform, Plugin};

/// The helper's file content for `platform`.
pub fn completion_helper(plugin: &Plugin, platform: &Platform) -> String {
    if platform.is_windows() {
        // cmd.exe scripts want CRLF line ends.
        [
            "@echo off".to_owned(),
            format!(
                "rem kubectl runs this to complete the arguments of `kubectl {}` (docs/krew.md).",
                plugin.name
            ),
            format!("{} __complete %*", plugin.bin_file(platform)),
        ]
        .iter()
        .map(|l| format!("{l}\r\n"))
        .collect()
    } else {
        format!(
            "#!/bin/sh\n\
             # kubectl (1.26+) runs this to complete the arguments of `kubectl {name}`: it passes\n\
             # the words after the plugin name, the last one being the word to complete (empty\n\
             # when a new word starts). The plugin answers in cobra's __complete format.\n\
             exec {bin} __complete \"$@\"\n",
            name = plugin.name,
            bin = plugin.binary,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plugins::ArchiveFormat;

    fn plugin() -> Plugin {
        Plugin {
            name: "eks-grant".into(),
            package: "kubectl-eks-grant".into(),
            binary: "kubectl-eks_grant".into(),
            short_description: "s".into(),
            description: "d".into(),
            caveats: None,
        }
    }

    fn platform(os: &str, format: ArchiveFormat) -> Platform {
        Platform {
            os: os.into(),
            arch: "amd64".into(),
            target: "t".into(),
            format,
        }
    }

    #[test]
    fn posix_helper_execs_the_plugin() {
        let text = completion_helper(&plugin(), &platform("linux", ArchiveFormat::TarGz));
        assert!(text.starts_with("#!/bin/sh\n"));
        assert!(text.ends_with("\nexec kubectl-eks_grant __complete \"$@\"\n"));
    }

    #[test]
    fn windows_helper_is_a_crlf_cmd_script() {
        let text = completion_helper(&plugin(), &platform("windows", ArchiveFormat::Zip));
        assert!(text.starts_with("@echo off\r\n"));
        assert!(text.ends_with("\r\nkubectl-eks_grant.exe __complete %*\r\n"));
    }
}
