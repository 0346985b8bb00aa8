"""The EKS access-entry API of the stand-in, on the wire, through botocore and the AWS CLI.

Run with `python3 -m pytest -q tests/aws`. Each test makes its own cluster on one
shared stand-in process; the mode updates finish after EKS_STANDIN_UPDATE_SECONDS
(0.2 s here).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_stand_in import ACCOUNT, CA_PEM, boto_client, start, stop  # noqa: E402

POLICY = "arn:aws:eks::aws:cluster-access-policy/"
VIEW = POLICY + "AmazonEKSViewPolicy"
EDIT = POLICY + "AmazonEKSEditPolicy"
ADMIN = POLICY + "AmazonEKSClusterAdminPolicy"
UPDATE_SECONDS = 0.2


@pytest.fixture(scope="module")
def server():
    os.environ["EKS_STANDIN_UPDATE_SECONDS"] = str(UPDATE_SECONDS)
    try:
        s = start()
    finally:
        del os.environ["EKS_STANDIN_UPDATE_SECONDS"]
    yield s
    stop(s)


_counter = [0]


def new_cluster(server, mode: str = "API_AND_CONFIG_MAP", **extra):
    """A fresh cluster, its creator's credentials and an EKS client for the creator."""
    _counter[0] += 1
    n = _counter[0]
    creator = server.admin("/_testbed/users", {"name": f"creator{n}"})
    name = f"c{n}"
    server.admin("/_testbed/clusters", {"name": name, "endpoint": "https://127.0.0.1:6443", "ca_pem": CA_PEM,
                                        "creator_arn": creator["arn"], "auth_mode": mode, **extra})
    return name, creator, boto_client(server, "eks", creator)


def error_of(excinfo):
    """(status, code, message, x-amzn-ErrorType header) of a botocore ClientError."""
    err = excinfo.value.response
    return (err["ResponseMetadata"]["HTTPStatusCode"], err["Error"]["Code"], err["Error"]["Message"],
            err["ResponseMetadata"]["HTTPHeaders"].get("x-amzn-errortype"))


def wait_mode(eks, name: str, mode: str) -> float:
    started = time.monotonic()
    while eks.describe_cluster(name=name)["cluster"]["accessConfig"]["authenticationMode"] != mode:
        assert time.monotonic() - started < 5, f"mode never became {mode}"
        time.sleep(0.05)
    return time.monotonic() - started


def test_describe_cluster_has_access_config_and_the_creator_entry(server):
    name, creator, eks = new_cluster(server, "API")
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["accessConfig"] == {"bootstrapClusterCreatorAdminPermissions": True, "authenticationMode": "API"}
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [creator["arn"]]
    entry = eks.describe_access_entry(clusterName=name, principalArn=creator["arn"])["accessEntry"]
    assert entry["type"] == "STANDARD" and entry["username"] == creator["arn"] and entry["kubernetesGroups"] == []
    assert entry["accessEntryArn"].startswith(f"arn:aws:eks:us-east-1:{ACCOUNT}:access-entry/{name}/user/{ACCOUNT}/")
    policies = eks.list_associated_access_policies(clusterName=name, principalArn=creator["arn"])
    assert [(p["policyArn"], p["accessScope"]) for p in policies["associatedAccessPolicies"]] == [
        (ADMIN, {"type": "cluster", "namespaces": []})]
    # Without the bootstrap permission the creator gets no entry.
    name, _, eks = new_cluster(server, "API", bootstrap_cluster_creator_admin_permissions=False)
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == []


def test_config_map_clusters_refuse_access_entry_calls(server):
    name, creator, eks = new_cluster(server, "CONFIG_MAP")
    for call in (lambda: eks.list_access_entries(clusterName=name),
                 lambda: eks.create_access_entry(clusterName=name, principalArn=creator["arn"]),
                 lambda: eks.describe_access_entry(clusterName=name, principalArn=creator["arn"])):
        with pytest.raises(eks.exceptions.InvalidRequestException) as e:
            call()
        assert error_of(e) == (400, "InvalidRequestException",
                               "The cluster's authentication mode must be set to one of [API, API_AND_CONFIG_MAP] "
                               "to perform this operation.", "InvalidRequestException")
    # ListAccessPolicies needs no cluster.
    names = [p["name"] for p in eks.list_access_policies()["accessPolicies"]]
    assert len(names) == 19 and names == sorted(names) and "AmazonEKSSecretReaderPolicy" in names


