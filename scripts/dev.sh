#!/usr/bin/env bash
# scripts/dev.sh: run the whole shop locally, without Docker: the six release
# binaries as background processes, plus Redis and a MongoDB-compatible store
# when none is reachable. See docs/running.md.
#
#   scripts/dev.sh up [--no-build]      build, start infra + all services, wait for /health
#   scripts/dev.sh down [--purge]       stop everything it started (--purge: delete its data too)
#   scripts/dev.sh status               one line per service, plus Redis and MongoDB
#   scripts/dev.sh start <svc>...       start a service (instance 1); 'start redis|mongo'
#                                       restarts the private server on its port, with its data
#   scripts/dev.sh stop <svc>...        SIGTERM (services drain), SIGKILL after 20 s;
#                                       'stop redis|mongo' shuts the private server down cleanly
#   scripts/dev.sh kill <svc> [<i>]     SIGKILL, no drain (crash demos); also 'kill redis|mongo'
#   scripts/dev.sh pause <svc> [<i>]    SIGSTOP: frozen, its sockets stay open; also redis, mongo
#   scripts/dev.sh resume <svc> [<i>]   SIGCONT: what 'pause' froze runs on
#   scripts/dev.sh scale <svc> <n>      run n instances of a stream consumer
#   scripts/dev.sh logs <svc> [-n N]    tail -F the service's log(s); also redis, mongo
#   scripts/dev.sh admin-token          print the gateway's SHOP_ADMIN_TOKEN (for /ops, /api/ops)
#
# State (pid files, logs, the private servers' data) lives in ${SHOP_DEV_DIR:-<repo>/.dev}.
# Every variable of the caller's environment reaches the services, except BIND_ADDR
# (set per instance). Knobs of the runner itself:
#   SHOP_DEV_BASE_PORT=8080   gateway's port; products +1, orders +2, payments +3,
#                             order-history +4, identity +5 (a second stack: another base)
#   SHOP_DEV_PROFILE=release  or debug: which cargo profile's binaries run (and get built)
#   SHOP_DEV_INFRA=private    always start private Redis/MongoDB, even if one listens on the
#                             default port (the system tests use this)
#   SHOP_INFRA_REDIS_PERSISTENCE=snapshot   the private Redis without AOF, RDB snapshots every
#                             2 s: a 'kill redis' loses recent writes (scripts/chaos.sh uses this)
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=scripts/lib/infra.sh
source "$root/scripts/lib/infra.sh"

state=${SHOP_DEV_DIR:-$root/.dev}
run_dir="$state/run"
log_dir="$state/logs"
infra_dir="$state/infra"

services=(products payments identity order-history orders gateway) # dependency order
base_port=${SHOP_DEV_BASE_PORT:-8080}
if ! [[ $base_port =~ ^[0-9]+$ ]] || ((base_port < 1024 || base_port > 65530)); then
  printf 'dev.sh: SHOP_DEV_BASE_PORT must be a port between 1024 and 65530, not %q\n' "$base_port" >&2
  exit 1
fi
declare -A planned_port=([gateway]=$base_port [products]=$((base_port + 1))
  [orders]=$((base_port + 2)) [payments]=$((base_port + 3)) [order-history]=$((base_port + 4))
  [identity]=$((base_port + 5)))
profile=${SHOP_DEV_PROFILE:-release}
if [[ $profile != release && $profile != debug ]]; then
  printf 'dev.sh: SHOP_DEV_PROFILE must be release or debug, not %q\n' "$profile" >&2
  exit 1
fi
target_dir=${CARGO_TARGET_DIR:-$root/target}
private_infra=0
[[ ${SHOP_DEV_INFRA:-} == private ]] && private_infra=1

STOP_TIMEOUT=20
READY_TIMEOUT=${SHOP_DEV_READY_TIMEOUT:-90}

say() { printf '%s\n' "dev.sh: $*" >&2; }
die() {
  say "$*"
  exit 1
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit "${1:-2}"
}

is_service() {
  [[ -n ${planned_port[$1]:-} ]]
}

check_service() {
  is_service "$1" || die "unknown service '$1' (one of: ${services[*]})"
}

binary() { printf '%s\n' "$target_dir/$profile/$1"; }

# --------------------------------------------------------------- instances

