//! `eks-testbed up --dir DIR`: the stand-in EKS in the foreground, for a shell.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use eks_testbed::{Testbed, TestbedOptions};

#[derive(Debug, Parser)]
#[command(
    name = "eks-testbed",
    version,
    about = "The stand-in EKS: moto on loopback and a Kubernetes API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Start the AWS side and the API server, write DIR/env and DIR/ready, serve until killed.
    Up(UpArgs),
}

#[derive(Debug, clap::Args)]
struct UpArgs {
    /// Directory for env, kubeconfig, ca.pem, aws.log and ready (created if missing).
    #[arg(long)]
    dir: PathBuf,
    /// Name of the EKS cluster.
    #[arg(long, default_value = "testbed")]
    cluster_name: String,
    /// AWS region of the cluster.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// API server port (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accept a fixed bearer token: TOKEN=user:group1,group2 (repeatable).
    #[arg(long = "static-token", value_name = "TOKEN=USER:GROUPS")]
    static_tokens: Vec<String>,
    /// Append every request (method, path, query, user, status) as a JSON line to FILE.
    #[arg(long, value_name = "FILE")]
    request_log: Option<PathBuf>,
    /// Start without the aws-auth ConfigMap (as a cluster without node groups).
    #[arg(long)]
    no_aws_auth: bool,
    /// The cluster's authentication mode: which of aws-auth and EKS access entries count. In
    /// API_AND_CONFIG_MAP and API the creator gets an access entry with
    /// AmazonEKSClusterAdminPolicy; the mode moves forward later with
    /// `aws eks update-cluster-config --access-config authenticationMode=...`.
    #[arg(long, value_name = "MODE", default_value = "CONFIG_MAP",
          value_parser = ["CONFIG_MAP", "API_AND_CONFIG_MAP", "API"])]
    auth_mode: String,
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let Cmd::Up(args) = cli.command;
    let ready = args.dir.join("ready");
    // A stale marker from an earlier run must not announce this one early.
    let _ = std::fs::remove_file(&ready);
    let testbed = Testbed::start(TestbedOptions {
        cluster_name: args.cluster_name.clone(),
        region: args.region,
        dir: Some(args.dir.clone()),
        port: args.port,
        static_tokens: args.static_tokens,
        request_log_file: args.request_log,
        seed_aws_auth: !args.no_aws_auth,
        aws: true,
        auth_mode: args.auth_mode.parse().context("reading --auth-mode")?,
        aws_log_to_stderr: false,
        ..TestbedOptions::default()
    })
    .with_context(|| {
        format!(
            "starting the stand-in EKS cluster `{}` in `{}`",
            args.cluster_name,
            args.dir.display()
        )
    })?;
    if testbed.kubeconfig_uses_static_token() {
        eprintln!(
            "eks-testbed: kubectl-eks_token is not built, so {} uses a static token for the cluster creator\n\nhint: run `cargo build --workspace --bins` and restart for the exec credential plugin",
            testbed.kubeconfig().display()
        );
    }
    std::fs::write(&ready, "").with_context(|| format!("writing `{}`", ready.display()))?;
    eprintln!(
        "eks-testbed: cluster `{}` at {} (AWS at {}), ready in {:.2} s\n\n    source {}\n\nCtrl-C stops it.",
        testbed.cluster_name(),
        testbed.server_url(),
        testbed.aws_endpoint().unwrap_or_default(),
        testbed.started_in().as_secs_f64(),
        args.dir.join("env").display(),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("building the runtime")?;
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("listening for SIGTERM")?;
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
        anyhow::Ok(())
    })?;
    let _ = std::fs::remove_file(&ready);
    drop(testbed);
    eprintln!("eks-testbed: stopped");
    Ok(())
}
