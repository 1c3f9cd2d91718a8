//! `AggregateStore` contract (issue 13 item 6): a report's contribution is counted in its
//! month's rows; a newer version replaces it (the old share subtracted); a duplicate or an
//! older version changes nothing; rows that reach zero disappear; months are read by range, in
//! order; `clear` forgets rows and shares, so a rebuild counts every report again. The store
//! must be empty when handed over.

use phananh_core::aggregates::{
    bucket_of, AggregateStore, Contribution, CountedChange, Figures, MemoryAggregates, ShareChange,
};
use phananh_core::model::ReportId;

fn share(month: &str, unit: Option<&str>, open: bool, on_time: Option<bool>) -> Contribution {
    Contribution {
        month: month.into(),
        unit: unit.map(str::to_string),
        category: "food_safety".into(),
        ward: "tan_phong".into(),
        open,
        resolved: on_time.is_some(),
        on_time: on_time.unwrap_or(false),
        handling_bucket: on_time.map(|_| bucket_of(90)),
    }
}

async fn row(store: &dyn AggregateStore, month: &str, key: &str) -> Option<Figures> {
    store
        .months(month, month)
        .await
        .expect("months")
        .into_iter()
        .find(|m| m.month == month)
        .and_then(|m| m.rows.get(key).cloned())
}

pub async fn aggregate_store_contract(store: &dyn AggregateStore) {
    let a = ReportId("agg-a".into());
    let b = ReportId("agg-b".into());
    // Received (v1), then assigned (v3), then resolved on time (v5).
    assert!(store
        .apply(&a, 1, &share("2026-11", None, true, None))
        .await
        .expect("apply v1"));
    let all = row(store, "2026-11", "all").await.expect("all row");
    assert_eq!((all.received, all.open, all.resolved), (1, 1, 0));
    assert!(store
        .apply(&a, 3, &share("2026-11", Some("trung_tam_y_te"), true, None))
        .await
        .expect("apply v3"));
    assert!(store
        .apply(
            &a,
            5,
            &share("2026-11", Some("trung_tam_y_te"), false, Some(true))
        )
        .await
        .expect("apply v5"));
    // A duplicate and an older version (reordered events) change nothing.
    assert!(!store
        .apply(
            &a,
            5,
            &share("2026-11", Some("trung_tam_y_te"), false, Some(true))
        )
        .await
        .expect("duplicate"));
    assert!(!store
        .apply(&a, 3, &share("2026-11", Some("trung_tam_y_te"), true, None))
        .await
        .expect("older"));
    let all = row(store, "2026-11", "all").await.expect("all row");
    assert_eq!(
        (all.received, all.open, all.resolved, all.on_time),
        (1, 0, 1, 1),
        "{all:?}"
    );
    assert_eq!(all.handling.get(&bucket_of(90)), Some(&1));
    let unit = row(store, "2026-11", "unit:trung_tam_y_te")
        .await
        .expect("unit row");
    assert_eq!((unit.received, unit.resolved, unit.on_time), (1, 1, 1));
    assert_eq!(
        row(store, "2026-11", "category:food_safety")
            .await
            .map(|f| f.received),
        Some(1)
    );
    assert_eq!(
        row(store, "2026-11", "ward:tan_phong")
            .await
            .map(|f| f.received),
        Some(1)
    );

    // Another report in another month; then reassigned elsewhere: the old unit's row goes.
    store
        .apply(&b, 2, &share("2026-12", Some("phong_tnmt"), true, None))
        .await
        .expect("apply b");
    store
        .apply(&b, 4, &share("2026-12", Some("ubnd_tan_phong"), true, None))
        .await
        .expect("apply b v4");
    assert_eq!(row(store, "2026-12", "unit:phong_tnmt").await, None);
    assert_eq!(
        row(store, "2026-12", "unit:ubnd_tan_phong")
            .await
            .map(|f| f.open),
        Some(1)
    );
    let months = store.months("2026-01", "2026-12").await.expect("range");
    assert_eq!(
        months.iter().map(|m| m.month.as_str()).collect::<Vec<_>>(),
        vec!["2026-11", "2026-12"]
    );
    assert!(store
        .months("2027-01", "2027-12")
        .await
        .expect("empty range")
        .is_empty());
    let only_dec = store.months("2026-12", "9999-99").await.expect("open end");
    assert_eq!(only_dec.len(), 1);

    // Cleared: nothing left, and the same versions count again (a rebuild).
    store.clear().await.expect("clear");
    assert!(store
        .months("0000-00", "9999-99")
        .await
        .expect("after clear")
        .is_empty());
    assert!(store
        .apply(
            &a,
            5,
            &share("2026-11", Some("trung_tam_y_te"), false, Some(true))
        )
        .await
        .expect("counted again after clear"));
    let all = row(store, "2026-11", "all").await.expect("all row again");
    assert_eq!((all.received, all.resolved, all.on_time), (1, 1, 1));

    apply_change_equals_apply_of_the_new_share(store).await;
    a_batch_of_changes_ends_where_the_changes_one_by_one_do(store).await;
}

