//! The subcommands, one module each: validated requests in, the store through
//! [`crate::backend::Backend`], RBAC through [`crate::rbac_io`], reports ([`crate::report`]) out.

pub mod add;
pub mod check;
pub mod list;
pub mod presets;
pub mod revoke;
pub mod undo;

use eks_auth::arn::Arn;
use eks_auth::kube::Caller;

/// The caller's canonical IAM ARN, when the authenticator told it.
fn caller_arn(caller: &Caller) -> Option<Arn> {
    caller
        .arn()
        .and_then(|a| a.parse::<Arn>().ok())
        .map(|a| a.canonical())
}

/// An error after part of a change was written: the error, what was done, and what to do, with
/// the error's own hint (if any) and `todo` under one `hint:` at the end.
pub(crate) fn partly_done(err: &anyhow::Error, done: &str, todo: &str) -> anyhow::Error {
    let text = format!("{err:#}");
    let (what, hint) = match text.split_once("\n\nhint: ") {
        Some((what, hint)) => (what.to_owned(), format!("{hint}\n      {todo}")),
        None => (text, todo.to_owned()),
    };
    anyhow::anyhow!("{what}\n\n{done}\n\nhint: {hint}")
}
