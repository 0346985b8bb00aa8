//! What a kubeconfig `exec` stanza says about the AWS identity it signs with: the core's one
//! reader ([`eks_auth::exec_stanza`]), which eks-grant uses too.

pub use eks_auth::exec_stanza::*;
