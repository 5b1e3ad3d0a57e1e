#!/usr/bin/env bash
# Starts a private containerd (Debian's `containerd`) and fills a private
# containers/storage root, for the in-place store tests (issue 16). Called by start.sh;
# also usable alone. Appends its endpoints to $LAYERWASTE_SERVICES_DIR/services.env
# (start.sh writes that file first).
#
#   - containerd: root, state and a short socket under $state/ctrd; the sample image is
#     imported with `ctr -n NS images import` into namespaces `default` and `moby`, once
#     as the uncompressed docker-archive (tag :latest) and once as a gzip OCI archive
#     made with skopeo (tag :oci-gzip).
#   - containers/storage: the sample copied by skopeo into $state/cstore/overlay (the
#     overlay driver, when the kernel lets us mount it here) and $state/cstore/vfs.
#
# Idempotent: a containerd that is already up is reused. stop.sh stops it by PID.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state=$(realpath -m "${LAYERWASTE_SERVICES_DIR:-$repo/target/services}")
sample="$repo/sample-images/build-deps-split/build-deps-split.tar"
image="localhost/layerwaste-sample/build-deps-split"
log() { echo "services: $*" >&2; }

missing=()
for pair in containerd:containerd ctr:containerd skopeo:skopeo; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "${LAYERWASTE_SERVICES_NO_APT:-0}" = 1 ] && { log "missing: ${missing[*]}"; exit 1; }
  log "installing ${missing[*]} (apt)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# --- containerd ------------------------------------------------------------------------
dir="$state/ctrd"
sock="$dir/c.sock"
mkdir -p "$dir"
cat >"$dir/config.toml" <<TOML
version = 2
root = "$dir/root"
state = "$dir/state"
# Only the image store is needed; the CRI plugin wants a CNI setup and privileges.
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
TOML
ctr=(ctr --address "$sock")
if ! alive "$dir/containerd.pid" || ! "${ctr[@]}" version >/dev/null 2>&1; then
  log "starting containerd"
  rm -f "$sock" "$sock.ttrpc"
  nohup containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 </dev/null &
  echo $! >"$dir/containerd.pid"
  for _ in $(seq 1 300); do
    "${ctr[@]}" version >/dev/null 2>&1 && break
    alive "$dir/containerd.pid" || { log "containerd died (see $dir/containerd.log)"; exit 1; }
    sleep 0.1
  done
  "${ctr[@]}" version >/dev/null 2>&1 || { log "containerd did not start"; exit 1; }
fi

# The gzip OCI archive: skopeo compresses layers with gzip when it writes oci-archive.
oci_gzip="$dir/build-deps-split.oci-gzip.tar"
if [ ! -s "$oci_gzip" ]; then
  rm -f "$oci_gzip"
  skopeo copy -q --dest-compress-format gzip "docker-archive:$sample" "oci-archive:$oci_gzip:oci-gzip"
fi
for ns in default moby; do
  if ! "${ctr[@]}" -n "$ns" images ls -q | grep -qxF "$image:latest"; then
    "${ctr[@]}" -n "$ns" images import --no-unpack "$sample" >/dev/null
  fi
  if ! "${ctr[@]}" -n "$ns" images ls -q | grep -qxF "$image:oci-gzip"; then
    "${ctr[@]}" -n "$ns" images import --no-unpack --base-name "$image" "$oci_gzip" >/dev/null
  fi
done
# A name in one namespace only, for the wrong-namespace message.
if ! "${ctr[@]}" -n moby images ls -q | grep -qxF "localhost/layerwaste-sample/only-moby:latest"; then
  "${ctr[@]}" -n moby images tag "$image:latest" localhost/layerwaste-sample/only-moby:latest >/dev/null
fi
# Namespace `broken`: the image with one layer blob removed from the namespace, as
# discard_unpacked_layers leaves it, for the missing-blob message.
if ! "${ctr[@]}" -n broken images ls -q | grep -qxF "$image:latest"; then
  "${ctr[@]}" -n broken images import --no-unpack "$sample" >/dev/null
  manifest=$("${ctr[@]}" -n broken images ls | awk -v n="$image:latest" '$1 == n {print $3}')
  layer=$("${ctr[@]}" -n broken content get "$manifest" |
          python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][2]["digest"])')
  "${ctr[@]}" -n broken content rm "$layer" >/dev/null
fi

# --- containers/storage ------------------------------------------------------------------
cstore="$state/cstore"
mkdir -p "$cstore"
storage_overlay=""
if [ ! -f "$cstore/overlay/overlay-images/images.json" ] ||
   ! grep -q "$image" "$cstore/overlay/overlay-images/images.json" 2>/dev/null; then
  if skopeo copy -q "docker-archive:$sample" \
      "containers-storage:[overlay@$cstore/overlay+$cstore/overlay-run]$image:latest" \
      2>"$cstore/overlay.log"; then
    storage_overlay="$cstore/overlay"
  else
    log "overlay containers/storage is not possible here (see $cstore/overlay.log)"
  fi
else
  storage_overlay="$cstore/overlay"
fi
if [ ! -f "$cstore/vfs/vfs-images/images.json" ] ||
   ! grep -q "$image" "$cstore/vfs/vfs-images/images.json" 2>/dev/null; then
  skopeo copy -q "docker-archive:$sample" \
    "containers-storage:[vfs@$cstore/vfs+$cstore/vfs-run]$image:latest"
fi

env_file="$state/services.env"
touch "$env_file"
sed -i '/^LAYERWASTE_CONTAINERD_\|^LAYERWASTE_STORAGE_/d' "$env_file"
cat >>"$env_file" <<ENV
LAYERWASTE_CONTAINERD_ADDRESS=$sock
LAYERWASTE_CONTAINERD_ROOT=$dir/root
LAYERWASTE_CONTAINERD_IMAGE=$image
LAYERWASTE_STORAGE_VFS=$cstore/vfs
LAYERWASTE_STORAGE_VFS_RUN=$cstore/vfs-run
ENV
if [ -n "$storage_overlay" ]; then
  cat >>"$env_file" <<ENV
LAYERWASTE_STORAGE_OVERLAY=$cstore/overlay
LAYERWASTE_STORAGE_OVERLAY_RUN=$cstore/overlay-run
ENV
fi
log "containerd ready on $sock; containers/storage in $cstore"
