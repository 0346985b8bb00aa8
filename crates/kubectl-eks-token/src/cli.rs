//! Command line: flags as clap sees them. `request.rs` turns them into validated domain types.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// EKS bearer tokens for kubectl (exec credential provider), kubeconfig entries, token checks.
///
/// Without a subcommand, prints one ExecCredential for the cluster on stdout.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-eks_token",
    bin_name = "kubectl eks-token",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
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
    UpdateKubeconfig(UpdateKubeconfigArgs),
    /// Check a token as the EKS authenticator would, and optionally ask STS whose it is.
    Verify(VerifyArgs),
    /// Inspect or clear the token cache.
    Cache {
        #[command(subcommand)]
        command: CacheCommand,
    },
}

#[derive(Debug, Args)]
pub struct UpdateKubeconfigArgs {
    /// Name of the EKS cluster.
    #[arg(long, value_name = "NAME")]
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
pub struct VerifyArgs {
    /// The token (`k8s-aws-v1.…`), or `-` to read it (or an ExecCredential) from stdin.
    pub token: String,
    /// The cluster the token must be for (needed to send it to STS).
    #[arg(long, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// Send the presigned request to STS and print whose token it is.
    #[arg(long, requires = "cluster_name")]
    pub resolve: bool,
    /// Send it here instead of the token's own STS host (the signed Host header is kept).
    #[arg(long, value_name = "URL", requires = "resolve")]
    pub sts_endpoint: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum CacheCommand {
    /// List cached tokens: key, cluster, region, profile, role and expiry (never the token).
    List,
    /// Remove every cached token.
    Clear,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn token_flags_parse() {
        let cli = Cli::try_parse_from([
            "k",
            "--cluster-name",
            "demo",
            "--region",
            "eu-west-1",
            "--role-arn",
            "arn:aws:iam::1:role/r",
            "--forward-session-name",
            "--token-only",
        ])
        .unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.token.cluster_name.as_deref(), Some("demo"));
        assert_eq!(cli.token.aws.region.as_deref(), Some("eu-west-1"));
        assert!(cli.token.forward_session_name && cli.token.token_only && !cli.token.no_cache);
    }

    #[test]
    fn cluster_name_required_without_subcommand() {
        let err = Cli::try_parse_from(["k"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        assert!(Cli::try_parse_from(["k", "cache", "clear"]).is_ok());
    }

    #[test]
    fn session_name_flags_conflict() {
        let err = Cli::try_parse_from([
            "k",
            "--cluster-name",
            "c",
            "--role-arn",
            "arn:aws:iam::1:role/r",
            "--session-name",
            "s",
            "--forward-session-name",
        ])
        .unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn resolve_needs_cluster_name() {
        let err = Cli::try_parse_from(["k", "verify", "-", "--resolve"]).unwrap_err();
        assert_eq!(err.kind(), clap::error::ErrorKind::MissingRequiredArgument);
    }
}
