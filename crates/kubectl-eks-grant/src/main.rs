//! `kubectl eks-grant`: give an IAM user or role access to an EKS cluster in one safe step.

mod cli;
mod diff;
mod request;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let _ = cli;
    ExitCode::SUCCESS
}
