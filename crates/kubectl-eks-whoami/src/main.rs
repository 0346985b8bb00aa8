//! `kubectl eks-whoami`: who am I in AWS and in the cluster, which mapping made me so, and
//! what may I do.

mod aws_identity;
mod cli;
mod diagnose;
mod exec;
mod kubeconfig;
mod mapping_view;
mod permissions;
mod progress;
mod render;
mod report;
mod run;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use crate::run::Outcome;

/// Exit status when the caller is not authenticated (401, or no credentials).
const EXIT_UNAUTHENTICATED: u8 = 2;
/// Exit status of any other failure.
const EXIT_FAILURE: u8 = 1;

fn main() -> ExitCode {
    // kubectl's completion helper (`kubectl_complete-eks_whoami`): answered before any parsing.
    if let Some(code) = eks_auth::cli::complete::run_if_requested(cli::completer) {
        return code;
    }
    let cli = cli::Cli::parse();
    if let Some(cli::Command::Completion(args)) = &cli.command {
        let mut stdout = std::io::stdout().lock();
        eks_auth::cli::write_completion_script(
            args.shell,
            cli::Cli::command(),
            cli::BINARY,
            &mut stdout,
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            eprintln!("error: starting the async runtime: {err}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let progress = progress::Progress::new(cli.all);
    let result = runtime.block_on(run::run(&cli, &progress));
    progress.done();
    let (report, outcome) = match result {
        Ok(r) => r,
        Err(err) => {
            eprintln!("error: {err:#}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let color = std::io::stdout().is_terminal() && !eks_auth::env::is_set(eks_auth::env::NO_COLOR);
    let text = match render::render(&report, cli.output.output, color) {
        Ok(t) => t,
        Err(err) => {
            eprintln!("error: rendering the report: {err:#}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    match eks_auth::cli::write_stdout(&text) {
        Ok(()) => {}
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    }
    match outcome {
        Outcome::Identified => ExitCode::SUCCESS,
        Outcome::Unauthenticated => {
            eprintln!(
                "error: not authenticated to context `{}`: see the diagnosis above",
                report.context.name
            );
            ExitCode::from(EXIT_UNAUTHENTICATED)
        }
    }
}
