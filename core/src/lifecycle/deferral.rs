//! Đ.7.5: "Trường hợp chưa thể giải quyết thì phòng ban, đơn vị liên quan báo cáo UBND Thành
//! phố Lai Châu, nguyên nhân và dự kiến thời gian giải quyết." The unit reports (`defer`); the
//! city decides (`decide_deferral`, a leader or the IOC head):
//!
//! - accepted: the report gets a target date, the unit's expected date unless the decider sets
//!   another (the city follows the case and may direct it, Đ.7.3), never in the past. The
//!   target is shown beside the regulated deadline; the regulated deadline is not changed and
//!   still decides "on time" in the statistics (Đ.7.4). The "past the expected date" timer
//!   follows the target from then on (`waiting`), a new occurrence keyed by this decision.
//! - refused: with a reason; the report goes back to handling (`in_progress`) under the
//!   regulated deadline, whose escalation thresholds run again.
//!
//! Either way the decision is a timeline entry and the unit is told; the reporter is told of
//! an accepted target (docs/decisions/deferral-decision.md).

use super::timeline::Entry;
use super::validation::*;
use crate::city::CityRules;
use crate::error::DomainError;
use crate::model::*;
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;

/// The decider's input (`Command::DecideDeferral`).
pub(super) struct Decision {
    pub accept: bool,
    pub target_date: Option<NaiveDate>,
    pub note: Option<String>,
}

/// Records the decision on the report's pending deferral (role and state checked before).
pub(super) fn decide(
    r: &mut Report,
    entry: &mut Entry<'_>,
    d: Decision,
    now: DateTime<Utc>,
    rules: &CityRules,
) -> Result<DomainEvent, DomainError> {
    let state = r.state;
    let Some(deferral) = r.deferral.as_mut().filter(|x| x.decision.is_none()) else {
        return Err(DomainError::InvalidState {
            state,
            action: Action::DecideDeferral,
        });
    };
    let role = entry.actor.role;
    let unit = r
        .assignment
        .as_ref()
        .map(|a| a.lead_unit.clone())
        .unwrap_or_default();
    // Decisions are the city's internal follow-up: the reporter learns an accepted target
    // from their update and their view, never the decider's note.
    entry.visible_to_reporter = false;
    if d.accept {
        entry.note = optional_text("note", &d.note, MAX_NOTE)?;
        let target = d.target_date.unwrap_or(deferral.expected_date);
        if target < rules.local(now).date_naive() {
            let message = if d.target_date.is_some() {
                "ngày giải quyết mới không được ở quá khứ"
            } else {
                "ngày dự kiến của đơn vị đã qua; hãy đặt ngày giải quyết mới"
            };
            return Err(DomainError::invalid("target_date", message));
        }
        entry.data = json!({
            "accepted": true,
            "expected_date": deferral.expected_date,
            "target_date": target,
        });
        deferral.decision = Some(DeferralDecision {
            accepted: true,
            target_date: Some(target),
            role,
            decided_at: now,
        });
        Ok(DomainEvent::DeferralDecided {
            unit,
            accepted: true,
            target_date: Some(target),
        })
    } else {
        if d.target_date.is_some() {
            return Err(DomainError::invalid(
                "target_date",
                "chỉ đặt ngày giải quyết mới khi chấp nhận đề nghị gia hạn",
            ));
        }
        // The unit must know why it handles the case again.
        let reason = d.note.as_deref().unwrap_or_default();
        entry.note = Some(required_text("note", reason, MAX_NOTE)?);
        entry.data = json!({
            "accepted": false,
            "expected_date": deferral.expected_date,
        });
        deferral.decision = Some(DeferralDecision {
            accepted: false,
            target_date: None,
            role,
            decided_at: now,
        });
        // The unit handles it again; its clock (and the regulated deadline) runs again.
        r.state = State::InProgress;
        Ok(DomainEvent::DeferralDecided {
            unit,
            accepted: false,
            target_date: None,
        })
    }
}
