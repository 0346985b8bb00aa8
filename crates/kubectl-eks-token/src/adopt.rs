//! `adopt`: move existing kubeconfig users from `aws eks get-token` or `aws-iam-authenticator
//! token` onto `kubectl-eks_token`, with the same identity.
//!
//! Pure: `plan::plan` takes the kubeconfig's text and the selection and returns the new text, which
//! users moved and which were left alone (with the reason). It edits only the bytes of the
//! `command`, `args` and (for `v1alpha1`) `apiVersion` values of each adopted `exec` stanza and
//! adds an `installHint` line; every other byte of the file is kept, comments and key order
//! included. The file is never re-serialised.
//!
//! I/O: [`run`] reads the file, writes the version before the edit beside it (`PATH.before-adopt`,
//! 0600), then the new version atomically with the file's mode; `--revert` puts the kept version
//! back. A stanza is translated only when every argument is understood: an unknown flag leaves
//! the stanza as it is, named with the reason.
//!
//! Modules: `tree` (the YAML with byte ranges), `translate` (a stanza's flags into ours), `plan`
//! (which users move and the edited text); the I/O is here.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use crate::cli::AdoptArgs;
use crate::secure_fs;
use eks_auth::env;

/// The suffix of the kept previous version, beside the kubeconfig.
pub const BACKUP_SUFFIX: &str = ".before-adopt";

mod plan;
mod translate;
mod tree;

use plan::{Selection, plan};
use translate::Tool;

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
