//! Delivery: e-mail to a local SMTP server with authentication, SMS to the fake provider and to
//! an HTTP gateway on 127.0.0.1, each recipient once; failures retried with backoff, then
//! dead-lettered, then re-sent.

mod common;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use chrono::Duration as ChronoDuration;
use common::{t0, TempDir};
use phananh_core::delivery::{DeliveryLog, DeliveryStatus, RetrySchedule, SmsProvider};
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Clock, Notification, Notifier, StoreError};
use phananh_embedded::{
    BodyFormat, FakeSmsProvider, HttpSmsConfig, HttpSmsGateway, NotificationStatus, OutboxNotifier,
    PhoneFormat, SmtpConfig, SqliteStore, StoreOptions,
};
use phananh_testkit::fakes::FixedClock;
use phananh_testkit::smtp::{SmtpMode, SmtpServer};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn email(id: &str, report: &str) -> Notification {
    Notification {
        id: id.into(),
        channel: Channel::Email,
        to: "ubnd.tanphong@laichau.gov.vn".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: Some("Phản ánh quá hạn: rác thải ùn ứ trước chợ Tân Phong".into()),
        body: "Kính gửi UBND phường,\n.dòng bắt đầu bằng dấu chấm\nTrân trọng.".into(),
        report_id: Some(ReportId(report.into())),
    }
}

fn sms(id: &str, report: &str) -> Notification {
    Notification {
        id: id.into(),
        channel: Channel::Sms,
        to: "+84912345678".into(),
        unit: None,
        subject: None,
        body: "Phan anh PA-1 cua ban da duoc tiep nhan.".into(),
        report_id: Some(ReportId(report.into())),
    }
}

fn smtp(port: u16) -> SmtpConfig {
    let mut c = SmtpConfig::new("127.0.0.1", port, "noreply@laichau.gov.vn");
    c.timeout = Duration::from_secs(3);
    c
}

