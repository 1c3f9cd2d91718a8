//! The daily audit anchor on AWS (issue 12 item 1, Đ.6.2) on the emulator: the day's Merkle
//! root is written to a bucket with S3 Object Lock, locked in COMPLIANCE mode; the locked
//! version cannot be deleted; the anchored day verifies while the table is untouched, and
//! catches a chain recomputed in the DynamoDB item with the key-less hash (what someone with
//! write access to the table but not the audit key can do).

use chrono::Duration;
use phananh_aws::anchors::{DayCheck, S3Anchors};
use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, ObjectLockMode,
};
use phananh_aws::DynamoReportStore;
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Actor, Report, ReportId, Role};
use phananh_core::ports::UuidV7Ids;
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier};
use phananh_tests::contract::audit::recompute_chain;
use phananh_tests::fixtures::{rules, t0};
use phananh_tests::moto;
use std::sync::Arc;

const KEY: &[u8] = b"anchor-test-audit-key-0123456789abcdef";

fn input() -> NewReport {
    NewReport {
        category: "environment".into(),
        title: "Rác thải trước chợ".into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_anchored_day_on_s3_object_lock_catches_a_chain_recomputed_in_dynamodb() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
    let bucket = format!("phananh-anchors-{}", uuid::Uuid::now_v7().simple());
    clients
        .s3
        .create_bucket()
        .bucket(&bucket)
        .object_lock_enabled_for_bucket(true)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::from(moto::REGION))
                .build(),
        )
        .send()
        .await
        .expect("bucket with object lock");
    let clock = Arc::new(FixedClock::new(t0()));
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: clock.clone(),
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
    .with_audit_key(KEY);
    // Locked ten years from the (fixed, 2025) clock of the test: still locked for the emulator.
    let anchors = S3Anchors::new(clients.s3.clone(), &bucket);

    // One day's work: a report and a leader's directive.
    let citizen = Actor::new(format!("dev-{}", uuid::Uuid::now_v7()), Role::Citizen, None);
    let (r, _) = app
        .submit(&citizen, input(), &[], None)
        .await
        .expect("submit");
    let directive = Command::Directive {
        text: "Giao phường xử lý trong 2 ngày".into(),
        corrects: None,
    };
    let leader = Actor::new("leader-1", Role::Leader, None);
    app.act(&r.id, &leader, directive).await.expect("directive");
    let day = t0().date_naive();

    // The next day the escalate pass anchors the finished days, once.
    clock.set(t0() + Duration::days(1));
    let written = anchors.anchor_pending(&app).await.expect("anchored");
    assert!(written.contains(&day), "{written:?}");
    assert!(anchors
        .anchor_pending(&app)
        .await
        .expect("again")
        .is_empty());
    let stored = anchors.get(day).await.expect("read").expect("the anchor");
    assert!(stored.entries >= 2, "{stored:?}");
    assert_eq!(
        anchors.verify_day(&app, day).await.expect("verify"),
        DayCheck::Matches
    );

    // The object is locked in COMPLIANCE mode: its version cannot be deleted.
    let key = format!("anchors/{day}.json");
    let head = clients
        .s3
        .head_object()
        .bucket(&bucket)
        .key(&key)
        .send()
        .await
        .expect("head");
    assert_eq!(head.object_lock_mode, Some(ObjectLockMode::Compliance));
    let until = head
        .object_lock_retain_until_date
        .expect("a retain-until date");
    assert!(
        until.secs() > (t0() + Duration::days(3000)).timestamp(),
        "{until:?}"
    );
    let version = head.version_id.expect("a version");
    let deleted = clients
        .s3
        .delete_object()
        .bucket(&bucket)
        .key(&key)
        .version_id(&version)
        .send()
        .await;
    assert!(
        deleted.is_err(),
        "a locked anchor version cannot be deleted"
    );

    // Someone with write access to the table recomputes the chain after editing the directive.
    rewrite(&clients, &settings.table, &r.id, |rep: &mut Report| {
        if let Some(e) = rep.timeline.last_mut() {
            e.note = Some("Không cần xử lý".into());
        }
        recompute_chain(rep);
    })
    .await;
    let check = anchors.verify_day(&app, day).await.expect("verify");
    assert!(
        matches!(check, DayCheck::Broken { .. }),
        "the anchor catches the recomputed chain: {check:?}"
    );
    // A day never anchored says so.
    assert_eq!(
        anchors
            .verify_day(&app, day + Duration::days(30))
            .await
            .expect("verify"),
        DayCheck::NotAnchored
    );
}

/// Changes the report item itself (pk REPORT#<id>, sk REPORT, JSON in `report`).
async fn rewrite(
    clients: &phananh_aws::AwsClients,
    table: &str,
    id: &ReportId,
    change: impl FnOnce(&mut Report),
) {
    let key: std::collections::HashMap<String, AttributeValue> = [
        (
            "pk".to_string(),
            AttributeValue::S(format!("REPORT#{}", id.0)),
        ),
        ("sk".to_string(), AttributeValue::S("REPORT".into())),
    ]
    .into_iter()
    .collect();
    let item = clients
        .dynamodb
        .get_item()
        .table_name(table)
        .set_key(Some(key.clone()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
        .expect("the item");
    let mut r: Report =
        serde_json::from_str(item["report"].as_s().expect("report")).expect("a report");
    change(&mut r);
    clients
        .dynamodb
        .update_item()
        .table_name(table)
        .set_key(Some(key))
        .update_expression("SET #d = :d")
        .expression_attribute_names("#d", "report")
        .expression_attribute_values(
            ":d",
            AttributeValue::S(serde_json::to_string(&r).expect("json")),
        )
        .send()
        .await
        .expect("update item");
}
