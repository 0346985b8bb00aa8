//! `kubectl eks-whoami`: who am I in AWS and in the cluster, which mapping made me so, and
//! what may I do.

mod access_diagnosis;
mod access_io;
mod access_view;
mod aws_identity;
mod bindings_view;
mod cli;
mod diagnose;
mod exec;
mod kubeconfig;
mod mapping_view;
mod permissions;
mod permissions_view;
mod policy_probe;
mod progress;
mod render;
mod report;
mod run;

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::CommandFactory;

use crate::run::Outcome;

// Exit statuses, one per outcome (README, "Exit status"). 2 keeps its documented meaning, so
// usage errors take sysexits' `EX_USAGE` instead of clap's 2.
/// Any failure without a code of its own (kubeconfig unreadable, API server unreachable, ...).
const EXIT_FAILURE: u8 = eks_auth::cli::exit::FAILURE;
/// Not authenticated: the API server answered 401, or no token could be made.
const EXIT_UNAUTHENTICATED: u8 = 2;
/// The context's exec credential plugin is not installed (or not on PATH).
const EXIT_PLUGIN_MISSING: u8 = 3;
/// The command line was wrong (unknown flag, bad value).
const EXIT_USAGE: u8 = 64;

fn main() -> ExitCode {
    // kubectl's completion helper (`kubectl_complete-eks_whoami`): answered before any parsing.
    if let Some(code) = eks_auth::cli::complete::run_if_requested(cli::completer) {
        return code;
    }
    let cli = match eks_auth::cli::parse_or_exit::<cli::Cli>(EXIT_USAGE) {
        Ok(cli) => cli,
        Err(code) => return code,
    };
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
        Err(err) => return eks_auth::cli::fail(err.as_ref(), EXIT_FAILURE),
    };
    let color = std::io::stdout().is_terminal() && !eks_auth::env::is_set(eks_auth::env::NO_COLOR);
    let text = match render::render(
        &report,
        cli.output.output,
        color,
        eks_auth::cli::table::terminal_width(),
    ) {
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
        Outcome::PluginMissing => {
            eprintln!(
                "error: the credential plugin of context `{}` is not installed: see the diagnosis above",
                report.context.name
            );
            ExitCode::from(EXIT_PLUGIN_MISSING)
        }
    }
}
