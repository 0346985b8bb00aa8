//! sha256 sums in `sha256sum` format: `<64 lower-case hex>  <file name>` per line.
//!
//! Lines starting with `#` are comments (the committed krew-manifests/checksums.txt says in one
//! where its sums come from); `sha256sum -c` skips them with a warning.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum ChecksumsError {
    #[error("line {line}: expected `<sha256>  <file>`, found `{text}`")]
    Malformed { line: usize, text: String },
    #[error("line {line}: `{sum}` is not 64 lower-case hex digits")]
    BadSum { line: usize, sum: String },
    #[error("line {line}: `{file}` is listed twice")]
    Duplicate { line: usize, file: String },
}

/// Sums by file name (the archive's base name), sorted so that writing is deterministic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checksums {
    sums: BTreeMap<String, String>,
}

impl Checksums {
    pub fn parse(text: &str) -> Result<Checksums, ChecksumsError> {
        let mut sums = BTreeMap::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            let trimmed = raw.trim_end();
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            // `sha256sum` writes two spaces, or ` *` in binary mode.
            let (sum, file) = trimmed
                .split_once("  ")
                .or_else(|| trimmed.split_once(" *"))
                .ok_or_else(|| ChecksumsError::Malformed {
                    line,
                    text: trimmed.to_owned(),
                })?;
            if !is_sha256(sum) {
                return Err(ChecksumsError::BadSum {
                    line,
                    sum: sum.to_owned(),
                });
            }
            if file.is_empty() {
                return Err(ChecksumsError::Malformed {
                    line,
                    text: trimmed.to_owned(),
                });
            }
            if sums.insert(file.to_owned(), sum.to_owned()).is_some() {
                return Err(ChecksumsError::Duplicate {
                    line,
                    file: file.to_owned(),
                });
            }
        }
        Ok(Checksums { sums })
    }

    pub fn insert(&mut self, file: impl Into<String>, sum: impl Into<String>) {
        self.sums.insert(file.into(), sum.into());
    }

    pub fn get(&self, file: &str) -> Option<&str> {
        self.sums.get(file).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.sums.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sums.is_empty()
    }

    /// `sha256sum` format, sorted by file name, each line ending in `\n`.
    pub fn render(&self) -> String {
        self.sums
            .iter()
            .map(|(file, sum)| format!("{sum}  {file}\n"))
            .collect()
    }
}

/// krew's rule for `sha256`: `^[a-f0-9]{64}$`.
pub fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(sha256_hex(b""), A);
    }

    #[test]
    fn round_trips_sorted_and_skips_comments() {
        let text = format!("# built here\n{A}  b.tar.gz\n{A} *a.zip\n\n");
        let sums = Checksums::parse(&text).unwrap();
        assert_eq!(sums.get("a.zip"), Some(A));
        assert_eq!(sums.len(), 2);
        assert_eq!(sums.render(), format!("{A}  a.zip\n{A}  b.tar.gz\n"));
    }

    #[test]
    fn rejects_upper_case_sum() {
        let err = Checksums::parse(&format!("{}  a.zip\n", A.to_uppercase())).unwrap_err();
        assert!(
            matches!(err, ChecksumsError::BadSum { line: 1, .. }),
            "{err}"
        );
    }

    #[test]
    fn rejects_duplicate_and_malformed_lines() {
        let dup = Checksums::parse(&format!("{A}  a.zip\n{A}  a.zip\n")).unwrap_err();
        assert_eq!(dup.to_string(), "line 2: `a.zip` is listed twice");
        let bad = Checksums::parse("nonsense\n").unwrap_err();
        assert_eq!(
            bad.to_string(),
            "line 1: expected `<sha256>  <file>`, found `nonsense`"
        );
    }
}
