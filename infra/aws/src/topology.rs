//! Which domain events each SQS consumer receives from the events topic. `template.yaml`
//! declares one subscription per consumer with exactly these filter policies (checked by
//! `infra/aws/tests/template.rs`), and the emulator harness provisions the same.

use phananh_core::service::consumers;

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
    event_types: consumers::CLASSIFY_KINDS,
};

/// SMS and e-mail to the concerned unit, the IOC and leadership.
pub const NOTIFY: Consumer = Consumer {
    name: "notify",
    event_types: consumers::NOTIFY_KINDS,
};

/// Redacted public view and the reporter's notifications.
pub const PUBLISH: Consumer = Consumer {
    name: "publish",
    event_types: consumers::PUBLISH_KINDS,
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, Utc};
    use phananh_core::model::DomainEvent;
    use phananh_core::model::EscalationLevel;

    /// One value of every `DomainEvent` variant (the match makes a new variant a compile error
    /// here until it is listed).
    fn every_kind() -> Vec<&'static str> {
        let samples = vec![
            DomainEvent::ReportSubmitted,
            DomainEvent::ReportScreened {
                auto_assignable: true,
            },
            DomainEvent::ReportAssigned {
                lead_unit: "u".into(),
                coordinating_units: vec![],
                due_at: Utc::now(),
            },
            DomainEvent::LeadershipInformed,
            DomainEvent::ReferredToLeadership,
            DomainEvent::DirectiveIssued { seq: 1 },
            DomainEvent::ReportAccepted,
            DomainEvent::ReportResolved {
                unit: "u".into(),
                on_time: true,
            },
            DomainEvent::ReportDeferred {
                unit: "u".into(),
                expected_date: NaiveDate::MIN,
            },
            DomainEvent::ReportReturned { unit: "u".into() },
            DomainEvent::ReportReclassified {
                from: "a".into(),
                to: "b".into(),
            },
            DomainEvent::UnitUrged { unit: "u".into() },
            DomainEvent::ReportPublished,
            DomainEvent::ReportRejected,
            DomainEvent::ReportClosed,
            DomainEvent::ReportReopened,
            DomainEvent::ReportRated { stars: 4 },
            DomainEvent::DeadlineEscalated {
                threshold: "100".into(),
                level: EscalationLevel::Ioc,
                unit: "u".into(),
            },
        ];
        for e in &samples {
            match e {
                DomainEvent::ReportSubmitted
                | DomainEvent::ReportScreened { .. }
                | DomainEvent::ReportAssigned { .. }
                | DomainEvent::LeadershipInformed
                | DomainEvent::ReferredToLeadership
                | DomainEvent::DirectiveIssued { .. }
                | DomainEvent::ReportAccepted
                | DomainEvent::ReportResolved { .. }
                | DomainEvent::ReportDeferred { .. }
                | DomainEvent::ReportReturned { .. }
                | DomainEvent::ReportReclassified { .. }
                | DomainEvent::UnitUrged { .. }
                | DomainEvent::ReportPublished
                | DomainEvent::ReportRejected
                | DomainEvent::ReportClosed
                | DomainEvent::ReportReopened
                | DomainEvent::ReportRated { .. }
                | DomainEvent::DeadlineEscalated { .. } => {}
            }
        }
        samples.iter().map(DomainEvent::kind).collect()
    }

    #[test]
    fn filters_name_only_real_event_kinds() {
        let kinds = every_kind();
        for c in CONSUMERS {
            assert!(!c.event_types.is_empty(), "{}", c.name);
            for k in c.event_types {
                assert!(
                    kinds.contains(k),
                    "{}: unknown event type {k} would never match",
                    c.name
                );
            }
        }
    }

    #[test]
    fn only_timeline_events_reach_no_consumer() {
        let unrouted: Vec<&str> = every_kind()
            .into_iter()
            .filter(|k| !CONSUMERS.iter().any(|c| c.receives(k)))
            .collect();
        // Timeline-only events: nobody needs an SMS or e-mail for them.
        assert_eq!(
            unrouted,
            vec![
                "report_screened",
                "report_accepted",
                "report_reclassified",
                "report_closed",
                "report_rated"
            ]
        );
    }

    #[test]
    fn filter_policy_is_the_sns_json_shape() {
        let v: serde_json::Value = serde_json::from_str(&CLASSIFY.filter_policy()).unwrap();
        assert_eq!(v, serde_json::json!({"event_type": ["report_submitted"]}));
    }
}
