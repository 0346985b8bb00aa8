//! The plan: which users move, which stay (and why), and the edited kubeconfig text.

use anyhow::{Context, Result, bail};

use super::translate::{
    Identity, Tool, env_problem, tool_of, translate_authenticator, translate_aws,
};
use super::tree::{Kind, Node, block_seq_start, line_start, next_line, parse_tree};
use crate::kubeconfig;

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
pub(super) fn scalar(value: &str, flow: bool) -> String {
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
pub(super) fn install_hint_lines(indent: &str) -> String {
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
