//! The audit trail contract (Đ.6.2) on the in-memory fake and on SQLite, where a directive is
//! edited straight in the `reports` row, as someone with the database file could.

use phananh_core::model::{Report, ReportId};
use phananh_core::ports::ReportStore;
use phananh_embedded::{SqliteStore, StoreOptions, DB_FILE};
use phananh_testkit::fakes::MemoryStore;
use phananh_tests::contract::audit::Rewrite;
use phananh_tests::contract::{self, BoxFuture};
use phananh_tests::fixtures::TempDir;
use std::sync::Arc;

#[tokio::test]
async fn the_audit_trail_proves_itself_on_memory() {
    let store = Arc::new(MemoryStore::default());
    let raw = store.clone();
    contract::audit_trail_contract(store, move |id: ReportId, change: Rewrite| {
        let raw = raw.clone();
        let fut: BoxFuture<'static, ()> = Box::pin(async move {
            let mut r: Report = raw.get(&id).await.expect("read").expect("report");
            let v = r.version;
            change(&mut r);
            r.version = v + 1;
            raw.update(&r, v, &[]).await.expect("rewritten");
        });
        fut
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_directive_edited_in_the_sqlite_row_is_caught_and_named() {
    let dir = TempDir::new("phananh-audit-sqlite");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    let db = dir.path().join(DB_FILE);
    contract::audit_trail_contract(store, move |id: ReportId, change: Rewrite| {
        let db = db.clone();
        let fut: BoxFuture<'static, ()> = Box::pin(async move {
            // The row itself, with a connection of its own: no adapter code involved.
            let conn = rusqlite::Connection::open(&db).expect("open the database file");
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            let doc: String = conn
                .query_row("SELECT doc FROM reports WHERE id = ?1", [&id.0], |r| {
                    r.get(0)
                })
                .expect("the row");
            let mut r: Report = serde_json::from_str(&doc).expect("a report");
            change(&mut r);
            let doc = serde_json::to_string(&r).expect("json");
            let n = conn
                .execute("UPDATE reports SET doc = ?1 WHERE id = ?2", [&doc, &id.0])
                .expect("update");
            assert_eq!(n, 1);
        });
        fut
    })
    .await;
}
