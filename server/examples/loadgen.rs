//! An open-loop load generator for `scripts/bench.sh` (not a test): requests are scheduled at a
//! fixed rate whatever the server does, and each latency is measured from the moment its request
//! was due, so a stalled server shows in the percentiles (no coordinated omission).
//!
//! ```text
//! loadgen submit BASE RATE SECONDS        # citizen submissions (device tokens, idempotency keys)
//! loadgen get BASE PATH TOKEN RATE SECONDS [COOKIE]   # GET PATH with a bearer token (or a cookie)
//! ```
//! `PATH` may contain `{id}`, replaced in turn by the ids in `PHANANH_BENCH_IDS` (comma-separated).
//! Prints one line: `sent ok errors achieved_rps p50_ms p90_ms p99_ms max_ms`.

use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// At most this many requests in flight: past it the server is not keeping up, and the run says so.
const MAX_IN_FLIGHT: u64 = 20_000;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn arg<T: std::str::FromStr>(args: &[String], i: usize, what: &str) -> Result<T, BoxError> {
    args.get(i)
        .ok_or_else(|| format!("missing {what}"))?
        .parse::<T>()
        .map_err(|_| format!("bad {what}").into())
}

/// The request the `n`-th tick sends.
type MakeRequest = Arc<dyn Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync>;

/// Device tokens for `devices` phones.
async fn device_tokens(
    http: &reqwest::Client,
    base: &str,
    devices: usize,
) -> Result<Vec<String>, BoxError> {
    let mut out = Vec::with_capacity(devices);
    for _ in 0..devices {
        let v: Value = http
            .post(format!("{base}/v1/auth/device"))
            .json(&json!({}))
            .send()
            .await?
            .json()
            .await?;
        let t = v["access_token"].as_str().ok_or("no device token")?;
        out.push(t.to_string());
    }
    Ok(out)
}

/// A report body as the mobile app sends it, different for each `n`.
fn report(n: u64) -> Value {
    let streets = [
        "Trần Phú",
        "Lê Lợi",
        "Nguyễn Huệ",
        "Hùng Vương",
        "Điện Biên Phủ",
    ];
    let street = streets[(n % streets.len() as u64) as usize];
    json!({
        "category": "environment",
        "title": format!("Rác thải ùn ứ trên đường {street} ({n})"),
        "description": "Rác thải sinh hoạt để nhiều ngày chưa được thu gom, bốc mùi khó chịu, đề nghị xử lý.",
        "location": {"lat": 22.39 + (n % 997) as f64 * 0.00001, "lon": 103.45 + (n % 991) as f64 * 0.00001},
        "address": format!("Đường {street}, phường Tân Phong"),
        "reporter": {"name": "Nguyễn Thị Hoa", "phone": "0987654321"}
    })
}

async fn run(make: MakeRequest, rate: u64, seconds: u64) -> Result<(), BoxError> {
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(512)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()?;
    let total = rate * seconds;
    let lat: Arc<Mutex<Vec<f64>>> = Arc::new(Mutex::new(Vec::with_capacity(total as usize)));
    let errors = Arc::new(AtomicU64::new(0));
    let in_flight = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / rate as f64);
    let mut tasks = tokio::task::JoinSet::new();
    let mut overloaded = false;
    for n in 0..total {
        let due = start + period.mul_f64(n as f64);
        tokio::time::sleep_until(due.into()).await;
        if in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            overloaded = true;
            break;
        }
        in_flight.fetch_add(1, Ordering::Relaxed);
        let req = make(&http, n);
        let (lat, errors, in_flight) = (lat.clone(), errors.clone(), in_flight.clone());
        tasks.spawn(async move {
            let ok = match req.send().await {
                Ok(r) => {
                    let ok = r.status().is_success();
                    let _ = r.bytes().await;
                    ok
                }
                Err(_) => false,
            };
            let ms = due.elapsed().as_secs_f64() * 1000.0;
            in_flight.fetch_sub(1, Ordering::Relaxed);
            if ok {
                if let Ok(mut l) = lat.lock() {
                    l.push(ms);
                }
            } else {
                errors.fetch_add(1, Ordering::Relaxed);
            }
        });
        // Reap finished tasks now and then so the set stays small.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
    let elapsed = start.elapsed().as_secs_f64();
    let mut l = lat.lock().map_err(|_| "poisoned")?.clone();
    l.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| -> f64 {
        if l.is_empty() {
            return f64::NAN;
        }
        l[((l.len() as f64 * p).ceil() as usize).clamp(1, l.len()) - 1]
    };
    let errors = errors.load(Ordering::Relaxed);
    println!(
        "sent {} ok {} errors {} achieved_rps {:.0} p50_ms {:.2} p90_ms {:.2} p99_ms {:.2} max_ms {:.2}{}",
        l.len() as u64 + errors,
        l.len(),
        errors,
        l.len() as f64 / elapsed,
        pct(0.50),
        pct(0.90),
        pct(0.99),
        l.last().copied().unwrap_or(f64::NAN),
        if overloaded { " OVERLOADED" } else { "" }
    );
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map(String::as_str).unwrap_or_default();
    let base: String = arg(&args, 1, "BASE")?;
    match mode {
        "submit" => {
            let rate: u64 = arg(&args, 2, "RATE")?;
            let seconds: u64 = arg(&args, 3, "SECONDS")?;
            let http = reqwest::Client::new();
            let tokens = Arc::new(device_tokens(&http, &base, 64).await?);
            let run_id = std::process::id();
            let make: MakeRequest = Arc::new(move |c, n| {
                c.post(format!("{base}/v1/reports"))
                    .bearer_auth(&tokens[(n % tokens.len() as u64) as usize])
                    .header("Idempotency-Key", format!("bench-{run_id}-{n}"))
                    .json(&report(n))
            });
            run(make, rate, seconds).await
        }
        "get" => {
            let path: String = arg(&args, 2, "PATH")?;
            let token: String = arg(&args, 3, "TOKEN")?;
            let rate: u64 = arg(&args, 4, "RATE")?;
            let seconds: u64 = arg(&args, 5, "SECONDS")?;
            let cookie = args.get(6).cloned();
            let ids: Arc<Vec<String>> = Arc::new(
                std::env::var("PHANANH_BENCH_IDS")
                    .unwrap_or_default()
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect(),
            );
            let make: MakeRequest = Arc::new(move |c, n| {
                let p = match ids.len() {
                    0 => path.clone(),
                    k => path.replace("{id}", &ids[(n % k as u64) as usize]),
                };
                let r = c.get(format!("{base}{p}"));
                match &cookie {
                    Some(ck) => r.header("cookie", ck.as_str()),
                    None => r.bearer_auth(&token),
                }
            });
            run(make, rate, seconds).await
        }
        _ => Err("usage: loadgen submit BASE RATE SECONDS | loadgen get BASE PATH TOKEN RATE SECONDS [COOKIE]".into()),
    }
}
