//! `ReportStore` and `AccountStore` on the SQLite database (transactional outbox included).

use crate::db::{backend, SqliteStore};
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use phananh_core::model::{EventEnvelope, Report, ReportId};
use phananh_core::ports::{
    AccountStore, CreateOutcome, Page, ReportQuery, ReportStore, StaffAccount, StoreError,
};
use rusqlite::{params, Connection, OptionalExtension};

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

fn encode_cursor(created_at: i64, id: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("v1:{created_at}:{id}"))
}

fn decode_cursor(cursor: &str) -> Result<(i64, String), StoreError> {
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

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(backend)
}

fn parse_report(doc: &str) -> Result<Report, StoreError> {
    serde_json::from_str(doc)
        .map_err(|e| StoreError::Backend(format!("corrupt report document: {e}")))
}

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
    units: Vec<String>,
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
        })
    }
}

/// Outbox rows: (event id, report id, JSON).
pub(crate) fn event_rows(
    events: &[EventEnvelope],
) -> Result<Vec<(String, String, String)>, StoreError> {
    events
        .iter()
        .map(|e| Ok((e.id.clone(), e.report_id.0.clone(), to_json(e)?)))
        .collect()
}

/// Writes the indexed columns and the document (`fresh`: a new report, else a replacement).
fn put_report_row(conn: &Connection, r: &ReportRow, fresh: bool) -> Result<(), StoreError> {
    let sql = if fresh {
        "INSERT INTO reports (id, version, state, category, ward, lead_unit, reporter,
            created_at, due_at, clock_running, next_escalation_at, public, doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
    } else {
        "UPDATE reports SET version = ?2, state = ?3, category = ?4, ward = ?5, lead_unit = ?6,
            reporter = ?7, created_at = ?8, due_at = ?9, clock_running = ?10,
            next_escalation_at = ?11, public = ?12, doc = ?13
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

fn append_events(conn: &Connection, events: &[(String, String, String)]) -> Result<(), StoreError> {
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

fn create_tx(
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

fn update_tx(
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

fn load_reports(
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

fn query_tx(conn: &Connection, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
    use rusqlite::types::Value;
    let mut sql = String::from("SELECT r.doc, r.created_at, r.id FROM reports r WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
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
    if let Some(c) = &q.cursor {
        let (at, id) = decode_cursor(c)?;
        sql.push_str(" AND (r.created_at < ? OR (r.created_at = ? AND r.id < ?))");
        args.push(Value::Integer(at));
        args.push(Value::Integer(at));
        args.push(Value::Text(id));
    }
    let size = q.page_size();
    sql.push_str(" ORDER BY r.created_at DESC, r.id DESC LIMIT ?");
    args.push(Value::Integer(size as i64 + 1));

    let mut st = conn.prepare(&sql).map_err(backend)?;
    let rows = st
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, String>(2)?,
            ))
        })
        .map_err(backend)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(backend)?;
    let more = rows.len() > size;
    let mut items = Vec::with_capacity(size);
    let mut last: Option<(i64, String)> = None;
    for (doc, at, id) in rows.into_iter().take(size) {
        let report = parse_report(&doc)?;
        // The columns narrowed the set; the model's own predicate has the last word.
        if q.matches(&report) {
            items.push(report);
        } else {
            tracing::warn!(report_id = %id, "indexed columns disagree with the report document");
        }
        last = Some((at, id));
    }
    let next_cursor = if more {
        last.map(|(at, id)| encode_cursor(at, &id))
    } else {
        None
    };
    Ok(Page { items, next_cursor })
}

/// The SQL of `escalations_due` (exposed so a test can check its query plan uses the index).
pub const ESCALATIONS_SQL: &str = "SELECT doc FROM reports
     WHERE next_escalation_at IS NOT NULL AND next_escalation_at <= ?1
     ORDER BY next_escalation_at, id LIMIT ?2";

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

    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "SELECT json FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT ?1",
                )
                .map_err(backend)?;
            let docs = st
                .query_map([limit], |r| r.get::<_, String>(0))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            docs.iter()
                .map(|d| serde_json::from_str(d).map_err(backend))
                .collect()
        })
        .await
    }

    async fn mark_published(&self, event_ids: &[String]) -> Result<(), StoreError> {
        if event_ids.is_empty() {
            return Ok(());
        }
        let ids = event_ids.to_vec();
        let now = nanos(Utc::now());
        self.write(move |conn| {
            let mut st = conn
                .prepare_cached(
                    "UPDATE outbox SET published_at = ?1 WHERE event_id = ?2 AND published_at IS NULL",
                )
                .map_err(backend)?;
            for id in &ids {
                st.execute(params![now, id]).map_err(backend)?;
            }
            Ok(())
        })
        .await
    }
}

fn parse_account(doc: &str) -> Result<StaffAccount, StoreError> {
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(format!("corrupt account: {e}")))
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    )
}

#[async_trait]
impl AccountStore for SqliteStore {
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let a = account.clone();
        self.write(move |conn| {
            let doc = to_json(&a)?;
            match conn.execute(
                "INSERT INTO accounts (id, username, doc) VALUES (?1, ?2, ?3)",
                params![a.id, a.username, doc],
            ) {
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists),
                Err(e) => Err(backend(e)),
            }
        })
        .await
    }

    async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let username = username.to_string();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row(
                    "SELECT doc FROM accounts WHERE username = ?1",
                    [username],
                    |r| r.get(0),
                )
                .optional()
                .map_err(backend)?;
            doc.as_deref().map(parse_account).transpose()
        })
        .await
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError> {
        let id = id.to_string();
        self.read(move |conn| {
            let doc: Option<String> = conn
                .query_row("SELECT doc FROM accounts WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(backend)?;
            doc.as_deref().map(parse_account).transpose()
        })
        .await
    }

    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let a = account.clone();
        self.write(move |conn| {
            let doc = to_json(&a)?;
            match conn.execute(
                "UPDATE accounts SET username = ?2, doc = ?3 WHERE id = ?1",
                params![a.id, a.username, doc],
            ) {
                Ok(0) => Err(StoreError::NotFound),
                Ok(_) => Ok(()),
                Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists),
                Err(e) => Err(backend(e)),
            }
        })
        .await
    }

    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        self.read(|conn| {
            let mut st = conn
                .prepare("SELECT doc FROM accounts ORDER BY username")
                .map_err(backend)?;
            let docs = st
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            docs.iter().map(|d| parse_account(d)).collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = encode_cursor(123, "abc:def");
        assert_eq!(decode_cursor(&c), Ok((123, "abc:def".to_string())));
        assert_eq!(decode_cursor("%%%"), Err(StoreError::BadCursor));
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("v2:1:x")),
            Err(StoreError::BadCursor)
        );
        assert_eq!(
            decode_cursor(&URL_SAFE_NO_PAD.encode("v1:nan:x")),
            Err(StoreError::BadCursor)
        );
    }

    #[test]
    fn escalation_query_uses_its_index() {
        let dir = std::env::temp_dir().join(format!("phananh-plan-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut conn = Connection::open(dir.join("x.db")).unwrap();
        crate::schema::migrate(&mut conn).unwrap();
        let mut st = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {ESCALATIONS_SQL}"))
            .unwrap();
        let plan: Vec<String> = st
            .query_map(params![0i64, 10i64], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let plan = plan.join(" | ");
        assert!(plan.contains("reports_escalation"), "plan: {plan}");
        assert!(!plan.contains("SCAN reports"), "plan: {plan}");
        drop(st);
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
