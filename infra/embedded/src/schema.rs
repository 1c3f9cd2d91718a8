//! Database schema and migrations (a `schema_version` table records what was applied).

use rusqlite::Connection;

/// Ordered migrations; index + 1 is the schema version each one produces.
const MIGRATIONS: &[&str] = &[
    // 1: reports, their unit lookup, idempotency keys, the transactional outbox, accounts,
    //    in-process queue deliveries and dead letters, and the notification outbox.
    r#"
    CREATE TABLE reports (
        id                 TEXT PRIMARY KEY,
        version            INTEGER NOT NULL,
        state              TEXT NOT NULL,
        category           TEXT NOT NULL,
        ward               TEXT,
        lead_unit          TEXT,
        reporter           TEXT,
        created_at         INTEGER NOT NULL,
        due_at             INTEGER,
        clock_running      INTEGER NOT NULL,
        next_escalation_at INTEGER,
        public             INTEGER NOT NULL,
        doc                TEXT NOT NULL
    );
    CREATE INDEX reports_created   ON reports (created_at DESC, id DESC);
    CREATE INDEX reports_state     ON reports (state, created_at DESC, id DESC);
    CREATE INDEX reports_category  ON reports (category, created_at DESC, id DESC);
    CREATE INDEX reports_ward      ON reports (ward, created_at DESC, id DESC) WHERE ward IS NOT NULL;
    CREATE INDEX reports_reporter  ON reports (reporter, created_at DESC, id DESC) WHERE reporter IS NOT NULL;
    CREATE INDEX reports_public    ON reports (created_at DESC, id DESC) WHERE public = 1;
    CREATE INDEX reports_overdue   ON reports (due_at) WHERE clock_running = 1 AND due_at IS NOT NULL;
    CREATE INDEX reports_escalation ON reports (next_escalation_at, id) WHERE next_escalation_at IS NOT NULL;

    CREATE TABLE report_units (
        unit       TEXT NOT NULL,
        report_id  TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (unit, report_id)
    ) WITHOUT ROWID;
    CREATE INDEX report_units_by_unit ON report_units (unit, created_at DESC, report_id DESC);
    CREATE INDEX report_units_by_report ON report_units (report_id);

    CREATE TABLE idempotency (
        key       TEXT PRIMARY KEY,
        report_id TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE outbox (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        event_id     TEXT NOT NULL UNIQUE,
        report_id    TEXT NOT NULL,
        json         TEXT NOT NULL,
        published_at INTEGER
    );
    CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;

    CREATE TABLE accounts (
        id       TEXT PRIMARY KEY,
        username TEXT NOT NULL UNIQUE,
        doc      TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE deliveries (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        consumer        TEXT NOT NULL,
        event_id        TEXT NOT NULL,
        report_id       TEXT NOT NULL,
        json            TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER NOT NULL,
        last_error      TEXT,
        UNIQUE (consumer, event_id)
    );
    CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id);

    CREATE TABLE dead_letters (
        consumer   TEXT NOT NULL,
        event_id   TEXT NOT NULL,
        report_id  TEXT NOT NULL,
        json       TEXT NOT NULL,
        attempts   INTEGER NOT NULL,
        last_error TEXT,
        failed_at  INTEGER NOT NULL,
        PRIMARY KEY (consumer, event_id)
    );

    CREATE TABLE notifications (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT NOT NULL UNIQUE,
        channel    TEXT NOT NULL,
        report_id  TEXT,
        status     TEXT NOT NULL,
        error      TEXT,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        doc        TEXT NOT NULL
    );
    CREATE INDEX notifications_report ON notifications (report_id, seq) WHERE report_id IS NOT NULL;
    "#,
    // 2: free-text search. `report_search` gives each report a stable integer key (an
    //    INTEGER PRIMARY KEY survives VACUUM, the implicit rowid of `reports` does not),
    //    ordered like creation instants (microseconds x 1024 + a slot), so a search reads
    //    the index newest first and stops after one page instead of sorting every match;
    //    `reports_fts` indexes the folded (lowercase ASCII, diacritics stripped) title,
    //    description and address under that key. Contentless (the text is only indexed, the
    //    document stays in `reports`), deletable, without positions (queries are ANDs of
    //    prefix terms), with prefix indexes so short prefixes are one lookup. Rows are filled
    //    by the writes of reports in the same transaction; existing reports are backfilled by
    //    `backfill_search` right after this migration.
    r#"
    CREATE TABLE report_search (
        seq       INTEGER PRIMARY KEY,
        report_id TEXT NOT NULL UNIQUE
    );
    CREATE VIRTUAL TABLE reports_fts USING fts5(
        text,
        content = '',
        contentless_delete = 1,
        detail = none,
        prefix = '1 2 3',
        tokenize = 'ascii'
    );
    "#,
    // 3: the words of the search index, so a query term longer than the prefix indexes
    //    expands to the few words it starts (an OR of exact terms, read incrementally) instead
    //    of FTS5 merging the doclists of every such word in memory (hundreds of ms for a word
    //    in most reports). Filled with the search index; existing words backfilled.
    r#"
    CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
    "#,
    // 4: the delivery log (issue 13): attempts, the provider and its message id, and when a
    //    failed notification is tried again (an index by due time, so the retry pass reads
    //    only what is due). Earlier failures become retries due at once.
    r#"
    ALTER TABLE notifications ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE notifications ADD COLUMN provider TEXT;
    ALTER TABLE notifications ADD COLUMN provider_message_id TEXT;
    ALTER TABLE notifications ADD COLUMN next_attempt_at INTEGER;
    UPDATE notifications SET status = 'retrying', next_attempt_at = updated_at WHERE status = 'failed';
    CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE next_attempt_at IS NOT NULL;
    CREATE INDEX notifications_status ON notifications (status, seq);
    CREATE INDEX notifications_channel ON notifications (channel, seq);
    "#,
    // 5: the location as columns and an index that covers the duplicate check (category, time,
    //    state, location), so screening a new report reads points, never documents; and the
    //    fingerprint of each report's indexed text.
    r#"
    ALTER TABLE reports ADD COLUMN lat REAL;
    ALTER TABLE reports ADD COLUMN lon REAL;
    UPDATE reports SET lat = json_extract(doc, '$.location.lat'),
                       lon = json_extract(doc, '$.location.lon')
     WHERE json_extract(doc, '$.location') IS NOT NULL;
    CREATE INDEX reports_points ON reports (category, created_at DESC, id DESC, state, lat, lon);
    -- The fingerprint of the text each report is indexed with: an update that leaves the text
    -- alone does not rewrite the full-text index (NULL: re-indexed at the next update).
    ALTER TABLE report_search ADD COLUMN text_hash INTEGER;
    "#,
    // 6: sign-in guards (one-time codes as keyed hashes, attempt counters, cool-downs) under
    //    keyed digests; compare-and-swap on `version`; expired rows are swept on insert.
    r#"
    CREATE TABLE guards (
        key        TEXT PRIMARY KEY,
        version    INTEGER NOT NULL,
        doc        TEXT NOT NULL,
        expires_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX guards_expiry ON guards (expires_at);
    "#,
    // 7: statistics from aggregates (issue 13 item 6): the rows per local month and key
    //    (`all`, `unit:..`, `category:..`, `ward:..`) as JSON figures, and each report's
    //    contribution with the version it was computed from. Existing reports are counted by
    //    `App::rebuild_stats` (`serve` runs it when reports exist and no contribution does).
    r#"
    CREATE TABLE stats_rows (
        month TEXT NOT NULL,
        key   TEXT NOT NULL,
        doc   TEXT NOT NULL,
        PRIMARY KEY (month, key)
    ) WITHOUT ROWID;
    CREATE TABLE stats_contrib (
        report_id TEXT PRIMARY KEY,
        version   INTEGER NOT NULL,
        doc       TEXT NOT NULL
    ) WITHOUT ROWID;
    "#,
    // 8: reporter personal data sealed at rest (issue 12 item 5): the ids of the data keys
    //    every stored report has been sealed with (`SqliteStore::seal_personal_data`, which
    //    needs the key and so runs at start-up, not here).
    r#"
    CREATE TABLE pii_sealing (
        key_id    TEXT PRIMARY KEY,
        sealed_at INTEGER NOT NULL,
        reports   INTEGER NOT NULL
    ) WITHOUT ROWID;
    "#,
];

/// The migration after which existing reports must be indexed for search.
const SEARCH_MIGRATION: i64 = 2;
/// The migration after which the words of existing reports must be listed.
const TERMS_MIGRATION: i64 = 3;

/// The schema version this build expects.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Applies the migrations not applied yet, each in its own transaction.
pub(crate) fn migrate(conn: &mut Connection) -> rusqlite::Result<i64> {
    migrate_upto(conn, SCHEMA_VERSION)
}

/// [`migrate`] stopping after migration `target` (tests build older databases with it).
pub(crate) fn migrate_upto(conn: &mut Connection, target: i64) -> rusqlite::Result<i64> {
    conn.execute_batch("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")?;
    let current: i64 = conn.query_row(
        "SELECT COALESCE(MAX(version), 0) FROM schema_version",
        [],
        |r| r.get(0),
    )?;
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if version <= current || version > target {
            continue;
        }
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        if version == SEARCH_MIGRATION {
            backfill_search(&tx)?;
        } else if version == TERMS_MIGRATION {
            backfill_terms(&tx)?;
        }
        tx.execute(
            "INSERT INTO schema_version (version) VALUES (?1)",
            [version],
        )?;
        tx.commit()?;
        tracing::info!(version, "applied database migration");
    }
    Ok(current.max(target))
}

/// Lists the words of every report indexed before the words table existed.
fn backfill_terms(conn: &Connection) -> rusqlite::Result<()> {
    let mut read = conn.prepare("SELECT doc FROM reports")?;
    let mut rows = read.query([])?;
    while let Some(row) = rows.next()? {
        let doc: String = row.get(0)?;
        let report: phananh_core::model::Report = serde_json::from_str(&doc).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?;
        crate::reports::put_search_terms(
            conn,
            &phananh_core::ports::ReportQuery::search_text(&report),
        )?;
    }
    Ok(())
}

/// Indexes, for search, every report stored before the search migration.
fn backfill_search(conn: &Connection) -> rusqlite::Result<()> {
    let mut read = conn.prepare("SELECT id, created_at, doc FROM reports")?;
    let mut rows = read.query([])?;
    let mut n = 0u64;
    while let Some(row) = rows.next()? {
        let id: String = row.get(0)?;
        let created_at: i64 = row.get(1)?;
        let doc: String = row.get(2)?;
        let report: phananh_core::model::Report = serde_json::from_str(&doc).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
        })?;
        let text = phananh_core::ports::ReportQuery::search_text(&report);
        crate::reports::put_search_text(conn, &id, created_at, &text, true)?;
        n += 1;
    }
    if n > 0 {
        tracing::info!(reports = n, "indexed existing reports for search");
    }
    Ok(())
}
