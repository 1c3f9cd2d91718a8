//! Notification outbox: dedupe by id, SMTP delivery against a fake server on 127.0.0.1.

mod common;

use base64::Engine as _;
use common::TempDir;
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Notification, Notifier};
use phananh_embedded::{NotificationStatus, OutboxNotifier, SmtpConfig, SqliteStore, StoreOptions};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Accept,
    RejectRcpt,
    Silent,
}

/// A fake SMTP server for `sessions` connections; returns every line the client sent.
async fn fake_smtp(mode: Mode, sessions: usize) -> (u16, JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut lines = Vec::new();
        for _ in 0..sessions {
            let (sock, _) = listener.accept().await.unwrap();
            let (r, mut w) = sock.into_split();
            let mut r = BufReader::new(r);
            if mode == Mode::Silent {
                // Never greets; hold the connection until the client gives up.
                let mut buf = String::new();
                let _ = tokio::time::timeout(Duration::from_secs(10), r.read_line(&mut buf)).await;
                continue;
            }
            w.write_all(b"220 fake.local ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            for _ in 0..1000 {
                let mut line = String::new();
                if r.read_line(&mut line).await.unwrap() == 0 {
                    break;
                }
                let line = line.trim_end_matches(['\r', '\n']).to_string();
                lines.push(line.clone());
                let reply: &[u8] = if in_data {
                    if line == "." {
                        in_data = false;
                        b"250 2.0.0 queued\r\n"
                    } else {
                        continue;
                    }
                } else if line.starts_with("EHLO") {
                    b"250-fake.local\r\n250-8BITMIME\r\n250 SIZE 10000000\r\n"
                } else if line.starts_with("MAIL FROM") {
                    b"250 ok\r\n"
                } else if line.starts_with("RCPT TO") {
                    if mode == Mode::RejectRcpt {
                        b"550 5.1.1 no such user\r\n"
                    } else {
                        b"250 ok\r\n"
                    }
                } else if line == "DATA" {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if line == "QUIT" {
                    w.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"500 what\r\n"
                };
                w.write_all(reply).await.unwrap();
            }
        }
        lines
    });
    (port, task)
}

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
        to: "0912345678".into(),
        unit: None,
        subject: None,
        body: "Phản ánh của bạn đã được tiếp nhận.".into(),
        report_id: Some(ReportId(report.into())),
    }
}

