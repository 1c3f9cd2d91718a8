//! The port contract suites against the in-memory fakes of `phananh-testkit`, so the fakes the
//! core and HTTP tests run on behave like the real adapters. (The media fake has no HTTP side
//! for presigned URLs, so the media suite runs only on the real adapters.)

use phananh_core::model::ReportId;
use phananh_core::ports::{AccountStore, Notification, ReportStore};
use phananh_testkit::fakes::{MemoryStore, RecordingNotifier};
use phananh_tests::contract::{self, BoxFuture};
use std::sync::Arc;

#[tokio::test]
async fn report_store_contract_on_memory() {
    let make = || async { Arc::new(MemoryStore::default()) as Arc<dyn ReportStore> };
    contract::report_store_contract(make).await;
}

#[tokio::test]
async fn account_store_contract_on_memory() {
    let store = MemoryStore::default();
    contract::account_store_contract(&store as &dyn AccountStore).await;
}

#[tokio::test]
async fn notifier_contract_on_the_recording_fake() {
    let notifier = Arc::new(RecordingNotifier::default());
    let seen = notifier.clone();
    let observe = move |id: ReportId| -> BoxFuture<'static, Vec<Notification>> {
        let all = seen.all();
        Box::pin(async move {
            all.into_iter()
                .filter(|n| n.report_id.as_ref() == Some(&id))
                .collect()
        })
    };
    contract::notifier_contract(notifier.as_ref(), observe, 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_staff_at_once_on_memory() {
    contract::two_staff_acting_at_once_one_wins_the_other_sees_the_current_version(Arc::new(
        MemoryStore::default(),
    ))
    .await;
}

#[tokio::test]
async fn delivery_log_contract_on_the_recording_fake() {
    let notifier = RecordingNotifier::default();
    contract::delivery_log_contract(&notifier, &notifier).await;
}

#[tokio::test]
async fn guard_store_contract_on_memory() {
    let store = Arc::new(phananh_core::ports::MemoryGuards::default());
    contract::guard_store_contract(store.clone()).await;
    contract::sign_in_guards_contract(store).await;
}

#[tokio::test]
async fn aggregate_store_contract_on_memory() {
    contract::aggregate_store_contract(&phananh_core::aggregates::MemoryAggregates::default())
        .await;
}

#[tokio::test]
async fn upload_slots_contract_on_media_records_in_memory() {
    let media = Arc::new(phananh_testkit::fakes::MemoryMedia::default());
    contract::upload_slots_contract(Arc::new(phananh_core::slots::MediaSlots::new(media))).await;
}
