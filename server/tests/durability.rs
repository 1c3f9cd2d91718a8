//! Durability of the embedded runtime (docs/RELIABILITY.md, promise 1): `phananh serve` is
//! killed with SIGKILL at random moments while phones submit reports with idempotency keys and
//! retry, as a phone does, until they get an answer. After the last restart:
//! - every submission that was answered 2xx is stored, exactly once, with the id it was given;
//! - no submission is stored twice (a retry after a lost answer replays the first report);
//! - every stored report reaches screening (the durable queue survives the kills).
//!
//! Short in CI (`PHANANH_DURABILITY_REPORTS`, default 3,000, and 20 kills); the long run is
//! `PHANANH_DURABILITY_REPORTS=10000 PHANANH_DURABILITY_KILLS=40 cargo test -p phananh --test durability -- --nocapture`.

mod common;

use common::{config_without_rate_limits, report_body, start_with, Server, TempData};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// Concurrent phones.
const PHONES: usize = 48;
/// How long the whole run may take, kills included.
const RUN_LIMIT: Duration = Duration::from_secs(600);

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A small xorshift generator: the kill moments, reproducible from the printed seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo)
    }
}

/// What the phones saw: for each key, the report id of the first 2xx answer.
#[derive(Default)]
struct Answers {
    ids: HashMap<usize, String>,
    attempts: usize,
    failed_attempts: usize,
}

