//! A one-line progress indicator on stderr, shown only when stderr is a terminal (never in
//! pipes or logs).

use std::cell::Cell;
use std::io::{IsTerminal, Write};

/// Writes `\r`-overwritten status lines; `done` clears the line.
#[derive(Debug)]
pub struct Progress {
    enabled: bool,
    shown: Cell<bool>,
}

impl Progress {
    /// Shown when asked for and stderr is a terminal.
    pub fn new(wanted: bool) -> Progress {
        Progress {
            enabled: wanted && std::io::stderr().is_terminal(),
            shown: Cell::new(false),
        }
    }

    /// Replaces the line with `message`.
    pub fn step(&self, message: &str) {
        if !self.enabled {
            return;
        }
        let mut err = std::io::stderr().lock();
        // \x1b[2K erases the line; plain text otherwise, so NO_COLOR has nothing to strip.
        let _ = write!(err, "\r\x1b[2K{message}…");
        let _ = err.flush();
        self.shown.set(true);
    }

    /// Erases the line.
    pub fn done(&self) {
        if self.enabled && self.shown.get() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.shown.set(false);
        }
    }
}