fn open(dir: &TempDir) -> Arc<SqliteStore> {
    SqliteStore::open(dir.path(), StoreOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_transport_a_notification_is_recorded_once() {
    let dir = TempDir::new("phananh-notify");
    let n = OutboxNotifier::new(open(&dir), None);
    n.send(&sms("s1", "r1")).await.unwrap();
    n.send(&sms("s1", "r1")).await.unwrap();
    n.send(&email("e1", "r1")).await.unwrap();
    n.send(&sms("s2", "r2")).await.unwrap();
    let r1 = n.list_notifications(Some("r1"), 10).await.unwrap();
    assert_eq!(r1.len(), 2);
    assert_eq!(r1[0].notification.id, "e1", "newest first");
    assert_eq!(r1[1].notification, sms("s1", "r1"));
    assert!(r1.iter().all(|r| r.status == NotificationStatus::Recorded));
    assert_eq!(n.list_notifications(None, 10).await.unwrap().len(), 3);
    assert_eq!(n.list_notifications(None, 1).await.unwrap().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_reaches_a_local_smtp_server_with_authentication_once() {
    let dir = TempDir::new("phananh-smtp");
    let server = SmtpServer::start(SmtpMode::Accept, 4).await;
    let mut cfg = smtp(server.port);
    cfg.username = Some("ioc@laichau.gov.vn".into());
    cfg.password = Some("mat-khau-thu".into());
    cfg.from_name = Some("Trung tâm IOC Lai Châu".into());
    let n = OutboxNotifier::new(open(&dir), Some(cfg));
    let mail = email("e1", "r1");
    n.send(&mail).await.unwrap();
    // The same id again: not a second message.
    n.send(&mail).await.unwrap();
    let got = server.wait_for(1, Duration::from_secs(5)).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(server.received().len(), 1, "exactly one message");
    let m = &got[0];
    assert_eq!(
        m.auth,
        Some(("ioc@laichau.gov.vn".into(), "mat-khau-thu".into()))
    );
    assert_eq!(m.mail_from, "<noreply@laichau.gov.vn>");
    assert_eq!(
        m.rcpt_to,
        vec!["<ubnd.tanphong@laichau.gov.vn>".to_string()]
    );
    assert_eq!(m.header("Subject"), mail.subject);
    assert!(m
        .header("From")
        .unwrap_or_default()
        .contains("Trung tâm IOC Lai Châu"));
    assert_eq!(
        m.parts("text/plain"),
        vec![mail.body.clone()],
        "a plain-text part with the diacritics as written"
    );
    let html = m.parts("text/html");
    assert_eq!(html.len(), 1);
    assert!(html[0].contains("Kính gửi UBND phường,<br>"), "{html:?}");

    let rec = &n.list_notifications(Some("r1"), 10).await.unwrap()[0];
    assert_eq!(rec.status, NotificationStatus::Sent);
    assert_eq!(rec.provider.as_deref(), Some("smtp"));
    assert!(
        rec.provider_message_id
            .as_deref()
            .unwrap_or("")
            .contains("TEST123"),
        "the server's queue id is logged: {rec:?}"
    );
    assert_eq!(rec.attempts, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sms_go_to_the_fake_provider_once_each() {
    let dir = TempDir::new("phananh-fake-sms");
    let fake = Arc::new(FakeSmsProvider::new());
    let n = OutboxNotifier::new(open(&dir), None).with_sms(Some(fake.clone()));
    n.send(&sms("s1", "r1")).await.unwrap();
    n.send(&sms("s1", "r1")).await.unwrap();
    let mut other = sms("s2", "r1");
    other.to = "+84987654321".into();
    n.send(&other).await.unwrap();
    let got = fake.messages();
    assert_eq!(
        got.iter().map(|m| m.to.as_str()).collect::<Vec<_>>(),
        vec!["+84912345678", "+84987654321"]
    );
    assert_eq!(got[0].body, "Phan anh PA-1 cua ban da duoc tiep nhan.");
    let log = n
        .recent_deliveries(Some(Channel::Sms), None, 10)
        .await
        .unwrap();
    assert_eq!(log.len(), 2);
    assert!(log
        .iter()
        .all(|r| r.status == DeliveryStatus::Sent && r.provider.as_deref() == Some("fake")));
    assert_eq!(log[1].provider_message_id.as_deref(), Some("fake-1"));
}

/// A gateway on 127.0.0.1 that records each request (content type, authorization, body) and
/// answers with `reply` and `status`.
async fn gateway(
    status: u16,
    reply: &'static str,
) -> (String, Arc<Mutex<Vec<(String, String, String)>>>) {
    type Seen = Arc<Mutex<Vec<(String, String, String)>>>;
    let seen: Seen = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new()
        .route(
            "/send",
            post(
                move |State(seen): State<Seen>, headers: HeaderMap, body: String| async move {
                    let h = |k: &str| {
                        headers
                            .get(k)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or("")
                            .to_string()
                    };
                    if let Ok(mut g) = seen.lock() {
                        g.push((h("content-type"), h("authorization"), body));
                    }
                    (
                        axum::http::StatusCode::from_u16(status).unwrap(),
                        [("content-type", "application/json")],
                        reply,
                    )
                },
            ),
        )
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/send", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (url, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_gateway_receives_the_configured_json_body() {
    let (url, seen) = gateway(200, r#"{"CodeResult":"100","SMSID":"a1b2-c3"}"#).await;
    let mut c = HttpSmsConfig::new(url, "UBND LAICHAU");
    c.phone_field = "Phone".into();
    c.text_field = "Content".into();
    c.sender_field = "Brandname".into();
    c.phone_format = PhoneFormat::National;
    c.extra_fields = vec![
        ("ApiKey".into(), "k-123".into()),
        ("SmsType".into(), "2".into()),
    ];
    c.id_pointer = Some("/SMSID".into());
    c.success = Some(("/CodeResult".into(), "100".into()));
    let gw = HttpSmsGateway::new(c).unwrap();
    let id = gw
        .send_sms("+84912345678", "Phan anh PA-1 da duoc tiep nhan")
        .await
        .unwrap();
    assert_eq!(id, "a1b2-c3");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got.len(), 1);
    assert!(got[0].0.starts_with("application/json"));
    let body: serde_json::Value = serde_json::from_str(&got[0].2).unwrap();
    assert_eq!(
        body,
        serde_json::json!({
            "Phone": "0912345678",
            "Content": "Phan anh PA-1 da duoc tiep nhan",
            "Brandname": "UBND LAICHAU",
            "ApiKey": "k-123",
            "SmsType": "2"
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_http_gateway_receives_a_form_body_with_basic_auth() {
    let (url, seen) = gateway(200, r#"{"status":"success","data":{"tranId":77}}"#).await;
    let mut c = HttpSmsConfig::new(url, "LAICHAU");
    c.format = BodyFormat::Form;
    c.basic_auth = Some(("user".into(), "pw".into()));
    c.id_pointer = Some("/data/tranId".into());
    let gw = HttpSmsGateway::new(c).unwrap();
    assert_eq!(gw.send_sms("+84912345678", "Xin chao").await.unwrap(), "77");
    let got = seen.lock().unwrap().clone();
    assert_eq!(got[0].0, "application/x-www-form-urlencoded");
    assert_eq!(got[0].1, "Basic dXNlcjpwdw==");
    assert_eq!(
        got[0].2,
        "phone=84912345678&message=Xin+chao&sender=LAICHAU"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_that_refuses_is_an_error_with_its_reply() {
    let (url, _) = gateway(500, r#"{"error":"het han muc"}"#).await;
    let gw = HttpSmsGateway::new(HttpSmsConfig::new(url.clone(), "S")).unwrap();
    let err = gw.send_sms("+84912345678", "x").await.unwrap_err();
    assert!(
        err.0.contains("500") && err.0.contains("het han muc"),
        "{err}"
    );
    let (url, _) = gateway(200, r#"{"CodeResult":"99"}"#).await;
    let mut c = HttpSmsConfig::new(url, "S");
    c.success = Some(("/CodeResult".into(), "100".into()));
    let err = HttpSmsGateway::new(c)
        .unwrap()
        .send_sms("+84912345678", "x")
        .await
        .unwrap_err();
    assert!(err.0.contains("refused"), "{err}");
}

fn schedule() -> RetrySchedule {
    RetrySchedule {
        max_attempts: 3,
        first_backoff: ChronoDuration::minutes(1),
        max_backoff: ChronoDuration::minutes(30),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_provider_is_retried_with_backoff_then_dead_lettered_then_re_sent() {
    let dir = TempDir::new("phananh-retry");
    let clock = Arc::new(FixedClock::new(t0()));
    let fake = Arc::new(FakeSmsProvider::new());
    fake.set_failing(true);
    let n = OutboxNotifier::new(open(&dir), None)
        .with_sms(Some(fake.clone()))
        .with_clock(clock.clone())
        .with_schedule(schedule());
    let rid = ReportId("r7".into());
    // The first attempt fails: recorded, not an error (the other recipients go on).
    n.send(&sms("s7", "r7")).await.unwrap();
    let rec = &n.deliveries_for_report(&rid, 10).await.unwrap()[0];
    assert_eq!(rec.status, DeliveryStatus::Retrying);
    assert_eq!(rec.attempts, 1);
    assert_eq!(rec.next_attempt_at, Some(t0() + ChronoDuration::minutes(1)));
    assert!(rec.error.as_deref().unwrap_or("").contains("refuse"));

    // Not before the backoff is over.
    assert_eq!(
        n.retry_due(t0() + ChronoDuration::seconds(59), 10)
            .await
            .unwrap(),
        0
    );
    clock.set(t0() + ChronoDuration::minutes(1));
    assert_eq!(n.retry_due(clock.now(), 10).await.unwrap(), 1);
    let rec = &n.deliveries_for_report(&rid, 10).await.unwrap()[0];
    assert_eq!((rec.status, rec.attempts), (DeliveryStatus::Retrying, 2));
    assert_eq!(
        rec.next_attempt_at,
        Some(t0() + ChronoDuration::minutes(3)),
        "doubled"
    );

    clock.set(t0() + ChronoDuration::minutes(3));
    assert_eq!(n.retry_due(clock.now(), 10).await.unwrap(), 1);
    let rec = &n.deliveries_for_report(&rid, 10).await.unwrap()[0];
    assert_eq!((rec.status, rec.attempts), (DeliveryStatus::Dead, 3));
    assert_eq!(rec.next_attempt_at, None);
    assert_eq!(
        n.retry_due(t0() + ChronoDuration::days(1), 10)
            .await
            .unwrap(),
        0,
        "dead letters wait"
    );
    let dead = n
        .recent_deliveries(None, Some(DeliveryStatus::Dead), 10)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1);
    assert!(fake.messages().is_empty());

    // The office re-sends once the provider works again.
    fake.set_failing(false);
    let rec = n.resend("s7").await.unwrap();
    assert_eq!(rec.status, DeliveryStatus::Sent);
    assert_eq!(rec.attempts, 1, "a re-send counts afresh");
    assert_eq!(rec.provider_message_id.as_deref(), Some("fake-1"));
    assert_eq!(fake.messages().len(), 1);
    assert_eq!(n.resend("s7").await.unwrap_err(), StoreError::Conflict);
    assert_eq!(n.resend("nope").await.unwrap_err(), StoreError::NotFound);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_retry_passes_at_once_send_each_notification_once() {
    let dir = TempDir::new("phananh-retry-race");
    let clock = Arc::new(FixedClock::new(t0()));
    let fake = Arc::new(FakeSmsProvider::new());
    fake.set_failing(true);
    let n = Arc::new(
        OutboxNotifier::new(open(&dir), None)
            .with_sms(Some(fake.clone()))
            .with_clock(clock.clone())
            .with_schedule(schedule()),
    );
    for i in 0..20 {
        n.send(&sms(&format!("s{i}"), "r8")).await.unwrap();
    }
    fake.set_failing(false);
    let later = t0() + ChronoDuration::minutes(2);
    clock.set(later);
    let (a, b) = tokio::join!(
        {
            let n = n.clone();
            async move { n.retry_due(later, 100).await.unwrap() }
        },
        {
            let n = n.clone();
            async move { n.retry_due(later, 100).await.unwrap() }
        }
    );
    assert_eq!(a + b, 20, "every one attempted by one pass only");
    assert_eq!(fake.messages().len(), 20, "each sent once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_recipient_and_a_silent_server_are_logged_for_retry() {
    let dir = TempDir::new("phananh-smtp-refused");
    let store = open(&dir);
    let refusing = SmtpServer::start(SmtpMode::RejectRcpt, 1).await;
    let n = OutboxNotifier::new(store.clone(), Some(smtp(refusing.port)));
    n.send(&email("e-retry", "r9")).await.unwrap();
    let rec = &n.list_notifications(Some("r9"), 10).await.unwrap()[0];
    assert_eq!(rec.status, NotificationStatus::Retrying);
    assert!(
        rec.error.as_deref().unwrap_or("").contains("550"),
        "{rec:?}"
    );

    let silent = SmtpServer::start(SmtpMode::Silent, 1).await;
    let mut cfg = smtp(silent.port);
    cfg.timeout = Duration::from_millis(300);
    let n = OutboxNotifier::new(store, Some(cfg));
    n.send(&email("e-silent", "r5")).await.unwrap();
    let rec = &n.list_notifications(Some("r5"), 1).await.unwrap()[0];
    assert_eq!(rec.status, NotificationStatus::Retrying);
    assert!(rec.error.is_some());
}

#[tokio::test]
async fn header_injection_in_the_recipient_is_refused() {
    let dir = TempDir::new("phananh-smtp-inject");
    // Port 9 on loopback: nothing must be attempted anyway.
    let n = OutboxNotifier::new(open(&dir), Some(smtp(9)));
    let mut bad = email("e-bad", "r6");
    bad.to = "a@b.vn\r\nBcc: everyone@laichau.gov.vn".into();
    n.send(&bad).await.unwrap();
    let rec = &n.list_notifications(Some("r6"), 1).await.unwrap()[0];
    assert!(
        rec.error
            .as_deref()
            .unwrap_or("")
            .contains("invalid address"),
        "{rec:?}"
    );
}

/// Issue 12 item 5: with the personal-data key, a recipient's number is sealed in the
/// `notifications` row (read straight from the file), and a retry still reaches
/// the number itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sealed_recipient_is_never_plaintext_in_the_row_and_still_reached_on_retry() {
    let dir = TempDir::new("phananh-notify-pii");
    let clock = Arc::new(FixedClock::new(t0()));
    let fake = Arc::new(FakeSmsProvider::new());
    fake.set_failing(true);
    let ring = Arc::new(
        phananh_core::pii::Keyring::new(&[phananh_core::pii::Keyring::generate_key()]).unwrap(),
    );
    let n = OutboxNotifier::new(open(&dir), None)
        .with_sms(Some(fake.clone()))
        .with_clock(clock.clone())
        .with_schedule(schedule())
        .with_pii_cipher(ring);
    let mut to_reporter = sms("s9:reporter", "r9");
    to_reporter.unit = None;
    n.send(&to_reporter).await.unwrap();
    let row: String = rusqlite::Connection::open(dir.path().join(phananh_embedded::DB_FILE))
        .unwrap()
        .query_row(
            "SELECT doc FROM notifications WHERE id = 's9:reporter'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!row.contains("912345678"), "{row}");
    assert!(row.contains("\"to\":\"pii1:"), "{row}");
    // Listed with the number (the core view then labels it "người phản ánh").
    let rec = &n
        .deliveries_for_report(&ReportId("r9".into()), 10)
        .await
        .unwrap()[0];
    assert_eq!(rec.notification.to, "+84912345678");

    fake.set_failing(false);
    clock.set(t0() + ChronoDuration::minutes(1));
    assert_eq!(n.retry_due(clock.now(), 10).await.unwrap(), 1);
    assert_eq!(fake.messages()[0].to, "+84912345678");
}

/// Issue 12 item 5: a provider's refusal often quotes the address it refused; the delivery
/// log stores the error without it (core's `Attempt::failed`), on both channels.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_provider_error_quoting_the_address_is_stored_without_it() {
    let dir = TempDir::new("phananh-error-redacted");
    let store = open(&dir);
    // SMTP: "550 5.1.1 <ubnd.tanphong@laichau.gov.vn>: Recipient address rejected".
    let refusing = SmtpServer::start(SmtpMode::RejectRcpt, 1).await;
    let n = OutboxNotifier::new(store.clone(), Some(smtp(refusing.port)));
    n.send(&email("e-quoted", "r11")).await.unwrap();
    let rec = &n.list_notifications(Some("r11"), 10).await.unwrap()[0];
    let error = rec.error.clone().unwrap_or_default();
    assert!(
        error.contains("550") && error.contains("[email]"),
        "{error}"
    );
    assert!(!error.to_lowercase().contains("tanphong"), "{error}");

    // An SMS gateway that names the number in its refusal, in its own format.
    let (url, _) = gateway(
        400,
        r#"{"error":"so thue bao 84912345678 (0912345678) khong hop le"}"#,
    )
    .await;
    let gw = HttpSmsGateway::new(HttpSmsConfig::new(url, "S")).unwrap();
    let n = OutboxNotifier::new(store, None).with_sms(Some(Arc::new(gw)));
    n.send(&sms("s-quoted", "r12")).await.unwrap();
    let rec = &n
        .deliveries_for_report(&ReportId("r12".into()), 10)
        .await
        .unwrap()[0];
    let error = rec.error.clone().unwrap_or_default();
    assert!(
        error.contains("400") && error.contains("[phone]"),
        "{error}"
    );
    assert!(!error.contains("912345678"), "{error}");
}
