//! Domain events published after a change is stored, their kinds and envelopes.

use super::{CategoryCode, ReportId, UnitId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

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
    /// Đ.7.5: a leader or the IOC head accepted the lead unit's deferral (with the target
    /// date) or refused it.
    DeferralDecided {
        unit: UnitId,
        accepted: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        target_date: Option<NaiveDate>,
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
    /// Đ.8.2: the lead unit's head flagged the report as possibly secret, for the IOC head or
    /// a leader to decide (issue 12 item 6). Carries nothing of the report or the reason.
    SecretFlagged,
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
            DomainEvent::DeferralDecided { .. } => EventKind::DeferralDecided,
            DomainEvent::ReportReturned { .. } => EventKind::ReportReturned,
            DomainEvent::ReportReclassified { .. } => EventKind::ReportReclassified,
            DomainEvent::UnitUrged { .. } => EventKind::UnitUrged,
            DomainEvent::ReportPublished => EventKind::ReportPublished,
            DomainEvent::ReportRejected => EventKind::ReportRejected,
            DomainEvent::ReportClosed => EventKind::ReportClosed,
            DomainEvent::ReportReopened => EventKind::ReportReopened,
            DomainEvent::ReportRated { .. } => EventKind::ReportRated,
            DomainEvent::DeadlineEscalated { .. } => EventKind::DeadlineEscalated,
            DomainEvent::SecretFlagged => EventKind::SecretFlagged,
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
    DeferralDecided,
    ReportReturned,
    ReportReclassified,
    UnitUrged,
    ReportPublished,
    ReportRejected,
    ReportClosed,
    ReportReopened,
    ReportRated,
    DeadlineEscalated,
    SecretFlagged,
}

impl EventKind {
    pub const ALL: [EventKind; 20] = [
        EventKind::ReportSubmitted,
        EventKind::ReportScreened,
        EventKind::ReportAssigned,
        EventKind::LeadershipInformed,
        EventKind::ReferredToLeadership,
        EventKind::DirectiveIssued,
        EventKind::ReportAccepted,
        EventKind::ReportResolved,
        EventKind::ReportDeferred,
        EventKind::DeferralDecided,
        EventKind::ReportReturned,
        EventKind::ReportReclassified,
        EventKind::UnitUrged,
        EventKind::ReportPublished,
        EventKind::ReportRejected,
        EventKind::ReportClosed,
        EventKind::ReportReopened,
        EventKind::ReportRated,
        EventKind::DeadlineEscalated,
        EventKind::SecretFlagged,
    ];

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
            EventKind::DeferralDecided => "deferral_decided",
            EventKind::ReportReturned => "report_returned",
            EventKind::ReportReclassified => "report_reclassified",
            EventKind::UnitUrged => "unit_urged",
            EventKind::ReportPublished => "report_published",
            EventKind::ReportRejected => "report_rejected",
            EventKind::ReportClosed => "report_closed",
            EventKind::ReportReopened => "report_reopened",
            EventKind::ReportRated => "report_rated",
            EventKind::DeadlineEscalated => "deadline_escalated",
            EventKind::SecretFlagged => "secret_flagged",
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
    /// The report's share of the statistics at `version`, on the events the statistics
    /// consumer receives, so it counts them without reading the report (issue 10). Absent
    /// on other events and on events stored before it existed (the consumer then reads the
    /// report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stats: Option<crate::aggregates::ShareChange>,
    /// What the messages of the event need of the report at `version`, on the events the
    /// notify and publish consumers receive, so they send without reading the report (issue
    /// 10); the reporter's contact in it is sealed like the report's. Absent on other events
    /// and on events stored before it existed (the consumer then reads the report).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notify: Option<super::NotifyFacts>,
}

impl EventEnvelope {
    pub fn kind(&self) -> &'static str {
        self.event.kind()
    }
}
