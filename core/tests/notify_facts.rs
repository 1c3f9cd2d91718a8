//! Issue 10: the notify and publish consumers build an event's messages from what the event
//! carries (`NotifyFacts`), without reading the report. For a scenario of every kind of
//! notification, the messages built from the event (stamped by core, serialized as it is
//! stored and published, the reporter's contact sealed and opened) equal those built from the
//! report at the event's version, with no report in the store to read; the stored event holds
//! no reporter phone or e-mail; an event of the earlier shape still reads the report; a report
//! flagged secret after its event (Đ.8.2).

use chrono::{Duration, NaiveDate};
use phananh_core::app::notifications::{
    kinds_of, notifications_for, notified_title, DEFAULT_SECRET_TITLE,
};
use phananh_core::app::notify_facts::FACTS_TITLE_FRESH_SECS;
use phananh_core::lifecycle::waiting::WaitTimer;
use phananh_core::lifecycle::{self, Entry};
use phananh_core::model::*;
use phananh_core::pii::{self, Keyring};
use phananh_core::ports::{Notification, ReportStore};
use phananh_testkit::app::TestApp;
use phananh_testkit::fixtures::{assigned, at, event, in_state, report};
use std::collections::BTreeSet;
use std::sync::Arc;

const PHONE_DIGITS: &str = "912345678";
const EMAIL: &str = "an.nguyen@example.vn";
const TITLE: &str = "Rác thải ùn ứ";

fn reported(id: &str) -> Report {
    let mut r = report(id, at(0));
    if let Some(rep) = r.reporter.as_mut() {
        rep.email = Some(EMAIL.into());
    }
    r
}

fn on_assigned(id: &str) -> Report {
    assigned(
        reported(id),
        "phong_tnmt",
        &["ubnd_tan_phong"],
        at(5 * 24 * 60),
    )
}

fn deferred(id: &str, decision: Option<(bool, Option<NaiveDate>)>) -> Report {
    let mut r = in_state(on_assigned(id), State::Deferred);
    r.deferral = Some(Deferral {
        reason: "Chờ nguồn kinh phí sửa chữa".into(),
        expected_date: NaiveDate::from_ymd_opt(2025, 4, 15).unwrap_or_default(),
        deferred_at: at(60),
        decision: decision.map(|(accepted, target_date)| DeferralDecision {
            accepted,
            target_date,
            role: Role::Leader,
            decided_at: at(120),
        }),
    });
    r
}

fn rejected(id: &str) -> Report {
    let mut r = reported(id);
    let ioc = Actor::new("ioc-head-1", Role::IocHead, None);
    let mut entry = Entry::new(&ioc, Action::Reject);
    entry.note = Some("Nội dung trùng với phản ánh đã được xử lý trước đó.".into());
    entry.visible_to_reporter = true;
    let from = r.state;
    r.state = State::Rejected;
    lifecycle::append(&mut r, Some(from), entry, at(30));
    r
}

fn wait(timer: WaitTimer, unit: &str) -> DomainEvent {
    DomainEvent::DeadlineEscalated {
        threshold: format!("wait.{}.1", timer.as_str()),
        level: EscalationLevel::Ioc,
        unit: unit.into(),
    }
}

fn escalation(level: EscalationLevel) -> DomainEvent {
    DomainEvent::DeadlineEscalated {
        threshold: "due.100".into(),
        level,
        unit: "phong_tnmt".into(),
    }
}

