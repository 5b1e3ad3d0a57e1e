#!/usr/bin/env python3
"""Independent reference implementation of layerwaste's WASTE-MODEL.md, for cross-checking.

Usage: expected.py IMAGE [--json]
  IMAGE: a docker-archive tar (docker save), or an OCI layout dir / oci-archive tar
         (gzip / zstd / uncompressed layers; zstd needs the `zstandard` module or the `zstd` CLI).

Model: replay layers in manifest order. Per layer: whiteouts first (`.wh.NAME` hides NAME and
its subtree; `.wh..wh..opq` hides all lower-layer children of its dir), then the other entries
in tar order (dir over dir keeps children; anything else over an existing path replaces it and
hides the old subtree; a non-dir on the way to a path is hidden; later duplicate wins). A hard
link shares the content of its target as it stands when applied. Content stays live while any
visible path reaches it. bytes = header size of regular files.
"""
import io
import json
import os
import subprocess
import sys
import tarfile

WH = ".wh."
OPQ = ".wh..wh..opq"


def norm(name):
    while name.startswith("./"):
        name = name[2:]
    name = name.strip("/")
    if name == ".":
        name = ""
    # collapse any "a/./b" or "//"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    return "/".join(parts)


class Node:
    __slots__ = ("is_dir", "content", "children")

    def __init__(self, is_dir, content=None):
        self.is_dir = is_dir
        self.content = content  # content id (int) for regular files / hard links, else None
        self.children = {} if is_dir else None


class Replay:
    def __init__(self):
        self.root = Node(True)
        self.contents = []  # id -> (layer, size, path)
        self.layer_layer_bytes = []

    def lookup(self, path):
        node = self.root
        if not path:
            return node
        for part in path.split("/"):
            if node.children is None:
                return None
            node = node.children.get(part)
            if node is None:
                return None
        return node

    def parent_for_insert(self, path):
        """Return (parent node, leaf name), creating dirs; non-dirs on the way are replaced."""
        parts = path.split("/")
        node = self.root
        for part in parts[:-1]:
            child = node.children.get(part)
            if child is None or not child.is_dir:
                child = Node(True)
                node.children[part] = child  # hides a non-dir on the way
            node = child
        return node, parts[-1]

    def apply_layer(self, idx, members):
        # 1. whiteouts (only hide lower layers; they run before any of this layer's entries)
        for m in members:
            p = norm(m.name)
            base = p.rsplit("/", 1)[-1]
            if not base.startswith(WH):
                continue
            parent_path = p.rsplit("/", 1)[0] if "/" in p else ""
            parent = self.lookup(parent_path)
            if parent is None or not parent.is_dir:
                continue
            if base == OPQ:
                parent.children.clear()
            else:
                parent.children.pop(base[len(WH):], None)
        # 2. entries in tar order
        layer_bytes = 0
        for m in members:
            p = norm(m.name)
            base = p.rsplit("/", 1)[-1]
            if base.startswith(WH):
                continue
            content = None
            if m.isreg():  # REGTYPE / AREGTYPE / CONTTYPE
                content = len(self.contents)
                self.contents.append((idx, m.size, p))
                layer_bytes += m.size
                new = Node(False, content)
            elif m.isdir():
                new = Node(True)
            elif m.islnk():
                tgt = self.lookup(norm(m.linkname))
                new = Node(False, tgt.content if (tgt is not None and not tgt.is_dir) else None)
            else:
                new = Node(False)
            if p == "":
                if not new.is_dir:
                    raise SystemExit("non-directory root entry in layer %d" % idx)
                continue  # root over root: metadata only
            parent, leaf = self.parent_for_insert(p)
            old = parent.children.get(leaf)
            if old is not None and old.is_dir and new.is_dir:
                continue  # metadata only, children stay
            parent.children[leaf] = new
        self.layer_layer_bytes.append(layer_bytes)

    def live(self):
        live = set()
        stack = [self.root]
        while stack:
            n = stack.pop()
            if n.is_dir:
                stack.extend(n.children.values())
            elif n.content is not None:
                live.add(n.content)
        return live


