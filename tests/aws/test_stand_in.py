"""Tests of the AWS side of the stand-in EKS.

Run with `python3 -m pytest -q tests/aws`. Two parts: the presigned-request
verifier with fixed inputs (clock, keys), then the real process on loopback,
driven with boto3, the AWS CLI and plain HTTP.
"""

from __future__ import annotations

import base64
import concurrent.futures
import datetime as dt
import hashlib
import hmac
import http.client
import json
import os
import select
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from unittest import mock
from urllib.parse import quote, urlsplit

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import standin_sigv4 as sigv4  # noqa: E402

STS_HOST = "sts.us-east-1.amazonaws.com"
NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"
ACCOUNT = "123456789012"
# A self-signed certificate stands for the Kubernetes side's CA; only its bytes matter here.
CA_PEM = (
    "-----BEGIN CERTIFICATE-----\n"
    "MIIBdzCCAR2gAwIBAgIUTestbedTestbedTestbedTestbedTeswCgYIKoZIzj0EAwIw\n"
    "-----END CERTIFICATE-----\n"
)


# ---------------------------------------------------------------- helpers

def presign(creds: dict, cluster: str, region: str = "us-east-1", at: dt.datetime | None = None,
            endpoint_url: str | None = None) -> str:
    """A presigned GetCallerIdentity URL made the way `aws eks get-token` makes it
    (awscli/customizations/eks/get_token.py): an STS client, the cluster name
    injected as the x-k8s-aws-id header before signing, ExpiresIn=60, GET."""
    import botocore.session

    session = botocore.session.get_session()
    client = session.create_client(
        "sts",
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id=creds["access_key_id"],
        aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds.get("session_token"),
    )

    def take_param(params, context, **_):
        if "x-k8s-aws-id" in params:
            context["x-k8s-aws-id"] = params.pop("x-k8s-aws-id")

    def add_header(request, **_):
        if "x-k8s-aws-id" in request.context:
            request.headers["x-k8s-aws-id"] = request.context["x-k8s-aws-id"]

    client.meta.events.register("provide-client-params.sts.GetCallerIdentity", take_param)
    client.meta.events.register("before-sign.sts.GetCallerIdentity", add_header)
    ctx = mock.patch("botocore.auth.get_current_datetime", lambda: at.replace(tzinfo=None)) if at else None
    if ctx:
        ctx.start()
    try:
        return client.generate_presigned_url(
            "get_caller_identity", Params={"x-k8s-aws-id": cluster}, ExpiresIn=60, HttpMethod="GET"
        )
    finally:
        if ctx:
            ctx.stop()


