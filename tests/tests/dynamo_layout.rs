//! The DynamoDB item layout on a local moto server (issue 10, "Cost and calls"): membership
//! items hold keys only, a unit's queue page is one `Query` of `by_unit` plus one
//! `BatchGetItem` of its reports, and memberships of the old layout (a copy of the whole
//! document) still list and are replaced at the report's next change.

use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::DynamoReportStore;
use phananh_core::model::Report;
use phananh_core::ports::{ReportQuery, ReportStore};
use phananh_tests::fixtures::*;
use phananh_tests::moto::{self, Moto};
use std::collections::{BTreeMap, BTreeSet, HashMap};

type Item = HashMap<String, AttributeValue>;

async fn membership(
    client: &phananh_aws::aws_sdk_dynamodb::Client,
    table: &str,
    r: &Report,
    unit: &str,
) -> Option<Item> {
    client
        .get_item()
        .table_name(table)
        .key("pk", AttributeValue::S(format!("REPORT#{}", r.id)))
        .key("sk", AttributeValue::S(format!("UNIT#{unit}")))
        .consistent_read(true)
        .send()
        .await
        .expect("get membership")
        .item
}

/// The operations moto received for `table` since `from` (requests of this test only: the
/// table name is unique), and the keys asked by `BatchGetItem`.
fn calls_since(from: usize, table: &str) -> (BTreeMap<String, usize>, usize) {
    let mut ops = BTreeMap::new();
    let mut batch_keys = 0;
    for r in Moto::shared().recorded_requests().into_iter().skip(from) {
        if !r.body.contains(table) {
            continue;
        }
        let Some(op) = r.operation() else { continue };
        if op == "BatchGetItem" {
            batch_keys += r.body.matches("\"REPORT\"").count();
        }
        *ops.entry(op).or_default() += 1;
    }
    (ops, batch_keys)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_items_hold_keys_and_a_unit_page_is_one_query_and_one_batch_read() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let unit = "phong_kinh_te";
    let mut made = Vec::new();
    for k in 0..30 {
        let r = assigned(report(&unique("q"), at(k)), unit, &["cong_an"], at(600));
        store.create(&r, &[], None).await.expect("create");
        made.push(r);
    }
    // Another unit's reports are not read.
    for k in 0..5 {
        let r = assigned(report(&unique("o"), at(k)), "ubnd_tan_phong", &[], at(600));
        store.create(&r, &[], None).await.expect("create");
    }

    let before = Moto::shared().recorded_requests().len();
    let q = ReportQuery {
        unit: Some(unit.into()),
        limit: 20,
        ..Default::default()
    };
    let page = store.query(&q).await.expect("unit page");
    let (ops, batch_keys) = calls_since(before, &settings.table);
    let want: Vec<&Report> = made.iter().rev().take(20).collect();
    assert_eq!(page.items.iter().collect::<Vec<_>>(), want, "newest first");
    assert!(page.next_cursor.is_some());
    let calls: usize = ops.values().sum();
    let doc_bytes = serde_json::to_string(&made[0]).map_or(0, |j| j.len());
    println!(
        "staff queue page (20 of a unit's 30 reports): {calls} calls {ops:?}, {batch_keys} reports read by BatchGetItem (a report document here: {doc_bytes} bytes)"
    );
    let m = membership(&clients.dynamodb, &settings.table, &made[0], unit)
        .await
        .expect("membership stored");
    let attrs: BTreeSet<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(
        attrs,
        BTreeSet::from(["pk", "sk", "unit_pk", "csk"]),
        "a membership holds keys only, no copy of the report"
    );

    assert_eq!(
        ops,
        BTreeMap::from([("BatchGetItem".to_string(), 1), ("Query".to_string(), 1)]),
        "one Query of by_unit and one BatchGetItem of its reports"
    );
    assert!(
        batch_keys <= 25,
        "only the page's chunk is read: {batch_keys}"
    );

    // The second page continues where the first stopped.
    let next = store
        .query(&ReportQuery {
            cursor: page.next_cursor.clone(),
            ..q.clone()
        })
        .await
        .expect("second page");
    let want: Vec<&Report> = made.iter().rev().skip(20).collect();
    assert_eq!(next.items.iter().collect::<Vec<_>>(), want);
    assert_eq!(next.next_cursor, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_layout_membership_still_lists_and_is_replaced_at_the_next_change() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let unit = "phong_kinh_te";
    let r = assigned(report(&unique("old"), at(0)), unit, &[], at(600));
    store.create(&r, &[], None).await.expect("create");

    // The layout before: the membership carried the whole document and its version.
    let mut stale = r.clone();
    stale.title = "Bản cũ trong mục thành viên".into();
    let mut old = membership(&clients.dynamodb, &settings.table, &r, unit)
        .await
        .expect("membership");
    old.insert(
        "doc".into(),
        AttributeValue::S(serde_json::to_string(&stale).expect("json")),
    );
    old.insert("version".into(), AttributeValue::N(r.version.to_string()));
    clients
        .dynamodb
        .put_item()
        .table_name(&settings.table)
        .set_item(Some(old))
        .send()
        .await
        .expect("old membership");

    let q = ReportQuery {
        unit: Some(unit.into()),
        ..Default::default()
    };
    let page = store.query(&q).await.expect("unit page");
    assert_eq!(
        page.items,
        vec![r.clone()],
        "listed, with the report item's document (not the membership's copy)"
    );

    let mut changed = next_version(&r, "Đã bổ sung thông tin");
    changed.title = "Đã sửa".into();
    store
        .update(&changed, r.version, &[])
        .await
        .expect("update");
    let m = membership(&clients.dynamodb, &settings.table, &r, unit)
        .await
        .expect("membership");
    assert!(
        !m.contains_key("doc") && !m.contains_key("version"),
        "the change rewrote the membership as keys only: {:?}",
        m.keys().collect::<Vec<_>>()
    );
    let page = store.query(&q).await.expect("unit page");
    assert_eq!(page.items, vec![changed]);
}

/// Each index copies only what its queries read (`GsiDef::projection`, the same definition
/// as `template.yaml`): the lists their text (no document), the duplicate check its point.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexes_carry_only_what_their_queries_read() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let r = assigned(report(&unique("ix"), at(0)), "phong_kinh_te", &[], at(600));
    // In every index: a citizen's, published, with an escalation pending.
    let mut r = by(
        escalating_at(published(r, at(5)), Some(at(30))),
        &unique("citizen"),
    );
    r.location = Some(phananh_core::model::GeoPoint {
        lat: 22.39,
        lon: 103.46,
    });
    store.create(&r, &[], None).await.expect("create");
    let keys_of = |index: &str, pk_attr: &str, pk: String| {
        let client = clients.dynamodb.clone();
        let table = settings.table.clone();
        let (index, pk_attr) = (index.to_string(), pk_attr.to_string());
        async move {
            let out = client
                .query()
                .table_name(table)
                .index_name(index)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", pk_attr)
                .expression_attribute_values(":pk", AttributeValue::S(pk))
                .send()
                .await
                .expect("query");
            let items = out.items.unwrap_or_default();
            assert_eq!(items.len(), 1);
            items[0].keys().cloned().collect::<BTreeSet<String>>()
        }
    };
    let set = |v: &[&str]| {
        v.iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<String>>()
    };
    assert_eq!(
        keys_of(
            "by_state",
            "state_pk",
            format!("STATE#{}", r.state.as_str())
        )
        .await,
        set(&["pk", "sk", "state_pk", "csk", "search"])
    );
    assert_eq!(
        keys_of("by_category", "category_pk", format!("CAT#{}", r.category)).await,
        set(&["pk", "sk", "category_pk", "csk", "search"])
    );
    assert_eq!(
        keys_of("by_unit", "unit_pk", "UNIT#phong_kinh_te".into()).await,
        set(&["pk", "sk", "unit_pk", "csk"])
    );
    let reporter = r.reporter_id().expect("a citizen's").to_string();
    assert_eq!(
        keys_of("by_reporter", "reporter_pk", format!("REPORTER#{reporter}")).await,
        set(&["pk", "sk", "reporter_pk", "csk", "search"])
    );
    assert_eq!(
        keys_of("public_feed", "public_pk", "PUBLIC".into()).await,
        set(&["pk", "sk", "public_pk", "csk", "search"])
    );
    assert_eq!(
        keys_of("escalation", "esc_pk", "ESC".into()).await,
        set(&["pk", "sk", "esc_pk", "esc_sk"])
    );
    let cell = phananh_core::geohash::encode(r.location.expect("located"), 5);
    assert_eq!(
        keys_of("by_cell", "cell_pk", format!("CELL#{}#{cell}", r.category)).await,
        set(&["pk", "sk", "cell_pk", "csk", "geo", "state_pk"])
    );
}

/// The duplicate check's calls: one `Query` for a point away from its cell's edges, four for
/// a point near a corner (the circle touches four geohash cells), each on `by_cell`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_duplicate_check_reads_one_cell_or_the_four_around_a_corner() {
    use phananh_core::model::GeoPoint;
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoReportStore::from_settings(&clients, &settings);
    let (h, w) = phananh_core::geohash::cell_size_deg(5);
    let (lat0, lon0) = ((22.39 / h).floor() * h, (103.45 / w).floor() * w);
    let middle = GeoPoint {
        lat: lat0 + h / 2.0,
        lon: lon0 + w / 2.0,
    };
    // About 50 m inside the cell's south-west corner.
    let corner = GeoPoint {
        lat: lat0 + 0.000_45,
        lon: lon0 + 0.000_48,
    };
    for (point, want) in [(middle, 1), (corner, 4)] {
        let before = Moto::shared().recorded_requests().len();
        store
            .recent_points_near("environment", point, 150.0, at(0), at(60), 200)
            .await
            .expect("recent_points_near");
        let (ops, _) = calls_since(before, &settings.table);
        println!("duplicate check at {point:?}: {ops:?}");
        assert_eq!(ops, BTreeMap::from([("Query".to_string(), want)]));
    }
}
