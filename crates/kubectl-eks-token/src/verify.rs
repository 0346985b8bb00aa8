//! `verify`: the EKS authenticator's checks on a token, and with `--resolve` the identity STS
//! returns for it. Prints nothing secret: the URL is shown redacted.

use std::io::Read;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use eks_auth::arn::{Arn, ClusterArn, PARTITIONS};
use eks_auth::aws::{self, CallerIdentity};
use eks_auth::time::rfc3339;
use eks_auth::token::host::cluster_partition;
use eks_auth::token::{self, PresignedRequest, VerifyRules};
use serde_json::json;

use crate::cli::{Output, VerifyArgs};
use crate::get_token;
use eks_auth::env;

/// The authenticator accepts a presigned URL for 15 minutes after `X-Amz-Date`.
const ACCEPTED_FOR: Duration = Duration::from_secs(15 * 60);

/// `TOKEN`, or from stdin with `-`: either the bare token or an ExecCredential JSON.
fn read_token(arg: &str) -> Result<String> {
    if arg != "-" {
        return Ok(arg.to_owned());
    }
    let mut input = String::new();
    std::io::stdin()
        .take(1 << 20)
        .read_to_string(&mut input)
        .context("reading the token from stdin")?;
    token_from_input(&input)
}

/// Accept what `kubectl-eks_token` (or `aws eks get-token`) prints, or a bare token.
pub fn token_from_input(input: &str) -> Result<String> {
    let trimmed = input.trim();
    if trimmed.starts_with('{') {
        let value: serde_json::Value =
            serde_json::from_str(trimmed).context("stdin looks like JSON but is not valid JSON")?;
        return match value.pointer("/status/token").and_then(|t| t.as_str()) {
            Some(t) => Ok(t.to_owned()),
            None => bail!("the JSON on stdin has no `status.token`"),
        };
    }
    Ok(trimmed.to_owned())
}

/// The authenticator's rules for this cluster: its name (the name inside a cluster ARN), its
/// partition (`--partition`, else the cluster ARN's, else `--region`'s, else `aws`, the
/// authenticator's default) and its region.
pub fn rules_for(
    cluster: Option<&str>,
    region: Option<&str>,
    partition: Option<&str>,
) -> Result<VerifyRules> {
    let arn = cluster.and_then(ClusterArn::parse);
    if let (Some(arn), Some(p)) = (&arn, partition)
        && arn.partition() != p
    {
        bail!(
            "--partition `{p}` contradicts the cluster ARN `{arn}` (partition `{}`)\n\nhint: drop --partition",
            arn.partition()
        );
    }
    let region = arn.as_ref().map(ClusterArn::region).or(region);
    let partition = partition.or(arn.as_ref().map(ClusterArn::partition));
    let Some(found) = cluster_partition(partition, region) else {
        match partition {
            Some(p) => bail!(
                "unknown partition `{p}`\n\nhint: use one of {}",
                PARTITIONS.join(", ")
            ),
            None => bail!(
                "region `{}` belongs to no AWS partition\n\nhint: check --region, or name the partition with --partition",
                region.unwrap_or_default()
            ),
        }
    };
    let name = arn.as_ref().map_or(cluster, |a| Some(a.name()));
    Ok(VerifyRules::for_cluster(name, found, region))
}

/// Where `--resolve` sends the request: `--sts-endpoint`, else `AWS_ENDPOINT_URL_STS`, else
/// `AWS_ENDPOINT_URL` (as every other AWS call of the suite is redirected), else `None`: the
/// token's own host.
fn resolve_endpoint(flag: Option<&str>, var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    flag.map(str::to_owned).or_else(|| {
        [env::AWS_ENDPOINT_URL_STS, env::AWS_ENDPOINT_URL]
            .into_iter()
            .find_map(var)
    })
}

pub fn run(args: VerifyArgs) -> Result<()> {
    let token = read_token(&args.token)?;
    let rules = rules_for(
        args.cluster_name.as_deref(),
        args.region.as_deref(),
        args.partition.as_deref(),
    )?;
    let checked = match token::verify(&token, SystemTime::now(), &rules) {
        Ok(req) => req,
        Err(err) => {
            if args.output == Output::Json {
                write_stdout(&json!({ "valid": false, "error": err.to_string() }).to_string())?;
            }
            return Err(anyhow::Error::new(err).context("the token would be rejected"));
        }
    };
    let identity = if args.resolve {
        let endpoint = resolve_endpoint(args.sts_endpoint.as_deref(), &env::var);
        Some(resolve(
            &checked,
            rules.cluster_name.as_deref(),
            endpoint.as_deref(),
        )?)
    } else {
        None
    };
    let text = match args.output {
        Output::Json => render_json(&checked, &rules, identity.as_ref()),
        Output::Text => render_text(&checked, &rules, identity.as_ref()),
    };
    write_stdout(&text)
}

fn resolve(
    req: &PresignedRequest,
    cluster: Option<&str>,
    endpoint: Option<&str>,
) -> Result<CallerIdentity> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let target = endpoint
        .map(str::to_owned)
        .unwrap_or_else(|| format!("https://{}", req.host));
    runtime
        .block_on(aws::fetch_presigned_identity(&req.url, cluster, endpoint))
        .with_context(|| format!("resolving the token with STS at `{target}`"))
}

fn canonical(arn: &str) -> Option<String> {
    arn.parse::<Arn>().ok().map(|a| a.canonical().to_string())
}

