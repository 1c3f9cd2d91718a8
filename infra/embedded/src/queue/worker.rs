//! The queue worker: claims due deliveries, runs their handlers, deletes them on success,
//! retries with exponential backoff and moves them to the dead letters after the last
//! attempt. Split from the queues as the largest single concern.

use super::{ConsumerRegistry, PumpHandle};
use crate::db::{backend, SqliteStore};
use crate::reports::{from_nanos, nanos};
use chrono::{DateTime, Utc};
use phananh_core::model::EventEnvelope;
use phananh_core::ports::StoreError;
use rusqlite::params;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
                            delete_delivery(conn, *id)?;
                        }
                        Some(err) if *attempts >= policy.max_attempts => {
                            conn.prepare_cached(
                                "INSERT OR REPLACE INTO dead_letters (consumer, event_id, report_id, json, attempts, last_error, failed_at)
                                 SELECT consumer, event_id, report_id, json, ?2, ?3, ?4 FROM deliveries WHERE id = ?1",
                            )
                            .and_then(|mut st| st.execute(params![id, attempts, err, now_n]))
                            .map_err(backend)?;
                            delete_delivery(conn, *id)?;
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

/// Removes a settled delivery (handled, or copied to the dead letters).
fn delete_delivery(conn: &rusqlite::Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM deliveries WHERE id = ?1")
        .and_then(|mut st| st.execute([id]))
        .map_err(backend)?;
    Ok(())
}
