//! At-least-once delivery on the AWS runtime, through the Lambda handlers on the emulator: the
//! SQS consumer functions (classify, notify, publish) get every message of their queue twice,
//! in a shuffled order, in batches that also hold a poison message, and the escalation timer
//! runs twice. The end state of each report, its timeline and the alerts sent are those of a
//! second world that got each message once, in order. The poison message alone is reported in
//! `batchItemFailures` (the template's `ReportBatchItemFailures`), so SQS redelivers it alone
//! until `maxReceiveCount` moves it to the dead-letter queue (proven on the queues in
//! `tests/tests/aws_adapters.rs`); the rest of its batch is handled and deleted.
//!
//! The seed is printed; `PHANANH_REDELIVERY_SEED=<n>` replays one.

mod support;
use chrono::{Duration, TimeZone, Utc};
use lambda_runtime::{Context, LambdaEvent};
use phananh_core::CityRules;
use phananh_lambda::{consume, escalate, Consumer, Runtime};
use phananh_testkit::fakes::FixedClock;
use phananh_tests::moto::{drain_bodies, provision, receive_as_lambda_event, Provisioned};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use support::{call, request, sample, StreamRelay};

fn ioc() -> Value {
    json!({"sub": "cognito-ioc-head-0001", "cognito:groups": "[ioc_head]", "custom:unit": "ioc"})
}

/// splitmix64 for a reproducible shuffle.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const TITLES: [&str; 4] = [
    "Quán ăn chặt chém du khách",
    "Niêm yết giá không đúng quy định",
    "Bán hàng không rõ nguồn gốc",
    "Cân điêu tại chợ trung tâm",
];

struct World {
    p: Provisioned,
    rt: Runtime,
    clock: Arc<FixedClock>,
    /// None: each message once, in order; Some(rng): twice, shuffled, with a poison message.
    shuffle: Option<u64>,
    /// Report id → its title (ids differ between worlds; titles do not).
    names: BTreeMap<String, String>,
    alerts: Vec<String>,
    handled: usize,
    poison_failed: usize,
    /// The relay's stream event source: the events the changes wrote reach the topic here.
    relay: StreamRelay,
}

impl World {
    async fn new(shuffle: Option<u64>) -> World {
        let p = provision().await.expect("provision");
        let relay = StreamRelay::open(&p).await;
        let mut rt = Runtime::new(
            &p.clients,
            p.settings.clone(),
            CityRules::laichau_default().expect("rules"),
        );
        let start = Utc
            .with_ymd_and_hms(2026, 11, 23, 1, 0, 0)
            .single()
            .expect("a time");
        let clock = Arc::new(FixedClock::new(start));
        rt.app = rt.app.clone().with_clock(clock.clone());
        World {
            p,
            rt,
            clock,
            shuffle,
            names: BTreeMap::new(),
            alerts: Vec::new(),
            handled: 0,
            poison_failed: 0,
            relay,
        }
    }

    async fn submit(&mut self, title: &str) -> String {
        let mut body: Value = serde_json::from_str(
            sample("api-submit-report.json")["body"]
                .as_str()
                .expect("body"),
        )
        .expect("json");
        body["title"] = json!(title);
        let mut ev = request("api-submit-report.json", None, Some(body), None);
        ev["headers"]["idempotency-key"] = json!(format!("redelivery-{}", self.names.len()));
        let (st, r) = call(&self.rt, ev).await;
        assert_eq!(st, StatusCode::CREATED, "{r}");
        let id = r["id"].as_str().expect("id").to_string();
        self.names.insert(id.clone(), title.to_string());
        id
    }

    async fn act(&self, id: &str, body: Value) -> String {
        let path = format!("/v1/staff/reports/{id}/actions");
        let (st, v) = call(
            &self.rt,
            request(
                "api-staff-action-assign.json",
                Some(&path),
                Some(body),
                Some(ioc()),
            ),
        )
        .await;
        format!("{} {st} {}", self.names[id], v["state"])
    }

