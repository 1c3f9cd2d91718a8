//! `ReportStore` contract.

use crate::fixtures::*;
use phananh_core::model::{DomainEvent, EventEnvelope, GeoPoint, Report, ReportId, State};
use phananh_core::ports::{
    CreateOutcome, EventDelivery, RecentPoint, ReportQuery, ReportStore, StoreError,
};
use std::collections::BTreeSet;
use std::future::Future;
use std::sync::Arc;

/// Runs every case, each on a fresh empty store made by `make`.
pub async fn report_store_contract<F, Fut>(make: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = Arc<dyn ReportStore>>,
{
    create_then_get(make().await.as_ref()).await;
    duplicate_id_is_refused(make().await.as_ref()).await;
    idempotency_key_returns_first_report(make().await.as_ref()).await;
    versioned_update(make().await.as_ref()).await;
    outbox_order_and_publication(make().await.as_ref()).await;
    query_filters(make().await.as_ref()).await;
    pagination_visits_every_report_once(make().await.as_ref()).await;
    bad_cursor_is_refused(make().await.as_ref()).await;
    escalations_due(make().await.as_ref()).await;
    text_search(make().await.as_ref()).await;
    recent_points(make().await.as_ref()).await;
    super::deferral::a_decided_deferral_and_its_target_date_round_trip(make().await.as_ref()).await;
    recent_points_near(make().await.as_ref()).await;
}

async fn pending_ids(store: &dyn ReportStore) -> Vec<String> {
    store
        .pending_events(1000)
        .await
        .expect("pending_events")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// The outbox holds exactly `expected` (in order); a streamed store keeps no outbox (its
/// stream is checked by `tests/tests/aws_adapters.rs`), so nothing is pending there.
async fn assert_outbox(store: &dyn ReportStore, expected: Vec<String>, what: &str) {
    match store.event_delivery() {
        EventDelivery::Outbox => assert_eq!(pending_ids(store).await, expected, "{what}"),
        EventDelivery::Stream => {
            assert_eq!(pending_ids(store).await, Vec::<String>::new(), "{what}")
        }
    }
}

pub async fn create_then_get(store: &dyn ReportStore) {
    let r = assigned(
        report(&unique("r"), at(0)),
        "ubnd_tan_phong",
        &["cong_an"],
        at(600),
    );
    let out = store.create(&r, &[submitted(&r)], None).await;
    assert_eq!(out, Ok(CreateOutcome::Created));
    let got = store.get(&r.id).await.expect("get");
    assert_eq!(got.as_ref(), Some(&r), "stored report must read back equal");
    assert_eq!(got.map(|g| g.verify_timeline()), Some(Ok(())));
    assert_eq!(store.get(&ReportId(unique("missing"))).await, Ok(None));
}

pub async fn duplicate_id_is_refused(store: &dyn ReportStore) {
    let r = report(&unique("r"), at(0));
    store
        .create(&r, &[submitted(&r)], None)
        .await
        .expect("first create");
    let mut other = report(r.id.as_str(), at(5));
    other.title = "Khác".into();
    let e2 = event(&other, 1, DomainEvent::ReportSubmitted);
    assert_eq!(
        store.create(&other, std::slice::from_ref(&e2), None).await,
        Err(StoreError::AlreadyExists)
    );
    assert_eq!(
        store.get(&r.id).await,
        Ok(Some(r.clone())),
        "first report unchanged"
    );
    assert_outbox(
        store,
        vec![submitted(&r).id],
        "no event of the refused create",
    )
    .await;
}

pub async fn idempotency_key_returns_first_report(store: &dyn ReportStore) {
    let key = unique("citizen-1:key");
    let first = report(&unique("r"), at(0));
    assert_eq!(
        store.create(&first, &[submitted(&first)], Some(&key)).await,
        Ok(CreateOutcome::Created)
    );
    let second = report(&unique("r"), at(1));
    assert_eq!(
        store
            .create(&second, &[submitted(&second)], Some(&key))
            .await,
        Ok(CreateOutcome::Existing(first.id.clone())),
        "a reused idempotency key answers with the first report"
    );
    assert_eq!(
        store.get(&second.id).await,
        Ok(None),
        "nothing written for the retry"
    );
    assert_outbox(
        store,
        vec![submitted(&first).id],
        "events of the first create",
    )
    .await;
    // A different key creates normally.
    assert_eq!(
        store.create(&second, &[], Some(&unique("other-key"))).await,
        Ok(CreateOutcome::Created)
    );
}

pub async fn versioned_update(store: &dyn ReportStore) {
    let r1 = report(&unique("r"), at(0));
    store.create(&r1, &[], None).await.expect("create");
    let r2 = assigned(
        next_version(&r1, "phân công"),
        "ubnd_tan_phong",
        &[],
        at(600),
    );
    let ev2 = event(
        &r2,
        0,
        DomainEvent::ReportAssigned {
            lead_unit: "ubnd_tan_phong".into(),
            coordinating_units: vec![],
            due_at: at(600),
        },
    );
    assert_eq!(
        store.update(&r2, 1, std::slice::from_ref(&ev2)).await,
        Ok(())
    );
    let got = store.get(&r1.id).await.expect("get").expect("present");
    assert_eq!(got.version, 2);
    assert_eq!(got, r2);

    // A writer still holding version 1 loses.
    let stale = next_version(&r1, "ghi chú cũ");
    let stale_ev = event(&stale, 5, DomainEvent::ReportAccepted);
    assert_eq!(
        store.update(&stale, 1, &[stale_ev]).await,
        Err(StoreError::Conflict)
    );
    assert_eq!(
        store.get(&r1.id).await,
        Ok(Some(r2.clone())),
        "nothing changed"
    );
    assert_outbox(store, vec![ev2.id.clone()], "no event of the stale update").await;

    // The next right version succeeds again.
    let r3 = in_state(next_version(&r2, "tiếp nhận"), State::InProgress);
    assert_eq!(store.update(&r3, 2, &[]).await, Ok(()));
    assert_eq!(
        store.get(&r1.id).await.expect("get").map(|r| r.version),
        Some(3)
    );

    // Updating a report that does not exist is not a success.
    let ghost = next_version(&report(&unique("ghost"), at(0)), "x");
    let res = store.update(&ghost, 1, &[]).await;
    assert!(
        matches!(res, Err(StoreError::NotFound) | Err(StoreError::Conflict)),
        "update of a missing report: {res:?}"
    );
    assert_eq!(store.get(&ghost.id).await, Ok(None));
}

pub async fn outbox_order_and_publication(store: &dyn ReportStore) {
    if store.event_delivery() == EventDelivery::Stream {
        // No outbox: marking is harmless and nothing is ever pending.
        store.mark_published(&[unique("e")]).await.expect("mark");
        assert_eq!(store.pending_events(100).await, Ok(vec![]));
        return;
    }
    let r = report(&unique("r"), at(0));
    let e0 = submitted(&r);
    let e1 = event(
        &r,
        1,
        DomainEvent::ReportScreened {
            auto_assignable: true,
        },
    );
    store
        .create(&r, &[e0.clone(), e1.clone()], None)
        .await
        .expect("create");
    let r2 = next_version(&r, "x");
    let e2 = event(&r2, 0, DomainEvent::ReportAccepted);
    store
        .update(&r2, 1, std::slice::from_ref(&e2))
        .await
        .expect("update");

    let pending = store.pending_events(100).await.expect("pending");
    assert_eq!(
        pending,
        vec![e0.clone(), e1.clone(), e2.clone()],
        "oldest first, unchanged"
    );
    assert_eq!(
        store.pending_events(2).await.expect("pending").len(),
        2,
        "limit respected"
    );

    store
        .mark_published(&[e0.id.clone(), e1.id.clone()])
        .await
        .expect("mark");
    assert_eq!(store.pending_events(100).await, Ok(vec![e2.clone()]));
    // Idempotent, and unknown ids are ignored.
    store
        .mark_published(&[e0.id.clone(), unique("unknown-event")])
        .await
        .expect("mark again");
    assert_eq!(store.pending_events(100).await, Ok(vec![e2.clone()]));
    store
        .mark_published(std::slice::from_ref(&e2.id))
        .await
        .expect("mark");
    assert_eq!(store.pending_events(100).await, Ok(vec![]));
    store.mark_published(&[]).await.expect("empty mark");
}

/// Every page of `q`, following cursors (bounded), as report ids in the order returned.
pub async fn all_pages(store: &dyn ReportStore, q: &ReportQuery) -> Vec<Report> {
    let mut q = q.clone();
    let mut out = Vec::new();
    for _ in 0..1000 {
        let page = store.query(&q).await.expect("query");
        assert!(
            page.items.len() <= q.page_size(),
            "page larger than its limit"
        );
        out.extend(page.items);
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => return out,
        }
    }
    panic!("pagination did not end after 1000 pages");
}

fn assert_newest_first(items: &[Report]) {
    for w in items.windows(2) {
        assert!(
            w[0].created_at >= w[1].created_at,
            "not newest first: {} ({}) before {} ({})",
            w[0].id,
            w[0].created_at,
            w[1].id,
            w[1].created_at
        );
    }
}

pub async fn query_filters(store: &dyn ReportStore) {
    let u1 = unique("unit");
    let u2 = unique("unit");
    let cat_a = unique("cat");
    let cat_b = unique("cat");
    let w1 = unique("ward");
    let w2 = unique("ward");
    let c1 = unique("citizen");
    let c2 = unique("citizen");
    let id = |n: &str| format!("{n}-{}", uuid::Uuid::now_v7().simple());

    let r1 = by(
        in_ward(in_category(report(&id("r1"), at(0)), &cat_a), &w1),
        &c1,
    );
    let r2 = assigned(
        by(
            in_ward(in_category(report(&id("r2"), at(60)), &cat_a), &w2),
            &c2,
        ),
        &u1,
        &[&u2],
        at(60 + 2 * 24 * 60),
    );
    let r3 = in_state(
        assigned(
            by(
                in_ward(in_category(report(&id("r3"), at(120)), &cat_b), &w1),
                &c1,
            ),
            &u2,
            &[],
            at(180),
        ),
        State::InProgress,
    );
    let r4 = published(
        in_state(
            assigned(
                by(
                    in_ward(in_category(report(&id("r4"), at(180)), &cat_b), &w2),
                    &c2,
                ),
                &u1,
                &[],
                at(200),
            ),
            State::Resolved,
        ),
        at(400),
    );
    let r5 = secret(published(
        by(
            in_ward(in_category(report(&id("r5"), at(240)), &cat_b), &w2),
            &c2,
        ),
        at(400),
    ));
    let r6 = in_state(
        published(
            by(
                in_ward(in_category(report(&id("r6"), at(300)), &cat_a), &w1),
                &c2,
            ),
            at(400),
        ),
        State::Closed,
    );
    let r7 = in_state(
        assigned(
            by(
                in_ward(in_category(report(&id("r7"), at(360)), &cat_b), &w1),
                &c2,
            ),
            &u1,
            &[],
            at(370),
        ),
        State::Resolved,
    );
    let r8 = camera(in_category(report(&id("r8"), at(420)), &cat_a), "cam-1");
    let all = vec![r1, r2, r3, r4, r5, r6, r7, r8];
    for r in &all {
        assert_eq!(store.create(r, &[], None).await, Ok(CreateOutcome::Created));
    }
    let name = |i: usize| all[i - 1].id.clone();

    // Helper: the query's ids (all pages, page size 2) equal `expected` (indices), newest first.
    let all_ref = &all;
    let check = move |label: &'static str, q: ReportQuery, expected: Vec<usize>| {
        let all = all_ref;
        async move {
            let mut q = q;
            q.limit = 2;
            let got = all_pages(store, &q).await;
            assert_newest_first(&got);
            let got_ids: Vec<ReportId> = got.iter().map(|r| r.id.clone()).collect();
            let mut want: Vec<&Report> = expected.iter().map(|i| &all[i - 1]).collect();
            want.sort_by_key(|r| std::cmp::Reverse(r.created_at));
            let want_ids: Vec<ReportId> = want.iter().map(|r| r.id.clone()).collect();
            assert_eq!(got_ids, want_ids, "query `{label}`");
            // The model's own predicate agrees with the hand-written expectation.
            q.cursor = None;
            let by_predicate: BTreeSet<ReportId> = all
                .iter()
                .filter(|r| q.matches(r))
                .map(|r| r.id.clone())
                .collect();
            assert_eq!(
                by_predicate,
                want_ids.iter().cloned().collect::<BTreeSet<_>>(),
                "fixture expectation of `{label}` disagrees with ReportQuery::matches"
            );
        }
    };

    // Scoped to this case's categories where the filter alone would see other data.
    check(
        "category A",
        ReportQuery {
            category: Some(cat_a.clone()),
            ..Default::default()
        },
        vec![1, 2, 6, 8],
    )
    .await;
    check(
        "category B",
        ReportQuery {
            category: Some(cat_b.clone()),
            ..Default::default()
        },
        vec![3, 4, 5, 7],
    )
    .await;
    check(
        "ward 1",
        ReportQuery {
            ward: Some(w1.clone()),
            ..Default::default()
        },
        vec![1, 3, 6, 7],
    )
    .await;
    check(
        "ward 2",
        ReportQuery {
            ward: Some(w2.clone()),
            ..Default::default()
        },
        vec![2, 4, 5],
    )
    .await;
    check(
        "reporter 1",
        ReportQuery {
            reporter: Some(c1.clone()),
            ..Default::default()
        },
        vec![1, 3],
    )
    .await;
    check(
        "unit 1 (lead)",
        ReportQuery {
            unit: Some(u1.clone()),
            ..Default::default()
        },
        vec![2, 4, 7],
    )
    .await;
    check(
        "unit 2 (lead or coordinating)",
        ReportQuery {
            unit: Some(u2.clone()),
            ..Default::default()
        },
        vec![2, 3],
    )
    .await;
    check(
        "state submitted",
        ReportQuery {
            states: vec![State::Submitted],
            ..Default::default()
        },
        vec![1, 8],
    )
    .await;
    check(
        "states on the unit clock",
        ReportQuery {
            states: vec![State::Assigned, State::InProgress],
            ..Default::default()
        },
        vec![2, 3],
    )
    .await;
    check(
        "states resolved|closed|published",
        ReportQuery {
            states: vec![State::Resolved, State::Closed, State::Published],
            ..Default::default()
        },
        vec![4, 5, 6, 7],
    )
    .await;
    check(
        "overdue one day in",
        ReportQuery {
            overdue_at: Some(at(24 * 60)),
            ..Default::default()
        },
        vec![3],
    )
    .await;
    check(
        "overdue three days in",
        ReportQuery {
            overdue_at: Some(at(3 * 24 * 60)),
            ..Default::default()
        },
        vec![2, 3],
    )
    .await;
    check(
        "overdue before any deadline",
        ReportQuery {
            overdue_at: Some(at(150)),
            ..Default::default()
        },
        vec![],
    )
    .await;
    check(
        "public feed",
        ReportQuery {
            public_only: true,
            ..Default::default()
        },
        vec![4, 6],
    )
    .await;
    check(
        "created in [1h, 3h)",
        ReportQuery {
            created_from: Some(at(60)),
            created_to: Some(at(180)),
            ..Default::default()
        },
        vec![2, 3],
    )
    .await;
    check(
        "created from 6h",
        ReportQuery {
            created_from: Some(at(360)),
            ..Default::default()
        },
        vec![7, 8],
    )
    .await;
    check(
        "created before 1h",
        ReportQuery {
            created_to: Some(at(60)),
            ..Default::default()
        },
        vec![1],
    )
    .await;
    check(
        "unit 1 overdue three days in",
        ReportQuery {
            unit: Some(u1.clone()),
            overdue_at: Some(at(3 * 24 * 60)),
            ..Default::default()
        },
        vec![2],
    )
    .await;
    check(
        "category A submitted in ward 1",
        ReportQuery {
            category: Some(cat_a.clone()),
            states: vec![State::Submitted],
            ward: Some(w1.clone()),
            ..Default::default()
        },
        vec![1],
    )
    .await;
    check(
        "public feed of category B",
        ReportQuery {
            public_only: true,
            category: Some(cat_b.clone()),
            ..Default::default()
        },
        vec![4],
    )
    .await;
    check(
        "unknown unit",
        ReportQuery {
            unit: Some(unique("nobody")),
            ..Default::default()
        },
        vec![],
    )
    .await;
    check(
        "everything",
        ReportQuery::default(),
        vec![1, 2, 3, 4, 5, 6, 7, 8],
    )
    .await;

    // Filters follow updates: r1 assigned to u2 now shows in u2's queue, out of "submitted".
    let r1 = store.get(&name(1)).await.expect("get").expect("r1");
    let r1b = assigned(next_version(&r1, "phân công"), &u2, &[], at(5000));
    store.update(&r1b, 1, &[]).await.expect("update r1");
    let page = store
        .query(&ReportQuery {
            unit: Some(u2.clone()),
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("query");
    let ids: Vec<ReportId> = page.items.iter().map(|r| r.id.clone()).collect();
    assert_eq!(
        ids,
        vec![name(3), name(2), name(1)],
        "unit index follows the update"
    );
    let page = store
        .query(&ReportQuery {
            states: vec![State::Submitted],
            limit: 50,
            ..Default::default()
        })
        .await
        .expect("query");
    assert_eq!(
        page.items.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        vec![name(8)]
    );
}

pub async fn pagination_visits_every_report_once(store: &dyn ReportStore) {
    let cat = unique("cat");
    let mut ids = BTreeSet::new();
    for i in 0..23i64 {
        // Pairs share a creation instant, so ties must be broken consistently.
        let r = in_category(report(&unique("p"), at(i / 2)), &cat);
        ids.insert(r.id.clone());
        store.create(&r, &[], None).await.expect("create");
    }
    for limit in [1u32, 2, 5, 7, 200] {
        let q = ReportQuery {
            category: Some(cat.clone()),
            limit,
            ..Default::default()
        };
        let got = all_pages(store, &q).await;
        assert_newest_first(&got);
        let seen: Vec<ReportId> = got.iter().map(|r| r.id.clone()).collect();
        let unique_seen: BTreeSet<ReportId> = seen.iter().cloned().collect();
        assert_eq!(
            seen.len(),
            23,
            "page size {limit}: every report exactly once"
        );
        assert_eq!(unique_seen, ids, "page size {limit}: the same reports");
    }
    // The first page of size 5 holds the five newest.
    let page = store
        .query(&ReportQuery {
            category: Some(cat.clone()),
            limit: 5,
            ..Default::default()
        })
        .await
        .expect("query");
    assert_eq!(page.items.len(), 5);
    assert!(page.next_cursor.is_some());
    assert!(page.items.iter().all(|r| r.created_at >= at(9)));
    // An exact last page has no cursor... or one that yields an empty page; never a loop.
    let q = ReportQuery {
        category: Some(cat.clone()),
        limit: 23,
        ..Default::default()
    };
    let p = store.query(&q).await.expect("query");
    assert_eq!(p.items.len(), 23);
    if let Some(c) = p.next_cursor {
        let next = store
            .query(&ReportQuery {
                cursor: Some(c),
                ..q.clone()
            })
            .await
            .expect("query");
        assert!(next.items.is_empty());
    }
}

pub async fn bad_cursor_is_refused(store: &dyn ReportStore) {
    let r = report(&unique("r"), at(0));
    store.create(&r, &[], None).await.expect("create");
    for bad in ["not a cursor", "%%%", "AAAA", "eyJ4Ijoi"] {
        let q = ReportQuery {
            cursor: Some(bad.to_string()),
            limit: 10,
            ..Default::default()
        };
        assert_eq!(
            store.query(&q).await.map(|_| ()),
            Err(StoreError::BadCursor),
            "cursor {bad:?}"
        );
    }
}

pub async fn escalations_due(store: &dyn ReportStore) {
    let mk = |minutes: Option<i64>| {
        let r = assigned(report(&unique("e"), at(0)), "ubnd", &[], at(24 * 60));
        escalating_at(r, minutes.map(at))
    };
    let a = mk(Some(60));
    let b = mk(Some(30));
    let c = mk(Some(180));
    let d = mk(None);
    let e = mk(Some(60));
    for r in [&a, &b, &c, &d, &e] {
        store.create(r, &[], None).await.expect("create");
    }
    let ids = |v: Vec<Report>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
    let due = ids(store.escalations_due(at(60), 10).await.expect("due"));
    assert_eq!(due.len(), 3, "exactly the reports due by 60 min: {due:?}");
    assert_eq!(due[0], b.id, "earliest first");
    assert_eq!(
        due[1..].iter().cloned().collect::<BTreeSet<_>>(),
        [a.id.clone(), e.id.clone()].into_iter().collect(),
    );
    assert_eq!(
        ids(store.escalations_due(at(60), 1).await.expect("due")),
        vec![b.id.clone()],
        "limit"
    );
    assert_eq!(store.escalations_due(at(10), 10).await, Ok(vec![]));
    assert_eq!(
        store
            .escalations_due(at(1000), 10)
            .await
            .expect("due")
            .len(),
        4
    );

    // The escalation index follows updates: b handled (no next threshold), a pushed later.
    let b2 = escalating_at(next_version(&b, "đã nhắc"), None);
    store.update(&b2, 1, &[]).await.expect("update b");
    let a2 = escalating_at(next_version(&a, "đã nhắc"), Some(at(500)));
    store.update(&a2, 1, &[]).await.expect("update a");
    assert_eq!(
        ids(store.escalations_due(at(60), 10).await.expect("due")),
        vec![e.id.clone()]
    );
    assert_eq!(
        ids(store.escalations_due(at(600), 10).await.expect("due")),
        vec![e.id.clone(), c.id.clone(), a.id.clone()]
    );
}

/// Events of a batch of creates, for callers that want to seed an outbox.
pub fn submitted_events(reports: &[Report]) -> Vec<EventEnvelope> {
    reports.iter().map(submitted).collect()
}

/// Free text ignores diacritics and case, every word must start a word of the title,
/// description or address, it is AND-ed with the other filters, and updates re-index.
pub async fn text_search(store: &dyn ReportStore) {
    // A word of its own in every report of this case, so a shared backend's other data never
    // matches (and every query below includes it).
    let nonce = format!("ma{}", uuid::Uuid::now_v7().simple());
    let cat_a = unique("cat");
    let cat_b = unique("cat");
    let id = |n: &str| format!("{n}-{}", uuid::Uuid::now_v7().simple());
    let with_text = |mut r: Report, title: &str, description: &str, address: Option<&str>| {
        r.title = title.to_string();
        r.description = format!("{description} {nonce}");
        r.address = address.map(str::to_string);
        r
    };
    let r1 = with_text(
        in_category(report(&id("t1"), at(0)), &cat_a),
        "Ổ gà trên đường Trần Phú",
        "Ổ gà sâu, xe máy ngã.",
        None,
    );
    let r2 = with_text(
        in_category(report(&id("t2"), at(60)), &cat_a),
        "Đèn đường hỏng",
        "Cả dãy phố tối om.",
        Some("Số 5 TRẦN PHÚ, phường Tân Phong"),
    );
    let r3 = with_text(
        in_category(report(&id("t3"), at(120)), &cat_b),
        "Rác thải",
        "Rác ùn ứ trên đường Lê Lợi.",
        None,
    );
    for r in [&r1, &r2, &r3] {
        assert_eq!(store.create(r, &[], None).await, Ok(CreateOutcome::Created));
    }
    let search = |text: String, category: Option<&String>| ReportQuery {
        text: Some(text),
        category: category.cloned(),
        limit: 1,
        ..Default::default()
    };
    let ids = |rs: &[&Report]| rs.iter().map(|r| r.id.clone()).collect::<Vec<_>>();
    let check = |label: &'static str, q: ReportQuery, want: Vec<ReportId>, all: Vec<Report>| async move {
        let got: Vec<ReportId> = all_pages(store, &q)
            .await
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(got, want, "text search `{label}`");
        let by_predicate: Vec<ReportId> = {
            let mut v: Vec<&Report> = all.iter().filter(|r| q.matches(r)).collect();
            v.sort_by_key(|r| std::cmp::Reverse(r.created_at));
            v.into_iter().map(|r| r.id.clone()).collect()
        };
        assert_eq!(
            by_predicate, want,
            "ReportQuery::matches disagrees on `{label}`"
        );
    };
    let all = || vec![r1.clone(), r2.clone(), r3.clone()];

    check(
        "without diacritics",
        search(format!("o ga tran phu {nonce}"), None),
        ids(&[&r1]),
        all(),
    )
    .await;
    check(
        "any case, address included, newest first, paged",
        search(format!("TRAN Phu {nonce}"), None),
        ids(&[&r2, &r1]),
        all(),
    )
    .await;
    check(
        "word prefixes",
        search(format!("tr ph {nonce}"), None),
        ids(&[&r2, &r1]),
        all(),
    )
    .await;
    check(
        "đ folds to d, with diacritics typed",
        search(format!("Đèn {nonce}"), None),
        ids(&[&r2]),
        all(),
    )
    .await;
    check(
        "AND-ed with the category",
        search(format!("duong {nonce}"), Some(&cat_b)),
        ids(&[&r3]),
        all(),
    )
    .await;
    check(
        "inside a word is no match",
        search(format!("ran phu {nonce}"), None),
        vec![],
        all(),
    )
    .await;
    check(
        "no such word",
        search(format!("xyzzy {nonce}"), None),
        vec![],
        all(),
    )
    .await;

    // Updates re-index: r3 now mentions Trần Phú, r1 no longer does.
    let mut r3b = next_version(&r3, "cập nhật");
    r3b.description = format!("Ổ GÀ ở ngõ Trần Phú {nonce}");
    store.update(&r3b, 1, &[]).await.expect("update r3");
    let mut r1b = next_version(&r1, "cập nhật");
    r1b.title = "Đã sửa".into();
    r1b.description = format!("Đã vá xong {nonce}");
    store.update(&r1b, 1, &[]).await.expect("update r1");
    check(
        "after updates",
        search(format!("o ga tran phu {nonce}"), None),
        ids(&[&r3b]),
        vec![r1b.clone(), r2.clone(), r3b.clone()],
    )
    .await;
    check(
        "old words are gone",
        search(format!("sau xe may {nonce}"), None),
        vec![],
        vec![r1b, r2, r3b],
    )
    .await;
}

/// The duplicate check's read: the category's reports in `[from, to)` as points, newest first,
/// at most `limit`; exactly what the full query would give, reduced to points.
pub async fn recent_points(store: &dyn ReportStore) {
    let cat = "environment";
    let mut made = Vec::new();
    for k in 0..8 {
        let mut r = report(&unique("p"), at(k * 10));
        if k % 3 != 0 {
            r.location = Some(GeoPoint {
                // Exact in binary: every store gives the same number back.
                lat: 22.0 + f64::from(k as i32) / 64.0,
                lon: 103.45,
            });
        }
        if k == 5 {
            r = in_category(r, "urban_order");
        }
        if k == 6 {
            r = in_state(r, State::Rejected);
        }
        store.create(&r, &[], None).await.expect("create");
        made.push(r);
    }
    let (from, to) = (at(10), at(70));
    let got = store
        .recent_points(cat, from, to, 200)
        .await
        .expect("recent_points");
    let want: Vec<RecentPoint> = made
        .iter()
        .rev()
        .filter(|r| r.category == cat && r.created_at >= from && r.created_at < to)
        .map(RecentPoint::of)
        .collect();
    assert_eq!(
        got, want,
        "points of the category in [from, to), newest first"
    );
    assert!(got.iter().any(|p| p.location.is_none()) && got.iter().any(|p| p.location.is_some()));
    assert!(
        got.iter().any(|p| p.state == State::Rejected),
        "the state is kept"
    );
    let two = store
        .recent_points(cat, from, to, 2)
        .await
        .expect("recent_points");
    assert_eq!(two, want[..2].to_vec(), "the limit keeps the newest");
}

/// The duplicate check's read near a point (Đ.5 hints): exactly the located reports of the
/// category in `[from, to)` within the radius, newest first, whatever geohash cell they lie in
/// (the centre is 30 m from a corner of a precision-5 cell, so the near points lie in four
/// cells); far, old, unlocated, other-category and end-of-window reports are not returned; a
/// rejected one is, with its state (the check itself leaves it out).
pub async fn recent_points_near(store: &dyn ReportStore) {
    let cat = "environment";
    let (h, w) = phananh_core::geohash::cell_size_deg(5);
    let corner = GeoPoint {
        lat: (22.39 / h).floor() * h,
        lon: (103.45 / w).floor() * w,
    };
    let m_lat = 1.0 / 111_195.0;
    let m_lon = m_lat / corner.lat.to_radians().cos();
    // North-east of the corner by (north, east) metres.
    let ne = |n: f64, e: f64| GeoPoint {
        lat: corner.lat + n * m_lat,
        lon: corner.lon + e * m_lon,
    };
    let center = ne(30.0, 30.0);
    let radius = 150.0;
    let (from, to) = (at(10), at(90));
    // (name, minute, location, category, rejected, within the radius)
    type Case<'a> = (&'a str, i64, Option<GeoPoint>, &'a str, bool, bool);
    let cases: [Case; 10] = [
        ("old", 0, Some(ne(40.0, 40.0)), cat, false, true),
        ("same cell", 20, Some(ne(60.0, 50.0)), cat, false, true),
        ("far", 30, Some(ne(420.0, 300.0)), cat, false, false),
        ("unlocated", 40, None, cat, false, false),
        (
            "other category",
            50,
            Some(ne(35.0, 35.0)),
            "urban_order",
            false,
            true,
        ),
        ("west cell", 60, Some(ne(40.0, -70.0)), cat, false, true),
        (
            "south cell, just outside",
            65,
            Some(ne(-125.0, 30.0)),
            cat,
            false,
            false,
        ),
        ("rejected", 70, Some(ne(20.0, 20.0)), cat, true, true),
        (
            "south-west cell",
            80,
            Some(ne(-50.0, -60.0)),
            cat,
            false,
            true,
        ),
        ("end of window", 90, Some(ne(30.0, 31.0)), cat, false, true),
    ];
    let mut want = Vec::new();
    for (name, minute, location, category, rejected, near) in cases {
        let mut r = in_category(report(&unique("near"), at(minute)), category);
        r.location = location;
        if rejected {
            r = in_state(r, State::Rejected);
        }
        store.create(&r, &[], None).await.expect("create");
        let d = location.map(|p| phananh_core::routing::distance_m(center, p));
        assert_eq!(d.is_some_and(|d| d <= radius), near, "{name}: {d:?} m");
        if near && category == cat && r.created_at >= from && r.created_at < to {
            want.push(RecentPoint::of(&r));
        }
    }
    want.reverse();
    let got = store
        .recent_points_near(cat, center, radius, from, to, 200)
        .await
        .expect("recent_points_near");
    let names = |v: &[RecentPoint]| v.iter().map(|p| p.id.0.clone()).collect::<Vec<_>>();
    assert_eq!(
        names(&got),
        names(&want),
        "near points in the window, newest first"
    );
    assert_eq!(got, want, "the points as stored");
    assert!(
        got.iter().any(|p| p.state == State::Rejected),
        "the state is kept"
    );
    let two = store
        .recent_points_near(cat, center, radius, from, to, 2)
        .await
        .expect("recent_points_near");
    assert_eq!(two, want[..2].to_vec(), "the limit keeps the newest");
    let none = store
        .recent_points_near(cat, ne(3000.0, 3000.0), radius, from, to, 200)
        .await
        .expect("recent_points_near");
    assert_eq!(none, vec![], "nothing near another point");
}
