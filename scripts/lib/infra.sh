# shellcheck shell=bash
#
# scripts/lib/infra.sh: provision private, throw-away Redis and MongoDB-compatible
# servers for tests and local runs. Source it; it only defines functions and
# `SHOP_INFRA_*` globals, and changes no shell options.
#
#   source scripts/lib/infra.sh
#   infra_up        # exports REDIS_URL and MONGODB_URI (starts what is missing)
#   infra_summary   # one line: what the URLs point at
#   infra_down      # stops exactly what infra_up started; safe to call twice
#
# Choices:
#   Redis:   $REDIS_URL if set; else a private `redis-server` (installed with
#            apt-get if missing) on a free 127.0.0.1 port, AOF on, RDB off.
#            SHOP_INFRA_REDIS_PERSISTENCE=snapshot starts it with AOF off and RDB
#            snapshots every 2 s instead (SHOP_INFRA_REDIS_SAVE, default "2 1"): a
#            SIGKILL then really loses the writes since the last snapshot, which
#            the chaos runs (scripts/chaos.sh) need; with AOF the OS page cache
#            keeps them across a process kill.
#   MongoDB: $MONGODB_URI if set; else `mongod` if on PATH; else FerretDB v1.24.2
#            (MongoDB wire protocol over SQLite), built once with Go into
#            ${SHOP_TOOLS_DIR:-$HOME/.cache/shop-tools}/bin/ferretdb.
#
# Every server runs from one temp dir (data + logs) that infra_down removes.
# Call the start functions directly (never inside `$(...)`): they set globals
# and start background processes that must belong to the calling shell.
#
# Detached mode (scripts/dev.sh): set SHOP_INFRA_DIR to an existing directory and
# SHOP_INFRA_DETACH=1 before infra_redis_start / infra_mongo_start. The servers
# then keep their data in that directory (so it survives restarts), run in their
# own session (setsid) so they outlive the caller, and record themselves in
# <dir>/redis.{pid,port} and <dir>/mongo.{pid,port}; SHOP_INFRA_REDIS_PORT /
# SHOP_INFRA_MONGO_PORT ask for a port (used when free, else a free one is
# picked). infra_detached_pid / infra_detached_stop read those records later,
# from another shell. Never call infra_down in this mode: it removes the dir.

SHOP_FERRETDB_VERSION="1.24.2"
SHOP_FERRETDB_MODULE="github.com/FerretDB/FerretDB"

SHOP_INFRA_DIR=""         # temp dir holding every started server's data and logs
SHOP_INFRA_REDIS_PID=""   # pid of the redis-server we started, if any
SHOP_INFRA_MONGO_PID=""   # pid of the mongod/ferretdb we started, if any
SHOP_INFRA_REDIS_DESC=""  # human description, for infra_summary
SHOP_INFRA_MONGO_DESC=""
SHOP_INFRA_SPAWNED_PID="" # set by infra_spawn
SHOP_INFRA_DETACH="${SHOP_INFRA_DETACH:-}"         # 1: detached mode (see above)
SHOP_INFRA_REDIS_PORT="${SHOP_INFRA_REDIS_PORT:-}" # preferred port (detached mode)
SHOP_INFRA_MONGO_PORT="${SHOP_INFRA_MONGO_PORT:-}"
SHOP_INFRA_REDIS_PERSISTENCE="${SHOP_INFRA_REDIS_PERSISTENCE:-}" # aof (default) or snapshot

infra_log() { printf '%s\n' "infra: $*" >&2; }

# infra_tools_dir: where downloaded/built tools are cached.
infra_tools_dir() { printf '%s\n' "${SHOP_TOOLS_DIR:-$HOME/.cache/shop-tools}"; }

# infra_sudo CMD...: run CMD as root (directly when already root).
infra_sudo() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    infra_log "need root to run: $* (and sudo is not installed)"
    return 1
  fi
}

# infra_redact URL: hide the user-info part (passwords) of a URL.
infra_redact() { printf '%s\n' "$1" | sed -E 's#//[^@/]*@#//***@#'; }

