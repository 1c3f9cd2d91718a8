//! The delivery log's channel/status reads on DynamoDB (issue 10), on moto: a record is under
//! `DELIV#<channel>` in the keys-only `deliveries` index (a dead letter under
//! `DELIV#<channel>#dead`) and has no copy in `by_state`; a record of the earlier layout
//! (`state_pk` = `DELIV#<channel>#<status>` in `by_state`) is still listed, and a re-send
//! moves it to `deliveries`.

use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::table::{GSI_DELIVERY, GSI_STATE};
use phananh_aws::SnsNotifier;
use phananh_core::delivery::{DeliveryLog, DeliveryStatus};
use phananh_core::model::ReportId;
use phananh_core::ports::{Channel, Notification, Notifier};
use phananh_tests::fixtures::unique;
use phananh_tests::moto::{self, Provisioned};
use std::collections::HashMap;

type Item = HashMap<String, AttributeValue>;

fn key(id: &str) -> Item {
    HashMap::from([
        ("pk".to_string(), AttributeValue::S(format!("NOTIF#{id}"))),
        ("sk".to_string(), AttributeValue::S("NOTIF".into())),
    ])
}

async fn item(p: &Provisioned, id: &str) -> Item {
    p.clients
        .dynamodb
        .get_item()
        .table_name(&p.settings.table)
        .set_key(Some(key(id)))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .expect("stored")
}

/// The notification ids an index partition holds.
async fn in_partition(p: &Provisioned, index: &str, attr: &str, value: &str) -> Vec<String> {
    p.clients
        .dynamodb
        .query()
        .table_name(&p.settings.table)
        .index_name(index)
        .key_condition_expression("#k = :k")
        .expression_attribute_names("#k", attr)
        .expression_attribute_values(":k", AttributeValue::S(value.into()))
        .send()
        .await
        .expect("query")
        .items
        .unwrap_or_default()
        .iter()
        .filter_map(|i| {
            i.get("pk")?
                .as_s()
                .ok()?
                .strip_prefix("NOTIF#")
                .map(str::to_string)
        })
        .collect()
}

fn sms(report: &ReportId) -> Notification {
    Notification {
        id: unique("sms"),
        channel: Channel::Sms,
        to: "+84912345678".into(),
        unit: Some("phong_tnmt".into()),
        subject: None,
        body: "PA moi can xu ly".into(),
        report_id: Some(report.clone()),
    }
}

async fn ids(
    log: &SnsNotifier,
    channel: Option<Channel>,
    status: Option<DeliveryStatus>,
) -> Vec<String> {
    log.recent_deliveries(channel, status, 100)
        .await
        .expect("recent")
        .into_iter()
        .map(|r| r.notification.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sent_record_is_in_the_keys_only_channel_index_and_not_in_by_state() {
    let p = moto::provision().await.expect("provision");
    let log = SnsNotifier::from_settings(&p.clients, &p.settings);
    let report = ReportId(unique("deliv"));
    let n = sms(&report);
    log.send(&n).await.expect("sent");

    let stored = item(&p, &n.id).await;
    assert_eq!(
        stored
            .get(GSI_DELIVERY.pk)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("DELIV#sms")
    );
    assert!(!stored.contains_key(GSI_STATE.pk), "{stored:?}");
    assert!(
        in_partition(&p, GSI_DELIVERY.name, GSI_DELIVERY.pk, "DELIV#sms")
            .await
            .contains(&n.id)
    );
    assert!(
        !in_partition(&p, GSI_STATE.name, GSI_STATE.pk, "DELIV#sms#sent")
            .await
            .contains(&n.id)
    );

    assert!(ids(&log, Some(Channel::Sms), None).await.contains(&n.id));
    assert!(ids(&log, Some(Channel::Sms), Some(DeliveryStatus::Sent))
        .await
        .contains(&n.id));
    assert!(!ids(&log, None, Some(DeliveryStatus::Dead))
        .await
        .contains(&n.id));
    assert!(
        !ids(&log, Some(Channel::Sms), Some(DeliveryStatus::Pending))
            .await
            .contains(&n.id)
    );
    let per_report = log.deliveries_for_report(&report, 10).await.expect("log");
    assert_eq!(per_report.len(), 1);
    assert_eq!(per_report[0].status, DeliveryStatus::Sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_of_the_earlier_layout_is_listed_and_a_re_send_moves_it() {
    let p = moto::provision().await.expect("provision");
    let log = SnsNotifier::from_settings(&p.clients, &p.settings);
    let report = ReportId(unique("legacy"));
    let n = sms(&report);
    log.send(&n).await.expect("sent");
    // The same record as the earlier layout stored a dead letter.
    let mut old = item(&p, &n.id).await;
    old.remove(GSI_DELIVERY.pk);
    old.remove("provider_message_id");
    old.insert("state".into(), AttributeValue::S("dead".into()));
    old.insert("error".into(), AttributeValue::S("sns: throttled".into()));
    old.insert(
        GSI_STATE.pk.into(),
        AttributeValue::S("DELIV#sms#dead".into()),
    );
    p.clients
        .dynamodb
        .put_item()
        .table_name(&p.settings.table)
        .set_item(Some(old))
        .send()
        .await
        .expect("earlier layout");

    let dead = ids(&log, None, Some(DeliveryStatus::Dead)).await;
    assert_eq!(dead.iter().filter(|i| **i == n.id).count(), 1, "{dead:?}");
    assert!(ids(&log, Some(Channel::Sms), None).await.contains(&n.id));

    let r = log.resend(&n.id).await.expect("re-sent");
    assert_eq!(r.status, DeliveryStatus::Sent);
    let moved = item(&p, &n.id).await;
    assert!(!moved.contains_key(GSI_STATE.pk), "{moved:?}");
    assert_eq!(
        moved
            .get(GSI_DELIVERY.pk)
            .and_then(|v| v.as_s().ok())
            .map(String::as_str),
        Some("DELIV#sms")
    );
    assert!(!ids(&log, None, Some(DeliveryStatus::Dead))
        .await
        .contains(&n.id));
    let sent = ids(&log, Some(Channel::Sms), Some(DeliveryStatus::Sent)).await;
    assert_eq!(sent.iter().filter(|i| **i == n.id).count(), 1, "{sent:?}");
}
