//! Reads of reports: the filtered, cursor-paged `query` and the escalation scan.
//! Split from the report store so the SQL built from a `ReportQuery` and the cursor format
//! live in one place.

use super::{nanos, parse_report, search_key_base, PREFIX_INDEXED};
use crate::db::backend;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use phananh_core::model::{GeoPoint, Report, ReportId, State};
use phananh_core::ports::{Page, RecentPoint, ReportQuery, StoreError};
use rusqlite::Connection;

pub(super) fn encode_cursor(created_at: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{created_at}:{id}"))
}

/// The cursor of a free-text search: the search key of the last report of the page.
pub(super) fn encode_text_cursor(key: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("t1:{key}"))
}

pub(super) fn decode_text_cursor(cursor: &str) -> Result<i64, StoreError> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(raw).map_err(|_| StoreError::BadCursor)?;
    let key = text.strip_prefix("t1:").ok_or(StoreError::BadCursor)?;
    key.parse().map_err(|_| StoreError::BadCursor)
}

pub(super) fn decode_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
    let raw = URL_SAFE_NO_PAD
        .decode(cursor.as_bytes())
        .map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(raw).map_err(|_| StoreError::BadCursor)?;
    let rest = text.strip_prefix("v1:").ok_or(StoreError::BadCursor)?;
    let (at, id) = rest.split_once(':').ok_or(StoreError::BadCursor)?;
    let at: i64 = at.parse().map_err(|_| StoreError::BadCursor)?;
    if id.is_empty() {
        return Err(StoreError::BadCursor);
    }
    Ok((at, id.to_string()))
}

pub(super) fn load_reports(
    conn: &Connection,
    sql: &str,
    args: &[rusqlite::types::Value],
) -> Result<Vec<Report>, StoreError> {
    let mut st = conn.prepare_cached(sql).map_err(backend)?;
    let docs = st
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            r.get::<_, String>(0)
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    docs.iter().map(|d| parse_report(d)).collect()
}

