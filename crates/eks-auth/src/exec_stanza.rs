//! What a kubeconfig `exec` stanza says about the AWS identity it signs with: which tool, for
//! which cluster, in which region, with which profile and role. Pure: the stanza and the
//! caller's environment come in as values. The one reader of exec stanzas: eks-whoami explains
//! the identity with it, eks-grant finds the EKS cluster (name, region, profile) of a context
//! whose cluster is not named by its ARN.
//!
//! Recognised command lines (and the flags each tool documents):
//! - ours: `kubectl-eks_token --cluster-name N [--region R] [--profile P] [--role-arn A]
//!   [--session-name S | --forward-session-name]` (DESIGN.md), also as `kubectl eks-token ...`;
//! - the AWS CLI: `aws [--region R] [--profile P] eks get-token --cluster-name N [--role-arn A]`
//!   (global options may come before or after the subcommand);
//! - aws-iam-authenticator: `aws-iam-authenticator token -i N [-r A] [--region R]`; it has no
//!   profile flag and reads `AWS_PROFILE` like any AWS SDK (Go pflag: `-i`/`--cluster-id`,
//!   `-r`/`--role`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::env;

/// Session name `aws eks get-token --role-arn` uses (awscli `customizations/eks/get_token.py`:
/// `RoleSessionName='EKSGetTokenAuth'`). Using the same one keeps `{{SessionName}}` username
/// templates in aws-auth giving the same username whichever tool signed.
pub const DEFAULT_ROLE_SESSION_NAME: &str = "EKSGetTokenAuth";

/// The exec plugin a kubeconfig user runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExecTool {
    /// `kubectl-eks_token` (this suite).
    KubectlEksToken,
    /// `aws eks get-token`.
    AwsCli,
    /// `aws-iam-authenticator token`.
    AwsIamAuthenticator,
    /// Something else: no AWS settings can be read from it.
    Other,
}

impl ExecTool {
    /// How people call it.
    pub fn label(&self) -> &'static str {
        match self {
            ExecTool::KubectlEksToken => "kubectl-eks_token",
            ExecTool::AwsCli => "aws eks get-token",
            ExecTool::AwsIamAuthenticator => "aws-iam-authenticator token",
            ExecTool::Other => "other exec plugin",
        }
    }

    /// The session name the tool gives an assumed role when none is asked for: ours and the
    /// AWS CLI use `EKSGetTokenAuth` (awscli `customizations/eks/get_token.py`); for
    /// aws-iam-authenticator the name depends on its version, so it is not predicted.
    pub fn default_session_name(&self) -> Option<&'static str> {
        match self {
            ExecTool::KubectlEksToken | ExecTool::AwsCli => Some(DEFAULT_ROLE_SESSION_NAME),
            ExecTool::AwsIamAuthenticator | ExecTool::Other => None,
        }
    }
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "from", content = "name")]
pub enum Origin {
    /// A command-line argument in the stanza (`--profile`).
    Argument(String),
    /// The stanza's `env` list.
    ExecEnv(String),
    /// Not in the kubeconfig: the environment kubectl (and so the plugin) runs in.
    Ambient(String),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Argument(flag) => write!(f, "argument `{flag}`"),
            Origin::ExecEnv(var) => write!(f, "exec env `{var}`"),
            Origin::Ambient(var) => write!(f, "your environment's `{var}`"),
        }
    }
}

/// A value and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Sourced {
    pub value: String,
    #[serde(flatten)]
    pub origin: Origin,
}

/// The environment the plugin would inherit, as far as it matters here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ambient {
    pub aws_profile: Option<String>,
    pub aws_region: Option<String>,
    pub aws_default_region: Option<String>,
}

/// The AWS settings of an exec stanza.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecSource {
    pub tool: ExecTool,
    pub command: String,
    /// Arguments as written (no secrets are passed as arguments by these tools).
    pub args: Vec<String>,
    pub cluster_name: Option<String>,
    pub region: Option<Sourced>,
    /// `None`: the default profile (or credentials in the environment).
    pub profile: Option<Sourced>,
    pub role_arn: Option<String>,
    pub session_name: Option<String>,
    pub forward_session_name: bool,
    /// Names of the variables the stanza sets (values are not kept: they may be keys).
    pub env_names: Vec<String>,
}

