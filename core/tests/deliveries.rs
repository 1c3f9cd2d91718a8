//! The delivery log as the office and the IOC use it (Đ.7.2): who was told what about a
//! report, the reporter's address never shown, dead letters visible and re-sent.

use chrono::{TimeZone, Utc};
use phananh_core::app::deliveries::REPORTER_LABEL;
use phananh_core::app::{App, Consumer};
use phananh_core::delivery::DeliveryStatus;
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::DomainError;
use phananh_testkit::actors;
use phananh_testkit::app::TestApp;

fn world() -> TestApp {
    let t = TestApp::new();
    // Wednesday 2026-11-25 09:00 local.
    t.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap());
    t
}

fn citizen() -> Actor {
    Actor::new("dev-1", Role::Citizen, None)
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

async fn assigned(t: &TestApp) -> Report {
    let (r, _) = t.app.submit(&citizen(), input(), &[], None).await.unwrap();
    pump(t).await;
    let cmd = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    let r = t.app.act(&r.id, &actors::ioc_head(), cmd).await.unwrap();
    pump(t).await;
    r
}

#[tokio::test]
async fn d7_2_the_office_and_the_ioc_see_who_was_told_what_about_a_report() {
    let t = world();
    let r = assigned(&t).await;
    for who in [actors::office(), actors::ioc_head(), actors::ioc_operator()] {
        let log = t.app.deliveries_for(&who, &r.id).await.unwrap();
        let units: std::collections::BTreeSet<_> =
            log.iter().filter_map(|d| d.unit.clone()).collect();
        assert_eq!(
            units,
            ["lanh_dao_ubnd".to_string(), "trung_tam_y_te".to_string()].into()
        );
        assert!(log
            .iter()
            .all(|d| d.status == DeliveryStatus::Sent && d.provider_message_id.is_some()));
        assert_eq!(log.len(), t.notifier.all().len());
    }
    for who in [
        actors::unit_staff("trung_tam_y_te"),
        actors::unit_head("trung_tam_y_te"),
        actors::leader(),
        citizen(),
    ] {
        assert!(
            matches!(
                t.app.deliveries_for(&who, &r.id).await,
                Err(DomainError::Forbidden {
                    action: Action::ManageNotifications,
                    ..
                })
            ),
            "{who:?}"
        );
    }
    let unknown = ReportId("no-such-report".into());
    assert_eq!(
        t.app.deliveries_for(&actors::office(), &unknown).await,
        Err(DomainError::NotFound)
    );
}

#[tokio::test]
async fn d4_4_the_reporters_address_is_never_in_the_log_staff_read() {
    let t = world();
    let (r, _) = t.app.submit(&citizen(), input(), &[], None).await.unwrap();
    pump(&t).await;
    let reject = Command::Reject {
        reason: "Nội dung trùng với phản ánh đã xử lý".into(),
    };
    t.app.act(&r.id, &actors::ioc_head(), reject).await.unwrap();
    pump(&t).await;
    let log = t
        .app
        .deliveries_for(&actors::office(), &r.id)
        .await
        .unwrap();
    // Received, then rejected: both to the reporter, whose number staff never see here.
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d.to == REPORTER_LABEL), "{log:?}");
    let json = serde_json::to_string(&log).unwrap();
    assert!(!json.contains("911222333"), "{json}");
}

#[tokio::test]
async fn a_notification_that_could_not_be_delivered_waits_as_a_dead_letter_until_re_sent() {
    let t = world();
    let health = t
        .app
        .rules()
        .config
        .unit("trung_tam_y_te")
        .unwrap()
        .contacts
        .sms[0]
        .clone();
    let to = phananh_core::contact::phone_e164(&health).unwrap();
    t.notifier.fail_to(&to, true);
    let r = assigned(&t).await;
    let dead = t
        .app
        .recent_deliveries(&actors::office(), None, Some(DeliveryStatus::Dead), 50)
        .await
        .unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].to, to);
    assert_eq!(dead[0].report_id.as_ref(), Some(&r.id));
    // The others were told all the same.
    assert!(t
        .notifier
        .all()
        .iter()
        .any(|n| n.unit.as_deref() == Some("lanh_dao_ubnd")));

    // Still failing: still dead. Units may not re-send.
    let again = t
        .app
        .resend_delivery(&actors::office(), &dead[0].id)
        .await
        .unwrap();
    assert_eq!(again.status, DeliveryStatus::Dead);
    assert!(t
        .app
        .resend_delivery(&actors::unit_head("trung_tam_y_te"), &dead[0].id)
        .await
        .is_err());
    t.notifier.fail_to(&to, false);
    let sent = t
        .app
        .resend_delivery(&actors::ioc_head(), &dead[0].id)
        .await
        .unwrap();
    assert_eq!(sent.status, DeliveryStatus::Sent);
    assert!(t.notifier.all().iter().any(|n| n.id == dead[0].id));
    assert!(matches!(
        t.app.resend_delivery(&actors::office(), &dead[0].id).await,
        Err(DomainError::Invalid { .. })
    ));
    assert_eq!(
        t.app.resend_delivery(&actors::office(), "nope").await,
        Err(DomainError::NotFound)
    );
    assert!(App::check_delivery_access(&actors::office()).is_ok());
}
