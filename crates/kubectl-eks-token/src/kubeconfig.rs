//! `update-kubeconfig`: entries for a cluster, merged into a kubeconfig the way
//! `aws eks update-kubeconfig` does (awscli `customizations/eks/update_kubeconfig.py` and
//! `kubeconfig.py`): cluster and user named by the cluster ARN unless aliased, context named by
//! `--alias` or the user name; an entry with the same name is replaced in place, else appended;
//! `current-context` is set; every other entry and unknown field is left as it was.
//!
//! `build_entries` and `merge` are pure; `run` does the I/O.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use eks_auth::aws::{self, AwsOptions, ClusterInfo};
use serde_yaml::{Mapping, Value};

use crate::cli::UpdateKubeconfigArgs;
use eks_auth::env;

pub const EXEC_API_VERSION: &str = "client.authentication.k8s.io/v1beta1";
pub const COMMAND: &str = "kubectl-eks_token";
/// How to install the plugin, as the README's "Installing" section says.
pub const INSTALL_HINT: &str = concat!(
    "kubectl-eks_token is needed to authenticate to this EKS cluster.\n",
    "Install it with krew:\n",
    "  kubectl krew index add kubectl-eks https://github.com/kubectl-eks/krew-index.git\n",
    "  kubectl krew install kubectl-eks/eks-token\n",
    "or from a clone of https://github.com/kubectl-eks/kubectl-eks with ./scripts/install,\n",
    "and make sure it is on your PATH.",
);

/// What to write for one cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entries {
    pub cluster_name: String,
    pub server: String,
    pub certificate_authority_data: String,
    pub user_name: String,
    pub context_name: String,
    pub exec_args: Vec<String>,
    /// `AWS_PROFILE` when a profile selected the credentials.
    pub profile: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct EntryOptions {
    pub role_arn: Option<String>,
    pub profile: Option<String>,
    pub alias: Option<String>,
    pub user_alias: Option<String>,
}

/// The cluster's region is taken from its ARN, as awscli does.
pub fn build_entries(cluster: &ClusterInfo, options: &EntryOptions) -> Result<Entries> {
    let region = cluster
        .arn
        .split(':')
        .nth(3)
        .filter(|r| !r.is_empty())
        .with_context(|| format!("cluster ARN `{}` has no region", cluster.arn))?;
    let mut exec_args = vec![
        "--cluster-name".to_owned(),
        cluster.name.clone(),
        "--region".to_owned(),
        region.to_owned(),
    ];
    if let Some(role) = &options.role_arn {
        exec_args.extend(["--role-arn".to_owned(), role.clone()]);
    }
    let user_name = options
        .user_alias
        .clone()
        .unwrap_or_else(|| cluster.arn.clone());
    Ok(Entries {
        cluster_name: cluster.arn.clone(),
        server: cluster.endpoint.clone(),
        certificate_authority_data: cluster.certificate_authority_data.clone(),
        context_name: options.alias.clone().unwrap_or_else(|| user_name.clone()),
        user_name,
        exec_args,
        profile: options.profile.clone(),
    })
}

fn s(v: &str) -> Value {
    Value::String(v.to_owned())
}

fn map(pairs: Vec<(&str, Value)>) -> Value {
    Value::Mapping(pairs.into_iter().map(|(k, v)| (s(k), v)).collect())
}

impl Entries {
    fn cluster_entry(&self) -> Value {
        map(vec![
            (
                "cluster",
                map(vec![
                    (
                        "certificate-authority-data",
                        s(&self.certificate_authority_data),
                    ),
                    ("server", s(&self.server)),
                ]),
            ),
            ("name", s(&self.cluster_name)),
        ])
    }

    fn user_entry(&self) -> Value {
        let mut exec = vec![
            ("apiVersion", s(EXEC_API_VERSION)),
            ("command", s(COMMAND)),
            (
                "args",
                Value::Sequence(self.exec_args.iter().map(|a| s(a)).collect()),
            ),
        ];
        if let Some(profile) = &self.profile {
            exec.push((
                "env",
                Value::Sequence(vec![map(vec![
                    ("name", s(env::AWS_PROFILE)),
                    ("value", s(profile)),
                ])]),
            ));
        }
        // The plugin never prompts, but a credential_process behind a profile may (MFA):
        // let kubectl hand it the terminal when there is one, which is also kubectl's default.
        exec.push(("interactiveMode", s("IfAvailable")));
        exec.push(("provideClusterInfo", Value::Bool(false)));
        exec.push(("installHint", s(INSTALL_HINT)));
        map(vec![
            ("name", s(&self.user_name)),
            ("user", map(vec![("exec", map(exec))])),
        ])
    }

