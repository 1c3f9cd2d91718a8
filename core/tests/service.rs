//! Use cases over in-memory ports: consumers, notifications, escalation timer, outbox relay.

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::memory::{FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::service::{consumers, App};
use phananh_core::{DomainError, Rules};
use std::sync::{Arc, Mutex};

struct World {
    app: App,
    store: Arc<MemoryStore>,
    notifier: Arc<RecordingNotifier>,
    clock: Arc<FixedClock>,
}

fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let notifier = Arc::new(RecordingNotifier::default());
    // Wednesday 2026-11-25 09:00 local.
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap(),
    ));
    let app = App {
        rules: Arc::new(Rules::laichau_default().unwrap()),
        store: store.clone(),
        accounts: store.clone(),
        media: Arc::new(MemoryMedia::default()),
        notifier: notifier.clone(),
        clock: clock.clone(),
        ids: Arc::new(SeqIds::default()),
        publisher: None,
    };
    World {
        app,
        store,
        notifier,
        clock,
    }
}

fn citizen() -> Actor {
    Actor::new("dev-1", Role::Citizen, None)
}
fn ioc_head() -> Actor {
    Actor::new("acc-head", Role::IocHead, Some("ioc"))
}

fn input() -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Minh".into()),
            phone: Some("0911222333".into()),
            email: None,
        }),
        camera_id: None,
    }
}

/// Delivers every pending outbox event to every consumer, like the queues do.
async fn pump(w: &World) -> usize {
    let mut n = 0;
    for _ in 0..10 {
        let pending = w.store.pending_events(100).await.unwrap();
        if pending.is_empty() {
            break;
        }
        for env in &pending {
            for c in consumers::ALL {
                w.app.handle_event(c, env).await.unwrap();
            }
        }
        let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
        w.store.mark_published(&ids).await.unwrap();
        n += ids.len();
    }
    n
}

/// A food-safety report, screened and assigned by the IOC head to the health centre
/// (Đ.7.4.g), with every resulting event delivered.
async fn assigned_to_health_centre(w: &World) -> Report {
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    pump(w).await;
    let cmd = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    let r = w.app.act(&r.id, &ioc_head(), cmd).await.unwrap();
    pump(w).await;
    r
}

#[tokio::test]
async fn submission_is_screened_by_the_classify_consumer_and_redelivery_changes_nothing() {
    let w = world();
    let (r, created) = w
        .app
        .submit(&citizen(), input(), &[], Some("k1"))
        .await
        .unwrap();
    assert!(created);
    let env = w.store.pending_events(10).await.unwrap()[0].clone();
    w.app.handle_event(consumers::CLASSIFY, &env).await.unwrap();
    let screened = w.store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(screened.state, State::Screened);
    assert_eq!(
        screened.flags.suggestion.as_ref().unwrap().category,
        "food_safety"
    );
    assert!(screened.ward.is_some(), "ward resolved from the location");
    // The same message again (at-least-once delivery): nothing changes.
    w.app.handle_event(consumers::CLASSIFY, &env).await.unwrap();
    assert_eq!(w.store.get(&r.id).await.unwrap().unwrap(), screened);
    // The same Idempotency-Key makes no second report.
    let (again, created) = w
        .app
        .submit(&citizen(), input(), &[], Some("k1"))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, r.id);
    // The key is scoped to the citizen: another citizen's same key is another report.
    let (other, created) = w
        .app
        .submit(
            &Actor::new("dev-2", Role::Citizen, None),
            input(),
            &[],
            Some("k1"),
        )
        .await
        .unwrap();
    assert!(created);
    assert_ne!(other.id, r.id);
}

#[tokio::test]
async fn the_assigned_unit_and_leadership_are_told_and_no_one_else() {
    let w = world();
    assigned_to_health_centre(&w).await;
    let sent = w.notifier.all();
    let units: std::collections::BTreeSet<_> = sent.iter().filter_map(|n| n.unit.clone()).collect();
    // Đ.7.4.g: the health centre handles; Đ.7.2: leadership informed at the same time.
    assert_eq!(
        units,
        ["lanh_dao_ubnd".to_string(), "trung_tam_y_te".to_string()].into()
    );
    let cfg = &w.app.rules.config;
    let health = cfg.unit("trung_tam_y_te").unwrap();
    for to in health.contacts.sms.iter().chain(&health.contacts.email) {
        assert!(sent.iter().any(|n| &n.to == to), "{to} not told");
    }
    // SMS without diacritics (GSM-7) by default; e-mail keeps them.
    for n in sent.iter().filter(|n| n.channel == Channel::Sms) {
        assert!(n.body.is_ascii(), "SMS not plain: {}", n.body);
        assert!(!n.body.contains('{'), "unfilled placeholder: {}", n.body);
    }
    // The reporter's data is never in a unit's notification.
    assert!(sent
        .iter()
        .all(|n| !n.body.contains("0911222333") && !n.body.contains("Lò Văn Minh")));
    // Redelivery sends nothing new (ids are stable).
    let before = sent.len();
    let all = w
        .store
        .query(&ReportQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.items.len(), 1);
    pump(&w).await;
    assert_eq!(w.notifier.all().len(), before);
}

