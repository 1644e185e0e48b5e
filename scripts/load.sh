#!/usr/bin/env bash
# scripts/load.sh: the load generator (services/loadgen) against a private local stack, or
# against a running one. See services/loadgen/README.md.
#
#   scripts/load.sh [--no-build] [loadgen flags...]     start a private stack with dev.sh on its
#                                                       own ports, state dir, Redis and MongoDB;
#                                                       run, print the report, stop and delete it
#   scripts/load.sh --against URL [loadgen flags...]    run against the gateway at URL (e.g. the
#                                                       docker compose stack); starts nothing
#
# Every other argument goes to loadgen (--duration 60s --concurrency 32 --rate 200 --mix ...
# --json report.json; `loadgen --help` lists them). Knobs:
#   LOAD_BASE_PORT=18080    the private stack's gateway port; products +1, orders +2, ...
#   LOAD_GATEWAY_URL        same as --against
#   LOAD_RUST_LOG=info      the private stack's RUST_LOG (per-request access logs are INFO)
#   --no-build              use the release binaries already in target/ (services and loadgen)
#   --keep                  leave the private stack running afterwards, to look at its logs and
#                           /metrics (stop it with: SHOP_DEV_DIR=.dev-load scripts/dev.sh down --purge)
#
# The private stack runs with RATE_LIMIT_PER_SECOND=0: all the load comes from one address, which
# the gateway's per-client limiter would otherwise throttle. A stack given with --against keeps
# its own limits (and answers 429 beyond them: they are reported as errors).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
state="$root/.dev-load"
target_dir=${CARGO_TARGET_DIR:-$root/target}
loadgen="$target_dir/release/loadgen"

say() { printf '%s\n' "load.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

against=${LOAD_GATEWAY_URL:-}
build=1
keep=0
args=()
while (($#)); do
  case $1 in
    --against)
      (($# >= 2)) || die "--against needs a URL"
      against=$2
      shift 2
      ;;
    --against=*)
      against=${1#--against=}
      shift
      ;;
    --no-build)
      build=0
      shift
      ;;
    --keep)
      keep=1
      shift
      ;;
    -h | --help) usage 0 ;;
    *)
      args+=("$1")
      shift
      ;;
  esac
done

if ((build)); then
  command -v cargo >/dev/null 2>&1 || PATH="$HOME/.cargo/bin:$PATH"
  say "building loadgen (cargo build --release -p shop-loadgen)…"
  (cd "$root" && cargo build --release -p shop-loadgen) || die "cargo build failed"
fi
[[ -x $loadgen ]] || die "$loadgen is missing (run without --no-build)"

if [[ -n $against ]]; then
  exec "$loadgen" --gateway "$against" "${args[@]}"
fi

base=${LOAD_BASE_PORT:-18080}
if ! [[ $base =~ ^[0-9]+$ ]] || ((base < 1024 || base > 65530)); then
  die "LOAD_BASE_PORT must be a port between 1024 and 65530, not '$base'"
fi

# The stack's own environment: dev.sh passes every variable on to the services.
dev() {
  env -u REDIS_URL -u MONGODB_URI \
    SHOP_DEV_DIR="$state" SHOP_DEV_BASE_PORT="$base" SHOP_DEV_INFRA=private \
    RATE_LIMIT_PER_SECOND=0 RUST_LOG="${LOAD_RUST_LOG:-info}" \
    "$root/scripts/dev.sh" "$@"
}

# shellcheck disable=SC2317,SC2329 # invoked by the EXIT trap
teardown() {
  if ((keep)); then
    say "the private stack keeps running (--keep): logs in $state/logs; stop it with"
    say "  SHOP_DEV_DIR=$state SHOP_DEV_BASE_PORT=$base scripts/dev.sh down --purge"
    return 0
  fi
  say "stopping and deleting the private stack ($state)…"
  dev down --purge >/dev/null 2>&1 || say "dev.sh down failed; see $state"
  rm -rf -- "$state"
}

# A stack left over by an interrupted (or --keep) run is removed first: every run starts from the
# seed catalog.
if [[ -d $state ]]; then
  say "removing the stack a previous run left in $state…"
  dev down --purge >/dev/null 2>&1 || true
  rm -rf -- "$state"
fi
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "starting a private stack on 127.0.0.1:$base-$((base + 5)) (state in $state)…"
up_args=()
((build)) || up_args+=(--no-build)
dev up "${up_args[@]}" >/dev/null || die "the private stack did not start (logs in $state/logs)"

status=0
"$loadgen" --gateway "http://127.0.0.1:$base" \
  --direct-products "http://127.0.0.1:$((base + 1))" "${args[@]}" || status=$?
exit "$status"
