//! What the IOC sees before it decides (Đ.7.2): the unit routing proposes for a report and the
//! deadline an assignment made now would get (Đ.7.4), computed by the same functions the
//! assignment itself uses, so the page never shows a different deadline than the one set.

use super::App;
use crate::model::{Report, UnitId};
use crate::routing;
use chrono::{DateTime, Utc};
use serde::Serialize;

/// A proposed assignment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Proposal {
    pub lead_unit: Option<UnitId>,
    pub coordinating_units: Vec<UnitId>,
    /// Why (Vietnamese, for the IOC).
    pub reason: String,
    /// When the deadline would fall if assigned now; None for a category without a deadline.
    pub due_at: Option<DateTime<Utc>>,
}

impl App {
    /// The unit routing proposes for `report` (in its current category and ward) and the
    /// deadline an assignment made now would get.
    pub fn propose_assignment(&self, report: &Report) -> Proposal {
        let route = routing::route(&self.rules.config, &report.category, report.ward.as_deref());
        Proposal {
            lead_unit: route.lead_unit,
            coordinating_units: route.coordinating_units,
            reason: route.reason,
            due_at: self.deadline_if_assigned_now(&report.category),
        }
    }

    /// When the deadline of `category` would fall for an assignment made now (Đ.7.4: the
    /// clock starts when the unit receives the report).
    pub fn deadline_if_assigned_now(&self, category: &str) -> Option<DateTime<Utc>> {
        let rule = self.rules.deadline(category)?;
        Some(self.rules.due_at(rule, self.now()))
    }
}
