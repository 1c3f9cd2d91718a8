//! Test support for every crate of the workspace, in one place so no test file re-declares
//! it: [`fakes`] (in-memory ports), [`fixtures`] (reports, events and accounts built through
//! the lifecycle's public functions, never a copy of its logic), [`actors`] (the usual people
//! of the regulation), [`smtp`] (a local SMTP server), [`app`] (an [`phananh_core::App`] on fakes),
//! [`samples`] (media files made on the fly) and [`TempDir`].
//!
//! Test code only: no runtime crate depends on it.

pub mod actors;
pub mod app;
pub mod fakes;
pub mod fixtures;
pub mod samples;
pub mod smtp;

pub use fixtures::TempDir;
