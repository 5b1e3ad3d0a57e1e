#!/usr/bin/env python3
"""Rewrites the real-output blocks in the docs from the current build, after a change
to what layerwaste prints. The tests (tests/integration/readme.rs, formats.rs,
explore.rs, why.rs) fail on any block that differs; this puts them right:

    cargo build && scripts/refresh-doc-output.py

It replaces only the blocks the tests check: the README's sample output, the sample
images' README outputs, docs/formats.md's `<!-- output: ARGS -->` blocks, and the
explorer's opening screen (from its insta snapshot) in docs/explore.md and README.md.
Review the diff before committing: the words are what users read.
"""
import os
import re
import subprocess
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
binary = os.path.join(root, "target", "debug", "layerwaste")
env = dict(os.environ, COLUMNS="100", NO_COLOR="1")


def run(*args):
    out = subprocess.run([binary, *args], cwd=root, env=env, capture_output=True, text=True)
    return out.stdout


def edit(path, change):
    full = os.path.join(root, path)
    with open(full, encoding="utf-8") as f:
        old = f.read()
    new = change(old)
    if new != old:
        with open(full, "w", encoding="utf-8") as f:
            f.write(new)
        print(f"updated {path}")


SPLIT = "sample-images/build-deps-split/build-deps-split.tar"
JOINED = "sample-images/build-deps-joined/build-deps-joined.tar"

# The README's sample output.
sample = run("analyze", SPLIT)
edit("README.md", lambda s: re.sub(
    r"(<!-- sample-output:begin -->\n```\n).*?(```\n<!-- sample-output:end -->)",
    lambda m: m.group(1) + sample + m.group(2), s, flags=re.S))


# sample-images/README.md: the block after each image's analyze command.
def samples(s):
    for image in (SPLIT, JOINED):
        out = run("analyze", image)
        name = os.path.basename(image)
        s = re.sub(r"(analyze [^\n]*" + re.escape(name) + r"[^\n]*\n(?:[^\n`]*\n)*?```\n).*?(```)",
                   lambda m: m.group(1) + out + m.group(2), s, count=1, flags=re.S)
    return s


edit("sample-images/README.md", samples)


# docs/formats.md: `<!-- output: ARGS -->` then a fenced block.
def formats(s):
    def block(m):
        args = m.group(1)
        out = run("analyze", SPLIT, "--quiet", *args.split(" "))
        return f"<!-- output: {args} -->\n{m.group(2)}\n{out}{m.group(3)}\n"
    return re.sub(r"<!-- output: (.*?) -->\n(`{3,}[a-z]*)\n.*?\n(`{3,})\n", block, s, flags=re.S)


edit("docs/formats.md", formats)

# docs/json.md's example: an excerpt of the split sample's report (two steps, one layer).
def json_example(s):
    import json
    r = json.loads(run("analyze", SPLIT, "--format", "json", "--quiet"))
    r["steps"] = [r["steps"][1], r["steps"][3]]
    r["layers"] = [l for l in r["layers"] if l["index"] == 2]
    at = s.index("## Example")
    j = s.index("```json\n", at)
    k = s.index("\n```", j + 8)
    return s[:j] + "```json\n" + json.dumps(r, indent=2, ensure_ascii=True) + s[k:]


edit("docs/json.md", json_example)

# The explorer's opening screen, from its snapshot.
snap = os.path.join(root, "src/report/explore/snapshots/layerwaste__report__explore__tests__opening_screen.snap")
with open(snap, encoding="utf-8") as f:
    screen = f.read().split("\n---\n", 1)[1].rstrip()
for doc in ("docs/explore.md", "README.md"):
    def opening(s):
        lines = screen.split("\n")
        # The block that starts with the screen's first line.
        at = s.find("```\n" + lines[0][:20])
        if at < 0:
            print(f"{doc}: no opening screen block found", file=sys.stderr)
            return s
        end = s.find("\n```", at + 4)
        return s[:at] + "```\n" + screen + s[end:]
    edit(doc, opening)
