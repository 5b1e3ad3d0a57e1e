//! The waste-model replay on layers built from fuzz data, through the same
//! `LayerIndex::push` the model's unit tests use. Checks the model's invariants:
//! total = final + wasted, per-layer figures add up to the totals, a layer's bytes are
//! only ever hidden by itself or a later layer, and a content is live exactly when a
//! file in the final tree reaches it.
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use layerwaste::model::tree::{NodeKind, ROOT};
use layerwaste::model::Replay;
use layerwaste::walk::{LayerIndex, Spec};

/// Few names, so paths collide, nest and whiteout each other often.
const PARTS: [&str; 10] = ["a", "b", "c", ".wh.a", ".wh.b", ".wh..wh..opq", "..", ".", "", ".wh."];

fn path(bytes: &mut impl Iterator<Item = u8>) -> String {
    let depth = bytes.next().unwrap_or(0) % 4 + 1;
    (0..depth)
        .map(|_| PARTS[bytes.next().unwrap_or(0) as usize % PARTS.len()])
        .collect::<Vec<_>>()
        .join("/")
}

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.iter().copied();
    let mut layers: Vec<LayerIndex> = vec![LayerIndex::default()];
    let mut targets: Vec<String> = Vec::new();
    while let Some(op) = bytes.next() {
        let name = path(&mut bytes);
        let layer = layers.last_mut().expect("there is always a layer");
        match op % 8 {
            0 => layers.push(LayerIndex::default()),
            1 | 2 => {
                // Sizes stay small: real ones are bounded by the bytes of the layer.
                let size = u64::from(bytes.next().unwrap_or(0));
                let hash = u64::from(bytes.next().unwrap_or(0) % 4);
                layer.push(&name, Spec::File { bytes: size, hash });
            }
            3 => layer.push(&name, Spec::Dir),
            4 => layer.push(&name, Spec::Symlink),
            5 => {
                targets.push(path(&mut bytes));
                let target = targets.last().expect("just pushed");
                layer.push(&name, Spec::HardLink(target));
            }
            6 => layer.push(&name, Spec::Other),
            _ => layer.push(&name, Spec::Whiteout),
        }
    }
    let mut replay = Replay::new();
    for layer in &layers {
        replay.apply(layer);
    }
    replay.resolve_comparisons();
    let outcome = replay.outcome();
    assert_eq!(outcome.total_bytes, outcome.final_bytes + outcome.wasted_bytes);
    assert_eq!(
        outcome.layers.iter().map(|l| l.bytes).sum::<u64>(),
        outcome.total_bytes
    );
    assert_eq!(
        outcome.layers.iter().map(|l| l.wasted_bytes).sum::<u64>(),
        outcome.wasted_bytes
    );
    for (i, l) in outcome.layers.iter().enumerate() {
        assert!(l.wasted_bytes <= l.bytes);
        assert_eq!(l.removed_by.iter().map(|r| r.1).sum::<u64>(), l.wasted_bytes);
        assert!(l.removed_by.iter().all(|&(by, _)| by as usize >= i));
    }
    // Live contents are exactly those a present file in the final tree reaches.
    let mut reachable = HashSet::new();
    let mut stack = vec![ROOT];
    while let Some(id) = stack.pop() {
        let node = replay.tree.node(id);
        match node.kind {
            NodeKind::Dir => stack.extend(replay.tree.present_children(id)),
            NodeKind::File if node.content != u32::MAX => {
                reachable.insert(node.content);
            }
            _ => {}
        }
    }
    for (id, content) in replay.contents.iter().enumerate() {
        assert_eq!(
            content.is_live(),
            reachable.contains(&(id as u32)),
            "content {id} of layer {}",
            content.layer
        );
    }
});
