"""The moto state the front reads and the admin API writes.

moto's backends are plain Python objects without locks; every access from the
front (moto's own request handling included) goes through `World.lock`, so a
request never sees a half-made user or iterates a dict another thread grows.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import threading

from standin_sigv4 import KeyRecord

ACCOUNT_ID = "123456789012"


class AdminError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class World:
    def __init__(self, region: str):
        self.region = region
        self.lock = threading.RLock()
        # cluster name -> creator ARN, as told by POST /_testbed/clusters
        self.cluster_creators: dict[str, str] = {}
        from standin_eks import AccessState

        # EKS access entries and authentication modes (moto has none).
        self.access = AccessState(self)

    # moto is imported lazily: the process prints READY before paying for it.
    @property
    def partition(self) -> str:
        from moto.utilities.utils import get_partition

        return get_partition(self.region)

    def _iam(self, account: str = ACCOUNT_ID):
        from moto.iam.models import iam_backends

        return iam_backends[account][self.partition]

    def warm_up(self) -> None:
        """Import the moto services the testbed uses."""
        with self.lock:
            from moto.eks.models import eks_backends  # noqa: F401
            from moto.iam.models import iam_backends  # noqa: F401
            from moto.sts.models import sts_backends  # noqa: F401

            self._iam()

    # ---- lookups for the presigned GetCallerIdentity ----

    def lookup_key(self, access_key_id: str) -> KeyRecord | None:
        """What moto holds for an access key: an IAM user's key or the temporary
        key of an assumed role. None when moto never issued it."""
        from moto.iam.models import iam_backends
        from moto.sts.models import sts_backends
        from moto.utilities.utils import PARTITION_NAMES

        with self.lock:
            for account, backends in list(iam_backends.items()):
                for partition in PARTITION_NAMES:
                    iam = backends[partition]
                    key = iam.access_keys.get(access_key_id)
                    if key is None:
                        continue
                    if key.user_name is not None:
                        user = iam.users.get(key.user_name)
                        if user is None or key not in user.access_keys:
                            return None  # user or key deleted
                        return KeyRecord(
                            access_key_id=access_key_id,
                            secret_access_key=key.secret_access_key,
                            session_token=None,
                            arn=user.arn,
                            user_id=user.id,
                            account=user.account_id,
                            active=key.status == "Active",
                        )
                    role = sts_backends[account][partition].get_assumed_role_from_access_key(access_key_id)
                    if role is None:
                        return None
                    expiration = role.expiration
                    if expiration.tzinfo is None:
                        expiration = expiration.replace(tzinfo=_dt.timezone.utc)
                    return KeyRecord(
                        access_key_id=access_key_id,
                        secret_access_key=role.secret_access_key,
                        session_token=role.session_token,
                        arn=role.arn,
                        user_id=role.user_id,
                        account=role.account_id,
                        active=True,
                        expiration=expiration,
                    )
        return None

    # ---- the admin API ----

    def create_user(self, name: str, path: str = "/") -> dict:
        from moto.iam.exceptions import EntityAlreadyExists

        _require_name(name, "user")
        with self.lock:
            iam = self._iam()
            try:
                user = iam.create_user(region_name=self.region, user_name=name, path=path)
            except EntityAlreadyExists as err:
                raise AdminError(409, f"user `{name}` already exists") from err
            key = iam.create_access_key(user_name=name)
            return {
                "arn": user.arn,
                "user_id": user.id,
                "access_key_id": key.access_key_id,
                "secret_access_key": key.secret_access_key,
            }

    def create_role(self, name: str, path: str = "/", trust: object = "*") -> dict:
        from moto.iam.exceptions import EntityAlreadyExists

        _require_name(name, "role")
        if trust == "*":
            principals: list[str] = [f"arn:{self.partition}:iam::{ACCOUNT_ID}:root"]
        elif isinstance(trust, str):
            principals = [trust]
        elif isinstance(trust, list) and trust and all(isinstance(p, str) for p in trust):
            principals = list(trust)
        else:
            raise AdminError(400, "`trust` must be \"*\", a principal ARN or a list of ARNs")
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": principals if len(principals) > 1 else principals[0]},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        with self.lock:
            try:
                role = self._iam().create_role(
                    role_name=name,
                    assume_role_policy_document=json.dumps(policy),
                    path=path,
                    permissions_boundary=None,
                    description="",
                    tags=[],
                    max_session_duration=None,
                )
            except EntityAlreadyExists as err:
                raise AdminError(409, f"role `{name}` already exists") from err
            return {"arn": role.arn, "role_id": role.id}

    # ---- IAM principals, for access entries ----

    def iam_principal(self, arn: str) -> dict | None:
        """The IAM user or role whose ARN is exactly `arn` (a role's path included, as EKS
        wants it), with its unique id; None when IAM has no such principal."""
        with self.lock:
            iam = self._iam()
            for user in list(iam.users.values()):
                if user.arn == arn:
                    return self._principal("user", user.name, user.arn, user.id)
            for role in list(iam.roles.values()):
                if role.arn == arn:
                    return self._principal("role", role.name, role.arn, role.id)
        return None

    def iam_principal_for(self, arn: str | None) -> dict | None:
        """The IAM user or role behind a caller ARN: itself, or the role of an assumed-role
        session (found by name: STS ARNs carry no path)."""
        if not arn:
            return None
        principal = self.iam_principal(arn)
        if principal is not None:
            return principal
        parts = arn.split(":", 5)
        if len(parts) == 6 and parts[2] == "sts" and parts[5].startswith("assumed-role/"):
            role_name = parts[5].split("/")[1]
            with self.lock:
                for role in list(self._iam().roles.values()):
                    if role.name == role_name:
                        return self._principal("role", role.name, role.arn, role.id)
        return None

    def _principal(self, kind: str, name: str, arn: str, unique_id: str) -> dict:
        return {"kind": kind, "name": name, "arn": arn, "id": unique_id, "account": ACCOUNT_ID,
                "partition": self.partition}

    def delete_role(self, name: str) -> dict:
        """Delete a role (and detach nothing: the testbed's roles have no policies), so that a
        test can recreate it under the same ARN with a new unique id."""
        from moto.iam.exceptions import NoSuchEntity

        _require_name(name, "role")
        with self.lock:
            try:
                self._iam().delete_role(name)
            except NoSuchEntity as err:
                raise AdminError(404, f"role `{name}` does not exist") from err
        return {"deleted": name}

    def assume_role(self, role_arn: str, session_name: str) -> dict:
        """Temporary keys for `role_arn` (moto's STS AssumeRole; the trust policy is not
        checked, as moto checks none)."""
        from moto.sts.models import sts_backends

        if not isinstance(role_arn, str) or ":role/" not in role_arn:
            raise AdminError(400, "`role_arn` must be a role ARN")
        if not isinstance(session_name, str) or not session_name:
            raise AdminError(400, "`session_name` must be a non-empty string")
        with self.lock:
            if self.iam_principal(role_arn) is None:
                raise AdminError(404, f"role `{role_arn}` does not exist")
            role = sts_backends[ACCOUNT_ID][self.partition].assume_role(
                region_name=self.region, role_session_name=session_name, role_arn=role_arn,
                policy="", duration=3600, external_id="")
            return {"arn": role.arn, "user_id": role.user_id, "access_key_id": role.access_key_id,
                    "secret_access_key": role.secret_access_key, "session_token": role.session_token}

    def create_cluster(self, name: str, endpoint: str, ca_pem: str, creator_arn: str | None,
                       role_arn: str | None = None, version: str | None = None,
                       auth_mode: str | None = None, bootstrap_admin: bool | None = None) -> dict:
        from moto.eks.exceptions import ResourceInUseException
        from moto.eks.models import eks_backends

        _require_name(name, "cluster")
        if auth_mode is not None and auth_mode not in ("CONFIG_MAP", "API_AND_CONFIG_MAP", "API"):
            raise AdminError(400, f"`auth_mode` must be CONFIG_MAP, API_AND_CONFIG_MAP or API, not `{auth_mode}`")
        if not isinstance(endpoint, str) or not endpoint.startswith("https://"):
            raise AdminError(400, f"`endpoint` must be an https:// URL, got `{endpoint}`")
        if not isinstance(ca_pem, str) or "-----BEGIN CERTIFICATE-----" not in ca_pem:
            raise AdminError(400, "`ca_pem` must be a PEM certificate bundle")
        role_arn = role_arn or f"arn:{self.partition}:iam::{ACCOUNT_ID}:role/eks-testbed-cluster"
        with self.lock:
            eks = eks_backends[ACCOUNT_ID][self.region]
            try:
                cluster = eks.create_cluster(
                    name=name,
                    role_arn=role_arn,
                    resources_vpc_config={
                        "endpointPublicAccess": True,
                        "endpointPrivateAccess": False,
                        "publicAccessCidrs": ["0.0.0.0/0"],
                    },
                    version=version,
                )
            except ResourceInUseException as err:
                raise AdminError(409, f"cluster `{name}` already exists") from err
            # moto invents an endpoint and a random CA; the testbed's are real.
            cluster.endpoint = endpoint
            cluster.certificate_authority = {"data": base64.b64encode(ca_pem.encode()).decode()}
            if creator_arn:
                self.cluster_creators[name] = creator_arn
            mode = auth_mode or "CONFIG_MAP"
            self.access.register(name, mode, True if bootstrap_admin is None else bool(bootstrap_admin),
                                 creator_arn)
            return {"arn": cluster.arn, "endpoint": endpoint, "creator_arn": creator_arn,
                    "authentication_mode": mode}


def _require_name(name: object, what: str) -> None:
    if not isinstance(name, str) or not name:
        raise AdminError(400, f"a {what} needs a non-empty string `name`")
