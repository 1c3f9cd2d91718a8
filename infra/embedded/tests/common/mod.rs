//! The embedded adapter tests' builders: the shared fixtures of `phananh-testkit`, plus `bump`.
#![allow(dead_code, unused_imports)]

pub use phananh_testkit::fixtures::{at, event, report, submitted, t0, TempDir};
use phananh_core::model::Report;

/// The next version of `r` with a changed title (what a store update writes).
pub fn bump(r: &Report) -> Report {
    let mut n = r.clone();
    n.version += 1;
    n.title = format!("{} (v{})", r.title, n.version);
    n
}
