#!/usr/bin/env python3
"""Seeds the fuzz corpora from the sample images (sample-images/*/*.tar) and the
reference images beside the repository (../shared/images/*.tar, when present).

    fuzz/seed.py            # writes fuzz/corpus/{outer_archive,layer_walk,replay}/

- layer_walk: every layer blob of every image (plain, gzip, zstd, estargz), cut to
  128 KiB (libFuzzer's -max_len in the documented command), and each one's first
  4 KiB too.
- outer_archive: each image rebuilt with its documents intact and every other member
  (the layers) cut to 512 bytes, so the seeds stay small and the parser sees real
  manifests, indexes and configs; plus each image's first 64 KiB as it is.
- replay: a few op strings (the target's own byte encoding).
"""
import glob, hashlib, io, os, tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

def images():
    yield from sorted(glob.glob(os.path.join(ROOT, "sample-images", "*", "*.tar")))
    yield from sorted(glob.glob(os.path.join(ROOT, "..", "shared", "images", "*.tar")))

def put(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)

def is_document(data):
    return data[:1] in (b"{", b"[")

for path in images():
    with open(path, "rb") as f:
        whole = f.read()
    put("outer_archive", whole[:64 << 10])
    slim = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(whole)) as src, tarfile.open(fileobj=slim, mode="w", format=tarfile.USTAR_FORMAT) as dst:
        for m in src.getmembers():
            if not m.isfile():
                dst.addfile(m)
                continue
            data = src.extractfile(m).read()
            if not is_document(data):
                put("layer_walk", data[:128 << 10])
                put("layer_walk", data[:4 << 10])
                data = data[:512]
            m.size = len(data)
            dst.addfile(m, io.BytesIO(data))
    put("outer_archive", slim.getvalue())

# replay: op bytes (op, depth, parts..., then size/hash for files)
for seed in [
    bytes([1, 0, 0, 10, 1, 0, 1, 0, 0, 0]),        # a file, then a new layer
    bytes([1, 1, 0, 1, 40, 2, 0, 7, 0, 3]),        # a/b file, whiteout
    bytes([3, 0, 0, 1, 1, 0, 1, 5, 0, 2, 0, 1, 0, 1, 0, 0, 0, 7, 1, 0, 3]),
    bytes([5, 0, 1, 0, 0, 1, 1, 0, 9, 1, 7, 0, 5]),  # hard link, whiteout
]:
    put("replay", seed)
print("seeded", {t: len(os.listdir(os.path.join(HERE, "corpus", t))) for t in ("outer_archive", "layer_walk", "replay")})
