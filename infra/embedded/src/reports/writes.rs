//! Writes of reports: the row flattened for storage (indexed columns, document, units) and
//! the create and update transactions that put it together with its outbox events.
//! Split from the report store so the write path reads apart from queries and the outbox.

use super::outbox::append_events;
use super::{is_unique_violation, nanos, to_json};
use crate::db::backend;
use phananh_core::model::{Report, ReportId};
use phananh_core::ports::{CreateOutcome, ReportQuery, StoreError};
use rusqlite::{params, Connection, OptionalExtension};

/// A report flattened for storage, prepared (serialised) on the caller's task so the writer
/// thread only runs SQL.
pub(crate) struct ReportRow {
    id: String,
    version: i64,
    state: &'static str,
    category: String,
    ward: Option<String>,
    lead_unit: Option<String>,
    reporter: Option<String>,
    created_at: i64,
    due_at: Option<i64>,
    clock_running: bool,
    next_escalation_at: Option<i64>,
    public: bool,
    doc: String,
    /// The location, also as columns: the duplicate check reads points from an index.
    lat: Option<f64>,
    lon: Option<f64>,
    units: Vec<String>,
    /// Folded title, description and address (what the search index holds).
    search_text: String,
}

impl ReportRow {
    pub(crate) fn new(r: &Report) -> Result<ReportRow, StoreError> {
        Ok(ReportRow {
            id: r.id.0.clone(),
            version: i64::try_from(r.version).map_err(backend)?,
            state: r.state.as_str(),
            category: r.category.clone(),
            ward: r.ward.clone(),
            lead_unit: r.lead_unit().map(str::to_string),
            reporter: r.reporter_id().map(str::to_string),
            created_at: nanos(r.created_at),
            due_at: r.due_at().map(nanos),
            clock_running: r.state.unit_clock_running(),
            next_escalation_at: r.escalation.next_at.map(nanos),
            public: r.state_is_public() && !r.flags.state_secret,
            doc: to_json(r)?,
            lat: r.location.map(|p| p.lat),
            lon: r.location.map(|p| p.lon),
            units: r
                .assignment
                .as_ref()
                .map(|a| {
                    std::iter::once(&a.lead_unit)
                        .chain(a.coordinating_units.iter())
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
            search_text: ReportQuery::search_text(r),
        })
    }
}

/// Writes the indexed columns and the document (`fresh`: a new report, else a replacement).
fn put_report_row(conn: &Connection, r: &ReportRow, fresh: bool) -> Result<(), StoreError> {
    let sql = if fresh {
        "INSERT INTO reports (id, version, state, category, ward, lead_unit, reporter,
            created_at, due_at, clock_running, next_escalation_at, public, doc, lat, lon)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
    } else {
        "UPDATE reports SET version = ?2, state = ?3, category = ?4, ward = ?5, lead_unit = ?6,
            reporter = ?7, created_at = ?8, due_at = ?9, clock_running = ?10,
            next_escalation_at = ?11, public = ?12, doc = ?13, lat = ?14, lon = ?15
         WHERE id = ?1"
    };
    conn.prepare_cached(sql)
        .and_then(|mut st| {
            st.execute(params![
                r.id,
                r.version,
                r.state,
                r.category,
                r.ward,
                r.lead_unit,
                r.reporter,
                r.created_at,
                r.due_at,
                r.clock_running,
                r.next_escalation_at,
                r.public,
                r.doc,
                r.lat,
                r.lon,
            ])
        })
        .map_err(|e| {
            if fresh && is_unique_violation(&e) {
                StoreError::AlreadyExists
            } else {
                backend(e)
            }
        })?;
    if !fresh {
        conn.prepare_cached("DELETE FROM report_units WHERE report_id = ?1")
            .and_then(|mut st| st.execute([r.id.as_str()]))
            .map_err(backend)?;
    }
    // Most updates change the state, not the text: the search index is rewritten only when
    // the indexed text (or the creation instant its key encodes) changed.
    let hash = text_hash(&r.search_text);
    if fresh || !search_text_unchanged(conn, r, hash).map_err(backend)? {
        put_search_text(conn, &r.id, r.created_at, &r.search_text, fresh).map_err(backend)?;
        put_search_terms(conn, &r.search_text).map_err(backend)?;
        conn.prepare_cached("UPDATE report_search SET text_hash = ?2 WHERE report_id = ?1")
            .and_then(|mut st| st.execute(params![r.id, hash]))
            .map_err(backend)?;
    }
    if !r.units.is_empty() {
        let mut st = conn
            .prepare_cached(
                "INSERT OR IGNORE INTO report_units (unit, report_id, created_at) VALUES (?1, ?2, ?3)",
            )
            .map_err(backend)?;
        for unit in &r.units {
            st.execute(params![unit, r.id, r.created_at])
                .map_err(backend)?;
        }
    }
    Ok(())
}

/// A fingerprint of an indexed text (any change of the hash function only re-indexes once).
fn text_hash(text: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(text.as_bytes());
    i64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// Whether report `r` is indexed with this very text under a key of its creation instant.
fn search_text_unchanged(conn: &Connection, r: &ReportRow, hash: i64) -> rusqlite::Result<bool> {
    let known: Option<(i64, Option<i64>)> = conn
        .prepare_cached("SELECT seq, text_hash FROM report_search WHERE report_id = ?1")?
        .query_row([r.id.as_str()], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    Ok(known.is_some_and(|(seq, h)| {
        h == Some(hash)
            && seq.div_euclid(SEARCH_SLOTS)
                == search_key_base(r.created_at).div_euclid(SEARCH_SLOTS)
    }))
}

/// Slots of the search key per microsecond of creation (reports created in the same
/// microsecond get consecutive keys, in insertion order).
const SEARCH_SLOTS: i64 = 1024;

/// The first search key of reports created at `created_at` (nanoseconds): search keys are
/// ordered like creation instants, so the full-text index can be read newest first.
pub(crate) fn search_key_base(created_at: i64) -> i64 {
    created_at.div_euclid(1000).saturating_mul(SEARCH_SLOTS)
}

/// Indexes the folded text of report `id` (created at `created_at`, nanoseconds) for search,
/// in the caller's transaction (`fresh`: not indexed yet).
pub(crate) fn put_search_text(
    conn: &Connection,
    id: &str,
    created_at: i64,
    text: &str,
    fresh: bool,
) -> rusqlite::Result<()> {
    let base = search_key_base(created_at);
    let known: Option<i64> = if fresh {
        None
    } else {
        conn.prepare_cached("SELECT seq FROM report_search WHERE report_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
    };
    let seq = match known {
        Some(seq) => {
            conn.prepare_cached("DELETE FROM reports_fts WHERE rowid = ?1")?
                .execute([seq])?;
            if seq.div_euclid(SEARCH_SLOTS) == base.div_euclid(SEARCH_SLOTS) {
                seq
            } else {
                // The creation instant changed: the key moves with it.
                conn.prepare_cached("DELETE FROM report_search WHERE seq = ?1")?
                    .execute([seq])?;
                new_search_key(conn, id, base)?
            }
        }
        None => new_search_key(conn, id, base)?,
    };
    conn.prepare_cached("INSERT INTO reports_fts (rowid, text) VALUES (?1, ?2)")?
        .execute(params![seq, text])?;
    Ok(())
}

/// Lists the words of a folded text in `search_terms` (those already there stay).
pub(crate) fn put_search_terms(conn: &Connection, text: &str) -> rusqlite::Result<()> {
    let mut st = conn.prepare_cached("INSERT OR IGNORE INTO search_terms (term) VALUES (?1)")?;
    let mut seen: Vec<&str> = Vec::new();
    for w in text.split(' ') {
        // Only words longer than the prefix indexes are ever expanded.
        if w.len() > PREFIX_INDEXED && !seen.contains(&w) {
            seen.push(w);
            st.execute([w])?;
        }
    }
    Ok(())
}

/// The longest prefix FTS5 keeps an index of (`prefix = '1 2 3'` in the schema).
pub(crate) const PREFIX_INDEXED: usize = 3;

/// Takes the next free key of the microsecond starting at `base` for report `id`.
fn new_search_key(conn: &Connection, id: &str, base: i64) -> rusqlite::Result<i64> {
    let last = base.saturating_add(SEARCH_SLOTS - 1);
    let taken: Option<i64> = conn
        .prepare_cached("SELECT MAX(seq) FROM report_search WHERE seq BETWEEN ?1 AND ?2")?
        .query_row([base, last], |r| r.get(0))?;
    let seq = match taken {
        None => base,
        Some(t) if t < last => t + 1,
        Some(_) => {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_FULL),
                Some(format!(
                    "more than {SEARCH_SLOTS} reports created in one microsecond"
                )),
            ))
        }
    };
    conn.prepare_cached("INSERT INTO report_search (seq, report_id) VALUES (?1, ?2)")?
        .execute(params![seq, id])?;
    Ok(seq)
}

pub(super) fn create_tx(
    conn: &Connection,
    report: &ReportRow,
    events: &[(String, String, String)],
    key: Option<&str>,
) -> Result<CreateOutcome, StoreError> {
    if let Some(k) = key {
        let existing: Option<String> = conn
            .prepare_cached("SELECT report_id FROM idempotency WHERE key = ?1")
            .and_then(|mut st| st.query_row([k], |r| r.get(0)).optional())
            .map_err(backend)?;
        if let Some(id) = existing {
            return Ok(CreateOutcome::Existing(ReportId(id)));
        }
    }
    // A taken id fails the INSERT (AlreadyExists); the savepoint undoes nothing else yet.
    put_report_row(conn, report, true)?;
    append_events(conn, events)?;
    if let Some(k) = key {
        conn.prepare_cached("INSERT INTO idempotency (key, report_id) VALUES (?1, ?2)")
            .and_then(|mut st| st.execute(params![k, report.id]))
            .map_err(backend)?;
    }
    Ok(CreateOutcome::Created)
}

pub(super) fn update_tx(
    conn: &Connection,
    report: &ReportRow,
    expected_version: u64,
    events: &[(String, String, String)],
) -> Result<(), StoreError> {
    let stored: Option<i64> = conn
        .prepare_cached("SELECT version FROM reports WHERE id = ?1")
        .and_then(|mut st| st.query_row([report.id.as_str()], |r| r.get(0)).optional())
        .map_err(backend)?;
    let stored = stored.ok_or(StoreError::NotFound)?;
    if u64::try_from(stored).ok() != Some(expected_version) {
        return Err(StoreError::Conflict);
    }
    if u64::try_from(report.version).ok() != Some(expected_version + 1) {
        return Err(StoreError::Backend(format!(
            "report {} carries version {}, expected {}",
            report.id,
            report.version,
            expected_version + 1
        )));
    }
    put_report_row(conn, report, false)?;
    append_events(conn, events)
}
