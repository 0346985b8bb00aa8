//! The presets of `kubectl eks-grant add --preset`: what RBAC a group gets, and the objects that
//! grant it, named so that `list` and `revoke` find them again.
//!
//! Naming: a preset with its own rules creates the ClusterRole `eks-grant:<preset>`; every preset
//! binds a group the user named with `eks-grant:<group>:<preset>`, and one of its own default
//! groups (see [`Preset::default_group`]) with the group's name, which already says the preset and
//! the scope (one ClusterRoleBinding, or one RoleBinding in each namespace). Every object carries
//! the label
//! `app.kubernetes.io/managed-by=kubectl-eks-grant` and the annotations `kubectl-eks/preset` and
//! (bindings) `kubectl-eks/group`.

use std::collections::BTreeMap;

use k8s_openapi::api::rbac::v1::{
    ClusterRole, ClusterRoleBinding, PolicyRule, RoleBinding, RoleRef, Subject,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{RBAC_GROUP, RbacObjects, builtin_cluster_roles};

/// Prefix of every object name the presets create.
pub const NAME_PREFIX: &str = "eks-grant:";
/// Label key marking the objects `kubectl eks-grant` manages.
pub const MANAGED_BY_LABEL: &str = "app.kubernetes.io/managed-by";
/// Value of [`MANAGED_BY_LABEL`].
pub const MANAGED_BY_VALUE: &str = "kubectl-eks-grant";
/// Annotation naming the preset an object belongs to.
pub const PRESET_ANNOTATION: &str = "kubectl-eks/preset";
/// Annotation naming the group a binding grants to.
pub const GROUP_ANNOTATION: &str = "kubectl-eks/group";

/// Errors building a preset's objects.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PresetError {
    #[error("unknown preset `{name}`\n\nhint: presets are {known}")]
    Unknown { name: String, known: String },
    #[error("preset `{preset}` is cluster-wide and takes no namespace\n\nhint: {hint}")]
    NotNamespaced {
        preset: &'static str,
        hint: &'static str,
    },
    #[error("group `{group}` cannot name an RBAC binding: {why}\n\nhint: pick another --group")]
    InvalidGroup { group: String, why: &'static str },
    #[error(
        "namespace `{0}` is not a valid namespace name (lower-case letters, digits and `-`, starting and ending with a letter or digit, at most 63 characters)"
    )]
    InvalidNamespace(String),
}

/// Which ClusterRole a preset binds.
#[derive(Clone, Debug, PartialEq)]
pub enum PresetRole {
    /// Rules of its own, in the ClusterRole `eks-grant:<preset>`.
    Own(Vec<PolicyRule>),
    /// A built-in ClusterRole of every cluster (`view`, `edit`, `admin`, `cluster-admin`).
    Builtin(&'static str),
}

/// A preset of `kubectl eks-grant`.
#[derive(Clone, Debug, PartialEq)]
pub struct Preset {
    pub name: &'static str,
    pub description: &'static str,
    /// What the user should know before granting it (cluster-wide, or without `--namespace`).
    pub caveat: Option<&'static str>,
    /// What the user should know before granting a namespaced preset with `--namespace`, when it
    /// differs from [`Preset::caveat`]; see [`Preset::caveat_for`].
    pub namespaced_caveat: Option<&'static str>,
    /// Accepts `--namespace` (RoleBindings in each namespace instead of a ClusterRoleBinding).
    pub namespaced: bool,
    pub role: PresetRole,
}

/// The grant an object was created for, read back from its metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManagedGrant {
    pub preset: String,
    /// The group of a binding; `None` on a preset's own ClusterRole (shared by all groups).
    pub group: Option<String>,
}

/// The cluster-wide default group of the preset called `preset` (what `kubectl eks-whoami`
/// suggests): [`Preset::default_group`] without namespaces; `eks-grant:<preset>` for a name that
/// is no preset.
pub fn default_group(preset: &str) -> String {
    self::preset(preset).map_or_else(
        |_| format!("{NAME_PREFIX}{preset}"),
        |p| p.default_group(&[]),
    )
}

/// Suffix of the cluster-wide default group of a namespaced preset. It cannot be mistaken for a
/// namespace scope: those follow `@`, and a namespace name has no `:`.
const CLUSTER_WIDE: &str = ":cluster-wide";

