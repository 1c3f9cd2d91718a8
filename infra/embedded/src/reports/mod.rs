//! `ReportStore` and `AccountStore` on the SQLite database (transactional outbox included).
//!
//! This module wires `SqliteStore`'s `ReportStore` impl and holds the encodings every part
//! shares (instants as nanoseconds, JSON documents). The work itself lives by concern:
//! `writes` (rows, create and update transactions), `queries` (filters, cursor paging,
//! escalations), `outbox` (events written with a report, read and marked by the relay) and
//! `accounts` (the `AccountStore` impl).

mod accounts;
mod outbox;
mod queries;
mod writes;

pub use queries::{query_sql, ESCALATIONS_SQL};
pub(crate) use writes::{put_search_terms, put_search_text, search_key_base, PREFIX_INDEXED};

use outbox::event_rows;
use queries::{load_reports, query_tx};
use writes::{create_tx, update_tx, ReportRow};

use crate::db::{backend, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use phananh_core::model::{EventEnvelope, Report, ReportId};
use phananh_core::ports::{CreateOutcome, Page, RecentPoint, ReportQuery, ReportStore, StoreError};
use rusqlite::OptionalExtension;

/// Instants are stored as nanoseconds since the epoch (sortable integers).
pub(crate) fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

pub(crate) fn from_nanos(n: i64) -> DateTime<Utc> {
    DateTime::<Utc>::from_timestamp_nanos(n)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn parse_report(doc: &str) -> Result<Report, StoreError> {
    serde_json::from_str(doc)
        .map_err(|e| StoreError::Backend(format!("corrupt report document: {e}")))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        let row = ReportRow::new(report)?;
        let events = event_rows(events)?;
        let key = idempotency_key.map(str::to_string);
        let outcome = self
            .write(move |conn| create_tx(conn, &row, &events, key.as_deref()))
            .await;
        if let Err(e) = &outcome {
            if !matches!(e, StoreError::AlreadyExists) {
                tracing::warn!(error = %e, "report create failed");
            }
        }
        outcome
    }

    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        let id = id.0.clone();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .prepare_cached("SELECT doc FROM reports WHERE id = ?1")
                .and_then(|mut st| st.query_row([id.as_str()], |r| r.get(0)).optional())
                .map_err(backend)?;
            doc.as_deref().map(parse_report).transpose()
        })
        .await
    }

    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError> {
        let row = ReportRow::new(report)?;
        let events = event_rows(events)?;
        self.write(move |conn| update_tx(conn, &row, expected_version, &events))
            .await
    }

    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        let q = q.clone();
        self.read(move |conn| query_tx(conn, &q)).await
    }

    /// The duplicate check's read from a covering index, without reading documents (it runs
    /// for every submission).
    async fn recent_points(
        &self,
        category: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        let (category, from, to) = (category.to_string(), nanos(from), nanos(to));
        self.read(move |conn| queries::recent_points_tx(conn, &category, from, to, limit))
            .await
    }

    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        use rusqlite::types::Value;
        let args = [
            Value::Integer(nanos(until)),
            Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)),
        ];
        self.read(move |conn| load_reports(conn, ESCALATIONS_SQL, &args))
            .await
    }

    /// By the `reports_overdue` index in due order: reads the `limit` most late, however many
    /// are overdue.
    async fn overdue(
        &self,
        at: DateTime<Utc>,
        unit: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Report>, StoreError> {
        use rusqlite::types::Value;
        let mut args = vec![Value::Integer(nanos(at))];
        let mut sql = String::from(
            "SELECT doc FROM reports r WHERE clock_running = 1 AND due_at IS NOT NULL AND due_at < ?",
        );
        if let Some(u) = unit {
            // Correlated, so the due-order walk of the index stays the plan (an `IN` list made
            // SQLite read every report of the unit and sort them: 1.65 s p99 at 62,500).
            sql.push_str(
                " AND EXISTS (SELECT 1 FROM report_units u WHERE u.unit = ? AND u.report_id = r.id)",
            );
            args.push(Value::Text(u.to_string()));
        }
        sql.push_str(" ORDER BY due_at LIMIT ?");
        args.push(Value::Integer(i64::from(limit.clamp(1, 1000))));
        self.read(move |conn| load_reports(conn, &sql, &args)).await
    }

    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| outbox::pending_tx(conn, limit)).await
    }

    async fn mark_published(&self, event_ids: &[String]) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let ids = event_ids.to_vec();
        let now = nanos(Utc::now());
        self.write(move |conn| outbox::mark_published_tx(conn, &ids, now))
            .await
    }
}

#[cfg(test)]
mod tests;
