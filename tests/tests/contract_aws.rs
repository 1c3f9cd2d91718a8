//! The shared port contract suites, run against the AWS adapters on a local moto server
//! (fresh, uniquely named resources per test). Needs `moto_server` (scripts/tools.sh).

use phananh_aws::{CognitoAccounts, DynamoReportStore, S3MediaStore, SnsEventBus, SnsNotifier};
use phananh_core::model::{EventEnvelope, ReportId};
use phananh_core::ports::{Channel, Notification, ReportStore};
use phananh_tests::contract::{self, BoxFuture};
use phananh_tests::moto::{self, Moto};
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_report_store_passes_the_report_contract() {
    contract::report_store_contract(|| async {
        let (clients, settings) = moto::provision_table().await.expect("table");
        Arc::new(DynamoReportStore::from_settings(&clients, &settings)) as Arc<dyn ReportStore>
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_account_store_passes_the_account_contract() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    contract::account_store_contract(&DynamoReportStore::from_settings(&clients, &settings)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cognito_accounts_pass_the_account_contract() {
    let (clients, _) = moto::provision_table().await.expect("table");
    let pool = moto::provision_user_pool(&clients).await.expect("pool");
    contract::account_store_contract(&CognitoAccounts::from_clients(&clients, &pool)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_media_store_passes_the_media_contract() {
    let p = moto::provision().await.expect("provision");
    contract::media_store_contract(&S3MediaStore::from_settings(&p.clients, &p.settings)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_publishes_gps_photos_only_as_clean_copies_on_s3() {
    let p = moto::provision().await.expect("provision");
    let media = Arc::new(S3MediaStore::from_settings(&p.clients, &p.settings));
    phananh_tests::pipeline::gps_photo_is_published_only_as_a_clean_copy(media).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_refuses_bad_uploads_on_s3() {
    let p = moto::provision().await.expect("provision");
    let media = Arc::new(S3MediaStore::from_settings(&p.clients, &p.settings));
    phananh_tests::pipeline::bad_uploads_are_refused(media).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_event_bus_passes_the_bus_contract() {
    let p = moto::provision().await.expect("provision");
    let bus = SnsEventBus::from_settings(&p.clients, &p.settings);
    let clients = p.clients.clone();
    let tap = p.events_tap_url.clone();
    let drain = move || -> BoxFuture<'static, Vec<EventEnvelope>> {
        let clients = clients.clone();
        let tap = tap.clone();
        Box::pin(async move {
            moto::drain_bodies(&clients, &tap)
                .await
                .expect("drain tap")
                .iter()
                .map(|b| phananh_aws::unwrap_envelope(b).expect("an event envelope"))
                .collect()
        })
    };
    contract::event_bus_contract(&bus, drain, 10).await;
}

/// What SNS was asked to deliver about `report_id`, read back from the requests moto
/// received (SMS: `Publish` to a phone number; e-mail: `Publish` to the alerts topic).
fn published_notifications(moto: &Moto, report_id: &ReportId) -> Vec<Notification> {
    let mut out = Vec::new();
    for req in moto.recorded_requests() {
        let form = req.form();
        if form.get("Action").map(String::as_str) != Some("Publish") {
            continue;
        }
        let mut attrs = std::collections::HashMap::new();
        for i in 1..=20 {
            let Some(name) = form.get(&format!("MessageAttributes.entry.{i}.Name")) else {
                break;
            };
            if let Some(v) = form.get(&format!("MessageAttributes.entry.{i}.Value.StringValue")) {
                attrs.insert(name.clone(), v.clone());
            }
        }
        if attrs.get("report_id") != Some(&report_id.0) {
            continue;
        }
        let channel = match attrs.get("channel").map(String::as_str) {
            Some("sms") => Channel::Sms,
            Some("email") => Channel::Email,
            _ => continue,
        };
        out.push(Notification {
            id: attrs.get("notification_id").cloned().unwrap_or_default(),
            channel,
            to: attrs.get("to").cloned().unwrap_or_default(),
            unit: attrs.get("unit").cloned(),
            subject: form.get("Subject").cloned(),
            body: form.get("Message").cloned().unwrap_or_default(),
            report_id: Some(report_id.clone()),
        });
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_notifier_passes_the_notifier_contract() {
    let p = moto::provision().await.expect("provision");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings);
    let observe = |id: ReportId| -> BoxFuture<'static, Vec<Notification>> {
        Box::pin(async move { published_notifications(Moto::shared(), &id) })
    };
    contract::notifier_contract(&notifier, observe, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_staff_at_once_on_dynamodb() {
    // No stream: the emulator's transactions are not atomic between its threads.
    let (clients, settings) = moto::provision_table_without_stream().await.expect("table");
    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
    contract::two_staff_acting_at_once_one_wins_the_other_sees_the_current_version(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_guard_store_passes_the_guard_contract() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = Arc::new(phananh_aws::DynamoGuards::from_settings(
        &clients, &settings,
    ));
    contract::guard_store_contract(store.clone()).await;
    contract::sign_in_guards_contract(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directive_edited_in_the_dynamodb_item_is_caught_and_named() {
    use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
    use phananh_core::model::Report;
    use phananh_tests::contract::audit::Rewrite;
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
    let client = clients.dynamodb.clone();
    let table = settings.table.clone();
    contract::audit_trail_contract(store, move |id: ReportId, change: Rewrite| {
        let client = client.clone();
        let table = table.clone();
        let fut: BoxFuture<'static, ()> = Box::pin(async move {
            // The report item itself (`docs/aws.md`: pk REPORT#<id>, sk REPORT, JSON in `report`).
            let key = [
                (
                    "pk".to_string(),
                    AttributeValue::S(format!("REPORT#{}", id.0)),
                ),
                ("sk".to_string(), AttributeValue::S("REPORT".into())),
            ];
            let item = client
                .get_item()
                .table_name(&table)
                .set_key(Some(key.clone().into_iter().collect()))
                .consistent_read(true)
                .send()
                .await
                .expect("get item")
                .item
                .expect("the item");
            let doc = item["report"].as_s().expect("report");
            let mut r: Report = serde_json::from_str(doc).expect("a report");
            change(&mut r);
            client
                .update_item()
                .table_name(&table)
                .set_key(Some(key.into_iter().collect()))
                .update_expression("SET #d = :d")
                .expression_attribute_names("#d", "report")
                .expression_attribute_values(
                    ":d",
                    AttributeValue::S(serde_json::to_string(&r).expect("json")),
                )
                .send()
                .await
                .expect("update item");
        });
        fut
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_aggregates_pass_the_aggregate_contract() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    contract::aggregate_store_contract(&phananh_aws::DynamoAggregates::from_settings(
        &clients, &settings,
    ))
    .await;
}

/// A KMS key on the emulator and a personal-data key it wrapped
/// (`GenerateDataKeyWithoutPlaintext`), as the deployment stores it; with the KMS client.
async fn kms_wrapped_key(
    clients: &phananh_aws::AwsClients,
) -> (phananh_aws::aws_sdk_kms::Client, String) {
    let kms = phananh_aws::aws_sdk_kms::Client::new(&clients.config);
    let key = kms
        .create_key()
        .description("phananh personal data")
        .send()
        .await
        .expect("KMS key");
    let key_id = key.key_metadata().expect("metadata").key_id().to_string();
    let wrapped = phananh_aws::kms::generate_wrapped_key(&kms, &key_id)
        .await
        .expect("wrapped");
    (kms, wrapped)
}

/// Issue 12 item 5: the reporter's data sealed with a data key that KMS wrapped
/// (`GenerateDataKeyWithoutPlaintext`) and unwrapped at start (`Decrypt`); the table, scanned
/// raw, holds no name, phone or e-mail. A wrapped key KMS cannot unwrap is a clear error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_report_store_keeps_reporter_data_sealed_under_a_kms_wrapped_key() {
    use phananh_aws::kms::{unwrap_keyring, KmsKeyError};
    let (clients, settings) = moto::provision_table().await.expect("table");
    let (kms, wrapped) = kms_wrapped_key(&clients).await;
    let ring = unwrap_keyring(&kms, &wrapped).await.expect("unwrapped");
    // The same wrapped key unwraps to the same key (same key id) at every cold start.
    assert_eq!(
        unwrap_keyring(&kms, &wrapped)
            .await
            .expect("again")
            .key_ids(),
        ring.key_ids()
    );
    let e = unwrap_keyring(&kms, "bm90IGEgd3JhcHBlZCBrZXk=")
        .await
        .expect_err("not a KMS blob");
    assert!(matches!(e, KmsKeyError::Kms { index: 0, .. }), "{e}");

    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
    let (dynamo, table) = (clients.dynamodb.clone(), settings.table.clone());
    contract::pii_at_rest_contract(store, Arc::new(ring), move |_id: ReportId| {
        let (dynamo, table) = (dynamo.clone(), table.clone());
        let fut: BoxFuture<'static, String> = Box::pin(async move {
            // Every item of the table, every attribute, read without the adapter; but the
            // `EVENT#` items, which the migration does not rewrite (the table's stream would
            // publish them again) and which expire by TTL: those written while no key was
            // configured carry the contact as given until then (docs/notifications.md).
            // `dynamo_event_items_carry_the_reporter_contact_sealed` checks them with a key.
            let out = dynamo.scan().table_name(table).send().await.expect("scan");
            let items: Vec<_> = out
                .items()
                .iter()
                .filter(|i| !matches!(i.get("pk").map(|v| v.as_s()), Some(Ok(pk)) if pk.starts_with("EVENT#")))
                .collect();
            format!("{items:?}")
        });
        fut
    })
    .await;
}

/// Issue 10: the events that carry the reporter's contact for the notify and publish
/// consumers (EVENT items, which the table's stream carries to SNS and SQS) hold it sealed
/// under the KMS-unwrapped key; the consumers, given the items as stored, tell the reporter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_event_items_carry_the_reporter_contact_sealed() {
    use phananh_aws::kms::unwrap_keyring;
    let (clients, settings) = moto::provision_table().await.expect("table");
    let (kms, wrapped) = kms_wrapped_key(&clients).await;
    let ring = unwrap_keyring(&kms, &wrapped).await.expect("unwrapped");
    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
    let (dynamo, table) = (clients.dynamodb.clone(), settings.table.clone());
    contract::event_contact_sealed_contract(store, Arc::new(ring), move |id: ReportId| {
        let (dynamo, table) = (dynamo.clone(), table.clone());
        let fut: BoxFuture<'static, Vec<String>> = Box::pin(async move {
            // Every item of the table read without the adapter: each whole item must hold no
            // plaintext; the events are the items with an `event` attribute.
            let out = dynamo.scan().table_name(table).send().await.expect("scan");
            let mut events = Vec::new();
            for item in out.items() {
                let Some(Ok(json)) = item.get("event").map(|v| v.as_s()) else {
                    continue;
                };
                let env: EventEnvelope = serde_json::from_str(json).expect("event item");
                if env.report_id == id {
                    assert!(
                        !format!("{item:?}").contains("988333444"),
                        "plaintext phone in the EVENT item: {item:?}"
                    );
                    events.push(json.clone());
                }
            }
            events.sort();
            events
        });
        fut
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sns_notifier_passes_the_delivery_log_contract_on_dynamodb() {
    let p = moto::provision().await.expect("provision");
    let notifier = SnsNotifier::from_settings(&p.clients, &p.settings);
    contract::delivery_log_contract(&notifier, &notifier).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dynamo_upload_slots_pass_the_slots_contract() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    contract::upload_slots_contract(Arc::new(phananh_aws::DynamoSlots::from_settings(
        &clients, &settings,
    )))
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_publishes_gps_photos_only_as_clean_copies_on_s3_with_slot_items() {
    let p = moto::provision().await.expect("provision");
    let media = Arc::new(S3MediaStore::from_settings(&p.clients, &p.settings));
    let slots = Arc::new(phananh_aws::DynamoSlots::from_settings(
        &p.clients,
        &p.settings,
    ));
    phananh_tests::pipeline::gps_photo_is_published_only_as_a_clean_copy_with(media, Some(slots))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_refuses_bad_uploads_on_s3_with_slot_items() {
    let p = moto::provision().await.expect("provision");
    let media = Arc::new(S3MediaStore::from_settings(&p.clients, &p.settings));
    let slots = Arc::new(phananh_aws::DynamoSlots::from_settings(
        &p.clients,
        &p.settings,
    ));
    phananh_tests::pipeline::bad_uploads_are_refused_with(media, Some(slots)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_refuses_forged_uploads_on_s3_with_slot_items() {
    let p = moto::provision().await.expect("provision");
    let media = Arc::new(S3MediaStore::from_settings(&p.clients, &p.settings));
    let slots = Arc::new(phananh_aws::DynamoSlots::from_settings(
        &p.clients,
        &p.settings,
    ));
    phananh_tests::pipeline::forged_uploads_are_refused_with(media, Some(slots)).await;
}
