#!/usr/bin/env python3
"""removed_by / step mapping when history has empty_layer entries (ENV...) between layers."""
import json, subprocess, sys, os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import exotic
layers = [[["f", "a", 8, 0, 0o644]], [["h", "b", "a"]], [["w", "b"]], [["w", "a"]]]
exotic.image_tar(layers, "/tmp/empties.tar", 1, [1, 2, 0, 1])  # history: E L0 E E L1 L2 E L3
d = json.loads(subprocess.run([os.environ.get("LAYERWASTE", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "release", "layerwaste")), "analyze", "/tmp/empties.tar", "--format", "json", "--quiet"], capture_output=True, text=True).stdout)
for s in d["steps"]:
    print(s["index"], s.get("layer"), s["created_by"], s["wasted_bytes"], [(r["step"], r["reasons"]) for r in s["removed_by"]])
print("warnings", d["warnings"])
