//! The HTTPS Kubernetes API server: TLS, authentication, request info, authorization, routing.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

use crate::auth::{AuthError, Authenticator, User};
use crate::authz::{Attributes, Authorizer};
use crate::decode::{FieldValidation, Route, decode};
use crate::kinds::{self, Kind};
use crate::reqlog::{LoggedRequest, RequestLog};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{PatchType, Store};

/// Largest request body accepted (kube-apiserver's limit is 3 MiB for most requests).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Everything a request handler needs.
#[derive(Debug)]
pub struct State {
    pub store: Arc<Mutex<Store>>,
    /// Asked in order; the first that does not answer `NotMine` decides.
    pub authenticators: Vec<Arc<dyn Authenticator>>,
    pub authorizer: Arc<dyn Authorizer>,
    pub log: Arc<RequestLog>,
    /// `127.0.0.1:PORT`, for `/api`'s serverAddressByClientCIDRs.
    pub server_address: String,
}

/// Accepts TLS connections until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Arc<rustls::ServerConfig>,
    state: Arc<State>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    tokio::pin!(shutdown);
    // The namespace controller: empties and removes namespaces whose deletion is due.
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(100));
        loop {
            tick.tick().await;
            let now = jiff::Timestamp::now();
            store
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .finalize_namespaces(now);
        }
    });
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, _)) = accepted else { continue };
        let acceptor = acceptor.clone();
        let state = state.clone();
        tokio::spawn(async move {
            // A client that fails the handshake (wrong CA, plain HTTP) is simply dropped.
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, Infallible>(handle(&state, req).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

/// Response bodies: whole ones, or a watch's stream.
type ResponseBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

fn json_response(code: u16, body: &Value) -> Response<ResponseBody> {
    Response::builder()
        .status(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header(header::CONTENT_TYPE, "application/json")
        .header("Cache-Control", "no-cache, private")
        .body(Full::new(Bytes::from(serde_json::to_vec(body).unwrap_or_default())).boxed())
        .expect("static response parts are valid")
}

async fn handle(state: &State, req: Request<Incoming>) -> Response<ResponseBody> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let headers = req.headers().clone();
    let respond = |who: Who<'_>, reply: Reply| finish(state, &method, &path, &query, who, reply);
    let body = match Limited::new(req.into_body(), MAX_BODY).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            let err = ApiError::bad_request("the request body could not be read or is too large");
            return respond(Who::default(), Reply::json(err.code, err.body));
        }
    };
    let user = match authenticate(state, &headers).await {
        Ok(user) => user,
        Err(reason) => {
            let err = ApiError::unauthorized();
            let who = Who {
                auth_error: &reason,
                ..Who::default()
            };
            return respond(who, Reply::json(err.code, err.body));
        }
    };
    // Impersonation comes after authentication and before authorization, as in kube-apiserver's
    // handler chain; the log keeps both names, as its audit log does.
    let impersonated = {
        let rbac = state.store.lock().unwrap_or_else(|e| e.into_inner()).rbac();
        crate::impersonate::impersonate(state.authorizer.as_ref(), &rbac, &user, &headers)
    };
    let impersonated = match impersonated {
        Ok(i) => i,
        Err(err) => {
            let who = Who {
                user: &user.username,
                ..Who::default()
            };
            return respond(who, Reply::json(err.code, err.body));
        }
    };
    let acting = Acting {
        user: impersonated.as_ref().unwrap_or(&user),
        authorizer: match &impersonated {
            Some(_) if state.authorizer.rbac_only_when_impersonated() => &crate::authz::Rbac,
            _ => state.authorizer.as_ref(),
        },
    };
    let result = process(state, acting, &method, &path, &query, &headers, &body);
    let reply = match result {
        Ok(ok) => ok,
        Err(err) => Reply::json(err.code, err.body),
    };
    let who = Who {
        user: &user.username,
        impersonated_user: impersonated.as_ref().map_or("", |u| u.username.as_str()),
        auth_error: "",
    };
    respond(who, reply)
}

/// A quoted-string for a Warning header (`"` and `\` escaped; the texts are ASCII).
fn go_quote_header(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// Who a request acts as, and what authorizes it.
#[derive(Clone, Copy)]
struct Acting<'a> {
    user: &'a User,
    authorizer: &'a dyn Authorizer,
}

/// Who a logged request came from.
#[derive(Debug, Default, Clone, Copy)]
struct Who<'a> {
    /// The authenticated user (empty for a refused token).
    user: &'a str,
    /// The user it acted as through impersonation, if any.
    impersonated_user: &'a str,
    /// Why authentication failed.
    auth_error: &'a str,
}

