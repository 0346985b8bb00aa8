//! INTERIM until core-awsauth merges (not committed).
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use crate::auth::Authenticator;
use crate::aws_side::AwsKeys;
use crate::store::Store;

pub fn eks_authenticator(
    _cluster: &str,
    _sts: SocketAddr,
    _store: Arc<Mutex<Store>>,
    _creator: Arc<Mutex<Option<String>>>,
) -> Arc<dyn Authenticator> {
    Arc::new(crate::auth::StaticTokens::default())
}

pub fn presign_token(
    keys: &AwsKeys,
    cluster: &str,
    region: &str,
    now: std::time::SystemTime,
) -> String {
    let creds = eks_auth::token::Credentials {
        access_key_id: keys.access_key_id.clone(),
        secret_access_key: keys.secret_access_key.clone(),
        session_token: keys.session_token.clone(),
    };
    eks_auth::token::presign(&creds, cluster, region, now)
        .map(|t| t.token)
        .unwrap_or_default()
}
