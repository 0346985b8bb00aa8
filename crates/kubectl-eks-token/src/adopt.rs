//! `adopt`: move existing kubeconfig users from `aws eks get-token` or `aws-iam-authenticator
//! token` onto `kubectl-eks_token`, with the same identity.
//!
//! Pure: [`plan`] takes the kubeconfig's text and the selection and returns the new text, which
//! users moved and which were left alone (with the reason). It edits only the bytes of the
//! `command`, `args` and (for `v1alpha1`) `apiVersion` values of each adopted `exec` stanza and
//! adds an `installHint` line; every other byte of the file is kept, comments and key order
//! included. The file is never re-serialised.
//!
//! I/O: [`run`] reads the file, writes the version before the edit beside it (`PATH.before-adopt`,
//! 0600), then the new version atomically with the file's mode; `--revert` puts the kept version
//! back. A stanza is translated only when every argument is understood: an unknown flag leaves
//! the stanza as it is, named with the reason.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};

use crate::cli::AdoptArgs;
use crate::{kubeconfig, secure_fs};
use eks_auth::env;

/// The suffix of the kept previous version, beside the kubeconfig.
pub const BACKUP_SUFFIX: &str = ".before-adopt";

// ---------------------------------------------------------------------------------------------
// A small YAML node tree with byte ranges (granit-parser events).

#[derive(Debug, Clone)]
enum Kind {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
    Alias,
}

#[derive(Debug, Clone)]
struct Node {
    kind: Kind,
    /// Byte offset of the node's first character (for block sequences: the first item; see
    /// [`block_seq_start`]).
    start: usize,
    /// Byte offset just after the node's last character.
    end: usize,
    flow: bool,
    /// The node, or a node inside it, carries an anchor or is an alias: editing it in place
    /// could change another part of the document.
    shared: bool,
}

