//! `EventBus` on the in-process queues, for events that did not come through the outbox.
//! Split from the queues so the bus sits apart from the relay it mirrors.

use super::{enqueue, ConsumerRegistry};
use crate::db::SqliteStore;
use crate::reports::nanos;
use async_trait::async_trait;
use chrono::Utc;
use phananh_core::model::EventEnvelope;
use phananh_core::ports::{BusError, EventBus};
use std::sync::Arc;

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
