//! The lifecycle of a report: every action of the regulation as a pure function that checks the
//! actor's role, the actor's unit scope and the report's state, and returns the new report plus
//! the domain events to emit — or a typed error. No action skips a rule of the regulation.
//!
//! Order of checks (so errors are predictable): role → ownership/unit scope → state → input.
//!
//! One room per concern: [`command`] (what clients send), [`policy`] (who, from which state),
//! [`validation`] (the input), [`timeline`] (the hash chain), [`submit`] and [`apply`] (the
//! changes), [`assignment`] (units and deadlines), [`escalation`] (deadline thresholds).

mod apply;
mod assignment;
mod command;
mod deferral;
mod escalation;
mod policy;
mod reopen;
pub mod share;
mod submit;
mod timeline;
mod validation;
pub mod waiting;

pub use apply::apply;
pub use assignment::auto_assign_target;
pub use command::{Command, NewReport};
pub use escalation::{due_thresholds, next_escalation_at, threshold_key};
pub use policy::{
    allowed_roles, allowed_states, authorize, available_actions, can_view, REPORT_ACTIONS,
};
pub use reopen::within_reopen_window;
pub use submit::submit;
pub use timeline::{append, Entry};
pub use validation::{MAX_ATTACHMENTS, MAX_NOTE, MAX_REPORT_ATTACHMENTS, MAX_TEXT, MAX_TITLE};

use crate::model::{EventEnvelope, Report};

/// The new report and the events to emit with it (stored atomically by the report store).
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub report: Report,
    pub events: Vec<EventEnvelope>,
}
