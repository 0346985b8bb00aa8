//! The core's EKS access client (`eks_auth::eks`, through aws-sdk-eks) against the stand-in EKS:
//! pagination, the mode's updates, errors with hints, throttling retried, access denied named.

use std::time::{Duration, Instant};

use aws_config::{BehaviorVersion, Region};
use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use eks_auth::access::{
    self, AccessEntryType, AccessScope, AuthenticationMode, EntryMatch, PolicyAssociation,
};
use eks_auth::aws_auth::AwsAuth;
use eks_auth::eks::{EksClient, EksError, NewAccessEntry};
use eks_auth::mapping::{Identity, MapOptions};
use eks_testbed::{AwsKeys, Testbed, TestbedOptions};
use serde_json::json;

const VIEW: &str = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy";

fn start(mode: AuthenticationMode) -> Testbed {
    Testbed::start(TestbedOptions {
        auth_mode: mode,
        ..TestbedOptions::default()
    })
    .expect("the testbed starts")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn client(tb: &Testbed, keys: &AwsKeys) -> EksClient {
    let creds = Credentials::new(
        &keys.access_key_id,
        &keys.secret_access_key,
        keys.session_token.clone(),
        None,
        "test",
    );
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(tb.aws_endpoint().unwrap())
        .credentials_provider(SharedCredentialsProvider::new(creds))
        .load()
        .await;
    EksClient::new(&config, tb.cluster_name())
}

#[test]
fn lists_every_page_and_resolves_a_caller() {
    let tb = start(AuthenticationMode::Api);
    let creator = tb.creator().unwrap().clone();
    runtime().block_on(async {
        let eks = client(&tb, &creator.keys).await;
        let config = eks.access_config().await.unwrap();
        assert_eq!(config.mode, AuthenticationMode::Api);
        assert!(config.bootstrap_cluster_creator_admin_permissions);

        // 120 entries: more than one page of 100.
        let mut arns = vec![creator.arn.clone()];
        for i in 0..120 {
            let user = tb.create_user(&format!("u{i:03}")).unwrap();
            let entry = eks
                .create_access_entry(&NewAccessEntry {
                    principal_arn: user.arn.parse().unwrap(),
                    entry_type: AccessEntryType::Standard,
                    username: None,
                    kubernetes_groups: vec![],
                })
                .await
                .unwrap();
            assert_eq!(entry.username, user.arn);
            arns.push(user.arn);
        }
        let listed = eks.list_access_entries(None).await.unwrap();
        assert_eq!(listed, arns);

        let dev = tb.create_role("dev", "/team/").unwrap();
        let principal = NewAccessEntry {
            principal_arn: dev.arn.parse().unwrap(),
            entry_type: AccessEntryType::Standard,
            username: Some("dev:{{SessionName}}".into()),
            kubernetes_groups: vec!["devs".into()],
        };
        eks.create_access_entry(&principal).await.unwrap();
        let assoc = PolicyAssociation {
            policy_arn: VIEW.into(),
            scope: AccessScope::Namespaces(vec!["dev-*".into()]),
        };
        eks.associate_access_policy(&dev.arn, &assoc).await.unwrap();
        assert_eq!(
            eks.list_access_entries(Some(VIEW)).await.unwrap(),
            std::slice::from_ref(&dev.arn)
        );
        let updated = eks
            .update_access_entry(&dev.arn, None, Some(&["devs2".to_owned()]))
            .await
            .unwrap();
        assert_eq!(updated.kubernetes_groups, ["devs2"]);
        let entries = eks.fetch_access_entries().await.unwrap();
        assert_eq!(entries.len(), 122);

        // The core resolves a session of the pathed role against what the API returned.
        let caller = Identity {
            arn: "arn:aws:sts::123456789012:assumed-role/dev/alice"
                .parse()
                .unwrap(),
            account: "123456789012".into(),
            user_id: format!("{}:alice", dev.role_id),
            access_key_id: "ASIA".into(),
        };
        let aws_auth = AwsAuth::parse(&Default::default()).unwrap();
        let r = access::resolve(
            &caller,
            config.mode,
            &entries,
            &aws_auth,
            None,
            &MapOptions::default(),
        )
        .unwrap();
        let got = r.resolved.unwrap();
        assert_eq!(got.username, "dev:alice");
        assert_eq!(got.groups, ["devs2"]);
        assert_eq!(got.policies, std::slice::from_ref(&assoc));
        assert!(matches!(
            got.source,
            access::AccessSource::AccessEntry {
                matched: EntryMatch::ByArn,
                ..
            }
        ));

        eks.disassociate_access_policy(&dev.arn, VIEW)
            .await
            .unwrap();
        assert!(
            eks.list_associated_access_policies(&dev.arn)
                .await
                .unwrap()
                .is_empty()
        );
        eks.delete_access_entry(&dev.arn).await.unwrap();
        assert_eq!(eks.describe_access_entry(&dev.arn).await.unwrap(), None);
        let policies = eks.list_access_policies().await.unwrap();
        assert_eq!(policies.len(), 19);
        assert!(policies.iter().any(|p| p.arn == VIEW));
    });
}

#[test]
fn errors_name_what_failed_and_hint() {
    let tb = start(AuthenticationMode::ConfigMap);
    let creator = tb.creator().unwrap().clone();
    runtime().block_on(async {
        let eks = client(&tb, &creator.keys).await;
        let err = eks.list_access_entries(None).await.unwrap_err();
        assert!(matches!(err, EksError::AccessEntriesOff { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "EKS cluster `testbed` does not use access entries (its authentication mode is CONFIG_MAP)"
        );

        // The mode's update, followed to its end.
        let update = eks
            .update_authentication_mode(AuthenticationMode::ApiAndConfigMap)
            .await
            .unwrap();
        assert_eq!(update.status, "InProgress");
        let began = Instant::now();
        loop {
            let u = eks.describe_update(&update.id).await.unwrap();
            if u.is_done() {
                assert_eq!(u.status, "Successful");
                break;
            }
            assert!(began.elapsed() < Duration::from_secs(10));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            eks.access_config().await.unwrap().mode,
            AuthenticationMode::ApiAndConfigMap
        );
        let err = eks
            .update_authentication_mode(AuthenticationMode::ConfigMap)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "EKS refused `UpdateClusterConfig` on cluster `testbed`: InvalidParameterException: Unsupported authentication mode update from API_AND_CONFIG_MAP to CONFIG_MAP"
        );

        let exists = NewAccessEntry {
            principal_arn: creator.arn.parse().unwrap(),
            entry_type: AccessEntryType::Standard,
            username: None,
            kubernetes_groups: vec![],
        };
        let err = eks.create_access_entry(&exists).await.unwrap_err();
        assert!(matches!(err, EksError::EntryExists { .. }), "{err:?}");
        let err = eks
            .associate_access_policy(
                "arn:aws:iam::123456789012:user/nobody",
                &PolicyAssociation {
                    policy_arn: VIEW.into(),
                    scope: AccessScope::Cluster,
                },
            )
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "EKS cluster `testbed` has no access entry for `arn:aws:iam::123456789012:user/nobody`"
        );
        let other = EksClient::new(
            &aws_config::defaults(BehaviorVersion::latest())
                .region(Region::new("us-east-1"))
                .endpoint_url(tb.aws_endpoint().unwrap())
                .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
                    &creator.keys.access_key_id,
                    &creator.keys.secret_access_key,
                    None,
                    None,
                    "test",
                )))
                .load()
                .await,
            "nope",
        );
        let err = other.access_config().await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "EKS cluster `nope` not found in region `us-east-1`"
        );

        // AccessDenied names the IAM action; the hint says what to ask for.
        tb.aws_admin(
            "/_testbed/eks/faults",
            &json!({"deny": {"principal_arn": creator.arn, "actions": ["eks:DeleteAccessEntry"]}}),
        )
        .unwrap();
        let err = eks.delete_access_entry(&creator.arn).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "access denied: `eks:DeleteAccessEntry` on EKS cluster `testbed`: User: {} is not authorized to perform: eks:DeleteAccessEntry on resource: arn:aws:eks:us-east-1:123456789012:cluster/testbed",
                creator.arn
            )
        );
        assert!(err.hint().unwrap().contains("`eks:DeleteAccessEntry`"));

        // Throttling is retried with backoff: 3 throttles then success; 5 in a row is reported.
        tb.aws_admin(
            "/_testbed/eks/faults",
            &json!({"clear": true, "throttle": {"operation": "ListAccessEntries", "count": 3}}),
        )
        .unwrap();
        let began = Instant::now();
        assert_eq!(
            eks.list_access_entries(None).await.unwrap(),
            std::slice::from_ref(&creator.arn)
        );
        eprintln!(
            "3 throttles, then the answer, in {:.2} s",
            began.elapsed().as_secs_f64()
        );
        tb.aws_admin(
            "/_testbed/eks/faults",
            &json!({"throttle": {"operation": "ListAccessEntries", "count": 5}}),
        )
        .unwrap();
        let err = eks.list_access_entries(None).await.unwrap_err();
        assert_eq!(
            err.to_string(),
            "EKS kept throttling `ListAccessEntries` on cluster `testbed` (5 attempts)"
        );
        assert!(err.hint().unwrap().contains("rate-limiting"));
    });
}
