#!/usr/bin/env bash
# Build large, realistic benchmark images for layerwaste (and dive / diving comparisons).
#
# Usage: scripts/build-bench-images.sh [OUT_DIR]        (default: /work/bench-images)
# Env:   FORCE=1   rebuild images even when up to date
#        SUITE=bookworm  MIRROR=http://deb.debian.org/debian   (debootstrap)
#
# Produces, for each image NAME in {big, whiteouts}:
#   OUT_DIR/NAME/docker-archive.tar   legacy `docker save` tar, uncompressed layers
#   OUT_DIR/NAME/oci/                 OCI layout, gzip layers        (ref: latest)
#   OUT_DIR/NAME/oci-archive.tar      the same as an oci-archive
#   OUT_DIR/NAME/oci-zstd/            OCI layout, zstd layers        (ref: latest)
#   OUT_DIR/NAME/Containerfile        the recipe it was built from
#
#   big:       ~1 GB uncompressed, overlay driver (opaque whiteouts `.wh..wh..opq`):
#              apt install of big toolchains, a later purge + `rm -rf /var/lib/apt/lists/*`,
#              `chmod -R` (metadata-only copies), whole-directory deletes, a file written twice.
#   whiteouts: ~300 MB, vfs driver (per-file whiteouts only): install many packages, purge them.
#
# Idempotent: the debootstrap base is cached as OUT_DIR/cache/SUITE-minbase.tar, and an image
# is rebuilt only when its Containerfile (or the base tarball) changed, or FORCE=1.
# Needs root and: apt-get install -y buildah skopeo debootstrap
set -euo pipefail

