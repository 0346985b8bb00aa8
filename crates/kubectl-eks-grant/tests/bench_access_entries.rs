//! Benchmark (ignored by default): `kubectl eks-grant list` on 1,000 access entries each with
//! a policy, and `add`, against the stand-in EKS, beside the same reads made one call at a time
//! (as `aws eks` and eksctl make them).
//!
//! Run: `cargo build --workspace --bins && cargo nextest run -p kubectl-eks-grant --test
//! bench_access_entries --run-ignored only --no-capture`. Figures go to stderr; BENCHMARKS.md
//! keeps them.

use std::process::Command;
use std::time::{Duration, Instant};

use eks_auth::access::{AccessEntryType, AccessScope, AuthenticationMode, PolicyAssociation};
use eks_auth::eks::{EksClient, NewAccessEntry};
use eks_testbed::{Testbed, TestbedOptions};
use futures::StreamExt;

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_grant");
const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";
const N: usize = 1000;

fn grant(tb: &Testbed, args: &[&str]) -> (Duration, std::process::Output) {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", tb.dir().join("home"))
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null");
    for (k, v) in tb.env() {
        cmd.env(k, v);
    }
    let started = Instant::now();
    let out = cmd.args(args).output().unwrap();
    let took = started.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (took, out)
}

async fn client(tb: &Testbed) -> EksClient {
    let keys = &tb.creator().unwrap().keys;
    let config = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(tb.aws_endpoint().unwrap())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            keys.access_key_id.clone(),
            keys.secret_access_key.clone(),
            None,
            None,
            "bench",
        ))
        .load()
        .await;
    EksClient::new(&config, tb.cluster_name())
}

#[test]
#[ignore = "benchmark: run with --run-ignored only"]
fn bench_list_and_add_on_1000_entries() {
    let tb = Testbed::start(TestbedOptions {
        auth_mode: AuthenticationMode::Api,
        ..TestbedOptions::default()
    })
    .unwrap();
    let setup = Instant::now();
    let users: Vec<String> = (0..N)
        .map(|i| tb.create_user(&format!("u{i:04}")).unwrap().arn)
        .collect();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let eks = rt.block_on(client(&tb));
    rt.block_on(async {
        let made: Vec<()> = futures::stream::iter(users.iter())
            .map(|arn| {
                let eks = &eks;
                async move {
                    eks.create_access_entry(&NewAccessEntry {
                        principal_arn: arn.parse().unwrap(),
                        entry_type: AccessEntryType::Standard,
                        username: None,
                        kubernetes_groups: Vec::new(),
                    })
                    .await
                    .unwrap();
                    eks.associate_access_policy(
                        arn,
                        &PolicyAssociation {
                            policy_arn: VIEW.into(),
                            scope: AccessScope::Cluster,
                        },
                    )
                    .await
                    .unwrap();
                }
            })
            .buffer_unordered(16)
            .collect()
            .await;
        assert_eq!(made.len(), N);
    });
    eprintln!(
        "setup: {N} users, entries and associations in {:.1?}",
        setup.elapsed()
    );

    // kubectl eks-grant list: three runs.
    let mut runs = Vec::new();
    for _ in 0..3 {
        let (took, out) = grant(&tb, &["list", "-o", "json"]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let with_policy = v["mappings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["policies"][0] == "AmazonEKSViewPolicy (cluster)")
            .count();
        assert_eq!(with_policy, N);
        runs.push(took);
    }
    eprintln!("eks-grant list ({} entries + creator): {runs:.2?}", N);

    // kubectl eks-grant add: three new principals.
    let mut adds = Vec::new();
    for i in 0..3 {
        let arn = tb.create_user(&format!("new{i}")).unwrap().arn;
        let (took, _) = grant(&tb, &["add", &arn, "--preset", "view", "-n", "team-a"]);
        adds.push(took);
    }
    eprintln!("eks-grant add: {adds:.2?}");

    // The same reads one call at a time (what eksctl's and the aws CLI's loops do), in-process.
    let started = Instant::now();
    rt.block_on(async {
        let all = eks.list_access_entries(None).await.unwrap();
        for p in &all {
            eks.describe_access_entry(p).await.unwrap();
            eks.list_associated_access_policies(p).await.unwrap();
        }
    });
    eprintln!(
        "sequential SDK calls (list + describe + policies each): {:.2?}",
        started.elapsed()
    );

    // The aws CLI: one process per call; 20 calls timed, the per-call mean extrapolated.
    let keys = tb.creator().unwrap().keys.clone();
    let started = Instant::now();
    for u in users.iter().take(20) {
        let out = tb
            .aws_cli(
                &keys,
                &[
                    "eks",
                    "list-associated-access-policies",
                    "--cluster-name",
                    tb.cluster_name(),
                    "--principal-arn",
                    u,
                ],
            )
            .unwrap();
        assert!(out.status.success());
    }
    let per_call = started.elapsed() / 20;
    eprintln!(
        "aws eks list-associated-access-policies: {per_call:.2?} per call; {} calls (list + describe + policies per entry) would take ~{:.0?}",
        2 * N + 1,
        per_call * (2 * N as u32 + 1)
    );
}
