//! Command-line pieces shared by the plugins.
//!
//! - Flags of the plugins that talk to the cluster (`eks-grant`, `eks-whoami`), defined once and
//!   flattened into each CLI with `#[command(flatten)]`, so that `--kubeconfig`, `--context` and
//!   `-o` mean the same everywhere.
//! - [`table`]: the one table style of the suite (kubectl's borderless columns).
//! - Shell completion: [`complete`] answers kubectl's `__complete` protocol from the clap
//!   command; [`CompletionArgs`] and [`write_completion_script`] make `completion bash|zsh|fish`.
//! - [`report`]: how errors, hints and exit codes reach the user.

pub mod complete;
pub mod report;
pub mod table;
pub mod values;

pub use report::{error_report, exit, fail, hint_of, parse_or_exit, print_error};

use std::io::Write;
use std::path::PathBuf;

/// The heading of the shared flags in `--help`: they apply to every subcommand.
pub const GLOBAL_FLAGS_HEADING: &str = "Global options";

/// How to reach the cluster, as kubectl spells it (kubectl's global flags of the same names,
/// read the same way: `--cluster` and `--user` replace the context's cluster and user entries,
/// `--request-timeout` bounds each request, `0` meaning no bound).
#[derive(Debug, Clone, Default, clap::Args)]
#[command(next_help_heading = GLOBAL_FLAGS_HEADING)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`).
    #[arg(long, global = true, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,

    /// The kubeconfig cluster to use (default: the context's).
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,

    /// The kubeconfig user to use (default: the context's).
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,

    /// How long to wait for one server request: `0` (no limit), or a duration (`30s`, `1m`,
    /// `1m30s`; a bare number is seconds).
    #[arg(long, global = true, value_name = "DURATION", value_parser = parse_request_timeout)]
    pub request_timeout: Option<RequestTimeout>,
}

#[cfg(feature = "kube")]
impl KubeArgs {
    /// The flags as the core's Kubernetes layer takes them.
    pub fn target(&self) -> crate::kube::KubeTarget<'_> {
        crate::kube::KubeTarget {
            kubeconfig: self.kubeconfig.as_deref(),
            context: self.context.as_deref(),
            cluster: self.cluster.as_deref(),
            user: self.user.as_deref(),
            request_timeout: self.request_timeout.map(|t| t.0),
        }
    }
}

/// `--request-timeout`: `None` inside is kubectl's `0`, no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestTimeout(pub Option<std::time::Duration>);

/// kubectl's `--request-timeout` value: a bare integer is seconds, otherwise Go's duration
/// syntax (`time.ParseDuration`: decimal numbers with units `ns`, `us`, `µs`, `ms`, `s`, `m`,
/// `h`, concatenated, e.g. `1h30m`); `0` disables the timeout (kubectl's help for the flag).
pub fn parse_request_timeout(text: &str) -> Result<RequestTimeout, String> {
    use std::time::Duration;
    let bad = || {
        format!(
            "`{text}` is not a duration: use `0`, a number of seconds, or e.g. `30s`, `2m`, `1h`"
        )
    };
    if let Ok(secs) = text.parse::<u64>() {
        return Ok(RequestTimeout(
            (secs > 0).then(|| Duration::from_secs(secs)),
        ));
    }
    let mut rest = text;
    let mut total = 0f64;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..number_len].parse().map_err(|_| bad())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        total += number * scale;
        rest = &rest[unit_len..];
    }
    Ok(RequestTimeout(
        (total > 0.0).then(|| Duration::from_secs_f64(total)),
    ))
}

/// `-o table|json|yaml`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A human-readable table (the default).
    #[default]
    Table,
    /// One JSON document.
    Json,
    /// One YAML document.
    Yaml,
}

/// The output flag, to flatten next to [`KubeArgs`].
#[derive(Debug, Clone, Copy, Default, clap::Args)]
#[command(next_help_heading = GLOBAL_FLAGS_HEADING)]
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
}

/// `completion bash|zsh|fish`: a script for completing the plugin binary itself.
#[derive(Debug, Clone, clap::Args)]
pub struct CompletionArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// The shells `completion` writes scripts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

