//! Personal data never leaks (Đ.3.2.c, Đ.4.2): thousands of generated reports with random
//! names, phone numbers and e-mail addresses go through submission, sign-in codes, failed
//! sign-ins and the views; no public response, no unit response and no log line (through the
//! redaction layer both runtimes log with) contains any of it, nor the citizen's stable id in
//! a unit's view.

use phananh_core::lifecycle::NewReport;
use phananh_core::model::{Actor, GeoPoint, Reporter, Role};
use phananh_core::ports::{Channel, ReportStore};
use phananh_core::redact::RedactingWriter;
use phananh_core::views;
use phananh_testkit::app::TestApp;
use phananh_testkit::fixtures::{assigned, at, published, rules};
use proptest::prelude::*;
use std::io::Write;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut g) = self.0.lock() {
            g.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

const FAMILY: &[&str] = &[
    "Nguyễn", "Lò", "Trần", "Lê", "Phạm", "Vàng", "Tòng", "Giàng", "Hoàng",
];
const MIDDLE: &[&str] = &["Văn", "Thị", "Đức", "Minh", "Thu", "Quốc"];
const GIVEN: &[&str] = &[
    "An", "Hoa", "Bình", "Sùng", "Páo", "Lan", "Khánh", "Dũng", "Mai",
];

fn person() -> impl Strategy<Value = (String, String, String, String)> {
    (
        0..FAMILY.len(),
        0..MIDDLE.len(),
        0..GIVEN.len(),
        "[0-9]{6}",
        prop::sample::select(vec!["3", "5", "7", "8", "9"]),
        "[0-9]{8}",
        "[a-z]{3,8}",
        "[a-z]{2,6}",
        any::<bool>(),
    )
        .prop_map(|(f, m, g, tag, first, rest, local, host, intl)| {
            let name = format!("{} {} {} {tag}", FAMILY[f], MIDDLE[m], GIVEN[g]);
            let national = format!("0{first}{rest}");
            let typed = if intl {
                format!("+84{first}{rest}")
            } else {
                national.clone()
            };
            let e164 = format!("+84{first}{rest}");
            let email = format!("{local}.{tag}@{host}.vn");
            (name, typed, e164, email)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, .. ProptestConfig::default() })]

    #[test]
    fn no_public_or_unit_response_and_no_log_line_contains_personal_data(
        (name, phone, e164, email) in person()
    ) {
        let logs = Captured::default();
        let sink = logs.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || RedactingWriter::new(sink.clone()))
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let t = TestApp::new();
        // Issue 12 item 5: the reporter's data sealed at rest as on both runtimes.
        let ring = std::sync::Arc::new(
            phananh_core::pii::Keyring::new(&[phananh_core::pii::Keyring::generate_key()]).unwrap(),
        );
        let app = t.app.clone().with_audit_key(b"redaction-test-key").with_pii_cipher(ring);
        let citizen = Actor::new("cit-prop", Role::Citizen, None);
        let report = rt.block_on(async {
            let input = NewReport {
                category: "environment".into(),
                title: "Rác thải ùn ứ trước chợ".into(),
                description: "Rác thải ùn ứ nhiều ngày, bốc mùi khó chịu.".into(),
                location: Some(GeoPoint { lat: 22.3965, lon: 103.4585 }),
                address: None,
                reporter_ward: None,
                attachments: vec![],
                reporter: Some(Reporter {
                    citizen_id: String::new(),
                    name: Some(name.clone()),
                    phone: Some(phone.clone()),
                    email: Some(email.clone()),
                }),
                camera_id: None,
            };
            let (r, _) = app.submit(&citizen, input, &[], None).await.unwrap();
            app.request_sign_in_code(&e164, Channel::Sms, "198.51.100.4").await.unwrap();
            app.request_sign_in_code(&email, Channel::Email, "198.51.100.4").await.unwrap();
            let _ = app.verify_sign_in_code(&e164, "000000", "198.51.100.4").await;
            // People type their name or e-mail as a username.
            let _ = app.login_from(&email, "mật-khẩu-sai", "198.51.100.4").await;
            let _ = app.login_from(&name, "mật-khẩu-sai", "198.51.100.4").await;
            tracing::info!(to = %e164, contact = %email, "a careless line the layer must catch");
            r
        });
        let secret = [name.as_str(), phone.as_str(), e164.as_str(), email.as_str()];
        // What the store holds (below the sealing) has none of it; what the application
        // loads has all of it back.
        let raw = rt.block_on(t.store.get(&report.id)).unwrap().unwrap();
        let raw_json = serde_json::to_string(&raw).unwrap();
        for s in secret {
            prop_assert!(!raw_json.contains(s), "{s} stored in plaintext");
        }
        let stored = rt.block_on(app.load(&report.id)).unwrap();
        prop_assert_eq!(stored.reporter.as_ref().and_then(|r| r.name.as_deref()), Some(name.as_str()));
        prop_assert_eq!(stored.reporter.as_ref().and_then(|r| r.email.as_deref()), Some(email.as_str()));

        // The unit's view: no reporter, no citizen id.
        let unit = Actor::new("u-1", Role::UnitStaff, Some("phong_tai_nguyen"));
        let handled = assigned(stored.clone(), "phong_tai_nguyen", &[], at(60));
        let unit_json = serde_json::to_string(&views::staff_view(&handled, &unit, rules(), at(1))).unwrap();
        let cid = stored.reporter_id().unwrap_or_default().to_string();
        prop_assert!(!cid.is_empty());
        prop_assert!(!unit_json.contains(&cid), "citizen id in a unit view");
        // The public view of the published report.
        let public = published(handled, at(120));
        let public_json = serde_json::to_string(&views::public_view(&public, rules())).unwrap();
        prop_assert!(public_json.len() > 10);
        let log = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
        prop_assert!(log.contains("[phone]") && log.contains("[email]"), "the careless line was logged, redacted");
        for s in secret {
            prop_assert!(!unit_json.contains(s), "{s} in a unit view");
            prop_assert!(!public_json.contains(s), "{s} in a public view");
            prop_assert!(!log.contains(s), "{s} in the logs:\n{log}");
        }
    }
}
