//! The deadline arithmetic of Đ.7.4 on a city's calendar.
//!
//! Clock-hour deadlines ("02 giờ", "04 giờ") run 24/7 as plain UTC arithmetic; working-hour
//! deadlines ("08 giờ làm việc", Đ.7.4.a) count only the working calendar.

use crate::city::CityRules;
use crate::model::ClockKind;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// A deadline: its length in minutes and the clock it runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineRule {
    pub clock: ClockKind,
    pub minutes: u32,
}

impl CityRules {
    /// The deadline of a category. `None` for an unknown category, and for a category whose
    /// local policy sets no deadline (then the IOC head sets one per report).
    pub fn deadline(&self, category: &str) -> Option<DeadlineRule> {
        let c = self.config.category(category)?;
        let hours = c.deadline_hours?;
        let clock = c.clock?;
        let minutes = (hours * 60.0).round();
        if !(minutes >= 1.0 && minutes <= f64::from(u32::MAX)) {
            return None;
        }
        Some(DeadlineRule {
            clock,
            minutes: minutes as u32,
        })
    }

    /// The instant `fraction` of the deadline has elapsed, counted from `start` on the rule's
    /// clock. A fraction ≤ 0 gives `start`.
    pub fn instant_at_fraction(
        &self,
        rule: DeadlineRule,
        start: DateTime<Utc>,
        fraction: f64,
    ) -> DateTime<Utc> {
        let secs = f64::from(rule.minutes) * 60.0 * fraction;
        if !secs.is_finite() || secs <= 0.0 {
            return start;
        }
        // Bounded: at most 1.5e9 s (about 47 years) past the start.
        let secs = secs.round().min(1.5e9) as i64;
        match rule.clock {
            ClockKind::ClockHours => start + Duration::seconds(secs),
            ClockKind::WorkingHours => match self.calendar.add_working_seconds(start, secs) {
                Ok(t) => t,
                Err(e) => {
                    // Validation refuses calendars without working time, so this needs a year of
                    // holidays beyond the configured years. Saturate rather than fail a deadline.
                    tracing::error!(error = %e, %start, "working calendar exhausted; deadline saturated");
                    start + Duration::days(i64::from(crate::calendar::MAX_IDLE_DAYS))
                }
            },
        }
    }

    /// When a deadline counted from `start` falls due.
    pub fn due_at(&self, rule: DeadlineRule, start: DateTime<Utc>) -> DateTime<Utc> {
        self.instant_at_fraction(rule, start, 1.0)
    }

    /// Seconds of the rule's clock in `[a, b)`, negative when `b` < `a`.
    fn clock_seconds(&self, rule: DeadlineRule, a: DateTime<Utc>, b: DateTime<Utc>) -> i64 {
        match rule.clock {
            ClockKind::ClockHours => (b - a).num_seconds(),
            ClockKind::WorkingHours => self.calendar.working_seconds_between(a, b),
        }
    }

    /// Share of the deadline used at `now` (0 before the start, 1.0 at the due instant, above 1
    /// when overdue), on the rule's clock.
    pub fn elapsed_fraction(
        &self,
        rule: DeadlineRule,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> f64 {
        if now <= start {
            return 0.0;
        }
        if rule.minutes == 0 {
            return 1.0;
        }
        let used = self.clock_seconds(rule, start, now).max(0);
        used as f64 / (f64::from(rule.minutes) * 60.0)
    }

    /// Minutes left until the due instant on the rule's clock (whole minutes, rounded down).
    /// Negative exactly when `now` is past the due instant: then minus the overdue time on the
    /// rule's clock, rounded up, and at least 1 (so 18:00 after a 17:30 working-hours due is -1).
    pub fn remaining_minutes(
        &self,
        rule: DeadlineRule,
        start: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> i64 {
        let due = self.due_at(rule, start);
        if now <= due {
            self.clock_seconds(rule, now, due) / 60
        } else {
            let over = self.clock_seconds(rule, due, now);
            -((over + 59) / 60).max(1)
        }
    }
}

impl crate::model::Assignment {
    /// The deadline rule this assignment was made under (kept on the assignment, so a later
    /// config change does not move a running deadline).
    pub fn deadline_rule(&self) -> DeadlineRule {
        DeadlineRule {
            clock: self.clock,
            minutes: self.deadline_minutes,
        }
    }
}
