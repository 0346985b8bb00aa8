//! The order of things, one stage each: gather the identity (kubeconfig, exec stanza, AWS
//! identity, the EKS side), ask the API server who we are, resolve the mapping (aws-auth and
//! access entries), with `--all` the bindings and the permissions, then the diagnosis. `main`
//! renders the report (`crate::render`).

use std::collections::BTreeMap;
use std::time::SystemTime;

use eks_auth::aws_auth::AwsAuth;
use eks_auth::env;
use eks_auth::kube::{self as k8s, Caller};
use eks_auth::mapping::Identity;
use eks_auth::rbac::UserInfo;
use kube::Client;

use crate::access_diagnosis;
use crate::access_io::{self, AccessLookup};
use crate::access_view::{self, AccessFacts, EntryLookup, ModeLookup};
use crate::aws_identity;
use crate::bindings_view::bindings_section;
use crate::cli::Cli;
use crate::diagnose::{self, Facts, Refusal};
use crate::exec::{self, Ambient, ExecSource};
use crate::kubeconfig::{self, Loaded, UserAuth};
use crate::mapping_view::{self, AwsAuthInput, KubeUser};
use crate::permissions_view::{add_access_policies, permissions_section, probe_access_policies};
use crate::progress::Progress;
use crate::report::{
    AwsSection, Diagnosis, KubeSection, KubeStatus, MappingKind, MappingSection, Report,
};

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
    let mut g = gather_identity(cli, progress).await?;
    g.eks_side = ask_eks(&g, progress).await;
    let report = first_report(&g);

    // An exec plugin that made no token: kubectl would fail the same way.
    if g.exec_config().is_some() && g.token.is_none() {
        return Ok(no_token(g, report));
    }

    progress.step("asking the API server who you are");
    let context_name = g.loaded.context.name.clone();
    let client = k8s::connect_to(
        g.loaded.kubeconfig.clone(),
        Some(&context_name),
        g.token.as_deref(),
        cli.kube.request_timeout.map(|t| t.0),
    )
    .await?
    .client;
    let reviewed = match k8s::fetch_caller(&client).await {
        Ok(user) => user,
        Err(err) if err.code() == Some(401) => {
            return Ok(unauthenticated(&g, report, err.reason()));
        }
        Err(err) => {
            return Err(anyhow::Error::new(err).context(format!(
                "creating a SelfSubjectReview in context `{context_name}`"
            )));
        }
    };
    note_other_access_key(&mut g.aws, &reviewed);

    let mut stage = Identified {
        report,
        refusals: Vec::new(),
    };
    progress.step("reading aws-auth");
    resolve_mapping(&client, &g, &reviewed, &mut stage).await;
    if cli.all {
        bindings_and_permissions(&client, cli, &g, &reviewed, &mut stage, progress).await;
    }
    progress.done();
    Ok(finish(g, stage, &reviewed))
}

/// What is known before the API server is asked.
struct Gathered {
    loaded: Loaded,
    exec_source: Option<ExecSource>,
    aws: AwsSection,
    identity: Option<Identity>,
    /// The token to present to the API server (a secret: never printed).
    token: Option<String>,
    /// The exec plugin is not installed: what to do about it.
    plugin_missing: Option<Diagnosis>,
    /// What EKS said (the mode, the caller's access entry), when it could be asked.
    eks_side: Option<AccessLookup>,
}

impl Gathered {
    fn exec_config(&self) -> Option<&kube::config::ExecConfig> {
        match &self.loaded.user {
            UserAuth::Exec(e) => Some(&**e),
            _ => None,
        }
    }

    /// The names the token may be signed for: the exec args' first, then the kubeconfig's ARN.
    fn clusters(&self) -> Vec<String> {
        let mut clusters: Vec<String> = Vec::new();
        let names = [
            self.exec_source
                .as_ref()
                .and_then(|s| s.cluster_name.clone()),
            self.loaded
                .context
                .cluster_arn
                .as_ref()
                .map(|c| c.name().to_owned()),
        ];
        for name in names.into_iter().flatten() {
            if !clusters.contains(&name) {
                clusters.push(name);
            }
        }
        clusters
    }

    /// The facts a 401 diagnosis starts from.
    fn facts(&self, http_401: bool) -> Facts<'_> {
        Facts {
            exec: self.exec_source.as_ref(),
            cluster_arn: self.loaded.context.cluster_arn.as_ref(),
            identity: self.identity.as_ref(),
            token: self.aws.token.as_ref(),
            aws_error: self.aws.error.as_deref(),
            http_401,
        }
    }
}

