//! Translating an exec stanza of `aws eks get-token` or `aws-iam-authenticator token` into
//! `kubectl-eks_token`'s flags, refusing what it does not understand.

/// The identity an exec stanza signs with, in our flags.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub cluster: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub forward_session_name: bool,
}

impl Identity {
    /// `kubectl-eks_token`'s arguments for this identity.
    pub fn args(&self) -> Vec<String> {
        let mut args = vec!["--cluster-name".to_owned(), self.cluster.clone()];
        let mut flag = |name: &str, value: &Option<String>| {
            if let Some(v) = value {
                args.push(name.to_owned());
                args.push(v.clone());
            }
        };
        flag("--region", &self.region);
        flag("--profile", &self.profile);
        flag("--role-arn", &self.role_arn);
        flag("--session-name", &self.session_name);
        if self.forward_session_name {
            args.push("--forward-session-name".to_owned());
        }
        args
    }
}

/// Which tool a stanza runs, by the command's file name (any directory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    AwsCli,
    Authenticator,
    Ours,
    Other,
}

pub fn tool_of(command: &str) -> Tool {
    let base = command.rsplit(['/', '\\']).next().unwrap_or(command);
    let base = base
        .strip_suffix(".exe")
        .or_else(|| base.strip_suffix(".cmd"))
        .unwrap_or(base);
    match base {
        "aws" => Tool::AwsCli,
        "aws-iam-authenticator" | "heptio-authenticator-aws" => Tool::Authenticator,
        "kubectl-eks_token" => Tool::Ours,
        _ => Tool::Other,
    }
}

/// Splits `--flag=value` and `--flag value` forms: returns (flag, inline value).
fn split_flag(arg: &str) -> (&str, Option<&str>) {
    match arg.split_once('=') {
        Some((f, v)) if f.starts_with("--") => (f, Some(v)),
        _ => (arg, None),
    }
}

/// Walks the arguments: `on(flag, Some(value))` for the flags in `takes_value` (`--f v` or
/// `--f=v`), `on(flag, None)` for any other flag; positional words are returned in order.
fn walk(
    args: &[String],
    takes_value: &[&str],
    mut on: impl FnMut(&str, Option<String>) -> Result<(), String>,
) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let arg = args[i].as_str();
        i += 1;
        if !arg.starts_with('-') || arg == "-" {
            words.push(arg.to_owned());
            continue;
        }
        let (flag, inline) = split_flag(arg);
        if takes_value.contains(&flag) {
            let value = match inline {
                Some(v) => v.to_owned(),
                None => {
                    let v = args
                        .get(i)
                        .ok_or_else(|| format!("`{flag}` has no value"))?;
                    i += 1;
                    v.clone()
                }
            };
            on(flag, Some(value))?;
        } else {
            if inline.is_some() {
                return Err(format!("unknown argument `{arg}`"));
            }
            on(flag, None)?;
        }
    }
    Ok(words)
}

/// `aws [global flags] eks get-token --cluster-name X [--region R] [--role-arn A] [--profile P]
/// [--output json]`, in any order. awscli v1 writes `--role` (argparse accepts the unambiguous
/// prefix of `--role-arn`), v2 writes `--role-arn`. Flags of the AWS CLI reference for
/// `eks get-token`; anything else (`--endpoint-url`, `--cluster-id`, `--debug`, ...) is refused
/// because it would change what is signed or how.
pub fn translate_aws(args: &[String]) -> Result<Identity, String> {
    let mut id = Identity::default();
    let mut cluster = None;
    let words = walk(
        args,
        &[
            "--cluster-name",
            "--region",
            "--role-arn",
            "--role",
            "--profile",
            "--output",
        ],
        |flag, value| {
            match (flag, value) {
                ("--cluster-name", v) => cluster = v,
                ("--region", v) => id.region = v,
                ("--role-arn" | "--role", v) => id.role_arn = v,
                ("--profile", v) => id.profile = v,
                // The output format of the ExecCredential only; kubectl needs JSON, which both
                // tools print.
                ("--output", Some(v)) if v == "json" => {}
                ("--output", Some(v)) => {
                    return Err(format!("`--output {v}` (kubectl reads json)"));
                }
                ("--cluster-id", _) => {
                    return Err(
                        "`--cluster-id` (a local cluster on AWS Outposts) is not supported".into(),
                    );
                }
                (other, _) => return Err(format!("unknown argument `{other}`")),
            }
            Ok(())
        },
    )?;
    if words != ["eks", "get-token"] {
        return Err(format!(
            "not `aws eks get-token` (arguments `{}`)",
            words.join(" ")
        ));
    }
    id.cluster = cluster.ok_or("no `--cluster-name`")?;
    Ok(id)
}

/// `aws-iam-authenticator token -i X [-r ROLE] [--region R] [--session-name S]
/// [--forward-session-name]` (its `token` command's flags; `-i` is a global flag and may come
/// before `token`). Without `--region` it signs for STS's global endpoint, which is us-east-1.
pub fn translate_authenticator(args: &[String]) -> Result<Identity, String> {
    let mut id = Identity::default();
    let mut cluster = None;
    let mut region = None;
    let words = walk(
        args,
        &[
            "-i",
            "--cluster-id",
            "-r",
            "--role",
            "--region",
            "--session-name",
        ],
        |flag, value| {
            match flag {
                "-i" | "--cluster-id" => cluster = value,
                "-r" | "--role" => id.role_arn = value,
                "--region" => region = value,
                "--session-name" => id.session_name = value,
                "--forward-session-name" => id.forward_session_name = true,
                other => return Err(format!("unknown argument `{other}`")),
            }
            Ok(())
        },
    )?;
    if words != ["token"] {
        return Err(format!(
            "not `aws-iam-authenticator token` (arguments `{}`)",
            words.join(" ")
        ));
    }
    id.cluster = cluster.ok_or("no `-i`/`--cluster-id`")?;
    id.region = Some(region.unwrap_or_else(|| "us-east-1".to_owned()));
    Ok(id)
}

/// Environment variables of an exec stanza that `kubectl-eks_token` would not read the way the
/// translated tool does.
pub(super) fn env_problem(tool: Tool, names: &[String]) -> Option<String> {
    for name in names {
        let problem = match (tool, name.as_str()) {
            // aws-iam-authenticator reads its role from DEFAULT_ROLE (viper.BindEnv).
            (Tool::Authenticator, "DEFAULT_ROLE") => true,
            // The AWS CLI reads it as the profile; the Rust SDK reads AWS_PROFILE only.
            (_, "AWS_DEFAULT_PROFILE") => true,
            _ => false,
        };
        if problem {
            return Some(format!(
                "its env sets `{name}`, which kubectl-eks_token does not read"
            ));
        }
    }
    None
}
