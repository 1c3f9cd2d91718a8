//! Deadline thresholds (Notifications rule: unit head, then IOC, then leadership): which are due,
//! when the next falls, and their stable keys so each is sent exactly once.

use crate::city::CityRules;
use crate::model::*;
use chrono::{DateTime, Utc};

/// The thresholds not yet sent for the current assignment: (key, level, instant), in config
/// order. Empty when the unit's clock is not running (Đ.7.5: a deferral stops it).
fn unsent_thresholds(
    r: &Report,
    rules: &CityRules,
) -> Vec<(String, EscalationLevel, DateTime<Utc>)> {
    let Some(a) = r
        .assignment
        .as_ref()
        .filter(|_| r.state.unit_clock_running())
    else {
        return Vec::new();
    };
    let rule = a.deadline_rule();
    rules
        .config
        .city
        .escalation
        .iter()
        .map(|t| (threshold_key(t.fraction), t))
        .filter(|(k, _)| !r.escalation.sent.contains(k))
        .map(|(k, t)| {
            let at = rules.instant_at_fraction(rule, a.assigned_at, t.fraction);
            (k, t.level, at)
        })
        .collect()
}

/// Thresholds (key, level) reached at `now` and not yet sent, in order.
pub fn due_thresholds(
    r: &Report,
    rules: &CityRules,
    now: DateTime<Utc>,
) -> Vec<(String, EscalationLevel)> {
    unsent_thresholds(r, rules)
        .into_iter()
        .filter(|(_, _, at)| *at <= now)
        .map(|(k, level, _)| (k, level))
        .collect()
}

/// Stable key of a threshold fraction: percent, e.g. 0.75 → "75".
pub fn threshold_key(fraction: f64) -> String {
    format!("{}", (fraction * 100.0).round() as i64)
}

/// When the next unsent threshold falls due: the unit's deadline thresholds while its clock
/// runs, the waiting timer of a waiting state (`waiting`); None when nothing is pending. This
/// instant is what the stores index, so the sweep reads only what is due.
pub fn next_escalation_at(r: &Report, rules: &CityRules) -> Option<DateTime<Utc>> {
    unsent_thresholds(r, rules)
        .into_iter()
        .map(|(_, _, at)| at)
        .chain(super::waiting::unsent_waiting_timer(r, rules).map(|(_, _, at)| at))
        .min()
}
