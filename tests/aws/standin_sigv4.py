"""Verification of query-signed (presigned) STS GetCallerIdentity requests.

This is the part of the stand-in that real STS does and moto cannot: given the
incoming request (method, path, raw query string, headers) and a way to look
up what moto holds for an access key, decide who signed it, or answer with the
error STS would give.

Pure apart from botocore's signer: the clock and the key lookup are passed in,
so the unit tests feed fixed inputs.

Facts about STS used here (sources in the README of tests/aws):
- STS ignores X-Amz-Expires on presigned requests: a request is valid for 15
  minutes either side of X-Amz-Date (aws-iam-authenticator pkg/token/token.go:
  "presigned STS urls are valid for 15 minutes after timestamp in x-amz-date";
  aws/aws-sdk-go#2167).
- The wording of the errors is STS's own (SignatureDoesNotMatch with
  "Signature expired: ... is now earlier than ... (... - 15 min.)" is the
  message AWS gives for a request outside the 15 minute window).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

ALGORITHM = "AWS4-HMAC-SHA256"
SERVICE = "sts"
# STS honours a presigned request for 15 minutes either side of X-Amz-Date,
# whatever X-Amz-Expires says.
WINDOW = _dt.timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
# A presigned GET has no body: its canonical request ends with the hash of nothing.
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()

# The query parameters a presigned GetCallerIdentity carries, besides Action and Version.
REQUIRED_AUTH_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
)

MSG_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
MSG_INVALID_TOKEN = "The security token included in the request is invalid."
MSG_EXPIRED_TOKEN = "The security token included in the request is expired"


@dataclass(frozen=True)
class KeyRecord:
    """What moto holds for one access key. Secrets stay out of repr()."""

    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(repr=False)
    arn: str
    user_id: str
    account: str
    active: bool = True
    # Only for temporary (assumed-role) keys.
    expiration: _dt.datetime | None = None


class StsError(Exception):
    """An error as STS words it: HTTP status, error code, message, type."""

    def __init__(self, status: int, code: str, message: str, type_: str = "Sender"):
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.type = type_


def is_presigned_get_caller_identity(method: str, raw_query: str, has_authorization: bool) -> bool:
    """True for a request the front must answer itself rather than hand to moto."""
    if method not in ("GET", "POST") or has_authorization:
        return False
    # Keys in any letter case: a request whose `x-amz-credential` or `ACTION` is spelt otherwise
    # must still be judged here (and refused by `verify`), never reach moto, which checks no
    # signature and would answer with an identity.
    keys = {unquote_plus(pair.partition("=")[0]).lower() for pair in raw_query.split("&") if pair}
    if "x-amz-credential" not in keys and "x-amz-signature" not in keys:
        return False
    for pair in raw_query.split("&"):
        key, _, value = pair.partition("=")
        if unquote_plus(key).lower() == "action" and unquote_plus(value) == "GetCallerIdentity":
            return True
    return False


def header_signed_service(authorization: str) -> str | None:
    """The service named in a SigV4 Authorization header's credential scope."""
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        return None
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        if key == "Credential":
            scope = value.split("/")
            return scope[3] if len(scope) == 5 else None
    return None


def header_access_key_id(authorization: str) -> str:
    """The access key id of a SigV4 Authorization header's credential (empty if none)."""
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        return ""
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        if key == "Credential":
            return value.split("/", 1)[0]
    return ""


def parse_query(raw_query: str) -> list[tuple[str, str]]:
    """Decoded (key, value) pairs in order, duplicates kept."""
    pairs = []
    for pair in raw_query.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        pairs.append((unquote_plus(key), unquote_plus(value)))
    return pairs


def _amz(ts: _dt.datetime) -> str:
    return ts.astimezone(_dt.timezone.utc).strftime(AMZ_DATE_FORMAT)