impl Node {
    fn get(&self, key: &str) -> Option<&Node> {
        match &self.kind {
            Kind::Map(pairs) => pairs
                .iter()
                .find(|(k, _)| matches!(&k.kind, Kind::Scalar(s) if s == key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    fn str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }
}

enum Frame {
    Seq {
        flow: bool,
        start: usize,
        shared: bool,
        items: Vec<Node>,
    },
    Map {
        flow: bool,
        start: usize,
        shared: bool,
        pairs: Vec<(Node, Node)>,
        key: Option<Node>,
    },
}

fn byte_of(text: &str, m: &granit_parser::Marker) -> usize {
    m.byte_offset().unwrap_or_else(|| {
        text.char_indices()
            .nth(m.index())
            .map_or(text.len(), |(b, _)| b)
    })
}

/// Parses the first YAML document of `text`. `Ok(None)` for an empty stream.
fn parse_tree(text: &str) -> Result<Option<Node>> {
    let mut stack: Vec<Frame> = Vec::new();
    let mut root = None;
    for ev in Parser::new_from_str(text) {
        let (event, span) = ev.map_err(|e| {
            anyhow::anyhow!(
                "not valid YAML at line {}, column {}: {}",
                e.marker().line(),
                e.marker().col() + 1,
                e.info()
            )
        })?;
        let start = byte_of(text, &span.start);
        let end = byte_of(text, &span.end);
        let node = match event {
            Event::DocumentEnd if root.is_some() => break,
            Event::Alias(_) | Event::UnresolvedAlias(_) => Node {
                kind: Kind::Alias,
                start,
                end,
                flow: false,
                shared: true,
            },
            Event::Scalar(value, style, anchor, _) => {
                let end = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
                    start + text[start..end].trim_end().len()
                } else {
                    end
                };
                Node {
                    kind: Kind::Scalar(value.into_owned()),
                    start,
                    end,
                    flow: false,
                    shared: anchor != 0,
                }
            }
            Event::SequenceStart(style, anchor, _) => {
                stack.push(Frame::Seq {
                    flow: style == StructureStyle::Flow,
                    start,
                    shared: anchor != 0,
                    items: Vec::new(),
                });
                continue;
            }
            Event::MappingStart(style, anchor, _) => {
                stack.push(Frame::Map {
                    flow: style == StructureStyle::Flow,
                    start,
                    shared: anchor != 0,
                    pairs: Vec::new(),
                    key: None,
                });
                continue;
            }
            Event::SequenceEnd => match stack.pop() {
                Some(Frame::Seq {
                    flow,
                    start,
                    shared,
                    items,
                }) => Node {
                    end: if flow {
                        end
                    } else {
                        items.last().map_or(start, |n| n.end)
                    },
                    shared: shared || items.iter().any(|n| n.shared),
                    kind: Kind::Seq(items),
                    start,
                    flow,
                },
                _ => bail!("unbalanced YAML sequence"),
            },
            Event::MappingEnd => match stack.pop() {
                Some(Frame::Map {
                    flow,
                    start,
                    shared,
                    pairs,
                    ..
                }) => Node {
                    end: if flow {
                        end
                    } else {
                        pairs.last().map_or(start, |(_, v)| v.end)
                    },
                    shared: shared || pairs.iter().any(|(k, v)| k.shared || v.shared),
                    kind: Kind::Map(pairs),
                    start,
                    flow,
                },
                _ => bail!("unbalanced YAML mapping"),
            },
            _ => continue,
        };
        match stack.last_mut() {
            None => root = Some(node),
            Some(Frame::Seq { items, .. }) => items.push(node),
            Some(Frame::Map { pairs, key, .. }) => match key.take() {
                None => *key = Some(node),
                Some(k) => pairs.push((k, node)),
            },
        }
    }
    Ok(root)
}

/// The `-` of a block sequence whose first item starts at `first_item`.
fn block_seq_start(text: &str, first_item: usize) -> Option<usize> {
    let before = text[..first_item].trim_end_matches([' ', '\t']);
    before.ends_with('-').then(|| before.len() - 1)
}

fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Just after the newline ending the line that holds `at - 1` (or the end of the text).
fn next_line(text: &str, at: usize) -> usize {
    text[at..].find('\n').map_or(text.len(), |i| at + i + 1)
}

// ---------------------------------------------------------------------------------------------
// Translating a stanza.

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
fn env_problem(tool: Tool, names: &[String]) -> Option<String> {
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

// ---------------------------------------------------------------------------------------------
// The plan.

/// Which contexts to move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The current context.
    Current,
    Contexts(Vec<String>),
    All,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    pub user: String,
    pub contexts: Vec<String>,
    pub from: Tool,
    pub identity: Identity,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub user: String,
    pub contexts: Vec<String>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub text: String,
    pub moved: Vec<Moved>,
    /// Already on kubectl-eks_token.
    pub already: Vec<String>,
    pub skipped: Vec<Skipped>,
}

impl Plan {
    pub fn contexts_moved(&self) -> usize {
        self.moved.iter().map(|m| m.contexts.len()).sum()
    }
}

struct Edit {
    range: std::ops::Range<usize>,
    text: String,
}

/// A scalar as YAML text: plain when it is unambiguously a string, else double-quoted (JSON
/// string syntax is YAML's double-quoted style).
fn scalar(value: &str, flow: bool) -> String {
    let plain_ok = !flow
        && !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@".contains(c))
        && value.starts_with(|c: char| c.is_ascii_alphabetic() || c == '-' || c == '/')
        && !value.ends_with(':')
        && !matches!(
            value.to_ascii_lowercase().as_str(),
            "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null"
        );
    if plain_ok {
        value.to_owned()
    } else {
        serde_json::Value::String(value.to_owned()).to_string()
    }
}

/// The `installHint` key at `indent`, its text as a literal block (`|-`, no trailing newline).
fn install_hint_lines(indent: &str) -> String {
    let mut out = format!("{indent}installHint: |-\n");
    for line in kubeconfig::INSTALL_HINT.lines() {
        out.push_str(&format!("{indent}  {line}\n"));
    }
    out
}

/// kubectl's supported exec API versions: v1alpha1 was removed in kubectl 1.24, so a stanza
/// that names it is moved to v1beta1 (supported since 1.11); v1beta1 and v1 are kept.
const V1ALPHA1: &str = "client.authentication.k8s.io/v1alpha1";

/// The edits that move `exec` (a user's exec mapping) onto kubectl-eks_token.
fn edits_for(text: &str, exec: &Node, identity: &Identity) -> Result<Vec<Edit>, String> {
    let mut edits = Vec::new();
    let command = exec.get("command").ok_or("no `command`")?;
    edits.push(Edit {
        range: command.start..command.end,
        text: kubeconfig::COMMAND.to_owned(),
    });
    let new_args = identity.args();
    match exec.get("args") {
        Some(args) if args.flow || args.items().is_empty() => {
            let items: Vec<String> = new_args.iter().map(|a| scalar(a, true)).collect();
            edits.push(Edit {
                range: args.start..args.end,
                text: format!("[{}]", items.join(", ")),
            });
        }
        Some(args) => {
            let dash = block_seq_start(text, args.items()[0].start)
                .ok_or("its `args` list has an unexpected layout")?;
            let indent = " ".repeat(text[line_start(text, dash)..dash].chars().count());
            let items: Vec<String> = new_args
                .iter()
                .map(|a| format!("- {}", scalar(a, false)))
                .collect();
            edits.push(Edit {
                range: dash..args.end,
                text: items.join(&format!("\n{indent}")),
            });
        }
        None => return Err("no `args`".into()),
    }
    if let Some(version) = exec.get("apiVersion")
        && version.str() == Some(V1ALPHA1)
    {
        edits.push(Edit {
            range: version.start..version.end,
            text: kubeconfig::EXEC_API_VERSION.to_owned(),
        });
    }
    if exec.get("installHint").is_none() && !exec.flow {
        let indent = " ".repeat(
            text[line_start(text, exec.start)..exec.start]
                .chars()
                .count(),
        );
        let at = next_line(text, exec.end);
        let newline = if at == text.len() && !text.ends_with('\n') {
            "\n"
        } else {
            ""
        };
        edits.push(Edit {
            range: at..at,
            text: format!("{newline}{}", install_hint_lines(&indent)),
        });
    }
    Ok(edits)
}

/// The text of a kubeconfig with the selected contexts' users moved onto kubectl-eks_token.
pub fn plan(text: &str, selection: &Selection) -> Result<Plan> {
    let root = parse_tree(text)?;
    let root = match &root {
        Some(
            n @ Node {
                kind: Kind::Map(_), ..
            },
        ) => n,
        None => {
            return Ok(Plan {
                text: text.to_owned(),
                moved: vec![],
                already: vec![],
                skipped: vec![],
            });
        }
        Some(_) => bail!("the kubeconfig is not a YAML mapping"),
    };
    // context name -> user name
    let contexts: Vec<(String, Option<String>)> = root
        .get("contexts")
        .map(Node::items)
        .unwrap_or_default()
        .iter()
        .filter_map(|c| {
            let name = c.get("name")?.str()?.to_owned();
            let user = c
                .get("context")
                .and_then(|x| x.get("user"))
                .and_then(Node::str)
                .map(str::to_owned);
            Some((name, user))
        })
        .collect();
    let wanted_contexts: Vec<&(String, Option<String>)> = match selection {
        Selection::All => contexts.iter().collect(),
        Selection::Current => {
            let current = root
                .get("current-context")
                .and_then(Node::str)
                .filter(|s| !s.is_empty())
                .context("the kubeconfig has no current context\n\nhint: name contexts with `--context NAME`, or pass `--all`")?;
            let found = contexts
                .iter()
                .filter(|(n, _)| n == current)
                .collect::<Vec<_>>();
            if found.is_empty() {
                bail!("the current context `{current}` is not in the kubeconfig");
            }
            found
        }
        Selection::Contexts(names) => {
            let mut found = Vec::new();
            for name in names {
                let c = contexts.iter().find(|(n, _)| n == name).with_context(|| {
                    let known: Vec<&str> = contexts.iter().map(|(n, _)| n.as_str()).collect();
                    format!(
                        "no context `{name}` in the kubeconfig\n\nhint: its contexts are: {}",
                        if known.is_empty() {
                            "(none)".to_owned()
                        } else {
                            known.join(", ")
                        }
                    )
                })?;
                found.push(c);
            }
            found
        }
    };
    let contexts_of = |user: &str| -> Vec<String> {
        contexts
            .iter()
            .filter(|(_, u)| u.as_deref() == Some(user))
            .map(|(n, _)| n.clone())
            .collect()
    };
    let mut wanted_users: Vec<String> = Vec::new();
    for (_, user) in &wanted_contexts {
        if let Some(u) = user
            && !wanted_users.contains(u)
        {
            wanted_users.push(u.clone());
        }
    }

    let mut moved = Vec::new();
    let mut already = Vec::new();
    let mut skipped = Vec::new();
    let mut edits: Vec<Edit> = Vec::new();
    let mut seen = Vec::new();
    for user in root.get("users").map(Node::items).unwrap_or_default() {
        let Some(name) = user.get("name").and_then(Node::str) else {
            continue;
        };
        // kubectl uses the first entry of a name.
        if seen.iter().any(|s| s == name) {
            continue;
        }
        seen.push(name.to_owned());
        let all = *selection == Selection::All;
        if !all && !wanted_users.iter().any(|u| u == name) {
            continue;
        }
        let skip = |reason: String| Skipped {
            user: name.to_owned(),
            contexts: contexts_of(name),
            reason,
        };
        let Some(exec) = user.get("user").and_then(|u| u.get("exec")) else {
            if !all {
                skipped.push(skip("it has no exec credential plugin".into()));
            }
            continue;
        };
        let command = exec.get("command").and_then(Node::str).unwrap_or("");
        let tool = tool_of(command);
        let args: Option<Vec<String>> = match exec.get("args") {
            None => Some(vec![]),
            Some(a) => a
                .items()
                .iter()
                .map(|n| n.str().map(str::to_owned))
                .collect(),
        };
        let translated = match (tool, args) {
            (Tool::Ours, _) => {
                already.push(name.to_owned());
                continue;
            }
            (Tool::Other, _) => Err(format!(
                "it runs `{command}`, not `aws eks get-token` or `aws-iam-authenticator token`"
            )),
            (_, None) => Err("its `args` are not a list of strings".to_owned()),
            (_, _) if exec.shared => Err("its exec stanza uses YAML anchors or aliases".to_owned()),
            (Tool::AwsCli, Some(args)) => translate_aws(&args),
            (Tool::Authenticator, Some(args)) => translate_authenticator(&args),
        };
        let env_names: Vec<String> = exec
            .get("env")
            .map(Node::items)
            .unwrap_or_default()
            .iter()
            .filter_map(|e| e.get("name").and_then(Node::str).map(str::to_owned))
            .collect();
        let translated = translated.and_then(|id| match env_problem(tool, &env_names) {
            Some(p) => Err(p),
            None => Ok(id),
        });
        match translated.and_then(|id| edits_for(text, exec, &id).map(|e| (id, e))) {
            Ok((identity, e)) => {
                edits.extend(e);
                moved.push(Moved {
                    user: name.to_owned(),
                    contexts: contexts_of(name),
                    from: tool,
                    identity,
                });
            }
            Err(reason) => skipped.push(skip(reason)),
        }
    }
    edits.sort_by_key(|e| e.range.start);
    let mut out = text.to_owned();
    for edit in edits.iter().rev() {
        out.replace_range(edit.range.clone(), &edit.text);
    }
    Ok(Plan {
        text: out,
        moved,
        already,
        skipped,
    })
}

// ---------------------------------------------------------------------------------------------
// I/O

/// The kept previous version of `path`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(BACKUP_SUFFIX);
    PathBuf::from(name)
}

/// `--kubeconfig`, else every file of KUBECONFIG, else `~/.kube/config`.
fn kubeconfig_paths(flag: Option<PathBuf>) -> Result<Vec<PathBuf>> {
    if let Some(p) = flag {
        return Ok(vec![p]);
    }
    if let Some(list) = env::var(env::KUBECONFIG) {
        let paths: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return Ok(paths);
        }
    }
    let home = env::var(env::HOME).context("HOME is not set; pass `--kubeconfig`")?;
    Ok(vec![PathBuf::from(home).join(".kube").join("config")])
}

