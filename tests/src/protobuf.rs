//! Request bodies in Kubernetes' protobuf encoding, decoded to JSON.
//!
//! kubectl's typed clients (`kubectl create configmap`, `kubectl auth whoami`, `kubectl auth
//! can-i`, `kubectl create clusterrolebinding`, ...) send `application/vnd.kubernetes.protobuf`
//! bodies; answers may be JSON since they also accept it. The envelope is the 4 bytes `k8s\0`
//! followed by a `runtime.Unknown` message (typeMeta = 1, raw = 2) whose `raw` is the object
//! (k8s.io/apimachinery/pkg/runtime/serializer/protobuf). Field numbers are those of the
//! generated.proto files of k8s.io/api and k8s.io/apimachinery for the kinds the testbed serves.

use base64::Engine;
use serde_json::{Map, Value, json};

/// The protobuf envelope's magic prefix.
const MAGIC: &[u8] = b"k8s\x00";

#[derive(Debug, Clone, Copy)]
enum Ty {
    Str,
    Bool,
    Int,
    Msg(&'static [Field]),
    /// map<string, string>
    MapStr,
    /// map<string, bytes> (base64 in JSON)
    MapBytes,
    /// map<string, ExtraValue{repeated string items = 1}>
    MapExtra,
    /// metav1.Time {int64 seconds = 1; int32 nanos = 2}
    Time,
}

#[derive(Debug, Clone, Copy)]
struct Field {
    num: u64,
    name: &'static str,
    ty: Ty,
    repeated: bool,
}

const fn f(num: u64, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        repeated: false,
    }
}
const fn rep(num: u64, name: &'static str, ty: Ty) -> Field {
    Field {
        num,
        name,
        ty,
        repeated: true,
    }
}

const OWNER_REFERENCE: &[Field] = &[
    f(1, "kind", Ty::Str),
    f(3, "name", Ty::Str),
    f(4, "uid", Ty::Str),
    f(5, "apiVersion", Ty::Str),
    f(6, "controller", Ty::Bool),
    f(7, "blockOwnerDeletion", Ty::Bool),
];
const OBJECT_META: &[Field] = &[
    f(1, "name", Ty::Str),
    f(2, "generateName", Ty::Str),
    f(3, "namespace", Ty::Str),
    f(4, "selfLink", Ty::Str),
    f(5, "uid", Ty::Str),
    f(6, "resourceVersion", Ty::Str),
    f(7, "generation", Ty::Int),
    f(8, "creationTimestamp", Ty::Time),
    f(9, "deletionTimestamp", Ty::Time),
    f(10, "deletionGracePeriodSeconds", Ty::Int),
    f(11, "labels", Ty::MapStr),
    f(12, "annotations", Ty::MapStr),
    rep(13, "ownerReferences", Ty::Msg(OWNER_REFERENCE)),
    rep(14, "finalizers", Ty::Str),
];
const META: Field = f(1, "metadata", Ty::Msg(OBJECT_META));

const CONFIG_MAP: &[Field] = &[
    META,
    f(2, "data", Ty::MapStr),
    f(3, "binaryData", Ty::MapBytes),
    f(4, "immutable", Ty::Bool),
];
const NAMESPACE: &[Field] = &[
    META,
    f(2, "spec", Ty::Msg(&[rep(1, "finalizers", Ty::Str)])),
    f(3, "status", Ty::Msg(&[f(1, "phase", Ty::Str)])),
];

