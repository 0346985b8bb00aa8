//! kubectl-eks project tasks: krew manifests from `plugins.yaml`, release archives, and a local
//! stand-in for `kubectl krew install`. The binary (`cargo xtask`) is the thin I/O shell around
//! these modules; see docs/krew.md.

pub mod archive;
pub mod checksums;
pub mod install;
pub mod manifest;
pub mod plugins;
pub mod shim;
pub mod validate;
