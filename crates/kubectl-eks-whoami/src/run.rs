//! The order of things: kubeconfig, AWS identity, SelfSubjectReview, aws-auth, and with
//! `--all` the RBAC bindings and the effective permissions.

use std::collections::{BTreeMap, BTreeSet};
use std::time::SystemTime;

use eks_auth::aws_auth::AwsAuth;
use eks_auth::kube::{self as k8s, KubeError, RbacLists};
use eks_auth::rbac::{BindingKind, RbacObjects, UserInfo};
use k8s_openapi::api::authorization::v1::ResourceAttributes;
use kube::Client;

use crate::access_view::{self, AccessFacts, EntryLookup};
use crate::aws_identity;
use crate::cli::Cli;
use crate::diagnose::{self, Facts, Refusal};
use crate::exec::{self, Ambient};
use crate::kubeconfig::{self, UserAuth};
use crate::mapping_view::{self, AwsAuthInput, KubeUser};
use crate::permissions;
use crate::progress::Progress;
use crate::report::{
    Access, BindingView, BindingsSection, KubeSection, KubeStatus, MappingKind, MappingSection,
    PermissionsSection, Report,
};
use crate::{access_diagnosis, access_io};
use eks_auth::env;

/// How the run ended, for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Identified,
    Unauthenticated,
    /// The exec credential plugin is not installed: kubectl cannot use the context.
    PluginMissing,
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
        loaded
            .context
            .cluster_arn
            .as_ref()
            .map(|c| c.name().to_owned()),
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
    let plugin_missing = resolved.plugin_missing.as_deref().map(|command| {
        let install_hint = match &loaded.user {
            UserAuth::Exec(e) => e.install_hint.clone(),
            _ => None,
        };
        diagnose::plugin_missing(command, install_hint.as_deref())
    });

    // The EKS side, with the exec stanza's AWS identity: only for a known identity (no
    // credentials would only make the SDK wait for instance metadata) and a named cluster.
    let stanza = match &loaded.user {
        UserAuth::Exec(e) => Some(kubeconfig::stanza(e)),
        _ => None,
    };
    let eks_side = match (clusters.first(), &identity) {
        (Some(name), Some(id)) => {
            progress.step("asking EKS for the authentication mode and your access entry");
            let region = loaded
                .context
                .cluster_arn
                .as_ref()
                .map(|c| c.region().to_owned());
            Some(
                access_io::lookup(&access_io::Target {
                    cluster_name: name,
                    region: region.as_deref(),
                    stanza: stanza.as_ref(),
                    source: exec_source.as_ref(),
                    identity: Some(id),
                })
                .await,
            )
        }
        _ => None,
    };

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
        if let Some(diagnosis) = plugin_missing {
            report.diagnosis = Some(diagnosis);
            return Ok((report, Outcome::PluginMissing));
        }
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
            apply_eks_side(
                &mut report.mapping,
                eks_side.as_ref(),
                identity.as_ref(),
                None,
                None,
            );
            let mut diagnosis = diagnose::unauthorized(&Facts {
                exec: exec_source.as_ref(),
                cluster_arn: loaded.context.cluster_arn.as_ref(),
                identity: identity.as_ref(),
                token: aws.token.as_ref(),
                aws_error: aws.error.as_deref(),
                http_401: true,
            });
            if let Some(side) = &eks_side {
                access_diagnosis::refine_unauthorized(
                    &mut diagnosis,
                    &access_diagnosis::AccessDiagFacts {
                        mode: &side.mode,
                        entry: &side.entry,
                        identity: identity.as_ref(),
                        exec: exec_source.as_ref(),
                        overrides: &report.mapping.overrides,
                    },
                );
            }
            report.diagnosis = Some(diagnosis);
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
    let empty_aws_auth = AwsAuth::empty();
    let aws_auth_doc = match aws_auth_input {
        AwsAuthInput::Read(doc) => Some(doc),
        AwsAuthInput::Absent => Some(&empty_aws_auth),
        _ => None,
    };
    apply_eks_side(
        &mut report.mapping,
        eks_side.as_ref(),
        identity.as_ref(),
        aws_auth_doc,
        Some(&kube_user),
    );
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
        let mut section = permissions_section(
            &client,
            &user,
            namespace.clone(),
            loaded.context.namespace.as_deref(),
            &lists,
            objects.as_ref(),
            progress,
        )
        .await;
        if let Some(access_io::AccessLookup {
            entry: EntryLookup::Found(entry),
            ..
        }) = &eks_side
            && report.mapping.source == MappingKind::AccessEntry
        {
            add_access_policies(&client, &mut section, &entry.policies, namespace.as_deref()).await;
        }
        report.permissions = Some(section);
    }
    progress.done();

    if !refusals.is_empty() {
        let canonical = identity.as_ref().map(|i| i.canonical_arn());
        let mut diagnosis = diagnose::forbidden(
            &reviewed.username,
            &reviewed.groups,
            canonical.as_ref(),
            &refusals,
        );
        if report.mapping.source == MappingKind::AccessEntry
            && let Some(id) = identity.as_ref()
        {
            let principal = access_diagnosis::entry_principal(id, exec_source.as_ref());
            access_diagnosis::refine_forbidden(&mut diagnosis, &refusals, &principal);
        }
        report.diagnosis = Some(diagnosis);
    }
    report.aws = aws;
    report.kubernetes = kubernetes;
    // whoami saw the cluster through the SDK, but kubectl cannot run the plugin: say so first.
    if let Some(diagnosis) = plugin_missing {
        report.diagnosis = Some(diagnosis);
        return Ok((report, Outcome::PluginMissing));
    }
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

