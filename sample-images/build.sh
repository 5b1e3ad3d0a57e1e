#!/usr/bin/env bash
# Rebuild the bundled sample images from scratch, with a real builder (buildah), as root:
#
#   sudo sample-images/build.sh                 # rewrites sample-images/*/*.tar and SHA256SUMS
#   sudo sample-images/build.sh --formats DIR   # also writes build-deps-split in every input
#                                               # format layerwaste reads (not committed), to
#                                               # DIR/split (overlay) and DIR/split-vfs (vfs)
#
# Idempotent: everything is built in a temp dir and only the outputs are replaced. The build
# is reproducible (--timestamp 0, sorted base tar, pinned .deb), so a rebuild with the same
# buildah/skopeo and Debian packages gives byte-identical archives: `git diff` shows nothing.
#
# Needs ../shared/tools (beside the repo; override with SHARED_TOOLS=DIR) and Debian's
# package archive (busybox-static and go-md2man are fetched with apt-get download).
# Env: GO_MD2MAN_VERSION (default 2.0.2+ds1-1, Debian 12; empty = apt's candidate).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
tools=${SHARED_TOOLS:-$here/../../shared/tools}
go_md2man_version=${GO_MD2MAN_VERSION-2.0.2+ds1-1}
images=(build-deps-split build-deps-joined)
max_zstd_bytes=$((3 * 1024 * 1024))

formats=
case "${1:-}" in
  "") ;;
  --formats) [ -n "${2:-}" ] || { echo "usage: $0 [--formats DIR]" >&2; exit 2; }
             formats=$(realpath -m "$2") ;;
  *) echo "usage: $0 [--formats DIR]" >&2; exit 2 ;;
esac

[ "$(id -u)" = 0 ] || { echo "build.sh: run as root (buildah needs it here)" >&2; exit 2; }
if [ ! -x "$tools/build-image.sh" ] || [ ! -x "$tools/tiny-rootfs.sh" ]; then
  echo "build.sh: no tools in $tools (set SHARED_TOOLS)" >&2; exit 2
fi
tools=$(realpath "$tools")

apt_updated=
apt_update_once() { [ -n "$apt_updated" ] || { apt-get update -q >&2; apt_updated=1; }; }
if ! command -v buildah >/dev/null || ! command -v skopeo >/dev/null; then
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q buildah skopeo >&2
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ctx=$work/context
mkdir -p "$ctx/debs"

# apt-get download needs package lists: update once if they are missing or stale.
download() {
  (cd "$ctx/debs" && apt-get download -q "$1" >/dev/null 2>&1) ||
    { apt_update_once; (cd "$ctx/debs" && apt-get download -q "$1" >&2); }
}
download "go-md2man${go_md2man_version:+=$go_md2man_version}"
apt-cache show busybox-static >/dev/null 2>&1 || apt_update_once
"$tools/tiny-rootfs.sh" "$ctx/rootfs.tar" >/dev/null
cp "$here/hello.1.md" "$ctx/"

for name in "${images[@]}"; do
  echo "== $name" >&2
  "$tools/build-image.sh" "$here/$name/Containerfile" "$ctx" "$work/out/$name" --timestamp 0 >/dev/null
  cp "$work/out/$name/docker-archive.tar" "$here/$name/$name.tar.new"
  mv "$here/$name/$name.tar.new" "$here/$name/$name.tar"
done

# The split image again as an OCI archive with zstd layers, if it stays small enough to commit.
zstd_tar=$here/build-deps-split/build-deps-split.oci-zstd.tar
skopeo copy -q --dest-compress-format zstd \
  "oci:$work/out/build-deps-split/oci:latest" "oci:$work/oci-zstd:latest"
# Not skopeo's oci-archive: transport, whose tar has the current time as every mtime.
tar --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -C "$work/oci-zstd" -cf "$zstd_tar.new" oci-layout index.json blobs
if [ "$(stat -c %s "$zstd_tar.new")" -le "$max_zstd_bytes" ]; then
  mv "$zstd_tar.new" "$zstd_tar"
else
  echo "build.sh: $(basename "$zstd_tar") is over $max_zstd_bytes bytes: not kept" >&2
  rm -f "$zstd_tar.new" "$zstd_tar"
fi

(cd "$here" && sha256sum -- */*.tar > SHA256SUMS)

# Every input format, for tests and manual checks; not committed.
if [ -n "$formats" ]; then
  export_formats() { # OUT_DIR [DRIVER]
    local out=$1
    DRIVER=${2:-overlay} "$tools/build-image.sh" "$here/build-deps-split/Containerfile" "$ctx" \
      "$work/formats/$(basename "$out")" --timestamp 0 >/dev/null
    rm -rf "$out"; mkdir -p "$(dirname "$out")"
    mv "$work/formats/$(basename "$out")" "$out"
    skopeo copy -q --dest-compress-format zstd "oci:$out/oci:latest" "oci:$out/oci-zstd:latest"
    gzip -n -c "$out/docker-archive.tar" > "$out/docker-archive.tar.gz"
  }
  export_formats "$formats/split" overlay
  export_formats "$formats/split-vfs" vfs
  echo "formats: $formats/split $formats/split-vfs" >&2
fi

cat "$here/SHA256SUMS"