#[tokio::test]
async fn escalations_go_unit_head_then_ioc_then_leadership_exactly_once() {
    let w = world();
    let r = assigned_to_health_centre(&w).await;
    let base = w.notifier.all().len();
    // 2-hour deadline (Đ.7.4.g). Before 75 %: nothing.
    w.clock.advance(Duration::minutes(80));
    assert_eq!(w.app.run_escalations(10).await.unwrap(), 0);
    // At 75 % (90 min): the unit head.
    w.clock.advance(Duration::minutes(10));
    assert_eq!(w.app.run_escalations(10).await.unwrap(), 1);
    assert_eq!(w.app.run_escalations(10).await.unwrap(), 0, "exactly once");
    pump(&w).await;
    let new: Vec<_> = w.notifier.all().into_iter().skip(base).collect();
    assert!(!new.is_empty());
    assert!(new
        .iter()
        .all(|n| n.unit.as_deref() == Some("trung_tam_y_te")));
    let head = &w.app.rules.config.unit("trung_tam_y_te").unwrap().contacts;
    assert!(new
        .iter()
        .all(|n| head.head_sms.contains(&n.to) || head.head_email.contains(&n.to)));
    // Past the deadline: the IOC; at 150 %: leadership.
    w.clock.advance(Duration::minutes(31));
    assert_eq!(w.app.run_escalations(10).await.unwrap(), 1);
    w.clock.advance(Duration::minutes(60));
    assert_eq!(w.app.run_escalations(10).await.unwrap(), 1);
    assert_eq!(w.app.run_escalations(10).await.unwrap(), 0);
    pump(&w).await;
    let units: Vec<_> = w
        .notifier
        .all()
        .into_iter()
        .skip(base)
        .filter_map(|n| n.unit)
        .collect();
    assert!(units.contains(&"ioc".to_string()) && units.contains(&"lanh_dao_ubnd".to_string()));
    let rep = w.store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(rep.escalation.sent, vec!["75", "100", "150"]);
    assert!(rep.is_overdue(w.app.now()));
}

#[derive(Default)]
struct FlakyBus {
    fail: Mutex<bool>,
    got: Mutex<Vec<String>>,
}

#[async_trait]
impl EventBus for FlakyBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        if *self.fail.lock().unwrap() {
            return Err(BusError("down".into()));
        }
        self.got
            .lock()
            .unwrap()
            .extend(events.iter().map(|e| e.id.clone()));
        Ok(())
    }
}

#[tokio::test]
async fn the_outbox_relay_publishes_what_a_crash_left_behind_and_loses_nothing() {
    let w = world();
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    let bus = FlakyBus::default();
    // A fresh event belongs to the writer publishing it right now: not the relay's yet.
    assert_eq!(w.app.relay_outbox(&bus, 10).await.unwrap(), 0);
    w.clock.advance(Duration::seconds(30));
    *bus.fail.lock().unwrap() = true;
    assert!(w.app.relay_outbox(&bus, 10).await.is_err());
    // Still pending after the failed publish.
    assert_eq!(w.store.pending_events(10).await.unwrap().len(), 1);
    *bus.fail.lock().unwrap() = false;
    assert_eq!(w.app.relay_outbox(&bus, 10).await.unwrap(), 1);
    assert_eq!(*bus.got.lock().unwrap(), vec![format!("{}:1:0", r.id)]);
    assert_eq!(w.app.relay_outbox(&bus, 10).await.unwrap(), 0);
}

#[tokio::test]
async fn units_and_citizens_cannot_widen_their_lists() {
    let w = world();
    let r = assigned_to_health_centre(&w).await;
    let other = Actor::new("s", Role::UnitStaff, Some("phong_kinh_te"));
    assert!(w
        .app
        .list(
            &other,
            ReportQuery {
                limit: 10,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty());
    assert!(matches!(
        w.app
            .list(
                &other,
                ReportQuery {
                    unit: Some("trung_tam_y_te".into()),
                    limit: 10,
                    ..Default::default()
                }
            )
            .await,
        Err(DomainError::OutOfUnitScope { .. })
    ));
    let stranger = Actor::new("dev-9", Role::Citizen, None);
    assert!(w
        .app
        .list(
            &stranger,
            ReportQuery {
                limit: 10,
                ..Default::default()
            }
        )
        .await
        .unwrap()
        .items
        .is_empty());
    assert_eq!(
        w.app.get_for(&r.id, &stranger).await.unwrap_err(),
        DomainError::NotFound
    );
}

#[tokio::test]
async fn with_a_publisher_events_leave_at_once_and_nothing_waits_in_the_outbox() {
    let mut w = world();
    let bus = Arc::new(FlakyBus::default());
    w.app.publisher = Some(bus.clone());
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    assert_eq!(*bus.got.lock().unwrap(), vec![format!("{}:1:0", r.id)]);
    assert!(w.store.pending_events(10).await.unwrap().is_empty());
    // A failing bus leaves the events for the relay: nothing is lost.
    *bus.fail.lock().unwrap() = true;
    w.app.classify(&r.id).await.unwrap();
    assert_eq!(w.store.pending_events(10).await.unwrap().len(), 1);
}

#[tokio::test]
async fn a_rejected_reporter_is_told_and_no_unit_hears_of_it() {
    let w = world();
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    pump(&w).await;
    let reject = Command::Reject {
        reason: "Nội dung trùng với phản ánh đã xử lý".into(),
    };
    w.app.act(&r.id, &ioc_head(), reject).await.unwrap();
    pump(&w).await;
    let sent = w.notifier.all();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].channel, sent[0].to.as_str()),
        (Channel::Sms, "0911222333")
    );
    assert!(sent[0].unit.is_none());
    assert!(
        sent[0].body.contains("khong duoc tiep nhan"),
        "{}",
        sent[0].body
    );
}
