#!/usr/bin/env bash
# Builds issue 17's pattern images: one small, real image per waste pattern, each from
# tests/patterns/<id>/Containerfile, with buildah (as root), into
#   OUT_DIR/<id>/docker-archive.tar
# for tests/integration/patterns.rs. Usage: scripts/build-pattern-images.sh OUT_DIR
#
# All images share one build context (made here, once) and one buildah store, so the
# busybox base layer is built once and every other step is a few hundred kB. The build is
# reproducible: --timestamp 0, the same base tar, pinned .debs and wheels, and generated
# files whose bytes come from a fixed seed, so the figures the tests pin by hand stay put.
#
# Idempotent: OUT_DIR/.inputs records a digest of the Containerfiles, their files and this
# script; when it matches and every archive is there, nothing is rebuilt. Each archive is
# written beside its final name and renamed, so an interrupted run leaves no half archive.
#
# Needs: root; buildah, skopeo, dpkg-deb, python3 and its pip (`pip download` from PyPI),
# apt-get installed when missing unless LAYERWASTE_SERVICES_NO_APT=1; Debian's package
# archive (apt-get download); ../shared/tools/tiny-rootfs.sh (or SHARED_TOOLS=DIR).
set -euo pipefail

[ $# = 1 ] || { echo "usage: $0 OUT_DIR" >&2; exit 2; }
out=$(realpath -m "$1")
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
patterns=$repo/tests/patterns
log() { echo "pattern-images: $*" >&2; }

# The images: every tests/patterns/<id>/Containerfile.
images=()
for cf in "$patterns"/*/Containerfile; do images+=("$(basename "$(dirname "$cf")")"); done

# Pinned real packages: Debian's go-md2man (the sample images use it too) and two
# releases of PyPI's idna, whose sha256 PyPI publishes.
go_md2man=go-md2man=2.0.2+ds1-1
idna_old=idna==3.4
idna_old_sha=90b77e79eaa3eba6de819a0c442c0b4ceefc341a7a2ab77d7562bf49f425c5c2
idna_new=idna==3.6
idna_new_sha=c05567e9c24a6b9faaa835c4821bad0590fbb9d5779e7caa6e1cc4978e7eb24f
max_bytes=$((5 * 1000 * 1000))

inputs_digest() {
  { cat "${BASH_SOURCE[0]}"
    (cd "$patterns" && find . -type f ! -name README.md -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1
}
digest=$(inputs_digest)
built() {
  [ "$(cat "$out/.inputs" 2>/dev/null)" = "$digest" ] || return 1
  local id
  for id in "${images[@]}"; do [ -s "$out/$id/docker-archive.tar" ] || return 1; done
}
if built; then log "up to date in $out"; exit 0; fi

[ "$(id -u)" = 0 ] || { log "run as root (buildah needs it here)"; exit 2; }
tools=${SHARED_TOOLS:-}
if [ -z "$tools" ]; then
  for d in "$repo/../shared/tools" /work/shared/tools; do
    [ -x "$d/tiny-rootfs.sh" ] && { tools=$d; break; }
  done
fi
[ -n "$tools" ] && [ -x "$tools/tiny-rootfs.sh" ] || { log "no tiny-rootfs.sh (set SHARED_TOOLS)"; exit 2; }

apt_updated=
apt_update_once() { [ -n "$apt_updated" ] || { apt-get update -q >&2; apt_updated=1; }; }
has_pip() { python3 -m pip --version >/dev/null 2>&1; }
missing=()
command -v buildah >/dev/null || missing+=(buildah)
command -v skopeo >/dev/null || missing+=(skopeo)
command -v dpkg-deb >/dev/null || missing+=(dpkg)
command -v python3 >/dev/null || missing+=(python3)
has_pip || missing+=(python3-pip)
if [ ${#missing[@]} -gt 0 ]; then
  [ "${LAYERWASTE_SERVICES_NO_APT:-0}" = 1 ] && { log "missing: ${missing[*]}"; exit 1; }
  apt_update_once
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
fi
pip=(python3 -m pip)

work=$(mktemp -d)
store=$work/store
b() { buildah --root "$store/root" --runroot "$store/run" --storage-driver overlay "$@"; }
cleanup() {
  # A failed step leaves its container mounted; the store can only go once it is not.
  if [ -d "$store" ]; then
    b rm --all >/dev/null 2>&1 || true
    b rmi --all --force >/dev/null 2>&1 || true
    grep -o " $store/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT
ctx=$work/context
mkdir -p "$ctx/debs" "$ctx/wheels" "$ctx/app" "$ctx/x/x-1.0/bin" "$ctx/x/x-1.0/lib" "$ctx/app-src"

# N bytes that look random (incompressible, like a binary) but are the same on every run.
bytes() { # bytes SEED N
  python3 -c 'import hashlib, sys; sys.stdout.buffer.write(hashlib.shake_256(sys.argv[1].encode()).digest(int(sys.argv[2])))' "$1" "$2"
}

# --- the base and the real packages ------------------------------------------------------
apt-cache show busybox-static >/dev/null 2>&1 || apt_update_once
"$tools/tiny-rootfs.sh" "$ctx/rootfs.tar" >/dev/null
(cd "$ctx/debs" && apt-get download -q "$go_md2man" >/dev/null 2>&1) ||
  { apt_update_once; (cd "$ctx/debs" && apt-get download -q "$go_md2man" >&2); }
wheel() { # wheel REQUIREMENT SHA256
  "${pip[@]}" download -q --no-deps --only-binary :all: -d "$ctx/wheels" "$1" >&2
  local f
  f=$(ls "$ctx/wheels/${1%%==*}-${1##*==}-"*.whl)
  echo "$2  $f" | sha256sum -c --quiet - || { log "$f: sha256 is not $2"; exit 1; }
}
wheel "$idna_old" "$idna_old_sha"
wheel "$idna_new" "$idna_new_sha"

# Tiny .debs of our own where a step needs a package that busybox's dpkg can install and
# whose size is a round number: lw-tool in two releases (an upgrade; in /bin, which the
# base fills, because busybox's dpkg removes the old release's files and then its emptied
# directories, and a directory made again would hide the old file by an opaque whiteout
# rather than overwrite it as Debian's dpkg does), and lw-one and lw-two (two installs that
# each rewrite the package database). SOURCE_DATE_EPOCH makes them the same on every run.
deb() { # deb NAME VERSION PAYLOAD_BYTES PATH
  local root=$work/deb/$1-$2
  mkdir -p "$root/DEBIAN" "$root/$(dirname "$4")"
  bytes "$1-$2" "$3" > "$root/$4"
  cat > "$root/DEBIAN/control" <<CONTROL
Package: $1
Version: $2
Architecture: all
Maintainer: layerwaste tests <tests@layerwaste.invalid>
Description: layerwaste pattern test package
CONTROL
  chmod -R u=rwX,go=rX "$root"; touch -d @0 "$root/$4"
  SOURCE_DATE_EPOCH=0 dpkg-deb --root-owner-group -Zgzip --build "$root" \
    "$ctx/debs/$1_$2_all.deb" >/dev/null
}
deb lw-tool 1.0 400000 bin/lw-tool
deb lw-tool 2.0 400000 bin/lw-tool
deb lw-one 1.0 30000 usr/lib/lw-one/lw-one.so
deb lw-two 1.0 20000 usr/lib/lw-two/lw-two.so

# --- the files the steps add ------------------------------------------------------------
# download-removed: an archive brought in by one step and unpacked and deleted by the next.
bytes app-data 250000 > "$ctx/app-src/data.bin"
tar --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -C "$ctx/app-src" -cf - data.bin | gzip -n -9 > "$ctx/app.tar.gz"
# moved: a release tree unpacked under its versioned name, then renamed.
bytes x-bin 200000 > "$ctx/x/x-1.0/bin/x"
bytes x-lib 100000 > "$ctx/x/x-1.0/lib/libx.so"
tar --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
  -C "$ctx/x" -cf "$ctx/x.tar" x-1.0
# chmod-copy and no-op-rewrite: an app directory of plain 0644 files.
bytes app-server 250000 > "$ctx/app/server"
bytes app-lib 50000 > "$ctx/app/lib.js"
# add-then-chmod: a tool without its execute bit.
bytes tool 120000 > "$ctx/tool"
# overwritten: two configurations for one path.
bytes config-v1 150000 > "$ctx/config.v1"
bytes config-v2 1000 > "$ctx/config.v2"
# added-then-deleted and multi-stage-copy: bytes a RUN writes with head -c (from a fixed
# seed, where /dev/urandom would make every build differ).
bytes noise 1048576 > "$ctx/noise.bin"
# multi-stage-copy: a library the base image ships in /usr/local/lib.
bytes libbase 200000 > "$ctx/libbase.so"
chmod 0644 "$ctx"/app/* "$ctx"/noise.bin "$ctx"/tool "$ctx"/config.v* "$ctx"/libbase.so "$ctx"/x/x-1.0/*/*
# The committed files of each pattern (the pip stand-in, the apt lists).
cp -r "$patterns" "$ctx/patterns"

# --- build ------------------------------------------------------------------------------
mkdir -p "$out"
rm -f "$out/.inputs"
start=$(date +%s)
for id in "${images[@]}"; do
  tag=localhost/layerwaste-pattern/$id:latest
  log "building $id"
  b bud -q --layers --isolation chroot --timestamp 0 -f "$patterns/$id/Containerfile" \
    -t "$tag" "$ctx" >/dev/null
  mkdir -p "$out/$id"
  rm -f "$out/$id/docker-archive.tar.new"
  b push -q "$tag" "docker-archive:$out/$id/docker-archive.tar.new:$tag"
  mv "$out/$id/docker-archive.tar.new" "$out/$id/docker-archive.tar"
  # Issue 17: keep them small. A step that grew past the budget is a mistake here.
  size=$(stat -c %s "$out/$id/docker-archive.tar")
  [ "$size" -lt "$max_bytes" ] || { log "$id is $size bytes, over $max_bytes"; exit 1; }
done
echo "$digest" > "$out/.inputs"
log "built ${#images[@]} images in $(( $(date +%s) - start )) s into $out"
