//! `kubectl eks-grant`: give an IAM user or role access to an EKS cluster in one safe step.
//!
//! Thin main: parse, validate into domain types, build a current-thread runtime, run, map the
//! result to an exit code (0 success, also for "unchanged"; 1 error; 2 usage).

mod access_entries;
mod backend;
mod cli;
mod commands;
mod diff;
mod migrate;
mod output;
mod plan;
mod rbac_io;
mod rbac_plan;
mod report;
mod request;
mod shared_group;
mod store;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use eks_auth::cli::write_completion_script;
use eks_auth::kube::connect_with;

use crate::backend::Backend;
use crate::cli::{AddArgs, Cli, Command, RevokeArgs};
use crate::request::{Check, Grant, Revoke};

fn main() -> ExitCode {
    // kubectl's completion helper (`kubectl_complete-eks_grant`): answered before any parsing.
    if let Some(code) = eks_auth::cli::complete::run_if_requested(cli::completer) {
        return code;
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => eks_auth::cli::fail(err.as_ref(), eks_auth::cli::exit::FAILURE),
    }
}

/// A command that writes: each store has its own.
enum Write {
    Add(Grant, AddArgs),
    Revoke(Revoke, RevokeArgs),
    Undo { dry_run: bool, force: bool },
}

/// A command that needs the cluster, validated before any I/O. `add` and `revoke` keep their
/// arguments too: on access entries they are validated again as an access-entry request
/// (`--policy`, no `system:` groups).
enum Req {
    /// What both stores answer through the seam.
    List,
    Check(Check),
    Write(Box<Write>),
    Migrate(eks_auth::access::AuthenticationMode, bool),
}

fn run(cli: Cli) -> Result<()> {
    let format = cli.output.output;
    let req = match cli.command {
        Command::Presets => return commands::presets::run(format),
        Command::Completion(c) => {
            let mut stdout = std::io::stdout().lock();
            write_completion_script(c.shell, Cli::command(), cli::BINARY, &mut stdout);
            return Ok(());
        }
        Command::Add(a) => Req::Write(Box::new(Write::Add(Grant::from_args(a.clone())?, a))),
        Command::Revoke(r) => Req::Write(Box::new(Write::Revoke(Revoke::from_args(r.clone())?, r))),
        Command::List => Req::List,
        Command::Check(c) => Req::Check(Check::from_args(c)?),
        Command::Undo(u) => Req::Write(Box::new(Write::Undo {
            dry_run: u.dry_run,
            force: u.force,
        })),
        Command::Migrate(m) => Req::Migrate(m.to, m.dry_run),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let cluster = connect_with(&cli.kube.target()).await?;
        let write = match req {
            Req::Migrate(to, dry_run) => {
                return migrate::migrate(&cluster, &cli.store, format, to, dry_run).await;
            }
            Req::List => {
                let backend = Backend::select(&cluster, &cli.store).await?;
                return commands::list::run(&cluster, &backend, format).await;
            }
            Req::Check(c) => {
                let backend = Backend::select(&cluster, &cli.store).await?;
                return commands::check::run(&cluster, &backend, format, &c).await;
            }
            Req::Write(w) => *w,
        };
        match Backend::select(&cluster, &cli.store).await? {
            // On aws-auth, the writing commands take the store itself.
            Backend::AwsAuth(store) => match write {
                Write::Add(g, a) => {
                    aws_auth_only(&a.policies)?;
                    commands::add::run(&cluster, &store, format, g).await
                }
                Write::Revoke(r, args) => {
                    aws_auth_only(args.policy.as_slice())?;
                    commands::revoke::run(&cluster, &store, format, r).await
                }
                Write::Undo { dry_run, force } => {
                    commands::undo::run(&cluster, &store, format, dry_run, force).await
                }
            },
            // On access entries, they are the access-entry commands (IAM role paths, --policy,
            // the lockout guard, the undo journal). The backend's EKS client and DescribeCluster
            // answer are passed on, not asked again.
            Backend::AccessEntries(entries) => {
                let target = store::connect_eks(&cli.store, &cluster, Some(entries.eks())).await?;
                match write {
                    Write::Add(_, a) => access_entries::add(&cluster, &target, format, &a).await,
                    Write::Revoke(_, r) => {
                        access_entries::revoke(&cluster, &target, format, &r).await
                    }
                    // The later change of either store; aws-auth only when the mode reads it
                    // and `--backend access-entries` did not limit undo to access entries.
                    Write::Undo { dry_run, force } => {
                        let with_aws_auth = cli.store.backend == cli::BackendChoice::Auto
                            && target.mode().uses_aws_auth();
                        commands::undo::run_either(
                            &cluster,
                            &target,
                            with_aws_auth,
                            format,
                            dry_run,
                            force,
                        )
                        .await
                    }
                }
            }
        }
    })
}

/// `--policy` is an access-entry flag.
fn aws_auth_only(policies: &[String]) -> Result<()> {
    if let Some(p) = policies.first() {
        anyhow::bail!(
            "`--policy {p}` associates an EKS access policy, but this command edits aws-auth\n\nhint: on a cluster in API or API_AND_CONFIG_MAP mode leave out `--backend aws-auth`; on a CONFIG_MAP cluster use `--preset` (or `kubectl eks-grant migrate` first)"
        );
    }
    Ok(())
}
