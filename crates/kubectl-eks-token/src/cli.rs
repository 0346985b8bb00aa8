//! Command line: flags as clap sees them. `request.rs` turns them into validated domain types.
//!
//! Help reads like kubectl's: usage as `kubectl eks-token ...`, examples taken from real use.

use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use eks_auth::cli::complete::Completer;
use eks_auth::cli::{CompletionArgs, completion_help};

/// The executable's name on PATH (kubectl runs it for `kubectl eks-token`, and the kubeconfig
/// `exec` stanza names it).
pub const BINARY: &str = env!("CARGO_BIN_NAME");

const EXAMPLES: &str = "\
Examples:
  # Write a kubeconfig context whose user runs this plugin, then use it
  kubectl eks-token update-kubeconfig --name demo --region eu-west-1 \\
    --alias demo
  kubectl get pods --context demo

  # The ExecCredential kubectl reads (what the kubeconfig exec stanza runs)
  kubectl-eks_token --cluster-name demo --region eu-west-1

  # A bare bearer token signed with a profile's credentials, for curl
  kubectl eks-token --cluster-name demo --profile admin --token-only

  # Check a token as the EKS authenticator would, and ask STS whose it is
  kubectl eks-token --cluster-name demo --token-only \\
    | kubectl eks-token verify - --cluster-name demo --resolve

Shell completion: see `kubectl eks-token completion --help`.";

/// EKS bearer tokens for kubectl (exec credential provider), kubeconfig entries, token checks.
///
/// Without a subcommand, prints one ExecCredential for the cluster on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl eks-token",
    bin_name = "kubectl eks-token",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    override_usage = "kubectl eks-token --cluster-name NAME [flags]\n       kubectl eks-token COMMAND [flags]",
    after_help = EXAMPLES,
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub token: TokenArgs,
}

/// AWS flags shared by every command that talks to AWS.
#[derive(Debug, Args, Clone, Default)]
pub struct AwsArgs {
    /// AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then the profile's region).
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Profile from the shared AWS config and credentials files (default: AWS_PROFILE).
    #[arg(long, value_name = "PROFILE")]
    pub profile: Option<String>,
    /// Assume this IAM role (STS AssumeRole) and sign with its credentials.
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Args, Clone, Default)]
pub struct TokenArgs {
    /// Name of the EKS cluster (sent as the signed `x-k8s-aws-id` header).
    #[arg(long, value_name = "NAME", required = true)]
    pub cluster_name: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// External ID for AssumeRole, when the role's trust policy requires one.
    #[arg(long, value_name = "ID", requires = "role_arn")]
    pub external_id: Option<String>,
    /// Session name for AssumeRole (default: `EKSGetTokenAuth`, as `aws eks get-token` uses).
    #[arg(
        long,
        value_name = "NAME",
        requires = "role_arn",
        conflicts_with = "forward_session_name"
    )]
    pub session_name: Option<String>,
    /// Use the caller's own role session name for AssumeRole.
    #[arg(long, requires = "role_arn")]
    pub forward_session_name: bool,
    /// Print only the bearer token, not an ExecCredential.
    #[arg(long)]
    pub token_only: bool,
    /// Neither read nor write the token cache.
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Add or update the cluster, user and context in a kubeconfig (like `aws eks update-kubeconfig`).
    #[command(
        override_usage = "kubectl eks-token update-kubeconfig --name NAME [flags]",
        after_help = "\
Examples:
  # Context `demo` in ~/.kube/config, its user running kubectl-eks_token
  kubectl eks-token update-kubeconfig --name demo --region eu-west-1 \\
    --alias demo

  # Sign as a role; show the kubeconfig instead of writing it
  kubectl eks-token update-kubeconfig --name demo --region eu-west-1 \\
    --role-arn arn:aws:iam::111122223333:role/EksAdmin --dry-run"
    )]
    UpdateKubeconfig(UpdateKubeconfigArgs),
    /// Move kubeconfig users from `aws eks get-token` or `aws-iam-authenticator` onto this plugin.
    #[command(
        override_usage = "kubectl eks-token adopt [--context NAME]... [--all] [flags]",
        long_about = "\
Move kubeconfig users from `aws eks get-token` or `aws-iam-authenticator token` onto
kubectl-eks_token, with the same identity (cluster, region, profile, role, env).

