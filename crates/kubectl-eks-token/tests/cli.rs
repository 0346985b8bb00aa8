//! Hermetic CLI tests: every run starts from an empty environment (no AWS_*, KUBECONFIG,
//! KUBERNETES_EXEC_INFO) with HOME in a fresh temp dir. No network: the static-credential path
//! signs locally, and the tests that reach aws-config fail before any request (IMDS disabled).

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use base64::Engine as _;
use serde_json::Value;

const CLUSTER: &str = "demo";
const REGION: &str = "us-west-2";
// aws-iam-authenticator's public test key pair (not a live credential).
const ACCESS_KEY: &str = "ASIAR2TG44V6AS3ZZE7C";
const SECRET_KEY: &str = "4KD5cntGcVmLWRdF5wvNRuzNL5Qxmp6OKVY6Fz/Q";

struct Sandbox {
    home: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Sandbox {
        Sandbox {
            home: tempfile::tempdir().unwrap(),
        }
    }

    fn home(&self) -> &Path {
        self.home.path()
    }

    fn cache_dir(&self) -> PathBuf {
        self.home().join(".kube/cache/eks-token")
    }

    /// A bare command: empty environment except HOME, PATH and IMDS off.
    fn bare(&self) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin!("kubectl-eks_token"));
        cmd.env_clear()
            .env("HOME", self.home())
            .env("PATH", "/usr/bin:/bin")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .stdin(Stdio::null());
        cmd
    }

    /// With the static test credentials and region in the environment.
    fn signer(&self) -> Command {
        let mut cmd = self.bare();
        cmd.env("AWS_ACCESS_KEY_ID", ACCESS_KEY)
            .env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
            .env("AWS_REGION", REGION);
        cmd
    }

    fn token_cmd(&self) -> Command {
        let mut cmd = self.signer();
        cmd.args(["--cluster-name", CLUSTER]);
        cmd
    }

    /// The one cache entry file (panics unless exactly one).
    fn entry_path(&self) -> PathBuf {
        let entries = self.cache_files();
        assert_eq!(entries.len(), 1, "{entries:?}");
        entries.into_iter().next().unwrap()
    }

    fn cache_files(&self) -> Vec<PathBuf> {
        let mut v: Vec<PathBuf> = fs::read_dir(self.cache_dir())
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        v.sort();
        v
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output().unwrap()
}

fn ok_stdout(cmd: &mut Command) -> String {
    let out = run(cmd);
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim()).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

fn token_of(cred: &Value) -> String {
    cred["status"]["token"].as_str().unwrap().to_owned()
}

fn decode_url(token: &str) -> String {
    let b64 = token.strip_prefix("k8s-aws-v1.").unwrap();
    String::from_utf8(
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(b64)
            .unwrap(),
    )
    .unwrap()
}

fn encode_url(url: &str) -> String {
    format!(
        "k8s-aws-v1.{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)
    )
}

/// A well-formed entry with a token nobody signed, fresh for 13 minutes.
fn forged_entry() -> String {
    forged_entry_expiring_in(13 * 60)
}

fn forged_entry_expiring_in(secs: u64) -> String {
    let expires = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + secs;
    format!(
        r#"{{"version":1,"token":"k8s-aws-v1.Rk9SR0VE","expires":{expires},"cluster":"demo","region":"us-west-2","profile":null,"role_arn":null}}"#
    )
}

