//! What the notify and publish consumers need of a report to build an event's messages,
//! carried by the event itself (issue 10): core fills it from the report about to be stored,
//! so the consumers send without reading the report.

use super::{CategoryCode, UnitId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// The report's values the messages of one event are filled from, and the recipients'
/// routing, as of the event's version. Built by `app::notifications::facts_of`, the one place
/// that reads them from a report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyFacts {
    /// The category code (its name is the city's config, looked up when rendering).
    pub category: CategoryCode,
    /// The title as messages may show it (`notified_title`, Đ.8.2: the city's neutral text
    /// for a secret or possibly secret report).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// The regulated deadline (Đ.7.4), when assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_at: Option<DateTime<Utc>>,
    /// Đ.7.5: the unit's expected date of a deferral.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_date: Option<NaiveDate>,
    /// Đ.7.5: the target date of an accepted deferral (the event's own for a decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_date: Option<NaiveDate>,
    /// A rejection's reason as the reporter may see it (never an internal note).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
    /// The lead unit (directives and overdue deferrals go to it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lead_unit: Option<UnitId>,
    /// The reporter's contact, only on events that tell the reporter: sealed with the
    /// personal-data key where one is configured (`crate::pii`), as in the report document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reporter: Option<ReporterContact>,
}

/// The reporter's contact as an event carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ReporterContact {
    /// Phone and e-mail sealed as one value (`pii1:…` of `<phone>\n<e-mail>`, the report
    /// document's key and scheme): one nonce and tag for both, 75 bytes less than two.
    Sealed(String),
    /// As given, where no personal-data key is configured (as the report document stores it).
    Plain(NotifyContact),
}

/// Where the reporter is told: phone and e-mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyContact {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}