    /// One round of what the SQS event source mappings do, for every consumer queue.
    async fn deliver(&mut self) {
        for _ in 0..6 {
            // The relay publishes what the last changes wrote (the table's stream).
            self.relay.pump(&self.rt).await;
            let mut moved = 0;
            for consumer in Consumer::ALL {
                let url = self.p.queues[consumer.as_str()].url.clone();
                let mut records = Vec::new();
                for _ in 0..20 {
                    let ev = receive_as_lambda_event(&self.p.clients, &url, 60, 0)
                        .await
                        .expect("receive");
                    if ev.records.is_empty() {
                        break;
                    }
                    // Taken off the queue here; the handler's answer is checked below.
                    phananh_tests::moto::delete_succeeded(&self.p.clients, &url, &ev, &[])
                        .await
                        .expect("delete");
                    records.extend(ev.records);
                }
                if records.is_empty() {
                    continue;
                }
                moved += records.len();
                // In order: as the events happened (their id is report:version:index).
                records.sort_by_key(|r| {
                    let e: Value =
                        serde_json::from_str(r.body.as_deref().unwrap_or("{}")).unwrap_or_default();
                    (
                        e["at"].as_str().unwrap_or("").to_string(),
                        e["id"].as_str().unwrap_or("").to_string(),
                    )
                });
                let mut batch = records.clone();
                if let Some(rng) = self.shuffle.as_mut() {
                    batch.extend(records.iter().cloned());
                    let mut poison = records[0].clone();
                    poison.message_id = Some(format!("poison-{}", next(rng)));
                    poison.body = Some("{\"not\": \"an event\"".into());
                    batch.push(poison);
                    for i in (1..batch.len()).rev() {
                        let j = (next(rng) % (i as u64 + 1)) as usize;
                        batch.swap(i, j);
                    }
                }
                // Lambda hands over at most 10 messages per invocation.
                for chunk in batch.chunks(10) {
                    let mut ev = aws_lambda_events::event::sqs::SqsEvent::default();
                    ev.records = chunk.to_vec();
                    let resp =
                        consume(&self.rt, consumer, LambdaEvent::new(ev, Context::default()))
                            .await
                            .expect("consume");
                    for f in &resp.batch_item_failures {
                        assert!(
                            f.item_identifier.starts_with("poison-"),
                            "{consumer}: only the poison message fails, not {}",
                            f.item_identifier
                        );
                        self.poison_failed += 1;
                    }
                    self.handled += chunk.len();
                }
            }
            if moved == 0 {
                break;
            }
        }
        self.alerts.extend(
            drain_bodies(&self.p.clients, &self.p.alerts_tap_url)
                .await
                .expect("alerts"),
        );
    }

    /// Replaces report ids by their titles, and drops what is derived from ids (hash chain).
    fn normalize(&self, mut text: String) -> String {
        for (id, title) in &self.names {
            text = text.replace(id.as_str(), title);
        }
        // The short code staff read in messages: the id's first or last 8 characters.
        for (id, title) in &self.names {
            for short in [id.get(..8), id.get(id.len().saturating_sub(8)..)]
                .into_iter()
                .flatten()
            {
                text = text.replace(short, &format!("<{title}>"));
            }
        }
        text
    }

    async fn snapshot(
        &self,
        transcript: Vec<String>,
    ) -> (BTreeMap<String, Value>, Vec<String>, Vec<String>) {
        let mut reports = BTreeMap::new();
        for (id, title) in &self.names {
            let r = self
                .rt
                .app
                .load(&phananh_core::model::ReportId(id.clone()))
                .await
                .expect("stored");
            let mut v = serde_json::to_value(&r).expect("json");
            if let Some(tl) = v["timeline"].as_array_mut() {
                for e in tl {
                    if let Some(o) = e.as_object_mut() {
                        o.remove("prev_hash");
                        o.remove("hash");
                        o.remove("mac");
                    }
                }
            }
            let v: Value = serde_json::from_str(&self.normalize(v.to_string())).expect("json");
            reports.insert(title.clone(), v);
        }
        let mut alerts: Vec<String> = self
            .alerts
            .iter()
            .map(|b| {
                let v: Value = serde_json::from_str(b).unwrap_or_default();
                self.normalize(format!(
                    "{} {} {}",
                    v["Subject"], v["Message"], v["MessageAttributes"]["unit"]["Value"]
                ))
            })
            .collect();
        alerts.sort();
        (
            reports,
            alerts,
            transcript.into_iter().map(|l| self.normalize(l)).collect(),
        )
    }
}