/// One (report at the event's version, event) per scenario; together they send every kind
/// of notification.
fn scenarios() -> Vec<(Report, DomainEvent)> {
    let target = NaiveDate::from_ymd_opt(2025, 4, 30);
    let mut flagged = on_assigned("r-flag");
    flagged.flags.possibly_secret = true;
    let mut secret = deferred("r-secret", None);
    secret.flags.state_secret = true;
    vec![
        (reported("r-sub"), DomainEvent::ReportSubmitted),
        (
            on_assigned("r-asg"),
            DomainEvent::ReportAssigned {
                lead_unit: "phong_tnmt".into(),
                coordinating_units: vec!["ubnd_tan_phong".into()],
                due_at: at(5 * 24 * 60),
            },
        ),
        (on_assigned("r-lead"), DomainEvent::LeadershipInformed),
        (reported("r-ref"), DomainEvent::ReferredToLeadership),
        (
            on_assigned("r-dir"),
            DomainEvent::DirectiveIssued { seq: 1 },
        ),
        (
            deferred("r-def", None),
            DomainEvent::ReportDeferred {
                unit: "phong_tnmt".into(),
                expected_date: NaiveDate::from_ymd_opt(2025, 4, 15).unwrap_or_default(),
            },
        ),
        (
            deferred("r-acc", Some((true, target))),
            DomainEvent::DeferralDecided {
                unit: "phong_tnmt".into(),
                accepted: true,
                target_date: target,
            },
        ),
        (
            deferred("r-rfs", Some((false, None))),
            DomainEvent::DeferralDecided {
                unit: "phong_tnmt".into(),
                accepted: false,
                target_date: None,
            },
        ),
        (
            reported("r-ret"),
            DomainEvent::ReportReturned {
                unit: "phong_tnmt".into(),
            },
        ),
        (
            on_assigned("r-urg"),
            DomainEvent::UnitUrged {
                unit: "phong_tnmt".into(),
            },
        ),
        (reported("r-wt"), wait(WaitTimer::Triage, "ioc")),
        (reported("r-wr"), wait(WaitTimer::Referral, "lanh_dao_ubnd")),
        (reported("r-wre"), wait(WaitTimer::Returned, "van_phong")),
        (on_assigned("r-wp"), wait(WaitTimer::Publication, "ioc")),
        (
            deferred("r-wd", None),
            wait(WaitTimer::DeferralOverdue, "phong_tnmt"),
        ),
        (on_assigned("r-e1"), escalation(EscalationLevel::UnitHead)),
        (on_assigned("r-e2"), escalation(EscalationLevel::Ioc)),
        (on_assigned("r-e3"), escalation(EscalationLevel::Leadership)),
        (
            in_state(on_assigned("r-res"), State::Resolved),
            DomainEvent::ReportResolved {
                unit: "phong_tnmt".into(),
                on_time: true,
            },
        ),
        (on_assigned("r-reo"), DomainEvent::ReportReopened),
        (
            in_state(on_assigned("r-pub"), State::Published),
            DomainEvent::ReportPublished,
        ),
        (rejected("r-rej"), DomainEvent::ReportRejected),
        (flagged, DomainEvent::SecretFlagged),
        // Đ.8.2: a secret report's messages carry the city's neutral text, not the title.
        (
            secret,
            DomainEvent::ReportDeferred {
                unit: "phong_tnmt".into(),
                expected_date: NaiveDate::from_ymd_opt(2025, 4, 15).unwrap_or_default(),
            },
        ),
    ]
}

fn sealed_app() -> (TestApp, phananh_core::app::App) {
    let t = TestApp::new();
    let ring = Arc::new(Keyring::new(&[Keyring::generate_key()]).expect("ring"));
    let app = t.app.clone().with_pii_cipher(ring);
    (t, app)
}

/// `env` as the outbox stores it and the bus carries it: its JSON, parsed back.
fn through_the_bus(env: &EventEnvelope) -> (String, EventEnvelope) {
    let json = serde_json::to_string(env).expect("json");
    let back = serde_json::from_str(&json).expect("parsed");
    (json, back)
}

#[tokio::test]
async fn every_kind_of_notification_is_built_from_the_event_alone_as_from_the_report() {
    let (_t, app) = sealed_app();
    let mut kinds = BTreeSet::new();
    for (r, ev) in scenarios() {
        let mut events = vec![event(&r, 0, ev)];
        app.stamp_notify(&r, &mut events).expect("stamped");
        let (json, env) = through_the_bus(&events[0]);
        // The reporter's contact travels sealed, never in plaintext (Đ.4).
        for personal in [PHONE_DIGITS, EMAIL] {
            assert!(!json.contains(personal), "{personal} in the event: {json}");
        }
        let facts = env.notify.as_ref().expect("facts on a notify event");
        if let Some(rep) = &facts.reporter {
            assert!(
                matches!(rep, ReporterContact::Sealed(v) if pii::is_sealed(v)),
                "{rep:?}"
            );
        }
        // No report in the store: anything read would be missing.
        let from_event = app
            .notifications_of(&env)
            .await
            .expect("built")
            .expect("without the report");
        let bare = EventEnvelope {
            notify: None,
            ..env.clone()
        };
        let from_report = notifications_for(app.rules(), &bare, &r);
        assert!(!from_report.is_empty(), "{:?} sends nothing", env.event);
        assert_eq!(from_event, from_report, "{:?}", env.event);
        kinds.extend(
            kinds_of(app.rules(), &env.event, r.lead_unit())
                .into_iter()
                .map(|k| k.key()),
        );
    }
    let all: BTreeSet<&str> = NotificationKind::ALL.iter().map(|k| k.key()).collect();
    assert_eq!(kinds, all, "every kind of notification is covered");
}

