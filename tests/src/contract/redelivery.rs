//! At-least-once delivery: every consumer (classify, notify, publish) and the escalation sweep
//! may see a message more than once and in any order. Two worlds play the same scenario on
//! fresh stores of the same kind: world A hands each event once, in order, to each consumer and
//! runs each sweep once; world B hands each (consumer, event) pair twice, in an order shuffled
//! by a seed (printed; set `PHANANH_REDELIVERY_SEED` to replay one), and runs each sweep twice.
//! The end state of every report, its timeline and the notifications sent must be identical.
//!
//! The notifier here records every `send` call, so a duplicate call is visible: the same
//! notification id must always carry the same content (the adapters keep one message per id,
//! see the delivery-log contract), and both worlds must send the same set of notifications.

use crate::fixtures::{rules, t0};
use crate::stream_tap::StreamTap;
use async_trait::async_trait;
use chrono::Duration as ChronoDuration;
use phananh_core::aggregates::MemoryAggregates;
use phananh_core::app::{App, Consumer, Ports, Stats};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{
    Actor, Attachment, EventEnvelope, GeoPoint, MediaKind, ReportId, Reporter, State,
};
use phananh_core::ports::{Notification, Notifier, NotifyError, ReportStore};
use phananh_testkit::actors;
use phananh_testkit::fakes::{FastPasswords, FixedClock, MemoryMedia, MemoryStore, SeqIds};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::{Arc, Mutex};

/// Records every send call, duplicates included.
#[derive(Default)]
struct CallLog(Mutex<Vec<Notification>>);

#[async_trait]
impl Notifier for CallLog {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        self.0
            .lock()
            .map_err(|_| NotifyError("lock".into()))?
            .push(n.clone());
        Ok(())
    }
}

/// How a world hands out its messages.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Delivery {
    /// Each event once, in order; each sweep once.
    OnceInOrder,
    /// Each (consumer, event) twice, shuffled by the seed; each sweep twice.
    TwiceShuffled(u64),
    /// The embedded runtime's own outbox relay and queue worker, every consumer subscribed
    /// once (`false`) or twice under two names (`true`, then each sweep runs twice too): the
    /// worker runs a batch's handlers concurrently, so the two copies race.
    EmbeddedQueue { twice: bool },
}

/// The embedded relay and worker of a world on the embedded runtime.
struct Queue {
    relay: phananh_embedded::OutboxRelay,
    worker: phananh_embedded::QueueWorker,
    handed: Arc<Mutex<HashMap<(Consumer, String), usize>>>,
}

struct World {
    app: App,
    store: Arc<dyn ReportStore>,
    clock: Arc<FixedClock>,
    calls: Arc<CallLog>,
    delivery: Delivery,
    rng: u64,
    /// (consumer, event id) → times handed over, to show that B really got everything twice.
    handed: HashMap<(Consumer, String), usize>,
    /// What each step of the scenario answered (state or error), compared between worlds.
    transcript: Vec<String>,
    queue: Option<Queue>,
    /// Where the written events are read on a store without an outbox (DynamoDB).
    stream: Option<StreamTap>,
}

/// A fresh store for a world, and, for a store that delivers its events through a stream
/// (DynamoDB), the tap that reads them as the relay does.
pub struct Fresh {
    pub store: Arc<dyn ReportStore>,
    pub stream: Option<StreamTap>,
}

impl From<Arc<dyn ReportStore>> for Fresh {
    fn from(store: Arc<dyn ReportStore>) -> Fresh {
        Fresh {
            store,
            stream: None,
        }
    }
}

/// What the scenario left behind, comparable between worlds.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    /// Report id → the stored report as JSON (state, timeline, deadlines, escalations...).
    pub reports: BTreeMap<String, serde_json::Value>,
    /// Notification id → the notification (distinct ids; content checked equal per id).
    pub sent: BTreeMap<String, Notification>,
    pub transcript: Vec<String>,
    /// Pairs handed to consumers, per consumer (distinct).
    pub per_consumer: BTreeMap<&'static str, usize>,
    /// The office's statistics (Đ.9.2), counted by the stats consumer alone: a duplicate or
    /// reordered event must not count a report twice or count an older version last.
    pub stats: Stats,
}