/// Submissions, screening, assignment, a rejection, the deadline passed and the timer run.
async fn play(w: &mut World) -> (BTreeMap<String, Value>, Vec<String>, Vec<String>) {
    let mut transcript = Vec::new();
    let mut ids = Vec::new();
    for t in TITLES {
        ids.push(w.submit(t).await);
        w.clock.advance(Duration::minutes(2));
    }
    w.deliver().await;
    let assign = json!({"action": "assign", "lead_unit": "phong_kinh_te", "coordinating_units": ["ubnd_tan_phong"]});
    transcript.push(w.act(&ids[0], assign.clone()).await);
    transcript.push(w.act(&ids[1], assign).await);
    transcript.push(
        w.act(
            &ids[2],
            json!({"action": "reject", "reason": "Không thuộc phạm vi tiếp nhận"}),
        )
        .await,
    );
    w.deliver().await;
    // The deadlines (4 hours) and the waiting timers run out; the timer runs (twice in B).
    for _ in 0..3 {
        w.clock.advance(Duration::days(3));
        let runs = if w.shuffle.is_some() { 2 } else { 1 };
        let mut n = 0;
        for _ in 0..runs {
            n += escalate(
                &w.rt,
                LambdaEvent::new(
                    serde_json::from_value(sample("schedule-escalate.json")).expect("event"),
                    Context::default(),
                ),
            )
            .await
            .expect("escalate");
        }
        transcript.push(format!("escalated {n}"));
        w.deliver().await;
    }
    w.snapshot(transcript).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sqs_consumer_twice_shuffled_with_a_poison_message_ends_as_one_in_order_delivery() {
    let seed = std::env::var("PHANANH_REDELIVERY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| Utc::now().timestamp_nanos_opt().unwrap_or(15) as u64);
    eprintln!("redelivery seed: {seed} (replay with PHANANH_REDELIVERY_SEED={seed})");
    let mut a = World::new(None).await;
    let once = play(&mut a).await;
    let mut b = World::new(Some(seed)).await;
    let twice = play(&mut b).await;

    // Not vacuous: every consumer had messages, alerts went out, the timer escalated.
    assert!(a.handled >= 12, "handled {}", a.handled);
    assert!(!once.1.is_empty(), "alerts were sent");
    assert!(
        once.2
            .iter()
            .any(|l| l.starts_with("escalated ") && l != "escalated 0"),
        "{:?}",
        once.2
    );
    let states: Vec<&str> = once
        .0
        .values()
        .filter_map(|r| r["state"].as_str())
        .collect();
    assert!(
        states.contains(&"rejected") && states.contains(&"assigned"),
        "{states:?}"
    );
    assert_eq!(a.poison_failed, 0);
    assert!(
        b.poison_failed > 0,
        "the poison message was reported as failed"
    );
    assert!(
        b.handled > 2 * a.handled,
        "B got everything twice, and the poison"
    );

    assert_eq!(once.2, twice.2, "seed {seed}: the actions answered alike");
    for (title, r) in &once.0 {
        assert_eq!(Some(r), twice.0.get(title), "seed {seed}: {title} differs");
    }
    assert_eq!(once.1, twice.1, "seed {seed}: the same alerts, each once");
    eprintln!(
        "redelivery on the emulator: {} reports, {} alerts, {} messages once / {} handed over in B ({} poison failures)",
        once.0.len(),
        once.1.len(),
        a.handled,
        b.handled,
        b.poison_failed
    );
}