    fn context_entry(&self) -> Value {
        map(vec![
            (
                "context",
                map(vec![
                    ("cluster", s(&self.cluster_name)),
                    ("user", s(&self.user_name)),
                ]),
            ),
            ("name", s(&self.context_name)),
        ])
    }
}

/// A new kubeconfig, as awscli starts one.
fn empty_kubeconfig() -> Mapping {
    let mut m = Mapping::new();
    m.insert(s("apiVersion"), s("v1"));
    m.insert(s("clusters"), Value::Sequence(vec![]));
    m.insert(s("contexts"), Value::Sequence(vec![]));
    m.insert(s("current-context"), s(""));
    m.insert(s("kind"), s("Config"));
    m.insert(s("preferences"), Value::Mapping(Mapping::new()));
    m.insert(s("users"), Value::Sequence(vec![]));
    m
}

/// Did the kubeconfig text name a cluster `name`? (for picking among KUBECONFIG files)
pub fn has_cluster(text: &str, name: &str) -> bool {
    let Ok(Value::Mapping(doc)) = serde_yaml::from_str::<Value>(text) else {
        return false;
    };
    let Some(Value::Sequence(clusters)) = doc.get("clusters") else {
        return false;
    };
    clusters
        .iter()
        .any(|c| c.get("name").and_then(Value::as_str) == Some(name))
}

/// Replace the entry with the same `name`, else append.
fn upsert(doc: &mut Mapping, key: &str, entry: Value) -> Result<bool> {
    let slot = doc.entry(s(key)).or_insert(Value::Null);
    if slot.is_null() {
        *slot = Value::Sequence(vec![]);
    }
    let Value::Sequence(list) = slot else {
        bail!("kubeconfig `{key}` is not a list");
    };
    let name = entry.get("name").cloned();
    match list
        .iter_mut()
        .find(|e| e.get("name").is_some() && e.get("name") == name.as_ref())
    {
        Some(existing) => {
            *existing = entry;
            Ok(true)
        }
        None => {
            list.push(entry);
            Ok(false)
        }
    }
}

/// Merge `entries` into the kubeconfig `existing` (empty text = a new file). Pure.
/// Returns the new YAML and whether the cluster entry already existed.
pub fn merge(existing: &str, entries: &Entries) -> Result<(String, bool)> {
    let mut doc = if existing.trim().is_empty() {
        empty_kubeconfig()
    } else {
        match serde_yaml::from_str::<Value>(existing).context("parsing the kubeconfig as YAML")? {
            Value::Mapping(m) => m,
            Value::Null => empty_kubeconfig(),
            _ => bail!("the kubeconfig is not a YAML mapping"),
        }
    };
    for key in ["clusters", "contexts", "users"] {
        if let Some(Value::Sequence(list)) = doc.get(key)
            && list.iter().any(|e| !e.is_mapping())
        {
            bail!("kubeconfig `{key}` has an entry that is not a mapping");
        }
    }
    let updated = upsert(&mut doc, "clusters", entries.cluster_entry())?;
    upsert(&mut doc, "users", entries.user_entry())?;
    upsert(&mut doc, "contexts", entries.context_entry())?;
    doc.insert(s("current-context"), s(&entries.context_name));
    let text = serde_yaml::to_string(&Value::Mapping(doc)).context("rendering the kubeconfig")?;
    Ok((text, updated))
}

/// `--kubeconfig`, else the KUBECONFIG file that already has the cluster, else its first path,
/// else `~/.kube/config` (awscli's KubeconfigSelector).
fn choose_path(flag: Option<PathBuf>, cluster_name: &str) -> Result<PathBuf> {
    if let Some(p) = flag {
        return Ok(p);
    }
    if let Some(list) = env::var(env::KUBECONFIG) {
        let paths: Vec<PathBuf> = std::env::split_paths(&list)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        for p in &paths {
            if fs::read_to_string(p).is_ok_and(|text| has_cluster(&text, cluster_name)) {
                return Ok(p.clone());
            }
        }
        if let Some(first) = paths.into_iter().next() {
            return Ok(first);
        }
    }
    let home = env::var(env::HOME).context("HOME is not set; pass `--kubeconfig`")?;
    Ok(PathBuf::from(home).join(".kube").join("config"))
}

