//! Statistics from aggregates (Đ.9.2, issue 13 item 6): the figures follow each change of a
//! report, on time means by the regulated deadline (Đ.7.4) even after a deferral (Đ.7.5), a
//! reopened report is open again, unit heads see their own unit only, duplicate and
//! reordered events change nothing twice, a rebuild gives the same figures, and a request
//! reads the aggregate rows and one page of overdue reports, never all reports.

use async_trait::async_trait;
use chrono::{DateTime, Duration, TimeZone, Utc};
use phananh_core::aggregates::{bucket_minutes, bucket_of, AggregateStore, MemoryAggregates};
use phananh_core::app::{App, Consumer, Ports};
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::*;
use phananh_core::ports::*;
use phananh_core::DomainError;
use phananh_testkit::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use phananh_testkit::fixtures::rules;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// The report store, counting what the use cases read of it.
#[derive(Default)]
struct CountingStore {
    inner: MemoryStore,
    gets: AtomicUsize,
    queries: AtomicUsize,
    /// Reports returned by every read.
    reports_read: AtomicUsize,
}

impl CountingStore {
    fn reset(&self) {
        self.gets.store(0, Ordering::SeqCst);
        self.queries.store(0, Ordering::SeqCst);
        self.reports_read.store(0, Ordering::SeqCst);
    }
}

#[async_trait]
impl ReportStore for CountingStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        self.inner.create(report, events, key).await
    }
    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let r = self.inner.get(id).await?;
        self.reports_read
            .fetch_add(usize::from(r.is_some()), Ordering::SeqCst);
        Ok(r)
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
        self.queries.fetch_add(1, Ordering::SeqCst);
        let p = self.inner.query(q).await?;
        self.reports_read.fetch_add(p.items.len(), Ordering::SeqCst);
        Ok(p)
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
}

struct World {
    app: App,
    store: Arc<CountingStore>,
    clock: Arc<FixedClock>,
}

/// Wednesday 2026-11-25 09:00 in Lai Châu.
fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 2, 0, 0).unwrap()
}

fn world_with(aggregates: Arc<dyn AggregateStore>, inline: bool) -> World {
    let store = Arc::new(CountingStore::default());
    let clock = Arc::new(FixedClock::new(start()));
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
    )
    .with_aggregates(aggregates, inline);
    World { app, store, clock }
}

fn world() -> World {
    world_with(Arc::new(MemoryAggregates::default()), true)
}

fn citizen() -> Actor {
    Actor::new("dev-1", Role::Citizen, None)
}
fn ioc_head() -> Actor {
    Actor::new("acc-head", Role::IocHead, Some("ioc"))
}
fn office() -> Actor {
    Actor::new("office-1", Role::OfficeAdmin, None)
}
fn health_staff() -> Actor {
    Actor::new("u-yte", Role::UnitStaff, Some("trung_tam_y_te"))
}

fn input() -> NewReport {
    NewReport {
        category: "food_safety".into(),
        title: "Ngộ độc thực phẩm sau đám cưới".into(),
        description: "Nhiều người bị ngộ độc thực phẩm sau khi ăn cỗ cưới.".into(),
        location: Some(GeoPoint {
            lat: 22.3965,
            lon: 103.4585,
        }),
        address: None,
        reporter_ward: None,
        attachments: vec![],
        reporter: None,
        camera_id: None,
    }
}

fn evidence() -> Attachment {
    Attachment {
        id: "ev-1".into(),
        kind: MediaKind::Photo,
        content_type: "image/jpeg".into(),
        size: 10,
        key: "media/x/ev-1".into(),
        public_key: None,
        public: false,
        thumb_key: None,
        location_hint: None,
    }
}

