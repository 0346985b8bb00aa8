//! Benchmark (not a test): `kubectl-eks_grant add` into an aws-auth of 5,000 entries.
//!
//! Measures the client's CPU time (user + system of the child process, from the `cutime` and
//! `cstime` fields of `/proc/self/stat`, 10 ms ticks) and counts the requests the stand-in API
//! server logged per run. Run with:
//!
//! ```sh
//! cargo build --release -p kubectl-eks-grant --bins --examples
//! $CARGO_TARGET_DIR/release/examples/bench_grant [RUNS]
//! ```

use std::collections::BTreeMap;
use std::process::Command;
use std::time::Instant;

use eks_testbed::{Creds, Testbed, TestbedOptions};
use serde_json::json;

const ENTRIES: usize = 5_000;

/// (cutime + cstime) of this process, in clock ticks (USER_HZ = 100 on Linux).
fn children_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the `(comm)`: state is field 3; cutime and cstime are fields 16 and 17.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    fields[13].parse::<u64>().unwrap() + fields[14].parse::<u64>().unwrap()
}

fn main() {
    let runs: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(10);
    let bin = std::env::current_exe()
        .unwrap()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("kubectl-eks_grant");
    assert!(
        bin.exists(),
        "build the binary first: cargo build --release -p kubectl-eks-grant --bins --examples ({})",
        bin.display()
    );
    let tb = Testbed::start(TestbedOptions {
        static_tokens: vec!["bench-admin=admin:system:masters".to_owned()],
        aws: false,
        ..TestbedOptions::default()
    })
    .expect("testbed");
    let kubeconfig = tb.dir().join("bench-kubeconfig");
    std::fs::write(
        &kubeconfig,
        tb.kubeconfig_for(&Creds::Token("bench-admin".to_owned()), false),
    )
    .unwrap();

    let mut roles = String::new();
    let mut users = String::new();
    for i in 0..ENTRIES / 2 {
        roles.push_str(&format!(
            "- rolearn: arn:aws:iam::123456789012:role/team-{i:05}\n  username: team-{i:05}:{{{{SessionName}}}}\n  groups:\n    - team-{}\n",
            i % 50
        ));
        users.push_str(&format!(
            "- userarn: arn:aws:iam::123456789012:user/user-{i:05}\n  username: user-{i:05}\n  groups:\n    - readers\n"
        ));
    }
    let data = BTreeMap::from([("mapRoles", roles), ("mapUsers", users)]);
    let bytes: usize = data.values().map(String::len).sum();
    tb.put_object(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"}, "data": data}))
        .unwrap();

    let mut cpu_ms = Vec::new();
    let mut wall_ms = Vec::new();
    let mut requests = Vec::new();
    for run in 0..runs {
        let arn = format!("arn:aws:iam::123456789012:user/bench-{run:03}");
        let logged = tb.request_log().len();
        let ticks = children_cpu_ticks();
        let began = Instant::now();
        let out = Command::new(&bin)
            .env_clear()
            .env("HOME", tb.dir().join("home"))
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--backend", "aws-auth", "add", &arn, "--group", "bench"])
            .output()
            .unwrap();
        wall_ms.push(began.elapsed().as_secs_f64() * 1000.0);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        cpu_ms.push((children_cpu_ticks() - ticks) as f64 * 10.0);
        let log = tb.request_log();
        let mine: Vec<String> = log[logged..]
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect();
        requests.push(mine);
    }
    cpu_ms.sort_by(f64::total_cmp);
    wall_ms.sort_by(f64::total_cmp);
    let median = |v: &[f64]| v[v.len() / 2];
    eprintln!("aws-auth: {ENTRIES} entries, {bytes} bytes; {runs} runs of `add`");
    eprintln!(
        "client CPU (user+sys): median {:.0} ms, min {:.0} ms, max {:.0} ms",
        median(&cpu_ms),
        cpu_ms[0],
        cpu_ms[runs - 1]
    );
    eprintln!(
        "wall: median {:.0} ms, min {:.0} ms, max {:.0} ms",
        median(&wall_ms),
        wall_ms[0],
        wall_ms[runs - 1]
    );
    eprintln!("requests of the last run ({}):", requests[runs - 1].len());
    for r in &requests[runs - 1] {
        eprintln!("  {r}");
    }
}