fn write_mode(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

#[test]
fn exec_credential_shape_v1beta1_by_default() {
    let sb = Sandbox::new();
    let before = SystemTime::now();
    let out = run(sb.token_cmd().arg("--no-cache"));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.ends_with("}\n") && text.matches('\n').count() == 1,
        "{text:?}"
    );
    let cred = json(&text);
    assert_eq!(cred["kind"], "ExecCredential");
    assert_eq!(cred["apiVersion"], "client.authentication.k8s.io/v1beta1");
    let url = decode_url(&token_of(&cred));
    assert!(
        url.starts_with("https://sts.us-west-2.amazonaws.com/?"),
        "{url}"
    );
    assert!(url.contains("Action=GetCallerIdentity"), "{url}");
    assert!(
        url.contains(&format!("X-Amz-Credential={ACCESS_KEY}%2F")),
        "{url}"
    );
    assert!(
        url.contains("X-Amz-SignedHeaders=host%3Bx-k8s-aws-id"),
        "{url}"
    );
    // expiration = signing time + 14 minutes, RFC 3339 UTC with Z
    let exp = cred["status"]["expirationTimestamp"].as_str().unwrap();
    assert!(exp.ends_with('Z'), "{exp}");
    let exp: jiff::Timestamp = exp.parse().unwrap();
    let exp = SystemTime::from(exp);
    let lo = before + Duration::from_secs(14 * 60) - Duration::from_secs(1);
    let hi = SystemTime::now() + Duration::from_secs(14 * 60) + Duration::from_secs(1);
    assert!(exp >= lo && exp <= hi);
    // --no-cache never creates the cache
    assert!(!sb.cache_dir().exists());
}

#[test]
fn exec_info_selects_the_api_version() {
    let sb = Sandbox::new();
    let info = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":false}}"#;
    let cred = json(&ok_stdout(
        sb.token_cmd()
            .arg("--no-cache")
            .env("KUBERNETES_EXEC_INFO", info),
    ));
    assert_eq!(cred["apiVersion"], "client.authentication.k8s.io/v1");

    let out = run(sb
        .token_cmd()
        .arg("--no-cache")
        .env("KUBERNETES_EXEC_INFO", "{not json"));
    assert!(out.status.success());
    assert_eq!(
        json(&String::from_utf8(out.stdout).unwrap())["apiVersion"],
        "client.authentication.k8s.io/v1beta1"
    );
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.starts_with("warning: "), "{stderr}");
    assert!(stderr.contains("KUBERNETES_EXEC_INFO"), "{stderr}");
}

#[test]
fn token_only_prints_just_the_token() {
    let sb = Sandbox::new();
    let text = ok_stdout(sb.token_cmd().args(["--no-cache", "--token-only"]));
    let token = text.strip_suffix('\n').unwrap();
    assert!(token.starts_with("k8s-aws-v1."), "{text}");
    assert!(!token.contains(['\n', ' ', '{']));
}

#[test]
fn session_token_is_signed_into_the_url() {
    let sb = Sandbox::new();
    let text = ok_stdout(
        sb.token_cmd()
            .args(["--no-cache", "--token-only"])
            .env("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEXAMPLE"),
    );
    assert!(decode_url(text.trim()).contains("X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLE"));
}

#[test]
fn cache_hit_returns_the_same_credential_and_files_are_private() {
    let sb = Sandbox::new();
    let first = ok_stdout(&mut sb.token_cmd());
    // Same identity (the secret is not part of the key) but a different secret: a fresh signature
    // would differ, so equality proves the cache answered.
    let second = ok_stdout(
        sb.token_cmd()
            .env("AWS_SECRET_ACCESS_KEY", "another-secret"),
    );
    assert_eq!(first, second);
    let dir_mode = fs::metadata(sb.cache_dir()).unwrap().mode() & 0o777;
    assert_eq!(dir_mode, 0o700);
    let entry = sb.entry_path();
    assert_eq!(fs::metadata(&entry).unwrap().mode() & 0o777, 0o600);
    assert!(
        entry
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .ends_with(".json")
    );
    // a different identity (access key) is a different entry, not a hit
    let other = ok_stdout(
        sb.token_cmd()
            .env("AWS_ACCESS_KEY_ID", "AKIAOTHEREXAMPLE0001"),
    );
    assert_ne!(token_of(&json(&other)), token_of(&json(&first)));
    assert_eq!(sb.cache_files().len(), 2);
    // --token-only on a hit prints the cached token
    let token = ok_stdout(sb.token_cmd().arg("--token-only"));
    assert_eq!(token.trim(), token_of(&json(&first)));
}

