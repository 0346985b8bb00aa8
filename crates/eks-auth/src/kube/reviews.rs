//! I/O: the reviews: who the caller is (SelfSubjectReview), what it may do
//! (SelfSubjectAccessReview, SelfSubjectRulesReview), and what another user may do
//! (SubjectAccessReview), one at a time or as a bounded fan-out.

use std::collections::BTreeMap;
use std::sync::Arc;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    NonResourceAttributes, ResourceAttributes, SelfSubjectAccessReview,
    SelfSubjectAccessReviewSpec, SelfSubjectRulesReview, SelfSubjectRulesReviewSpec,
    SubjectAccessReview, SubjectAccessReviewSpec, SubjectRulesReviewStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::PostParams;
use kube::{Api, Client};

use super::error::{KubeError, request_error};

/// The caller as the cluster sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Caller {
    /// Username.
    pub username: String,
    /// The uid the authenticator gave, when it gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Groups (including `system:authenticated`).
    pub groups: Vec<String>,
    /// Extra attributes; EKS puts `arn`, `canonicalArn`, `sessionName`, `accessKeyId` there.
    pub extra: BTreeMap<String, Vec<String>>,
}

impl Caller {
    /// The caller's canonical IAM ARN when the authenticator told it (`extra["canonicalArn"]`,
    /// else `extra["arn"]`).
    pub fn arn(&self) -> Option<&str> {
        ["canonicalArn", "canonicalarn", "arn"]
            .iter()
            .find_map(|key| self.extra.get(*key).and_then(|v| v.first()))
            .map(String::as_str)
    }

    /// The IAM role session name EKS saw (`extra["sessionName"]`).
    pub fn session_name(&self) -> Option<&str> {
        self.extra_value("sessionName")
    }

    /// The access key id EKS saw (`extra["accessKeyId"]`).
    pub fn access_key_id(&self) -> Option<&str> {
        self.extra_value("accessKeyId")
    }

    /// The first value of an extra key, also under its lower-case spelling (the API server may
    /// lower-case extra keys, as the Kubernetes authentication docs note for headers).
    fn extra_value(&self, key: &str) -> Option<&str> {
        self.extra
            .get(key)
            .or_else(|| self.extra.get(&key.to_lowercase()))
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// POST a SelfSubjectReview: who the cluster thinks the caller is.
pub async fn fetch_caller(client: &Client) -> Result<Caller, KubeError> {
    let review = SelfSubjectReview {
        metadata: ObjectMeta::default(),
        status: None,
    };
    let api: Api<SelfSubjectReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SelfSubjectReview", e))?;
    let info = answer
        .status
        .and_then(|s| s.user_info)
        .ok_or(KubeError::NoStatus("SelfSubjectReview"))?;
    Ok(Caller {
        username: info.username.unwrap_or_default(),
        uid: info.uid.filter(|u| !u.is_empty()),
        groups: info.groups.unwrap_or_default(),
        extra: info.extra.unwrap_or_default(),
    })
}

/// The answer of an access review.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Access {
    /// Allowed.
    pub allowed: bool,
    /// The authorizer's reason (may be empty).
    pub reason: String,
}

/// SelfSubjectAccessReview: may the caller do this?
pub async fn can_i(client: &Client, attributes: ResourceAttributes) -> Result<Access, KubeError> {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(attributes),
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SelfSubjectAccessReview", e))?;
    let status = answer
        .status
        .ok_or(KubeError::NoStatus("SelfSubjectAccessReview"))?;
    Ok(Access {
        allowed: status.allowed,
        reason: status.reason.unwrap_or_default(),
    })
}

/// What a SubjectAccessReview asks about.
#[derive(Debug, Clone)]
pub enum Attributes {
    /// A resource request.
    Resource(Box<ResourceAttributes>),
    /// A non-resource URL.
    NonResource(NonResourceAttributes),
}

/// SubjectAccessReview: may this user with these groups do this? (What the API server would
/// decide; no impersonation.)
pub async fn subject_access(
    client: &Client,
    user: &str,
    groups: &[String],
    attributes: Attributes,
) -> Result<Access, KubeError> {
    let (resource_attributes, non_resource_attributes) = match attributes {
        Attributes::Resource(r) => (Some(*r), None),
        Attributes::NonResource(n) => (None, Some(n)),
    };
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            groups: Some(groups.to_vec()),
            resource_attributes,
            non_resource_attributes,
            ..Default::default()
        },
        ..Default::default()
    };
    let api: Api<SubjectAccessReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SubjectAccessReview", e))?;
    let status = answer
        .status
        .ok_or(KubeError::NoStatus("SubjectAccessReview"))?;
    Ok(Access {
        allowed: status.allowed,
        reason: status.reason.unwrap_or_default(),
    })
}

