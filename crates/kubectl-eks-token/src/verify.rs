//! `verify`: the EKS authenticator's checks on a token, and with `--resolve` the identity STS
//! returns for it. Prints nothing secret: the URL is shown redacted.

use std::io::Read;
use std::time::{Duration, SystemTime};

use anyhow::{Context, Result, bail};
use eks_auth::arn::Arn;
use eks_auth::aws::{self, CallerIdentity};
use eks_auth::time::rfc3339;
use eks_auth::token::{self, PresignedRequest, VerifyRules};
use serde_json::json;

use crate::cli::{Output, VerifyArgs};
use crate::get_token;

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

pub fn run(args: VerifyArgs) -> Result<()> {
    let token = read_token(&args.token)?;
    let rules = VerifyRules {
        cluster_name: args.cluster_name.clone(),
    };
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
        Some(resolve(
            &checked,
            args.cluster_name.as_deref(),
            args.sts_endpoint.as_deref(),
        )?)
    } else {
        None
    };
    let text = match args.output {
        Output::Json => render_json(&checked, identity.as_ref()),
        Output::Text => render_text(&checked, identity.as_ref()),
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

pub fn render_json(req: &PresignedRequest, identity: Option<&CallerIdentity>) -> String {
    let mut v = json!({
        "valid": true,
        "url": token::redact_url(&req.url),
        "host": req.host,
        "region": req.region,
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

pub fn render_text(req: &PresignedRequest, identity: Option<&CallerIdentity>) -> String {
    let mut out = String::new();
    out.push_str("valid: the token passes the EKS authenticator's checks\n");
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
    fn canonicalises_assumed_roles() {
        assert_eq!(
            canonical("arn:aws:sts::123456789012:assumed-role/dev/alice").as_deref(),
            Some("arn:aws:iam::123456789012:role/dev")
        );
        assert_eq!(canonical("garbage"), None);
    }
}
