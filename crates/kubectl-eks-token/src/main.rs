//! `kubectl-eks_token`: EKS bearer tokens for kubectl's exec credential plugin protocol.
//!
//! Thin main: parse, dispatch, map the result to an exit code. Nothing runs before argument
//! parsing, and the token path starts an async runtime only when it must talk to AWS.

mod cache;
mod cli;
mod get_token;
mod kubeconfig;
mod verify;

use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context, Result};
use clap::{CommandFactory, Parser};
use eks_auth::cli::write_completion_script;

use crate::cli::{CacheCommand, Cli, Command};

fn main() -> ExitCode {
    // kubectl's completion helper (`kubectl_complete-eks_token`): answered before any parsing.
    if let Some(code) = eks_auth::cli::complete::run_if_requested(cli::completer) {
        return code;
    }
    let cli = Cli::parse();
    let result = match cli.command {
        None => get_token::run(cli.token),
        Some(Command::UpdateKubeconfig(args)) => kubeconfig::run(args),
        Some(Command::Verify(args)) => verify::run(args),
        Some(Command::Cache { command }) => run_cache(command),
        Some(Command::Completion(args)) => {
            let mut stdout = std::io::stdout().lock();
            write_completion_script(args.shell, Cli::command(), cli::BINARY, &mut stdout);
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => eks_auth::cli::fail(err.as_ref(), eks_auth::cli::exit::FAILURE),
    }
}

fn run_cache(command: CacheCommand) -> Result<()> {
    let dir =
        get_token::default_cache_dir().context("HOME is not set: no token cache directory")?;
    let cache = cache::Cache::open(dir)?;
    let mut out = String::new();
    match command {
        CacheCommand::Clear => {
            let n = cache.clear()?;
            eprintln!("removed {n} cached token(s) from {}", cache.dir().display());
        }
        CacheCommand::List => {
            let now = SystemTime::now();
            for (key, entry) in cache.list()? {
                let short = &key[..key.len().min(16)];
                match entry {
                    Ok(e) => {
                        let state = if cache::is_fresh(e.expiration(), now) {
                            "fresh"
                        } else if e.expiration() > now {
                            "expiring"
                        } else {
                            "expired"
                        };
                        let expires = eks_auth::time::rfc3339(e.expiration());
                        out.push_str(&format!(
                            "{short}  {state:<8}  {expires}  cluster={} region={} profile={} role={}\n",
                            e.cluster,
                            e.region,
                            e.profile.as_deref().unwrap_or("-"),
                            e.role_arn.as_deref().unwrap_or("-"),
                        ));
                    }
                    Err(why) => out.push_str(&format!("{short}  {why}\n")),
                }
            }
        }
    }
    get_token::write_stdout(&out)
}