#[test]
fn cache_dir_override_and_mode_repair() {
    let sb = Sandbox::new();
    let dir = sb.home().join("elsewhere");
    fs::create_dir(&dir).unwrap();
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
    ok_stdout(sb.token_cmd().env("KUBECTL_EKS_TOKEN_CACHE_DIR", &dir));
    assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
    assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    assert!(!sb.cache_dir().exists());
}

#[test]
fn twenty_concurrent_processes_on_an_empty_cache() {
    let sb = Sandbox::new();
    let children: Vec<_> = (0..20)
        .map(|_| {
            sb.token_cmd()
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut tokens = Vec::new();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(String::from_utf8_lossy(&out.stderr), "");
        let cred = json(&String::from_utf8(out.stdout).unwrap());
        assert_eq!(cred["kind"], "ExecCredential");
        tokens.push(token_of(&cred));
    }
    // exactly one entry, no temp files left behind, and it holds one of the tokens handed out
    let entry = sb.entry_path();
    assert_eq!(fs::metadata(&entry).unwrap().mode() & 0o777, 0o600);
    let cached = token_of(&json(&ok_stdout(&mut sb.token_cmd())));
    assert!(tokens.contains(&cached));
}

#[test]
fn symlinked_entry_is_not_followed_and_is_replaced() {
    let sb = Sandbox::new();
    ok_stdout(&mut sb.token_cmd());
    let entry = sb.entry_path();
    let target = sb.home().join("planted.json");
    write_mode(&target, &forged_entry(), 0o600);
    fs::remove_file(&entry).unwrap();
    std::os::unix::fs::symlink(&target, &entry).unwrap();

    let cred = json(&ok_stdout(&mut sb.token_cmd()));
    assert_ne!(token_of(&cred), "k8s-aws-v1.Rk9SR0VE");
    assert!(
        !fs::symlink_metadata(&entry)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by a file"
    );
    // the planted target is untouched: nothing was written through the link
    assert!(
        fs::read_to_string(&target)
            .unwrap()
            .contains("k8s-aws-v1.Rk9SR0VE")
    );
}

#[test]
fn corrupt_entry_is_replaced() {
    let sb = Sandbox::new();
    let first = token_of(&json(&ok_stdout(&mut sb.token_cmd())));
    let entry = sb.entry_path();
    write_mode(&entry, "{ this is not json", 0o600);
    let second = token_of(&json(&ok_stdout(
        sb.token_cmd()
            .env("AWS_SECRET_ACCESS_KEY", "another-secret"),
    )));
    assert!(second.starts_with("k8s-aws-v1."));
    assert_ne!(first, second, "a new token was signed");
    let stored: Value = serde_json::from_str(&fs::read_to_string(&entry).unwrap()).unwrap();
    assert_eq!(stored["token"], second.as_str());
}

#[test]
fn group_readable_entry_is_ignored_and_replaced() {
    let sb = Sandbox::new();
    ok_stdout(&mut sb.token_cmd());
    let entry = sb.entry_path();
    write_mode(&entry, &forged_entry(), 0o644);
    let token = token_of(&json(&ok_stdout(&mut sb.token_cmd())));
    assert_ne!(token, "k8s-aws-v1.Rk9SR0VE");
    assert_eq!(fs::metadata(&entry).unwrap().mode() & 0o777, 0o600);

    // the same forged entry with the right mode *is* served: proves the mode check is what refused it
    write_mode(&entry, &forged_entry(), 0o600);
    assert_eq!(
        token_of(&json(&ok_stdout(&mut sb.token_cmd()))),
        "k8s-aws-v1.Rk9SR0VE"
    );
}

/// Foreign ownership can only be arranged as root (chown). As another user, creating a file
/// owned by someone else is impossible, so the test is skipped there.
#[test]
fn foreign_owned_entry_is_ignored_and_replaced() {
    let sb = Sandbox::new();
    ok_stdout(&mut sb.token_cmd());
    let entry = sb.entry_path();
    write_mode(&entry, &forged_entry(), 0o600);
    if std::os::unix::fs::chown(&entry, Some(65534), Some(65534)).is_err() {
        eprintln!("skipped: not root, cannot chown");
        return;
    }
    let token = token_of(&json(&ok_stdout(&mut sb.token_cmd())));
    assert_ne!(token, "k8s-aws-v1.Rk9SR0VE");
    assert_eq!(
        fs::metadata(&entry).unwrap().uid(),
        fs::metadata(sb.home()).unwrap().uid()
    );
}

#[test]
fn symlinked_cache_dir_is_not_used() {
    let sb = Sandbox::new();
    let real = sb.home().join("real");
    fs::create_dir(&real).unwrap();
    fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).unwrap();
    let link = sb.home().join("link");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let out = run(sb.token_cmd().env("KUBECTL_EKS_TOKEN_CACHE_DIR", &link));
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is a symlink; not using it"));
    json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(fs::read_dir(&real).unwrap().count(), 0);
}

