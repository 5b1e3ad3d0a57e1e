#!/usr/bin/env bash
# Starts the real services the source integration tests read images from, loads the
# sample image into each, and writes their endpoints to an env file the tests read:
#   - a Docker engine (Debian's docker.io, vfs storage) via ../shared/tools/start-dockerd.sh
#   - Podman's Docker-compatible API service (private --root/--runroot, vfs storage)
#   - two registries (Debian's docker-registry): open on 127.0.0.1:5000, htpasswd auth
#     on 127.0.0.1:5001
#   - a private containerd and containers/storage roots (containerd.sh)
#   - Debian's chromium, headless, for the HTML report (chromium.sh; a path, no daemon)
#   - the pattern images of tests/patterns/ (scripts/build-pattern-images.sh), built once
# Everything lives under $LAYERWASTE_SERVICES_DIR (default: <repo>/target/services).
# Idempotent: a service that is already up is reused. Stop with stop.sh (by PID only).
#
# Environment:
#   LAYERWASTE_SERVICES_DIR     state directory (unix sockets need a short path)
#   LAYERWASTE_REGISTRY_PORT    open registry port (default 5000)
#   LAYERWASTE_REGISTRY_AUTH_PORT  htpasswd registry port (default 5001)
#   LAYERWASTE_SERVICES_NO_APT=1   never apt-get install; fail if a tool is missing
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=$(realpath -m "${LAYERWASTE_SERVICES_DIR:-$repo/target/services}")
open_port=${LAYERWASTE_REGISTRY_PORT:-5000}
auth_port=${LAYERWASTE_REGISTRY_AUTH_PORT:-5001}
sample="$repo/sample-images/build-deps-split/build-deps-split.tar"
# The RepoTag inside the sample archive.
image="localhost/layerwaste-sample/build-deps-split:latest"
user=layerwaste
password=layerwaste-test-password
mkdir -p "$state"
log() { echo "services: $*" >&2; }

# --- tools -------------------------------------------------------------------------
missing=()
for pair in dockerd:docker.io podman:podman docker-registry:docker-registry \
            htpasswd:apache2-utils skopeo:skopeo curl:curl buildah:buildah \
            strip:binutils; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
