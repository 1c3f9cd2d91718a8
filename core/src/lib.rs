//! phananh core: the pure domain of the field-report system.
//!
//! Knows nothing of AWS, HTTP, SQLite or async runtimes. Rules of the regulation
//! (Quyết định 3403/QĐ-UBND, Lai Châu, 30/12/2022) are named by article in comments (`Đ.n`).
//!
//! Where things live:
//! - [`lifecycle`]: the rules themselves: who may do what from which state, every action as a
//!   pure function, the hash-chained timeline, deadline thresholds.
//! - [`app`]: the use cases the HTTP layer, queue consumers, timers and CLI call, through ports.
//! - [`city`] and [`deadlines`]: a city's values (config, calendar, time zone) and the deadline
//!   arithmetic on them; [`config`] loads and validates the values, [`calendar`] is the working
//!   calendar.
//! - [`screening`], [`routing`], [`text`]: out-of-scope and abusive-language checks, category
//!   hints, wards and units, and the diacritic-insensitive text folding they share.
//! - [`model`], [`ids`], [`contact`]: the report and its vocabulary; identifiers and contacts
//!   parsed once at the edge.
//! - [`views`]: what the public, the reporter and staff may see of a report; [`tracking`]:
//!   the capability of a tracking link (no account) and what its holder sees.
//! - [`ports`]: the small traits the adapters implement; [`media`]: file type sniffing.

pub mod aggregates;
pub mod app;
pub mod audit;
pub mod calendar;
pub mod city;
pub mod config;
pub mod contact;
pub mod deadlines;
pub mod delivery;
pub mod error;
pub mod geohash;
pub mod idp_mfa;
pub mod ids;
pub mod imaging;
pub mod lifecycle;
pub mod media;
pub mod model;
pub mod pii;
pub mod ports;
pub mod redact;
pub mod routing;
pub mod screening;
pub mod slots;
pub mod text;
pub mod totp;
pub mod tracking;
pub mod views;

pub use app::App;
pub use city::CityRules;
pub use deadlines::DeadlineRule;
pub use error::DomainError;
