//! The per-entry view against the model, on plain data.

use super::*;
use crate::walk::{LayerIndex, Spec};

fn file(bytes: u64, hash: u64) -> Spec<'static> {
    Spec::File { bytes, hash }
}

fn layer(entries: &[(&str, Spec<'static>)]) -> LayerIndex {
    let mut index = LayerIndex::default();
    for (name, spec) in entries {
        index.push(name, *spec);
    }
    index
}

fn replay(layers: &[LayerIndex]) -> Replay {
    let mut r = Replay::new();
    for l in layers {
        r.apply(l);
    }
    r.resolve_comparisons();
    r
}

fn fates(views: &[EntryView]) -> Vec<(String, Fate)> {
    views
        .iter()
        .map(|v| {
            (
                String::from_utf8_lossy(&v.path).into_owned(),
                v.fate.clone(),
            )
        })
        .collect()
}

fn image() -> Vec<LayerIndex> {
    vec![
        layer(&[
            ("usr/", Spec::Dir),
            ("usr/lib/gcc/cc1", file(1000, 1)),
            ("usr/lib/gcc/as", file(200, 2)),
            ("usr/bin/link", Spec::Symlink),
            ("etc/conf", file(10, 3)),
            ("doc/a", file(7, 4)),
        ]),
        layer(&[("etc/conf", file(10, 3)), ("bin/tool", file(50, 5))]),
        layer(&[
            ("usr/lib/.wh.gcc", Spec::Whiteout),
            ("doc/.wh..wh..opq", Spec::Whiteout),
            ("usr/bin/.wh.link", Spec::Whiteout),
            ("bin/tool", file(60, 6)),
        ]),
    ]
}

#[test]
fn every_entry_of_a_layer_gets_its_fate() {
    let layers = image();
    let r = replay(&layers);
    let facts = EntryIndex::new(&r, &layers);
    let got = fates(&layer_entries(&r, &layers, &facts, 0));
    let wasted = |reason, by_layer| Fate::Wasted { reason, by_layer };
    assert_eq!(
        got,
        vec![
            ("usr".into(), Fate::Live),
            ("usr/lib/gcc/cc1".into(), wasted(Reason::DeletedParent, 2)),
            ("usr/lib/gcc/as".into(), wasted(Reason::DeletedParent, 2)),
            ("usr/bin/link".into(), Fate::Hidden),
            ("etc/conf".into(), wasted(Reason::MetadataOnly, 1)),
            ("doc/a".into(), wasted(Reason::Opaque, 2)),
        ]
    );
    let got = fates(&layer_entries(&r, &layers, &facts, 1));
    assert_eq!(got[0], ("etc/conf".into(), Fate::Live));
    assert_eq!(got[1], ("bin/tool".into(), wasted(Reason::Overwritten, 2)));
}

#[test]
fn markers_say_what_they_hid_and_from_which_layer() {
    let layers = image();
    let r = replay(&layers);
    let facts = EntryIndex::new(&r, &layers);
    let got = layer_entries(&r, &layers, &facts, 2);
    let hid = |bytes, files, from_layers: Vec<(u32, u64)>| {
        Fate::Hides(Hid {
            bytes,
            files,
            from_layers,
        })
    };
    assert_eq!(got[0].kind, Kind::Whiteout);
    assert_eq!(got[0].path, b"usr/lib/gcc");
    assert_eq!(got[0].fate, hid(1200, 2, vec![(0, 1200)]));
    assert_eq!(got[1].kind, Kind::Opaque);
    assert_eq!(got[1].fate, hid(7, 1, vec![(0, 7)]));
    // A symlink has no bytes to hide.
    assert_eq!(got[2].fate, hid(0, 0, vec![]));
    // The markers' bytes are the layer's share of the report's figures.
    let o = r.outcome();
    assert_eq!(o.layers[0].removed_by, vec![(1, 10), (2, 1207)]);
}

#[test]
fn the_hider_of_an_entry_without_bytes_is_found_on_demand() {
    let layers = image();
    assert_eq!(
        hider_of(&layers, 0, b"usr/bin/link", Kind::Symlink),
        Some((2, Reason::Deleted))
    );
    assert_eq!(hider_of(&layers, 0, b"usr", Kind::Dir), None);
    let layers = vec![
        layer(&[("a/b", Spec::Symlink), ("c", Spec::Dir)]),
        layer(&[("a/b/c", file(1, 1)), ("c", file(1, 2))]),
    ];
    assert_eq!(
        hider_of(&layers, 0, b"a/b", Kind::Symlink),
        Some((1, Reason::TypeReplaced))
    );
    assert_eq!(
        hider_of(&layers, 0, b"c", Kind::Dir),
        Some((1, Reason::TypeReplaced))
    );
}

#[test]
fn the_merged_tree_is_the_model_after_that_layer() {
    let layers = image();
    let r = replay(&layers);
    let facts = EntryIndex::new(&r, &layers);
    let mut after1 = fates(&merged_entries(&r, &layers, &facts, 1));
    after1.sort_by(|a, b| a.0.cmp(&b.0));
    let paths: Vec<&str> = after1.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        [
            "bin",
            "bin/tool",
            "doc",
            "doc/a",
            "etc",
            "etc/conf",
            "usr",
            "usr/bin",
            "usr/bin/link",
            "usr/lib",
            "usr/lib/gcc",
            "usr/lib/gcc/as",
            "usr/lib/gcc/cc1"
        ]
    );
    // Each path carries the fate its content meets in the final image.
    let fate = |p: &str| after1.iter().find(|(q, _)| q == p).unwrap().1.clone();
    assert_eq!(
        fate("bin/tool"),
        Fate::Wasted {
            reason: Reason::Overwritten,
            by_layer: 2
        }
    );
    assert_eq!(fate("etc/conf"), Fate::Live);
    assert_eq!(fate("usr/bin/link"), Fate::Hidden);
    let mut after2 = fates(&merged_entries(&r, &layers, &facts, 2));
    after2.sort_by(|a, b| a.0.cmp(&b.0));
    let paths: Vec<&str> = after2.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["bin", "bin/tool", "doc", "etc", "etc/conf", "usr", "usr/bin", "usr/lib"]
    );
    assert!(after2.iter().all(|(_, f)| *f == Fate::Live));
}

#[test]
fn duplicates_are_the_other_live_paths_with_the_same_bytes() {
    let layers = vec![layer(&[
        ("a", file(5, 9)),
        ("b", file(5, 9)),
        ("c", file(5, 8)),
    ])];
    let r = replay(&layers);
    assert_eq!(same_content_paths(&r, 0), vec![b"b".to_vec()]);
    assert!(same_content_paths(&r, 2).is_empty());
}
