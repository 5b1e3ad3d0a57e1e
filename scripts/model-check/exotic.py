#!/usr/bin/env python3
"""Exotic variant: long paths (GNU longname / PAX), AREGTYPE/CONTTYPE files, FIFOs/char devices,
odd path spellings (././a, a/./b, a//b), more layers/entries, empty_layer history entries.
  python3 exotic.py N START
"""
import hashlib, io, json, os, random, sys, tarfile, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen, run

LONG = "L" * 60 + "/" + "M" * 60
gen.FILE_PATHS = gen.FILE_PATHS + [LONG + "/z", "d/f/" + "n" * 110]
gen.DIR_PATHS = gen.DIR_PATHS + [LONG]
gen.ALL_PATHS = sorted(set(gen.FILE_PATHS + gen.DIR_PATHS))

def weird(rng, p):
    r = rng.random()
    if r < 0.1: return "././" + p
    if r < 0.2 and "/" in p: return p.replace("/", "/./", 1)
    if r < 0.3 and "/" in p: return p.replace("/", "//", 1)
    return p

def rand_image(rng):
    layers = []
    for _ in range(rng.randint(1, 6)):
        l = []
        for _ in range(rng.randint(1, 9)):
            e = gen.rand_entry(rng)
            if rng.random() < 0.3: e[1] = weird(rng, e[1].lstrip("./") if e[1] not in (".", "./") else e[1])
            if e[0] == "f" and rng.random() < 0.2: e.append(rng.choice(["aregtype", "conttype"]))
            if rng.random() < 0.05 and e[1].strip("./"): e = ["p", e[1], rng.choice(["fifo", "chr"])]
            l.append(e)
        layers.append(l)
    return layers

_orig_layer_tar = gen.layer_tar
def layer_tar(entries, fmt=tarfile.GNU_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=fmt) as t:
        for e in entries:
            if e[0] == "p":
                ti = tarfile.TarInfo(e[1]); ti.mtime = 0
                ti.type = tarfile.FIFOTYPE if e[2] == "fifo" else tarfile.CHRTYPE
                t.addfile(ti); continue
            one = tarfile.open(fileobj=io.BytesIO(_orig_layer_tar([e[:5]])), mode="r:")
            for m in one.getmembers():
                data = one.extractfile(m).read() if m.isreg() else None
                if len(e) > 5 and m.isreg():
                    m.type = tarfile.AREGTYPE if e[5] == "aregtype" else tarfile.CONTTYPE
                t.addfile(m, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def image_tar(layers, path, fmt, empties):
    blobs = [layer_tar(l, fmt) for l in layers]
    diff_ids = ["sha256:" + hashlib.sha256(b).hexdigest() for b in blobs]
    hist = []
    for i in range(len(layers)):
        for _ in range(empties[i]): hist.append({"created_by": "ENV x=%d" % i, "empty_layer": True})
        hist.append({"created_by": "step %d" % i})
    cfg = {"architecture": "amd64", "os": "linux", "config": {}, "rootfs": {"type": "layers", "diff_ids": diff_ids}, "history": hist}
    cfgb = json.dumps(cfg).encode(); cfgname = hashlib.sha256(cfgb).hexdigest() + ".json"
    lnames = ["%d/layer.tar" % i for i in range(len(blobs))]
    files = [(cfgname, cfgb)] + list(zip(lnames, blobs)) + [("manifest.json", json.dumps([{"Config": cfgname, "RepoTags": None, "Layers": lnames}]).encode())]
    with tarfile.open(path, "w") as t:
        for n, b in files:
            ti = tarfile.TarInfo(n); ti.size = len(b); t.addfile(ti, io.BytesIO(b))

def main():
    n, start = int(sys.argv[1]), int(sys.argv[2])
    tmp = tempfile.mkdtemp(); bad = 0
    for seed in range(start, start + n):
        rng = random.Random(seed)
        layers = rand_image(rng)
        fmt = rng.choice([tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
        empties = [rng.choice([0, 0, 1, 2]) for _ in layers]
        path = os.path.join(tmp, "x.tar")
        image_tar(layers, path, fmt, empties)
        r, p = run.run_rust(path), run.run_py(path)
        if run.differs(r, p):
            bad += 1
            if bad <= 5:
                print("seed", seed, "fmt", fmt, json.dumps(layers)); print(" rust", {k: r.get(k) for k in run.KEYS + ("error",)}); print(" py  ", p)
    print("exotic: compared %d, mismatches %d" % (n, bad))

if __name__ == "__main__":
    main()