/// `apply_change` (the share before and after a change, as events carry them) ends where
/// `apply` of the share after does, in order, repeated and reordered.
pub async fn apply_change_equals_apply_of_the_new_share(store: &dyn AggregateStore) {
    let c = ReportId("agg-c".into());
    let m = "2027-01";
    let received = share(m, None, true, None);
    let assigned = share(m, Some("phong_tnmt"), true, None);
    let moved = share(m, Some("ubnd_tan_phong"), true, None);
    let resolved = share(m, Some("ubnd_tan_phong"), false, Some(false));
    let change = |before: Option<&Contribution>, after: &Contribution| ShareChange {
        before: before.cloned(),
        after: after.clone(),
    };
    assert!(store
        .apply_change(&c, 1, &change(None, &received))
        .await
        .expect("new report"));
    assert!(store
        .apply_change(&c, 3, &change(Some(&received), &assigned))
        .await
        .expect("in order"));
    assert!(!store
        .apply_change(&c, 3, &change(Some(&received), &assigned))
        .await
        .expect("repeated"));
    assert_eq!(
        row(store, m, "unit:phong_tnmt").await.map(|f| f.open),
        Some(1)
    );
    // The result (v7) before the reassignment (v5): counted from what is recorded.
    assert!(store
        .apply_change(&c, 7, &change(Some(&moved), &resolved))
        .await
        .expect("reordered"));
    assert!(!store
        .apply_change(&c, 5, &change(Some(&assigned), &moved))
        .await
        .expect("late"));
    // A change of no figure changes no row (whether a store records its version is its own).
    store
        .apply_change(&c, 9, &change(Some(&resolved), &resolved))
        .await
        .expect("no figure");
    assert_eq!(row(store, m, "unit:phong_tnmt").await, None);
    let unit = row(store, m, "unit:ubnd_tan_phong")
        .await
        .expect("unit row");
    let all = row(store, m, "all").await.expect("all row");
    assert_eq!(
        (unit.received, unit.open, unit.resolved, unit.on_time),
        (1, 0, 1, 0)
    );
    assert_eq!((all.received, all.open, all.resolved), (1, 0, 1));
}

/// `apply_changes` (the statistics consumer's batch, issue 10) ends where `apply_change` of
/// each change one by one does: several reports, a report's consecutive changes in one batch,
/// a change repeated, a change older than the recorded share, and a batch whose changes do not
/// start from the recorded shares (a store writing the batch at once must fall back).
pub async fn a_batch_of_changes_ends_where_the_changes_one_by_one_do(store: &dyn AggregateStore) {
    let m = "2027-02";
    let truth = MemoryAggregates::default();
    let received = share(m, None, true, None);
    let assigned = share(m, Some("phong_tnmt"), true, None);
    let resolved = share(m, Some("phong_tnmt"), false, Some(true));
    let reopened = share(m, Some("phong_tnmt"), true, None);
    // A row key beyond ASCII is read back like any other.
    let elsewhere = Contribution {
        ward: "phường_đông_phong".into(),
        ..assigned.clone()
    };
    let counted = |id: &str, version: u64, before: Option<&Contribution>, after: &Contribution| {
        CountedChange {
            id: ReportId(id.into()),
            version,
            change: ShareChange {
                before: before.cloned(),
                after: after.clone(),
            },
        }
    };
    let batches = [
        // Three new reports, one of them assigned and resolved in the same batch.
        vec![
            counted("agg-b1", 1, None, &received),
            counted("agg-b2", 1, None, &received),
            counted("agg-b1", 3, Some(&received), &assigned),
            counted("agg-b3", 1, None, &received),
            counted("agg-b1", 5, Some(&assigned), &resolved),
        ],
        // A repeated change, one older than the recorded share, and new ones.
        vec![
            counted("agg-b1", 3, Some(&received), &assigned),
            counted("agg-b2", 3, Some(&received), &assigned),
            counted("agg-b1", 7, Some(&resolved), &reopened),
            counted("agg-b3", 1, None, &received),
        ],
        // Changes that do not start from the recorded shares (their events were reordered):
        // counted from what is recorded.
        vec![
            counted("agg-b2", 9, Some(&resolved), &reopened),
            counted("agg-b3", 5, Some(&assigned), &resolved),
            counted("agg-b4", 2, None, &elsewhere),
        ],
    ];
    for (n, batch) in batches.iter().enumerate() {
        store.apply_changes(batch).await.expect("batch");
        for c in batch {
            truth
                .apply_change(&c.id, c.version, &c.change)
                .await
                .expect("one by one");
        }
        assert_eq!(
            store.months(m, m).await.expect("months"),
            truth.months(m, m).await.expect("months"),
            "after batch {n}"
        );
    }
    let all = row(store, m, "all").await.expect("all row");
    assert_eq!(
        (all.received, all.open, all.resolved, all.on_time),
        (4, 3, 1, 1)
    );
    assert_eq!(
        row(store, m, "ward:phường_đông_phong")
            .await
            .map(|f| f.received),
        Some(1)
    );
}