def url_parts(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.netloc, parts.query


def record(**overrides) -> sigv4.KeyRecord:
    fields = dict(
        access_key_id="AKIAEXAMPLEKEY000001",
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY",
        session_token=None,
        arn=f"arn:aws:iam::{ACCOUNT}:user/alice",
        user_id="AIDAEXAMPLEUSERID001",
        account=ACCOUNT,
    )
    fields.update(overrides)
    return sigv4.KeyRecord(**fields)


T0 = dt.datetime(2025, 3, 1, 12, 0, 0, tzinfo=dt.timezone.utc)


def verify_url(url: str, rec: sigv4.KeyRecord, now: dt.datetime, cluster: str = "demo",
               host: str | None = None) -> sigv4.KeyRecord:
    netloc, query = url_parts(url)
    return sigv4.verify(
        method="GET",
        path="/",
        raw_query=query,
        headers={"host": host or netloc, "x-k8s-aws-id": cluster},
        now=now,
        lookup=lambda akid: rec if akid == rec.access_key_id else None,
    )


def creds_of(rec: sigv4.KeyRecord, secret: str | None = None, token: str | None = None) -> dict:
    return {
        "access_key_id": rec.access_key_id,
        "secret_access_key": secret or rec.secret_access_key,
        "session_token": token if token is not None else rec.session_token,
    }


# ---------------------------------------------------------------- verifier, fixed inputs

def test_verify_accepts_awscli_style_presign():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    assert urlsplit(url).netloc == STS_HOST
    assert verify_url(url, rec, T0 + dt.timedelta(seconds=5)) is rec


def test_verify_matches_independent_sigv4():
    """The signature the verifier wants equals one computed from the SigV4 spec by
    hand (canonical request, string to sign, HMAC chain), not only botocore's."""
    rec = record()
    amz_date = "20250301T120000Z"
    credential = f"{rec.access_key_id}/20250301/us-east-1/sts/aws4_request"
    params = {
        "Action": "GetCallerIdentity",
        "Version": "2011-06-15",
        "X-Amz-Algorithm": "AWS4-HMAC-SHA256",
        "X-Amz-Credential": credential,
        "X-Amz-Date": amz_date,
        "X-Amz-Expires": "60",
        "X-Amz-SignedHeaders": "host;x-k8s-aws-id",
    }
    cq = "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(params.items()))
    canonical = "\n".join([
        "GET", "/", cq, f"host:{STS_HOST}\nx-k8s-aws-id:demo\n", "host;x-k8s-aws-id",
        hashlib.sha256(b"").hexdigest(),
    ])
    to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, "20250301/us-east-1/sts/aws4_request",
        hashlib.sha256(canonical.encode()).hexdigest(),
    ])
    key = ("AWS4" + rec.secret_access_key).encode()
    for part in ("20250301", "us-east-1", "sts", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    query = cq + "&X-Amz-Signature=" + signature
    got = sigv4.verify("GET", "/", query, {"host": STS_HOST, "x-k8s-aws-id": "demo"}, T0,
                       lambda akid: rec if akid == rec.access_key_id else None)
    assert got.arn == f"arn:aws:iam::{ACCOUNT}:user/alice"
    # and botocore's presign of the same request carries the same signature
    url = presign(creds_of(rec), "demo", at=T0)
    assert f"X-Amz-Signature={signature}" in url


def expect_error(fn, status: int, code: str, message: str | None = None) -> sigv4.StsError:
    with pytest.raises(sigv4.StsError) as info:
        fn()
    err = info.value
    assert (err.status, err.code) == (status, code)
    if message is not None:
        assert err.message == message
    return err


def test_wrong_secret_is_signature_mismatch():
    rec = record()
    url = presign(creds_of(rec, secret="x" * 40), "demo", at=T0)
    expect_error(lambda: verify_url(url, rec, T0), 403, "SignatureDoesNotMatch", sigv4.MSG_SIGNATURE_MISMATCH)


def test_other_cluster_header_is_signature_mismatch():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    expect_error(lambda: verify_url(url, rec, T0, cluster="prod"), 403, "SignatureDoesNotMatch")


def test_other_host_is_signature_mismatch():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    # same region (so the scope check passes), other host name than was signed
    expect_error(lambda: verify_url(url, rec, T0, host="sts.us-east-1.amazonaws.com:443"), 403,
                 "SignatureDoesNotMatch", sigv4.MSG_SIGNATURE_MISMATCH)


def test_tampered_query_is_signature_mismatch():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=900")
    assert tampered != url
    expect_error(lambda: verify_url(tampered, rec, T0), 403, "SignatureDoesNotMatch")


def test_fifteen_minute_window_ignores_x_amz_expires():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    assert "X-Amz-Expires=60" in url
    # 60 s is long gone, STS still honours it up to 15 minutes after X-Amz-Date
    assert verify_url(url, rec, T0 + dt.timedelta(minutes=15)) is rec
    expect_error(
        lambda: verify_url(url, rec, T0 + dt.timedelta(minutes=15, seconds=1)),
        403,
        "SignatureDoesNotMatch",
        "Signature expired: 20250301T120000Z is now earlier than 20250301T120001Z "
        "(20250301T121501Z - 15 min.)",
    )


def test_future_date_is_not_yet_current():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0 + dt.timedelta(minutes=20))
    expect_error(
        lambda: verify_url(url, rec, T0),
        403,
        "SignatureDoesNotMatch",
        "Signature not yet current: 20250301T122000Z is still later than 20250301T121500Z "
        "(20250301T120000Z + 15 min.)",
    )


def test_unknown_key_is_invalid_client_token():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    expect_error(
        lambda: sigv4.verify("GET", "/", url_parts(url)[1], {"host": STS_HOST, "x-k8s-aws-id": "demo"}, T0,
                             lambda akid: None),
        403, "InvalidClientTokenId", "The security token included in the request is invalid.",
    )


