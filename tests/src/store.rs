//! The object store: every object as JSON, one global resourceVersion counter (as etcd's revision).
//!
//! Semantics follow k8s.io/apiserver's generic registry for these kinds: creates get a uid,
//! creationTimestamp and resourceVersion; updates with a stale resourceVersion are refused with
//! 409 Conflict and updates without one are unconditional (AllowUnconditionalUpdate); a write that
//! changes nothing keeps the resourceVersion; PUT creates RBAC objects that do not exist
//! (AllowCreateOnUpdate is true for the RBAC strategies, false for ConfigMaps and Namespaces).
//!
//! Here: the objects, the revision counter, get, list, create, update, delete. `watch`: the change
//! history and running watches; `patch`: PATCH bodies; `validate`: what the API server refuses;
//! `namespaces`: namespace lifecycle; `derived`: aggregated ClusterRoles, aws-auth data, RBAC for
//! the authorizer.

use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hasher};

use eks_auth::rbac::RbacObjects;
use serde_json::{Value, json};

use crate::kinds::Kind;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, FieldError};

mod derived;
mod namespaces;
mod patch;
mod validate;
mod watch;

pub use namespaces::NAMESPACE_FINALIZE_DELAY;
pub use patch::{PatchType, merge_patch};
use validate::validate;
pub(crate) use validate::{is_dns_label, is_dns_subdomain};
pub use watch::{Change, ChangeType, WatchStart};

/// Namespaces present at start, as in a fresh cluster.
pub const INITIAL_NAMESPACES: &[&str] =
    &["default", "kube-node-lease", "kube-public", "kube-system"];

/// Namespaces that the NamespaceLifecycle admission plugin refuses to delete.
const IMMORTAL_NAMESPACES: &[&str] = &["default", "kube-public", "kube-system"];

type Key = (&'static str, String, String);

/// In-memory objects keyed by (resource, namespace, name); iteration order is etcd's key order.
#[derive(Debug, Default, Clone)]
pub struct Store {
    objects: BTreeMap<Key, Value>,
    revision: u64,
    rbac: Option<std::sync::Arc<RbacObjects>>,
    /// Recent changes, oldest first, for watches that start from a resourceVersion.
    history: std::collections::VecDeque<Change>,
    /// When each Terminating namespace was deleted, to the nanosecond (deletionTimestamp has
    /// whole seconds).
    terminating_since: BTreeMap<String, jiff::Timestamp>,
    /// Where new changes are announced to running watches (absent in a dry run's scratch copy).
    watchers: Option<tokio::sync::broadcast::Sender<Change>>,
}

fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(std::process::id().into());
    h.finish()
}

/// A random version-4 UUID.
pub fn new_uid() -> String {
    let (a, b) = (random_u64(), random_u64());
    let hi = (a & 0xffff_ffff_ffff_0fff) | 0x0000_0000_0000_4000;
    let lo = (b & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        hi >> 32,
        (hi >> 16) & 0xffff,
        hi & 0xffff,
        lo >> 48,
        lo & 0xffff_ffff_ffff
    )
}

/// RFC 3339 with whole seconds, as metav1.Time marshals.
pub fn format_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

fn meta_str<'a>(obj: &'a Value, field: &str) -> &'a str {
    obj["metadata"][field].as_str().unwrap_or_default()
}

