#!/usr/bin/env bash
# scripts/bench-streams.sh: the transport's benchmark. Starts a private Redis (AOF on, as in
# production; or uses $REDIS_URL), runs `cargo bench -p shop-streams`, and stops what it started.
# Prints publish rates, the runner against a raw XREADGROUP+XACK loop, and XADD->handler latency.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/infra.sh
source scripts/lib/infra.sh

trap infra_down EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

infra_redis_start
echo "bench-streams.sh: against ${SHOP_INFRA_REDIS_DESC}"
cargo bench -p shop-streams --bench streams "$@"
