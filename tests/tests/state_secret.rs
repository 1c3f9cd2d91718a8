//! Đ.8.2 in the messages that leave the system: once a report is marked secret, or flagged as
//! possibly secret by the head of the unit handling it, no SMS and no e-mail — to the units, the
//! leadership, the office or the reporter — carries its title or its description; the city's
//! neutral `secret.title` stands for the title. Sent for real through the embedded notifier (the
//! e-mails to a local SMTP server, the SMS to the fake provider), and on AWS through SNS on the
//! emulator (every Publish request recorded).

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use phananh_core::app::{App, Consumer, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::text::strip_diacritics;
use phananh_core::CityRules;
use phananh_embedded::{FakeSmsProvider, OutboxNotifier, SmtpConfig, SqliteStore, StoreOptions};
use phananh_testkit::actors;
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia};
use phananh_testkit::smtp::{ReceivedMail, SmtpMode, SmtpServer};
use phananh_tests::fixtures::TempDir;
use std::sync::Arc;

const PHONE: &str = "+84911222333";
const EMAIL: &str = "minh.lo@example.vn";
/// Words of the titles and descriptions that must not leave once the report is secret.
const SECRET_WORDS: [&str; 2] = ["Đồn Biên phòng", "hầm chỉ huy"];

fn local(y: i32, m: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, mi, 0).unwrap() - Duration::hours(7)
}

fn input(title: &str) -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: title.into(),
        description: "Đường ống nước vỡ tràn vào khu hầm chỉ huy phía sau.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Minh".into()),
            phone: Some("0911222333".into()),
            email: Some(EMAIL.into()),
        }),
        camera_id: None,
    }
}

/// Lai Châu's SMS texts carry no title; a city may put one in (validation allows it), so two
/// of them do here, to show the SMS are kept clean too.
fn rules_with_titled_sms() -> CityRules {
    let mut rules = CityRules::laichau_default().expect("rules");
    for key in ["notify.assigned.sms", "notify.assigned.reporter.sms"] {
        let t = rules
            .config
            .messages
            .texts
            .get(key)
            .cloned()
            .unwrap_or_default();
        rules
            .config
            .messages
            .texts
            .insert(key.to_string(), format!("{t} ({{title}})"));
    }
    rules
}

struct World {
    app: App,
    store: Arc<SqliteStore>,
    sms: Arc<FakeSmsProvider>,
    smtp: SmtpServer,
    _dir: TempDir,
}

async fn world() -> World {
    let dir = TempDir::new("phananh-secret");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("store");
    let clock = Arc::new(FixedClock::new(local(2026, 11, 25, 9, 0)));
    let sms = Arc::new(FakeSmsProvider::new());
    let smtp = SmtpServer::start(SmtpMode::Accept, 200).await;
    let mut cfg = SmtpConfig::new("127.0.0.1", smtp.port, "noreply@laichau.gov.vn");
    cfg.timeout = std::time::Duration::from_secs(3);
    let notifier = Arc::new(
        OutboxNotifier::new(store.clone(), Some(cfg))
            .with_sms(Some(sms.clone()))
            .with_clock(clock.clone()),
    );
    // Lai Châu's SMS texts carry no title; a city may put one in (validation allows it), so
    // two of them do here, to show the SMS are kept clean too.
    let mut rules = CityRules::laichau_default().expect("rules");
    for key in ["notify.assigned.sms", "notify.assigned.reporter.sms"] {
        let t = rules
            .config
            .messages
            .texts
            .get(key)
            .cloned()
            .unwrap_or_default();
        rules
            .config
            .messages
            .texts
            .insert(key.to_string(), format!("{t} ({{title}})"));
    }
    let app = App::new(
        Arc::new(rules),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier,
            clock,
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    World {
        app,
        store,
        sms,
        smtp,
        _dir: dir,
    }
}

/// Runs every consumer on the report's pending events until none is left (bounded).
async fn pump(w: &World, report: &ReportId) {
    for _ in 0..10 {
        let pending: Vec<EventEnvelope> = w
            .store
            .pending_events(500)
            .await
            .expect("outbox")
            .into_iter()
            .filter(|e| &e.report_id == report)
            .collect();
        if pending.is_empty() {
            return;
        }
        for env in &pending {
            for c in Consumer::ALL {
                w.app.handle_event(c, env).await.expect("consumer");
            }
        }
        let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
        w.store.mark_published(&ids).await.expect("mark");
    }
}

/// Everything a message shows a person: SMS body, or e-mail subject and text parts.
fn sms_texts(w: &World, from: usize) -> Vec<(String, String)> {
    w.sms
        .messages()
        .into_iter()
        .skip(from)
        .map(|m| (m.to, m.body))
        .collect()
}

fn mail_text(m: &ReceivedMail) -> String {
    let mut t = m.header("Subject").unwrap_or_default();
    for part in m
        .parts("text/plain")
        .into_iter()
        .chain(m.parts("text/html"))
    {
        t.push('\n');
        t.push_str(&part);
    }
    t
}

async fn mails(w: &World, from: usize, at_least: usize) -> Vec<(String, String)> {
    let got = w
        .smtp
        .wait_for(from + at_least, std::time::Duration::from_secs(10))
        .await;
    got.iter()
        .skip(from)
        .map(|m| (m.rcpt_to.join(","), mail_text(m)))
        .collect()
}

fn leaks(text: &str, title: &str) -> bool {
    let plain = strip_diacritics(text).to_lowercase();
    [title]
        .into_iter()
        .chain(SECRET_WORDS)
        .any(|s| text.contains(s) || plain.contains(&strip_diacritics(s).to_lowercase()))
}

/// Assign (units, leadership, reporter), a leader's directive (IOC, unit), a deferral
/// (leadership, office, reporter): the steps that tell the most people.
async fn handle(w: &World, id: &ReportId) {
    let assign = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec!["phong_tnmt".into()],
        note: None,
    };
    w.app
        .act(id, &actors::ioc_head(), assign)
        .await
        .expect("assign");
    pump(w, id).await;
    let directive = Command::Directive {
        text: "Đề nghị xử lý ngay".into(),
        corrects: None,
    };
    w.app
        .act(id, &actors::leader(), directive)
        .await
        .expect("directive");
    pump(w, id).await;
    let head = actors::unit_head("trung_tam_y_te");
    w.app
        .act(id, &head, Command::Accept { note: None })
        .await
        .expect("accept");
    let defer = Command::Defer {
        reason: "Chờ kinh phí".into(),
        expected_date: NaiveDate::from_ymd_opt(2027, 3, 31).expect("date"),
    };
    w.app.act(id, &head, defer).await.expect("defer");
    pump(w, id).await;
}

