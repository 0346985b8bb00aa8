//! Decoding a JSON body into a kind as kube-apiserver does: type checks, unknown fields and
//! defaulting, worded as the real decoder words its errors.
//!
//! kube-apiserver decodes every body into the Go type of the kind (sigs.k8s.io/json, Go's
//! encoding/json with case-sensitive names): a value of the wrong JSON type is an
//! `UnmarshalTypeError` (`json: cannot unmarshal number into Go struct field ConfigMap.data of
//! type string`), unknown fields are dropped, or refused with `fieldValidation=Strict`
//! (`strict decoding error: unknown field "spec.foo"`), and defaults are set
//! (pkg/apis/rbac/v1/defaults.go: roleRef and User/Group subjects get the RBAC API group). The
//! Go types are read from the testbed's OpenAPI definitions ([`crate::openapi::document`]), which
//! mirror them for the served kinds.
//!
//! Three routes, by request:
//! - create and update: the body is decoded; a type error or a strict unknown field is a 400
//!   `ConfigMap in version "v1" cannot be handled as a ConfigMap: ...` (handlers'
//!   transformDecodeError);
//! - merge patch: the patched object is decoded; a type error is a 422 ` "" is invalid: patch:
//!   Invalid value: "<patched JSON>": json: ...` (handlers/patch.go jsonPatcher);
//! - strategic merge patch: the patched map is converted, not decoded; a type error is a 422
//!   with runtime.DefaultUnstructuredConverter's wording (`cannot convert int64 to string`) and
//!   the patch printed as Go's `%+v` prints a map.

use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::kinds::Kind;
use crate::status::{ApiError, FieldError};

const RBAC: &str = "rbac.authorization.k8s.io";

/// `fieldValidation` (metav1): what to do with unknown and duplicate fields; Warn is the
/// server's default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValidation {
    Ignore,
    Warn,
    Strict,
}

impl FieldValidation {
    /// From the query parameter; `None` for a value metav1 validation refuses.
    pub fn parse(value: Option<&str>) -> Option<FieldValidation> {
        match value.unwrap_or_default() {
            "" | "Warn" => Some(FieldValidation::Warn),
            "Ignore" => Some(FieldValidation::Ignore),
            "Strict" => Some(FieldValidation::Strict),
            _ => None,
        }
    }
}

/// How a body reached the decoder (it decides the wording of errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    /// POST or PUT.
    Body,
    /// `application/merge-patch+json`.
    MergePatch,
    /// `application/strategic-merge-patch+json`, with the patch as sent.
    StrategicPatch(&'a Value),
}

/// A value of the wrong JSON type, with where it is and what it should have been.
#[derive(Debug, Clone, PartialEq, Eq)]
struct TypeMismatch {
    /// `number`, `string`, `bool`, `array`, `object` (encoding/json's names).
    json: &'static str,
    /// The Go type of the destination (`string`, `int64`, `map[string]string`, `v1.RoleRef`).
    go_type: String,
    /// The innermost Go struct and the struct fields from the root (`ConfigMap`, `data`).
    go_struct: String,
    field_stack: Vec<String>,
    /// The value as the unstructured converter sees it: `int64`, `float64`, `bool`, `string`,
    /// `map[string]interface {}`, `[]interface {}`.
    source: &'static str,
    /// Whether the destination is a Go struct (the converter's "cannot restore struct from").
    dest_struct: bool,
    /// For Time: the error comes from metav1.Time's UnmarshalJSON, not from the decoder.
    time: bool,
}

impl TypeMismatch {
    /// encoding/json's UnmarshalTypeError text.
    fn json_error(&self) -> String {
        if self.time {
            return format!(
                "json: cannot unmarshal {} into Go value of type string",
                self.json
            );
        }
        format!(
            "json: cannot unmarshal {} into Go struct field {}.{} of type {}",
            self.json,
            self.go_struct,
            self.field_stack.join("."),
            self.go_type
        )
    }

    /// runtime.DefaultUnstructuredConverter's text (fromUnstructured).
    fn converter_error(&self) -> String {
        if self.dest_struct {
            return format!("cannot restore struct from: {}", self.source_kind());
        }
        // Go converts integers to strings (as runes) and between numeric kinds, so those
        // reach "cannot convert"; anything else is an unrecognized destination kind.
        let dest_kind = self.go_type.trim_start_matches("v1.");
        if self.source == "int64" && self.go_type == "string" {
            return "cannot convert int64 to string".into();
        }
        let kind = if dest_kind.starts_with("map[") {
            "map"
        } else if dest_kind.starts_with("[]") {
            "slice"
        } else {
            dest_kind
        };
        format!("unrecognized type: {kind}")
    }

    fn source_kind(&self) -> &'static str {
        match self.source {
            "map[string]interface {}" => "map",
            "[]interface {}" => "slice",
            other => other,
        }
    }
}

fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(crate::openapi::document)
}

