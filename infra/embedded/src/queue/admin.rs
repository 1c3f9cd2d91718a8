//! Queue inspection and repair for tests and the admin screens: waiting deliveries, dead
//! letters, and putting a dead letter back in its queue. Split from the worker, which
//! never reads these lists.

use crate::db::{backend, SqliteStore};
use crate::reports::{from_nanos, nanos};
use chrono::{DateTime, Utc};
use phananh_core::model::EventEnvelope;
use phananh_core::ports::StoreError;
use rusqlite::params;

/// A delivery waiting in the queue or given up on.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub consumer: String,
    pub event: EventEnvelope,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

impl DeliveryRecord {
    /// A row of `deliveries` (with its due time) or `dead_letters` (without).
    fn from_row(
        consumer: String,
        json: &str,
        attempts: i64,
        next_attempt_at: Option<i64>,
        last_error: Option<String>,
    ) -> Result<DeliveryRecord, StoreError> {
        Ok(DeliveryRecord {
            consumer,
            event: serde_json::from_str(json).map_err(backend)?,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_attempt_at: next_attempt_at.map(from_nanos),
            last_error,
        })
    }
}

/// The delivery records a query selects as (consumer, json, attempts, next attempt or NULL,
/// last error), in its order.
async fn read_records(
    store: &SqliteStore,
    sql: &'static str,
) -> Result<Vec<DeliveryRecord>, StoreError> {
    store
        .read(move |conn| {
            let mut st = conn.prepare(sql).map_err(backend)?;
            let rows = st
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<i64>>(3)?,
                        r.get::<_, Option<String>>(4)?,
                    ))
                })
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            rows.into_iter()
                .map(|(consumer, json, attempts, next, last_error)| {
                    DeliveryRecord::from_row(consumer, &json, attempts, next, last_error)
                })
                .collect()
        })
        .await
}

/// Queue inspection for tests and the admin screens.
pub async fn list_deliveries(store: &SqliteStore) -> Result<Vec<DeliveryRecord>, StoreError> {
    read_records(
        store,
        "SELECT consumer, json, attempts, next_attempt_at, last_error FROM deliveries ORDER BY id",
    )
    .await
}

/// Dead letters, oldest failure first.
pub async fn list_dead_letters(store: &SqliteStore) -> Result<Vec<DeliveryRecord>, StoreError> {
    read_records(
        store,
        "SELECT consumer, json, attempts, NULL, last_error FROM dead_letters \
         ORDER BY failed_at, consumer, event_id",
    )
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
