//! `__complete`: shell completion in the protocol kubectl speaks with plugins, computed from a
//! plugin's clap [`Command`].
//!
//! kubectl 1.26+ completes `kubectl eks-grant <TAB>` by running `kubectl_complete-eks_grant`
//! (shipped in the release archives; it runs `kubectl-eks_grant __complete "$@"`) with the words
//! typed after the plugin name, the last one being the word under the cursor, and reads cobra's
//! `__complete` output: one candidate per line, optionally followed by a tab and a description,
//! then `:N`, a `ShellCompDirective` (kubectl `pkg/cmd/plugin/plugin_completion.go`; the contract
//! is in docs/krew.md, "What `__complete` must do").
//!
//! What is offered: subcommands and the values of a positional (its `possible_values`) where a
//! word is expected; flags with their help when the word starts with `-`; for a flag's value the
//! completer registered for its long name, else its `possible_values` (the `-o` value enum).
//! Built in: `--context` (kubeconfig contexts), `--profile` (AWS profiles), `--region` (AWS
//! regions); a plugin adds its own with [`Completer::values`]. No network, no prompt.

use std::fmt;
use std::io::Write;
use std::ops::BitOr;
use std::process::ExitCode;

use clap::{Arg, ArgAction, Command, ValueHint};

use super::values::{self, Env};

/// The hidden subcommand kubectl's completion helper runs.
pub const COMPLETE_SUBCOMMAND: &str = "__complete";

/// One completion candidate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub value: String,
    /// One line shown next to the value by shells that show descriptions (zsh, fish, bash with
    /// kubectl's v2 script).
    pub description: Option<String>,
}

impl Candidate {
    pub fn new(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            description: None,
        }
    }

    /// Sets the description: its first line, without a final period; none when that is empty.
    pub fn description(mut self, text: impl AsRef<str>) -> Self {
        let line = text.as_ref().lines().next().unwrap_or("").trim();
        let line = line.strip_suffix('.').unwrap_or(line).replace('\t', " ");
        self.description = (!line.is_empty()).then_some(line);
        self
    }

    /// The candidate's line in the protocol: `value` or `value<TAB>description`.
    pub fn to_line(&self) -> String {
        match &self.description {
            Some(d) => format!("{}\t{d}", self.value),
            None => self.value.clone(),
        }
    }
}

/// cobra's `ShellCompDirective`: what the shell does with the candidates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Directive(u32);

impl Directive {
    /// The shell may fall back to file names when there are no candidates.
    pub const DEFAULT: Self = Self(0);
    /// Completion failed; the shell offers nothing.
    pub const ERROR: Self = Self(1);
    /// No space after the candidate.
    pub const NO_SPACE: Self = Self(2);
    /// No file names, even when there are no candidates.
    pub const NO_FILE_COMP: Self = Self(4);
    /// The candidates are file extensions to filter file names by.
    pub const FILTER_FILE_EXT: Self = Self(8);
    /// Directory names only.
    pub const FILTER_DIRS: Self = Self(16);
    /// Keep the candidates in this order.
    pub const KEEP_ORDER: Self = Self(32);

    pub fn bits(self) -> u32 {
        self.0
    }
}

impl BitOr for Directive {
    type Output = Self;
    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

/// The answer to one `__complete` request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub candidates: Vec<Candidate>,
    pub directive: Directive,
}

impl fmt::Display for Completion {
    /// The protocol text: candidate lines, then `:N`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for candidate in &self.candidates {
            writeln!(f, "{}", candidate.to_line())?;
        }
        writeln!(f, ":{}", self.directive.bits())
    }
}

/// What a value completer may look at: the environment and the flags typed so far.
#[derive(Debug)]
pub struct ValueContext<'a> {
    env: &'a Env,
    typed: &'a [(String, String)],
}

impl ValueContext<'_> {
    pub fn env(&self) -> &Env {
        self.env
    }

    /// The last value typed for the flag `--long` (or a positional with that id), as typed.
    pub fn flag(&self, long: &str) -> Option<&str> {
        self.typed
            .iter()
            .rev()
            .find(|(key, _)| key == long)
            .map(|(_, value)| value.as_str())
    }
}