def test_unknown_cluster_is_404(server):
    _, _, eks = new_cluster(server)
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as e:
        eks.list_access_entries(clusterName="nope")
    assert error_of(e) == (404, "ResourceNotFoundException", "No cluster found for name: nope.",
                           "ResourceNotFoundException")


def test_mode_moves_one_way_one_step_through_updates(server):
    name, creator, eks = new_cluster(server, "CONFIG_MAP")
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API"})
    assert error_of(e)[:3] == (400, "InvalidParameterException",
                               "Unsupported authentication mode update from CONFIG_MAP to API")
    update = eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})["update"]
    assert (update["type"], update["status"], update["params"]) == (
        "AccessConfigUpdate", "InProgress", [{"type": "AuthenticationMode", "value": "API_AND_CONFIG_MAP"}])
    cluster = eks.describe_cluster(name=name)["cluster"]
    assert cluster["status"] == "UPDATING" and cluster["accessConfig"]["authenticationMode"] == "CONFIG_MAP"
    # One update at a time.
    with pytest.raises(eks.exceptions.ResourceInUseException) as e:
        eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API"})
    assert error_of(e)[:2] == (409, "ResourceInUseException")
    wait_mode(eks, name, "API_AND_CONFIG_MAP")
    assert eks.describe_update(name=name, updateId=update["id"])["update"]["status"] == "Successful"
    assert eks.list_updates(name=name)["updateIds"] == [update["id"]]
    # Turning entries on gave the creator its admin entry (the legacy admin made visible).
    assert eks.list_access_entries(clusterName=name)["accessEntries"] == [creator["arn"]]
    for back in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        with pytest.raises(eks.exceptions.InvalidParameterException) as e:
            eks.update_cluster_config(name=name, accessConfig={"authenticationMode": back})
        assert error_of(e)[2] == f"Unsupported authentication mode update from API_AND_CONFIG_MAP to {back}"
    eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API"})
    wait_mode(eks, name, "API")
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API_AND_CONFIG_MAP"})
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as e:
        eks.describe_update(name=name, updateId="00000000-0000-0000-0000-000000000000")
    assert error_of(e)[0] == 404


