use super::*;
use crate::walk::{LayerIndex, Spec};

fn layer(entries: &[(&str, Spec<'static>)]) -> LayerIndex {
    let mut index = LayerIndex::default();
    for (name, spec) in entries {
        index.push(name, *spec);
    }
    index
}

fn file(bytes: u64, hash: u64) -> Spec<'static> {
    Spec::File { bytes, hash }
}

fn run(layers: &[LayerIndex], options: ExplainOptions) -> Explanation {
    let mut r = Replay::new();
    for l in layers {
        r.apply(l);
    }
    r.resolve_comparisons();
    explain(&r, &options)
}

fn s(p: &PathRow) -> (String, bool, u64, u64) {
    (
        String::from_utf8(p.path.clone()).unwrap(),
        p.is_dir,
        p.bytes,
        p.files,
    )
}

#[test]
fn rolls_waste_up_to_the_directories_that_explain_it() {
    let mut entries = vec![];
    let names: Vec<String> = (0..30)
        .map(|i| format!("usr/lib/gcc/x86_64-linux-gnu/12/f{i}"))
        .collect();
    for n in &names {
        entries.push((n.as_str(), file(100, 1)));
    }
    entries.push(("usr/bin/gcc", file(50, 2)));
    entries.push(("usr/share/doc/gcc/copyright", file(5, 3)));
    let add = layer(&entries);
    let del = layer(&[
        ("usr/lib/.wh.gcc", Spec::Whiteout),
        ("usr/bin/.wh.gcc", Spec::Whiteout),
        ("usr/share/doc/.wh..wh..opq", Spec::Whiteout),
    ]);
    let e = run(
        &[add, del],
        ExplainOptions {
            top: 5,
            ..Default::default()
        },
    );
    let rows: Vec<_> = e.layers[0].top_paths.iter().map(s).collect();
    assert_eq!(
        rows,
        vec![
            ("usr/lib/gcc/x86_64-linux-gnu/12".into(), true, 3000, 30),
            ("usr/bin/gcc".into(), false, 50, 1),
            ("usr/share/doc/gcc/copyright".into(), false, 5, 1),
        ]
    );
    let first = &e.layers[0].top_paths[0];
    assert_eq!(first.removed_by, vec![1]);
    assert_eq!(first.reasons, vec![Reason::DeletedParent]);
    assert_eq!(
        e.layers[0].by_reason,
        vec![
            (Reason::DeletedParent, 3000),
            (Reason::Deleted, 50),
            (Reason::Opaque, 5)
        ]
    );
}

#[test]
fn one_row_when_top_is_one() {
    let add = layer(&[("a/x", file(1, 1)), ("b/y", file(2, 2))]);
    let del = layer(&[(".wh.a", Spec::Whiteout), (".wh.b", Spec::Whiteout)]);
    let e = run(
        &[add, del],
        ExplainOptions {
            top: 1,
            ..Default::default()
        },
    );
    let rows: Vec<_> = e.layers[0].top_paths.iter().map(s).collect();
    assert_eq!(rows, vec![("".into(), true, 3, 2)]);
}

#[test]
fn classifies_findings_by_pattern_and_hider() {
    let add = layer(&[
        ("var/lib/apt/lists/x_Packages", file(1000, 1)),
        ("var/lib/dpkg/status", file(300, 2)),
        ("etc/app.conf", file(20, 3)),
        ("usr/bin/tool", file(500, 4)),
    ]);
    let next = layer(&[
        ("var/lib/apt/lists/.wh.x_Packages", Spec::Whiteout),
        ("var/lib/dpkg/status", file(310, 5)),
        ("etc/app.conf", file(20, 3)),
        ("usr/bin/.wh.tool", Spec::Whiteout),
    ]);
    let e = run(&[add, next], ExplainOptions::default());
    let f: Vec<(Place, How, u32, u64)> = e.layers[0]
        .findings
        .iter()
        .map(|f| (f.facts.place, f.facts.how, f.by_layer, f.bytes))
        .collect();
    assert_eq!(
        f,
        vec![
            (Place::Cache(PathKind::AptLists), How::Removed, 1, 1000),
            (Place::Plain, How::Removed, 1, 500),
            (Place::PackageDatabase, How::Overwritten, 1, 300),
            (Place::Plain, How::Rewritten, 1, 20),
        ]
    );
    // Test layers carry no modes or times: the same-content rewrite changed nothing.
    assert!(e.layers[0].findings[3].facts.changes.is_none());
    assert_eq!(
        e.layers[0].findings[0].example,
        b"var/lib/apt/lists/x_Packages"
    );
}

/// Sets the mode, owner and mtime of a layer's last entry, as a tar header would.
fn with_meta(mut index: LayerIndex, mode: u32, uid: u64, mtime: u64) -> LayerIndex {
    index.entries.last_mut().expect("an entry").meta =
        crate::walk::Meta::new(mode, uid, uid, mtime);
    index
}

#[test]
fn a_rewrite_says_what_changed_in_the_headers() {
    let add = with_meta(layer(&[("app/run.sh", file(40, 7))]), 0o644, 0, 100);
    let chmod = with_meta(layer(&[("app/run.sh", file(40, 7))]), 0o755, 0, 100);
    let chown = with_meta(layer(&[("app/run.sh", file(40, 7))]), 0o755, 1000, 100);
    let same = with_meta(layer(&[("app/run.sh", file(40, 7))]), 0o755, 1000, 100);
    let e = run(&[add, chmod, chown, same], ExplainOptions::default());
    let changes = |l: usize| e.layers[l].findings[0].facts.changes;
    assert_eq!(
        changes(0),
        Changes {
            mode: true,
            owner: false,
            mtime: false
        }
    );
    assert_eq!(
        changes(1),
        Changes {
            mode: false,
            owner: true,
            mtime: false
        }
    );
    assert!(changes(2).is_none(), "identical headers: a no-op rewrite");
    assert!(e
        .layers
        .iter()
        .take(3)
        .all(|l| l.findings[0].facts.how == How::Rewritten));
}

#[test]
fn a_delete_whose_content_the_same_layer_adds_elsewhere_is_a_move() {
    let add = layer(&[
        ("opt/x-1.0/bin/x", file(5000, 11)),
        ("opt/x-1.0/README", file(70, 12)),
    ]);
    let mv = layer(&[
        ("opt/.wh.x-1.0", Spec::Whiteout),
        ("opt/x/bin/x", file(5000, 11)),
        ("opt/x/README", file(70, 99)),
    ]);
    let e = run(&[add, mv], ExplainOptions::default());
    let f: Vec<(How, u64)> = e.layers[0]
        .findings
        .iter()
        .map(|f| (f.facts.how, f.bytes))
        .collect();
    // The README's content changed on the way, so it was not moved.
    assert_eq!(f, vec![(How::Moved, 5000), (How::Removed, 70)]);
}

#[test]
fn a_delete_and_an_identical_re_add_at_the_same_path_is_no_move() {
    let add = layer(&[("lib/p/a.py", file(800, 5)), ("lib/p/b.py", file(90, 6))]);
    let reinstall = layer(&[
        ("lib/.wh..wh..opq", Spec::Whiteout),
        ("lib/p/a.py", file(800, 5)),
        ("lib/p/c.py", file(90, 6)),
    ]);
    let e = run(&[add, reinstall], ExplainOptions::default());
    let f: Vec<(How, u64)> = e.layers[0]
        .findings
        .iter()
        .map(|f| (f.facts.how, f.bytes))
        .collect();
    // b.py's content is at c.py now: moved; a.py is back where it was: removed.
    assert_eq!(f, vec![(How::Removed, 800), (How::Moved, 90)]);
}

#[test]
fn move_candidates_pair_deleted_files_with_live_ones_of_the_same_size() {
    let add = layer(&[("a/x", file(5000, 1)), ("a/y", file(10, 2))]);
    let mv = layer(&[
        (".wh.a", Spec::Whiteout),
        ("b/x", file(5000, 1)),
        ("b/z", file(3, 3)),
    ]);
    let mut r = Replay::new();
    r.apply(&add);
    r.apply(&mv);
    // Test layers come hashed; forget the hashes, as a plain layer's walk does.
    for c in &mut r.contents {
        c.hash = None;
    }
    let mut ids = move_candidates(&r);
    ids.sort_unstable();
    let paths: Vec<Vec<u8>> = ids
        .iter()
        .map(|&id| r.tree.path_of(r.contents[id as usize].node))
        .collect();
    assert_eq!(paths, vec![b"a/x".to_vec(), b"b/x".to_vec()]);
}

#[test]
fn duplicates_count_copies_beyond_the_first() {
    let l = layer(&[
        ("a", file(100, 9)),
        ("b", file(100, 9)),
        ("c", file(100, 9)),
        ("d", file(100, 8)),
        ("e", Spec::HardLink("d")),
    ]);
    let e = run(&[l], ExplainOptions::default());
    assert_eq!((e.duplicates.bytes, e.duplicates.files), (200, 2));
    assert_eq!(e.duplicates.groups.len(), 1);
    assert_eq!(
        e.duplicates.groups[0].paths,
        vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]
    );
}

