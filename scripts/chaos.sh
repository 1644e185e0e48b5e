#!/usr/bin/env bash
# scripts/chaos.sh: a chaos run (crates/chaos) on a private local stack. Builds the six services
# and the harness, starts a stack with dev.sh (its own state dir and ports, private Redis with
# lossy snapshot persistence and a private MongoDB-compatible store), runs shop-chaos against it
# (traffic + seeded faults, then the invariant checks), always tears the stack down, and exits
# with the harness's verdict: 0 every invariant holds, 1 one is broken, 2 the run failed.
#
#   scripts/chaos.sh [--duration 150s|30m] [--seed N] [--profile debug|release] [--keep]
#                    [--no-build] [-- shop-chaos flags...]
#
#   --duration   how long the traffic and the faults run (default 150s; the soak: 30m)
#   --seed       the fault schedule's seed (default: picked and printed)
#   --profile    which binaries run (default debug, what `cargo test` builds anyway)
#   --keep       leave the stack running afterwards (stop it with the command printed)
#   --no-build   use the binaries already built
#
# Reports go to ${CARGO_TARGET_DIR:-target}/chaos/ (chaos-<seed>.md and .json, latest.md); a
# failed run also copies the services' logs there. Knobs: SHOP_CHAOS_BASE_PORT (default: a free
# block of six ports), SHOP_CHAOS_RUST_LOG (default info). The services' timers below can be
# overridden from the environment.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/infra.sh
source "$root/scripts/lib/infra.sh"
state="$root/.dev-chaos"
target_dir=${CARGO_TARGET_DIR:-$root/target}
report_dir="$target_dir/chaos"

say() { printf '%s\n' "chaos.sh: $*" >&2; }
die() {
  say "$*"
  exit 2
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

duration=150s
seed=""
profile=debug
keep=0
build=1
extra=()
while (($#)); do
  case $1 in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --duration=*) duration=${1#*=}; shift ;;
    --seed) seed=${2:?--seed needs a value}; shift 2 ;;
    --seed=*) seed=${1#*=}; shift ;;
    --profile) profile=${2:?--profile needs a value}; shift 2 ;;
    --profile=*) profile=${1#*=}; shift ;;
    --keep) keep=1; shift ;;
    --no-build) build=0; shift ;;
    -h | --help) usage 0 ;;
    --) shift; extra+=("$@"); break ;;
    *) extra+=("$1"); shift ;;
  esac
done
[[ $profile == debug || $profile == release ]] || die "--profile must be debug or release"
[[ -z $seed || $seed =~ ^[0-9]+$ ]] || die "--seed must be a whole number"

# free_block: a base port whose six ports are free now, below the kernel's ephemeral range
# (32768 and up on Linux), where the servers' own random ports (Redis, FerretDB, its debug port)
# and outgoing connections cannot take one of ours between this check and the bind.
free_block() {
  local base i n ok
  for ((n = 0; n < 100; n++)); do
    base=$((20000 + RANDOM % 12000))
    ok=1
    for ((i = 0; i < 6; i++)); do
      if infra_port_in_use $((base + i)); then ok=0; break; fi
    done
    ((ok)) && { printf '%s\n' "$base"; return 0; }
  done
  return 1
}
base=${SHOP_CHAOS_BASE_PORT:-$(free_block)} || die "no block of six free ports"

# The stack's environment. dev.sh hands every variable to the services, and the harness's own
# dev.sh calls (restarts) inherit it too, so a restarted service runs with the same settings.
unset REDIS_URL MONGODB_URI STREAM_PREFIX BIND_ADDR MONGODB_DATABASE
export SHOP_DEV_DIR=$state SHOP_DEV_BASE_PORT=$base SHOP_DEV_INFRA=private SHOP_DEV_PROFILE=$profile
export SHOP_INFRA_REDIS_PERSISTENCE=snapshot # AOF off, RDB every 2 s: a kill loses recent writes
export SHOP_ADMIN_TOKEN="chaos-$(od -An -N32 -tx1 /dev/urandom | tr -d ' \n')"
export RUST_LOG=${SHOP_CHAOS_RUST_LOG:-info}
export RATE_LIMIT_PER_SECOND=0      # all the traffic comes from 127.0.0.1
export PAYMENT_MAX_AMOUNT=${PAYMENT_MAX_AMOUNT:-150000} # some orders are declined: payment_failed
# The reconciliation timers (the services read these; unknown ones are ignored by older code):
export RECONCILE_INTERVAL_MS=${RECONCILE_INTERVAL_MS:-2000}
export PLACEMENT_TIMEOUT_MS=${PLACEMENT_TIMEOUT_MS:-10000}
export REANNOUNCE_AFTER_MS=${REANNOUNCE_AFTER_MS:-15000}
export RESERVATION_CHECK_AFTER_MS=${RESERVATION_CHECK_AFTER_MS:-30000}
# A dead consumer's entries are taken over in seconds; the handler timeout stays below the claim
# idle time (the runner refuses otherwise) and above orders' 5 s wait for its outbox mark.
export CONSUMER_CLAIM_IDLE_MS=${CONSUMER_CLAIM_IDLE_MS:-8000}
export CONSUMER_CLAIM_INTERVAL_MS=${CONSUMER_CLAIM_INTERVAL_MS:-1000}
export CONSUMER_HANDLER_TIMEOUT_MS=${CONSUMER_HANDLER_TIMEOUT_MS:-7000}