#[test]
fn expiring_entry_is_not_served() {
    let sb = Sandbox::new();
    ok_stdout(&mut sb.token_cmd());
    let entry = sb.entry_path();
    // four minutes left: under the five-minute floor
    write_mode(&entry, &forged_entry_expiring_in(4 * 60), 0o600);
    assert_ne!(
        token_of(&json(&ok_stdout(&mut sb.token_cmd()))),
        "k8s-aws-v1.Rk9SR0VE"
    );
    // six minutes left: served
    write_mode(&entry, &forged_entry_expiring_in(6 * 60), 0o600);
    assert_eq!(
        token_of(&json(&ok_stdout(&mut sb.token_cmd()))),
        "k8s-aws-v1.Rk9SR0VE"
    );
}

#[test]
fn cache_list_and_clear() {
    let sb = Sandbox::new();
    let token = token_of(&json(&ok_stdout(&mut sb.token_cmd())));
    let list = ok_stdout(sb.bare().args(["cache", "list"]));
    let lines: Vec<Vec<&str>> = list
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(lines.len(), 2, "{list}");
    assert_eq!(
        lines[0],
        [
            "KEY", "STATE", "EXPIRES", "CLUSTER", "REGION", "PROFILE", "ROLE"
        ]
    );
    assert_eq!(lines[1][1], "fresh", "{list}");
    assert_eq!(lines[1][3..], ["demo", "us-west-2", "-", "-"], "{list}");
    assert!(
        !list.contains(&token) && !list.contains("k8s-aws-v1."),
        "the token must never be listed"
    );

    let out = run(sb.bare().args(["cache", "clear"]));
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        format!(
            "removed 1 cached token(s) from {}",
            sb.cache_dir().display()
        )
    );
    assert!(sb.cache_files().is_empty());
}

/// Issue 15: an empty cache says so (on stderr), rather than printing nothing.
#[test]
fn cache_list_says_when_empty() {
    let sb = Sandbox::new();
    let out = run(sb.bare().args(["cache", "list"]));
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!("no cached tokens in {}\n", sb.cache_dir().display())
    );
}

/// Issue 15: one version-string format across the three plugins: `kubectl eks-X VERSION`.
#[test]
fn version_reads_like_the_other_plugins() {
    let sb = Sandbox::new();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        ok_stdout(sb.bare().arg("--version")),
        format!("kubectl eks-token {version}\n")
    );
    for plugin in ["grant", "whoami"] {
        let bin = eks_testbed::bin_path(&format!("kubectl-eks_{plugin}"))
            .expect("the workspace binaries are built (cargo build --workspace --bins)");
        let out = Command::new(bin).arg("--version").output().unwrap();
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            format!("kubectl eks-{plugin} {version}\n")
        );
    }
}

#[test]
fn no_credentials_is_an_actionable_error() {
    let sb = Sandbox::new();
    let out = run(sb
        .bare()
        .args(["--cluster-name", CLUSTER, "--region", REGION, "--no-cache"]));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: no AWS credentials found"),
        "{stderr}"
    );
    assert!(
        stderr.contains("\n\nhint: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"),
        "{stderr}"
    );
}

