//! The operator's command on AWS (`phananh-aws`, issue 12 items 1 and 5), run as a process
//! against the emulator with the functions' environment:
//! - `audit verify --from DAY`: an untouched table verifies (status 0); a directive edited in
//!   its DynamoDB item is named with its report and entry (status 1), the untouched report is
//!   not; a chain recomputed after the edit is still caught (the MAC, and the S3 Object Lock
//!   anchor of the day);
//! - `pii seal`: an item written with the reporter in plaintext (before encryption at rest)
//!   is sealed by a paged Scan, opens to the same data with the KMS-wrapped key, and a second
//!   run changes nothing.

use chrono::{Duration, Utc};
use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::aws_sdk_s3::types::{BucketLocationConstraint, CreateBucketConfiguration};
use phananh_aws::kms::{generate_wrapped_key, unwrap_keyring, ENV_PII_WRAPPED_KEYS};
use phananh_aws::{AwsSettings, DynamoReportStore};
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Actor, Report, ReportId, Reporter, Role};
use phananh_core::pii::{is_sealed, open_reporter};
use phananh_core::ports::{ReportStore, UuidV7Ids};
use phananh_core::CityRules;
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier};
use phananh_tests::contract::audit::recompute_chain;
use phananh_tests::moto;
use std::collections::HashMap;
use std::process::Output;
use std::sync::Arc;

const KEY: &str = "ops-test-audit-key-0123456789abcdef-xyz";

fn input(title: &str, reporter: Option<Reporter>) -> NewReport {
    NewReport {
        category: "environment".into(),
        title: title.into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter,
        camera_id: None,
    }
}

fn app(store: Arc<DynamoReportStore>, clock: Arc<FixedClock>) -> App {
    App::new(
        Arc::new(CityRules::laichau_default().expect("rules")),
        Ports {
            store: store.clone(),
            accounts: store,
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock,
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(FastPasswords::default()),
        },
    )
}

fn citizen() -> Actor {
    let n = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    Actor::new(format!("dev-ops-{n}"), Role::Citizen, None)
}

/// Runs `phananh-aws` with the functions' settings (and the emulator's endpoint and
/// credentials, which the test process holds).
fn run(settings: &AwsSettings, extra: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_phananh-aws"));
    cmd.args(args)
        .env("PHANANH_TABLE", &settings.table)
        .env("PHANANH_BUCKET", non_empty(&settings.bucket))
        .env(
            "PHANANH_EVENTS_TOPIC_ARN",
            non_empty(&settings.events_topic_arn),
        )
        .env(
            "PHANANH_ALERTS_TOPIC_ARN",
            non_empty(&settings.alerts_topic_arn),
        )
        .env("PHANANH_S3_PATH_STYLE", "true")
        .env("RUST_LOG", "off")
        .env_remove(ENV_PII_WRAPPED_KEYS)
        .env_remove("PHANANH_AUDIT_KEY")
        .env_remove("PHANANH_ANCHOR_BUCKET");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    cmd.output().expect("phananh-aws runs")
}

