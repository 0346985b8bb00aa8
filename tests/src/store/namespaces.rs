//! Namespace lifecycle: a deleted namespace is Terminating until the namespace controller
//! would have emptied it; the root CA ConfigMap published in each namespace.

use std::collections::BTreeSet;

use serde_json::{Value, json};

use crate::kinds::Kind;
use crate::status::ApiError;

use super::watch::ChangeType;
use super::{Key, Store, format_time, meta_str};

/// How long a deleted namespace stays `Terminating` before the namespace controller has removed
/// its contents and it (kube-controller-manager takes seconds; deletes of its objects in the
/// meantime still succeed, as `kubectl delete -f` of a List holding the namespace relies on).
/// Long enough that a test on a loaded 2-core machine still sees the Terminating phase (1 s
/// was not: the field-selector read came after the namespace had gone; the fidelity test now
/// also holds the namespace with a finalizer of its own).
pub const NAMESPACE_FINALIZE_DELAY: std::time::Duration = std::time::Duration::from_secs(4);

impl Store {
    /// A namespace's deletion as the namespace registry does it: the `kubernetes` finalizer keeps
    /// it, `Terminating` with a deletionTimestamp, until the namespace controller has emptied it
    /// ([`Store::finalize_namespaces`]). Deleting it again is a 409 worded as the registry's.
    pub(super) fn terminate_namespace(
        &mut self,
        kind: &'static Kind,
        name: &str,
        now: jiff::Timestamp,
    ) -> Result<Value, ApiError> {
        let key = Store::key(kind, "", name);
        if self.namespace_terminating(name) {
            return Err(ApiError::conflict_because(
                kind,
                name,
                "The system is ensuring all content is removed from this namespace.  Upon completion, this namespace will automatically be purged by the system.",
            ));
        }
        let rv = self.next_revision();
        let obj = self.objects.get_mut(&key).expect("checked by the caller");
        obj["metadata"]["deletionTimestamp"] = json!(format_time(now));
        obj["metadata"]["deletionGracePeriodSeconds"] = json!(0);
        obj["metadata"]["resourceVersion"] = json!(rv);
        obj["status"]["phase"] = json!("Terminating");
        let obj = obj.clone();
        self.terminating_since.insert(name.to_string(), now);
        self.emit(kind, ChangeType::Modified, &obj);
        Ok(obj)
    }

    /// kube-controller-manager's root-ca-cert-publisher: every namespace gets a
    /// `kube-root-ca.crt` ConfigMap with the cluster CA (taken here from kube-system's copy).
    pub(super) fn publish_root_ca(&mut self, namespace: &str, now: jiff::Timestamp) {
        let Some(cm_kind) = Kind::by_kind("ConfigMap") else {
            return;
        };
        let source = (
            "configmaps",
            "kube-system".to_string(),
            "kube-root-ca.crt".to_string(),
        );
        let Some(ca) = self
            .objects
            .get(&source)
            .map(|cm| cm["data"]["ca.crt"].clone())
        else {
            return;
        };
        let body = json!({"metadata": {"name": "kube-root-ca.crt",
            "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."}},
            "data": {"ca.crt": ca}});
        // Cannot fail: the namespace was just created and the name is valid.
        let _ = self.create(cm_kind, namespace, &body, now);
    }

    /// Whether namespace `ns` is being deleted.
    pub fn namespace_terminating(&self, ns: &str) -> bool {
        self.objects
            .get(&("namespaces", String::new(), ns.to_string()))
            .is_some_and(|n| n["status"]["phase"] == "Terminating")
    }

    /// The namespace controller: every namespace Terminating for [`NAMESPACE_FINALIZE_DELAY`]
    /// loses its objects and its `kubernetes` finalizer, then is removed unless
    /// `metadata.finalizers` still holds it. Returns how many namespaces went.
    pub fn finalize_namespaces(&mut self, now: jiff::Timestamp) -> usize {
        let due: Vec<String> = self
            .objects
            .iter()
            .filter(|((r, _, _), _)| *r == "namespaces")
            .filter(|(_, n)| n["status"]["phase"] == "Terminating")
            .filter(|((_, _, name), n)| {
                let since = self.terminating_since.get(name).copied().or_else(|| {
                    meta_str(n, "deletionTimestamp")
                        .parse::<jiff::Timestamp>()
                        .ok()
                });
                let delay =
                    jiff::SignedDuration::try_from(NAMESPACE_FINALIZE_DELAY).unwrap_or_default();
                since.is_some_and(|t| t.checked_add(delay).is_ok_and(|end| end <= now))
            })
            .map(|((_, _, name), _)| name.clone())
            .collect();
        let mut removed = 0;
        for ns in &due {
            let contents: Vec<Key> = self
                .objects
                .keys()
                .filter(|(_, n, _)| n == ns)
                .cloned()
                .collect();
            for key in contents {
                if let Some(obj) = self.objects.remove(&key) {
                    self.next_revision();
                    if let Some(kind) = Kind::by_kind(obj["kind"].as_str().unwrap_or_default()) {
                        self.emit(kind, ChangeType::Deleted, &obj);
                    }
                }
            }
            let key = ("namespaces", String::new(), ns.clone());
            let Some(kind) = Kind::by_kind("Namespace") else {
                continue;
            };
            // The controller's own finalizer (`spec.finalizers: [kubernetes]`) is done; other
            // finalizers in metadata keep the namespace Terminating until their owners remove
            // them.
            let held = self.objects.get(&key).is_some_and(|n| {
                n["metadata"]["finalizers"]
                    .as_array()
                    .is_some_and(|f| !f.is_empty())
            });
            if held {
                let pending = self.objects.get(&key).is_some_and(|n| {
                    n["spec"]["finalizers"]
                        .as_array()
                        .is_some_and(|f| !f.is_empty())
                });
                if pending {
                    let rv = self.next_revision();
                    let updated = self.objects.get_mut(&key).map(|n| {
                        n["spec"]["finalizers"] = json!([]);
                        n["metadata"]["resourceVersion"] = json!(rv);
                        n.clone()
                    });
                    if let Some(updated) = updated {
                        self.emit(kind, ChangeType::Modified, &updated);
                    }
                }
                continue;
            }
            if let Some(obj) = self.objects.remove(&key) {
                self.terminating_since.remove(ns);
                self.next_revision();
                self.emit(kind, ChangeType::Deleted, &obj);
                removed += 1;
            }
        }
        removed
    }

    /// Names of all namespaces.
    pub fn namespaces(&self) -> BTreeSet<String> {
        self.objects
            .keys()
            .filter(|(r, _, _)| *r == "namespaces")
            .map(|(_, _, n)| n.clone())
            .collect()
    }
}
