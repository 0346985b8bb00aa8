//! The HTTPS Kubernetes API server: TLS, authentication, request info, authorization, routing.
//!
//! Here: serving, authentication, authorization and routing. `request_info`: path to target and
//! verb; `ctx`: a routed resource request; handlers by family: `objects` (stored and
//! discovery-only kinds), `escalation` (RBAC writes), `reviews` (token and access reviews),
//! `non_resource` (version, discovery, OpenAPI, health).

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::auth::{AuthError, Authenticator, User};
use crate::authz::{Attributes, Authorizer};
use crate::kinds::Kind;
use crate::reqlog::{LoggedRequest, RequestLog};
use crate::status::ApiError;
use crate::store::Store;

mod ctx;
mod escalation;
mod non_resource;
mod objects;
mod request_info;
mod reviews;

use ctx::Ctx;
use non_resource::non_resource;
use objects::{empty_kind, objects};
use request_info::{Target, parse_target, query_params, verb_for};
use reviews::review;

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

impl Ctx<'_> {}

#[cfg(test)]
mod tests;