/// Writes data to stdout, the one way every plugin prints it: a closed pipe (kubectl gone,
/// `| head`) is not an error.
pub fn write_stdout(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Writes `shell`'s completion script (clap_complete) for `cmd` run as `binary`, the executable's
/// name on PATH (`kubectl-eks_grant`): shells complete what the user types, and for
/// `kubectl eks-grant` that is kubectl's business (see [`completion_help`]).
pub fn write_completion_script(
    shell: Shell,
    mut cmd: clap::Command,
    binary: &str,
    out: &mut dyn Write,
) {
    let shell = match shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    clap_complete::generate(shell, &mut cmd, binary, out);
}

/// The long help of a plugin's `completion` subcommand: how to install the script for the binary,
/// and how `kubectl PLUGIN <TAB>` completes through the helper in the release archive.
/// `plugin` is the krew name (`eks-grant`), `binary` the executable (`kubectl-eks_grant`).
pub fn completion_help(plugin: &str, binary: &str) -> String {
    let helper = binary.replacen('-', "_complete-", 1);
    format!(
        "Completion of `{binary} <TAB>` (the binary run directly):
  bash:  source <({binary} completion bash)
  zsh:   {binary} completion zsh > \"${{fpath[1]}}/_{binary}\"
  fish:  {binary} completion fish \\
           > ~/.config/fish/completions/{binary}.fish

Completion of `kubectl {plugin} <TAB>` comes from kubectl's own completion
(kubectl 1.26+, `source <(kubectl completion bash)`): kubectl runs the
executable `{helper}` from PATH, which runs
`{binary} __complete`. The release archive ships it next to the
plugin; krew links only the plugin, so copy the helper once:
  K=\"${{KREW_ROOT:-$HOME/.krew}}\"
  cp \"$K\"/store/{plugin}/VERSION/{helper} \"$K/bin/\"
Installed with cargo, write it next to the binary:
  H=~/.cargo/bin/{helper}
  printf '#!/bin/sh\\nexec {binary} __complete \"$@\"\\n' > \"$H\"
  chmod +x \"$H\""
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        kube: KubeArgs,
        #[command(flatten)]
        out: OutputArgs,
    }

    #[test]
    fn parses_kubectl_style_flags() {
        let cli = Cli::try_parse_from([
            "x",
            "--kubeconfig",
            "/tmp/k",
            "--context",
            "prod",
            "-o",
            "yaml",
        ])
        .unwrap();
        assert_eq!(cli.kube.kubeconfig, Some(PathBuf::from("/tmp/k")));
        assert_eq!(cli.kube.context.as_deref(), Some("prod"));
        assert_eq!(cli.out.output, OutputFormat::Yaml);
    }

    #[test]
    fn parses_kubectl_global_flags() {
        let cli = Cli::try_parse_from([
            "x",
            "--cluster",
            "other",
            "--user",
            "admin",
            "--request-timeout",
            "1m30s",
        ])
        .unwrap();
        assert_eq!(cli.kube.cluster.as_deref(), Some("other"));
        assert_eq!(cli.kube.user.as_deref(), Some("admin"));
        assert_eq!(
            cli.kube.request_timeout,
            Some(RequestTimeout(Some(std::time::Duration::from_secs(90))))
        );
    }

    #[test]
    fn request_timeouts_as_kubectl_reads_them() {
        use std::time::Duration;
        let t = |s: &str| parse_request_timeout(s).map(|t| t.0);
        assert_eq!(t("0"), Ok(None));
        assert_eq!(t("0s"), Ok(None));
        assert_eq!(t("5"), Ok(Some(Duration::from_secs(5))));
        assert_eq!(t("250ms"), Ok(Some(Duration::from_millis(250))));
        assert_eq!(t("1h"), Ok(Some(Duration::from_secs(3600))));
        assert_eq!(t("1.5s"), Ok(Some(Duration::from_millis(1500))));
        for bad in ["", "s", "5x", "-1s", "1s5"] {
            assert!(t(bad).is_err(), "{bad}");
        }
        assert_eq!(
            t("soon").unwrap_err(),
            "`soon` is not a duration: use `0`, a number of seconds, or e.g. `30s`, `2m`, `1h`"
        );
    }

    #[test]
    fn defaults_to_table_and_current_context() {
        let cli = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!(cli.kube.kubeconfig, None);
        assert_eq!(cli.kube.context, None);
        assert_eq!(cli.out.output, OutputFormat::Table);
    }

    #[test]
    fn rejects_unknown_output() {
        let err = Cli::try_parse_from(["x", "-o", "wide"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn completion_script_completes_the_binary_name() {
        #[derive(Debug, Parser)]
        #[command(name = "kubectl eks-x")]
        struct Cli {
            #[command(flatten)]
            out: OutputArgs,
        }
        let mut script = Vec::new();
        write_completion_script(
            Shell::Bash,
            <Cli as clap::CommandFactory>::command(),
            "kubectl-eks_x",
            &mut script,
        );
        let script = String::from_utf8(script).unwrap();
        assert!(
            script.contains(
                "complete -F _kubectl__eks_x -o nosort -o bashdefault -o default kubectl-eks_x"
            ),
            "{script}"
        );
        assert!(script.contains("table json yaml"), "{script}");
    }

    #[test]
    fn completion_help_names_the_helper() {
        let help = completion_help("eks-grant", "kubectl-eks_grant");
        assert!(help.contains(
            "executable `kubectl_complete-eks_grant` from PATH, which runs\n`kubectl-eks_grant __complete`"
        ), "{help}");
        assert!(help.contains(
            "  H=~/.cargo/bin/kubectl_complete-eks_grant\n  printf '#!/bin/sh\\nexec kubectl-eks_grant __complete \"$@\"\\n' > \"$H\"\n"
        ), "{help}");
        assert!(help.lines().all(|l| l.len() <= 78), "{help}");
    }
}
