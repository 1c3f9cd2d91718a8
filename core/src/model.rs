//! The report model: what a field report is, who acts on it, and its append-only timeline.
//!
//! Instants are stored in UTC (`DateTime<Utc>`); local time (Asia/Ho_Chi_Minh by default) is a
//! presentation concern handled through the configured calendar.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub type UnitId = String;
pub type WardId = String;
pub type CategoryCode = String;
pub type AccountId = String;

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

/// Roles of DOMAIN.md (Đ.1.2, Đ.4, Đ.7, Đ.9). `System` is the software itself
/// (screening, routing, escalation timers) and never comes from a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Citizen,
    IocOperator,
    IocHead,
    UnitStaff,
    UnitHead,
    Leader,
    OfficeAdmin,
    System,
}

impl Role {
    pub const STAFF: [Role; 6] = [
        Role::IocOperator,
        Role::IocHead,
        Role::UnitStaff,
        Role::UnitHead,
        Role::Leader,
        Role::OfficeAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Citizen => "citizen",
            Role::IocOperator => "ioc_operator",
            Role::IocHead => "ioc_head",
            Role::UnitStaff => "unit_staff",
            Role::UnitHead => "unit_head",
            Role::Leader => "leader",
            Role::OfficeAdmin => "office_admin",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Some(match s {
            "citizen" => Role::Citizen,
            "ioc_operator" => Role::IocOperator,
            "ioc_head" => Role::IocHead,
            "unit_staff" => Role::UnitStaff,
            "unit_head" => Role::UnitHead,
            "leader" => Role::Leader,
            "office_admin" => Role::OfficeAdmin,
            _ => return None,
        })
    }

    /// Roles bound to one unit: they see only what is assigned to it.
    pub fn is_unit_role(self) -> bool {
        matches!(self, Role::UnitStaff | Role::UnitHead)
    }

    pub fn is_staff(self) -> bool {
        Role::STAFF.contains(&self)
    }
}

/// Who performs an action. For citizens `id` is the stable citizen id (account or device).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
}

impl Actor {
    pub fn system() -> Actor {
        Actor {
            id: "system".into(),
            role: Role::System,
            unit: None,
        }
    }
    pub fn new(id: impl Into<String>, role: Role, unit: Option<&str>) -> Actor {
        Actor {
            id: id.into(),
            role,
            unit: unit.map(str::to_string),
        }
    }
}

/// Lifecycle states (DOMAIN.md "Lifecycle").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Submitted,
    Screened,
    Assigned,
    InProgress,
    Resolved,
    Published,
    Closed,
    Rejected,
    Referred,
    Deferred,
    Returned,
}

impl State {
    pub const ALL: [State; 11] = [
        State::Submitted,
        State::Screened,
        State::Assigned,
        State::InProgress,
        State::Resolved,
        State::Published,
        State::Closed,
        State::Rejected,
        State::Referred,
        State::Deferred,
        State::Returned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Submitted => "submitted",
            State::Screened => "screened",
            State::Assigned => "assigned",
            State::InProgress => "in_progress",
            State::Resolved => "resolved",
            State::Published => "published",
            State::Closed => "closed",
            State::Rejected => "rejected",
            State::Referred => "referred",
            State::Deferred => "deferred",
            State::Returned => "returned",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        State::ALL.iter().copied().find(|st| st.as_str() == s)
    }

    /// States in which a unit is on the clock (the deadline counts).
    pub fn unit_clock_running(self) -> bool {
        matches!(self, State::Assigned | State::InProgress)
    }

    /// Terminal or public-facing end states: no more handling.
    pub fn is_final(self) -> bool {
        matches!(self, State::Closed | State::Rejected)
    }

    /// Handling has ended (result exists or the case was closed).
    pub fn handling_ended(self) -> bool {
        matches!(
            self,
            State::Resolved | State::Published | State::Closed | State::Rejected
        )
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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

/// The action an entry records. Stable snake_case names used in API output and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Submit,
    CreateFromCamera,
    Screen,
    Assign,
    InformLeadership,
    Refer,
    Directive,
    Accept,
    Progress,
    AddNote,
    Resolve,
    Defer,
    Resume,
    Return,
    Reclassify,
    Reassign,
    Urge,
    Publish,
    Reject,
    Close,
    Reopen,
    Rate,
    Escalate,
    RevealReporter,
    MarkSecret,
    ViewStats,
    /// Đ.4.1, Đ.9.2: create, disable, enable staff accounts and reset their passwords.
    ManageAccounts,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Submit => "submit",
            Action::CreateFromCamera => "create_from_camera",
            Action::Screen => "screen",
            Action::Assign => "assign",
            Action::InformLeadership => "inform_leadership",
            Action::Refer => "refer",
            Action::Directive => "directive",
            Action::Accept => "accept",
            Action::Progress => "progress",
            Action::AddNote => "add_note",
            Action::Resolve => "resolve",
            Action::Defer => "defer",
            Action::Resume => "resume",
            Action::Return => "return",
            Action::Reclassify => "reclassify",
            Action::Reassign => "reassign",
            Action::Urge => "urge",
            Action::Publish => "publish",
            Action::Reject => "reject",
            Action::Close => "close",
            Action::Reopen => "reopen",
            Action::Rate => "rate",
            Action::Escalate => "escalate",
            Action::RevealReporter => "reveal_reporter",
            Action::MarkSecret => "mark_secret",
            Action::ViewStats => "view_stats",
            Action::ManageAccounts => "manage_accounts",
        }
    }
}