repo=$(git -C "$(dirname "$(realpath "$0")")" rev-parse --show-toplevel)
shared=$(realpath "$repo/../shared")
build_image=$shared/tools/build-image.sh
out=$(realpath -m "${1:-/work/bench-images}")
suite=${SUITE:-bookworm}
mirror=${MIRROR:-http://deb.debian.org/debian}
sources=/etc/apt/sources.list.d/debian.sources

[ "$(id -u)" = 0 ] || { echo "must run as root (debootstrap, buildah)" >&2; exit 1; }
for t in buildah skopeo debootstrap; do
  command -v "$t" >/dev/null || { echo "missing $t: apt-get install -y buildah skopeo debootstrap" >&2; exit 1; }
done
[ -x "$build_image" ] || { echo "missing $build_image" >&2; exit 1; }
[ -f "$sources" ] || { echo "missing $sources (host apt sources, copied into the images)" >&2; exit 1; }

mkdir -p "$out/cache"
base=$out/cache/$suite-minbase.tar

# --- 1. cached debootstrap base ------------------------------------------------------------
if [ ! -s "$base" ]; then
  echo "== debootstrap --variant=minbase $suite -> $base" >&2
  tmp=$(mktemp -d "$out/cache/rootfs.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  debootstrap --variant=minbase "$suite" "$tmp/rootfs" "$mirror" >"$out/cache/debootstrap.log" 2>&1 \
    || { tail -20 "$out/cache/debootstrap.log" >&2; exit 1; }
  # Like the official debian image: no package lists or apt caches in the base,
  # deb822 sources are added by the Containerfile.
  rm -rf "$tmp"/rootfs/var/lib/apt/lists/* "$tmp"/rootfs/var/cache/apt/*.bin \
         "$tmp"/rootfs/var/cache/apt/archives/*.deb "$tmp"/rootfs/etc/apt/sources.list
  mkdir -p "$tmp/rootfs/var/lib/apt/lists/partial"
  tar --numeric-owner --sort=name --xattrs -C "$tmp/rootfs" -cf "$base.part" .
  mv "$base.part" "$base"
  rm -rf "$tmp"; trap - EXIT
fi

# --- 2. recipes ------------------------------------------------------------------------------
big_cf=$(cat <<'EOF'
FROM scratch
ADD rootfs.tar /
COPY debian.sources /etc/apt/sources.list.d/debian.sources
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
# big install: toolchains, interpreters, headers (+ apt lists, debs cache removed in-step)
RUN apt-get update && apt-get install -y --no-install-recommends \
      gcc g++ gfortran make cmake perl libperl-dev python3 python3-dev python3-pip python3-setuptools \
      git curl ca-certificates libboost-dev libssl-dev zlib1g-dev libsqlite3-dev \
      libxml2-dev libcurl4-openssl-dev && apt-get clean
# metadata-only copies of many files
RUN chmod -R g+w /usr/share/doc
RUN chown -R 1000:1000 /usr/include
# a file written twice (same path, two layers)
RUN mkdir -p /opt/data && head -c 16777216 /dev/zero | tr '\0' 'a' > /opt/data/blob.bin && echo v1 > /opt/data/version
RUN head -c 16777216 /dev/zero | tr '\0' 'b' > /opt/data/blob.bin && echo v2 > /opt/data/version
# whole directory deleted
RUN rm -rf /usr/share/locale /usr/lib/python3/dist-packages/pip
# directory deleted and recreated: opaque whiteout with the overlay driver
RUN rm -rf /usr/share/man && mkdir -p /usr/share/man/man1 && echo placeholder > /usr/share/man/man1/README
# remove part of the toolchain plus the apt lists
RUN apt-get purge -y --auto-remove gfortran g++ cmake libboost-dev && rm -rf /var/lib/apt/lists/*
RUN echo done > /built
CMD ["/bin/bash"]
EOF
)

whiteouts_cf=$(cat <<'EOF'
FROM scratch
ADD rootfs.tar /
COPY debian.sources /etc/apt/sources.list.d/debian.sources
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8
# ~100 packages, mostly shared libraries: their files land in directories that survive the purge
RUN apt-get update && apt-get install -y --no-install-recommends libgtk-3-0 make \
    && apt-get clean && rm -rf /var/lib/apt/lists/*
RUN echo keep > /keep
# purge them again: with the vfs driver each removed file in a surviving dir is its own whiteout
RUN apt-get purge -y --auto-remove libgtk-3-0 make
CMD ["/bin/bash"]
EOF
)

# --- 3. build + export ------------------------------------------------------------------------
build() { # NAME DRIVER CONTAINERFILE_TEXT
  local name=$1 driver=$2 cf=$3 dir=$out/$1
  local stamp
  stamp=$( { printf '%s\n%s\n' "$driver" "$cf"; stat -c '%s %Y' "$base"; } | sha256sum | cut -d' ' -f1)
  if [ -z "${FORCE:-}" ] && [ -f "$dir/.stamp" ] && [ "$(cat "$dir/.stamp")" = "$stamp" ] \
     && [ -f "$dir/docker-archive.tar" ] && [ -f "$dir/oci-zstd/index.json" ]; then
    echo "== $name: up to date ($dir)" >&2; return
  fi
  echo "== building $name (driver $driver) -> $dir" >&2
  local ctx
  ctx=$(mktemp -d "$out/cache/ctx-$name.XXXXXX")
  printf '%s\n' "$cf" >"$ctx/Containerfile"
  ln "$base" "$ctx/rootfs.tar" 2>/dev/null || cp "$base" "$ctx/rootfs.tar"
  cp "$sources" "$ctx/debian.sources"
  rm -rf "$dir"
  DRIVER=$driver "$build_image" "$ctx/Containerfile" "$ctx" "$dir" >&2
  # build-image.sh's oci/ keeps whatever compression buildah chose; make gzip explicit
  skopeo copy -q --dest-compress --dest-compress-format gzip "oci:$dir/oci:latest" "oci:$dir/oci-gzip:latest"
  rm -rf "$dir/oci"; mv "$dir/oci-gzip" "$dir/oci"
  skopeo copy -q --dest-compress-format zstd "oci:$dir/oci:latest" "oci:$dir/oci-zstd:latest"
  cp "$ctx/Containerfile" "$dir/Containerfile"
  rm -rf "$ctx"
  echo "$stamp" >"$dir/.stamp"
}

build big overlay "$big_cf"
build whiteouts vfs "$whiteouts_cf"

# --- 4. summary -----------------------------------------------------------------------------
for name in big whiteouts; do
  d=$out/$name
  printf '%-10s docker-archive %s  oci(gzip) %s  oci-zstd %s\n' "$name" \
    "$(du -sh "$d/docker-archive.tar" | cut -f1)" "$(du -sh "$d/oci" | cut -f1)" "$(du -sh "$d/oci-zstd" | cut -f1)"
done