type ValueFn = Box<dyn Fn(&ValueContext<'_>) -> Vec<Candidate>>;

/// Completes the command line of one plugin.
pub struct Completer {
    cmd: Command,
    /// Value completers by long flag name (or positional id); the last registered wins.
    values: Vec<(String, ValueFn)>,
}

impl fmt::Debug for Completer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Completer")
            .field("cmd", &self.cmd.get_name())
            .field(
                "values",
                &self.values.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Completer {
    /// A completer for `cmd` with the built-in value completers of `--context`, `--profile` and
    /// `--region` (they apply only where the command has those flags).
    pub fn new(mut cmd: Command) -> Self {
        // Building propagates the global flags into every subcommand and adds `--help`.
        cmd.build();
        Self {
            cmd,
            values: Vec::new(),
        }
        .values("context", |ctx| {
            values::kubeconfig_contexts(&values::kubeconfig_paths(
                ctx.flag("kubeconfig"),
                ctx.env(),
            ))
        })
        .values("profile", |ctx| values::aws_profiles(ctx.env()))
        .values("region", |_| values::regions())
    }

    /// Completes the values of the flag `--long` (or the positional with id `long`) with `f`.
    pub fn values(
        mut self,
        long: &str,
        f: impl Fn(&ValueContext<'_>) -> Vec<Candidate> + 'static,
    ) -> Self {
        self.values.push((long.to_owned(), Box::new(f)));
        self
    }

    /// Completes `words`: the words typed after the plugin name, the last one being the word
    /// under the cursor (`""` when a new word starts).
    pub fn complete(&self, words: &[String], env: &Env) -> Completion {
        let (current, before) = match words.split_last() {
            Some((current, before)) => (current.as_str(), before),
            None => ("", &[][..]),
        };
        let mut walk = Walk::new(&self.cmd);
        for word in before {
            walk.step(word);
        }
        let ctx = ValueContext {
            env,
            typed: &walk.typed,
        };

        if let Some(arg) = walk.pending {
            return self.arg_values(arg, current, "", &ctx);
        }
        if walk.only_positionals || !current.starts_with('-') {
            return self.word(&walk, current, &ctx);
        }
        if let Some(long) = current.strip_prefix("--") {
            if let Some((name, value)) = long.split_once('=') {
                // `--flag=va`: the shells strip `--flag=` from the word before filtering and put
                // it back themselves (cobra's bash, zsh and fish scripts), so the candidates are
                // bare values.
                return match find_long(walk.cmd, name).filter(|a| takes_value(a)) {
                    Some(arg) => self.arg_values(arg, value, "", &ctx),
                    None => no_candidates(),
                };
            }
            return flags(&walk, current);
        }
        // `-o`, `-o=ya`, `-oya`, or a cluster of short flags.
        let shorts = &current[1..];
        if let Some(first) = shorts.chars().next()
            && let Some(arg) = find_short(walk.cmd, first).filter(|a| takes_value(a))
        {
            let rest = &shorts[first.len_utf8()..];
            if let Some(value) = rest.strip_prefix('=') {
                return self.arg_values(arg, value, "", &ctx);
            }
            if !rest.is_empty() {
                let prefix = &current[..1 + first.len_utf8()];
                return self.arg_values(arg, rest, prefix, &ctx);
            }
        }
        flags(&walk, current)
    }

    /// A word that is not a flag: a subcommand, or a positional's value.
    fn word(&self, walk: &Walk<'_>, current: &str, ctx: &ValueContext<'_>) -> Completion {
        let mut candidates = Vec::new();
        if walk.subcommand_allowed() {
            candidates.extend(
                walk.cmd
                    .get_subcommands()
                    .filter(|s| !s.is_hide_set())
                    .map(|s| {
                        let about = s.get_about().map(|a| a.to_string()).unwrap_or_default();
                        Candidate::new(s.get_name()).description(about)
                    }),
            );
        }
        let mut directive = Directive::NO_FILE_COMP;
        if let Some(arg) = walk.next_positional() {
            let values = self.arg_values(arg, current, "", ctx);
            candidates.extend(values.candidates);
            if candidates.is_empty() {
                directive = values.directive;
            }
        }
        Completion {
            candidates: filter(candidates, current, ""),
            directive,
        }
    }

    /// The values of `arg` starting with `typed`, each prefixed with `prefix`.
    fn arg_values(
        &self,
        arg: &Arg,
        typed: &str,
        prefix: &str,
        ctx: &ValueContext<'_>,
    ) -> Completion {
        let key = arg_key(arg);
        let candidates = match self.values.iter().rev().find(|(k, _)| *k == key) {
            Some((_, f)) => f(ctx),
            None => arg
                .get_possible_values()
                .into_iter()
                .filter(|v| !v.is_hide_set())
                .map(|v| {
                    let help = v.get_help().map(|h| h.to_string()).unwrap_or_default();
                    Candidate::new(v.get_name()).description(help)
                })
                .collect(),
        };
        let directive = match arg.get_value_hint() {
            ValueHint::AnyPath | ValueHint::FilePath | ValueHint::ExecutablePath => {
                Directive::DEFAULT
            }
            ValueHint::DirPath => Directive::FILTER_DIRS,
            _ => Directive::NO_FILE_COMP,
        };
        Completion {
            candidates: filter(candidates, typed, prefix),
            directive,
        }
    }
}

/// The state after the words before the cursor: which (sub)command they reached, how many of
/// its positionals are filled, whether a flag waits for its value, which flags were given.
struct Walk<'a> {
    cmd: &'a Command,
    positionals: usize,
    pending: Option<&'a Arg>,
    only_positionals: bool,
    /// A flag or positional of `cmd` was given (which rules out a subcommand where the command
    /// sets `args_conflicts_with_subcommands`, as eks-token does).
    args_given: bool,
    seen: Vec<&'a clap::Id>,
    typed: Vec<(String, String)>,
}

impl<'a> Walk<'a> {
    fn new(cmd: &'a Command) -> Self {
        Self {
            cmd,
            positionals: 0,
            pending: None,
            only_positionals: false,
            args_given: false,
            seen: Vec::new(),
            typed: Vec::new(),
        }
    }

    fn step(&mut self, word: &str) {
        if let Some(arg) = self.pending.take() {
            self.typed.push((arg_key(arg), word.to_owned()));
            return;
        }
        if !self.only_positionals && word == "--" {
            self.only_positionals = true;
            return;
        }
        if !self.only_positionals && word.len() > 1 && word.starts_with('-') {
            if let Some(long) = word.strip_prefix("--") {
                let (name, value) = match long.split_once('=') {
                    Some((name, value)) => (name, Some(value)),
                    None => (long, None),
                };
                if let Some(arg) = find_long(self.cmd, name) {
                    self.flag(arg, value);
                }
                return;
            }
            // `-n`, `-nfoo`, `-n=foo`, or a cluster of flags without values (`-ab`).
            for (i, c) in word.char_indices().skip(1) {
                let Some(arg) = find_short(self.cmd, c) else {
                    return;
                };
                if takes_value(arg) {
                    let rest = &word[i + c.len_utf8()..];
                    let rest = rest.strip_prefix('=').unwrap_or(rest);
                    self.flag(arg, (!rest.is_empty()).then_some(rest));
                    return;
                }
                self.flag(arg, None);
            }
            return;
        }
        if self.subcommand_allowed()
            && let Some(sub) = self.cmd.find_subcommand(word)
        {
            self.cmd = sub;
            self.args_given = false;
            return;
        }
        self.args_given = true;
        if let Some(arg) = self.next_positional() {
            self.typed.push((arg_key(arg), word.to_owned()));
        }
        self.positionals += 1;
    }

    /// Whether the next plain word may be a subcommand.
    fn subcommand_allowed(&self) -> bool {
        self.positionals == 0
            && !self.only_positionals
            && !(self.args_given && self.cmd.is_args_conflicts_with_subcommands_set())
    }

    fn flag(&mut self, arg: &'a Arg, value: Option<&str>) {
        self.args_given = true;
        self.seen.push(arg.get_id());
        match value {
            Some(value) => self.typed.push((arg_key(arg), value.to_owned())),
            None if takes_value(arg) => self.pending = Some(arg),
            None => {}
        }
    }

    /// The positional the next plain word fills: the next one, or the last if it repeats.
    fn next_positional(&self) -> Option<&'a Arg> {
        let positionals: Vec<&Arg> = self.cmd.get_positionals().collect();
        positionals.get(self.positionals).copied().or_else(|| {
            positionals
                .last()
                .copied()
                .filter(|a| matches!(a.get_action(), ArgAction::Append))
        })
    }
}

/// The flags of the reached command starting with `current`, with their help, leaving out
/// hidden ones and those already given that cannot repeat.
fn flags(walk: &Walk<'_>, current: &str) -> Completion {
    let mut candidates = Vec::new();
    for arg in walk.cmd.get_arguments() {
        if arg.is_positional() || arg.is_hide_set() {
            continue;
        }
        let repeatable = matches!(arg.get_action(), ArgAction::Append | ArgAction::Count);
        if !repeatable && walk.seen.contains(&arg.get_id()) {
            continue;
        }
        let help = match arg.get_help() {
            // clap's own `--help` reads "Print help (see more with '--help')" where long help
            // exists: a pointer to itself, noise next to a completion candidate.
            _ if arg.get_id() == "help"
                && matches!(
                    arg.get_action(),
                    ArgAction::Help | ArgAction::HelpShort | ArgAction::HelpLong
                ) =>
            {
                "Print help".to_owned()
            }
            Some(help) => help.to_string(),
            None => String::new(),
        };
        if let Some(long) = arg.get_long() {
            candidates.push(Candidate::new(format!("--{long}")).description(&help));
        }
        if let Some(short) = arg.get_short() {
            candidates.push(Candidate::new(format!("-{short}")).description(&help));
        }
    }
    Completion {
        candidates: filter(candidates, current, ""),
        directive: Directive::NO_FILE_COMP,
    }
}

fn no_candidates() -> Completion {
    Completion {
        candidates: Vec::new(),
        directive: Directive::NO_FILE_COMP,
    }
}

/// Keeps the candidates starting with `typed` that fit on one protocol line; prefixes `prefix`.
fn filter(candidates: Vec<Candidate>, typed: &str, prefix: &str) -> Vec<Candidate> {
    candidates
        .into_iter()
        .filter(|c| c.value.starts_with(typed) && !c.value.contains(['\n', '\t']))
        .map(|mut c| {
            c.value.insert_str(0, prefix);
            c
        })
        .collect()
}

fn find_long<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    cmd.get_arguments().find(|a| {
        a.get_long() == Some(name)
            || a.get_all_aliases()
                .is_some_and(|aliases| aliases.contains(&name))
    })
}