pub fn render_json(
    req: &PresignedRequest,
    rules: &VerifyRules,
    identity: Option<&CallerIdentity>,
) -> String {
    let mut v = json!({
        "valid": true,
        "url": token::redact_url(&req.url),
        "host": req.host,
        "region": req.region,
        "partition": rules.partition,
        "accessKeyId": req.access_key_id,
        "signedAt": rfc3339(req.signed_at),
        "acceptedUntil": rfc3339(req.signed_at + ACCEPTED_FOR),
        "hasSessionToken": req.has_session_token,
    });
    if let Some(id) = identity {
        v["identity"] = json!({
            "arn": id.arn,
            "canonicalArn": canonical(&id.arn),
            "account": id.account,
            "userId": id.user_id,
        });
    }
    v.to_string()
}

pub fn render_text(
    req: &PresignedRequest,
    rules: &VerifyRules,
    identity: Option<&CallerIdentity>,
) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "valid: the token passes the EKS authenticator's checks for partition `{}`\n",
        rules.partition.as_deref().unwrap_or("?")
    ));
    out.push_str(&format!(
        "url:            {}\n",
        token::redact_url(&req.url)
    ));
    out.push_str(&format!("sts host:       {}\n", req.host));
    out.push_str(&format!("region:         {}\n", req.region));
    out.push_str(&format!("access key id:  {}\n", req.access_key_id));
    out.push_str(&format!(
        "session token:  {}\n",
        if req.has_session_token { "yes" } else { "no" }
    ));
    out.push_str(&format!("signed at:      {}\n", rfc3339(req.signed_at)));
    out.push_str(&format!(
        "accepted until: {}\n",
        rfc3339(req.signed_at + ACCEPTED_FOR)
    ));
    if let Some(id) = identity {
        out.push_str(&format!("arn:            {}\n", id.arn));
        if let Some(c) = canonical(&id.arn) {
            out.push_str(&format!("canonical arn:  {c}\n"));
        }
        out.push_str(&format!("account:        {}\n", id.account));
        out.push_str(&format!("user id:        {}\n", id.user_id));
    }
    out
}

/// `text` on stdout, ending in a newline.
fn write_stdout(text: &str) -> Result<()> {
    if text.ends_with('\n') {
        get_token::write_stdout(text)
    } else {
        get_token::write_stdout(&format!("{text}\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_from_stdin_forms() {
        assert_eq!(
            token_from_input("  k8s-aws-v1.abc\n").unwrap(),
            "k8s-aws-v1.abc"
        );
        let cred = r#"{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{},"status":{"expirationTimestamp":"2023-04-28T00:14:00Z","token":"k8s-aws-v1.xyz"}}"#;
        assert_eq!(token_from_input(cred).unwrap(), "k8s-aws-v1.xyz");
        assert_eq!(
            token_from_input(r#"{"status":{}}"#)
                .unwrap_err()
                .to_string(),
            "the JSON on stdin has no `status.token`"
        );
    }

    #[test]
    fn the_partition_comes_from_the_flags_or_a_cluster_arn() {
        let p = |c: Option<&str>, r: Option<&str>, p: Option<&str>| {
            rules_for(c, r, p).map(|r| (r.cluster_name, r.partition.unwrap(), r.region))
        };
        assert_eq!(
            p(Some("demo"), None, None).unwrap(),
            (Some("demo".into()), "aws".into(), None)
        );
        assert_eq!(
            p(None, Some("cn-north-1"), None).unwrap().1,
            "aws-cn".to_owned()
        );
        assert_eq!(
            p(
                Some("arn:aws-us-gov:eks:us-gov-west-1:111122223333:cluster/prod"),
                None,
                None
            )
            .unwrap(),
            (
                Some("prod".into()),
                "aws-us-gov".into(),
                Some("us-gov-west-1".into())
            )
        );
        assert_eq!(
            p(None, Some("us-east-1"), Some("aws-iso")).unwrap().1,
            "aws-iso".to_owned()
        );
        assert_eq!(
            p(None, None, Some("aws-moon")).unwrap_err().to_string(),
            "unknown partition `aws-moon`\n\nhint: use one of aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f, aws-eusc"
        );
        assert!(p(None, Some("moon-1"), None).is_err());
        assert!(
            p(
                Some("arn:aws-cn:eks:cn-north-1:111122223333:cluster/x"),
                None,
                Some("aws")
            )
            .unwrap_err()
            .to_string()
            .contains("contradicts")
        );
    }

    #[test]
    fn resolve_honours_aws_endpoint_url() {
        let none = |_: &str| None;
        assert_eq!(resolve_endpoint(None, &none), None);
        let global = |v: &str| (v == "AWS_ENDPOINT_URL").then(|| "http://global".to_owned());
        assert_eq!(
            resolve_endpoint(None, &global).as_deref(),
            Some("http://global")
        );
        let both = |v: &str| Some(format!("http://{v}"));
        assert_eq!(
            resolve_endpoint(None, &both).as_deref(),
            Some("http://AWS_ENDPOINT_URL_STS")
        );
        assert_eq!(
            resolve_endpoint(Some("http://flag"), &both).as_deref(),
            Some("http://flag")
        );
    }

    #[test]
    fn timestamps() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_682_640_000);
        assert_eq!(rfc3339(t), "2023-04-28T00:00:00Z");
    }

    #[test]
    fn canonicalises_assumed_roles() {
        assert_eq!(
            canonical("arn:aws:sts::123456789012:assumed-role/dev/alice").as_deref(),
            Some("arn:aws:iam::123456789012:role/dev")
        );
        assert_eq!(canonical("garbage"), None);
    }
}