# infra_tail FILE: show the end of a server log after a failure.
infra_tail() {
  if [[ -s $1 ]]; then
    infra_log "last lines of $1:"
    tail -n 25 "$1" | sed 's/^/    /' >&2
  fi
}

# infra_workdir: create (once) the temp dir for this session; prints nothing.
infra_workdir() {
  if [[ -z $SHOP_INFRA_DIR || ! -d $SHOP_INFRA_DIR ]]; then
    SHOP_INFRA_DIR=$(mktemp -d "${TMPDIR:-/tmp}/shop-infra.XXXXXX")
  fi
}

# infra_port_in_use PORT: true if something accepts connections on 127.0.0.1:PORT.
infra_port_in_use() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# infra_free_port: print a TCP port that is currently free on 127.0.0.1.
infra_free_port() {
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
  fi
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + RANDOM % 30000))
    if ! infra_port_in_use "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  infra_log "no free TCP port found"
  return 1
}

# infra_pick_port PREFERRED: print PREFERRED if set and free, else a free port.
infra_pick_port() {
  if [[ -n $1 ]] && ! infra_port_in_use "$1"; then
    printf '%s\n' "$1"
  else
    infra_free_port
  fi
}

# infra_alive PID: true while PID runs (and is not a zombie).
infra_alive() {
  [[ -n $1 ]] && kill -0 "$1" 2>/dev/null || return 1
  [[ -d /proc/self ]] || return 0
  # Read the state once: the process may be reaped between two reads.
  local state
  state=$(sed -n 's/^State:[[:space:]]*//p' "/proc/$1/status" 2>/dev/null)
  [[ -n $state && $state != Z* ]]
}

# infra_wait_tcp PORT PID SECONDS: wait until PORT accepts connections; fail early
# if PID dies.
infra_wait_tcp() {
  local port=$1 pid=$2 deadline=$((SECONDS + $3))
  while ((SECONDS < deadline)); do
    infra_alive "$pid" || return 1
    infra_port_in_use "$port" && return 0
    sleep 0.1
  done
  return 1
}

# infra_redis_ping PORT: true if a Redis on PORT answers PING with PONG.
infra_redis_ping() {
  if command -v redis-cli >/dev/null 2>&1; then
    [[ $(redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null) == PONG ]]
    return
  fi
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf 'PING\r\n' >&3
    IFS= read -r -t 2 line <&3 || exit 1
    [[ $line == "+PONG"* ]]
  ) 2>/dev/null
}

# infra_mongo_ping PORT: true if a MongoDB-protocol server on PORT answers
# {ping: 1} with ok: 1 (OP_MSG, via python3). Without python3, accepting a TCP
# connection counts as ready.
infra_mongo_ping() {
  if ! command -v python3 >/dev/null 2>&1; then
    infra_port_in_use "$1"
    return
  fi
  python3 - "$1" 2>/dev/null <<'PY'
import socket, struct, sys

def cstring(s):
    return s.encode() + b"\0"

body = (b"\x10" + cstring("ping") + struct.pack("<i", 1)
        + b"\x02" + cstring("$db") + struct.pack("<i", 6) + cstring("admin"))
doc = struct.pack("<i", len(body) + 5) + body + b"\0"
payload = struct.pack("<I", 0) + b"\0" + doc                 # flagBits, section kind 0
msg = struct.pack("<iiii", 16 + len(payload), 1, 0, 2013) + payload  # OP_MSG
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(msg)
    reply = b""
    while len(reply) < 4 or len(reply) < struct.unpack("<i", reply[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(1)
        reply += chunk
ok_double = b"\x01ok\0" + struct.pack("<d", 1.0)
ok_int = b"\x10ok\0" + struct.pack("<i", 1)
sys.exit(0 if ok_double in reply or ok_int in reply else 1)
PY
}

# infra_wait_mongo PORT PID SECONDS: wait until a real ping succeeds.
infra_wait_mongo() {
  local port=$1 pid=$2 deadline=$((SECONDS + $3))
  infra_wait_tcp "$port" "$pid" "$3" || return 1
  while ((SECONDS < deadline)); do
    infra_alive "$pid" || return 1
    infra_mongo_ping "$port" && return 0
    sleep 0.2
  done
  return 1
}

# infra_spawn LOG CMD...: start CMD in the background with stdout/stderr to LOG,
# stdin from /dev/null and every other inherited descriptor closed (so a server
# never holds a caller's pipe open); sets SHOP_INFRA_SPAWNED_PID. With
# SHOP_INFRA_DETACH=1 the log is appended to and CMD runs in a new session
# (setsid, which execs in place: the pid stays CMD's), immune to the caller's
# terminal signals and exit.
infra_spawn() {
  local log=$1
  shift
  [[ $SHOP_INFRA_DETACH == 1 ]] && set -- setsid "$@"
  (
    if [[ $SHOP_INFRA_DETACH == 1 ]]; then exec >>"$log"; else exec >"$log"; fi
    exec 2>&1 </dev/null
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
        eval "exec $fd>&-" 2>/dev/null || true
      fi
    done
    exec "$@"
  ) &
  SHOP_INFRA_SPAWNED_PID=$!
}

# infra_stop_pid PID NAME [SECONDS]: SIGTERM, wait up to SECONDS (10), then
# SIGKILL; reaps it when it is our child.
infra_stop_pid() {
  local pid=$1 name=$2 i
  [[ -n $pid ]] || return 0
  if infra_alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < ${3:-10} * 10; i++)); do
      infra_alive "$pid" || break
      sleep 0.1
    done
    if infra_alive "$pid"; then
      infra_log "$name (pid $pid) did not stop on SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  wait "$pid" 2>/dev/null || true
}