/// `--name` as a cluster name, or as an EKS cluster ARN
/// (`arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME`, EKS API reference, Cluster `arn`), whose
/// name and region are taken from it. Returns the name and the region to use.
pub fn cluster_target(name: &str, region: Option<&str>) -> Result<(String, Option<String>)> {
    if !name.starts_with("arn:") {
        crate::get_token::validate_cluster_name(name).map_err(|e| {
            anyhow::anyhow!("{e}\n\nhint: `--name` takes the cluster's name (`prod`) or its ARN (`arn:aws:eks:REGION:ACCOUNT:cluster/prod`)")
        })?;
        return Ok((name.to_owned(), region.map(str::to_owned)));
    }
    let parts: Vec<&str> = name.splitn(6, ':').collect();
    let (arn_region, resource) = match parts.as_slice() {
        ["arn", partition, "eks", r, account, resource]
            if !partition.is_empty() && !r.is_empty() && !account.is_empty() =>
        {
            (*r, *resource)
        }
        _ => bail!(
            "`--name` `{name}` is not an EKS cluster ARN\n\nhint: a cluster ARN reads `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`; or pass the cluster's name"
        ),
    };
    let Some(cluster) = resource.strip_prefix("cluster/") else {
        bail!(
            "`--name` `{name}` is an EKS ARN but not a cluster's (`{resource}`)\n\nhint: a cluster ARN ends in `:cluster/NAME`"
        );
    };
    crate::get_token::validate_cluster_name(cluster)
        .with_context(|| format!("in the cluster ARN `{name}`"))?;
    if let Some(flag) = region
        && flag != arn_region
    {
        bail!(
            "`--region {flag}` contradicts the cluster ARN `{name}` (region {arn_region})\n\nhint: drop `--region`: the ARN names the region"
        );
    }
    aws::check_region(arn_region)?;
    Ok((cluster.to_owned(), Some(arn_region.to_owned())))
}

pub fn run(mut args: UpdateKubeconfigArgs) -> Result<()> {
    if let Some(region) = &args.aws.region {
        aws::check_region(region)?;
    }
    let (name, region) = cluster_target(&args.name, args.aws.region.as_deref())?;
    args.name = name;
    args.aws.region = region;
    if let Some(role) = &args.aws.role_arn {
        role.parse::<eks_auth::arn::Arn>()
            .with_context(|| format!("invalid `--role-arn` `{role}`"))?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let options = AwsOptions {
        profile: args.aws.profile.clone(),
        region: args.aws.region.clone(),
    };
    let cluster = runtime.block_on(async {
        let ctx = aws::load_context(&options).await?;
        let info = ctx.describe_cluster(&args.name).await?;
        anyhow::Ok((info, ctx.profile().map(str::to_owned)))
    });
    let (info, profile) =
        cluster.with_context(|| format!("looking up EKS cluster `{}`", args.name))?;
    let entries = build_entries(
        &info,
        &EntryOptions {
            role_arn: args.aws.role_arn.clone(),
            profile,
            alias: args.alias.clone(),
            user_alias: args.user_alias.clone(),
        },
    )?;
    let path = choose_path(args.kubeconfig.clone(), &entries.cluster_name)?;
    let existing = match fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => {
            return Err(e).with_context(|| format!("reading kubeconfig `{}`", path.display()));
        }
    };
    let (text, updated) = merge(&existing, &entries)
        .with_context(|| format!("updating kubeconfig `{}`", path.display()))?;
    if args.dry_run {
        return crate::get_token::write_stdout(&text);
    }
    crate::secure_fs::write_atomic(&path, text.as_bytes(), 0o600)
        .with_context(|| format!("writing kubeconfig `{}`", path.display()))?;
    let verb = if updated {
        "Updated context"
    } else {
        "Added new context"
    };
    let prep = if updated { "in" } else { "to" };
    eprintln!("{verb} {} {prep} {}", entries.context_name, path.display());
    Ok(())
}

#[cfg(test)]
mod tests;
