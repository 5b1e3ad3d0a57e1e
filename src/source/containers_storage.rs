//! containers/storage (stub).
use crate::error::{Error, Result};
use crate::source::layout::PlanOptions;
use crate::source::LayeredImage;
use std::path::Path;

pub fn open(
    spec: &str,
    _rest: &str,
    _root: Option<&Path>,
    _options: &PlanOptions,
) -> Result<LayeredImage> {
    Err(Error::Usage(format!("{spec}: not yet")))
}
