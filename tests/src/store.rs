//! The object store: every object as JSON, one global resourceVersion counter (as etcd's revision).
//!
//! Semantics follow k8s.io/apiserver's generic registry for these kinds: creates get a uid,
//! creationTimestamp and resourceVersion; updates with a stale resourceVersion are refused with
//! 409 Conflict and updates without one are unconditional (AllowUnconditionalUpdate); a write that
//! changes nothing keeps the resourceVersion; PUT creates RBAC objects that do not exist
//! (AllowCreateOnUpdate is true for the RBAC strategies, false for ConfigMaps and Namespaces).

use std::collections::{BTreeMap, BTreeSet};
use std::hash::{BuildHasher, Hasher};

use eks_auth::rbac::RbacObjects;
use serde_json::{Map, Value, json};

use crate::kinds::Kind;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::{ApiError, FieldError};

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

/// How many changes the history keeps (kube-apiserver's watch cache keeps a window too; a watch
/// from an older resourceVersion gets 410 Gone).
const HISTORY: usize = 4096;

/// How long a deleted namespace stays `Terminating` before the namespace controller has removed
/// its contents and it (kube-controller-manager takes seconds; deletes of its objects in the
/// meantime still succeed, as `kubectl delete -f` of a List holding the namespace relies on).
/// Long enough that a test on a loaded 2-core machine still sees the Terminating phase (1 s
/// was not: the field-selector read came after the namespace had gone).
pub const NAMESPACE_FINALIZE_DELAY: std::time::Duration = std::time::Duration::from_secs(4);

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

