//! The command line, as clap parses it.
//!
//! Help reads like kubectl's: usage as `kubectl eks-whoami [flags]`, examples taken from real
//! use, the kubectl flags `--kubeconfig`, `--context` and `-o`.

use clap::{CommandFactory, Parser, Subcommand};
use eks_auth::cli::complete::Completer;
use eks_auth::cli::{CompletionArgs, KubeArgs, OutputArgs, completion_help};

/// The executable's name on PATH (kubectl runs it for `kubectl eks-whoami`).
pub const BINARY: &str = env!("CARGO_BIN_NAME");

const EXAMPLES: &str = "\
Examples:
  # Who am I in AWS and in the cluster, and which aws-auth entry made me so
  kubectl eks-whoami

  # Also the RBAC bindings that apply and what they allow in namespace team-a
  kubectl eks-whoami --all -n team-a

  # As JSON: the keys aws, kubernetes, mapping, bindings and permissions
  kubectl eks-whoami --all -o json --context prod

Shell completion: see `kubectl eks-whoami completion --help`.";

/// Who am I in AWS and in the cluster, which mapping made me so, and what may I do.
///
/// Exit status: 0 identified, 2 not authenticated (the API server answered 401, or no
/// credentials could be had), 1 any other failure.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl eks-whoami",
    bin_name = "kubectl eks-whoami",
    version,
    override_usage = "kubectl eks-whoami [--all [-n NS]] [flags]",
    after_help = EXAMPLES,
    args_conflicts_with_subcommands = true,
    disable_help_subcommand = true
)]
pub struct Cli {
    /// Also list the RBAC bindings that apply and the effective permissions.
    #[arg(long)]
    pub all: bool,
    /// With --all: the permissions in this namespace (cluster-wide rules included) instead of
    /// the cluster-wide ones.
    #[arg(short = 'n', long = "namespace", value_name = "NS", requires = "all")]
    pub namespace: Option<String>,
    // After its own flags: a flattened group's help heading ("Global options") carries over to
    // the fields that follow it.
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print a completion script for kubectl-eks_whoami run directly (bash, zsh or fish).
    #[command(
        override_usage = "kubectl-eks_whoami completion bash|zsh|fish",
        after_help = completion_help("eks-whoami", BINARY),
    )]
    Completion(CompletionArgs),
}

/// The `__complete` answers of this plugin: flags, `-o` values, kubeconfig contexts.
pub fn completer() -> Completer {
    Completer::new(Cli::command())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use eks_auth::cli::OutputFormat;
    use kubectl_eks_test_support::cli::{assert_consistent, parse, parse_error};

    #[test]
    fn cli_is_consistent() {
        assert_consistent::<Cli>();
    }

    #[test]
    fn takes_the_contract_flags() {
        let cli: Cli =
            parse("kubectl-eks_whoami --all -o json --context prod --kubeconfig /k -n team-a");
        assert!(cli.all);
        assert_eq!(cli.output.output, OutputFormat::Json);
        assert_eq!(cli.kube.context.as_deref(), Some("prod"));
        assert_eq!(cli.namespace.as_deref(), Some("team-a"));
    }

    #[test]
    fn namespace_needs_all() {
        assert_eq!(
            parse_error::<Cli>("kubectl-eks_whoami -n x"),
            ErrorKind::MissingRequiredArgument
        );
    }
}