/// What a request is answered with.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) code: u16,
    pub(crate) body: Body,
    /// Sent as `Warning: 299 - "<text>"` headers (k8s.io/apiserver/pkg/warning), which kubectl
    /// prints as `Warning: <text>`.
    pub(crate) warnings: Vec<String>,
}

#[derive(Debug)]
pub(crate) enum Body {
    /// A watch: JSON event lines as they happen.
    Stream(tokio::sync::mpsc::Receiver<Bytes>),
    Json(Value),
    /// `text/plain` (health checks).
    Text(String),
    /// Any other media type (the protobuf OpenAPI v2 document).
    Bytes {
        content_type: &'static str,
        data: Vec<u8>,
    },
}

impl Reply {
    fn json(code: u16, body: Value) -> Reply {
        Reply {
            code,
            body: Body::Json(body),
            warnings: Vec::new(),
        }
    }
}

fn finish(
    state: &State,
    method: &Method,
    path: &str,
    query: &str,
    who: Who<'_>,
    reply: Reply,
) -> Response<ResponseBody> {
    state.log.record(LoggedRequest {
        method: method.to_string(),
        path: path.to_string(),
        query: query.to_string(),
        user: who.user.to_string(),
        impersonated_user: who.impersonated_user.to_string(),
        status: reply.code,
        auth_error: who.auth_error.to_string(),
    });
    let mut response = match reply.body {
        Body::Json(v) => json_response(reply.code, &v),
        body => {
            let (content_type, body) = match body {
                Body::Json(_) => unreachable!("handled above"),
                Body::Text(t) => (
                    "text/plain; charset=utf-8",
                    Full::new(Bytes::from(t)).boxed(),
                ),
                Body::Bytes { content_type, data } => {
                    (content_type, Full::new(Bytes::from(data)).boxed())
                }
                Body::Stream(rx) => ("application/json", BodyExt::boxed(crate::watch::Stream(rx))),
            };
            Response::builder()
                .status(reply.code)
                .header(header::CONTENT_TYPE, content_type)
                .body(body)
                .expect("static response parts are valid")
        }
    };
    for text in &reply.warnings {
        let value = format!("299 - {}", go_quote_header(text));
        if let Ok(v) = http::HeaderValue::from_str(&value) {
            response.headers_mut().append("Warning", v);
        }
    }
    response
}

/// The user, or why the credentials were refused (the client only sees 401 `Unauthorized`).
async fn authenticate(state: &State, headers: &HeaderMap) -> Result<User, String> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(User::anonymous());
    };
    let value = value.to_str().unwrap_or_default().trim();
    let Some((scheme, token)) = value.split_once(' ') else {
        return Ok(User::anonymous());
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(User::anonymous());
    }
    let token = token.trim();
    if token.is_empty() {
        return Err("empty bearer token".into());
    }
    for authenticator in &state.authenticators {
        match authenticator.authenticate(token).await {
            Ok(user) => return Ok(user.authenticated()),
            Err(AuthError::NotMine) => continue,
            Err(AuthError::Rejected(reason)) => return Err(reason),
        }
    }
    Err("no authenticator recognizes the token".into())
}

/// What the URL names, as k8s.io/apiserver/pkg/endpoints/request.RequestInfoFactory parses it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    NonResource,
    Resource {
        group: String,
        version: String,
        resource: String,
        subresource: String,
        name: String,
        namespace: String,
    },
}

