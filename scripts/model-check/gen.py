#!/usr/bin/env python3
"""Random tiny docker-save archives for differential testing of layerwaste vs expected.py.

Spec format (JSON-able): image = list of layers; layer = list of entries:
  ["f", path, size, cid, mode]   regular file; content = content(cid, size) (same cid+size => same bytes)
  ["d", path]                    directory
  ["s", path, target]            symlink
  ["h", path, target]            hard link (typeflag 1) to target
  ["w", path]                    whiteout: written as parent/.wh.base
  ["o", dir]                     opaque whiteout: written as dir/.wh..wh..opq
Paths are written verbatim (so "./a" keeps its prefix).
"""
import hashlib
import io
import json
import random
import tarfile

FILE_PATHS = ["a", "b", "c", "d/e", "d/f/g", "d/f/h", "x", "x/y"]
DIR_PATHS = ["d", "d/f", "x", "a", "b", "d/e"]  # some file names also used as dirs -> type changes
ALL_PATHS = sorted(set(FILE_PATHS + DIR_PATHS))
SIZES = [0, 1, 3, 3, 8, 8, 40, 200]


def content(cid, size):
    seed = ("%d:%d" % (cid, size)).encode()
    out = b""
    i = 0
    while len(out) < size:
        out += hashlib.sha256(seed + str(i).encode()).digest()
        i += 1
    return out[:size]


def pfx(rng, p):
    r = rng.random()
    if r < 0.15:
        return "./" + p
    if r < 0.2:
        return "/" + p
    return p


def rand_entry(rng):
    k = rng.choices(["f", "d", "s", "h", "w", "o"], weights=[40, 12, 6, 14, 18, 8])[0]
    if k == "f":
        return ["f", pfx(rng, rng.choice(FILE_PATHS + ["d", "d/f"])), rng.choice(SIZES), rng.choice([0, 0, 1]),
                rng.choice([0o644, 0o644, 0o755])]
    if k == "d":
        return ["d", pfx(rng, rng.choice(DIR_PATHS))]
    if k == "s":
        return ["s", pfx(rng, rng.choice(ALL_PATHS)), rng.choice(ALL_PATHS + ["nowhere"])]
    if k == "h":
        return ["h", pfx(rng, rng.choice(ALL_PATHS)), pfx(rng, rng.choice(ALL_PATHS + ["missing"]))]
    if k == "w":
        return ["w", pfx(rng, rng.choice(ALL_PATHS))]
    return ["o", pfx(rng, rng.choice(["d", "d/f", "x", "."]))]


def rand_image(rng):
    nl = rng.randint(1, 4)
    layers = []
    for _ in range(nl):
        n = rng.randint(1, 6)
        layer = [rand_entry(rng) for _ in range(n)]
        # occasionally an explicit root dir entry
        if rng.random() < 0.05:
            layer.insert(0, ["d", rng.choice([".", "./"])])
        layers.append(layer)
    return layers


def layer_tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for e in entries:
            k, p = e[0], e[1]
            ti = tarfile.TarInfo()
            ti.mtime = 0
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            data = None
            if k == "f":
                ti.name = p
                ti.type = tarfile.REGTYPE
                ti.mode = e[4]
                data = content(e[3], e[2])
                ti.size = len(data)
            elif k == "d":
                ti.name = p
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
            elif k == "s":
                ti.name = p
                ti.type = tarfile.SYMTYPE
                ti.linkname = e[2]
                ti.mode = 0o777
            elif k == "h":
                ti.name = p
                ti.type = tarfile.LNKTYPE
                ti.linkname = e[2]
                ti.mode = 0o644
            elif k == "w":
                lead = ""
                q = p
                for pre in ("./", "/"):
                    if q.startswith(pre):
                        lead, q = pre, q[len(pre):]
                        break
                par, _, base = q.rpartition("/")
                ti.name = lead + (par + "/" if par else "") + ".wh." + base
                ti.type = tarfile.REGTYPE
                ti.mode = 0o644
                ti.size = 0
            elif k == "o":
                d = p.rstrip("/")
                ti.name = (".wh..wh..opq" if d in (".", "") else d + "/.wh..wh..opq")
                ti.type = tarfile.REGTYPE
                ti.mode = 0o644
                ti.size = 0
            t.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def image_tar(layers, path):
    blobs = [layer_tar(l) for l in layers]
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    cfg = {
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "step %d" % i, "empty_layer": False}
                    for i in range(len(layers))],
    }
    cfgb = json.dumps(cfg, sort_keys=True).encode()
    cfgname = hashlib.sha256(cfgb).hexdigest() + ".json"
    lnames = [d.split(":")[1] + "/layer.tar" for d in diff_ids]
    manifest = [{"Config": cfgname, "RepoTags": ["difftest:latest"], "Layers": lnames}]
    files = [(cfgname, cfgb)]
    seen = set()
    for n, b in zip(lnames, blobs):
        if n not in seen:
            seen.add(n)
            files.append((n, b))
    files.append(("manifest.json", json.dumps(manifest).encode()))
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
        for n, b in files:
            ti = tarfile.TarInfo(n)
            ti.size = len(b)
            ti.mtime = 0
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(b))


def describe(layers):
    out = []
    for i, l in enumerate(layers):
        parts = []
        for e in l:
            k = e[0]
            if k == "f":
                parts.append("file %s (%dB, c%d, %o)" % (e[1], e[2], e[3], e[4]))
            elif k == "d":
                parts.append("dir %s" % e[1])
            elif k == "s":
                parts.append("symlink %s -> %s" % (e[1], e[2]))
            elif k == "h":
                parts.append("hardlink %s => %s" % (e[1], e[2]))
            elif k == "w":
                parts.append("whiteout %s" % e[1])
            elif k == "o":
                parts.append("opaque %s/" % e[1])
        out.append("L%d: %s" % (i, "; ".join(parts)))
    return "\n".join(out)


if __name__ == "__main__":
    import sys
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print(json.dumps(rand_image(rng)))
