//! Shared test support: contract suites for every port (run against the embedded and the AWS
//! adapters), fixtures, and helpers that start the local AWS-API emulator.
pub mod contract;
pub mod fixtures;
pub mod moto;
