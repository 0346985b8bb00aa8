//! `check ARN`: what an ARN may do in the cluster, as the API server decides it. The store
//! says how the ARN is mapped (username, groups); SubjectAccessReviews ask the API server about
//! each cell (no impersonation), at most [`PARALLEL_REVIEWS`] at a time.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use eks_auth::arn::{Arn, PrincipalKind};
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{
    Access, Attributes, Cluster, PARALLEL_REVIEWS, list_rbac, subject_access_each,
};
use eks_auth::mapping::Identity;
use eks_auth::rbac::UserInfo;
use k8s_openapi::api::authorization::v1::ResourceAttributes;

use crate::backend::Backend;
use crate::output::{emit, note};
use crate::report::{CheckReport, CheckRow, VERBS};
use crate::request::Check;

/// The questions `check` asks: (group, resource, namespaced).
const CHECKED: &[(&str, &str, bool)] = &[
    ("", "pods", true),
    ("", "pods/exec", true),
    ("", "pods/log", true),
    ("", "services", true),
    ("", "configmaps", true),
    ("", "secrets", true),
    ("", "serviceaccounts", true),
    ("apps", "deployments", true),
    ("batch", "jobs", true),
    ("rbac.authorization.k8s.io", "rolebindings", true),
    ("", "namespaces", false),
    ("", "nodes", false),
    ("", "persistentvolumes", false),
    ("rbac.authorization.k8s.io", "clusterroles", false),
    ("rbac.authorization.k8s.io", "clusterrolebindings", false),
];
pub async fn run(
    cluster: &Cluster,
    backend: &Backend,
    format: OutputFormat,
    request: &Check,
) -> Result<()> {
    let client = &cluster.client;
    let ctx = &cluster.context;
    let given = request.given.clone();
    let arn = given.to_string();
    let namespace = request.namespace.as_str();
    let mut notes = Vec::new();
    // The identity STS would present: a session of the role (its name unknown: a placeholder).
    let presented: Arn = match given.kind() {
        PrincipalKind::Role => {
            let a = format!(
                "arn:{}:sts::{}:assumed-role/{}/eks-grant-check",
                given.partition(),
                given.account(),
                given.name()
            );
            notes.push(format!("`{{{{SessionName}}}}` is shown as `eks-grant-check`: {arn} is checked as one of its sessions"));
            a.parse()?
        }
        _ => given.clone(),
    };
    let identity = Identity {
        account: presented.account().to_owned(),
        user_id: presented
            .session_name()
            .map(|s| format!("AROAEKSGRANTCHECK:{s}"))
            .unwrap_or_else(|| "AIDAEKSGRANTCHECK".to_owned()),
        access_key_id: "AKIAEKSGRANTCHECK".to_owned(),
        arn: presented,
    };
    notes.push(
        "the cluster creator's implicit admin access is not visible in aws-auth and not shown"
            .to_owned(),
    );
    let mapped = backend.mapping_of(&identity).await?;
    let Some(mapped) = mapped else {
        let report = CheckReport {
            arn: given.to_string(),
            mapped: false,
            source: None,
            username: None,
            groups: vec![],
            bindings: vec![],
            access: vec![],
            notes: vec![format!(
                "`{}` has no aws-auth mapping: the API server answers 401 Unauthorized",
                identity.canonical_arn()
            )],
        };
        for n in &report.notes {
            note(n);
        }
        return emit(format, &report, CheckReport::table);
    };
    let mut groups = mapped.groups.clone();
    if !groups.iter().any(|g| g == "system:authenticated") {
        groups.push("system:authenticated".to_owned());
    }
    let bindings = match list_rbac(client).await {
        Ok(objects) => objects
            .bindings_for(&UserInfo::new(mapped.username.clone(), groups.clone()))
            .into_iter()
            .map(|b| {
                let at = b
                    .namespace
                    .map(|ns| format!(" in {ns}"))
                    .unwrap_or_default();
                format!(
                    "{}/{}{at} -> {}/{}",
                    b.kind, b.name, b.role_ref.kind, b.role_ref.name
                )
            })
            .collect(),
        Err(e) => {
            notes.push(format!("bindings are not shown: {e:#}"));
            vec![]
        }
    };
    let mut asked: Vec<(usize, &str)> = Vec::new();
    let mut questions: Vec<Attributes> = Vec::new();
    for (row, (group, resource, namespaced)) in CHECKED.iter().enumerate() {
        for verb in VERBS {
            let (res, sub) = resource
                .split_once('/')
                .map_or((*resource, None), |(r, s)| (r, Some(s)));
            let attrs = ResourceAttributes {
                verb: Some((*verb).to_owned()),
                group: Some((*group).to_owned()),
                resource: Some(res.to_owned()),
                subresource: sub.map(str::to_owned),
                namespace: namespaced.then(|| namespace.to_owned()),
                ..Default::default()
            };
            asked.push((row, verb));
            questions.push(Attributes::Resource(Box::new(attrs)));
        }
    }
    let answers = subject_access_each(
        client,
        &mapped.username,
        &groups,
        questions,
        PARALLEL_REVIEWS,
    )
    .await;
    let mut access: Vec<CheckRow> = CHECKED
        .iter()
        .map(|(g, r, namespaced)| CheckRow {
            resource: if g.is_empty() {
                (*r).to_owned()
            } else {
                format!("{r}.{g}")
            },
            namespace: if *namespaced {
                namespace.to_owned()
            } else {
                String::new()
            },
            verbs: BTreeMap::new(),
        })
        .collect();
    for ((row, verb), answer) in asked.into_iter().zip(answers) {
        let Access { allowed, .. } =
            answer.with_context(|| format!("asking the API server in context `{ctx}`"))?;
        access[row].verbs.insert(verb.to_owned(), allowed);
    }
    let report = CheckReport {
        arn: given.to_string(),
        mapped: true,
        source: Some(mapped.source.clone()),
        username: Some(mapped.username.clone()),
        groups,
        bindings,
        access,
        notes,
    };
    for n in &report.notes {
        note(n);
    }
    emit(format, &report, CheckReport::table)
}
