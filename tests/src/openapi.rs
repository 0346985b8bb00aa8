//! `GET /openapi/v2`: the Swagger 2.0 document of the kinds the testbed serves, as JSON or in the
//! protobuf encoding of gnostic's `openapi.v2.Document` that kubectl asks for.
//!
//! kubectl needs it for `create -f`/`apply -f` of a `kind: List` (what `kubectl get -o yaml`
//! prints): a List has no PATCH operation in `/openapi/v3` to say the server validates fields, so
//! kubectl validates each item on the client against these schemas (unknown fields, wrong types,
//! missing required fields) before sending it, as it does against kube-apiserver. `kubectl apply`
//! also computes its strategic merge patches from them, hence the `x-kubernetes-patch-*`
//! extensions where the real schema has them.
//!
//! The definitions are those of the Kubernetes v1.32 API for these kinds (names, properties,
//! types, required fields, list and patch extensions), without descriptions.

use serde_json::{Map, Value, json};

use crate::kinds::{KINDS, Kind};

/// The media types of the protobuf form: client-go's discovery asks for the first (deprecated)
/// spelling; kube-openapi's handler accepts both and answers with the second (a `@` is not valid
/// in a Content-Type, and Go's mime parser refuses it).
pub const PROTOBUF_ACCEPTED: &[&str] = &[
    "application/com.github.proto-openapi.spec.v2@v1.0+protobuf",
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf",
];
pub const PROTOBUF_CONTENT_TYPE: &str =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

const META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1";

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/definitions/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn atomic_strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "atomic"})
}

fn string_map() -> Value {
    json!({"type": "object", "additionalProperties": {"type": "string"}})
}

fn object(properties: Value, required: &[&str]) -> Value {
    let mut o = json!({"type": "object", "properties": properties});
    if !required.is_empty() {
        o["required"] = json!(required);
    }
    o
}

fn gvk(kind: &Kind) -> Value {
    json!([{"group": kind.group, "version": kind.version, "kind": kind.kind}])
}

/// The definition name of a served kind (`io.k8s.api.core.v1.ConfigMap`).
pub fn definition_name(kind: &Kind) -> String {
    let package = match kind.group {
        "" => "core",
        "rbac.authorization.k8s.io" => "rbac",
        "authentication.k8s.io" => "authentication",
        "authorization.k8s.io" => "authorization",
        other => other,
    };
    format!("io.k8s.api.{package}.{}.{}", kind.version, kind.kind)
}

/// A top-level kind: apiVersion, kind, metadata and its own fields.
fn top_level(kind: &Kind, mut fields: Map<String, Value>, required: &[&str]) -> Value {
    fields.insert("apiVersion".into(), string());
    fields.insert("kind".into(), string());
    fields.insert("metadata".into(), reference(&format!("{META}.ObjectMeta")));
    let mut o = object(Value::Object(fields), required);
    o["x-kubernetes-group-version-kind"] = gvk(kind);
    o
}

