"""EKS access entries and authentication modes, which moto does not have.

The front hands this module every request whose SigV4 credential scope names
the service `eks`. It answers the access-entry operations itself, wraps moto's
CreateCluster / DescribeCluster / DeleteCluster to add `accessConfig`, and
answers UpdateClusterConfig with `accessConfig`, DescribeUpdate and ListUpdates
(moto has neither); everything else goes to moto unchanged.

Wire format: the EKS service model of botocore (`botocore/data/eks/2017-11-01/
service-2.json`): REST JSON, URIs, members, status codes; errors as
`x-amzn-ErrorType: <Code>` with a JSON body `{"message": ...}` (botocore's
rest-json parser reads the code from that header).

Rules and messages, with their sources:
- EKS user guide, "Create access entries" (creating-access-entries.html): one
  entry per principal; a role ARN keeps its path; EKS stores the principal's
  unique id; types; default usernames; reserved username prefixes and the colon
  before {{SessionName}}; no service-linked roles.
- EKS user guide, "Associate access policies" (access-policies.html): one
  association per policy, re-associating replaces the scope; namespace
  wildcards.
- EKS user guide, "Change authentication mode" (setting-up-access-entries.html)
  and grant-k8s-access.html: the mode only moves towards API.
- EKS API reference (botocore model docs): CreateAccessEntry `type` rules,
  ListAccessEntries `associatedPolicyArn`, maxResults 1..100 and nextToken,
  DeleteAccessEntry, `AccessConfigResponse`, `Update`.
- Messages EKS is seen to return (quoted in public issue threads):
  "No cluster found for name: NAME." (moto has it too);
  "The specified principalArn is invalid: invalid principal." (400,
  terraform-aws-modules/terraform-aws-eks#2969);
  "The specified principalArn could not be found. You can view your available
  access entries with 'list-access-entries'." (404, #3024 there);
  "The specified access entry resource is already in use on this cluster."
  (409, #3293 there);
  "The kubernetes group name system:masters is invalid, it cannot start with
  system:" (400, #2915 there);
  "The username must not begin with system:" (400,
  aws-ia/terraform-aws-eks-blueprints#2004);
  'This operation can only be performed on Access Entries with a type of
  "STANDARD".' (400, aws-controllers-k8s/community#2144);
  "The caller is not allowed to modify access entries with a principalArn value
  of a Service Linked Role" (400, hashicorp/terraform-provider-aws#36447);
  "The cluster's authentication mode must be set to one of [API,
  API_AND_CONFIG_MAP] to perform this operation." (InvalidRequestException 400,
  aws-ia/terraform-aws-eks-blueprints#1877);
  "Unsupported authentication mode update from CONFIG_MAP to API" (400,
  pulumi/pulumi-eks#1493; the same words for an unchanged mode, aws/aws-cdk#31032).
  Other messages are ours (tests/aws/README.md lists them).

The catalogue of access policies is crates/eks-auth/src/access/policies.json,
shared with the Rust core.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

MODES = ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API")
TYPES = ("STANDARD", "EC2_LINUX", "EC2_WINDOWS", "FARGATE_LINUX", "HYBRID_LINUX", "EC2", "HYPERPOD_LINUX")
RESERVED_USERNAME_PREFIXES = ("system:", "eks:", "aws:", "amazon:", "iam:")
# How long an UpdateClusterConfig stays InProgress before the new mode counts.
UPDATE_SECONDS = float(os.environ.get("EKS_STANDIN_UPDATE_SECONDS", "1.0"))

_HERE = os.path.dirname(os.path.abspath(__file__))
CATALOGUE_PATH = os.path.join(_HERE, "..", "..", "crates", "eks-auth", "src", "access", "policies.json")

MSG_NO_ENTRY = ("The specified principalArn could not be found. You can view your available access entries "
                "with 'list-access-entries'.")
MSG_INVALID_PRINCIPAL = "The specified principalArn is invalid: invalid principal."
MSG_IN_USE = "The specified access entry resource is already in use on this cluster."
MSG_STANDARD_ONLY = 'This operation can only be performed on Access Entries with a type of "STANDARD".'
MSG_SERVICE_LINKED = "The caller is not allowed to modify access entries with a principalArn value of a Service Linked Role"
MSG_MODE = "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] to perform this operation."


def load_catalogue() -> list[dict]:
    with open(CATALOGUE_PATH, encoding="utf-8") as f:
        return sorted(json.load(f)["policies"], key=lambda p: p["name"])


class EksError(Exception):
    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.extra = extra


def _not_found(message: str) -> EksError:
    return EksError(404, "ResourceNotFoundException", message)


def _invalid(message: str) -> EksError:
    return EksError(400, "InvalidParameterException", message)


@dataclass
class Association:
    policy_arn: str
    scope: dict
    associated_at: float
    modified_at: float

    def wire(self) -> dict:
        return {
            "policyArn": self.policy_arn,
            "accessScope": self.scope,
            "associatedAt": self.associated_at,
            "modifiedAt": self.modified_at,
        }


@dataclass
class Entry:
    seq: int
    principal_arn: str
    principal_id: str
    type: str
    username: str
    groups: list[str]
    tags: dict
    arn: str
    created_at: float
    modified_at: float
    policies: dict[str, Association] = field(default_factory=dict)

    def wire(self, cluster: str) -> dict:
        out = {
            "clusterName": cluster,
            "principalArn": self.principal_arn,
            "kubernetesGroups": list(self.groups),
            "accessEntryArn": self.arn,
            "createdAt": self.created_at,
            "modifiedAt": self.modified_at,
            "tags": dict(self.tags),
            "username": self.username,
            "type": self.type,
        }
        return out


@dataclass
class Update:
    id: str
    type: str
    params: list[dict]
    created_at: float
    target_mode: str
    done: bool = False

    def status(self, now: float) -> str:
        return "Successful" if self.done or now - self.created_at >= UPDATE_SECONDS else "InProgress"

    def wire(self, now: float) -> dict:
        return {
            "id": self.id,
            "status": self.status(now),
            "type": self.type,
            "params": self.params,
            "createdAt": self.created_at,
            "errors": [],
        }


@dataclass
class ClusterAccess:
    mode: str
    bootstrap: bool
    creator_arn: str | None
    entries: dict[str, Entry] = field(default_factory=dict)  # principal ARN -> entry
    updates: dict[str, Update] = field(default_factory=dict)
    seq: int = 0


class AccessState:
    """Per-cluster access state. Callers hold `World.lock`."""

    def __init__(self, world):
        self.world = world
        self.clusters: dict[str, ClusterAccess] = {}
        self._catalogue: list[dict] | None = None
        # principal ARN -> set of denied actions ("eks:CreateAccessEntry"); action -> throttles left
        self.denied: dict[str, set[str]] = {}
        self.throttles: dict[str, int] = {}
        # cluster name -> operation -> calls received (answered or refused), for the tests that
        # count calls (eks-grant: at most one DescribeCluster per command)
        self.calls: dict[str, dict[str, int]] = {}
        # Bumped on every change the Kubernetes side reads (a mode, an entry, a policy, a cluster
        # registered or forgotten), so that it can ask "anything new since N?" instead of reading
        # every entry again: see `snapshot`.
        self.generation = 0

    def changed(self) -> None:
        self.generation += 1

    @property
    def catalogue(self) -> list[dict]:
        if self._catalogue is None:
            self._catalogue = load_catalogue()
        return self._catalogue

    def policy_arn(self, name: str) -> str:
        return f"arn:{self.world.partition}:eks::aws:cluster-access-policy/{name}"

    def known_policy(self, arn: str) -> bool:
        return any(self.policy_arn(p["name"]) == arn for p in self.catalogue)

    # ---- clusters ----

    def register(self, name: str, mode: str, bootstrap: bool, creator_arn: str | None) -> None:
        if mode not in MODES:
            raise EksError(400, "InvalidParameterException", f"Unsupported authentication mode {mode}")
        state = ClusterAccess(mode=mode, bootstrap=bootstrap, creator_arn=creator_arn)
        self.clusters[name] = state
        if mode != "CONFIG_MAP" and bootstrap and creator_arn:
            self._bootstrap_creator(name, state)
        self.changed()

    def forget(self, name: str) -> None:
        self.clusters.pop(name, None)
        self.changed()

    def get(self, name: str) -> ClusterAccess:
        """The access state of a cluster moto knows; clusters made before this module saw
        them (or by moto directly) start in CONFIG_MAP."""
        from moto.eks.models import eks_backends

        from standin_world import ACCOUNT_ID

        moto_cluster = eks_backends[ACCOUNT_ID][self.world.region].clusters.get(name)
        if moto_cluster is None:
            if self.clusters.pop(name, None) is not None:
                self.changed()
            raise _not_found(f"No cluster found for name: {name}.")
        state = self.clusters.get(name)
        if state is None:
            state = self.clusters[name] = ClusterAccess(mode="CONFIG_MAP", bootstrap=True, creator_arn=None)
            self.changed()
        self._settle(name, state)
        return state

    def _settle(self, name: str, state: ClusterAccess) -> None:
        """Apply finished mode updates (EKS changes the mode when the update completes)."""
        now = time.time()
        for update in state.updates.values():
            if not update.done and update.status(now) == "Successful":
                update.done = True
                previous = state.mode
                state.mode = update.target_mode
                self.changed()
                # Turning access entries on gives the creator the access it had implicitly
                # (user guide, access-entries.html, "Legacy cluster access configuration").
                if previous == "CONFIG_MAP" and state.bootstrap and state.creator_arn:
                    self._bootstrap_creator(name, state)

    def cluster_arn(self, name: str) -> str:
        from standin_world import ACCOUNT_ID

        return f"arn:{self.world.partition}:eks:{self.world.region}:{ACCOUNT_ID}:cluster/{name}"

    def _bootstrap_creator(self, name: str, state: ClusterAccess) -> None:
        principal = self.world.iam_principal_for(state.creator_arn)
        if principal is None or principal["arn"] in state.entries:
            return
        entry = self._new_entry(name, state, principal, "STANDARD", None, [], {})
        now = entry.created_at
        admin = self.policy_arn("AmazonEKSClusterAdminPolicy")
        entry.policies[admin] = Association(admin, {"type": "cluster", "namespaces": []}, now, now)

    def _new_entry(self, cluster: str, state: ClusterAccess, principal: dict, etype: str,
                   username: str | None, groups: list[str], tags: dict) -> Entry:
        from standin_world import ACCOUNT_ID

        state.seq += 1
        now = time.time()
        kind, name = principal["kind"], principal["name"]
        entry = Entry(
            seq=state.seq,
            principal_arn=principal["arn"],
            principal_id=principal["id"],
            type=etype,
            username=username if username is not None else default_username(principal, etype),
            groups=list(groups),
            tags=dict(tags),
            arn=(f"arn:{self.world.partition}:eks:{self.world.region}:{ACCOUNT_ID}:access-entry/{cluster}/"
                 f"{kind}/{principal['account']}/{name}/{uuid.uuid4()}"),
            created_at=now,
            modified_at=now,
        )
        state.entries[entry.principal_arn] = entry
        return entry

    def snapshot(self, name: str, since: int | None = None) -> dict:
        """What the Kubernetes side needs: the mode and every entry with its unique id, and the
        generation they are at. Given the generation it last read (`since`) and nothing changed
        since, only `{"generation": N, "unchanged": true}`: the Kubernetes side re-reads once a
        second, and a cluster of a thousand entries is a quarter of a megabyte to build, send
        and parse each time."""
        state = self.get(name)  # settles finished mode updates first, which is a change
        if since == self.generation:
            return {"generation": self.generation, "unchanged": True}
        return {
            "generation": self.generation,
            "authenticationMode": state.mode,
            "creatorArn": state.creator_arn,
            "entries": [
                {
                    "principalArn": e.principal_arn,
                    "principalId": e.principal_id,
                    "type": e.type,
                    "username": e.username,
                    "kubernetesGroups": list(e.groups),
                    "policies": [{"policyArn": a.policy_arn, "accessScope": a.scope} for a in e.policies.values()],
                }
                for e in sorted(state.entries.values(), key=lambda e: e.seq)
            ],
        }


def default_username(principal: dict, etype: str) -> str:
    """creating-access-entries.html, "Username value that Amazon EKS automatically sets"."""
    if etype == "STANDARD":
        if principal["kind"] == "role":
            return (f"arn:{principal['partition']}:sts::{principal['account']}:assumed-role/"
                    f"{principal['name']}/{{{{SessionName}}}}")
        return principal["arn"]
    if etype in ("EC2_LINUX", "EC2_WINDOWS", "EC2"):
        return "system:node:{{EC2PrivateDNSName}}"
    return "system:node:{{SessionName}}"


def check_username(username: object) -> None:
    if not isinstance(username, str) or not username:
        raise _invalid("The username must be a non-empty string.")
    for prefix in RESERVED_USERNAME_PREFIXES:
        if username.startswith(prefix):
            raise _invalid(f"The username must not begin with {prefix}")
    for template in ("{{SessionNameRaw}}", "{{SessionName}}"):
        at = username.find(template)
        if at >= 0 and ":" not in username[:at]:
            raise _invalid(f"The username must contain a colon before {template}.")


def check_groups(groups: object) -> list[str]:
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise _invalid("The kubernetesGroups parameter must be a list of strings.")
    for g in groups:
        if not g:
            raise _invalid("The kubernetes group name  is invalid, it cannot be empty")
        if g.startswith("system:"):
            raise _invalid(f"The kubernetes group name {g} is invalid, it cannot start with system:")
    return list(groups)


def check_scope(scope: object) -> dict:
    if not isinstance(scope, dict) or scope.get("type") not in ("cluster", "namespace"):
        raise _invalid("The accessScope type must be one of [cluster, namespace].")
    namespaces = scope.get("namespaces") or []
    if not isinstance(namespaces, list) or not all(isinstance(n, str) and n for n in namespaces):
        raise _invalid("The accessScope namespaces must be a list of non-empty strings.")
    if scope["type"] == "namespace" and not namespaces:
        raise _invalid("The accessScope namespaces must not be empty for an access scope of type namespace.")
    if scope["type"] == "cluster" and namespaces:
        raise _invalid("The accessScope namespaces must be empty for an access scope of type cluster.")
    return {"type": scope["type"], "namespaces": list(namespaces)}


def _page(items: list, query: dict, key) -> tuple[list, str | None]:
    """maxResults 1..100 (default 100) and an opaque nextToken: the key of the last item given."""
    raw_max = query.get("maxResults")
    limit = 100
    if raw_max is not None:
        try:
            limit = int(raw_max)
        except ValueError:
            raise _invalid(f"The maxResults parameter `{raw_max}` is not an integer.") from None
        if not 1 <= limit <= 100:
            raise _invalid(f"The maxResults parameter must be between 1 and 100, not {limit}.")
    token = query.get("nextToken")
    if token:
        try:
            after = json.loads(base64.urlsafe_b64decode(token.encode()).decode())["after"]
        except Exception:
            raise _invalid("The nextToken parameter is invalid.") from None
        items = [i for i in items if key(i) > after]
    page = items[:limit]
    next_token = None
    if len(items) > limit:
        next_token = base64.urlsafe_b64encode(json.dumps({"after": key(page[-1])}).encode()).decode()
    return page, next_token


_ROUTES: list[tuple[str, re.Pattern, str]] = [
    ("POST", re.compile(r"^/clusters$"), "CreateCluster"),
    ("GET", re.compile(r"^/clusters/(?P<name>[^/]+)$"), "DescribeCluster"),
    ("DELETE", re.compile(r"^/clusters/(?P<name>[^/]+)$"), "DeleteCluster"),
    ("POST", re.compile(r"^/clusters/(?P<name>[^/]+)/update-config$"), "UpdateClusterConfig"),
    ("GET", re.compile(r"^/clusters/(?P<name>[^/]+)/updates$"), "ListUpdates"),
    ("GET", re.compile(r"^/clusters/(?P<name>[^/]+)/updates/(?P<update>[^/]+)$"), "DescribeUpdate"),
    ("POST", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries$"), "CreateAccessEntry"),
    ("GET", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries$"), "ListAccessEntries"),
    ("GET", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries/(?P<principal>[^/]+)$"), "DescribeAccessEntry"),
    ("POST", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries/(?P<principal>[^/]+)$"), "UpdateAccessEntry"),
    ("DELETE", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries/(?P<principal>[^/]+)$"), "DeleteAccessEntry"),
    ("POST", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries/(?P<principal>[^/]+)/access-policies$"),
     "AssociateAccessPolicy"),
    ("GET", re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries/(?P<principal>[^/]+)/access-policies$"),
     "ListAssociatedAccessPolicies"),
    ("DELETE",
     re.compile(r"^/clusters/(?P<name>[^/]+)/access-entries/(?P<principal>[^/]+)/access-policies/(?P<policy>[^/]+)$"),
     "DisassociateAccessPolicy"),
    ("GET", re.compile(r"^/access-policies$"), "ListAccessPolicies"),
]


def route(method: str, raw_path: str) -> tuple[str, dict] | None:
    """The operation and its decoded path parameters. The raw path is split on `/` first
    and each segment percent-decoded after, so a principal ARN sent as
    `arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fteam%2Fdev` stays one segment."""
    segments = raw_path.split("/")
    # Match on the still-encoded path (segments never contain `/`), decode the captures.
    path = "/".join(segments)
    for m, pattern, op in _ROUTES:
        if m != method:
            continue
        hit = pattern.match(path)
        if hit:
            return op, {k: unquote(v) for k, v in hit.groupdict().items()}
    return None


class EksFront:
    """The request side: parse, check, call `AccessState`, answer as EKS."""

    def __init__(self, world):
        self.world = world
        self.state: AccessState = world.access
        self._local = threading.local()

    def handle(self, environ, start_response, call_moto, read_body, caller):
        """Answer an `eks` request, or return None to let moto answer it as is."""
        method = environ.get("REQUEST_METHOD", "GET")
        raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI") or environ.get("PATH_INFO", "")
        raw_path = raw_uri.split("?", 1)[0]
        found = route(method, raw_path)
        if found is None:
            return None
        op, params = found
        with self.world.lock:
            per_cluster = self.state.calls.setdefault(params.get("name", ""), {})
            per_cluster[op] = per_cluster.get(op, 0) + 1
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        body_bytes = read_body(environ)
        import io

        environ["wsgi.input"] = io.BytesIO(body_bytes)
        environ["CONTENT_LENGTH"] = str(len(body_bytes))
        request_id = str(uuid.uuid4())
        try:
            body = json.loads(body_bytes) if body_bytes.strip() else {}
            if not isinstance(body, dict):
                raise ValueError("not an object")
        except ValueError:
            return _error(start_response, EksError(400, "SerializationException", "The request body is not a JSON object."),
                          request_id)
        try:
            with self.world.lock:
                self._gate(op, params, caller)
                handler = getattr(self, "_" + _snake(op))
                try:
                    result = handler(params, query, body, caller, environ, call_moto)
                finally:
                    if not op.startswith(("Describe", "List")):
                        # A write (or a refused one: counting it too is only a wasted re-read).
                        self.state.changed()
        except EksError as err:
            return _error(start_response, err, request_id)
        if result is None:
            return None
        if isinstance(result, tuple):  # a moto answer passed through (an error)
            status_line, headers, data = result
            start_response(status_line, headers)
            return [data]
        return _ok(start_response, result, request_id)

    # ---- the admin API (for eks-testbed and the tests) ----

    def admin_access(self, cluster: object, since: object = None) -> dict:
        from standin_world import AdminError

        if not isinstance(cluster, str) or not cluster:
            raise AdminError(400, "`cluster` must name a cluster")
        if since is not None and (not isinstance(since, int) or isinstance(since, bool)):
            raise AdminError(400, "`since` must be the integer `generation` of an earlier answer")
        with self.world.lock:
            try:
                return self.state.snapshot(cluster, since)
            except EksError as err:
                raise AdminError(err.status, err.message) from err

    def admin_calls(self, body: dict) -> dict:
        """`{"cluster": NAME}`: the EKS calls received for that cluster so far, by operation
        (`{"calls": {"DescribeCluster": 2, ...}}`); with `"reset": true` the count starts again
        after this answer."""
        from standin_world import AdminError

        cluster = body.get("cluster")
        if not isinstance(cluster, str) or not cluster:
            raise AdminError(400, "`cluster` must name a cluster")
        with self.world.lock:
            calls = dict(self.state.calls.get(cluster, {}))
            if body.get("reset"):
                self.state.calls.pop(cluster, None)
        return {"calls": calls}

    def admin_faults(self, body: dict) -> dict:
        """`{"deny": {"principal_arn": ARN, "actions": ["eks:CreateAccessEntry", ...]}}` makes those
        calls by that caller answer AccessDeniedException; `{"throttle": {"operation":
        "ListAccessEntries", "count": N}}` makes the next N calls answer ThrottlingException;
        `{"clear": true}` removes both."""
        from standin_world import AdminError

        with self.world.lock:
            if body.get("clear"):
                self.state.denied.clear()
                self.state.throttles.clear()
            deny = body.get("deny")
            if deny is not None:
                arn, actions = deny.get("principal_arn"), deny.get("actions")
                if not isinstance(arn, str) or not isinstance(actions, list):
                    raise AdminError(400, "`deny` needs `principal_arn` and a list `actions`")
                self.state.denied.setdefault(arn, set()).update(actions)
            throttle = body.get("throttle")
            if throttle is not None:
                op, count = throttle.get("operation"), throttle.get("count", 1)
                if not isinstance(op, str) or not isinstance(count, int):
                    raise AdminError(400, "`throttle` needs `operation` and an integer `count`")
                self.state.throttles[op] = count
            return {"denied": {k: sorted(v) for k, v in self.state.denied.items()},
                    "throttles": dict(self.state.throttles)}

    # ---- faults the tests inject: AccessDeniedException and ThrottlingException ----

    def _gate(self, op: str, params: dict, caller) -> None:
        action = "eks:" + op
        left = self.state.throttles.get(op, 0)
        if left > 0:
            self.state.throttles[op] = left - 1
            raise EksError(429, "ThrottlingException", "Rate exceeded")
        denied = set()
        if caller is not None:
            denied = self.state.denied.get(caller.arn, set())
            principal = self.world.iam_principal_for(caller.arn)
            if principal is not None:
                denied = denied | self.state.denied.get(principal["arn"], set())
        if action in denied:
            resource = self.state.cluster_arn(params["name"]) if "name" in params else "*"
            raise EksError(403, "AccessDeniedException",
                           f"User: {caller.arn} is not authorized to perform: {action} on resource: {resource}")

    # ---- clusters (moto's, with accessConfig) ----

    def _create_cluster(self, params, query, body, caller, environ, call_moto):
        access = body.get("accessConfig") or {}
        mode = access.get("authenticationMode", "CONFIG_MAP")
        if mode not in MODES:
            raise _invalid(f"Unsupported authentication mode {mode}")
        bootstrap = access.get("bootstrapClusterCreatorAdminPermissions", True)
        status_line, headers, data = call_moto(environ)
        if not status_line.startswith("200"):
            return status_line, headers, data
        doc = json.loads(data)
        name = doc["cluster"]["name"]
        self.state.register(name, mode, bool(bootstrap), caller.arn if caller else None)
        doc["cluster"]["accessConfig"] = {"bootstrapClusterCreatorAdminPermissions": bool(bootstrap),
                                          "authenticationMode": mode}
        return doc

    def _describe_cluster(self, params, query, body, caller, environ, call_moto):
        status_line, headers, data = call_moto(environ)
        if not status_line.startswith("200"):
            return status_line, headers, data
        doc = json.loads(data)
        state = self.state.get(params["name"])
        doc["cluster"]["accessConfig"] = {"bootstrapClusterCreatorAdminPermissions": state.bootstrap,
                                          "authenticationMode": state.mode}
        if any(u.status(time.time()) == "InProgress" for u in state.updates.values()):
            doc["cluster"]["status"] = "UPDATING"
        return doc

    def _delete_cluster(self, params, query, body, caller, environ, call_moto):
        status_line, headers, data = call_moto(environ)
        if status_line.startswith("200"):
            self.state.forget(params["name"])
        return status_line, headers, data

    def _update_cluster_config(self, params, query, body, caller, environ, call_moto):
        access = body.get("accessConfig")
        if access is None:
            return None  # moto's
        others = [k for k in body if k not in ("accessConfig", "clientRequestToken")]
        if others:
            raise _invalid("Only one type of update can be allowed.")
        state = self.state.get(params["name"])
        if not isinstance(access, dict) or "authenticationMode" not in access:
            raise _invalid("The accessConfig parameter needs an authenticationMode.")
        target = access["authenticationMode"]
        if target not in MODES:
            raise _invalid(f"Unsupported authentication mode update from {state.mode} to {target}")
        if any(u.status(time.time()) == "InProgress" for u in state.updates.values()):
            raise EksError(409, "ResourceInUseException", "The cluster has an update in progress.",
                           clusterName=params["name"])
        current = MODES.index(state.mode)
        if MODES.index(target) != current + 1:
            raise _invalid(f"Unsupported authentication mode update from {state.mode} to {target}")
        update = Update(id=str(uuid.uuid4()), type="AccessConfigUpdate",
                        params=[{"type": "AuthenticationMode", "value": target}],
                        created_at=time.time(), target_mode=target)
        state.updates[update.id] = update
        return {"update": update.wire(time.time())}

    def _list_updates(self, params, query, body, caller, environ, call_moto):
        state = self.state.get(params["name"])
        ids = list(state.updates)
        page, token = _page(ids, query, key=ids.index)
        out = {"updateIds": page}
        if token:
            out["nextToken"] = token
        return out

    def _describe_update(self, params, query, body, caller, environ, call_moto):
        state = self.state.get(params["name"])
        update = state.updates.get(params["update"])
        if update is None:
            raise _not_found(f"No update found for ID: {params['update']}.")
        return {"update": update.wire(time.time())}

    # ---- access entries ----

    def _entries_cluster(self, params) -> ClusterAccess:
        state = self.state.get(params["name"])
        if state.mode == "CONFIG_MAP":
            raise EksError(400, "InvalidRequestException", MSG_MODE, clusterName=params["name"])
        return state

    def _entry(self, state: ClusterAccess, principal: str) -> Entry:
        entry = state.entries.get(principal)
        if entry is None:
            raise _not_found(MSG_NO_ENTRY)
        return entry

    def _create_access_entry(self, params, query, body, caller, environ, call_moto):
        name = params["name"]
        state = self._entries_cluster(params)
        principal_arn = body.get("principalArn")
        if not isinstance(principal_arn, str) or not principal_arn:
            raise _invalid("The principalArn parameter is required.")
        etype = body.get("type") or "STANDARD"
        etype_upper = etype.upper() if isinstance(etype, str) else etype
        if etype_upper not in TYPES:
            raise _invalid(f"The type {etype} is invalid. Valid values are {', '.join(TYPES)}.")
        if re.match(r"^arn:[^:]+:iam::\d{12}:role/aws-service-role/", principal_arn):
            raise _invalid(MSG_SERVICE_LINKED)
        principal = self.world.iam_principal(principal_arn)
        if principal is None or (etype_upper != "STANDARD" and principal["kind"] != "role"):
            raise _invalid(MSG_INVALID_PRINCIPAL)
        if principal_arn in state.entries:
            raise EksError(409, "ResourceInUseException", MSG_IN_USE, clusterName=name)
        username = body.get("username")
        groups = body.get("kubernetesGroups")
        if etype_upper != "STANDARD" and (username is not None or groups):
            raise _invalid(MSG_STANDARD_ONLY)
        if username is not None:
            check_username(username)
        groups = check_groups(groups if groups is not None else [])
        tags = body.get("tags") or {}
        entry = self.state._new_entry(name, state, principal, etype_upper, username, groups, tags)
        return {"accessEntry": entry.wire(name)}

    def _describe_access_entry(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        return {"accessEntry": self._entry(state, params["principal"]).wire(params["name"])}

    def _list_access_entries(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        entries = sorted(state.entries.values(), key=lambda e: e.seq)
        policy = query.get("associatedPolicyArn")
        if policy:
            if not self.state.known_policy(policy):
                raise _invalid(f"The specified policyArn is invalid: {policy}")
            entries = [e for e in entries if policy in e.policies]
        page, token = _page(entries, query, key=lambda e: e.seq)
        out = {"accessEntries": [e.principal_arn for e in page]}
        if token:
            out["nextToken"] = token
        return out

    def _update_access_entry(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        entry = self._entry(state, params["principal"])
        username = body.get("username")
        groups = body.get("kubernetesGroups")
        if username is not None:
            check_username(username)
        if groups is not None:
            groups = check_groups(groups)
        if entry.type != "STANDARD" and (username is not None or groups):
            raise _invalid(MSG_STANDARD_ONLY)
        if username is not None:
            entry.username = username
        if groups is not None:
            entry.groups = groups  # replaced whole
        entry.modified_at = time.time()
        return {"accessEntry": entry.wire(params["name"])}

    def _delete_access_entry(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        self._entry(state, params["principal"])
        del state.entries[params["principal"]]  # its associations go with it
        return {}

    def _associate_access_policy(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        entry = self._entry(state, params["principal"])
        policy = body.get("policyArn")
        if not isinstance(policy, str) or not policy:
            raise _invalid("The policyArn parameter is required.")
        scope = check_scope(body.get("accessScope"))
        if entry.type != "STANDARD":
            raise _invalid(MSG_STANDARD_ONLY)
        if not self.state.known_policy(policy):
            raise _invalid(f"The specified policyArn is invalid: {policy}")
        now = time.time()
        existing = entry.policies.get(policy)
        if existing is None:
            entry.policies[policy] = existing = Association(policy, scope, now, now)
        else:
            existing.scope = scope  # re-associating replaces the scope
            existing.modified_at = now
        return {"clusterName": params["name"], "principalArn": entry.principal_arn,
                "associatedAccessPolicy": existing.wire()}

    def _list_associated_access_policies(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        entry = self._entry(state, params["principal"])
        assocs = list(entry.policies.values())
        arns = [a.policy_arn for a in assocs]
        page, token = _page(assocs, query, key=lambda a: arns.index(a.policy_arn))
        out = {"clusterName": params["name"], "principalArn": entry.principal_arn,
               "associatedAccessPolicies": [a.wire() for a in page]}
        if token:
            out["nextToken"] = token
        return out

    def _disassociate_access_policy(self, params, query, body, caller, environ, call_moto):
        state = self._entries_cluster(params)
        entry = self._entry(state, params["principal"])
        if entry.policies.pop(params["policy"], None) is None:
            raise _not_found(f"The specified policyArn {params['policy']} is not associated with this access entry.")
        entry.modified_at = time.time()
        return {}

    def _list_access_policies(self, params, query, body, caller, environ, call_moto):
        policies = [{"name": p["name"], "arn": self.state.policy_arn(p["name"])} for p in self.state.catalogue]
        names = [p["name"] for p in policies]
        page, token = _page(policies, query, key=lambda p: names.index(p["name"]))
        out = {"accessPolicies": page}
        if token:
            out["nextToken"] = token
        return out


def _snake(op: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower()


_STATUS = {200: "200 OK", 400: "400 Bad Request", 403: "403 Forbidden", 404: "404 Not Found",
           409: "409 Conflict", 429: "429 Too Many Requests", 500: "500 Internal Server Error"}


def _ok(start_response, doc: dict, request_id: str) -> list[bytes]:
    data = json.dumps(doc).encode()
    start_response(_STATUS[200], [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                                  ("x-amzn-RequestId", request_id)])
    return [data]


def _error(start_response, err: EksError, request_id: str) -> list[bytes]:
    doc = {"message": err.message, **err.extra}
    data = json.dumps(doc).encode()
    start_response(_STATUS[err.status], [
        ("Content-Type", "application/json"), ("Content-Length", str(len(data))),
        ("x-amzn-RequestId", request_id), ("x-amzn-ErrorType", err.code),
    ])
    return [data]