def test_inactive_key_is_invalid_client_token():
    rec = record(active=False)
    url = presign(creds_of(rec), "demo", at=T0)
    expect_error(lambda: verify_url(url, rec, T0), 403, "InvalidClientTokenId")


def test_session_token_must_match_and_be_live():
    rec = record(
        access_key_id="ASIAEXAMPLEKEY000001",
        session_token="FQoGZXIvYXdzEXAMPLEtoken/with+chars=",
        arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice",
        user_id="AROAEXAMPLEROLEID001:alice",
        expiration=T0 + dt.timedelta(hours=1),
    )
    good = presign(creds_of(rec), "demo", at=T0)
    assert "X-Amz-Security-Token=" in good
    assert verify_url(good, rec, T0).arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/alice"
    wrong = presign(creds_of(rec, token="FQoGZXIvYXdzEXAMPLEtoken/other"), "demo", at=T0)
    expect_error(lambda: verify_url(wrong, rec, T0), 403, "InvalidClientTokenId")
    missing = presign({"access_key_id": rec.access_key_id, "secret_access_key": rec.secret_access_key},
                      "demo", at=T0)
    expect_error(lambda: verify_url(missing, rec, T0), 403, "InvalidClientTokenId")
    later = T0 + dt.timedelta(hours=1)
    late = presign(creds_of(rec), "demo", at=later)
    expect_error(lambda: verify_url(late, rec, later), 403, "ExpiredToken",
                 "The security token included in the request is expired")


def test_user_key_with_session_token_is_invalid():
    rec = record()
    url = presign(creds_of(rec, token="bogus"), "demo", at=T0)
    expect_error(lambda: verify_url(url, rec, T0), 403, "InvalidClientTokenId")


def test_duplicated_query_key_is_refused():
    rec = record()
    url = presign(creds_of(rec), "demo", at=T0)
    expect_error(lambda: verify_url(url + "&Action=GetCallerIdentity", rec, T0), 400, "MalformedQueryString")


def test_missing_date_is_incomplete_signature():
    rec = record()
    netloc, query = url_parts(presign(creds_of(rec), "demo", at=T0))
    query = "&".join(p for p in query.split("&") if not p.startswith("X-Amz-Date="))
    expect_error(
        lambda: sigv4.verify("GET", "/", query, {"host": netloc, "x-k8s-aws-id": "demo"}, T0, lambda a: rec),
        400, "IncompleteSignature",
        "AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters.",
    )


def test_scope_region_must_match_regional_host():
    rec = record()
    url = presign(creds_of(rec), "demo", region="eu-west-1", at=T0)
    assert urlsplit(url).netloc == "sts.eu-west-1.amazonaws.com"
    assert verify_url(url, rec, T0) is rec
    expect_error(lambda: verify_url(url, rec, T0, host="sts.us-west-2.amazonaws.com"), 403,
                 "SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")