fn describe(tool: Tool) -> &'static str {
    match tool {
        Tool::AwsCli => "aws eks get-token",
        Tool::Authenticator => "aws-iam-authenticator token",
        Tool::Ours | Tool::Other => "?",
    }
}

fn contexts_text(contexts: &[String]) -> String {
    if contexts.is_empty() {
        return "no context".to_owned();
    }
    let names: Vec<String> = contexts.iter().map(|c| format!("`{c}`")).collect();
    format!(
        "context{} {}",
        if contexts.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

pub fn run(args: AdoptArgs) -> Result<()> {
    let selection = if args.all {
        Selection::All
    } else if !args.context.is_empty() {
        Selection::Contexts(args.context.clone())
    } else {
        Selection::Current
    };
    let paths = kubeconfig_paths(args.kubeconfig.clone())?;
    if args.revert {
        return revert(&paths, args.dry_run);
    }
    let mut report = String::new();
    let mut diff = String::new();
    let mut total = 0;
    let mut already = 0;
    let mut selected_found = false;
    let mut last_err = None;
    for path in &paths {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && paths.len() > 1 => continue,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                bail!(
                    "no kubeconfig at `{}`\n\nhint: write one with `kubectl eks-token update-kubeconfig --name CLUSTER`, or pass `--kubeconfig PATH`",
                    path.display()
                );
            }
            Err(e) => {
                return Err(e).with_context(|| format!("reading kubeconfig `{}`", path.display()));
            }
        };
        // With several KUBECONFIG files, a named context lives in one of them.
        let plan = match plan(&text, &selection) {
            Ok(p) => p,
            Err(e) if paths.len() > 1 && selection != Selection::All => {
                last_err = Some(e);
                continue;
            }
            Err(e) => {
                return Err(e).with_context(|| format!("reading kubeconfig `{}`", path.display()));
            }
        };
        selected_found = true;
        let verb = if args.dry_run { "would move" } else { "moved" };
        for m in &plan.moved {
            report.push_str(&format!(
                "{verb} user `{}` ({}): {} -> kubectl-eks_token {}\n",
                m.user,
                contexts_text(&m.contexts),
                describe(m.from),
                m.identity.args().join(" ")
            ));
        }
        for s in &plan.skipped {
            report.push_str(&format!(
                "left user `{}` ({}) as it is: {}\n",
                s.user,
                contexts_text(&s.contexts),
                s.reason
            ));
        }
        for u in &plan.already {
            if selection != Selection::All {
                report.push_str(&format!("user `{u}` already runs kubectl-eks_token\n"));
            }
        }
        let n = plan.contexts_moved();
        total += n;
        already += plan.already.len();
        if plan.text == text {
            continue;
        }
        if args.dry_run {
            let name = path.display().to_string();
            diff.push_str(
                &similar::TextDiff::from_lines(&text, &plan.text)
                    .unified_diff()
                    .header(&name, &name)
                    .to_string(),
            );
            continue;
        }
        let backup = backup_path(path);
        let mode = secure_fs::mode_of(path).unwrap_or(0o600);
        secure_fs::write_atomic(&backup, text.as_bytes(), 0o600).with_context(|| {
            format!("keeping the previous kubeconfig in `{}`", backup.display())
        })?;
        secure_fs::write_atomic(path, plan.text.as_bytes(), mode)?;
        report.push_str(&format!(
            "{n} context{} moved to kubectl-eks_token in {} (previous version: {}; undo with `kubectl eks-token adopt --revert`)\n",
            if n == 1 { "" } else { "s" },
            path.display(),
            backup.display()
        ));
    }
    if !selected_found && let Some(e) = last_err {
        return Err(e);
    }
    if args.dry_run {
        report.push_str(&format!(
            "{total} context{} would move (dry run: nothing written)\n",
            if total == 1 { "" } else { "s" }
        ));
    } else if total == 0 {
        report.push_str(&match already {
            0 => "0 contexts moved: no user runs `aws eks get-token` or `aws-iam-authenticator token`\n".to_owned(),
            1 => "0 contexts moved: the user already runs kubectl-eks_token\n".to_owned(),
            n => format!("0 contexts moved: {n} users already run kubectl-eks_token\n"),
        });
    }
    eprint!("{report}");
    crate::get_token::write_stdout(&diff)
}

