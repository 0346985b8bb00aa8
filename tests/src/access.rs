//! The cluster's access entries and authentication mode, as the Kubernetes side sees them: a
//! snapshot read from the AWS side (`POST /_testbed/eks/access`, which also gives each entry's
//! IAM unique id, kept by EKS and never returned by its API), cached for [`REFRESH`].
//!
//! EKS says access entry changes are eventually consistent and "may take several seconds to be
//! effective" (user guide, creating-access-entries.html); here they take at most [`REFRESH`]
//! after the AWS side has them (a mode change counts once its update has succeeded there).

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

fn strings(v: &Value) -> Vec<String> {
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

/// The snapshot of one cluster, refreshed from the AWS side when older than [`REFRESH`].
#[derive(Debug)]
pub struct AccessCache {
    aws: SocketAddr,
    cluster: String,
    current: Mutex<Option<(Arc<AccessSnapshot>, Instant)>>,
}

impl AccessCache {
    pub fn new(aws: SocketAddr, cluster: &str) -> AccessCache {
        AccessCache {
            aws,
            cluster: cluster.to_owned(),
            current: Mutex::new(None),
        }
    }

    /// The last snapshot read, however old (authorization never waits on I/O).
    pub fn cached(&self) -> Arc<AccessSnapshot> {
        self.current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|(s, _)| s.clone())
            .unwrap_or_else(|| Arc::new(AccessSnapshot::config_map()))
    }

    /// A snapshot at most [`REFRESH`] old, read from the AWS side if needed.
    pub async fn fresh(&self) -> Result<Arc<AccessSnapshot>, String> {
        if let Some((s, at)) = self
            .current
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            && at.elapsed() < REFRESH
        {
            return Ok(s.clone());
        }
        let body =
            serde_json::to_vec(&serde_json::json!({"cluster": self.cluster})).unwrap_or_default();
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
        let snapshot = Arc::new(AccessSnapshot::from_json(&v)?);
        *self.current.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((snapshot.clone(), Instant::now()));
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
}
