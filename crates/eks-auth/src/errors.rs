//! Pure: an error and its causes as one line, the way anyhow's `{:#}` prints them.

use std::error::Error;

/// `err` and its `source()` chain joined with `: `.
pub fn chain_text(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("reading `x`")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn joins_the_chain() {
        let err = Outer(std::io::Error::other("gone"));
        assert_eq!(chain_text(&err), "reading `x`: gone");
    }
}
