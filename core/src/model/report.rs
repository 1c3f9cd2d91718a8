//! The report itself (phản ánh) and its parts: id, source, reporter, location, attachments,
//! assignment, deferral, resolution, rating, screening flags and escalation state.

use super::{CategoryCode, Role, State, TimelineEntry, UnitId, WardId, GENESIS_HASH};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// A report identifier. Time-ordered (UUID v7) so ids sort by creation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ReportId(pub String);

impl ReportId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ReportId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for ReportId {
    fn from(s: &str) -> Self {
        ReportId(s.to_string())
    }
}

/// Where a report came from (Đ.7.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// Citizen app ("Lai Châu Smart").
    App,
    /// Detected by an IOC operator on a surveillance camera.
    Camera { camera_id: String },
}

/// Reporter personal data (Đ.3.2.c, Đ.4). Never in public output, never shown to units.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Reporter {
    /// Stable citizen id: account id or anonymous device id.
    pub citizen_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn is_valid(&self) -> bool {
        self.lat.is_finite()
            && self.lon.is_finite()
            && (-90.0..=90.0).contains(&self.lat)
            && (-180.0..=180.0).contains(&self.lon)
    }

    /// A location typed as two texts (a form, an Open311 request), named `lat_field` and
    /// `lon_field` in errors: both empty or absent is no location; one without the other, a
    /// text that is not a number (a decimal comma is accepted) or a point outside the valid
    /// range is refused with the field named.
    pub fn parse_pair(
        (lat_field, lat): (&str, Option<&str>),
        (lon_field, lon): (&str, Option<&str>),
    ) -> Result<Option<GeoPoint>, crate::error::DomainError> {
        use crate::error::DomainError;
        let coordinate = |field: &str, v: Option<&str>| -> Result<Option<f64>, DomainError> {
            match v.map(str::trim).filter(|v| !v.is_empty()) {
                None => Ok(None),
                Some(v) => v
                    .replace(',', ".")
                    .parse::<f64>()
                    .map(Some)
                    .map_err(|_| DomainError::invalid(field, "phải là một số (ví dụ 22.3964)")),
            }
        };
        match (coordinate(lat_field, lat)?, coordinate(lon_field, lon)?) {
            (Some(lat), Some(lon)) => {
                let p = GeoPoint { lat, lon };
                if p.is_valid() {
                    Ok(Some(p))
                } else {
                    Err(DomainError::invalid(
                        lat_field,
                        "tọa độ ngoài phạm vi hợp lệ",
                    ))
                }
            }
            (None, None) => Ok(None),
            (None, Some(_)) => Err(DomainError::invalid(
                lat_field,
                "cần nhập cả vĩ độ và kinh độ",
            )),
            (Some(_), None) => Err(DomainError::invalid(
                lon_field,
                "cần nhập cả vĩ độ và kinh độ",
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Photo,
    Audio,
    Video,
    Document,
}

/// A file attached to a report or to a timeline entry (evidence, Đ.7.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub kind: MediaKind,
    pub content_type: String,
    pub size: u64,
    /// Storage key in the media store.
    pub key: String,
    /// Key of the public (metadata-stripped) copy, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    /// Whether the citizen or the IOC allowed this file in public output.
    #[serde(default)]
    pub public: bool,
    /// Key of the public copy's thumbnail, when one exists.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_key: Option<String>,
    /// Where the photo says it was taken (its EXIF GPS, read before the public copy was
    /// stripped): a hint for staff only, never public (Đ.4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_hint: Option<GeoPoint>,
}

/// How a deadline clock runs (Đ.7.4): clock hours 24/7, or working hours of the calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockKind {
    ClockHours,
    WorkingHours,
}

/// Lead unit plus coordinating units (Đ.7.4 "chủ trì, phối hợp"), with the deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    pub lead_unit: UnitId,
    #[serde(default)]
    pub coordinating_units: Vec<UnitId>,
    pub assigned_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub clock: ClockKind,
    /// Deadline length in minutes of the configured clock.
    pub deadline_minutes: u32,
    pub assigned_by: String,
}

impl Assignment {
    pub fn involves(&self, unit: &str) -> bool {
        self.lead_unit == unit || self.coordinating_units.iter().any(|u| u == unit)
    }
}

/// Unit cannot solve yet (Đ.7.5): reason and expected date.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deferral {
    pub reason: String,
    pub expected_date: NaiveDate,
    pub deferred_at: DateTime<Utc>,
    /// Đ.7.5: the city's decision on it (`decide_deferral`); None while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision: Option<DeferralDecision>,
}

/// Đ.7.5: a leader's or the IOC head's decision on a deferral. An accepted deferral sets the
/// report's target date, shown beside the regulated deadline; the regulated deadline
/// (`Assignment::due_at`) is never changed and still decides "on time" in the statistics.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeferralDecision {
    pub accepted: bool,
    /// Accepted only: the new target date (the unit's expected date, or one the decider set).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_date: Option<NaiveDate>,
    /// `leader` or `ioc_head`.
    pub role: Role,
    pub decided_at: DateTime<Utc>,
}

