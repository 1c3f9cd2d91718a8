//! Which domain events each SQS consumer receives from the events topic. `template.yaml`
//! declares one subscription per consumer with exactly these filter policies (checked by
//! `infra/aws/tests/template.rs`), and the emulator harness provisions the same.

/// The consumers, as core defines them: one SQS queue each.
pub use phananh_core::app::Consumer;

/// Every consumer queue of the events topic (core's one list).
pub const CONSUMERS: [Consumer; 4] = Consumer::ALL;

/// Messages delivered this many times without success move to the consumer's DLQ.
pub const MAX_RECEIVE_COUNT: u32 = 5;

/// What the AWS wiring needs of a consumer: its queue name and its SNS filter policy. The
/// template's queue is `<Name>Queue` (e.g. `ClassifyQueue`) with a `<Name>DeadLetterQueue`.
pub trait Topology {
    /// Logical name (`classify`, `notify`, `publish`).
    fn name(&self) -> &'static str;
    /// `event_type` values (see `DomainEvent::kind`) delivered to this queue.
    fn event_types(&self) -> Vec<&'static str>;
    /// The SNS subscription filter policy (on the message attribute `event_type`).
    fn filter_policy(&self) -> String;
    fn receives(&self, kind: &str) -> bool;
}

impl Topology for Consumer {
    fn name(&self) -> &'static str {
        self.as_str()
    }

    fn event_types(&self) -> Vec<&'static str> {
        self.kind_names()
    }

    fn filter_policy(&self) -> String {
        serde_json::json!({ crate::sns::ATTR_EVENT_TYPE: self.event_types() }).to_string()
    }

    fn receives(&self, kind: &str) -> bool {
        self.event_types().contains(&kind)
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
            DomainEvent::DeferralDecided {
                unit: "u".into(),
                accepted: true,
                target_date: Some(NaiveDate::MIN),
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
            DomainEvent::SecretFlagged,
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
                | DomainEvent::DeferralDecided { .. }
                | DomainEvent::ReportReturned { .. }
                | DomainEvent::ReportReclassified { .. }
                | DomainEvent::UnitUrged { .. }
                | DomainEvent::ReportPublished
                | DomainEvent::ReportRejected
                | DomainEvent::ReportClosed
                | DomainEvent::ReportReopened
                | DomainEvent::ReportRated { .. }
                | DomainEvent::SecretFlagged
                | DomainEvent::DeadlineEscalated { .. } => {}
            }
        }
        samples.iter().map(DomainEvent::kind).collect()
    }

    #[test]
    fn filters_name_only_real_event_kinds() {
        let kinds = every_kind();
        for c in CONSUMERS {
            assert!(!c.event_types().is_empty(), "{}", c.name());
            for k in c.event_types() {
                assert!(
                    kinds.contains(&k),
                    "{}: unknown event type {k} would never match",
                    c.name()
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
        // Timeline-only events: nobody needs an SMS or e-mail for them, and no figure of the
        // statistics changes (reclassify, close and screening, which sets the ward, reach the stats consumer).
        assert_eq!(unrouted, vec!["report_accepted", "report_rated"]);
    }

    #[test]
    fn filter_policy_is_the_sns_json_shape() {
        let v: serde_json::Value =
            serde_json::from_str(&Consumer::Classify.filter_policy()).unwrap();
        assert_eq!(v, serde_json::json!({"event_type": ["report_submitted"]}));
    }
}
