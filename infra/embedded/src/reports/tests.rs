//! Unit tests of the report store's private parts (cursor format, escalation query plan).

use super::queries::{decode_cursor, encode_cursor};
use super::*;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rusqlite::{params, Connection};

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

#[test]
fn text_search_is_driven_by_the_full_text_index() {
    let dir = std::env::temp_dir().join(format!("phananh-plan-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conn = Connection::open(dir.join("x.db")).unwrap();
    crate::schema::migrate(&mut conn).unwrap();
    let q = ReportQuery {
        text: Some("Ổ gà Trần Phú".into()),
        category: Some("giao_thong".into()),
        cursor: Some(super::queries::encode_text_cursor(5)),
        created_from: Some(chrono::Utc::now()),
        ..Default::default()
    };
    let (sql, args) = query_sql(&q).unwrap();
    assert_eq!(
        args[0],
        rusqlite::types::Value::Text("\"o\"* \"ga\"* \"tran\"* \"phu\"*".into())
    );
    let mut st = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let plan: Vec<String> = st
        .query_map(rusqlite::params_from_iter(args.iter()), |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join(" | ");
    // The FTS5 index drives; reports and their search keys are looked up by key, never scanned.
    assert!(
        plan.starts_with("SCAN f VIRTUAL TABLE INDEX"),
        "plan: {plan}"
    );
    assert!(!plan.contains("SCAN r"), "plan: {plan}");
    assert!(!plan.contains("SCAN s"), "plan: {plan}");
    // Read newest first from the index itself: no sort of the matches.
    assert!(!plan.contains("TEMP B-TREE"), "plan: {plan}");
    drop(st);
    drop(conn);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_duplicate_check_reads_a_covering_index_and_old_databases_get_their_points() {
    let dir = std::env::temp_dir().join(format!("phananh-points-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut conn = Connection::open(dir.join("x.db")).unwrap();
    // A database from before the location columns, holding one located report.
    crate::schema::migrate_upto(&mut conn, 3).unwrap();
    let doc = r#"{"id":"r-1","location":{"lat":22.25,"lon":103.5}}"#;
    conn.execute(
        "INSERT INTO reports (id, version, state, category, created_at, clock_running, public, doc)
         VALUES ('r-1', 1, 'submitted', 'environment', 1000, 0, 0, ?1)",
        params![doc],
    )
    .unwrap();
    crate::schema::migrate(&mut conn).unwrap();
    let points = super::queries::recent_points_tx(&conn, "environment", 0, 2000, 10).unwrap();
    assert_eq!(points.len(), 1);
    assert_eq!(
        points[0].location,
        Some(phananh_core::model::GeoPoint {
            lat: 22.25,
            lon: 103.5
        })
    );
    let mut st = conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            super::queries::RECENT_POINTS_SQL
        ))
        .unwrap();
    let plan: Vec<String> = st
        .query_map(params!["environment", 0i64, 2000i64, 10i64], |r| {
            r.get::<_, String>(3)
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let plan = plan.join(" | ");
    assert!(
        plan.contains("COVERING INDEX reports_points"),
        "plan: {plan}"
    );
    drop(st);
    drop(conn);
    std::fs::remove_dir_all(&dir).unwrap();
}