fn definition(name: &str) -> Option<&'static Value> {
    document()["definitions"].get(name)
}

fn json_kind(v: &Value) -> (&'static str, &'static str) {
    match v {
        Value::Number(n) if n.is_i64() || n.is_u64() => ("number", "int64"),
        Value::Number(_) => ("number", "float64"),
        Value::String(_) => ("string", "string"),
        Value::Bool(_) => ("bool", "bool"),
        Value::Array(_) => ("array", "[]interface {}"),
        Value::Object(_) => ("object", "map[string]interface {}"),
        Value::Null => ("null", "nil"),
    }
}

/// The Go type name of a schema (`string`, `int64`, `[]string`, `map[string]string`,
/// `v1.PolicyRule`).
fn go_type(schema: &Value) -> String {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('.').next().unwrap_or_default();
        return format!("v1.{name}");
    }
    match schema["type"].as_str().unwrap_or_default() {
        "string" if schema["format"] == "byte" => "[]uint8".into(),
        "string" => "string".into(),
        "integer" if schema["format"] == "int32" => "int32".into(),
        "integer" => "int64".into(),
        "boolean" => "bool".into(),
        "array" => format!("[]{}", go_type(&schema["items"])),
        "object" if schema["additionalProperties"].is_object() => {
            format!("map[string]{}", go_type(&schema["additionalProperties"]))
        }
        "object" => "map[string]interface {}".into(),
        _ => "interface {}".into(),
    }
}

struct Walk {
    /// The first type mismatch (encoding/json saves the first and carries on).
    mismatch: Option<TypeMismatch>,
    /// Paths of unknown fields, in sigs.k8s.io/json's strict-error form (`rules[0].foo`).
    unknown: Vec<String>,
}

