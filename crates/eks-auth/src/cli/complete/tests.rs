use std::path::{Path, PathBuf};

use clap::{Arg, CommandFactory, Parser, Subcommand};

use super::*;
use crate::cli::{KubeArgs, OutputArgs};

/// A plugin shaped like eks-grant, with eks-token's AWS flags.
#[derive(Debug, Parser)]
#[command(name = "kubectl eks-test")]
struct Cli {
    #[command(flatten)]
    kube: KubeArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// AWS profile.
    #[arg(long, global = true)]
    profile: Option<String>,
    /// AWS region.
    #[arg(long, global = true)]
    region: Option<String>,
    #[command(subcommand)]
    command: Sub,
}

#[derive(Debug, Subcommand)]
enum Sub {
    /// Map an ARN.
    Add {
        /// IAM ARN.
        arn: String,
        /// A preset.
        #[arg(long)]
        preset: Option<String>,
        /// A group (repeatable).
        #[arg(long = "group")]
        groups: Vec<String>,
        /// A namespace (repeatable).
        #[arg(short = 'n', long = "namespace")]
        namespaces: Vec<String>,
        /// Write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// List the mappings.
    List,
    #[command(hide = true)]
    Secret,
    /// Print a shell completion script.
    Completion {
        #[arg(value_enum)]
        shell: Shell,
    },
}

#[derive(Debug, Clone, clap::ValueEnum)]
enum Shell {
    Bash,
    Zsh,
    Fish,
}

fn completer() -> Completer {
    Completer::new(Cli::command()).values("preset", |_| {
        vec![
            Candidate::new("view").description("read most objects in a namespace."),
            Candidate::new("cluster-admin").description("everything\nsecond line"),
        ]
    })
}

fn complete_in(env: &Env, words: &[&str]) -> String {
    let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
    completer().complete(&words, env).to_string()
}

fn complete(words: &[&str]) -> String {
    complete_in(&Env::default(), words)
}

const ROOT_LONG_FLAGS: &str = "\
--kubeconfig\tPath to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`)
--context\tThe kubeconfig context to use (default: the current context)
--cluster\tThe kubeconfig cluster to use (default: the context's)
--user\tThe kubeconfig user to use (default: the context's)
--request-timeout\tHow long to wait for one server request: `0` (no limit), or a duration (`30s`, `1m`, `1m30s`; a bare number is seconds)
--output\tOutput format
--profile\tAWS profile
--region\tAWS region
--help\tPrint help
";

#[test]
fn offers_visible_subcommands_with_their_about() {
    assert_eq!(
        complete(&[""]),
        "add\tMap an ARN\n\
         list\tList the mappings\n\
         completion\tPrint a shell completion script\n\
         help\tPrint this message or the help of the given subcommand(s)\n\
         :4\n"
    );
    assert_eq!(complete(&["l"]), "list\tList the mappings\n:4\n");
    assert_eq!(complete(&["x"]), ":4\n");
    assert_eq!(complete(&[]), complete(&[""]));
}

#[test]
fn offers_flags_when_the_word_starts_with_a_dash() {
    assert_eq!(complete(&["--"]), format!("{ROOT_LONG_FLAGS}:4\n"));
    assert_eq!(
        complete(&["-"]),
        "--kubeconfig\tPath to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`)\n\
         --context\tThe kubeconfig context to use (default: the current context)\n\
         --cluster\tThe kubeconfig cluster to use (default: the context's)\n\
         --user\tThe kubeconfig user to use (default: the context's)\n\
         --request-timeout\tHow long to wait for one server request: `0` (no limit), or a duration (`30s`, `1m`, `1m30s`; a bare number is seconds)\n\
         --output\tOutput format\n\
         -o\tOutput format\n\
         --profile\tAWS profile\n\
         --region\tAWS region\n\
         --help\tPrint help\n\
         -h\tPrint help\n\
         :4\n"
    );
    assert_eq!(
        complete(&["--co"]),
        "--context\tThe kubeconfig context to use (default: the current context)\n:4\n"
    );
}

#[test]
fn subcommand_flags_include_the_global_ones_and_skip_given_ones_unless_repeatable() {
    assert_eq!(
        complete(&["add", "--"]),
        format!(
            "--preset\tA preset\n\
             --group\tA group (repeatable)\n\
             --namespace\tA namespace (repeatable)\n\
             --dry-run\tWrite nothing\n\
             {ROOT_LONG_FLAGS}:4\n"
        )
    );
    assert_eq!(
        complete(&[
            "add",
            "--dry-run",
            "--preset=view",
            "--group",
            "g",
            "-n",
            "ns",
            "--context",
            "c",
            "-ojson",
            "--"
        ]),
        "--group\tA group (repeatable)\n\
         --namespace\tA namespace (repeatable)\n\
         --kubeconfig\tPath to the kubeconfig file (default: `$KUBECONFIG`, else `~/.kube/config`)\n\
         --cluster\tThe kubeconfig cluster to use (default: the context's)\n\
         --user\tThe kubeconfig user to use (default: the context's)\n\
         --request-timeout\tHow long to wait for one server request: `0` (no limit), or a duration (`30s`, `1m`, `1m30s`; a bare number is seconds)\n\
         --profile\tAWS profile\n\
         --region\tAWS region\n\
         --help\tPrint help\n\
         :4\n"
    );
}

#[test]
fn output_values_come_from_the_value_enum() {
    let all = "table\tA human-readable table (the default)\n\
               json\tOne JSON document\n\
               yaml\tOne YAML document\n\
               :4\n";
    assert_eq!(complete(&["-o", ""]), all);
    assert_eq!(complete(&["list", "--output", ""]), all);
    assert_eq!(complete(&["-o", "j"]), "json\tOne JSON document\n:4\n");
    // `--flag=` and `-o=`: bare values, the shells put the flag back themselves.
    assert_eq!(complete(&["--output=y"]), "yaml\tOne YAML document\n:4\n");
    assert_eq!(complete(&["-o=y"]), "yaml\tOne YAML document\n:4\n");
    // `-oy`: the value is glued to the flag, so is the candidate.
    assert_eq!(complete(&["add", "-oy"]), "-oyaml\tOne YAML document\n:4\n");
    assert_eq!(complete(&["-o"]), "-o\tOutput format\n:4\n");
    assert_eq!(complete(&["--nope=x"]), ":4\n");
}

#[test]
fn plugin_values_and_positional_values() {
    assert_eq!(
        complete(&["add", "arn:aws:iam::1:user/a", "--preset", ""]),
        "view\tread most objects in a namespace\ncluster-admin\teverything\n:4\n"
    );
    assert_eq!(
        complete(&["add", "--preset", "c"]),
        "cluster-admin\teverything\n:4\n"
    );
    assert_eq!(complete(&["completion", ""]), "bash\nzsh\nfish\n:4\n");
    // The ARN positional has no known values and is no file.
    assert_eq!(complete(&["add", ""]), ":4\n");
    assert_eq!(complete(&["add", "arn", ""]), ":4\n");
    // `help` knows the subcommands.
    assert_eq!(complete(&["help", "a"]), "add\tMap an ARN\n:4\n");
}

#[test]
fn kubeconfig_value_falls_back_to_file_names() {
    assert_eq!(complete(&["--kubeconfig", ""]), ":0\n");
    assert_eq!(complete(&["--kubeconfig", "/tmp/x"]), ":0\n");
    assert_eq!(complete(&["list", "--kubeconfig=~/"]), ":0\n");
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

#[test]
fn contexts_come_from_the_typed_kubeconfig_else_kubeconfig_else_home() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    write(
        &home.join(".kube/config"),
        "current-context: home-ctx\ncontexts:\n- name: home-ctx\n  context: {cluster: h}\n",
    );
    let a = write(
        &dir.path().join("a.yaml"),
        "contexts:\n- name: prod\n  context: {cluster: prod-eks}\n- name: dev\n",
    );
    let b = write(
        &dir.path().join("b.yaml"),
        "current-context: dev\ncontexts:\n- name: prod\n  context: {cluster: other}\n- name: preview\n",
    );
    let typed = write(
        &home.join("typed.yaml"),
        "contexts:\n- name: typed\n  context: {cluster: t}\n",
    );

    let mut env = Env {
        home: Some(home.clone()),
        ..Env::default()
    };
    assert_eq!(
        complete_in(&env, &["--context", ""]),
        "home-ctx\tcurrent context, cluster h\n:4\n"
    );

    env.kubeconfig = Some(std::env::join_paths([&a, &b]).unwrap());
    assert_eq!(
        complete_in(&env, &["add", "--context", ""]),
        "prod\tcluster prod-eks\ndev\tcurrent context\npreview\n:4\n"
    );
    assert_eq!(
        complete_in(&env, &["--context=pr"]),
        "prod\tcluster prod-eks\npreview\n:4\n"
    );

    // A typed --kubeconfig (before or after the subcommand, `~` expanded) replaces $KUBECONFIG.
    assert_eq!(
        complete_in(
            &env,
            &["--kubeconfig", "~/typed.yaml", "list", "--context", ""]
        ),
        "typed\tcluster t\n:4\n"
    );
    assert_eq!(
        complete_in(
            &env,
            &[
                &format!("--kubeconfig={}", typed.display()),
                "--context",
                "t"
            ]
        ),
        "typed\tcluster t\n:4\n"
    );
    // A missing file: nothing, and no file names either.
    assert_eq!(
        complete_in(&env, &["--kubeconfig", "/nonexistent", "--context", ""]),
        ":4\n"
    );
}

#[test]
fn profiles_and_regions() {
    let dir = tempfile::tempdir().unwrap();
    write(
        &dir.path().join(".aws/config"),
        "[default]\nregion = eu-west-1\n[profile dev]\n[sso-session corp]\n",
    );
    write(&dir.path().join(".aws/credentials"), "[ci]\n");
    let env = Env {
        home: Some(dir.path().to_path_buf()),
        ..Env::default()
    };
    assert_eq!(
        complete_in(&env, &["--profile", ""]),
        "default\t~/.aws/config\ndev\t~/.aws/config\nci\t~/.aws/credentials\n:4\n"
    );
    assert_eq!(
        complete_in(&env, &["list", "--profile=d"]),
        "default\t~/.aws/config\ndev\t~/.aws/config\n:4\n"
    );
    assert_eq!(
        complete(&["--region", "eu-c"]),
        "eu-central-1\tEurope (Frankfurt)\neu-central-2\tEurope (Zurich)\n:4\n"
    );
    assert_eq!(complete(&["--region", "xx"]), ":4\n");
}

#[test]
fn words_after_double_dash_are_positionals() {
    assert_eq!(complete(&["add", "--", "--"]), ":4\n");
    assert_eq!(complete(&["--", "l"]), ":4\n");
}

#[test]
fn unknown_flags_do_not_derail_the_walk() {
    assert_eq!(complete(&["list", "-x", ""]), ":4\n");
    assert_eq!(
        complete(&["--unknown", "l"]),
        "list\tList the mappings\n:4\n"
    );
}

#[test]
fn descriptions_are_one_line_and_values_with_line_breaks_are_dropped() {
    let c = Candidate::new("a").description("first.\nsecond");
    assert_eq!(c.to_line(), "a\tfirst");
    assert_eq!(Candidate::new("a").description("  ").to_line(), "a");
    assert_eq!(Candidate::new("a").description("x\ty").to_line(), "a\tx y");
    let kept = filter(
        vec![
            Candidate::new("ok"),
            Candidate::new("o\nk"),
            Candidate::new("o\tk"),
        ],
        "o",
        "",
    );
    assert_eq!(kept, [Candidate::new("ok")]);
}

#[test]
fn directive_bits() {
    assert_eq!(
        (Directive::NO_SPACE | Directive::NO_FILE_COMP | Directive::KEEP_ORDER).bits(),
        38
    );
    assert_eq!(Directive::ERROR.bits(), 1);
    assert_eq!(Directive::FILTER_FILE_EXT.bits(), 8);
    assert_eq!(Directive::FILTER_DIRS.bits(), 16);
    assert_eq!(Directive::default(), Directive::DEFAULT);
}

#[test]
fn no_subcommands_after_flags_when_they_conflict() {
    // eks-token: `--cluster-name` at the top, or a subcommand, not both.
    let cmd = Command::new("kubectl eks-token")
        .args_conflicts_with_subcommands(true)
        .arg(Arg::new("cluster-name").long("cluster-name"))
        .subcommand(Command::new("verify").about("Check a token"))
        .disable_help_subcommand(true);
    let completer = Completer::new(cmd);
    let run = |words: &[&str]| {
        let words: Vec<String> = words.iter().map(|w| (*w).to_owned()).collect();
        completer.complete(&words, &Env::default()).to_string()
    };
    assert_eq!(run(&[""]), "verify\tCheck a token\n:4\n");
    assert_eq!(run(&["--cluster-name", "demo", ""]), ":4\n");
    assert_eq!(run(&["--cluster-name=demo", "v"]), ":4\n");
    assert_eq!(run(&["verify", "--"]), "--help\tPrint help\n:4\n");
}
