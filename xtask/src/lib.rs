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

/// The workspace root: the folder above `xtask/`, where `plugins.yaml` and `krew-manifests/` are.
pub fn workspace_root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives in the workspace")
        .to_owned()
}
