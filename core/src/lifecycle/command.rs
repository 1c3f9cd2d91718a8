//! The inputs of the lifecycle: what a citizen or IOC operator submits ([`NewReport`]) and every
//! action on an existing report ([`Command`]), as clients send them (JSON, tagged by `action`).
//! Parsing only: no rule is checked here.

use crate::model::*;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a citizen (or an IOC operator from a camera, Đ.7.1) submits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewReport {
    pub category: CategoryCode,
    pub title: String,
    pub description: String,
    pub location: Option<GeoPoint>,
    pub address: Option<String>,
    pub reporter_ward: Option<WardId>,
    pub attachments: Vec<Attachment>,
    /// Reporter's personal data (citizens only).
    pub reporter: Option<Reporter>,
    /// Camera id (IOC operators only, Đ.7.1).
    pub camera_id: Option<String>,
}

/// Every action on an existing report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// Automatic screening (system): abusive language, category suggestion, ward, duplicates.
    Screen {
        #[serde(default)]
        possible_duplicates: Vec<ReportId>,
    },
    /// Đ.7.2: the IOC head classifies and assigns to the competent unit (lead + coordinating).
    Assign {
        lead_unit: UnitId,
        #[serde(default)]
        coordinating_units: Vec<UnitId>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.7.2: complex or multi-unit case referred to leadership for direction.
    Refer { note: String },
    /// Đ.6.2: a leader's directive, with the force of a paper document. A directive is never
    /// edited: a correction is a new directive naming the `seq` of the one it `corrects`.
    Directive {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        corrects: Option<u32>,
    },
    /// The lead unit takes the case in hand.
    Accept {
        #[serde(default)]
        note: Option<String>,
    },
    /// Progress note with optional evidence; lead or coordinating unit (Đ.7.3, Đ.7.4 phối hợp).
    Progress {
        note: String,
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Internal note by staff who can see the report; never shown to the reporter.
    AddNote {
        note: String,
        #[serde(default)]
        attachments: Vec<Attachment>,
    },
    /// Đ.7.3: the lead unit's result, with records and photos.
    Resolve {
        summary: String,
        evidence: Vec<Attachment>,
    },
    /// Đ.7.5: cannot be solved yet — reason and expected date, reported to the city.
    Defer {
        reason: String,
        expected_date: NaiveDate,
    },
    /// Đ.7.5: the city (a leader, or the IOC head on the leaders' behalf, Đ.7.1) decides on the
    /// unit's deferral: accepted, with the target date (the unit's expected date unless
    /// `target_date` is given), or refused with a reason.
    DecideDeferral {
        accept: bool,
        #[serde(default)]
        target_date: Option<NaiveDate>,
        #[serde(default)]
        note: Option<String>,
    },
    /// Back to handling after a deferral.
    Resume {
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.9.2: the unit says it is the wrong unit or category.
    Return {
        reason: String,
        #[serde(default)]
        suggested_category: Option<CategoryCode>,
    },
    /// Đ.9.2 (office) / Đ.7.2 (IOC head): change the category.
    Reclassify {
        category: CategoryCode,
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.9.2: the office reassigns (also routes "other", Đ.7.4.k).
    Reassign {
        lead_unit: UnitId,
        #[serde(default)]
        coordinating_units: Vec<UnitId>,
        note: String,
    },
    /// Đ.9.2: the office urges (đôn đốc) the unit.
    Urge { note: String },
    /// Đ.8.1: the IOC approves and publishes the public answer.
    Publish {
        public_answer: String,
        /// Attachment ids allowed in public output.
        #[serde(default)]
        public_attachments: Vec<String>,
    },
    /// Đ.8.2: the report touches state secrets.
    MarkSecret { note: String },
    /// Đ.8.2: the lead unit's head flags the report as possibly secret, with the reason.
    FlagSecret { reason: String },
    /// Đ.8.2: the IOC head or a leader clears a unit's flag, with the reason.
    ClearSecretFlag { note: String },
    /// Out of scope or abusive; the reason is shown to the citizen.
    Reject { reason: String },
    /// End of the case after publication.
    Close {
        #[serde(default)]
        note: Option<String>,
    },
    /// The reporter says it is not actually fixed.
    Reopen { reason: String },
    /// The reporter rates the published result.
    Rate {
        stars: u8,
        #[serde(default)]
        comment: Option<String>,
    },
    /// System: deadline thresholds reached at `now`.
    Escalate,
    /// Đ.4: an authorised staff member reads the reporter's identity; audited.
    RevealReporter { reason: String },
    /// Đ.4.4: a request to share the report (its content, and with `personal_data` the
    /// reporter's identity) with `recipient` outside the city, for `reason`.
    RequestShare {
        recipient: String,
        reason: String,
        #[serde(default)]
        personal_data: bool,
    },
    /// Đ.4.4: a leader approves (or refuses) the share request at timeline `request`.
    DecideShare {
        request: u32,
        approve: bool,
        #[serde(default)]
        note: Option<String>,
    },
    /// Đ.4.4: the approved request at timeline `request` is released.
    ReleaseShare { request: u32 },
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Screen { .. } => Action::Screen,
            Command::Assign { .. } => Action::Assign,
            Command::Refer { .. } => Action::Refer,
            Command::Directive { .. } => Action::Directive,
            Command::Accept { .. } => Action::Accept,
            Command::Progress { .. } => Action::Progress,
            Command::AddNote { .. } => Action::AddNote,
            Command::Resolve { .. } => Action::Resolve,
            Command::Defer { .. } => Action::Defer,
            Command::DecideDeferral { .. } => Action::DecideDeferral,
            Command::Resume { .. } => Action::Resume,
            Command::Return { .. } => Action::Return,
            Command::Reclassify { .. } => Action::Reclassify,
            Command::Reassign { .. } => Action::Reassign,
            Command::Urge { .. } => Action::Urge,
            Command::Publish { .. } => Action::Publish,
            Command::MarkSecret { .. } => Action::MarkSecret,
            Command::FlagSecret { .. } => Action::FlagSecret,
            Command::ClearSecretFlag { .. } => Action::ClearSecretFlag,
            Command::Reject { .. } => Action::Reject,
            Command::Close { .. } => Action::Close,
            Command::Reopen { .. } => Action::Reopen,
            Command::Rate { .. } => Action::Rate,
            Command::Escalate => Action::Escalate,
            Command::RevealReporter { .. } => Action::RevealReporter,
            Command::RequestShare { .. } => Action::RequestShare,
            Command::DecideShare { .. } => Action::DecideShare,
            Command::ReleaseShare { .. } => Action::ReleaseShare,
        }
    }
}