/// issue 15: without any credentials the error says so and lists the ways to provide them; it
/// does not pass on why the EC2 instance metadata service (asked last) did not answer.
#[test]
fn no_credentials_is_not_reported_as_an_imds_error() {
    let sb = Sandbox::new();
    let out = run(sb
        .bare()
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1")
        .args(["--cluster-name", CLUSTER, "--region", REGION, "--no-cache"]));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(
        stderr,
        "error: no AWS credentials found\n\nhint: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY; \
         or run `aws configure` (it writes ~/.aws/credentials); or name a profile with `--profile \
         NAME` or AWS_PROFILE (`aws configure sso --profile NAME` sets up an SSO one); or, on EC2, \
         ECS or EKS, give the instance or task an IAM role\n"
    );
}

/// issue 15: a profile that is in neither shared file fails as the aws CLI fails ("The config
/// profile (nosuch) could not be found"), named by `--profile` or by AWS_PROFILE, even with keys
/// in the environment that could have signed.
#[test]
fn an_unknown_profile_fails_as_the_aws_cli_does() {
    let sb = Sandbox::new();
    let config = sb.home().join("aws-config");
    fs::write(&config, "[profile dev]\nregion = us-west-2\n").unwrap();
    let expected = "error: the config profile (nosuch) could not be found\n\nhint: the profiles \
                    are: dev; create `nosuch` with `aws configure --profile nosuch`, or `aws \
                    configure sso --profile nosuch` for SSO\n";
    let out = run(sb.token_cmd().env("AWS_CONFIG_FILE", &config).args([
        "--profile",
        "nosuch",
        "--no-cache",
    ]));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expected);

    let out = run(sb
        .token_cmd()
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "nosuch")
        .arg("--no-cache"));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert_eq!(String::from_utf8(out.stderr).unwrap(), expected);
}

#[test]
fn expired_sso_session_names_the_login_command() {
    let sb = Sandbox::new();
    let config = sb.home().join("aws-config");
    fs::write(
        &config,
        "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-west-2\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    )
    .unwrap();
    let out = run(sb.bare().env("AWS_CONFIG_FILE", &config).args([
        "--cluster-name",
        CLUSTER,
        "--profile",
        "dev",
        "--no-cache",
    ]));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "error: the AWS SSO session for profile `dev` has expired or was never started"
        ),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("\n\nhint: run `aws sso login --profile dev`\n"),
        "{stderr}"
    );
}

#[test]
fn unknown_region_and_bad_arguments_fail_before_any_io() {
    let sb = Sandbox::new();
    let out = run(sb.token_cmd().args(["--region", "mars-north-1"]));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: unknown AWS region `mars-north-1`\n\nhint: "),
        "{stderr}"
    );

    let out = run(sb
        .token_cmd()
        .args(["--role-arn", "arn:aws:iam::123456789012:user/bob"]));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not an IAM role ARN"));

    let out = run(sb.signer().args(["--cluster-name", "bad name"]));
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).starts_with("error: invalid cluster name `bad name`")
    );
    assert!(
        !sb.cache_dir().exists(),
        "validation happens before the cache is touched"
    );
}

