//! Values `__complete` offers without the network: kubeconfig contexts, AWS profiles, AWS regions.
//!
//! Everything here is read from local files or a static table. Unreadable or malformed files are
//! skipped in silence: completion runs on every TAB, and kubectl forwards the helper's stderr to
//! the terminal, where a diagnostic would land in the middle of the user's prompt.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::complete::Candidate;

/// The environment variables completion reads: names from the core's one list.
pub use crate::env as env_vars;

/// What completion reads from the process environment, so tests can give fixed values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// The user's home directory (`~`).
    pub home: Option<PathBuf>,
    /// `$KUBECONFIG`, unsplit; `None` when unset or empty.
    pub kubeconfig: Option<OsString>,
    /// `$AWS_CONFIG_FILE`; `None` when unset or empty.
    pub aws_config_file: Option<PathBuf>,
    /// `$AWS_SHARED_CREDENTIALS_FILE`; `None` when unset or empty.
    pub aws_shared_credentials_file: Option<PathBuf>,
}

impl Env {
    /// Reads the variables of [`env_vars`] and the home directory of this process.
    pub fn from_process() -> Self {
        let var = |name: &str| crate::env::var(name).map(OsString::from);
        Self {
            home: std::env::home_dir(),
            kubeconfig: var(env_vars::KUBECONFIG),
            aws_config_file: var(env_vars::AWS_CONFIG_FILE).map(PathBuf::from),
            aws_shared_credentials_file: var(env_vars::AWS_SHARED_CREDENTIALS_FILE)
                .map(PathBuf::from),
        }
    }

    /// `~/rest` as a path under the home directory; anything else unchanged. A shell hands the
    /// words under completion over unexpanded, so `--kubeconfig ~/k` arrives with its `~`.
    fn expand_home(&self, path: &Path) -> PathBuf {
        match (path.strip_prefix("~"), &self.home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => path.to_path_buf(),
        }
    }