fn fields(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

fn meta_definitions(defs: &mut Map<String, Value>) {
    let time = json!({"type": "string", "format": "date-time"});
    defs.insert(format!("{META}.Time"), time);
    defs.insert(
        format!("{META}.ObjectMeta"),
        object(
            json!({
                "annotations": string_map(),
                "creationTimestamp": reference(&format!("{META}.Time")),
                "deletionGracePeriodSeconds": {"type": "integer", "format": "int64"},
                "deletionTimestamp": reference(&format!("{META}.Time")),
                "finalizers": {"type": "array", "items": {"type": "string"},
                    "x-kubernetes-list-type": "set", "x-kubernetes-patch-strategy": "merge"},
                "generateName": string(),
                "generation": {"type": "integer", "format": "int64"},
                "labels": string_map(),
                "managedFields": {"type": "array", "items": reference(&format!("{META}.ManagedFieldsEntry")),
                    "x-kubernetes-list-type": "atomic"},
                "name": string(),
                "namespace": string(),
                "ownerReferences": {"type": "array", "items": reference(&format!("{META}.OwnerReference")),
                    "x-kubernetes-list-map-keys": ["uid"], "x-kubernetes-list-type": "map",
                    "x-kubernetes-patch-merge-key": "uid", "x-kubernetes-patch-strategy": "merge"},
                "resourceVersion": string(),
                "selfLink": string(),
                "uid": string(),
            }),
            &[],
        ),
    );
    defs.insert(
        format!("{META}.OwnerReference"),
        object(
            json!({
                "apiVersion": string(),
                "blockOwnerDeletion": {"type": "boolean"},
                "controller": {"type": "boolean"},
                "kind": string(),
                "name": string(),
                "uid": string(),
            }),
            &["apiVersion", "kind", "name", "uid"],
        ),
    );
    defs.insert(
        format!("{META}.ManagedFieldsEntry"),
        object(
            json!({
                "apiVersion": string(),
                "fieldsType": string(),
                "fieldsV1": reference(&format!("{META}.FieldsV1")),
                "manager": string(),
                "operation": string(),
                "subresource": string(),
                "time": reference(&format!("{META}.Time")),
            }),
            &[],
        ),
    );
    defs.insert(format!("{META}.FieldsV1"), json!({"type": "object"}));
    defs.insert(
        format!("{META}.LabelSelector"),
        object(
            json!({
                "matchExpressions": {"type": "array",
                    "items": reference(&format!("{META}.LabelSelectorRequirement")),
                    "x-kubernetes-list-type": "atomic"},
                "matchLabels": string_map(),
            }),
            &[],
        ),
    );
    defs.insert(
        format!("{META}.LabelSelectorRequirement"),
        object(
            json!({"key": string(), "operator": string(), "values": atomic_strings()}),
            &["key", "operator"],
        ),
    );
}

/// The Swagger 2.0 document (as JSON).
pub fn document() -> Value {
    let mut defs = Map::new();
    meta_definitions(&mut defs);
    let rbac = "io.k8s.api.rbac.v1";
    defs.insert(
        format!("{rbac}.PolicyRule"),
        object(
            json!({
                "apiGroups": atomic_strings(),
                "nonResourceURLs": atomic_strings(),
                "resourceNames": atomic_strings(),
                "resources": atomic_strings(),
                "verbs": atomic_strings(),
            }),
            &["verbs"],
        ),
    );
    defs.insert(
        format!("{rbac}.AggregationRule"),
        object(
            json!({"clusterRoleSelectors": {"type": "array",
                "items": reference(&format!("{META}.LabelSelector")),
                "x-kubernetes-list-type": "atomic"}}),
            &[],
        ),
    );
    defs.insert(
        format!("{rbac}.Subject"),
        object(
            json!({"apiGroup": string(), "kind": string(), "name": string(), "namespace": string()}),
            &["kind", "name"],
        ),
    );
    defs.insert(
        format!("{rbac}.RoleRef"),
        object(
            json!({"apiGroup": string(), "kind": string(), "name": string()}),
            &["apiGroup", "kind", "name"],
        ),
    );
    let rules = json!({"type": "array", "items": reference(&format!("{rbac}.PolicyRule")),
        "x-kubernetes-list-type": "atomic"});
    let subjects = json!({"type": "array", "items": reference(&format!("{rbac}.Subject")),
        "x-kubernetes-list-type": "atomic"});
    defs.insert(
        "io.k8s.api.core.v1.NamespaceSpec".into(),
        object(json!({"finalizers": atomic_strings()}), &[]),
    );
    defs.insert(
        "io.k8s.api.core.v1.NamespaceCondition".into(),
        object(
            json!({
                "lastTransitionTime": reference(&format!("{META}.Time")),
                "message": string(),
                "reason": string(),
                "status": string(),
                "type": string(),
            }),
            &["type", "status"],
        ),
    );
    defs.insert(
        "io.k8s.api.core.v1.NamespaceStatus".into(),
        object(
            json!({
                "conditions": {"type": "array",
                    "items": reference("io.k8s.api.core.v1.NamespaceCondition"),
                    "x-kubernetes-list-map-keys": ["type"], "x-kubernetes-list-type": "map",
                    "x-kubernetes-patch-merge-key": "type", "x-kubernetes-patch-strategy": "merge"},
                "phase": string(),
            }),
            &[],
        ),
    );
    for kind in KINDS.iter().filter(|k| k.stored) {
        let (own, required): (Value, &[&str]) = match kind.resource {
            "configmaps" => (
                json!({
                    "binaryData": {"type": "object", "additionalProperties": {"type": "string", "format": "byte"}},
                    "data": string_map(),
                    "immutable": {"type": "boolean"},
                }),
                &[],
            ),
            "namespaces" => (
                json!({
                    "spec": reference("io.k8s.api.core.v1.NamespaceSpec"),
                    "status": reference("io.k8s.api.core.v1.NamespaceStatus"),
                }),
                &[],
            ),
            "clusterroles" => (
                json!({
                    "aggregationRule": reference(&format!("{rbac}.AggregationRule")),
                    "rules": rules.clone(),
                }),
                &[],
            ),
            "roles" => (json!({"rules": rules.clone()}), &[]),
            _ => (
                json!({
                    "roleRef": reference(&format!("{rbac}.RoleRef")),
                    "subjects": subjects.clone(),
                }),
                &["roleRef"],
            ),
        };
        defs.insert(
            definition_name(kind),
            top_level(kind, fields(own), required),
        );
    }
    json!({
        "swagger": "2.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": {},
        "definitions": defs,
    })
}

/// Protobuf wire encoding, enough for the messages below (strings and nested messages).
struct Writer(Vec<u8>);

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn bytes(&mut self, field: u64, data: &[u8]) {
        self.varint(field << 3 | 2);
        self.varint(data.len() as u64);
        self.0.extend_from_slice(data);
    }

    fn string(&mut self, field: u64, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }

    fn message(&mut self, field: u64, build: impl FnOnce(&mut Writer)) {
        let mut inner = Writer(Vec::new());
        build(&mut inner);
        self.bytes(field, &inner.0);
    }
}