/// splitmix64: a small seeded generator, enough for a reproducible shuffle.
fn next(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn shuffle<T>(v: &mut [T], state: &mut u64) {
    for i in (1..v.len()).rev() {
        let j = (next(state) % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
}

impl World {
    fn new(fresh: impl Into<Fresh>, delivery: Delivery) -> World {
        let Fresh { store, stream } = fresh.into();
        let clock = Arc::new(FixedClock::new(t0()));
        let calls = Arc::new(CallLog::default());
        let app = App::new(
            Arc::new(rules().clone()),
            Ports {
                store: store.clone(),
                accounts: Arc::new(MemoryStore::default()),
                media: Arc::new(MemoryMedia::default()),
                notifier: calls.clone(),
                clock: clock.clone(),
                ids: Arc::new(SeqIds::default()),
                passwords: Arc::new(FastPasswords::default()),
            },
        )
        // Only the consumer counts (no count at the change itself), so its deliveries show.
        .with_aggregates(Arc::new(MemoryAggregates::default()), false);
        let rng = match delivery {
            Delivery::TwiceShuffled(seed) => seed,
            _ => 0,
        };
        World {
            app,
            store,
            clock,
            calls,
            delivery,
            rng,
            handed: HashMap::new(),
            transcript: Vec::new(),
            queue: None,
            stream,
        }
    }

    /// A world on the embedded runtime: its SQLite store, and its relay and worker with every
    /// consumer subscribed once, or twice (`twice`).
    fn embedded(emb: &phananh_embedded::Embedded, twice: bool) -> World {
        let store: Arc<dyn ReportStore> = emb.store.clone();
        let mut w = World::new(store, Delivery::EmbeddedQueue { twice });
        let handed: Arc<Mutex<HashMap<(Consumer, String), usize>>> = Arc::default();
        for c in Consumer::ALL {
            let names = if twice {
                vec![c.as_str().to_string(), format!("{c}-again")]
            } else {
                vec![c.as_str().to_string()]
            };
            for name in names {
                let app = w.app.clone();
                let handed = handed.clone();
                emb.consumers.register(
                    &name,
                    &c.kind_names(),
                    phananh_embedded::handler(move |e: EventEnvelope| {
                        let app = app.clone();
                        let handed = handed.clone();
                        async move {
                            if let Ok(mut h) = handed.lock() {
                                *h.entry((c, e.id.clone())).or_default() += 1;
                            }
                            app.handle_event(c, &e).await.map_err(|err| err.to_string())
                        }
                    }),
                );
            }
        }
        w.queue = Some(Queue {
            relay: emb.relay(),
            worker: emb.worker(),
            handed,
        });
        w
    }

    /// The embedded relay and worker until nothing is left; a handler failure fails the test.
    async fn deliver_through_queue(&mut self) {
        let Some(q) = &self.queue else { return };
        for _ in 0..50 {
            let moved = q.relay.run_once().await.expect("relay");
            let stats = q.worker.run_once(chrono::Utc::now()).await.expect("worker");
            assert_eq!(
                (stats.retried, stats.dead),
                (0, 0),
                "{:?}: every delivery succeeds",
                self.delivery
            );
            if moved == 0 && stats.delivered == 0 {
                self.handed = q.handed.lock().expect("handed").clone();
                return;
            }
        }
        panic!("the embedded queue did not drain in 50 passes");
    }

    /// Moves every pending outbox event to the consumers, round after round, until the
    /// consumers' own events (screening, escalations) are delivered too.
    async fn deliver(&mut self) {
        if self.queue.is_some() {
            return self.deliver_through_queue().await;
        }
        for _round in 0..10 {
            let mut pending = match &mut self.stream {
                // DynamoDB: the events the changes wrote, as the relay reads them.
                Some(tap) => tap.next_events().await.expect("stream"),
                None => {
                    let pending = self
                        .store
                        .pending_events(1000)
                        .await
                        .expect("pending events");
                    let ids: Vec<String> = pending.iter().map(|e| e.id.clone()).collect();
                    self.store
                        .mark_published(&ids)
                        .await
                        .expect("mark published");
                    pending
                }
            };
            if pending.is_empty() {
                return;
            }
            // "In order": as they happened, by report and version.
            pending.sort_by(|a, b| {
                (a.at, a.report_id.as_str(), a.version, &a.id).cmp(&(
                    b.at,
                    b.report_id.as_str(),
                    b.version,
                    &b.id,
                ))
            });
            let mut pairs: Vec<(Consumer, EventEnvelope)> = Vec::new();
            for e in &pending {
                for c in Consumer::ALL {
                    if c.kinds().contains(&e.event.event_kind()) {
                        pairs.push((c, e.clone()));
                    }
                }
            }
            if let Delivery::TwiceShuffled(_) = self.delivery {
                let copy = pairs.clone();
                pairs.extend(copy);
                shuffle(&mut pairs, &mut self.rng);
            }
            for (c, e) in pairs {
                *self.handed.entry((c, e.id.clone())).or_default() += 1;
                self.app
                    .handle_event(c, &e)
                    .await
                    .unwrap_or_else(|err| panic!("{c} on {}: {err}", e.id));
            }
        }
        panic!("events still pending after 10 delivery rounds");
    }

    /// The escalation sweep (the timer on both runtimes): once, or twice in world B.
    async fn sweep(&mut self) {
        let times = match self.delivery {
            Delivery::OnceInOrder | Delivery::EmbeddedQueue { twice: false } => 1,
            Delivery::TwiceShuffled(_) | Delivery::EmbeddedQueue { twice: true } => 2,
        };
        let mut total = 0;
        for _ in 0..times {
            total += self.app.run_escalations(500).await.expect("sweep");
        }
        self.transcript.push(format!("sweep escalated {total}"));
    }

    async fn submit(&mut self, category: &str, title: &str, lat: f64) -> ReportId {
        let input = NewReport {
            category: category.into(),
            title: title.into(),
            description: format!("{title}: đã kéo dài nhiều ngày, đề nghị xử lý."),
            location: Some(GeoPoint { lat, lon: 103.47 }),
            address: None,
            reporter_ward: None,
            attachments: vec![],
            reporter: Some(Reporter {
                citizen_id: "citizen-1".into(),
                name: Some("Nguyễn Văn Bình".into()),
                phone: Some("0912345678".into()),
                email: None,
            }),
            camera_id: None,
        };
        let (r, _) = self
            .app
            .submit(&actors::citizen(), input, &[], None)
            .await
            .expect("submitted");
        self.transcript
            .push(format!("submit {} {}", r.id, r.state.as_str()));
        r.id
    }

    async fn act(&mut self, id: &ReportId, who: &Actor, cmd: Command) {
        let what = format!("{cmd:?}");
        let line = match self.app.act(id, who, cmd).await {
            Ok(r) => format!("{id} {what} → {}", r.state.as_str()),
            Err(e) => format!("{id} {what} → error {e:?}"),
        };
        self.transcript.push(line);
    }

    async fn snapshot(&self, ids: &[ReportId]) -> Snapshot {
        let mut reports = BTreeMap::new();
        for id in ids {
            let r = self.app.load(id).await.expect("stored");
            reports.insert(id.to_string(), serde_json::to_value(&r).expect("json"));
        }
        let mut sent: BTreeMap<String, Notification> = BTreeMap::new();
        for n in self.calls.0.lock().expect("calls").iter() {
            if let Some(first) = sent.get(&n.id) {
                assert_eq!(
                    first, n,
                    "{:?}: one notification id, two contents: a second delivery would send another message",
                    self.delivery
                );
            } else {
                sent.insert(n.id.clone(), n.clone());
            }
        }
        let mut per_consumer = BTreeMap::new();
        for (c, _) in self.handed.keys() {
            *per_consumer.entry(c.as_str()).or_default() += 1;
        }
        let stats = self
            .app
            .stats(&actors::office(), None, None, 1_000)
            .await
            .expect("statistics");
        // The figures counted from the events (each carrying its report's share) are those
        // of the reports as stored: a rebuild from the reports gives the same.
        let rebuilt = self
            .app
            .clone()
            .with_aggregates(Arc::new(MemoryAggregates::default()), false);
        rebuilt
            .rebuild_stats(&phananh_core::model::Actor::system())
            .await
            .expect("rebuild");
        let truth = rebuilt
            .stats(&actors::office(), None, None, 1_000)
            .await
            .expect("statistics rebuilt");
        assert_eq!(
            stats, truth,
            "{:?}: the statistics from the events differ from those of the stored reports",
            self.delivery
        );
        Snapshot {
            reports,
            sent,
            transcript: self.transcript.clone(),
            per_consumer,
            stats,
        }
    }
}

fn evidence() -> Attachment {
    Attachment {
        id: "ev-1".into(),
        kind: MediaKind::Photo,
        content_type: "image/jpeg".into(),
        size: 1000,
        key: "media/x/ev-1".into(),
        public_key: None,
        public: false,
        thumb_key: None,
        location_hint: None,
    }
}

/// The scenario both worlds play: submissions (two at one spot, so screening sees a possible
/// duplicate), assignment, a referral with a directive, a rejection, a result published, a
/// deferral, an urge, a return, and the sweep after the deadlines and waiting timers ran out.
async fn play(w: &mut World) -> Snapshot {
    let lead = "phong_tnmt";
    let ioc = actors::ioc_head();
    let staff = actors::unit_staff(lead);
    let mut ids = Vec::new();
    for (cat, title, lat) in [
        ("environment", "Rác thải ùn ứ trước chợ", 22.41),
        ("environment", "Rác thải ùn ứ trước cổng chợ", 22.41),
        ("urban_order", "Lấn chiếm vỉa hè", 22.40),
        ("market_prices", "Niêm yết giá không đúng", 22.39),
        ("environment", "Khói bụi từ lò gạch", 22.38),
        ("construction_order", "Xây dựng không phép", 22.37),
    ] {
        ids.push(w.submit(cat, title, lat).await);
        w.clock.advance(ChronoDuration::minutes(3));
    }
    w.deliver().await;

    let assign = |unit: &str| Command::Assign {
        lead_unit: unit.into(),
        coordinating_units: vec![],
        note: None,
    };
    w.act(&ids[0], &ioc, assign(lead)).await;
    w.act(
        &ids[1],
        &ioc,
        Command::Refer {
            note: "Việc phức tạp, xin ý kiến chỉ đạo".into(),
        },
    )
    .await;
    w.act(
        &ids[2],
        &ioc,
        Command::Reject {
            reason: "Không thuộc phạm vi tiếp nhận".into(),
        },
    )
    .await;
    w.act(&ids[3], &ioc, assign(lead)).await;
    w.act(&ids[4], &ioc, assign(lead)).await;
    w.deliver().await;
    w.clock.advance(ChronoDuration::minutes(30));

    w.act(
        &ids[1],
        &actors::leader(),
        Command::Directive {
            text: "Giao Phòng TN&MT chủ trì xử lý ngay".into(),
            corrects: None,
        },
    )
    .await;
    w.act(&ids[0], &staff, Command::Accept { note: None }).await;
    w.act(
        &ids[0],
        &staff,
        Command::Resolve {
            summary: "Đã thu gom toàn bộ rác thải".into(),
            evidence: vec![evidence()],
        },
    )
    .await;
    w.act(
        &ids[0],
        &ioc,
        Command::Publish {
            public_answer: "Rác đã được thu gom.".into(),
            public_attachments: vec![],
        },
    )
    .await;
    w.act(&ids[3], &staff, Command::Accept { note: None }).await;
    w.act(
        &ids[3],
        &staff,
        Command::Defer {
            reason: "Chờ kinh phí".into(),
            expected_date: (t0() + ChronoDuration::days(20)).date_naive(),
        },
    )
    .await;
    w.act(
        &ids[4],
        &actors::office(),
        Command::Urge {
            note: "Đề nghị xử lý sớm".into(),
        },
    )
    .await;
    w.act(
        &ids[4],
        &staff,
        Command::Return {
            reason: "Không đúng thẩm quyền".into(),
            suggested_category: None,
        },
    )
    .await;
    w.deliver().await;

    // Deadlines and waiting timers run out: the sweep sends each threshold once.
    for _ in 0..4 {
        w.clock.advance(ChronoDuration::days(8));
        w.sweep().await;
        w.deliver().await;
    }
    w.snapshot(&ids).await
}

/// The seed of world B: `PHANANH_REDELIVERY_SEED`, or one from the clock (printed).
pub fn redelivery_seed() -> u64 {
    std::env::var("PHANANH_REDELIVERY_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(15)
        })
}

/// Plays the scenario once-in-order on one fresh store and twice-shuffled on another (from
/// `fresh`), and checks that they end identical. Returns world B's snapshot for counting.
pub async fn every_consumer_twice_and_shuffled_ends_as_one_in_order_delivery<F, Fut>(
    fresh: F,
    seed: u64,
) -> Snapshot
where
    F: Fn() -> Fut,
    Fut: Future,
    Fut::Output: Into<Fresh>,
{
    eprintln!("redelivery seed: {seed} (replay with PHANANH_REDELIVERY_SEED={seed})");
    let mut a = World::new(fresh().await, Delivery::OnceInOrder);
    let once = play(&mut a).await;
    let mut b = World::new(fresh().await, Delivery::TwiceShuffled(seed));
    let twice = play(&mut b).await;

    // World B really got every pair twice.
    assert!(
        b.handed.values().all(|&n| n == 2),
        "every pair handed over twice"
    );
    assert!(
        a.handed.values().all(|&n| n == 1),
        "every pair handed over once"
    );
    // The scenario is not vacuous: every consumer had work, the sweep escalated, a result
    // was published and the reporter told.
    for c in Consumer::ALL {
        assert!(
            once.per_consumer.get(c.as_str()).copied().unwrap_or(0) > 0,
            "{c} received nothing: {:?}",
            once.per_consumer
        );
    }
    assert!(
        once.transcript
            .iter()
            .any(|l| l.starts_with("sweep escalated") && !l.ends_with(" 0")),
        "the sweep escalated something: {:#?}",
        once.transcript
    );
    let published = once
        .reports
        .values()
        .filter(|r| r["state"] == State::Published.as_str());
    assert_eq!(
        published.count(),
        1,
        "one result published: {:#?}",
        once.transcript
    );
    let to_reporter = once
        .sent
        .values()
        .filter(|n| n.to.ends_with("912345678"))
        .count();
    assert!(
        to_reporter >= 8,
        "the reporter was told of receipt, assignment, rejection and the result: {to_reporter}"
    );

    assert_eq!(
        once.transcript, twice.transcript,
        "seed {seed}: the scenario answered alike"
    );
    for (id, r) in &once.reports {
        assert_eq!(
            Some(r),
            twice.reports.get(id),
            "seed {seed}: report {id} (state, timeline) differs after a twice-shuffled delivery"
        );
    }
    assert_eq!(once.reports.len(), twice.reports.len());
    let ids_a: Vec<&String> = once.sent.keys().collect();
    let ids_b: Vec<&String> = twice.sent.keys().collect();
    assert_eq!(ids_a, ids_b, "seed {seed}: the same notifications sent");
    assert_eq!(once.sent, twice.sent, "seed {seed}: with the same content");
    assert_eq!(once.per_consumer, twice.per_consumer);
    // The figures the stats consumer kept: every report counted once, the result resolved.
    assert_eq!(
        once.stats.total,
        once.reports.len(),
        "every report counted: {:?}",
        once.stats
    );
    assert!(once.stats.resolved >= 1, "{:?}", once.stats);
    assert_eq!(
        once.stats, twice.stats,
        "seed {seed}: the statistics counted each report once, at its last version"
    );
    eprintln!(
        "redelivery: {} reports, {} notifications, {} deliveries per world (B: each twice), consumers {:?}",
        once.reports.len(),
        once.sent.len(),
        once.per_consumer.values().sum::<usize>(),
        once.per_consumer
    );
    twice
}

/// The same scenario on the embedded runtime's real outbox relay and queue worker: world A
/// subscribes each consumer once, world B twice (two queue names, one handler), so every event
/// reaches every consumer twice, the copies running concurrently in the worker's batches.
pub async fn every_consumer_twice_through_the_embedded_queue_ends_as_one_delivery(
    a: &phananh_embedded::Embedded,
    b: &phananh_embedded::Embedded,
) {
    let mut wa = World::embedded(a, false);
    let once = play(&mut wa).await;
    let mut wb = World::embedded(b, true);
    let twice = play(&mut wb).await;
    assert!(wa.handed.values().all(|&n| n == 1), "A: each once");
    assert!(
        !wb.handed.is_empty() && wb.handed.values().all(|&n| n == 2),
        "B: each twice"
    );
    for c in Consumer::ALL {
        assert!(
            once.per_consumer.get(c.as_str()).copied().unwrap_or(0) > 0,
            "{c} had work"
        );
    }
    assert_eq!(
        once.transcript, twice.transcript,
        "the scenario answered alike"
    );
    assert_eq!(once.reports, twice.reports, "reports and timelines alike");
    assert_eq!(
        once.sent, twice.sent,
        "the same notifications, each with one content"
    );
    eprintln!(
        "redelivery through the embedded queue: {} reports, {} notifications, {} deliveries once, {} in B",
        once.reports.len(),
        once.sent.len(),
        wa.handed.values().sum::<usize>(),
        wb.handed.values().sum::<usize>()
    );
}