const LABEL_SELECTOR: &[Field] = &[
    f(1, "matchLabels", Ty::MapStr),
    rep(
        2,
        "matchExpressions",
        Ty::Msg(&[
            f(1, "key", Ty::Str),
            f(2, "operator", Ty::Str),
            rep(3, "values", Ty::Str),
        ]),
    ),
];
const POLICY_RULE: &[Field] = &[
    rep(1, "verbs", Ty::Str),
    rep(2, "apiGroups", Ty::Str),
    rep(3, "resources", Ty::Str),
    rep(4, "resourceNames", Ty::Str),
    rep(5, "nonResourceURLs", Ty::Str),
];
const SUBJECT: &[Field] = &[
    f(1, "kind", Ty::Str),
    f(2, "apiGroup", Ty::Str),
    f(3, "name", Ty::Str),
    f(4, "namespace", Ty::Str),
];
const ROLE_REF: &[Field] = &[
    f(1, "apiGroup", Ty::Str),
    f(2, "kind", Ty::Str),
    f(3, "name", Ty::Str),
];
const CLUSTER_ROLE: &[Field] = &[
    META,
    rep(2, "rules", Ty::Msg(POLICY_RULE)),
    f(
        3,
        "aggregationRule",
        Ty::Msg(&[rep(1, "clusterRoleSelectors", Ty::Msg(LABEL_SELECTOR))]),
    ),
];
const ROLE: &[Field] = &[META, rep(2, "rules", Ty::Msg(POLICY_RULE))];
const BINDING: &[Field] = &[
    META,
    rep(2, "subjects", Ty::Msg(SUBJECT)),
    f(3, "roleRef", Ty::Msg(ROLE_REF)),
];

const RESOURCE_ATTRIBUTES: &[Field] = &[
    f(1, "namespace", Ty::Str),
    f(2, "verb", Ty::Str),
    f(3, "group", Ty::Str),
    f(4, "version", Ty::Str),
    f(5, "resource", Ty::Str),
    f(6, "subresource", Ty::Str),
    f(7, "name", Ty::Str),
];
const NON_RESOURCE_ATTRIBUTES: &[Field] = &[f(1, "path", Ty::Str), f(2, "verb", Ty::Str)];
const SELF_SAR: &[Field] = &[
    META,
    f(
        2,
        "spec",
        Ty::Msg(&[
            f(1, "resourceAttributes", Ty::Msg(RESOURCE_ATTRIBUTES)),
            f(2, "nonResourceAttributes", Ty::Msg(NON_RESOURCE_ATTRIBUTES)),
        ]),
    ),
];
const SAR: &[Field] = &[
    META,
    f(
        2,
        "spec",
        Ty::Msg(&[
            f(1, "resourceAttributes", Ty::Msg(RESOURCE_ATTRIBUTES)),
            f(2, "nonResourceAttributes", Ty::Msg(NON_RESOURCE_ATTRIBUTES)),
            f(3, "user", Ty::Str),
            rep(4, "groups", Ty::Str),
            f(5, "extra", Ty::MapExtra),
            f(6, "uid", Ty::Str),
        ]),
    ),
];
const SELF_RULES: &[Field] = &[META, f(2, "spec", Ty::Msg(&[f(1, "namespace", Ty::Str)]))];
const SELF_SUBJECT_REVIEW: &[Field] = &[META];
const DELETE_OPTIONS: &[Field] = &[
    f(1, "gracePeriodSeconds", Ty::Int),
    f(
        2,
        "preconditions",
        Ty::Msg(&[f(1, "uid", Ty::Str), f(2, "resourceVersion", Ty::Str)]),
    ),
    f(3, "orphanDependents", Ty::Bool),
    f(4, "propagationPolicy", Ty::Str),
    rep(5, "dryRun", Ty::Str),
];

fn schema_for(kind: &str) -> Option<&'static [Field]> {
    Some(match kind {
        "ConfigMap" => CONFIG_MAP,
        "Namespace" => NAMESPACE,
        "ClusterRole" => CLUSTER_ROLE,
        "Role" => ROLE,
        "ClusterRoleBinding" | "RoleBinding" => BINDING,
        "SelfSubjectAccessReview" => SELF_SAR,
        "SubjectAccessReview" | "LocalSubjectAccessReview" => SAR,
        "SelfSubjectRulesReview" => SELF_RULES,
        "SelfSubjectReview" => SELF_SUBJECT_REVIEW,
        "DeleteOptions" => DELETE_OPTIONS,
        _ => return None,
    })
}