fn smtp(port: u16) -> SmtpConfig {
    let mut c = SmtpConfig::new("127.0.0.1", port, "noreply@laichau.gov.vn");
    c.timeout = Duration::from_secs(2);
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_notification_is_recorded_once() {
    let dir = TempDir::new("phananh-notify");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let n = OutboxNotifier::new(store, None);
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
async fn e_mail_goes_out_over_smtp_once() {
    let dir = TempDir::new("phananh-smtp");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let (port, server) = fake_smtp(Mode::Accept, 1).await;
    let n = OutboxNotifier::new(store, Some(smtp(port)));
    let mail = email("e1", "r1");
    n.send(&mail).await.unwrap();
    // The same id again and an SMS: no second SMTP session (the server takes only one).
    n.send(&mail).await.unwrap();
    n.send(&sms("s1", "r1")).await.unwrap();
    let lines = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .unwrap()
        .unwrap();

    assert!(lines[0].starts_with("EHLO "));
    assert_eq!(lines[1], "MAIL FROM:<noreply@laichau.gov.vn>");
    assert_eq!(lines[2], "RCPT TO:<ubnd.tanphong@laichau.gov.vn>");
    assert_eq!(lines[3], "DATA");
    assert_eq!(lines.last().map(String::as_str), Some("QUIT"));
    // The subject is RFC 2047 encoded words (folded) that decode to the original.
    let start = lines
        .iter()
        .position(|l| l.starts_with("Subject: "))
        .unwrap();
    let mut words = vec![lines[start].trim_start_matches("Subject: ").to_string()];
    words.extend(
        lines[start + 1..]
            .iter()
            .take_while(|l| l.starts_with(' '))
            .map(|l| l.trim().to_string()),
    );
    let subject: String = words
        .iter()
        .map(|w| {
            let b64 = w
                .strip_prefix("=?UTF-8?B?")
                .unwrap()
                .strip_suffix("?=")
                .unwrap();
            String::from_utf8(
                base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .unwrap(),
            )
            .unwrap()
        })
        .collect();
    assert_eq!(Some(subject.as_str()), mail.subject.as_deref());
    assert!(lines
        .iter()
        .all(|l| l.is_ascii() || !l.starts_with("Subject")));
    assert!(lines.contains(&"Content-Type: text/plain; charset=UTF-8".to_string()));
    // Body: UTF-8 text, and the line starting with a dot was dot-stuffed.
    assert!(lines.contains(&"Kính gửi UBND phường,".to_string()));
    assert!(lines.contains(&"..dòng bắt đầu bằng dấu chấm".to_string()));
    assert!(lines.contains(&".".to_string()));

    let recs = n.list_notifications(Some("r1"), 10).await.unwrap();
    let rec = recs.iter().find(|r| r.notification.id == "e1").unwrap();
    assert_eq!(rec.status, NotificationStatus::Sent);
    let sms_rec = recs.iter().find(|r| r.notification.id == "s1").unwrap();
    assert_eq!(
        sms_rec.status,
        NotificationStatus::Recorded,
        "SMS are only recorded"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_e_mail_fails_and_is_retried_by_a_later_send() {
    let dir = TempDir::new("phananh-smtp-retry");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let mail = email("e-retry", "r9");

    let (bad_port, bad) = fake_smtp(Mode::RejectRcpt, 1).await;
    let refusing = OutboxNotifier::new(store.clone(), Some(smtp(bad_port)));
    let err = refusing.send(&mail).await.unwrap_err();
    assert!(err.0.contains("550"), "{err}");
    bad.await.unwrap();
    let rec = &refusing.list_notifications(Some("r9"), 10).await.unwrap()[0];
    assert_eq!(rec.status, NotificationStatus::Failed);
    assert!(rec.error.as_deref().unwrap_or("").contains("550"));

    let (good_port, good) = fake_smtp(Mode::Accept, 1).await;
    let accepting = OutboxNotifier::new(store.clone(), Some(smtp(good_port)));
    accepting.send(&mail).await.unwrap();
    let lines = good.await.unwrap();
    assert!(lines.contains(&"RCPT TO:<ubnd.tanphong@laichau.gov.vn>".to_string()));
    let recs = accepting.list_notifications(Some("r9"), 10).await.unwrap();
    assert_eq!(recs.len(), 1, "still one record");
    assert_eq!(recs[0].status, NotificationStatus::Sent);
    assert_eq!(recs[0].error, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_server_times_out() {
    let dir = TempDir::new("phananh-smtp-silent");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    let (port, server) = fake_smtp(Mode::Silent, 1).await;
    let mut cfg = smtp(port);
    cfg.timeout = Duration::from_millis(300);
    let n = OutboxNotifier::new(store, Some(cfg));
    let err = n.send(&email("e-silent", "r5")).await.unwrap_err();
    assert!(err.0.contains("timed out"), "{err}");
    server.abort();
    let rec = &n.list_notifications(Some("r5"), 1).await.unwrap()[0];
    assert_eq!(rec.status, NotificationStatus::Failed);
}

#[tokio::test]
async fn header_injection_in_the_recipient_is_refused() {
    let dir = TempDir::new("phananh-smtp-inject");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).unwrap();
    // Port 9 on loopback: nothing must be attempted anyway.
    let n = OutboxNotifier::new(store, Some(smtp(9)));
    let mut bad = email("e-bad", "r6");
    bad.to = "a@b.vn\r\nBcc: everyone@laichau.gov.vn".into();
    let err = n.send(&bad).await.unwrap_err();
    assert!(err.0.contains("invalid address"), "{err}");
}
