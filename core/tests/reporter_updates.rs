//! The reporter is told each step that concerns them (issue 13), by SMS without diacritics and
//! by e-mail with them: received, assigned with the deadline, deferred with the expected date
//! (Đ.7.5), rejected with the reason — never a staff member's name or an internal note.

use chrono::{NaiveDate, TimeZone, Utc};
use phananh_core::app::Consumer;
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_testkit::actors;
use phananh_testkit::app::TestApp;

const PHONE: &str = "+84911222333";
const EMAIL: &str = "minh.lo@example.vn";
const INTERNAL: &str = "Ghi chú nội bộ: anh Tuấn phụ trách, chưa báo người dân";

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
            email: Some(EMAIL.into()),
        }),
        camera_id: None,
    }
}

async fn pump(t: &TestApp) {
    for _ in 0..10 {
        let pending = t.store.pending_events(100).await.unwrap();
        if pending.is_empty() {
            break;
        }
        for env in &pending {
            for c in Consumer::ALL {
                t.app.handle_event(c, env).await.unwrap();
            }
        }
        let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
        t.store.mark_published(&ids).await.unwrap();
    }
}

/// What the reporter was sent since `from`: (sms body, e-mail body).
fn to_reporter(t: &TestApp, from: usize) -> (Vec<String>, Vec<String>) {
    let all: Vec<Notification> = t.notifier.all().into_iter().skip(from).collect();
    let sms = all
        .iter()
        .filter(|n| n.to == PHONE && n.channel == Channel::Sms)
        .map(|n| n.body.clone())
        .collect();
    let mail = all
        .iter()
        .filter(|n| n.to == EMAIL && n.channel == Channel::Email)
        .map(|n| n.body.clone())
        .collect();
    (sms, mail)
}

#[tokio::test]
async fn the_reporter_is_told_received_assigned_and_deferred_in_their_words() {
    let t = TestApp::new();
    // Wednesday 25/11/2026 09:00 local.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap());
    let citizen = Actor::new("dev-1", Role::Citizen, None);
    let (r, _) = t.app.submit(&citizen, input(), &[], None).await.unwrap();
    pump(&t).await;
    let (sms, mail) = to_reporter(&t, 0);
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(sms[0].contains("da duoc tiep nhan"), "{}", sms[0]);
    assert!(sms[0].is_ascii(), "SMS without diacritics: {}", sms[0]);
    assert_eq!(mail.len(), 1);
    assert!(mail[0].contains("đã được hệ thống phản ánh hiện trường tiếp nhận"));

    let n = t.notifier.all().len();
    let assign = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: Some(INTERNAL.into()),
    };
    t.app.act(&r.id, &actors::ioc_head(), assign).await.unwrap();
    pump(&t).await;
    let (sms, mail) = to_reporter(&t, n);
    assert_eq!(sms.len(), 1, "{sms:?}");
    // Đ.7.4.g: 2 clock hours from 09:00.
    assert!(
        sms[0].contains("11:00 25/11/2026"),
        "the deadline: {}",
        sms[0]
    );
    assert!(
        mail[0].contains("Hạn báo cáo kết quả: 11:00 25/11/2026"),
        "{}",
        mail[0]
    );

    let n = t.notifier.all().len();
    let staff = actors::unit_staff("trung_tam_y_te");
    let note = Command::AddNote {
        note: INTERNAL.into(),
        attachments: vec![],
    };
    t.app.act(&r.id, &staff, note).await.unwrap();
    let defer = Command::Defer {
        reason: "Chờ kết quả xét nghiệm mẫu thực phẩm.".into(),
        expected_date: NaiveDate::from_ymd_opt(2026, 12, 4).unwrap(),
    };
    t.app.act(&r.id, &staff, defer).await.unwrap();
    pump(&t).await;
    let (sms, mail) = to_reporter(&t, n);
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0].contains("04/12/2026"),
        "the expected date: {}",
        sms[0]
    );
    assert!(mail[0].contains("thời gian dự kiến giải quyết: 04/12/2026"));

    for body in t
        .notifier
        .all()
        .iter()
        .filter(|n| n.to == PHONE || n.to == EMAIL)
        .map(|n| n.body.clone())
    {
        assert!(!body.contains("Tuấn") && !body.contains("Tuan"), "{body}");
        assert!(
            !body.to_lowercase().contains("noi bo") && !body.contains("nội bộ"),
            "{body}"
        );
        assert!(!body.contains(&staff.id), "{body}");
    }
}

#[tokio::test]
async fn a_rejected_reporter_is_given_the_reason() {
    let t = TestApp::new();
    let citizen = Actor::new("dev-1", Role::Citizen, None);
    let (r, _) = t.app.submit(&citizen, input(), &[], None).await.unwrap();
    pump(&t).await;
    let n = t.notifier.all().len();
    let reject = Command::Reject {
        reason: "Nội dung trùng với phản ánh đã được xử lý trước đó.".into(),
    };
    t.app.act(&r.id, &actors::ioc_head(), reject).await.unwrap();
    pump(&t).await;
    let (sms, mail) = to_reporter(&t, n);
    assert_eq!(
        sms,
        vec!["Phan anh 00000001 cua ong/ba khong duoc tiep nhan. Ly do: Noi dung trung voi phan anh da duoc xu ly truoc do."
            .to_string()]
    );
    assert!(mail[0].contains("Lý do: Nội dung trùng với phản ánh đã được xử lý trước đó."));
}