fn labels_of(obj: &Value) -> BTreeMap<String, String> {
    obj["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// A failed storage precondition as kube-apiserver reports it: storage.NewInvalidObjError for
/// the object's etcd key (default prefix `/registry`), turned into a 409 by
/// storeerr.InterpretUpdateError / InterpretDeleteError.
fn precondition_failed(kind: &Kind, namespace: &str, name: &str, cause: &str) -> ApiError {
    let key = if kind.namespaced {
        format!("/registry/{}/{namespace}/{name}", kind.resource)
    } else {
        format!("/registry/{}/{name}", kind.resource)
    };
    let storage = format!(
        "StorageError: invalid object, Code: 4, Key: {key}, ResourceVersion: 0, AdditionalErrorMsg: {cause}"
    );
    ApiError::conflict_because(kind, name, &storage)
}

impl Store {
    /// The current revision (the resourceVersion of lists).
    pub fn revision(&self) -> String {
        self.revision.to_string()
    }

    fn key(kind: &Kind, namespace: &str, name: &str) -> Key {
        (
            kind.resource,
            if kind.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name.to_string(),
        )
    }

    /// A copy for a dry run: writes to it change nothing and announce nothing.
    pub fn scratch(&self) -> Store {
        Store {
            watchers: None,
            history: std::collections::VecDeque::new(),
            ..self.clone()
        }
    }

    fn next_revision(&mut self) -> String {
        self.revision += 1;
        // Any write may touch RBAC (a namespace deletion cascades): rebuild the snapshot lazily.
        self.rbac = None;
        self.revision.to_string()
    }

    fn namespace_exists(&self, ns: &str) -> bool {
        self.objects
            .contains_key(&("namespaces", String::new(), ns.to_string()))
    }

    /// Reads one object.
    pub fn get(&self, kind: &'static Kind, namespace: &str, name: &str) -> Result<Value, ApiError> {
        self.objects
            .get(&Store::key(kind, namespace, name))
            .cloned()
            .ok_or_else(|| ApiError::not_found(kind, name))
    }

    /// Lists objects of a kind, in one namespace or (for `None`) all.
    pub fn list(
        &self,
        kind: &'static Kind,
        namespace: Option<&str>,
        labels: &LabelSelector,
        fields: &FieldSelector,
    ) -> Vec<Value> {
        self.objects
            .range((kind.resource, String::new(), String::new())..)
            .take_while(|((r, _, _), _)| *r == kind.resource)
            .filter(|((_, ns, _), obj)| {
                namespace.is_none_or(|want| !kind.namespaced || ns == want)
                    && fields.matches(obj)
                    && labels.matches(&labels_of(obj))
            })
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Prepares a body for storage: apiVersion/kind, namespace from the URL, metadata cleanup.
    fn normalize(kind: &'static Kind, namespace: &str, body: &Value) -> Result<Value, ApiError> {
        let Value::Object(_) = body else {
            return Err(ApiError::bad_request(
                "the object provided is not a JSON object",
            ));
        };
        let mut obj = body.clone();
        if let Some(av) = obj["apiVersion"].as_str()
            && av != kind.api_version()
        {
            return Err(ApiError::bad_request(format!(
                "the API version in the data ({av}) does not match the expected API version ({})",
                kind.api_version()
            )));
        }
        if let Some(k) = obj["kind"].as_str()
            && k != kind.kind
        {
            return Err(ApiError::bad_request(format!(
                "the kind in the data ({k}) does not match the expected kind ({})",
                kind.kind
            )));
        }
        obj["apiVersion"] = json!(kind.api_version());
        obj["kind"] = json!(kind.kind);
        if !obj["metadata"].is_object() {
            obj["metadata"] = json!({});
        }
        let body_ns = meta_str(&obj, "namespace").to_string();
        let meta = obj["metadata"]
            .as_object_mut()
            .expect("metadata is an object");
        if kind.namespaced {
            if !body_ns.is_empty() && body_ns != namespace {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta.insert("namespace".into(), json!(namespace));
        } else {
            meta.remove("namespace");
        }
        meta.remove("managedFields");
        meta.remove("selfLink");
        crate::decode::set_defaults(kind, &mut obj);
        Ok(obj)
    }

    /// Creates an object; `now` stamps creationTimestamp.
    pub fn create(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        body: &Value,
        now: jiff::Timestamp,
    ) -> Result<Value, ApiError> {
        let mut obj = Store::normalize(kind, namespace, body)?;
        if !meta_str(&obj, "resourceVersion").is_empty() {
            return Err(ApiError::internal(
                "Internal error occurred: resourceVersion should not be set on objects to be created",
            ));
        }
        let generate = meta_str(&obj, "generateName").to_string();
        if meta_str(&obj, "name").is_empty() && !generate.is_empty() {
            // names.SimpleNameGenerator: 5 characters from an alphabet without vowels
            const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
            let r = random_u64();
            let suffix: String = (0..5)
                .map(|i| ALPHABET[((r >> (i * 8)) % 27) as usize] as char)
                .collect();
            obj["metadata"]["name"] = json!(format!("{generate}{suffix}"));
        }
        let name = meta_str(&obj, "name").to_string();
        let errs = validate(kind, &obj);
        if !errs.is_empty() {
            return Err(ApiError::invalid(kind, &name, &errs));
        }
        if kind.namespaced && !self.namespace_exists(namespace) {
            let ns_kind = Kind::by_kind("Namespace").expect("namespaces are served");
            return Err(ApiError::not_found(ns_kind, namespace));
        }
        if kind.namespaced && self.namespace_terminating(namespace) {
            // NamespaceLifecycle admission
            let message = format!(
                "{} \"{name}\" is forbidden: unable to create new content in namespace {namespace} because it is being terminated",
                kind.qualified_resource()
            );
            return Err(ApiError::forbidden(
                message,
                kind.group,
                kind.resource,
                &name,
            ));
        }
        let key = Store::key(kind, namespace, &name);
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(kind, &name));
        }
        if kind.resource == "namespaces" {
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            obj["spec"] = json!({"finalizers": ["kubernetes"]});
            obj["status"] = json!({"phase": "Active"});
        }
        let meta = &mut obj["metadata"];
        meta["uid"] = json!(new_uid());
        meta["creationTimestamp"] = json!(format_time(now));
        meta["resourceVersion"] = json!(self.next_revision());
        self.objects.insert(key, obj.clone());
        self.emit(kind, ChangeType::Added, &obj);
        if kind.resource == "namespaces" {
            self.publish_root_ca(&name, now);
        }
        if kind.resource == "clusterroles" {
            self.aggregate_cluster_roles();
        }
        Ok(obj)
    }

    /// Replaces an object (PUT). Returns the stored object and whether it was created.
    pub fn update(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        body: &Value,
        now: jiff::Timestamp,
    ) -> Result<(Value, bool), ApiError> {
        let mut obj = Store::normalize(kind, namespace, body)?;
        let body_name = meta_str(&obj, "name").to_string();
        if body_name.is_empty() {
            obj["metadata"]["name"] = json!(name);
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let key = Store::key(kind, namespace, name);
        let Some(current) = self.objects.get(&key) else {
            let rbac = kind.group == "rbac.authorization.k8s.io";
            if !rbac {
                return Err(ApiError::not_found(kind, name));
            }
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
            return self.create(kind, namespace, &obj, now).map(|o| (o, true));
        };
        // A body that names a uid makes it a precondition (rest.DefaultUpdatedObjectInfo), checked
        // before the resourceVersion.
        let body_uid = meta_str(&obj, "uid");
        if !body_uid.is_empty() && body_uid != meta_str(current, "uid") {
            let cause = format!(
                "Precondition failed: UID in precondition: {body_uid}, UID in object meta: {}",
                meta_str(current, "uid")
            );
            return Err(precondition_failed(kind, namespace, name, &cause));
        }
        let wanted_rv = meta_str(&obj, "resourceVersion");
        if !wanted_rv.is_empty() && wanted_rv != meta_str(current, "resourceVersion") {
            return Err(ApiError::conflict(kind, name));
        }
        let errs = validate(kind, &obj);
        if !errs.is_empty() {
            return Err(ApiError::invalid(kind, name, &errs));
        }
        if kind.resource.ends_with("rolebindings") && obj["roleRef"] != current["roleRef"] {
            let err = FieldError::invalid(
                "roleRef",
                &obj["roleRef"].to_string(),
                "cannot change roleRef",
            );
            return Err(ApiError::invalid(kind, name, &[err]));
        }
        // Fields the server owns.
        for field in ["uid", "creationTimestamp", "resourceVersion", "generation"] {
            match current["metadata"].get(field) {
                Some(v) => obj["metadata"][field] = v.clone(),
                None => {
                    if let Some(m) = obj["metadata"].as_object_mut() {
                        m.remove(field);
                    }
                }
            }
        }
        if kind.resource == "namespaces" {
            obj["status"] = current["status"].clone();
            obj["metadata"]["labels"]["kubernetes.io/metadata.name"] = json!(name);
            if obj["spec"].is_null() {
                obj["spec"] = current["spec"].clone();
            }
        }
        if &obj == current {
            return Ok((obj, false));
        }
        obj["metadata"]["resourceVersion"] = json!(self.next_revision());
        self.objects.insert(key, obj.clone());
        self.emit(kind, ChangeType::Modified, &obj);
        if kind.resource == "clusterroles" {
            self.aggregate_cluster_roles();
        }
        Ok((obj, false))
    }

    /// Deletes an object; `precondition_rv`/`precondition_uid` from DeleteOptions.preconditions.
    pub fn delete(
        &mut self,
        kind: &'static Kind,
        namespace: &str,
        name: &str,
        precondition_rv: Option<&str>,
        precondition_uid: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<Value, ApiError> {
        let key = Store::key(kind, namespace, name);
        let current = self
            .objects
            .get(&key)
            .ok_or_else(|| ApiError::not_found(kind, name))?;
        if let Some(uid) = precondition_uid
            && uid != meta_str(current, "uid")
        {
            let cause = format!(
                "Precondition failed: UID in precondition: {uid}, UID in object meta: {}",
                meta_str(current, "uid")
            );
            return Err(precondition_failed(kind, namespace, name, &cause));
        }
        if let Some(rv) = precondition_rv
            && rv != meta_str(current, "resourceVersion")
        {
            let cause = format!(
                "Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {}",
                meta_str(current, "resourceVersion")
            );
            return Err(precondition_failed(kind, namespace, name, &cause));
        }
        if kind.resource == "namespaces" && IMMORTAL_NAMESPACES.contains(&name) {
            // NamespaceLifecycle admission (plugin/pkg/admission/namespace/lifecycle)
            let message =
                format!("namespaces \"{name}\" is forbidden: this namespace may not be deleted");
            return Err(ApiError::forbidden(message, "", "namespaces", name));
        }
        if kind.resource == "namespaces" {
            return self.terminate_namespace(kind, name, now);
        }
        let removed = self.objects.remove(&key).expect("checked above");
        self.next_revision();
        self.emit(kind, ChangeType::Deleted, &removed);
        if kind.resource == "clusterroles" {
            self.aggregate_cluster_roles();
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests;
