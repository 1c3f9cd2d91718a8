//! The port contract suites against the embedded adapters (SQLite, files, in-process queues,
//! notification outbox). Each suite runs on fresh temporary directories that are removed after.

use phananh_core::model::{EventEnvelope, ReportId};
use phananh_core::ports::{AccountStore, MediaStore, Notification, ReportStore};
use phananh_embedded::{
    handler, spawn_media_server, Embedded, EmbeddedConfig, FileMediaStore, OutboxNotifier,
    SqliteStore, StoreOptions,
};
use phananh_tests::contract::{self, BoxFuture};
use phananh_tests::fixtures::TempDir;
use std::sync::{Arc, Mutex};

const SECRET: &[u8] = b"contract-test-secret-0123456789";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_store_contract_on_sqlite() {
    let dirs: Arc<Mutex<Vec<TempDir>>> = Arc::default();
    let make = {
        let dirs = dirs.clone();
        move || {
            let dir = TempDir::new("phananh-contract-reports");
            let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
            dirs.lock().unwrap().push(dir);
            async move { store as Arc<dyn ReportStore> }
        }
    };
    contract::report_store_contract(make).await;
    drop(dirs);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_store_contract_on_sqlite() {
    let dir = TempDir::new("phananh-contract-accounts");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    contract::account_store_contract(store.as_ref() as &dyn AccountStore).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_store_contract_on_files() {
    let dir = TempDir::new("phananh-contract-media");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let store = Arc::new(
        FileMediaStore::new(dir.path(), &format!("http://{addr}"), SECRET).expect("media store"),
    );
    let server = spawn_media_server(listener, store.clone());
    contract::media_store_contract(store.as_ref() as &dyn MediaStore).await;
    server.abort();
}

async fn served_files_store(dir: &TempDir) -> (Arc<FileMediaStore>, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let store = Arc::new(
        FileMediaStore::new(dir.path(), &format!("http://{addr}"), SECRET).expect("media store"),
    );
    let server = spawn_media_server(listener, store.clone());
    (store, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_publishes_gps_photos_only_as_clean_copies_on_files() {
    let dir = TempDir::new("phananh-pipeline-gps");
    let (store, server) = served_files_store(&dir).await;
    phananh_tests::pipeline::gps_photo_is_published_only_as_a_clean_copy(store).await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_refuses_forged_uploads_on_files() {
    let dir = TempDir::new("phananh-pipeline-forged");
    let (store, server) = served_files_store(&dir).await;
    phananh_tests::pipeline::forged_uploads_are_refused_with(store, None).await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn media_pipeline_refuses_bad_uploads_on_files() {
    let dir = TempDir::new("phananh-pipeline-bad");
    let (store, server) = served_files_store(&dir).await;
    phananh_tests::pipeline::bad_uploads_are_refused(store).await;
    server.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_bus_contract_on_in_process_queues() {
    let dir = TempDir::new("phananh-contract-bus");
    let emb = Embedded::open(EmbeddedConfig::new(
        dir.path(),
        "http://127.0.0.1:1",
        SECRET,
    ))
    .expect("open embedded");
    let received: Arc<Mutex<Vec<EventEnvelope>>> = Arc::default();
    let sink = received.clone();
    emb.consumers.register(
        "contract",
        &[],
        handler(move |e| {
            let sink = sink.clone();
            async move {
                sink.lock().map_err(|e| e.to_string())?.push(e);
                Ok(())
            }
        }),
    );
    let worker = emb.worker();
    let drain = move || -> BoxFuture<'static, Vec<EventEnvelope>> {
        let worker = worker.clone();
        let received = received.clone();
        Box::pin(async move {
            worker
                .run_once(chrono::Utc::now())
                .await
                .expect("worker pass");
            std::mem::take(&mut *received.lock().unwrap())
        })
    };
    contract::event_bus_contract(emb.bus.as_ref(), drain, 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifier_contract_on_outbox() {
    let dir = TempDir::new("phananh-contract-notify");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    let notifier = Arc::new(OutboxNotifier::new(store, None));
    let n2 = notifier.clone();
    let observe = move |id: ReportId| -> BoxFuture<'static, Vec<Notification>> {
        let n = n2.clone();
        Box::pin(async move {
            n.list_notifications(Some(id.as_str()), 100)
                .await
                .expect("list")
                .into_iter()
                .map(|r| r.notification)
                .collect()
        })
    };
    contract::notifier_contract(notifier.as_ref(), observe, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_staff_at_once_on_sqlite() {
    let dir = TempDir::new("phananh-contract-races");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    contract::two_staff_acting_at_once_one_wins_the_other_sees_the_current_version(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delivery_log_contract_on_sqlite_with_smtp_and_the_fake_sms_provider() {
    let dir = TempDir::new("phananh-contract-deliveries");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    let smtp =
        phananh_testkit::smtp::SmtpServer::start(phananh_testkit::smtp::SmtpMode::Accept, 4).await;
    let notifier = OutboxNotifier::new(
        store,
        Some(phananh_embedded::SmtpConfig::new(
            "127.0.0.1",
            smtp.port,
            "noreply@laichau.gov.vn",
        )),
    )
    .with_sms(Some(Arc::new(phananh_embedded::FakeSmsProvider::new())));
    contract::delivery_log_contract(&notifier, &notifier).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guard_store_contract_on_sqlite() {
    let dir = TempDir::new("phananh-contract-guards");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    contract::guard_store_contract(store.clone()).await;
    contract::sign_in_guards_contract(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aggregate_store_contract_on_sqlite() {
    let dir = TempDir::new("phananh-contract-aggregates");
    let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open store");
    contract::aggregate_store_contract(store.as_ref()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_slots_contract_on_file_records() {
    let dir = TempDir::new("phananh-contract-slots");
    let (store, server) = served_files_store(&dir).await;
    contract::upload_slots_contract(Arc::new(phananh_core::slots::MediaSlots::new(store))).await;
    server.abort();
}
