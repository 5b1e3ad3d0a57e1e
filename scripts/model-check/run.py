#!/usr/bin/env python3
"""Differential test: layerwaste (Rust) vs expected.py on random tiny docker-save archives.

  python3 run.py fuzz N [START_SEED]    # generate N images, compare, shrink mismatches -> mismatches/
  python3 run.py check SPEC.json        # build image from a spec and print both tools' figures
"""
import json
import os
import random
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
RUST = os.environ.get("LAYERWASTE", os.path.join(HERE, "..", "..", "target", "release", "layerwaste"))
PY = os.path.join(HERE, "expected.py")
HERE = os.path.dirname(os.path.abspath(__file__))


def run_rust(path):
    p = subprocess.run([RUST, "analyze", path, "--format", "json", "--quiet"], capture_output=True, text=True)
    try:
        d = json.loads(p.stdout)
    except Exception:
        return {"error": "rc=%d %s" % (p.returncode, p.stderr.strip()[:300])}
    s = d["summary"]
    nl = len(d["layers"])
    per = [0] * nl
    removed = {}
    for st in d["steps"]:
        if st.get("layer") is not None:
            per[st["layer"]] += st["wasted_bytes"]
            removed[st["layer"]] = [(r["step"], r["bytes"], r.get("reasons")) for r in st.get("removed_by", [])]
    return {"total": s["total_bytes"], "final": s["final_bytes"], "wasted": s["wasted_bytes"], "per": per,
            "removed_by": removed, "warnings": d.get("warnings")}


def run_py(path):
    p = subprocess.run([sys.executable, PY, path, "--json"], capture_output=True, text=True)
    try:
        d = json.loads(p.stdout)
    except Exception:
        return {"error": "rc=%d %s" % (p.returncode, p.stderr.strip()[:300])}
    return {"total": d["total"], "final": d["final"], "wasted": d["wasted"], "per": [l["wasted"] for l in d["layers"]]}


KEYS = ("total", "final", "wasted", "per")


def both(layers, tmpdir, tag="img"):
    path = os.path.join(tmpdir, "%s.tar" % tag)
    gen.image_tar(layers, path)
    return run_rust(path), run_py(path)


def differs(r, p):
    if "error" in r or "error" in p:
        return ("error" in r, "error" in p) != (False, False)
    return any(r[k] != p[k] for k in KEYS)


def signature(r, p):
    """Coarse class of a mismatch, kept fixed while shrinking."""
    if "error" in r or "error" in p:
        return ("error", "error" in r, "error" in p)
    return ("final", (r["final"] > p["final"]) - (r["final"] < p["final"]),
            "total", (r["total"] > p["total"]) - (r["total"] < p["total"]))


def shrink(layers, tmpdir, sig):
    def still(ls):
        if not ls or not any(ls):
            return False
        r, p = both(ls, tmpdir, "shrink")
        return differs(r, p) and signature(r, p) == sig

    changed = True
    while changed:
        changed = False
        # drop whole layers
        for i in range(len(layers)):
            cand = layers[:i] + layers[i + 1:]
            if still(cand):
                layers, changed = cand, True
                break
        if changed:
            continue
        # drop single entries
        for i in range(len(layers)):
            for j in range(len(layers[i])):
                cand = [list(l) for l in layers]
                cand[i] = cand[i][:j] + cand[i][j + 1:]
                if cand[i] and still(cand):
                    layers, changed = cand, True
                    break
            if changed:
                break
        if changed:
            continue
        # simplify entries: strip prefixes, smaller sizes, plain mode
        for i in range(len(layers)):
            for j, e in enumerate(layers[i]):
                alts = []
                for pre in ("./", "/"):
                    if e[1].startswith(pre) and e[1] not in ("./",):
                        alts.append([e[0], e[1][len(pre):]] + e[2:])
                if e[0] == "h" and (e[2].startswith("./") or e[2].startswith("/")):
                    alts.append(e[:2] + [e[2].lstrip("./")])
                if e[0] == "f":
                    if e[4] != 0o644:
                        alts.append(e[:4] + [0o644])
                    if e[3] != 0:
                        alts.append(e[:3] + [0, e[4]])
                for a in alts:
                    cand = [list(l) for l in layers]
                    cand[i][j] = a
                    if still(cand):
                        layers, changed = cand, True
                        break
                if changed:
                    break
            if changed:
                break
    return layers


def fuzz(n, start):
    os.makedirs(os.path.join(HERE, "mismatches"), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="difftest")
    results = {}

    def one(seed):
        rng = random.Random(seed)
        layers = gen.rand_image(rng)
        d = os.path.join(tmp, str(seed))
        os.makedirs(d, exist_ok=True)
        r, p = both(layers, d)
        return seed, layers, r, p

    mism = []
    with ThreadPoolExecutor(max_workers=8) as ex:
        for seed, layers, r, p in ex.map(one, range(start, start + n)):
            if differs(r, p):
                mism.append((seed, layers, r, p))
    print("compared %d images, %d mismatches" % (n, len(mism)))
    minimal = {}
    for seed, layers, r, p in mism:
        sig = signature(r, p)
        d = os.path.join(tmp, "s%d" % seed)
        os.makedirs(d, exist_ok=True)
        small = shrink(layers, d, sig)
        key = json.dumps(small)
        minimal.setdefault(key, []).append(seed)
    # sort by size
    out = []
    for key, seeds in sorted(minimal.items(), key=lambda kv: (len(kv[0]), kv[0])):
        small = json.loads(key)
        r, p = both(small, tmp, "final")
        out.append({"seeds": seeds, "spec": small, "rust": r, "py": p})
    with open(os.path.join(HERE, "mismatches", "minimal_%d_%d.json" % (start, n)), "w") as f:
        json.dump(out, f, indent=1)
    for o in out:
        print("=== seeds %s (x%d)" % (o["seeds"][:5], len(o["seeds"])))
        print(gen.describe(o["spec"]))
        print(" rust:", {k: o["rust"].get(k) for k in KEYS + ("removed_by",)})
        print(" py:  ", {k: o["py"].get(k) for k in KEYS})


def check(specfile):
    with open(specfile) as f:
        layers = json.load(f)
    if any(e[0] == "p" or len(e) > 5 for l in layers for e in l):
        import exotic
        gen.layer_tar = exotic.layer_tar
    tmp = tempfile.mkdtemp(prefix="difftest")
    r, p = both(layers, tmp)
    print(gen.describe(layers))
    print("rust:", json.dumps(r))
    print("py:  ", json.dumps(p))
    print("MISMATCH" if differs(r, p) else "agree")


if __name__ == "__main__":
    if sys.argv[1] == "fuzz":
        fuzz(int(sys.argv[2]), int(sys.argv[3]) if len(sys.argv) > 3 else 0)
    elif sys.argv[1] == "check":
        check(sys.argv[2])
