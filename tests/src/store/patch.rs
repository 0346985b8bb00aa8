//! PATCH: merge patches (RFC 7386) and strategic merge patches of these kinds.

use serde_json::{Map, Value};

use crate::kinds::Kind;
use crate::status::ApiError;

use super::Store;

/// How a PATCH body is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchType {
    /// `application/merge-patch+json` (RFC 7386).
    Merge,
    /// `application/strategic-merge-patch+json`: applied as a merge patch after dropping the
    /// `$`-directives; the lists of these kinds (rules, subjects) have no merge keys and are
    /// replaced whole either way.
    Strategic,
}

/// Removes strategic-merge-patch directives (`$patch`, `$setElementOrder/...`, `$retainKeys`, ...).
fn strip_directives(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(k, _)| !k.starts_with('$'))
                .map(|(k, v)| (k.clone(), strip_directives(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_directives).collect()),
        other => other.clone(),
    }
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = Value::Object(Map::new());
            }
            if let Value::Object(t) = target {
                for (k, v) in p {
                    if v.is_null() {
                        t.remove(k);
                    } else {
                        merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
                    }
                }
            }
        }
        other => *target = other.clone(),
    }
}

impl Store {
    /// The object a patch would produce (not written).
    pub fn patched(
        &self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
    ) -> Result<Value, ApiError> {
        let mut obj = self.get(kind, namespace, name)?;
        let patch = match patch_type {
            PatchType::Merge => patch.clone(),
            PatchType::Strategic => strip_directives(patch),
        };
        merge_patch(&mut obj, &patch);
        Ok(obj)
    }

    /// Applies a patch to the stored object and writes it as an update would; a patch that
    /// names a resourceVersion is a precondition, as on the real server.
    pub fn patch(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        patch_type: PatchType,
        patch: &Value,
        now: jiff::Timestamp,
    ) -> Result<Value, ApiError> {
        let obj = self.patched(kind, namespace, name, patch_type, patch)?;
        self.update(kind, namespace, name, &obj, now)
            .map(|(o, _)| o)
    }
}