def expected_region_for_host(host: str) -> str | None:
    """The region a real STS endpoint expects in the credential scope; None when
    the host is not an AWS STS host (a test server's own address)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    name = name.lower()
    if name in ("sts.amazonaws.com",):
        return "us-east-1"
    for suffix in (".amazonaws.com.cn", ".amazonaws.com", ".api.aws"):
        if name.startswith("sts.") and name.endswith(suffix):
            middle = name[len("sts.") : -len(suffix)]
            # sts.us-west-2.amazonaws.com, sts-fips.us-east-1... are not matched here.
            if middle and "." not in middle:
                return middle
    return None


def verify(
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    now: _dt.datetime,
    lookup: Callable[[str], KeyRecord | None],
) -> KeyRecord:
    """Verify a presigned (query-signed) GetCallerIdentity request. `headers`
    maps lower-case header names to values. Returns the signer's record or
    raises StsError."""
    pairs = parse_query(raw_query)
    params = _single_valued(pairs)

    if params.get("Action") != "GetCallerIdentity":
        raise StsError(400, "InvalidAction", f"Could not find operation {params.get('Action')} for version 2011-06-15")
    for name in REQUIRED_AUTH_PARAMS:
        if not params.get(name):
            raise StsError(
                400,
                "IncompleteSignature",
                f"AWS query-string parameters must include '{name}'. Re-examine the query-string parameters.",
            )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise StsError(400, "IncompleteSignature", f"Unsupported AWS 'algorithm': '{params['X-Amz-Algorithm']}'.")
    return _verify_signed(
        method=method,
        path=path,
        pairs=[(k, v) for k, v in pairs if k != "X-Amz-Signature"],
        headers=headers,
        payload_hash=EMPTY_SHA256,
        credential=params["X-Amz-Credential"],
        amz_date=params["X-Amz-Date"],
        signed_headers=params["X-Amz-SignedHeaders"],
        session_token=params.get("X-Amz-Security-Token"),
        signature=params["X-Amz-Signature"],
        now=now,
        lookup=lookup,
    )


def verify_header_signed(
    method: str,
    path: str,
    raw_query: str,
    headers: Mapping[str, str],
    body: bytes,
    now: _dt.datetime,
    lookup: Callable[[str], KeyRecord | None],
) -> KeyRecord:
    """Verify a request signed in its Authorization header (how SDKs call STS)."""
    auth = headers.get("authorization", "")
    algorithm, _, rest = auth.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise StsError(400, "IncompleteSignature", f"Unsupported AWS 'algorithm': '{algorithm}'.")
    fields = {}
    for part in rest.split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value
    for name in ("Credential", "SignedHeaders", "Signature"):
        if not fields.get(name):
            raise StsError(400, "IncompleteSignature", f"Authorization header requires '{name}' parameter.")
    amz_date = headers.get("x-amz-date")
    if not amz_date:
        raise StsError(
            400,
            "IncompleteSignature",
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
        )
    payload_hash = headers.get("x-amz-content-sha256") or hashlib.sha256(body).hexdigest()
    return _verify_signed(
        method=method,
        path=path,
        pairs=parse_query(raw_query),
        headers=headers,
        payload_hash=payload_hash,
        credential=fields["Credential"],
        amz_date=amz_date,
        signed_headers=fields["SignedHeaders"],
        session_token=headers.get("x-amz-security-token"),
        signature=fields["Signature"],
        now=now,
        lookup=lookup,
    )


def _single_valued(pairs: list[tuple[str, str]]) -> dict[str, str]:
    seen: dict[str, str] = {}
    for key, value in pairs:
        if key in seen:
            # Real STS does not document this case; the stand-in refuses rather
            # than guess which value counts.
            raise StsError(400, "MalformedQueryString", f"Duplicate query parameter '{key}'.")
        seen[key] = value
    return seen


def _verify_signed(
    *,
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    headers: Mapping[str, str],
    payload_hash: str,
    credential: str,
    amz_date: str,
    signed_headers: str,
    session_token: str | None,
    signature: str,
    now: _dt.datetime,
    lookup: Callable[[str], KeyRecord | None],
) -> KeyRecord:
    """The checks both forms share: scope, clock window, key, session token, signature."""
    scope = credential.split("/")
    if len(scope) != 5:
        raise StsError(
            400,
            "IncompleteSignature",
            f"Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, "
            f"got '{'/'.join(['<key>'] + scope[1:])}'",
        )
    access_key_id, scope_date, scope_region, scope_service, terminator = scope

    try:
        signed_at = _dt.datetime.strptime(amz_date, AMZ_DATE_FORMAT).replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        raise StsError(
            400,
            "IncompleteSignature",
            f"Date must be in ISO-8601 'basic format'. Got '{amz_date}'. See http://en.wikipedia.org/wiki/ISO_8601",
        ) from None

    if scope_date != amz_date[:8]:
        raise StsError(
            403,
            "SignatureDoesNotMatch",
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: "
            f"'{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.",
        )
    if terminator != "aws4_request":
        raise StsError(
            403,
            "SignatureDoesNotMatch",
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{terminator}'. ",
        )
    if scope_service != SERVICE:
        raise StsError(403, "SignatureDoesNotMatch", f"Credential should be scoped to correct service: '{SERVICE}'. ")

    expected_region = expected_region_for_host(headers.get("host", ""))
    if expected_region is not None and scope_region != expected_region:
        raise StsError(403, "SignatureDoesNotMatch", "Credential should be scoped to a valid region. ")

    names = [name.strip().lower() for name in signed_headers.split(";")]
    if "host" not in names:
        raise StsError(
            403,
            "SignatureDoesNotMatch",
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
        )

    now = now.astimezone(_dt.timezone.utc)
    if now - signed_at > WINDOW:
        raise StsError(
            403,
            "SignatureDoesNotMatch",
            f"Signature expired: {amz_date} is now earlier than {_amz(now - WINDOW)} ({_amz(now)} - 15 min.)",
        )
    if signed_at - now > WINDOW:
        raise StsError(
            403,
            "SignatureDoesNotMatch",
            f"Signature not yet current: {amz_date} is still later than {_amz(now + WINDOW)} ({_amz(now)} + 15 min.)",
        )

    record = lookup(access_key_id)
    if record is None or not record.active:
        raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
    if record.session_token is None:
        if session_token is not None:
            raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
    else:
        if session_token is None or not hmac.compare_digest(session_token.encode(), record.session_token.encode()):
            raise StsError(403, "InvalidClientTokenId", MSG_INVALID_TOKEN)
        if record.expiration is not None and now >= record.expiration:
            raise StsError(403, "ExpiredToken", MSG_EXPIRED_TOKEN)

    expected = compute_signature(
        method=method,
        path=path,
        pairs=pairs,
        headers={name: headers.get(name, "") for name in names},
        payload_hash=payload_hash,
        secret_access_key=record.secret_access_key,
        access_key_id=access_key_id,
        amz_date=amz_date,
        region=scope_region,
    )
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise StsError(403, "SignatureDoesNotMatch", MSG_SIGNATURE_MISMATCH)
    return record


def compute_signature(
    *,
    method: str,
    path: str,
    pairs: list[tuple[str, str]],
    headers: Mapping[str, str],
    payload_hash: str,
    secret_access_key: str,
    access_key_id: str,
    amz_date: str,
    region: str,
) -> str:
    """Recompute the SigV4 signature with botocore's signer over exactly the
    given (decoded) query pairs, signed headers and payload hash."""
    # Imported here: botocore.auth costs ~0.2 s and is not needed to start serving.
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.compat import HTTPHeaders
    from botocore.credentials import Credentials

    class _ExactHeaders(SigV4Auth):
        # botocore would drop a few headers (user-agent, expect, ...) and add
        # host; the verifier signs exactly what the client named.
        def payload(self, request):
            return payload_hash

        def headers_to_sign(self, request):
            header_map = HTTPHeaders()
            for name, value in request.headers.items():
                header_map[name.lower()] = value
            return header_map

    request = AWSRequest(
        method=method.upper(),
        url=f"https://{headers.get('host', '')}{path}",
        headers=dict(headers),
        params=list(pairs),
    )
    request.context["timestamp"] = amz_date
    signer = _ExactHeaders(Credentials(access_key_id, secret_access_key), SERVICE, region)
    canonical = signer.canonical_request(request)
    return signer.signature(signer.string_to_sign(request, canonical), request)
