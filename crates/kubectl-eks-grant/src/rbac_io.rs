//! I/O: creating, updating and deleting the RBAC objects of a preset, reverting them from an undo
//! journal, and showing them as YAML diffs. Every write also says what the object was before
//! ([`Applied::journal`]), which the history keeps for `undo`.

use std::fmt::Debug;

use anyhow::{Context, Result, bail};
use eks_auth::kube::{
    ApiError, Caller, KubeError, PARALLEL_REVIEWS, RbacJournalEntry, can_i_each, list_rbac,
};
use eks_auth::rbac::{RbacObjects, UserInfo, managed_grant};
use k8s_openapi::api::authorization::v1::ResourceAttributes;
use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::diff;

/// What happened (or would happen) to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectChange {
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub action: &'static str,
}

impl ObjectChange {
    pub fn display(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{} in {ns} {}", self.kind, self.name, self.action),
            None => format!("{}/{} {}", self.kind, self.name, self.action),
        }
    }
}

/// The object as JSON, without the fields the server owns (what the undo journal keeps).
pub fn stored<K: Serialize>(obj: &K) -> Value {
    let mut value = serde_json::to_value(obj).expect("k8s objects serialise");
    if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
        for key in [
            "resourceVersion",
            "uid",
            "creationTimestamp",
            "managedFields",
            "generation",
        ] {
            meta.remove(key);
        }
    }
    value
}

/// The object as YAML, without the fields the server owns.
pub fn yaml<K: Serialize>(obj: &K) -> String {
    serde_yaml::to_string(&stored(obj)).expect("JSON values serialise as YAML")
}

/// What [`apply`], [`delete`] and [`revert`] did (or, with `dry_run`, would do).
#[derive(Debug, Default)]
pub struct Applied {
    pub changes: Vec<ObjectChange>,
    /// Unified diffs of the objects, as YAML.
    pub diff: String,
    /// What `undo` needs to put every changed object back.
    pub journal: Vec<RbacJournalEntry>,
}

impl Applied {
    fn push(&mut self, change: ObjectChange, before: Option<Option<Value>>) {
        if let Some(before) = before {
            self.journal.push(RbacJournalEntry {
                kind: change.kind.clone(),
                namespace: change.namespace.clone(),
                name: change.name.clone(),
                before,
            });
        }
        self.changes.push(change);
    }
}

/// What decides whether an object must be written: everything but server-owned metadata.
fn content<K: Serialize>(obj: &K) -> Value {
    let mut value = serde_json::to_value(obj).expect("k8s objects serialise");
    if let Some(map) = value.as_object_mut() {
        let meta = map.get("metadata").cloned().unwrap_or(Value::Null);
        let keep = serde_json::json!({
            "labels": meta.get("labels").cloned().unwrap_or(Value::Null),
            "annotations": meta.get("annotations").cloned().unwrap_or(Value::Null),
        });
        map.insert("metadata".to_owned(), keep);
    }
    value
}

/// `desired`'s content on `existing`'s metadata (resourceVersion kept: a concurrent change
/// answers 409), labels and annotations merged.
fn updated<K: Serialize + DeserializeOwned>(existing: &K, desired: &K) -> K {
    let old = serde_json::to_value(existing).expect("serialises");
    let mut new = serde_json::to_value(desired).expect("serialises");
    let mut meta = old.get("metadata").cloned().unwrap_or_default();
    for key in ["labels", "annotations"] {
        let mut merged = meta
            .get(key)
            .cloned()
            .and_then(|v| v.as_object().cloned())
            .unwrap_or_default();
        if let Some(want) = new
            .get("metadata")
            .and_then(|m| m.get(key))
            .and_then(Value::as_object)
        {
            merged.extend(want.clone());
        }
        meta[key] = Value::Object(merged);
    }
    new["metadata"] = meta;
    serde_json::from_value(new).expect("the merged object deserialises")
}

trait Kind:
    Resource<DynamicType = ()> + Clone + Serialize + DeserializeOwned + Debug + Send + Sync + 'static
{
    const KIND: &'static str;
    fn api(client: &Client, namespace: Option<&str>) -> Api<Self>;
}

