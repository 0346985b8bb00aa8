#!/usr/bin/env bash
# Benchmark of what users feel: a real `kubectl get namespaces` against the stand-in EKS, end to
# end, with each credential provider in the same run.
#
#   bench/kubectl.sh [RUNS]     (default 20 runs per case; needs hyperfine, kubectl, the AWS CLI,
#                                python3 with tests/aws/requirements.txt)
#
# Cases (same kubectl, same API server, same static keys, same HOME and discovery cache):
#   1. aws:   the kubeconfig `aws eks update-kubeconfig` writes: kubectl runs `aws eks get-token`
#   2. cold:  the same file after `kubectl eks-token adopt`, token cache emptied before each run
#   3. warm:  the same, token cache warm
# Every new token is sent by the stand-in's authenticator to its STS (moto) once, as EKS does;
# the stand-in caches the answer for 2 minutes, as kube-apiserver caches token reviews.
# kubectl-eks_token is the release build; the stand-in (eks-testbed) is the dev build.
set -euo pipefail

RUNS=${1:-20}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: missing $1 ($2)" >&2; exit 1; }; }
need hyperfine "apt-get install hyperfine"
need kubectl "kubectl 1.26+"
need aws "pip install awscli"

cargo build --release -p kubectl-eks-token >&2
cargo build -p eks-testbed --bin eks-testbed >&2
BIN_DIR=$CARGO_TARGET_DIR/release

WORK=$(mktemp -d)
TB_PID=
cleanup() { [ -n "$TB_PID" ] && kill "$TB_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Hermetic environment: nothing inherited from the user's AWS or kube setup.
for v in $(env | grep -oE '^(AWS_[A-Z_]+|KUBECONFIG|KUBERNETES_EXEC_INFO|KUBECTL_EKS_TOKEN_CACHE_DIR)='); do unset "${v%=}"; done
export HOME=$WORK/home
mkdir -p "$HOME"
# The adopted stanza names `kubectl-eks_token`: the release build comes first on PATH.
export PATH=$BIN_DIR:$PATH

"$CARGO_TARGET_DIR/debug/eks-testbed" up --dir "$WORK/eks" >"$WORK/testbed.log" 2>&1 &
TB_PID=$!
for _ in $(seq 200); do [ -e "$WORK/eks/ready" ] && break; sleep 0.1; done
[ -e "$WORK/eks/ready" ] || { cat "$WORK/testbed.log" >&2; exit 1; }
# shellcheck disable=SC1091
. "$WORK/eks/env"
unset KUBECONFIG

AWS_KC=$WORK/aws.kubeconfig
OURS_KC=$WORK/ours.kubeconfig
aws eks update-kubeconfig --name "$EKS_CLUSTER_NAME" --kubeconfig "$AWS_KC" --alias bench >&2
cp "$AWS_KC" "$OURS_KC"
kubectl-eks_token adopt --kubeconfig "$OURS_KC" --all >&2
# `aws eks get-token` presigns for AWS_ENDPOINT_URL when it is set, which no STS accepts: the
# kubectl runs go without it (static keys need no AWS call to sign).
unset AWS_ENDPOINT_URL

CACHE=$HOME/.kube/cache/eks-token
# Warm kubectl's discovery cache and check each case works once.
for kc in "$AWS_KC" "$OURS_KC"; do kubectl --kubeconfig "$kc" get namespaces >/dev/null; done

hyperfine --shell=none --warmup 2 --runs "$RUNS" --style basic --export-json "$WORK/kubectl.json" \
  -n "aws eks get-token" "kubectl --kubeconfig $AWS_KC get namespaces" \
  -n "kubectl-eks_token, cold cache" --prepare "rm -rf $CACHE" "kubectl --kubeconfig $OURS_KC get namespaces" \
  -n "kubectl-eks_token, warm cache" "kubectl --kubeconfig $OURS_KC get namespaces" >&2

python3 - "$WORK/kubectl.json" "$RUNS" <<'EOF'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
aws = results["aws eks get-token"]["median"]
print("| `kubectl get namespaces` with | median | mean ± σ | min | vs `aws eks get-token` |")
print("|---|---|---|---|---|")
for name, r in results.items():
    ratio = "1x" if name == "aws eks get-token" else f"{aws / r['median']:.1f}x faster"
    print(f"| {name} | {r['median'] * 1000:.0f} ms | {r['mean'] * 1000:.0f} ± {r['stddev'] * 1000:.0f} ms "
          f"| {r['min'] * 1000:.0f} ms | {ratio} |")
print()
print(f"{sys.argv[2]} runs per case, 2 warm-up runs")
EOF
kubectl version --client 2>/dev/null | head -1
aws --version 2>&1