/// The binding name for a group the user named: `eks-grant:<group>:<preset>`.
pub fn binding_name(group: &str, preset: &str) -> String {
    format!("{NAME_PREFIX}{group}:{preset}")
}

/// Whether `kubectl eks-grant` manages the object with this metadata, and for which grant.
pub fn managed_grant(meta: &ObjectMeta) -> Option<ManagedGrant> {
    let labels = meta.labels.as_ref()?;
    if labels.get(MANAGED_BY_LABEL).map(String::as_str) != Some(MANAGED_BY_VALUE) {
        return None;
    }
    let annotations = meta.annotations.as_ref()?;
    Some(ManagedGrant {
        preset: annotations.get(PRESET_ANNOTATION)?.clone(),
        group: annotations.get(GROUP_ANNOTATION).cloned(),
    })
}

const READ: [&str; 3] = ["get", "list", "watch"];

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| (*s).to_owned()).collect()
}

fn read_rule(groups: &[&str], resources: &[&str]) -> PolicyRule {
    PolicyRule {
        api_groups: Some(strings(groups)),
        resources: Some(strings(resources)),
        verbs: strings(&READ),
        ..PolicyRule::default()
    }
}

/// The seed recipe's ClusterRole, exactly.
fn cluster_reader_rules() -> Vec<PolicyRule> {
    vec![read_rule(&["", "extensions", "apps", "*"], &["*"])]
}

/// Every built-in resource that a Kubernetes 1.33 API server (EKS 1.33) serves with the `list`
/// verb under default feature gates, by API group: what `kubectl api-resources --verbs=list -o
/// wide` prints on a cluster without CRDs, minus `secrets`. Beta APIs that are off by default
/// (`resource.k8s.io`, `storage.k8s.io` volumeattributesclasses, `coordination.k8s.io`
/// leasecandidates, `certificates.k8s.io` clustertrustbundles) are not served and not listed;
/// `extensions` serves nothing since 1.22. Keep this in step with the Kubernetes versions EKS
/// supports.
const BUILTIN_READABLE: &[(&str, &[&str])] = &[
    (
        "",
        &[
            "componentstatuses",
            "configmaps",
            "endpoints",
            "events",
            "limitranges",
            "namespaces",
            "nodes",
            "persistentvolumeclaims",
            "persistentvolumes",
            "pods",
            "pods/log",
            "podtemplates",
            "replicationcontrollers",
            "resourcequotas",
            "serviceaccounts",
            "services",
        ],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "mutatingwebhookconfigurations",
            "validatingadmissionpolicies",
            "validatingadmissionpolicybindings",
            "validatingwebhookconfigurations",
        ],
    ),
    ("apiextensions.k8s.io", &["customresourcedefinitions"]),
    ("apiregistration.k8s.io", &["apiservices"]),
    (
        "apps",
        &[
            "controllerrevisions",
            "daemonsets",
            "deployments",
            "replicasets",
            "statefulsets",
        ],
    ),
    ("autoscaling", &["horizontalpodautoscalers"]),
    ("batch", &["cronjobs", "jobs"]),
    ("certificates.k8s.io", &["certificatesigningrequests"]),
    ("coordination.k8s.io", &["leases"]),
    ("discovery.k8s.io", &["endpointslices"]),
    ("events.k8s.io", &["events"]),
    (
        "flowcontrol.apiserver.k8s.io",
        &["flowschemas", "prioritylevelconfigurations"],
    ),
    (
        "networking.k8s.io",
        &[
            "ingressclasses",
            "ingresses",
            "ipaddresses",
            "networkpolicies",
            "servicecidrs",
        ],
    ),
    ("node.k8s.io", &["runtimeclasses"]),
    ("policy", &["poddisruptionbudgets"]),
    (
        "rbac.authorization.k8s.io",
        &[
            "clusterrolebindings",
            "clusterroles",
            "rolebindings",
            "roles",
        ],
    ),
    ("scheduling.k8s.io", &["priorityclasses"]),
    (
        "storage.k8s.io",
        &[
            "csidrivers",
            "csinodes",
            "csistoragecapacities",
            "storageclasses",
            "volumeattachments",
        ],
    ),
];

