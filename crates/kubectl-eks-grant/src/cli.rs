//! The command line, as clap parses it (the "low" arguments). [`crate::request`] validates them
//! into domain types before any I/O.
//!
//! Help reads like kubectl's: usage as `kubectl eks-grant add ARN [flags]`, examples taken from
//! real use, the kubectl flags `--kubeconfig`, `--context` and `-o` on every command.

use clap::{CommandFactory, Parser, Subcommand};
use eks_auth::cli::complete::{Candidate, Completer};
use eks_auth::cli::{CompletionArgs, KubeArgs, OutputArgs, completion_help};

/// The executable's name on PATH (kubectl runs it for `kubectl eks-grant`).
pub const BINARY: &str = env!("CARGO_BIN_NAME");

const EXAMPLES: &str = "\
Examples:
  # Read access to the whole cluster for IAM user bob, in group reader
  kubectl eks-grant add arn:aws:iam::111122223333:user/bob \\
    --username bob --group reader --preset cluster-reader

  # Let a role edit two namespaces; show the change first, write nothing
  kubectl eks-grant add arn:aws:iam::111122223333:role/Developers \\
    --preset edit -n team-a -n team-b --dry-run

  # Who is mapped, and what may an ARN do
  kubectl eks-grant list
  kubectl eks-grant check arn:aws:iam::111122223333:user/bob -o yaml

  # Take access back, or revert the last change made by eks-grant
  kubectl eks-grant revoke arn:aws:iam::111122223333:user/bob
  kubectl eks-grant undo --context prod

Shell completion: see `kubectl eks-grant completion --help`.";

