//! Use cases over in-memory ports: consumers, notifications, escalation timer, outbox relay.

use async_trait::async_trait;
use chrono::{Duration, TimeZone, Utc};
use phananh_core::app::{App, Consumer};
use phananh_core::ids::IdempotencyKey;
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::DomainError;
use phananh_testkit::app::TestApp;
use phananh_testkit::fakes::{FixedClock, MemoryStore, RecordingNotifier};
use std::sync::{Arc, Mutex};

struct World {
    app: App,
    store: Arc<MemoryStore>,
    notifier: Arc<RecordingNotifier>,
    clock: Arc<FixedClock>,
}

fn world() -> World {
    let t = TestApp::new();
    // Wednesday 2026-11-25 09:00 local.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap());
    World {
        app: t.app,
        store: t.store,
        notifier: t.notifier,
        clock: t.clock,
    }
}

fn key(k: &str) -> IdempotencyKey {
    IdempotencyKey::parse(k).unwrap()
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
            for c in Consumer::ALL {
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
        .submit(&citizen(), input(), &[], Some(&key("k1")))
        .await
        .unwrap();
    assert!(created);
    let env = w.store.pending_events(10).await.unwrap()[0].clone();
    w.app.handle_event(Consumer::Classify, &env).await.unwrap();
    let screened = w.store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(screened.state, State::Screened);
    assert_eq!(
        screened.flags.suggestion.as_ref().unwrap().category,
        "food_safety"
    );
    assert!(screened.ward.is_some(), "ward resolved from the location");
    // The same message again (at-least-once delivery): nothing changes.
    w.app.handle_event(Consumer::Classify, &env).await.unwrap();
    assert_eq!(w.store.get(&r.id).await.unwrap().unwrap(), screened);
    // The same Idempotency-Key makes no second report.
    let (again, created) = w
        .app
        .submit(&citizen(), input(), &[], Some(&key("k1")))
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
            Some(&key("k1")),
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
    let cfg = &w.app.rules().config;
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
    let head = &w
        .app
        .rules()
        .config
        .unit("trung_tam_y_te")
        .unwrap()
        .contacts;
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
    w.app = w.app.clone().with_publisher(Some(bus.clone()));
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
    // The reporter was told of the receipt; what follows the rejection is counted here.
    let before = w.notifier.all().len();
    w.app.act(&r.id, &ioc_head(), reject).await.unwrap();
    pump(&w).await;
    let sent: Vec<_> = w.notifier.all().into_iter().skip(before).collect();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        (sent[0].channel, sent[0].to.as_str()),
        (Channel::Sms, "+84911222333")
    );
    assert!(sent[0].unit.is_none());
    assert!(
        sent[0].body.contains("khong duoc tiep nhan"),
        "{}",
        sent[0].body
    );
}

// ---------------------------------------------------------------- fixes found in review

#[tokio::test]
async fn a_rejected_reporter_with_an_e_mail_gets_the_rejection_text_not_the_published_one() {
    let w = world();
    let mut with_email = input();
    if let Some(rep) = with_email.reporter.as_mut() {
        rep.email = Some("minh.lo@example.vn".into());
    }
    let (r, _) = w
        .app
        .submit(&citizen(), with_email, &[], None)
        .await
        .unwrap();
    pump(&w).await;
    let reject = Command::Reject {
        reason: "Nội dung trùng với phản ánh đã xử lý".into(),
    };
    let before = w.notifier.all().len();
    w.app.act(&r.id, &ioc_head(), reject).await.unwrap();
    pump(&w).await;
    let mail = w
        .notifier
        .all()
        .into_iter()
        .skip(before)
        .find(|n| n.channel == Channel::Email)
        .expect("an e-mail to the reporter");
    assert_eq!(mail.to, "minh.lo@example.vn");
    let subject = mail.subject.unwrap_or_default();
    assert!(subject.contains("không được tiếp nhận"), "{subject}");
    assert!(!subject.contains("Kết quả xử lý"), "{subject}");
}

#[tokio::test]
async fn the_same_idempotency_key_with_another_body_is_refused_and_the_same_body_is_not() {
    let w = world();
    let (first, created) = w
        .app
        .submit(&citizen(), input(), &[], Some(&key("tap-1")))
        .await
        .unwrap();
    assert!(created);
    let mut other = input();
    other.title = "Một phản ánh khác hẳn".into();
    let refused = w
        .app
        .submit(&citizen(), other, &[], Some(&key("tap-1")))
        .await
        .unwrap_err();
    assert_eq!(refused, DomainError::IdempotencyKeyReused);
    assert_eq!(refused.code(), "idempotency_key_reused");
    let (again, created) = w
        .app
        .submit(&citizen(), input(), &[], Some(&key("tap-1")))
        .await
        .unwrap();
    assert!(!created);
    assert_eq!(again.id, first.id);
}

