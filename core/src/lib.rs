//! phananh core: the pure domain of the field-report system.
//!
//! Knows nothing of AWS, HTTP, SQLite or async runtimes. Rules of the regulation
//! (Quyết định 3403/QĐ-UBND, Lai Châu, 30/12/2022) are named by article in comments (`Đ.n`).

pub mod calendar;
pub mod config;
pub mod error;
pub mod lifecycle;
pub mod media;
pub mod memory;
pub mod model;
pub mod ports;
pub mod routing;
pub mod rules;
pub mod screening;
pub mod service;
pub mod text;
pub mod views;

pub use error::DomainError;
pub use rules::{DeadlineRule, Rules};