/// One entry of the append-only timeline: who, role, unit, when, what, note, attachments.
/// Entries are hash-chained (`prev_hash` → `hash`) so any later edit is detectable; a
/// leader's directive (Đ.6.2) is such an entry and is therefore immutable and attributable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    pub action: Action,
    pub from_state: Option<State>,
    pub to_state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Action-specific data (e.g. assignment, deferral date, rating), kept as JSON.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
    /// Whether staff may show this entry to the reporter (internal notes are not).
    #[serde(default = "default_true")]
    pub visible_to_reporter: bool,
    pub prev_hash: String,
    pub hash: String,
}

fn default_true() -> bool {
    true
}

impl TimelineEntry {
    /// The hash over this entry's content and the previous hash (SHA-256, hex).
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        // The canonical form is the JSON of the entry with `hash` blanked.
        let mut copy = self.clone();
        copy.hash = String::new();
        // serde_json of a struct is deterministic (field order is declaration order).
        let bytes = serde_json::to_vec(&copy).unwrap_or_default();
        h.update(self.prev_hash.as_bytes());
        h.update(&bytes);
        hex::encode(h.finalize())
    }
}

/// The genesis value of a timeline hash chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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

/// A domain event to publish after a change is stored (transactional outbox).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DomainEvent {
    ReportSubmitted,
    ReportScreened {
        auto_assignable: bool,
    },
    ReportAssigned {
        lead_unit: UnitId,
        coordinating_units: Vec<UnitId>,
        due_at: DateTime<Utc>,
    },
    /// Đ.7.2: when the IOC head assigns, leadership is informed at the same time.
    LeadershipInformed,
    ReferredToLeadership,
    DirectiveIssued {
        seq: u32,
    },
    ReportAccepted,
    ReportResolved {
        unit: UnitId,
        on_time: bool,
    },
    ReportDeferred {
        unit: UnitId,
        expected_date: NaiveDate,
    },
    ReportReturned {
        unit: UnitId,
    },
    ReportReclassified {
        from: CategoryCode,
        to: CategoryCode,
    },
    UnitUrged {
        unit: UnitId,
    },
    ReportPublished,
    ReportRejected,
    ReportClosed,
    ReportReopened,
    ReportRated {
        stars: u8,
    },
    /// A deadline threshold reached (Notifications rule): level decides who is told.
    DeadlineEscalated {
        threshold: String,
        level: EscalationLevel,
        unit: UnitId,
    },
}

impl DomainEvent {
    /// The kind of this event.
    pub fn event_kind(&self) -> EventKind {
        match self {
            DomainEvent::ReportSubmitted => EventKind::ReportSubmitted,
            DomainEvent::ReportScreened { .. } => EventKind::ReportScreened,
            DomainEvent::ReportAssigned { .. } => EventKind::ReportAssigned,
            DomainEvent::LeadershipInformed => EventKind::LeadershipInformed,
            DomainEvent::ReferredToLeadership => EventKind::ReferredToLeadership,
            DomainEvent::DirectiveIssued { .. } => EventKind::DirectiveIssued,
            DomainEvent::ReportAccepted => EventKind::ReportAccepted,
            DomainEvent::ReportResolved { .. } => EventKind::ReportResolved,
            DomainEvent::ReportDeferred { .. } => EventKind::ReportDeferred,
            DomainEvent::ReportReturned { .. } => EventKind::ReportReturned,
            DomainEvent::ReportReclassified { .. } => EventKind::ReportReclassified,
            DomainEvent::UnitUrged { .. } => EventKind::UnitUrged,
            DomainEvent::ReportPublished => EventKind::ReportPublished,
            DomainEvent::ReportRejected => EventKind::ReportRejected,
            DomainEvent::ReportClosed => EventKind::ReportClosed,
            DomainEvent::ReportReopened => EventKind::ReportReopened,
            DomainEvent::ReportRated { .. } => EventKind::ReportRated,
            DomainEvent::DeadlineEscalated { .. } => EventKind::DeadlineEscalated,
        }
    }

    /// Stable name, used as the SNS message attribute `event_type` for filter policies.
    pub fn kind(&self) -> &'static str {
        self.event_kind().as_str()
    }
}