#[tokio::test]
async fn a_reopened_report_is_open_again_for_statistics_and_deadlines() {
    let w = world();
    let r = assigned_to_health_centre(&w).await;
    let unit = Actor::new("u-yte", Role::UnitStaff, Some("trung_tam_y_te"));
    let ev = Attachment {
        id: "ev-1".into(),
        kind: MediaKind::Photo,
        content_type: "image/jpeg".into(),
        size: 10,
        key: "media/x/ev-1".into(),
        public_key: None,
        public: false,
        thumb_key: None,
        location_hint: None,
    };
    let resolve = Command::Resolve {
        summary: "Đã lấy mẫu và xử phạt".into(),
        evidence: vec![ev],
    };
    w.app.act(&r.id, &unit, resolve).await.unwrap();
    let publish = Command::Publish {
        public_answer: "Đã xử lý".into(),
        public_attachments: vec![],
    };
    w.app.act(&r.id, &ioc_head(), publish).await.unwrap();
    let reopen = Command::Reopen {
        reason: "Quán vẫn bán thực phẩm hỏng".into(),
    };
    let reopened = w.app.act(&r.id, &citizen(), reopen).await.unwrap();
    assert_eq!(reopened.state, State::Screened);
    assert!(
        reopened.resolution.is_none(),
        "the old result is history now"
    );
    assert!(
        reopened
            .timeline
            .iter()
            .any(|e| e.action == Action::Resolve),
        "the old result stays on the timeline"
    );
    // Assigned again a day later: nothing counts as resolved, no negative duration.
    w.clock.advance(Duration::days(1));
    let again = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    w.app.act(&r.id, &ioc_head(), again).await.unwrap();
    let office = Actor::new("office-1", Role::OfficeAdmin, None);
    let stats = w.app.stats(&office, None, None, 100).await.unwrap();
    assert_eq!(stats.resolved, 0, "{stats:?}");
    assert_eq!(stats.median_minutes_to_resolve, None);
}

/// A notifier that refuses one address and records the others.
#[derive(Default)]
struct RefusesOne {
    refused: String,
    sent: Mutex<Vec<Notification>>,
}

#[async_trait]
impl Notifier for RefusesOne {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        if n.to == self.refused {
            return Err(NotifyError(format!("recipient refused: {}", n.to)));
        }
        self.sent.lock().unwrap().push(n.clone());
        Ok(())
    }
}

#[tokio::test]
async fn one_failing_recipient_does_not_keep_the_others_from_being_told() {
    let t = TestApp::new();
    let refusing = Arc::new(RefusesOne {
        refused: "+84900001040".into(),
        ..Default::default()
    });
    let app = App::new(
        Arc::new(t.app.rules().clone()),
        phananh_core::app::Ports {
            store: t.store.clone(),
            accounts: t.store.clone(),
            media: t.media.clone(),
            notifier: refusing.clone(),
            clock: t.clock.clone(),
            ids: Arc::new(phananh_testkit::fakes::SeqIds::default()),
            passwords: t.passwords.clone(),
        },
    );
    let w = World {
        app,
        store: t.store.clone(),
        notifier: t.notifier.clone(),
        clock: t.clock.clone(),
    };
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    pump(&w).await;
    let assign = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    let r = w.app.act(&r.id, &ioc_head(), assign).await.unwrap();
    let assigned = w
        .store
        .pending_events(10)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.report_id == r.id && e.kind() == "report_assigned")
        .unwrap();
    let unit = w.app.rules().config.unit("trung_tam_y_te").unwrap().clone();
    assert!(
        unit.contacts.sms.contains(&refusing.refused),
        "test setup: {unit:?}"
    );
    // The failure is reported (so the event is retried) ...
    assert!(w
        .app
        .handle_event(Consumer::Notify, &assigned)
        .await
        .is_err());
    // ... but every other recipient was told.
    let sent: Vec<String> = refusing
        .sent
        .lock()
        .unwrap()
        .iter()
        .map(|n| n.to.clone())
        .collect();
    for email in &unit.contacts.email {
        assert!(sent.contains(email), "{email} not told: {sent:?}");
    }
}