pid_file() { printf '%s\n' "$run_dir/$1.$2.pid"; }
port_file() { printf '%s\n' "$run_dir/$1.$2.port"; }
log_file() { printf '%s\n' "$log_dir/$1.$2.log"; }

# instance_pid SVC I: print the pid of instance I if it runs (and is that binary).
instance_pid() {
  local pid comm
  pid=$(cat "$(pid_file "$1" "$2")" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && infra_alive "$pid" || return 1
  comm=$(cat "/proc/$pid/comm" 2>/dev/null) || return 1
  [[ $comm == "${1:0:15}" ]] || return 1
  printf '%s\n' "$pid"
}

instance_port() { cat "$(port_file "$1" "$2")" 2>/dev/null; }

# instances SVC: print the numbers of the instances with a pid file, ascending.
instances() {
  local f n
  for f in "$run_dir/$1".*.pid; do
    [[ -e $f ]] || continue
    n=${f%.pid}
    n=${n##*.}
    [[ $n =~ ^[0-9]+$ ]] && printf '%s\n' "$n"
  done | sort -n
}

# running_instances SVC: the numbers of the instances that run.
running_instances() {
  local i
  for i in $(instances "$1"); do
    if instance_pid "$1" "$i" >/dev/null; then printf '%s\n' "$i"; fi
  done
}

forget_instance() { rm -f -- "$(pid_file "$1" "$2")" "$(port_file "$1" "$2")"; }

http_ok() { # URL: true if it answers 200
  [[ $(curl -s -o /dev/null -m 2 -w '%{http_code}' "$1" 2>/dev/null) == 200 ]]
}

# --------------------------------------------------------------- infra

# The URLs the services use are fixed by `up` (or the first start) in $state/env.
load_env() {
  [[ -f $state/env ]] || return 1
  # shellcheck source=/dev/null
  source "$state/env"
}

admin_token() {
  local token=""
  if [[ -n ${SHOP_ADMIN_TOKEN:-} ]]; then
    token=$SHOP_ADMIN_TOKEN
  elif [[ -f $root/.env ]] && token=$(sed -nE 's/^[[:space:]]*(export[[:space:]]+)?SHOP_ADMIN_TOKEN=//p' "$root/.env" |
    tail -n 1 | sed -E "s/^[\"']//; s/[\"'][[:space:]]*$//") && [[ -n $token ]]; then
    :
  elif [[ -s $state/admin-token ]]; then
    token=$(cat "$state/admin-token")
  else
    token=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
    (umask 077 && printf '%s\n' "$token" >"$state/admin-token")
    say "generated SHOP_ADMIN_TOKEN into $state/admin-token: $token"
  fi
  ((${#token} >= 16)) || die "SHOP_ADMIN_TOKEN must be at least 16 characters"
  printf '%s\n' "$token"
}

# ensure_infra: settle REDIS_URL and MONGODB_URI (environment > our private
# server recorded in the state dir > a server on the default port > a new
# private server) and record them in $state/env.
ensure_infra() {
  mkdir -p "$infra_dir"
  SHOP_INFRA_DIR=$infra_dir
  SHOP_INFRA_DETACH=1
  local redis_desc mongo_desc pid
  if [[ -n ${REDIS_URL:-} ]]; then
    redis_desc="$(infra_redact "$REDIS_URL") (from REDIS_URL)"
  elif pid=$(infra_detached_pid "$infra_dir" redis); then
    REDIS_URL="redis://127.0.0.1:$(cat "$infra_dir/redis.port")"
    redis_desc="private redis-server, pid $pid, $REDIS_URL"
  elif ((!private_infra)) && [[ ! -f $infra_dir/redis.port ]] && infra_redis_ping 6379; then
    REDIS_URL="redis://127.0.0.1:6379"
    redis_desc="the Redis already on :6379"
  else
    SHOP_INFRA_REDIS_PORT=$(cat "$infra_dir/redis.port" 2>/dev/null || true)
    infra_redis_start || die "could not start Redis"
    redis_desc="started $SHOP_INFRA_REDIS_DESC, data in $infra_dir/redis"
  fi
  if [[ -n ${MONGODB_URI:-} ]]; then
    mongo_desc="$(infra_redact "$MONGODB_URI") (from MONGODB_URI)"
  elif pid=$(infra_detached_pid "$infra_dir" mongo); then
    MONGODB_URI="mongodb://127.0.0.1:$(cat "$infra_dir/mongo.port")/"
    mongo_desc="private MongoDB-compatible server, pid $pid, $MONGODB_URI"
  elif ((!private_infra)) && [[ ! -f $infra_dir/mongo.port ]] && infra_mongo_ping 27017; then
    MONGODB_URI="mongodb://127.0.0.1:27017/"
    mongo_desc="the MongoDB already on :27017"
  else
    SHOP_INFRA_MONGO_PORT=$(cat "$infra_dir/mongo.port" 2>/dev/null || true)
    infra_mongo_start || die "could not start a MongoDB-compatible server"
    mongo_desc="started $SHOP_INFRA_MONGO_DESC, data in $infra_dir"
  fi
  export REDIS_URL MONGODB_URI
  printf 'REDIS_URL=%q\nMONGODB_URI=%q\n' "$REDIS_URL" "$MONGODB_URI" >"$state/env"
  say "Redis:   $redis_desc"
  say "MongoDB: $mongo_desc"
}

# --------------------------------------------------------------- start / stop

build() {
  command -v cargo >/dev/null 2>&1 || PATH="$HOME/.cargo/bin:$PATH"
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed; install Rust with rustup first"
  local args=() svc
  [[ $profile == release ]] && args+=(--release)
  for svc in "${services[@]}"; do args+=(--bin "$svc"); done
  say "building $profile binaries (cargo build ${args[*]})…"
  (cd "$root" && cargo build "${args[@]}") || die "cargo build failed"
}

# wait_ready SVC I: wait for instance I's /health/ready (200); fail early if it dies.
wait_ready() {
  local svc=$1 i=$2 pid port deadline=$((SECONDS + READY_TIMEOUT))
  port=$(instance_port "$svc" "$i")
  pid=$(cat "$(pid_file "$svc" "$i")")
  while ((SECONDS < deadline)); do
    if ! infra_alive "$pid"; then
      say "$svc#$i exited during start-up (log: $(log_file "$svc" "$i"))"
      infra_tail "$(log_file "$svc" "$i")"
      return 1
    fi
    http_ok "http://127.0.0.1:$port/health/ready" && return 0
    sleep 0.3
  done
  say "$svc#$i (pid $pid) not ready on :$port after ${READY_TIMEOUT}s (log: $(log_file "$svc" "$i"))"
  infra_tail "$(log_file "$svc" "$i")"
  return 1
}

# start_instance SVC I: start instance I unless it runs; waits for readiness.
start_instance() {
  local svc=$1 i=$2 pid port bin log
  if pid=$(instance_pid "$svc" "$i"); then
    say "$svc#$i already running (pid $pid, :$(instance_port "$svc" "$i"))"
    return 0
  fi
  bin=$(binary "$svc")
  [[ -x $bin ]] || die "$bin is missing; run 'scripts/dev.sh up' (it builds)"
  load_env || ensure_infra
  if ((i == 1)); then
    port=${planned_port[$svc]}
    if infra_port_in_use "$port"; then
      die "port $port (planned for $svc) is taken by another process; stop it first"
    fi
  else
    port=$(infra_free_port)
  fi
  mkdir -p "$run_dir" "$log_dir"
  log=$(log_file "$svc" "$i")
  printf '\n=== %s: starting %s#%s on 127.0.0.1:%s\n' "$(date -u +%FT%TZ)" "$svc" "$i" "$port" >>"$log"
  local -a vars=(
    "BIND_ADDR=127.0.0.1:$port"
    "REDIS_URL=$REDIS_URL"
    "MONGODB_URI=$MONGODB_URI"
    "PRODUCTS_URL=${PRODUCTS_URL:-http://127.0.0.1:${planned_port[products]}}"
    "IDENTITY_URL=${IDENTITY_URL:-http://127.0.0.1:${planned_port[identity]}}"
    "ORDERS_URL=${ORDERS_URL:-http://127.0.0.1:${planned_port[orders]}}"
    "PAYMENTS_URL=${PAYMENTS_URL:-http://127.0.0.1:${planned_port[payments]}}"
    "ORDER_HISTORY_URL=${ORDER_HISTORY_URL:-http://127.0.0.1:${planned_port[order-history]}}"
  )
  [[ $svc == gateway ]] && vars+=("SHOP_ADMIN_TOKEN=$(admin_token)")
  SHOP_INFRA_DETACH=1
  # env -> setsid -> the binary: each execs in place, so the recorded pid is the service's.
  infra_spawn "$log" env "${vars[@]}" "$bin"
  pid=$SHOP_INFRA_SPAWNED_PID
  printf '%s\n' "$pid" >"$(pid_file "$svc" "$i")"
  printf '%s\n' "$port" >"$(port_file "$svc" "$i")"
  wait_ready "$svc" "$i" || return 1
  say "$svc#$i ready (pid $pid, http://127.0.0.1:$port)"
}

# stop_instance SVC I SIGNAL: TERM (wait, KILL after 20 s) or KILL.
stop_instance() {
  local svc=$1 i=$2 sig=$3 pid
  if ! pid=$(instance_pid "$svc" "$i"); then
    forget_instance "$svc" "$i"
    return 0
  fi
  if [[ $sig == KILL ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    local n
    for ((n = 0; n < 50; n++)); do infra_alive "$pid" || break; sleep 0.1; done
    say "$svc#$i killed (pid $pid, SIGKILL: no drain)"
  else
    say "stopping $svc#$i (pid $pid, SIGTERM; SIGKILL after ${STOP_TIMEOUT}s)…"
    # A paused instance would only see its SIGTERM once continued.
    kill -CONT "$pid" 2>/dev/null || true
    infra_stop_pid "$pid" "$svc#$i" "$STOP_TIMEOUT"
    say "$svc#$i stopped"
  fi
  forget_instance "$svc" "$i"
}

stop_service() { # SVC SIGNAL: every instance, highest first
  local i any=0
  for i in $(instances "$1" | sort -rn); do
    any=1
    stop_instance "$1" "$i" "$2"
  done
  ((any)) || say "$1 is not running"
}

# --------------------------------------------------------------- verbs

# up_rollback: what a failed 'up' does on its way out: stop the services and private servers it
# started itself (those already running before it stay), so a failed start leaves nothing behind.
up_rollback() {
  local svc i
  say "up failed; stopping what it started"
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do
    svc=${services[i]}
    if [[ -z ${up_running_before[$svc]:-} && -n $(instances "$svc") ]]; then stop_service "$svc" TERM; fi
  done
  if ((!up_infra_before)) && [[ -d $infra_dir ]]; then
    infra_detached_stop "$infra_dir"
    rm -f -- "$state/env"
  fi
}

cmd_up() {
  local no_build=0 arg svc
  for arg in "$@"; do
    case $arg in
      --no-build) no_build=1 ;;
      *) die "up: unknown option '$arg'" ;;
    esac
  done
  mkdir -p "$state" "$run_dir" "$log_dir"
  declare -gA up_running_before=()
  for svc in "${services[@]}"; do
    if [[ -n $(running_instances "$svc") ]]; then up_running_before[$svc]=1; fi
  done
  up_infra_before=0
  if infra_detached_pid "$infra_dir" redis >/dev/null || infra_detached_pid "$infra_dir" mongo >/dev/null; then
    up_infra_before=1
  fi
  trap up_rollback EXIT
  ((no_build)) || build
  ensure_infra
  admin_token >/dev/null
  for svc in "${services[@]}"; do
    start_instance "$svc" 1 || die "$svc did not start; 'scripts/dev.sh logs $svc' shows why"
  done
  local url="http://127.0.0.1:${planned_port[gateway]}" deadline=$((SECONDS + READY_TIMEOUT))
  until http_ok "$url/health"; do
    ((SECONDS < deadline)) || die "the gateway's /health is not 200 after ${READY_TIMEOUT}s: $(curl -s -m 2 "$url/health")"
    sleep 0.5
  done
  trap - EXIT
  say "the shop is up: $(curl -s -m 2 "$url/health")"
  cat <<EOF

  storefront: $url/
  console:    $url/ops      (its admin token: scripts/dev.sh admin-token)
  try:        curl -s 'localhost:${planned_port[gateway]}/api/products?pageSize=2'
  admin:      curl -s localhost:${planned_port[gateway]}/api/ops/streams -H "authorization: Bearer \$(scripts/dev.sh admin-token)"
  status:     scripts/dev.sh status       logs: scripts/dev.sh logs <service>
  stop:       scripts/dev.sh down         (state in $state)

EOF
}

cmd_down() {
  local purge=0 arg svc i
  for arg in "$@"; do
    case $arg in
      --purge) purge=1 ;;
      *) die "down: unknown option '$arg'" ;;
    esac
  done
  for ((i = ${#services[@]} - 1; i >= 0; i--)); do # reverse dependency order: gateway first
    svc=${services[i]}
    if [[ -n $(instances "$svc") ]]; then stop_service "$svc" TERM; fi
  done
  if [[ -d $infra_dir ]]; then
    local name pid
    for name in mongo redis; do
      if pid=$(infra_detached_pid "$infra_dir" "$name"); then say "stopping private $name (pid $pid)"; fi
    done
    infra_detached_stop "$infra_dir"
  fi
  rm -f -- "$state/env"
  if ((purge)); then
    [[ -d $state ]] && rm -rf -- "$state"
    say "everything stopped; $state deleted"
  else
    say "everything stopped; data kept in $state ('down --purge' deletes it)"
  fi
}

cmd_status() {
  local svc i pid port pids ports ready total
  printf '%-14s %-10s %-22s %-22s %s\n' SERVICE INSTANCES PIDS PORTS READY
  for svc in "${services[@]}"; do
    pids="" ports="" ready=0 total=0
    for i in $(running_instances "$svc"); do
      pid=$(instance_pid "$svc" "$i") || continue
      port=$(instance_port "$svc" "$i")
      total=$((total + 1))
      pids+="${pids:+,}$pid"
      ports+="${ports:+,}$port"
      http_ok "http://127.0.0.1:$port/health/ready" && ready=$((ready + 1))
    done
    if ((total == 0)); then
      printf '%-14s %-10s %-22s %-22s %s\n' "$svc" 0 - "(${planned_port[$svc]})" stopped
    else
      printf '%-14s %-10s %-22s %-22s %s\n' "$svc" "$total" "$pids" "$ports" \
        "$( ((ready == total)) && echo ready || echo "NOT READY ($ready/$total)")"
    fi
  done
  local url
  if [[ -f $state/env ]]; then
    load_env
    for svc in redis mongo; do
      if [[ $svc == redis ]]; then url=$REDIS_URL; else url=$MONGODB_URI; fi
      port=$(cat "$infra_dir/$svc.port" 2>/dev/null || true)
      if pid=$(infra_detached_pid "$infra_dir" "$svc"); then
        printf '%-14s %-10s %-22s %-22s %s\n' "$svc" private "$pid" "$port" "$url (up)"
      elif [[ -n $port && $url == *"127.0.0.1:$port"* ]]; then
        printf '%-14s %-10s %-22s %-22s %s\n' "$svc" private - "$port" "$url (DOWN)"
      else
        printf '%-14s %-10s %-22s %-22s %s\n' "$svc" external - - "$(infra_redact "$url")"
      fi
    done
  else
    printf '%-14s %s\n' redis "- (not set up; 'scripts/dev.sh up')" mongo "- (not set up)"
  fi
  if http_ok "http://127.0.0.1:${planned_port[gateway]}/health"; then
    echo "shop: healthy (http://127.0.0.1:${planned_port[gateway]}/health is 200)"
  else
    echo "shop: not healthy (http://127.0.0.1:${planned_port[gateway]}/health is not 200)"
  fi
}

# The private Redis can be stopped and started on its own, to show that the services ride
# out a broker restart: a clean shutdown writes the AOF (or the RDB snapshot), and the
# restart on the same port and directory reloads it (streams, consumer groups, pending
# lists, sessions).
stop_redis() {
  local pid
  pid=$(infra_detached_pid "$infra_dir" redis) ||
    die "no private Redis of this runner is running (it stops only the one it started)"
  say "stopping private redis (pid $pid, SIGTERM: it writes its data out)…"
  kill -CONT "$pid" 2>/dev/null || true
  infra_stop_pid "$pid" "redis server" 20
  rm -f -- "$infra_dir/redis.pid"
  say "redis stopped"
}

start_redis() {
  local pid port
  if pid=$(infra_detached_pid "$infra_dir" redis); then
    say "redis already running (pid $pid)"
    return 0
  fi
  port=$(cat "$infra_dir/redis.port" 2>/dev/null) ||
    die "no private Redis was set up in $state; 'scripts/dev.sh up' starts one"
  infra_port_in_use "$port" && die "port $port of the private Redis is taken by another process"
  SHOP_INFRA_DIR=$infra_dir SHOP_INFRA_DETACH=1 SHOP_INFRA_REDIS_PORT=$port
  REDIS_URL="" infra_redis_start || die "could not start Redis"
  [[ $(cat "$infra_dir/redis.port") == "$port" ]] || die "Redis came up on another port than $port"
  say "started $SHOP_INFRA_REDIS_DESC (data in $infra_dir/redis)"
}

# The private MongoDB-compatible server, likewise: stopped (or killed) and started again on
# the same port with the same data directory. The services report not-ready while it is down.
stop_mongo() {
  local pid
  pid=$(infra_detached_pid "$infra_dir" mongo) ||
    die "no private MongoDB-compatible server of this runner is running (it stops only the one it started)"
  say "stopping private mongo (pid $pid, SIGTERM)…"
  kill -CONT "$pid" 2>/dev/null || true
  infra_stop_pid "$pid" "mongo server" 20
  rm -f -- "$infra_dir/mongo.pid"
  say "mongo stopped"
}

start_mongo() {
  local pid port
  if pid=$(infra_detached_pid "$infra_dir" mongo); then
    say "mongo already running (pid $pid)"
    return 0
  fi
  port=$(cat "$infra_dir/mongo.port" 2>/dev/null) ||
    die "no private MongoDB-compatible server was set up in $state; 'scripts/dev.sh up' starts one"
  infra_port_in_use "$port" && die "port $port of the private mongo is taken by another process"
  SHOP_INFRA_DIR=$infra_dir SHOP_INFRA_DETACH=1 SHOP_INFRA_MONGO_PORT=$port
  MONGODB_URI="" infra_mongo_start || die "could not start the MongoDB-compatible server"
  [[ $(cat "$infra_dir/mongo.port") == "$port" ]] || die "mongo came up on another port than $port"
  say "started $SHOP_INFRA_MONGO_DESC (data in $infra_dir)"
}

# kill_infra redis|mongo: SIGKILL the private server, no shutdown work at all (Redis then
# loses what it had not persisted yet). Its port and data stay for 'start'.
kill_infra() {
  local name=$1 pid n
  pid=$(infra_detached_pid "$infra_dir" "$name") ||
    die "no private $name of this runner is running (it kills only the one it started)"
  kill -KILL "$pid" 2>/dev/null || true
  for ((n = 0; n < 50; n++)); do infra_alive "$pid" || break; sleep 0.1; done
  rm -f -- "$infra_dir/$name.pid"
  say "$name killed (pid $pid, SIGKILL)"
}

is_infra() { [[ $1 == redis || $1 == mongo ]]; }

cmd_start() {
  (($# > 0)) || die "usage: scripts/dev.sh start <service>|redis|mongo..."
  local svc
  for svc in "$@"; do is_infra "$svc" || check_service "$svc"; done
  for svc in "$@"; do
    case $svc in
      redis) start_redis ;;
      mongo) start_mongo ;;
      *) start_instance "$svc" 1 ;;
    esac
  done
}

cmd_stop() {
  (($# > 0)) || die "usage: scripts/dev.sh stop <service>|redis|mongo..."
  local svc
  for svc in "$@"; do is_infra "$svc" || check_service "$svc"; done
  for svc in "$@"; do
    case $svc in
      redis) stop_redis ;;
      mongo) stop_mongo ;;
      *) stop_service "$svc" TERM ;;
    esac
  done
}

cmd_kill() {
  (($# >= 1 && $# <= 2)) || die "usage: scripts/dev.sh kill <service>|redis|mongo [<instance>]"
  if is_infra "$1"; then
    (($# == 1)) || die "kill $1 takes no instance number"
    kill_infra "$1"
    return
  fi
  check_service "$1"
  if (($# == 2)); then
    [[ $2 =~ ^[1-9][0-9]*$ ]] || die "kill: instance must be a number ≥ 1"
    instance_pid "$1" "$2" >/dev/null || die "$1#$2 is not running"
    stop_instance "$1" "$2" KILL
  else
    stop_service "$1" KILL
  fi
}

# cmd_signal STOP|CONT VERB <svc>|redis|mongo [<i>]: freeze or continue processes in place.
# A paused process keeps its sockets open and answers nothing: what a hung server looks like
# to its clients, unlike a stopped one (connection refused).
cmd_signal() {
  local sig=$1 verb=$2
  shift 2
  (($# >= 1 && $# <= 2)) || die "usage: scripts/dev.sh $verb <service>|redis|mongo [<instance>]"
  local what=$1 pid i pids=()
  if is_infra "$what"; then
    (($# == 1)) || die "$verb $what takes no instance number"
    pid=$(infra_detached_pid "$infra_dir" "$what") || die "no private $what of this runner is running"
    pids=("$what:$pid")
  else
    check_service "$what"
    if (($# == 2)); then
      [[ $2 =~ ^[1-9][0-9]*$ ]] || die "$verb: instance must be a number ≥ 1"
      pid=$(instance_pid "$what" "$2") || die "$what#$2 is not running"
      pids=("$what#$2:$pid")
    else
      for i in $(running_instances "$what"); do
        pid=$(instance_pid "$what" "$i") && pids+=("$what#$i:$pid")
      done
      ((${#pids[@]} > 0)) || die "$what is not running"
    fi
  fi
  local entry
  for entry in "${pids[@]}"; do
    kill "-$sig" "${entry##*:}" 2>/dev/null || die "could not send SIG$sig to ${entry%:*}"
    say "${entry%:*} (pid ${entry##*:}) $( [[ $sig == STOP ]] && echo "paused (SIGSTOP)" || echo "resumed (SIGCONT)")"
  done
}

cmd_scale() {
  (($# == 2)) || die "usage: scripts/dev.sh scale <service> <n>"
  local svc=$1 n=$2 i
  check_service "$svc"
  [[ $n =~ ^[0-9]+$ ]] || die "scale: n must be a whole number"
  if [[ $svc == gateway ]] && ((n > 1)); then
    die "the gateway cannot be scaled: it is the one public port (${planned_port[gateway]}); run a load balancer in front of several for that"
  fi
  for i in $(instances "$svc" | sort -rn); do
    if ((i > n)); then stop_instance "$svc" "$i" TERM; fi
  done
  for ((i = 1; i <= n; i++)); do
    start_instance "$svc" "$i" || die "$svc#$i did not start"
  done
  say "$svc: $(running_instances "$svc" | wc -l | tr -d ' ') instance(s) running"
}

cmd_logs() {
  (($# >= 1)) || die "usage: scripts/dev.sh logs <service>|redis|mongo [-n N]"
  local svc=$1 lines=20
  shift
  while (($# > 0)); do
    case $1 in
      -n) lines=${2:?-n needs a number}; shift 2 ;;
      -n*) lines=${1#-n}; shift ;;
      *) die "logs: unknown option '$1'" ;;
    esac
  done
  [[ $lines =~ ^[0-9]+$ ]] || die "logs: -n needs a number"
  local files=()
  case $svc in
    redis) files=("$infra_dir/redis.log") ;;
    mongo) for f in "$infra_dir"/mongod.log "$infra_dir"/ferretdb.log; do [[ -e $f ]] && files+=("$f"); done ;;
    *)
      check_service "$svc"
      local f
      for f in "$log_dir/$svc".*.log; do [[ -e $f ]] && files+=("$f"); done
      ;;
  esac
  if ((${#files[@]} == 0)) || [[ ! -e ${files[0]} ]]; then die "no logs for $svc yet (in $log_dir)"; fi
  exec tail -n "$lines" -F "${files[@]}"
}

(($# > 0)) || usage
verb=$1
shift
case $verb in
  up) cmd_up "$@" ;;
  down) cmd_down "$@" ;;
  status) cmd_status "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  kill) cmd_kill "$@" ;;
  pause) cmd_signal STOP pause "$@" ;;
  resume) cmd_signal CONT resume "$@" ;;
  scale) cmd_scale "$@" ;;
  logs) cmd_logs "$@" ;;
  admin-token) mkdir -p "$state" && admin_token ;;
  help | -h | --help) usage 0 ;;
  *)
    say "unknown verb '$verb'"
    usage
    ;;
esac
