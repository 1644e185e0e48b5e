# shellcheck shell=bash
#
# scripts/lib/deploy-tools.sh: install, once, the tools that validate the deployment descriptors,
# cached next to FerretDB under ${SHOP_TOOLS_DIR:-$HOME/.cache/shop-tools} (see scripts/lib/infra.sh,
# whose helpers this uses). Source it; it only defines functions and `SHOP_*` globals.
#
#   tools_kustomize [VERSION]  # prints the path of kustomize v$SHOP_KUSTOMIZE_VERSION (or VERSION)
#   tools_kubernetes_validate  # prints the path of kubernetes-validate (ships the k8s JSON schemas)
#   tools_docker_compose       # prints the path of docker-compose v1 (validates compose files)
#
# Call them as `bin=$(tools_kustomize)`: progress and errors go to stderr. Each tool is reinstalled
# only when its pinned version (or, for the venvs, the Python interpreter) changes.
#
#   kustomize:           `go install` of the module from the Go module proxy, into
#                        tools/bin/kustomize-vVERSION.
#   kubernetes-validate: a venv (PyPI), every package pinned.
#   docker-compose:      another venv (its jsonschema<4 pin conflicts with kubernetes-validate's),
#                        every package pinned. docker-compose 1.29.2 needs PyYAML<6, and PyYAML 5.4.1
#                        has no wheel for Python >= 3.10 and no longer builds in pip's isolated build
#                        environment (it gets Cython 3, which it predates), so it is built first,
#                        without isolation, against Cython 0.29.

if ! declare -F infra_tools_dir >/dev/null; then
  # shellcheck source=scripts/lib/infra.sh
  source "$(dirname "${BASH_SOURCE[0]}")/infra.sh"
fi

SHOP_KUSTOMIZE_VERSION="5.8.1" # builds with Go >= 1.24 (v5.8.2 needs 1.26, v5.8.3 1.27)
# The kustomize inside `kubectl apply -k` is older: kubectl 1.27 has v5.0.1, 1.28-1.30 a v5.0.4
# (not released as a CLI), 1.31 v5.4.2. Manifests must render the same with it.
# shellcheck disable=SC2034 # used by scripts/validate-deploy.sh
SHOP_KUSTOMIZE_KUBECTL_VERSION="5.0.1"
SHOP_KUSTOMIZE_MODULE="sigs.k8s.io/kustomize/kustomize/v5"

# The venvs' complete contents (pip freeze), so an install is the same everywhere and every time.
SHOP_KUBERNETES_VALIDATE_PINS=(
  kubernetes-validate==1.37.0
  attrs==26.1.0 importlib_resources==7.1.0 jsonschema==4.26.0 jsonschema-specifications==2025.9.1
  packaging==26.3 PyYAML==6.0.4 referencing==0.37.0 rpds-py==2026.9.1 typing_extensions==4.16.0
)
SHOP_DOCKER_COMPOSE_BUILD_PINS=(Cython==0.29.37 setuptools==65.5.0 wheel==0.48.0)
SHOP_DOCKER_COMPOSE_PYYAML="PyYAML==5.4.1"
SHOP_DOCKER_COMPOSE_PINS=(
  docker-compose==1.29.2
  "$SHOP_DOCKER_COMPOSE_PYYAML"
  attrs==26.1.0 bcrypt==5.0.0 certifi==2026.10.19.post1 cffi==2.1.1 charset-normalizer==3.5.2
  cryptography==50.0.2 distro==1.9.0 docker==7.2.0 dockerpty==0.4.1 docopt==0.6.2 idna==3.20
  invoke==3.0.3 jsonschema==3.2.0 packaging==26.3 paramiko==5.1.0 pycparser==3.12 PyNaCl==1.6.2
  pyrsistent==0.20.0 python-dotenv==0.21.1 requests==2.34.2 six==1.17.0 texttable==1.7.2
  urllib3==2.8.0 websocket-client==0.59.0
)

# tools_with_lock NAME CMD...: run CMD holding an exclusive lock on NAME (two test runs installing
# the same tool at once would trample each other). Without flock, just run CMD.
tools_with_lock() {
  local name=$1 dir
  shift
  dir=$(infra_tools_dir)
  mkdir -p "$dir"
  if command -v flock >/dev/null 2>&1; then
    (
      flock -x 9
      "$@"
    ) 9>"$dir/.$name.lock"
  else
    "$@"
  fi
}

# ---------------------------------------------------------------- kustomize

