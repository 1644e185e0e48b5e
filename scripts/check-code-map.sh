#!/usr/bin/env bash
# scripts/check-code-map.sh: checks the "Code map" of docs/architecture.md against the code. Every
# `path` named in a row must exist, and every function after it (`name`, `Type::name`) must be
# defined in the file it follows (`fn name`; for `Type::name` also an `impl … Type`). Exit 1 with
# the stale entries listed, so a rename that forgets the map fails the test run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

section=$(awk '/^## Code map/{on=1; next} /^## /{on=0} on' docs/architecture.md)
[[ -n $section ]] || { echo "check-code-map: no '## Code map' section in docs/architecture.md" >&2; exit 1; }

stale=0 checked=0
while IFS= read -r row; do
  [[ $row == '| '* && $row != '| concept'* && $row != '|---'* ]] || continue
  where=${row#*|}; where=${where#*|}            # the second column
  file=""
  # Backticked tokens in order: a path sets the file, anything else is a function in that file.
  while IFS= read -r token; do
    if [[ $token == */* ]]; then
      file=$token
      if [[ ! -f $file ]]; then
        echo "check-code-map: $file does not exist" >&2
        stale=$((stale + 1))
      fi
      continue
    fi
    [[ -n $file && -f $file ]] || continue
    name=${token##*::}
    checked=$((checked + 1))
    if ! grep -qE "fn ${name}\b" "$file"; then
      echo "check-code-map: no fn $name in $file (row: $token)" >&2
      stale=$((stale + 1))
    elif [[ $token == *::* ]] && ! grep -qE "^impl(<[^>]*>)? .*\b${token%%::*}\b" "$file" \
      && ! grep -rqE "^impl(<[^>]*>)? .*\b${token%%::*}\b" "$(dirname "$file")"; then
      echo "check-code-map: no impl ${token%%::*} near $file" >&2
      stale=$((stale + 1))
    fi
  done < <(grep -oE '`[^`]+`' <<<"$where" | tr -d '`' | grep -vE '[[:space:]]')
done <<<"$section"

if ((stale > 0)); then
  echo "check-code-map: $stale stale entries in docs/architecture.md's code map" >&2
  exit 1
fi
((checked > 0)) || { echo "check-code-map: the code map names no function" >&2; exit 1; }
echo "check-code-map: $checked functions resolve"