#[test]
fn live_caches_are_removable_not_wasted() {
    let l = layer(&[
        ("var/cache/apk/APKINDEX.tar.gz", file(700, 1)),
        ("bin/sh", file(10, 2)),
    ]);
    let e = run(&[l], ExplainOptions::default());
    assert_eq!(
        e.removable,
        vec![Removable {
            kind: PathKind::ApkCache,
            bytes: 700,
            files: 1
        }]
    );
}

#[test]
fn files_list_every_wasted_file_on_request() {
    let add = layer(&[("a", file(1, 1)), ("b", file(2, 2))]);
    let del = layer(&[(".wh.a", Spec::Whiteout), (".wh.b", Spec::Whiteout)]);
    let e = run(
        &[add, del],
        ExplainOptions {
            files: true,
            ..Default::default()
        },
    );
    let f: Vec<(Vec<u8>, u64)> = e.layers[0]
        .files
        .iter()
        .map(|f| (f.path.clone(), f.bytes))
        .collect();
    assert_eq!(f, vec![(b"b".to_vec(), 2), (b"a".to_vec(), 1)]);
}

#[test]
fn a_directory_with_too_many_children_names_its_largest_and_keeps_the_rest() {
    // usr/ holds 8 wasted directories; with 4 rows, the 3 largest get rows and the
    // other 5 stay together as the rest of usr/.
    let names: Vec<String> = (0..8).map(|i| format!("usr/d{i}/f")).collect();
    let sizes = [5000, 3000, 2000, 10, 10, 10, 10, 10];
    let mut entries: Vec<(&str, Spec<'static>)> = vec![];
    for (n, size) in names.iter().zip(sizes) {
        entries.push((n.as_str(), file(size, size)));
    }
    let add = layer(&entries);
    let del = layer(&[(".wh.usr", Spec::Whiteout)]);
    let e = run(
        &[add, del],
        ExplainOptions {
            top: 4,
            ..Default::default()
        },
    );
    let rows: Vec<(String, bool, u64, u64)> = e.layers[0]
        .top_paths
        .iter()
        .map(|p| {
            (
                String::from_utf8(p.path.clone()).unwrap(),
                p.other,
                p.bytes,
                p.files,
            )
        })
        .collect();
    assert_eq!(
        rows,
        vec![
            ("usr/d0/f".into(), false, 5000, 1),
            ("usr/d1/f".into(), false, 3000, 1),
            ("usr/d2/f".into(), false, 2000, 1),
            ("usr".into(), true, 50, 5),
        ]
    );
}