/// The FTS5 query of the folded terms, all AND-ed, each a quoted prefix term. Terms are
/// lowercase ASCII letters and digits (`ReportQuery::text_terms`), so quoting cannot be broken.
fn fts_match(terms: &[String]) -> String {
    terms
        .iter()
        .map(|t| format!("\"{}\"*", t.replace('"', "")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// At most this many words a long term may expand to (beyond, FTS5 merges the prefix).
const EXPANSION_MAX: usize = 64;

/// The FTS5 query of the folded terms for the stored index: a term no longer than the prefix
/// indexes is a prefix term (one doclist of the prefix index); a longer one is the OR of the
/// words it starts (from `search_terms`), read incrementally, never merged in memory. `None`
/// when a term starts no stored word (nothing can match).
fn fts_match_expanded(conn: &Connection, terms: &[String]) -> Result<Option<String>, StoreError> {
    let mut parts = Vec::with_capacity(terms.len());
    for t in terms {
        let t = t.replace('"', "");
        if t.len() <= PREFIX_INDEXED {
            parts.push(format!("\"{t}\"*"));
            continue;
        }
        // Words in [t, t') where t' is t with its last byte incremented (ASCII terms).
        let mut upper = t.clone().into_bytes();
        if let Some(last) = upper.last_mut() {
            *last = last.saturating_add(1);
        }
        let upper = String::from_utf8(upper).map_err(backend)?;
        let mut st = conn
            .prepare_cached(
                "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?2 ORDER BY term LIMIT ?3",
            )
            .map_err(backend)?;
        let words = st
            .query_map(rusqlite::params![t, upper, EXPANSION_MAX as i64 + 1], |r| {
                r.get::<_, String>(0)
            })
            .map_err(backend)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(backend)?;
        match words.len() {
            0 => return Ok(None),
            n if n > EXPANSION_MAX => parts.push(format!("\"{t}\"*")),
            _ => parts.push(format!(
                "({})",
                words
                    .iter()
                    .map(|w| format!("\"{w}\""))
                    .collect::<Vec<_>>()
                    .join(" OR ")
            )),
        }
    }
    // Explicit AND: FTS5 refuses an implicit one next to a parenthesised group.
    Ok(Some(parts.join(" AND ")))
}

/// The SQL (and its arguments) of one page of `q`, exposed so a test can check its query plan.
/// With free text, the search index drives the query (CROSS JOIN fixes the join order): it is
/// read newest first by its key (ordered like creation instants, see `search_key_base`), each
/// match is looked up by key and passes the other filters, and reading stops after one page,
/// so a common word costs a page, not a sort of every match. Reports created in the same
/// microsecond come in insertion order; the cursor of a text search is the key of its last row.
pub fn query_sql(q: &ReportQuery) -> Result<(String, Vec<rusqlite::types::Value>), StoreError> {
    let terms = q.text_terms();
    query_sql_matching(q, (!terms.is_empty()).then(|| fts_match(&terms)))
}

/// [`query_sql`] with the FTS5 query of its text (`None`: no text filter).
fn query_sql_matching(
    q: &ReportQuery,
    fts: Option<String>,
) -> Result<(String, Vec<rusqlite::types::Value>), StoreError> {
    use rusqlite::types::Value;
    let text = fts.is_some();
    let mut args: Vec<Value> = Vec::new();
    let mut sql = match fts {
        None => String::from("SELECT r.doc, r.created_at, r.id, 0 FROM reports r WHERE 1 = 1"),
        Some(m) => {
            args.push(Value::Text(m));
            String::from(
                "SELECT r.doc, r.created_at, r.id, f.rowid FROM reports_fts f \
                 CROSS JOIN report_search s CROSS JOIN reports r \
                 WHERE f.reports_fts MATCH ? AND s.seq = f.rowid AND r.id = s.report_id",
            )
        }
    };
    if !q.states.is_empty() {
        sql.push_str(" AND r.state IN (");
        for (i, s) in q.states.iter().enumerate() {
            sql.push_str(if i == 0 { "?" } else { ", ?" });
            args.push(Value::Text(s.as_str().to_string()));
        }
        sql.push(')');
    }
    if let Some(u) = &q.unit {
        sql.push_str(" AND r.id IN (SELECT report_id FROM report_units WHERE unit = ?)");
        args.push(Value::Text(u.clone()));
    }
    if let Some(c) = &q.category {
        sql.push_str(" AND r.category = ?");
        args.push(Value::Text(c.clone()));
    }
    if let Some(w) = &q.ward {
        sql.push_str(" AND r.ward = ?");
        args.push(Value::Text(w.clone()));
    }
    if let Some(p) = &q.reporter {
        sql.push_str(" AND r.reporter = ?");
        args.push(Value::Text(p.clone()));
    }
    if let Some(t) = q.overdue_at {
        sql.push_str(" AND r.clock_running = 1 AND r.due_at IS NOT NULL AND r.due_at < ?");
        args.push(Value::Integer(nanos(t)));
    }
    if q.public_only {
        sql.push_str(" AND r.public = 1");
    }
    if let Some(t) = q.created_from {
        sql.push_str(" AND r.created_at >= ?");
        args.push(Value::Integer(nanos(t)));
    }
    if let Some(t) = q.created_to {
        sql.push_str(" AND r.created_at < ?");
        args.push(Value::Integer(nanos(t)));
    }
    let size = q.page_size();
    if !text {
        if let Some(c) = &q.cursor {
            let (at, id) = decode_cursor(c)?;
            sql.push_str(" AND (r.created_at < ? OR (r.created_at = ? AND r.id < ?))");
            args.push(Value::Integer(at));
            args.push(Value::Integer(at));
            args.push(Value::Text(id));
        }
        sql.push_str(" ORDER BY r.created_at DESC, r.id DESC LIMIT ?");
    } else {
        // Bounds on the key narrow the index itself (whole microseconds; the exact instants
        // were checked above).
        if let Some(t) = q.created_from {
            sql.push_str(" AND f.rowid >= ?");
            args.push(Value::Integer(search_key_base(nanos(t))));
        }
        if let Some(t) = q.created_to {
            sql.push_str(" AND f.rowid < ?");
            args.push(Value::Integer(search_key_base(
                nanos(t).saturating_add(1000),
            )));
        }
        if let Some(c) = &q.cursor {
            sql.push_str(" AND f.rowid < ?");
            args.push(Value::Integer(decode_text_cursor(c)?));
        }
        sql.push_str(" ORDER BY f.rowid DESC LIMIT ?");
    }
    args.push(Value::Integer(size as i64 + 1));
    Ok((sql, args))
}

pub(super) fn query_tx(conn: &Connection, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
    let size = q.page_size();
    let terms = q.text_terms();
    let text = !terms.is_empty();
    let fts = if text {
        match fts_match_expanded(conn, &terms)? {
            Some(m) => Some(m),
            // A term starts no stored word: nothing matches.
            None => {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                })
            }
        }
    } else {
        None
    };
    let (sql, args) = query_sql_matching(q, fts)?;
    let mut st = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let more = rows.len() > size;
    let mut items = Vec::with_capacity(size);
    let mut last: Option<(i64, String, i64)> = None;
    for (doc, at, id, key) in rows.into_iter().take(size) {
        let report = parse_report(&doc)?;
        // The columns narrowed the set; the model's own predicate has the last word.
        if q.matches(&report) {
            items.push(report);
        } else {
            tracing::warn!(report_id = %id, "indexed columns disagree with the report document");
        }
        last = Some((at, id, key));
    }
    let next_cursor = match last {
        Some((_, _, key)) if more && text => Some(encode_text_cursor(key)),
        Some((at, id, _)) if more => Some(encode_cursor(at, &id)),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

/// The SQL of `escalations_due` (exposed so a test can check its query plan uses the index).
pub const ESCALATIONS_SQL: &str = "SELECT doc FROM reports
     WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= ?1
     ORDER BY next_escalation_at, id LIMIT ?2";

/// The duplicate check's read, answered by the covering index `reports_points`.
pub(super) const RECENT_POINTS_SQL: &str = "SELECT id, state, created_at, lat, lon \
        FROM reports INDEXED BY reports_points \
        WHERE category = ?1 AND created_at >= ?2 AND created_at < ?3 \
        ORDER BY created_at DESC, id DESC LIMIT ?4";

/// Recent reports of a category as points (see `ReportStore::recent_points`), from the index
/// that covers them: no document read, no `Report` deserialised.
pub(super) fn recent_points_tx(
    conn: &Connection,
    category: &str,
    from: i64,
    to: i64,
    limit: u32,
) -> Result<Vec<RecentPoint>, StoreError> {
    let mut st = conn.prepare_cached(RECENT_POINTS_SQL).map_err(backend)?;
    let rows = st
        .query_map(rusqlite::params![category, from, to, limit], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, Option<f64>>(3)?,
                r.get::<_, Option<f64>>(4)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    rows.into_iter()
        .map(|(id, state, at, lat, lon)| {
            Ok(RecentPoint {
                id: ReportId(id),
                state: State::parse(&state)
                    .ok_or_else(|| StoreError::Backend(format!("unknown state {state}")))?,
                category: category.to_string(),
                created_at: chrono::DateTime::from_timestamp_nanos(at),
                location: lat.zip(lon).map(|(lat, lon)| GeoPoint { lat, lon }),
            })
        })
        .collect()
}
