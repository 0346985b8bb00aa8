//! Pure: EKS access entries, the cluster's authentication mode, the AWS-managed access policies,
//! and who a caller becomes over both stores (access entries and aws-auth).
//!
//! Since 2023 an EKS cluster has two stores of who may enter: the aws-auth ConfigMap
//! ([`crate::aws_auth`], [`crate::mapping`]) and access entries, kept by the EKS API. The
//! cluster's [`AuthenticationMode`] says which count. This module is the model of the second
//! store and of the choice between them; it does no I/O (the EKS calls are in `crate::eks`,
//! feature `aws`).
//!
//! - [`mode`]: `CONFIG_MAP` / `API_AND_CONFIG_MAP` / `API`, and the one-way road between them.
//! - [`entry`]: [`AccessEntry`], [`AccessEntryType`], [`PolicyAssociation`], [`AccessScope`]
//!   (with namespace wildcards), default usernames and the validation rules of
//!   `CreateAccessEntry` / `UpdateAccessEntry` / `AssociateAccessPolicy`.
//! - [`policies`]: the catalogue of AWS-managed access policies as data (name, ARN, the
//!   Kubernetes rules each grants, the eks-grant preset each resembles), from the EKS user
//!   guide's "Review access policy permissions" page.
//! - [`resolve`](mod@resolve): an AWS identity + mode + entries + aws-auth -> Kubernetes user,
//!   groups and policies, with EKS's precedence, and what was ignored and why.
//! - `authorize` (feature `rbac`): the access-policy authorizer EKS runs beside RBAC.
//!
//! ```
//! use eks_auth::access::{self, AccessEntry, AccessScope, AuthenticationMode, PolicyAssociation};
//! use eks_auth::aws_auth::AwsAuth;
//! use eks_auth::mapping::{Identity, MapOptions};
//!
//! let mut entry = AccessEntry::standard("arn:aws:iam::111122223333:role/team/dev".parse()?);
//! entry.principal_id = Some("AROAEXAMPLE".into());
//! entry.policies.push(PolicyAssociation {
//!     policy_arn: access::policies::for_preset("view").unwrap().arn("aws"),
//!     scope: AccessScope::Namespaces(vec!["dev-*".into()]),
//! });
//! let caller = Identity {
//!     arn: "arn:aws:sts::111122223333:assumed-role/dev/alice".parse()?,
//!     account: "111122223333".into(),
//!     user_id: "AROAEXAMPLE:alice".into(),
//!     access_key_id: "ASIAEXAMPLE".into(),
//! };
//! let aws_auth = AwsAuth::parse(&Default::default())?;
//! let r = access::resolve(&caller, AuthenticationMode::Api, &[entry], &aws_auth, None,
//!     &MapOptions::default())?;
//! let user = r.resolved.unwrap();
//! assert_eq!(user.username, "arn:aws:sts::111122223333:assumed-role/dev/alice");
//! assert_eq!(user.policies[0].policy_name(), "AmazonEKSViewPolicy");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "rbac")]
mod authorize;
pub mod entry;
pub mod migrate;
pub mod mode;
pub mod policies;
pub mod resolve;

#[cfg(feature = "rbac")]
pub use authorize::{authorize, authorize_non_resource, policy_rules};
pub use entry::{
    AccessEntry, AccessEntryType, AccessScope, EntryError, PolicyAssociation, default_username,
};
pub use mode::{AuthenticationMode, ModeChangeError};
pub use policies::{AccessPolicy, PolicyRuleData};
pub use resolve::{
    AccessSource, EntryMatch, Ignored, Resolution, Resolved, principal_id, resolve, same_principal,
};