impl Walk {
    fn mismatch(&mut self, value: &Value, schema: &Value, go_struct: &str, stack: &[String]) {
        if self.mismatch.is_some() {
            return;
        }
        let (json, source) = json_kind(value);
        let time = schema["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with("meta.v1.Time"));
        let dest_struct = schema["$ref"].is_string() && !time;
        self.mismatch = Some(TypeMismatch {
            json,
            go_type: go_type(schema),
            go_struct: go_struct.to_string(),
            field_stack: stack.to_vec(),
            source,
            dest_struct,
            time,
        });
    }

    /// Walks `value` against `schema`, dropping unknown fields; `go_struct` and `stack` are the
    /// decoder's error context, `path` the strict-error path.
    fn value(
        &mut self,
        schema: &Value,
        value: &Value,
        go_struct: &str,
        stack: &[String],
        path: &str,
    ) -> Value {
        if value.is_null() {
            return Value::Null;
        }
        let (schema, struct_name) = match schema["$ref"].as_str() {
            Some(r) => {
                let name = r.trim_start_matches("#/definitions/");
                let Some(def) = definition(name) else {
                    return value.clone();
                };
                if name.ends_with("meta.v1.Time") && !value.is_string() {
                    self.mismatch(value, schema, go_struct, stack);
                    return value.clone();
                }
                let short = name.rsplit('.').next().unwrap_or_default().to_string();
                if def["properties"].is_object() && !value.is_object() {
                    self.mismatch(value, schema, go_struct, stack);
                    return value.clone();
                }
                (def, Some(short))
            }
            None => (schema, None),
        };
        match schema["type"].as_str().unwrap_or_default() {
            "string" if !value.is_string() => self.mismatch(value, schema, go_struct, stack),
            "boolean" if !value.is_boolean() => self.mismatch(value, schema, go_struct, stack),
            "integer" if !(value.is_i64() || value.is_u64()) => {
                self.mismatch(value, schema, go_struct, stack)
            }
            "array" => match value.as_array() {
                None => self.mismatch(value, schema, go_struct, stack),
                Some(items) => {
                    let out = items
                        .iter()
                        .enumerate()
                        .map(|(i, item)| {
                            let p = format!("{path}[{i}]");
                            self.value(&schema["items"], item, go_struct, stack, &p)
                        })
                        .collect();
                    return Value::Array(out);
                }
            },
            "object" => match value.as_object() {
                None => self.mismatch(value, schema, go_struct, stack),
                Some(fields) => {
                    if let Some(props) = schema["properties"].as_object() {
                        let go_struct = struct_name.as_deref().unwrap_or(go_struct);
                        let mut out = Map::new();
                        for (k, v) in fields {
                            let p = if path.is_empty() {
                                k.clone()
                            } else {
                                format!("{path}.{k}")
                            };
                            match props.get(k) {
                                Some(sub) => {
                                    let mut st = stack.to_vec();
                                    st.push(k.clone());
                                    let v = self.value(sub, v, go_struct, &st, &p);
                                    if !v.is_null() {
                                        out.insert(k.clone(), v);
                                    }
                                }
                                None => self.unknown.push(p),
                            }
                        }
                        return Value::Object(out);
                    }
                    if schema["additionalProperties"].is_object() {
                        let sub = &schema["additionalProperties"];
                        let out = fields
                            .iter()
                            .map(|(k, v)| {
                                let p = format!("{path}[{k}]");
                                let v = match v {
                                    // encoding/json leaves the zero value for a null.
                                    Value::Null if sub["type"] == "string" => {
                                        Value::String(String::new())
                                    }
                                    v => self.value(sub, v, go_struct, stack, &p),
                                };
                                (k.clone(), v)
                            })
                            .collect();
                        return Value::Object(out);
                    }
                }
            },
            _ => {}
        }
        value.clone()
    }
}

/// RBAC defaulting (pkg/apis/rbac/v1/defaults.go): an empty roleRef.apiGroup, and an empty
/// apiGroup of a User or Group subject, become `rbac.authorization.k8s.io`.
pub fn set_defaults(kind: &Kind, obj: &mut Value) {
    if kind.group != RBAC || !kind.resource.ends_with("bindings") {
        return;
    }
    let empty = |v: &Value| v.as_str().unwrap_or_default().is_empty();
    if obj["roleRef"].is_object() && empty(&obj["roleRef"]["apiGroup"]) {
        obj["roleRef"]["apiGroup"] = Value::String(RBAC.into());
    }
    if let Some(subjects) = obj["subjects"].as_array_mut() {
        for s in subjects.iter_mut().filter(|s| s.is_object()) {
            let user_or_group = matches!(s["kind"].as_str(), Some("User" | "Group"));
            if user_or_group && empty(&s["apiGroup"]) {
                s["apiGroup"] = Value::String(RBAC.into());
            }
        }
    }
}

fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%+v` of a decoded JSON value (maps print as `map[k:v]` with sorted keys).
fn go_print(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        Value::Array(a) => format!("[{}]", a.iter().map(go_print).collect::<Vec<_>>().join(" ")),
        Value::Object(m) => format!(
            "map[{}]",
            m.iter()
                .map(|(k, v)| format!("{k}:{}", go_print(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    }
}

/// An object decoded for storage, and the warnings the client gets (`unknown field "x"` for
/// each dropped field under fieldValidation=Warn, sent as `Warning` headers).
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub object: Value,
    pub warnings: Vec<String>,
}

/// Decodes `obj` into `kind`: checks types, drops unknown fields (or refuses them under
/// Strict), sets defaults.
pub fn decode(
    kind: &Kind,
    obj: &Value,
    validation: FieldValidation,
    route: Route<'_>,
) -> Result<Decoded, ApiError> {
    let Some(def) = definition(&crate::openapi::definition_name(kind)) else {
        return Ok(Decoded {
            object: obj.clone(),
            warnings: Vec::new(),
        });
    };
    let mut walk = Walk {
        mismatch: None,
        unknown: Vec::new(),
    };
    let mut out = walk.value(def, obj, kind.kind, &[], "");
    if let Some(m) = walk.mismatch {
        return Err(match route {
            Route::Body => ApiError::bad_request(format!(
                "{kind_name} in version {version:?} cannot be handled as a {kind_name}: {err}",
                kind_name = kind.kind,
                version = kind.version,
                err = m.json_error()
            )),
            Route::MergePatch => {
                let patched = serde_json::to_string(obj).unwrap_or_default();
                patch_invalid(&go_quote(&patched), &m.json_error())
            }
            Route::StrategicPatch(patch) => {
                patch_invalid(&go_quote(&go_print(patch)), &m.converter_error())
            }
        });
    }
    if validation == FieldValidation::Strict && !walk.unknown.is_empty() {
        let listed: Vec<String> = walk
            .unknown
            .iter()
            .map(|p| format!("unknown field {}", go_quote(p)))
            .collect();
        let err = format!("strict decoding error: {}", listed.join(", "));
        return Err(ApiError::bad_request(match route {
            Route::Body => format!(
                "{kind_name} in version {version:?} cannot be handled as a {kind_name}: {err}",
                kind_name = kind.kind,
                version = kind.version,
            ),
            _ => err,
        }));
    }
    set_defaults(kind, &mut out);
    let warnings = match validation {
        FieldValidation::Warn => walk
            .unknown
            .iter()
            .map(|p| format!("unknown field {}", go_quote(p)))
            .collect(),
        _ => Vec::new(),
    };
    Ok(Decoded {
        object: out,
        warnings,
    })
}

/// errors.NewInvalid(schema.GroupKind{}, "", [field.Invalid("patch", value, err)]).
fn patch_invalid(quoted_value: &str, err: &str) -> ApiError {
    let mut e = FieldError::invalid("patch", "", err);
    e.value = Some(quoted_value.to_string());
    e.quoted = false;
    ApiError::invalid_group_kind("", "", "", &[e])
}

#[cfg(test)]
mod tests;
