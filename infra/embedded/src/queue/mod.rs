//! Durable in-process queues fed by the transactional outbox.
//!
//! The [`OutboxRelay`] moves each stored event into one `deliveries` row per subscribed
//! consumer and marks it published, in one transaction. [`QueueWorker`]s run due deliveries,
//! delete them on success, retry with exponential backoff, and move them to `dead_letters`
//! after the configured attempts. Delivery is at least once: handlers must be idempotent
//! (the event id is stable, so a handler can detect a redelivery).

//!
//! This module holds what the relay, the bus and the workers share: the handler type, the
//! registry of consumers, the enqueue step and the handle of a background pump. By concern:
//! `relay` (outbox → deliveries), `bus` (`EventBus` straight onto the queues), `worker`
//! (running deliveries, retry, dead letters) and `admin` (inspection and requeue).

mod admin;
mod bus;
mod relay;
mod worker;

pub use admin::{list_dead_letters, list_deliveries, requeue_dead_letter, DeliveryRecord};
pub use bus::EmbeddedBus;
pub use relay::OutboxRelay;
pub use worker::{QueueWorker, RetryPolicy, WorkerStats};

use crate::db::backend;
use phananh_core::model::EventEnvelope;
use phananh_core::ports::StoreError;
use rusqlite::{params, Connection};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
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
