//! Durable in-process queues fed by the transactional outbox.
//!
//! The [`OutboxRelay`] moves each stored event into one `deliveries` row per subscribed
//! consumer and marks it published, in one transaction. [`QueueWorker`]s run due deliveries,
//! delete them on success, retry with exponential backoff, and move them to `dead_letters`
//! after the configured attempts. Delivery is at least once: handlers must be idempotent
//! (the event id is stable, so a handler can detect a redelivery).

use crate::db::{backend, SqliteStore};
use crate::reports::{from_nanos, nanos};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use phananh_core::model::EventEnvelope;
use phananh_core::ports::{BusError, EventBus, StoreError};
use rusqlite::{params, Connection};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a handler returns: `Err(reason)` asks for a retry.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;
/// A consumer's handler. Must be idempotent (at-least-once delivery).
pub type Handler = Arc<dyn Fn(EventEnvelope) -> BoxFuture<Result<(), String>> + Send + Sync>;

/// Wraps an async closure as a [`Handler`].
pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(EventEnvelope) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    Arc::new(move |e| Box::pin(f(e)))
}

/// A named subscriber with the event kinds it wants.
#[derive(Clone)]
pub struct Consumer {
    pub name: String,
    /// `DomainEvent::kind()` names; empty = every event.
    pub kinds: Vec<String>,
    pub handler: Handler,
}

impl Consumer {
    pub fn wants(&self, e: &EventEnvelope) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == e.kind())
    }
}

/// The consumers known to the relay, the bus and the workers. Consumers may register after
/// the relay exists (wiring order is free); events are fanned out to those registered when
/// the relay moves them.
#[derive(Default)]
pub struct ConsumerRegistry {
    consumers: RwLock<Vec<Consumer>>,
}

impl ConsumerRegistry {
    pub fn new() -> Arc<ConsumerRegistry> {
        Arc::new(ConsumerRegistry::default())
    }

    /// Registers (or replaces, by name) a consumer of the given event kinds (empty = all).
    pub fn register(&self, name: &str, kinds: &[&str], handler: Handler) {
        let c = Consumer {
            name: name.to_string(),
            kinds: kinds.iter().map(|k| k.to_string()).collect(),
            handler,
        };
        if let Ok(mut v) = self.consumers.write() {
            v.retain(|x| x.name != c.name);
            v.push(c);
        }
    }

    pub fn get(&self, name: &str) -> Option<Consumer> {
        self.consumers
            .read()
            .ok()
            .and_then(|v| v.iter().find(|c| c.name == name).cloned())
    }

    pub fn names(&self) -> Vec<String> {
        self.consumers
            .read()
            .map(|v| v.iter().map(|c| c.name.clone()).collect())
            .unwrap_or_default()
    }

