//! containerd's gRPC API (stub until the client lands).
use crate::error::{Error, Result};
use crate::source::layout::PlanOptions;
use crate::source::{LayeredImage, SourceOptions};

pub fn open(
    spec: &str,
    _name: &str,
    _options: &PlanOptions,
    _sources: &SourceOptions,
) -> Result<LayeredImage> {
    Err(Error::Usage(format!("{spec}: not yet")))
}
