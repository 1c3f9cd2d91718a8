//! Which domain events each SQS consumer receives from the events topic. `template.yaml`
//! declares one subscription per consumer with exactly these filter policies (checked by
//! `infra/aws/tests/template.rs`), and the emulator harness provisions the same.

use phananh_core::model::DomainEvent;

/// One consumer queue of the events topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consumer {
    /// Logical name (`classify`, `notify`, `publish`); the template's queue is
    /// `<Name>Queue` (e.g. `ClassifyQueue`) with a `<Name>DeadLetterQueue`.
    pub name: &'static str,
    /// `event_type` values (see `DomainEvent::kind`) delivered to this queue.
    pub event_types: &'static [&'static str],
}

/// Screening, category suggestion, ward, duplicates and routing of new reports.
pub const CLASSIFY: Consumer = Consumer {
    name: "classify",
    event_types: &["report_submitted"],
};

/// SMS and e-mail to the concerned unit, the IOC and leadership.
pub const NOTIFY: Consumer = Consumer {
    name: "notify",
    event_types: &[
        "report_assigned",
        "leadership_informed",
        "referred_to_leadership",
        "directive_issued",
        "report_returned",
        "report_reclassified",
        "unit_urged",
        "deadline_escalated",
        "report_deferred",
        "report_resolved",
    ],
};

/// Redacted public view and the reporter's notifications.
pub const PUBLISH: Consumer = Consumer {
    name: "publish",
    event_types: &[
        "report_published",
        "report_rejected",
        "report_closed",
        "report_reopened",
        "report_rated",
    ],
};

pub const CONSUMERS: [Consumer; 3] = [CLASSIFY, NOTIFY, PUBLISH];

/// Messages delivered this many times without success move to the consumer's DLQ.
pub const MAX_RECEIVE_COUNT: u32 = 5;

impl Consumer {
    /// The SNS subscription filter policy (on the message attribute `event_type`).
    pub fn filter_policy(&self) -> String {
        serde_json::json!({ crate::sns::ATTR_EVENT_TYPE: self.event_types }).to_string()
    }

    pub fn receives(&self, kind: &str) -> bool {
        self.event_types.contains(&kind)
    }
}

/// Every event kind, to check that each one reaches at least one consumer or is knowingly
/// dropped (the `report_screened`, `report_accepted` events only feed the timeline).
pub fn unrouted_kinds(all: &[DomainEvent]) -> Vec<&'static str> {
    all.iter()
        .map(DomainEvent::kind)
        .filter(|k| !CONSUMERS.iter().any(|c| c.receives(k)))
        .collect()
}