def test_principal_validation(server):
    name, _, eks = new_cluster(server)
    role = server.admin("/_testbed/roles", {"name": "pathed", "path": "/team/apps/"})
    invalid = (400, "InvalidParameterException", "The specified principalArn is invalid: invalid principal.",
               "InvalidParameterException")
    for arn in (f"arn:aws:iam::{ACCOUNT}:user/nobody",                # not in IAM
                f"arn:aws:iam::{ACCOUNT}:role/pathed",                 # a pathed role without its path
                f"arn:aws:sts::{ACCOUNT}:assumed-role/pathed/session",  # an STS session
                f"arn:aws:iam::{ACCOUNT}:root"):
        with pytest.raises(eks.exceptions.InvalidParameterException) as e:
            eks.create_access_entry(clusterName=name, principalArn=arn)
        assert error_of(e) == invalid, arn
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.create_access_entry(clusterName=name, principalArn=(
            f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/eks.amazonaws.com/AWSServiceRoleForAmazonEKS"))
    assert error_of(e)[2] == ("The caller is not allowed to modify access entries with a principalArn value of a "
                              "Service Linked Role")
    entry = eks.create_access_entry(clusterName=name, principalArn=role["arn"])["accessEntry"]
    assert entry["principalArn"] == f"arn:aws:iam::{ACCOUNT}:role/team/apps/pathed"
    # The generated username drops the path and keeps the session template.
    assert entry["username"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/pathed/{{{{SessionName}}}}"
    with pytest.raises(eks.exceptions.ResourceInUseException) as e:
        eks.create_access_entry(clusterName=name, principalArn=role["arn"])
    assert error_of(e) == (409, "ResourceInUseException",
                           "The specified access entry resource is already in use on this cluster.",
                           "ResourceInUseException")


def test_username_group_and_type_rules(server):
    name, _, eks = new_cluster(server)
    user = server.admin("/_testbed/users", {"name": "rules-user"})
    role = server.admin("/_testbed/roles", {"name": "rules-role"})
    node = server.admin("/_testbed/roles", {"name": "rules-node"})

    def refused(message, **kwargs):
        with pytest.raises(eks.exceptions.InvalidParameterException) as e:
            eks.create_access_entry(clusterName=name, **kwargs)
        assert error_of(e)[2] == message

    refused("The kubernetes group name system:masters is invalid, it cannot start with system:",
            principalArn=user["arn"], kubernetesGroups=["ok", "system:masters"])
    for prefix in ("system:", "eks:", "aws:", "amazon:", "iam:"):
        refused(f"The username must not begin with {prefix}", principalArn=user["arn"], username=prefix + "x")
    refused("The username must contain a colon before {{SessionName}}.",
            principalArn=role["arn"], username="john{{SessionName}}")
    ok = eks.create_access_entry(clusterName=name, principalArn=role["arn"], username="jo:hn{{SessionName}}")
    assert ok["accessEntry"]["username"] == "jo:hn{{SessionName}}"
    # Node types: roles only, no username, no groups, no policies; their own usernames.
    refused('This operation can only be performed on Access Entries with a type of "STANDARD".',
            principalArn=node["arn"], type="EC2_LINUX", kubernetesGroups=["x"])
    refused("The specified principalArn is invalid: invalid principal.", principalArn=user["arn"], type="EC2_LINUX")
    refused("The type NODE is invalid. Valid values are STANDARD, EC2_LINUX, EC2_WINDOWS, FARGATE_LINUX, "
            "HYBRID_LINUX, EC2, HYPERPOD_LINUX.", principalArn=node["arn"], type="NODE")
    entry = eks.create_access_entry(clusterName=name, principalArn=node["arn"], type="EC2_LINUX")["accessEntry"]
    assert (entry["type"], entry["username"]) == ("EC2_LINUX", "system:node:{{EC2PrivateDNSName}}")
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.associate_access_policy(clusterName=name, principalArn=node["arn"], policyArn=VIEW,
                                    accessScope={"type": "cluster"})
    assert error_of(e)[2] == 'This operation can only be performed on Access Entries with a type of "STANDARD".'
    fargate = server.admin("/_testbed/roles", {"name": "rules-fargate"})
    entry = eks.create_access_entry(clusterName=name, principalArn=fargate["arn"], type="FARGATE_LINUX")
    assert entry["accessEntry"]["username"] == "system:node:{{SessionName}}"


def test_update_replaces_groups_and_delete_removes_associations(server):
    name, _, eks = new_cluster(server)
    user = server.admin("/_testbed/users", {"name": "upd"})
    created = eks.create_access_entry(clusterName=name, principalArn=user["arn"], kubernetesGroups=["a", "b"])
    time.sleep(0.01)
    updated = eks.update_access_entry(clusterName=name, principalArn=user["arn"], kubernetesGroups=["c"])
    assert updated["accessEntry"]["kubernetesGroups"] == ["c"]
    assert updated["accessEntry"]["username"] == user["arn"]
    assert updated["accessEntry"]["modifiedAt"] > created["accessEntry"]["modifiedAt"]
    updated = eks.update_access_entry(clusterName=name, principalArn=user["arn"], username="upd-user")
    assert (updated["accessEntry"]["username"], updated["accessEntry"]["kubernetesGroups"]) == ("upd-user", ["c"])
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.update_access_entry(clusterName=name, principalArn=user["arn"], kubernetesGroups=["system:nodes"])

    eks.associate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=VIEW,
                                accessScope={"type": "cluster"})
    eks.delete_access_entry(clusterName=name, principalArn=user["arn"])
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as e:
        eks.describe_access_entry(clusterName=name, principalArn=user["arn"])
    assert error_of(e) == (404, "ResourceNotFoundException",
                           "The specified principalArn could not be found. You can view your available access "
                           "entries with 'list-access-entries'.", "ResourceNotFoundException")
    # Recreated, it starts without the old association.
    eks.create_access_entry(clusterName=name, principalArn=user["arn"])
    got = eks.list_associated_access_policies(clusterName=name, principalArn=user["arn"])
    assert got["associatedAccessPolicies"] == []
    assert eks.list_access_entries(clusterName=name, associatedPolicyArn=VIEW)["accessEntries"] == []


def test_associations_replace_scope_and_validate(server):
    name, _, eks = new_cluster(server)
    user = server.admin("/_testbed/users", {"name": "assoc"})
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.associate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=VIEW,
                                    accessScope={"type": "cluster"})
    eks.create_access_entry(clusterName=name, principalArn=user["arn"])
    first = eks.associate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=EDIT,
                                        accessScope={"type": "namespace", "namespaces": ["dev-*", "qa"]})
    assert first["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["dev-*", "qa"]}
    time.sleep(0.01)
    again = eks.associate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=EDIT,
                                        accessScope={"type": "cluster"})
    assert again["associatedAccessPolicy"]["accessScope"] == {"type": "cluster", "namespaces": []}
    assert again["associatedAccessPolicy"]["associatedAt"] == first["associatedAccessPolicy"]["associatedAt"]
    assert again["associatedAccessPolicy"]["modifiedAt"] > first["associatedAccessPolicy"]["modifiedAt"]
    listed = eks.list_associated_access_policies(clusterName=name, principalArn=user["arn"])
    assert [p["policyArn"] for p in listed["associatedAccessPolicies"]] == [EDIT]
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.associate_access_policy(clusterName=name, principalArn=user["arn"],
                                    policyArn=POLICY + "AmazonEKSMadeUpPolicy", accessScope={"type": "cluster"})
    assert error_of(e)[2] == f"The specified policyArn is invalid: {POLICY}AmazonEKSMadeUpPolicy"
    with pytest.raises(eks.exceptions.InvalidParameterException):
        eks.associate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=VIEW,
                                    accessScope={"type": "namespace", "namespaces": []})
    eks.disassociate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=EDIT)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.disassociate_access_policy(clusterName=name, principalArn=user["arn"], policyArn=EDIT)


