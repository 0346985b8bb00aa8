//! Command-line flags shared by the plugins that talk to the cluster (`eks-grant`, `eks-whoami`).
//!
//! Defined once and flattened into each CLI with `#[command(flatten)]`, so that `--kubeconfig`,
//! `--context` and `-o` mean the same everywhere.

use std::path::PathBuf;

/// How to reach the cluster, as kubectl spells it.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct KubeArgs {
    /// Path to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,

    /// The kubeconfig context to use (default: the current context).
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
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
pub struct OutputArgs {
    /// Output format.
    #[arg(short = 'o', long = "output", global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
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
}