Only the exec stanza's `command`, `args` (and a `v1alpha1` apiVersion) change, and an
`installHint` is added; every other byte of the file stays as it was. A stanza with an
argument this plugin cannot reproduce is left alone and listed with the reason. The version
before the change is kept beside the file (`PATH.before-adopt`, 0600) for `--revert`.
Without `--context` or `--all`, the current context is moved.",
        after_help = "\
Examples:
  # See what would change in every context, then do it
  kubectl eks-token adopt --all --dry-run
  kubectl eks-token adopt --all

  # Two contexts only; then undo
  kubectl eks-token adopt --context prod --context staging
  kubectl eks-token adopt --revert"
    )]
    Adopt(AdoptArgs),
    /// Check a token as the EKS authenticator would, and optionally ask STS whose it is.
    #[command(
        override_usage = "kubectl eks-token verify TOKEN [--region R | --partition P] [flags]\n       \
                          kubectl eks-token verify TOKEN --cluster-name NAME --resolve [flags]",
        after_help = "\
The cluster's partition comes from --partition, else from a cluster ARN given as
--cluster-name, else from --region, else it is `aws`: only that partition's STS
hosts are accepted, as by EKS. --resolve needs --cluster-name (the token signs
the cluster name and STS checks it); it sends the request to --sts-endpoint,
else to AWS_ENDPOINT_URL_STS or AWS_ENDPOINT_URL when set, else to the token's
own STS host.

Examples:
  # Offline checks: format, signature parameters, expiry
  kubectl eks-token verify k8s-aws-v1.aHR0cHM6Ly9zdHMu...

  # The same for a cluster in China
  kubectl eks-token verify k8s-aws-v1.aHR0cHM6Ly9zdHMu... --region cn-north-1

  # Read a token or ExecCredential from stdin and ask STS whose it is
  kubectl eks-token --cluster-name demo \\
    | kubectl eks-token verify - --cluster-name demo --resolve -o json"
    )]
    Verify(VerifyArgs),
    /// Inspect or clear the token cache.
    #[command(
        override_usage = "kubectl eks-token cache list|clear",
        after_help = "\
Examples:
  kubectl eks-token cache list
  kubectl eks-token cache clear"
    )]
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
    /// Print a completion script for kubectl-eks_token run directly (bash, zsh or fish).
    #[command(
        override_usage = "kubectl-eks_token completion bash|zsh|fish",
        after_help = completion_help("eks-token", BINARY),
    )]
    Completion(CompletionArgs),
}

/// The `__complete` answers of this plugin: subcommands, flags, `--profile` and `--region`
/// values, file names for `--kubeconfig`.
pub fn completer() -> Completer {
    Completer::new(Cli::command())
}

