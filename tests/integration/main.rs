//! All integration tests, built as one binary (faster to link, one place to look).

mod analyze;
mod bench;
mod common;
mod explain;
mod readme;