/// RBAC cannot subtract, so "everything but Secrets" is an enumeration: one rule per built-in API
/// group ([`BUILTIN_READABLE`]), `pods/log`, and the `status` and `scale` subresources of those
/// groups. Deliberately absent: `secrets`, and the subresources that act rather than read
/// (`pods/exec`, `pods/attach`, `pods/portforward`, `*/proxy`), which `get` would open over
/// WebSocket.
fn cluster_reader_no_secrets_rules() -> Vec<PolicyRule> {
    let mut rules: Vec<PolicyRule> = BUILTIN_READABLE
        .iter()
        .map(|(group, resources)| read_rule(&[group], resources))
        .collect();
    let groups: Vec<&str> = BUILTIN_READABLE.iter().map(|(g, _)| *g).collect();
    rules.push(read_rule(&groups, &["*/scale", "*/status"]));
    rules
}

const CLUSTER_READER_CAVEAT: &str = "reads Secrets in every namespace (service account tokens, \
passwords, TLS keys) and gets every subresource, including pods/exec, pods/attach, \
pods/portforward and nodes/proxy: over WebSocket `get` on pods/exec is enough to run commands in \
pods (kubernetes/kubernetes#78741). Prefer cluster-reader-no-secrets or view for read-only access.";

/// The presets, in the order `kubectl eks-grant presets` shows them.
pub fn presets() -> Vec<Preset> {
    vec![
        Preset {
            name: "cluster-reader",
            description: "get, list and watch every resource in the \"\", extensions, apps and all \
                other API groups, cluster-wide (the usual blog recipe's ClusterRole)",
            caveat: Some(CLUSTER_READER_CAVEAT),
            namespaced_caveat: None,
            namespaced: false,
            role: PresetRole::Own(cluster_reader_rules()),
        },
        Preset {
            name: "cluster-reader-no-secrets",
            description: "get, list and watch every built-in resource of Kubernetes 1.33 except \
                Secrets, cluster-wide, plus pods/log and the status and scale subresources",
            caveat: Some(
                "RBAC has no deny rule, so this is an explicit list of the built-in resources: \
                 custom resources (CRDs) and aggregated APIs such as metrics.k8s.io are not \
                 readable until you grant them, and resources that later Kubernetes versions add \
                 are missing until the list is updated.",
            ),
            namespaced_caveat: None,
            namespaced: false,
            role: PresetRole::Own(cluster_reader_no_secrets_rules()),
        },
        Preset {
            name: "view",
            description: "the built-in view ClusterRole: read most namespaced objects, but not \
                Secrets, Roles or RoleBindings; in each --namespace, or in all namespaces without",
            caveat: Some(
                "view reads no cluster-scoped resources such as nodes, persistentvolumes or \
                 storageclasses, and custom resources only when their ClusterRoles carry the \
                 rbac.authorization.k8s.io/aggregate-to-view label.",
            ),
            namespaced_caveat: None,
            namespaced: true,
            role: PresetRole::Builtin("view"),
        },
        Preset {
            name: "edit",
            description: "the built-in edit ClusterRole: create, change and delete most namespaced \
                objects, including Secrets and pods/exec, but not Roles or RoleBindings; in each \
                --namespace, or in all namespaces without",
            caveat: Some(
                "edit reads Secrets and can run pods as any service account of its namespaces, so \
                 it holds every permission those service accounts have; without --namespace that \
                 includes the service accounts of kube-system.",
            ),
            namespaced_caveat: Some(
                "edit reads the Secrets of its namespaces and can run pods as any of their service \
                 accounts, so it holds every permission those service accounts have.",
            ),
            namespaced: true,
            role: PresetRole::Builtin("edit"),
        },
        Preset {
            name: "admin",
            description: "the built-in admin ClusterRole: edit plus Roles and RoleBindings, to \
                delegate access within a namespace; in each --namespace, or in all namespaces \
                without",
            caveat: Some(
                "without --namespace, admin applies in every namespace including kube-system, \
                 which is almost cluster-admin: it reads every Secret, runs pods as any service \
                 account and grants roles in any namespace. Give --namespace.",
            ),
            namespaced_caveat: Some(
                "admin reads the Secrets of its namespaces, runs pods as any of their service \
                 accounts and can grant anyone any role it holds there (RoleBindings), so whoever \
                 holds it decides who else gets in to those namespaces.",
            ),
            namespaced: true,
            role: PresetRole::Builtin("admin"),
        },
        Preset {
            name: "cluster-admin",
            description: "the built-in cluster-admin ClusterRole: every verb on every resource and \
                non-resource URL, cluster-wide",
            caveat: Some(
                "full control of the cluster, including RBAC and the aws-auth ConfigMap. Unlike \
                 mapping to system:masters it is granted through RBAC and can be revoked.",
            ),
            namespaced_caveat: None,
            namespaced: false,
            role: PresetRole::Builtin("cluster-admin"),
        },
    ]
}

