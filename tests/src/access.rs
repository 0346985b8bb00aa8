//! The cluster's access entries and authentication mode, as the Kubernetes side sees them: a
//! snapshot read from the AWS side (`POST /_testbed/eks/access`, which also gives each entry's
//! IAM unique id, kept by EKS and never returned by its API), cached for [`REFRESH`].
//!
//! EKS says access entry changes are eventually consistent and "may take several seconds to be
//! effective" (user guide, creating-access-entries.html); here they take at most [`REFRESH`]
//! after the AWS side has them (a mode change counts once its update has succeeded there).
//!
//! A refresh is one request at a time, whatever the number of API requests waiting on it, and
//! asks only whether anything changed since the generation last read (the AWS side then answers
//! `unchanged` without the entries). Before, every request that found the snapshot stale read
//! all the entries itself: with 1,000 entries (a quarter of a megabyte) and 16 requests in
//! flight, a loaded machine spent longer on those reads than [`REFRESH`], so they never caught
//! up (BENCHMARKS.md, eks-whoami with access entries).

use std::net::SocketAddr;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eks_auth::access::entry::parse_scope;
use eks_auth::access::{AccessEntry, AccessEntryType, AuthenticationMode, PolicyAssociation};
use serde_json::Value;

use crate::http1;

/// How long a snapshot is reused.
pub const REFRESH: Duration = Duration::from_secs(1);

/// The mode and the entries, with their unique ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSnapshot {
    pub mode: AuthenticationMode,
    pub entries: Vec<AccessEntry>,
}

impl AccessSnapshot {
    /// A CONFIG_MAP cluster without entries (the view before the AWS side has answered).
    pub fn config_map() -> AccessSnapshot {
        AccessSnapshot {
            mode: AuthenticationMode::ConfigMap,
            entries: Vec::new(),
        }
    }

    /// Parses the admin API's answer. Entries that do not parse are skipped (the AWS side
    /// validated them; a skipped one would only deny, never grant).
    pub fn from_json(v: &Value) -> Result<AccessSnapshot, String> {
        let mode = v["authenticationMode"]
            .as_str()
            .ok_or("no authenticationMode")?;
        let mode = AuthenticationMode::from_str(mode).map_err(|e| e.to_string())?;
        let entries = v["entries"]
            .as_array()
            .map(|a| a.iter().filter_map(entry_from_json).collect())
            .unwrap_or_default();
        Ok(AccessSnapshot { mode, entries })
    }

    /// The entry whose stored unique id is `principal_id`.
    pub fn entry_by_id(&self, principal_id: &str) -> Option<&AccessEntry> {
        self.entries
            .iter()
            .find(|e| e.principal_id.as_deref() == Some(principal_id))
    }
}