/// metav1.LabelSelectorAsSelector then Matches: matchLabels and matchExpressions (In, NotIn,
/// Exists, DoesNotExist); an empty selector matches everything.
fn selector_matches(selector: &Value, labels: &BTreeMap<String, String>) -> bool {
    let match_labels = selector["matchLabels"].as_object();
    let labels_ok = match_labels
        .into_iter()
        .flatten()
        .all(|(k, v)| labels.get(k).map(String::as_str) == v.as_str());
    let exprs = selector["matchExpressions"].as_array();
    let exprs_ok = exprs.into_iter().flatten().all(|e| {
        let key = e["key"].as_str().unwrap_or_default();
        let values: Vec<&str> = e["values"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let have = labels.get(key).map(String::as_str);
        match e["operator"].as_str().unwrap_or_default() {
            "In" => have.is_some_and(|h| values.contains(&h)),
            "NotIn" => have.is_none_or(|h| !values.contains(&h)),
            "Exists" => have.is_some(),
            "DoesNotExist" => have.is_none(),
            _ => false,
        }
    });
    labels_ok && exprs_ok
}

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const CONFIG_KEY_MSG: &str = "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')";

pub(crate) fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub(crate) fn is_dns_subdomain(s: &str) -> bool {
    s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// Validation of the kinds' fields the real strategies check (names, config keys, roleRef, subjects).
fn validate(kind: &Kind, obj: &Value) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let name = meta_str(obj, "name");
    if name.is_empty() {
        errs.push(FieldError::required(
            "metadata.name",
            "name or generateName is required",
        ));
    } else {
        match kind.resource {
            "namespaces" if !is_dns_label(name) => errs.push(FieldError::invalid(
                "metadata.name",
                name,
                DNS1123_LABEL_MSG,
            )),
            "configmaps" if !is_dns_subdomain(name) => {
                errs.push(FieldError::invalid(
                    "metadata.name",
                    name,
                    DNS1123_SUBDOMAIN_MSG,
                ));
            }
            // path.ValidatePathSegmentName, used by ValidateRBACName
            "clusterroles" | "clusterrolebindings" | "roles" | "rolebindings" => {
                if name == "." || name == ".." {
                    errs.push(FieldError::invalid(
                        "metadata.name",
                        name,
                        &format!("may not be '{name}'"),
                    ));
                } else if let Some(bad) = ["/", "%"].iter().find(|c| name.contains(*c)) {
                    errs.push(FieldError::invalid(
                        "metadata.name",
                        name,
                        &format!("may not contain '{bad}'"),
                    ));
                }
            }
            _ => {}
        }
    }
    match kind.resource {
        "configmaps" => {
            for field in ["data", "binaryData"] {
                if let Some(map) = obj[field].as_object() {
                    for key in map.keys() {
                        let ok = !key.is_empty()
                            && key.len() <= 253
                            && key
                                .bytes()
                                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
                            && key != "."
                            && key != "..";
                        if !ok {
                            errs.push(FieldError::invalid(
                                &format!("{field}[{key}]"),
                                key,
                                CONFIG_KEY_MSG,
                            ));
                        }
                    }
                }
            }
        }
        "clusterrolebindings" | "rolebindings" => {
            let rr = &obj["roleRef"];
            let supported: &[&str] = if kind.resource == "rolebindings" {
                &["Role", "ClusterRole"]
            } else {
                &["ClusterRole"]
            };
            let rk = rr["kind"].as_str().unwrap_or_default();
            if rk.is_empty() {
                errs.push(FieldError::required("roleRef.kind", ""));
            } else if !supported.contains(&rk) {
                errs.push(FieldError::not_supported("roleRef.kind", rk, supported));
            }
            let ag = rr["apiGroup"].as_str().unwrap_or_default();
            if ag != "rbac.authorization.k8s.io" {
                errs.push(FieldError::not_supported(
                    "roleRef.apiGroup",
                    ag,
                    &["rbac.authorization.k8s.io"],
                ));
            }
            if rr["name"].as_str().unwrap_or_default().is_empty() {
                errs.push(FieldError::required("roleRef.name", ""));
            }
            for (i, s) in obj["subjects"].as_array().into_iter().flatten().enumerate() {
                let sk = s["kind"].as_str().unwrap_or_default();
                if s["name"].as_str().unwrap_or_default().is_empty() {
                    errs.push(FieldError::required(&format!("subjects[{i}].name"), ""));
                }
                match sk {
                    "User" | "Group" => {
                        let ag = s["apiGroup"].as_str().unwrap_or_default();
                        if ag != "rbac.authorization.k8s.io" {
                            errs.push(FieldError::not_supported(
                                &format!("subjects[{i}].apiGroup"),
                                ag,
                                &["rbac.authorization.k8s.io"],
                            ));
                        }
                    }
                    // rbac validation's ValidateRoleBindingSubject
                    "ServiceAccount" => {
                        let name = s["name"].as_str().unwrap_or_default();
                        if !name.is_empty() && !is_dns_subdomain(name) {
                            errs.push(FieldError::invalid(
                                &format!("subjects[{i}].name"),
                                name,
                                DNS1123_SUBDOMAIN_MSG,
                            ));
                        }
                        let ag = s["apiGroup"].as_str().unwrap_or_default();
                        if !ag.is_empty() {
                            errs.push(FieldError::not_supported(
                                &format!("subjects[{i}].apiGroup"),
                                ag,
                                &[""],
                            ));
                        }
                        let ns = s["namespace"].as_str().unwrap_or_default();
                        if !kind.namespaced && ns.is_empty() {
                            errs.push(FieldError::required(
                                &format!("subjects[{i}].namespace"),
                                "",
                            ));
                        }
                    }
                    other => errs.push(FieldError::not_supported(
                        &format!("subjects[{i}].kind"),
                        other,
                        &["ServiceAccount", "User", "Group"],
                    )),
                }
            }
        }
        _ => {}
    }
    errs
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

    /// Records a change at the current revision and announces it to watches.
    fn emit(&mut self, kind: &Kind, change: ChangeType, object: &Value) {
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

    /// A namespace's deletion as the namespace registry does it: the `kubernetes` finalizer keeps
    /// it, `Terminating` with a deletionTimestamp, until the namespace controller has emptied it
    /// ([`Store::finalize_namespaces`]). Deleting it again is a 409 worded as the registry's.
    fn terminate_namespace(
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
    fn publish_root_ca(&mut self, namespace: &str, now: jiff::Timestamp) {
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
    /// loses its objects, then is removed. Returns how many namespaces went.
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
        for ns in &due {
            self.terminating_since.remove(ns);
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
            if let Some(obj) = self
                .objects
                .remove(&("namespaces", String::new(), ns.clone()))
            {
                self.next_revision();
                if let Some(kind) = Kind::by_kind("Namespace") {
                    self.emit(kind, ChangeType::Deleted, &obj);
                }
            }
        }
        due.len()
    }

    /// What the clusterrole-aggregation controller does (pkg/controller/clusterroleaggregation):
    /// the rules of a ClusterRole with an aggregationRule become, for each selector in turn, the
    /// rules of the other ClusterRoles it selects in name order, each rule once. Repeated until
    /// nothing changes, as the controller's resyncs converge (admin aggregates edit).
    fn aggregate_cluster_roles(&mut self) {
        for _ in 0..10 {
            let roles: Vec<Value> = self
                .objects
                .range(("clusterroles", String::new(), String::new())..)
                .take_while(|((r, _, _), _)| *r == "clusterroles")
                .map(|(_, v)| v.clone())
                .collect();
            let mut changed = false;
            for role in roles.iter().filter(|r| r["aggregationRule"].is_object()) {
                let name = meta_str(role, "name");
                let mut rules: Vec<Value> = Vec::new();
                let selectors = role["aggregationRule"]["clusterRoleSelectors"].as_array();
                for selector in selectors.into_iter().flatten() {
                    // `roles` is in name order already (the store's key order).
                    let selected = roles.iter().filter(|other| {
                        meta_str(other, "name") != name
                            && selector_matches(selector, &labels_of(other))
                    });
                    for rule in
                        selected.flat_map(|o| o["rules"].as_array().cloned().unwrap_or_default())
                    {
                        if !rules.contains(&rule) {
                            rules.push(rule);
                        }
                    }
                }
                let current = role["rules"].as_array().cloned().unwrap_or_default();
                if current != rules {
                    let key = ("clusterroles", String::new(), name.to_string());
                    let rv = self.next_revision();
                    let updated = self.objects.get_mut(&key).map(|stored| {
                        stored["rules"] = Value::Array(rules);
                        stored["metadata"]["resourceVersion"] = json!(rv);
                        stored.clone()
                    });
                    if let (Some(updated), Some(kind)) = (updated, Kind::by_kind("ClusterRole")) {
                        self.emit(kind, ChangeType::Modified, &updated);
                    }
                    changed = true;
                }
            }
            if !changed {
                return;
            }
        }
    }

    /// The `data` of ConfigMap `kube-system/aws-auth`, if it exists.
    pub fn aws_auth_data(&self) -> Option<BTreeMap<String, String>> {
        let cm = self.objects.get(&(
            "configmaps",
            "kube-system".to_string(),
            "aws-auth".to_string(),
        ))?;
        Some(
            cm["data"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
        )
    }

    /// The RBAC objects as typed values (cached until the next write).
    pub fn rbac(&mut self) -> std::sync::Arc<RbacObjects> {
        if let Some(s) = &self.rbac {
            return s.clone();
        }
        let typed = |resource: &str| -> Vec<Value> {
            self.objects
                .range((resource_static(resource), String::new(), String::new())..)
                .take_while(|((r, _, _), _)| *r == resource)
                .map(|(_, v)| v.clone())
                .collect()
        };
        fn parse<T: serde::de::DeserializeOwned>(values: Vec<Value>) -> Vec<T> {
            // Stored objects passed validation; one that does not parse is skipped as the
            // authorizer would skip it (it could never have been written by a real server).
            values
                .into_iter()
                .filter_map(|v| serde_json::from_value(v).ok())
                .collect()
        }
        let snap = std::sync::Arc::new(RbacObjects {
            cluster_roles: parse(typed("clusterroles")),
            cluster_role_bindings: parse(typed("clusterrolebindings")),
            roles: parse(typed("roles")),
            role_bindings: parse(typed("rolebindings")),
        });
        self.rbac = Some(snap.clone());
        snap
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

fn resource_static(resource: &str) -> &'static str {
    crate::kinds::KINDS
        .iter()
        .find(|k| k.resource == resource)
        .map_or("", |k| k.resource)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> jiff::Timestamp {
        "2026-01-02T03:04:05Z".parse().unwrap()
    }

    fn kind(resource: &str) -> &'static Kind {
        crate::kinds::KINDS
            .iter()
            .find(|k| k.resource == resource)
            .unwrap()
    }

    fn store_with_default() -> Store {
        let mut s = Store::default();
        s.create(
            kind("namespaces"),
            "",
            &json!({"metadata": {"name": "default"}}),
            now(),
        )
        .unwrap();
        s
    }

    #[test]
    fn create_sets_server_fields_and_refuses_duplicates() {
        let mut s = store_with_default();
        let cm = s
            .create(
                kind("configmaps"),
                "default",
                &json!({"metadata": {"name": "x"}, "data": {"a": "1"}}),
                now(),
            )
            .unwrap();
        assert_eq!(cm["metadata"]["resourceVersion"], "2");
        assert_eq!(cm["metadata"]["creationTimestamp"], "2026-01-02T03:04:05Z");
        assert_eq!(cm["metadata"]["namespace"], "default");
        assert_eq!(cm["metadata"]["uid"].as_str().unwrap().len(), 36);
        let err = s
            .create(
                kind("configmaps"),
                "default",
                &json!({"metadata": {"name": "x"}}),
                now(),
            )
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.message(), "configmaps \"x\" already exists");
    }

    #[test]
    fn stale_update_conflicts_and_noop_keeps_version() {
        let mut s = store_with_default();
        let cm = s
            .create(
                kind("configmaps"),
                "default",
                &json!({"metadata": {"name": "x"}}),
                now(),
            )
            .unwrap();
        let mut changed = cm.clone();
        changed["data"] = json!({"k": "v"});
        let (updated, _) = s
            .update(kind("configmaps"), "default", "x", &changed, now())
            .unwrap();
        assert_eq!(updated["metadata"]["resourceVersion"], "3");
        let err = s
            .update(kind("configmaps"), "default", "x", &changed, now())
            .unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(
            err.message(),
            "Operation cannot be fulfilled on configmaps \"x\": the object has been modified; please apply your changes to the latest version and try again"
        );
        let (same, _) = s
            .update(kind("configmaps"), "default", "x", &updated, now())
            .unwrap();
        assert_eq!(same["metadata"]["resourceVersion"], "3");
    }

    #[test]
    fn invalid_names_are_worded_like_the_server() {
        let mut s = store_with_default();
        let err = s
            .create(
                kind("configmaps"),
                "default",
                &json!({"metadata": {"name": "Bad_Name"}}),
                now(),
            )
            .unwrap_err();
        assert_eq!(err.code, 422);
        assert_eq!(
            err.message(),
            format!(
                "ConfigMap \"Bad_Name\" is invalid: metadata.name: Invalid value: \"Bad_Name\": {DNS1123_SUBDOMAIN_MSG}"
            )
        );
        let err = s
            .create(kind("clusterrolebindings"), "", &json!({"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r", "apiGroup": "rbac.authorization.k8s.io"}}), now())
            .unwrap_err();
        assert_eq!(
            err.message(),
            "ClusterRoleBinding.rbac.authorization.k8s.io \"b\" is invalid: roleRef.kind: Unsupported value: \"Role\": supported values: \"ClusterRole\""
        );
    }

    #[test]
    fn missing_namespace_is_not_found() {
        let mut s = store_with_default();
        let err = s
            .create(
                kind("configmaps"),
                "nope",
                &json!({"metadata": {"name": "x"}}),
                now(),
            )
            .unwrap_err();
        assert_eq!(
            (err.code, err.message()),
            (404, "namespaces \"nope\" not found")
        );
    }

    #[test]
    fn strategic_patch_drops_directives() {
        let mut s = store_with_default();
        s.create(
            kind("configmaps"),
            "default",
            &json!({"metadata": {"name": "x"}, "data": {"a": "1", "b": "2"}}),
            now(),
        )
        .unwrap();
        let patched = s
            .patch(
                kind("configmaps"),
                "default",
                "x",
                PatchType::Strategic,
                &json!({"$retainKeys": ["data"], "data": {"a": null, "c": "3"}}),
                now(),
            )
            .unwrap();
        assert_eq!(patched["data"], json!({"b": "2", "c": "3"}));
        assert!(patched.get("$retainKeys").is_none());
    }

    #[test]
    fn namespace_delete_terminates_then_empties_and_default_is_immortal() {
        let mut s = store_with_default();
        s.create(
            kind("namespaces"),
            "",
            &json!({"metadata": {"name": "team"}}),
            now(),
        )
        .unwrap();
        s.create(
            kind("configmaps"),
            "team",
            &json!({"metadata": {"name": "x"}}),
            now(),
        )
        .unwrap();
        let terminating = s
            .delete(kind("namespaces"), "", "team", None, None, now())
            .unwrap();
        assert_eq!(terminating["status"]["phase"], "Terminating");
        assert_eq!(
            terminating["metadata"]["deletionTimestamp"],
            "2026-01-02T03:04:05Z"
        );
        // Its objects stay until the namespace controller runs; new ones are refused.
        assert!(s.get(kind("configmaps"), "team", "x").is_ok());
        let err = s
            .create(
                kind("configmaps"),
                "team",
                &json!({"metadata": {"name": "y"}}),
                now(),
            )
            .unwrap_err();
        assert_eq!(
            (err.code, err.message()),
            (
                403,
                "configmaps \"y\" is forbidden: unable to create new content in namespace team because it is being terminated"
            )
        );
        let again = s
            .delete(kind("namespaces"), "", "team", None, None, now())
            .unwrap_err();
        assert_eq!(again.code, 409);
        assert_eq!(s.finalize_namespaces(now()), 0, "not yet due");
        let later = now()
            .checked_add(jiff::SignedDuration::try_from(NAMESPACE_FINALIZE_DELAY).unwrap())
            .unwrap()
            .checked_add(jiff::SignedDuration::from_secs(1))
            .unwrap();
        assert_eq!(s.finalize_namespaces(later), 1);
        assert_eq!(
            s.get(kind("configmaps"), "team", "x").unwrap_err().code,
            404
        );
        assert_eq!(s.get(kind("namespaces"), "", "team").unwrap_err().code, 404);
        let err = s
            .delete(kind("namespaces"), "", "default", None, None, now())
            .unwrap_err();
        assert_eq!(
            (err.code, err.message()),
            (
                403,
                "namespaces \"default\" is forbidden: this namespace may not be deleted"
            )
        );
    }
}
