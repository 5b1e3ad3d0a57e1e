#!/usr/bin/env python3
"""Checks layerwaste's pull-cost estimate for one step against a measured truth.

Usage: pull-cost-check.py REPORT.json LAYER.tar STEP
  REPORT.json  `layerwaste analyze --files --format json` of a gzip-layer image
  LAYER.tar    that step's layer, uncompressed (e.g. from the docker-archive form)

The truth is what the waste costs a pull: gzip(layer) - gzip(layer without the wasted
files), both recompressed here at level 6, scaled to the stored blob's size so that the
estimate (made from the real blob) and the truth compare like with like.
"""
import json, sys, tarfile, zlib, io
report = json.load(open(sys.argv[1])); layer_tar = sys.argv[2]; step = int(sys.argv[3])
s = [x for x in report["steps"] if x["index"] == step][0]
layer = s["layer"]; stored = report["layers"][layer]["stored_bytes"]
wasted = {f["path"] for f in s["files"]}
def gz(data):
    c = zlib.compressobj(6, zlib.DEFLATED, 31); return len(c.compress(data) + c.flush())
full = open(layer_tar, "rb").read()
out = io.BytesIO()
with tarfile.open(fileobj=io.BytesIO(full)) as src, tarfile.open(fileobj=out, mode="w", format=tarfile.PAX_FORMAT) as dst:
    for m in src.getmembers():
        name = m.name.lstrip("./").lstrip("/")
        if m.isfile() and name in wasted:
            continue
        dst.addfile(m, src.extractfile(m) if m.isfile() else None)
g_full = gz(full); g_rest = gz(out.getvalue())
truth = (g_full - g_rest) * stored / g_full
print(f"step {step} layer {layer}: wasted files {len(wasted)}, estimate {s['wasted_pull_bytes']}, truth {truth:.0f} (gzip full {g_full}, without waste {g_rest}, stored {stored}), error {(s['wasted_pull_bytes']-truth)/truth*100:+.2f}%")
