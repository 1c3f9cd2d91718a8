//! The timer sweep run twice at the same time sends each message once, on both runtimes: the
//! SQLite store with the embedded notifier, and DynamoDB with SNS on moto. Each threshold is
//! recorded on the report under its version check, so only one sweep's escalation is stored.

use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_aws::{DynamoReportStore, SnsNotifier};
use phananh_core::app::{App, Consumer, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::CityRules;
use phananh_embedded::{FakeSmsProvider, OutboxNotifier, SqliteStore, StoreOptions};
use phananh_testkit::actors;
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier};
use phananh_tests::fixtures::TempDir;
use phananh_tests::moto;
use phananh_tests::stream_tap::StreamTap;
use std::sync::Arc;

fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap() - Duration::hours(7)
}

fn app(
    store: Arc<dyn ReportStore>,
    accounts: Arc<dyn AccountStore>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<FixedClock>,
) -> App {
    App::new(
        Arc::new(CityRules::laichau_default().expect("rules")),
        Ports {
            store,
            accounts,
            media: Arc::new(MemoryMedia::default()),
            notifier,
            clock,
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
}

/// The events of the changes so far, to every consumer: from the outbox (SQLite), or from
/// the table's stream as the relay reads it (DynamoDB: `tap`).
async fn pump(
    app: &App,
    store: &dyn ReportStore,
    tap: &mut Option<StreamTap>,
    report: &ReportId,
) -> Vec<EventEnvelope> {
    let mut seen = Vec::new();
    for _ in 0..10 {
        let written = match tap {
            Some(t) => t.next_events().await.expect("stream"),
            None => store.pending_events(500).await.expect("outbox"),
        };
        let pending: Vec<EventEnvelope> = written
            .into_iter()
            .filter(|e| &e.report_id == report)
            .collect();
        if pending.is_empty() {
            break;
        }
        for env in &pending {
            for c in Consumer::ALL {
                app.handle_event(c, env).await.expect("consumer");
            }
        }
        let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
        store.mark_published(&ids).await.expect("mark");
        seen.extend(pending);
    }
    seen
}

/// A 2-hour report assigned at 22:30, both sweeps at 01:30 (75 %, 100 % and 150 % due): three
/// escalations, each once.
async fn two_sweeps_send_once(
    app: &App,
    store: &dyn ReportStore,
    tap: &mut Option<StreamTap>,
    clock: &FixedClock,
) {
    clock.set(local(2026, 11, 25, 22, 0));
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    let input = NewReport {
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
        reporter: None,
        camera_id: None,
    };
    let (r, _) = app
        .submit(&citizen, input, &[], None)
        .await
        .expect("submit");
    pump(app, store, tap, &r.id).await;
    clock.set(local(2026, 11, 25, 22, 30));
    let cmd = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    app.act(&r.id, &actors::ioc_head(), cmd)
        .await
        .expect("assign");
    pump(app, store, tap, &r.id).await;

    clock.set(local(2026, 11, 26, 1, 30));
    let (a, b) = tokio::join!(app.run_escalations(100), app.run_escalations(100));
    let (a, b) = (a.expect("sweep a"), b.expect("sweep b"));
    assert!(a + b >= 1, "someone escalated");
    let events = pump(app, store, tap, &r.id).await;
    let mut keys: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            DomainEvent::DeadlineEscalated { threshold, .. } => Some(threshold.clone()),
            _ => None,
        })
        .collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["100", "150", "75"],
        "each threshold once: {keys:?}"
    );
    // A third sweep finds nothing due.
    assert_eq!(app.run_escalations(100).await.expect("again"), 0);
    assert!(pump(app, store, tap, &r.id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_two_sweeps_at_once_send_each_message_once() {
    let dir = TempDir::new("phananh-sweep");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("store");
    let clock = Arc::new(FixedClock::new(local(2026, 11, 25, 22, 0)));
    let fake = Arc::new(FakeSmsProvider::new());
    let notifier = Arc::new(
        OutboxNotifier::new(store.clone(), None)
            .with_sms(Some(fake.clone()))
            .with_clock(clock.clone()),
    );
    let app = app(
        store.clone(),
        store.clone(),
        notifier.clone(),
        clock.clone(),
    );
    two_sweeps_send_once(&app, store.as_ref(), &mut None, &clock).await;
    // Every SMS handed to the provider once: one provider message per logged notification,
    // and the three thresholds' recipients among them exactly once each.
    use phananh_core::delivery::DeliveryLog;
    let log = notifier
        .recent_deliveries(Some(Channel::Sms), None, 1000)
        .await
        .expect("log");
    assert_eq!(fake.messages().len(), log.len());
    let rules = app.rules();
    let c = |unit: &str| rules.config.unit(unit).unwrap().contacts.clone();
    let count = |to: &str, marker: &str| {
        fake.messages()
            .iter()
            .filter(|m| m.to == to && m.body.contains(marker))
            .count()
    };
    for (to, marker) in [
        (c("trung_tam_y_te").head_sms[0].clone(), "sap den han"),
        (c("ioc").sms[0].clone(), "da qua han"),
        (c("lanh_dao_ubnd").sms[0].clone(), "qua han xu ly keo dai"),
    ] {
        assert_eq!(count(&to, marker), 1, "{to} told once ({marker})");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb_two_sweeps_at_once_send_each_message_once() {
    let p = moto::provision().await.expect("moto");
    let store = Arc::new(DynamoReportStore::from_settings(&p.clients, &p.settings));
    let clock = Arc::new(FixedClock::new(local(2026, 11, 25, 22, 0)));
    let recorder = Arc::new(RecordingNotifier::default());
    let app_rec = app(
        store.clone(),
        store.clone(),
        recorder.clone(),
        clock.clone(),
    );
    let mut tap = Some(
        StreamTap::open(&p.clients, &p.settings.table)
            .await
            .expect("stream"),
    );
    two_sweeps_send_once(&app_rec, store.as_ref(), &mut tap, &clock).await;
    // And through SNS: the same sweep pair on a new report, SMS published once per id.
    let sns = Arc::new(SnsNotifier::from_settings(&p.clients, &p.settings));
    let app_sns = app(store.clone(), store.clone(), sns, clock.clone());
    two_sweeps_send_once(&app_sns, store.as_ref(), &mut tap, &clock).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb_a_report_left_at_triage_alerts_the_ioc_head_once_through_sns() {
    let p = moto::provision().await.expect("moto");
    let store = Arc::new(DynamoReportStore::from_settings(&p.clients, &p.settings));
    let clock = Arc::new(FixedClock::new(local(2026, 11, 25, 9, 0)));
    let sns = Arc::new(SnsNotifier::from_settings(&p.clients, &p.settings));
    let app = app(store.clone(), store.clone(), sns, clock.clone());
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    let input = NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    };
    let mut tap = Some(
        StreamTap::open(&p.clients, &p.settings.table)
            .await
            .expect("stream"),
    );
    let (r, _) = app
        .submit(&citizen, input, &[], None)
        .await
        .expect("submit");
    pump(&app, store.as_ref(), &mut tap, &r.id).await;
    // Wednesday 09:00 + 60 working minutes: the IOC head at 10:00, by both sweeps at once.
    clock.set(local(2026, 11, 25, 9, 59));
    assert_eq!(app.run_escalations(100).await.expect("early"), 0);
    clock.set(local(2026, 11, 25, 10, 0));
    let (a, b) = tokio::join!(app.run_escalations(100), app.run_escalations(100));
    assert!(a.expect("a") + b.expect("b") >= 1);
    let events = pump(&app, store.as_ref(), &mut tap, &r.id).await;
    let keys: Vec<String> = events
        .iter()
        .filter_map(|e| match &e.event {
            DomainEvent::DeadlineEscalated { threshold, .. } => Some(threshold.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(keys.len(), 1, "{keys:?}");
    assert!(keys[0].starts_with("wait.triage."), "{keys:?}");
    let head = app.rules().config.unit("ioc").unwrap().contacts.head_sms[0].clone();
    let event_ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    let publishes = phananh_tests::moto::Moto::shared()
        .recorded_requests()
        .into_iter()
        .map(|q| q.form())
        .filter(|f| f.get("Action").map(String::as_str) == Some("Publish"))
        .filter(|f| f.get("PhoneNumber") == Some(&head))
        .filter(|f| {
            f.values()
                .any(|v| event_ids.iter().any(|id| v.starts_with(id.as_str())))
        })
        .count();
    assert_eq!(publishes, 1, "one SMS to the IOC head");
}

/// An app on a fresh DynamoDB table (moto) at `at`, recording what it would send, with a tap
/// on the table's stream (what the relay would publish).
async fn recording_on_dynamodb(
    at: DateTime<Utc>,
) -> (
    Arc<DynamoReportStore>,
    Arc<FixedClock>,
    Arc<RecordingNotifier>,
    App,
    Option<StreamTap>,
) {
    let p = moto::provision().await.expect("moto");
    let store = Arc::new(DynamoReportStore::from_settings(&p.clients, &p.settings));
    let clock = Arc::new(FixedClock::new(at));
    let recorder = Arc::new(RecordingNotifier::default());
    let app = app(
        store.clone(),
        store.clone(),
        recorder.clone(),
        clock.clone(),
    );
    let tap = Some(
        StreamTap::open(&p.clients, &p.settings.table)
            .await
            .expect("stream"),
    );
    (store, clock, recorder, app, tap)
}

/// Who a sweep at `at` tells (recipients, sorted), after delivering its events.
async fn sweep_at(
    app: &App,
    store: &dyn ReportStore,
    tap: &mut Option<StreamTap>,
    clock: &FixedClock,
    recorder: &RecordingNotifier,
    report: &ReportId,
    at: DateTime<Utc>,
) -> Vec<String> {
    let before = recorder.all().len();
    clock.set(at);
    app.run_escalations(100).await.expect("sweep");
    pump(app, store, tap, report).await;
    let mut to: Vec<String> = recorder.all()[before..]
        .iter()
        .map(|n| n.to.clone())
        .collect();
    to.sort();
    to
}

/// Every SMS number and e-mail address of a unit (its head's when `head`).
fn unit_contacts(app: &App, unit: &str, head: bool) -> Vec<String> {
    let c = &app.rules().config.unit(unit).expect("unit").contacts;
    let (sms, email) = if head {
        (&c.head_sms, &c.head_email)
    } else {
        (&c.sms, &c.email)
    };
    let mut v: Vec<String> = sms.iter().chain(email.iter()).cloned().collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb_friday_afternoon_before_a_holiday_monday_and_a_deferral_past_its_date() {
    // Friday 24/04/2026 14:50; Monday 27/04 is the Hùng Kings holiday (calendar.toml).
    let (store, clock, recorder, app, mut tap) =
        recording_on_dynamodb(local(2026, 4, 24, 14, 50)).await;
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    let input = |category: &str| NewReport {
        category: category.into(),
        title: "Thái độ phục vụ chưa đúng mực".into(),
        description: "Cán bộ tiếp dân trả lời thiếu tôn trọng người dân.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    };
    let (r, _) = app
        .submit(&citizen, input("service_attitude"), &[], None)
        .await
        .expect("submit");
    pump(&app, store.as_ref(), &mut tap, &r.id).await;
    clock.set(local(2026, 4, 24, 15, 0));
    let assign = |unit: &str| Command::Assign {
        lead_unit: unit.into(),
        coordinating_units: vec![],
        note: None,
    };
    app.act(&r.id, &actors::ioc_head(), assign("phong_noi_vu"))
        .await
        .expect("assign");
    pump(&app, store.as_ref(), &mut tap, &r.id).await;
    // 8 working hours: 75 % Tue 11:00, due Tue 15:00, 150 % Wed 09:00; the holiday counts not.
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &r.id,
            local(2026, 4, 27, 12, 0)
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &r.id,
            local(2026, 4, 28, 10, 59)
        )
        .await,
        Vec::<String>::new()
    );
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &r.id,
            local(2026, 4, 28, 11, 0)
        )
        .await,
        unit_contacts(&app, "phong_noi_vu", true)
    );
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &r.id,
            local(2026, 4, 28, 15, 0)
        )
        .await,
        unit_contacts(&app, "ioc", false)
    );
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &r.id,
            local(2026, 4, 29, 9, 0)
        )
        .await,
        unit_contacts(&app, "lanh_dao_ubnd", false)
    );

    // A deferral (Đ.7.5) past its expected date: the unit head and the office, once.
    clock.set(local(2026, 11, 25, 8, 0));
    let (d, _) = app
        .submit(&citizen, input("food_safety"), &[], None)
        .await
        .expect("submit");
    pump(&app, store.as_ref(), &mut tap, &d.id).await;
    clock.set(local(2026, 11, 25, 8, 10));
    app.act(&d.id, &actors::ioc_head(), assign("trung_tam_y_te"))
        .await
        .expect("assign");
    clock.set(local(2026, 11, 25, 8, 30));
    let defer = Command::Defer {
        reason: "Chờ kết quả xét nghiệm mẫu thực phẩm.".into(),
        expected_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
    };
    app.act(&d.id, &actors::unit_staff("trung_tam_y_te"), defer)
        .await
        .expect("defer");
    pump(&app, store.as_ref(), &mut tap, &d.id).await;
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &d.id,
            local(2026, 11, 27, 23, 59)
        )
        .await,
        Vec::<String>::new()
    );
    let mut want = unit_contacts(&app, "trung_tam_y_te", true);
    want.extend(unit_contacts(&app, "van_phong", false));
    want.sort();
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &d.id,
            local(2026, 11, 28, 0, 0)
        )
        .await,
        want
    );
    assert_eq!(
        sweep_at(
            &app,
            store.as_ref(),
            &mut tap,
            &clock,
            &recorder,
            &d.id,
            local(2026, 11, 30, 9, 0)
        )
        .await,
        Vec::<String>::new(),
        "once"
    );
}

