//! Layers shared by the images of one run (`layerwaste scan`): each layer, keyed like
//! the layer cache (diff ID, blob digest and length, walk options), is read once, and
//! every other image that carries it gets a copy of its index.
//!
//! Several images are analysed at once, so two of them may want the same base layer
//! at the same moment: each key has a slot whose lock the first one holds while it
//! reads, and the others wait on it and then copy, instead of reading it again.
//!
//! Memory is bounded by `budget`, an estimate of the held indexes' bytes (entries and
//! path arena). Indexes are kept while they fit, first come first kept: in a fleet the
//! first images read are as likely as any to bring the base layers that many share,
//! and a layer that no longer fits is read again (from the `--cache` directory when
//! there is one) rather than evicting what is held. A failed read keeps nothing, so
//! the next image tries the layer itself and reports its own error.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::walk::cache::CacheKey;
use crate::walk::{LayerIndex, WalkError};

/// Where a layer's index came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Read from its source (walked).
    Read,
    /// Loaded from the `--cache` directory.
    Cache,
}

/// How the layers of a run were obtained, counted per layer of every image.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LayerReads {
    /// Layers walked from their source.
    pub layers_read: u64,
    /// Layers loaded from the `--cache` directory.
    pub layers_from_cache: u64,
    /// Layers another image of this run had already read: copied, not read.
    pub layers_shared: u64,
}

impl LayerReads {
    pub fn add(&mut self, other: &LayerReads) {
        self.layers_read += other.layers_read;
        self.layers_from_cache += other.layers_from_cache;
        self.layers_shared += other.layers_shared;
    }
}

type Slot = Arc<Mutex<Option<Arc<LayerIndex>>>>;

/// The in-run store of layer indexes. Share one between concurrent analyses.
#[derive(Debug)]
pub struct SharedLayers {
    slots: Mutex<HashMap<CacheKey, Slot>>,
    budget: u64,
    held: AtomicU64,
    read: AtomicU64,
    from_cache: AtomicU64,
    shared: AtomicU64,
}

/// The default memory for held indexes: room for tens of thousands of entries per
/// layer over hundreds of layers, far less than one large layer's bytes.
pub const DEFAULT_BUDGET: u64 = 512 << 20;

impl SharedLayers {
    pub fn new(budget: u64) -> SharedLayers {
        SharedLayers {
            slots: Mutex::new(HashMap::new()),
            budget,
            held: AtomicU64::new(0),
            read: AtomicU64::new(0),
            from_cache: AtomicU64::new(0),
            shared: AtomicU64::new(0),
        }
    }

    /// The counts so far.
    pub fn reads(&self) -> LayerReads {
        LayerReads {
            layers_read: self.read.load(Ordering::Relaxed),
            layers_from_cache: self.from_cache.load(Ordering::Relaxed),
            layers_shared: self.shared.load(Ordering::Relaxed),
        }
    }

    /// Estimated bytes held now.
    pub fn held_bytes(&self) -> u64 {
        self.held.load(Ordering::Relaxed)
    }

    /// The index for `key`: a copy of the one held, or what `read` returns (which is
    /// then held, if it fits the budget).
    pub fn get_or_read(
        &self,
        key: &CacheKey,
        read: impl FnOnce() -> Result<(LayerIndex, Origin), WalkError>,
    ) -> Result<LayerIndex, WalkError> {
        let slot = {
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(slots.entry(key.clone()).or_default())
        };
        // Held while reading: an image that wants the same layer waits here.
        let mut held = slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(index) = held.as_ref() {
            self.shared.fetch_add(1, Ordering::Relaxed);
            return Ok(LayerIndex::clone(index));
        }
        let (index, origin) = read()?;
        match origin {
            Origin::Read => &self.read,
            Origin::Cache => &self.from_cache,
        }
        .fetch_add(1, Ordering::Relaxed);
        let bytes = estimated_bytes(&index);
        let fits = self
            .held
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |h| {
                (h + bytes <= self.budget).then_some(h + bytes)
            })
            .is_ok();
        if fits {
            *held = Some(Arc::new(index.clone()));
        }
        Ok(index)
    }
}

fn estimated_bytes(index: &LayerIndex) -> u64 {
    let entries = index.entries.len() * std::mem::size_of::<crate::walk::Entry>();
    let warnings: usize = index.warnings.iter().map(String::len).sum();
    (entries + index.names_len() + warnings + std::mem::size_of::<LayerIndex>()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::walk::WalkOptions;

    fn key(n: u8) -> CacheKey {
        let diff_id = format!("sha256:{:064x}", n);
        CacheKey::new(Some(&diff_id), None, 10, &WalkOptions::default()).unwrap()
    }

    #[test]
    fn a_layer_is_read_once_and_then_shared() {
        let shared = SharedLayers::new(DEFAULT_BUDGET);
        let reads = AtomicU64::new(0);
        let read = || {
            reads.fetch_add(1, Ordering::Relaxed);
            Ok((LayerIndex::default(), Origin::Read))
        };
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| shared.get_or_read(&key(1), read).unwrap());
            }
        });
        shared
            .get_or_read(&key(2), || Ok((LayerIndex::default(), Origin::Cache)))
            .unwrap();
        assert_eq!(reads.load(Ordering::Relaxed), 1);
        assert_eq!(
            shared.reads(),
            LayerReads {
                layers_read: 1,
                layers_from_cache: 1,
                layers_shared: 3
            }
        );
    }

    #[test]
    fn nothing_is_held_beyond_the_budget_and_a_failure_is_not_kept() {
        let shared = SharedLayers::new(0);
        for _ in 0..2 {
            shared
                .get_or_read(&key(1), || Ok((LayerIndex::default(), Origin::Read)))
                .unwrap();
        }
        assert_eq!(shared.reads().layers_read, 2);
        assert_eq!(shared.held_bytes(), 0);
        let shared = SharedLayers::new(DEFAULT_BUDGET);
        let failed = shared.get_or_read(&key(3), || {
            Err(WalkError {
                why: "gone".into(),
                entry: None,
            })
        });
        assert!(failed.is_err());
        shared
            .get_or_read(&key(3), || Ok((LayerIndex::default(), Origin::Read)))
            .unwrap();
        assert_eq!(shared.reads().layers_read, 1);
    }
}
