//! The statistics endpoint at a million stored reports (issue 13 item 6): `GET /v1/stats`
//! answers from the aggregate rows, not the reports. Not a test.
//!
//! `cargo run --release -p phananh --example bench_stats -- [total] [requests]`
//! (defaults 1,000,000 stored reports, 1,000 requests).
//!
//! The reports are bulk-inserted with plain SQL (two years of them, across every unit, category
//! and ward: nine in ten resolved, the rest open, 2,000 of them overdue), then
//! the aggregates are computed by ONE rebuild through `App::rebuild_stats` (the migration path).
//! Then the HTTP server answers `requests` sequential `GET /v1/stats` as the office (whole
//! period) and prints p50/p99/max, then the same for a year's range and for a unit head.

use chrono::{Duration, Utc};
use phananh_core::app::{App, Ports};
use phananh_core::model::{Actor, Resolution, Role, State};
use phananh_core::ports::{SystemClock, UuidV7Ids};
use phananh_embedded::{Embedded, EmbeddedConfig, DB_FILE};
use phananh_http::auth::{Argon2Passwords, BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::HttpState;
use phananh_testkit::fixtures::{assigned, report, rules};
use rusqlite::params;
use std::sync::Arc;
use std::time::Instant;

fn nanos(t: chrono::DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(i64::MAX)
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let mut args = std::env::args().skip(1);
    let total: usize = args
        .next()
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let requests: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(1_000);
    let dir = std::env::temp_dir().join(format!("phananh-bench-stats-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let now = Utc::now();
    let cfg = &rules().config;
    let units: Vec<String> = cfg.units.iter().map(|u| u.id.clone()).collect();
    let categories: Vec<String> = cfg.categories.iter().map(|c| c.code.clone()).collect();
    let wards: Vec<String> = cfg.wards.iter().map(|w| w.id.clone()).collect();

    // The schema, by the store's own migrations.
    let emb = Embedded::open(EmbeddedConfig::new(
        &dir,
        "http://127.0.0.1",
        b"bench-media-secret-0000".to_vec(),
    ))?;
    emb.store.close();
    drop(emb);

    let t = Instant::now();
    let base = report("base", now);
    {
        let mut conn = rusqlite::Connection::open(dir.join(DB_FILE))?;
        let tx = conn.transaction()?;
        {
            let mut ins = tx.prepare(
                "INSERT INTO reports (id, version, state, category, ward, lead_unit, reporter,
                   created_at, due_at, clock_running, next_escalation_at, public, doc)
                 VALUES (?1, 3, ?2, ?3, ?4, ?5, NULL, ?6, ?7, ?8, NULL, 0, ?9)",
            )?;
            let mut member = tx.prepare(
                "INSERT INTO report_units (unit, report_id, created_at) VALUES (?1, ?2, ?3)",
            )?;
            let span = 2 * 365 * 24 * 60;
            for i in 0..total {
                let id = format!("r-{i:08}");
                let created = now - Duration::minutes(span - (i as i64 * span / total as i64));
                let unit = &units[i % units.len()];
                let mut r = base.clone();
                r.id = phananh_core::model::ReportId(id.clone());
                r.created_at = created;
                r.category = categories[i % categories.len()].clone();
                r.ward = Some(wards[(i / 3) % wards.len()].clone());
                r.version = 3;
                let overdue = i % 500 == 0;
                let open = overdue || i % 10 == 1;
                // Open reports not overdue are due later; closed ones were due after creation.
                let due = if overdue {
                    now - Duration::hours(1 + (i % 48) as i64)
                } else if open {
                    now + Duration::hours(1 + (i % 48) as i64)
                } else {
                    created + Duration::hours(8 + (i % 40) as i64)
                };
                r = assigned(r, unit, &[], due);
                if let Some(a) = r.assignment.as_mut() {
                    a.assigned_at = created + Duration::minutes(20);
                }
                if open {
                    r.state = State::Assigned;
                } else {
                    r.state = State::Published;
                    let minutes = 30 + ((i * 7919) % 6000) as i64;
                    let resolved_at = created + Duration::minutes(20 + minutes);
                    r.resolution = Some(Resolution {
                        summary: "Đã xử lý".into(),
                        evidence: vec![],
                        unit: unit.clone(),
                        resolved_at,
                        on_time: resolved_at <= due,
                    });
                }
                ins.execute(params![
                    id,
                    r.state.as_str(),
                    r.category,
                    r.ward,
                    unit,
                    nanos(created),
                    nanos(due),
                    i64::from(open),
                    serde_json::to_string(&r)?
                ])?;
                member.execute(params![unit, id, nanos(created)])?;
            }
        }
        tx.commit()?;
    }
    println!(
        "filled {total} reports in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let emb = Embedded::open(EmbeddedConfig::new(
        &dir,
        "http://127.0.0.1",
        b"bench-media-secret-0000".to_vec(),
    ))?;
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: emb.store.clone(),
            accounts: emb.store.clone(),
            media: emb.media.clone(),
            notifier: emb.notifier.clone(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(Argon2Passwords),
        },
    )
    .with_aggregates(emb.store.clone(), true);
    let t = Instant::now();
    let n = app.rebuild_stats(&Actor::system()).await?;
    println!(
        "rebuilt the aggregates from {n} reports in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let tokens = TokenService::new("bench-token-secret-bench-token-secret");
    let state = HttpState {
        app: app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, phananh_http::router(state)).await;
    });
    let client = reqwest::Client::new();
    let office = Actor::new("office-1", Role::OfficeAdmin, None);
    let head = Actor::new("head-1", Role::UnitHead, Some(units[0].as_str()));
    let year_ago = (now - Duration::days(365)).to_rfc3339();
    let year_path = format!("/v1/stats?from={}", urlencode(&year_ago));
    for (label, actor, path) in [
        ("office, all months", &office, "/v1/stats".to_string()),
        ("office, last year", &office, year_path),
        ("unit head, all months", &head, "/v1/stats".to_string()),
    ] {
        let (token, _) = tokens.issue(actor).map_err(|e| format!("{e:?}"))?;
        let url = format!("http://{addr}{path}");
        let mut lat = Vec::with_capacity(requests);
        let mut body = serde_json::Value::Null;
        for _ in 0..requests {
            let t = Instant::now();
            let res = client.get(&url).bearer_auth(&token).send().await?;
            let status = res.status();
            let text = res.text().await?;
            lat.push(t.elapsed());
            if !status.is_success() {
                return Err(format!("{label}: {status}: {text}").into());
            }
            body = serde_json::from_str(&text)?;
        }
        lat.sort();
        let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)];
        println!(
            "GET /v1/stats ({label}): total {}, resolved {}, on time {:?}, median {:?} min, p90 {:?} min, overdue listed {}; p50 {:?}, p99 {:?}, max {:?} over {requests} requests",
            body["total"],
            body["resolved"],
            body["on_time_rate"].as_f64(),
            body["median_minutes_to_resolve"].as_i64(),
            body["p90_minutes_to_resolve"].as_i64(),
            body["overdue"].as_array().map_or(0, Vec::len),
            pct(0.5),
            pct(0.99),
            lat[lat.len() - 1]
        );
    }
    server.abort();
    emb.store.close();
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.replace('+', "%2B").replace(':', "%3A")
}