/// Submitted, screened and assigned to the health centre by the IOC head.
async fn assigned(w: &World) -> Report {
    let (r, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    w.app.classify(&r.id).await.unwrap();
    let cmd = Command::Assign {
        lead_unit: "trung_tam_y_te".into(),
        coordinating_units: vec![],
        note: None,
    };
    w.app.act(&r.id, &ioc_head(), cmd).await.unwrap()
}

async fn resolve(w: &World, id: &ReportId) -> Report {
    let cmd = Command::Resolve {
        summary: "Đã lấy mẫu và xử phạt".into(),
        evidence: vec![evidence()],
    };
    w.app.act(id, &health_staff(), cmd).await.unwrap()
}

#[tokio::test]
async fn d9_2_figures_follow_each_change_and_d7_4_on_time_is_by_the_regulated_deadline() {
    let w = world();
    // One resolved 30 minutes after assignment (on time).
    let a = assigned(&w).await;
    w.clock.advance(Duration::minutes(30));
    resolve(&w, &a.id).await;
    // One deferred (Đ.7.5) to a date after its deadline, then resolved after the deadline:
    // late, the deferral does not move the regulated deadline.
    let b = assigned(&w).await;
    let due = b.due_at().unwrap();
    let defer = Command::Defer {
        reason: "Chờ kết quả xét nghiệm mẫu".into(),
        expected_date: rules().local(due + Duration::days(3)).date_naive(),
    };
    w.app.act(&b.id, &health_staff(), defer).await.unwrap();
    let resume = Command::Resume { note: None };
    w.app.act(&b.id, &health_staff(), resume).await.unwrap();
    w.clock.set(due + Duration::hours(2));
    let late = resolve(&w, &b.id).await;
    assert!(!late.resolution.as_ref().unwrap().on_time);
    // One still open and overdue.
    let c = assigned(&w).await;
    w.clock.set(c.due_at().unwrap() + Duration::minutes(90));

    let s = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!(s.total, 3);
    assert_eq!((s.resolved, s.resolved_on_time, s.open), (2, 1, 1));
    assert_eq!(s.on_time_rate, Some(0.5));
    let unit = &s.figures.as_ref().unwrap().by_unit["trung_tam_y_te"];
    assert_eq!((unit.received, unit.resolved, unit.on_time), (3, 2, 1));
    // Handling times: 30 minutes and (due - assigned + 2 h); nearest-rank median is the
    // shorter, the 90th percentile the longer, each read back from its bucket.
    let long = (late.resolution.as_ref().unwrap().resolved_at
        - late.assignment.as_ref().unwrap().assigned_at)
        .num_minutes();
    assert_eq!(
        s.median_minutes_to_resolve,
        Some(bucket_minutes(bucket_of(30)))
    );
    assert_eq!(
        s.p90_minutes_to_resolve,
        Some(bucket_minutes(bucket_of(long)))
    );
    assert_eq!(s.by_category.get("food_safety"), Some(&3));
    assert_eq!(s.by_month.get("2026-11"), Some(&3));
    // Overdue now: the open one, 90 minutes late.
    assert_eq!(s.overdue.len(), 1, "{:?}", s.overdue);
    assert_eq!(s.overdue[0].id, c.id);
    assert_eq!(s.overdue[0].minutes_late, 90);
    assert!(!s.overdue_more);
}

#[tokio::test]
async fn a_reopened_report_counts_as_open_and_its_old_result_no_longer_counts() {
    let w = world();
    let r = assigned(&w).await;
    w.clock.advance(Duration::minutes(45));
    resolve(&w, &r.id).await;
    let publish = Command::Publish {
        public_answer: "Đã xử lý".into(),
        public_attachments: vec![],
    };
    w.app.act(&r.id, &ioc_head(), publish).await.unwrap();
    let s = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!((s.open, s.resolved, s.resolved_on_time), (0, 1, 1));
    let reopen = Command::Reopen {
        reason: "Quán vẫn bán thực phẩm ôi thiu".into(),
    };
    w.app.act(&r.id, &citizen(), reopen).await.unwrap();
    let s = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!((s.total, s.open, s.resolved), (1, 1, 0), "{s:?}");
    assert_eq!(s.median_minutes_to_resolve, None);
    assert_eq!(s.on_time_rate, None);
}

#[tokio::test]
async fn d9_2_a_unit_head_sees_only_their_units_figures_and_unit_staff_none() {
    let w = world();
    let r = assigned(&w).await;
    resolve(&w, &r.id).await;
    // Another report assigned to another unit.
    let (o, _) = w.app.submit(&citizen(), input(), &[], None).await.unwrap();
    w.app.classify(&o.id).await.unwrap();
    let cmd = Command::Assign {
        lead_unit: "phong_tnmt".into(),
        coordinating_units: vec![],
        note: None,
    };
    w.app.act(&o.id, &ioc_head(), cmd).await.unwrap();

    let head = Actor::new("h-yte", Role::UnitHead, Some("trung_tam_y_te"));
    let s = w.app.stats(&head, None, None, 100).await.unwrap();
    assert_eq!(s.unit.as_deref(), Some("trung_tam_y_te"));
    assert_eq!((s.total, s.resolved), (1, 1));
    assert_eq!(s.by_unit.keys().collect::<Vec<_>>(), vec!["trung_tam_y_te"]);
    assert!(s.by_category.is_empty() && s.by_ward.is_empty(), "{s:?}");
    let city = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!(city.total, 2);
    assert_eq!(city.by_unit.len(), 2);
    // The export of a unit head holds their unit's reports only.
    let csv = w.app.export_csv(&head, None, None, 1000).await.unwrap();
    assert!(
        csv.contains(r.id.as_str()) && !csv.contains(o.id.as_str()),
        "{csv}"
    );

    let staff = health_staff();
    assert!(matches!(
        w.app.stats(&staff, None, None, 100).await,
        Err(DomainError::Forbidden { .. })
    ));
    assert!(matches!(
        w.app.export_csv(&staff, None, None, 100).await,
        Err(DomainError::Forbidden { .. })
    ));
    assert!(matches!(
        w.app.stats(&citizen(), None, None, 100).await,
        Err(DomainError::Forbidden { .. })
    ));
}

#[tokio::test]
async fn the_consumer_counts_each_change_once_under_duplicate_and_reordered_events() {
    // No counting right after the change: only the statistics consumer counts.
    let w = world_with(Arc::new(MemoryAggregates::default()), false);
    let r = assigned(&w).await;
    w.clock.advance(Duration::minutes(30));
    resolve(&w, &r.id).await;
    let s = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!(s.total, 0, "nothing counted before the consumer runs");

    let events = w.store.pending_events(100).await.unwrap();
    assert!(events.len() >= 3, "{events:?}");
    // Newest first (reordered), each twice (redelivered).
    for env in events.iter().rev().chain(events.iter()) {
        w.app.handle_event(Consumer::Stats, env).await.unwrap();
    }
    let s = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!(
        (s.total, s.open, s.resolved, s.resolved_on_time),
        (1, 0, 1, 1)
    );
    assert_eq!(
        s.median_minutes_to_resolve,
        Some(bucket_minutes(bucket_of(30)))
    );
}

#[tokio::test]
async fn the_rebuilt_figures_equal_the_incrementally_kept_ones() {
    let w = world();
    for i in 0..6 {
        let r = assigned(&w).await;
        w.clock.advance(Duration::minutes(20 + 70 * i));
        if i % 3 != 0 {
            resolve(&w, &r.id).await;
        }
        if i == 4 {
            let publish = Command::Publish {
                public_answer: "Đã xử lý".into(),
                public_attachments: vec![],
            };
            w.app.act(&r.id, &ioc_head(), publish).await.unwrap();
            let reopen = Command::Reopen {
                reason: "Chưa xử lý triệt để".into(),
            };
            w.app.act(&r.id, &citizen(), reopen).await.unwrap();
        }
    }
    let incremental = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!(incremental.total, 6);
    let n = w.app.rebuild_stats(&Actor::system()).await.unwrap();
    assert_eq!(n, 6);
    let rebuilt = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!(rebuilt, incremental);
    assert!(matches!(
        w.app.rebuild_stats(&ioc_head()).await,
        Err(DomainError::Forbidden { .. })
    ));
}

#[tokio::test]
async fn a_statistics_request_reads_one_page_of_overdue_reports_never_all_reports() {
    let w = world();
    for _ in 0..300 {
        assigned(&w).await;
    }
    w.clock.advance(Duration::days(30));
    w.store.reset();
    let s = w.app.stats(&office(), None, None, 10_000).await.unwrap();
    assert_eq!(s.total, 300);
    assert_eq!(s.open, 300);
    assert_eq!(s.overdue.len(), 100, "one page of the overdue list");
    assert!(s.overdue_more);
    assert_eq!(w.store.gets.load(Ordering::SeqCst), 0);
    assert_eq!(w.store.queries.load(Ordering::SeqCst), 1);
    assert!(w.store.reports_read.load(Ordering::SeqCst) <= 101);
}

#[tokio::test]
async fn statistics_count_whole_local_months_of_creation() {
    let w = world();
    assigned(&w).await;
    // 2026-11-30 20:00 UTC is 03:00 on 1 December in Lai Châu.
    w.clock
        .set(Utc.with_ymd_and_hms(2026, 11, 30, 20, 0, 0).unwrap());
    assigned(&w).await;
    let dec = rules()
        .local_day_start(chrono::NaiveDate::from_ymd_opt(2026, 12, 1).unwrap())
        .unwrap();
    let s = w.app.stats(&office(), Some(dec), None, 100).await.unwrap();
    assert_eq!(s.total, 1);
    assert_eq!(s.months, Some(("2026-12".into(), "9999-99".into())));
    let s = w.app.stats(&office(), None, Some(dec), 100).await.unwrap();
    assert_eq!((s.total, s.by_month.get("2026-11")), (1, Some(&1)));
}

/// The aggregate store, counting the month reads.
#[derive(Default)]
struct CountingAggregates {
    inner: MemoryAggregates,
    month_reads: AtomicUsize,
}

#[async_trait]
impl AggregateStore for CountingAggregates {
    async fn apply(
        &self,
        id: &ReportId,
        version: u64,
        contribution: &phananh_core::aggregates::Contribution,
    ) -> Result<bool, StoreError> {
        self.inner.apply(id, version, contribution).await
    }
    async fn months(
        &self,
        from: &str,
        to: &str,
    ) -> Result<Vec<phananh_core::aggregates::MonthFigures>, StoreError> {
        self.month_reads.fetch_add(1, Ordering::SeqCst);
        self.inner.months(from, to).await
    }
    async fn clear(&self) -> Result<(), StoreError> {
        self.inner.clear().await
    }
}

#[tokio::test]
async fn the_public_transparency_figures_are_the_aggregate_rows_and_read_no_report() {
    let aggregates = Arc::new(CountingAggregates::default());
    let w = world_with(aggregates.clone(), true);
    let mut ids = Vec::new();
    for _ in 0..60 {
        ids.push(assigned(&w).await.id);
    }
    w.clock.advance(Duration::minutes(30));
    for id in ids.iter().take(20) {
        resolve(&w, id).await;
    }
    // Ten more resolved after the regulated deadline (Đ.7.4): late.
    w.clock.advance(Duration::days(5));
    for id in ids.iter().skip(20).take(10) {
        resolve(&w, id).await;
    }
    w.store.reset();
    aggregates.month_reads.store(0, Ordering::SeqCst);

    let x = w.app.transparency(12).await.unwrap();
    assert_eq!(
        (
            w.store.gets.load(Ordering::SeqCst),
            w.store.queries.load(Ordering::SeqCst),
            w.store.reports_read.load(Ordering::SeqCst)
        ),
        (0, 0, 0),
        "no report is read"
    );
    assert_eq!(aggregates.month_reads.load(Ordering::SeqCst), 1);
    assert_eq!(
        (x.from_month.as_str(), x.to_month.as_str()),
        ("2025-12", "2026-11")
    );

    // The same figures the office reads from the same rows.
    let s = w.app.stats(&office(), None, None, 1).await.unwrap();
    assert_eq!(
        (x.received, x.resolved, x.on_time, x.on_time_rate),
        (s.total, s.resolved, s.resolved_on_time, s.on_time_rate)
    );
    assert_eq!((x.received, x.resolved, x.on_time), (60, 30, 20));
    let unit = x
        .by_unit
        .iter()
        .find(|u| u.code == "trung_tam_y_te")
        .unwrap();
    assert_eq!((unit.received, unit.resolved, unit.on_time), (60, 30, 20));
    let food = x
        .by_category
        .iter()
        .find(|c| c.code == "food_safety")
        .unwrap();
    assert_eq!(food.received, s.by_category["food_safety"]);
    // Public figures only: names and counts, nothing about a report or a person.
    let json = serde_json::to_string(&x).unwrap();
    for id in &ids {
        assert!(!json.contains(id.as_str()));
    }
    assert!(!json.contains("dev-1"), "no reporter");
}

#[tokio::test]
async fn d7_5_an_accepted_target_date_does_not_move_the_regulated_deadline_of_the_statistics() {
    let w = world();
    let r = assigned(&w).await;
    let due = r.due_at().unwrap();
    let target = rules().local(due + Duration::days(3)).date_naive();
    let defer = Command::Defer {
        reason: "Chờ kết quả xét nghiệm mẫu".into(),
        expected_date: target,
    };
    w.app.act(&r.id, &health_staff(), defer).await.unwrap();
    // Đ.7.5: the IOC head accepts the unit's date; the target is three days after the
    // regulated deadline.
    let accept = Command::DecideDeferral {
        accept: true,
        target_date: None,
        note: None,
    };
    let accepted = w.app.act(&r.id, &ioc_head(), accept).await.unwrap();
    assert_eq!(accepted.target_date(), Some(target));
    assert_eq!(accepted.due_at(), Some(due));
    // Resolved after the regulated deadline, well before the target: late for the figures.
    w.clock.set(due + Duration::hours(2));
    let done = resolve(&w, &r.id).await;
    assert!(!done.resolution.as_ref().unwrap().on_time);
    let s = w.app.stats(&office(), None, None, 100).await.unwrap();
    assert_eq!((s.total, s.resolved, s.resolved_on_time), (1, 1, 0));
    assert_eq!(s.on_time_rate, Some(0.0));
    let unit = &s.figures.as_ref().unwrap().by_unit["trung_tam_y_te"];
    assert_eq!((unit.resolved, unit.on_time), (1, 0));
}