#[tokio::test]
async fn staff_login_does_the_same_password_work_for_unknown_usernames() {
    let t = TestApp::new();
    let office = Actor::new("office-1", Role::OfficeAdmin, None);
    let new = phananh_core::app::NewAccount {
        username: "kinhte.staff".into(),
        display_name: "Cán bộ Phòng Kinh tế".into(),
        role: Role::UnitStaff,
        unit: Some("phong_kinh_te".into()),
        password: "mat-khau-dai-du".into(),
    };
    t.app.create_account(&office, new).await.unwrap();
    let count = || {
        t.passwords
            .verifications
            .load(std::sync::atomic::Ordering::SeqCst)
    };
    let actor = t
        .app
        .login("KinhTe.Staff", "mat-khau-dai-du")
        .await
        .unwrap();
    assert_eq!(
        (actor.role, actor.unit.as_deref()),
        (Role::UnitStaff, Some("phong_kinh_te"))
    );
    assert_eq!(count(), 1);
    assert_eq!(
        t.app
            .login("kinhte.staff", "sai-mat-khau")
            .await
            .unwrap_err(),
        DomainError::InvalidCredentials
    );
    assert_eq!(count(), 2);
    assert_eq!(
        t.app
            .login("khong.ton.tai", "mat-khau-dai-du")
            .await
            .unwrap_err(),
        DomainError::InvalidCredentials
    );
    assert_eq!(count(), 3, "an unknown username costs one verification too");
}

#[tokio::test]
async fn only_the_office_manages_accounts_and_the_policy_is_checked_once() {
    let t = TestApp::new();
    let office = Actor::new("office-1", Role::OfficeAdmin, None);
    let base = phananh_core::app::NewAccount {
        username: "ward.staff".into(),
        display_name: "Cán bộ phường".into(),
        role: Role::UnitStaff,
        unit: Some("ubnd_tan_phong".into()),
        password: "mat-khau-dai-du".into(),
    };
    let leader = Actor::new("leader-1", Role::Leader, None);
    assert!(matches!(
        t.app.create_account(&leader, base.clone()).await,
        Err(DomainError::Forbidden { .. })
    ));
    let short = phananh_core::app::NewAccount {
        password: "ngan".into(),
        ..base.clone()
    };
    assert!(matches!(
        t.app.create_account(&office, short).await,
        Err(DomainError::Invalid { field, .. }) if field == "password"
    ));
    let citizen_role = phananh_core::app::NewAccount {
        role: Role::Citizen,
        ..base.clone()
    };
    assert!(matches!(
        t.app.create_account(&office, citizen_role).await,
        Err(DomainError::Invalid { field, .. }) if field == "role"
    ));
    let acc = t.app.create_account(&office, base.clone()).await.unwrap();
    assert!(matches!(
        t.app.create_account(&office, base).await,
        Err(DomainError::AlreadyExists { .. })
    ));
    assert!(
        t.app
            .set_account_disabled(&office, &acc.id, true)
            .await
            .unwrap()
            .disabled
    );
    assert_eq!(
        t.app
            .login("ward.staff", "mat-khau-dai-du")
            .await
            .unwrap_err(),
        DomainError::InvalidCredentials,
        "a disabled account cannot sign in"
    );
}

#[tokio::test]
async fn a_citizen_sign_in_code_goes_to_one_normalised_contact_without_diacritics_by_sms() {
    use phananh_core::app::sign_in_contact;
    let w = world();
    let (to, channel) = sign_in_contact(Some("0912 345 678"), None).unwrap();
    assert_eq!((to.as_str(), channel), ("+84912345678", Channel::Sms));
    let (to_mail, _) = sign_in_contact(None, Some("Hoa@Example.VN")).unwrap();
    assert_eq!(to_mail, "hoa@example.vn");
    for (phone, email, field) in [
        (Some("12"), None, "phone"),
        (None, Some("hoa"), "email"),
        (Some("0912345678"), Some("hoa@example.vn"), "phone"),
        (None, None, "phone"),
    ] {
        assert!(matches!(
            sign_in_contact(phone, email),
            Err(DomainError::Invalid { field: f, .. }) if f == field
        ));
    }
    w.app
        .send_sign_in_code(&to, channel, "123456", 42)
        .await
        .unwrap();
    let sent = w.notifier.all();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].to, "+84912345678");
    assert!(sent[0].body.contains("123456"));
    assert!(
        sent[0].body.is_ascii(),
        "SMS without diacritics: {}",
        sent[0].body
    );
}

