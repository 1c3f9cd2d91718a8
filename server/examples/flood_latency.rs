//! Staff endpoint latency during a submission flood (issue 12, rate limits): the embedded
//! stack (SQLite, real HTTP on 127.0.0.1) with a few hundred reports; `GET /v1/staff/reports`
//! is timed alone, then while 16 clients flood `POST /v1/reports` (each with its own device
//! token, all from one address), first with the city's default `[rate_limits]`, then with the
//! limits turned off for comparison. Prints p50/p95/p99 of the staff requests and how many
//! submissions were accepted or refused.
//!
//! Run: `cargo run --release -p phananh --example flood_latency` (or without `--release`).

use phananh_core::app::{App, Ports};
use phananh_core::model::{Actor, Role};
use phananh_core::ports::{SystemClock, UuidV7Ids};
use phananh_core::CityRules;
use phananh_embedded::{Embedded, EmbeddedConfig};
use phananh_http::auth::{Argon2Passwords, BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const STAFF_REQUESTS: usize = 200;
const FLOODERS: usize = 16;
const SEED_REPORTS: usize = 300;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

async fn staff_latencies(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> Result<Vec<Duration>, BoxError> {
    let mut out = Vec::with_capacity(STAFF_REQUESTS);
    for _ in 0..STAFF_REQUESTS {
        let t = Instant::now();
        let res = http
            .get(format!("{base}/v1/staff/reports?limit=50"))
            .bearer_auth(token)
            .send()
            .await?;
        let status = res.status();
        res.bytes().await?;
        if !status.is_success() {
            return Err(format!("staff list: {status}").into());
        }
        out.push(t.elapsed());
    }
    out.sort();
    Ok(out)
}

fn submission(n: usize) -> serde_json::Value {
    json!({
        "category": "environment",
        "title": format!("Rác thải ùn ứ trước chợ số {n}"),
        "description": "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.",
        "location": {"lat": 22.3965, "lon": 103.4585},
    })
}

async fn run(limits_on: bool) -> Result<(), BoxError> {
    let dir = std::env::temp_dir().join(format!("phananh-flood-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let emb = Embedded::open(EmbeddedConfig::new(
        &dir,
        &base,
        b"flood-media-secret-0123456789".to_vec(),
    ))?;
    let mut rules = CityRules::laichau_default()?;
    rules.config.city.rate_limits.enabled = limits_on;
    let app = App::new(
        Arc::new(rules),
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
    .with_guards(emb.store.clone())
    .with_audit_key(b"flood-audit-key-0123456789abcdef0123");
    let citizen = Actor::new("cit-seed", Role::Citizen, None);
    for n in 0..SEED_REPORTS {
        let input = phananh_core::lifecycle::NewReport {
            category: "environment".into(),
            title: format!("Rác thải ùn ứ trước chợ số {n}"),
            description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
            location: Some(phananh_core::model::GeoPoint {
                lat: 22.3965,
                lon: 103.4585,
            }),
            address: None,
            reporter_ward: None,
            attachments: vec![],
            reporter: None,
            camera_id: None,
        };
        app.submit(&citizen, input, &[], None).await?;
    }
    let tokens = TokenService::new("flood-token-secret-0123456789abcdef");
    let state = HttpState {
        app: app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    let svc = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let server = tokio::spawn(async move { axum::serve(listener, svc).await });
    let http = reqwest::Client::new();
    let (staff, _) = tokens
        .issue(&Actor::new("ioc-head", Role::IocHead, None))
        .map_err(|p| p.detail.clone())?;

    let quiet = staff_latencies(&http, &base, &staff).await?;

    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let refused = Arc::new(AtomicUsize::new(0));
    let mut flood = Vec::new();
    for f in 0..FLOODERS {
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        let (accepted, refused) = (accepted.clone(), refused.clone());
        let (device, _) = tokens
            .issue(&Actor::new(format!("dev-flood-{f}"), Role::Citizen, None))
            .map_err(|p| p.detail.clone())?;
        flood.push(tokio::spawn(async move {
            let mut n = 0;
            // Bounded: stops when told, or after 100 000 requests.
            while !stop.load(Ordering::Relaxed) && n < 100_000 {
                n += 1;
                match http
                    .post(format!("{base}/v1/reports"))
                    .bearer_auth(&device)
                    .json(&submission(n))
                    .send()
                    .await
                {
                    Ok(r) if r.status().as_u16() == 429 => refused.fetch_add(1, Ordering::Relaxed),
                    Ok(_) => accepted.fetch_add(1, Ordering::Relaxed),
                    Err(_) => 0,
                };
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let busy = staff_latencies(&http, &base, &staff).await?;
    let flood_secs = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    for f in flood {
        let _ = f.await;
    }
    server.abort();
    emb.store.close();
    let _ = std::fs::remove_dir_all(&dir);

    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "rate limits {}: staff GET /v1/staff/reports?limit=50 over {SEED_REPORTS}+ reports",
        if limits_on { "ON (defaults)" } else { "OFF" }
    );
    println!(
        "  quiet:  p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms",
        ms(percentile(&quiet, 0.5)),
        ms(percentile(&quiet, 0.95)),
        ms(percentile(&quiet, 0.99))
    );
    println!(
        "  flood:  p50 {:.1} ms  p95 {:.1} ms  p99 {:.1} ms   ({FLOODERS} clients, {:.0} submissions/s accepted, {:.0}/s refused 429)",
        ms(percentile(&busy, 0.5)),
        ms(percentile(&busy, 0.95)),
        ms(percentile(&busy, 0.99)),
        accepted.load(Ordering::Relaxed) as f64 / flood_secs,
        refused.load(Ordering::Relaxed) as f64 / flood_secs,
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    run(true).await?;
    run(false).await?;
    Ok(())
}
