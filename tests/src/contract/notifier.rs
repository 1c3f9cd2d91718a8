//! `Notifier` contract: every notification is recorded/delivered with its content, and the
//! same notification id is delivered at most once.

use super::BoxFuture;
use crate::fixtures::unique;
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Notification, Notifier};

/// `observe(report_id)` returns the notifications delivered (or recorded) about the report,
/// as far as the adapter lets one see them; it is polled at most `max_polls` times.
pub async fn notifier_contract<O>(notifier: &dyn Notifier, observe: O, max_polls: usize)
where
    O: Fn(ReportId) -> BoxFuture<'static, Vec<Notification>>,
{
    let report_id = ReportId(unique("notify"));
    let sms = Notification {
        id: format!("{report_id}:assigned:sms:ubnd_tan_phong"),
        channel: Channel::Sms,
        to: "0912345678".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: None,
        body: "Phản ánh mới được giao cho đơn vị, hạn xử lý 5 ngày làm việc.".into(),
        report_id: Some(report_id.clone()),
    };
    let email = Notification {
        id: format!("{report_id}:assigned:email:ubnd_tan_phong"),
        channel: Channel::Email,
        to: "ubnd.tanphong@laichau.gov.vn".into(),
        unit: Some("ubnd_tan_phong".into()),
        subject: Some("Phản ánh mới được giao: rác thải ùn ứ".into()),
        body: "Kính gửi UBND phường Tân Phong,\nĐề nghị xử lý phản ánh.".into(),
        report_id: Some(report_id.clone()),
    };
    notifier.send(&sms).await.expect("send sms");
    notifier.send(&email).await.expect("send e-mail");
    // A redelivered send of the same notification must not reach the recipient twice.
    notifier.send(&sms).await.expect("resend sms");

    let mut seen = Vec::new();
    for _ in 0..max_polls.max(1) {
        seen = observe(report_id.clone()).await;
        if seen.iter().any(|n| n.id == sms.id) && seen.iter().any(|n| n.id == email.id) {
            break;
        }
    }
    let count = |id: &str| seen.iter().filter(|n| n.id == id).count();
    assert_eq!(count(&sms.id), 1, "the SMS exactly once: {seen:?}");
    assert_eq!(count(&email.id), 1, "the e-mail exactly once: {seen:?}");
    assert!(seen.contains(&sms), "SMS content unchanged");
    assert!(seen.contains(&email), "e-mail content unchanged");
    assert_eq!(seen.len(), 2, "nothing else about this report: {seen:?}");
}
