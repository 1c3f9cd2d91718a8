//! The bounded report item on a local moto server (issue 10, "the report item stops growing
//! with its history"): a report whose timeline exceeds the bound several times keeps its item
//! under [`REPORT_ITEM_BOUND`] (the oldest entries in `TL#` chunk items of its partition) and
//! still reads back whole through `get` and every list index; an item of the earlier layout
//! reads as before and is split at its next change; concurrent updates still conflict; and
//! what each change of the happy path costs in write units, computed from the items really
//! written (`phananh_aws::capacity`), before and after this layout.

use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::capacity::{item_size, transact_writes, Write, WriteLedger};
use phananh_aws::dynamo::REPORT_ITEM_BOUND;
use phananh_aws::table::{
    GsiDef, GsiProjection, GSIS, GSI_CATEGORY, GSI_ESCALATION, GSI_PUBLIC, GSI_REPORTER,
};
use phananh_aws::{AwsClients, AwsSettings, DynamoReportStore};
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Attachment, GeoPoint, MediaKind, Report, Reporter, State};
use phananh_core::ports::{ReportQuery, ReportStore, StoreError, UuidV7Ids};
use phananh_testkit::actors;
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, RecordingNotifier};
use phananh_tests::fixtures::*;
use phananh_tests::moto::{self, Moto};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

type Item = HashMap<String, AttributeValue>;

const UNIT: &str = "phong_kinh_te";

