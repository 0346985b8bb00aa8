//! I/O: IAM `GetRole`, the one IAM call the suite needs (feature `aws`).
//!
//! An access entry wants a role's ARN as IAM knows it, path included
//! (`arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123`),
//! while an assumed-role ARN (`aws sts get-caller-identity`) and an aws-auth `rolearn` name the
//! role without its path. Only IAM knows the path: `GetRole` by name answers it.
//!
//! One Query-protocol request (IAM API reference, "GetRole": `Action=GetRole&RoleName=NAME&
//! Version=2010-05-08`, POSTed form-encoded, SigV4 with the service name `iam`), signed with the
//! chain's credentials and sent with the SDK's own rustls client, so that the workspace does not
//! compile the whole IAM SDK for one call. The endpoint is `AWS_ENDPOINT_URL` when set (as for
//! every SDK call), else the partition's global IAM endpoint (AWS General Reference, "AWS
//! Identity and Access Management endpoints and quotas": `iam.amazonaws.com` signed for
//! `us-east-1`, `iam.cn-north-1.amazonaws.com.cn` for `cn-north-1`, `iam.us-gov.amazonaws.com`
//! for `us-gov-west-1`).

use std::time::SystemTime;

use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;

use crate::aws::presigned::{send_collect, xml_text};
use crate::aws::{AwsContext, AwsError};

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A role as IAM describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IamRole {
    /// The full ARN, path included.
    pub arn: String,
    /// `/` or `/a/b/`.
    pub path: String,
    /// The unique id (`AROA...`).
    pub role_id: String,
}

/// Why IAM could not answer.
#[derive(Debug, thiserror::Error)]
pub enum IamError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error("IAM has no role named `{name}`")]
    NoSuchRole { name: String },
    #[error("IAM GetRole of `{name}` was refused: {code}: {message}")]
    Refused {
        name: String,
        code: String,
        message: String,
    },
    #[error("IAM GetRole of `{name}` failed")]
    Send {
        name: String,
        #[source]
        source: BoxError,
    },
    #[error("unexpected IAM answer to GetRole of `{name}` (HTTP {status})")]
    Response { name: String, status: u16 },
}

impl IamError {
    /// What the user can do about it.
    pub fn hint(&self) -> Option<String> {
        match self {
            IamError::Aws(e) => e.hint(),
            IamError::NoSuchRole { .. } => Some(
                "check the role name, or pass the role's full ARN with its path (`arn:aws:iam::ACCOUNT:role/PATH/NAME`)"
                    .to_owned(),
            ),
            IamError::Refused { code, .. } if code.contains("AccessDenied") => Some(
                "allow `iam:GetRole` to your identity, or pass the role's full ARN with its path (`arn:aws:iam::ACCOUNT:role/PATH/NAME`)"
                    .to_owned(),
            ),
            _ => None,
        }
    }
}