#[tokio::test]
async fn the_ioc_sees_the_proposed_unit_and_the_deadline_an_assignment_now_would_get() {
    let w = world();
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    pump(&w).await;
    let r = w.store.get(&r.id).await.unwrap().unwrap();
    let p = w.app.propose_assignment(&r);
    // Đ.7.4.g: food safety goes to the health centre, within 2 clock hours.
    assert_eq!(p.lead_unit.as_deref(), Some("trung_tam_y_te"));
    assert_eq!(p.due_at, Some(w.app.now() + Duration::hours(2)));
    let assigned = w
        .app
        .act(
            &r.id,
            &ioc_head(),
            Command::Assign {
                lead_unit: "trung_tam_y_te".into(),
                coordinating_units: vec![],
                note: None,
            },
        )
        .await
        .unwrap();
    assert_eq!(
        assigned.due_at(),
        p.due_at,
        "the page shows the deadline that is set"
    );
}

/// A stored report created at `created_at`, resolved by `unit` (on time or not) when given.
async fn stored_for_stats(
    w: &World,
    id: &str,
    created_at: chrono::DateTime<Utc>,
    resolved_by: Option<(&str, bool)>,
) {
    use phananh_testkit::fixtures;
    let mut r = fixtures::report(id, created_at);
    if let Some((unit, on_time)) = resolved_by {
        r = fixtures::assigned(r, unit, &[], created_at + Duration::hours(8));
        r = fixtures::in_state(r, State::Resolved);
        r.resolution = Some(Resolution {
            summary: "Đã xử lý".into(),
            evidence: vec![],
            unit: unit.into(),
            resolved_at: created_at + Duration::hours(2),
            on_time,
        });
    }
    w.store.create(&r, &[], None).await.unwrap();
}

#[tokio::test]
async fn statistics_count_reports_by_local_month_and_units_on_time() {
    let w = world();
    // 2026-11-30 20:00 UTC is 03:00 on 1 December in Lai Châu: a December report.
    let late_evening = Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap();
    let november = Utc.with_ymd_and_hms(2026, 11, 10, 2, 0, 0).unwrap();
    stored_for_stats(&w, "s-1", late_evening, Some(("ubnd_tan_phong", true))).await;
    stored_for_stats(&w, "s-2", november, Some(("ubnd_tan_phong", false))).await;
    stored_for_stats(&w, "s-3", november, Some(("phong_tnmt", true))).await;
    stored_for_stats(&w, "s-4", november, None).await;
    // Stored around the use cases: counted by the rebuild from the reports.
    w.app.rebuild_stats(&Actor::system()).await.unwrap();
    let office = Actor::new("office-1", Role::OfficeAdmin, None);
    let stats = w.app.stats(&office, None, None, 100).await.unwrap();
    assert_eq!(stats.total, 4);
    assert_eq!(
        stats.by_month.get("2026-12"),
        Some(&1),
        "{:?}",
        stats.by_month
    );
    assert_eq!(
        stats.by_month.get("2026-11"),
        Some(&3),
        "{:?}",
        stats.by_month
    );
    let ward = &stats.on_time_by_unit["ubnd_tan_phong"];
    assert_eq!((ward.resolved, ward.on_time), (2, 1));
    assert!((ward.rate - 0.5).abs() < 1e-9);
    let env = &stats.on_time_by_unit["phong_tnmt"];
    assert_eq!((env.resolved, env.on_time), (1, 1));
    assert!((env.rate - 1.0).abs() < 1e-9);
    assert_eq!(
        stats.on_time_by_unit.len(),
        2,
        "only units that resolved something"
    );
    assert_eq!((stats.resolved, stats.resolved_on_time), (3, 2));
    // The API's JSON carries the new figures and older JSON without them still reads.
    let json = serde_json::to_value(&stats).unwrap();
    assert_eq!(json["by_month"]["2026-12"], 1);
    assert_eq!(json["on_time_by_unit"]["phong_tnmt"]["on_time"], 1);
    let mut old = json.clone();
    old.as_object_mut().unwrap().remove("by_month");
    old.as_object_mut().unwrap().remove("on_time_by_unit");
    let read: phananh_core::app::Stats = serde_json::from_value(old).unwrap();
    assert!(read.by_month.is_empty());
}
