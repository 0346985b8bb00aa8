//! How errors, hints and exit codes reach the user: the one place every plugin's `main` goes
//! through (ripgrep routes every hint through one place; a hint added here is a hint for all
//! three plugins).
//!
//! An error prints as `error: <the chain, a: b: c>`, then, after a blank line, `hint: ...` when
//! the first error in the chain that knows one ([`AwsError::hint`](crate::aws::AwsError::hint),
//! [`KubeError::hint`](crate::kube::KubeError::hint)) has something to say and the message does
//! not carry its own `hint:` already. Nothing is printed on stdout.

use std::error::Error;
use std::io::Write;
use std::process::ExitCode;

use crate::errors::chain_text;

/// Exit codes shared by the plugins. A plugin may give its own outcomes their own codes above
/// these (eks-whoami does, see its README table).
pub mod exit {
    /// Success.
    pub const SUCCESS: u8 = 0;
    /// Any failure without a code of its own.
    pub const FAILURE: u8 = 1;
    /// The command line was wrong (clap's own code for usage errors).
    pub const USAGE: u8 = 2;
}

/// Parses the command line; on an error prints clap's message and returns `usage` as the exit
/// code (help and version print and return success).
pub fn parse_or_exit<C: clap::Parser>(usage: u8) -> Result<C, ExitCode> {
    C::try_parse().map_err(|err| {
        let _ = err.print();
        if err.use_stderr() {
            ExitCode::from(usage)
        } else {
            ExitCode::SUCCESS
        }
    })
}

/// The first hint the chain has to offer.
pub fn hint_of(err: &(dyn Error + 'static)) -> Option<String> {
    let mut current = Some(err);
    while let Some(e) = current {
        #[cfg(feature = "aws")]
        if let Some(hint) = e
            .downcast_ref::<crate::aws::AwsError>()
            .and_then(|a| a.hint())
        {
            return Some(hint);
        }
        #[cfg(feature = "kube")]
        if let Some(hint) = e
            .downcast_ref::<crate::kube::KubeError>()
            .and_then(|k| k.hint())
        {
            return Some(hint);
        }
        current = e.source();
    }
    None
}

/// The error's text as the user sees it, without the `error: ` prefix: the chain, then the hint
/// after a blank line.
pub fn error_report(err: &(dyn Error + 'static)) -> String {
    let mut text = chain_text(err);
    if !text.contains("\nhint: ")
        && let Some(hint) = hint_of(err)
    {
        text.push_str("\n\nhint: ");
        text.push_str(&hint);
    }
    text
}

/// Prints `error: ...` (and the hint) on stderr.
pub fn print_error(err: &(dyn Error + 'static)) {
    let text = format!("error: {}\n", error_report(err));
    let _ = std::io::stderr().write_all(text.as_bytes());
}

/// Prints the error and returns the exit code to end with.
pub fn fail(err: &(dyn Error + 'static), code: u8) -> ExitCode {
    print_error(err);
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("doing the thing")]
    struct Context(#[source] Box<dyn Error + Send + Sync>);

    #[test]
    fn a_plain_error_has_no_hint() {
        let err = Context("gone".into());
        assert_eq!(error_report(&err), "doing the thing: gone");
    }

    #[test]
    fn a_message_with_its_own_hint_gets_no_second_one() {
        let err = Context("bad\n\nhint: do this".into());
        assert_eq!(error_report(&err), "doing the thing: bad\n\nhint: do this");
    }

    #[cfg(feature = "aws")]
    #[test]
    fn an_aws_hint_anywhere_in_the_chain_is_shown() {
        let err = Context(Box::new(crate::aws::AwsError::NoRegion));
        assert_eq!(
            error_report(&err),
            "doing the thing: no AWS region configured\n\nhint: pass `--region`, set AWS_REGION, or set `region` in the profile (`aws configure`)"
        );
    }

    #[cfg(feature = "kube")]
    #[test]
    fn a_kube_hint_anywhere_in_the_chain_is_shown() {
        let err = Context(Box::new(crate::kube::KubeError::ExecNotFound {
            context: "c".to_owned(),
            command: "aws".to_owned(),
            install_hint: None,
        }));
        assert!(
            error_report(&err).ends_with(
                "\n\nhint: install the AWS CLI v2 (`aws --version` should work), or add the directory that holds `aws` to PATH"
            ),
            "{}",
            error_report(&err)
        );
    }
}
