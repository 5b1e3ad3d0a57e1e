//! The outer archive reader and the layout parser: index a tar's members from bytes,
//! then read the image's documents (manifest.json, index.json, manifests, config) into
//! a plan. Any input must end in Ok or Err, never a panic, hang or huge allocation.
#![no_main]

use std::collections::HashMap;
use std::io::Cursor;

use libfuzzer_sys::fuzz_target;
use layerwaste::source::layout::{plan, PlanOptions};
use layerwaste::source::store::{index_members, Member, MemoryBlobs};

fuzz_target!(|data: &[u8]| {
    let Ok(members) = index_members("fuzz", Cursor::new(data), data.len() as u64) else {
        return;
    };
    let mut blobs = MemoryBlobs {
        name: "fuzz".into(),
        ..Default::default()
    };
    let mut documents = HashMap::new();
    for (name, member) in members {
        match member {
            Member::Data { offset, len } => {
                // index_members checked that every member lies inside the archive.
                let start = offset as usize;
                let bytes = &data[start..start + len as usize];
                documents.insert(name, bytes.to_vec());
            }
            Member::Link { target } => {
                blobs.links.insert(name, target);
            }
            Member::Dir => {}
        }
    }
    blobs.documents = documents;
    let options = PlanOptions {
        max_metadata_bytes: 1 << 20,
        ..Default::default()
    };
    let _ = plan(&blobs, &options);
});