def test_pagination_and_the_policy_filter(server):
    name, creator, eks = new_cluster(server, "API", bootstrap_cluster_creator_admin_permissions=False)
    arns = []
    for i in range(5):
        u = server.admin("/_testbed/users", {"name": f"page{i}"})
        eks.create_access_entry(clusterName=name, principalArn=u["arn"])
        arns.append(u["arn"])
    eks.associate_access_policy(clusterName=name, principalArn=arns[1], policyArn=VIEW, accessScope={"type": "cluster"})
    eks.associate_access_policy(clusterName=name, principalArn=arns[3], policyArn=VIEW, accessScope={"type": "cluster"})
    first = eks.list_access_entries(clusterName=name, maxResults=2)
    assert first["accessEntries"] == arns[:2] and first["nextToken"]
    second = eks.list_access_entries(clusterName=name, maxResults=2, nextToken=first["nextToken"])
    third = eks.list_access_entries(clusterName=name, maxResults=2, nextToken=second["nextToken"])
    assert second["accessEntries"] == arns[2:4] and third["accessEntries"] == arns[4:]
    assert "nextToken" not in third
    # botocore's paginator walks it.
    pages = eks.get_paginator("list_access_entries").paginate(clusterName=name, PaginationConfig={"PageSize": 3})
    assert [a for p in pages for a in p["accessEntries"]] == arns
    assert eks.list_access_entries(clusterName=name, associatedPolicyArn=VIEW)["accessEntries"] == [arns[1], arns[3]]
    for bad in (0, 101):
        with pytest.raises(Exception) as e:
            eks.list_access_entries(clusterName=name, maxResults=bad)
        assert "maxResults" in str(e.value)
    with pytest.raises(eks.exceptions.InvalidParameterException) as e:
        eks.list_access_entries(clusterName=name, nextToken="garbage!")
    assert error_of(e)[2] == "The nextToken parameter is invalid."
    policies = eks.get_paginator("list_access_policies").paginate(PaginationConfig={"PageSize": 7})
    assert len([p for page in policies for p in page["accessPolicies"]]) == 19


