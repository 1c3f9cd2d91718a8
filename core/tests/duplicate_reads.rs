//! What the duplicate check (Đ.5 hints) reads: only near the report, with the configured
//! radius and window, and nothing at all for a report without a location (it can have no
//! duplicate by rule); the hints found are the same as the rule gives.

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_core::app::{App, Ports};
use phananh_core::lifecycle::NewReport;
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_testkit::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use phananh_testkit::fixtures::rules;
use std::sync::{Arc, Mutex};

/// One `recent_points_near` read: centre, radius, window.
type NearRead = (GeoPoint, f64, DateTime<Utc>, DateTime<Utc>);

/// The report store, recording the duplicate check's reads.
#[derive(Default)]
struct RecordingStore {
    inner: MemoryStore,
    /// (centre, radius, window) of each `recent_points_near`.
    near: Mutex<Vec<NearRead>>,
    /// Reads of the whole category window (`recent_points`, `query`).
    wide: Mutex<usize>,
}

#[async_trait]
impl ReportStore for RecordingStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        self.inner.create(report, events, key).await
    }
    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        self.inner.get(id).await
    }
    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError> {
        self.inner.update(report, expected_version, events).await
    }
    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        *self.wide.lock().unwrap() += 1;
        self.inner.query(q).await
    }
    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        self.inner.escalations_due(until, limit).await
    }
    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        self.inner.pending_events(limit).await
    }
    async fn mark_published(&self, ids: &[String]) -> Result<(), StoreError> {
        self.inner.mark_published(ids).await
    }
    async fn recent_points_near(
        &self,
        category: &str,
        center: GeoPoint,
        radius_m: f64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        self.near.lock().unwrap().push((center, radius_m, from, to));
        // What the points-only read gives: the category's window within the radius.
        let points = self.inner.recent_points(category, from, to, limit).await?;
        Ok(points
            .into_iter()
            .filter(|p| p.is_within(center, radius_m))
            .collect())
    }
}

fn input(location: Option<GeoPoint>) -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location,
        address: Some("Phường Tân Phong".into()),
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

#[tokio::test]
async fn the_check_reads_near_the_report_only_and_not_at_all_without_a_location() {
    let store = Arc::new(RecordingStore::default());
    let start = Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap();
    let clock = Arc::new(FixedClock::new(start));
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: Arc::new(MemoryStore::default()),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: clock.clone(),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    let citizen = Actor::new("dev-1", Role::Citizen, None);
    let here = GeoPoint {
        lat: 22.3965,
        lon: 103.4585,
    };
    // About 60 m north: within Lai Châu's 150 m.
    let near = GeoPoint {
        lat: 22.3970,
        lon: 103.4585,
    };
    let (first, _) = app
        .submit(&citizen, input(Some(here)), &[], None)
        .await
        .unwrap();
    app.classify(&first.id).await.unwrap();
    clock.advance(Duration::minutes(10));
    let (second, _) = app
        .submit(&citizen, input(Some(near)), &[], None)
        .await
        .unwrap();
    app.classify(&second.id).await.unwrap();
    let (unlocated, _) = app.submit(&citizen, input(None), &[], None).await.unwrap();
    app.classify(&unlocated.id).await.unwrap();

    let city = &rules().config.city;
    let window = Duration::hours(i64::from(city.duplicate_window_hours));
    let reads = store.near.lock().unwrap().clone();
    assert_eq!(
        reads.len(),
        2,
        "one read per located report, none for the unlocated one"
    );
    let stored = store.inner.get(&second.id).await.unwrap().unwrap();
    assert_eq!(
        reads[1],
        (
            near,
            city.duplicate_radius_m,
            stored.created_at - window,
            stored.created_at + Duration::seconds(1)
        ),
        "the configured radius and window around the report"
    );
    assert_eq!(
        *store.wide.lock().unwrap(),
        0,
        "never the whole category window"
    );
    assert_eq!(stored.flags.possible_duplicates, vec![first.id.clone()]);
    let unlocated = store.inner.get(&unlocated.id).await.unwrap().unwrap();
    assert_eq!(unlocated.state, State::Screened);
    assert!(unlocated.flags.possible_duplicates.is_empty());
}