dev() { "$root/scripts/dev.sh" "$@"; }

if ((build)); then
  command -v cargo >/dev/null 2>&1 || PATH="$HOME/.cargo/bin:$PATH"
  args=()
  [[ $profile == release ]] && args+=(--release)
  for bin in products payments identity order-history orders gateway shop-chaos; do args+=(--bin "$bin"); done
  say "building the services and the harness (cargo build ${args[*]})…"
  (cd "$root" && cargo build "${args[@]}") || die "cargo build failed"
fi
harness="$target_dir/$profile/shop-chaos"
[[ -x $harness ]] || die "$harness is missing (run without --no-build)"

status=2
# shellcheck disable=SC2317,SC2329 # invoked by the EXIT trap
teardown() {
  trap '' INT TERM
  if ((status != 0)) && [[ -d $state/logs ]]; then
    local keep_logs="$report_dir/logs-${seed:-unknown}"
    rm -rf -- "$keep_logs" && mkdir -p "$report_dir" && cp -R "$state/logs" "$keep_logs" &&
      cp -R "$state/infra"/*.log "$keep_logs/" 2>/dev/null || true
    say "the services' logs are kept in $keep_logs"
  fi
  if ((keep)); then
    say "the stack keeps running (--keep); stop it with:"
    say "  SHOP_DEV_DIR=$state SHOP_DEV_BASE_PORT=$base scripts/dev.sh down --purge"
    return 0
  fi
  say "stopping and deleting the stack ($state)…"
  dev down --purge >/dev/null 2>&1 || say "dev.sh down failed; see $state"
  rm -rf -- "$state"
}

# A stack left by an interrupted (or --keep) run goes first: every run starts from the seed catalog.
if [[ -d $state ]]; then
  say "removing the stack a previous run left in $state…"
  SHOP_DEV_BASE_PORT=$(cat "$state/run/gateway.1.port" 2>/dev/null || echo "$base") dev down --purge >/dev/null 2>&1 || true
  rm -rf -- "$state"
fi
trap teardown EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

started=$SECONDS
mkdir -p "$report_dir"
say "starting the stack on 127.0.0.1:$base-$((base + 5)), $profile binaries (state in $state)…"
# A port can still be taken between the check and the bind: then another block, twice more.
for attempt in 1 2 3; do
  if dev up --no-build >"$report_dir.up.log" 2>&1; then break; fi
  if ((attempt == 3)) || [[ -n ${SHOP_CHAOS_BASE_PORT:-} ]] ||
    ! grep -qs 'Address already in use\|is taken by another process' "$report_dir.up.log" "$state"/logs/*.log; then
    tail -n 20 "$report_dir.up.log" >&2
    die "the stack did not start (logs in $state/logs)"
  fi
  dev down --purge >/dev/null 2>&1 || true
  base=$(free_block) || die "no block of six free ports"
  export SHOP_DEV_BASE_PORT=$base
  say "a port was taken; trying 127.0.0.1:$base-$((base + 5))"
done
rm -f -- "$report_dir.up.log"
say "stack up in $((SECONDS - started)) s; running the harness for $duration"

seed_args=()
[[ -n $seed ]] && seed_args=(--seed "$seed")
status=0
"$harness" --duration "$duration" "${seed_args[@]}" --dev-dir "$state" --base-port "$base" \
  --dev-script "$root/scripts/dev.sh" --report-dir "$report_dir" "${extra[@]}" || status=$?
if [[ -z $seed ]]; then
  seed=$(sed -nE 's/^# Chaos run, seed ([0-9]+).*/\1/p' "$report_dir/latest.md" 2>/dev/null || true)
fi
say "verdict: $( ((status == 0)) && echo PASS || echo "FAIL (exit $status)"); whole run $((SECONDS - started)) s"
exit "$status"
