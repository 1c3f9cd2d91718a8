//! The outbox relay: moves each stored event into one delivery per subscribed consumer and
//! marks it published, in one transaction. Split from the queues so the outbox side of the
//! pipeline reads on its own.

use super::{enqueue, ConsumerRegistry, PumpHandle};
use crate::db::{backend, SqliteStore};
use crate::reports::nanos;
use chrono::Utc;
use phananh_core::model::EventEnvelope;
use phananh_core::ports::StoreError;
use rusqlite::params;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

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
