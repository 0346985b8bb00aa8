//! Watches: the window of recent changes (a watch from an older resourceVersion gets 410 Gone)
//! and the broadcast of each change to the running watches.

use serde_json::Value;

use crate::kinds::Kind;

use super::{Store, meta_str};

/// How many changes the history keeps (kube-apiserver's watch cache keeps a window too; a watch
/// from an older resourceVersion gets 410 Gone).
const HISTORY: usize = 4096;

/// A watch event type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeType {
    Added,
    Modified,
    Deleted,
}

impl ChangeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeType::Added => "ADDED",
            ChangeType::Modified => "MODIFIED",
            ChangeType::Deleted => "DELETED",
        }
    }
}

/// One change to one object, as a watch reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub revision: u64,
    pub resource: &'static str,
    pub namespace: String,
    pub change: ChangeType,
    pub object: Value,
}

/// A watch started on the store: what happened since its resourceVersion (or the current
/// objects as ADDED), then everything announced after.
#[derive(Debug)]
pub struct WatchStart {
    pub initial: Vec<Change>,
    pub receiver: tokio::sync::broadcast::Receiver<Change>,
}

impl Store {
    /// Records a change at the current revision and announces it to watches.
    pub(super) fn emit(&mut self, kind: &Kind, change: ChangeType, object: &Value) {
        let c = Change {
            revision: self.revision,
            resource: kind.resource,
            namespace: meta_str(object, "namespace").to_string(),
            change,
            object: object.clone(),
        };
        if let Some(tx) = &self.watchers {
            // No receiver is not an error: nobody is watching.
            let _ = tx.send(c.clone());
        }
        self.history.push_back(c);
        if self.history.len() > HISTORY {
            self.history.pop_front();
        }
    }

    /// Starts a watch of `kind` (in `namespace`, or all): from resourceVersion `from` (the
    /// changes after it), or for `None` the current objects as ADDED events first. `Err` with
    /// the oldest revision still known when `from` is older than the history.
    pub fn watch(
        &mut self,
        kind: &'static Kind,
        namespace: Option<&str>,
        from: Option<u64>,
    ) -> Result<WatchStart, u64> {
        let in_scope = |ns: &str| namespace.is_none_or(|want| !kind.namespaced || ns == want);
        let initial = match from {
            None => self
                .objects
                .range((kind.resource, String::new(), String::new())..)
                .take_while(|((r, _, _), _)| *r == kind.resource)
                .filter(|((_, ns, _), _)| in_scope(ns))
                .map(|((_, ns, _), obj)| Change {
                    revision: self.revision,
                    resource: kind.resource,
                    namespace: ns.clone(),
                    change: ChangeType::Added,
                    object: obj.clone(),
                })
                .collect(),
            Some(rv) => {
                let oldest = self.history.front().map_or(self.revision, |c| c.revision);
                if rv + 1 < oldest && rv < self.revision {
                    return Err(oldest);
                }
                self.history
                    .iter()
                    .filter(|c| c.revision > rv && c.resource == kind.resource)
                    .filter(|c| in_scope(&c.namespace))
                    .cloned()
                    .collect()
            }
        };
        let tx = self
            .watchers
            .get_or_insert_with(|| tokio::sync::broadcast::channel(1024).0);
        Ok(WatchStart {
            initial,
            receiver: tx.subscribe(),
        })
    }
}
