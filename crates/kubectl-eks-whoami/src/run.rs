//! The order of things: kubeconfig, AWS identity, SelfSubjectReview, aws-auth, and with
//! `--all` the RBAC bindings and the effective permissions.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use eks_auth::aws_auth::AwsAuth;
use eks_auth::kube::{self as k8s, KubeError, RbacLists};
use eks_auth::rbac::{BindingKind, RbacObjects, UserInfo};
use k8s_openapi::api::authorization::v1::ResourceAttributes;
use kube::Client;

use crate::aws_identity;
use crate::cli::Cli;
use crate::diagnose::{self, Facts, Refusal};
use crate::exec::{self, Ambient};
use crate::kubeconfig::{self, UserAuth};
use crate::mapping_view::{self, AwsAuthInput, KubeUser};
use crate::permissions;
use crate::progress::Progress;
use crate::report::{
    Access, BindingView, BindingsSection, KubeSection, KubeStatus, PermissionsSection, Report,
};
use eks_auth::env;

/// How the run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Identified,
    Unauthenticated,
}

/// Does it all.
pub async fn run(cli: &Cli, progress: &Progress) -> anyhow::Result<(Report, Outcome)> {
    let loaded = kubeconfig::load_args(&cli.kube)?;
    let ambient = Ambient {
        aws_profile: env::var(env::AWS_PROFILE),
        aws_region: env::var(env::AWS_REGION),
        aws_default_region: env::var(env::AWS_DEFAULT_REGION),
    };
    let exec_source = match &loaded.user {
        UserAuth::Exec(e) => Some(exec::parse(&kubeconfig::stanza(e), &ambient)),
        _ => None,
    };
    // The names the token may be signed for: the exec args' first, then the kubeconfig's ARN.
    let mut clusters: Vec<String> = Vec::new();
    for name in [
        exec_source.as_ref().and_then(|s| s.cluster_name.clone()),
        loaded.context.cluster_arn.as_ref().map(|c| c.name.clone()),
    ]
    .into_iter()
    .flatten()
    {
        if !clusters.contains(&name) {
            clusters.push(name);
        }
    }

    progress.step("resolving the AWS identity");
    let exec_pair = match (&loaded.user, &exec_source) {
        (UserAuth::Exec(e), Some(s)) => Some((&**e, s)),
        _ => None,
    };
    let static_token = match &loaded.user {
        UserAuth::Token(t) => Some(t.0.as_str()),
        _ => None,
    };
    let resolved = aws_identity::resolve(
        exec_pair,
        static_token,
        &clusters,
        &env::var,
        SystemTime::now(),
    )
    .await;
    let mut aws = resolved.section;
    let identity = resolved.identity;

    let mut kubernetes = KubeSection {
        status: KubeStatus::Error,
        username: None,
        uid: None,
        groups: Vec::new(),
        extra: BTreeMap::new(),
        error: None,
    };
    let context_name = loaded.context.name.clone();
    let mut report = Report {
        context: loaded.context.clone(),
        aws: aws.clone(),
        kubernetes: kubernetes.clone(),
        mapping: mapping_view::explain(identity.as_ref(), AwsAuthInput::Unavailable, None),
        bindings: None,
        permissions: None,
        diagnosis: None,
    };

    // An exec plugin that made no token: kubectl would fail the same way.
    if exec_pair.is_some() && resolved.token.is_none() {
        kubernetes.error = Some("not asked: the exec plugin made no token".to_owned());
        report.kubernetes = kubernetes;
        report.diagnosis = Some(diagnose::unauthorized(&Facts {
            exec: exec_source.as_ref(),
            cluster_arn: loaded.context.cluster_arn.as_ref(),
            identity: identity.as_ref(),
            token: aws.token.as_ref(),
            aws_error: aws.error.as_deref(),
            http_401: false,
        }));
        return Ok((report, Outcome::Unauthenticated));
    }

    progress.step("asking the API server who you are");
    let client = k8s::connect_to(
        loaded.kubeconfig.clone(),
        Some(&context_name),
        resolved.token.as_deref(),
        cli.kube.request_timeout.map(|t| t.0),
    )
    .await?
    .client;
    let reviewed = match k8s::fetch_caller(&client).await {
        Ok(user) => user,
        Err(err) if err.code() == Some(401) => {
            kubernetes.status = KubeStatus::Unauthenticated;
            kubernetes.error = Some(err.reason());
            report.kubernetes = kubernetes;
            report.mapping =
                mapping_view::explain(identity.as_ref(), AwsAuthInput::Unavailable, None);
            report.diagnosis = Some(diagnose::unauthorized(&Facts {
                exec: exec_source.as_ref(),
                cluster_arn: loaded.context.cluster_arn.as_ref(),
                identity: identity.as_ref(),
                token: aws.token.as_ref(),
                aws_error: aws.error.as_deref(),
                http_401: true,
            }));
            return Ok((report, Outcome::Unauthenticated));
        }
        Err(err) => {
            return Err(anyhow::Error::new(err).context(format!(
                "creating a SelfSubjectReview in context `{context_name}`"
            )));
        }
    };
    kubernetes.status = KubeStatus::Authenticated;
    kubernetes.username = Some(reviewed.username.clone());
    kubernetes.uid = reviewed.uid.clone();
    kubernetes.groups = reviewed.groups.clone();
    kubernetes.extra = reviewed.extra.clone();
    // EKS tells which access key it saw; it should be the one whoami resolved.
    if let (Some(seen), Some(mine)) = (reviewed.access_key_id(), aws.access_key_id.as_deref())
        && seen != mine
    {
        aws.notes.push(format!(
            "the API server saw access key `{seen}`, but whoami resolved `{mine}`: kubectl and \
             whoami do not use the same credentials"
        ));
    }

    let mut refusals: Vec<Refusal> = Vec::new();
    progress.step("reading aws-auth");
    let aws_auth_data = k8s::fetch_aws_auth(&client).await;
    let parsed;
    let aws_auth_input = match &aws_auth_data {
        Ok(obj) if obj.exists() => {
            // Read as the authenticator reads it: a value it cannot read maps nobody, the
            // others still count (explain notes the problems).
            parsed = AwsAuth::read(&obj.data);
            AwsAuthInput::Read(&parsed)
        }
        Ok(_) => AwsAuthInput::Absent,
        Err(e) if e.code() == Some(403) => {
            refusals.push(Refusal {
                verb: "get".into(),
                group: String::new(),
                resource: "configmaps".into(),
                name: Some("aws-auth".into()),
                namespace: Some("kube-system".into()),
                all_namespaces: false,
            });
            AwsAuthInput::Forbidden
        }
        Err(_) => AwsAuthInput::Unavailable,
    };
    let kube_user = KubeUser {
        username: reviewed.username.clone(),
        groups: reviewed.groups.clone(),
        session_name: reviewed.session_name().map(str::to_owned),
    };
    report.mapping = mapping_view::explain(identity.as_ref(), aws_auth_input, Some(&kube_user));
    if let Err(e) = &aws_auth_data
        && e.code() != Some(403)
    {
        report.mapping.notes.push(format!(
            "reading ConfigMap `kube-system/aws-auth`: {}",
            e.reason()
        ));
    }

    if cli.all {
        let user = UserInfo::new(reviewed.username.clone(), reviewed.groups.clone());
        progress.step("listing RBAC bindings and roles");
        let lists = k8s::list_rbac_each(&client).await;
        let (bindings, objects) = bindings_section(&user, &lists, &mut refusals);
        report.bindings = Some(bindings);
        let namespace = cli.namespace.clone();
        report.permissions = Some(
            permissions_section(
                &client,
                &user,
                namespace,
                loaded.context.namespace.as_deref(),
                &lists,
                objects.as_ref(),
                progress,
            )
            .await,
        );
    }
    progress.done();

    if !refusals.is_empty() {
        let canonical = identity.as_ref().map(|i| i.canonical_arn());
        report.diagnosis = Some(diagnose::forbidden(
            &reviewed.username,
            &reviewed.groups,
            canonical.as_ref(),
            &refusals,
        ));
    }
    report.aws = aws;
    report.kubernetes = kubernetes;
    Ok((report, Outcome::Identified))
}