/// Stage 1: the kubeconfig's context and user, the exec stanza, and the AWS identity (the token
/// the plugin makes, confirmed with STS).
async fn gather_identity(cli: &Cli, progress: &Progress) -> anyhow::Result<Gathered> {
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
    let mut g = Gathered {
        loaded,
        exec_source,
        aws: AwsSection::default(),
        identity: None,
        token: None,
        plugin_missing: None,
        eks_side: None,
    };

    progress.step("resolving the AWS identity");
    let exec_pair = match (g.exec_config(), &g.exec_source) {
        (Some(e), Some(s)) => Some((e, s)),
        _ => None,
    };
    let static_token = match &g.loaded.user {
        UserAuth::Token(t) => Some(t.0.as_str()),
        _ => None,
    };
    let resolved = aws_identity::resolve(
        exec_pair,
        static_token,
        &g.clusters(),
        &env::var,
        SystemTime::now(),
    )
    .await;
    g.plugin_missing = resolved.plugin_missing.as_deref().map(|command| {
        let install_hint = g.exec_config().and_then(|e| e.install_hint.clone());
        diagnose::plugin_missing(command, install_hint.as_deref())
    });
    g.aws = resolved.section;
    g.identity = resolved.identity;
    g.token = resolved.token;
    Ok(g)
}

/// Stage 2: the EKS side, with the exec stanza's AWS identity: only for a known identity (no
/// credentials would only make the SDK wait for instance metadata) and a named cluster.
async fn ask_eks(g: &Gathered, progress: &Progress) -> Option<AccessLookup> {
    let clusters = g.clusters();
    let (name, id) = (clusters.first()?, g.identity.as_ref()?);
    progress.step("asking EKS for the authentication mode and your access entry");
    let region = g
        .loaded
        .context
        .cluster_arn
        .as_ref()
        .map(|c| c.region().to_owned());
    let stanza = g.exec_config().map(kubeconfig::stanza);
    Some(
        access_io::lookup(&access_io::Target {
            cluster_name: name,
            region: region.as_deref(),
            stanza: stanza.as_ref(),
            source: g.exec_source.as_ref(),
            identity: Some(id),
        })
        .await,
    )
}

/// The report before the API server is asked: the AWS side, no Kubernetes user yet.
fn first_report(g: &Gathered) -> Report {
    Report {
        context: g.loaded.context.clone(),
        aws: g.aws.clone(),
        kubernetes: KubeSection {
            status: KubeStatus::Error,
            username: None,
            uid: None,
            groups: Vec::new(),
            extra: BTreeMap::new(),
            error: None,
        },
        mapping: mapping_view::explain(g.identity.as_ref(), AwsAuthInput::Unavailable, None),
        bindings: None,
        permissions: None,
        diagnosis: None,
    }
}

/// The exec plugin made no token: the plugin is missing, or the identity could not be had.
fn no_token(g: Gathered, mut report: Report) -> (Report, Outcome) {
    report.kubernetes.error = Some("not asked: the exec plugin made no token".to_owned());
    if let Some(diagnosis) = g.plugin_missing {
        report.diagnosis = Some(diagnosis);
        return (report, Outcome::PluginMissing);
    }
    report.diagnosis = Some(diagnose::unauthorized(&g.facts(false)));
    (report, Outcome::Unauthenticated)
}

/// The API server answered 401: the mapping as far as EKS tells it, and why.
fn unauthenticated(g: &Gathered, mut report: Report, reason: String) -> (Report, Outcome) {
    report.kubernetes.status = KubeStatus::Unauthenticated;
    report.kubernetes.error = Some(reason);
    report.mapping = mapping_view::explain(g.identity.as_ref(), AwsAuthInput::Unavailable, None);
    apply_eks_side(&mut report.mapping, g, None, None);
    let mut diagnosis = diagnose::unauthorized(&g.facts(true));
    if let Some(side) = &g.eks_side {
        access_diagnosis::refine_unauthorized(
            &mut diagnosis,
            &access_diagnosis::AccessDiagFacts {
                mode: &side.mode,
                entry: &side.entry,
                identity: g.identity.as_ref(),
                exec: g.exec_source.as_ref(),
                overrides: &report.mapping.overrides,
            },
        );
    }
    report.diagnosis = Some(diagnosis);
    (report, Outcome::Unauthenticated)
}

/// EKS tells which access key it saw; it should be the one whoami resolved.
fn note_other_access_key(aws: &mut AwsSection, reviewed: &Caller) {
    if let (Some(seen), Some(mine)) = (reviewed.access_key_id(), aws.access_key_id.as_deref())
        && seen != mine
    {
        aws.notes.push(format!(
            "the API server saw access key `{seen}`, but whoami resolved `{mine}`: kubectl and \
             whoami do not use the same credentials"
        ));
    }
}

/// The run once the API server knows the caller: the report so far and the requests it
/// refused (for the 403 diagnosis).
struct Identified {
    report: Report,
    refusals: Vec<Refusal>,
}

