//! Reporter personal data at rest on the embedded runtime (issue 12 item 5, Đ.4): the SQLite
//! file holds no reporter name, phone or e-mail in plaintext; the views that may show them
//! (the IOC's masked view, a leader's audited reveal) still do; a key file others may read
//! stops the process; a wrong key is a clear error, never garbage; a rotated key still reads
//! what the old one sealed; reports stored in plaintext before are sealed once at start-up.

mod common;

use common::{report_body, start, TempData};
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{Actor, Reporter, Role};
use phananh_core::ports::{Channel, Notification, Notifier};
use phananh_embedded::{SqliteStore, StoreOptions, DB_FILE};
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier, SeqIds};
use phananh_testkit::fixtures::{rules, t0};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

const NAME: &str = "Nguyễn Thị Hoa";
const EMAIL: &str = "hoa@example.vn";
/// The phone as sent (`0987654321`) and stored (`+84987654321`) share these digits.
const PHONE_DIGITS: &str = "987654321";

/// Every text of every row of the `reports` table, read straight from the file.
fn reports_table(data: &Path) -> Vec<String> {
    rows(data, "SELECT id, COALESCE(reporter, ''), doc FROM reports")
}

/// Every row of the delivery log that was sent to the reporter (by SMS or e-mail).
fn reporter_deliveries(data: &Path) -> Vec<String> {
    rows(
        data,
        "SELECT id, channel, doc || COALESCE(error, '') FROM notifications WHERE id LIKE '%:reporter'",
    )
}

fn rows(data: &Path, sql: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(data.join(DB_FILE)).expect("db");
    let mut st = conn.prepare(sql).expect("select");
    let rows = st
        .query_map([], |r| {
            Ok(format!(
                "{}\n{}\n{}",
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?
            ))
        })
        .expect("rows");
    rows.map(|r| r.expect("row")).collect()
}

fn assert_no_plaintext(rows: &[String], name: &str, digits: &str, email: &str) {
    assert!(!rows.is_empty());
    for row in rows {
        for personal in [name, digits, email] {
            assert!(
                !row.contains(personal),
                "{personal} stored in plaintext: {row}"
            );
        }
        assert!(row.contains("\"pii1:"), "sealed values expected: {row}");
    }
}