# ---------------------------------------------------------------- detached records

# infra_record NAME PID PORT: in detached mode, write <dir>/NAME.pid and NAME.port.
infra_record() {
  [[ $SHOP_INFRA_DETACH == 1 ]] || return 0
  printf '%s\n' "$2" >"$SHOP_INFRA_DIR/$1.pid"
  printf '%s\n' "$3" >"$SHOP_INFRA_DIR/$1.port"
}

# infra_detached_pid DIR NAME: print the pid recorded for NAME (redis, mongo) in
# DIR if that process still runs; false otherwise.
infra_detached_pid() {
  local pid
  pid=$(cat "$1/$2.pid" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && infra_alive "$pid" || return 1
  printf '%s\n' "$pid"
}

# infra_detached_stop DIR: stop the servers recorded in DIR (Mongo first) and
# remove their pid files; their data and port records stay.
infra_detached_stop() {
  local name pid
  for name in mongo redis; do
    if pid=$(infra_detached_pid "$1" "$name"); then
      infra_stop_pid "$pid" "$name server" 20
    fi
    rm -f -- "$1/$name.pid"
  done
}

# ---------------------------------------------------------------- Redis

# infra_apt_install WHAT PACKAGE...: install Debian packages with apt-get (WHAT names them in
# messages); false, with the end of apt's log, when that fails.
infra_apt_install() {
  local what=$1
  shift
  if ! command -v apt-get >/dev/null 2>&1; then
    infra_log "$what is not installed and apt-get is not available; install it by hand"
    return 1
  fi
  infra_log "installing $what with apt-get…"
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/shop-apt.XXXXXX")
  if infra_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
    infra_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
      "$@" >>"$log" 2>&1; then
    rm -f "$log"
    return 0
  fi
  infra_log "apt-get install $* failed"
  infra_tail "$log"
  rm -f "$log"
  return 1
}

# infra_ensure_redis_server: install redis-server (and redis-tools) if missing.
infra_ensure_redis_server() {
  command -v redis-server >/dev/null 2>&1 && return 0
  infra_apt_install redis-server redis-server && command -v redis-server >/dev/null 2>&1
}

# infra_redis_start: export REDIS_URL, starting a private redis-server unless
# REDIS_URL is already set.
infra_redis_start() {
  if [[ -n ${REDIS_URL:-} ]]; then
    SHOP_INFRA_REDIS_DESC="Redis at $(infra_redact "$REDIS_URL") (from REDIS_URL)"
    export REDIS_URL
    return 0
  fi
  if infra_alive "$SHOP_INFRA_REDIS_PID"; then
    return 0
  fi
  infra_ensure_redis_server || return 1
  infra_workdir
  local dir="$SHOP_INFRA_DIR/redis" log="$SHOP_INFRA_DIR/redis.log" port pid version
  mkdir -p "$dir"
  # A detached server restarted later (dev.sh start redis) keeps the policy it was first given.
  local policy=$SHOP_INFRA_REDIS_PERSISTENCE
  if [[ -z $policy && $SHOP_INFRA_DETACH == 1 && -s $SHOP_INFRA_DIR/redis.persistence ]]; then
    policy=$(cat "$SHOP_INFRA_DIR/redis.persistence")
  fi
  local -a persistence
  local persist_desc
  case ${policy:-aof} in
    aof) persistence=(--appendonly yes --save "") persist_desc="AOF" ;;
    snapshot)
      persistence=(--appendonly no --save "${SHOP_INFRA_REDIS_SAVE:-2 1}")
      persist_desc="no AOF, RDB save '${SHOP_INFRA_REDIS_SAVE:-2 1}'"
      ;;
    *)
      infra_log "SHOP_INFRA_REDIS_PERSISTENCE must be aof or snapshot, not '$policy'"
      return 1
      ;;
  esac
  for _ in 1 2 3; do
    port=$(infra_pick_port "$SHOP_INFRA_REDIS_PORT") || return 1
    infra_spawn "$log" redis-server --port "$port" --bind 127.0.0.1 --daemonize no \
      --dir "$dir" "${persistence[@]}" --logfile ""
    pid=$SHOP_INFRA_SPAWNED_PID
    if infra_wait_tcp "$port" "$pid" 15; then
      local deadline=$((SECONDS + 15))
      while ((SECONDS < deadline)) && infra_alive "$pid"; do
        if infra_redis_ping "$port"; then
          SHOP_INFRA_REDIS_PID=$pid
          version=$(redis-server --version | sed -nE 's/.*v=([^ ]+).*/\1/p')
          SHOP_INFRA_REDIS_DESC="redis-server ${version:-?} on :$port ($persist_desc)"
          export REDIS_URL="redis://127.0.0.1:$port"
          infra_record redis "$pid" "$port"
          if [[ $SHOP_INFRA_DETACH == 1 ]]; then
            printf '%s\n' "${policy:-aof}" >"$SHOP_INFRA_DIR/redis.persistence"
          fi
          return 0
        fi
        sleep 0.1
      done
    fi
    infra_stop_pid "$pid" redis-server
    # A lost race for the port is worth a retry; anything else is not.
    grep -qs 'Address already in use' "$log" || break
  done
  infra_log "redis-server failed to start (log: $log)"
  infra_tail "$log"
  return 1
}