async fn raw_item(client: &phananh_aws::aws_sdk_dynamodb::Client, table: &str, r: &Report) -> Item {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("REPORT#{}", r.id)))
        .key("sk", AttributeValue::S("REPORT".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("get item")
        .item
        .expect("the report item")
}

/// The archived timeline chunks of `r` (their sort keys).
async fn chunk_keys(
    client: &phananh_aws::aws_sdk_dynamodb::Client,
    table: &str,
    r: &Report,
) -> Vec<String> {
    let out = client
        .query()
        .table_name(table)
        .key_condition_expression("pk = :pk AND begins_with(sk, :tl)")
        .expression_attribute_values(":pk", AttributeValue::S(format!("REPORT#{}", r.id)))
        .expression_attribute_values(":tl", AttributeValue::S("TL#".into()))
        .consistent_read(true)
        .send()
        .await
        .expect("query chunks");
    out.items
        .unwrap_or_default()
        .iter()
        .filter_map(|i| i.get("sk").and_then(|v| v.as_s().ok()).cloned())
        .collect()
}

/// A report in every list: by a citizen, assigned (by unit), published (public feed), with
/// an escalation pending (escalation index), of a category.
fn everywhere(id: &str) -> Report {
    let r = assigned(report(id, at(0)), UNIT, &["cong_an"], at(600));
    let r = escalating_at(published(r, at(5)), Some(at(30)));
    by(r, &unique("citizen"))
}

/// A note of about `len` bytes (Vietnamese text: 2–3 bytes per accented letter).
fn long_note(k: usize, len: usize) -> String {
    let base = format!("Ghi chú số {k}: đã kiểm tra hiện trường, làm việc với tổ dân phố. ");
    base.repeat(len / base.len() + 1)
}

/// The queries that list `r`, one per index, with the index's name.
fn queries_of(r: &Report) -> Vec<(&'static str, ReportQuery)> {
    let reporter = r.reporter_id().map(str::to_string);
    vec![
        (
            "by_state",
            ReportQuery {
                states: vec![r.state],
                ..Default::default()
            },
        ),
        (
            "by_unit",
            ReportQuery {
                unit: Some(UNIT.into()),
                ..Default::default()
            },
        ),
        (
            "by_reporter",
            ReportQuery {
                reporter,
                ..Default::default()
            },
        ),
        (
            "public_feed",
            ReportQuery {
                public_only: true,
                ..Default::default()
            },
        ),
        (
            "by_category",
            ReportQuery {
                category: Some(r.category.clone()),
                ..Default::default()
            },
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_timeline_stays_under_the_bound_and_reads_back_whole_everywhere() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let mut cur = everywhere(&unique("long"));
    store.create(&cur, &[], None).await.expect("create");
    // About 0.9 KB per entry: 120 entries are about 110 KB of timeline, the bound 24 KB.
    for k in 0..120 {
        let next = next_version(&cur, &long_note(k, 800));
        store.update(&next, cur.version, &[]).await.expect("update");
        cur = next;
        let item = raw_item(&clients.dynamodb, &settings.table, &cur).await;
        assert!(
            item_size(&item) <= REPORT_ITEM_BOUND,
            "after entry {k} the report item is {} bytes",
            item_size(&item)
        );
    }
    let item = raw_item(&clients.dynamodb, &settings.table, &cur).await;
    let chunks = chunk_keys(&clients.dynamodb, &settings.table, &cur).await;
    let whole = serde_json::to_string(&cur).expect("json").len();
    println!(
        "{} timeline entries ({whole} bytes of JSON): report item {} bytes, {} chunks {chunks:?}",
        cur.timeline.len(),
        item_size(&item),
        chunks.len()
    );
    assert!(chunks.len() >= 3, "the bound was exceeded several times");
    assert!(!item.contains_key("doc"), "the document is in `report`");

    // `get` and a second store (nothing cached) return the whole report.
    assert_eq!(store.get(&cur.id).await.expect("get"), Some(cur.clone()));
    let fresh = DynamoReportStore::from_settings(&clients, &settings);
    let got = fresh.get(&cur.id).await.expect("get").expect("stored");
    assert_eq!(got, cur);
    assert_eq!(got.verify_timeline(), Ok(()), "the hash chain is intact");
    assert!(phananh_core::audit::verify(&got, None).ok);

    // Every list index returns it whole: one Query, one BatchGetItem of the page's reports,
    // one of the archived chunks.
    for (index, q) in queries_of(&cur) {
        let before = Moto::shared().recorded_requests().len();
        let page = store.query(&q).await.expect(index);
        let ops = calls_since(before, &settings.table);
        assert_eq!(page.items, vec![cur.clone()], "{index}");
        println!("{index}: {ops:?}");
        assert_eq!(
            ops,
            BTreeMap::from([("BatchGetItem".to_string(), 2), ("Query".to_string(), 1)]),
            "{index}"
        );
    }
    let due = store.escalations_due(at(60), 10).await.expect("due");
    assert_eq!(due, vec![cur.clone()], "escalation");
}

/// The operations moto received for `table` since `from`.
fn calls_since(from: usize, table: &str) -> BTreeMap<String, usize> {
    let mut ops = BTreeMap::new();
    for r in Moto::shared().recorded_requests().into_iter().skip(from) {
        if !r.body.contains(table) {
            continue;
        }
        if let Some(op) = r.operation() {
            *ops.entry(op).or_default() += 1;
        }
    }
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_item_of_the_earlier_layout_reads_as_before_and_is_split_at_its_next_change() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let mut big = everywhere(&unique("old"));
    for k in 0..60 {
        big = next_version(&big, &long_note(k, 800));
    }
    store.create(&big, &[], None).await.expect("create");
    // Rewrite it as the earlier layout stored it: the whole report in `doc`, no counter, no
    // chunk.
    let mut item = raw_item(&clients.dynamodb, &settings.table, &big).await;
    for k in chunk_keys(&clients.dynamodb, &settings.table, &big).await {
        clients
            .dynamodb
            .delete_item()
            .table_name(&settings.table)
            .key("pk", AttributeValue::S(format!("REPORT#{}", big.id)))
            .key("sk", AttributeValue::S(k))
            .send()
            .await
            .expect("delete chunk");
    }
    item.remove("report");
    item.remove("tl_archived");
    item.remove("tl_chunks");
    item.insert(
        "doc".into(),
        AttributeValue::S(serde_json::to_string(&big).expect("json")),
    );
    assert!(item_size(&item) > REPORT_ITEM_BOUND);
    clients
        .dynamodb
        .put_item()
        .table_name(&settings.table)
        .set_item(Some(item))
        .send()
        .await
        .expect("old layout");

    let fresh = DynamoReportStore::from_settings(&clients, &settings);
    assert_eq!(fresh.get(&big.id).await.expect("get"), Some(big.clone()));
    for (index, q) in queries_of(&big) {
        assert_eq!(fresh.query(&q).await.expect(index).items, vec![big.clone()]);
    }

    // Its next change (by a store that did not read it) splits it.
    let next = next_version(&big, "Đã bổ sung thông tin");
    DynamoReportStore::from_settings(&clients, &settings)
        .update(&next, big.version, &[])
        .await
        .expect("update");
    let item = raw_item(&clients.dynamodb, &settings.table, &next).await;
    assert!(item_size(&item) <= REPORT_ITEM_BOUND);
    assert!(!item.contains_key("doc"));
    assert_eq!(
        chunk_keys(&clients.dynamodb, &settings.table, &next)
            .await
            .len(),
        1
    );
    assert_eq!(fresh.get(&next.id).await.expect("get"), Some(next.clone()));
    for (index, q) in queries_of(&next) {
        assert_eq!(
            fresh.query(&q).await.expect(index).items,
            vec![next.clone()]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_of_an_archived_report_still_conflict() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let mut cur = everywhere(&unique("race"));
    store.create(&cur, &[], None).await.expect("create");
    for k in 0..40 {
        let next = next_version(&cur, &long_note(k, 800));
        store.update(&next, cur.version, &[]).await.expect("update");
        cur = next;
    }
    assert!(!chunk_keys(&clients.dynamodb, &settings.table, &cur)
        .await
        .is_empty());
    // Two staff read the same version; each change is big enough to archive a chunk with
    // the same key.
    let a = DynamoReportStore::from_settings(&clients, &settings);
    let b = DynamoReportStore::from_settings(&clients, &settings);
    let seen_a = a.get(&cur.id).await.expect("get").expect("stored");
    let seen_b = b.get(&cur.id).await.expect("get").expect("stored");
    let first = next_version(&seen_a, &long_note(1000, 20_000));
    let second = next_version(&seen_b, &long_note(2000, 20_000));
    a.update(&first, seen_a.version, &[]).await.expect("first");
    assert_eq!(
        b.update(&second, seen_b.version, &[]).await,
        Err(StoreError::Conflict)
    );
    // A store that did not read the report (its archive unknown) updates the current
    // version: its guess fails, the stored item tells, the second transaction writes.
    let third = next_version(&first, "Tiếp tục xử lý");
    DynamoReportStore::from_settings(&clients, &settings)
        .update(&third, first.version, &[])
        .await
        .expect("third");
    assert_eq!(store.get(&cur.id).await.expect("get"), Some(third.clone()));
    assert_eq!(third.verify_timeline(), Ok(()));
}

// ---------------------------------------------------------------------------------------------
// Write units per change

fn evidence() -> Attachment {
    Attachment {
        id: "ev-1".into(),
        kind: MediaKind::Photo,
        content_type: "image/jpeg".into(),
        size: 1000,
        key: "media/x/ev-1".into(),
        public_key: None,
        public: false,
        thumb_key: None,
        location_hint: None,
    }
}

/// The indexes as the previous layout declared them: the lists copied the document (`doc`)
/// and `escalation` too.
fn gsis_before() -> Vec<GsiDef> {
    const LIST: &[&str] = &["doc", "search"];
    GSIS.iter()
        .map(|g| {
            let projection =
                if [GSI_REPORTER.name, GSI_PUBLIC.name, GSI_CATEGORY.name].contains(&g.name) {
                    GsiProjection::Include(LIST)
                } else if g.name == GSI_ESCALATION.name {
                    GsiProjection::Include(&["doc"])
                } else {
                    g.projection
                };
            GsiDef { projection, ..*g }
        })
        .collect()
}

/// A write as the previous layout made it: the report document in `doc` (whole: nothing is
/// archived on the happy path).
fn as_before(w: &Write) -> Write {
    match w {
        Write::Put(item) if item.contains_key("report") => {
            assert!(!item.contains_key("tl_archived"), "nothing archived here");
            let mut old = item.clone();
            if let Some(doc) = old.remove("report") {
                old.insert("doc".into(), doc);
            }
            Write::Put(old)
        }
        other => other.clone(),
    }
}

/// The app on a fresh DynamoDB table (moto), at [`t0`], with its table, store and clock.
async fn app_on_dynamodb() -> (
    AwsClients,
    AwsSettings,
    Arc<DynamoReportStore>,
    Arc<FixedClock>,
    App,
) {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = Arc::new(DynamoReportStore::from_settings(&clients, &settings));
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
    );
    (clients, settings, store, clock, app)
}

/// The happy path through the app on DynamoDB (submission, screening, assignment,
/// acceptance, result, publication); each change's write units from the items it wrote,
/// before (the document copied into five list indexes) and after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_units_per_change_on_the_happy_path() {
    let (_, settings, store, clock, app) = app_on_dynamodb().await;
    let citizen = actors::citizen();
    let input = NewReport {
        category: "environment".into(),
        title: "Rác thải ùn ứ trước chợ".into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ Tân Phong, bốc mùi khó chịu.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: Some("Lò Văn Minh".into()),
            phone: Some("0911222333".into()),
            email: None,
        }),
        camera_id: None,
    };
    let lead = "phong_tnmt";
    let staff = actors::unit_staff(lead);
    let ioc = actors::ioc_head();
    let mark = || Moto::shared().recorded_requests().len();
    let mut steps: Vec<(&str, usize)> = Vec::new();

    steps.push(("submit", mark()));
    let (r, _) = app
        .submit(&citizen, input, &[], None)
        .await
        .expect("submit");
    steps.push(("screen", mark()));
    app.classify(&r.id).await.expect("classify");
    let screened = store.get(&r.id).await.expect("get").expect("stored");
    steps.push(("assign", mark()));
    if screened.state != State::Assigned {
        app.act(
            &r.id,
            &ioc,
            Command::Assign {
                lead_unit: lead.into(),
                coordinating_units: vec!["ubnd_tan_phong".into()],
                note: None,
            },
        )
        .await
        .expect("assign");
    }
    clock.advance(chrono::Duration::minutes(30));
    steps.push(("accept", mark()));
    app.act(&r.id, &staff, Command::Accept { note: None })
        .await
        .expect("accept");
    steps.push(("resolve", mark()));
    app.act(
        &r.id,
        &staff,
        Command::Resolve {
            summary: "Đã thu gom toàn bộ rác thải".into(),
            evidence: vec![evidence()],
        },
    )
    .await
    .expect("resolve");
    steps.push(("publish", mark()));
    let last = app
        .act(
            &r.id,
            &ioc,
            Command::Publish {
                public_answer: "Rác đã được thu gom.".into(),
                public_attachments: vec![],
            },
        )
        .await
        .expect("publish");
    let end = mark();

    let requests = Moto::shared().recorded_requests();
    let before_gsis = gsis_before();
    let (mut after, mut before) = (WriteLedger::default(), WriteLedger::default());
    let (mut total_after, mut total_before) = (0u64, 0u64);
    println!("write units per change (transaction ×2; index writes by the projected size):");
    for (i, (name, from)) in steps.iter().enumerate() {
        let to = steps.get(i + 1).map_or(end, |s| s.1);
        let (mut a, mut b) = (0u64, 0u64);
        let mut report_size = 0;
        let mut detail = Vec::new();
        for req in &requests[*from..to] {
            if !req.body.contains(&settings.table)
                || req.operation().as_deref() != Some("TransactWriteItems")
            {
                continue;
            }
            let body: serde_json::Value = serde_json::from_str(&req.body).expect("json body");
            for w in transact_writes(&body) {
                if let Write::Put(item) = &w {
                    if item.contains_key("report") {
                        report_size = item_size(item);
                    }
                }
                let cost_before = before.apply(as_before(&w), &before_gsis, true);
                let cost_after = after.apply(w.clone(), &GSIS, true);
                let (pk, sk) = w.key();
                let kind = pk.split('#').next().unwrap_or("").to_string();
                detail.push(format!(
                    "{kind}/{}: {} → {}",
                    sk.split('#').next().unwrap_or(""),
                    cost_before.total(),
                    cost_after.total()
                ));
                a += cost_after.total();
                b += cost_before.total();
            }
        }
        println!(
            "  {name:<8} before {b:>3} WRU, after {a:>3} WRU (report item {report_size} bytes) [{}]",
            detail.join(", ")
        );
        total_after += a;
        total_before += b;
    }
    println!(
        "happy path ({} timeline entries): before {total_before} WRU, after {total_after} WRU",
        last.timeline.len()
    );
    assert!(
        total_after < total_before,
        "no document is copied into the list indexes any more"
    );
    assert_eq!(last.state, State::Published);
}

/// The audit (`phananh-aws audit verify`'s `ops::verify_range`, core's hash and MAC chains)
/// reads archived entries like inline ones: an archived timeline verifies, and an entry
/// edited inside a chunk item is caught and named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_verifies_an_archived_timeline_and_catches_an_edit_in_a_chunk() {
    let (clients, settings, _, clock, app) = app_on_dynamodb().await;
    let app = app.with_audit_key(b"timeline-archive-audit-key-0123456789");
    let input = NewReport {
        category: "environment".into(),
        title: "Cống thoát nước tắc".into(),
        description: "Cống thoát nước tắc nhiều ngày, nước tràn ra đường.".into(),
        location: None,
        address: Some("Tổ 5, phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    };
    let (r, _) = app
        .submit(&actors::citizen(), input, &[], None)
        .await
        .expect("submit");
    let ioc = actors::ioc_head();
    let mut last = r.clone();
    for k in 0..40 {
        clock.advance(chrono::Duration::minutes(1));
        last = app
            .act(
                &r.id,
                &ioc,
                Command::AddNote {
                    note: long_note(k, 700),
                    attachments: vec![],
                },
            )
            .await
            .expect("note");
    }
    let chunks = chunk_keys(&clients.dynamodb, &settings.table, &last).await;
    assert!(chunks.len() >= 2, "archived: {chunks:?}");
    let day = t0().date_naive();
    let check = phananh_aws::ops::verify_range(&app, None, day)
        .await
        .expect("verify");
    assert!(check.keyed);
    assert_eq!(check.reports, 1);
    assert!(check.broken.is_empty(), "{:?}", check.lines());

    // An entry edited inside the first chunk (by someone with write access to the table).
    let key = |sk: &str| {
        HashMap::from([
            (
                "pk".to_string(),
                AttributeValue::S(format!("REPORT#{}", r.id)),
            ),
            ("sk".to_string(), AttributeValue::S(sk.to_string())),
        ])
    };
    let mut chunk = clients
        .dynamodb
        .get_item()
        .table_name(&settings.table)
        .set_key(Some(key(&chunks[0])))
        .consistent_read(true)
        .send()
        .await
        .expect("get chunk")
        .item
        .expect("chunk");
    let mut entries: Vec<serde_json::Value> =
        serde_json::from_str(chunk["entries"].as_s().expect("entries")).expect("json");
    entries[2]["note"] = serde_json::Value::String("Không cần xử lý".into());
    let edited_seq = entries[2]["seq"].as_u64().expect("seq");
    chunk.insert(
        "entries".into(),
        AttributeValue::S(serde_json::to_string(&entries).expect("json")),
    );
    clients
        .dynamodb
        .put_item()
        .table_name(&settings.table)
        .set_item(Some(chunk))
        .send()
        .await
        .expect("edit chunk");
    let check = phananh_aws::ops::verify_range(&app, None, day)
        .await
        .expect("verify");
    assert_eq!(check.broken.len(), 1, "{:?}", check.lines());
    let bad = check.broken[0].first_bad.as_ref().expect("first bad entry");
    assert_eq!(check.broken[0].report_id, r.id);
    assert_eq!(u64::from(bad.seq), edited_seq);
}
