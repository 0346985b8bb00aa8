//! `kubectl-eks_token`: EKS bearer tokens for kubectl's exec credential plugin protocol.
//!
//! Thin main: parse, dispatch, map the result to an exit code. Nothing runs before argument
//! parsing, and the token path starts an async runtime only when it must talk to AWS.

mod adopt;
mod cache;
mod cli;
mod get_token;
mod kubeconfig;
mod secure_fs;
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
        Some(Command::Adopt(args)) => adopt::run(args),
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

/// `cache list` as kubectl prints tables: upper-case headers, borderless columns two spaces
/// apart. The first row is the header. Never the token.
fn cache_rows(
    entries: &[(String, Result<cache::Entry, cache::Rejected>)],
    now: SystemTime,
) -> Vec<Vec<String>> {
    let mut rows = vec![
        [
            "KEY", "STATE", "EXPIRES", "CLUSTER", "REGION", "PROFILE", "ROLE",
        ]
        .map(str::to_owned)
        .to_vec(),
    ];
    for (key, entry) in entries {
        let short = key[..key.len().min(16)].to_owned();
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
                rows.push(vec![
                    short,
                    state.to_owned(),
                    expires,
                    e.cluster.clone(),
                    e.region.clone(),
                    e.profile.clone().unwrap_or_else(|| "-".to_owned()),
                    e.role_arn.clone().unwrap_or_else(|| "-".to_owned()),
                ]);
            }
            Err(why) => {
                let mut row = vec![short, why.to_string()];
                row.resize(7, "-".to_owned());
                rows.push(row);
            }
        }
    }
    rows
}

fn render_columns(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .map(|r| r.get(i).map_or(0, |c| c.chars().count()))
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                line.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
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
            let rows = cache_rows(&cache.list()?, SystemTime::now());
            if rows.len() == 1 {
                eprintln!("no cached tokens in {}", cache.dir().display());
                return Ok(());
            }
            out = render_columns(&rows);
        }
    }
    get_token::write_stdout(&out)
}