fn parse_target(path: &str) -> Target {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let (group, version, rest) = match parts.as_slice() {
        ["api", v, rest @ ..] if !rest.is_empty() => ("", *v, rest),
        ["apis", g, v, rest @ ..] if !rest.is_empty() => (*g, *v, rest),
        _ => return Target::NonResource,
    };
    let mut namespace = String::new();
    let mut rest: &[&str] = rest;
    if rest[0] == "namespaces" && rest.len() > 1 {
        namespace = rest[1].to_string();
        if rest.len() > 2 && !["status", "finalize"].contains(&rest[2]) {
            rest = &rest[2..];
        }
    }
    let resource = rest[0].to_string();
    let name = rest.get(1).map(|s| s.to_string()).unwrap_or_default();
    let subresource = rest.get(2..).map(|s| s.join("/")).unwrap_or_default();
    Target::Resource {
        group: group.into(),
        version: version.into(),
        resource,
        subresource,
        name,
        namespace,
    }
}

fn query_params(query: &str) -> BTreeMap<String, String> {
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

fn verb_for(method: &Method, name: &str, params: &BTreeMap<String, String>) -> String {
    match *method {
        Method::GET | Method::HEAD if name.is_empty() => {
            if params.get("watch").is_some_and(|w| w == "true" || w == "1") {
                "watch"
            } else {
                "list"
            }
        }
        Method::GET | Method::HEAD => "get",
        Method::POST => "create",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE if name.is_empty() => "deletecollection",
        Method::DELETE => "delete",
        _ => "unknown",
    }
    .to_string()
}

fn process(
    state: &State,
    acting: Acting<'_>,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Reply, ApiError> {
    let params = query_params(query);
    let target = parse_target(path);
    let attrs = match &target {
        Target::NonResource => Attributes {
            verb: method.as_str().to_ascii_lowercase(),
            resource_request: false,
            path: path.to_string(),
            ..Attributes::default()
        },
        Target::Resource {
            group,
            version,
            resource,
            subresource,
            name,
            namespace,
        } => Attributes {
            verb: verb_for(method, name, &params),
            resource_request: true,
            group: group.clone(),
            version: version.clone(),
            resource: resource.clone(),
            subresource: subresource.clone(),
            name: name.clone(),
            namespace: namespace.clone(),
            path: path.to_string(),
        },
    };
    let rbac = state.store.lock().unwrap_or_else(|e| e.into_inner()).rbac();
    let user = acting.user;
    let decision = acting.authorizer.authorize(&rbac, user, &attrs);
    if !decision.allowed {
        return Err(acting.authorizer.forbidden(user, &attrs, &decision.reason));
    }
    match target {
        Target::NonResource => non_resource(state, method, path, &params, headers),
        Target::Resource {
            group,
            version,
            resource,
            subresource,
            name,
            namespace,
        } => {
            let kind =
                Kind::find(&group, &version, &resource).ok_or_else(ApiError::path_not_found)?;
            if !subresource.is_empty()
                || (!kind.namespaced && !namespace.is_empty() && kind.resource != "namespaces")
            {
                return Err(ApiError::path_not_found());
            }
            let ctx = Ctx {
                state,
                user,
                authorizer: acting.authorizer,
                kind,
                namespace,
                name,
                params,
                query,
                headers,
                body,
                warnings: std::cell::RefCell::default(),
            };
            let watch = ctx
                .params
                .get("watch")
                .is_some_and(|w| w == "true" || w == "1");
            if watch && method == Method::GET && ctx.name.is_empty() && (kind.stored || kind.empty)
            {
                return crate::watch::start(
                    &ctx.state.store,
                    kind,
                    ctx.object_namespace(),
                    &ctx.params,
                    ctx.wants_table(),
                );
            }
            if kind.stored {
                objects(&ctx, method)
            } else if kind.empty {
                empty_kind(&ctx, method)
            } else {
                review(&ctx, &rbac, method)
            }
            .map(|(code, body)| Reply {
                warnings: ctx.warnings.take(),
                ..Reply::json(code, body)
            })
        }
    }
}

fn non_resource(
    state: &State,
    method: &Method,
    path: &str,
    params: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Result<Reply, ApiError> {
    if method != Method::GET {
        return Err(ApiError::path_not_found());
    }
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    let doc = match parts.as_slice() {
        ["version"] => Some(kinds::version()),
        ["api"] => Some(kinds::core_versions(&state.server_address)),
        ["api", v] => kinds::resource_list("", v),
        ["apis"] => Some(kinds::group_list()),
        ["apis", g] => kinds::group(g),
        ["apis", g, v] => kinds::resource_list(g, v),
        ["healthz" | "livez" | "readyz"] => {
            let text = health_report(parts[0], params.contains_key("verbose"));
            return Ok(Reply {
                code: 200,
                body: Body::Text(text),
                warnings: Vec::new(),
            });
        }
        ["openapi", "v2"] => {
            let doc = crate::openapi::document();
            let accept = headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            if crate::openapi::PROTOBUF_ACCEPTED
                .iter()
                .any(|t| accept.contains(t))
            {
                return Ok(Reply {
                    code: 200,
                    body: Body::Bytes {
                        content_type: crate::openapi::PROTOBUF_CONTENT_TYPE,
                        data: crate::openapi::encode(&doc),
                    },
                    warnings: Vec::new(),
                });
            }
            Some(doc)
        }
        ["openapi", "v3"] => Some(kinds::openapi_v3_root()),
        ["openapi", "v3", rest @ ..] => kinds::openapi_v3_group_version(&rest.join("/")),
        _ => None,
    };
    doc.map(|d| Reply::json(200, d))
        .ok_or_else(ApiError::path_not_found)
}

/// `/healthz`, `/livez`, `/readyz`: `ok`, or with `?verbose` one line per check and a summary,
/// as k8s.io/apiserver/pkg/server/healthz words it (the checks are those of kube-apiserver that
/// mean something here; all pass while the server serves).
fn health_report(endpoint: &str, verbose: bool) -> String {
    if !verbose {
        return "ok".into();
    }
    let mut checks = vec!["ping", "log", "etcd"];
    if endpoint == "readyz" {
        checks.extend(["etcd-readiness", "informer-sync"]);
    }
    checks.extend([
        "poststarthook/start-apiserver-admission-initializer",
        "poststarthook/rbac/bootstrap-roles",
    ]);
    if endpoint == "readyz" {
        checks.push("shutdown");
    }
    let mut out: String = checks.iter().map(|c| format!("[+]{c} ok\n")).collect();
    out.push_str(&format!("{endpoint} check passed\n"));
    out
}

struct Ctx<'a> {
    state: &'a State,
    user: &'a User,
    /// The authorizer for `user` (RBAC alone for an impersonated user on EKS).
    authorizer: &'a dyn Authorizer,
    kind: &'static Kind,
    /// From the URL; for `namespaces/NAME` it is NAME, as in RequestInfo.
    namespace: String,
    name: String,
    params: BTreeMap<String, String>,
    /// The raw query (for parameters that may repeat, such as `dryRun`).
    query: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    /// Warnings for the client (`Warning: 299 - "..."` headers).
    warnings: std::cell::RefCell<Vec<String>>,
}

impl Ctx<'_> {
    /// The decoded object; its warnings go to the response.
    fn decoded(&self, d: crate::decode::Decoded) -> Value {
        self.warnings.borrow_mut().extend(d.warnings);
        d.object
    }

    fn header(&self, name: header::HeaderName) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }

    fn wants_table(&self) -> bool {
        self.header(header::ACCEPT)
            .split(',')
            .any(|part| part.contains("as=Table"))
    }

    /// Whether the query asks for a dry run (`dryRun=All`, possibly repeated); any other value
    /// is refused as metav1 validation's ValidateDryRun refuses it, naming the options kind.
    fn query_dry_run(&self, options_kind: &str) -> Result<bool, ApiError> {
        let values: Vec<String> = url::form_urlencoded::parse(self.query.as_bytes())
            .filter(|(k, _)| k == "dryRun")
            .map(|(_, v)| v.into_owned())
            .collect();
        check_dry_run(&values, options_kind)
    }

    /// The object namespace for store calls (empty for cluster-scoped kinds).
    fn object_namespace(&self) -> &str {
        if self.kind.namespaced {
            &self.namespace
        } else {
            ""
        }
    }

    fn body_json(&self) -> Result<Value, ApiError> {
        let content_type = self.header(header::CONTENT_TYPE);
        let media = content_type.split(';').next().unwrap_or_default().trim();
        match media {
            ""
            | "application/json"
            | "application/merge-patch+json"
            | "application/strategic-merge-patch+json" => serde_json::from_slice(self.body)
                .map_err(|e| {
                    ApiError::bad_request(format!("the request body is not valid JSON: {e}"))
                }),
            "application/vnd.kubernetes.protobuf" => {
                crate::protobuf::decode(self.body).map_err(|e| {
                    ApiError::bad_request(format!("the request body is not valid protobuf: {e}"))
                })
            }
            "application/yaml" => serde_yaml::from_slice(self.body).map_err(|e| {
                ApiError::bad_request(format!("the request body is not valid YAML: {e}"))
            }),
            other => Err(ApiError::unsupported_media_type(other)),
        }
    }

    /// `fieldValidation`, refused as metav1 ValidateFieldValidation refuses an unknown value.
    fn field_validation(&self, options_kind: &str) -> Result<FieldValidation, ApiError> {
        let value = self.params.get("fieldValidation").map(String::as_str);
        FieldValidation::parse(value).ok_or_else(|| {
            let err = crate::status::FieldError::not_supported(
                "fieldValidation",
                value.unwrap_or_default(),
                &["", "Ignore", "Strict", "Warn"],
            );
            ApiError::invalid_options(options_kind, &[err])
        })
    }

    /// Runs a write against the store, or for a dry run against a scratch copy that is dropped.
    fn write<T>(
        &self,
        dry_run: bool,
        op: impl FnOnce(&mut Store) -> Result<T, ApiError>,
    ) -> Result<T, ApiError> {
        let mut store = self.state.store.lock().unwrap_or_else(|e| e.into_inner());
        if dry_run {
            let mut scratch = store.scratch();
            op(&mut scratch)
        } else {
            op(&mut store)
        }
    }
}