# tools_kustomize_install VERSION BIN: `go install` kustomize vVERSION to BIN (named after the
# version: a binary built by `go install` may report its version as "(devel)").
tools_kustomize_install() {
  local version=$1 bin=$2 go work log
  [[ -x $bin ]] && return 0
  if ! go=$(infra_go); then
    infra_log "kustomize is built once with Go, which is not installed; install Go (>= 1.24)."
    return 1
  fi
  infra_log "installing kustomize v$version into ${bin%/*} (one-off, about a minute)…"
  work=$(mktemp -d "${TMPDIR:-/tmp}/shop-kustomize.XXXXXX")
  log="$work/install.log"
  if (cd "$work" && GOFLAGS='' GOWORK=off CGO_ENABLED=0 GOBIN="$work/bin" \
    "$go" install "$SHOP_KUSTOMIZE_MODULE@v$version") >"$log" 2>&1 &&
    "$work/bin/kustomize" version >/dev/null 2>&1 &&
    mkdir -p "${bin%/*}" &&
    mv -f "$work/bin/kustomize" "$bin.tmp.$$" && mv -f "$bin.tmp.$$" "$bin"; then
    rm -rf "$work"
    return 0
  fi
  infra_log "installing kustomize v$version failed"
  infra_tail "$log"
  rm -rf "$work"
  return 1
}

# tools_kustomize [VERSION]: print the path of kustomize vVERSION (default: the pinned one).
tools_kustomize() {
  local version=${1:-$SHOP_KUSTOMIZE_VERSION} bin
  bin="$(infra_tools_dir)/bin/kustomize-v$version"
  [[ -x $bin ]] || tools_with_lock "kustomize-v$version" tools_kustomize_install "$version" "$bin" ||
    return 1
  printf '%s\n' "$bin"
}

# ---------------------------------------------------------------- Python venvs

# tools_python_id: the interpreter a venv is built on (a venv breaks when it changes).
tools_python_id() {
  python3 -c 'import os, sys; print(os.path.realpath(sys.executable), sys.version.split()[0])'
}

# tools_venv_install DIR STAMP STEP_FN: (re)build the venv DIR with STEP_FN DIR LOG unless its
# stamp file says it was built from STAMP. A venv cannot be moved, so it is built in place and the
# stamp is written last: a half-built venv has none and is rebuilt.
tools_venv_install() {
  local dir=$1 stamp=$2 step=$3 log
  [[ -f $dir/.shop-stamp && $(<"$dir/.shop-stamp") == "$stamp" ]] && return 0
  rm -rf -- "$dir"
  mkdir -p "${dir%/*}"
  log=$(mktemp "${TMPDIR:-/tmp}/shop-venv.XXXXXX")
  if python3 -m venv "$dir" >"$log" 2>&1 &&
    "$step" "$dir" "$log" &&
    printf '%s\n' "$stamp" >"$dir/.shop-stamp"; then
    rm -f "$log"
    return 0
  fi
  infra_log "installing into $dir failed (python3 -m venv needs Debian's python3-venv)"
  infra_tail "$log"
  rm -f "$log"
  rm -rf -- "$dir"
  return 1
}

tools_pip() {
  local dir=$1 log=$2
  shift 2
  "$dir/bin/python" -m pip install --quiet --no-input --disable-pip-version-check "$@" >>"$log" 2>&1
}

tools_kubernetes_validate_step() {
  tools_pip "$1" "$2" "${SHOP_KUBERNETES_VALIDATE_PINS[@]}"
}

tools_docker_compose_step() {
  tools_pip "$1" "$2" "${SHOP_DOCKER_COMPOSE_BUILD_PINS[@]}" &&
    tools_pip "$1" "$2" --no-build-isolation "$SHOP_DOCKER_COMPOSE_PYYAML" &&
    tools_pip "$1" "$2" "${SHOP_DOCKER_COMPOSE_PINS[@]}"
}

# tools_venv_tool NAME EXE STEP_FN PINS...: print the path of EXE in the venv NAME, building it first
# if its pins or the interpreter changed.
tools_venv_tool() {
  local name=$1 exe=$2 step=$3 dir stamp python
  shift 3
  dir="$(infra_tools_dir)/venv/$name"
  if ! python=$(tools_python_id 2>/dev/null); then
    infra_log "$name is installed with Python, and python3 is not installed"
    return 1
  fi
  stamp="$python $*"
  if ! [[ -x $dir/bin/$exe && -f $dir/.shop-stamp && $(<"$dir/.shop-stamp") == "$stamp" ]]; then
    infra_log "installing $name into $dir (one-off)…"
    tools_with_lock "venv-$name" tools_venv_install "$dir" "$stamp" "$step" || return 1
  fi
  printf '%s\n' "$dir/bin/$exe"
}

tools_kubernetes_validate() {
  tools_venv_tool kubernetes-validate kubernetes-validate tools_kubernetes_validate_step \
    "${SHOP_KUBERNETES_VALIDATE_PINS[@]}"
}

tools_docker_compose() {
  tools_venv_tool docker-compose docker-compose tools_docker_compose_step \
    "${SHOP_DOCKER_COMPOSE_BUILD_PINS[@]}" "${SHOP_DOCKER_COMPOSE_PINS[@]}"
}

# tools_venv_python NAME: the Python of the venv NAME (after tools_* built it).
tools_venv_python() {
  printf '%s\n' "$(infra_tools_dir)/venv/$1/bin/python"
}
