//! The report model: what a field report is, who acts on it, and its append-only timeline.
//!
//! Instants are stored in UTC (`DateTime<Utc>`); local time (Asia/Ho_Chi_Minh by default) is a
//! presentation concern handled through the configured calendar.

mod actor;
mod event;
mod notification;
mod notify_facts;
mod report;
mod state;
mod timeline;

pub use actor::*;
pub use event::*;
pub use notification::*;
pub use notify_facts::*;
pub use report::*;
pub use state::*;
pub use timeline::*;

pub type UnitId = String;
pub type WardId = String;
pub type CategoryCode = String;
pub type AccountId = String;