    /// `path` with the home directory written as `~`, for descriptions.
    fn display(&self, path: &Path) -> String {
        match self
            .home
            .as_deref()
            .and_then(|home| path.strip_prefix(home).ok())
        {
            Some(rest) => Path::new("~").join(rest).display().to_string(),
            None => path.display().to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// kubeconfig contexts

/// The kubeconfig files kubectl would read, in its order of precedence: the `--kubeconfig` the
/// user typed, else every path of `$KUBECONFIG`, else `~/.kube/config` (kubectl's
/// `ClientConfigLoadingRules`: an explicit path replaces the list, it is not merged with it).
pub fn kubeconfig_paths(explicit: Option<&str>, env: &Env) -> Vec<PathBuf> {
    if let Some(path) = explicit.filter(|p| !p.is_empty()) {
        return vec![env.expand_home(Path::new(path))];
    }
    if let Some(list) = &env.kubeconfig {
        return std::env::split_paths(list)
            .filter(|p| !p.as_os_str().is_empty())
            .map(|p| env.expand_home(&p))
            .collect();
    }
    env.home
        .iter()
        .map(|home| home.join(".kube").join("config"))
        .collect()
}

/// Only what completion needs of a kubeconfig; serde skips the rest (clusters, users, their
/// certificates) without building it.
#[derive(Debug, Deserialize)]
struct KubeconfigContexts {
    #[serde(default)]
    contexts: Option<Vec<NamedContext>>,
    #[serde(default, rename = "current-context")]
    current_context: Option<String>,
}

#[derive(Debug, Deserialize)]
struct NamedContext {
    name: String,
    #[serde(default)]
    context: Option<ContextFields>,
}

#[derive(Debug, Deserialize)]
struct ContextFields {
    #[serde(default)]
    cluster: Option<String>,
}

/// One context of a kubeconfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeContext {
    pub name: String,
    pub cluster: Option<String>,
}

/// The contexts of one kubeconfig document and its `current-context`.
pub fn parse_kubeconfig_contexts(
    yaml: &str,
) -> Result<(Vec<KubeContext>, Option<String>), serde_yaml::Error> {
    // An empty file is a valid (empty) kubeconfig for kubectl.
    if yaml.trim().is_empty() {
        return Ok((Vec::new(), None));
    }
    let doc: KubeconfigContexts = serde_yaml::from_str(yaml)?;
    let contexts = doc
        .contexts
        .unwrap_or_default()
        .into_iter()
        .map(|c| KubeContext {
            name: c.name,
            cluster: c.context.and_then(|f| f.cluster).filter(|s| !s.is_empty()),
        })
        .collect();
    Ok((contexts, doc.current_context.filter(|s| !s.is_empty())))
}

/// The contexts of the kubeconfig files `paths`, merged as kubectl merges them: the first file
/// that names a context or sets `current-context` wins (kubectl docs, "Organizing Cluster
/// Access Using kubeconfig Files", merging rules). Missing or malformed files are skipped.
pub fn kubeconfig_contexts(paths: &[PathBuf]) -> Vec<Candidate> {
    let mut seen = HashSet::new();
    let mut contexts = Vec::new();
    let mut current = None;
    for path in paths {
        let Ok(text) = std::fs::read_to_string(path) else {
            continue;
        };
        let Ok((found, file_current)) = parse_kubeconfig_contexts(&text) else {
            continue;
        };
        if current.is_none() {
            current = file_current;
        }
        for context in found {
            if seen.insert(context.name.clone()) {
                contexts.push(context);
            }
        }
    }
    contexts
        .into_iter()
        .map(|c| {
            let is_current = current.as_deref() == Some(c.name.as_str());
            let description = match (is_current, c.cluster) {
                (true, Some(cluster)) => format!("current context, cluster {cluster}"),
                (true, None) => "current context".to_owned(),
                (false, Some(cluster)) => format!("cluster {cluster}"),
                (false, None) => String::new(),
            };
            Candidate::new(c.name).description(description)
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// AWS profiles

/// The profile names of a shared AWS `config` file: `[default]` and `[profile NAME]`; other
/// sections (`[sso-session NAME]`, `[services NAME]`) are not profiles, and in this file a bare
/// `[NAME]` other than `default` is not one either ("Format of the config file" in the AWS SDKs
/// and Tools Reference Guide, <https://docs.aws.amazon.com/sdkref/latest/guide/file-format.html>).
pub fn profiles_in_config(text: &str) -> Vec<String> {
    section_names(text)
        .filter_map(|section| {
            if section == "default" {
                return Some("default".to_owned());
            }
            let name = section.strip_prefix("profile")?;
            // `[profile  dev]`: the keyword and the name are separated by whitespace.
            if !name.starts_with(char::is_whitespace) {
                return None;
            }
            valid_profile_name(name.trim()).map(str::to_owned)
        })
        .collect()
}

/// The profile names of a shared AWS `credentials` file: every `[NAME]`, with no `profile`
/// keyword (same guide).
pub fn profiles_in_credentials(text: &str) -> Vec<String> {
    section_names(text)
        .filter_map(|s| valid_profile_name(s).map(str::to_owned))
        .collect()
}

/// A profile name has no whitespace (the SDKs reject `[profile my dev]`).
fn valid_profile_name(name: &str) -> Option<&str> {
    (!name.is_empty() && !name.contains(char::is_whitespace)).then_some(name)
}

/// The trimmed insides of the `[section]` lines of an INI file. Lines starting with whitespace
/// continue a property's value; `#` and `;` start comments, also after the closing bracket.
fn section_names(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        let rest = line.strip_prefix('[')?;
        let end = rest.find(']')?;
        let after = rest[end + 1..].trim();
        if !(after.is_empty() || after.starts_with('#') || after.starts_with(';')) {
            return None;
        }
        Some(rest[..end].trim())
    })
}

/// The profiles of the shared AWS config and credentials files (`$AWS_CONFIG_FILE`, else
/// `~/.aws/config`; `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`), each described
/// by the files that define it.
pub fn aws_profiles(env: &Env) -> Vec<Candidate> {
    let default = |file: &str| env.home.as_ref().map(|h| h.join(".aws").join(file));
    let config = env
        .aws_config_file
        .as_deref()
        .map(|p| env.expand_home(p))
        .or_else(|| default("config"));
    let credentials = env
        .aws_shared_credentials_file
        .as_deref()
        .map(|p| env.expand_home(p))
        .or_else(|| default("credentials"));

    let mut profiles: Vec<(String, Vec<String>)> = Vec::new();
    type Parse = fn(&str) -> Vec<String>;
    let sources: [(Option<PathBuf>, Parse); 2] = [
        (config, profiles_in_config),
        (credentials, profiles_in_credentials),
    ];
    for (path, parse) in sources {
        let Some(path) = path else { continue };
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let shown = env.display(&path);
        for name in parse(&text) {
            match profiles.iter_mut().find(|(n, _)| *n == name) {
                Some((_, files)) => {
                    if !files.contains(&shown) {
                        files.push(shown.clone());
                    }
                }
                None => profiles.push((name, vec![shown.clone()])),
            }
        }
    }
    profiles
        .into_iter()
        .map(|(name, files)| Candidate::new(name).description(files.join(", ")))
        .collect()
}

// ---------------------------------------------------------------------------------------------
// AWS regions

/// The regions of every partition [`crate::arn::PARTITIONS`] names, with their descriptions, as
/// the AWS SDKs' partition data (`partitions.json`, `regions` of each partition) lists them,
/// without the `aws-global`-style pseudo regions. New regions appear there first: `--region`
/// accepts any name, this list only helps typing.
pub const REGIONS: &[(&str, &str)] = &[
    // aws
    ("af-south-1", "Africa (Cape Town)"),
    ("ap-east-1", "Asia Pacific (Hong Kong)"),
    ("ap-east-2", "Asia Pacific (Taipei)"),
    ("ap-northeast-1", "Asia Pacific (Tokyo)"),
    ("ap-northeast-2", "Asia Pacific (Seoul)"),
    ("ap-northeast-3", "Asia Pacific (Osaka)"),
    ("ap-south-1", "Asia Pacific (Mumbai)"),
    ("ap-south-2", "Asia Pacific (Hyderabad)"),
    ("ap-southeast-1", "Asia Pacific (Singapore)"),
    ("ap-southeast-2", "Asia Pacific (Sydney)"),
    ("ap-southeast-3", "Asia Pacific (Jakarta)"),
    ("ap-southeast-4", "Asia Pacific (Melbourne)"),
    ("ap-southeast-5", "Asia Pacific (Malaysia)"),
    ("ap-southeast-6", "Asia Pacific (New Zealand)"),
    ("ap-southeast-7", "Asia Pacific (Thailand)"),
    ("ca-central-1", "Canada (Central)"),
    ("ca-west-1", "Canada West (Calgary)"),
    ("eu-central-1", "Europe (Frankfurt)"),
    ("eu-central-2", "Europe (Zurich)"),
    ("eu-north-1", "Europe (Stockholm)"),
    ("eu-south-1", "Europe (Milan)"),
    ("eu-south-2", "Europe (Spain)"),
    ("eu-west-1", "Europe (Ireland)"),
    ("eu-west-2", "Europe (London)"),
    ("eu-west-3", "Europe (Paris)"),
    ("il-central-1", "Israel (Tel Aviv)"),
    ("me-central-1", "Middle East (UAE)"),
    ("me-south-1", "Middle East (Bahrain)"),
    ("mx-central-1", "Mexico (Central)"),
    ("sa-east-1", "South America (Sao Paulo)"),
    ("us-east-1", "US East (N. Virginia)"),
    ("us-east-2", "US East (Ohio)"),
    ("us-west-1", "US West (N. California)"),
    ("us-west-2", "US West (Oregon)"),
    // aws-cn
    ("cn-north-1", "China (Beijing)"),
    ("cn-northwest-1", "China (Ningxia)"),
    // aws-us-gov
    ("us-gov-east-1", "AWS GovCloud (US-East)"),
    ("us-gov-west-1", "AWS GovCloud (US-West)"),
    // aws-iso, aws-iso-b, aws-iso-e, aws-iso-f
    ("us-iso-east-1", "US ISO East"),
    ("us-iso-west-1", "US ISO WEST"),
    ("us-isob-east-1", "US ISOB East (Ohio)"),
    ("us-isob-west-1", "US ISOB West"),
    ("eu-isoe-west-1", "EU ISOE West"),
    ("us-isof-east-1", "US ISOF EAST"),
    ("us-isof-south-1", "US ISOF SOUTH"),
    // aws-eusc
    ("eusc-de-east-1", "AWS European Sovereign Cloud (Germany)"),
];

/// [`REGIONS`] as candidates.
pub fn regions() -> Vec<Candidate> {
    REGIONS
        .iter()
        .map(|(name, description)| Candidate::new(*name).description(*description))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arn::{PARTITIONS, partition_for_region};

    fn env(home: &Path) -> Env {
        Env {
            home: Some(home.to_path_buf()),
            ..Env::default()
        }
    }

    fn lines(candidates: &[Candidate]) -> Vec<String> {
        candidates.iter().map(Candidate::to_line).collect()
    }

    #[test]
    fn kubeconfig_paths_prefer_the_typed_flag_then_kubeconfig_then_home() {
        let mut e = env(Path::new("/home/u"));
        assert_eq!(
            kubeconfig_paths(None, &e),
            [PathBuf::from("/home/u/.kube/config")]
        );
        e.kubeconfig = Some(OsString::from("/a/one::~/two"));
        assert_eq!(
            kubeconfig_paths(None, &e),
            [PathBuf::from("/a/one"), PathBuf::from("/home/u/two")]
        );
        assert_eq!(
            kubeconfig_paths(Some("~/k.yaml"), &e),
            [PathBuf::from("/home/u/k.yaml")]
        );
        assert_eq!(kubeconfig_paths(Some(""), &e).len(), 2);
        assert!(kubeconfig_paths(None, &Env::default()).is_empty());
    }

    #[test]
    fn parses_only_the_contexts_of_a_kubeconfig() {
        let yaml = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: https://x, certificate-authority-data: AAAA}\n\
                    contexts:\n- name: prod\n  context: {cluster: prod-cluster, user: admin, namespace: kube-system}\n\
                    - name: bare\n- name: empty-cluster\n  context: {cluster: ''}\ncurrent-context: prod\n\
                    users:\n- name: admin\n  user:\n    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubectl-eks_token}\n";
        let (contexts, current) = parse_kubeconfig_contexts(yaml).unwrap();
        assert_eq!(
            contexts,
            [
                KubeContext {
                    name: "prod".into(),
                    cluster: Some("prod-cluster".into())
                },
                KubeContext {
                    name: "bare".into(),
                    cluster: None
                },
                KubeContext {
                    name: "empty-cluster".into(),
                    cluster: None
                },
            ]
        );
        assert_eq!(current.as_deref(), Some("prod"));
        assert_eq!(parse_kubeconfig_contexts("").unwrap(), (vec![], None));
        assert_eq!(
            parse_kubeconfig_contexts("contexts: null\ncurrent-context: ''\n").unwrap(),
            (vec![], None)
        );
        assert!(parse_kubeconfig_contexts("contexts: [").is_err());
    }

    #[test]
    fn merges_kubeconfig_files_first_one_wins_and_skips_broken_ones() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a");
        let b = dir.path().join("b");
        let broken = dir.path().join("broken");
        std::fs::write(
            &a,
            "contexts:\n- name: dev\n  context: {cluster: dev-a}\n- name: prod\n  context: {cluster: prod}\n",
        )
        .unwrap();
        std::fs::write(
            &b,
            "current-context: prod\ncontexts:\n- name: dev\n  context: {cluster: dev-b}\n- name: staging\n",
        )
        .unwrap();
        std::fs::write(&broken, "contexts: [\n").unwrap();
        let paths = [broken, dir.path().join("missing"), a, b];
        assert_eq!(
            lines(&kubeconfig_contexts(&paths)),
            [
                "dev\tcluster dev-a",
                "prod\tcurrent context, cluster prod",
                "staging"
            ]
        );
    }

    #[test]
    fn config_profiles_are_default_and_profile_sections() {
        let text = "# comment\n[default]\nregion = eu-west-1\n[profile dev]\nsso_session = corp\n\
                    [profile   spaced  ] ; comment\n[sso-session corp]\nsso_region = us-east-1\n\
                    [services local]\n[bare]\n[profileX]\n[profile default]\n[profile two words]\n\
                    \x20 [profile indented-is-a-continuation]\n[profile trailing] junk\n";
        assert_eq!(
            profiles_in_config(text),
            ["default", "dev", "spaced", "default"]
        );
    }

    #[test]
    fn credentials_profiles_are_bare_sections() {
        let text = "[default]\naws_access_key_id = AKIDEXAMPLE\n[ci] # robot\n[profile dev]\n";
        assert_eq!(profiles_in_credentials(text), ["default", "ci"]);
    }

    #[test]
    fn aws_profiles_merge_config_and_credentials_under_home() {
        let home = tempfile::tempdir().unwrap();
        let aws = home.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(aws.join("config"), "[default]\n[profile dev]\n").unwrap();
        std::fs::write(aws.join("credentials"), "[default]\n[ci]\n").unwrap();
        assert_eq!(
            lines(&aws_profiles(&env(home.path()))),
            [
                "default\t~/.aws/config, ~/.aws/credentials",
                "dev\t~/.aws/config",
                "ci\t~/.aws/credentials"
            ]
        );
    }

    #[test]
    fn aws_profiles_honour_the_file_variables() {
        let home = tempfile::tempdir().unwrap();
        let other = tempfile::tempdir().unwrap();
        let aws = home.path().join(".aws");
        std::fs::create_dir(&aws).unwrap();
        std::fs::write(aws.join("config"), "[profile ignored]\n").unwrap();
        std::fs::write(aws.join("credentials"), "[ignored-too]\n").unwrap();
        let config = other.path().join("cfg");
        std::fs::write(&config, "[profile team]\n").unwrap();
        std::fs::write(home.path().join("creds"), "[robot]\n").unwrap();
        let e = Env {
            aws_config_file: Some(config.clone()),
            aws_shared_credentials_file: Some(PathBuf::from("~/creds")),
            ..env(home.path())
        };
        assert_eq!(
            lines(&aws_profiles(&e)),
            [
                format!("team\t{}", config.display()),
                "robot\t~/creds".to_owned()
            ]
        );
        assert!(aws_profiles(&Env::default()).is_empty());
    }

    #[test]
    fn every_region_belongs_to_a_known_partition_and_every_partition_has_one() {
        for (region, _) in REGIONS {
            assert!(partition_for_region(region).is_some(), "{region}");
        }
        for partition in PARTITIONS {
            assert!(
                REGIONS
                    .iter()
                    .any(|(r, _)| partition_for_region(r) == Some(partition)),
                "{partition}"
            );
        }
        let names: HashSet<_> = REGIONS.iter().map(|(r, _)| r).collect();
        assert_eq!(names.len(), REGIONS.len());
        assert_eq!(regions()[0].to_line(), "af-south-1\tAfrica (Cape Town)");
    }
}
