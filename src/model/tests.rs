//! One test per rule of the waste model, on plain data.

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

/// (adding layer, bytes, reason, hiding layer) for every hidden content, sorted.
fn hidden(r: &Replay) -> Vec<(u32, u64, Reason, u32)> {
    let mut v: Vec<_> = r
        .contents
        .iter()
        .filter_map(|c| c.hidden.map(|h| (c.layer, c.bytes, h.reason, h.by_layer)))
        .collect();
    v.sort();
    v
}

fn totals(r: &Replay) -> (u64, u64, u64) {
    let o = r.outcome();
    assert_eq!(o.total_bytes, o.final_bytes + o.wasted_bytes);
    (o.total_bytes, o.final_bytes, o.wasted_bytes)
}

#[test]
fn nothing_hidden_is_nothing_wasted() {
    let r = replay(&[layer(&[("usr/", Spec::Dir), ("usr/a", file(10, 1))])]);
    assert_eq!(totals(&r), (10, 10, 0));
    assert_eq!(r.outcome().efficiency(), 1.0);
}

#[test]
fn empty_image_has_efficiency_one() {
    let r = replay(&[]);
    assert_eq!(r.outcome().efficiency(), 1.0);
}

#[test]
fn whiteout_deletes_a_file() {
    let r = replay(&[
        layer(&[("etc/a", file(100, 1)), ("etc/b", file(5, 2))]),
        layer(&[("etc/.wh.a", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (105, 5, 100));
    assert_eq!(hidden(&r), vec![(0, 100, Reason::Deleted, 1)]);
}

#[test]
fn whiteout_of_a_directory_hides_its_subtree_as_deleted_parent() {
    let r = replay(&[
        layer(&[
            ("root/example/", Spec::Dir),
            ("root/example/x", file(7, 1)),
            ("root/example/sub/y", file(3, 2)),
        ]),
        layer(&[("root/.wh.example", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (10, 0, 10));
    assert_eq!(
        hidden(&r),
        vec![
            (0, 3, Reason::DeletedParent, 1),
            (0, 7, Reason::DeletedParent, 1)
        ]
    );
}

#[test]
fn whiteouts_apply_before_entries_wherever_they_stand() {
    // The new `a` comes before its whiteout in the tar; the whiteout still only hides
    // the lower layer's `a`.
    let r = replay(&[
        layer(&[("a", file(10, 1))]),
        layer(&[("a", file(20, 2)), (".wh.a", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (30, 20, 10));
    assert_eq!(hidden(&r), vec![(0, 10, Reason::Deleted, 1)]);
}

#[test]
fn whiteout_of_a_missing_path_hides_nothing_and_is_no_file() {
    let r = replay(&[
        layer(&[("a", file(10, 1))]),
        layer(&[(".wh.nothing", Spec::Whiteout), ("x/.wh.y", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (10, 10, 0));
    assert!(r.tree.lookup(b"nothing").is_none());
    assert!(r.tree.lookup(b"x").is_none());
}

#[test]
fn opaque_whiteout_hides_lower_children_and_keeps_the_dir() {
    let r = replay(&[
        layer(&[
            ("var/cache/", Spec::Dir),
            ("var/cache/a", file(8, 1)),
            ("var/cache/d/b", file(4, 2)),
        ]),
        layer(&[
            ("var/cache/.wh..wh..opq", Spec::Whiteout),
            ("var/cache/new", file(1, 3)),
        ]),
    ]);
    assert_eq!(totals(&r), (13, 1, 12));
    assert_eq!(
        hidden(&r),
        vec![(0, 4, Reason::Opaque, 1), (0, 8, Reason::Opaque, 1)]
    );
    assert!(r.tree.lookup(b"var/cache").is_some());
}

#[test]
fn opaque_after_entries_in_the_tar_still_spares_the_same_layer() {
    let r = replay(&[
        layer(&[("d/old", file(8, 1))]),
        layer(&[("d/new", file(1, 2)), ("d/.wh..wh..opq", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (9, 1, 8));
}

#[test]
fn overwrite_with_different_content() {
    let r = replay(&[layer(&[("f", file(10, 1))]), layer(&[("f", file(10, 2))])]);
    assert_eq!(hidden(&r), vec![(0, 10, Reason::Overwritten, 1)]);
    assert_eq!(totals(&r), (20, 10, 10));
}

#[test]
fn same_content_rewritten_is_metadata_only() {
    // `RUN chmod 444 f`: the whole file is copied up with only its mode changed.
    let r = replay(&[
        layer(&[("f", file(6405, 7))]),
        layer(&[("f", file(6405, 7))]),
    ]);
    assert_eq!(hidden(&r), vec![(0, 6405, Reason::MetadataOnly, 1)]);
}

#[test]
fn unhashed_same_size_pairs_wait_for_hashes() {
    let mut a = layer(&[("f", file(5, 0))]);
    let mut b = layer(&[("f", file(5, 0))]);
    a.entries[0].hash = None;
    b.entries[0].hash = None;
    let mut r = Replay::new();
    r.apply(&a);
    r.apply(&b);
    let pending: Vec<_> = r.pending_comparisons().collect();
    assert_eq!(pending, vec![(0, 1)]);
    r.set_hash(0, 42);
    r.set_hash(1, 42);
    r.resolve_comparisons();
    assert_eq!(hidden(&r), vec![(0, 5, Reason::MetadataOnly, 1)]);
    assert_eq!(r.pending_comparisons().count(), 0);
}

/// Each layer's new pairs are handed over once, as the layers are applied, and
/// together they are every pending pair.
#[test]
fn new_comparisons_are_taken_layer_by_layer() {
    let unhashed = |entries: &[(&str, Spec<'static>)]| {
        let mut l = layer(entries);
        for e in &mut l.entries {
            e.hash = None;
        }
        l
    };
    let a = unhashed(&[("f", file(5, 0)), ("g", file(7, 0))]);
    let b = unhashed(&[("f", file(5, 0))]);
    let c = unhashed(&[("g", file(7, 0)), ("f", file(5, 0)), ("h", file(1, 0))]);
    let mut r = Replay::new();
    r.apply(&a);
    assert_eq!(r.take_new_comparisons(), vec![]);
    r.apply(&b);
    assert_eq!(r.take_new_comparisons(), vec![(0, 2)]);
    assert_eq!(r.take_new_comparisons(), vec![]);
    r.apply(&c);
    // f of layer b, replaced in its turn, and g of layer a.
    assert_eq!(r.take_new_comparisons(), vec![(1, 3), (2, 4)]);
    let mut pending: Vec<_> = r.pending_comparisons().collect();
    pending.sort_unstable();
    assert_eq!(pending, vec![(0, 2), (1, 3), (2, 4)]);
}

#[test]
fn same_layer_duplicate_wastes_the_earlier_entry() {
    let r = replay(&[layer(&[("f", file(3, 1)), ("f", file(4, 2))])]);
    assert_eq!(hidden(&r), vec![(0, 3, Reason::Overwritten, 0)]);
    assert_eq!(totals(&r), (7, 4, 3));
}

#[test]
fn directory_over_directory_keeps_children() {
    let r = replay(&[
        layer(&[("d/", Spec::Dir), ("d/f", file(9, 1))]),
        layer(&[("d/", Spec::Dir)]),
    ]);
    assert_eq!(totals(&r), (9, 9, 0));
}

#[test]
fn file_over_directory_type_replaces_the_subtree() {
    let r = replay(&[
        layer(&[
            ("d/", Spec::Dir),
            ("d/f", file(9, 1)),
            ("d/g/h", file(1, 2)),
        ]),
        layer(&[("d", Spec::Symlink)]),
    ]);
    assert_eq!(
        hidden(&r),
        vec![
            (0, 1, Reason::TypeReplaced, 1),
            (0, 9, Reason::TypeReplaced, 1)
        ]
    );
}

#[test]
fn non_directory_on_the_way_is_type_replaced() {
    let r = replay(&[
        layer(&[("a/b", file(5, 1))]),
        layer(&[("a/b/c", file(1, 2))]),
    ]);
    assert_eq!(hidden(&r), vec![(0, 5, Reason::TypeReplaced, 1)]);
    assert_eq!(totals(&r), (6, 1, 5));
}

#[test]
fn directory_over_file_overwrites_it() {
    let r = replay(&[layer(&[("a", file(5, 1))]), layer(&[("a/", Spec::Dir)])]);
    assert_eq!(hidden(&r), vec![(0, 5, Reason::Overwritten, 1)]);
}

#[test]
fn missing_parents_are_created_implicitly() {
    let r = replay(&[layer(&[("x/y/z", file(2, 1))])]);
    assert!(r.tree.lookup(b"x/y").is_some());
    assert_eq!(totals(&r), (2, 2, 0));
}

#[test]
fn hard_link_keeps_content_alive_after_its_target_is_deleted() {
    let r = replay(&[
        layer(&[
            ("usr/bin/perl5", file(100, 1)),
            ("usr/bin/perl", Spec::HardLink("usr/bin/perl5")),
        ]),
        layer(&[("usr/bin/.wh.perl5", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (100, 100, 0));
}

#[test]
fn hard_linked_content_is_wasted_when_its_last_path_goes() {
    let r = replay(&[
        layer(&[("a", file(100, 1)), ("b", Spec::HardLink("./a"))]),
        layer(&[(".wh.a", Spec::Whiteout)]),
        layer(&[(".wh.b", Spec::Whiteout)]),
    ]);
    assert_eq!(hidden(&r), vec![(0, 100, Reason::Deleted, 2)]);
}

#[test]
fn hard_link_counts_no_bytes_and_refers_to_the_content_as_it_stands() {
    let r = replay(&[
        layer(&[("a", file(10, 1))]),
        layer(&[("a", file(20, 2)), ("b", Spec::HardLink("a"))]),
    ]);
    // b links to the new a; the old a is overwritten.
    assert_eq!(totals(&r), (30, 20, 10));
}

#[test]
fn hard_link_to_nothing_is_warned_about() {
    let r = replay(&[layer(&[("b", Spec::HardLink("missing"))])]);
    assert_eq!(totals(&r), (0, 0, 0));
    assert!(r.warnings[0].contains("1 hard link to a path that does not exist"));
}

#[test]
fn hard_link_over_its_own_content_hides_nothing() {
    let r = replay(&[
        layer(&[("a", file(10, 1)), ("b", Spec::HardLink("a"))]),
        layer(&[("b", Spec::HardLink("a"))]),
    ]);
    assert_eq!(totals(&r), (10, 10, 0));
}

#[test]
fn root_entries_and_root_whiteouts_change_nothing() {
    let r = replay(&[
        layer(&[("./", Spec::Dir), ("f", file(1, 1))]),
        layer(&[(".", Spec::Dir), (".wh..", Spec::Whiteout)]),
    ]);
    assert_eq!(totals(&r), (1, 1, 0));
}

#[test]
fn removed_by_groups_waste_per_hiding_layer() {
    let r = replay(&[
        layer(&[("a", file(1, 1)), ("b", file(2, 2)), ("c", file(4, 3))]),
        layer(&[(".wh.a", Spec::Whiteout)]),
        layer(&[(".wh.b", Spec::Whiteout), (".wh.c", Spec::Whiteout)]),
    ]);
    let o = r.outcome();
    assert_eq!(o.layers[0].removed_by, vec![(1, 1), (2, 6)]);
    assert_eq!(o.layers[0].wasted_bytes, 7);
}

#[test]
fn a_path_deleted_and_re_added_wastes_only_the_old_bytes() {
    let r = replay(&[
        layer(&[("d/f", file(10, 1))]),
        layer(&[(".wh.d", Spec::Whiteout), ("d/f", file(10, 1))]),
    ]);
    assert_eq!(hidden(&r), vec![(0, 10, Reason::DeletedParent, 1)]);
    assert_eq!(totals(&r), (20, 10, 10));
}

#[test]
fn ids_must_stay_inside_32_bits() {
    let limit = u32::MAX as usize - 1;
    assert!(super::ids_fit([1, 0, 0], 10, 10));
    assert!(super::ids_fit([1, 0, 0], limit - 12, 10));
    assert!(!super::ids_fit([1, 0, 0], limit - 11, 10));
    assert!(!super::ids_fit([1, limit - 5, 0], 5, 0));
    assert!(!super::ids_fit([1, 0, limit - 3], 0, 3));
    assert!(!super::ids_fit([usize::MAX, 0, 0], usize::MAX, usize::MAX));
    assert!(Replay::new().has_room_for(&layer(&[("a", file(1, 1))])));
}

#[test]
fn a_hidden_file_knows_the_file_that_took_its_path() {
    let r = replay(&[
        layer(&[("a", file(10, 1)), ("b", file(20, 2)), ("c", file(30, 3))]),
        layer(&[
            ("a", file(10, 1)),
            ("b", file(25, 4)),
            (".wh.c", Spec::Whiteout),
        ]),
    ]);
    let by_path = |path: &str| {
        r.contents
            .iter()
            .find(|c| c.layer == 0 && r.tree.path_of(c.node) == path.as_bytes())
            .and_then(|c| c.hidden)
            .map(|h| {
                (
                    h.reason,
                    h.replaced_by().map(|id| r.contents[id as usize].bytes),
                )
            })
    };
    // The same content at a: metadata-only, replaced by layer 1's 10-byte file.
    assert_eq!(by_path("a"), Some((Reason::MetadataOnly, Some(10))));
    assert_eq!(by_path("b"), Some((Reason::Overwritten, Some(25))));
    // A delete has no replacement.
    assert_eq!(by_path("c"), Some((Reason::Deleted, None)));
}
