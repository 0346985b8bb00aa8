//! The request log: one entry per request, in memory and optionally as JSON lines in a file.

use std::io::Write;
use std::sync::Mutex;

/// One served request. The query never holds secrets (tokens travel in headers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    pub query: String,
    /// The authenticated username, `system:anonymous`, or empty for a refused token.
    pub user: String,
    /// The user the request acted as through impersonation (`kubectl --as`), as kube-apiserver's
    /// audit log records `impersonatedUser`; empty without impersonation.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub impersonated_user: String,
    pub status: u16,
    /// Why authentication failed (for a 401), worded without secrets; empty otherwise.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub auth_error: String,
}

/// Shared, append-only.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<Vec<LoggedRequest>>,
    file: Option<Mutex<std::fs::File>>,
}

impl RequestLog {
    /// A log that also appends JSON lines to `path`.
    pub fn with_file(path: &std::path::Path) -> std::io::Result<RequestLog> {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)?;
        Ok(RequestLog {
            entries: Mutex::default(),
            file: Some(Mutex::new(file)),
        })
    }

    pub fn record(&self, entry: LoggedRequest) {
        if let Some(file) = &self.file {
            let mut line = serde_json::to_string(&entry).unwrap_or_default();
            line.push('\n');
            // The log is a test aid: a failed write must not fail the request.
            let _ = file
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .write_all(line.as_bytes());
        }
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(entry);
    }

    /// Everything logged so far.
    pub fn entries(&self) -> Vec<LoggedRequest> {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}
