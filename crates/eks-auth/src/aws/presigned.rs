//! I/O: a presigned GetCallerIdentity request sent the way the EKS authenticator sends it, and
//! STS's answer read.

use super::context::CallerIdentity;
use super::error::{AwsError, BoxError};
use crate::token::CLUSTER_ID_HEADER;

/// Send a presigned GetCallerIdentity URL as the EKS authenticator does: GET, with the
/// `x-k8s-aws-id` header, to the URL's own host, or to `endpoint` (scheme://host:port) keeping
/// the signed Host header. Returns the identity STS answers with.
pub async fn fetch_presigned_identity(
    url: &str,
    cluster_id: Option<&str>,
    endpoint: Option<&str>,
) -> Result<CallerIdentity, AwsError> {
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;

    let parsed = url::Url::parse(url).map_err(|e| AwsError::InvalidEndpoint {
        endpoint: crate::token::redact_url(url),
        source: Box::new(e),
    })?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        (None, _) => {
            return Err(AwsError::InvalidEndpoint {
                endpoint: crate::token::redact_url(url),
                source: "no host in the presigned URL".into(),
            });
        }
    };
    let (target, shown) = match endpoint {
        Some(ep) => {
            let base = url::Url::parse(ep).map_err(|e| AwsError::InvalidEndpoint {
                endpoint: ep.to_owned(),
                source: Box::new(e),
            })?;
            let mut t = base.clone();
            t.set_path(parsed.path());
            t.set_query(parsed.query());
            (t.to_string(), ep.to_owned())
        }
        None => (url.to_owned(), format!("{}://{host}", parsed.scheme())),
    };

    let mut builder = http::Request::builder()
        .method("GET")
        .uri(&target)
        .header("host", &host);
    if let Some(id) = cluster_id {
        builder = builder.header(CLUSTER_ID_HEADER, id);
    }
    let send_err = |source: BoxError| AwsError::PresignedSend {
        endpoint: shown.clone(),
        source,
    };
    let request = builder
        .body(SdkBody::empty())
        .map_err(|e| send_err(Box::new(e)))?;
    let request = HttpRequest::try_from(request).map_err(|e| send_err(Box::new(e)))?;
    let (status, bytes) = send_collect(request).await.map_err(send_err)?;
    let text = String::from_utf8_lossy(&bytes);
    parse_sts_response(status, &text)
}

/// Sends one request with the SDK's own rustls/AWS-LC client (the workspace's one TLS stack) and
/// collects the body, which streams (STS and IAM answers are a few hundred bytes): the status and
/// the bytes. The one sender of the hand-signed requests (presigned GetCallerIdentity, IAM GetRole).
pub(crate) async fn send_collect(
    request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
) -> Result<(u16, Vec<u8>), BoxError> {
    use aws_smithy_http_client::tls;
    use aws_smithy_runtime_api::client::http::HttpConnector;

    let connector = aws_smithy_http_client::Connector::builder()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::AwsLc,
        ))
        .build();
    let response = connector.call(request).await.map_err(Box::new)?;
    let status = response.status().as_u16();
    let bytes = aws_smithy_types::byte_stream::ByteStream::new(response.into_body())
        .collect()
        .await
        .map_err(Box::new)?
        .to_vec();
    Ok((status, bytes))
}

/// Parse STS's XML answer to GetCallerIdentity (success or error document).
pub fn parse_sts_response(status: u16, body: &str) -> Result<CallerIdentity, AwsError> {
    if (200..300).contains(&status) {
        let get = |tag| xml_text(body, tag);
        match (get("Arn"), get("Account"), get("UserId")) {
            (Some(arn), Some(account), Some(user_id)) => Ok(CallerIdentity {
                arn,
                account,
                user_id,
            }),
            _ => Err(AwsError::StsResponse {
                status,
                body: truncate(body),
            }),
        }
    } else {
        match (xml_text(body, "Code"), xml_text(body, "Message")) {
            (Some(code), message) => Err(AwsError::StsRejected {
                status,
                code,
                message: message.unwrap_or_default(),
            }),
            _ => Err(AwsError::StsResponse {
                status,
                body: truncate(body),
            }),
        }
    }
}

fn truncate(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((i, _)) => format!("{}...", &body[..i]),
        None => body.to_owned(),
    }
}

/// Text of the first `<tag>...</tag>` element, XML entities decoded. STS documents are flat
/// and small; a full XML parser would add a dependency for five fields.
pub(crate) fn xml_text(doc: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = doc.find(&open)? + open.len();
    let end = start + doc[start..].find(&close)?;
    Some(
        doc[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OK: &str = r#"<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:sts::123456789012:assumed-role/dev/alice&amp;co</Arn>
    <UserId>AROAEXAMPLE:alice&amp;co</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
</GetCallerIdentityResponse>"#;

    const DENIED: &str = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code>
  <Message>The request signature we calculated does not match the signature you provided.</Message></Error>
  <RequestId>x</RequestId></ErrorResponse>"#;

    #[test]
    fn parses_caller_identity() {
        let id = parse_sts_response(200, OK).unwrap();
        assert_eq!(
            id,
            CallerIdentity {
                arn: "arn:aws:sts::123456789012:assumed-role/dev/alice&co".into(),
                account: "123456789012".into(),
                user_id: "AROAEXAMPLE:alice&co".into(),
            }
        );
    }

    #[test]
    fn parses_sts_error() {
        let err = parse_sts_response(403, DENIED).unwrap_err();
        assert_eq!(
            err.to_string(),
            "STS rejected the token: SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided."
        );
        let AwsError::StsRejected { status, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(status, 403);
    }

    #[test]
    fn garbage_response_is_reported_truncated() {
        let body = "x".repeat(500);
        let err = parse_sts_response(200, &body).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "unexpected STS response (HTTP 200): `{}...`",
                "x".repeat(300)
            )
        );
    }
}
