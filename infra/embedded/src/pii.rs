//! Reporter personal data at rest in the SQLite store (issue 12 item 5). The sealing itself is
//! core's ([`phananh_core::pii`]): the store holds opaque `pii1:` strings. What is here is the
//! migration of reports stored before (plaintext) or under an older key: run once per data
//! key, recorded in `pii_sealing` (schema migration 7), idempotent.

use crate::db::{backend, SqliteStore};
use chrono::Utc;
use phananh_core::pii::{seal_stored_reports, PiiCipher};
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
}
