//! Group commit when SQLite itself rolls the batch transaction back (disk full, I/O error):
//! no request of that batch may end up stored, and every caller is told its write failed.

mod common;

use common::*;
use phananh_core::model::ReportId;
use phananh_core::ports::{ReportStore, StoreError};
use phananh_embedded::{SqliteStore, StoreOptions};
use std::sync::Arc;

fn open(dir: &TempDir) -> Arc<SqliteStore> {
    SqliteStore::open(dir.path(), StoreOptions::default()).unwrap()
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A request that runs into a full disk: the database may not grow past its current size
/// (`max_page_count`), so a 1 MiB row fails with SQLITE_FULL. A plain single-row INSERT
/// has no statement journal, so SQLite rolls back the WHOLE transaction, not only the
/// statement. Returns whether SQLite ended the transaction, and the error.
fn disk_full_write(conn: &rusqlite::Connection) -> Result<bool, StoreError> {
    let pages: i64 = conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .map_err(backend)?;
    let limit: i64 = conn
        .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
            r.get(0)
        })
        .map_err(backend)?;
    assert_eq!(limit, pages, "the database may not grow");
    let res = conn.execute("INSERT INTO ballast (pad) VALUES (zeroblob(1048576))", []);
    let ended = conn.is_autocommit();
    // The disk has room again for the requests that follow.
    conn.query_row("PRAGMA max_page_count = 1073741823", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(backend)?;
    match res {
        Ok(_) => Err(StoreError::Backend(
            "the disk was expected to be full".into(),
        )),
        Err(e) => {
            assert!(e.to_string().contains("full"), "{e}");
            Err(StoreError::Backend(format!("ended={ended}: {e}")))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_rolled_back_by_sqlite_stores_none_of_its_requests() {
    let dir = TempDir::new("phananh-batch-full");
    let store = open(&dir);
    store
        .write(|c| {
            c.execute_batch("CREATE TABLE ballast (pad BLOB)")
                .map_err(backend)
        })
        .await
        .unwrap();

    let (release, blocker) = block_writer(&store).await;
    let before = store.writer_stats();
    let mut tasks = Vec::new();
    // In this order, in ONE batch: a create, the disk-full request, three more creates.
    let s = store.clone();
    tasks.push(tokio::spawn(async move {
        let r = report("f-before", at(1));
        (
            "before",
            s.create(&r, &[submitted(&r)], None).await.map(|_| ()),
        )
    }));
    wait_queued(&store, 1).await;
    let s = store.clone();
    tasks.push(tokio::spawn(async move {
        ("full", s.write(disk_full_write).await.map(|_| ()))
    }));
    wait_queued(&store, 2).await;
    for i in 0..3 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let r = report(&format!("f-after-{i}"), at(10 + i));
            (
                "after",
                s.create(&r, &[submitted(&r)], None).await.map(|_| ()),
            )
        }));
        wait_queued(&store, 3 + i as usize).await;
    }
    release.send(()).unwrap();
    blocker.await.unwrap();

    for t in tasks {
        let (kind, res) = t.await.unwrap();
        match (kind, res) {
            ("full", Err(StoreError::Backend(e))) => {
                assert!(
                    e.starts_with("ended=true"),
                    "SQLite must have rolled back the whole transaction: {e}"
                );
            }
            (kind, res) => assert!(
                matches!(res, Err(StoreError::Backend(_))),
                "{kind}: every caller of the rolled-back batch is told its write failed, got {res:?}"
            ),
        }
    }
    let after = store.writer_stats();
    assert_eq!(after.requests - before.requests, 5);
    assert_eq!(
        after.commits - before.commits,
        1,
        "the five requests were one batch"
    );

    // Nothing of the batch is stored: not the create before the failure (rolled back with
    // the transaction) and not the creates after it (never run on their own).
    for id in ["f-before", "f-after-0", "f-after-1", "f-after-2"] {
        assert_eq!(
            store.get(&ReportId(id.into())).await.unwrap(),
            None,
            "{id} must not be stored"
        );
    }
    assert!(store.pending_events(100).await.unwrap().is_empty());
    let ballast: i64 = store
        .read(|c| {
            c.query_row("SELECT count(*) FROM ballast", [], |r| r.get(0))
                .map_err(backend)
        })
        .await
        .unwrap();
    assert_eq!(ballast, 0);

    // The writer goes on: the next batch commits normally.
    let r = report("f-later", at(30));
    store.create(&r, &[submitted(&r)], None).await.unwrap();
    assert!(store.get(&r.id).await.unwrap().is_some());
    assert_eq!(store.pending_events(100).await.unwrap().len(), 1);
}