#[derive(Debug, Args)]
pub struct UpdateKubeconfigArgs {
    /// Name of the EKS cluster, or its ARN (which gives the region too).
    #[arg(long, value_name = "NAME|ARN")]
    pub name: String,
    #[command(flatten)]
    pub aws: AwsArgs,
    /// Context name (default: the cluster ARN).
    #[arg(long, value_name = "NAME")]
    pub alias: Option<String>,
    /// User name (default: the cluster ARN).
    #[arg(long, value_name = "NAME")]
    pub user_alias: Option<String>,
    /// Kubeconfig to write (default: the first KUBECONFIG path, else ~/.kube/config).
    #[arg(long, value_name = "PATH")]
    pub kubeconfig: Option<PathBuf>,
    /// Print the resulting kubeconfig instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct AdoptArgs {
    /// A context whose user to move (repeatable; default: the current context).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["all", "revert"])]
    pub context: Vec<String>,
    /// Move every user that runs `aws eks get-token` or `aws-iam-authenticator token`.
    #[arg(long, conflicts_with = "revert")]
    pub all: bool,
    /// Kubeconfig to edit (default: each KUBECONFIG file, else ~/.kube/config).
    #[arg(long, value_name = "PATH", value_hint = clap::ValueHint::FilePath)]
    pub kubeconfig: Option<PathBuf>,
    /// Print the change as a diff instead of writing it.
    #[arg(long)]
    pub dry_run: bool,
    /// Put back the file as it was before the last adopt.
    #[arg(long)]
    pub revert: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The token (`k8s-aws-v1.…`), or `-` to read it (or an ExecCredential) from stdin.
    pub token: String,
    /// The cluster the token must be for, by name or EKS cluster ARN (needed by --resolve).
    #[arg(long, value_name = "NAME|ARN")]
    pub cluster_name: Option<String>,
    /// The cluster's region: its partition's STS hosts are the ones accepted.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// The cluster's partition (aws, aws-cn, aws-us-gov, ...), if not that of --region.
    #[arg(long, value_name = "PARTITION")]
    pub partition: Option<String>,
    /// Send the presigned request to STS and print whose token it is (needs --cluster-name).
    #[arg(long, requires = "cluster_name")]
    pub resolve: bool,
    /// With --resolve: send it here instead of AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL or the
    /// token's own STS host (the signed Host header is kept).
    #[arg(long, value_name = "URL", requires = "resolve")]
    pub sts_endpoint: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

// The token is a bearer credential: Debug names the other arguments only.
impl std::fmt::Debug for VerifyArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyArgs")
            .field("token", &"<redacted>")
            .field("cluster_name", &self.cluster_name)
            .field("region", &self.region)
            .field("partition", &self.partition)
            .field("resolve", &self.resolve)
            .field("sts_endpoint", &self.sts_endpoint)
            .field("output", &self.output)
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List cached tokens: key, cluster, region, profile, role and expiry (never the token).
    #[command(override_usage = "kubectl eks-token cache list")]
    List,
    /// Remove every cached token.
    #[command(override_usage = "kubectl eks-token cache clear")]
    Clear,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::error::ErrorKind;
    use kubectl_eks_test_support::cli::{assert_consistent, parse, parse_error};

    #[test]
    fn cli_is_consistent() {
        assert_consistent::<Cli>();
    }

    #[test]
    fn verify_args_debug_hides_the_token() {
        let cli: Cli = parse("k verify k8s-aws-v1.c2VjcmV0LXNpZ25hdHVyZQ");
        let debug = format!("{cli:?}");
        assert!(!debug.contains("c2VjcmV0LXNpZ25hdHVyZQ"), "{debug}");
        assert!(debug.contains("<redacted>"), "{debug}");
    }

    #[test]
    fn token_flags_parse() {
        let cli: Cli = parse(
            "k --cluster-name demo --region eu-west-1 --role-arn arn:aws:iam::1:role/r \
             --forward-session-name --token-only",
        );
        assert!(cli.command.is_none());
        assert_eq!(cli.token.cluster_name.as_deref(), Some("demo"));
        assert_eq!(cli.token.aws.region.as_deref(), Some("eu-west-1"));
        assert!(cli.token.forward_session_name && cli.token.token_only && !cli.token.no_cache);
    }

    #[test]
    fn cluster_name_required_without_subcommand() {
        assert_eq!(parse_error::<Cli>("k"), ErrorKind::MissingRequiredArgument);
        parse::<Cli>("k cache clear");
    }

    #[test]
    fn session_name_flags_conflict() {
        assert_eq!(
            parse_error::<Cli>(
                "k --cluster-name c --role-arn arn:aws:iam::1:role/r --session-name s \
                 --forward-session-name"
            ),
            ErrorKind::ArgumentConflict
        );
    }

    #[test]
    fn resolve_needs_cluster_name() {
        assert_eq!(
            parse_error::<Cli>("k verify - --resolve"),
            ErrorKind::MissingRequiredArgument
        );
    }
}
