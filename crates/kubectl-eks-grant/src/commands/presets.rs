//! `presets`: the presets of `add --preset` and their rules. No cluster.

use anyhow::Result;
use eks_auth::cli::OutputFormat;
use eks_auth::rbac::{compact_string, presets};

use crate::output::emit;
use crate::report::{PresetView, presets_table};

fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn run(format: OutputFormat) -> Result<()> {
    let views: Vec<PresetView> = presets()
        .into_iter()
        .map(|p| PresetView {
            name: p.name,
            description: squash(p.description),
            caveat: p.caveat.map(squash),
            namespaced_caveat: p.namespaced_caveat.map(squash),
            namespaced: p.namespaced,
            cluster_role: p.cluster_role_name(),
            creates_cluster_role: p.creates_cluster_role(),
            rules: p.rules().iter().map(compact_string).collect(),
        })
        .collect();
    emit(format, &views, |v| presets_table(v))
}