/// One phone: submits the next report number until all are answered, retrying the same key
/// after any failure (refused connection, reset, 5xx) with a short pause.
async fn phone(
    base: Arc<RwLock<String>>,
    next: Arc<AtomicUsize>,
    total: usize,
    answers: Arc<Mutex<Answers>>,
    deadline: Instant,
) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a client");
    let mut token: Option<String> = None;
    loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        if i >= total {
            return;
        }
        let body = {
            let mut b = report_body(
                "environment",
                &format!("Kiểm tra bền vững số {i}"),
                "Rác thải ùn ứ trước cổng chợ, đề nghị thu gom.",
            );
            b["location"] = json!({"lat": 22.39 + (i % 100) as f64 * 0.0001, "lon": 103.45 + (i / 100 % 100) as f64 * 0.0001});
            b
        };
        loop {
            assert!(Instant::now() < deadline, "run over {RUN_LIMIT:?}");
            let url = base.read().expect("base").clone();
            let tok = match &token {
                Some(t) => t.clone(),
                None => match http
                    .post(format!("{url}/v1/auth/device"))
                    .json(&json!({}))
                    .send()
                    .await
                {
                    Ok(r) if r.status().is_success() => {
                        let v: Value = r.json().await.unwrap_or(Value::Null);
                        match v["access_token"].as_str() {
                            Some(t) => {
                                token = Some(t.to_string());
                                t.to_string()
                            }
                            None => continue,
                        }
                    }
                    _ => {
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let sent = http
                .post(format!("{url}/v1/reports"))
                .bearer_auth(&tok)
                .header("Idempotency-Key", format!("durability-{i}"))
                .json(&body)
                .send()
                .await;
            let answer = match sent {
                Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
                Ok(r) => {
                    let st = r.status();
                    assert!(
                        st.is_server_error() || st == StatusCode::TOO_MANY_REQUESTS,
                        "submission {i}: {st} {}",
                        r.text().await.unwrap_or_default()
                    );
                    None
                }
                Err(_) => None,
            };
            let id = answer.as_ref().and_then(|v| v["id"].as_str());
            {
                let mut a = answers.lock().expect("answers");
                a.attempts += 1;
                match id {
                    Some(id) => {
                        a.ids.insert(i, id.to_string());
                    }
                    None => a.failed_attempts += 1,
                }
            }
            if id.is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Every report the IOC head can list: (title, id, state).
async fn all_reports(server: &Server) -> Vec<(String, String, String)> {
    let api = server.api();
    let ioc = api.login(server, "ioc.head").await;
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let path = match &cursor {
            Some(c) => format!("/v1/staff/reports?limit=200&cursor={c}"),
            None => "/v1/staff/reports?limit=200".to_string(),
        };
        let (st, v) = api.get(&path, Some(&ioc)).await;
        assert_eq!(st, StatusCode::OK, "{v}");
        for r in v["items"].as_array().cloned().unwrap_or_default() {
            out.push((
                r["title"].as_str().unwrap_or_default().to_string(),
                r["id"].as_str().unwrap_or_default().to_string(),
                r["state"].as_str().unwrap_or_default().to_string(),
            ));
        }
        match v["next_cursor"].as_str() {
            Some(c) if !c.is_empty() => cursor = Some(c.to_string()),
            _ => return out,
        }
    }
    panic!("listing did not end");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn submissions_answered_survive_sigkill_exactly_once_and_all_reach_screening() {
    let total = env_usize("PHANANH_DURABILITY_REPORTS", 3_000);
    let kills = env_usize("PHANANH_DURABILITY_KILLS", 20);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64 | 1)
        .unwrap_or(0x9E37_79B9_7F4A_7C15);
    println!("durability: {total} submissions, {kills} kills, seed {seed}");
    let started = Instant::now();
    let deadline = started + RUN_LIMIT;
    let data = TempData::new("durability");
    // Durability, not the rate limits: 48 phones on 127.0.0.1 would be refused by them.
    let config_dir = TempData::new("durability-config");
    let config = config_without_rate_limits(&config_dir.0);
    let mut server = start_with(&data.0, Some(&config));
    let base = Arc::new(RwLock::new(server.base.clone()));
    let next = Arc::new(AtomicUsize::new(0));
    let answers = Arc::new(Mutex::new(Answers::default()));
    let phones: Vec<_> = (0..PHONES)
        .map(|_| {
            tokio::spawn(phone(
                base.clone(),
                next.clone(),
                total,
                answers.clone(),
                deadline,
            ))
        })
        .collect();

    // The killer: SIGKILL at random moments spread over the load (the k-th kill once a random
    // count of answers past k/(kills+1) of the total is reached), restart on the same data.
    let mut rng = Rng(seed);
    let mut done_kills = 0;
    let mut answered_at_kill = Vec::new();
    let step = total / (kills + 1);
    let mut next_kill = step / 2 + rng.between(0, step.max(4) as u64 / 2) as usize;
    while done_kills < kills && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let answered = answers.lock().expect("answers").ids.len();
        if answered >= total {
            break;
        }
        if answered < next_kill {
            continue;
        }
        server.kill9();
        answered_at_kill.push(answered);
        done_kills += 1;
        next_kill = answered + step / 2 + rng.between(0, step.max(4) as u64 / 2) as usize;
        server = start_with(&data.0, Some(&config));
        *base.write().expect("base") = server.base.clone();
    }
    for p in phones {
        p.await.expect("a phone");
    }
    let load_time = started.elapsed();

    // One more kill after the last answer, then the final state.
    server.kill9();
    let server = start_with(&data.0, Some(&config));
    let answers = std::mem::take(&mut *answers.lock().expect("answers"));
    println!(
        "durability: {} kills at {:?} answered; {} attempts, {} failed and retried; load {:.1}s",
        done_kills,
        answered_at_kill,
        answers.attempts,
        answers.failed_attempts,
        load_time.as_secs_f64()
    );
    assert!(
        done_kills >= kills.min(20),
        "only {done_kills} kills happened during the load: make the load longer"
    );
    assert_eq!(answers.ids.len(), total, "every submission was answered");

    // Exactly once: each title (one per key) once, under the id its phone was given.
    let stored = all_reports(&server).await;
    let mut by_title: HashMap<&str, Vec<&str>> = HashMap::new();
    for (title, id, _) in &stored {
        by_title
            .entry(title.as_str())
            .or_default()
            .push(id.as_str());
    }
    let titles: Vec<String> = (0..total)
        .map(|i| format!("Kiểm tra bền vững số {i}"))
        .collect();
    let mut twice = 0;
    for (i, t) in titles.iter().enumerate() {
        let ids = by_title.get(t.as_str()).cloned().unwrap_or_default();
        assert!(!ids.is_empty(), "answered submission {i} lost");
        if ids.len() > 1 {
            twice += 1;
        }
        assert_eq!(ids, vec![answers.ids[&i].as_str()], "submission {i}");
    }
    let known: HashSet<&str> = titles.iter().map(String::as_str).collect();
    let strangers = stored
        .iter()
        .filter(|(t, _, _)| !known.contains(t.as_str()))
        .count();
    assert_eq!(
        stored.len(),
        total,
        "{twice} stored twice, {strangers} unknown"
    );

    // Every one reaches screening after the restarts (bounded wait).
    let checked = Instant::now();
    println!(
        "durability: checked exactly-once in {:.1}s",
        (checked - started - load_time).as_secs_f64()
    );
    let until = Instant::now() + Duration::from_secs(120);
    let unscreened = loop {
        let waiting = all_reports(&server)
            .await
            .into_iter()
            .filter(|(_, _, s)| s == "submitted")
            .count();
        if waiting == 0 || Instant::now() > until {
            break waiting;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    println!(
        "durability: {} stored exactly once, {} lost, {} twice, {} not screened (screening waited {:.1}s); {:.1}s in all",
        stored.len(),
        0,
        twice,
        unscreened,
        checked.elapsed().as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    assert_eq!(unscreened, 0, "reports stuck before screening");
}
