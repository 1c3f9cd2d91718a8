//! SqliteStore specifics: durability across restart, group commit under concurrency.

mod common;

use common::*;
use phananh_core::model::ReportId;
use phananh_core::ports::{
    AccountStore, CreateOutcome, ReportQuery, ReportStore, StaffAccount, StoreError,
};
use phananh_embedded::{SqliteStore, StoreOptions};
use std::sync::Arc;

fn open(dir: &TempDir) -> Arc<SqliteStore> {
    SqliteStore::open(dir.path(), StoreOptions::default()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn everything_written_survives_a_restart() {
    let dir = TempDir::new("phananh-restart");
    let r = report("r-restart", at(0));
    let acct = StaffAccount {
        id: "a1".into(),
        username: "ioc.op".into(),
        display_name: "Cán bộ IOC".into(),
        role: phananh_core::model::Role::IocOperator,
        unit: None,
        password_hash: "$argon2id$x".into(),
        disabled: false,
        created_at: at(0),
        sessions_valid_from: None,
        totp: None,
    };
    {
        let store = open(&dir);
        store
            .create(&r, &[submitted(&r)], Some("citizen-1:k1"))
            .await
            .unwrap();
        let r2 = bump(&r);
        store.update(&r2, 1, &[submitted(&r2)]).await.unwrap();
        store.create_account(&acct).await.unwrap();
        drop(store);
    }
    let store = open(&dir);
    let got = store.get(&r.id).await.unwrap().unwrap();
    assert_eq!(got, bump(&r));
    assert_eq!(store.pending_events(10).await.unwrap().len(), 2);
    assert_eq!(
        store.account_by_username("ioc.op").await.unwrap(),
        Some(acct)
    );
    // The idempotency key is remembered across the restart too.
    let again = report("r-other", at(1));
    assert_eq!(
        store.create(&again, &[], Some("citizen-1:k1")).await,
        Ok(CreateOutcome::Existing(r.id.clone()))
    );
    // Opening twice more applies no migration again and keeps the data.
    drop(store);
    let store = open(&dir);
    assert_eq!(store.get(&r.id).await.unwrap().map(|r| r.version), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_creates_are_all_stored() {
    let dir = TempDir::new("phananh-group");
    let store = open(&dir);
    let mut tasks = tokio::task::JoinSet::new();
    for t in 0..40 {
        let store = store.clone();
        tasks.spawn(async move {
            let mut inner = tokio::task::JoinSet::new();
            for i in 0..50 {
                let store = store.clone();
                inner.spawn(async move {
                    let r = report(&format!("g-{t:02}-{i:02}"), at(t * 50 + i));
                    store.create(&r, &[submitted(&r)], None).await
                });
            }
            let mut ok = 0;
            while let Some(res) = inner.join_next().await {
                res.unwrap().unwrap();
                ok += 1;
            }
            ok
        });
    }
    let mut total = 0;
    while let Some(n) = tasks.join_next().await {
        total += n.unwrap();
    }
    assert_eq!(total, 2000);
    let stats = store.writer_stats();
    assert_eq!(stats.requests, 2000);
    // Every report and every event is there.
    let mut seen = 0;
    let mut q = ReportQuery {
        limit: 200,
        ..Default::default()
    };
    for _ in 0..20 {
        let page = store.query(&q).await.unwrap();
        seen += page.items.len();
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(seen, 2000);
    assert_eq!(store.pending_events(5000).await.unwrap().len(), 2000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_request_does_not_fail_its_batch_neighbours() {
    let dir = TempDir::new("phananh-batch");
    let store = open(&dir);
    let base = report("shared", at(0));
    store.create(&base, &[], None).await.unwrap();

    let (release, blocker) = block_writer(&store).await;
    let before = store.writer_stats();
    let mut tasks = Vec::new();
    // 30 fresh creates, one duplicate id, two updates racing on the same version,
    // and a duplicate idempotency key: all in ONE batch.
    for i in 0..30 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let r = report(&format!("n-{i:02}"), at(i + 1));
            (
                "create",
                s.create(&r, &[submitted(&r)], Some(&format!("k{i}")))
                    .await
                    .map(|_| ()),
            )
        }));
    }
    let s = store.clone();
    let dup = report("shared", at(99));
    tasks.push(tokio::spawn(async move {
        ("dup", s.create(&dup, &[], None).await.map(|_| ()))
    }));
    for n in 0..2 {
        let s = store.clone();
        let mut next = bump(&base);
        next.title = format!("writer {n}");
        tasks.push(tokio::spawn(async move {
            ("update", s.update(&next, 1, &[submitted(&next)]).await)
        }));
    }
    let s = store.clone();
    let again = report("n-again", at(50));
    tasks.push(tokio::spawn(async move {
        let out = s.create(&again, &[], Some("k0")).await;
        (
            "idem",
            out.map(|o| assert_eq!(o, CreateOutcome::Existing(ReportId("n-00".into())))),
        )
    }));
    wait_queued(&store, tasks.len()).await;
    release.send(()).unwrap();
    blocker.await.unwrap();

    let mut updates_ok = 0;
    for t in tasks {
        let (kind, res) = t.await.unwrap();
        match kind {
            "create" | "idem" => assert_eq!(res, Ok(()), "{kind}"),
            "dup" => assert_eq!(res, Err(StoreError::AlreadyExists)),
            "update" => match res {
                Ok(()) => updates_ok += 1,
                Err(e) => assert_eq!(e, StoreError::Conflict),
            },
            _ => unreachable!(),
        }
    }
    assert_eq!(updates_ok, 1, "exactly one of the racing updates wins");
    let after = store.writer_stats();
    // The blocker's batch, then ONE batch with every queued request.
    assert_eq!(after.requests - before.requests, 34);
    assert_eq!(
        after.commits - before.commits,
        1,
        "all queued requests share one commit"
    );
    assert!(after.largest_batch >= 34);

    for i in 0..30 {
        assert!(store
            .get(&ReportId(format!("n-{i:02}")))
            .await
            .unwrap()
            .is_some());
    }
    assert_eq!(store.get(&ReportId("n-again".into())).await.unwrap(), None);
    let shared = store.get(&base.id).await.unwrap().unwrap();
    assert_eq!(shared.version, 2);
    assert!(shared.title.starts_with("writer "));
    // 30 creates + the winning update; nothing from the refused requests.
    assert_eq!(store.pending_events(100).await.unwrap().len(), 31);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_batch_cap_splits_large_bursts() {
    let dir = TempDir::new("phananh-cap");
    let store = SqliteStore::open(
        dir.path(),
        StoreOptions {
            max_batch: 10,
            ..Default::default()
        },
    )
    .unwrap();
    let (release, blocker) = block_writer(&store).await;
    let before = store.writer_stats();
    let mut tasks = Vec::new();
    for i in 0..25 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let r = report(&format!("c-{i:02}"), at(i));
            s.create(&r, &[], None).await
        }));
    }
    wait_queued(&store, 25).await;
    release.send(()).unwrap();
    blocker.await.unwrap();
    for t in tasks {
        assert_eq!(t.await.unwrap(), Ok(CreateOutcome::Created));
    }
    let after = store.writer_stats();
    assert_eq!(
        after.commits - before.commits,
        3,
        "25 requests in batches of at most 10"
    );
    assert_eq!(after.largest_batch, 10);
}