fn refusal_for(err: &KubeError, resource: &str, all_namespaces: bool) -> Option<Refusal> {
    (err.code() == Some(403)).then(|| Refusal {
        verb: "list".into(),
        group: eks_auth::rbac::RBAC_GROUP.into(),
        resource: resource.into(),
        name: None,
        namespace: None,
        all_namespaces,
    })
}

/// The bindings that apply, with their roles' rules summarised; the objects when all four
/// kinds could be listed.
fn bindings_section(
    user: &UserInfo,
    lists: &RbacLists,
    refusals: &mut Vec<Refusal>,
) -> (BindingsSection, Option<RbacObjects>) {
    let mut section = BindingsSection {
        complete: true,
        ..Default::default()
    };
    let mut note = |err: &KubeError, what: &str, resource: &str, all_ns: bool| {
        section.complete = false;
        section
            .errors
            .push(format!("listing {what}: {}", err.reason()));
        if let Some(r) = refusal_for(err, resource, all_ns) {
            refusals.push(r);
        }
    };
    if let Err(e) = &lists.cluster_role_bindings {
        note(e, "ClusterRoleBindings", "clusterrolebindings", false);
    }
    if let Err(e) = &lists.role_bindings {
        note(e, "RoleBindings in all namespaces", "rolebindings", true);
    }
    if let Err(e) = &lists.cluster_roles {
        note(e, "ClusterRoles", "clusterroles", false);
    }
    if let Err(e) = &lists.roles {
        note(e, "Roles in all namespaces", "roles", true);
    }
    let objects = lists.objects();
    let aggregated = objects.aggregated();
    let roles_readable = |kind: &str| match kind {
        "ClusterRole" => lists.cluster_roles.is_ok(),
        _ => lists.roles.is_ok(),
    };
    for b in objects.bindings_for(user) {
        let role_kind = b.role_ref.kind.clone();
        let role_name = b.role_ref.name.clone();
        let rules = if role_kind == "ClusterRole" {
            aggregated
                .iter()
                .find(|r| r.metadata.name.as_deref() == Some(role_name.as_str()))
                .map(|r| r.rules.clone().unwrap_or_default())
        } else {
            objects
                .roles
                .iter()
                .find(|r| {
                    r.metadata.name.as_deref() == Some(role_name.as_str())
                        && r.metadata.namespace == b.namespace
                })
                .map(|r| r.rules.clone().unwrap_or_default())
        };
        let (rules, rules_note) = match rules {
            Some(rules) => (permissions::summarise_rules(&rules), None),
            None if !roles_readable(&role_kind) => (
                Vec::new(),
                Some(format!("{role_kind}s cannot be read with your rights")),
            ),
            None => (
                Vec::new(),
                Some(format!("{role_kind} `{role_name}` does not exist")),
            ),
        };
        section.items.push(BindingView {
            kind: b.kind.to_string(),
            namespace: b.namespace.clone(),
            name: b.name.clone(),
            role: format!("{role_kind}/{role_name}"),
            subject: format!("{} {}", b.subject.kind, b.subject.name),
            rules,
            rules_note,
        });
    }
    section.items.sort_by(|a, b| {
        (
            a.kind != BindingKind::ClusterRoleBinding.to_string(),
            &a.namespace,
            &a.name,
        )
            .cmp(&(
                b.kind != BindingKind::ClusterRoleBinding.to_string(),
                &b.namespace,
                &b.name,
            ))
    });
    (section, lists.complete().then_some(objects))
}