/// Stage 3: which aws-auth entry or access entry made the caller who the API server says.
async fn resolve_mapping(client: &Client, g: &Gathered, reviewed: &Caller, s: &mut Identified) {
    let aws_auth_data = k8s::fetch_aws_auth(client).await;
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
            s.refusals.push(Refusal {
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
    let mapping = &mut s.report.mapping;
    *mapping = mapping_view::explain(g.identity.as_ref(), aws_auth_input, Some(&kube_user));
    let empty_aws_auth = AwsAuth::empty();
    let aws_auth_doc = match aws_auth_input {
        AwsAuthInput::Read(doc) => Some(doc),
        AwsAuthInput::Absent => Some(&empty_aws_auth),
        _ => None,
    };
    apply_eks_side(mapping, g, aws_auth_doc, Some(&kube_user));
    if let Err(e) = &aws_auth_data
        && e.code() != Some(403)
    {
        mapping.notes.push(format!(
            "reading ConfigMap `kube-system/aws-auth`: {}",
            e.reason()
        ));
    }
}

/// The mapping as EKS applies it, once the EKS side is known (see [`access_view`]).
fn apply_eks_side(
    mapping: &mut MappingSection,
    g: &Gathered,
    aws_auth: Option<&AwsAuth>,
    kube: Option<&KubeUser>,
) {
    let Some(side) = &g.eks_side else {
        return;
    };
    access_view::apply(
        mapping,
        &AccessFacts {
            cluster_name: &side.cluster_name,
            mode: &side.mode,
            entry: &side.entry,
            identity: g.identity.as_ref(),
            aws_auth,
            kube,
        },
    );
}

/// Stage 4 (`--all`): the RBAC bindings that name the caller, and the permission matrix with
/// what the caller's access policies add.
async fn bindings_and_permissions(
    client: &Client,
    cli: &Cli,
    g: &Gathered,
    reviewed: &Caller,
    s: &mut Identified,
    progress: &Progress,
) {
    let user = UserInfo::new(reviewed.username.clone(), reviewed.groups.clone());
    progress.step("listing RBAC bindings and roles");
    let lists = k8s::list_rbac_each(client).await;
    let (bindings, objects) = bindings_section(&user, &lists, &mut s.refusals);
    s.report.bindings = Some(bindings);
    let namespace = cli.namespace.clone();
    let mut section = permissions_section(
        client,
        &user,
        namespace.clone(),
        g.loaded.context.namespace.as_deref(),
        &lists,
        objects.as_ref(),
        progress,
    )
    .await;
    match &g.eks_side {
        Some(AccessLookup {
            entry: EntryLookup::Found(entry),
            ..
        }) => {
            if s.report.mapping.source == MappingKind::AccessEntry {
                add_access_policies(client, &mut section, &entry.policies, namespace.as_deref())
                    .await;
            }
        }
        side => {
            if let Some(why) = unreadable_entry(side.as_ref()) {
                probe_access_policies(client, &mut section, namespace.as_deref(), &why).await;
            }
        }
    }
    s.report.permissions = Some(section);
}

/// Why the caller's access policies could not be read from EKS, naming the refused IAM action;
/// `None` when they were read, when there is no entry, or when the mode does not use entries.
fn unreadable_entry(side: Option<&AccessLookup>) -> Option<String> {
    let side = side?;
    match (&side.mode, &side.entry) {
        (_, EntryLookup::Forbidden { action, .. }) => Some(format!(
            "your access entry could not be read (`{action}` was refused)"
        )),
        (_, EntryLookup::Failed(e)) => Some(format!("your access entry could not be read ({e})")),
        (ModeLookup::Forbidden(why) | ModeLookup::Failed(why), _) => Some(format!(
            "the authentication mode, and so your access entry, could not be read ({why})"
        )),
        _ => None,
    }
}

/// Stage 5: the diagnosis of the refused requests, and the outcome.
fn finish(g: Gathered, mut s: Identified, reviewed: &Caller) -> (Report, Outcome) {
    if !s.refusals.is_empty() {
        let canonical = g.identity.as_ref().map(|i| i.canonical_arn());
        let mut diagnosis = diagnose::forbidden(
            &reviewed.username,
            &reviewed.groups,
            canonical.as_ref(),
            &s.refusals,
        );
        if s.report.mapping.source == MappingKind::AccessEntry
            && let Some(id) = g.identity.as_ref()
        {
            let principal = access_diagnosis::entry_principal(id, g.exec_source.as_ref());
            access_diagnosis::refine_forbidden(&mut diagnosis, &s.refusals, &principal);
        }
        s.report.diagnosis = Some(diagnosis);
    }
    s.report.aws = g.aws;
    s.report.kubernetes = KubeSection {
        status: KubeStatus::Authenticated,
        username: Some(reviewed.username.clone()),
        uid: reviewed.uid.clone(),
        groups: reviewed.groups.clone(),
        extra: reviewed.extra.clone(),
        error: None,
    };
    // whoami saw the cluster through the SDK, but kubectl cannot run the plugin: say so first.
    if let Some(diagnosis) = g.plugin_missing {
        s.report.diagnosis = Some(diagnosis);
        return (s.report, Outcome::PluginMissing);
    }
    (s.report, Outcome::Identified)
}
