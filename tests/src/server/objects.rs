//! Handlers of the stored kinds (get, list, create, update, patch, delete, dry runs) and of the
//! kinds known to discovery only.

use http::{Method, header};
use serde_json::{Value, json};

use crate::decode::{Route, decode};
use crate::kinds;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::PatchType;

use super::ctx::{Ctx, check_dry_run};
use super::escalation::check_escalation;
use super::request_info::verb_for;

/// What a dry run answers (registry.DryRunnableStorage): a create is not stored, so it has no
/// resourceVersion; an update or patch keeps the resourceVersion of the object it started from.
fn dry_run_answer(mut obj: Value, before: Option<&Value>) -> Value {
    match before.map(|b| b["metadata"]["resourceVersion"].clone()) {
        Some(rv) if !rv.is_null() => obj["metadata"]["resourceVersion"] = rv,
        _ => {
            if let Some(m) = obj["metadata"].as_object_mut() {
                m.remove("resourceVersion");
            }
        }
    }
    obj
}

fn strip_type_meta(mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.remove("apiVersion");
        m.remove("kind");
    }
    obj
}

pub(super) fn objects(ctx: &Ctx<'_>, method: &Method) -> Result<(u16, Value), ApiError> {
    let kind = ctx.kind;
    let now = jiff::Timestamp::now();
    let ns = ctx.object_namespace().to_string();
    match (method.clone(), ctx.name.is_empty()) {
        (Method::GET, true) => {
            if ctx
                .params
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1")
            {
                return Err(ApiError::method_not_supported(kind, "watch"));
            }
            let labels =
                LabelSelector::parse(ctx.params.get("labelSelector").map_or("", String::as_str))
                    .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let fields = FieldSelector::parse(
                ctx.params.get("fieldSelector").map_or("", String::as_str),
                kind,
            )
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let store = ctx.state.store.lock().unwrap_or_else(|e| e.into_inner());
            let scope = if kind.namespaced && !ns.is_empty() {
                Some(ns.as_str())
            } else {
                None
            };
            let items = store.list(kind, scope, &labels, &fields);
            let rv = store.revision();
            drop(store);
            if ctx.wants_table() {
                return Ok((200, kinds::table(kind, &items, &rv, now)));
            }
            let items: Vec<Value> = items.into_iter().map(strip_type_meta).collect();
            Ok((
                200,
                json!({
                    "kind": format!("{}List", kind.kind),
                    "apiVersion": kind.api_version(),
                    "metadata": {"resourceVersion": rv},
                    "items": items,
                }),
            ))
        }
        (Method::GET, false) => {
            let store = ctx.state.store.lock().unwrap_or_else(|e| e.into_inner());
            let obj = store.get(kind, &ns, &ctx.name)?;
            let rv = store.revision();
            drop(store);
            if ctx.wants_table() {
                return Ok((
                    200,
                    kinds::table(kind, std::slice::from_ref(&obj), &rv, now),
                ));
            }
            Ok((200, obj))
        }
        (Method::POST, true) => {
            let dry = ctx.query_dry_run("CreateOptions")?;
            let validation = ctx.field_validation("CreateOptions")?;
            let body = ctx.decoded(decode(kind, &ctx.body_json()?, validation, Route::Body)?);
            let obj = ctx.write(dry, |s| {
                check_escalation(s, ctx, &ns, &body, false)?;
                s.create(kind, &ns, &body, now)
            })?;
            Ok((201, if dry { dry_run_answer(obj, None) } else { obj }))
        }
        (Method::PUT, false) => {
            let dry = ctx.query_dry_run("UpdateOptions")?;
            let validation = ctx.field_validation("UpdateOptions")?;
            let body = ctx.decoded(decode(kind, &ctx.body_json()?, validation, Route::Body)?);
            let (obj, created, before) = ctx.write(dry, |s| {
                let before = s.get(kind, &ns, &ctx.name).ok();
                check_escalation(s, ctx, &ns, &body, before.is_some())?;
                s.update(kind, &ns, &ctx.name, &body, now)
                    .map(|(o, c)| (o, c, before))
            })?;
            let obj = if dry {
                dry_run_answer(obj, before.as_ref())
            } else {
                obj
            };
            Ok((if created { 201 } else { 200 }, obj))
        }
        (Method::PATCH, false) => {
            let content_type = ctx.header(header::CONTENT_TYPE);
            let patch_type = match content_type.split(';').next().unwrap_or_default().trim() {
                "application/merge-patch+json" => PatchType::Merge,
                "application/strategic-merge-patch+json" => PatchType::Strategic,
                other => return Err(ApiError::unsupported_media_type(other)),
            };
            let dry = ctx.query_dry_run("PatchOptions")?;
            let validation = ctx.field_validation("PatchOptions")?;
            let patch = ctx.body_json()?;
            let route = match patch_type {
                PatchType::Merge => Route::MergePatch,
                PatchType::Strategic => Route::StrategicPatch(&patch),
            };
            let (obj, before) = ctx.write(dry, |s| {
                let before = s.get(kind, &ns, &ctx.name)?;
                let candidate = s.patched(kind, &ns, &ctx.name, patch_type, &patch)?;
                let candidate = ctx.decoded(decode(kind, &candidate, validation, route)?);
                // A patch may not change the uid (ValidateObjectMetaUpdate).
                let uid = |o: &Value| {
                    o["metadata"]["uid"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string()
                };
                if uid(&candidate) != uid(&before) {
                    let err = crate::status::FieldError::invalid(
                        "metadata.uid",
                        &uid(&candidate),
                        "field is immutable",
                    );
                    return Err(ApiError::invalid(kind, &ctx.name, &[err]));
                }
                check_escalation(s, ctx, &ns, &candidate, true)?;
                s.update(kind, &ns, &ctx.name, &candidate, now)
                    .map(|(o, _)| (o, before))
            })?;
            Ok((
                200,
                if dry {
                    dry_run_answer(obj, Some(&before))
                } else {
                    obj
                },
            ))
        }
        (Method::DELETE, false) => {
            // DeleteOptions come from the body when there is one, else from the query
            // (handlers/delete.go); kubectl sends `{"dryRun":["All"],...}` in the body.
            let (options, dry) = if ctx.body.is_empty() {
                (json!({}), ctx.query_dry_run("DeleteOptions")?)
            } else {
                let options = ctx.body_json()?;
                let values: Vec<String> = match &options["dryRun"] {
                    Value::Null => Vec::new(),
                    v => serde_json::from_value(v.clone()).map_err(|_| {
                        ApiError::bad_request("DeleteOptions.dryRun is not a list of strings")
                    })?,
                };
                let dry = check_dry_run(&values, "DeleteOptions")?;
                (options, dry)
            };
            let pre = &options["preconditions"];
            let deleted = ctx.write(dry, |s| {
                s.delete(
                    kind,
                    &ns,
                    &ctx.name,
                    pre["resourceVersion"].as_str(),
                    pre["uid"].as_str(),
                    now,
                )
            })?;
            if kind.resource == "namespaces" {
                // A namespace is not gone yet (its finalizer holds it): the registry answers with
                // the object, Terminating.
                return Ok((200, deleted));
            }
            let mut details =
                json!({"name": ctx.name, "kind": kind.resource, "uid": deleted["metadata"]["uid"]});
            if !kind.group.is_empty() {
                details["group"] = json!(kind.group);
            }
            Ok((
                200,
                json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "details": details}),
            ))
        }
        (Method::DELETE, true) => Err(ApiError::method_not_supported(kind, "deletecollection")),
        (m, _) => Err(ApiError::method_not_supported(
            kind,
            &m.as_str().to_ascii_lowercase(),
        )),
    }
}

