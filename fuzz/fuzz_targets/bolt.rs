//! containerd's meta.db reader on fuzz data: `bolt::Db::from_bytes`, then the image
//! catalog and a walk of every bucket. Ok or Err, never a panic, a hang or an
//! allocation that follows a number in the file rather than the file's size.
#![no_main]

use libfuzzer_sys::fuzz_target;
use layerwaste::source::containerd::{bolt, catalog_from_db};

fn walk(db: &bolt::Db, bucket: bolt::Bucket<'_>, depth: usize, budget: &mut usize) {
    if depth > 8 {
        return;
    }
    let _ = db.for_each(bucket, &mut |key, item| {
        *budget = budget.saturating_sub(1);
        if *budget == 0 {
            return Err(bolt::BoltError("budget".into()));
        }
        if let bolt::Item::Bucket(sub) = item {
            let _ = db.get(bucket, key);
            walk(db, sub, depth + 1, budget);
        }
        Ok(())
    });
}

fuzz_target!(|data: &[u8]| {
    let Ok(db) = bolt::Db::from_bytes(data.to_vec()) else {
        return;
    };
    let _ = catalog_from_db(&db);
    let mut budget = 100_000;
    walk(&db, db.root(), 0, &mut budget);
});