    /// (consumer name) for every consumer that wants `e`.
    fn subscribers(&self, e: &EventEnvelope) -> Vec<String> {
        self.consumers
            .read()
            .map(|v| {
                v.iter()
                    .filter(|c| c.wants(e))
                    .map(|c| c.name.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Inserts one delivery per subscriber (an existing (consumer, event) pair is kept as is).
fn enqueue(
    conn: &Connection,
    consumers: &ConsumerRegistry,
    e: &EventEnvelope,
    json: &str,
    now: i64,
) -> Result<usize, StoreError> {
    let mut st = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO deliveries (consumer, event_id, report_id, json, attempts, next_attempt_at)
             VALUES (?1, ?2, ?3, ?4, 0, ?5)",
        )
        .map_err(backend)?;
    let mut n = 0;
    for name in consumers.subscribers(e) {
        n += st
            .execute(params![name, e.id, e.report_id.as_str(), json, now])
            .map_err(backend)?;
    }
    Ok(n)
}

/// Moves outbox events into the consumers' queues.
#[derive(Clone)]
pub struct OutboxRelay {
    store: Arc<SqliteStore>,
    consumers: Arc<ConsumerRegistry>,
    batch: usize,
}

impl OutboxRelay {
    pub fn new(store: Arc<SqliteStore>, consumers: Arc<ConsumerRegistry>) -> OutboxRelay {
        OutboxRelay {
            store,
            consumers,
            batch: 256,
        }
    }

    /// Moves at most one batch of pending events; returns how many events were moved.
    pub async fn run_once(&self) -> Result<usize, StoreError> {
        let consumers = self.consumers.clone();
        let limit = self.batch as i64;
        let now = nanos(Utc::now());
        let pending: bool = self
            .store
            .read(|conn| {
                conn.query_row(
                    "SELECT EXISTS (SELECT 1 FROM outbox WHERE published_at IS NULL)",
                    [],
                    |r| r.get(0),
                )
                .map_err(backend)
            })
            .await?;
        if !pending {
            return Ok(0);
        }
        let (events, deliveries) = self
            .store
            .write(move |conn| {
                let rows: Vec<(i64, String)> = {
                    let mut st = conn
                        .prepare_cached(
                            "SELECT seq, json FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
                        )
                        .map_err(backend)?;
                    let rows = st
                        .query_map([limit], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(backend)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(backend)?;
                    rows
                };
                let mut deliveries = 0;
                let mut mark = conn
                    .prepare_cached("UPDATE outbox SET published_at = ?1 WHERE seq = ?2")
                    .map_err(backend)?;
                for (seq, json) in &rows {
                    match serde_json::from_str::<EventEnvelope>(json) {
                        Ok(e) => deliveries += enqueue(conn, &consumers, &e, json, now)?,
                        Err(err) => {
                            tracing::error!(seq, error = %err, "unreadable outbox event skipped")
                        }
                    }
                    mark.execute(params![now, seq]).map_err(backend)?;
                }
                Ok((rows.len(), deliveries))
            })
            .await?;
        if deliveries > 0 {
            self.store.deliveries_ready.notify_one();
        }
        Ok(events)
    }

    /// Runs the relay in the background: after every commit of the store, and at least every
    /// `interval`, until the handle is stopped.
    pub fn spawn(self, interval: Duration) -> PumpHandle {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                // Bounded: a full batch is followed by another pass at once, at most 64 in a row.
                for _ in 0..64 {
                    match self.run_once().await {
                        Ok(n) if n >= self.batch => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "outbox relay failed");
                            break;
                        }
                    }
                }
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    _ = self.store.committed.notified() => {}
                    _ = tokio::time::sleep(interval) => {}
                }
            }
        });
        PumpHandle {
            stop: stop_tx,
            task,
        }
    }
}

/// Retry schedule of a queue worker.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubles after each further failure.
    pub base: Duration,
    /// Longest delay between attempts.
    pub cap: Duration,
    /// Attempts before a delivery moves to the dead letters.
    pub max_attempts: u32,
    /// A handler running longer than this counts as failed.
    pub handler_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(2),
            cap: Duration::from_secs(600),
            max_attempts: 5,
            handler_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// Delay before the next attempt after `attempts` failed ones (attempts ≥ 1).
    pub fn backoff(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(30));
        self.base.saturating_mul(factor).min(self.cap)
    }
}

/// What one worker pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WorkerStats {
    pub delivered: usize,
    pub retried: usize,
    pub dead: usize,
}

/// A delivery waiting in the queue or given up on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub consumer: String,
    pub event: EventEnvelope,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

struct Claimed {
    id: i64,
    consumer: String,
    event: EventEnvelope,
    json: String,
    attempts: u32,
}

enum Outcome {
    Done,
    Failed(String),
}

/// Runs due deliveries through their consumers' handlers.
#[derive(Clone)]
pub struct QueueWorker {
    store: Arc<SqliteStore>,
    consumers: Arc<ConsumerRegistry>,
    policy: RetryPolicy,
    batch: usize,
}

impl QueueWorker {
    pub fn new(
        store: Arc<SqliteStore>,
        consumers: Arc<ConsumerRegistry>,
        policy: RetryPolicy,
    ) -> QueueWorker {
        QueueWorker {
            store,
            consumers,
            policy,
            batch: 64,
        }
    }