/// The strings of a JSON array (none when `v` is not one): how the AWS side's lists and the
/// plugins' JSON output are read, here and by the plugins' end-to-end tests.
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn entry_from_json(v: &Value) -> Option<AccessEntry> {
    let policies = v["policies"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    let scope = &p["accessScope"];
                    Some(PolicyAssociation {
                        policy_arn: p["policyArn"].as_str()?.to_owned(),
                        scope: parse_scope(scope["type"].as_str()?, &strings(&scope["namespaces"]))
                            .ok()?,
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    Some(AccessEntry {
        principal_arn: v["principalArn"].as_str()?.parse().ok()?,
        principal_id: v["principalId"].as_str().map(str::to_owned),
        entry_type: AccessEntryType::from_str(v["type"].as_str()?).ok()?,
        username: v["username"].as_str()?.to_owned(),
        kubernetes_groups: strings(&v["kubernetesGroups"]),
        policies,
    })
}

/// The last snapshot read, the AWS side's generation it is at, and when it was confirmed.
#[derive(Debug)]
struct Current {
    snapshot: Arc<AccessSnapshot>,
    generation: Option<u64>,
    confirmed: Instant,
}

/// The snapshot of one cluster, refreshed from the AWS side when older than [`REFRESH`].
#[derive(Debug)]
pub struct AccessCache {
    aws: SocketAddr,
    cluster: String,
    current: Mutex<Option<Current>>,
    /// Held by the one refresh in flight.
    refreshing: tokio::sync::Mutex<()>,
}

impl AccessCache {
    pub fn new(aws: SocketAddr, cluster: &str) -> AccessCache {
        AccessCache {
            aws,
            cluster: cluster.to_owned(),
            current: Mutex::new(None),
            refreshing: tokio::sync::Mutex::new(()),
        }
    }

    /// The last snapshot read, however old (authorization never waits on I/O).
    pub fn cached(&self) -> Arc<AccessSnapshot> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.snapshot.clone())
            .unwrap_or_else(|| Arc::new(AccessSnapshot::config_map()))
    }

    /// The snapshot if confirmed less than [`REFRESH`] ago, and else the generation it is at.
    fn if_fresh(&self) -> Result<Arc<AccessSnapshot>, Option<u64>> {
        match self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            Some(c) if c.confirmed.elapsed() < REFRESH => Ok(c.snapshot.clone()),
            Some(c) => Err(c.generation),
            None => Err(None),
        }
    }

    /// A snapshot at most [`REFRESH`] old, read from the AWS side if needed: one read at a
    /// time, the other callers wait for it.
    pub async fn fresh(&self) -> Result<Arc<AccessSnapshot>, String> {
        if let Ok(s) = self.if_fresh() {
            return Ok(s);
        }
        let _one_refresh = self.refreshing.lock().await;
        let since = match self.if_fresh() {
            Ok(s) => return Ok(s), // refreshed while this caller waited
            Err(generation) => generation,
        };
        let body =
            serde_json::to_vec(&serde_json::json!({"cluster": self.cluster, "since": since}))
                .unwrap_or_default();
        let host = self.aws.to_string();
        let headers = [
            ("Host", host.as_str()),
            ("Content-Type", "application/json"),
        ];
        let resp = http1::send(self.aws, "POST", "/_testbed/eks/access", &headers, &body)
            .await
            .map_err(|e| format!("reading the access entries from the AWS side: {e}"))?;
        let text = String::from_utf8_lossy(&resp.body);
        if resp.status != 200 {
            return Err(format!(
                "reading the access entries from the AWS side: {} {text}",
                resp.status
            ));
        }
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("reading the access entries from the AWS side: {e}"))?;
        let generation = v["generation"].as_u64();
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        if v["unchanged"] == true
            && let Some(c) = current.as_mut()
        {
            c.confirmed = Instant::now();
            return Ok(c.snapshot.clone());
        }
        let snapshot = Arc::new(AccessSnapshot::from_json(&v)?);
        *current = Some(Current {
            snapshot: snapshot.clone(),
            generation,
            confirmed: Instant::now(),
        });
        Ok(snapshot)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_auth::access::AccessScope;
    use serde_json::json;

    #[test]
    fn snapshot_from_the_admin_api() {
        let v = json!({
            "authenticationMode": "API",
            "creatorArn": "arn:aws:iam::123456789012:user/c",
            "entries": [
                {"principalArn": "arn:aws:iam::123456789012:role/team/dev", "principalId": "AROA1",
                 "type": "STANDARD", "username": "arn:aws:sts::123456789012:assumed-role/dev/{{SessionName}}",
                 "kubernetesGroups": ["g"],
                 "policies": [{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
                               "accessScope": {"type": "namespace", "namespaces": ["dev-*"]}}]},
                {"principalArn": "not an arn", "principalId": "X", "type": "STANDARD", "username": "x"}
            ]
        });
        let s = AccessSnapshot::from_json(&v).unwrap();
        assert_eq!(s.mode, AuthenticationMode::Api);
        assert_eq!(s.entries.len(), 1);
        let e = s.entry_by_id("AROA1").unwrap();
        assert_eq!(e.kubernetes_groups, ["g"]);
        assert_eq!(
            e.policies[0].scope,
            AccessScope::Namespaces(vec!["dev-*".into()])
        );
        assert!(s.entry_by_id("AROA2").is_none());
        assert!(AccessSnapshot::from_json(&json!({"authenticationMode": "NOPE"})).is_err());
    }

    /// A stand-in for the AWS side's `/_testbed/eks/access`: answers the full snapshot at
    /// generation 7 unless asked `since: 7`, counts the requests and the `since` values.
    async fn fake_aws_side(
        seen: Arc<Mutex<Vec<Value>>>,
    ) -> (SocketAddr, tokio::task::JoinHandle<()>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut tcp, _)) = listener.accept().await else {
                    return;
                };
                let mut raw = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head, then the body its Content-Length announces.
                let body = loop {
                    let n = tcp.read(&mut buf).await.unwrap();
                    raw.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&raw).into_owned();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("Content-Length: "))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        if body.len() >= len {
                            break body.to_owned();
                        }
                    }
                };
                let asked: Value = serde_json::from_str(&body).unwrap();
                seen.lock().unwrap().push(asked["since"].clone());
                // Slow enough that concurrent callers overlap.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let answer = if asked["since"] == 7 {
                    json!({"generation": 7, "unchanged": true})
                } else {
                    json!({"generation": 7, "authenticationMode": "API", "entries": [
                        {"principalArn": "arn:aws:iam::123456789012:user/u", "principalId": "AIDA1",
                         "type": "STANDARD", "username": "u", "kubernetesGroups": []}]})
                };
                let body = answer.to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = tcp.write_all(response.as_bytes()).await;
            }
        });
        (addr, task)
    }

    /// `fresh()` from 16 tasks at once, as 16 API requests in flight.
    async fn sixteen_at_once(cache: &Arc<AccessCache>) -> Vec<Arc<AccessSnapshot>> {
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let cache = cache.clone();
                tokio::spawn(async move { cache.fresh().await })
            })
            .collect();
        let mut out = Vec::new();
        for c in callers {
            out.push(c.await.unwrap().unwrap());
        }
        out
    }

    #[tokio::test(flavor = "current_thread")]
    async fn one_read_for_many_callers_and_unchanged_keeps_the_snapshot() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (addr, task) = fake_aws_side(seen.clone()).await;
        let cache = Arc::new(AccessCache::new(addr, "c"));
        // 16 requests find no snapshot at once: one read.
        for snapshot in sixteen_at_once(&cache).await {
            assert_eq!(snapshot.mode, AuthenticationMode::Api);
            assert!(snapshot.entry_by_id("AIDA1").is_some());
        }
        assert_eq!(*seen.lock().unwrap(), vec![Value::Null]);
        // Fresh: no read at all.
        cache.fresh().await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1);
        // Stale: one read asking what changed since generation 7; `unchanged` keeps the entries.
        tokio::time::sleep(REFRESH).await;
        for snapshot in sixteen_at_once(&cache).await {
            assert!(snapshot.entry_by_id("AIDA1").is_some());
        }
        assert_eq!(*seen.lock().unwrap(), vec![Value::Null, json!(7)]);
        task.abort();
    }
}
