#!/usr/bin/env python3
"""Writes two hostile OCI layouts for measuring layerwaste's memory by hand
(docs/security.md, "Measured"). They are too big and too slow for the test suite.

    scripts/hostile-images.py OUTDIR [--bomb-gib 8] [--entries 2000000]
    /usr/bin/time -v target/release/layerwaste analyze OUTDIR/bomb --quiet
    /usr/bin/time -v target/release/layerwaste analyze OUTDIR/many --quiet

bomb: one gzip layer, a single member, holding one file of N GiB of zeros.
many: one gzip layer of N empty files in directories of 1,000.
"""
import argparse, hashlib, json, os, zlib

def header(name: bytes, size: int, typeflag: bytes = b"0") -> bytes:
    h = bytearray(512)
    h[0:len(name)] = name
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)

class Blob:
    """Streams gzip output to a file while hashing both sides."""
    def __init__(self, path):
        self.f = open(path, "wb")
        self.z = zlib.compressobj(1, zlib.DEFLATED, 31)
        self.diff = hashlib.sha256()
    def write(self, data):
        self.diff.update(data)
        self.f.write(self.z.compress(data))
    def close(self):
        self.f.write(self.z.flush())
        self.f.close()

def layout(out, blob_path, diff_id):
    data = open(blob_path, "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    blobs = os.path.join(out, "blobs", "sha256")
    os.rename(blob_path, os.path.join(blobs, digest))
    config = json.dumps({"architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created_by": "hostile"}]}).encode()
    put = lambda b: (open(os.path.join(blobs, hashlib.sha256(b).hexdigest()), "wb").write(b), hashlib.sha256(b).hexdigest())[1]
    c = put(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": "sha256:" + c, "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + digest, "size": len(data)}]}).encode()
    m = put(manifest)
    open(os.path.join(out, "index.json"), "w").write(json.dumps({"schemaVersion": 2, "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + m, "size": len(manifest)}]}))
    open(os.path.join(out, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')

def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--bomb-gib", type=int, default=8)
    p.add_argument("--entries", type=int, default=2_000_000)
    a = p.parse_args()
    for name in ("bomb", "many"):
        os.makedirs(os.path.join(a.outdir, name, "blobs", "sha256"), exist_ok=True)

    out = os.path.join(a.outdir, "bomb")
    b = Blob(os.path.join(out, "layer.tmp"))
    b.write(header(b"zeros", a.bomb_gib << 30))
    chunk = bytes(1 << 20)
    for _ in range(a.bomb_gib << 10):
        b.write(chunk)
    b.write(bytes(1024))
    b.close()
    layout(out, os.path.join(out, "layer.tmp"), b.diff.hexdigest())

    out = os.path.join(a.outdir, "many")
    b = Blob(os.path.join(out, "layer.tmp"))
    for i in range(a.entries):
        if i % 1000 == 0:
            b.write(header(b"d%06d/" % (i // 1000), 0, b"5"))
        b.write(header(b"d%06d/f%03d" % (i // 1000, i % 1000), 0))
    b.write(bytes(1024))
    b.close()
    layout(out, os.path.join(out, "layer.tmp"), b.diff.hexdigest())

if __name__ == "__main__":
    main()