# A Docker CLI for `docker load`; docker.io brings one, but a separately installed
# client (/usr/local/bin/docker) may shadow it, which is fine. The BuildKit tests
# (tests/integration/dockerfile_forms.rs) call docker.io's own /usr/bin/docker, whose
# 20.10 CLI runs BuildKit without the buildx plugin. buildah builds the --base auto and
# Containerfile tests' images; strip makes the latter's binary small.
if [ ${#missing[@]} -gt 0 ]; then
  [ "${LAYERWASTE_SERVICES_NO_APT:-0}" = 1 ] && { log "missing: ${missing[*]}"; exit 1; }
  log "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

shared_tools=""
for d in "$repo/../shared/tools" /work/shared/tools; do
  [ -x "$d/start-dockerd.sh" ] && { shared_tools=$(cd "$d" && pwd); break; }
done
[ -n "$shared_tools" ] || { log "cannot find shared/tools/start-dockerd.sh"; exit 1; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for WHAT PIDFILE COMMAND...
  local what=$1 pidfile=$2; shift 2
  for _ in $(seq 1 300); do
    "$@" >/dev/null 2>&1 && return 0
    alive "$pidfile" || break
    sleep 0.1
  done
  log "$what did not start"; return 1
}

# --- Docker engine -----------------------------------------------------------------
docker_state="$state/docker"
docker_sock="$docker_state/docker.sock"
if ! curl -fsS --max-time 2 --unix-socket "$docker_sock" http://d/_ping >/dev/null 2>&1; then
  log "starting dockerd"
  "$shared_tools/start-dockerd.sh" "$docker_state" >/dev/null
fi
export DOCKER_HOST="unix://$docker_sock"
docker load -q -i "$sample" >/dev/null
# Extra names, so the tests can use each form users type.
docker tag "$image" build-deps-split:latest
docker tag "$image" registry.example.com/team/build-deps-split:v1
docker_id=$(docker image inspect --format '{{.Id}}' "$image")
# The data root's storage driver directory, for --docker-root.
docker_root="$docker_state/root"

# --- Podman ------------------------------------------------------------------------
podman_state="$state/podman"
podman_sock="$podman_state/podman.sock"
podman=(podman --root "$podman_state/root" --runroot "$podman_state/run"
        --storage-driver vfs --events-backend file --cgroup-manager cgroupfs)
mkdir -p "$podman_state"
"${podman[@]}" load -q -i "$sample" >/dev/null
if ! alive "$podman_state/podman.pid"; then
  log "starting podman system service"
  rm -f "$podman_sock"
  nohup "${podman[@]}" system service --time=0 "unix://$podman_sock" \
    >"$podman_state/podman.log" 2>&1 </dev/null &
  echo $! >"$podman_state/podman.pid"
fi
wait_for "podman service (see $podman_state/podman.log)" "$podman_state/podman.pid" \
  curl -fsS --max-time 2 --unix-socket "$podman_sock" http://d/_ping

# --- registries ----------------------------------------------------------------------
start_registry() { # start_registry NAME PORT [htpasswd]
  local name=$1 port=$2 auth=${3:-} dir="$state/$1"
  mkdir -p "$dir/storage"
  if alive "$dir/registry.pid"; then return 0; fi
  if curl -s --max-time 2 "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
    log "port $port is taken by another process; set LAYERWASTE_REGISTRY_PORT / LAYERWASTE_REGISTRY_AUTH_PORT"
    return 1
  fi
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage: {filesystem: {rootdirectory: $dir/storage}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    if [ -n "$auth" ]; then
      htpasswd -Bbn "$user" "$password" >"$dir/htpasswd"
      echo "auth: {htpasswd: {realm: layerwaste-test, path: $dir/htpasswd}}"
    fi
  } >"$dir/config.yml"
  log "starting registry $name on 127.0.0.1:$port"
  nohup docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 </dev/null &
  echo $! >"$dir/registry.pid"
}
start_registry registry-open "$open_port"
start_registry registry-auth "$auth_port" htpasswd
# An htpasswd registry answers 401 once it is up; -f would treat that as down.
up() { [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$1")" != 000 ]; }
wait_for "registry on $open_port" "$state/registry-open/registry.pid" up "http://127.0.0.1:$open_port/v2/"
wait_for "registry on $auth_port" "$state/registry-auth/registry.pid" up "http://127.0.0.1:$auth_port/v2/"
repo_name=layerwaste-sample/build-deps-split
skopeo copy -q --dest-tls-verify=false "docker-archive:$sample" \
  "docker://127.0.0.1:$open_port/$repo_name:latest"
skopeo copy -q --dest-tls-verify=false --dest-creds "$user:$password" "docker-archive:$sample" \
  "docker://127.0.0.1:$auth_port/$repo_name:latest"

# --- endpoints -----------------------------------------------------------------------
env_file="$state/services.env"
cat >"$env_file" <<ENV
LAYERWASTE_SAMPLE_IMAGE=$image
LAYERWASTE_DOCKER_HOST=unix://$docker_sock
LAYERWASTE_DOCKER_ROOT=$docker_root
LAYERWASTE_DOCKER_IMAGE_ID=$docker_id
LAYERWASTE_PODMAN_HOST=unix://$podman_sock
LAYERWASTE_REGISTRY=127.0.0.1:$open_port
LAYERWASTE_REGISTRY_AUTH=127.0.0.1:$auth_port
LAYERWASTE_REGISTRY_REPO=$repo_name
LAYERWASTE_REGISTRY_USER=$user
LAYERWASTE_REGISTRY_PASSWORD=$password
ENV
# containerd and containers/storage (issue 16): appends to the same env file.
bash "$repo/scripts/services/containerd.sh"
# Headless chromium for the HTML report's browser tests (tests/integration/html.rs).
echo "LAYERWASTE_CHROMIUM=$(bash "$repo/scripts/services/chromium.sh")" >>"$env_file"

# --- pattern images (issue 17) -----------------------------------------------------------
# One small real image per waste pattern, for tests/integration/patterns.rs. The script
# returns at once when the images are there and built from the current Containerfiles.
# It needs Debian's archive and PyPI: without them the other services still start, and
# the pattern tests skip (or fail, under LAYERWASTE_REQUIRE_SERVICES=1).
pattern_images="$state/pattern-images"
sed -i '/^LAYERWASTE_PATTERN_IMAGES=/d' "$env_file"
if bash "$repo/scripts/build-pattern-images.sh" "$pattern_images"; then
  echo "LAYERWASTE_PATTERN_IMAGES=$pattern_images" >>"$env_file"
else
  log "the pattern images were not built (see above)"
fi
log "ready; endpoints in $env_file"
echo "LAYERWASTE_SERVICES_ENV=$env_file"