def decompress(data):
    if data[:2] == b"\x1f\x8b":
        import gzip
        return gzip.decompress(data)  # multi-member OK; estargz TOC lives after tar end marker
    if data[:4] == b"\x28\xb5\x2f\xfd":
        try:
            import zstandard
            return zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
        except ImportError:
            return subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE, check=True).stdout
    return data


def members_of(data):
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as t:
        return t.getmembers()


class Source:
    """Reads files of a docker-archive / oci-archive tar or an OCI layout dir."""

    def __init__(self, path):
        self.path = path
        self.dir = os.path.isdir(path)
        if not self.dir:
            self.tar = tarfile.open(path, "r:")
            self.names = {norm(m.name): m for m in self.tar.getmembers()}

    def has(self, name):
        return os.path.exists(os.path.join(self.path, name)) if self.dir else norm(name) in self.names

    def read(self, name):
        if self.dir:
            with open(os.path.join(self.path, name), "rb") as f:
                return f.read()
        return self.tar.extractfile(self.names[norm(name)]).read()


def blob(digest):
    algo, hexd = digest.split(":", 1)
    return "blobs/%s/%s" % (algo, hexd)


def layers_and_history(src):
    if src.has("manifest.json") and not src.has("index.json"):
        man = json.loads(src.read("manifest.json"))[0]
        cfg = json.loads(src.read(man["Config"]))
        return [src.read(l) for l in man["Layers"]], cfg.get("history", [])
    idx = json.loads(src.read("index.json"))
    desc = idx["manifests"][0]
    man = json.loads(src.read(blob(desc["digest"])))
    while "manifests" in man:  # nested index
        man = json.loads(src.read(blob(man["manifests"][0]["digest"])))
    cfg = json.loads(src.read(blob(man["config"]["digest"])))
    return [src.read(blob(l["digest"])) for l in man["layers"]], cfg.get("history", [])


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    as_json = "--json" in sys.argv
    src = Source(args[0])
    layers, history = layers_and_history(src)
    steps = [h.get("created_by", "") for h in history if not h.get("empty_layer")]
    if len(steps) != len(layers):
        print("warning: %d non-empty history entries for %d layers" % (len(steps), len(layers)), file=sys.stderr)
        steps = [""] * len(layers)
    r = Replay()
    counts = []
    for i, data in enumerate(layers):
        ms = members_of(decompress(data))
        wh = sum(1 for m in ms if norm(m.name).rsplit("/", 1)[-1].startswith(WH))
        opq = sum(1 for m in ms if norm(m.name).rsplit("/", 1)[-1] == OPQ)
        counts.append((len(ms), wh, opq))
        r.apply_layer(i, ms)
    live = r.live()
    total = sum(s for (_, s, _) in r.contents)
    final = sum(r.contents[c][1] for c in live)
    wasted_by_layer = [0] * len(layers)
    for cid, (li, size, _) in enumerate(r.contents):
        if cid not in live:
            wasted_by_layer[li] += size
    out = {
        "image": args[0],
        "layers": [
            {"index": i, "entries": counts[i][0], "whiteouts": counts[i][1], "opaque": counts[i][2],
             "bytes": r.layer_layer_bytes[i], "wasted": wasted_by_layer[i], "step": steps[i][:100]}
            for i in range(len(layers))
        ],
        "total": total,
        "final": final,
        "wasted": total - final,
        "efficiency": (final / total) if total else 1.0,
        "entries": sum(c[0] for c in counts),
        "whiteouts": sum(c[1] for c in counts),
        "opaque_whiteouts": sum(c[2] for c in counts),
    }
    if as_json:
        print(json.dumps(out, indent=1))
        return
    print("%-5s %8s %6s %4s %14s %14s  %s" % ("layer", "entries", "wh", "opq", "bytes", "wasted", "step"))
    for l in out["layers"]:
        print("%-5d %8d %6d %4d %14d %14d  %s" % (l["index"], l["entries"], l["whiteouts"], l["opaque"],
                                                 l["bytes"], l["wasted"], l["step"][:70]))
    print("entries %d  whiteouts %d (opaque %d)" % (out["entries"], out["whiteouts"], out["opaque_whiteouts"]))
    print("total %d  final %d  wasted %d  efficiency %.6f" % (total, final, total - final, out["efficiency"]))


if __name__ == "__main__":
    main()
