//! The order of things: kubeconfig, AWS identity, SelfSubjectReview, aws-auth, and with
//! `--all` the RBAC bindings and the effective permissions.

use std::collections::BTreeMap;
use std::time::SystemTime;

use eks_auth::aws_auth::AwsAuth;
use eks_auth::kube::{self as k8s};
use eks_auth::rbac::UserInfo;

use crate::access_view::{self, AccessFacts, EntryLookup};
use crate::aws_identity;
use crate::bindings_view::bindings_section;
use crate::cli::Cli;
use crate::diagnose::{self, Facts, Refusal};
use crate::exec::{self, Ambient};
use crate::kubeconfig::{self, UserAuth};
use crate::mapping_view::{self, AwsAuthInput, KubeUser};
use crate::permissions_view::{add_access_policies, permissions_section};
use crate::progress::Progress;
use crate::report::{KubeSection, KubeStatus, MappingKind, MappingSection, Report};
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