/// The mapping as EKS applies it, once the EKS side is known (see [`access_view`]).
fn apply_eks_side(
    mapping: &mut MappingSection,
    side: Option<&access_io::AccessLookup>,
    identity: Option<&eks_auth::mapping::Identity>,
    aws_auth: Option<&AwsAuth>,
    kube: Option<&KubeUser>,
) {
    let Some(side) = side else {
        return;
    };
    access_view::apply(
        mapping,
        &AccessFacts {
            cluster_name: &side.cluster_name,
            mode: &side.mode,
            entry: &side.entry,
            identity,
            aws_auth,
            kube,
        },
    );
}

/// What the caller's access policies add to the matrix. SelfSubjectRulesReview does not see
/// them (EKS user guide, access-policies.html), so their cells come from the policies' published
/// rules ([`eks_auth::access::policy_rules`]), and one SelfSubjectAccessReview per policy, on a
/// cell only that policy grants, checks that EKS enforces it here: a number of requests bounded
/// by the caller's policies, never by the namespaces.
async fn add_access_policies(
    client: &Client,
    section: &mut PermissionsSection,
    policies: &[eks_auth::access::PolicyAssociation],
    namespace: Option<&str>,
) {
    let counting = permissions::counting_policies(policies, namespace);
    for p in policies {
        if !counting.contains(&p) {
            section.notes.push(format!(
                "access policy {} applies in namespaces {} only: see `kubectl eks-whoami --all -n NAMESPACE`",
                p.policy_name(),
                match &p.scope {
                    eks_auth::access::AccessScope::Namespaces(ns) => ns.join(", "),
                    eks_auth::access::AccessScope::Cluster => String::new(),
                }
            ));
        }
    }
    if counting.is_empty() {
        return;
    }
    let rbac_cells: BTreeSet<(String, String, String)> = section
        .resources
        .iter()
        .flat_map(|row| {
            let resource = permissions::resource_of(row);
            row.verbs
                .keys()
                .map(move |v| (row.group.clone(), resource.clone(), v.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    // One probe per policy: its first cell that RBAC does not already give.
    let mut probes = Vec::new();
    for p in &counting {
        let probe = eks_auth::access::policy_rules(&p.policy_arn)
            .iter()
            .filter(|r| r.non_resource_urls.as_ref().is_none_or(Vec::is_empty))
            .flat_map(|r| {
                let groups = r.api_groups.clone().unwrap_or_default();
                let resources = r.resources.clone().unwrap_or_default();
                let verbs = r.verbs.clone();
                groups.into_iter().flat_map(move |g| {
                    let verbs = verbs.clone();
                    resources.clone().into_iter().flat_map(move |res| {
                        let g = g.clone();
                        verbs
                            .clone()
                            .into_iter()
                            .map(move |v| (g.clone(), res.clone(), v))
                    })
                })
            })
            // A wildcard is probed on one concrete cell it covers: `get namespaces`.
            .map(|(g, r, v)| {
                let concrete = |x: String, with: &str| if x == "*" { with.to_owned() } else { x };
                (
                    concrete(g, ""),
                    concrete(r, "namespaces"),
                    concrete(v, "get"),
                )
            })
            .find(|cell| !rbac_cells.contains(cell));
        if let Some(cell) = probe {
            probes.push((p.policy_name().to_owned(), cell));
        }
    }
    let questions = probes
        .iter()
        .map(|(_, (group, resource, verb))| {
            let (resource, subresource) = split_subresource(resource);
            ResourceAttributes {
                group: Some(group.clone()),
                resource: Some(resource),
                subresource: (!subresource.is_empty()).then_some(subresource),
                verb: Some(verb.clone()),
                namespace: namespace.map(str::to_owned),
                ..Default::default()
            }
        })
        .collect();
    let answers = k8s::can_i_each(client, questions, k8s::PARALLEL_REVIEWS, &|_, _| {}).await;
    let mut refused = Vec::new();
    for ((policy, (group, resource, verb)), answer) in probes.iter().zip(answers) {
        match answer {
            Ok(access) if access.allowed => {}
            Ok(_) => refused.push(policy.clone()),
            Err(e) => section.notes.push(format!(
                "checking access policy {policy} ({verb} {}): {e}",
                permissions::row_name(group, resource)
            )),
        }
    }
    let confirmed: Vec<&eks_auth::access::PolicyAssociation> = counting
        .into_iter()
        .filter(|p| !refused.iter().any(|r| r == p.policy_name()))
        .collect();
    for policy in &refused {
        section.notes.push(format!(
            "access policy {policy} is associated with your entry, but the API server does not              grant what it lists: its cells are left out"
        ));
    }
    permissions::merge_policies(&mut section.resources, &confirmed);
    if namespace.is_none() {
        permissions::merge_policy_urls(&mut section.non_resource, &confirmed);
    }
    if !probes.is_empty() {
        section.method.push_str(&format!(
            "; access policies from their published rules, each confirmed by a              SelfSubjectAccessReview ({} reviews)",
            probes.len()
        ));
    }
}