impl ExecSource {
    /// The role the stanza assumes (`--role-arn`, `-r`) and the session name it gives it: the
    /// stanza's own, else its tool's default, else ours (only the role's ARN decides access).
    pub fn assumed_role(&self) -> Option<(String, String)> {
        let role_arn = self.role_arn.clone()?;
        let session = self
            .session_name
            .clone()
            .or_else(|| self.tool.default_session_name().map(str::to_owned))
            .unwrap_or_else(|| DEFAULT_ROLE_SESSION_NAME.to_owned());
        Some((role_arn, session))
    }
}

/// One stanza: command, args and env as kubeconfig lists them. `Debug` shows the env names
/// only: stanzas may set `AWS_SECRET_ACCESS_KEY` or `AWS_SESSION_TOKEN`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ExecStanza {
    pub command: String,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl ExecStanza {
    /// A stanza from its parts as a kubeconfig lists them.
    pub fn new(command: &str, args: &[&str], env: &[(&str, &str)]) -> ExecStanza {
        ExecStanza {
            command: command.to_owned(),
            args: args.iter().map(|s| (*s).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }
}

impl std::fmt::Debug for ExecStanza {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(name, _)| (name.as_str(), "<redacted>"))
            .collect();
        f.debug_struct("ExecStanza")
            .field("command", &self.command)
            .field("args", &self.args)
            .field("env", &env)
            .finish()
    }
}

/// The options each tool takes a value for, long and short spellings.
struct Flags {
    cluster: &'static [&'static str],
    region: &'static [&'static str],
    profile: &'static [&'static str],
    role: &'static [&'static str],
    session: &'static [&'static str],
}

const OURS: Flags = Flags {
    cluster: &["--cluster-name"],
    region: &["--region"],
    profile: &["--profile"],
    role: &["--role-arn"],
    session: &["--session-name"],
};
const AWS_CLI: Flags = Flags {
    cluster: &["--cluster-name"],
    region: &["--region"],
    profile: &["--profile"],
    role: &["--role-arn"],
    session: &[],
};
const AUTHENTICATOR: Flags = Flags {
    cluster: &["-i", "--cluster-id"],
    region: &["--region"],
    profile: &[],
    role: &["-r", "--role"],
    session: &["--session-name"],
};

fn basename(command: &str) -> &str {
    let name = command.rsplit(['/', '\\']).next().unwrap_or(command);
    name.strip_suffix(".exe").unwrap_or(name)
}

/// Which tool a command line runs.
pub fn recognise(command: &str, args: &[String]) -> ExecTool {
    let positional: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| !a.starts_with('-'))
        .collect();
    match basename(command) {
        "kubectl-eks_token" => ExecTool::KubectlEksToken,
        "kubectl" if args.first().map(String::as_str) == Some("eks-token") => {
            ExecTool::KubectlEksToken
        }
        "aws" if positional.windows(2).any(|w| w == ["eks", "get-token"]) => ExecTool::AwsCli,
        "aws-iam-authenticator" | "heptio-authenticator-aws" if positional.contains(&"token") => {
            ExecTool::AwsIamAuthenticator
        }
        _ => ExecTool::Other,
    }
}

/// The value of the first of `names` in `args` (`--flag value` or `--flag=value`); the last
/// occurrence wins, as with clap, pflag and argparse.
fn flag_value(args: &[String], names: &[&str]) -> Option<(String, String)> {
    let mut found = None;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        for name in names {
            if arg == name {
                if let Some(value) = args.get(i + 1) {
                    found = Some(((*name).to_owned(), value.clone()));
                    i += 1;
                }
            } else if let Some(value) = arg
                .strip_prefix(name)
                .and_then(|rest| rest.strip_prefix('='))
            {
                found = Some(((*name).to_owned(), value.to_owned()));
            }
        }
        i += 1;
    }
    found
}

fn has_flag(args: &[String], name: &str) -> bool {
    args.iter().any(|a| a == name)
}

