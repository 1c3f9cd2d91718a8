//! Shared test support: contract suites for every port (run against the in-memory fakes, the
//! embedded and the AWS adapters) and helpers that start the local AWS-API emulator.
//! Fixtures and fakes live in `phananh-testkit`, re-exported here for the suites.
pub mod capacity;
pub mod contract;
pub mod moto;
pub mod pipeline;
pub mod stream_tap;
pub mod upload;

pub use phananh_testkit::fixtures;