/// The unit's result with evidence (Đ.7.3). Part of the report forever.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resolution {
    pub summary: String,
    pub evidence: Vec<String>,
    pub unit: UnitId,
    pub resolved_at: DateTime<Utc>,
    /// Whether the unit finished before the deadline.
    pub on_time: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    /// 1..=5
    pub stars: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    pub at: DateTime<Utc>,
}

/// Category suggestion from the text, explainable (which words decided).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategorySuggestion {
    pub category: CategoryCode,
    /// 0.0..=1.0
    pub confidence: f64,
    pub matched_terms: Vec<String>,
}

/// Results of automatic screening and flags set by staff.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Flags {
    /// Đ.3.1.c: rude, vulgar or defamatory language found; text hidden from public output.
    #[serde(default)]
    pub abusive: bool,
    #[serde(default)]
    pub abusive_terms: Vec<String>,
    /// Đ.8.2: touches state secrets; nothing public beyond what an authorised person approved.
    #[serde(default)]
    pub state_secret: bool,
    /// Đ.8.2: a unit head flagged it as possibly secret; pending the IOC head's or a leader's
    /// decision (`mark_secret` or `clear_secret_flag`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub possibly_secret: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<CategorySuggestion>,
    /// Possible duplicates (same category, near, recent).
    #[serde(default)]
    pub possible_duplicates: Vec<ReportId>,
}

/// Escalation thresholds already notified, so each is sent exactly once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct EscalationState {
    /// Keys of thresholds already handled for the current assignment (e.g. "75", "100", "150").
    #[serde(default)]
    pub sent: Vec<String>,
    /// When the next threshold falls due (indexed for the escalation query); None when nothing is pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_at: Option<DateTime<Utc>>,
}

/// A field report (phản ánh).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub id: ReportId,
    /// Optimistic concurrency version; starts at 1 and increments on every stored change.
    pub version: u64,
    pub source: Source,
    /// Absent for camera reports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Reporter>,
    pub category: CategoryCode,
    /// Category the reporter chose, kept when staff reclassify.
    pub reported_category: CategoryCode,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<GeoPoint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    /// Ward resolved by routing (point-in-polygon, else reporter's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ward: Option<WardId>,
    /// Ward the reporter chose in the app, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter_ward: Option<WardId>,
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    pub state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignment: Option<Assignment>,
    #[serde(default)]
    pub flags: Flags,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferral: Option<Deferral>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Resolution>,
    /// The public answer approved by the IOC (Đ.8.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_answer: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    #[serde(default)]
    pub escalation: EscalationState,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub timeline: Vec<TimelineEntry>,
    /// SHA-256 of the submission that created the report under an idempotency key, so a retry
    /// with the same key is told apart from a different report sent with a reused key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_fingerprint: Option<String>,
}

impl Report {
    pub fn lead_unit(&self) -> Option<&str> {
        self.assignment.as_ref().map(|a| a.lead_unit.as_str())
    }

    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.assignment.as_ref().map(|a| a.due_at)
    }

    /// Đ.7.5: the target date of an accepted deferral (None without one). Shown beside the
    /// regulated deadline, which it never replaces.
    pub fn target_date(&self) -> Option<NaiveDate> {
        self.deferral
            .as_ref()
            .and_then(|d| d.decision.as_ref())
            .filter(|d| d.accepted)
            .and_then(|d| d.target_date)
    }

    /// Whether a deferral waits for the city's decision (Đ.7.5).
    pub fn deferral_pending(&self) -> bool {
        self.state == State::Deferred
            && self.deferral.as_ref().is_some_and(|d| d.decision.is_none())
    }

    /// Whether the unit is late at `now`: on the clock and past the due instant.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.state.unit_clock_running() && self.due_at().is_some_and(|d| now > d)
    }

    pub fn reporter_id(&self) -> Option<&str> {
        self.reporter.as_ref().map(|r| r.citizen_id.as_str())
    }

    pub fn last_hash(&self) -> &str {
        self.timeline
            .last()
            .map(|e| e.hash.as_str())
            .unwrap_or(GENESIS_HASH)
    }

    /// Checks the hash chain of the timeline. Returns the seq of the first broken entry.
    pub fn verify_timeline(&self) -> Result<(), u32> {
        let mut prev = GENESIS_HASH.to_string();
        for (i, e) in self.timeline.iter().enumerate() {
            if e.seq as usize != i || e.prev_hash != prev || e.compute_hash() != e.hash {
                return Err(e.seq);
            }
            prev = e.hash.clone();
        }
        Ok(())
    }
}