/// gnostic `Schema` (field numbers from openapiv2/OpenAPIv2.proto): `_ref` 1, `format` 2,
/// `description` 4, `required` 19, `additional_properties` 21 (AdditionalPropertiesItem.schema
/// 1), `type` 22 (TypeItem.value 1), `items` 23 (ItemsItem.schema 1), `properties` 25
/// (Properties.additional_properties 1 of NamedSchema{name 1, value 2}), `vendor_extension` 31
/// (NamedAny{name 1, value 2: Any{yaml 2}}).
fn encode_schema(w: &mut Writer, schema: &Value) {
    let s = |k: &str| schema[k].as_str().unwrap_or_default();
    w.string(1, s("$ref"));
    w.string(2, s("format"));
    w.string(4, s("description"));
    for r in schema["required"].as_array().into_iter().flatten() {
        w.string(19, r.as_str().unwrap_or_default());
    }
    if schema["additionalProperties"].is_object() {
        w.message(21, |w| {
            w.message(1, |w| encode_schema(w, &schema["additionalProperties"]))
        });
    }
    if let Some(t) = schema["type"].as_str() {
        w.message(22, |w| w.string(1, t));
    }
    if schema["items"].is_object() {
        w.message(23, |w| w.message(1, |w| encode_schema(w, &schema["items"])));
    }
    if let Some(props) = schema["properties"].as_object() {
        w.message(25, |w| {
            for (name, sub) in props {
                w.message(1, |w| {
                    w.string(1, name);
                    w.message(2, |w| encode_schema(w, sub));
                });
            }
        });
    }
    if let Some(map) = schema.as_object() {
        for (name, value) in map.iter().filter(|(k, _)| k.starts_with("x-")) {
            w.message(31, |w| {
                w.string(1, name);
                w.message(2, |w| {
                    w.string(2, &serde_yaml::to_string(value).unwrap_or_default())
                });
            });
        }
    }
}

/// gnostic `Document`: `swagger` 1, `info` 2 (Info{title 1, version 2}), `paths` 8 (empty),
/// `definitions` 9 (Definitions.additional_properties 1 of NamedSchema).
pub fn encode(doc: &Value) -> Vec<u8> {
    let mut w = Writer(Vec::new());
    w.string(1, doc["swagger"].as_str().unwrap_or_default());
    w.message(2, |w| {
        w.string(1, doc["info"]["title"].as_str().unwrap_or_default());
        w.string(2, doc["info"]["version"].as_str().unwrap_or_default());
    });
    w.message(8, |_| {});
    w.message(9, |w| {
        for (name, schema) in doc["definitions"].as_object().into_iter().flatten() {
            w.message(1, |w| {
                w.string(1, name);
                w.message(2, |w| encode_schema(w, schema));
            });
        }
    });
    w.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reference_resolves_and_every_stored_kind_has_a_definition() {
        let doc = document();
        let defs = doc["definitions"].as_object().unwrap();
        fn refs(v: &Value, out: &mut Vec<String>) {
            match v {
                Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(Value::as_str) {
                        out.push(r.trim_start_matches("#/definitions/").to_string());
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let mut all = Vec::new();
        refs(&doc, &mut all);
        for r in all {
            assert!(defs.contains_key(&r), "dangling reference {r}");
        }
        for kind in KINDS.iter().filter(|k| k.stored) {
            let def = &defs[&definition_name(kind)];
            assert_eq!(def["x-kubernetes-group-version-kind"][0]["kind"], kind.kind);
        }
        assert!(defs.contains_key("io.k8s.api.rbac.v1.ClusterRoleBinding"));
    }

    #[test]
    fn protobuf_encoding_of_a_small_document() {
        let doc = json!({"swagger": "2.0", "info": {"title": "T", "version": "v"},
            "definitions": {"A": {"type": "string", "x-k": "v"}}});
        // swagger, info{title, version}, empty paths, definitions{NamedSchema{name, Schema{
        // type{value}, vendor_extension{name, Any{yaml}}}}}
        let mut expected = vec![
            0x0a, 3, b'2', b'.', b'0', 0x12, 6, 0x0a, 1, b'T', 0x12, 1, b'v',
        ];
        expected.extend([0x42, 0]);
        let yaml = b"v\n";
        let any = [&[0x12u8, yaml.len() as u8][..], yaml].concat();
        let named_any = [
            &[0x0a, 3, b'x', b'-', b'k', 0x12, any.len() as u8][..],
            &any,
        ]
        .concat();
        let schema = [
            &[0xb2u8, 0x01, 8, 0x0a, 6][..],
            b"string",
            &[0xfa, 0x01, named_any.len() as u8],
            &named_any,
        ]
        .concat();
        let named = [&[0x0a, 1, b'A', 0x12, schema.len() as u8][..], &schema].concat();
        expected.extend([0x4a, named.len() as u8 + 2, 0x0a, named.len() as u8]);
        expected.extend(named);
        assert_eq!(encode(&doc), expected);
    }
}
