#!/usr/bin/env bash
# Benchmark: `kubectl eks-whoami --all` on a big cluster, against the stand-in EKS.
#
#   bench/whoami.sh [RUNS]      (default 10 runs per case; needs hyperfine, kubectl, python3 + moto)
#   PROFILE=debug bench/whoami.sh   to measure the debug build instead of the release build
#
#   AUTH_MODE=CONFIG_MAP bench/whoami.sh   the cluster's authentication mode (default API_AND_CONFIG_MAP)
#   TESTBED=/path/to/eks-testbed bench/whoami.sh   another build of the stand-in (to compare two)
#
# Cluster: 200 namespaces, 2,000 RoleBindings (10 per namespace) and 500 ClusterRoleBindings on top
# of the bootstrap RBAC; outside CONFIG_MAP also 1,000 access entries (IAM roles `bench-NNNN`, every
# other one with AmazonEKSViewPolicy in its team's namespace). Cases:
#   creator  the cluster creator (system:masters): reads everything
#   auditor  a mapped user whose group may read RBAC objects; 1 in 10 of the bindings name its group
#   reader   a mapped user bound to `view`: may not list RBAC, so the cluster-wide matrix is confirmed
#            by SelfSubjectAccessReviews
#   viewer   (not in CONFIG_MAP) an IAM user let in by its access entry, with AmazonEKSViewPolicy at
#            cluster scope and AmazonEKSEditPolicy in namespace team-000: the EKS side is asked
#            (DescribeCluster, DescribeAccessEntry, ListAssociatedAccessPolicies) and the policies'
#            cells are added to the matrix
# For each: hyperfine wall time (mean, min, max) and the number of API requests of one run, counted
# in the testbed's request log. Prints a Markdown table for BENCHMARKS.md, with the machine's load
# average (`uptime`) before and after the measurements: the machine is often shared.
set -euo pipefail

RUNS=${1:-10}
PROFILE=${PROFILE:-release}
AUTH_MODE=${AUTH_MODE:-API_AND_CONFIG_MAP}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: missing $1 ($2)" >&2; exit 1; }; }
need hyperfine "apt-get install hyperfine"
need kubectl "kubectl 1.28 or later"
need python3 "python3 with tests/aws/requirements.txt"

if [ "$PROFILE" = release ]; then
  cargo build --release -p kubectl-eks-whoami -p kubectl-eks-token -p eks-testbed >&2
else
  cargo build -p kubectl-eks-whoami -p kubectl-eks-token -p eks-testbed >&2
fi
BIN=$CARGO_TARGET_DIR/$PROFILE

