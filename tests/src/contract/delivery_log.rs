//! `DeliveryLog` contract: what a notifier with a delivery log shows of what it sent. Every
//! notification once, with its content, newest first, status `sent` and the provider's message
//! id; filters by channel and status; a sent notification is not re-sent; an unknown id is
//! `NotFound`; nothing is due for retry when everything went through.

use crate::fixtures::unique;
use chrono::Utc;
use phananh_core::delivery::{DeliveryLog, DeliveryStatus};
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Notification, Notifier, StoreError};

/// `notifier` and `log` are the same adapter, delivering successfully on both channels.
pub async fn delivery_log_contract(notifier: &dyn Notifier, log: &dyn DeliveryLog) {
    let report_id = ReportId(unique("delivery"));
    let sms = Notification {
        id: format!("{report_id}:assigned:sms:+84912345678"),
        channel: Channel::Sms,
        to: "+84912345678".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: None,
        body: "PA moi duoc giao cho don vi".into(),
        report_id: Some(report_id.clone()),
    };
    let email = Notification {
        id: format!("{report_id}:assigned:email:ubnd.tanphong@laichau.gov.vn"),
        channel: Channel::Email,
        to: "ubnd.tanphong@laichau.gov.vn".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: Some("Phản ánh mới được giao".into()),
        body: "Kính gửi UBND phường Tân Phong".into(),
        report_id: Some(report_id.clone()),
    };
    notifier.send(&sms).await.expect("send sms");
    notifier.send(&email).await.expect("send e-mail");
    notifier.send(&sms).await.expect("resend sms");

    let recs = log
        .deliveries_for_report(&report_id, 10)
        .await
        .expect("log of the report");
    assert_eq!(recs.len(), 2, "each notification once: {recs:?}");
    assert_eq!(
        recs[0].notification, email,
        "newest first, content unchanged"
    );
    assert_eq!(recs[1].notification, sms);
    for r in &recs {
        assert_eq!(r.status, DeliveryStatus::Sent, "{r:?}");
        assert!(r.provider_message_id.is_some(), "{r:?}");
        assert!(r.provider.is_some(), "{r:?}");
        assert_eq!(r.error, None);
        assert!(r.attempts >= 1);
    }
    assert_eq!(
        log.deliveries_for_report(&report_id, 1)
            .await
            .expect("limit")
            .len(),
        1
    );

    let only_sms = log
        .recent_deliveries(Some(Channel::Sms), None, 100)
        .await
        .expect("recent sms");
    assert!(only_sms
        .iter()
        .all(|r| r.notification.channel == Channel::Sms));
    assert!(only_sms.iter().any(|r| r.notification.id == sms.id));
    let dead = log
        .recent_deliveries(None, Some(DeliveryStatus::Dead), 100)
        .await
        .expect("dead letters");
    assert!(dead.iter().all(|r| r.status == DeliveryStatus::Dead));
    assert!(!dead
        .iter()
        .any(|r| r.notification.report_id.as_ref() == Some(&report_id)));

    assert_eq!(log.resend(&sms.id).await.unwrap_err(), StoreError::Conflict);
    assert_eq!(
        log.resend(&format!("{report_id}:nothing"))
            .await
            .unwrap_err(),
        StoreError::NotFound
    );
    assert_eq!(log.retry_due(Utc::now(), 100).await.expect("retry pass"), 0);
}