fn revert(paths: &[PathBuf], dry_run: bool) -> Result<()> {
    let mut reverted = 0;
    for path in paths {
        let backup = backup_path(path);
        let kept = match std::fs::read(&backup) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e).with_context(|| format!("reading `{}`", backup.display())),
        };
        reverted += 1;
        if dry_run {
            let now = std::fs::read_to_string(path).unwrap_or_default();
            let name = path.display().to_string();
            let kept_text = String::from_utf8_lossy(&kept);
            let diff = similar::TextDiff::from_lines(now.as_str(), &*kept_text)
                .unified_diff()
                .header(&name, &name)
                .to_string();
            crate::get_token::write_stdout(&diff)?;
            eprintln!(
                "would restore {} from {} (dry run: nothing written)",
                path.display(),
                backup.display()
            );
            continue;
        }
        let mode = secure_fs::mode_of(path).unwrap_or(0o600);
        secure_fs::write_atomic(path, &kept, mode)?;
        std::fs::remove_file(&backup)
            .with_context(|| format!("removing `{}`", backup.display()))?;
        eprintln!(
            "restored {} as it was before the last adopt",
            path.display()
        );
    }
    if reverted == 0 {
        let shown: Vec<String> = paths
            .iter()
            .map(|p| format!("`{}`", backup_path(p).display()))
            .collect();
        bail!(
            "nothing to revert: no {} beside the kubeconfig\n\nhint: `--revert` undoes the last `kubectl eks-token adopt` that changed the file",
            shown.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests;
