#!/usr/bin/env bash
# scripts/validate-deploy.sh: validate the deployment descriptors without a cluster or Docker.
#
#   scripts/validate-deploy.sh
#
# For deploy/k8s/base and every deploy/k8s/overlays/*:
#   1. `kustomize build` renders it, and the older kustomize inside `kubectl apply -k` (kubectl
#      1.27-1.30) renders exactly the same;
#   2. kubernetes-validate checks every rendered object, in strict mode (unknown fields are errors),
#      against the Kubernetes JSON schemas of each version in $SHOP_K8S_VERSIONS;
#   3. scripts/lib/deploy-policy.py checks the shop's own rules (probes, resources, non-root
#      read-only pods, one image, only the gateway public, every Secret/ConfigMap/HPA/PDB
#      reference resolving).
# Then `docker-compose config -q` checks docker-compose.yml with the variables of .env.example.
#
# The tools are installed once and cached (scripts/lib/deploy-tools.sh). Overlays are rendered from
# a temp copy in which each secrets.env is the committed secrets.example.env: validation never reads
# real secrets. One line per check; the first failure stops it with the validator's message.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
# shellcheck source=scripts/lib/deploy-tools.sh
source scripts/lib/deploy-tools.sh

# The oldest Kubernetes the manifests support, and the newest schemas kubernetes-validate ships.
read -r -a k8s_versions <<<"${SHOP_K8S_VERSIONS:-1.30.0 1.37.0}"

started=$SECONDS
checks=0
work=$(mktemp -d "${TMPDIR:-/tmp}/shop-validate-deploy.XXXXXX")
trap 'rm -rf -- "$work"' EXIT

ok() {
  checks=$((checks + 1))
  printf 'validate-deploy: ok    %s\n' "$*"
}

# fail WHAT [LOG]: report the failed check with the validator's output, and stop.
fail() {
  printf 'validate-deploy: FAIL  %s\n' "$1" >&2
  if [[ -n ${2:-} && -s $2 ]]; then
    sed 's/^/    /' "$2" >&2
  fi
  exit 1
}

kustomize=$(tools_kustomize) || fail "cannot install kustomize v$SHOP_KUSTOMIZE_VERSION"
kubectl_kustomize=$(tools_kustomize "$SHOP_KUSTOMIZE_KUBECTL_VERSION") ||
  fail "cannot install kustomize v$SHOP_KUSTOMIZE_KUBECTL_VERSION"
validate=$(tools_kubernetes_validate) || fail "cannot install kubernetes-validate"
compose=$(tools_docker_compose) || fail "cannot install docker-compose"
python=$(tools_venv_python kubernetes-validate)

# ---------------------------------------------------------------- Kubernetes

# A copy without any real secrets.env; each overlay gets its committed example instead.
tar -C deploy -cf - --exclude=secrets.env k8s | tar -C "$work" -xf -
while IFS= read -r example; do
  cp "$example" "${example%/*}/secrets.env"
done < <(find "$work/k8s" -name secrets.example.env)

targets=(base)
for dir in deploy/k8s/overlays/*/; do
  [[ -f $dir/kustomization.yaml ]] && targets+=("overlays/$(basename "$dir")")
done

log="$work/log"
for target in "${targets[@]}"; do
  name="deploy/k8s/$target"
  rendered="$work/${target//\//-}.yaml"
  if ! "$kustomize" build "$work/k8s/$target" >"$rendered" 2>"$log"; then
    sed -i "s#$work/k8s#deploy/k8s#g" "$log"
    fail "kustomize build $name" "$log"
  fi
  objects=$(grep -c '^kind:' "$rendered" || true)
  ok "kustomize build $name ($objects objects)"

  # `kubectl apply -k` renders with the kustomize built into kubectl, an older one: it must render
  # exactly what is validated here.
  what="kubectl's kustomize (v$SHOP_KUSTOMIZE_KUBECTL_VERSION) renders $name the same"
  if ! "$kubectl_kustomize" build "$work/k8s/$target" >"$rendered.kubectl" 2>"$log"; then
    sed -i "s#$work/k8s#deploy/k8s#g" "$log"
    fail "$what" "$log"
  fi
  if ! diff -u --label "kustomize v$SHOP_KUSTOMIZE_VERSION" --label "kustomize v$SHOP_KUSTOMIZE_KUBECTL_VERSION" \
    "$rendered" "$rendered.kubectl" >"$log"; then
    fail "$what" "$log"
  fi
  ok "$what"

  for version in "${k8s_versions[@]}"; do
    # Exit code for errors; a WARN (e.g. no schema for a kind) fails too: every object must be checked.
    if ! "$validate" --strict --quiet --kubernetes-version "$version" "$rendered" >"$log" 2>&1 ||
      grep -qE '^(WARN|ERROR)' "$log"; then
      sed -i "s#$rendered#$name#g" "$log"
      fail "kubernetes-validate --strict (Kubernetes $version) $name" "$log"
    fi
    ok "kubernetes-validate --strict (Kubernetes $version) $name"
  done

  if ! "$python" scripts/lib/deploy-policy.py "$rendered" >"$log" 2>&1; then
    fail "shop policy (scripts/lib/deploy-policy.py) $name" "$log"
  fi
  ok "shop policy (scripts/lib/deploy-policy.py) $name"
done

# ---------------------------------------------------------------- docker compose

# Only what .env.example provides: a clean environment, so a variable exported in this shell
# cannot make up for one missing there.
cp .env.example "$work/compose.env"
if ! env -i PATH="$PATH" HOME="$HOME" "$compose" --project-directory "$root" \
  --env-file "$work/compose.env" -f docker-compose.yml config -q >"$log" 2>&1; then
  sed -i "s#$work/compose.env#.env.example#g" "$log"
  fail "docker-compose config -q (docker-compose.yml with .env.example)" "$log"
fi
ok "docker-compose config -q (docker-compose.yml with .env.example)"

# A clean checkout has no .env: `docker compose up` must work without one (the gateway then
# generates its admin token), so the file must not be needed to render. An empty directory as the
# project directory would lose the build context; an empty env file stands for the missing .env.
: >"$work/empty.env"
if ! env -i PATH="$PATH" HOME="$HOME" "$compose" --project-directory "$root" \
  --env-file "$work/empty.env" -f docker-compose.yml config -q >"$log" 2>&1; then
  fail "docker-compose config -q (docker-compose.yml with no .env)" "$log"
fi
ok "docker-compose config -q (docker-compose.yml with no .env)"
if grep -nE '^[[:space:]]*SHOP_ADMIN_TOKEN=[^[:space:]]' .env.example deploy -r >"$log" 2>&1; then
  fail "no example file sets an admin token (one copied as it is would be publicly known)" "$log"
fi
ok "no example file sets an admin token"

printf 'validate-deploy: %d checks passed in %ds\n' "$checks" "$((SECONDS - started))"
