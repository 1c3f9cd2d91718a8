//! `GuardStore` on the SQLite database: the sign-in guards of core (one-time codes as keyed
//! hashes, attempt counters, cool-downs), one row per key, written with compare-and-swap on
//! `version` through the single writer.

use crate::db::{backend, SqliteStore};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use phananh_core::ports::{GuardRecord, GuardStore, StoreError};
use rusqlite::{params, OptionalExtension};

/// Rows that expired this long before a newly written row expires are deleted then (guards
/// live a day at most; measured against the new row, not this machine's clock, so a test's
/// clock and the real one never disagree about what is old).
const SWEEP_AFTER_SECS: i64 = 7 * 86_400;

#[async_trait]
impl GuardStore for SqliteStore {
    async fn guard_get(&self, key: &str) -> Result<Option<GuardRecord>, StoreError> {
        let key = key.to_string();
        self.read(move |conn| {
            let row: Option<(i64, String, i64)> = conn
                .query_row(
                    "SELECT version, doc, expires_at FROM guards WHERE key = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
                .map_err(backend)?;
            row.map(|(version, doc, exp)| {
                Ok(GuardRecord {
                    version: version as u64,
                    doc: serde_json::from_str(&doc).map_err(backend)?,
                    expires_at: DateTime::from_timestamp(exp, 0).unwrap_or_default(),
                })
            })
            .transpose()
        })
        .await
    }

    async fn guard_put(
        &self,
        key: &str,
        doc: &serde_json::Value,
        expires_at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let key = key.to_string();
        let doc = serde_json::to_string(doc).map_err(backend)?;
        let exp = expires_at.timestamp();
        self.write(move |conn| {
            let changed = match expected {
                None => {
                    conn.execute(
                        "DELETE FROM guards WHERE expires_at < ?1",
                        [exp - SWEEP_AFTER_SECS],
                    )
                    .map_err(backend)?;
                    conn.execute(
                        "INSERT INTO guards (key, version, doc, expires_at) VALUES (?1, 1, ?2, ?3)
                         ON CONFLICT (key) DO NOTHING",
                        params![key, doc, exp],
                    )
                    .map_err(backend)?
                }
                Some(v) => conn
                    .execute(
                        "UPDATE guards SET version = ?2 + 1, doc = ?3, expires_at = ?4
                         WHERE key = ?1 AND version = ?2",
                        params![key, v as i64, doc, exp],
                    )
                    .map_err(backend)?,
            };
            if changed == 1 {
                Ok(())
            } else {
                Err(StoreError::Conflict)
            }
        })
        .await
    }
}
