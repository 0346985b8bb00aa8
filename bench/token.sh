#!/usr/bin/env bash
# Benchmark: kubectl-eks_token against `aws eks get-token`, side by side in one run.
#
#   bench/token.sh [RUNS]          (default 50 runs per command; needs hyperfine, aws, python3 + moto)
#
# Measures (hyperfine medians, /usr/bin/time peak RSS):
#   1. static env credentials: `kubectl-eks_token --no-cache` (signs every time) vs `aws eks get-token`
#   2. cache hit: `kubectl-eks_token` with a warm cache
#   3. role: cached `kubectl-eks_token --role-arn` vs `aws eks get-token --role-arn` (an STS AssumeRole
#      per call), both against a local moto server through AWS_ENDPOINT_URL; plus our uncached role path
# and the release binary's size. Prints a Markdown table for BENCHMARKS.md.
set -euo pipefail

RUNS=${1:-50}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

need() { command -v "$1" >/dev/null 2>&1 || { echo "bench: missing $1 ($2)" >&2; exit 1; }; }
if ! command -v hyperfine >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  apt-get install -y hyperfine >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y hyperfine >/dev/null; }
fi
need hyperfine "apt-get install hyperfine"
need aws "pip install awscli"
need python3 "python3"
[ -x /usr/bin/time ] || { echo "bench: missing /usr/bin/time (apt-get install time)" >&2; exit 1; }
python3 -c 'import moto.server' 2>/dev/null || python3 -m pip install --quiet 'moto[server]'

cargo build --release -p kubectl-eks-token >&2
BIN=$CARGO_TARGET_DIR/release/kubectl-eks_token
SIZE=$(stat -c %s "$BIN")

WORK=$(mktemp -d)
MOTO_PID=
cleanup() { [ -n "$MOTO_PID" ] && kill "$MOTO_PID" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT

# Hermetic environment: nothing inherited from the user's AWS or kube setup.
for v in $(env | grep -oE '^(AWS_[A-Z_]+|KUBECONFIG|KUBERNETES_EXEC_INFO|KUBECTL_EKS_TOKEN_CACHE_DIR)='); do unset "${v%=}"; done
export HOME=$WORK/home
mkdir -p "$HOME"
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true
CLUSTER=bench

# Local STS for AssumeRole.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
python3 -m moto.server -H 127.0.0.1 -p "$PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
ENDPOINT=http://127.0.0.1:$PORT
for _ in $(seq 100); do curl -fs "$ENDPOINT/moto-api/" >/dev/null 2>&1 && break; sleep 0.1; done
ROLE=$(AWS_ENDPOINT_URL=$ENDPOINT aws iam create-role --role-name eks-bench \
  --assume-role-policy-document '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"sts:AssumeRole"}]}' \
  --query Role.Arn --output text)

HF="hyperfine --shell=none --warmup 3 --runs $RUNS --style basic"

echo "== static credentials" >&2
$HF --export-json "$WORK/static.json" \
  -n ours "$BIN --cluster-name $CLUSTER --no-cache" \
  -n aws "aws eks get-token --cluster-name $CLUSTER" >&2

echo "== cache hit" >&2
"$BIN" --cluster-name "$CLUSTER" >/dev/null   # warm
$HF --export-json "$WORK/hit.json" -n hit "$BIN --cluster-name $CLUSTER" >&2

echo "== role via AssumeRole (moto at $ENDPOINT)" >&2
export AWS_ENDPOINT_URL=$ENDPOINT
"$BIN" --cluster-name "$CLUSTER" --role-arn "$ROLE" >/dev/null   # warm the cache
$HF --export-json "$WORK/role.json" \
  -n ours-cached "$BIN --cluster-name $CLUSTER --role-arn $ROLE" \
  -n ours-uncached "$BIN --cluster-name $CLUSTER --role-arn $ROLE --no-cache" \
  -n aws "aws eks get-token --cluster-name $CLUSTER --role-arn $ROLE" >&2
unset AWS_ENDPOINT_URL

# Peak RSS (KiB): the largest of 10 runs each.
rss() {
  local max=0 kb
  for _ in $(seq 10); do
    /usr/bin/time -f '%M' -o "$WORK/rss" "$@" >/dev/null 2>&1
    kb=$(tail -1 "$WORK/rss")
    [ "$kb" -gt "$max" ] && max=$kb
  done
  echo "$max"
}
RSS_STATIC=$(rss "$BIN" --cluster-name "$CLUSTER" --no-cache)
RSS_AWS=$(rss aws eks get-token --cluster-name "$CLUSTER")
RSS_HIT=$(rss "$BIN" --cluster-name "$CLUSTER")
RSS_ROLE_HIT=$(AWS_ENDPOINT_URL=$ENDPOINT rss "$BIN" --cluster-name "$CLUSTER" --role-arn "$ROLE")
RSS_ROLE_MISS=$(AWS_ENDPOINT_URL=$ENDPOINT rss "$BIN" --cluster-name "$CLUSTER" --role-arn "$ROLE" --no-cache)
RSS_AWS_ROLE=$(AWS_ENDPOINT_URL=$ENDPOINT rss aws eks get-token --cluster-name "$CLUSTER" --role-arn "$ROLE")

python3 - "$WORK" "$SIZE" "$RSS_STATIC" "$RSS_AWS" "$RSS_HIT" "$RSS_ROLE_HIT" "$RSS_ROLE_MISS" "$RSS_AWS_ROLE" "$RUNS" <<'EOF'
import json, sys
work, size, rs, ra, rh, rrh, rrm, rar, runs = sys.argv[1:]
def med(file, name):
    for r in json.load(open(f"{work}/{file}.json"))["results"]:
        if r["command"] == name:
            return r["median"] * 1000
    raise SystemExit(f"no {name} in {file}")
s_ours, s_aws = med("static", "ours"), med("static", "aws")
hit = med("hit", "hit")
r_hit, r_miss, r_aws = med("role", "ours-cached"), med("role", "ours-uncached"), med("role", "aws")
mib = lambda kb: f"{int(kb) / 1024:.1f} MiB"
print(f"| case | kubectl-eks_token median | peak RSS | aws eks get-token median | peak RSS | ratio |")
print(f"|---|---|---|---|---|---|")
print(f"| static env credentials (`--no-cache`) | {s_ours:.2f} ms | {mib(rs)} | {s_aws:.0f} ms | {mib(ra)} | {s_aws / s_ours:.0f}x |")
print(f"| cache hit | {hit:.2f} ms | {mib(rh)} | {s_aws:.0f} ms | {mib(ra)} | {s_aws / hit:.0f}x |")
print(f"| `--role-arn`, cached | {r_hit:.2f} ms | {mib(rrh)} | {r_aws:.0f} ms | {mib(rar)} | {r_aws / r_hit:.0f}x |")
print(f"| `--role-arn`, `--no-cache` (AssumeRole each call) | {r_miss:.1f} ms | {mib(rrm)} | {r_aws:.0f} ms | {mib(rar)} | {r_aws / r_miss:.0f}x |")
print()
print(f"release binary: {int(size) / 1e6:.2f} MB ({int(size)} bytes); {runs} runs per command, 3 warm-up runs")
EOF