/// SelfSubjectRulesReview in a namespace: the caller's rules there (cluster-wide ones included).
pub async fn fetch_own_rules(
    client: &Client,
    namespace: &str,
) -> Result<SubjectRulesReviewStatus, KubeError> {
    let review = SelfSubjectRulesReview {
        spec: SelfSubjectRulesReviewSpec {
            namespace: Some(namespace.to_owned()),
        },
        ..Default::default()
    };
    let api: Api<SelfSubjectRulesReview> = Api::all(client.clone());
    let answer = api
        .create(&PostParams::default(), &review)
        .await
        .map_err(|e| request_error("creating", "a SelfSubjectRulesReview", e))?;
    answer
        .status
        .ok_or(KubeError::NoStatus("SelfSubjectRulesReview"))
}

/// How many access reviews [`can_i_each`] and [`subject_access_each`] keep in flight at once: enough
/// to hide the round trips, few enough not to trip API priority and fairness on a busy server.
pub const PARALLEL_REVIEWS: usize = 16;

/// SelfSubjectAccessReview for each question, at most `parallel` in flight; the answers in the
/// order asked. `on_answer(done, total)` is called as answers arrive (for progress).
pub async fn can_i_each(
    client: &Client,
    questions: Vec<ResourceAttributes>,
    parallel: usize,
    on_answer: &dyn Fn(usize, usize),
) -> Vec<Result<Access, KubeError>> {
    let client = client.clone();
    bounded(questions, parallel, on_answer, move |attributes| {
        let client = client.clone();
        async move { can_i(&client, attributes).await }
    })
    .await
}

/// SubjectAccessReview of `user` with `groups` for each question, at most `parallel` in flight;
/// the answers in the order asked.
pub async fn subject_access_each(
    client: &Client,
    user: &str,
    groups: &[String],
    questions: Vec<Attributes>,
    parallel: usize,
) -> Vec<Result<Access, KubeError>> {
    let client = client.clone();
    let user = user.to_owned();
    let groups = groups.to_vec();
    bounded(questions, parallel, &|_, _| {}, move |attributes| {
        let (client, user, groups) = (client.clone(), user.clone(), groups.clone());
        async move { subject_access(&client, &user, &groups, attributes).await }
    })
    .await
}

/// Runs `ask` over the questions with at most `parallel` in flight; answers in question order.
async fn bounded<Q, F, Fut>(
    questions: Vec<Q>,
    parallel: usize,
    on_answer: &dyn Fn(usize, usize),
    ask: F,
) -> Vec<Result<Access, KubeError>>
where
    Q: Send + 'static,
    F: Fn(Q) -> Fut,
    Fut: std::future::Future<Output = Result<Access, KubeError>> + Send + 'static,
{
    let total = questions.len();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallel.max(1)));
    let mut set = tokio::task::JoinSet::new();
    for (i, question) in questions.into_iter().enumerate() {
        let semaphore = semaphore.clone();
        let answer = ask(question);
        set.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, answer.await)
        });
    }
    let mut answers: Vec<Option<Result<Access, KubeError>>> = (0..total).map(|_| None).collect();
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
        .map(|a| a.unwrap_or(Err(KubeError::TaskFailed("access review"))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caller_arn_prefers_canonical() {
        let caller = Caller {
            extra: BTreeMap::from([
                (
                    "arn".to_owned(),
                    vec!["arn:aws:sts::1:assumed-role/r/s".to_owned()],
                ),
                (
                    "canonicalArn".to_owned(),
                    vec!["arn:aws:iam::1:role/r".to_owned()],
                ),
            ]),
            ..Default::default()
        };
        assert_eq!(caller.arn(), Some("arn:aws:iam::1:role/r"));
    }
}