/// A body that is not valid Kubernetes protobuf for a kind the testbed serves.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtobufError {
    #[error("the body does not start with the protobuf envelope `k8s\\0`")]
    NoMagic,
    #[error("malformed protobuf at byte {0}")]
    Malformed(usize),
    #[error("no protobuf schema for kind `{0}`")]
    UnknownKind(String),
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Result<u64, ProtobufError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self
                .data
                .get(self.pos)
                .ok_or(ProtobufError::Malformed(self.pos))?;
            self.pos += 1;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(ProtobufError::Malformed(self.pos))
    }

    fn next(&mut self) -> Result<Option<(u64, Wire<'a>)>, ProtobufError> {
        if self.pos >= self.data.len() {
            return Ok(None);
        }
        let key = self.varint()?;
        let wire = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 | 5 => {
                let n = if key & 7 == 1 { 8 } else { 4 };
                self.pos += n;
                if self.pos > self.data.len() {
                    return Err(ProtobufError::Malformed(self.pos));
                }
                Wire::Fixed
            }
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| ProtobufError::Malformed(self.pos))?;
                let end = self.pos.checked_add(len).filter(|e| *e <= self.data.len());
                let end = end.ok_or(ProtobufError::Malformed(self.pos))?;
                let bytes = &self.data[self.pos..end];
                self.pos = end;
                Wire::Bytes(bytes)
            }
            _ => return Err(ProtobufError::Malformed(self.pos)),
        };
        Ok(Some((key >> 3, wire)))
    }
}

