//! `layerwaste explore`: an interactive view of the analysis that opens on the waste.
//!
//! State ([`state`]) is plain data that each key changes; [`draw`] only reads it; the
//! terminal ([`terminal`]) is set up and always restored by a guard and a panic hook.
//! The explorer reads the analysis ([`crate::analyze::Analysis`]) and never a tar.

pub mod draw;
pub mod state;
pub mod terminal;
pub mod tree;

#[cfg(test)]
mod tests;

use crate::analyze::Analysis;
use crate::explain::entries::{self, EntryIndex, EntryView, Kind};
use crate::model::{Reason, Replay};
use crate::walk::LayerIndex;

pub use state::{Catalog, Key, State, StepInfo, Totals};

/// The real catalog: the analysis's replay and layer indexes.
pub struct AnalysisCatalog {
    replay: Replay,
    indexes: Vec<LayerIndex>,
    facts: EntryIndex,
}

impl AnalysisCatalog {
    pub fn new(replay: Replay, indexes: Vec<LayerIndex>) -> AnalysisCatalog {
        let facts = EntryIndex::new(&replay, &indexes);
        AnalysisCatalog {
            replay,
            indexes,
            facts,
        }
    }
}

impl Catalog for AnalysisCatalog {
    fn layer_entries(&self, layer: usize) -> Vec<EntryView> {
        entries::layer_entries(&self.replay, &self.indexes, &self.facts, layer)
    }

    fn merged_entries(&self, layer: usize) -> Vec<EntryView> {
        entries::merged_entries(&self.replay, &self.indexes, &self.facts, layer)
    }

    fn hider(&self, entry: &EntryView) -> Option<(u32, Reason)> {
        if entry.kind == Kind::File {
            return None;
        }
        entries::hider_of(&self.indexes, entry.layer as usize, &entry.path, entry.kind)
    }

    fn same_content(&self, content: u32) -> Vec<Vec<u8>> {
        entries::same_content_paths(&self.replay, content)
    }
}

/// The explorer's opening state for an analysis.
pub fn open(analysis: Analysis, color: bool) -> State {
    let Analysis {
        report,
        replay,
        alignment,
        indexes,
    } = analysis;
    let steps = StepInfo::from_report(&report);
    let totals = Totals::from_report(&report);
    let catalog = AnalysisCatalog::new(replay, indexes);
    let mut state = State::new(steps, totals, alignment.step_of_layer, Box::new(catalog));
    state.color = color;
    state
}
