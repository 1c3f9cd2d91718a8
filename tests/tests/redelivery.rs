//! At-least-once delivery on every store: each consumer gets each message twice, in a seeded
//! shuffled order, and the sweep runs twice; the end state, the timelines and the notifications
//! sent are those of one in-order delivery (`contract::redelivery`). The seed is printed;
//! `PHANANH_REDELIVERY_SEED=<n>` replays one, `PHANANH_REDELIVERY_SEEDS=<k>` plays k seeds.

use phananh_core::ports::ReportStore;
use phananh_embedded::{SqliteStore, StoreOptions};
use phananh_testkit::fakes::MemoryStore;
use phananh_tests::contract::{self, redelivery::redelivery_seed};
use phananh_tests::fixtures::TempDir;
use phananh_tests::moto;
use phananh_tests::stream_tap::StreamTap;
use std::sync::{Arc, Mutex};

/// Seeds to play: the one given (or from the clock), then k-1 more derived from it.
fn seeds() -> Vec<u64> {
    let first = redelivery_seed();
    let k: u64 = std::env::var("PHANANH_REDELIVERY_SEEDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1)
        .clamp(1, 1000);
    (0..k)
        .map(|i| first.wrapping_add(i.wrapping_mul(7919)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_twice_and_shuffled_on_memory() {
    for seed in seeds() {
        let fresh = || async { Arc::new(MemoryStore::default()) as Arc<dyn ReportStore> };
        contract::every_consumer_twice_and_shuffled_ends_as_one_in_order_delivery(fresh, seed)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_twice_and_shuffled_on_sqlite() {
    let dirs: Arc<Mutex<Vec<TempDir>>> = Arc::default();
    for seed in seeds() {
        let fresh = || {
            let dirs = dirs.clone();
            async move {
                let dir = TempDir::new("phananh-redelivery");
                let store = SqliteStore::open(dir.path(), StoreOptions::default()).expect("open");
                dirs.lock().expect("dirs").push(dir);
                store as Arc<dyn ReportStore>
            }
        };
        contract::every_consumer_twice_and_shuffled_ends_as_one_in_order_delivery(fresh, seed)
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_twice_and_shuffled_on_dynamodb() {
    let seed = redelivery_seed();
    let fresh = || async {
        let (clients, settings) = moto::provision_table().await.expect("table");
        let stream = StreamTap::open(&clients, &settings.table)
            .await
            .expect("stream");
        contract::redelivery::Fresh {
            store: Arc::new(phananh_aws::DynamoReportStore::from_settings(
                &clients, &settings,
            )),
            stream: Some(stream),
        }
    };
    contract::every_consumer_twice_and_shuffled_ends_as_one_in_order_delivery(fresh, seed).await;
}

fn embedded(dir: &TempDir) -> phananh_embedded::Embedded {
    let cfg = phananh_embedded::EmbeddedConfig::new(
        dir.path(),
        "http://127.0.0.1:1",
        b"redelivery-test-secret-0123".to_vec(),
    );
    phananh_embedded::Embedded::open(cfg).expect("open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redelivered_twice_through_the_embedded_queue_worker() {
    let (da, db) = (
        TempDir::new("phananh-redelivery-a"),
        TempDir::new("phananh-redelivery-b"),
    );
    let (a, b) = (embedded(&da), embedded(&db));
    contract::redelivery::every_consumer_twice_through_the_embedded_queue_ends_as_one_delivery(
        &a, &b,
    )
    .await;
}
