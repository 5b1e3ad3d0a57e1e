//! The verdict, the answer first: one headline, at most three findings (largest first,
//! the team's own before the base image's), one line counting the rest, one for what
//! the base image brought. Built from the steps' findings after the report knows the
//! base boundary and the Dockerfile, and drawn by every renderer from these parts.

use serde::Serialize;

use crate::explain::advice::{self, Owner, Pattern, Span, StepRef, Words};
use crate::explain::prose::{count, list_indexes};
use crate::explain::report::Report;
use crate::text::{human, percent};

/// How many findings the verdict names; the rest are counted in one line.
pub const LEADS: usize = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Conclusion {
    /// What is wasted, of how much, and what it costs every pull.
    pub headline: String,
    /// Whether the base image's steps are known (`--base`, `--base-layers`, a base
    /// found by `--base auto`, or the `--dockerfile` mapping). When they are, the
    /// findings are the team's own and the base's waste is in `inherited`.
    pub base_known: bool,
    /// At most three, largest first. Findings of one pattern are merged.
    pub findings: Vec<Lead>,
    /// The team's findings beyond the first three.
    pub smaller: Tally,
    /// Waste both added and hidden by the base image's steps.
    pub inherited: Tally,
    /// What is not waste but could go: removable caches, duplicate content.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Tally {
    pub findings: usize,
    pub bytes: u64,
}

/// One finding of the verdict: the findings of one pattern, merged over steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lead {
    pub pattern: Pattern,
    pub owner: Owner,
    pub bytes: u64,
    pub files: u64,
    /// How many of the steps' findings were merged into this one.
    pub findings: usize,
    /// The steps that added the bytes, in step order.
    pub added_by: Vec<StepRef>,
    /// The steps that hid them, in step order.
    pub hidden_by: Vec<StepRef>,
    /// The pattern in words.
    pub words: String,
    /// What to change (the largest merged finding's fix), as plain text.
    pub fix: String,
    #[serde(skip)]
    pub fix_words: Words,
}

impl Lead {
    /// `1.8 MB in 59 files`.
    pub fn size(&self) -> String {
        advice::size_and_files(self.bytes, self.files)
    }

    /// The steps, adder → hider, each named once: with its short instruction when one
    /// step is on a side, by index when several are.
    pub fn steps(&self) -> Words {
        let side = |refs: &[StepRef]| -> Vec<Span> {
            match refs {
                [one] => vec![Span::Step(one.clone())],
                many => {
                    let indexes: Vec<usize> = many.iter().map(|s| s.step).collect();
                    vec![Span::Text(list_indexes(&indexes, 3))]
                }
            }
        };
        let mut spans = side(&self.added_by);
        if self.added_by != self.hidden_by {
            spans.push(Span::Text(" → ".into()));
            spans.extend(side(&self.hidden_by));
        } else {
            spans.push(Span::Text(", within the step".into()));
        }
        Words(spans)
    }
}

impl Lead {
    /// Whether every step of this finding is among `named` (named by an earlier one).
    pub fn steps_named_in(&self, named: &[usize]) -> bool {
        self.added_by
            .iter()
            .chain(&self.hidden_by)
            .all(|s| named.contains(&s.step))
    }
}

impl Conclusion {
    /// The verdict as plain paragraphs (the JSON's `verdict`, and what a renderer with
    /// no layout of its own prints).
    pub fn paragraphs(&self) -> Vec<String> {
        let mut out = vec![self.headline.clone()];
        for lead in &self.findings {
            out.push(format!(
                "{}, {}: {}. Fix: {}",
                lead.size(),
                lead.words,
                lead.steps().plain(),
                lead.fix
            ));
        }
        out.extend(self.tail());
        out
    }

    /// The lines under the findings: the rest, the base's share, the notes.
    pub fn tail(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.smaller.findings > 0 {
            out.push(format!(
                "{}, {}: see the table.",
                count(
                    self.smaller.findings as u64,
                    "smaller finding",
                    "smaller findings"
                ),
                human(self.smaller.bytes)
            ));
        }
        if self.inherited.bytes > 0 {
            out.push(format!(
                "Inherited from the base image: {}; choose or rebuild the base to change it.",
                human(self.inherited.bytes)
            ));
        }
        out.extend(self.notes.iter().cloned());
        out
    }
}

