//! `--format json`: the report as one JSON document, the API that CI scripts read.
//! Its schema is documented in docs/json.md.

use std::io::Write;

use super::{Render, Report};

pub struct Json;

impl Render for Json {
    fn render(&self, report: &Report, out: &mut dyn Write) -> std::io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, report)?;
        out.write_all(b"\n")
    }
}
