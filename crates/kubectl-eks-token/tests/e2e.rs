//! End-to-end: the real `kubectl-eks_token` (and real kubectl, and the real AWS CLI for the
//! kubeconfig it writes) against the stand-in EKS.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use eks_testbed::{AwsKeys, Testbed, TestbedOptions};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_kubectl-eks_token");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[track_caller]
fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// PATH with this build's `kubectl-eks_token` first (the adopted stanzas name it bare).
fn path_with_plugin() -> String {
    let dir = Path::new(BIN).parent().unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// A hermetic command: PATH (with the plugin), HOME, the keys, and `extra`.
fn command(program: &str, home: &Path, keys: &AwsKeys, extra: &[(&str, &str)]) -> Command {
    let mut c = Command::new(program);
    c.env_clear()
        .env("PATH", path_with_plugin())
        .env("HOME", home)
        .env("AWS_ACCESS_KEY_ID", &keys.access_key_id)
        .env("AWS_SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in extra {
        c.env(k, v);
    }
    c
}

fn whoami(kc: &Path, context: &str, home: &Path, keys: &AwsKeys, extra: &[(&str, &str)]) -> Value {
    let out = command("kubectl", home, keys, extra)
        .args(["--kubeconfig"])
        .arg(kc)
        .args(["--context", context, "auth", "whoami", "-o", "json"])
        .output()
        .expect("kubectl runs");
    serde_json::from_str::<Value>(&ok(&out)).unwrap()["status"]["userInfo"].clone()
}

struct Bed {
    tb: Testbed,
    home: PathBuf,
    kc: PathBuf,
    keys: AwsKeys,
    endpoint: String,
}

fn aws(bed: &Bed, args: &[&str]) {
    let out = command(
        "aws",
        &bed.home,
        &bed.keys,
        &[("AWS_ENDPOINT_URL", &bed.endpoint)],
    )
    .args(args)
    .output()
    .expect("the AWS CLI runs");
    ok(&out);
}

fn adopt(bed: &Bed, args: &[&str]) -> Output {
    command(BIN, &bed.home, &bed.keys, &[])
        .arg("adopt")
        .arg("--kubeconfig")
        .arg(&bed.kc)
        .args(args)
        .output()
        .expect("kubectl-eks_token runs")
}

fn start() -> Bed {
    let tb = Testbed::start(TestbedOptions::default()).expect("testbed starts");
    let home = tb.dir().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let keys = tb.creator().unwrap().keys.clone();
    let endpoint = tb.aws_endpoint().unwrap();
    let kc = home.join("config");
    Bed {
        tb,
        home,
        kc,
        keys,
        endpoint,
    }
}

/// The README's promise for `adopt`: a kubeconfig written by the real `aws eks
/// update-kubeconfig` (a static-key context and a `--role-arn` context), plus an
/// aws-iam-authenticator user and one that cannot be translated, is moved with the same
/// identity, everything else byte for byte, and `--revert` restores it byte for byte.
#[test]
fn adopt_moves_aws_cli_contexts_with_the_same_identity_and_reverts() {
    let bed = start();
    let tb = &bed.tb;
    let role = tb.create_role("adopt-admin", "/").unwrap();
    let map_roles = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap()["data"]["mapRoles"]
        .as_str()
        .unwrap()
        .to_owned();
    tb.put_object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": format!("{map_roles}- rolearn: {}\n  username: adopter\n  groups: [adopters]\n", role.arn)},
    }))
    .unwrap();

    aws(
        &bed,
        &[
            "eks",
            "update-kubeconfig",
            "--name",
            "testbed",
            "--region",
            "us-east-1",
            "--kubeconfig",
            bed.kc.to_str().unwrap(),
            "--alias",
            "static",
        ],
    );
    aws(
        &bed,
        &[
            "eks",
            "update-kubeconfig",
            "--name",
            "testbed",
            "--region",
            "us-east-1",
            "--kubeconfig",
            bed.kc.to_str().unwrap(),
            "--alias",
            "role",
            "--role-arn",
            &role.arn,
            "--user-alias",
            "role-user",
        ],
    );
    let written = std::fs::read_to_string(&bed.kc).unwrap();
    assert!(written.contains("      command: aws\n"), "{written}");
    assert!(
        written.contains("      - --role\n"),
        "awscli v1 writes `--role`: {written}"
    );
    // Two users the AWS CLI did not write: an aws-iam-authenticator one, and one with a flag
    // kubectl-eks_token has no equivalent for.
    let cluster_arn = tb.cluster_arn();
    let before = format!(
        "{written}- name: authenticator
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws-iam-authenticator   # as eksctl wrote it
      args: [token, -i, testbed, --region, us-east-1]
- name: odd
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [eks, get-token, --cluster-name, testbed, --endpoint-url, https://sts.example]
"
    )
    .replace(
        "current-context: role\n",
        &format!(
            "- context:\n    cluster: {cluster_arn}\n    user: authenticator\n  name: authenticator\n\
             - context:\n    cluster: {cluster_arn}\n    user: odd\n  name: odd\ncurrent-context: role\n"
        ),
    );
    std::fs::write(&bed.kc, &before).unwrap();
    std::fs::set_permissions(&bed.kc, std::fs::Permissions::from_mode(0o640)).unwrap();

    // aws eks get-token presigns for AWS_ENDPOINT_URL when it is set, which no STS would
    // accept: its own static-key stanza runs without one.
    let static_before = whoami(&bed.kc, "static", &bed.home, &bed.keys, &[]);
    assert_eq!(static_before["username"], "kubernetes-admin");

    // --dry-run: the diff on stdout, nothing written.
    let dry = adopt(&bed, &["--all", "--dry-run"]);
    let diff = ok(&dry);
    assert!(
        diff.contains("-      command: aws\n+      command: kubectl-eks_token\n"),
        "{diff}"
    );
    assert!(text(&dry.stderr).ends_with("3 contexts would move (dry run: nothing written)\n"));
    assert_eq!(std::fs::read_to_string(&bed.kc).unwrap(), before);

    let out = adopt(&bed, &["--all"]);
    assert_eq!(ok(&out), "");
    let report = text(&out.stderr);
    assert!(report.contains(&format!(
        "moved user `role-user` (context `role`): aws eks get-token -> kubectl-eks_token --cluster-name testbed --region us-east-1 --role-arn {}\n",
        role.arn
    )), "{report}");
    assert!(report.contains("moved user `authenticator` (context `authenticator`): aws-iam-authenticator token -> kubectl-eks_token --cluster-name testbed --region us-east-1\n"), "{report}");
    assert!(
        report.contains(
            "left user `odd` (context `odd`) as it is: unknown argument `--endpoint-url`\n"
        ),
        "{report}"
    );
    assert!(
        report.contains(&format!(
            "3 contexts moved to kubectl-eks_token in {}",
            bed.kc.display()
        )),
        "{report}"
    );
    let after = std::fs::read_to_string(&bed.kc).unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&bed.kc), 0o640, "the file's mode is kept");
    let backup = PathBuf::from(format!("{}.before-adopt", bed.kc.display()));
    assert_eq!(mode(&backup), 0o600);
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);
    // Everything outside the adopted users' stanzas is byte for byte what it was.
    let tail = |s: &str| s[s.find("- name: odd\n").unwrap()..].to_owned();
    assert_eq!(tail(&after), tail(&before));
    assert_eq!(
        after[..after.find("users:\n").unwrap()],
        before[..before.find("users:\n").unwrap()]
    );

    // Same identity, now through kubectl-eks_token (the AWS CLI is not on the path it runs).
    let static_after = whoami(&bed.kc, "static", &bed.home, &bed.keys, &[]);
    assert_eq!(static_after, static_before);
    let authenticator = whoami(&bed.kc, "authenticator", &bed.home, &bed.keys, &[]);
    assert_eq!(authenticator, static_before);
    // The role is assumed through the stand-in's STS, with the AWS CLI's session name.
    let role_after = whoami(
        &bed.kc,
        "role",
        &bed.home,
        &bed.keys,
        &[("AWS_ENDPOINT_URL", &bed.endpoint)],
    );
    assert_eq!(role_after["username"], "adopter");
    assert_eq!(
        role_after["extra"]["sessionName"],
        json!(["EKSGetTokenAuth"])
    );
    assert_eq!(role_after["extra"]["canonicalArn"], json!([role.arn]));

    // A second run changes nothing and keeps the backup of the first.
    let again = adopt(&bed, &["--all"]);
    ok(&again);
    assert_eq!(
        text(&again.stderr),
        "left user `odd` (context `odd`) as it is: unknown argument `--endpoint-url`\n\
         0 contexts moved: 3 users already run kubectl-eks_token\n"
    );
    assert_eq!(std::fs::read_to_string(&bed.kc).unwrap(), after);
    assert_eq!(std::fs::read_to_string(&backup).unwrap(), before);

    let out = adopt(&bed, &["--revert"]);
    ok(&out);
    assert_eq!(std::fs::read(&bed.kc).unwrap(), before.as_bytes());
    assert_eq!(mode(&bed.kc), 0o640);
    assert!(!backup.exists());
    let nothing = adopt(&bed, &["--revert"]);
    assert!(!nothing.status.success());
    assert_eq!(text(&nothing.stdout), "");
    assert!(
        text(&nothing.stderr).starts_with("error: nothing to revert"),
        "{}",
        text(&nothing.stderr)
    );
}

