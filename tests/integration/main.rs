//! All integration tests, built as one binary (faster to link, one place to look).

mod analyze;
mod architecture;
mod bench;
mod build;
mod common;
mod dockerfile;
mod explain;
mod explore;
mod formats;
mod gate;
mod hostile;
mod packaging;
mod readme;
mod schema;
mod sources;
