//! All integration tests, built as one binary (faster to link, one place to look).

mod analyze;
mod common;
mod explain;
mod formats;
mod readme;