/// The preset called `name`.
pub fn preset(name: &str) -> Result<Preset, PresetError> {
    let all = presets();
    let known = all.iter().map(|p| p.name).collect::<Vec<_>>().join(", ");
    all.into_iter()
        .find(|p| p.name == name)
        .ok_or(PresetError::Unknown {
            name: name.to_owned(),
            known,
        })
}

/// A Kubernetes namespace name: an RFC 1123 label.
fn valid_namespace(ns: &str) -> bool {
    let b = ns.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn metadata(
    name: String,
    namespace: Option<&str>,
    preset: &str,
    group: Option<&str>,
) -> ObjectMeta {
    let mut annotations = BTreeMap::from([(PRESET_ANNOTATION.to_owned(), preset.to_owned())]);
    if let Some(group) = group {
        annotations.insert(GROUP_ANNOTATION.to_owned(), group.to_owned());
    }
    ObjectMeta {
        name: Some(name),
        namespace: namespace.map(str::to_owned),
        labels: Some(BTreeMap::from([(
            MANAGED_BY_LABEL.to_owned(),
            MANAGED_BY_VALUE.to_owned(),
        )])),
        annotations: Some(annotations),
        ..ObjectMeta::default()
    }
}

impl Preset {
    /// Whether the preset brings its own ClusterRole (else it binds a built-in one).
    pub fn creates_cluster_role(&self) -> bool {
        matches!(self.role, PresetRole::Own(_))
    }

    /// The caveat for a grant of this preset in `namespaces` (none: cluster-wide, or every
    /// namespace): the one meant for `--namespace` when there are namespaces and it has one.
    pub fn caveat_for(&self, namespaces: &[String]) -> Option<&'static str> {
        if namespaces.is_empty() {
            self.caveat
        } else {
            self.namespaced_caveat.or(self.caveat)
        }
    }

    /// The group `kubectl eks-grant add --preset P` puts a principal in when no `--group` is given.
    ///
    /// One group per preset *and scope*, so that a group always means exactly one grant and
    /// whoever shares it has exactly the same access: putting a second principal in it can never
    /// change what the first may do (issue 15: with one `eks-grant:view` for every scope, granting
    /// view cluster-wide to one principal widened a principal granted view in one namespace). Per
    /// principal would also never collide, but would make one binding per principal and hide
    /// which principals share a grant; per preset and scope keeps the names short and readable:
    ///
    /// - a cluster-wide preset (cluster-reader, cluster-reader-no-secrets, cluster-admin) has one
    ///   scope: `eks-grant:<preset>`;
    /// - a namespaced preset without namespaces (every namespace): `eks-grant:<preset>:cluster-wide`;
    /// - a namespaced preset in namespaces: `eks-grant:<preset>@<ns>[,<ns>...]`, sorted. `@` and
    ///   `,` occur in no namespace name, so no two scopes share a name.
    ///
    /// `eks-grant:<preset>` of a namespaced preset (the one default group of earlier versions,
    /// bound at every scope) is never a default group any more.
    pub fn default_group(&self, namespaces: &[String]) -> String {
        let base = format!("{NAME_PREFIX}{}", self.name);
        if !self.namespaced {
            return base;
        }
        if namespaces.is_empty() {
            return base + CLUSTER_WIDE;
        }
        let mut sorted: Vec<&str> = namespaces.iter().map(String::as_str).collect();
        sorted.sort_unstable();
        sorted.dedup();
        format!("{base}@{}", sorted.join(","))
    }

    /// Whether `group` is one of this preset's default groups ([`Preset::default_group`]).
    pub fn is_default_group(&self, group: &str) -> bool {
        let Some(rest) = group
            .strip_prefix(NAME_PREFIX)
            .and_then(|g| g.strip_prefix(self.name))
        else {
            return false;
        };
        if !self.namespaced {
            return rest.is_empty();
        }
        rest == CLUSTER_WIDE || rest.strip_prefix('@').is_some_and(|ns| !ns.is_empty())
    }

    /// The name of the binding(s) that grant this preset to `group`: the group's own name for a
    /// default group (it already says preset and scope: `eks-grant:view@team-a`), else
    /// [`binding_name`] (`eks-grant:<group>:<preset>`).
    pub fn binding_name(&self, group: &str) -> String {
        if self.is_default_group(group) {
            group.to_owned()
        } else {
            binding_name(group, self.name)
        }
    }

    /// The ClusterRole the bindings refer to: `eks-grant:<preset>` or the built-in's name.
    pub fn cluster_role_name(&self) -> String {
        match &self.role {
            PresetRole::Own(_) => format!("{NAME_PREFIX}{}", self.name),
            PresetRole::Builtin(name) => (*name).to_owned(),
        }
    }

    /// The rules the preset grants; for a built-in role, as aggregation computes them on a fresh
    /// cluster.
    pub fn rules(&self) -> Vec<PolicyRule> {
        match &self.role {
            PresetRole::Own(rules) => rules.clone(),
            PresetRole::Builtin(name) => {
                let objects = RbacObjects {
                    cluster_roles: builtin_cluster_roles(),
                    ..RbacObjects::default()
                };
                objects
                    .aggregated()
                    .into_iter()
                    .find(|r| r.metadata.name.as_deref() == Some(*name))
                    .and_then(|r| r.rules)
                    .unwrap_or_default()
            }
        }
    }

    /// The objects that grant this preset to `group`: the preset's own ClusterRole (if any), and a
    /// ClusterRoleBinding, or with `namespaces` one RoleBinding per namespace (sorted, without
    /// duplicates). Names are deterministic, see the module documentation.
    pub fn objects(&self, group: &str, namespaces: &[String]) -> Result<RbacObjects, PresetError> {
        if group.is_empty() {
            return Err(PresetError::InvalidGroup {
                group: group.into(),
                why: "it is empty",
            });
        }
        if group.contains('/') || group.contains('%') {
            return Err(PresetError::InvalidGroup {
                group: group.into(),
                why: "RBAC object names may not contain `/` or `%`",
            });
        }
        if !namespaces.is_empty() && !self.namespaced {
            let hint = if self.name == "cluster-admin" {
                "for full control of a namespace use --preset admin --namespace NS"
            } else {
                "for read access in a namespace use --preset view --namespace NS"
            };
            return Err(PresetError::NotNamespaced {
                preset: self.name,
                hint,
            });
        }
        if let Some(bad) = namespaces.iter().find(|ns| !valid_namespace(ns)) {
            return Err(PresetError::InvalidNamespace(bad.clone()));
        }

        let mut objects = RbacObjects::default();
        let role_name = self.cluster_role_name();
        if let PresetRole::Own(rules) = &self.role {
            objects.cluster_roles.push(ClusterRole {
                metadata: metadata(role_name.clone(), None, self.name, None),
                rules: Some(rules.clone()),
                aggregation_rule: None,
            });
        }
        let role_ref = RoleRef {
            api_group: RBAC_GROUP.into(),
            kind: "ClusterRole".into(),
            name: role_name,
        };
        let subjects = Some(vec![Subject {
            api_group: Some(RBAC_GROUP.into()),
            kind: "Group".into(),
            name: group.into(),
            namespace: None,
        }]);
        let name = self.binding_name(group);
        if namespaces.is_empty() {
            objects.cluster_role_bindings.push(ClusterRoleBinding {
                metadata: metadata(name, None, self.name, Some(group)),
                role_ref,
                subjects,
            });
        } else {
            let mut sorted: Vec<&String> = namespaces.iter().collect();
            sorted.sort();
            sorted.dedup();
            for ns in sorted {
                objects.role_bindings.push(RoleBinding {
                    metadata: metadata(name.clone(), Some(ns), self.name, Some(group)),
                    role_ref: role_ref.clone(),
                    subjects: subjects.clone(),
                });
            }
        }
        Ok(objects)
    }
}

#[cfg(test)]
mod tests;
