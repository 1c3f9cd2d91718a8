//! The escalation sweep at a million stored reports with 100 due (issue 13): it reads on the
//! order of what is due, not what is stored. Not a test.
//!
//! `cargo run --release -p phananh-embedded --example bench_sweep -- [total] [due] [runs]`
//! (defaults 1,000,000 stored, 100 due, 200 runs).
//!
//! The store is filled with plain SQL in one transaction (the sweep's read path is measured,
//! not the write path: `bench_submit` measures that): `due` reports whose next threshold has
//! passed, a tenth of the rest with a threshold in the future, the others with none (closed or
//! waiting for nothing). Then `ReportStore::escalations_due` runs `runs` times through the
//! store, and the same SQL once on its own connection to count what SQLite read: the rows it
//! stepped through (`SQLITE_STMTSTATUS_VM_STEP`), full-scan steps and sort steps.

use chrono::{Duration, Utc};
use phananh_core::model::Report;
use phananh_core::ports::ReportStore;
use phananh_embedded::reports::ESCALATIONS_SQL;
use phananh_embedded::{SqliteStore, StoreOptions, DB_FILE};
use phananh_testkit::fixtures::{assigned, escalating_at, report};
use rusqlite::{params, StatementStatus};
use std::time::Instant;

fn nanos(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let due: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(100);
    let runs: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(200);
    let dir = std::env::temp_dir().join(format!("phananh-bench-sweep-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let now = Utc::now();

    // The schema, by the store's own migrations.
    let store = SqliteStore::open(&dir, StoreOptions::default())?;
    store.close();
    drop(store);

    let t = Instant::now();
    {
        let mut conn = rusqlite::Connection::open(dir.join(DB_FILE))?;
        let tx = conn.transaction()?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO reports (id, version, state, category, ward, lead_unit, reporter,
                   created_at, due_at, clock_running, next_escalation_at, public, doc)
                 VALUES (?1, 1, ?2, 'food_safety', NULL, 'trung_tam_y_te', NULL, ?3, NULL, 0, ?4, 0, ?5)",
            )?;
            for i in 0..total {
                let id = format!("r-{i:08}");
                let created = now - Duration::minutes((total - i) as i64);
                let next = if i < due {
                    Some(now - Duration::minutes(1 + i as i64))
                } else if i % 10 == 0 {
                    Some(now + Duration::minutes(10 + (i % 5000) as i64))
                } else {
                    None
                };
                // Due reports carry a full document (the sweep decodes them); the others a
                // stand-in the sweep must never read.
                let (state, doc) = if i < due {
                    let r: Report = escalating_at(
                        assigned(report(&id, created), "trung_tam_y_te", &[], now),
                        next,
                    );
                    ("assigned", serde_json::to_string(&r)?)
                } else {
                    ("closed", "{}".to_string())
                };
                ins.execute(params![id, state, nanos(created), next.map(nanos), doc])?;
            }
        }
        tx.commit()?;
    }
    println!(
        "filled {total} reports ({due} due) in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let store = SqliteStore::open(&dir, StoreOptions::default())?;
    let mut lat = Vec::with_capacity(runs);
    let mut found = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let got = store.escalations_due(now, 1000).await?;
        lat.push(t.elapsed());
        found = got.len();
    }
    lat.sort();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
    println!(
        "escalations_due: {found} reports returned; p50 {:?}, p99 {:?}, max {:?} over {runs} runs",
        pct(0.5),
        pct(0.99),
        lat[lat.len() - 1]
    );

    let conn = rusqlite::Connection::open(dir.join(DB_FILE))?;
    let plan: Vec<String> = conn
        .prepare(&format!("EXPLAIN QUERY PLAN {ESCALATIONS_SQL}"))?
        .query_map(params![nanos(now), 1000], |r| r.get::<_, String>(3))?
        .collect::<Result<_, _>>()?;
    let mut st = conn.prepare(ESCALATIONS_SQL)?;
    let rows = st
        .query_map(params![nanos(now), 1000], |r| r.get::<_, String>(0))?
        .count();
    println!("query plan: {}", plan.join(" | "));
    println!(
        "items read: {rows} rows returned, {} VM steps, {} full-scan steps, {} sort steps (of {total} stored)",
        st.get_status(StatementStatus::VmStep),
        st.get_status(StatementStatus::FullscanStep),
        st.get_status(StatementStatus::Sort),
    );
    drop(st);
    drop(conn);
    store.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
