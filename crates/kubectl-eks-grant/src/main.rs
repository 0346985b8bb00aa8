//! `kubectl eks-grant`: give an IAM user or role access to an EKS cluster in one safe step.
//!
//! Thin main: parse, validate into domain types, build a current-thread runtime, run, map the
//! result to an exit code (0 success, also for "unchanged"; 1 error; 2 usage).

mod backend;
mod cli;
mod commands;
mod diff;
mod output;
mod plan;
mod rbac_io;
mod rbac_plan;
mod report;
mod request;
mod shared_group;

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use eks_auth::cli::write_completion_script;
use eks_auth::kube::connect_with;

use crate::backend::Backend;
use crate::cli::{Cli, Command};
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

fn run(cli: Cli) -> Result<()> {
    let format = cli.output.output;
    // Validated before any I/O.
    enum Req {
        Add(Grant),
        Revoke(Revoke),
        List,
        Check(Check),
        Undo(bool, bool),
    }
    let req = match cli.command {
        Command::Presets => return commands::presets::run(format),
        Command::Completion(c) => {
            let mut stdout = std::io::stdout().lock();
            write_completion_script(c.shell, Cli::command(), cli::BINARY, &mut stdout);
            return Ok(());
        }
        Command::Add(a) => Req::Add(Grant::from_args(a)?),
        Command::Revoke(r) => Req::Revoke(Revoke::from_args(r)?),
        Command::List => Req::List,
        Command::Check(c) => Req::Check(Check::from_args(c)?),
        Command::Undo(u) => Req::Undo(u.dry_run, u.force),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the runtime")?;
    runtime.block_on(async {
        let cluster = connect_with(&cli.kube.target()).await?;
        let backend = Backend::select(&cluster, &cli.store).await?;
        match req {
            Req::Add(g) => commands::add::run(&cluster, &backend, format, g).await,
            Req::Revoke(r) => commands::revoke::run(&cluster, &backend, format, r).await,
            Req::List => commands::list::run(&cluster, &backend, format).await,
            Req::Check(c) => commands::check::run(&cluster, &backend, format, &c).await,
            Req::Undo(dry_run, force) => {
                commands::undo::run(&cluster, &backend, format, dry_run, force).await
            }
        }
    })
}