fn phananh(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_phananh"))
        .env_remove("PHANANH_PII_KEYS")
        .env_remove("PHANANH_CONFIG_DIR")
        .env("RUST_LOG", "error")
        .arg("--data")
        .arg(data)
        .args(args)
        .output()
        .expect("phananh runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

async fn reveal(api: &common::Api, token: &str, id: &str) -> (StatusCode, Value) {
    api.post(
        &format!("/v1/staff/reports/{id}/reveal-reporter"),
        Some(token),
        json!({"reason": "Cần liên hệ xác minh hiện trường"}),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_database_holds_no_reporter_data_in_plaintext_and_only_the_allowed_views_show_it() {
    let data = TempData::new("pii-at-rest");
    let id;
    {
        let s = start(&data.0);
        let api = s.api();
        let citizen = api.device().await;
        let (st, v) = api
            .post(
                "/v1/reports",
                Some(&citizen),
                report_body(
                    "environment",
                    "Rác ùn ứ trước chợ",
                    "Rác thải ùn ứ nhiều ngày, bốc mùi.",
                ),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
        id = v["id"].as_str().expect("id").to_string();

        // The IOC sees the reporter masked; the public feed and the report's public page never.
        let ioc = api.login(&s, "ioc.head").await;
        let (st, v) = api
            .get(&format!("/v1/staff/reports/{id}"), Some(&ioc))
            .await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["reporter"]["phone"], "09******21", "{v}");
        assert_eq!(v["reporter"]["name"], "N*** T*** H***", "{v}");
        let text = v.to_string();
        assert!(!text.contains(PHONE_DIGITS) && !text.contains(EMAIL) && !text.contains(NAME));
        // The audited reveal (IOC head, leader) shows the data as given.
        let (st, v) = reveal(&api, &ioc, &id).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        assert_eq!(v["reporter"]["name"], NAME);
        assert_eq!(v["reporter"]["phone"], "+84987654321");
        assert_eq!(v["reporter"]["email"], EMAIL);
        // The reporter's own list is found without the contact (by the citizen id).
        let (_, mine) = api.get("/v1/me/reports", Some(&citizen)).await;
        assert_eq!(mine["items"].as_array().map(Vec::len), Some(1), "{mine}");
        // The acknowledgement to the reporter (SMS and e-mail) is in the delivery log.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while reporter_deliveries(&data.0).len() < 2 {
            assert!(
                std::time::Instant::now() < deadline,
                "no delivery to the reporter"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }

    // The file, read directly: no name, phone or e-mail, only sealed values, in the reports
    // and in the delivery log of the messages sent to the reporter.
    assert_no_plaintext(&reports_table(&data.0), NAME, PHONE_DIGITS, EMAIL);
    assert_no_plaintext(&reporter_deliveries(&data.0), NAME, PHONE_DIGITS, EMAIL);
    let key_file = data.0.join("pii.key");
    let mode = std::fs::metadata(&key_file)
        .expect("pii.key")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600, "the key file is created private");
    let original = std::fs::read_to_string(&key_file).expect("key");

    // A key file others may read: the process refuses to start.
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    let o = phananh(&data.0, &["export", "--format", "json"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("chmod 600"), "{}", stderr(&o));
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");

    // Another key: reading a report fails with the key named, never garbage.
    let other = "11".repeat(32);
    std::fs::write(&key_file, format!("{other}\n")).expect("key");
    let o = phananh(&data.0, &["export", "--format", "json"]);
    assert!(
        !o.status.success(),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        stderr(&o).contains("which is not configured"),
        "{}",
        stderr(&o)
    );

    // Rotation: a new key first, the old one kept below. Start-up re-seals with the new key;
    // the reveal still shows the data.
    std::fs::write(&key_file, format!("{other}\n{original}")).expect("key");
    let s = start(&data.0);
    let api = s.api();
    let ioc = api.login(&s, "ioc.head").await;
    let (st, v) = reveal(&api, &ioc, &id).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["reporter"]["email"], EMAIL);
    drop(s);
    let new_id = phananh_core::pii::key_id(&[0x11u8; 32]);
    let rows = reports_table(&data.0);
    assert_no_plaintext(&rows, NAME, PHONE_DIGITS, EMAIL);
    assert!(
        rows.iter()
            .all(|r| r.contains(&format!("\"pii1:{new_id}:"))),
        "re-sealed with the new key: {rows:?}"
    );
}

fn plaintext_report(title: &str) -> NewReport {
    NewReport {
        category: "environment".into(),
        title: title.into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: None,
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Sơn".into()),
            phone: Some("0912345678".into()),
            email: Some("son@example.vn".into()),
        }),
        camera_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_stored_in_plaintext_before_are_sealed_once_at_start_up() {
    let data = TempData::new("pii-migration");
    std::fs::create_dir_all(&data.0).expect("data dir");
    let ids = {
        // A database written before encryption at rest: an App without a cipher.
        let store = SqliteStore::open(&data.0, StoreOptions::default()).expect("store");
        let app = App::new(
            Arc::new(rules().clone()),
            Ports {
                store: store.clone(),
                accounts: store.clone(),
                media: Arc::new(MemoryMedia::default()),
                notifier: Arc::new(RecordingNotifier::default()),
                clock: Arc::new(FixedClock::new(t0())),
                ids: Arc::new(SeqIds::default()),
                passwords: Arc::new(FastPasswords::default()),
            },
        );
        let citizen = Actor::new("cit-1", Role::Citizen, None);
        let mut ids = Vec::new();
        for title in ["Rác trước chợ", "Cống tắc"] {
            let (r, _) = app
                .submit(&citizen, plaintext_report(title), &[], None)
                .await
                .expect("submitted");
            ids.push(r.id.0);
        }
        // And a delivery-log row of a message sent to the reporter before.
        phananh_embedded::OutboxNotifier::new(store.clone(), None)
            .send(&Notification {
                id: format!("{}:0:0:sms:reporter", ids[0]),
                channel: Channel::Sms,
                to: "+84912345678".into(),
                unit: None,
                subject: None,
                body: "Da nhan phan anh".into(),
                report_id: None,
            })
            .await
            .expect("recorded");
        store.close();
        ids
    };
    assert!(reporter_deliveries(&data.0)[0].contains("912345678"));
    assert!(reports_table(&data.0)
        .iter()
        .all(|r| r.contains("Lò Văn Sơn")));
    let version = |data: &Path, id: &str| -> i64 {
        let conn = rusqlite::Connection::open(data.join(DB_FILE)).expect("db");
        conn.query_row("SELECT version FROM reports WHERE id = ?1", [id], |r| {
            r.get(0)
        })
        .expect("version")
    };

    let s = start(&data.0);
    let api = s.api();
    let leader = api.login(&s, "leader").await;
    let (st, v) = reveal(&api, &leader, &ids[0]).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["reporter"]["name"], "Lò Văn Sơn");
    assert_eq!(v["reporter"]["phone"], "+84912345678");
    drop(s);
    assert_no_plaintext(
        &reports_table(&data.0),
        "Lò Văn Sơn",
        "912345678",
        "son@example.vn",
    );
    assert_no_plaintext(
        &reporter_deliveries(&data.0),
        "Lò Văn Sơn",
        "912345678",
        "son@example.vn",
    );
    let sealed_version = version(&data.0, &ids[1]);

    // Idempotent: a second start rewrites nothing.
    drop(start(&data.0));
    assert_eq!(version(&data.0, &ids[1]), sealed_version);
}