/// The global IAM endpoint of a partition and the region it is signed for.
pub fn iam_endpoint(partition: &str) -> (&'static str, &'static str) {
    match partition {
        "aws-cn" => ("https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        "aws-us-gov" => ("https://iam.us-gov.amazonaws.com", "us-gov-west-1"),
        _ => ("https://iam.amazonaws.com", "us-east-1"),
    }
}

/// `GetRole` by name: the role's ARN with its path, and its unique id.
pub async fn fetch_role(
    ctx: &AwsContext,
    partition: &str,
    name: &str,
) -> Result<IamRole, IamError> {
    use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
    use aws_smithy_types::body::SdkBody;

    let send_err = |source: BoxError| IamError::Send {
        name: name.to_owned(),
        source,
    };
    let (global, signing_region) = iam_endpoint(partition);
    let endpoint = ctx
        .sdk_config()
        .endpoint_url()
        .map(|e| e.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| global.to_owned());
    let url = format!("{endpoint}/");
    let host = url::Url::parse(&url)
        .ok()
        .and_then(|u| {
            u.host_str().map(|h| match u.port() {
                Some(p) => format!("{h}:{p}"),
                None => h.to_owned(),
            })
        })
        .ok_or_else(|| send_err(format!("no host in the endpoint `{endpoint}`").into()))?;
    let body = format!(
        "Action=GetRole&RoleName={}&Version=2010-05-08",
        url::form_urlencoded::byte_serialize(name.as_bytes()).collect::<String>()
    );

    let creds = ctx.fetch_credentials().await?;
    let identity = aws_credential_types::Credentials::new(
        creds.access_key_id.clone(),
        creds.secret_access_key.clone(),
        creds.session_token.clone(),
        None,
        "eks-auth",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(signing_region)
        .name("iam")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| send_err(e.into()))?
        .into();
    const CONTENT_TYPE: &str = "application/x-www-form-urlencoded; charset=utf-8";
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        [("host", host.as_str()), ("content-type", CONTENT_TYPE)].into_iter(),
        SignableBody::Bytes(body.as_bytes()),
    )
    .map_err(|e| send_err(e.into()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| send_err(e.into()))?
        .into_parts();
    let mut request = http::Request::builder()
        .method("POST")
        .uri(&url)
        .header("host", &host)
        .header("content-type", CONTENT_TYPE)
        .body(SdkBody::from(body.clone()))
        .map_err(|e| send_err(Box::new(e)))?;
    instructions.apply_to_request_http1x(&mut request);
    let request = HttpRequest::try_from(request).map_err(|e| send_err(Box::new(e)))?;
    let (status, bytes) = send_collect(request).await.map_err(send_err)?;
    parse_get_role(name, status, &String::from_utf8_lossy(&bytes))
}

/// IAM's XML answer to `GetRole`: the `<Role>` element's `Arn`, `Path` and `RoleId`, or the
/// error document's `Code` (`NoSuchEntity` for a role that does not exist).
pub fn parse_get_role(name: &str, status: u16, body: &str) -> Result<IamRole, IamError> {
    if (200..300).contains(&status) {
        let role = body
            .find("<Role>")
            .map(|i| &body[i..])
            .ok_or_else(|| IamError::Response {
                name: name.to_owned(),
                status,
            })?;
        return match (
            xml_text(role, "Arn"),
            xml_text(role, "Path"),
            xml_text(role, "RoleId"),
        ) {
            (Some(arn), Some(path), Some(role_id)) => Ok(IamRole { arn, path, role_id }),
            _ => Err(IamError::Response {
                name: name.to_owned(),
                status,
            }),
        };
    }
    match xml_text(body, "Code") {
        Some(code) if code == "NoSuchEntity" => Err(IamError::NoSuchRole {
            name: name.to_owned(),
        }),
        Some(code) => Err(IamError::Refused {
            name: name.to_owned(),
            code,
            message: xml_text(body, "Message").unwrap_or_default(),
        }),
        None => Err(IamError::Response {
            name: name.to_owned(),
            status,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example response of the IAM API reference's GetRole page (the permissions boundary and
    // last-used elements, which carry their own `...Arn` tags, come after `Arn`).
    const OK: &str = r#"<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/">
  <GetRoleResult>
    <Role>
      <Path>/application_abc/component_xyz/</Path>
      <AssumeRolePolicyDocument>%7B%22Version%22%3A%222012-10-17%22%7D</AssumeRolePolicyDocument>
      <MaxSessionDuration>3600</MaxSessionDuration>
      <RoleId>AROADBQP57FF2AEXAMPLE</RoleId>
      <RoleLastUsed><LastUsedDate>2019-11-20T17:09:20Z</LastUsedDate><Region>us-east-1</Region></RoleLastUsed>
      <RoleName>S3Access</RoleName>
      <Arn>arn:aws:iam::123456789012:role/application_abc/component_xyz/S3Access</Arn>
      <CreateDate>2012-05-08T23:34:01Z</CreateDate>
    </Role>
  </GetRoleResult>
  <ResponseMetadata><RequestId>df37e965-9967-11e1-a4c3-270EXAMPLE04</RequestId></ResponseMetadata>
</GetRoleResponse>"#;

    #[test]
    fn reads_the_path_and_id_of_a_role() {
        assert_eq!(
            parse_get_role("S3Access", 200, OK).unwrap(),
            IamRole {
                arn: "arn:aws:iam::123456789012:role/application_abc/component_xyz/S3Access".into(),
                path: "/application_abc/component_xyz/".into(),
                role_id: "AROADBQP57FF2AEXAMPLE".into(),
            }
        );
    }

    #[test]
    fn errors_are_named() {
        let missing = r#"<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The role with name dev cannot be found.</Message></Error></ErrorResponse>"#;
        let err = parse_get_role("dev", 404, missing).unwrap_err();
        assert_eq!(err.to_string(), "IAM has no role named `dev`");
        let denied = r#"<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: arn:aws:iam::123456789012:user/bob is not authorized to perform: iam:GetRole</Message></Error></ErrorResponse>"#;
        let err = parse_get_role("dev", 403, denied).unwrap_err();
        assert!(err.hint().unwrap().contains("iam:GetRole"));
        assert!(matches!(
            parse_get_role("dev", 200, "<x/>"),
            Err(IamError::Response { status: 200, .. })
        ));
    }

    #[test]
    fn endpoints_by_partition() {
        assert_eq!(iam_endpoint("aws").1, "us-east-1");
        assert_eq!(
            iam_endpoint("aws-cn").0,
            "https://iam.cn-north-1.amazonaws.com.cn"
        );
        assert_eq!(iam_endpoint("aws-us-gov").1, "us-gov-west-1");
    }
}
