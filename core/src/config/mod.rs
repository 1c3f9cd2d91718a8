//! City configuration as data. Everything city-specific (categories, deadlines, units, wards,
//! working hours, holidays, message texts) lives here, loaded from a folder of TOML files;
//! the shipped default is Lai Châu (`config/laichau/`).
//!
//! Files of a config folder:
//! - `city.toml`        — city name, time zone, escalation thresholds, SMS options
//! - `categories.toml`  — `[[category]]` entries (Đ.5, Đ.7.4)
//! - `units.toml`       — `[[unit]]` entries (departments, police, wards' People's Committees)
//! - `wards.toml`       — `[[ward]]` entries with boundary polygons
//! - `calendar.toml`    — weekly hours, seasonal schedules, holidays and make-up days per year
//! - `messages.toml`    — user-facing and notification texts (Vietnamese)

mod load;
mod media;
mod rate_limits;
mod validate;
pub use load::*;
pub use media::{KindLimit, MediaConfig};
pub use rate_limits::{Limit, RateLimits};
pub use validate::*;

use crate::model::{ClockKind, EscalationLevel};
use crate::screening::Screener;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CityConfig {
    pub city: CitySection,
    pub categories: Vec<CategoryConfig>,
    pub units: Vec<UnitConfig>,
    pub wards: Vec<WardConfig>,
    pub calendar: CalendarConfig,
    pub messages: Messages,
    /// Screening word lists (out-of-scope, abusive, category keywords).
    pub screening: ScreeningConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CitySection {
    pub name: String,
    /// IANA time zone, e.g. "Asia/Ho_Chi_Minh".
    pub time_zone: String,
    /// The office (Văn phòng HĐND và UBND) unit id: routes "other" and reclassifies (Đ.7.4.k, Đ.9.2).
    pub office_unit: String,
    /// The IOC unit id.
    pub ioc_unit: String,
    /// Leadership unit id (Lãnh đạo UBND).
    pub leadership_unit: String,
    /// Escalation thresholds as a fraction of the deadline elapsed, each with who is told.
    pub escalation: Vec<EscalationThreshold>,
    /// Radius in metres and window in hours for duplicate hints.
    pub duplicate_radius_m: f64,
    pub duplicate_window_hours: u32,
    /// How many possible duplicates (the nearest) are kept on a report; at a hotspot there
    /// can be hundreds, and the IOC needs only the closest few.
    #[serde(default = "default_duplicate_hints_max")]
    pub duplicate_hints_max: u32,
    /// Days after publication during which the reporter may ask to reopen a result (local
    /// choice, the regulation is silent; `lifecycle::within_reopen_window`).
    #[serde(default = "default_reopen_window_days")]
    pub reopen_window_days: u32,
    /// Send SMS with Vietnamese diacritics (UCS-2) instead of plain GSM-7.
    #[serde(default)]
    pub sms_diacritics: bool,
    /// Minimum confidence of a category suggestion for automatic assignment (0 disables auto-assign).
    #[serde(default)]
    pub auto_assign_min_confidence: f64,
    /// Tile layer of the console's map: an https URL template with `{z}`, `{x}` and `{y}`
    /// (a public tile server by default). The map still shows reports and ward boundaries
    /// when tiles cannot be loaded.
    #[serde(default = "default_map_tile_url")]
    pub map_tile_url: String,
    /// Attribution the tile server requires, shown on the map.
    #[serde(default = "default_map_attribution")]
    pub map_attribution: String,
    /// `[media]`: upload limits, quotas and image processing (issue 11); defaults when absent.
    #[serde(default)]
    pub media: MediaConfig,
    /// Timers on the states where a report waits for someone other than the unit (issue 13):
    /// triage, a leader's decision, the office, publication, a deferral's expected date.
    #[serde(default)]
    pub waiting: WaitingTimers,
    /// Requests per client on the endpoints a flood would hurt (`[rate_limits]`).
    #[serde(default)]
    pub rate_limits: RateLimits,
}

fn default_reopen_window_days() -> u32 {
    30
}

/// How long a report may wait in each state before someone is alerted, in minutes of
/// `clock` (0 turns a timer off). The regulation fixes the units' deadlines (Đ.7.4) but not
/// these waits; the defaults keep each wait well inside the shortest unit deadline's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WaitingTimers {
    /// Đ.7.2: new and screened reports not assigned (the IOC head is alerted).
    pub triage_minutes: u32,
    /// Đ.7.2: referred to the leadership without a decision (the leadership is alerted).
    pub referral_minutes: u32,
    /// Đ.9.2: returned by a unit and not reassigned (the office is alerted).
    pub returned_minutes: u32,
    /// Đ.8.1: resolved and not published (the IOC head is alerted).
    pub publication_minutes: u32,
    /// Đ.7.5: a deferral past its expected date alerts the unit head and the office (at the
    /// start of the day after the expected date); false turns it off.
    pub deferral_overdue: bool,
    pub clock: crate::model::ClockKind,
}

