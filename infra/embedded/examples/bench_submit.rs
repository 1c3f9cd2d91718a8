//! Durable report creations per second through the group-commit writer.
//!
//! `cargo run --release -p phananh-embedded --example bench_submit -- [total] [writers]`
//! (defaults: 20000 reports, 256 concurrent writers). Every create is committed with
//! `synchronous=FULL` before its caller is answered.

use chrono::Utc;
use phananh_core::model::{DomainEvent, EventEnvelope, Report};
use phananh_core::ports::ReportStore;
use phananh_embedded::{SqliteStore, StoreOptions};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

fn report(id: String) -> Report {
    phananh_testkit::fixtures::submitted_report(&id, Utc::now())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(20_000);
    let writers: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(256);
    let dir = std::env::temp_dir().join(format!("phananh-bench-{}", uuid::Uuid::new_v4()));
    let store = SqliteStore::open(&dir, StoreOptions::default())?;
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..writers {
        let store = store.clone();
        let next = next.clone();
        tasks.spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    return Ok::<(), String>(());
                }
                let r = report(uuid::Uuid::now_v7().to_string());
                let e = EventEnvelope {
                    id: format!("{}:1:0", r.id),
                    report_id: r.id.clone(),
                    version: 1,
                    at: r.created_at,
                    event: DomainEvent::ReportSubmitted,
                    stats: None,
                    notify: None,
                };
                let key = format!("citizen:{i}");
                store
                    .create(&r, &[e], Some(&key))
                    .await
                    .map_err(|e| e.to_string())?;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    let secs = start.elapsed().as_secs_f64();
    let stats = store.writer_stats();
    println!(
        "{total} durable creates with {writers} writers in {secs:.2} s: {:.0} creates/s \
         ({} commits, {:.1} requests per commit, largest batch {})",
        total as f64 / secs,
        stats.commits,
        stats.requests as f64 / stats.commits.max(1) as f64,
        stats.largest_batch
    );
    store.close();
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
