//! Renderers: each turns the report model ([`crate::explain::report`]) into a table,
//! JSON, markdown, HTML, SARIF, annotations or GitLab code quality, writing to any `Write`.
//! Nothing here decides what a figure or a finding is.

pub mod codeclimate;
pub mod diff;
pub mod explore;
pub mod fleet;
pub mod github;
pub mod html;
pub mod json;
pub mod markdown;
pub mod sarif;
pub mod table;

#[cfg(test)]
mod tests;

pub use crate::explain::report::*;

/// A way to write a report. Every format implements it, so the binary picks one and
/// never branches on the format again.
pub trait Render<Doc: ?Sized = Report> {
    fn render(&self, doc: &Doc, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}
