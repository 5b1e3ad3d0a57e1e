#!/usr/bin/env python3
"""Coverage of the random images: which Rust reasons / features occur (python3 coverage.py N START)."""
import collections, os, random, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen, run
n, start = int(sys.argv[1]), int(sys.argv[2])
tmp = tempfile.mkdtemp()
c = collections.Counter()
for seed in range(start, start + n):
    layers = gen.rand_image(random.Random(seed))
    r, p = run.both(layers, tmp)
    if r["wasted"]: c["wasted>0"] += 1
    if r["final"]: c["final>0"] += 1
    for l, rb in r["removed_by"].items():
        for step, b, reasons in rb:
            for k, v in (reasons or {}).items():
                if v: c["reason:" + k] += 1
            if step == int(l): c["same-layer remover"] += 1
    kinds = [e[0] for l in layers for e in l]
    for k in set(kinds): c["kind:" + k] += 1
print(dict(sorted(c.items())))
