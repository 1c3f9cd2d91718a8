//! Assignment to a lead unit and coordinating units (Đ.7.2, Đ.7.4): the deadline is fixed when
//! the unit receives the report, under the category's rule at that moment; and automatic
//! assignment where the city's config allows it.

use super::validation::known_unit;
use crate::city::CityRules;
use crate::deadlines::DeadlineRule;
use crate::error::DomainError;
use crate::model::*;
use crate::routing;
use chrono::{DateTime, Utc};
use State::*;

pub(super) fn make_assignment(
    r: &Report,
    lead_unit: UnitId,
    coordinating_units: Vec<UnitId>,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &CityRules,
) -> Result<Assignment, DomainError> {
    known_unit(rules, "lead_unit", &lead_unit)?;
    let mut coordinating = Vec::new();
    for u in coordinating_units {
        known_unit(rules, "coordinating_units", &u)?;
        if u != lead_unit && !coordinating.contains(&u) {
            coordinating.push(u);
        }
    }
    let rule = deadline_rule(rules, &r.category)?;
    // Đ.7.4: the clock starts when the unit receives the report from the IOC.
    Ok(Assignment {
        due_at: rules.due_at(rule, now),
        clock: rule.clock,
        deadline_minutes: rule.minutes,
        lead_unit,
        coordinating_units: coordinating,
        assigned_at: now,
        assigned_by: actor.id.clone(),
    })
}

pub(super) fn deadline_rule(
    rules: &CityRules,
    category: &str,
) -> Result<DeadlineRule, DomainError> {
    rules.deadline(category).ok_or_else(|| {
        DomainError::invalid(
            "category",
            format!("lĩnh vực “{category}” chưa có thời hạn xử lý"),
        )
    })
}

/// What an assignment records: the timeline entry's data and the event that tells the units.
pub(super) fn assignment_record(a: &Assignment) -> (serde_json::Value, DomainEvent) {
    let data = serde_json::json!({
        "lead_unit": a.lead_unit,
        "coordinating_units": a.coordinating_units,
        "due_at": a.due_at,
    });
    let event = DomainEvent::ReportAssigned {
        lead_unit: a.lead_unit.clone(),
        coordinating_units: a.coordinating_units.clone(),
        due_at: a.due_at,
    };
    (data, event)
}

pub(super) fn set_assignment(r: &mut Report, a: Assignment) {
    r.assignment = Some(a);
    r.state = Assigned;
    r.escalation = EscalationState::default();
}

/// The unit a screened report may be auto-assigned to, when config allows
/// (`auto_assign_min_confidence` > 0 and the suggestion agrees with the reporter's category).
pub fn auto_assign_target(r: &Report, rules: &CityRules) -> Option<routing::Route> {
    let min = rules.config.city.auto_assign_min_confidence;
    if min <= 0.0 || r.flags.abusive || !r.flags.possible_duplicates.is_empty() {
        return None;
    }
    let s = r.flags.suggestion.as_ref()?;
    if s.category != r.category || s.confidence < min {
        return None;
    }
    let route = routing::route(&rules.config, &r.category, r.ward.as_deref());
    route.lead_unit.is_some().then_some(route)
}