/// Đ.7.5 on DynamoDB: a leader accepts a deferral with a later target date; the unit and the
/// office are told (through the table's stream and the notify consumer), and the "past the
/// expected date" alert moves from the day after the unit's date to the day after the target,
/// sent once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_dynamodb_an_accepted_deferral_moves_the_alert_to_its_target_date() {
    let (store, clock, recorder, app, mut tap) =
        recording_on_dynamodb(local(2026, 11, 25, 8, 0)).await;
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    let input = NewReport {
        category: "food_safety".into(),
        title: "Bếp ăn tập thể không bảo đảm vệ sinh".into(),
        description: "Bếp ăn của trường mầm non để thực phẩm sống lẫn chín.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    };
    let (d, _) = app
        .submit(&citizen, input, &[], None)
        .await
        .expect("submit");
    pump(&app, store.as_ref(), &mut tap, &d.id).await;
    clock.set(local(2026, 11, 25, 8, 10));
    let assign = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    app.act(&d.id, &actors::ioc_head(), assign)
        .await
        .expect("assign");
    clock.set(local(2026, 11, 25, 8, 30));
    let defer = Command::Defer {
        reason: "Chờ kết quả xét nghiệm mẫu thực phẩm.".into(),
        expected_date: chrono::NaiveDate::from_ymd_opt(2026, 11, 27).expect("date"),
    };
    app.act(&d.id, &actors::unit_staff("trung_tam_y_te"), defer)
        .await
        .expect("defer");
    pump(&app, store.as_ref(), &mut tap, &d.id).await;

    clock.set(local(2026, 11, 25, 14, 0));
    let before = recorder.all().len();
    let accept = Command::DecideDeferral {
        accept: true,
        target_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 2),
        note: None,
    };
    let r = app
        .act(&d.id, &actors::leader(), accept)
        .await
        .expect("accept");
    assert_eq!(
        r.target_date(),
        chrono::NaiveDate::from_ymd_opt(2026, 12, 2)
    );
    pump(&app, store.as_ref(), &mut tap, &d.id).await;
    let mut told: Vec<String> = recorder.all()[before..]
        .iter()
        .map(|n| n.to.clone())
        .collect();
    told.sort();
    let mut want = unit_contacts(&app, "trung_tam_y_te", false);
    want.extend(unit_contacts(&app, "van_phong", false));
    want.sort();
    assert_eq!(told, want, "the unit and the office hear the decision");

    let mut overdue = unit_contacts(&app, "trung_tam_y_te", true);
    overdue.extend(unit_contacts(&app, "van_phong", false));
    overdue.sort();
    for (at, expect) in [
        (local(2026, 11, 28, 0, 0), Vec::new()),
        (local(2026, 12, 2, 23, 59), Vec::new()),
        (local(2026, 12, 3, 0, 0), overdue),
        (local(2026, 12, 4, 9, 0), Vec::new()),
    ] {
        let got = sweep_at(&app, store.as_ref(), &mut tap, &clock, &recorder, &d.id, at).await;
        assert_eq!(got, expect, "sweep at {at}");
    }
}
