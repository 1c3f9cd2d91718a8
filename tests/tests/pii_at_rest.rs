//! Reporter personal data at rest (issue 12 item 5): the contract on the in-memory fake and on
//! SQLite, where what the store holds is read straight from the `reports` row. DynamoDB (with
//! the data key unwrapped by KMS) runs the same contract in `contract_aws.rs`.

use phananh_core::model::ReportId;
use phananh_core::pii::Keyring;
use phananh_core::ports::ReportStore;
use phananh_embedded::{SqliteStore, StoreOptions, DB_FILE};
use phananh_testkit::fakes::MemoryStore;
use phananh_tests::contract::{self, BoxFuture};
use phananh_tests::fixtures::TempDir;
use std::sync::Arc;

fn ring() -> Arc<Keyring> {
    Arc::new(Keyring::new(&[Keyring::generate_key()]).expect("ring"))
}

#[tokio::test]
async fn reporter_data_is_sealed_at_rest_on_memory() {
    let store = Arc::new(MemoryStore::default());
    let raw = store.clone();
    contract::pii_at_rest_contract(store, ring(), move |id: ReportId| {
        let raw = raw.clone();
        let fut: BoxFuture<'static, String> = Box::pin(async move {
            let r = raw.get(&id).await.expect("read").expect("report");
            serde_json::to_string(&r).expect("json")
        });
        fut
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reporter_data_is_sealed_at_rest_in_the_sqlite_file() {
    let dir = TempDir::new("phananh-pii-sqlite");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    let db = dir.path().join(DB_FILE);
    contract::pii_at_rest_contract(store, ring(), move |id: ReportId| {
        let db = db.clone();
        let fut: BoxFuture<'static, String> = Box::pin(async move {
            // The row itself, every column, with a connection of its own.
            let conn = rusqlite::Connection::open(&db).expect("open the database file");
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            conn.query_row(
                "SELECT id || ' ' || COALESCE(reporter, '') || ' ' || doc FROM reports WHERE id = ?1",
                [&id.0],
                |r| r.get(0),
            )
            .expect("the row")
        });
        fut
    })
    .await;
}

/// Issue 10: the events that carry the reporter's contact for the notify and publish
/// consumers hold it sealed; in memory, what the outbox holds as JSON.
#[tokio::test]
async fn events_carry_the_reporter_contact_sealed_on_memory() {
    let store = Arc::new(MemoryStore::default());
    let raw = store.clone();
    contract::event_contact_sealed_contract(store, ring(), move |id: ReportId| {
        let raw = raw.clone();
        let fut: BoxFuture<'static, Vec<String>> = Box::pin(async move {
            raw.pending_events(1000)
                .await
                .expect("outbox")
                .into_iter()
                .filter(|e| e.report_id == id)
                .map(|e| serde_json::to_string(&e).expect("json"))
                .collect()
        });
        fut
    })
    .await;
}

/// Issue 10: on SQLite, the outbox rows themselves (what the relay publishes), read with a
/// connection of their own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_carry_the_reporter_contact_sealed_in_the_sqlite_outbox() {
    let dir = TempDir::new("phananh-event-pii-sqlite");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    let db = dir.path().join(DB_FILE);
    contract::event_contact_sealed_contract(store, ring(), move |id: ReportId| {
        let db = db.clone();
        let fut: BoxFuture<'static, Vec<String>> = Box::pin(async move {
            let conn = rusqlite::Connection::open(&db).expect("open the database file");
            conn.busy_timeout(std::time::Duration::from_secs(5))
                .expect("busy timeout");
            let mut st = conn
                .prepare("SELECT json FROM outbox WHERE report_id = ?1 ORDER BY seq")
                .expect("query");
            let rows = st
                .query_map([&id.0], |r| r.get::<_, String>(0))
                .expect("rows")
                .collect::<Result<Vec<_>, _>>()
                .expect("outbox rows");
            rows
        });
        fut
    })
    .await;
}

/// Issue 10: events stored in the outbox while no key was configured carry the reporter's
/// contact as given (as the report document then stores it); the migration that seals the
/// reports seals them too, and the consumers then tell the reporter from the sealed contact.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_migration_seals_the_contact_of_events_stored_without_a_key() {
    use phananh_core::app::{App, Consumer, Ports};
    use phananh_core::lifecycle::NewReport;
    use phananh_core::model::{Actor, Reporter, Role};
    use phananh_testkit::fakes::{
        FastPasswords, FixedClock, MemoryMedia, RecordingNotifier, SeqIds,
    };
    const EMAIL: &str = "minh.lo@example.vn";
    let dir = TempDir::new("phananh-event-pii-migration");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    let notifier = Arc::new(RecordingNotifier::default());
    let keyless = App::new(
        Arc::new(phananh_tests::fixtures::rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: notifier.clone(),
            clock: Arc::new(FixedClock::new(phananh_tests::fixtures::t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    let input = NewReport {
        category: "environment".into(),
        title: "Rác trước chợ".into(),
        description: "Rác thải ùn ứ nhiều ngày trước chợ.".into(),
        location: None,
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: Some(Reporter {
            citizen_id: String::new(),
            name: None,
            phone: None,
            email: Some(EMAIL.into()),
        }),
        camera_id: None,
    };
    let citizen = Actor::new("cit-mig", Role::Citizen, None);
    keyless
        .submit(&citizen, input, &[], None)
        .await
        .expect("submitted");
    let db = dir.path().join(DB_FILE);
    let outbox = || -> Vec<String> {
        let conn = rusqlite::Connection::open(&db).expect("open the database file");
        let mut st = conn.prepare("SELECT json FROM outbox").expect("query");
        let rows = st
            .query_map([], |r| r.get::<_, String>(0))
            .expect("rows")
            .collect::<Result<Vec<_>, _>>()
            .expect("rows");
        rows
    };
    assert!(
        outbox().iter().any(|j| j.contains(EMAIL)),
        "as given without a key"
    );

    let ring = ring();
    store
        .seal_personal_data(ring.as_ref())
        .await
        .expect("migrated");
    let rows = outbox();
    assert!(!rows.is_empty());
    for j in &rows {
        assert!(!j.contains(EMAIL), "{j}");
    }
    let sealed = keyless.clone().with_pii_cipher(ring);
    for j in &rows {
        let env = serde_json::from_str(j).expect("event");
        sealed
            .handle_event(Consumer::Notify, &env)
            .await
            .expect("handled");
    }
    assert!(
        notifier.all().iter().any(|n| n.to == EMAIL),
        "{:?}",
        notifier.all()
    );
}