/// Give an IAM user or role access to an EKS cluster: aws-auth mapping and RBAC in one safe step.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl eks-grant",
    bin_name = "kubectl eks-grant",
    version,
    override_usage = "kubectl eks-grant COMMAND [flags]",
    after_help = EXAMPLES,
)]
pub struct Cli {
    #[command(flatten)]
    pub kube: KubeArgs,
    #[command(flatten)]
    pub output: OutputArgs,
    #[command(flatten)]
    pub store: StoreArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Which store of mappings eks-grant uses (issue 11: aws-auth or EKS access entries).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendChoice {
    /// The store the cluster's authentication mode counts (EKS DescribeCluster)
    Auto,
    /// The kube-system/aws-auth ConfigMap
    AwsAuth,
    /// EKS access entries, through the EKS API
    AccessEntries,
}

/// The store and, for access entries, the EKS cluster and AWS identity (DESIGN.md contract).
#[derive(Debug, Clone, clap::Args)]
pub struct StoreArgs {
    /// Where mappings are kept: auto, aws-auth or access-entries.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "B"
    )]
    pub backend: BackendChoice,
    /// EKS cluster name for access entries (default: the context's cluster ARN or exec stanza).
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster_name: Option<String>,
    /// AWS region of the cluster (default: the context's cluster ARN or exec stanza, else the AWS config).
    #[arg(long, global = true, value_name = "R")]
    pub region: Option<String>,
    /// AWS profile for the EKS calls, used as is (default: the exec stanza's, with its --role-arn).
    #[arg(long, global = true, value_name = "P")]
    pub profile: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Map an IAM user or role in aws-auth, and with --preset bind its group to a role.
    #[command(
        override_usage = "kubectl eks-grant add ARN [flags]",
        after_help = "\
Examples:
  # Map a user and bind its group to the cluster-reader preset
  kubectl eks-grant add arn:aws:iam::111122223333:user/bob \\
    --username bob --group reader --preset cluster-reader

  # An assumed-role ARN (as `aws sts get-caller-identity` prints it) maps its role
  kubectl eks-grant add \\
    arn:aws:sts::111122223333:assumed-role/Developers/alice --preset view -n dev

  # Show the aws-auth and RBAC change as a diff, write nothing
  kubectl eks-grant add arn:aws:iam::111122223333:role/Deploy \\
    --group deployers --dry-run"
    )]
    Add(AddArgs),
    /// Every mapping of aws-auth, with shadowed duplicates, unmatchable ARNs and each group's bindings.
    #[command(
        override_usage = "kubectl eks-grant list [flags]",
        after_help = "\
Examples:
  kubectl eks-grant list
  kubectl eks-grant list --context prod -o json"
    )]
    List,
    /// Remove every aws-auth entry for an ARN, and RBAC objects eks-grant made that nothing uses any more.
    #[command(
        override_usage = "kubectl eks-grant revoke ARN [flags]",
        after_help = "\
Examples:
  kubectl eks-grant revoke arn:aws:iam::111122223333:user/bob --dry-run
  kubectl eks-grant revoke arn:aws:iam::111122223333:user/bob"
    )]
    Revoke(RevokeArgs),
    /// What an ARN may do in the cluster, as the API server decides it (no impersonation).
    #[command(
        override_usage = "kubectl eks-grant check ARN [flags]",
        after_help = "\
Examples:
  kubectl eks-grant check arn:aws:iam::111122223333:user/bob
  kubectl eks-grant check arn:aws:iam::111122223333:role/Dev -n team-a -o yaml"
    )]
    Check(CheckArgs),
    /// The presets of `add --preset` and their rules.
    #[command(
        override_usage = "kubectl eks-grant presets [flags]",
        after_help = "\
Examples:
  kubectl eks-grant presets
  kubectl eks-grant presets -o yaml"
    )]
    Presets,
    /// Revert the last change made by eks-grant: aws-auth as it was (byte for byte), and its RBAC objects.
    #[command(
        override_usage = "kubectl eks-grant undo [flags]",
        after_help = "\
Examples:
  kubectl eks-grant undo --dry-run
  kubectl eks-grant undo"
    )]
    Undo(UndoArgs),
    /// Move aws-auth's entries to EKS access entries, one mode step at a time, nobody locked out.
    #[command(
        override_usage = "kubectl eks-grant migrate [--to API_AND_CONFIG_MAP|API] [flags]",
        after_help = "\
Examples:
  # The plan, as a table; nothing is changed
  kubectl eks-grant migrate --dry-run

  # CONFIG_MAP -> API_AND_CONFIG_MAP, and an access entry for every aws-auth entry that can have one
  kubectl eks-grant migrate

  # ... then API, refused while anyone who gets in through aws-auth would lose access
  kubectl eks-grant migrate --to API"
    )]
    Migrate(MigrateArgs),
    /// Print a completion script for kubectl-eks_grant run directly (bash, zsh or fish).
    #[command(
        override_usage = "kubectl-eks_grant completion bash|zsh|fish",
        after_help = completion_help("eks-grant", BINARY),
    )]
    Completion(CompletionArgs),
}

/// The `__complete` answers of this plugin: the shared completer (contexts, `-o` values) plus the
/// preset names of `add --preset`.
pub fn completer() -> Completer {
    Completer::new(Cli::command()).values("preset", |_| {
        eks_auth::rbac::presets()
            .into_iter()
            // The first clause: "the built-in view ClusterRole: read most namespaced objects,
            // but not Secrets, Roles or RoleBindings", without "; in each --namespace, ...".
            .map(|p| {
                let short = p.description.split("; ").next().unwrap_or(p.description);
                Candidate::new(p.name).description(short)
            })
            .collect()
    })
}