#[test]
fn verify_accepts_a_fresh_token_and_rejects_a_tampered_one() {
    let sb = Sandbox::new();
    let token = ok_stdout(sb.token_cmd().args(["--no-cache", "--token-only"]))
        .trim()
        .to_owned();

    let text = ok_stdout(
        sb.bare()
            .args(["verify", &token, "--cluster-name", CLUSTER]),
    );
    assert!(text.starts_with("valid: "), "{text}");
    assert!(
        text.contains("sts host:       sts.us-west-2.amazonaws.com\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("access key id:  {ACCESS_KEY}\n")),
        "{text}"
    );
    let url = decode_url(&token);
    let signature = url
        .split("X-Amz-Signature=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    assert_eq!(signature.len(), 64);
    assert!(
        !text.contains(signature) && !text.contains(&token),
        "secrets printed: {text}"
    );

    let out = ok_stdout(sb.bare().args(["verify", &token, "-o", "json"]));
    let v = json(&out);
    assert_eq!(v["valid"], true);
    assert_eq!(v["region"], REGION);
    assert_eq!(v["hasSessionToken"], false);

    // from stdin, as an ExecCredential
    let cred = ok_stdout(sb.token_cmd().arg("--no-cache"));
    let mut cmd = sb.bare();
    cmd.args(["verify", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), cred.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());

    // forged host: the authenticator's host allow-list refuses it
    let url = decode_url(&token).replace("sts.us-west-2.amazonaws.com", "sts.evil.example");
    let out = run(sb.bare().args(["verify", &encode_url(&url)]));
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with("error: the token would be rejected: "),
        "{stderr}"
    );
    assert!(stderr.contains("sts.evil.example"), "{stderr}");

    // duplicated query key in another case (CVE-2022-2385 class)
    let url = format!("{}&action=GetCallerIdentity", decode_url(&token));
    let out = run(sb.bare().args(["verify", &encode_url(&url), "-o", "json"]));
    assert!(!out.status.success());
    let v = json(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(v["valid"], false);
    assert!(!v["error"].as_str().unwrap().is_empty());

    // wrong prefix
    let out = run(sb
        .bare()
        .args(["verify", &token.replace("k8s-aws-v1.", "k8s-aws-v2.")]));
    assert!(!out.status.success());
}

#[test]
fn help_names_the_subcommands() {
    let sb = Sandbox::new();
    let help = ok_stdout(sb.bare().arg("--help"));
    for word in [
        "update-kubeconfig",
        "verify",
        "cache",
        "--cluster-name",
        "--role-arn",
        "--token-only",
        "--no-cache",
    ] {
        assert!(help.contains(word), "{word} missing from --help");
    }
}

const AWS_USER: &str = "\
apiVersion: v1
kind: Config
contexts:
- name: prod
  context: {cluster: prod, user: prod}
current-context: prod
users:
- name: prod
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: aws
      args: [--region, eu-west-1, eks, get-token, --cluster-name, prod]
";

/// With several KUBECONFIG files, `adopt --context` edits the file that holds the context and
/// leaves the others alone.
#[test]
fn adopt_finds_the_context_among_kubeconfig_files() {
    let sb = Sandbox::new();
    let first = sb.home().join("first");
    let second = sb.home().join("second");
    let other = "apiVersion: v1\nkind: Config\ncontexts:\n- name: kind\n  context: {cluster: kind, user: kind}\n";
    fs::write(&first, other).unwrap();
    fs::write(&second, AWS_USER).unwrap();
    let out = run(sb
        .bare()
        .env(
            "KUBECONFIG",
            format!("{}:{}", first.display(), second.display()),
        )
        .args(["adopt", "--context", "prod"]));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&first).unwrap(), other);
    let adopted = fs::read_to_string(&second).unwrap();
    assert!(
        adopted.contains("      command: kubectl-eks_token\n"),
        "{adopted}"
    );
    assert!(
        adopted.contains(r#"args: ["--cluster-name", "prod", "--region", "eu-west-1"]"#),
        "{adopted}"
    );
    assert!(!sb.home().join("first.before-adopt").exists());
    assert_eq!(
        fs::read_to_string(sb.home().join("second.before-adopt")).unwrap(),
        AWS_USER
    );
}

#[test]
fn adopt_errors_name_the_file_and_keep_stdout_empty() {
    let sb = Sandbox::new();
    let missing = sb.home().join("nope");
    let out = run(sb
        .bare()
        .args(["adopt", "--all", "--kubeconfig"])
        .arg(&missing));
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        format!(
            "error: no kubeconfig at `{}`\n\nhint: write one with `kubectl eks-token update-kubeconfig --name CLUSTER`, or pass `--kubeconfig PATH`\n",
            missing.display()
        )
    );
    let kc = sb.home().join("kc");
    fs::write(&kc, AWS_USER).unwrap();
    let out = run(sb
        .bare()
        .args(["adopt", "--context", "dev", "--kubeconfig"])
        .arg(&kc));
    assert!(!out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stdout), "");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("no context `dev` in the kubeconfig\n\nhint: its contexts are: prod"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(fs::read_to_string(&kc).unwrap(), AWS_USER);
}