macro_rules! kind {
    ($ty:ty, $name:literal, namespaced) => {
        impl Kind for $ty {
            const KIND: &'static str = $name;
            fn api(client: &Client, namespace: Option<&str>) -> Api<Self> {
                Api::namespaced(client.clone(), namespace.unwrap_or("default"))
            }
        }
    };
    ($ty:ty, $name:literal) => {
        impl Kind for $ty {
            const KIND: &'static str = $name;
            fn api(client: &Client, _namespace: Option<&str>) -> Api<Self> {
                Api::all(client.clone())
            }
        }
    };
}
kind!(ClusterRole, "ClusterRole");
kind!(ClusterRoleBinding, "ClusterRoleBinding");
kind!(Role, "Role", namespaced);
kind!(RoleBinding, "RoleBinding", namespaced);

/// A failed request as the user reads it: what was done to which object, and the API server's
/// own words (never the Debug form of the client's error).
fn request_failed(action: &'static str, object: String, err: kube::Error) -> anyhow::Error {
    anyhow::Error::new(KubeError::Request {
        action,
        object,
        source: ApiError::from(err),
    })
}

/// Refuses, before anything is written, a namespace that does not exist: a RoleBinding there
/// could not be created. When the caller may not read namespaces, the create itself will say.
pub async fn check_namespaces(client: &Client, namespaces: &[String], context: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    for ns in namespaces {
        match api.get_opt(ns).await {
            Ok(Some(_)) => {}
            Ok(None) => bail!(
                "namespace `{ns}` does not exist in context `{context}`: nothing was written\n\nhint: check the name with `kubectl get namespaces`, or create it first with `kubectl create namespace {ns}`"
            ),
            Err(kube::Error::Api(status)) if status.code == 403 => {}
            Err(err) => {
                return Err(request_failed("reading", format!("Namespace `{ns}`"), err));
            }
        }
    }
    Ok(())
}

fn describe<K: Kind>(obj: &K) -> String {
    match obj.namespace() {
        Some(ns) => format!("{} `{ns}/{}`", K::KIND, obj.name_any()),
        None => format!("{} `{}`", K::KIND, obj.name_any()),
    }
}

/// The name an object's diff is headed with: `Kind/namespace/name` or `Kind/name`.
fn diff_label<K: Kind>(obj: &K) -> String {
    match obj.namespace() {
        Some(ns) => format!("{}/{ns}/{}", K::KIND, obj.name_any()),
        None => format!("{}/{}", K::KIND, obj.name_any()),
    }
}

/// Creates or updates one object; the change, and for the journal what it was before (`None`
/// inside: it did not exist; `None` outside: unchanged).
async fn apply_one<K: Kind>(
    client: &Client,
    desired: &K,
    dry_run: bool,
    diffs: &mut String,
) -> Result<(ObjectChange, Option<Option<Value>>)> {
    let namespace = desired.namespace();
    let api = K::api(client, namespace.as_deref());
    let name = desired.name_any();
    let what = describe(desired);
    let existing = api
        .get_opt(&name)
        .await
        .map_err(|e| request_failed("reading", what.clone(), e))?;
    let change = |action| ObjectChange {
        kind: K::KIND.to_owned(),
        name: name.clone(),
        namespace: namespace.clone(),
        action,
    };
    match existing {
        None => {
            diffs.push_str(&diff::unified(
                &diff_label(desired),
                None,
                Some(&yaml(desired)),
            ));
            if !dry_run {
                api.create(&PostParams::default(), desired)
                    .await
                    .map_err(|e| request_failed("creating", what.clone(), e))?;
            }
            Ok((
                change(if dry_run {
                    "would be created"
                } else {
                    "created"
                }),
                Some(None),
            ))
        }
        Some(existing) => {
            if managed_grant(existing.meta()).is_none() {
                bail!(
                    "{what} exists and is not managed by kubectl-eks-grant: it was left as it is and nothing was written\n\nhint: rename or delete it, or grant with another --group"
                );
            }
            if content(&existing) == content(desired) {
                return Ok((change("unchanged"), None));
            }
            let new = updated(&existing, desired);
            diffs.push_str(&diff::unified(
                &diff_label(desired),
                Some(&yaml(&existing)),
                Some(&yaml(&new)),
            ));
            if !dry_run {
                api.replace(&name, &PostParams::default(), &new)
                    .await
                    .map_err(|e| request_failed("updating", what.clone(), e))?;
            }
            Ok((
                change(if dry_run {
                    "would be updated"
                } else {
                    "updated"
                }),
                Some(Some(stored(&existing))),
            ))
        }
    }
}

