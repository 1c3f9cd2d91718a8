//! Delivery on AWS, captured by moto: e-mail to one person through SES (plain text with
//! diacritics and its HTML alternative, from the verified sender), SMS through SNS Publish to
//! the phone number; each notification id sent once.

use phananh_aws::{SesMailer, SnsNotifier};
use phananh_core::delivery::{DeliveryLog, DeliveryStatus};
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Notification, Notifier};
use phananh_tests::fixtures::unique;
use phananh_tests::moto::{self, Moto};

const FROM: &str = "ioc@laichau.gov.vn";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e_mail_goes_to_the_person_through_ses_and_sms_through_sns_once_each() {
    let p = moto::provision().await.expect("provision");
    p.clients
        .sesv2
        .create_email_identity()
        .email_identity(FROM)
        .send()
        .await
        .expect("verified sender");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings)
        .with_ses(Some(SesMailer::new(p.clients.sesv2.clone(), FROM)));
    let report_id = ReportId(unique("ses"));
    let to = format!("{}@laichau.gov.vn", unique("tnmt"));
    let mail = Notification {
        id: unique("mail"),
        channel: Channel::Email,
        to: to.clone(),
        unit: Some("phong_tnmt".into()),
        subject: Some("Phản ánh quá hạn: rác thải ùn ứ".into()),
        body: "Kính gửi Phòng Tài nguyên và Môi trường,\nĐề nghị xử lý ngay.".into(),
        report_id: Some(report_id.clone()),
    };
    notifier.send(&mail).await.expect("e-mail");
    notifier.send(&mail).await.expect("the same e-mail again");

    let sends: Vec<serde_json::Value> = Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter(|r| r.url.contains("/v2/email/outbound-emails"))
        .filter_map(|r| serde_json::from_str(&r.body).ok())
        .filter(|v: &serde_json::Value| v["Destination"]["ToAddresses"][0] == to.as_str())
        .collect();
    assert_eq!(
        sends.len(),
        1,
        "one SES call for the notification: {sends:?}"
    );
    let v = &sends[0];
    assert_eq!(v["FromEmailAddress"], FROM);
    let simple = &v["Content"]["Simple"];
    assert_eq!(simple["Subject"]["Data"], "Phản ánh quá hạn: rác thải ùn ứ");
    assert_eq!(simple["Subject"]["Charset"], "UTF-8");
    assert_eq!(simple["Body"]["Text"]["Data"], mail.body.as_str());
    assert!(simple["Body"]["Html"]["Data"]
        .as_str()
        .unwrap_or_default()
        .contains("Kính gửi Phòng Tài nguyên và Môi trường,<br>"));

    let sms = Notification {
        id: unique("sms"),
        channel: Channel::Sms,
        to: "+84912345678".into(),
        unit: None,
        subject: None,
        body: "Phan anh cua ban da duoc tiep nhan.".into(),
        report_id: Some(report_id),
    };
    notifier.send(&sms).await.expect("sms");
    notifier.send(&sms).await.expect("the same sms again");
    let publishes: Vec<_> = Moto::shared()
        .recorded_requests()
        .into_iter()
        .map(|r| r.form())
        .filter(|f| f.get("Action").map(String::as_str) == Some("Publish"))
        .filter(|f| f.values().any(|v| v == &sms.id))
        .collect();
    assert_eq!(publishes.len(), 1);
    assert_eq!(
        publishes[0].get("PhoneNumber").map(String::as_str),
        Some("+84912345678")
    );
    assert_eq!(
        publishes[0].get("Message").map(String::as_str),
        Some("Phan anh cua ban da duoc tiep nhan.")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_ses_refuses_is_retried_then_kept_as_a_dead_letter_with_the_error() {
    let p = moto::provision().await.expect("provision");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings)
        .with_ses(Some(SesMailer::new(
            p.clients.sesv2.clone(),
            "nobody@unverified.example",
        )))
        .with_schedule(phananh_core::delivery::RetrySchedule {
            max_attempts: 2,
            first_backoff: chrono::Duration::milliseconds(5),
            max_backoff: chrono::Duration::milliseconds(5),
        });
    let report_id = ReportId(unique("dead"));
    let mail = Notification {
        id: unique("mail"),
        channel: Channel::Email,
        to: "phong.tnmt@laichau.gov.vn".into(),
        unit: Some("phong_tnmt".into()),
        subject: Some("Thử".into()),
        body: "Nội dung".into(),
        report_id: Some(report_id.clone()),
    };
    // Recorded, not an error: the SQS message is done, the office re-sends from the log.
    notifier.send(&mail).await.expect("recorded");
    let log = notifier
        .deliveries_for_report(&report_id, 10)
        .await
        .expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, DeliveryStatus::Dead);
    assert_eq!(log[0].attempts, 2);
    assert_eq!(log[0].provider.as_deref(), Some("ses"));
    assert!(
        log[0].error.as_deref().unwrap_or_default().contains("ses"),
        "{:?}",
        log[0]
    );
    // Issue 12 item 5: SES's refusal quotes an address; the stored error does not.
    assert!(
        !log[0].error.as_deref().unwrap_or_default().contains('@'),
        "{:?}",
        log[0]
    );
    let dead = notifier
        .recent_deliveries(Some(Channel::Email), Some(DeliveryStatus::Dead), 50)
        .await
        .expect("dead letters");
    assert!(dead.iter().any(|r| r.notification.id == mail.id));
    // A redelivered event does not send it again.
    notifier.send(&mail).await.expect("again");
    let log = notifier
        .deliveries_for_report(&report_id, 10)
        .await
        .expect("log");
    assert_eq!((log.len(), log[0].attempts), (1, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_re_sends_of_one_dead_letter_at_once_send_it_once() {
    use phananh_core::ports::StoreError;
    let p = moto::provision().await.expect("provision");
    let from = format!("{}@laichau.gov.vn", unique("ioc"));
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings)
        .with_ses(Some(SesMailer::new(p.clients.sesv2.clone(), &from)))
        .with_schedule(phananh_core::delivery::RetrySchedule {
            max_attempts: 1,
            first_backoff: chrono::Duration::milliseconds(5),
            max_backoff: chrono::Duration::milliseconds(5),
        });
    let to = format!("{}@laichau.gov.vn", unique("tnmt"));
    let mail = Notification {
        id: unique("mail"),
        channel: Channel::Email,
        to: to.clone(),
        unit: Some("phong_tnmt".into()),
        subject: Some("Thử".into()),
        body: "Nội dung".into(),
        report_id: Some(ReportId(unique("twice"))),
    };
    notifier.send(&mail).await.expect("dead-lettered");
    p.clients
        .sesv2
        .create_email_identity()
        .email_identity(&from)
        .send()
        .await
        .expect("verified sender");
    let (a, b) = tokio::join!(notifier.resend(&mail.id), notifier.resend(&mail.id));
    let outcomes = [a, b];
    assert_eq!(
        outcomes.iter().filter(|r| r.is_ok()).count(),
        1,
        "{outcomes:?}"
    );
    assert!(outcomes
        .iter()
        .any(|r| matches!(r, Err(StoreError::Conflict))));
    let sends = Moto::shared()
        .recorded_requests()
        .into_iter()
        .filter(|r| r.url.contains("/v2/email/outbound-emails"))
        .filter(|r| r.body.contains(&to))
        .count();
    assert_eq!(sends, 2, "the refused attempt and one re-send");
}