/// Reads the AWS settings of a stanza.
pub fn parse(stanza: &ExecStanza, ambient: &Ambient) -> ExecSource {
    let tool = recognise(&stanza.command, &stanza.args);
    let flags = match tool {
        ExecTool::KubectlEksToken => Some(&OURS),
        ExecTool::AwsCli => Some(&AWS_CLI),
        ExecTool::AwsIamAuthenticator => Some(&AUTHENTICATOR),
        ExecTool::Other => None,
    };
    let exec_env: BTreeMap<&str, &str> = stanza
        .env
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let from_env = |var: &str, ambient_value: &Option<String>| -> Option<Sourced> {
        if let Some(v) = exec_env.get(var).filter(|v| !v.is_empty()) {
            return Some(Sourced {
                value: (*v).to_owned(),
                origin: Origin::ExecEnv(var.to_owned()),
            });
        }
        ambient_value
            .as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| Sourced {
                value: v.clone(),
                origin: Origin::Ambient(var.to_owned()),
            })
    };
    let from_arg = |names: &[&str]| {
        flag_value(&stanza.args, names).map(|(flag, value)| Sourced {
            value,
            origin: Origin::Argument(flag),
        })
    };
    let (cluster_name, region, profile, role_arn, session_name) = match flags {
        Some(f) => (
            flag_value(&stanza.args, f.cluster).map(|(_, v)| v),
            from_arg(f.region),
            from_arg(f.profile),
            flag_value(&stanza.args, f.role).map(|(_, v)| v),
            flag_value(&stanza.args, f.session).map(|(_, v)| v),
        ),
        None => (None, None, None, None, None),
    };
    // The SDKs' order: AWS_REGION, then AWS_DEFAULT_REGION (then the profile's `region`).
    let region = region
        .or_else(|| from_env(env::AWS_REGION, &ambient.aws_region))
        .or_else(|| from_env(env::AWS_DEFAULT_REGION, &ambient.aws_default_region));
    let profile = profile.or_else(|| from_env(env::AWS_PROFILE, &ambient.aws_profile));
    ExecSource {
        forward_session_name: tool == ExecTool::KubectlEksToken
            && has_flag(&stanza.args, "--forward-session-name"),
        tool,
        command: stanza.command.clone(),
        args: stanza.args.clone(),
        cluster_name,
        region,
        profile,
        role_arn,
        session_name,
        env_names: stanza.env.iter().map(|(k, _)| k.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stanza(command: &str, args: &[&str], env: &[(&str, &str)]) -> ExecStanza {
        ExecStanza::new(command, args, env)
    }

    #[test]
    fn stanza_debug_names_env_without_values() {
        let s = stanza(
            "aws",
            &["eks", "get-token"],
            &[("AWS_SESSION_TOKEN", "IQoJb3JpZ2luX2VjSECRET")],
        );
        assert_eq!(
            format!("{s:?}"),
            r#"ExecStanza { command: "aws", args: ["eks", "get-token"], env: [("AWS_SESSION_TOKEN", "<redacted>")] }"#
        );
    }

    fn arg(value: &str, flag: &str) -> Option<Sourced> {
        Some(Sourced {
            value: value.to_owned(),
            origin: Origin::Argument(flag.to_owned()),
        })
    }

    #[test]
    fn reads_ours_with_every_flag() {
        let s = stanza(
            "/usr/local/bin/kubectl-eks_token",
            &[
                "--cluster-name",
                "prod",
                "--region=eu-west-1",
                "--profile",
                "admin",
                "--role-arn",
                "arn:aws:iam::111122223333:role/team/deploy",
                "--session-name",
                "alice",
            ],
            &[],
        );
        let src = parse(&s, &Ambient::default());
        assert_eq!(src.tool, ExecTool::KubectlEksToken);
        assert_eq!(src.cluster_name.as_deref(), Some("prod"));
        assert_eq!(src.region, arg("eu-west-1", "--region"));
        assert_eq!(src.profile, arg("admin", "--profile"));
        assert_eq!(
            src.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/team/deploy")
        );
        assert_eq!(src.session_name.as_deref(), Some("alice"));
        assert!(!src.forward_session_name);
    }

    #[test]
    fn reads_ours_through_kubectl() {
        let s = stanza(
            "kubectl",
            &["eks-token", "--cluster-name", "c", "--forward-session-name"],
            &[],
        );
        let src = parse(&s, &Ambient::default());
        assert_eq!(src.tool, ExecTool::KubectlEksToken);
        assert_eq!(src.cluster_name.as_deref(), Some("c"));
        assert!(src.forward_session_name);
    }

    #[test]
    fn reads_aws_cli_with_global_options_first_and_profile_from_exec_env() {
        // as `aws eks update-kubeconfig --profile dev` writes it
        let s = stanza(
            "aws",
            &[
                "--region",
                "us-west-2",
                "eks",
                "get-token",
                "--cluster-name",
                "demo",
                "--output",
                "json",
            ],
            &[("AWS_PROFILE", "dev")],
        );
        let ambient = Ambient {
            aws_profile: Some("other".to_owned()),
            ..Ambient::default()
        };
        let src = parse(&s, &ambient);
        assert_eq!(src.tool, ExecTool::AwsCli);
        assert_eq!(src.cluster_name.as_deref(), Some("demo"));
        assert_eq!(src.region, arg("us-west-2", "--region"));
        assert_eq!(
            src.profile,
            Some(Sourced {
                value: "dev".to_owned(),
                origin: Origin::ExecEnv("AWS_PROFILE".to_owned())
            })
        );
        assert_eq!(src.env_names, vec!["AWS_PROFILE".to_owned()]);
    }

    #[test]
    fn aws_cli_profile_flag_beats_env_and_role_is_read() {
        let s = stanza(
            "/opt/homebrew/bin/aws",
            &[
                "eks",
                "get-token",
                "--cluster-name",
                "demo",
                "--role-arn",
                "arn:aws:iam::111122223333:role/admin",
                "--profile",
                "sso-dev",
            ],
            &[("AWS_PROFILE", "ignored")],
        );
        let src = parse(&s, &Ambient::default());
        assert_eq!(src.profile, arg("sso-dev", "--profile"));
        assert_eq!(
            src.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/admin")
        );
    }

    #[test]
    fn aws_without_get_token_is_not_recognised() {
        let s = stanza("aws", &["sts", "get-caller-identity"], &[]);
        assert_eq!(parse(&s, &Ambient::default()).tool, ExecTool::Other);
    }

    #[test]
    fn reads_aws_iam_authenticator_short_and_long_flags_and_ambient_settings() {
        let s = stanza(
            "aws-iam-authenticator",
            &[
                "token",
                "-i",
                "demo",
                "--role=arn:aws:iam::111122223333:role/r",
            ],
            &[],
        );
        let ambient = Ambient {
            aws_profile: Some("work".to_owned()),
            aws_region: None,
            aws_default_region: Some("ap-south-1".to_owned()),
        };
        let src = parse(&s, &ambient);
        assert_eq!(src.tool, ExecTool::AwsIamAuthenticator);
        assert_eq!(src.cluster_name.as_deref(), Some("demo"));
        assert_eq!(
            src.role_arn.as_deref(),
            Some("arn:aws:iam::111122223333:role/r")
        );
        assert_eq!(
            src.profile,
            Some(Sourced {
                value: "work".to_owned(),
                origin: Origin::Ambient("AWS_PROFILE".to_owned())
            })
        );
        assert_eq!(
            src.region,
            Some(Sourced {
                value: "ap-south-1".to_owned(),
                origin: Origin::Ambient("AWS_DEFAULT_REGION".to_owned())
            })
        );
    }

    #[test]
    fn other_plugins_yield_no_aws_settings_but_env_still_counts() {
        let s = stanza(
            "kubelogin",
            &["get-token", "--cluster-name", "x"],
            &[("AWS_REGION", "us-east-1")],
        );
        let src = parse(&s, &Ambient::default());
        assert_eq!(src.tool, ExecTool::Other);
        assert_eq!(src.cluster_name, None);
        assert_eq!(src.region.map(|r| r.value), Some("us-east-1".to_owned()));
    }

    #[test]
    fn last_flag_wins() {
        let s = stanza(
            "kubectl-eks_token",
            &["--cluster-name", "a", "--cluster-name=b"],
            &[],
        );
        assert_eq!(
            parse(&s, &Ambient::default()).cluster_name.as_deref(),
            Some("b")
        );
    }
}