    /// Deliveries handled per pass (they run concurrently).
    pub fn with_batch(mut self, batch: usize) -> QueueWorker {
        self.batch = batch.max(1);
        self
    }

    /// One pass: claims the deliveries due at `now` (for registered consumers), runs their
    /// handlers concurrently, then deletes, reschedules or dead-letters each.
    pub async fn run_once(&self, now: DateTime<Utc>) -> Result<WorkerStats, StoreError> {
        let names = self.consumers.names();
        if names.is_empty() {
            return Ok(WorkerStats::default());
        }
        let now_n = nanos(now);
        let limit = self.batch as i64;
        // A claim pushes next_attempt_at past the handler timeout, so a crash mid-handler
        // (or a second worker) sees the delivery again only after that lease.
        let lease = nanos(
            now + chrono::Duration::from_std(self.policy.handler_timeout).unwrap_or_default(),
        )
        .saturating_add(1);
        let claimed: Vec<Claimed> = self
            .store
            .write(move |conn| {
                let mut sql = String::from(
                    "SELECT id, consumer, json, attempts FROM deliveries WHERE next_attempt_at <= ?1 AND consumer IN (",
                );
                for (i, _) in names.iter().enumerate() {
                    sql.push_str(if i == 0 { "?" } else { ", ?" });
                }
                sql.push_str(") ORDER BY next_attempt_at, id LIMIT ?");
                let mut args: Vec<rusqlite::types::Value> = vec![now_n.into()];
                args.extend(names.into_iter().map(rusqlite::types::Value::from));
                args.push(limit.into());
                let mut st = conn.prepare(&sql).map_err(backend)?;
                let rows = st
                    .query_map(rusqlite::params_from_iter(args.iter()), |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                            r.get::<_, i64>(3)?,
                        ))
                    })
                    .map_err(backend)?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(backend)?;
                let mut claim = conn
                    .prepare_cached("UPDATE deliveries SET next_attempt_at = ?1 WHERE id = ?2")
                    .map_err(backend)?;
                let mut out = Vec::with_capacity(rows.len());
                for (id, consumer, json, attempts) in rows {
                    claim.execute(params![lease, id]).map_err(backend)?;
                    match serde_json::from_str::<EventEnvelope>(&json) {
                        Ok(event) => out.push(Claimed {
                            id,
                            consumer,
                            event,
                            json,
                            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        }),
                        Err(e) => {
                            tracing::error!(delivery = id, error = %e, "unreadable delivery dead-lettered");
                            conn.execute(
                                "INSERT OR REPLACE INTO dead_letters (consumer, event_id, report_id, json, attempts, last_error, failed_at)
                                 SELECT consumer, event_id, report_id, json, attempts, ?2, ?3 FROM deliveries WHERE id = ?1",
                                params![id, format!("unreadable: {e}"), now_n],
                            )
                            .map_err(backend)?;
                            conn.execute("DELETE FROM deliveries WHERE id = ?1", [id])
                                .map_err(backend)?;
                        }
                    }
                }
                Ok(out)
            })
            .await?;
        if claimed.is_empty() {
            return Ok(WorkerStats::default());
        }

        let mut tasks = tokio::task::JoinSet::new();
        for (idx, c) in claimed.iter().enumerate() {
            let Some(consumer) = self.consumers.get(&c.consumer) else {
                continue;
            };
            let fut = (consumer.handler)(c.event.clone());
            let timeout = self.policy.handler_timeout;
            tasks.spawn(async move {
                let out = match tokio::time::timeout(timeout, fut).await {
                    Ok(Ok(())) => Outcome::Done,
                    Ok(Err(e)) => Outcome::Failed(e),
                    Err(_) => Outcome::Failed("handler timed out".into()),
                };
                (idx, out)
            });
        }
        let mut outcomes: Vec<Option<Outcome>> = (0..claimed.len()).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            match joined {
                Ok((idx, out)) => outcomes[idx] = Some(out),
                Err(e) => tracing::error!(error = %e, "queue handler panicked"),
            }
        }

        let mut stats = WorkerStats::default();
        let mut settle: Vec<(i64, String, u32, Option<String>, String)> = Vec::new();
        for (c, out) in claimed.into_iter().zip(outcomes) {
            let out = out.unwrap_or_else(|| Outcome::Failed("handler panicked".into()));
            match out {
                Outcome::Done => {
                    stats.delivered += 1;
                    settle.push((c.id, c.consumer, c.attempts, None, c.json));
                }
                Outcome::Failed(err) => {
                    tracing::warn!(report_id = %c.event.report_id, event_id = %c.event.id,
                        consumer = %c.consumer, attempt = c.attempts + 1, error = %err, "delivery failed");
                    if c.attempts + 1 >= self.policy.max_attempts {
                        stats.dead += 1;
                        tracing::error!(report_id = %c.event.report_id, event_id = %c.event.id,
                            consumer = %c.consumer, "delivery moved to dead letters");
                    } else {
                        stats.retried += 1;
                    }
                    settle.push((c.id, c.consumer, c.attempts + 1, Some(err), c.json));
                }
            }
        }
        let policy = self.policy.clone();
        self.store
            .write(move |conn| {
                for (id, _consumer, attempts, err, _json) in &settle {
                    match err {
                        None => {
                            conn.prepare_cached("DELETE FROM deliveries WHERE id = ?1")
                                .and_then(|mut st| st.execute([id]))
                                .map_err(backend)?;
                        }
                        Some(err) if *attempts >= policy.max_attempts => {
                            conn.prepare_cached(
                                "INSERT OR REPLACE INTO dead_letters (consumer, event_id, report_id, json, attempts, last_error, failed_at)
                                 SELECT consumer, event_id, report_id, json, ?2, ?3, ?4 FROM deliveries WHERE id = ?1",
                            )
                            .and_then(|mut st| st.execute(params![id, attempts, err, now_n]))
                            .map_err(backend)?;
                            conn.prepare_cached("DELETE FROM deliveries WHERE id = ?1")
                                .and_then(|mut st| st.execute([id]))
                                .map_err(backend)?;
                        }
                        Some(err) => {
                            let delay = chrono::Duration::from_std(policy.backoff(*attempts))
                                .unwrap_or_else(|_| chrono::Duration::seconds(60));
                            conn.prepare_cached(
                                "UPDATE deliveries SET attempts = ?2, last_error = ?3, next_attempt_at = ?4 WHERE id = ?1",
                            )
                            .and_then(|mut st| st.execute(params![id, attempts, err, nanos(now + delay)]))
                            .map_err(backend)?;
                        }
                    }
                }
                Ok(())
            })
            .await?;
        Ok(stats)
    }

    /// When the next delivery falls due, if any is queued.
    pub async fn next_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.store
            .read(|conn| {
                conn.query_row("SELECT MIN(next_attempt_at) FROM deliveries", [], |r| {
                    r.get::<_, Option<i64>>(0)
                })
                .map(|o| o.map(from_nanos))
                .map_err(backend)
            })
            .await
    }

    /// Runs the worker in the background: when deliveries are enqueued, when the earliest
    /// retry falls due, and at least every `interval`, until the handle is stopped.
    pub fn spawn(self, interval: Duration) -> PumpHandle {
        let (stop_tx, mut stop_rx) = watch::channel(false);
        let task = tokio::spawn(async move {
            loop {
                let mut wait = interval;
                // Bounded: at most 64 passes in a row before waiting again.
                for _ in 0..64 {
                    match self.run_once(Utc::now()).await {
                        Ok(s) if s.delivered + s.retried + s.dead >= self.batch => continue,
                        Ok(_) => break,
                        Err(e) => {
                            tracing::error!(error = %e, "queue worker failed");
                            break;
                        }
                    }
                }
                if let Ok(Some(due)) = self.next_due().await {
                    let until = (due - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                    wait = wait.min(until.max(Duration::from_millis(5)));
                }
                tokio::select! {
                    _ = stop_rx.changed() => break,
                    _ = self.store.deliveries_ready.notified() => {}
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
        PumpHandle {
            stop: stop_tx,
            task,
        }
    }
}

/// Stops a background relay or worker.
pub struct PumpHandle {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl PumpHandle {
    /// Asks the loop to stop and waits for the pass in progress to finish.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "background pump ended abnormally");
        }
    }
}

/// Queue inspection for tests and the admin screens.
pub async fn list_deliveries(store: &SqliteStore) -> Result<Vec<DeliveryRecord>, StoreError> {
    store
        .read(|conn| {
            let mut st = conn
                .prepare("SELECT consumer, json, attempts, next_attempt_at, last_error FROM deliveries ORDER BY id")
                .map_err(backend)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(consumer, json, attempts, next, last_error)| {
                    Ok(DeliveryRecord {
                        consumer,
                        event: serde_json::from_str(&json).map_err(backend)?,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        next_attempt_at: Some(from_nanos(next)),
                        last_error,
                    })
                })
                .collect()
        })
        .await
}

/// Dead letters, oldest failure first.
pub async fn list_dead_letters(store: &SqliteStore) -> Result<Vec<DeliveryRecord>, StoreError> {
    store
        .read(|conn| {
            let mut st = conn
                .prepare("SELECT consumer, json, attempts, last_error FROM dead_letters ORDER BY failed_at, consumer, event_id")
                .map_err(backend)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(consumer, json, attempts, last_error)| {
                    Ok(DeliveryRecord {
                        consumer,
                        event: serde_json::from_str(&json).map_err(backend)?,
                        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
                        next_attempt_at: None,
                        last_error,
                    })
                })
                .collect()
        })
        .await
}

/// Puts a dead letter back in its queue (attempts reset), e.g. after fixing the cause.
pub async fn requeue_dead_letter(
    store: &SqliteStore,
    consumer: &str,
    event_id: &str,
) -> Result<bool, StoreError> {
    let (consumer, event_id) = (consumer.to_string(), event_id.to_string());
    let now = nanos(Utc::now());
    let moved = store
        .write(move |conn| {
            let n = conn
                .execute(
                    "INSERT OR IGNORE INTO deliveries (consumer, event_id, report_id, json, attempts, next_attempt_at)
                     SELECT consumer, event_id, report_id, json, 0, ?3 FROM dead_letters WHERE consumer = ?1 AND event_id = ?2",
                    params![consumer, event_id, now],
                )
                .map_err(backend)?;
            conn.execute(
                "DELETE FROM dead_letters WHERE consumer = ?1 AND event_id = ?2",
                params![consumer, event_id],
            )
            .map_err(backend)?;
            Ok(n > 0)
        })
        .await?;
    if moved {
        store.deliveries_ready.notify_one();
    }
    Ok(moved)
}

/// `EventBus` on the in-process queues: publish enqueues deliveries directly (for events that
/// did not come through the outbox). Idempotent per (consumer, event id).
pub struct EmbeddedBus {
    store: Arc<SqliteStore>,
    consumers: Arc<ConsumerRegistry>,
}

impl EmbeddedBus {
    pub fn new(store: Arc<SqliteStore>, consumers: Arc<ConsumerRegistry>) -> EmbeddedBus {
        EmbeddedBus { store, consumers }
    }
}

#[async_trait]
impl EventBus for EmbeddedBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        if events.is_empty() {
            return Ok(());
        }
        let mut items = Vec::with_capacity(events.len());
        for e in events {
            items.push((
                e.clone(),
                serde_json::to_string(e).map_err(|e| BusError(e.to_string()))?,
            ));
        }
        let consumers = self.consumers.clone();
        let now = nanos(Utc::now());
        let n = self
            .store
            .write(move |conn| {
                let mut n = 0;
                for (e, json) in &items {
                    n += enqueue(conn, &consumers, e, json, now)?;
                }
                Ok(n)
            })
            .await
            .map_err(|e| BusError(e.to_string()))?;
        if n > 0 {
            self.store.deliveries_ready.notify_one();
        }
        Ok(())
    }
}