fn map_roles(tb: &Testbed, entries: &[(&str, &str)]) {
    let mut map_roles = tb
        .get_object("ConfigMap", "kube-system", "aws-auth")
        .unwrap()["data"]["mapRoles"]
        .as_str()
        .unwrap()
        .to_owned();
    for (arn, user) in entries {
        map_roles.push_str(&format!(
            "- rolearn: {arn}\n  username: {user}\n  groups: [{user}]\n"
        ));
    }
    tb.put_object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "aws-auth", "namespace": "kube-system"},
        "data": {"mapRoles": map_roles},
    }))
    .unwrap();
}

/// A kubeconfig whose user runs this build's kubectl-eks_token with `args`.
fn exec_kubeconfig(tb: &Testbed, path: &Path, args: &[&str]) {
    let doc = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {
            "server": tb.server_url(),
            "certificate-authority-data": base64_encode(tb.ca_pem()),
        }}],
        "users": [{"name": "u", "user": {"exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": BIN, "args": args, "interactiveMode": "Never",
        }}}],
        "contexts": [{"name": "c", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "c",
    });
    std::fs::write(path, serde_json::to_string(&doc).unwrap()).unwrap();
}

fn base64_encode(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Issue 14: after editing `~/.aws/config` so that profile `dev` assumes another role, kubectl
/// must authenticate as the new role at once (as `aws eks get-token` does), not as the cached
/// old one.
#[test]
fn an_edited_profile_is_a_new_cache_key() {
    let bed = start();
    let tb = &bed.tb;
    let a = tb.create_role("profile-a", "/").unwrap();
    let b = tb.create_role("profile-b", "/").unwrap();
    map_roles(tb, &[(&a.arn, "role-a"), (&b.arn, "role-b")]);
    let aws_dir = bed.home.join(".aws");
    std::fs::create_dir_all(&aws_dir).unwrap();
    std::fs::write(
        aws_dir.join("credentials"),
        format!(
            "[base]\naws_access_key_id = {}\naws_secret_access_key = {}\n",
            bed.keys.access_key_id, bed.keys.secret_access_key
        ),
    )
    .unwrap();
    let config = |role: &str| {
        std::fs::write(
            aws_dir.join("config"),
            format!(
                "[profile dev]\nrole_arn = {role}\nsource_profile = base\nregion = us-east-1\n"
            ),
        )
        .unwrap();
    };
    let kc = bed.home.join("kc");
    exec_kubeconfig(tb, &kc, &["--cluster-name", "testbed", "--profile", "dev"]);
    // No keys in the environment: the profile decides.
    let run = || {
        let out = Command::new("kubectl")
            .env_clear()
            .env("PATH", path_with_plugin())
            .env("HOME", &bed.home)
            .env("AWS_ENDPOINT_URL", &bed.endpoint)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .arg("--kubeconfig")
            .arg(&kc)
            .args(["auth", "whoami", "-o", "json"])
            .output()
            .unwrap();
        serde_json::from_str::<Value>(&ok(&out)).unwrap()["status"]["userInfo"]["username"].clone()
    };
    config(&a.arn);
    assert_eq!(run(), "role-a");
    assert_eq!(run(), "role-a", "served from the cache");
    config(&b.arn);
    assert_eq!(
        run(),
        "role-b",
        "the edited profile assumes the other role at once"
    );
}

/// How many AssumeRole calls moto has answered (its state dump lists every assumed role).
fn assume_role_calls(endpoint: &str) -> usize {
    let out = Command::new("curl")
        .args(["-sf", &format!("{endpoint}/moto-api/data.json")])
        .output()
        .expect("curl runs");
    let data: Value = serde_json::from_slice(&ok_bytes(&out)).unwrap();
    data["sts"]["AssumedRole"].as_array().unwrap().len()
}

#[track_caller]
fn ok_bytes(out: &Output) -> Vec<u8> {
    ok(out);
    out.stdout.clone()
}

fn token_command(bed: &Bed, role: &str) -> Command {
    let mut c = command(
        BIN,
        &bed.home,
        &bed.keys,
        &[("AWS_ENDPOINT_URL", &bed.endpoint)],
    );
    c.args([
        "--cluster-name",
        "testbed",
        "--region",
        "us-east-1",
        "--role-arn",
        role,
    ]);
    c
}

/// Issue 14: 20 kubectl processes starting at once on a cold cache make one STS call between
/// them, and all print the same token.
#[test]
fn twenty_concurrent_cold_starts_make_one_sts_call() {
    let bed = start();
    let role = bed.tb.create_role("flight", "/").unwrap();
    assert_eq!(assume_role_calls(&bed.endpoint), 0);
    let started = std::time::Instant::now();
    let children: Vec<_> = (0..20)
        .map(|_| {
            token_command(&bed, &role.arn)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    eprintln!("20 cold starts in {:?}", started.elapsed());
    let mut tokens: Vec<String> = outputs
        .iter()
        .map(|o| {
            let v: Value = serde_json::from_str(&ok(o)).unwrap();
            v["status"]["token"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        assume_role_calls(&bed.endpoint),
        1,
        "one AssumeRole for 20 processes"
    );
    tokens.dedup();
    assert_eq!(tokens.len(), 1, "every process printed the leader's token");
}

/// A stuck leader (here: the test holds the lock) costs a cold start at most the bounded wait;
/// then the process signs on its own.
#[test]
fn a_stuck_leader_delays_a_cold_start_by_at_most_the_wait() {
    let bed = start();
    let role = bed.tb.create_role("stuck", "/").unwrap();
    ok(&token_command(&bed, &role.arn).output().unwrap());
    let cache = bed.home.join(".kube/cache/eks-token");
    let lock = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "lock"))
        .expect("the first run left its lock file");
    for entry in std::fs::read_dir(&cache).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "json") {
            std::fs::remove_file(p).unwrap();
        }
    }
    let held = std::fs::OpenOptions::new().write(true).open(&lock).unwrap();
    held.lock().unwrap();
    let started = std::time::Instant::now();
    let out = token_command(&bed, &role.arn).output().unwrap();
    let took = started.elapsed();
    ok(&out);
    assert_eq!(assume_role_calls(&bed.endpoint), 2, "signed on its own");
    assert!(
        took >= std::time::Duration::from_millis(1500),
        "waited for the leader: {took:?}"
    );
    assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    drop(held);
}

/// Issue 15: `update-kubeconfig --name <cluster ARN>` takes the name and region from the ARN
/// (it used to send the ARN to DescribeCluster and print a JSON parse error about `<`).
#[test]
fn update_kubeconfig_takes_a_cluster_arn() {
    let bed = start();
    let arn = bed.tb.cluster_arn().to_owned();
    let kc = bed.home.join("from-arn");
    let out = command(
        BIN,
        &bed.home,
        &bed.keys,
        &[("AWS_ENDPOINT_URL", &bed.endpoint)],
    )
    .args([
        "update-kubeconfig",
        "--name",
        &arn,
        "--alias",
        "viaarn",
        "--kubeconfig",
    ])
    .arg(&kc)
    .output()
    .unwrap();
    assert_eq!(ok(&out), "");
    assert_eq!(
        text(&out.stderr),
        format!("Added new context viaarn to {}\n", kc.display())
    );
    let doc: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(&kc).unwrap()).unwrap();
    assert_eq!(
        doc["users"][0]["user"]["exec"]["args"],
        serde_yaml::from_str::<serde_yaml::Value>("[--cluster-name, testbed, --region, us-east-1]")
            .unwrap()
    );
    let me = whoami(&kc, "viaarn", &bed.home, &bed.keys, &[]);
    assert_eq!(me["username"], "kubernetes-admin");
}