def header_signed(creds: dict, at: dt.datetime, body: bytes = b"Action=GetCallerIdentity&Version=2011-06-15"):
    """A POST signed in its Authorization header, as the SDKs call STS."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url="http://127.0.0.1:4566/", data=body,
                         headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    with mock.patch("botocore.auth.get_current_datetime", lambda: at.replace(tzinfo=None)):
        SigV4Auth(Credentials(creds["access_key_id"], creds["secret_access_key"], creds.get("session_token")),
                  "sts", "us-east-1").add_auth(request)
    headers = {k.lower(): v for k, v in request.headers.items()}
    headers["host"] = "127.0.0.1:4566"
    return headers, body


def test_header_signed_verification():
    rec = record()
    lookup = lambda akid: rec if akid == rec.access_key_id else None  # noqa: E731
    headers, body = header_signed(creds_of(rec), T0)
    assert sigv4.verify_header_signed("POST", "/", "", headers, body, T0, lookup) is rec
    # the body is signed: another action under the same signature is refused
    expect_error(lambda: sigv4.verify_header_signed("POST", "/", "", headers, body + b"&x=1", T0, lookup),
                 403, "SignatureDoesNotMatch", sigv4.MSG_SIGNATURE_MISMATCH)
    wrong, body = header_signed(creds_of(rec, secret="z" * 40), T0)
    expect_error(lambda: sigv4.verify_header_signed("POST", "/", "", wrong, body, T0, lookup),
                 403, "SignatureDoesNotMatch")
    expect_error(lambda: sigv4.verify_header_signed("POST", "/", "", headers, body, T0 + dt.timedelta(minutes=16),
                                                    lookup),
                 403, "SignatureDoesNotMatch")
    expect_error(lambda: sigv4.verify_header_signed("POST", "/", "", headers, body, T0, lambda akid: None),
                 403, "InvalidClientTokenId")
    assert sigv4.header_signed_service(headers["authorization"]) == "sts"


def test_expected_region_for_host():
    assert sigv4.expected_region_for_host("sts.amazonaws.com") == "us-east-1"
    assert sigv4.expected_region_for_host("sts.eu-west-1.amazonaws.com") == "eu-west-1"
    assert sigv4.expected_region_for_host("sts.cn-north-1.amazonaws.com.cn") == "cn-north-1"
    assert sigv4.expected_region_for_host("127.0.0.1:4566") is None


def test_key_record_repr_hides_secrets():
    rec = record(session_token="SESSIONTOKENVALUE")
    text = repr(rec)
    assert rec.secret_access_key not in text and "SESSIONTOKENVALUE" not in text
    assert rec.access_key_id in text


def test_routing_predicate():
    q = "Action=GetCallerIdentity&Version=2011-06-15&X-Amz-Credential=AKIA%2F"
    assert sigv4.is_presigned_get_caller_identity("GET", q, has_authorization=False)
    assert not sigv4.is_presigned_get_caller_identity("GET", q, has_authorization=True)
    assert not sigv4.is_presigned_get_caller_identity("GET", "Action=GetCallerIdentity", has_authorization=False)
    assert not sigv4.is_presigned_get_caller_identity("GET", "Action=AssumeRole&X-Amz-Credential=x", False)
    # Any letter case of the keys is judged here, never handed to moto (issue 12).
    for q in (
        "Action=GetCallerIdentity&x-amz-credential=AKIA%2F&x-amz-signature=00",
        "action=GetCallerIdentity&X-AMZ-SIGNATURE=00",
        "ACTION=GetCallerIdentity&X-amz-Credential=AKIA%2F",
    ):
        assert sigv4.is_presigned_get_caller_identity("GET", q, has_authorization=False), q


# ---------------------------------------------------------------- the process

class StandIn:
    def __init__(self, proc: subprocess.Popen, url: str, startup: float):
        self.proc = proc
        self.url = url
        self.port = int(url.rsplit(":", 1)[1])
        self.startup = startup

    def request(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def admin(self, path: str, payload: dict) -> dict:
        status, _, body = self.request("POST", path, {"Content-Type": "application/json"},
                                       json.dumps(payload).encode())
        assert status == 200, body
        return json.loads(body)

    def send_token_url(self, url: str, cluster: str = "demo", accept: str | None = None):
        netloc, query = url_parts(url)
        headers = {"Host": netloc, "x-k8s-aws-id": cluster}
        if accept:
            headers["Accept"] = accept
        return self.request("GET", "/?" + query, headers)


def start(*extra: str) -> StandIn:
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, os.path.join(HERE, "stand_in.py"), "--host", "127.0.0.1", "--port", "0",
         "--region", "us-east-1", *extra],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )
    ready, _, _ = select.select([proc.stdout], [], [], 10)
    assert ready, "no READY line within 10 s"
    line = proc.stdout.readline().decode()
    startup = time.monotonic() - started
    assert line.startswith("READY http://127.0.0.1:") and line.endswith("\n"), line
    return StandIn(proc, line.split()[1], startup)


def stop(s: StandIn) -> None:
    if s.proc.poll() is None:
        s.proc.stdin.close()
        try:
            s.proc.wait(5)
        except subprocess.TimeoutExpired:
            s.proc.kill()
            s.proc.wait()


@pytest.fixture(scope="module")
def server():
    s = start()
    yield s
    stop(s)


@pytest.fixture(scope="module")
def cluster(server):
    bob = server.admin("/_testbed/users", {"name": "cluster-creator", "path": "/"})
    out = server.admin("/_testbed/clusters", {
        "name": "demo", "endpoint": "https://127.0.0.1:6443", "ca_pem": CA_PEM, "creator_arn": bob["arn"],
    })
    return out


def boto_client(server: StandIn, service: str, creds: dict):
    import boto3

    return boto3.client(
        service, region_name="us-east-1", endpoint_url=server.url,
        aws_access_key_id=creds["access_key_id"], aws_secret_access_key=creds["secret_access_key"],
        aws_session_token=creds.get("session_token"),
    )


def sts_error(body: bytes) -> tuple[str, str]:
    root = ET.fromstring(body)
    assert root.tag == NS + "ErrorResponse"
    return root.find(f"{NS}Error/{NS}Code").text, root.find(f"{NS}Error/{NS}Message").text


def identity(body: bytes) -> dict:
    root = ET.fromstring(body)
    assert root.tag == NS + "GetCallerIdentityResponse"
    result = root.find(NS + "GetCallerIdentityResult")
    return {child.tag[len(NS):]: child.text for child in result}


def test_ready_fast_and_health(server):
    assert server.startup < 2.0, f"READY after {server.startup:.2f} s"
    status, headers, body = server.request("GET", "/_testbed/health")
    assert (status, json.loads(body)) == (200, {"ok": True})
    assert headers["Content-Type"] == "application/json"


def test_admin_errors(server):
    status, _, body = server.request("POST", "/_testbed/users", {"Content-Type": "application/json"}, b"{}")
    assert status == 400 and json.loads(body) == {"error": "a user needs a non-empty string `name`"}
    server.admin("/_testbed/users", {"name": "twice"})
    status, _, body = server.request("POST", "/_testbed/users", {}, b'{"name": "twice"}')
    assert status == 409 and json.loads(body) == {"error": "user `twice` already exists"}
    status, _, _ = server.request("GET", "/_testbed/users")
    assert status == 405
    status, _, _ = server.request("GET", "/_testbed/nothing")
    assert status == 404


def test_token_from_aws_cli_get_token(server, cluster):
    user = server.admin("/_testbed/users", {"name": "alice", "path": "/"})
    assert user["arn"] == f"arn:aws:iam::{ACCOUNT}:user/alice"
    assert user["access_key_id"].startswith("AKIA") and len(user["secret_access_key"]) == 40
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": user["access_key_id"], "AWS_SECRET_ACCESS_KEY": user["secret_access_key"],
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    out = subprocess.run(["aws", "eks", "get-token", "--cluster-name", "demo", "--region", "us-east-1"],
                         env=env, capture_output=True, check=True, timeout=60)
    token = json.loads(out.stdout)["status"]["token"]
    assert token.startswith("k8s-aws-v1.")
    b64 = token[len("k8s-aws-v1."):]
    url = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4)).decode()
    assert urlsplit(url).netloc == STS_HOST
    status, headers, body = server.send_token_url(url)
    assert status == 200, body
    assert headers["Content-Type"] == "text/xml"
    assert identity(body) == {"Arn": user["arn"], "UserId": user["user_id"], "Account": ACCOUNT}
    # the same URL for another cluster name is refused
    status, _, body = server.send_token_url(url, cluster="other")
    assert status == 403 and sts_error(body) == ("SignatureDoesNotMatch", sigv4.MSG_SIGNATURE_MISMATCH)


def test_json_answer_like_aws_iam_authenticator_asks(server):
    user = server.admin("/_testbed/users", {"name": "jason"})
    status, headers, body = server.send_token_url(presign(user, "demo"), accept="application/json")
    assert status == 200 and headers["Content-Type"] == "application/json"
    doc = json.loads(body)["GetCallerIdentityResponse"]
    assert doc["GetCallerIdentityResult"] == {"Account": ACCOUNT, "Arn": user["arn"], "UserId": user["user_id"]}
    assert doc["ResponseMetadata"]["RequestId"] == headers["x-amzn-RequestId"]
    status, _, body = server.send_token_url(presign(user, "demo"), cluster="x", accept="application/json")
    assert status == 403
    assert json.loads(body)["Error"] == {"Code": "SignatureDoesNotMatch", "Message": sigv4.MSG_SIGNATURE_MISMATCH,
                                         "Type": "Sender"}


def test_wrong_secret_tampered_header_expired_unknown(server):
    user = server.admin("/_testbed/users", {"name": "mallory"})
    wrong = dict(user, secret_access_key="A" * 40)
    status, _, body = server.send_token_url(presign(wrong, "demo"))
    assert status == 403 and sts_error(body)[0] == "SignatureDoesNotMatch"

    status, _, body = server.send_token_url(presign(user, "demo"), cluster="prod")
    assert status == 403 and sts_error(body)[0] == "SignatureDoesNotMatch"

    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=16)
    status, _, body = server.send_token_url(presign(user, "demo", at=old))
    code, message = sts_error(body)
    assert (status, code) == (403, "SignatureDoesNotMatch")
    assert message.startswith(f"Signature expired: {old.strftime('%Y%m%dT%H%M%SZ')} is now earlier than ")
    assert message.endswith(" - 15 min.)")

    ghost = {"access_key_id": "AKIAGHOSTGHOSTGHOST1", "secret_access_key": "B" * 40}
    status, _, body = server.send_token_url(presign(ghost, "demo"))
    assert status == 403
    assert sts_error(body) == ("InvalidClientTokenId", "The security token included in the request is invalid.")


def test_presigned_keys_in_other_letter_case_never_reach_moto(server):
    """moto answers GetCallerIdentity without checking any signature; a presigned URL whose
    keys are spelt in another case must be judged (and refused) by the front (issue 12)."""
    user = server.admin("/_testbed/users", {"name": "casey"})
    url = presign(user, "demo")
    for old, new in (("X-Amz-Credential=", "x-amz-credential="), ("X-Amz-Signature=", "X-AMZ-SIGNATURE=")):
        status, _, body = server.send_token_url(url.replace(old, new))
        assert status != 200, (old, body)
        assert user["arn"].encode() not in body
    # and with wrong secret too: never an identity
    wrong = dict(user, secret_access_key="A" * 40)
    status, _, body = server.send_token_url(presign(wrong, "demo").replace("X-Amz-Signature=", "x-amz-signature="))
    assert status != 200 and user["arn"].encode() not in body


def test_assumed_role_key(server, cluster):
    user = server.admin("/_testbed/users", {"name": "carol"})
    role = server.admin("/_testbed/roles", {"name": "dev", "path": "/", "trust": "*"})
    assert role["arn"] == f"arn:aws:iam::{ACCOUNT}:role/dev" and role["role_id"].startswith("AROA")
    sts = boto_client(server, "sts", user)
    assumed = sts.assume_role(RoleArn=role["arn"], RoleSessionName="carol-laptop")
    c = assumed["Credentials"]
    temp = {"access_key_id": c["AccessKeyId"], "secret_access_key": c["SecretAccessKey"],
            "session_token": c["SessionToken"]}
    want = f"arn:aws:sts::{ACCOUNT}:assumed-role/dev/carol-laptop"
    assert assumed["AssumedRoleUser"]["Arn"] == want

    status, _, body = server.send_token_url(presign(temp, "demo"))
    assert status == 200, body
    assert identity(body) == {"Arn": want, "UserId": f"{role['role_id']}:carol-laptop", "Account": ACCOUNT}

    forged = dict(temp, session_token=temp["session_token"][:-4] + "AAAA")
    status, _, body = server.send_token_url(presign(forged, "demo"))
    assert status == 403 and sts_error(body)[0] == "InvalidClientTokenId"

    # header-signed GetCallerIdentity, moto's own, names the same identities
    assert boto_client(server, "sts", temp).get_caller_identity()["Arn"] == want
    me = sts.get_caller_identity()
    assert (me["Arn"], me["UserId"], me["Account"]) == (user["arn"], user["user_id"], ACCOUNT)


def test_header_signed_get_caller_identity_refuses_like_sts(server):
    from botocore.exceptions import ClientError

    user = server.admin("/_testbed/users", {"name": "heidi"})
    for creds, code in [
        (dict(user, secret_access_key="C" * 40), "SignatureDoesNotMatch"),
        ({"access_key_id": "AKIAGHOSTGHOSTGHOST2", "secret_access_key": "D" * 40}, "InvalidClientTokenId"),
    ]:
        with pytest.raises(ClientError) as info:
            boto_client(server, "sts", creds).get_caller_identity()
        assert info.value.response["Error"]["Code"] == code
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": user["access_key_id"], "AWS_SECRET_ACCESS_KEY": user["secret_access_key"],
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": server.url,
    }
    out = subprocess.run(["aws", "sts", "get-caller-identity"], env=env, capture_output=True, check=True, timeout=60)
    assert json.loads(out.stdout) == {"UserId": user["user_id"], "Account": ACCOUNT, "Arn": user["arn"]}


def test_token_naming_the_stand_in_itself(server):
    """With AWS_ENDPOINT_URL pointing here the presigned URL names this server."""
    user = server.admin("/_testbed/users", {"name": "dave"})
    url = presign(user, "demo", endpoint_url=server.url)
    assert urlsplit(url).netloc == f"127.0.0.1:{server.port}"
    status, _, body = server.send_token_url(url)
    assert status == 200 and identity(body)["Arn"] == user["arn"]


def test_describe_cluster_boto3_and_cli(server, cluster):
    creator = server.admin("/_testbed/users", {"name": "erin"})
    assert cluster["arn"] == f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/demo"
    got = boto_client(server, "eks", creator).describe_cluster(name="demo")["cluster"]
    assert got["endpoint"] == "https://127.0.0.1:6443"
    assert base64.b64decode(got["certificateAuthority"]["data"]).decode() == CA_PEM
    assert got["status"] == "ACTIVE" and got["arn"] == cluster["arn"]

    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": creator["access_key_id"], "AWS_SECRET_ACCESS_KEY": creator["secret_access_key"],
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_DEFAULT_REGION": "us-east-1",
    }
    out = subprocess.run(["aws", "eks", "describe-cluster", "--name", "demo", "--endpoint-url", server.url],
                         env=env, capture_output=True, check=True, timeout=60)
    cli = json.loads(out.stdout)["cluster"]
    assert cli["endpoint"] == "https://127.0.0.1:6443"
    assert cli["certificateAuthority"]["data"] == base64.b64encode(CA_PEM.encode()).decode()

    status, _, body = server.request("POST", "/_testbed/clusters", {}, json.dumps(
        {"name": "demo", "endpoint": "https://127.0.0.1:1", "ca_pem": CA_PEM}).encode())
    assert status == 409 and json.loads(body) == {"error": "cluster `demo` already exists"}


def test_sts_get_caller_identity_boto3(server):
    user = server.admin("/_testbed/users", {"name": "frank", "path": "/team/"})
    assert user["arn"] == f"arn:aws:iam::{ACCOUNT}:user/team/frank"
    me = boto_client(server, "sts", user).get_caller_identity()
    assert (me["Arn"], me["Account"]) == (user["arn"], ACCOUNT)


def test_parallel_verifications(server):
    users = [server.admin("/_testbed/users", {"name": f"par{i}"}) for i in range(4)]
    urls = [(u, presign(u, "demo")) for u in users for _ in range(5)]
    with concurrent.futures.ThreadPoolExecutor(20) as pool:
        results = list(pool.map(lambda pair: (pair[0], server.send_token_url(pair[1])), urls))
    for user, (status, _, body) in results:
        assert status == 200 and identity(body)["Arn"] == user["arn"]


def test_stdout_is_ready_line_only_and_stdin_close_stops():
    s = start()
    try:
        # a request moto cannot route makes moto print() a diagnostic: it must not reach stdout
        status, _, _ = s.request("GET", "/", {"Authorization": "AWS4-HMAC-SHA256 Credential=AKIAX/20250301/"
                                              "us-east-1/nosuchservice/aws4_request, SignedHeaders=host, Signature=0"})
        assert status == 500
        s.proc.stdin.close()
        assert s.proc.wait(5) == 0
        assert s.proc.stdout.read() == b""
        assert "Unable to find appropriate backend for nosuchservice" in s.proc.stderr.read().decode()
    finally:
        stop(s)


def test_sigterm_stops_and_logs_hold_no_secrets():
    s = start("--verbose")
    try:
        user = s.admin("/_testbed/users", {"name": "grace"})
        url = presign(user, "demo")
        status, _, _ = s.send_token_url(url)
        assert status == 200
        signature = url.rsplit("X-Amz-Signature=", 1)[1]
        s.proc.send_signal(signal.SIGTERM)
        assert s.proc.wait(5) == 0
        log = s.proc.stderr.read().decode()
        assert "GET / 200" in log
        assert signature not in log and user["secret_access_key"] not in log
    finally:
        stop(s)