/// Every message sent since the marks: none carries the title or the description, the neutral
/// text stands for the title, and units, leadership, office and reporter were all told.
async fn assert_neutral(w: &World, title: &str, sms_from: usize, mail_from: usize) {
    let rules = w.app.rules();
    let neutral = rules.config.messages.texts["secret.title"].clone();
    let sms = sms_texts(w, sms_from);
    let mail = mails(w, mail_from, 8).await;
    assert!(sms.len() >= 6 && mail.len() >= 8, "{sms:?} {mail:?}");
    for (to, text) in sms.iter().chain(mail.iter()) {
        assert!(!leaks(text, title), "{to} was sent the secret: {text}");
    }
    // The neutral text took the title's place (e-mails keep diacritics, SMS lose them).
    assert!(mail.iter().any(|(_, t)| t.contains(&neutral)), "{mail:?}");
    let unit = |id: &str| rules.config.unit(id).expect("unit").contacts.clone();
    let mail_to = |addr: &str| mail.iter().any(|(to, _)| to.contains(addr));
    assert!(mail_to(EMAIL), "the reporter was e-mailed");
    assert!(
        sms.iter().any(|(to, _)| to == PHONE),
        "the reporter was texted"
    );
    for u in ["trung_tam_y_te", "phong_tnmt", "lanh_dao_ubnd"] {
        assert!(mail_to(&unit(u).email[0]), "{u} was e-mailed");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d8_2_a_secret_reports_title_and_description_never_reach_an_sms_or_e_mail() {
    let w = world().await;
    let citizen = Actor::new("dev-secret-1", Role::Citizen, None);

    // Control: an ordinary report's title does go out (so the check below can fail).
    let plain_title = "Đồn Biên phòng: nước tràn ra đường";
    let (plain, _) = w
        .app
        .submit(&citizen, input(plain_title), &[], None)
        .await
        .expect("submit");
    pump(&w, &plain.id).await;
    let (s0, m0) = (w.sms.messages().len(), w.smtp.received().len());
    handle(&w, &plain.id).await;
    let sent = mails(&w, m0, 8).await;
    assert!(
        sent.iter().any(|(_, t)| leaks(t, plain_title)),
        "an ordinary report's title is in its e-mails"
    );
    assert!(sms_texts(&w, s0).iter().any(|(_, t)| leaks(t, plain_title)));

    // Marked secret by the IOC head at triage: nothing from then on carries it.
    let title = "Đồn Biên phòng Ma Lù Thàng: nước tràn vào hầm chỉ huy";
    let (secret, _) = w
        .app
        .submit(&citizen, input(title), &[], None)
        .await
        .expect("submit");
    pump(&w, &secret.id).await;
    let mark = Command::MarkSecret {
        note: "Liên quan công trình quốc phòng".into(),
    };
    w.app
        .act(&secret.id, &actors::ioc_head(), mark)
        .await
        .expect("mark secret");
    let (s1, m1) = (w.sms.messages().len(), w.smtp.received().len());
    handle(&w, &secret.id).await;
    assert_neutral(&w, title, s1, m1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d8_2_a_report_flagged_possibly_secret_by_the_unit_head_is_kept_out_of_messages_too() {
    let w = world().await;
    let citizen = Actor::new("dev-secret-2", Role::Citizen, None);
    let title = "Đồn Biên phòng Pa Tần: sạt lở sau hầm chỉ huy";
    let (r, _) = w
        .app
        .submit(&citizen, input(title), &[], None)
        .await
        .expect("submit");
    pump(&w, &r.id).await;
    let assign = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec!["phong_tnmt".into()],
        note: None,
    };
    w.app
        .act(&r.id, &actors::ioc_head(), assign)
        .await
        .expect("assign");
    pump(&w, &r.id).await;
    let head = actors::unit_head("trung_tam_y_te");
    // The coordinating unit's head may not raise it; the lead unit's head may.
    let flag = Command::FlagSecret {
        reason: "Vị trí thuộc khu vực quân sự".into(),
    };
    let err = w
        .app
        .act(&r.id, &actors::unit_head("phong_tnmt"), flag.clone())
        .await
        .expect_err("a coordinating unit does not flag");
    assert!(matches!(
        err,
        phananh_core::DomainError::OutOfUnitScope { .. }
    ));
    w.app.act(&r.id, &head, flag).await.expect("flag");
    let (s1, m1) = (w.sms.messages().len(), w.smtp.received().len());
    let directive = Command::Directive {
        text: "Đề nghị xử lý ngay".into(),
        corrects: None,
    };
    w.app
        .act(&r.id, &actors::leader(), directive)
        .await
        .expect("directive");
    w.app
        .act(&r.id, &head, Command::Accept { note: None })
        .await
        .expect("accept");
    let defer = Command::Defer {
        reason: "Chờ kinh phí".into(),
        expected_date: NaiveDate::from_ymd_opt(2027, 3, 31).expect("date"),
    };
    w.app.act(&r.id, &head, defer).await.expect("defer");
    pump(&w, &r.id).await;
    let sms = sms_texts(&w, s1);
    let mail = mails(&w, m1, 4).await;
    assert!(!sms.is_empty() && mail.len() >= 4, "{sms:?} {mail:?}");
    for (to, text) in sms.iter().chain(mail.iter()) {
        assert!(
            !leaks(text, title),
            "{to} was sent the flagged title: {text}"
        );
    }
    assert!(
        sms.iter().any(|(to, _)| to == PHONE),
        "the reporter was texted"
    );
}

/// Runs every consumer on the report's pending events of any store (bounded).
/// Hands `report`'s events to every consumer, as the relay and the queues do on AWS: the
/// events the changes wrote, read from the table's stream.
async fn pump_stream(app: &App, tap: &mut phananh_tests::stream_tap::StreamTap, report: &ReportId) {
    for _ in 0..10 {
        let pending: Vec<EventEnvelope> = tap
            .next_events()
            .await
            .expect("stream")
            .into_iter()
            .filter(|e| &e.report_id == report)
            .collect();
        if pending.is_empty() {
            return;
        }
        for env in &pending {
            for c in Consumer::ALL {
                app.handle_event(c, env).await.expect("consumer");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_the_sns_messages_of_a_secret_report_carry_no_title() {
    use phananh_aws::{DynamoReportStore, SnsNotifier};
    use phananh_tests::moto;
    let p = moto::provision().await.expect("moto");
    let store = Arc::new(DynamoReportStore::from_settings(&p.clients, &p.settings));
    let mut tap = phananh_tests::stream_tap::StreamTap::open(&p.clients, &p.settings.table)
        .await
        .expect("stream");
    let app = App::new(
        Arc::new(rules_with_titled_sms()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(SnsNotifier::from_settings(&p.clients, &p.settings)),
            clock: Arc::new(FixedClock::new(local(2026, 11, 25, 9, 0))),
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    // Control and secret reports, handled alike.
    let mut ids = Vec::new();
    for (title, secret) in [
        ("Đồn Biên phòng: nước tràn ra đường", false),
        (
            "Đồn Biên phòng Ma Lù Thàng: nước tràn vào hầm chỉ huy",
            true,
        ),
    ] {
        let (r, _) = app
            .submit(&citizen, input(title), &[], None)
            .await
            .expect("submit");
        pump_stream(&app, &mut tap, &r.id).await;
        if secret {
            let mark = Command::MarkSecret {
                note: "Liên quan công trình quốc phòng".into(),
            };
            app.act(&r.id, &actors::ioc_head(), mark)
                .await
                .expect("mark secret");
        }
        // Only what is sent from here on (the receipt went out before the mark).
        let start = moto::Moto::shared().recorded_requests().len();
        let assign = Command::Assign {
            lead_unit: "trung_tam_y_te".into(),
            coordinating_units: vec!["phong_tnmt".into()],
            note: None,
        };
        app.act(&r.id, &actors::ioc_head(), assign)
            .await
            .expect("assign");
        let directive = Command::Directive {
            text: "Đề nghị xử lý ngay".into(),
            corrects: None,
        };
        app.act(&r.id, &actors::leader(), directive)
            .await
            .expect("directive");
        pump_stream(&app, &mut tap, &r.id).await;
        ids.push((r.id.to_string(), title, secret, start));
    }
    let recorded = moto::Moto::shared().recorded_requests();
    for (id, title, secret, start) in ids {
        let publishes: Vec<std::collections::HashMap<String, String>> = recorded
            .iter()
            .skip(start)
            .map(|q| q.form())
            .filter(|f| f.get("Action").map(String::as_str) == Some("Publish"))
            .collect();
        let short = &id[id.len() - 8..];
        let mine: Vec<String> = publishes
            .iter()
            .filter(|f| f.values().any(|v| v.contains(short)))
            .map(|f| {
                format!(
                    "{} {}",
                    f.get("Subject").cloned().unwrap_or_default(),
                    f.get("Message").cloned().unwrap_or_default()
                )
            })
            .collect();
        // Units, leadership (SMS and e-mail through the alerts topic) and the reporter.
        assert!(mine.len() >= 6, "{title}: {mine:?}");
        let leaked = mine.iter().filter(|m| leaks(m, title)).count();
        if secret {
            assert_eq!(leaked, 0, "a secret title went out: {mine:?}");
        } else {
            assert!(
                leaked > 0,
                "an ordinary title goes out (the check can fail)"
            );
        }
    }
}

/// Issue 12 item 6: who a possibly-secret flag reaches: the IOC head (the IOC unit's head
/// contacts) and the leadership (its general contacts), each by SMS and e-mail; nobody else.
fn flag_recipients(rules: &CityRules) -> (Vec<String>, Vec<String>) {
    let city = &rules.config.city;
    let ioc = &rules.config.unit(&city.ioc_unit).expect("ioc").contacts;
    let lead = &rules
        .config
        .unit(&city.leadership_unit)
        .expect("leadership")
        .contacts;
    let mut sms: Vec<String> = ioc.head_sms.iter().chain(&lead.sms).cloned().collect();
    let mut mail: Vec<String> = ioc.head_email.iter().chain(&lead.email).cloned().collect();
    sms.sort();
    mail.sort();
    (sms, mail)
}

/// A report with a recognisable title, submitted by a new citizen.
async fn submitted(app: &App, title: &str) -> ReportId {
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    let (r, _) = app
        .submit(&citizen, input(title), &[], None)
        .await
        .expect("submit");
    r.id
}

/// The IOC head assigns it to the health centre (after screening).
async fn assign(app: &App, id: &ReportId) {
    let assign = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    app.act(id, &actors::ioc_head(), assign)
        .await
        .expect("assign");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn d8_2_a_possibly_secret_flag_tells_exactly_the_ioc_head_and_the_leadership_without_the_title(
) {
    let w = world().await;
    let title = "Đồn Biên phòng Mường Tè: sạt lở hầm chỉ huy";
    let reason = "Vị trí thuộc khu vực quân sự";
    let id = submitted(&w.app, title).await;
    pump(&w, &id).await;
    assign(&w.app, &id).await;
    pump(&w, &id).await;
    let (s0, m0) = (w.sms.messages().len(), w.smtp.received().len());
    let flag = Command::FlagSecret {
        reason: reason.into(),
    };
    w.app
        .act(&id, &actors::unit_head("trung_tam_y_te"), flag)
        .await
        .expect("flag");
    pump(&w, &id).await;
    let (want_sms, want_mail) = flag_recipients(w.app.rules());
    let sms = sms_texts(&w, s0);
    let mail = mails(&w, m0, want_mail.len()).await;
    let mut got_sms: Vec<String> = sms.iter().map(|(to, _)| to.clone()).collect();
    let mut got_mail: Vec<String> = mail
        .iter()
        .map(|(to, _)| to.trim_matches(['<', '>']).to_string())
        .collect();
    got_sms.sort();
    got_mail.sort();
    assert_eq!(
        got_sms, want_sms,
        "SMS to the IOC head and the leadership only"
    );
    assert_eq!(
        got_mail, want_mail,
        "e-mails to the IOC head and the leadership only"
    );
    let short = &id.to_string()[id.to_string().len() - 8..];
    for (to, text) in sms.iter().chain(mail.iter()) {
        assert!(!leaks(text, title), "{to} was sent the title: {text}");
        assert!(!text.contains(reason), "{to} was sent the reason: {text}");
        assert!(text.contains(short), "{to}: the report's id: {text}");
        assert!(
            strip_diacritics(text).contains("noi dung bi mat"),
            "{to}: the flag's own text: {text}"
        );
    }

    // The decision clears the flag and tells nobody (nothing more to decide).
    let (s1, m1) = (w.sms.messages().len(), w.smtp.received().len());
    let clear = Command::ClearSecretFlag {
        note: "Không thuộc danh mục bí mật".into(),
    };
    w.app
        .act(&id, &actors::leader(), clear)
        .await
        .expect("clear");
    pump(&w, &id).await;
    assert_eq!(w.sms.messages().len(), s1);
    assert_eq!(w.smtp.received().len(), m1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_aws_a_possibly_secret_flag_is_published_to_exactly_the_ioc_head_and_the_leadership() {
    use phananh_aws::{DynamoReportStore, SnsNotifier};
    use phananh_tests::moto;
    let p = moto::provision().await.expect("moto");
    let store = Arc::new(DynamoReportStore::from_settings(&p.clients, &p.settings));
    let mut tap = phananh_tests::stream_tap::StreamTap::open(&p.clients, &p.settings.table)
        .await
        .expect("stream");
    let rules = CityRules::laichau_default().expect("rules");
    let app = App::new(
        Arc::new(rules),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(SnsNotifier::from_settings(&p.clients, &p.settings)),
            clock: Arc::new(FixedClock::new(local(2026, 11, 25, 9, 0))),
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    let title = "Đồn Biên phòng Mường Tè: sạt lở hầm chỉ huy";
    let reason = "Vị trí thuộc khu vực quân sự";
    let id = submitted(&app, title).await;
    pump_stream(&app, &mut tap, &id).await;
    assign(&app, &id).await;
    pump_stream(&app, &mut tap, &id).await;
    let start = moto::Moto::shared().recorded_requests().len();
    let flag = Command::FlagSecret {
        reason: reason.into(),
    };
    app.act(&id, &actors::unit_head("trung_tam_y_te"), flag)
        .await
        .expect("flag");
    pump_stream(&app, &mut tap, &id).await;
    let id = id.to_string();
    // Each notification's Publish: (channel, recipient, text), read from its attributes.
    let mut sms = Vec::new();
    let mut mail = Vec::new();
    for f in moto::Moto::shared()
        .recorded_requests()
        .iter()
        .skip(start)
        .map(|q| q.form())
        .filter(|f| f.get("Action").map(String::as_str) == Some("Publish"))
    {
        let attr = |name: &str| {
            (1..=20).find_map(|i| {
                (f.get(&format!("MessageAttributes.entry.{i}.Name"))
                    .map(String::as_str)
                    == Some(name))
                .then(|| f.get(&format!("MessageAttributes.entry.{i}.Value.StringValue")))
                .flatten()
                .cloned()
            })
        };
        if attr("report_id").as_deref() != Some(id.as_str()) {
            continue;
        }
        let text = format!(
            "{} {}",
            f.get("Subject").cloned().unwrap_or_default(),
            f.get("Message").cloned().unwrap_or_default()
        );
        assert!(!leaks(&text, title), "the title went out: {text}");
        assert!(!text.contains(reason), "the reason went out: {text}");
        let to = attr("to").unwrap_or_default();
        match attr("channel").as_deref() {
            Some("sms") => sms.push(to),
            _ => mail.push(to),
        }
    }
    sms.sort();
    mail.sort();
    let (want_sms, want_mail) = flag_recipients(app.rules());
    assert_eq!(sms, want_sms, "SMS to the IOC head and the leadership only");
    assert_eq!(
        mail, want_mail,
        "e-mails to the IOC head and the leadership only"
    );
}