/// Issue 14: kubectl's global flags `--cluster`, `--user` and `--request-timeout` work on the
/// plugins that talk to the cluster, read as kubectl reads them (the flags replace the
/// context's cluster and user entries).
#[test]
fn kubectl_global_flags_on_whoami_and_grant() {
    let tb = Testbed::start(TestbedOptions {
        static_tokens: vec!["global-admin=admin:system:masters".into()],
        aws: false,
        ..TestbedOptions::default()
    })
    .unwrap();
    let kc = tb.dir().join("flags-kubeconfig");
    // A server that takes the connection and never answers: only the timeout ends a request.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url = format!("https://{}", silent.local_addr().unwrap());
    let doc = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [
            {"name": "unreachable", "cluster": {"server": "https://127.0.0.1:1",
                "certificate-authority-data": base64_encode(tb.ca_pem())}},
            {"name": "silent", "cluster": {"server": silent_url,
                "certificate-authority-data": base64_encode(tb.ca_pem())}},
            {"name": "testbed", "cluster": {"server": tb.server_url(),
                "certificate-authority-data": base64_encode(tb.ca_pem())}},
        ],
        "users": [
            {"name": "nobody", "user": {"token": "not-a-token"}},
            {"name": "admin", "user": {"token": "global-admin"}},
        ],
        "contexts": [{"name": "c", "context": {"cluster": "unreachable", "user": "nobody"}}],
        "current-context": "c",
    });
    std::fs::write(&kc, serde_json::to_string(&doc).unwrap()).unwrap();
    let home = tb.dir().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let run = |plugin: &str, args: &[&str]| -> Output {
        let bin = eks_testbed::bin_path(plugin).expect("cargo build --workspace --bins");
        Command::new(bin)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home)
            .arg("--kubeconfig")
            .arg(&kc)
            .args(args)
            .output()
            .unwrap()
    };
    let flags = [
        "--cluster",
        "testbed",
        "--user",
        "admin",
        "--request-timeout",
        "20s",
    ];
    assert!(!run("kubectl-eks_whoami", &["-o", "json"]).status.success());
    let me: Value = serde_json::from_str(&ok(&run(
        "kubectl-eks_whoami",
        &[&flags[..], &["-o", "json"]].concat(),
    )))
    .unwrap();
    assert_eq!(me["kubernetes"]["username"], "admin", "{me}");
    assert!(!run("kubectl-eks_grant", &["list"]).status.success());
    let listed = ok(&run("kubectl-eks_grant", &[&["list"], &flags[..]].concat()));
    assert!(listed.contains("eks-testbed-node-role"), "{listed}");
    let missing = run("kubectl-eks_grant", &["list", "--user", "nosuch"]);
    assert!(!missing.status.success());
    assert!(
        text(&missing.stderr).contains("no user `nosuch` in the kubeconfig"),
        "{}",
        text(&missing.stderr)
    );
    // The bound is applied (kubectl: "context deadline exceeded"): against a server that never
    // answers, the request ends after the timeout, not never. (A bound of 1ns against the
    // testbed was not a test: on loopback the connection and the answer can both be ready
    // before the first deadline check.)
    let started = std::time::Instant::now();
    let short = run(
        "kubectl-eks_grant",
        &[
            "list",
            "--cluster",
            "silent",
            "--user",
            "admin",
            "--request-timeout",
            "1s",
        ],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(15));
    assert!(!short.status.success(), "{}", text(&short.stdout));
    assert!(
        text(&short.stderr).contains("deadline has elapsed"),
        "{}",
        text(&short.stderr)
    );
    drop(silent);
}
