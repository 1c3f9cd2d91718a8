//! `EventBus` contract: every published event reaches the subscribed consumer, unchanged,
//! at least once.

use super::BoxFuture;
use crate::fixtures::*;
use phananh_core::model::{DomainEvent, EscalationLevel, EventEnvelope};
use phananh_core::ports::EventBus;
use std::collections::BTreeMap;

/// `drain` returns what the consumer received since the last call (it may run a worker pass
/// or poll a queue); it is called at most `max_polls` times until everything arrived.
pub async fn event_bus_contract<D>(bus: &dyn EventBus, drain: D, max_polls: usize)
where
    D: Fn() -> BoxFuture<'static, Vec<EventEnvelope>>,
{
    let r = report(&unique("bus"), at(0));
    let events = vec![
        submitted(&r),
        event(
            &r,
            1,
            DomainEvent::ReportScreened {
                auto_assignable: false,
            },
        ),
        event(
            &r,
            2,
            DomainEvent::DeadlineEscalated {
                threshold: "100".into(),
                level: EscalationLevel::Ioc,
                unit: "ubnd_tan_phong".into(),
            },
        ),
    ];
    bus.publish(&[]).await.expect("publishing nothing is fine");
    bus.publish(&events[..2]).await.expect("publish");
    bus.publish(&events[2..]).await.expect("publish");

    let mut received: BTreeMap<String, EventEnvelope> = BTreeMap::new();
    for _ in 0..max_polls.max(1) {
        for e in drain().await {
            if let Some(prev) = received.get(&e.id) {
                assert_eq!(prev, &e, "a redelivery carries the same event");
            }
            received.insert(e.id.clone(), e);
        }
        if events.iter().all(|e| received.contains_key(&e.id)) {
            break;
        }
    }
    for e in &events {
        assert_eq!(
            received.get(&e.id),
            Some(e),
            "event {} delivered unchanged",
            e.id
        );
    }
    // Nothing that was not published shows up (other reports' events are ignored).
    assert!(received
        .keys()
        .filter(|id| id.starts_with(r.id.as_str()))
        .all(|id| events.iter().any(|e| &e.id == id)));
}