fn text(bytes: &[u8]) -> Value {
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

/// Decodes a map entry message (key = 1, value = 2).
fn map_entry(bytes: &[u8]) -> Result<(String, &[u8]), ProtobufError> {
    let mut r = Reader {
        data: bytes,
        pos: 0,
    };
    let (mut key, mut value): (String, &[u8]) = (String::new(), &[]);
    while let Some((num, wire)) = r.next()? {
        match (num, wire) {
            (1, Wire::Bytes(b)) => key = String::from_utf8_lossy(b).into_owned(),
            (2, Wire::Bytes(b)) => value = b,
            _ => {}
        }
    }
    Ok((key, value))
}

fn decode_message(bytes: &[u8], schema: &[Field]) -> Result<Value, ProtobufError> {
    let mut out = Map::new();
    let mut r = Reader {
        data: bytes,
        pos: 0,
    };
    while let Some((num, wire)) = r.next()? {
        // Fields outside the schema (newer API fields) are skipped, as an older server would.
        let Some(field) = schema.iter().find(|f| f.num == num) else {
            continue;
        };
        // gogo-protobuf writes every non-pointer string, number and bool, empty or not; JSON omits
        // them (`omitempty`), so the decoded object does too.
        let value = match (field.ty, wire) {
            (Ty::Str, Wire::Bytes([]))
            | (Ty::Bool, Wire::Varint(0))
            | (Ty::Int, Wire::Varint(0))
                if !field.repeated =>
            {
                continue;
            }
            (Ty::Str, Wire::Bytes(b)) => text(b),
            (Ty::Bool, Wire::Varint(v)) => json!(v != 0),
            (Ty::Int, Wire::Varint(v)) => json!(v as i64),
            (Ty::Msg(s), Wire::Bytes(b)) => decode_message(b, s)?,
            // The zero metav1.Time marshals as an empty message.
            (Ty::Time, Wire::Bytes([])) => continue,
            (Ty::Time, Wire::Bytes(b)) => {
                let mut tr = Reader { data: b, pos: 0 };
                let mut seconds = 0i64;
                while let Some((n, w)) = tr.next()? {
                    if let (1, Wire::Varint(v)) = (n, w) {
                        seconds = v as i64;
                    }
                }
                let t = jiff::Timestamp::from_second(seconds)
                    .map_err(|_| ProtobufError::Malformed(r.pos))?;
                json!(crate::store::format_time(t))
            }
            (Ty::MapStr | Ty::MapBytes | Ty::MapExtra, Wire::Bytes(b)) => {
                let (key, value) = map_entry(b)?;
                let value = match field.ty {
                    Ty::MapStr => text(value),
                    Ty::MapBytes => json!(base64::engine::general_purpose::STANDARD.encode(value)),
                    _ => decode_message(value, &[rep(1, "items", Ty::Str)])?
                        .get("items")
                        .cloned()
                        .unwrap_or_else(|| json!([])),
                };
                let map = out.entry(field.name).or_insert_with(|| json!({}));
                map[key] = value;
                continue;
            }
            _ => return Err(ProtobufError::Malformed(r.pos)),
        };
        if field.repeated {
            let list = out.entry(field.name).or_insert_with(|| json!([]));
            if let Value::Array(items) = list {
                items.push(value);
            }
        } else {
            out.insert(field.name.to_string(), value);
        }
    }
    Ok(Value::Object(out))
}

/// Decodes an enveloped protobuf body into the JSON the same object would have been sent as.
pub fn decode(body: &[u8]) -> Result<Value, ProtobufError> {
    let rest = body.strip_prefix(MAGIC).ok_or(ProtobufError::NoMagic)?;
    let mut r = Reader { data: rest, pos: 0 };
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while let Some((num, wire)) = r.next()? {
        match (num, wire) {
            (1, Wire::Bytes(b)) => {
                let tm = decode_message(b, &[f(1, "apiVersion", Ty::Str), f(2, "kind", Ty::Str)])?;
                api_version = tm["apiVersion"].as_str().unwrap_or_default().to_string();
                kind = tm["kind"].as_str().unwrap_or_default().to_string();
            }
            (2, Wire::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    let schema = schema_for(&kind).ok_or_else(|| ProtobufError::UnknownKind(kind.clone()))?;
    let mut obj = decode_message(raw, schema)?;
    obj["apiVersion"] = json!(api_version);
    obj["kind"] = json!(kind);
    Ok(obj)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-assembled enveloped ConfigMap: TypeMeta {v1, ConfigMap}, raw {metadata {name "x",
    /// namespace "default", labels {a: b}}, data {k: v}}.
    fn configmap_bytes() -> Vec<u8> {
        fn ld(num: u8, payload: &[u8]) -> Vec<u8> {
            let mut v = vec![(num << 3) | 2, payload.len() as u8];
            v.extend_from_slice(payload);
            v
        }
        let meta = [
            ld(1, b"x"),
            ld(3, b"default"),
            ld(11, &[ld(1, b"a"), ld(2, b"b")].concat()),
        ]
        .concat();
        let raw = [ld(1, &meta), ld(2, &[ld(1, b"k"), ld(2, b"v")].concat())].concat();
        let type_meta = [ld(1, b"v1"), ld(2, b"ConfigMap")].concat();
        [MAGIC.to_vec(), ld(1, &type_meta), ld(2, &raw)].concat()
    }

    #[test]
    fn decodes_a_configmap() {
        assert_eq!(
            decode(&configmap_bytes()).unwrap(),
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "x", "namespace": "default", "labels": {"a": "b"}},
                "data": {"k": "v"}
            })
        );
    }

    #[test]
    fn refuses_garbage() {
        assert_eq!(decode(b"{}").unwrap_err(), ProtobufError::NoMagic);
        let mut truncated = configmap_bytes();
        truncated.truncate(truncated.len() - 3);
        assert!(matches!(
            decode(&truncated).unwrap_err(),
            ProtobufError::Malformed(_)
        ));
    }
}