#[derive(Debug, Clone, clap::Args)]
pub struct AddArgs {
    /// IAM user or role ARN; an assumed-role ARN (as `aws sts get-caller-identity` prints) is mapped as its role.
    #[arg(value_name = "ARN")]
    pub arn: String,
    /// Kubernetes username (default: the IAM user name; for a role `<role-name>:{{SessionName}}`).
    #[arg(long, value_name = "U")]
    pub username: Option<String>,
    /// Kubernetes group to put the identity in (repeatable). Default with --preset: a group of the preset and its scope (`eks-grant:view@team-a`), which nobody holds with another meaning.
    #[arg(long = "group", value_name = "G")]
    pub groups: Vec<String>,
    /// Create or update the RBAC binding the group to this preset (see `presets`).
    #[arg(long, value_name = "P")]
    pub preset: Option<String>,
    /// Bind the preset in these namespaces only (RoleBindings), for namespaced presets (repeatable).
    #[arg(long = "namespace", short = 'n', value_name = "NS")]
    pub namespaces: Vec<String>,
    /// Print the change as a unified diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Go ahead despite the lockout guard or an ARN from an account the cluster does not use.
    #[arg(long)]
    pub force: bool,
    /// Access entries: associate this AWS-managed access policy (name or ARN; repeatable).
    #[arg(long = "policy", value_name = "NAME|ARN")]
    pub policies: Vec<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct RevokeArgs {
    /// IAM user or role ARN (an assumed-role ARN revokes its role).
    #[arg(value_name = "ARN")]
    pub arn: String,
    /// Print the change as a unified diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Go ahead despite the lockout guard.
    #[arg(long)]
    pub force: bool,
    /// Access entries: disassociate only this access policy (name or ARN), keep the entry.
    #[arg(long, value_name = "NAME|ARN")]
    pub policy: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// IAM user, role or assumed-role ARN.
    #[arg(value_name = "ARN")]
    pub arn: String,
    /// Namespace for the namespaced questions.
    #[arg(
        long = "namespace",
        short = 'n',
        value_name = "NS",
        default_value = "default"
    )]
    pub namespace: String,
}

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    /// The mode to reach: API_AND_CONFIG_MAP (both stores count) or API (aws-auth ignored).
    #[arg(long, value_name = "MODE", default_value = "API_AND_CONFIG_MAP", value_parser = parse_mode)]
    pub to: eks_auth::access::AuthenticationMode,
    /// Print the plan and the steps, change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_mode(s: &str) -> Result<eks_auth::access::AuthenticationMode, String> {
    s.parse()
        .map_err(|e: eks_auth::access::mode::UnknownMode| e.to_string())
}

#[derive(Debug, clap::Args)]
pub struct UndoArgs {
    /// Print the change as a unified diff and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revert even when aws-auth was changed by something else than eks-grant since.
    #[arg(long)]
    pub force: bool,
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
    fn add_takes_the_contract_flags() {
        let cli = Cli::try_parse_from([
            "kubectl-eks_grant",
            "--context",
            "prod",
            "-o",
            "json",
            "add",
            "arn:aws:iam::111122223333:user/bob",
            "--username",
            "bob",
            "--group",
            "reader",
            "--group",
            "dev",
            "--preset",
            "view",
            "--namespace",
            "a",
            "--namespace",
            "b",
            "--dry-run",
        ])
        .unwrap();
        assert_eq!(cli.kube.context.as_deref(), Some("prod"));
        assert_eq!(cli.output.output, OutputFormat::Json);
        let Command::Add(add) = cli.command else {
            panic!("not add")
        };
        assert_eq!(add.arn, "arn:aws:iam::111122223333:user/bob");
        assert_eq!(add.username.as_deref(), Some("bob"));
        assert_eq!(add.groups, ["reader", "dev"]);
        assert_eq!(add.preset.as_deref(), Some("view"));
        assert_eq!(add.namespaces, ["a", "b"]);
        assert!(add.dry_run);
        assert!(!add.force);
    }

    #[test]
    fn global_flags_go_after_the_subcommand_too() {
        let cli = Cli::try_parse_from([
            "kubectl-eks_grant",
            "list",
            "-o",
            "yaml",
            "--kubeconfig",
            "/k",
        ])
        .unwrap();
        assert_eq!(cli.output.output, OutputFormat::Yaml);
        assert_eq!(
            cli.kube.kubeconfig.as_deref(),
            Some(std::path::Path::new("/k"))
        );
        assert!(matches!(cli.command, Command::List));
    }
}
