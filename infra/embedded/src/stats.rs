//! `AggregateStore` on the SQLite database: the statistics' rows (`stats_rows`) and each
//! report's last applied contribution (`stats_contrib`), changed together in one write of the
//! single writer, so a contribution and the rows it is counted in never disagree.

use crate::db::{backend, SqliteStore};
use async_trait::async_trait;
use phananh_core::aggregates::{delta, AggregateStore, Contribution, Figures, MonthFigures};
use phananh_core::model::ReportId;
use phananh_core::ports::StoreError;
use rusqlite::{params, OptionalExtension};

#[async_trait]
impl AggregateStore for SqliteStore {
    async fn apply(
        &self,
        id: &ReportId,
        version: u64,
        contribution: &Contribution,
    ) -> Result<bool, StoreError> {
        let id = id.as_str().to_string();
        let new = contribution.clone();
        let new_doc = serde_json::to_string(&new).map_err(backend)?;
        self.write(move |conn| {
            let old: Option<(i64, String)> = conn
                .prepare_cached("SELECT version, doc FROM stats_contrib WHERE report_id = ?1")
                .map_err(backend)?
                .query_row([&id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
                .map_err(backend)?;
            let old = match old {
                Some((v, _)) if v as u64 >= version => return Ok(false),
                Some((_, doc)) => Some(serde_json::from_str::<Contribution>(&doc).map_err(backend)?),
                None => None,
            };
            for (month, rows) in delta(old.as_ref(), &new) {
                for (key, d) in rows {
                    let cur: Option<String> = conn
                        .prepare_cached("SELECT doc FROM stats_rows WHERE month = ?1 AND key = ?2")
                        .map_err(backend)?
                        .query_row(params![month, key], |r| r.get(0))
                        .optional()
                        .map_err(backend)?;
                    let mut f: Figures = match cur {
                        Some(doc) => serde_json::from_str(&doc).map_err(backend)?,
                        None => Figures::default(),
                    };
                    f.add(&d, 1);
                    if f.is_zero() {
                        conn.prepare_cached("DELETE FROM stats_rows WHERE month = ?1 AND key = ?2")
                            .map_err(backend)?
                            .execute(params![month, key])
                            .map_err(backend)?;
                    } else {
                        let doc = serde_json::to_string(&f).map_err(backend)?;
                        conn.prepare_cached(
                            "INSERT INTO stats_rows (month, key, doc) VALUES (?1, ?2, ?3)
                             ON CONFLICT (month, key) DO UPDATE SET doc = excluded.doc",
                        )
                        .map_err(backend)?
                        .execute(params![month, key, doc])
                        .map_err(backend)?;
                    }
                }
            }
            conn.prepare_cached(
                "INSERT INTO stats_contrib (report_id, version, doc) VALUES (?1, ?2, ?3)
                 ON CONFLICT (report_id) DO UPDATE SET version = excluded.version, doc = excluded.doc",
            )
            .map_err(backend)?
            .execute(params![id, version as i64, new_doc])
            .map_err(backend)?;
            Ok(true)
        })
        .await
    }

    async fn months(&self, from: &str, to: &str) -> Result<Vec<MonthFigures>, StoreError> {
        let (from, to) = (from.to_string(), to.to_string());
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT month, key, doc FROM stats_rows WHERE month >= ?1 AND month <= ?2
                     ORDER BY month, key",
                )
                .map_err(backend)?;
            let rows = st
                .query_map(params![from, to], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                })
                .map_err(backend)?;
            let mut out: Vec<MonthFigures> = Vec::new();
            for row in rows {
                let (month, key, doc) = row.map_err(backend)?;
                let f: Figures = serde_json::from_str(&doc).map_err(backend)?;
                match out.last_mut() {
                    Some(m) if m.month == month => {
                        m.rows.insert(key, f);
                    }
                    _ => out.push(MonthFigures {
                        month,
                        rows: [(key, f)].into(),
                    }),
                }
            }
            Ok(out)
        })
        .await
    }

    async fn clear(&self) -> Result<(), StoreError> {
        self.write(|conn| {
            conn.execute_batch("DELETE FROM stats_rows; DELETE FROM stats_contrib;")
                .map_err(backend)
        })
        .await
    }
}

impl SqliteStore {
    /// Whether reports exist that were never counted in the statistics (a database from before
    /// the aggregates): then the rows must be rebuilt from the reports.
    pub async fn stats_need_rebuild(&self) -> Result<bool, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT EXISTS (SELECT 1 FROM reports) AND NOT EXISTS (SELECT 1 FROM stats_contrib)",
                [],
                |r| r.get::<_, bool>(0),
            )
            .map_err(backend)
        })
        .await
    }
}
