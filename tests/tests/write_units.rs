//! What the statistics cost in DynamoDB write units per report (issue 10), measured on moto
//! from the items really stored and DynamoDB's size rules (`phananh_aws::capacity`): a month
//! of Lai Châu (every category, unit and ward of its configuration with reports, handling
//! times spread over the histogram) is counted, then one more report goes through the four
//! changes that change figures (received, screened, assigned, resolved). Each change is one
//! transaction (every item counted twice): the report's share and the rows it touches, each
//! row its own item now. Before, the rows of the month were ONE item rewritten whole at each
//! change: its size is computed from the same rows as the earlier layout stored them (one
//! number attribute `<row key>|<figure>` each). Prints both; asserts the cut.

use phananh_aws::aws_sdk_dynamodb::types::AttributeValue;
use phananh_aws::capacity::{item_size, write_units};
use phananh_aws::DynamoAggregates;
use phananh_core::aggregates::{
    bucket_of, delta, AggregateStore, Contribution, CountedChange, Figures, ShareChange,
};
use phananh_core::model::ReportId;
use phananh_tests::moto;
use std::collections::HashMap;

const MONTH: &str = "2026-11";

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The figures of a row as attributes named `<prefix><figure>` (zeros left out).
fn figure_attrs(prefix: &str, f: &Figures) -> HashMap<String, AttributeValue> {
    let mut out = HashMap::new();
    let mut put = |name: String, n: i64| {
        if n != 0 {
            out.insert(format!("{prefix}{name}"), AttributeValue::N(n.to_string()));
        }
    };
    put("received".into(), f.received);
    put("open".into(), f.open);
    put("resolved".into(), f.resolved);
    put("on_time".into(), f.on_time);
    for (b, n) in &f.handling {
        put(format!("h{b}"), *n);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statistics_write_units_per_report_one_item_per_row_against_one_item_per_month() {
    let (clients, settings) = moto::provision_table().await.expect("table");
    let store = DynamoAggregates::from_settings(&clients, &settings);
    let rules = phananh_core::CityRules::laichau_default().expect("rules");
    let cfg = &rules.config;
    let (cats, units, wards) = (&cfg.categories, &cfg.units, &cfg.wards);
    // The month: every category, unit and ward with reports (240, about 8 a day).
    let n = 240;
    let mut batch = Vec::new();
    for i in 0..n {
        let resolved = i % 3 != 0;
        batch.push(CountedChange {
            id: ReportId(format!("month-{i}")),
            version: 1,
            change: ShareChange {
                before: None,
                after: Contribution {
                    month: MONTH.into(),
                    unit: Some(units[i % units.len()].id.clone()),
                    category: cats[i % cats.len()].code.clone(),
                    ward: wards[i % wards.len()].id.clone(),
                    open: !resolved,
                    resolved,
                    on_time: i % 4 != 0,
                    handling_bucket: resolved.then(|| bucket_of(30 + (i as i64 * 97) % 5_000)),
                },
            },
        });
    }
    for chunk in batch.chunks(10) {
        store.apply_changes(chunk).await.expect("the month");
    }

    // One more report, through its four figure-changing events.
    let unit = units[0].id.clone();
    let received = Contribution {
        month: MONTH.into(),
        unit: None,
        category: cats[0].code.clone(),
        ward: "unknown".into(),
        open: true,
        resolved: false,
        on_time: false,
        handling_bucket: None,
    };
    let screened = Contribution {
        ward: wards[0].id.clone(),
        ..received.clone()
    };
    let assigned = Contribution {
        unit: Some(unit.clone()),
        ..screened.clone()
    };
    let resolved = Contribution {
        open: false,
        resolved: true,
        on_time: true,
        handling_bucket: Some(bucket_of(600)),
        ..assigned.clone()
    };
    let steps = [
        (None, &received),
        (Some(&received), &screened),
        (Some(&screened), &assigned),
        (Some(&assigned), &resolved),
    ];
    let id = ReportId("measured".into());
    let (mut wru_now, mut wru_before) = (0, 0);
    let mut largest_month = 0;
    for (v, (before, after)) in steps.into_iter().enumerate() {
        let month_before = store.months(MONTH, MONTH).await.expect("rows")[0].clone();
        let share_before = share_item(&clients, &settings.table, &id).await;
        let change = ShareChange {
            before: before.cloned(),
            after: after.clone(),
        };
        assert!(store
            .apply_change(&id, v as u64 + 1, &change)
            .await
            .expect("change"));
        let month_after = store.months(MONTH, MONTH).await.expect("rows")[0].clone();
        let share_after = share_item(&clients, &settings.table, &id).await;
        // A put or update is billed on the larger of the item before and after.
        let share_wru = write_units(share_before.max(share_after));
        // Now: the share and each row the change touches, their stored items.
        let d = delta(before, after);
        let mut rows_wru = 0;
        for key in d.get(MONTH).expect("rows touched").keys() {
            let stored = row_item(&clients, &settings.table, key).await;
            assert!(stored > 0, "row {key} is an item of its own");
            let before_size = month_before
                .rows
                .get(key)
                .map(|f| row_size(key, f))
                .unwrap_or(0);
            rows_wru += write_units(stored.max(before_size));
        }
        // Before: the share and the whole month item, as the earlier layout stored it.
        let month_size = |rows: &std::collections::BTreeMap<String, Figures>| {
            let mut item = HashMap::from([
                ("pk".to_string(), s("STATS")),
                ("sk".to_string(), s(&format!("MONTH#{MONTH}"))),
            ]);
            for (key, f) in rows {
                item.extend(figure_attrs(&format!("{key}|"), f));
            }
            item_size(&item)
        };
        let old_month = month_size(&month_before.rows).max(month_size(&month_after.rows));
        largest_month = largest_month.max(old_month);
        let now = 2 * (share_wru + rows_wru);
        let then = 2 * (share_wru + write_units(old_month));
        println!(
            "change {}: {} rows touched, now {now} WRU (share {share_wru} + rows {rows_wru}, ×2 transaction); before {then} WRU (month item {old_month} B)",
            v + 1,
            d[MONTH].len()
        );
        wru_now += now;
        wru_before += then;
    }
    let rows = store.months(MONTH, MONTH).await.expect("rows")[0]
        .rows
        .len();
    println!(
        "statistics WRU per report: now {wru_now}, before {wru_before} (Lai Châu month: {rows} rows, {n} reports, month item {largest_month} B)"
    );
    assert!(wru_now <= 40, "{wru_now}");
    assert!(wru_before > 2 * wru_now, "{wru_before} vs {wru_now}");
}

/// The size of a row item as stored (`STATS` / `ROW#<month>#<key>`).
fn row_size(key: &str, f: &Figures) -> usize {
    let mut item = HashMap::from([
        ("pk".to_string(), s("STATS")),
        ("sk".to_string(), s(&format!("ROW#{MONTH}#{key}"))),
    ]);
    item.extend(figure_attrs("", f));
    item_size(&item)
}

async fn row_item(clients: &phananh_aws::AwsClients, table: &str, key: &str) -> usize {
    get(clients, table, "STATS", &format!("ROW#{MONTH}#{key}")).await
}

async fn share_item(clients: &phananh_aws::AwsClients, table: &str, id: &ReportId) -> usize {
    get(clients, table, "STATSREP", &format!("REPORT#{id}")).await
}

/// The size of a stored item (0 when absent).
async fn get(clients: &phananh_aws::AwsClients, table: &str, pk: &str, sk: &str) -> usize {
    clients
        .dynamodb
        .get_item()
        .table_name(table)
        .key("pk", s(pk))
        .key("sk", s(sk))
        .consistent_read(true)
        .send()
        .await
        .expect("get")
        .item
        .map(|i| item_size(&i))
        .unwrap_or(0)
}
