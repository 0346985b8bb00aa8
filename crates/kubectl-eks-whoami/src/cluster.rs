//! I/O: the Kubernetes requests whoami makes. Each returns the API server's HTTP code on
//! failure so that 401 and 403 can be told from other errors.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    SelfSubjectRulesReview, SelfSubjectRulesReviewSpec, SubjectRulesReviewStatus,
};
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use kube::api::{ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};

/// A failed request: the HTTP code when the server answered, and the message.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct RequestError {
    pub code: Option<u16>,
    pub message: String,
}

impl From<kube::Error> for RequestError {
    fn from(err: kube::Error) -> Self {
        match err {
            kube::Error::Api(status) => RequestError {
                code: Some(status.code),
                message: format!("{} (HTTP {})", status.message, status.code),
            },
            other => RequestError {
                code: None,
                message: format!("{:#}", anyhow::Error::new(other)),
            },
        }
    }
}

/// A client for the context; with `token` the exec plugin is not run again: the token it
/// already made (or the one presigned from the credential chain) is presented instead.
pub async fn connect(
    kubeconfig: Kubeconfig,
    context: &str,
    token: Option<&str>,
    request_timeout: Option<Option<std::time::Duration>>,
) -> anyhow::Result<Client> {
    let options = KubeConfigOptions {
        context: Some(context.to_owned()),
        ..Default::default()
    };
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .with_context(|| format!("loading context `{context}` from the kubeconfig"))?;
    eks_auth::kube::apply_request_timeout(&mut config, request_timeout);
    if let Some(token) = token {
        config.auth_info.exec = None;
        config.auth_info.token = Some(token.to_owned().into());
        config.auth_info.token_file = None;
    }
    Client::try_from(config)
        .with_context(|| format!("building the Kubernetes client for context `{context}`"))
}

/// The user as SelfSubjectReview reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReviewedUser {
    pub username: String,
    pub uid: Option<String>,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

/// POST `authentication.k8s.io/v1` SelfSubjectReview.
pub async fn self_subject_review(client: &Client) -> Result<ReviewedUser, RequestError> {
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let review = SelfSubjectReview {
        metadata: Default::default(),
        status: None,
    };
    let answer = api.create(&PostParams::default(), &review).await?;
    let info = answer
        .status
        .and_then(|s| s.user_info)
        .ok_or_else(|| RequestError {
            code: None,
            message: "the SelfSubjectReview came back without a user".to_owned(),
        })?;
    Ok(ReviewedUser {
        username: info.username.unwrap_or_default(),
        uid: info.uid.filter(|u| !u.is_empty()),
        groups: info.groups.unwrap_or_default(),
        extra: info.extra.unwrap_or_default(),
    })
}

/// GET `kube-system/aws-auth`; `Ok(None)` when it does not exist.
pub async fn fetch_aws_auth(
    client: &Client,
) -> Result<Option<BTreeMap<String, String>>, RequestError> {
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "kube-system");
    Ok(api
        .get_opt("aws-auth")
        .await?
        .map(|cm| cm.data.unwrap_or_default()))
}

/// The four RBAC kinds, each listed once across all namespaces (four requests, whatever the
/// number of namespaces), each with its own outcome.
#[derive(Debug)]
pub struct RbacLists {
    pub cluster_role_bindings: Result<Vec<ClusterRoleBinding>, RequestError>,
    pub role_bindings: Result<Vec<RoleBinding>, RequestError>,
    pub cluster_roles: Result<Vec<ClusterRole>, RequestError>,
    pub roles: Result<Vec<Role>, RequestError>,
}

async fn list_all<K>(client: &Client) -> Result<Vec<K>, RequestError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let api: Api<K> = Api::all(client.clone());
    Ok(api.list(&ListParams::default()).await?.items)
}

/// Lists them concurrently.
pub async fn list_rbac(client: &Client) -> RbacLists {
    let (cluster_role_bindings, role_bindings, cluster_roles, roles) = tokio::join!(
        list_all::<ClusterRoleBinding>(client),
        list_all::<RoleBinding>(client),
        list_all::<ClusterRole>(client),
        list_all::<Role>(client),
    );
    RbacLists {
        cluster_role_bindings,
        role_bindings,
        cluster_roles,
        roles,
    }
}

/// SelfSubjectRulesReview in `namespace` (the API requires one).
pub async fn rules_review(
    client: &Client,
    namespace: &str,
) -> Result<SubjectRulesReviewStatus, RequestError> {
    let api: Api<SelfSubjectRulesReview> = Api::all(client.clone());
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.to_owned()),
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &review)
        .await?
        .status
        .ok_or_else(|| RequestError {
            code: None,
            message: "the SelfSubjectRulesReview came back without a status".to_owned(),
        })
}

/// SelfSubjectAccessReview for each of `questions`, at most `parallel` in flight; answers in
/// the order asked.
pub async fn access_reviews(
    client: &Client,
    questions: Vec<ResourceAttributes>,
    parallel: usize,
    on_answer: &dyn Fn(usize, usize),
) -> Vec<Result<bool, RequestError>> {
    let total = questions.len();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, attributes) in questions.into_iter().enumerate() {
        let client = client.clone();
        let semaphore = semaphore.clone();
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            let api: Api<SelfSubjectAccessReview> = Api::all(client);
            let review = SelfSubjectAccessReview {
                spec: SelfSubjectAccessReviewSpec {
                    resource_attributes: Some(attributes),
                    ..Default::default()
                },
                ..Default::default()
            };
            let answer = api
                .create(&PostParams::default(), &review)
                .await
                .map_err(RequestError::from)
                .map(|r| r.status.is_some_and(|s| s.allowed));
            (i, answer)
        });
    }
    let mut answers: Vec<Option<Result<bool, RequestError>>> = vec![None; total];
    let mut done = 0;
    while let Some(joined) = set.join_next().await {
        if let Ok((i, answer)) = joined {
            answers[i] = Some(answer);
        }
        done += 1;
        on_answer(done, total);
    }
    answers
        .into_iter()
        .map(|a| {
            a.unwrap_or_else(|| {
                Err(RequestError {
                    code: None,
                    message: "the access review task failed".to_owned(),
                })
            })
        })
        .collect()
}