impl Default for WaitingTimers {
    fn default() -> Self {
        WaitingTimers {
            triage_minutes: 60,
            referral_minutes: 240,
            returned_minutes: 240,
            publication_minutes: 480,
            deferral_overdue: true,
            clock: crate::model::ClockKind::WorkingHours,
        }
    }
}

/// The longest wait a timer may be set to: 30 days of minutes.
pub const MAX_WAIT_MINUTES: u32 = 43_200;

fn default_duplicate_hints_max() -> u32 {
    5
}

fn default_map_tile_url() -> String {
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into()
}

fn default_map_attribution() -> String {
    "© OpenStreetMap contributors".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EscalationThreshold {
    /// Fraction of the deadline elapsed, e.g. 0.75 (nearing), 1.0 (passed), 1.5 (long overdue).
    pub fraction: f64,
    pub level: EscalationLevel,
}

/// How a category is routed to its lead unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Routing {
    /// A fixed lead unit (e.g. Phòng Kinh tế).
    Unit { unit: String },
    /// The ward/commune where the report is located leads (People's Committee of that ward).
    Ward,
    /// The office triages it (Đ.7.4.k).
    Office,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryConfig {
    pub code: String,
    pub name: String,
    pub description: String,
    /// Article of the regulation this category comes from, e.g. "Đ.5.2.a".
    pub article: String,
    pub routing: Routing,
    /// Units that coordinate by default (e.g. ward police with city police).
    #[serde(default)]
    pub coordinating_units: Vec<String>,
    /// Also add the located ward's unit as coordinator (e.g. environment: department + ward).
    #[serde(default)]
    pub coordinate_with_ward: bool,
    /// Deadline length in hours of `clock`. None only with a documented `policy`.
    #[serde(default)]
    pub deadline_hours: Option<f64>,
    #[serde(default)]
    pub clock: Option<ClockKind>,
    /// Where the regulation is silent, the local policy that fills the gap (documented).
    #[serde(default)]
    pub policy: Option<LocalPolicy>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalPolicy {
    /// Explains the choice and that it is not a rule of the regulation.
    pub note: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    Department,
    Police,
    Ward,
    Health,
    Ioc,
    Office,
    Leadership,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnitConfig {
    pub id: String,
    pub name: String,
    pub kind: UnitKind,
    /// For ward units: the ward they serve.
    #[serde(default)]
    pub ward: Option<String>,
    #[serde(default)]
    pub contacts: Contacts,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Contacts {
    #[serde(default)]
    pub sms: Vec<String>,
    #[serde(default)]
    pub email: Vec<String>,
    /// Contacts of the unit's head, told first when a deadline nears.
    #[serde(default)]
    pub head_sms: Vec<String>,
    #[serde(default)]
    pub head_email: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WardConfig {
    pub id: String,
    pub name: String,
    /// "phuong" or "xa".
    pub kind: String,
    /// The unit that handles ward-level categories here.
    pub unit: String,
    /// Boundary as a closed ring of [lon, lat] pairs (GeoJSON order).
    pub boundary: Vec<[f64; 2]>,
    /// True when the boundary is not surveyed data.
    pub illustrative: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalendarConfig {
    pub time_zone: String,
    /// Default weekly schedule.
    pub weekly: WeeklySchedule,
    /// Seasonal schedules override `weekly` between two dates of each year (month-day, inclusive).
    #[serde(default)]
    pub seasons: Vec<Season>,
    /// Per year: public holidays (non-working dates) and make-up working days.
    #[serde(default)]
    pub years: BTreeMap<String, YearCalendar>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WeeklySchedule {
    /// Working periods per weekday: "mon".."sun" → ["07:30-11:30", "13:30-17:30"].
    pub days: BTreeMap<String, Vec<String>>,
    /// Periods used on a make-up working day (ngày làm bù); default: Monday's periods.
    #[serde(default)]
    pub makeup_day: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Season {
    pub name: String,
    /// "MM-DD"
    pub from: String,
    /// "MM-DD" inclusive
    pub to: String,
    pub weekly: WeeklySchedule,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct YearCalendar {
    #[serde(default)]
    pub holidays: Vec<Holiday>,
    /// Make-up working days (ngày làm bù), usually Saturdays.
    #[serde(default)]
    pub makeup_days: Vec<NaiveDate>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holiday {
    pub name: String,
    pub from: NaiveDate,
    /// Inclusive
    pub to: NaiveDate,
}

/// User-facing and notification texts. Keys are stable; values Vietnamese with diacritics.
/// Templates use `{placeholders}`.
#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Messages {
    pub texts: BTreeMap<String, String>,
}

impl Messages {
    /// The text for `key` with `{name}` placeholders filled; the key itself if missing.
    pub fn render(&self, key: &str, vars: &[(&str, &str)]) -> String {
        let mut out = self
            .texts
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_string());
        for (k, v) in vars {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ScreeningConfig {
    /// Đ.6.3 out-of-scope kinds: each with trigger phrases and guidance for the citizen.
    pub out_of_scope: Vec<OutOfScopeRule>,
    /// Đ.3.1.c abusive terms (written with or without diacritics; matching is insensitive).
    pub abusive_terms: Vec<String>,
    /// Category keywords for suggestions: category code → terms.
    pub category_keywords: BTreeMap<String, Vec<String>>,
    /// The lists compiled for matching, built on first use (see [`ScreeningConfig::screener`]).
    #[serde(skip)]
    pub(crate) compiled: OnceLock<(ListSizes, Arc<Screener>)>,
}

/// The number of entries in each list of a [`ScreeningConfig`], to notice lists changed after
/// they were compiled.
type ListSizes = (usize, usize, usize);

impl ScreeningConfig {
    fn list_sizes(&self) -> ListSizes {
        (
            self.out_of_scope.iter().map(|r| r.phrases.len() + 1).sum(),
            self.abusive_terms.len(),
            self.category_keywords.values().map(|l| l.len() + 1).sum(),
        )
    }

    /// The lists split into words, ready to screen many texts: compiled once, on first use,
    /// not once per text. The lists are not meant to change afterwards (a city's config is
    /// loaded once); if entries were added or removed since, a fresh compilation is returned.
    pub fn screener(&self) -> Arc<Screener> {
        let sizes = self.list_sizes();
        let (at, compiled) = self
            .compiled
            .get_or_init(|| (sizes, Arc::new(Screener::new(self))));
        if *at == sizes {
            Arc::clone(compiled)
        } else {
            Arc::new(Screener::new(self))
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutOfScopeRule {
    /// Stable code: "complaint", "denunciation", "legal_advice".
    pub code: String,
    pub phrases: Vec<String>,
    /// Message key in messages.toml telling the citizen where to go instead.
    pub guidance_key: String,
}

impl CityConfig {
    pub fn category(&self, code: &str) -> Option<&CategoryConfig> {
        self.categories.iter().find(|c| c.code == code)
    }
    pub fn unit(&self, id: &str) -> Option<&UnitConfig> {
        self.units.iter().find(|u| u.id == id)
    }
    pub fn ward(&self, id: &str) -> Option<&WardConfig> {
        self.wards.iter().find(|w| w.id == id)
    }
}