fn find_short(cmd: &Command, c: char) -> Option<&Arg> {
    cmd.get_arguments().find(|a| {
        a.get_short() == Some(c)
            || a.get_all_short_aliases()
                .is_some_and(|aliases| aliases.contains(&c))
    })
}

fn takes_value(arg: &Arg) -> bool {
    arg.get_action().takes_values()
}

/// The key value completers are registered under: the long name, else the id.
fn arg_key(arg: &Arg) -> String {
    arg.get_long()
        .map(str::to_owned)
        .unwrap_or_else(|| arg.get_id().to_string())
}

/// Answers `__complete` when the process was started as `BIN __complete WORD... CURRENT`: writes
/// the completion to stdout and returns the exit code (always success: on failure kubectl drops
/// every candidate). Returns `None` for any other command line, before anything is parsed.
///
/// `completer` is only called for a completion request, so `main` pays nothing otherwise.
pub fn run_if_requested(completer: impl FnOnce() -> Completer) -> Option<ExitCode> {
    let mut args = std::env::args_os().skip(1);
    if args.next()? != COMPLETE_SUBCOMMAND {
        return None;
    }
    let words: Vec<String> = args.map(|a| a.to_string_lossy().into_owned()).collect();
    let completion = completer().complete(&words, &Env::from_process());
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (the shell gave up waiting) is not worth a message.
    let _ = stdout
        .write_all(completion.to_string().as_bytes())
        .and_then(|()| stdout.flush());
    Some(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests;
