//! `list`: every mapping of the store, whether the authenticator would use it and why not, and
//! the bindings of every group handed out.

use std::collections::BTreeMap;

use anyhow::Result;
use eks_auth::cli::OutputFormat;
use eks_auth::kube::{Cluster, list_rbac};
use eks_auth::rbac::UserInfo;

use crate::backend::Backend;
use crate::output::{emit, note};
use crate::report::ListReport;

pub async fn run(cluster: &Cluster, backend: &Backend, format: OutputFormat) -> Result<()> {
    let mappings = backend.mappings().await?;
    let mut groups: BTreeMap<String, Vec<String>> = mappings
        .groups
        .iter()
        .map(|g| (g.clone(), Vec::new()))
        .collect();
    match list_rbac(&cluster.client).await {
        Ok(objects) => {
            for (g, bindings) in groups.iter_mut() {
                for b in objects.bindings_for(&UserInfo::new("", [g.clone()])) {
                    let at = b
                        .namespace
                        .map(|ns| format!(" in {ns}"))
                        .unwrap_or_default();
                    bindings.push(format!(
                        "{}/{}{at} -> {}/{}",
                        b.kind, b.name, b.role_ref.kind, b.role_ref.name
                    ));
                }
            }
        }
        Err(e) => note(&format!("bindings are not shown: {e:#}")),
    }
    let report = ListReport {
        mappings: mappings.entries,
        accounts: mappings.accounts,
        groups,
        last_change: mappings.last_change,
    };
    emit(format, &report, ListReport::table)
}