/// The kinds of domain event, by their stable names: the one list that the embedded queues,
/// the SNS filter policies and the template checks all read (through the consumers' lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    ReportSubmitted,
    ReportScreened,
    ReportAssigned,
    LeadershipInformed,
    ReferredToLeadership,
    DirectiveIssued,
    ReportAccepted,
    ReportResolved,
    ReportDeferred,
    ReportReturned,
    ReportReclassified,
    UnitUrged,
    ReportPublished,
    ReportRejected,
    ReportClosed,
    ReportReopened,
    ReportRated,
    DeadlineEscalated,
}

impl EventKind {
    pub const ALL: [EventKind; 18] = [EventKind::ReportSubmitted, EventKind::ReportScreened, EventKind::ReportAssigned, EventKind::LeadershipInformed, EventKind::ReferredToLeadership, EventKind::DirectiveIssued, EventKind::ReportAccepted, EventKind::ReportResolved, EventKind::ReportDeferred, EventKind::ReportReturned, EventKind::ReportReclassified, EventKind::UnitUrged, EventKind::ReportPublished, EventKind::ReportRejected, EventKind::ReportClosed, EventKind::ReportReopened, EventKind::ReportRated, EventKind::DeadlineEscalated];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::ReportSubmitted => "report_submitted",
            EventKind::ReportScreened => "report_screened",
            EventKind::ReportAssigned => "report_assigned",
            EventKind::LeadershipInformed => "leadership_informed",
            EventKind::ReferredToLeadership => "referred_to_leadership",
            EventKind::DirectiveIssued => "directive_issued",
            EventKind::ReportAccepted => "report_accepted",
            EventKind::ReportResolved => "report_resolved",
            EventKind::ReportDeferred => "report_deferred",
            EventKind::ReportReturned => "report_returned",
            EventKind::ReportReclassified => "report_reclassified",
            EventKind::UnitUrged => "unit_urged",
            EventKind::ReportPublished => "report_published",
            EventKind::ReportRejected => "report_rejected",
            EventKind::ReportClosed => "report_closed",
            EventKind::ReportReopened => "report_reopened",
            EventKind::ReportRated => "report_rated",
            EventKind::DeadlineEscalated => "deadline_escalated",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for EventKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who is told at an escalation threshold (Notifications rule: unit head, then IOC, then leadership).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum EscalationLevel {
    UnitHead,
    Ioc,
    Leadership,
}

/// An event with its identity and report, as stored in the outbox and sent on the bus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventEnvelope {
    /// Unique and stable: `<report id>:<version>:<index>`, so redelivery is detectable.
    pub id: String,
    pub report_id: ReportId,
    /// Report version that produced the event.
    pub version: u64,
    pub at: DateTime<Utc>,
    pub event: DomainEvent,
}

impl EventEnvelope {
    pub fn kind(&self) -> &'static str {
        self.event.kind()
    }
}

/// The kinds of notification, each a set of message texts in the city's config
/// (`<key>.sms`, `<key>.email_subject`, `<key>.email_body`). Config validation iterates
/// [`NotificationKind::ALL`], so a kind cannot be sent without its texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotificationKind {
    Assigned,
    LeadershipInformed,
    EscalationUnitHead,
    EscalationIoc,
    EscalationLeadership,
    Urged,
    PublishedReporter,
    Directive,
    Returned,
    Deferred,
    Referred,
    Resolved,
    Reopened,
    RejectedReporter,
}

impl NotificationKind {
    pub const ALL: [NotificationKind; 14] = [
        NotificationKind::Assigned,
        NotificationKind::LeadershipInformed,
        NotificationKind::EscalationUnitHead,
        NotificationKind::EscalationIoc,
        NotificationKind::EscalationLeadership,
        NotificationKind::Urged,
        NotificationKind::PublishedReporter,
        NotificationKind::Directive,
        NotificationKind::Returned,
        NotificationKind::Deferred,
        NotificationKind::Referred,
        NotificationKind::Resolved,
        NotificationKind::Reopened,
        NotificationKind::RejectedReporter,
    ];

    /// The message key prefix in the city's config.
    pub fn key(self) -> &'static str {
        match self {
            NotificationKind::Assigned => "notify.assigned",
            NotificationKind::LeadershipInformed => "notify.leadership_informed",
            NotificationKind::EscalationUnitHead => "notify.escalation.unit_head",
            NotificationKind::EscalationIoc => "notify.escalation.ioc",
            NotificationKind::EscalationLeadership => "notify.escalation.leadership",
            NotificationKind::Urged => "notify.urged",
            NotificationKind::PublishedReporter => "notify.published.reporter",
            NotificationKind::Directive => "notify.directive",
            NotificationKind::Returned => "notify.returned",
            NotificationKind::Deferred => "notify.deferred",
            NotificationKind::Referred => "notify.referred",
            NotificationKind::Resolved => "notify.resolved",
            NotificationKind::Reopened => "notify.reopened",
            NotificationKind::RejectedReporter => "notify.rejected.reporter",
        }
    }
}