/// Concludes a report whose findings are named (see [`Report::conclude`]).
pub(crate) fn conclude(report: &Report, base_known: bool, refs: &[StepRef]) -> Conclusion {
    let s = &report.summary;
    let headline = if s.wasted_bytes == 0 {
        format!(
            "No wasted bytes: all {} stored in the layers are visible in the final image.",
            human(s.total_bytes)
        )
    } else {
        // One line at 100 columns: the compressed share of a pull, when it is known.
        let cost = match s.wasted_pull_bytes {
            Some(pull) => format!("yet {} of every pull", human(pull)),
            None => "yet in every pull".to_string(),
        };
        format!(
            "{} of {} ({:.1}%) is wasted: hidden in the final image, {cost}.",
            human(s.wasted_bytes),
            human(s.total_bytes),
            percent(s.wasted_bytes, s.total_bytes)
        )
    };

    // Merge the findings of each pattern, the base's apart from the team's.
    struct Merged {
        lead: Lead,
        largest: u64,
        /// (adding step, bytes, owner, words, fix, fix in parts) of each finding.
        members: Vec<(usize, u64, Owner, String, String, Words)>,
    }
    let mut team: Vec<Merged> = Vec::new();
    let mut inherited = Tally::default();
    for step in &report.steps {
        for f in &step.findings {
            if f.owner == Owner::Base {
                inherited.findings += 1;
                inherited.bytes += f.bytes;
                continue;
            }
            let at = team.iter().position(|m| m.lead.pattern == f.pattern);
            let m = match at {
                Some(i) => &mut team[i],
                None => {
                    team.push(Merged {
                        lead: Lead {
                            pattern: f.pattern,
                            owner: f.owner,
                            bytes: 0,
                            files: 0,
                            findings: 0,
                            added_by: Vec::new(),
                            hidden_by: Vec::new(),
                            words: f.words.clone(),
                            fix: String::new(),
                            fix_words: Words::default(),
                        },
                        largest: 0,
                        members: Vec::new(),
                    });
                    team.last_mut().expect("just pushed")
                }
            };
            m.lead.bytes += f.bytes;
            m.lead.files += f.files;
            m.lead.findings += 1;
            for (list, step) in [
                (&mut m.lead.added_by, step.index),
                (&mut m.lead.hidden_by, f.removed_by),
            ] {
                if !list.iter().any(|r| r.step == step) {
                    if let Some(r) = refs.get(step) {
                        list.push(r.clone());
                    }
                }
            }
            m.members.push((
                step.index,
                f.bytes,
                f.owner,
                f.words.clone(),
                f.fix.clone(),
                f.fix_words.clone(),
            ));
            m.largest = m.largest.max(f.bytes);
        }
    }
    // The fix of a merged finding is that of its earliest adding step among the members
    // that matter (a quarter of the largest or more): the step where the mistake starts.
    for m in &mut team {
        let floor = m.largest / 4;
        if let Some((_, _, owner, words, fix, fix_words)) = m
            .members
            .iter()
            .filter(|x| x.1 >= floor)
            .min_by_key(|x| (x.0, std::cmp::Reverse(x.1)))
        {
            m.lead.owner = *owner;
            m.lead.words.clone_from(words);
            m.lead.fix.clone_from(fix);
            m.lead.fix_words = fix_words.clone();
        }
    }
    let mut leads: Vec<Lead> = team.into_iter().map(|m| m.lead).collect();
    for lead in &mut leads {
        lead.added_by.sort_by_key(|r| r.step);
        lead.hidden_by.sort_by_key(|r| r.step);
    }
    leads.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(a.added_by[0].step.cmp(&b.added_by[0].step))
    });
    let rest = leads.split_off(leads.len().min(LEADS));
    let smaller = Tally {
        findings: rest.iter().map(|l| l.findings).sum(),
        bytes: rest.iter().map(|l| l.bytes).sum(),
    };

    // What is not waste but could go, in one line.
    let mut could_go = Vec::new();
    let removable: u64 = report.removable.iter().map(|r| r.bytes).sum();
    if removable > 0 {
        let kinds: Vec<&str> = report.removable.iter().map(|r| r.kind.label()).collect();
        could_go.push(format!(
            "{} of {} could go",
            human(removable),
            crate::explain::prose::list_words(&kinds)
        ));
    }
    if s.duplicate_bytes > 0 {
        could_go.push(format!("{} is duplicate content", human(s.duplicate_bytes)));
    }
    let notes = if could_go.is_empty() {
        Vec::new()
    } else {
        vec![format!("Not waste: {}.", could_go.join("; "))]
    };
    Conclusion {
        headline,
        base_known,
        findings: leads,
        smaller,
        inherited,
        notes,
    }
}
