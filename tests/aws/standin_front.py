"""The WSGI front of the AWS stand-in.

Three kinds of requests:
- `/_testbed/...`: the admin API (JSON), for the Rust testbed and the tests;
- presigned STS GetCallerIdentity (query-signed, no Authorization header):
  verified here against the secret moto holds, answered like STS;
- everything else: moto's own server application, as is.
"""

from __future__ import annotations

import datetime as _dt
import io
import json
import uuid
from collections.abc import Callable
from xml.sax.saxutils import escape

import standin_sigv4 as sigv4
from standin_eks import EksFront
from standin_world import AdminError, World

STS_XMLNS = "https://sts.amazonaws.com/doc/2011-06-15/"

_STATUS_TEXT = {
    200: "200 OK",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    500: "500 Internal Server Error",
}


def _utcnow() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class Front:
    def __init__(self, world: World, clock: Callable[[], _dt.datetime] = _utcnow):
        self.world = world
        self.clock = clock
        self._moto = None
        self.eks = EksFront(world)

    # ---- moto, as is ----

    def _moto_app(self):
        if self._moto is None:
            with self.world.lock:
                if self._moto is None:
                    from moto.moto_server.werkzeug_app import (
                        DomainDispatcherApplication,
                        create_backend_app,
                    )

                    self._moto = DomainDispatcherApplication(create_backend_app)
        return self._moto

    def warm_up(self) -> None:
        """Import moto's server and the services the testbed uses, and build their
        Flask apps, so the first real requests do not pay for it."""
        app = self._moto_app()
        self.world.warm_up()
        with self.world.lock:
            for service in ("iam", "sts", "eks"):
                if service not in app.app_instances:
                    app.app_instances[service] = app.create_app(service)
        import botocore.auth  # noqa: F401  (used by every presigned verification)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_testbed/") or path == "/_testbed":
            return self._admin(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        raw_query = environ.get("QUERY_STRING", "")
        if sigv4.is_presigned_get_caller_identity(method, raw_query, "HTTP_AUTHORIZATION" in environ):
            return self._presigned(environ, start_response)
        service = sigv4.header_signed_service(environ.get("HTTP_AUTHORIZATION", ""))
        if service == "sts":
            refused = self._check_header_signed_sts(environ, start_response)
            if refused is not None:
                return refused
        if service == "eks":  # access entries and accessConfig: standin_eks.py
            caller = self.world.lookup_key(sigv4.header_access_key_id(environ.get("HTTP_AUTHORIZATION", "")))
            answered = self.eks.handle(environ, start_response, self._call_moto, _read_body, caller)
            if answered is not None:
                return answered
        status, headers, data = self._call_moto(environ)
        start_response(status, headers)
        return [data]

    def _call_moto(self, environ) -> tuple[str, list, bytes]:
        app = self._moto_app()
        answer: list = []

        def capture(status, headers, exc_info=None):
            answer[:] = [status, headers]

        with self.world.lock:
            body = app(environ, capture)
            try:
                data = b"".join(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()
        return answer[0], answer[1], data

    # ---- presigned GetCallerIdentity ----

    def _presigned(self, environ, start_response):
        headers = _headers(environ)
        want_json = "application/json" in headers.get("accept", "")
        request_id = str(uuid.uuid4())
        try:
            record = sigv4.verify(
                method=environ.get("REQUEST_METHOD", "GET"),
                path=environ.get("PATH_INFO", "/") or "/",
                raw_query=environ.get("QUERY_STRING", ""),
                headers=headers,
                now=self.clock(),
                lookup=self.world.lookup_key,
            )
        except sigv4.StsError as err:
            return _respond(start_response, err.status, *_sts_error(err, request_id, want_json), request_id)
        return _respond(start_response, 200, *_sts_identity(record, request_id, want_json), request_id)

    def _check_header_signed_sts(self, environ, start_response):
        """moto answers GetCallerIdentity for any access key, inventing
        `user/moto` for keys it never issued, and checks no signature. Real STS
        refuses those: check GetCallerIdentity's signature here, then let moto
        answer. Returns a response when refused, None to go on."""
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        params = dict(sigv4.parse_query(environ.get("QUERY_STRING", "")))
        if "x-www-form-urlencoded" in environ.get("CONTENT_TYPE", ""):
            params.update(sigv4.parse_query(body.decode("utf-8", "replace")))
        if params.get("Action") != "GetCallerIdentity":
            return None
        request_id = str(uuid.uuid4())
        try:
            sigv4.verify_header_signed(
                method=environ.get("REQUEST_METHOD", "POST"),
                path=environ.get("PATH_INFO", "/") or "/",
                raw_query=environ.get("QUERY_STRING", ""),
                headers=_headers(environ),
                body=body,
                now=self.clock(),
                lookup=self.world.lookup_key,
            )
        except sigv4.StsError as err:
            return _respond(start_response, err.status, *_sts_error(err, request_id, False), request_id)
        return None

    # ---- the admin API ----

    def _admin(self, environ, start_response):
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "").rstrip("/")
        routes = {
            "/_testbed/health": ("GET", lambda body: {"ok": True}),
            "/_testbed/users": (
                "POST",
                lambda body: self.world.create_user(body.get("name"), body.get("path") or "/"),
            ),
            "/_testbed/roles": (
                "POST",
                lambda body: self.world.create_role(body.get("name"), body.get("path") or "/", body.get("trust", "*")),
            ),
            "/_testbed/clusters": (
                "POST",
                lambda body: self.world.create_cluster(
                    body.get("name"),
                    body.get("endpoint"),
                    body.get("ca_pem"),
                    body.get("creator_arn"),
                    role_arn=body.get("role_arn"),
                    version=body.get("version"),
                    auth_mode=body.get("auth_mode"),
                    bootstrap_admin=body.get("bootstrap_cluster_creator_admin_permissions"),
                ),
            ),
            "/_testbed/roles/delete": ("POST", lambda body: self.world.delete_role(body.get("name"))),
            "/_testbed/assume-role": (
                "POST",
                lambda body: self.world.assume_role(body.get("role_arn"), body.get("session_name")),
            ),
            "/_testbed/eks/access": ("POST", lambda body: self.eks.admin_access(body.get("cluster"), body.get("since"))),
            "/_testbed/eks/faults": ("POST", lambda body: self.eks.admin_faults(body)),
            "/_testbed/eks/calls": ("POST", lambda body: self.eks.admin_calls(body)),
        }
        route = routes.get(path)
        if route is None:
            return _json(start_response, 404, {"error": f"no admin route `{path}`"})
        if method != route[0]:
            return _json(start_response, 405, {"error": f"`{path}` takes {route[0]}, not {method}"})
        body: dict = {}
        if method == "POST":
            try:
                body = json.loads(_read_body(environ) or b"{}")
            except (ValueError, json.JSONDecodeError) as err:
                return _json(start_response, 400, {"error": f"request body is not JSON: {err}"})
            if not isinstance(body, dict):
                return _json(start_response, 400, {"error": "request body must be a JSON object"})
        try:
            result = route[1](body)
        except AdminError as err:
            return _json(start_response, err.status, {"error": err.message})
        except Exception as err:  # a moto refusal we did not foresee: say what it was
            return _json(start_response, 500, {"error": f"{type(err).__name__}: {err}"})
        return _json(start_response, 200, result)


def _read_body(environ) -> bytes:
    if environ.get("wsgi.input_terminated"):  # chunked: werkzeug ends the stream for us
        return environ["wsgi.input"].read()
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _headers(environ) -> dict[str, str]:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").lower()] = value
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").lower()] = environ[key]
    return headers


def _json(start_response, status: int, obj) -> list[bytes]:
    data = json.dumps(obj).encode()
    start_response(_STATUS_TEXT[status], [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _respond(start_response, status: int, content_type: str, data: bytes, request_id: str) -> list[bytes]:
    start_response(
        _STATUS_TEXT[status],
        [
            ("Content-Type", content_type),
            ("Content-Length", str(len(data))),
            ("x-amzn-RequestId", request_id),
        ],
    )
    return [data]


def _sts_identity(record: sigv4.KeyRecord, request_id: str, want_json: bool) -> tuple[str, bytes]:
    if want_json:
        # The shape aws-iam-authenticator parses (it sends Accept: application/json).
        doc = {
            "GetCallerIdentityResponse": {
                "GetCallerIdentityResult": {"Account": record.account, "Arn": record.arn, "UserId": record.user_id},
                "ResponseMetadata": {"RequestId": request_id},
            }
        }
        return "application/json", json.dumps(doc).encode()
    xml = (
        f'<GetCallerIdentityResponse xmlns="{STS_XMLNS}">\n'
        "  <GetCallerIdentityResult>\n"
        f"    <Arn>{escape(record.arn)}</Arn>\n"
        f"    <UserId>{escape(record.user_id)}</UserId>\n"
        f"    <Account>{escape(record.account)}</Account>\n"
        "  </GetCallerIdentityResult>\n"
        "  <ResponseMetadata>\n"
        f"    <RequestId>{request_id}</RequestId>\n"
        "  </ResponseMetadata>\n"
        "</GetCallerIdentityResponse>\n"
    )
    return "text/xml", xml.encode()


def _sts_error(err: sigv4.StsError, request_id: str, want_json: bool) -> tuple[str, bytes]:
    if want_json:
        doc = {"Error": {"Code": err.code, "Message": err.message, "Type": err.type}, "RequestId": request_id}
        return "application/json", json.dumps(doc).encode()
    xml = (
        f'<ErrorResponse xmlns="{STS_XMLNS}">\n'
        "  <Error>\n"
        f"    <Type>{escape(err.type)}</Type>\n"
        f"    <Code>{escape(err.code)}</Code>\n"
        f"    <Message>{escape(err.message)}</Message>\n"
        "  </Error>\n"
        f"  <RequestId>{request_id}</RequestId>\n"
        "</ErrorResponse>\n"
    )
    return "text/xml", xml.encode()