# ---------------------------------------------------------------- MongoDB

# infra_ferretdb_version_ok BIN: true if BIN is FerretDB v$SHOP_FERRETDB_VERSION.
infra_ferretdb_version_ok() {
  local out
  [[ -x $1 ]] && out=$("$1" --version 2>/dev/null) &&
    grep -qx "version: v$SHOP_FERRETDB_VERSION" <<<"$out"
}

# infra_go: print the path of a Go toolchain.
infra_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    printf '%s\n' /usr/local/go/bin/go
  else
    return 1
  fi
}

# infra_ferretdb_bin: print the path of a cached FerretDB v1.24.2, building it
# with Go when missing or of another version.
#
# Not a plain `go install …@v1.24.2`: such a binary panics at start-up, because
# FerretDB embeds build/version/version.txt, which the module does not ship
# (its release process generates it). So we copy the module source out of the
# module cache, write version.txt, and `go build` from that copy.
infra_ferretdb_bin() {
  local bin_dir bin
  bin_dir="$(infra_tools_dir)/bin"
  bin="$bin_dir/ferretdb"
  if infra_ferretdb_version_ok "$bin"; then
    printf '%s\n' "$bin"
    return 0
  fi
  local go
  if ! go=$(infra_go); then
    infra_log "FerretDB must be built once, which needs Go (>= 1.21; it fetches the 1.24 toolchain itself)."
    infra_log "Install Go, or set MONGODB_URI to a MongoDB server, or put mongod on PATH."
    return 1
  fi
  infra_log "building FerretDB v$SHOP_FERRETDB_VERSION into $bin_dir (one-off, about 2 minutes)…"
  local work log src
  work=$(mktemp -d "${TMPDIR:-/tmp}/shop-ferretdb-build.XXXXXX")
  log="$work/build.log"
  if src=$(cd "$work" && GOFLAGS='' GOWORK=off "$go" mod download -json \
    "$SHOP_FERRETDB_MODULE@v$SHOP_FERRETDB_VERSION" 2>>"$log" |
    sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p') && [[ -n $src && -d $src ]] &&
    cp -R "$src" "$work/src" && chmod -R u+w "$work/src" &&
    printf 'v%s\n' "$SHOP_FERRETDB_VERSION" >"$work/src/build/version/version.txt" &&
    (cd "$work/src" && GOFLAGS='' GOWORK=off CGO_ENABLED=0 "$go" build -trimpath -buildvcs=false \
      -o "$work/ferretdb" ./cmd/ferretdb) >>"$log" 2>&1 &&
    infra_ferretdb_version_ok "$work/ferretdb" &&
    mkdir -p "$bin_dir" &&
    mv -f "$work/ferretdb" "$bin.tmp.$$" && mv -f "$bin.tmp.$$" "$bin"; then
    rm -rf "$work"
    printf '%s\n' "$bin"
    return 0
  fi
  infra_log "building FerretDB failed"
  infra_tail "$log"
  rm -rf "$work"
  return 1
}

# infra_mongod_start PORT LOG: start mongod; sets SHOP_INFRA_MONGO_PID.
infra_mongod_start() {
  local port=$1 log=$2 dir="$SHOP_INFRA_DIR/mongod"
  mkdir -p "$dir"
  infra_spawn "$log" mongod --port "$port" --bind_ip 127.0.0.1 --dbpath "$dir" \
    --nounixsocket --quiet
  SHOP_INFRA_MONGO_PID=$SHOP_INFRA_SPAWNED_PID
}

# infra_ferretdb_start BIN PORT LOG: start FerretDB on SQLite; sets SHOP_INFRA_MONGO_PID.
infra_ferretdb_start() {
  local bin=$1 port=$2 log=$3 dir="$SHOP_INFRA_DIR/ferretdb" debug_port
  mkdir -p "$dir/data"
  debug_port=$(infra_free_port) || return 1
  infra_spawn "$log" "$bin" --handler=sqlite --sqlite-url="file:$dir/data/" \
    --listen-addr="127.0.0.1:$port" --debug-addr="127.0.0.1:$debug_port" \
    --state-dir="$dir" --telemetry=disable --log-level=warn
  SHOP_INFRA_MONGO_PID=$SHOP_INFRA_SPAWNED_PID
}

# infra_mongo_start: export MONGODB_URI; unless already set, start mongod (if on
# PATH) or FerretDB on a free port.
infra_mongo_start() {
  if [[ -n ${MONGODB_URI:-} ]]; then
    SHOP_INFRA_MONGO_DESC="MongoDB at $(infra_redact "$MONGODB_URI") (from MONGODB_URI)"
    export MONGODB_URI
    return 0
  fi
  if infra_alive "$SHOP_INFRA_MONGO_PID"; then
    return 0
  fi
  local kind bin="" name version
  if command -v mongod >/dev/null 2>&1; then
    kind=mongod
    version=$(mongod --version 2>/dev/null | sed -nE 's/^db version v?([^ ]+).*/\1/p')
    name="mongod ${version:-?}"
  else
    kind=ferretdb
    bin=$(infra_ferretdb_bin) || return 1
    name="FerretDB $SHOP_FERRETDB_VERSION (SQLite)"
  fi
  infra_workdir
  local log="$SHOP_INFRA_DIR/$kind.log" port
  for _ in 1 2 3; do
    port=$(infra_pick_port "$SHOP_INFRA_MONGO_PORT") || return 1
    if [[ $kind == mongod ]]; then
      infra_mongod_start "$port" "$log"
    else
      infra_ferretdb_start "$bin" "$port" "$log" || return 1
    fi
    if infra_wait_mongo "$port" "$SHOP_INFRA_MONGO_PID" 60; then
      SHOP_INFRA_MONGO_DESC="$name on :$port"
      export MONGODB_URI="mongodb://127.0.0.1:$port/"
      infra_record mongo "$SHOP_INFRA_MONGO_PID" "$port"
      return 0
    fi
    infra_stop_pid "$SHOP_INFRA_MONGO_PID" "$kind"
    SHOP_INFRA_MONGO_PID=""
    grep -qsi 'address already in use' "$log" || break
  done
  infra_log "$kind failed to start (log: $log)"
  infra_tail "$log"
  return 1
}

# ---------------------------------------------------------------- browser

SHOP_INFRA_CHROMEDRIVER_PID=""

# infra_chromedriver_start: export CHROMEDRIVER_URL, starting a private chromedriver (Debian's
# chromium and chromium-driver, installed with apt-get if missing) on a free 127.0.0.1 port,
# unless CHROMEDRIVER_URL is already set. The browser tests (crates/e2e/tests/browser) drive
# headless Chromium through it.
infra_chromedriver_start() {
  if [[ -n ${CHROMEDRIVER_URL:-} ]]; then
    export CHROMEDRIVER_URL
    return 0
  fi
  if ! command -v chromedriver >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1; then
    infra_apt_install "chromium and chromium-driver" chromium chromium-driver || return 1
  fi
  infra_workdir
  local log="$SHOP_INFRA_DIR/chromedriver.log" port pid
  for _ in 1 2 3; do
    port=$(infra_free_port) || return 1
    infra_spawn "$log" chromedriver --port="$port" --allowed-ips=127.0.0.1 --log-level=WARNING
    pid=$SHOP_INFRA_SPAWNED_PID
    if infra_wait_tcp "$port" "$pid" 15; then
      SHOP_INFRA_CHROMEDRIVER_PID=$pid
      export CHROMEDRIVER_URL="http://127.0.0.1:$port"
      infra_log "chromedriver $(chromedriver --version | awk '{print $2}') on :$port"
      return 0
    fi
    infra_stop_pid "$pid" chromedriver
  done
  infra_log "chromedriver failed to start (log: $log)"
  infra_tail "$log"
  return 1
}

# infra_chromedriver_stop: stop the chromedriver infra_chromedriver_start started (it ends the
# browsers it started with it).
infra_chromedriver_stop() {
  if [[ -n $SHOP_INFRA_CHROMEDRIVER_PID ]]; then
    infra_stop_pid "$SHOP_INFRA_CHROMEDRIVER_PID" chromedriver
    SHOP_INFRA_CHROMEDRIVER_PID=""
    unset CHROMEDRIVER_URL
  fi
}

# ---------------------------------------------------------------- session

# infra_up: provision both servers (or take REDIS_URL / MONGODB_URI as given).
infra_up() {
  infra_redis_start && infra_mongo_start
}

# infra_summary: one line describing what REDIS_URL and MONGODB_URI point at.
infra_summary() {
  printf '%s and %s\n' "${SHOP_INFRA_REDIS_DESC:-no Redis}" "${SHOP_INFRA_MONGO_DESC:-no MongoDB}"
}

# infra_down: stop what infra_up started (by recorded pid), remove the temp dir,
# and unexport the URLs we made up. Safe to call any number of times.
infra_down() {
  infra_chromedriver_stop
  if [[ -n $SHOP_INFRA_MONGO_PID ]]; then
    infra_stop_pid "$SHOP_INFRA_MONGO_PID" "MongoDB server"
    SHOP_INFRA_MONGO_PID=""
    unset MONGODB_URI
  fi
  if [[ -n $SHOP_INFRA_REDIS_PID ]]; then
    infra_stop_pid "$SHOP_INFRA_REDIS_PID" redis-server
    SHOP_INFRA_REDIS_PID=""
    unset REDIS_URL
  fi
  if [[ -n $SHOP_INFRA_DIR ]]; then
    rm -rf -- "$SHOP_INFRA_DIR"
    SHOP_INFRA_DIR=""
  fi
  SHOP_INFRA_REDIS_DESC=""
  SHOP_INFRA_MONGO_DESC=""
}