/// A kind known to discovery only: every list is empty, every get is 404, writes are 405.
pub(super) fn empty_kind(ctx: &Ctx<'_>, method: &Method) -> Result<(u16, Value), ApiError> {
    let kind = ctx.kind;
    let watch = ctx
        .params
        .get("watch")
        .is_some_and(|w| w == "true" || w == "1");
    match (method.clone(), ctx.name.is_empty()) {
        (Method::GET, true) if !watch => {
            LabelSelector::parse(ctx.params.get("labelSelector").map_or("", String::as_str))
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            FieldSelector::parse(
                ctx.params.get("fieldSelector").map_or("", String::as_str),
                kind,
            )
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let rv = ctx
                .state
                .store
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .revision();
            if ctx.wants_table() {
                let now = jiff::Timestamp::now();
                return Ok((200, kinds::table(kind, &[], &rv, now)));
            }
            Ok((
                200,
                json!({
                    "kind": format!("{}List", kind.kind),
                    "apiVersion": kind.api_version(),
                    "metadata": {"resourceVersion": rv},
                    "items": [],
                }),
            ))
        }
        (Method::GET, false) => Err(ApiError::not_found(kind, &ctx.name)),
        (m, _) => {
            let verb = if watch {
                "watch".to_string()
            } else {
                verb_for(&m, &ctx.name, &ctx.params)
            };
            Err(ApiError::method_not_supported(kind, &verb))
        }
    }
}
