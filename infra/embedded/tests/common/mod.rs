//! The embedded adapter tests' builders: the shared fixtures of `phananh-testkit`, plus `bump`.
#![allow(dead_code, unused_imports)]

use phananh_core::model::Report;
use phananh_embedded::SqliteStore;
pub use phananh_testkit::fixtures::{at, event, report, submitted, t0, TempDir};
use std::sync::Arc;

/// The next version of `r` with a changed title (what a store update writes).
pub fn bump(r: &Report) -> Report {
    let mut n = r.clone();
    n.version += 1;
    n.title = format!("{} (v{})", r.title, n.version);
    n
}

/// Holds the writer thread inside a request until released, so the test can queue requests
/// and know they all land in the next batch.
pub async fn block_writer(
    store: &Arc<SqliteStore>,
) -> (std::sync::mpsc::Sender<()>, tokio::task::JoinHandle<()>) {
    let (release, wait) = std::sync::mpsc::channel::<()>();
    let (entered_tx, entered_rx) = tokio::sync::oneshot::channel::<()>();
    let s = store.clone();
    let blocker = tokio::spawn(async move {
        s.write(move |_conn| {
            let _ = entered_tx.send(());
            let _ = wait.recv_timeout(std::time::Duration::from_secs(30));
            Ok(())
        })
        .await
        .unwrap();
    });
    entered_rx.await.unwrap();
    (release, blocker)
}

pub async fn wait_queued(store: &SqliteStore, n: usize) {
    for _ in 0..2000 {
        if store.queued_writes() >= n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    panic!("only {} of {n} writes queued", store.queued_writes());
}