#[tokio::test]
async fn the_reporter_is_told_from_the_sealed_contact() {
    let (_t, app) = sealed_app();
    let r = reported("r-told");
    let mut events = vec![event(&r, 0, DomainEvent::ReportSubmitted)];
    app.stamp_notify(&r, &mut events).expect("stamped");
    let (_, env) = through_the_bus(&events[0]);
    let sent: Vec<Notification> = app.notifications_of(&env).await.expect("ok").expect("some");
    let to: BTreeSet<&str> = sent.iter().map(|n| n.to.as_str()).collect();
    assert_eq!(to, BTreeSet::from(["+84912345678", EMAIL]));
    // An app without the key cannot open it: a clear error, never a message to garbage.
    let keyless = TestApp::new().app;
    let e = keyless.notifications_of(&env).await.expect_err("no key");
    assert!(e.to_string().contains("not configured"), "{e}");
    // Without a key the contact travels as the report document stores it: as given.
    let mut plain = vec![event(&r, 0, DomainEvent::ReportSubmitted)];
    keyless.stamp_notify(&r, &mut plain).expect("stamped");
    let rep = plain[0]
        .notify
        .as_ref()
        .and_then(|f| f.reporter.clone())
        .expect("contact");
    assert!(
        matches!(&rep, ReporterContact::Plain(c) if c.email.as_deref() == Some(EMAIL)),
        "{rep:?}"
    );
}

#[tokio::test]
async fn only_events_that_tell_the_reporter_carry_the_contact_and_only_notify_events_carry_facts() {
    let (_t, app) = sealed_app();
    let r = on_assigned("r-only");
    let mut events = vec![
        event(
            &r,
            0,
            DomainEvent::UnitUrged {
                unit: "phong_tnmt".into(),
            },
        ),
        event(&r, 1, DomainEvent::ReportAccepted),
    ];
    app.stamp_notify(&r, &mut events).expect("stamped");
    let urged = events[0].notify.as_ref().expect("facts");
    assert!(
        urged.reporter.is_none(),
        "the unit's reminder carries no contact"
    );
    assert_eq!(urged.title, TITLE);
    assert!(
        events[1].notify.is_none(),
        "no consumer sends for an acceptance"
    );
}

#[tokio::test]
async fn an_event_of_the_earlier_shape_reads_the_report() {
    let t = TestApp::new();
    let r = on_assigned("r-old");
    t.store.create(&r, &[], None).await.expect("stored");
    let env = event(
        &r,
        0,
        DomainEvent::UnitUrged {
            unit: "phong_tnmt".into(),
        },
    );
    assert!(env.notify.is_none());
    let sent = t
        .app
        .notifications_of(&env)
        .await
        .expect("ok")
        .expect("read");
    assert_eq!(sent, notifications_for(t.app.rules(), &env, &r));
    assert!(!sent.is_empty());
    // An unknown report: nothing to send.
    let gone = event(&on_assigned("r-none"), 0, DomainEvent::ReportReopened);
    assert!(t.app.notifications_of(&gone).await.expect("ok").is_none());
}

/// Đ.8.2: a unit head flags the report after the assignment's event was created. A message
/// of that event sent within the fresh bound goes out as it would have a moment before the
/// flag; one sent later (a retry, a redelivery) is checked against the report as it is now,
/// and never carries the title.
#[tokio::test]
async fn a_report_flagged_secret_after_its_event_is_not_titled_in_later_messages() {
    let t = TestApp::new();
    let r = on_assigned("r-late");
    let mut events = vec![event(
        &r,
        0,
        DomainEvent::ReportAssigned {
            lead_unit: "phong_tnmt".into(),
            coordinating_units: vec![],
            due_at: at(5 * 24 * 60),
        },
    )];
    t.app.stamp_notify(&r, &mut events).expect("stamped");
    let env = events.remove(0);
    let mut flagged = r.clone();
    flagged.flags.possibly_secret = true;
    t.store.create(&flagged, &[], None).await.expect("stored");
    let has_title = |ns: &[Notification]| {
        ns.iter()
            .any(|n| n.body.contains(TITLE) || n.subject.as_deref().unwrap_or("").contains(TITLE))
    };
    t.clock.set(env.at + Duration::seconds(5));
    let fresh = t
        .app
        .notifications_of(&env)
        .await
        .expect("ok")
        .expect("some");
    assert!(
        has_title(&fresh),
        "a fresh event's messages are as decided at the event"
    );
    t.clock
        .set(env.at + Duration::seconds(FACTS_TITLE_FRESH_SECS + 1));
    let late = t
        .app
        .notifications_of(&env)
        .await
        .expect("ok")
        .expect("some");
    assert!(!late.is_empty());
    assert!(!has_title(&late), "{late:?}");
    let neutral = notified_title(t.app.rules(), &flagged);
    assert!(
        late.iter().any(|n| n.body.contains(&neutral)),
        "the city's neutral text stands for the title: {late:?}"
    );
}