/// metav1 validation's ValidateDryRun: only `All` is a dry-run value.
fn check_dry_run(values: &[String], options_kind: &str) -> Result<bool, ApiError> {
    if values.iter().any(|v| v != "All") {
        let quoted: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
        let err = crate::status::FieldError::not_supported_raw(
            "dryRun",
            &format!("[]string{{{}}}", quoted.join(", ")),
            &["All"],
        );
        return Err(ApiError::invalid_options(options_kind, &[err]));
    }
    Ok(!values.is_empty())
}

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

fn objects(ctx: &Ctx<'_>, method: &Method) -> Result<(u16, Value), ApiError> {
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
fn empty_kind(ctx: &Ctx<'_>, method: &Method) -> Result<(u16, Value), ApiError> {
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

/// pkg/registry/rbac/escalation_check.go: a write of a role passes when the request's
/// authorizer allows `escalate` on it (with the URL's name, empty for a create), a write of a
/// binding when it allows `bind` on the referenced role in the binding's namespace. The
/// authorizer is the whole chain (on EKS, access policies too), not RBAC alone.
fn explicitly_authorized(
    ctx: &Ctx<'_>,
    rbac: &eks_auth::rbac::RbacObjects,
    namespace: &str,
    body: &Value,
) -> bool {
    let kind = ctx.kind;
    let attrs = match kind.resource {
        "roles" | "clusterroles" => Attributes {
            verb: "escalate".into(),
            resource_request: true,
            group: kind.group.into(),
            version: "*".into(),
            resource: kind.resource.into(),
            name: ctx.name.clone(),
            namespace: namespace.to_string(),
            ..Attributes::default()
        },
        "rolebindings" | "clusterrolebindings" => {
            let role_ref = &body["roleRef"];
            let resource = match role_ref["kind"].as_str() {
                Some("ClusterRole") => "clusterroles",
                Some("Role") => "roles",
                _ => return false,
            };
            Attributes {
                verb: "bind".into(),
                resource_request: true,
                group: role_ref["apiGroup"].as_str().unwrap_or_default().into(),
                resource: resource.into(),
                name: role_ref["name"].as_str().unwrap_or_default().into(),
                namespace: namespace.to_string(),
                ..Attributes::default()
            }
        }
        _ => return false,
    };
    ctx.authorizer.authorize(rbac, ctx.user, &attrs).allowed
}

/// RBAC escalation prevention on writes of roles and bindings (the `policybased` storages of
/// kube-apiserver), by `eks_auth::rbac`: checked before the object is validated and stored.
fn check_escalation(
    store: &mut Store,
    ctx: &Ctx<'_>,
    namespace: &str,
    body: &Value,
    update: bool,
) -> Result<(), ApiError> {
    let (user, kind) = (ctx.user, ctx.kind);
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
    fn typed<T: serde::de::DeserializeOwned>(
        kind: &Kind,
        mut body: Value,
        namespace: &str,
    ) -> Result<T, ApiError> {
        if kind.namespaced && body["metadata"].is_object() {
            body["metadata"]["namespace"] = json!(namespace);
        }
        serde_json::from_value(body).map_err(|e| {
            ApiError::bad_request(format!(
                "the {} in the request body does not decode: {e}",
                kind.kind
            ))
        })
    }
    fn old<T: serde::de::DeserializeOwned>(
        store: &Store,
        kind: &'static Kind,
        ns: &str,
        name: &str,
        update: bool,
    ) -> Option<T> {
        if !update {
            return None;
        }
        store
            .get(kind, ns, name)
            .ok()
            .and_then(|v| serde_json::from_value(v).ok())
    }
    if kind.group != "rbac.authorization.k8s.io" {
        return Ok(());
    }
    let rbac = store.rbac();
    if explicitly_authorized(ctx, &rbac, namespace, body) {
        return Ok(());
    }
    let u = eks_auth::rbac::UserInfo::new(user.username.clone(), user.groups.clone());
    let name = body["metadata"]["name"].as_str().unwrap_or_default();
    let result = match kind.resource {
        "clusterroles" => {
            let role: ClusterRole = typed(kind, body.clone(), namespace)?;
            let previous: Option<ClusterRole> = old(store, kind, namespace, name, update);
            rbac.check_cluster_role_write(&u, &role, previous.as_ref())
        }
        "roles" => {
            let role: Role = typed(kind, body.clone(), namespace)?;
            let previous: Option<Role> = old(store, kind, namespace, name, update);
            rbac.check_role_write(&u, &role, previous.as_ref())
        }
        "clusterrolebindings" => {
            let binding: ClusterRoleBinding = typed(kind, body.clone(), namespace)?;
            rbac.check_cluster_role_binding_write(&u, &binding)
        }
        "rolebindings" => {
            let binding: RoleBinding = typed(kind, body.clone(), namespace)?;
            rbac.check_role_binding_write(&u, &binding)
        }
        _ => Ok(()),
    };
    result.map_err(|e| {
        let mut details = json!({"group": kind.group, "kind": kind.resource});
        if !name.is_empty() {
            details["name"] = json!(name);
        }
        ApiError::new(e.code(), e.reason(), e.to_string(), Some(details))
    })
}

fn review(
    ctx: &Ctx<'_>,
    rbac: &eks_auth::rbac::RbacObjects,
    method: &Method,
) -> Result<(u16, Value), ApiError> {
    let kind = ctx.kind;
    if method != Method::POST || !ctx.name.is_empty() {
        return Err(ApiError::method_not_supported(
            kind,
            &method.as_str().to_ascii_lowercase(),
        ));
    }
    let body = ctx.body_json()?;
    let spec = body["spec"].clone();
    // Self reviews answer for the acting user with its authorizer; SubjectAccessReviews name a
    // subject that is not impersonated, so the full chain answers.
    let authorizer = ctx.state.authorizer.as_ref();
    let status = match kind.resource {
        "selfsubjectreviews" => json!({"userInfo": ctx.user}),
        "selfsubjectrulesreviews" => {
            let namespace = spec["namespace"].as_str().unwrap_or_default();
            ctx.authorizer.rules_review(rbac, ctx.user, namespace)
        }
        "selfsubjectaccessreviews" => access_review(ctx.authorizer, rbac, ctx.user, &spec, None)?,
        "subjectaccessreviews" | "localsubjectaccessreviews" => {
            let subject = User {
                username: spec["user"].as_str().unwrap_or_default().to_string(),
                uid: spec["uid"].as_str().unwrap_or_default().to_string(),
                groups: serde_json::from_value(spec["groups"].clone()).unwrap_or_default(),
                extra: serde_json::from_value(spec["extra"].clone()).unwrap_or_default(),
            };
            if subject.username.is_empty() && subject.groups.is_empty() {
                let err = crate::status::FieldError::invalid(
                    "spec.user",
                    "",
                    "at least one of user or group must be specified",
                );
                return Err(ApiError::invalid(kind, "", &[err]));
            }
            let local_ns =
                (kind.resource == "localsubjectaccessreviews").then_some(ctx.namespace.as_str());
            access_review(authorizer, rbac, &subject, &spec, local_ns)?
        }
        _ => return Err(ApiError::path_not_found()),
    };
    let mut metadata = json!({"creationTimestamp": null});
    if kind.namespaced {
        metadata["namespace"] = json!(ctx.namespace);
    }
    let mut out = json!({"kind": kind.kind, "apiVersion": kind.api_version(), "metadata": metadata, "status": status});
    if !spec.is_null() {
        out["spec"] = spec;
    }
    Ok((201, out))
}

fn access_review(
    authorizer: &dyn Authorizer,
    rbac: &eks_auth::rbac::RbacObjects,
    user: &User,
    spec: &Value,
    local_namespace: Option<&str>,
) -> Result<Value, ApiError> {
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    let attrs = if let Some(ra) = spec["resourceAttributes"].as_object() {
        let ra = Value::Object(ra.clone());
        let mut namespace = s(&ra["namespace"]);
        if let Some(local) = local_namespace {
            if !namespace.is_empty() && namespace != local {
                return Err(ApiError::bad_request(format!(
                    "spec.resourceAttributes.namespace must match namespace: {local}"
                )));
            }
            namespace = local.to_string();
        }
        Attributes {
            verb: s(&ra["verb"]),
            resource_request: true,
            group: s(&ra["group"]),
            version: s(&ra["version"]),
            resource: s(&ra["resource"]),
            subresource: s(&ra["subresource"]),
            name: s(&ra["name"]),
            namespace,
            path: String::new(),
        }
    } else if let Some(nra) = spec["nonResourceAttributes"].as_object() {
        let nra = Value::Object(nra.clone());
        Attributes {
            verb: s(&nra["verb"]),
            resource_request: false,
            path: s(&nra["path"]),
            ..Attributes::default()
        }
    } else {
        return Err(ApiError::bad_request(
            "exactly one of nonResourceAttributes or resourceAttributes must be specified",
        ));
    };
    let decision = authorizer.authorize(rbac, user, &attrs);
    let mut status = json!({"allowed": decision.allowed});
    if !decision.reason.is_empty() {
        status["reason"] = json!(decision.reason);
    }
    Ok(status)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(group: &str, resource: &str, name: &str, namespace: &str) -> Target {
        Target::Resource {
            group: group.into(),
            version: "v1".into(),
            resource: resource.into(),
            subresource: String::new(),
            name: name.into(),
            namespace: namespace.into(),
        }
    }

    #[test]
    fn request_info_like_the_apiserver() {
        assert_eq!(parse_target("/api"), Target::NonResource);
        assert_eq!(
            parse_target("/apis/rbac.authorization.k8s.io/v1"),
            Target::NonResource
        );
        assert_eq!(
            parse_target("/api/v1/namespaces"),
            res("", "namespaces", "", "")
        );
        assert_eq!(
            parse_target("/api/v1/namespaces/kube-system"),
            res("", "namespaces", "kube-system", "kube-system")
        );
        assert_eq!(
            parse_target("/api/v1/namespaces/kube-system/configmaps/aws-auth"),
            res("", "configmaps", "aws-auth", "kube-system")
        );
        assert_eq!(
            parse_target("/api/v1/configmaps"),
            res("", "configmaps", "", "")
        );
        assert_eq!(
            parse_target("/apis/rbac.authorization.k8s.io/v1/clusterroles/view"),
            res("rbac.authorization.k8s.io", "clusterroles", "view", "")
        );
    }
}
