//! Reporter personal data at rest in the SQLite store (issue 12 item 5). The sealing itself is
//! core's ([`phananh_core::pii`]): the store holds opaque `pii1:` strings. What is here is the
//! migration of reports stored before (plaintext) or under an older key: run once per data
//! key, recorded in `pii_sealing` (schema migration 8), idempotent.

use crate::db::{backend, SqliteStore};
use chrono::Utc;
use phananh_core::app::notify_facts::seal_event_contact;
use phananh_core::model::EventEnvelope;
use phananh_core::pii::{reseal, seal_stored_reports, PiiCipher};
use phananh_core::ports::StoreError;
use rusqlite::{params, OptionalExtension};

impl SqliteStore {
    /// Seals every report's reporter data with `cipher`'s current key unless that was done
    /// already for this key. Returns how many reports were rewritten (0 when nothing was left).
    pub async fn seal_personal_data(&self, cipher: &dyn PiiCipher) -> Result<u64, StoreError> {
        let key_id = cipher.current_key_id().to_string();
        let k = key_id.clone();
        let done = self
            .read(move |c| {
                c.query_row("SELECT 1 FROM pii_sealing WHERE key_id = ?1", [&k], |_| {
                    Ok(())
                })
                .optional()
                .map_err(backend)
            })
            .await?;
        if done.is_some() {
            return Ok(0);
        }
        let n = seal_stored_reports(self, cipher).await?;
        self.seal_recipients(cipher).await?;
        self.seal_outbox_contacts(cipher).await?;
        let reports = i64::try_from(n).unwrap_or(i64::MAX);
        self.write(move |c| {
            c.execute(
                "INSERT OR REPLACE INTO pii_sealing (key_id, sealed_at, reports) VALUES (?1, ?2, ?3)",
                params![key_id, Utc::now().timestamp(), reports],
            )
            .map(|_| ())
            .map_err(backend)
        })
        .await?;
        Ok(n)
    }

    /// Seals the reporter's contact that outbox events carry for their messages (issue 10),
    /// stored while no key was configured (plaintext) or under an older key. The rows are
    /// rewritten in place: nothing is published again.
    async fn seal_outbox_contacts(&self, cipher: &dyn PiiCipher) -> Result<u64, StoreError> {
        self.reseal_rows(
            cipher,
            "SELECT seq, json FROM outbox WHERE seq > ?1 \
             AND json_type(json, '$.notify.reporter') IS NOT NULL \
             AND (json_type(json, '$.notify.reporter') <> 'text' \
                  OR json_extract(json, '$.notify.reporter') NOT LIKE ?2) \
             ORDER BY seq LIMIT 500",
            "UPDATE outbox SET json = ?1 WHERE seq = ?2",
            |json| {
                let mut env: EventEnvelope = serde_json::from_str(json).map_err(backend)?;
                if !seal_event_contact(cipher, &mut env).map_err(backend)? {
                    return Ok(None);
                }
                serde_json::to_string(&env).map(Some).map_err(backend)
            },
        )
        .await
    }

    /// Seals the recipient of every delivery-log row stored before (plaintext, or under an
    /// older key).
    async fn seal_recipients(&self, cipher: &dyn PiiCipher) -> Result<u64, StoreError> {
        self.reseal_rows(
            cipher,
            "SELECT seq, doc FROM notifications WHERE seq > ?1 \
             AND COALESCE(json_extract(doc, '$.to'), '') NOT LIKE ?2 \
             ORDER BY seq LIMIT 500",
            "UPDATE notifications SET doc = ?1 WHERE seq = ?2",
            |doc| {
                let mut v: serde_json::Value = serde_json::from_str(doc).map_err(backend)?;
                let Some(to) = v.get("to").and_then(|t| t.as_str()) else {
                    return Ok(None);
                };
                let Some(sealed) = reseal(cipher, to).map_err(backend)? else {
                    return Ok(None);
                };
                v["to"] = serde_json::Value::String(sealed);
                Ok(Some(v.to_string()))
            },
        )
        .await
    }

    /// Rewrites a JSON column in pages of 500 rows: `select` reads `(seq, json)` after the
    /// seq `?1` of the rows not sealed under the current key (`?2`, the LIKE pattern of its
    /// sealed strings), `reseal_row` returns a row's new JSON (None: left as it is), `update`
    /// writes it (`?1` the JSON, `?2` the seq). Returns how many rows were rewritten.
    async fn reseal_rows(
        &self,
        cipher: &dyn PiiCipher,
        select: &'static str,
        update: &'static str,
        reseal_row: impl Fn(&str) -> Result<Option<String>, StoreError>,
    ) -> Result<u64, StoreError> {
        let current = format!(
            "{}{}:%",
            phananh_core::pii::SEALED_PREFIX,
            cipher.current_key_id()
        );
        let mut after = 0i64;
        let mut sealed = 0u64;
        loop {
            let like = current.clone();
            let rows: Vec<(i64, String)> = self
                .read(move |c| {
                    let mut st = c.prepare(select).map_err(backend)?;
                    let rows = st
                        .query_map(params![after, like], |r| Ok((r.get(0)?, r.get(1)?)))
                        .map_err(backend)?
                        .collect::<Result<Vec<_>, _>>()
                        .map_err(backend);
                    rows
                })
                .await?;
            let Some(last) = rows.last().map(|r| r.0) else {
                break;
            };
            after = last;
            let mut updates = Vec::with_capacity(rows.len());
            for (seq, json) in rows {
                if let Some(json) = reseal_row(&json)? {
                    updates.push((seq, json));
                }
            }
            sealed += updates.len() as u64;
            self.write(move |c| {
                for (seq, json) in &updates {
                    c.execute(update, params![json, seq]).map_err(backend)?;
                }
                Ok(())
            })
            .await?;
        }
        Ok(sealed)
    }
}
