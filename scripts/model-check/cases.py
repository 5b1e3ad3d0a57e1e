#!/usr/bin/env python3
"""Hand-made minimal cases: both tools' figures + Rust removed_by/reasons vs what WASTE-MODEL.md says.
  python3 cases.py      (writes repro/<name>.json specs; rerun one with: python3 run.py check repro/<name>.json)
"""
import json, os, sys, tempfile
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen, run
F = lambda p, n, c=0, m=0o644: ["f", p, n, c, m]
CASES = {
 # name: (layers, expected {layer: (remover_layer, reason)} per the model)
 "delete":            ([[F("a", 8)], [["w", "a"]]], {0: (1, "deleted")}),
 "delete_parent":     ([[F("d/e", 8)], [["w", "d"]]], {0: (1, "deleted-parent")}),
 "opaque":            ([[F("d/e", 8)], [["o", "d"]]], {0: (1, "opaque")}),
 "overwritten":       ([[F("a", 8, 0)], [F("a", 8, 1)]], {0: (1, "overwritten")}),
 "metadata_only":     ([[F("a", 8, 0)], [F("a", 8, 0, 0o755)]], {0: (1, "metadata-only")}),
 "identical_readd":   ([[F("a", 8, 0)], [F("a", 8, 0)]], {0: (1, "metadata-only")}),
 "dir_to_file":       ([[F("d/e", 8)], [F("d", 3)]], {0: (1, "type-replaced")}),
 "dir_to_symlink":    ([[F("d/e", 8)], [["s", "d", "x"]]], {0: (1, "type-replaced")}),
 "file_on_the_way":   ([[F("a", 8)], [F("a/b", 3)]], {0: (1, "type-replaced")}),
 "file_to_dir":       ([[F("a", 8)], [["d", "a"]]], {0: (1, "overwritten or type-replaced (model ambiguous)")}),
 "file_to_symlink":   ([[F("a", 8)], [["s", "a", "b"]]], {0: (1, "overwritten (different content) ?")}),
 "same_layer_dup":    ([[F("a", 8, 0), F("a", 3, 1)]], {0: (0, "overwritten")}),
 "same_layer_dup_same": ([[F("a", 8, 0), F("a", 8, 0, 0o755)]], {0: (0, "metadata-only")}),
 "wh_and_readd":      ([[F("a", 8, 0)], [F("a", 8, 1), ["w", "a"]]], {0: (1, "deleted")}),
 "wh_after_entry":    ([[F("a", 8, 0)], [F("a", 3, 1), ["w", "a"]]], {0: (1, "deleted")}),
 "wh_same_layer_only": ([[F("a", 8, 0), ["w", "a"]]], {}),
 "hl_keeps_alive":    ([[F("a", 8)], [["h", "b", "a"]], [["w", "a"]]], {}),
 "hl_both_gone":      ([[F("a", 8)], [["h", "b", "a"]], [["w", "a"]], [["w", "b"]]], {0: (3, "deleted (last path)")}),
 "hl_same_layer_both_gone": ([[F("a", 8), ["h", "b", "a"]], [["w", "a"], ["w", "b"]]], {0: (1, "deleted")}),
 "hl_chain":          ([[F("a", 8)], [["h", "b", "a"]], [["h", "c", "b"], ["w", "a"]], [["w", "b"]]], {}),
 "hl_missing":        ([[["h", "b", "nothere"]], [["w", "b"]]], {}),
 "hl_to_dir":         ([[F("d/e", 8), ["h", "b", "d"]], [["w", "d"]]], {0: (1, "deleted-parent")}),
 "hl_over_same_content": ([[F("a", 8, 0), F("b", 8, 0)], [["h", "a", "b"]]], {0: (1, "? a: same bytes as b via link")}),
 "hl_before_target_same_layer": ([[F("a", 8, 0)], [["h", "b", "a"], F("a", 3, 1)], [["w", "a"]]], {1: (2, "deleted")}),
 "hl_then_link_overwritten": ([[F("a", 8)], [["h", "b", "a"], ["w", "a"]], [F("b", 8, 1)]], {}),
 "opaque_same_layer_child": ([[F("d/e", 8)], [["o", "d"], F("d/f", 3)]], {0: (1, "opaque")}),
 "opaque_after_child": ([[F("d/e", 8)], [F("d/e", 3, 1), ["o", "d"]]], {0: (1, "opaque")}),
 "wh_through_file":   ([[F("a", 8)], [["w", "a/b"]]], {}),
 "opaque_on_file":    ([[F("a", 8)], [["o", "a"]]], {}),
 "dir_over_dir":      ([[F("d/e", 8)], [["d", "d"]]], {}),
 "dot_prefix_overwrite": ([[F("./a", 8, 0)], [F("a", 8, 1)]], {0: (1, "overwritten")}),
 "slash_prefix_wh":   ([[F("/d/e", 8)], [["w", "./d/e"]]], {0: (1, "deleted")}),
 "root_fifo":         ([[F("a", 8)], [["p", ".", "fifo"]]], {0: (1, "?? model silent; literal reading: root replaced")}),
 "dir_readd_after_wh": ([[F("d/e", 8)], [["w", "d"], ["d", "d"]]], {0: (1, "deleted-parent")}),
 "deep_type_change":  ([[F("d/f/g", 8)], [F("d/f", 3)], [["w", "d"]]], {0: (1, "type-replaced"), 1: (2, "deleted-parent")}),
}
def layer_with_p(entries):
    import exotic
    return exotic.layer_tar(entries)
def main():
    tmp = tempfile.mkdtemp(); os.makedirs("repro", exist_ok=True)
    if any(e[0] == "p" for c in CASES.values() for l in c[0] for e in l):
        import exotic; gen.layer_tar = lambda es: exotic.layer_tar(es)
    for name, (layers, exp) in CASES.items():
        with open("repro/%s.json" % name, "w") as f: json.dump(layers, f)
        r, p = run.both(layers, tmp)
        flag = "MISMATCH" if run.differs(r, p) else "agree"
        print("== %s [%s]" % (name, flag)); print("  " + gen.describe(layers).replace("\n", "\n  "))
        if "error" in r or "error" in p: print("  rust", r, "\n  py", p); continue
        print("  rust total/final/wasted %d/%d/%d per %s | py %d/%d/%d per %s" % (r["total"], r["final"], r["wasted"], r["per"], p["total"], p["final"], p["wasted"], p["per"]))
        print("  rust removed_by", {k: v for k, v in r["removed_by"].items() if v}, " model expects", exp)
main()
