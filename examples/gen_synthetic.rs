//! Writes a synthetic docker-archive with a given number of tar entries, for the
//! scaling curve of the benchmark (scripts/bench.sh). Deterministic: the same
//! arguments give the same bytes.
//!
//! `cargo run --release --example gen_synthetic -- OUT.tar ENTRIES`
//!
//! Four layers, like a small build: a base (60% of the entries: directories of 64
//! small files), an install step (20%: new files, plus same-size overwrites of every
//! 20th base file and metadata-only copies of every 20th+1), a cleanup step (15%:
//! whiteouts of every 10th base file, opaque whiteouts of every 50th base directory,
//! new files) and a top step (the rest). File sizes are 0–1,199 bytes, so the archive
//! is about 1 KB per entry and the walk, not the disk, is what gets measured.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use sha2::{Digest, Sha256};

const FILES_PER_DIR: u64 = 64;

struct Layer {
    out: tar::Builder<HashingWriter<BufWriter<File>>>,
    entries: u64,
}

struct HashingWriter<W> {
    inner: W,
    hash: Sha256,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl Layer {
    fn create(path: &Path) -> io::Result<Layer> {
        let inner = BufWriter::with_capacity(1 << 20, File::create(path)?);
        Ok(Layer {
            out: tar::Builder::new(HashingWriter {
                inner,
                hash: Sha256::new(),
            }),
            entries: 0,
        })
    }

    fn dir(&mut self, path: &str) -> io::Result<()> {
        let mut h = header(tar::EntryType::Directory, 0o755, 0);
        self.entries += 1;
        self.out.append_data(&mut h, path, io::empty())
    }

    fn file(&mut self, path: &str, size: u64, seed: u64, mode: u32) -> io::Result<()> {
        let mut h = header(tar::EntryType::Regular, mode, size);
        let data: Vec<u8> = (0..size)
            .map(|i| (seed.wrapping_mul(31).wrapping_add(i) % 251) as u8)
            .collect();
        self.entries += 1;
        self.out.append_data(&mut h, path, &data[..])
    }

    fn whiteout(&mut self, path: &str) -> io::Result<()> {
        let mut h = header(tar::EntryType::Regular, 0o644, 0);
        self.entries += 1;
        self.out.append_data(&mut h, path, io::empty())
    }

    /// Ends the tar and returns its diff ID.
    fn finish(self) -> io::Result<String> {
        let mut w = self.out.into_inner()?;
        w.flush()?;
        Ok(layerwaste::source::digest_string(
            "sha256",
            &w.hash.finalize(),
        ))
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// A deterministic size in 0..1200 for file `n`.
fn size_of(n: u64) -> u64 {
    n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17) % 1200
}

fn base_path(n: u64) -> (String, String) {
    let dir = format!("usr/share/pkg{:06}", n / FILES_PER_DIR);
    let file = format!("{dir}/file{:02}.dat", n % FILES_PER_DIR);
    (dir, file)
}

/// Adds `count` entries of new files (and their directories) under `prefix`.
fn add_new(layer: &mut Layer, prefix: &str, count: u64, seed: u64) -> io::Result<()> {
    let start = layer.entries;
    let mut n = 0;
    while layer.entries - start < count {
        if n % FILES_PER_DIR == 0 {
            layer.dir(&format!("{prefix}/d{:06}", n / FILES_PER_DIR))?;
        } else {
            let path = format!(
                "{prefix}/d{:06}/f{:02}",
                n / FILES_PER_DIR,
                n % FILES_PER_DIR
            );
            layer.file(&path, size_of(n + seed), n + seed, 0o644)?;
        }
        n += 1;
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(out), Some(entries)) = (args.next(), args.next()) else {
        eprintln!("usage: gen_synthetic OUT.tar ENTRIES");
        std::process::exit(2);
    };
    let entries: u64 = entries.parse().expect("ENTRIES is a number");
    let out = Path::new(&out);
    let work = out.with_extension("layers");
    std::fs::create_dir_all(&work)?;

    let mut diff_ids = Vec::new();
    let mut names = Vec::new();
    let mut history = Vec::new();

    // Layer 0: the base.
    let base_files = entries * 60 / 100 * FILES_PER_DIR / (FILES_PER_DIR + 1);
    let path = work.join("0.tar");
    let mut l = Layer::create(&path)?;
    l.dir("usr")?;
    l.dir("usr/share")?;
    for n in 0..base_files {
        let (dir, file) = base_path(n);
        if n % FILES_PER_DIR == 0 {
            l.dir(&dir)?;
        }
        l.file(&file, size_of(n), n, 0o644)?;
    }
    diff_ids.push(l.finish()?);
    names.push(path);
    history.push("ADD base.tar /");

    // Layer 1: install, overwrite, chmod.
    let path = work.join("1.tar");
    let mut l = Layer::create(&path)?;
    for n in (0..base_files).step_by(20) {
        let (_, file) = base_path(n);
        l.file(&file, size_of(n), n + 1_000_000_007, 0o644)?;
        if n + 1 < base_files {
            let (_, file) = base_path(n + 1);
            l.file(&file, size_of(n + 1), n + 1, 0o600)?;
        }
    }
    let rest = (entries * 20 / 100).saturating_sub(l.entries);
    add_new(&mut l, "opt/app", rest, 7)?;
    diff_ids.push(l.finish()?);
    names.push(path);
    history.push("RUN install && chmod");

    // Layer 2: cleanup.
    let path = work.join("2.tar");
    let mut l = Layer::create(&path)?;
    for n in (0..base_files).step_by(10) {
        let (dir, _) = base_path(n);
        l.whiteout(&format!("{dir}/.wh.file{:02}.dat", n % FILES_PER_DIR))?;
    }
    for d in (0..base_files / FILES_PER_DIR).step_by(50) {
        l.whiteout(&format!("usr/share/pkg{d:06}/.wh..wh..opq"))?;
    }
    let rest = (entries * 15 / 100).saturating_sub(l.entries);
    add_new(&mut l, "var/cache", rest, 13)?;
    diff_ids.push(l.finish()?);
    names.push(path);
    history.push("RUN rm -rf …");

    // Layer 3: the rest.
    let path = work.join("3.tar");
    let mut l = Layer::create(&path)?;
    let rest = entries.saturating_sub(entries * 95 / 100);
    add_new(&mut l, "srv/top", rest.max(1), 29)?;
    diff_ids.push(l.finish()?);
    names.push(path);
    history.push("COPY . /srv");

    let config = serde_json::json!({
        "created": "1970-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {},
        "rootfs": { "type": "layers", "diff_ids": diff_ids },
        "history": history.iter().map(|h| serde_json::json!({
            "created": "1970-01-01T00:00:00Z",
            "created_by": h,
        })).collect::<Vec<_>>(),
    });
    let config = serde_json::to_vec(&config)?;
    let config_name = format!(
        "{}.json",
        &layerwaste::source::digest_string("sha256", &Sha256::digest(&config))[7..]
    );
    let layer_names: Vec<String> = (0..names.len()).map(|i| format!("{i}/layer.tar")).collect();
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": config_name,
        "RepoTags": [format!("synthetic:{entries}")],
        "Layers": layer_names,
    }]))?;

    let mut outer = tar::Builder::new(BufWriter::with_capacity(1 << 20, File::create(out)?));
    let small = |outer: &mut tar::Builder<_>, name: &str, bytes: &[u8]| {
        let mut h = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
        outer.append_data(&mut h, name, bytes)
    };
    small(&mut outer, &config_name, &config)?;
    for (path, name) in names.iter().zip(&layer_names) {
        let mut f = File::open(path)?;
        let mut h = header(tar::EntryType::Regular, 0o644, f.metadata()?.len());
        outer.append_data(&mut h, name, &mut f)?;
    }
    small(&mut outer, "manifest.json", &manifest)?;
    outer.into_inner()?.flush()?;
    std::fs::remove_dir_all(&work)?;
    Ok(())
}