fn non_empty(v: &str) -> &str {
    if v.is_empty() {
        "unused"
    } else {
        v
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn report_key(id: &ReportId) -> HashMap<String, AttributeValue> {
    [
        (
            "pk".to_string(),
            AttributeValue::S(format!("REPORT#{}", id.0)),
        ),
        ("sk".to_string(), AttributeValue::S("REPORT".into())),
    ]
    .into_iter()
    .collect()
}

async fn raw_doc(clients: &phananh_aws::AwsClients, table: &str, id: &ReportId) -> String {
    let item = clients
        .dynamodb
        .get_item()
        .table_name(table)
        .set_key(Some(report_key(id)))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
        .expect("the item");
    item["report"].as_s().expect("report").clone()
}

/// Changes the report item itself (JSON in `report`), as someone with write access to the table.
async fn rewrite(
    clients: &phananh_aws::AwsClients,
    table: &str,
    id: &ReportId,
    change: impl FnOnce(&mut Report),
) {
    let mut r: Report = serde_json::from_str(&raw_doc(clients, table, id).await).expect("report");
    change(&mut r);
    clients
        .dynamodb
        .update_item()
        .table_name(table)
        .set_key(Some(report_key(id)))
        .update_expression("SET #d = :d")
        .expression_attribute_names("#d", "report")
        .expression_attribute_values(
            ":d",
            AttributeValue::S(serde_json::to_string(&r).expect("json")),
        )
        .send()
        .await
        .expect("rewrite");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_on_aws_names_the_edited_report_and_entry_and_exits_non_zero() {
    let p = moto::provision().await.expect("moto");
    let (clients, settings) = (&p.clients, &p.settings);
    let bucket = format!(
        "phananh-ops-anchors-{}",
        Utc::now().timestamp_nanos_opt().unwrap_or_default()
    );
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
    let store = Arc::new(DynamoReportStore::from_settings(clients, settings));
    // Two days ago (the command reads the real clock): two reports, one with a directive.
    let day_t = Utc::now() - Duration::days(2);
    let clock = Arc::new(FixedClock::new(day_t));
    let app = app(store, clock.clone()).with_audit_key(KEY.as_bytes());
    let (edited, _) = app
        .submit(&citizen(), input("Rác thải trước chợ", None), &[], None)
        .await
        .expect("submit");
    let directive = Command::Directive {
        text: "Giao phường xử lý trong 2 ngày".into(),
        corrects: None,
    };
    let leader = Actor::new("leader-1", Role::Leader, None);
    let after = app
        .act(&edited.id, &leader, directive)
        .await
        .expect("directive");
    let seq = after.timeline.last().expect("the directive").seq;
    let (untouched, _) = app
        .submit(&citizen(), input("Cống thoát nước tắc", None), &[], None)
        .await
        .expect("submit");
    // The next day the escalate function anchors the finished day.
    clock.set(day_t + Duration::days(1));
    let anchors = phananh_aws::anchors::S3Anchors::new(clients.s3.clone(), &bucket);
    anchors.anchor_pending(&app).await.expect("anchored");

    let day = day_t.date_naive().to_string();
    let env = [
        ("PHANANH_AUDIT_KEY", KEY),
        ("PHANANH_ANCHOR_BUCKET", bucket.as_str()),
    ];
    let args = ["audit", "verify", "--from", day.as_str()];
    let ok = run(settings, &env, &args);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}{}",
        stdout(&ok),
        String::from_utf8_lossy(&ok.stderr)
    );
    let out = stdout(&ok);
    assert!(
        out.contains("0 phản ánh hỏng, 0 bản neo không khớp"),
        "{out}"
    );
    assert!(!out.contains("HỎNG"), "{out}");

    // The directive edited in its item: named with its report and entry; the other report not.
    rewrite(clients, &settings.table, &edited.id, |r| {
        if let Some(e) = r.timeline.last_mut() {
            e.note = Some("Không cần xử lý".into());
        }
    })
    .await;
    let bad = run(settings, &env, &args);
    let out = stdout(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!(
            "HỎNG  phản ánh {}: mục #{seq} (directive",
            edited.id
        )),
        "{out}"
    );
    assert!(!out.contains(untouched.id.as_str()), "{out}");

    // The chain recomputed after the edit (key-less hash): the MAC and the anchor catch it.
    rewrite(clients, &settings.table, &edited.id, recompute_chain).await;
    let bad = run(settings, &env, &args);
    let out = stdout(&bad);
    assert_eq!(bad.status.code(), Some(1), "{out}");
    assert!(
        out.contains(&format!("HỎNG  phản ánh {}", edited.id)),
        "{out}"
    );
    assert!(out.contains(&format!("HỎNG  bản neo ngày {day}")), "{out}");

    // A usage error is not a verification result.
    let usage = run(settings, &env, &["audit", "verify", "--from", "hôm qua"]);
    assert_eq!(usage.status.code(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pii_seal_on_aws_seals_an_old_plaintext_item_once() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let kms = phananh_aws::aws_sdk_kms::Client::new(&clients.config);
    let key = kms.create_key().send().await.expect("KMS key");
    let key_id = key
        .key_metadata()
        .map(|m| m.key_id().to_string())
        .expect("key id");
    let wrapped = generate_wrapped_key(&kms, &key_id)
        .await
        .expect("wrapped key");

    // Written before encryption at rest: the store holds the reporter as given.
    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
    let old = app(store.clone(), Arc::new(FixedClock::new(Utc::now())));
    let reporter = Reporter {
        citizen_id: String::new(),
        name: Some("Vàng A Páo".into()),
        phone: Some("0966555444".into()),
        email: Some("pao@example.vn".into()),
    };
    let (r, _) = old
        .submit(
            &citizen(),
            input("Rác ùn ứ trước chợ", Some(reporter.clone())),
            &[],
            None,
        )
        .await
        .expect("submit");
    let (anonymous, _) = old
        .submit(&citizen(), input("Đèn đường hỏng", None), &[], None)
        .await
        .expect("submit");
    let stored = store
        .get(&r.id)
        .await
        .expect("get")
        .expect("report")
        .reporter
        .expect("reporter");
    let before = raw_doc(&clients, &settings.table, &r.id).await;
    assert!(
        before.contains("pao@example.vn"),
        "plaintext before: {before}"
    );
    let anonymous_before = raw_doc(&clients, &settings.table, &anonymous.id).await;

    let env = [(ENV_PII_WRAPPED_KEYS, wrapped.as_str())];
    let first = run(&settings, &env, &["pii", "seal"]);
    let out = stdout(&first);
    assert_eq!(
        first.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(
        out.contains("Đã đọc 2 phản ánh, niêm phong 1 phản ánh."),
        "{out}"
    );
    let sealed_doc = raw_doc(&clients, &settings.table, &r.id).await;
    for personal in ["Vàng A Páo", "966555444", "pao@example.vn"] {
        assert!(
            !sealed_doc.contains(personal),
            "{personal} still in {sealed_doc}"
        );
    }
    let sealed = store.get(&r.id).await.expect("get").expect("report");
    let mut rep = sealed.reporter.clone().expect("reporter");
    assert!(rep.phone.as_deref().is_some_and(is_sealed), "{rep:?}");
    assert_eq!(sealed.version, r.version + 1);
    let ring = unwrap_keyring(&kms, &wrapped).await.expect("keyring");
    open_reporter(&ring, &mut rep).expect("opens");
    assert_eq!(rep, stored, "the same data, sealed");
    assert_eq!(
        raw_doc(&clients, &settings.table, &anonymous.id).await,
        anonymous_before,
        "a report without reporter data is not rewritten"
    );

    // Idempotent: a second run rewrites nothing.
    let second = run(&settings, &env, &["pii", "seal"]);
    let out = stdout(&second);
    assert_eq!(second.status.code(), Some(0), "{out}");
    assert!(out.contains("niêm phong 0 phản ánh."), "{out}");
    assert_eq!(raw_doc(&clients, &settings.table, &r.id).await, sealed_doc);

    // Without the keys it refuses to run rather than doing nothing silently.
    let none = run(&settings, &[], &["pii", "seal"]);
    assert_eq!(none.status.code(), Some(2));
}
