//! The command line, as clap parses it.

use clap::Parser;
use eks_auth::cli::{KubeArgs, OutputArgs};

/// Who am I in AWS and in the cluster, which mapping made me so, and what may I do.
///
/// Exit status: 0 identified, 2 not authenticated (the API server answered 401, or no
/// credentials could be had), 1 any other failure.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl eks-whoami",
    bin_name = "kubectl eks-whoami",
    version,
    about,
    long_about = None
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    /// Also list the RBAC bindings that apply and the effective permissions.
    #[arg(long)]
    pub all: bool,
    /// With --all: the permissions in this namespace (cluster-wide rules included) instead of
    /// the cluster-wide ones.
    #[arg(short = 'n', long = "namespace", value_name = "NS", requires = "all")]
    pub namespace: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;
    use eks_auth::cli::OutputFormat;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn takes_the_contract_flags() {
        let cli = Cli::try_parse_from([
            "kubectl-eks_whoami",
            "--all",
            "-o",
            "json",
            "--context",
            "prod",
            "--kubeconfig",
            "/k",
            "-n",
            "team-a",
        ])
        .unwrap();
        assert!(cli.all);
        assert_eq!(cli.output.output, OutputFormat::Json);
        assert_eq!(cli.kube.context.as_deref(), Some("prod"));
        assert_eq!(cli.namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn namespace_needs_all() {
        let err = Cli::try_parse_from(["kubectl-eks_whoami", "-n", "x"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
