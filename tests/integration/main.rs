//! All integration tests, built as one binary (faster to link, one place to look).

mod action;
mod analyze;
mod architecture;
mod article;
mod base_auto;
mod bench;
mod build;
mod codeclimate;
mod common;
mod containerfile;
mod dockerfile;
mod dockerfile_forms;
mod explain;
mod explore;
mod formats;
mod gate;
mod hostile;
mod html;
mod manual;
mod packaging;
mod patterns;
mod readme;
mod scan;
mod schema;
mod sources;
mod stores;
