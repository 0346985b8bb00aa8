//! The plugins' unit tests of their clap definitions (`src/cli.rs` of each): clap's own checks
//! over the whole command tree, and parsing a command line written as one string.

use std::fmt::Debug;

use clap::error::ErrorKind;
use clap::{CommandFactory, Parser};

/// Clap's debug assertions over every subcommand and flag of `C` (conflicting names, defaults
/// that are not possible values, ...): they run only when a command is built, so a test builds it.
pub fn assert_consistent<C: CommandFactory>() {
    C::command().debug_assert();
}

/// `line` split at white space, the binary's name first, parsed as `C`; a parse error fails the
/// test with clap's message. For arguments without spaces (write those with `try_parse_from`).
#[track_caller]
pub fn parse<C: Parser>(line: &str) -> C {
    C::try_parse_from(line.split_whitespace()).unwrap_or_else(|e| panic!("`{line}`: {e}"))
}

/// The kind of error clap refuses `line` with (split as [`parse`] splits it); parsing fails the
/// test.
#[track_caller]
pub fn parse_error<C: Parser + Debug>(line: &str) -> ErrorKind {
    match C::try_parse_from(line.split_whitespace()) {
        Ok(parsed) => panic!("`{line}` parsed, as {parsed:?}; expected an error"),
        Err(e) => e.kind(),
    }
}