WORK=$(mktemp -d)
TB_PID=
cleanup() { [ -n "$TB_PID" ] && kill "$TB_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Hermetic environment: nothing inherited from the user's AWS or kube setup.
for v in $(env | grep -oE '^(AWS_[A-Z_]+|KUBECONFIG|KUBERNETES_EXEC_INFO|KUBECTL_EKS_TOKEN_CACHE_DIR)='); do unset "${v%=}"; done
export HOME=$WORK/home NO_COLOR=1
mkdir -p "$HOME"

LOG=$WORK/requests.jsonl
# The cluster starts in CONFIG_MAP and is seeded as the creator (system:masters there); the mode then
# moves on as EKS moves it, one step at a time: an access policy does not count for RBAC's escalation
# check, so the creator could not write these bindings in the other modes.
"${TESTBED:-$BIN/eks-testbed}" up --dir "$WORK/tb" --request-log "$LOG" >"$WORK/testbed.out" 2>&1 &
TB_PID=$!
for _ in $(seq 1 300); do [ -f "$WORK/tb/ready" ] && break; sleep 0.1; done
[ -f "$WORK/tb/ready" ] || { cat "$WORK/testbed.out" >&2; echo "bench: the testbed did not start" >&2; exit 1; }
# shellcheck disable=SC1091
source "$WORK/tb/env"
CREATOR_KUBECONFIG=$KUBECONFIG

# --- the cluster ------------------------------------------------------------------------------
echo "bench: seeding 200 namespaces, 2,000 RoleBindings, 500 ClusterRoleBindings" >&2
python3 - "$WORK/objects.yaml" <<'EOF'
import sys
docs = []
rbac = "rbac.authorization.k8s.io"
def binding(kind, name, ns, role_kind, role, groups):
    meta = f"  name: {name}\n" + (f"  namespace: {ns}\n" if ns else "")
    subjects = "".join(f"- apiGroup: {rbac}\n  kind: Group\n  name: {g}\n" for g in groups)
    return (f"apiVersion: {rbac}/v1\nkind: {kind}\nmetadata:\n{meta}"
            f"roleRef:\n  apiGroup: {rbac}\n  kind: {role_kind}\n  name: {role}\nsubjects:\n{subjects}")
docs.append(f"apiVersion: {rbac}/v1\nkind: ClusterRole\nmetadata:\n  name: rbac-reader\nrules:\n"
            f"- apiGroups: [{rbac}]\n  resources: [roles, rolebindings, clusterroles, clusterrolebindings]\n"
            f"  verbs: [get, list, watch]\n- apiGroups: ['']\n  resources: [configmaps]\n  verbs: [get]\n")
docs.append(binding("ClusterRoleBinding", "auditors-rbac-reader", None, "ClusterRole", "rbac-reader", ["auditors"]))
docs.append(binding("ClusterRoleBinding", "readers-view", None, "ClusterRole", "view", ["readers"]))
for n in range(200):
    ns = f"team-{n:03d}"
    docs.append(f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n")
    docs.append(f"apiVersion: {rbac}/v1\nkind: Role\nmetadata:\n  name: deployer\n  namespace: {ns}\nrules:\n"
                f"- apiGroups: [apps]\n  resources: [deployments]\n  verbs: [get, list, update, patch]\n")
    for b in range(10):
        i = n * 10 + b
        groups = [f"team-{n:03d}-{b}"] + (["auditors"] if i % 10 == 0 else [])
        role = ("Role", "deployer") if b % 2 == 0 else ("ClusterRole", "edit")
        docs.append(binding("RoleBinding", f"rb-{b}", ns, role[0], role[1], groups))
for j in range(498):
    groups = [f"crb-{j}"] + (["auditors"] if j % 10 == 0 else [])
    docs.append(binding("ClusterRoleBinding", f"crb-{j:03d}", None, "ClusterRole", "view", groups))
open(sys.argv[1], "w").write("---\n".join(docs))
EOF
SEED_START=$(date +%s.%N)
kubectl --kubeconfig "$CREATOR_KUBECONFIG" create -f "$WORK/objects.yaml" >/dev/null
SEED_END=$(date +%s.%N)
NS=$(kubectl --kubeconfig "$CREATOR_KUBECONFIG" get namespaces --no-headers | wc -l)
RB=$(kubectl --kubeconfig "$CREATOR_KUBECONFIG" get rolebindings -A --no-headers | wc -l)
CRB=$(kubectl --kubeconfig "$CREATOR_KUBECONFIG" get clusterrolebindings --no-headers | wc -l)
echo "bench: seeded in $(echo "$SEED_END - $SEED_START" | bc) s: $NS namespaces, $RB RoleBindings, $CRB ClusterRoleBindings" >&2

# --- the users --------------------------------------------------------------------------------
admin() { curl -sf -X POST -H 'content-type: application/json' -d "$2" "$AWS_ENDPOINT_URL/_testbed/$1"; }
AUDITOR=$(admin users '{"name": "auditor", "path": "/"}')
READER=$(admin users '{"name": "reader", "path": "/"}')
field() { python3 -c "import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])" "$1" "$2"; }
kubectl --kubeconfig "$CREATOR_KUBECONFIG" -n kube-system create configmap aws-auth --dry-run=client -o yaml \
  --from-literal=mapUsers="- userarn: $(field "$AUDITOR" arn)
  username: auditor
  groups: [auditors]
- userarn: $(field "$READER" arn)
  username: reader
  groups: [readers]
" | kubectl --kubeconfig "$CREATOR_KUBECONFIG" replace -f - >/dev/null

# A kubeconfig per user: the creator's, with the user's keys pinned in the exec env.
user_kubeconfig() {
  python3 - "$CREATOR_KUBECONFIG" "$1" "$2" "$3" <<'EOF'
import sys, yaml
src, out, key, secret = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
cfg = yaml.safe_load(open(src))
exec_ = cfg["users"][0]["user"]["exec"]
exec_["env"] = [e for e in exec_.get("env") or [] if not e["name"].startswith("AWS_ACCESS") and not e["name"].startswith("AWS_SECRET")]
exec_["env"] += [{"name": "AWS_ACCESS_KEY_ID", "value": key}, {"name": "AWS_SECRET_ACCESS_KEY", "value": secret}]
yaml.safe_dump(cfg, open(out, "w"))
EOF
}
user_kubeconfig "$WORK/auditor.kubeconfig" "$(field "$AUDITOR" access_key_id)" "$(field "$AUDITOR" secret_access_key)"
user_kubeconfig "$WORK/reader.kubeconfig" "$(field "$READER" access_key_id)" "$(field "$READER" secret_access_key)"

# --- access entries (API_AND_CONFIG_MAP, API) ---------------------------------------------------
set_mode() {
  aws eks update-cluster-config --name testbed --access-config "authenticationMode=$1" >/dev/null
  for _ in $(seq 1 100); do
    [ "$(aws eks describe-cluster --name testbed --query cluster.accessConfig.authenticationMode --output text)" = "$1" ] && return
    sleep 0.2
  done
  echo "bench: the mode did not become $1" >&2; exit 1
}
if [ "$AUTH_MODE" != CONFIG_MAP ]; then
  set_mode API_AND_CONFIG_MAP
  [ "$AUTH_MODE" = API ] && set_mode API
  echo "bench: creating 1,000 IAM roles with access entries, and the viewer" >&2
  VIEWER=$(admin users '{"name": "viewer", "path": "/"}')
  ENTRY_START=$(date +%s.%N)
  python3 - "$(field "$VIEWER" arn)" <<'EOF2'
import sys, boto3
iam, eks = boto3.client("iam"), boto3.client("eks")
cluster = "testbed"
view = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
edit = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy"
trust = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}'
for i in range(1000):
    arn = iam.create_role(RoleName=f"bench-{i:04d}", AssumeRolePolicyDocument=trust)["Role"]["Arn"]
    eks.create_access_entry(clusterName=cluster, principalArn=arn, username=f"bench-{i:04d}")
    if i % 2 == 0:
        eks.associate_access_policy(clusterName=cluster, principalArn=arn, policyArn=view,
                                    accessScope={"type": "namespace", "namespaces": [f"team-{i % 200:03d}"]})
viewer = sys.argv[1]
eks.create_access_entry(clusterName=cluster, principalArn=viewer)
eks.associate_access_policy(clusterName=cluster, principalArn=viewer, policyArn=view, accessScope={"type": "cluster"})
eks.associate_access_policy(clusterName=cluster, principalArn=viewer, policyArn=edit,
                            accessScope={"type": "namespace", "namespaces": ["team-000"]})
EOF2
  ENTRY_END=$(date +%s.%N)
  ENTRIES=$(aws eks list-access-entries --cluster-name testbed --query 'accessEntries[]' --output text | wc -w)
  echo "bench: $ENTRIES access entries in $(echo "$ENTRY_END - $ENTRY_START" | bc) s" >&2
  user_kubeconfig "$WORK/viewer.kubeconfig" "$(field "$VIEWER" access_key_id)" "$(field "$VIEWER" secret_access_key)"
  sleep 1.5   # the API server reads entries at most 1 s late
fi

# --- measure ----------------------------------------------------------------------------------
LOAD_BEFORE=$(uptime)
ROWS=()
measure() {
  local name=$1 kubeconfig=$2
  local cmd="$BIN/kubectl-eks_whoami --kubeconfig $kubeconfig --all -o json"
  $cmd >"$WORK/$name.json"   # warms the token cache, checks it works
  local before after
  before=$(wc -l <"$LOG")
  $cmd >/dev/null
  after=$(wc -l <"$LOG")
  local requests=$((after - before))
  local bindings
  bindings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['bindings']['items']))" "$WORK/$name.json")
  hyperfine --warmup 1 --runs "$RUNS" --export-json "$WORK/$name.hf.json" "$cmd" >&2
  local stats
  stats=$(python3 -c "import json,sys; r=json.load(open(sys.argv[1]))['results'][0]; print(f\"{r['mean']:.3f} | {r['min']:.3f} | {r['max']:.3f}\")" "$WORK/$name.hf.json")
  ROWS+=("| $name | $bindings | $requests | $stats |")
}
measure creator "$CREATOR_KUBECONFIG"
measure auditor "$WORK/auditor.kubeconfig"
measure reader "$WORK/reader.kubeconfig"
[ "$AUTH_MODE" != CONFIG_MAP ] && measure viewer "$WORK/viewer.kubeconfig"

LOAD_AFTER=$(uptime)
echo
echo "Load before: $LOAD_BEFORE"
echo "Load after:  $LOAD_AFTER"
echo "Cluster: $NS namespaces, $RB RoleBindings, $CRB ClusterRoleBindings, mode $AUTH_MODE${ENTRIES:+, $ENTRIES access entries} (stand-in EKS, $PROFILE build, $RUNS runs)."
echo
echo "| user | bindings shown | API requests | mean s | min s | max s |"
echo "|---|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