def test_injected_access_denied_and_throttling(server):
    name, creator, eks = new_cluster(server)
    server.admin("/_testbed/eks/faults", {"deny": {"principal_arn": creator["arn"],
                                                    "actions": ["eks:CreateAccessEntry"]}})
    with pytest.raises(Exception) as e:
        eks.create_access_entry(clusterName=name, principalArn=creator["arn"])
    assert error_of(e) == (403, "AccessDeniedException",
                           f"User: {creator['arn']} is not authorized to perform: eks:CreateAccessEntry on resource: "
                           f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/{name}", "AccessDeniedException")
    server.admin("/_testbed/eks/faults", {"clear": True,
                                           "throttle": {"operation": "ListAccessEntries", "count": 2}})
    # botocore retries ThrottlingException: two throttles, then the answer.
    got = eks.list_access_entries(clusterName=name)
    assert got["ResponseMetadata"]["RetryAttempts"] == 2 and got["accessEntries"] == [creator["arn"]]


def test_calls_are_counted_per_cluster_and_operation(server):
    name, creator, eks = new_cluster(server)
    other, _, other_eks = new_cluster(server)
    eks.describe_cluster(name=name)
    eks.describe_cluster(name=name)
    eks.list_access_entries(clusterName=name)
    other_eks.describe_cluster(name=other)
    assert server.admin("/_testbed/eks/calls", {"cluster": name, "reset": True}) == {
        "calls": {"DescribeCluster": 2, "ListAccessEntries": 1}}
    assert server.admin("/_testbed/eks/calls", {"cluster": name}) == {"calls": {}}
    assert server.admin("/_testbed/eks/calls", {"cluster": other})["calls"]["DescribeCluster"] == 1


def test_admin_snapshot_for_the_kubernetes_side(server):
    name, creator, eks = new_cluster(server)
    role = server.admin("/_testbed/roles", {"name": "snap", "path": "/p/"})
    eks.create_access_entry(clusterName=name, principalArn=role["arn"], kubernetesGroups=["g"])
    snap = server.admin("/_testbed/eks/access", {"cluster": name})
    assert snap["authenticationMode"] == "API_AND_CONFIG_MAP"
    by_arn = {e["principalArn"]: e for e in snap["entries"]}
    assert by_arn[role["arn"]]["principalId"] == role["role_id"]
    assert by_arn[role["arn"]]["kubernetesGroups"] == ["g"]
    # A role deleted and recreated under the same ARN has a new id; the entry keeps the old one.
    server.admin("/_testbed/roles/delete", {"name": "snap"})
    again = server.admin("/_testbed/roles", {"name": "snap", "path": "/p/"})
    assert again["arn"] == role["arn"] and again["role_id"] != role["role_id"]
    snap = server.admin("/_testbed/eks/access", {"cluster": name})
    assert {e["principalArn"]: e for e in snap["entries"]}[role["arn"]]["principalId"] == role["role_id"]


def test_admin_snapshot_answers_unchanged_until_something_changes(server):
    name, creator, eks = new_cluster(server)
    first = server.admin("/_testbed/eks/access", {"cluster": name})
    # Nothing changed: the generation alone, not the entries.
    assert server.admin("/_testbed/eks/access", {"cluster": name, "since": first["generation"]}) == {
        "generation": first["generation"], "unchanged": True}
    # Reads change nothing.
    eks.list_access_entries(clusterName=name)
    eks.describe_access_entry(clusterName=name, principalArn=creator["arn"])
    assert server.admin("/_testbed/eks/access", {"cluster": name, "since": first["generation"]})["unchanged"]
    # Each kind of write is seen: a new entry, a policy, a new username.
    role = server.admin("/_testbed/roles", {"name": "gen", "path": "/"})
    seen = first["generation"]
    for write in (
        lambda: eks.create_access_entry(clusterName=name, principalArn=role["arn"]),
        lambda: eks.associate_access_policy(clusterName=name, principalArn=role["arn"], policyArn=VIEW,
                                            accessScope={"type": "cluster"}),
        lambda: eks.update_access_entry(clusterName=name, principalArn=role["arn"], username="gen"),
        lambda: eks.disassociate_access_policy(clusterName=name, principalArn=role["arn"], policyArn=VIEW),
        lambda: eks.delete_access_entry(clusterName=name, principalArn=role["arn"]),
    ):
        write()
        snap = server.admin("/_testbed/eks/access", {"cluster": name, "since": seen})
        assert "unchanged" not in snap and snap["generation"] > seen
        seen = snap["generation"]
    assert [e["principalArn"] for e in snap["entries"]] == [creator["arn"]]
    # A mode change counts once its update has succeeded.
    eks.update_cluster_config(name=name, accessConfig={"authenticationMode": "API"})
    wait_mode(eks, name, "API")
    snap = server.admin("/_testbed/eks/access", {"cluster": name, "since": seen})
    assert snap["authenticationMode"] == "API" and snap["generation"] > seen
    # `since` must be a generation.
    status, _, body = server.request("POST", "/_testbed/eks/access", {"Content-Type": "application/json"},
                                     json.dumps({"cluster": name, "since": "1"}).encode())
    assert status == 400 and b"`since`" in body


def test_create_cluster_through_the_api_with_access_config(server):
    creator = server.admin("/_testbed/users", {"name": "api-creator"})
    eks = boto_client(server, "eks", creator)
    cluster = eks.create_cluster(
        name="via-api", roleArn=f"arn:aws:iam::{ACCOUNT}:role/eks", resourcesVpcConfig={},
        accessConfig={"authenticationMode": "API"})["cluster"]
    assert cluster["accessConfig"] == {"bootstrapClusterCreatorAdminPermissions": True, "authenticationMode": "API"}
    assert eks.list_access_entries(clusterName="via-api")["accessEntries"] == [creator["arn"]]
    eks.delete_cluster(name="via-api")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_access_entries(clusterName="via-api")


def test_the_aws_cli(server):
    name, creator, _ = new_cluster(server, "CONFIG_MAP")
    role = server.admin("/_testbed/roles", {"name": "cli-role", "path": "/team/"})
    env = {
        "PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"),
        "AWS_ACCESS_KEY_ID": creator["access_key_id"], "AWS_SECRET_ACCESS_KEY": creator["secret_access_key"],
        "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null", "AWS_DEFAULT_REGION": "us-east-1",
    }

    def aws(*args, ok=True):
        out = subprocess.run(["aws", "eks", *args, "--endpoint-url", server.url], env=env, capture_output=True,
                             timeout=60)
        if ok:
            assert out.returncode == 0, out.stderr
            return json.loads(out.stdout) if out.stdout.strip() else None
        return out

    update = aws("update-cluster-config", "--name", name, "--access-config", "authenticationMode=API_AND_CONFIG_MAP")
    assert update["update"]["type"] == "AccessConfigUpdate"
    deadline = time.monotonic() + 5
    while aws("describe-update", "--name", name, "--update-id", update["update"]["id"])["update"]["status"] != "Successful":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    created = aws("create-access-entry", "--cluster-name", name, "--principal-arn", role["arn"],
                  "--kubernetes-groups", "viewers")
    assert created["accessEntry"]["principalArn"] == role["arn"]
    assoc = aws("associate-access-policy", "--cluster-name", name, "--principal-arn", role["arn"],
                "--policy-arn", VIEW, "--access-scope", "type=namespace,namespaces=dev-a,dev-b")
    assert assoc["associatedAccessPolicy"]["accessScope"] == {"type": "namespace", "namespaces": ["dev-a", "dev-b"]}
    listed = aws("list-access-entries", "--cluster-name", name)
    assert sorted(listed["accessEntries"]) == sorted([creator["arn"], role["arn"]])
    refused = aws("create-access-entry", "--cluster-name", name, "--principal-arn", role["arn"], ok=False)
    assert refused.returncode != 0
    assert b"ResourceInUseException" in refused.stderr and b"already in use on this cluster" in refused.stderr
