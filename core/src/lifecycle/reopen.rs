//! How long a published result may be contested by its reporter. The regulation is silent on
//! a limit; a result published long ago is a new matter, so the city sets a window
//! (`reopen_window_days` in city.toml, default 30 days from publication).

use crate::city::CityRules;
use crate::model::Report;
use chrono::{DateTime, Duration, Utc};

/// Whether the reporter may still ask to reopen `r` at `now`: within the configured window
/// after its publication (a report never published has no window to close).
pub fn within_reopen_window(r: &Report, rules: &CityRules, now: DateTime<Utc>) -> bool {
    let days = i64::from(rules.config.city.reopen_window_days);
    r.published_at
        .is_none_or(|published| now - published <= Duration::days(days))
}