/// `resource/subresource` into its parts.
fn split_subresource(resource: &str) -> (String, String) {
    match resource.split_once('/') {
        Some((r, s)) => (r.to_owned(), s.to_owned()),
        None => (resource.to_owned(), String::new()),
    }
}

/// The effective permissions: SelfSubjectRulesReview in the namespace asked for; for the
/// cluster-wide view the rules of the reviewed namespace reduced to those that hold at cluster
/// scope: from the listed RBAC objects when they could be read, else by a
/// SelfSubjectAccessReview per cell (a number bounded by the rules, not the namespaces).
async fn permissions_section(
    client: &Client,
    user: &UserInfo,
    namespace: Option<String>,
    context_namespace: Option<&str>,
    lists: &RbacLists,
    objects: Option<&RbacObjects>,
    progress: &Progress,
) -> PermissionsSection {
    let reviewed_ns = namespace
        .clone()
        .or(context_namespace.map(str::to_owned))
        .unwrap_or_else(|| "default".to_owned());
    progress.step(&format!("reviewing your rules in namespace {reviewed_ns}"));
    let mut section = PermissionsSection {
        scope: if namespace.is_some() {
            "namespace"
        } else {
            "cluster"
        }
        .to_owned(),
        namespace: namespace.clone(),
        method: format!("SelfSubjectRulesReview in namespace `{reviewed_ns}`"),
        incomplete: false,
        evaluation_error: None,
        resources: Vec::new(),
        non_resource: Vec::new(),
        notes: Vec::new(),
    };
    let status = match k8s::fetch_own_rules(client, &reviewed_ns).await {
        Ok(s) => s,
        Err(e) => {
            section.incomplete = true;
            section
                .notes
                .push(format!("SelfSubjectRulesReview failed: {}", e.reason()));
            return section;
        }
    };
    section.incomplete = status.incomplete;
    section.evaluation_error = status.evaluation_error.filter(|e| !e.is_empty());
    section.resources = permissions::matrix(&status.resource_rules);
    section.non_resource = permissions::non_resource_rows(&status.non_resource_rules);
    if status.incomplete {
        section.notes.push(
            "the server says this list may be incomplete: another authorizer (an EKS access \
             policy, a webhook) may allow more than RBAC shows"
                .to_owned(),
        );
    }
    if namespace.is_some() {
        return section;
    }

    // Cluster-wide: drop what only RoleBindings of the reviewed namespace give.
    let namespace_bindings = lists.role_bindings.as_ref().ok().map(|rbs| {
        let objs = RbacObjects {
            role_bindings: rbs
                .iter()
                .filter(|rb| rb.metadata.namespace.as_deref() == Some(reviewed_ns.as_str()))
                .cloned()
                .collect(),
            ..Default::default()
        };
        !objs.bindings_for(user).is_empty()
    });
    match (namespace_bindings, objects) {
        (Some(false), _) => {
            section.method = format!(
                "SelfSubjectRulesReview in namespace `{reviewed_ns}`, which has no RoleBinding \
                 for you: its rules are the cluster-wide ones"
            );
        }
        (_, Some(objects)) => {
            let cluster_rules = objects.rules_for(user, "");
            let allowed: BTreeSet<(String, String, String)> = cluster_rules
                .resource_rules
                .iter()
                .flat_map(permissions::cells_of)
                .map(|(cell, _)| cell)
                .collect();
            permissions::retain_cells(&mut section.resources, |g, r, v| {
                allowed.contains(&(g.to_owned(), r.to_owned(), v.to_owned()))
            });
            section.method = format!(
                "SelfSubjectRulesReview in namespace `{reviewed_ns}`, less the rules its \
                 RoleBindings give (from the listed RBAC objects)"
            );
        }
        _ => {
            // RBAC objects unreadable: ask the server about each cell at cluster scope.
            let mut cells: Vec<(String, String, String, Option<String>)> = Vec::new();
            for row in &section.resources {
                let resource = permissions::resource_of(row);
                for (verb, access) in &row.verbs {
                    let name = (*access == Access::Named)
                        .then(|| row.names.first().cloned())
                        .flatten();
                    cells.push((row.group.clone(), resource.clone(), verb.clone(), name));
                }
            }
            let questions: Vec<ResourceAttributes> = cells
                .iter()
                .map(|(group, resource, verb, name)| {
                    let (resource, subresource) = split_subresource(resource);
                    ResourceAttributes {
                        group: Some(group.clone()),
                        resource: Some(resource),
                        subresource: (!subresource.is_empty()).then_some(subresource),
                        verb: Some(verb.clone()),
                        name: name.clone(),
                        namespace: None,
                        ..Default::default()
                    }
                })
                .collect();
            let asked = questions.len();
            let answers = k8s::can_i_each(client, questions, k8s::PARALLEL_REVIEWS, &|d, t| {
                progress.step(&format!("checking cluster-wide access {d}/{t}"));
            })
            .await;
            let mut allowed = BTreeSet::new();
            let mut failed = 0;
            for (cell, answer) in cells.into_iter().zip(answers) {
                match answer {
                    Ok(access) if access.allowed => {
                        allowed.insert((cell.0, cell.1, cell.2));
                    }
                    Ok(_) => {}
                    Err(_) => failed += 1,
                }
            }
            permissions::retain_cells(&mut section.resources, |g, r, v| {
                allowed.contains(&(g.to_owned(), r.to_owned(), v.to_owned()))
            });
            if failed > 0 {
                section.incomplete = true;
                section
                    .notes
                    .push(format!("{failed} of {asked} access reviews failed"));
            }
            section.method = format!(
                "SelfSubjectRulesReview in namespace `{reviewed_ns}`, each cell confirmed at \
                 cluster scope by SelfSubjectAccessReview ({asked} reviews)"
            );
        }
    }
    section
}
