//! The transactional outbox of the report store: events are appended in the transaction
//! that writes their report, then read in order and marked published by the relay.
//! Split from the report store so everything touching the `outbox` table sits together.

use super::to_json;
use crate::db::backend;
use phananh_core::model::EventEnvelope;
use phananh_core::ports::StoreError;
use rusqlite::{params, Connection};

/// Outbox rows: (event id, report id, JSON).
pub(crate) fn event_rows(
    events: &[EventEnvelope],
) -> Result<Vec<(String, String, String)>, StoreError> {
    events
        .iter()
        .map(|e| Ok((e.id.clone(), e.report_id.0.clone(), to_json(e)?)))
        .collect()
}

pub(super) fn append_events(
    conn: &Connection,
    events: &[(String, String, String)],
) -> Result<(), StoreError> {
    if events.is_empty() {
        return Ok(());
    }
    let mut st = conn
        .prepare_cached("INSERT INTO outbox (event_id, report_id, json) VALUES (?1, ?2, ?3)")
        .map_err(backend)?;
    for (id, report_id, json) in events {
        st.execute(params![id, report_id, json]).map_err(backend)?;
    }
    Ok(())
}

/// Unpublished events in outbox order (`ReportStore::pending_events`).
pub(super) fn pending_tx(conn: &Connection, limit: i64) -> Result<Vec<EventEnvelope>, StoreError> {
    let mut st = conn
        .prepare_cached("SELECT json FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1")
        .map_err(backend)?;
    let docs = st
        .query_map([limit], |r| r.get::<_, String>(0))
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    docs.iter()
        .map(|d| serde_json::from_str(d).map_err(backend))
        .collect()
}

/// Marks the given events published at `now` (`ReportStore::mark_published`).
pub(super) fn mark_published_tx(
    conn: &Connection,
    ids: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let mut st = conn
        .prepare_cached(
            "UPDATE outbox SET published_at = ?1 WHERE event_id = ?2 AND published_at IS NULL",
        )
        .map_err(backend)?;
    for id in ids {
        st.execute(params![now, id]).map_err(backend)?;
    }
    Ok(())
}
