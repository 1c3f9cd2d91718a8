//! Timers on the states where a report waits for someone other than the handling unit
//! (issue 13): each state's wait has a length in the city's config (`[waiting]` of city.toml)
//! and alerts once per occurrence of the state, keyed by the timeline entry that entered it,
//! so leaving and re-entering the state starts a new timer and a redelivered sweep sends
//! nothing twice. The unit's own deadline thresholds are in `escalation`.

use crate::city::CityRules;
use crate::deadlines::DeadlineRule;
use crate::model::*;
use chrono::{DateTime, Days, Utc};

/// A waiting state's timer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WaitTimer {
    /// Đ.7.2: new or screened, not yet assigned by the IOC head.
    Triage,
    /// Đ.7.2: referred to the leadership, no decision yet.
    Referral,
    /// Đ.9.2: returned by a unit, not yet reassigned by the office.
    Returned,
    /// Đ.8.1: resolved, not yet published by the IOC.
    Publication,
    /// Đ.7.5: deferred, and the expected date has passed.
    DeferralOverdue,
}

impl WaitTimer {
    pub const ALL: [WaitTimer; 5] = [
        WaitTimer::Triage,
        WaitTimer::Referral,
        WaitTimer::Returned,
        WaitTimer::Publication,
        WaitTimer::DeferralOverdue,
    ];

    /// The stable name in threshold keys (`wait.<name>.<seq>`).
    pub fn as_str(self) -> &'static str {
        match self {
            WaitTimer::Triage => "triage",
            WaitTimer::Referral => "referral",
            WaitTimer::Returned => "returned",
            WaitTimer::Publication => "publication",
            WaitTimer::DeferralOverdue => "deferral_overdue",
        }
    }

    /// The timer of a threshold key, when it is a waiting timer's.
    pub fn of_key(key: &str) -> Option<WaitTimer> {
        let rest = key.strip_prefix(KEY_PREFIX)?;
        let name = rest.rsplit_once('.').map_or(rest, |(n, _)| n);
        WaitTimer::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The states one occurrence of this wait spans.
    fn states(self) -> &'static [State] {
        match self {
            WaitTimer::Triage => &[State::Submitted, State::Screened],
            WaitTimer::Referral => &[State::Referred],
            WaitTimer::Returned => &[State::Returned],
            WaitTimer::Publication => &[State::Resolved],
            WaitTimer::DeferralOverdue => &[State::Deferred],
        }
    }

    /// The level recorded on the escalation event (who answers for the wait).
    pub fn level(self) -> EscalationLevel {
        match self {
            WaitTimer::Triage | WaitTimer::Publication | WaitTimer::Returned => {
                EscalationLevel::Ioc
            }
            WaitTimer::Referral => EscalationLevel::Leadership,
            WaitTimer::DeferralOverdue => EscalationLevel::UnitHead,
        }
    }
}

/// Threshold keys of waiting timers start with this.
pub const KEY_PREFIX: &str = "wait.";

/// The timer of the report's state, if any.
fn timer_of(state: State) -> Option<WaitTimer> {
    WaitTimer::ALL
        .into_iter()
        .find(|t| t.states().contains(&state))
}

/// When and by which timeline entry the report entered its current wait (the last entry into
/// the wait's states from outside them; the creation for a new report).
fn entered(r: &Report, timer: WaitTimer) -> Option<(u32, DateTime<Utc>)> {
    let states = timer.states();
    r.timeline
        .iter()
        .rev()
        .find(|e| {
            let entering = e.from_state.is_none_or(|f| !states.contains(&f));
            // Đ.7.5: an accepted deferral starts a new wait, for its target date.
            let retargeted = timer == WaitTimer::DeferralOverdue
                && e.action == Action::DecideDeferral
                && e.to_state == State::Deferred;
            states.contains(&e.to_state) && (entering || retargeted)
        })
        .map(|e| (e.seq, e.at))
}

/// The waiting timer of the report's current state: (key, timer, due instant). None when the
/// state has no timer or the city turned it off.
pub fn waiting_timer(r: &Report, rules: &CityRules) -> Option<(String, WaitTimer, DateTime<Utc>)> {
    let timer = timer_of(r.state)?;
    let (seq, since) = entered(r, timer)?;
    let w = &rules.config.city.waiting;
    let due = match timer {
        WaitTimer::DeferralOverdue => {
            if !w.deferral_overdue {
                return None;
            }
            // Đ.7.5: past the expected date = from the start of the next local day; once a
            // leader or the IOC head accepted the deferral, past its target date.
            let date = r
                .target_date()
                .or(r.deferral.as_ref().map(|d| d.expected_date))?;
            let d = date.checked_add_days(Days::new(1))?;
            rules.local_day_start(d)?
        }
        _ => {
            let minutes = match timer {
                WaitTimer::Triage => w.triage_minutes,
                WaitTimer::Referral => w.referral_minutes,
                WaitTimer::Returned => w.returned_minutes,
                _ => w.publication_minutes,
            };
            if minutes == 0 {
                return None;
            }
            rules.due_at(
                DeadlineRule {
                    clock: w.clock,
                    minutes,
                },
                since,
            )
        }
    };
    Some((format!("{KEY_PREFIX}{}.{seq}", timer.as_str()), timer, due))
}

/// The waiting timer, when not yet sent: (key, timer, due).
pub fn unsent_waiting_timer(
    r: &Report,
    rules: &CityRules,
) -> Option<(String, WaitTimer, DateTime<Utc>)> {
    waiting_timer(r, rules).filter(|(k, _, _)| !r.escalation.sent.contains(k))
}