/// What a DynamoDB EVENT item holds besides its event's JSON, with production ids (UUIDs,
/// 36 characters, where the tests' are 11): `pk` `EVENT#<event id>` 48, `sk` 7, `report_id`
/// 45, `expires_at` 17, the name `event` 5, and the event id and report id inside the JSON,
/// 50 bytes longer.
const ITEM_OVERHEAD: usize = 172;

/// What the facts cost in stored bytes (issue 10: event items are written in each change's
/// transaction, one write unit per KB): every event of a report's happy path, its JSON with
/// and without the facts, printed (`cargo test -p phananh-core --test notify_facts --
/// --nocapture event_bytes`). Each event item stays within one write unit (1 KB) with a
/// sealed phone and e-mail and a title of 47 characters (28 bytes to spare on the
/// assignment's: a title some 20 characters longer makes its item two write units).
#[tokio::test]
async fn event_bytes_with_facts_stay_within_one_write_unit() {
    let (t, app) = sealed_app();
    let citizen = Actor::new("dev-1", Role::Citizen, None);
    let ioc = Actor::new("acc-head", Role::IocHead, Some("ioc"));
    let unit = Actor::new("u-yte", Role::UnitStaff, Some("trung_tam_y_te"));
    let input = lifecycle::NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới ở tổ dân phố số 5".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: None,
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Minh".into()),
            phone: Some("0911222333".into()),
            email: Some("lo.van.minh@example.vn".into()),
        }),
        camera_id: None,
    };
    let (r, _) = app
        .submit(&citizen, input, &[], None)
        .await
        .expect("submitted");
    app.classify(&r.id).await.expect("screened");
    let steps = [
        (
            &ioc,
            lifecycle::Command::Assign {
                lead_unit: "trung_tam_y_te".into(),
                coordinating_units: vec![],
                note: None,
            },
        ),
        (&unit, lifecycle::Command::Accept { note: None }),
        (
            &unit,
            lifecycle::Command::Resolve {
                summary: "Đã lấy mẫu và xử phạt".into(),
                evidence: vec![Attachment {
                    id: "ev-1".into(),
                    kind: MediaKind::Photo,
                    content_type: "image/jpeg".into(),
                    size: 10,
                    key: "media/x/ev-1".into(),
                    public_key: None,
                    public: false,
                    thumb_key: None,
                    location_hint: None,
                }],
            },
        ),
        (
            &ioc,
            lifecycle::Command::Publish {
                public_answer: "Đã xử lý".into(),
                public_attachments: vec![],
            },
        ),
    ];
    for (actor, cmd) in steps {
        app.act(&r.id, actor, cmd).await.expect("acted");
    }
    let events = t.store.pending_events(100).await.expect("outbox");
    let (mut before_all, mut after_all, mut stamped) = (0, 0, 0);
    println!("event bytes (JSON as stored): kind, without facts, with facts");
    for env in &events {
        let after = serde_json::to_string(env).expect("json").len();
        let bare = EventEnvelope {
            notify: None,
            ..env.clone()
        };
        let before = serde_json::to_string(&bare).expect("json").len();
        println!("  {:<22} {before:>5} {after:>5}", env.kind());
        assert!(
            after + ITEM_OVERHEAD <= 1024,
            "{} is {after} bytes: two write units as a DynamoDB item",
            env.kind()
        );
        before_all += before;
        after_all += after;
        if env.notify.is_some() {
            stamped += 1;
        }
    }
    println!(
        "  {} events, {stamped} with facts: {before_all} -> {after_all} bytes (+{} per stamped event)",
        events.len(),
        (after_all - before_all) / stamped.max(1)
    );
    assert!(stamped >= 4, "submitted, assigned, resolved, published");
}

/// Đ.8.2: the events of a secret or possibly secret report carry the city's neutral text, never
/// the title, in their facts (the flag's own alert included), so no copy of the event holds it.
#[tokio::test]
async fn the_events_of_a_secret_report_never_carry_its_title() {
    let (_t, app) = sealed_app();
    let mut flagged = on_assigned("r-flagged");
    flagged.flags.possibly_secret = true;
    let mut secret = on_assigned("r-secret-2");
    secret.flags.state_secret = true;
    for (r, ev) in [
        (flagged, DomainEvent::SecretFlagged),
        (
            secret,
            DomainEvent::UnitUrged {
                unit: "phong_tnmt".into(),
            },
        ),
    ] {
        let mut events = vec![event(&r, 0, ev)];
        app.stamp_notify(&r, &mut events).expect("stamped");
        let (json, env) = through_the_bus(&events[0]);
        assert!(!json.contains(TITLE), "{json}");
        let neutral = notified_title(app.rules(), &r);
        assert!(neutral.starts_with(DEFAULT_SECRET_TITLE), "{neutral}");
        assert_eq!(env.notify.map(|f| f.title), Some(neutral));
    }
}
