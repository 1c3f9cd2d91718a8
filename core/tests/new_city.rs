//! A second city by configuration only: the example town of `config/example-town/`
//! ("Thị xã Mẫu (ví dụ)", fictional) loads, validates, and runs a report from submission to
//! publication on the in-memory fakes with its own wards, units, deadlines and calendar.
//! docs/new-city.md walks through the same folder.

use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_core::app::{App, Consumer, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::CityRules;
use phananh_testkit::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

/// `config/example-town/` of the repository.
fn example_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("config")
        .join("example-town")
}

/// The example town's rules, loaded once from its folder (not compiled in).
fn example() -> &'static CityRules {
    static RULES: OnceLock<CityRules> = OnceLock::new();
    RULES.get_or_init(|| match CityRules::load_dir(&example_dir()) {
        Ok(r) => r,
        Err(e) => panic!("config/example-town is refused:\n{e}"),
    })
}

/// Local time of the example town (Asia/Ho_Chi_Minh, UTC+7) as a UTC instant.
fn local(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(7)
}

struct Town {
    app: App,
    store: Arc<MemoryStore>,
    notifier: Arc<RecordingNotifier>,
}

/// An app on the testkit's in-memory fakes with the example town's rules, its clock at `now`.
fn town(now: DateTime<Utc>) -> Town {
    let store = Arc::new(MemoryStore::default());
    let notifier = Arc::new(RecordingNotifier::default());
    let app = App::new(
        Arc::new(example().clone()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: notifier.clone(),
            clock: Arc::new(FixedClock::new(now)),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    Town {
        app,
        store,
        notifier,
    }
}

/// Delivers every pending outbox event to `consumer` (the queues' job) and marks it published.
async fn deliver(t: &Town, consumer: Consumer) {
    let pending = t.store.pending_events(100).await.unwrap();
    for env in &pending {
        t.app.handle_event(consumer, env).await.unwrap();
    }
    let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
    t.store.mark_published(&ids).await.unwrap();
}

fn citizen() -> Actor {
    Actor::new("dev-mau-1", Role::Citizen, None)
}

fn ioc_head() -> Actor {
    Actor::new("acc-ioc-head", Role::IocHead, Some("ioc"))
}

/// A report located in the illustrative boundary of phường Chợ Mới (105.43–105.46 E,
/// 20.92–20.94 N).
fn construction_report() -> NewReport {
    NewReport {
        category: "construction_order".into(),
        title: "Xây nhà không phép".into(),
        description: "Hộ dân xây dựng trái phép, cơi nới lấn ra phía sau khu phố.".into(),
        location: Some(GeoPoint {
            lat: 20.930,
            lon: 105.445,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Đinh Thị Hoa".into()),
            phone: Some("0911000222".into()),
            email: None,
        }),
        camera_id: None,
    }
}

#[test]
fn the_example_town_loads_and_validates_as_another_city() {
    let rules = example();
    let cfg = &rules.config;
    assert_eq!(cfg.city.name, "Thị xã Mẫu (ví dụ)");
    assert_eq!(rules.tz, chrono_tz::Asia::Ho_Chi_Minh);
    assert_eq!(
        (cfg.categories.len(), cfg.units.len(), cfg.wards.len()),
        (9, 12, 4)
    );
    assert!(
        cfg.wards.iter().all(|w| w.illustrative),
        "the example's boundaries are labelled illustrative"
    );
    for u in &cfg.units {
        let c = &u.contacts;
        assert!(
            c.email
                .iter()
                .chain(&c.head_email)
                .all(|e| e.ends_with("@example.invalid")),
            "{}: example e-mails only",
            u.id
        );
        assert!(
            c.sms
                .iter()
                .chain(&c.head_sms)
                .all(|n| n.starts_with("+849")),
            "{}: example numbers only",
            u.id
        );
    }
    // Configuration, not code: its own categories, another lead unit, other deadlines.
    assert!(cfg.category("forest_protection").is_none());
    assert!(cfg.category("public_lighting").is_some());
    let lai_chau = CityRules::laichau_default().unwrap();
    let here = rules.deadline("service_attitude").unwrap();
    let there = lai_chau.deadline("service_attitude").unwrap();
    assert_eq!(
        (here.clock, here.minutes),
        (ClockKind::WorkingHours, 16 * 60)
    );
    assert_eq!(there.minutes, 8 * 60);
    let construction = rules.deadline("construction_order").unwrap();
    assert_eq!(
        (construction.clock, construction.minutes),
        (ClockKind::WorkingHours, 12 * 60)
    );
    assert_eq!(
        lai_chau.deadline("construction_order").unwrap().clock,
        ClockKind::ClockHours
    );
    // Its own local day off and its own make-up Saturday.
    let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    assert_eq!(
        rules.calendar.holiday(day(16)),
        Some("Ngày truyền thống thị xã Mẫu (ví dụ)")
    );
    assert!(rules.calendar.is_makeup_day(day(21)));
    assert_eq!(lai_chau.calendar.holiday(day(16)), None);
}

#[tokio::test]
async fn a_report_goes_to_the_example_towns_ward_with_its_deadline_and_is_published() {
    // Friday 13/03/2026 15:00 in the example town.
    let friday = local(2026, 3, 13, 15, 0);
    let t = town(friday);
    let (r, created) = t
        .app
        .submit(&citizen(), construction_report(), &[], None)
        .await
        .unwrap();
    assert!(created);
    assert_eq!(r.state, State::Submitted);

    // The classify consumer screens it: ward from the example's boundaries, suggestion from
    // its keywords.
    deliver(&t, Consumer::Classify).await;
    let screened = t.app.load(&r.id).await.unwrap();
    assert_eq!(screened.state, State::Screened);
    assert_eq!(screened.ward.as_deref(), Some("cho_moi"));
    assert_eq!(
        screened
            .flags
            .suggestion
            .as_ref()
            .map(|s| s.category.as_str()),
        Some("construction_order")
    );

    // Routing proposes the People's Committee of that ward, with the town's deadline:
    // 12 working hours on 07:00–11:00 / 13:00–17:00 — Friday 15–17 (2 h), the weekend, Monday
    // 16/03 the town's own day off, Tuesday 8 h, Wednesday 07:00–09:00 (2 h).
    let due = local(2026, 3, 18, 9, 0);
    let proposal = t.app.propose_assignment(&screened);
    assert_eq!(proposal.lead_unit.as_deref(), Some("ubnd_cho_moi"));
    assert_eq!(proposal.due_at, Some(due));

    // The IOC head assigns as proposed (Đ.7.2); the deadline set is the one shown.
    let assign = Command::Assign {
        lead_unit: "ubnd_cho_moi".into(),
        coordinating_units: proposal.coordinating_units.clone(),
        note: None,
    };
    let assigned = t.app.act(&r.id, &ioc_head(), assign).await.unwrap();
    let a = assigned.assignment.as_ref().unwrap();
    assert_eq!(a.lead_unit, "ubnd_cho_moi");
    assert_eq!(a.clock, ClockKind::WorkingHours);
    assert_eq!(a.deadline_minutes, 12 * 60);
    assert_eq!(a.due_at, due);
    assert_eq!(t.app.rules().format_local(a.due_at), "09:00 18/03/2026");

    // The ward's example contacts are told, and this town keeps diacritics in SMS.
    deliver(&t, Consumer::Notify).await;
    let sent = t.notifier.all();
    let ward = example().config.unit("ubnd_cho_moi").unwrap();
    for to in ward.contacts.sms.iter().chain(&ward.contacts.email) {
        assert!(sent.iter().any(|n| &n.to == to), "{to} not told");
    }
    let sms = sent
        .iter()
        .find(|n| n.channel == Channel::Sms && n.unit.as_deref() == Some("ubnd_cho_moi"))
        .expect("an SMS to the ward");
    assert!(sms.body.contains("Trật tự xây dựng"), "{}", sms.body);
    assert!(sms.body.contains("09:00 18/03/2026"), "{}", sms.body);
    assert!(sent.iter().any(|n| n.unit.as_deref() == Some("lanh_dao")));

    // The ward resolves with evidence; the IOC publishes; the reporter is told in the town's
    // own words.
    let staff = Actor::new("acc-cho-moi", Role::UnitStaff, Some("ubnd_cho_moi"));
    let evidence = Attachment {
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
        summary: "Đã lập biên bản, đình chỉ thi công phần cơi nới".into(),
        evidence: vec![evidence],
    };
    let resolved = t.app.act(&r.id, &staff, resolve).await.unwrap();
    assert_eq!(resolved.state, State::Resolved);
    deliver(&t, Consumer::Notify).await;
    let publish = Command::Publish {
        public_answer: "UBND phường Chợ Mới đã đình chỉ thi công phần cơi nới.".into(),
        public_attachments: vec![],
    };
    let published = t.app.act(&r.id, &ioc_head(), publish).await.unwrap();
    assert_eq!(published.state, State::Published);
    let before = t.notifier.all().len();
    deliver(&t, Consumer::Publish).await;
    let told: Vec<_> = t.notifier.all().into_iter().skip(before).collect();
    assert!(
        told.iter()
            .any(|n| n.to.ends_with("911000222") && n.body.contains("Mẫu Smart")),
        "the reporter is told: {told:?}"
    );
    assert_eq!(published.verify_timeline(), Ok(()));
}

#[tokio::test]
async fn urban_order_is_led_by_the_towns_team_where_lai_chau_gives_it_to_the_ward() {
    let t = town(local(2026, 3, 13, 15, 0));
    let mut input = construction_report();
    input.category = "urban_order".into();
    input.title = "Lấn chiếm vỉa hè".into();
    input.description = "Quán nước lấn chiếm vỉa hè, dựng rạp che kín lối đi.".into();
    let (r, _) = t.app.submit(&citizen(), input, &[], None).await.unwrap();
    deliver(&t, Consumer::Classify).await;
    let screened = t.app.load(&r.id).await.unwrap();
    let proposal = t.app.propose_assignment(&screened);
    assert_eq!(proposal.lead_unit.as_deref(), Some("doi_trat_tu_do_thi"));
    assert_eq!(
        proposal.coordinating_units,
        vec!["ubnd_cho_moi".to_string()]
    );
    // 4 clock hours, counted 24/7.
    assert_eq!(proposal.due_at, Some(local(2026, 3, 13, 19, 0)));
    let lai_chau = CityRules::laichau_default().unwrap();
    let there = phananh_core::routing::route(&lai_chau.config, "urban_order", Some("tan_phong"));
    assert_eq!(there.lead_unit.as_deref(), Some("ubnd_tan_phong"));
}

#[test]
fn the_towns_make_up_saturday_counts_as_working_time() {
    // Service attitude: 16 working hours from Thursday 19/03/2026 15:00: Thursday 2 h, Friday
    // 8 h, then the make-up Saturday 21/03 07:00–11:00 and 13:00–15:00.
    let rules = example();
    let rule = rules.deadline("service_attitude").unwrap();
    assert_eq!(
        rules.due_at(rule, local(2026, 3, 19, 15, 0)),
        local(2026, 3, 21, 15, 0)
    );
    // Summer hours (1 May – 30 September) start the afternoon at 13:30: "other" (8 working
    // hours) assigned Monday 04/05/2026 13:30 counts Monday 13:30–17:30 (4 h) and Tuesday
    // 07:00–11:00 (4 h), due Tuesday 11:00.
    let other = rules.deadline("other").unwrap();
    assert_eq!(
        rules.due_at(other, local(2026, 5, 4, 13, 30)),
        local(2026, 5, 5, 11, 0)
    );
}
