//! Watches (`?watch=true` on a list): a stream of JSON lines `{"type":"ADDED","object":{...}}`,
//! as kube-apiserver streams them to JSON clients (`kubectl get -w`, `kubectl wait`, and
//! `kubectl delete`, which waits for the object to be gone).
//!
//! A watch without a resourceVersion (or `0`) starts with the current objects as ADDED; one
//! with a resourceVersion replays the store's recent changes after it (410 Expired, as an ERROR
//! event, when it is older than the history). Label and field selectors filter events; the
//! stream ends after `timeoutSeconds` (30 minutes without it) or when the client goes away.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::broadcast::error::RecvError;

use crate::kinds::Kind;
use crate::selector::{FieldSelector, LabelSelector};
use crate::server::{Body, Reply};
use crate::status::ApiError;
use crate::store::{Change, Store};

/// A watch response body: event lines from the task that follows the store.
#[derive(Debug)]
pub struct Stream(pub tokio::sync::mpsc::Receiver<Bytes>);

impl hyper::body::Body for Stream {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

fn line(event_type: &str, object: &Value) -> Bytes {
    let mut v =
        serde_json::to_vec(&json!({"type": event_type, "object": object})).unwrap_or_default();
    v.push(b'\n');
    Bytes::from(v)
}

/// The ERROR event a watch from a compacted resourceVersion gets.
fn expired(from: u64, oldest: u64) -> Bytes {
    line(
        "ERROR",
        &json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": format!("too old resource version: {from} ({oldest})"),
            "reason": "Expired", "code": 410}),
    )
}

/// Starts a watch of `kind` in `namespace` (empty: all) for a request's query parameters.
pub(crate) fn start(
    store: &Arc<Mutex<Store>>,
    kind: &'static Kind,
    namespace: &str,
    params: &BTreeMap<String, String>,
    table: bool,
) -> Result<Reply, ApiError> {
    let param = |k: &str| params.get(k).map_or("", String::as_str);
    let labels = LabelSelector::parse(param("labelSelector"))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(param("fieldSelector"), kind)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let from = match param("resourceVersion") {
        "" | "0" => None,
        rv => Some(
            rv.parse::<u64>()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version: {rv}")))?,
        ),
    };
    let timeout =
        std::time::Duration::from_secs(param("timeoutSeconds").parse::<u64>().unwrap_or(30 * 60));
    let scope = (!namespace.is_empty()).then(|| namespace.to_string());
    let started =
        store
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .watch(kind, scope.as_deref(), from);
    let (tx, rx) = tokio::sync::mpsc::channel::<Bytes>(64);
    // `kubectl get -w` asks for tables: each event then carries a one-row Table.
    let event = move |c: &Change| {
        if table {
            let rv = c.revision.to_string();
            let t = crate::kinds::table(
                kind,
                std::slice::from_ref(&c.object),
                &rv,
                jiff::Timestamp::now(),
            );
            line(c.change.as_str(), &t)
        } else {
            line(c.change.as_str(), &c.object)
        }
    };
    let wanted = move |c: &Change| {
        c.resource == kind.resource
            && scope
                .as_deref()
                .is_none_or(|ns| !kind.namespaced || c.namespace == ns)
            && labels.matches(&labels_of(&c.object))
            && fields.matches(&c.object)
    };
    match started {
        Err(oldest) => {
            let from = from.unwrap_or_default();
            tokio::spawn(async move {
                let _ = tx.send(expired(from, oldest)).await;
            });
        }
        Ok(start) => {
            let mut receiver = start.receiver;
            tokio::spawn(async move {
                for c in start.initial.iter().filter(|c| wanted(c)) {
                    if tx.send(event(c)).await.is_err() {
                        return;
                    }
                }
                let deadline = tokio::time::sleep(timeout);
                tokio::pin!(deadline);
                loop {
                    tokio::select! {
                        () = &mut deadline => return,
                        () = tx.closed() => return,
                        received = receiver.recv() => match received {
                            Ok(c) if wanted(&c) => {
                                if tx.send(event(&c)).await.is_err() {
                                    return;
                                }
                            }
                            Ok(_) => {}
                            Err(RecvError::Lagged(_)) => {
                                let _ = tx.send(expired(from.unwrap_or_default(), 0)).await;
                                return;
                            }
                            Err(RecvError::Closed) => return,
                        },
                    }
                }
            });
        }
    }
    Ok(Reply {
        code: 200,
        body: Body::Stream(rx),
        warnings: Vec::new(),
    })
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