/// Creates or updates every object of `objects` (ClusterRoles before bindings); with `dry_run`
/// only computes the diffs.
pub async fn apply(client: &Client, objects: &RbacObjects, dry_run: bool) -> Result<Applied> {
    let mut out = Applied::default();
    for o in &objects.cluster_roles {
        let (c, b) = apply_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    for o in &objects.roles {
        let (c, b) = apply_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    for o in &objects.cluster_role_bindings {
        let (c, b) = apply_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    for o in &objects.role_bindings {
        let (c, b) = apply_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    Ok(out)
}

async fn delete_one<K: Kind>(
    client: &Client,
    obj: &K,
    dry_run: bool,
    diffs: &mut String,
) -> Result<(ObjectChange, Option<Option<Value>>)> {
    let namespace = obj.namespace();
    let name = obj.name_any();
    diffs.push_str(&diff::unified(&diff_label(obj), Some(&yaml(obj)), None));
    if !dry_run {
        let api = K::api(client, namespace.as_deref());
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 => {}
            Err(e) => return Err(request_failed("deleting", describe(obj), e)),
        }
    }
    Ok((
        ObjectChange {
            kind: K::KIND.to_owned(),
            name,
            namespace,
            action: if dry_run {
                "would be deleted"
            } else {
                "deleted"
            },
        },
        Some(Some(stored(obj))),
    ))
}

/// Deletes every object of `objects`, bindings first.
pub async fn delete(client: &Client, objects: &RbacObjects, dry_run: bool) -> Result<Applied> {
    let mut out = Applied::default();
    for o in &objects.cluster_role_bindings {
        let (c, b) = delete_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    for o in &objects.role_bindings {
        let (c, b) = delete_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    for o in &objects.cluster_roles {
        let (c, b) = delete_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    for o in &objects.roles {
        let (c, b) = delete_one(client, o, dry_run, &mut out.diff).await?;
        out.push(c, b);
    }
    Ok(out)
}

/// Puts one journaled object back as it was before the change: deletes what the change created
/// (only while eks-grant still manages it), re-creates or restores what it deleted or changed.
async fn revert_one<K: Kind>(
    client: &Client,
    entry: &RbacJournalEntry,
    dry_run: bool,
    diffs: &mut String,
) -> Result<(ObjectChange, Option<Option<Value>>)> {
    let api = K::api(client, entry.namespace.as_deref());
    let what = match &entry.namespace {
        Some(ns) => format!("{} `{ns}/{}`", K::KIND, entry.name),
        None => format!("{} `{}`", K::KIND, entry.name),
    };
    let label = match &entry.namespace {
        Some(ns) => format!("{}/{ns}/{}", K::KIND, entry.name),
        None => format!("{}/{}", K::KIND, entry.name),
    };
    let existing = api
        .get_opt(&entry.name)
        .await
        .map_err(|e| request_failed("reading", what.clone(), e))?;
    let change = |action| ObjectChange {
        kind: K::KIND.to_owned(),
        name: entry.name.clone(),
        namespace: entry.namespace.clone(),
        action,
    };
    let want: Option<K> = entry
        .before
        .clone()
        .map(serde_json::from_value)
        .transpose()
        .with_context(|| format!("reading the undo journal's copy of {what}"))?;
    match (existing, want) {
        (None, None) => Ok((change("already gone"), None)),
        (Some(existing), None) => {
            if managed_grant(existing.meta()).is_none() {
                return Ok((
                    change("left as it is (no longer managed by eks-grant)"),
                    None,
                ));
            }
            diffs.push_str(&diff::unified(&label, Some(&yaml(&existing)), None));
            if !dry_run {
                match api.delete(&entry.name, &DeleteParams::default()).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 => {}
                    Err(e) => return Err(request_failed("deleting", what, e)),
                }
            }
            let action = if dry_run {
                "would be deleted"
            } else {
                "deleted"
            };
            Ok((change(action), Some(Some(stored(&existing)))))
        }
        (None, Some(want)) => {
            diffs.push_str(&diff::unified(&label, None, Some(&yaml(&want))));
            if !dry_run {
                api.create(&PostParams::default(), &want)
                    .await
                    .map_err(|e| request_failed("re-creating", what, e))?;
            }
            let action = if dry_run {
                "would be re-created"
            } else {
                "re-created"
            };
            Ok((change(action), Some(None)))
        }
        (Some(existing), Some(want)) => {
            if content(&existing) == content(&want) {
                return Ok((change("unchanged"), None));
            }
            let mut new = want;
            new.meta_mut().resource_version = existing.meta().resource_version.clone();
            diffs.push_str(&diff::unified(
                &label,
                Some(&yaml(&existing)),
                Some(&yaml(&new)),
            ));
            if !dry_run {
                api.replace(&entry.name, &PostParams::default(), &new)
                    .await
                    .map_err(|e| request_failed("restoring", what, e))?;
            }
            let action = if dry_run {
                "would be restored"
            } else {
                "restored"
            };
            Ok((change(action), Some(Some(stored(&existing)))))
        }
    }
}

/// Reverts a change's journal, last entry first (bindings before the roles they name when
/// undoing a grant, roles before their bindings when undoing a revoke).
pub async fn revert(
    client: &Client,
    journal: &[RbacJournalEntry],
    dry_run: bool,
) -> Result<Applied> {
    let mut out = Applied::default();
    for entry in journal.iter().rev() {
        let (c, b) = match entry.kind.as_str() {
            "ClusterRole" => {
                revert_one::<ClusterRole>(client, entry, dry_run, &mut out.diff).await?
            }
            "ClusterRoleBinding" => {
                revert_one::<ClusterRoleBinding>(client, entry, dry_run, &mut out.diff).await?
            }
            "Role" => revert_one::<Role>(client, entry, dry_run, &mut out.diff).await?,
            "RoleBinding" => {
                revert_one::<RoleBinding>(client, entry, dry_run, &mut out.diff).await?
            }
            other => bail!(
                "the undo journal names an object of kind `{other}`, which eks-grant never writes: nothing of it was reverted\n\nhint: look at it with `kubectl get {} -o yaml`",
                other.to_lowercase()
            ),
        };
        out.push(c, b);
    }
    Ok(out)
}

/// The questions that let the API server write `planned` whatever RBAC says: `create` (and
/// `update`) of each object, with `escalate` on each role and `bind` on each binding's role
/// (kube-apiserver `pkg/registry/rbac/escalation_check.go`: a role write passes when the request
/// may `escalate`, a binding write when it may `bind` the role, asked of the whole authorizer
/// chain; on EKS that includes access policies, which RBAC objects do not show).
fn explicit_questions(planned: &RbacObjects) -> Vec<ResourceAttributes> {
    let ask =
        |verb: &str, resource: &str, name: Option<&str>, ns: Option<&str>| ResourceAttributes {
            verb: Some(verb.to_owned()),
            group: Some("rbac.authorization.k8s.io".to_owned()),
            resource: Some(resource.to_owned()),
            name: name.map(str::to_owned),
            namespace: ns.map(str::to_owned),
            ..Default::default()
        };
    let role_resource = |kind: &str| {
        if kind == "Role" {
            "roles"
        } else {
            "clusterroles"
        }
    };
    let mut questions = Vec::new();
    for verb in ["create", "update"] {
        for r in &planned.cluster_roles {
            questions.push(ask(verb, "clusterroles", r.metadata.name.as_deref(), None));
        }
        for r in &planned.roles {
            let ns = r.metadata.namespace.as_deref();
            questions.push(ask(verb, "roles", r.metadata.name.as_deref(), ns));
        }
        for b in &planned.cluster_role_bindings {
            questions.push(ask(
                verb,
                "clusterrolebindings",
                b.metadata.name.as_deref(),
                None,
            ));
        }
        for b in &planned.role_bindings {
            let ns = b.metadata.namespace.as_deref();
            questions.push(ask(verb, "rolebindings", b.metadata.name.as_deref(), ns));
        }
    }
    for r in &planned.cluster_roles {
        questions.push(ask(
            "escalate",
            "clusterroles",
            r.metadata.name.as_deref(),
            None,
        ));
    }
    for r in &planned.roles {
        let ns = r.metadata.namespace.as_deref();
        questions.push(ask("escalate", "roles", r.metadata.name.as_deref(), ns));
    }
    for b in &planned.cluster_role_bindings {
        let resource = role_resource(&b.role_ref.kind);
        questions.push(ask("bind", resource, Some(&b.role_ref.name), None));
    }
    for b in &planned.role_bindings {
        let resource = role_resource(&b.role_ref.kind);
        let ns = b.metadata.namespace.as_deref();
        questions.push(ask("bind", resource, Some(&b.role_ref.name), ns));
    }
    questions
}

/// Refuses, with the API server's reasons, a grant the caller could not make itself: RBAC
/// escalation prevention. `system:masters` skips it, as the server does; so does a caller the
/// API server lets write, `escalate` and `bind` everything the grant writes (asked with
/// SelfSubjectAccessReviews: an EKS access policy such as AmazonEKSClusterAdminPolicy allows it
/// without any RBAC object). Otherwise it is computed by the core over the cluster's RBAC objects,
/// which names each refusal.
pub async fn escalation_preflight(
    client: &Client,
    caller: &Caller,
    planned: &RbacObjects,
) -> Result<()> {
    let user = UserInfo::new(caller.username.clone(), caller.groups.clone());
    if user.is_privileged() {
        return Ok(());
    }
    let answers = can_i_each(
        client,
        explicit_questions(planned),
        PARALLEL_REVIEWS,
        &|_, _| {},
    )
    .await;
    if answers.iter().all(|a| a.as_ref().is_ok_and(|a| a.allowed)) {
        return Ok(());
    }
    let cluster = match list_rbac(client).await {
        Ok(objects) => objects,
        Err(err @ KubeError::Request { .. }) => {
            return Err(anyhow::Error::new(err)).context(format!(
                "`{}` may not read the cluster's RBAC objects, so eks-grant cannot check that it may grant this; nothing was written\n\nhint: ask a cluster admin to run the grant",
                caller.username
            ));
        }
        Err(err) => return Err(err.into()),
    };
    let refusals = cluster.check_grant(&user, planned);
    if refusals.is_empty() {
        return Ok(());
    }
    let reasons = refusals
        .iter()
        .map(|r| format!("  - {r}"))
        .collect::<Vec<_>>()
        .join("\n");
    bail!(
        "`{}` may not grant this (Kubernetes RBAC prevents granting permissions one does not hold); nothing was written:\n{reasons}\n\nhint: ask a cluster admin, or one holding the `bind` and `escalate` verbs on clusterroles",
        caller.username
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use eks_auth::rbac::preset;

    #[test]
    fn the_server_is_asked_about_every_write_escalate_and_bind() {
        let objects = preset("cluster-reader-no-secrets")
            .unwrap()
            .objects("auditors", &[])
            .unwrap();
        let asked: Vec<String> = explicit_questions(&objects)
            .iter()
            .map(|q| {
                format!(
                    "{} {} {}",
                    q.verb.as_deref().unwrap_or_default(),
                    q.resource.as_deref().unwrap_or_default(),
                    q.name.as_deref().unwrap_or_default()
                )
            })
            .collect();
        assert_eq!(
            asked,
            [
                "create clusterroles eks-grant:cluster-reader-no-secrets",
                "create clusterrolebindings eks-grant:auditors:cluster-reader-no-secrets",
                "update clusterroles eks-grant:cluster-reader-no-secrets",
                "update clusterrolebindings eks-grant:auditors:cluster-reader-no-secrets",
                "escalate clusterroles eks-grant:cluster-reader-no-secrets",
                "bind clusterroles eks-grant:cluster-reader-no-secrets",
            ]
        );
    }

    #[test]
    fn content_ignores_server_fields_and_update_keeps_resource_version() {
        let p = preset("cluster-reader").unwrap();
        let desired = p.objects("reader", &[]).unwrap().cluster_roles.remove(0);
        let mut existing = desired.clone();
        existing.metadata.resource_version = Some("42".to_owned());
        existing.metadata.uid = Some("u".to_owned());
        assert_eq!(content(&existing), content(&desired));
        existing.rules = Some(vec![]);
        assert_ne!(content(&existing), content(&desired));
        let new = updated(&existing, &desired);
        assert_eq!(new.metadata.resource_version.as_deref(), Some("42"));
        assert_eq!(new.rules, desired.rules);
        assert!(!yaml(&existing).contains("resourceVersion"));
    }
}
