//! Following a report by its tracking link (no account), and the public transparency figures.

use phananh_core::lifecycle::Command;
use phananh_core::model::{ReportId, State};
use phananh_core::ports::ReportStore;
use phananh_core::tracking::{tracking_view, TrackingKey};
use phananh_core::DomainError;
use phananh_testkit::app::TestApp;
use phananh_testkit::fixtures::{self, at, t0};

fn key() -> TrackingKey {
    TrackingKey::new("tracking secret for the tests").expect("a key")
}

async fn stored(t: &TestApp, r: &phananh_core::model::Report) {
    t.store.create(r, &[], None).await.expect("stored");
}

#[tokio::test]
async fn a_tracking_link_opens_its_report_and_a_forged_one_is_not_found() {
    let t = TestApp::new();
    let r = fixtures::report("r-track", at(0));
    stored(&t, &r).await;
    let k = key();
    let id = ReportId("r-track".into());
    let got = t.app.tracked(&k, &id, &k.token(&id)).await.expect("opens");
    assert_eq!(got.id, id);
    for forged in [
        "",
        "0000000000000000",
        &k.token(&ReportId("r-other".into())),
    ] {
        assert!(matches!(
            t.app.tracked(&k, &id, forged).await,
            Err(DomainError::NotFound)
        ));
    }
    let missing = ReportId("r-missing".into());
    assert!(matches!(
        t.app.tracked(&k, &missing, &k.token(&missing)).await,
        Err(DomainError::NotFound)
    ));
}

#[tokio::test]
async fn d4_the_tracking_view_carries_no_personal_data_nor_internal_notes() {
    let t = TestApp::new();
    let mut r = fixtures::assigned(
        fixtures::report("r-view", at(0)),
        "phong_tnmt",
        &[],
        at(600),
    );
    if let Some(e) = r.timeline.last_mut() {
        e.note = Some("ghi chú nội bộ của cán bộ".into());
    }
    let v = tracking_view(&r, t.app.rules(), at(0));
    let json = serde_json::to_string(&v).expect("json");
    for secret in [
        "Nguyễn Văn An",
        "0912345678",
        "+84912345678",
        "citizen-1",
        "ioc-head-1",
        "ghi chú nội bộ",
    ] {
        assert!(!json.contains(secret), "{secret} in {json}");
    }
    assert_eq!(v.state, State::Assigned);
    assert!(v.timeline.len() >= 2);
}

#[tokio::test]
async fn the_reason_of_a_refusal_is_shown_to_the_link_holder() {
    let t = TestApp::new();
    let r = fixtures::report("r-rej", at(0));
    stored(&t, &r).await;
    let id = ReportId("r-rej".into());
    t.app
        .act(
            &id,
            &phananh_testkit::actors::ioc_head(),
            Command::Reject {
                reason: "Nội dung không thuộc phạm vi tiếp nhận".into(),
            },
        )
        .await
        .expect("rejected");
    let v = tracking_view(&t.app.load(&id).await.expect("load"), t.app.rules(), at(1));
    assert_eq!(v.state, State::Rejected);
    let last = v.timeline.last().expect("a step");
    assert_eq!(
        last.reason.as_deref(),
        Some("Nội dung không thuộc phạm vi tiếp nhận")
    );
    assert!(v.timeline.iter().filter(|s| s.reason.is_some()).count() == 1);
}

#[tokio::test]
async fn the_link_holder_rates_and_reopens_as_the_reporter_only() {
    let t = TestApp::new();
    let r = fixtures::published(
        fixtures::assigned(
            fixtures::report("r-rate", at(0)),
            "phong_tnmt",
            &[],
            at(600),
        ),
        at(120),
    );
    stored(&t, &r).await;
    let k = key();
    let id = ReportId("r-rate".into());
    let tok = k.token(&id);
    let v = tracking_view(
        &t.app.load(&id).await.expect("load"),
        t.app.rules(),
        t.app.now(),
    );
    assert!(v.can_rate && v.can_reopen);
    let rated = t
        .app
        .act_tracked(
            &k,
            &id,
            &tok,
            Command::Rate {
                stars: 4,
                comment: None,
            },
        )
        .await
        .expect("rated");
    assert_eq!(rated.rating.as_ref().map(|x| x.stars), Some(4));
    // Only rating and reopening: a staff command through the link is refused.
    assert!(matches!(
        t.app
            .act_tracked(&k, &id, &tok, Command::Close { note: None })
            .await,
        Err(DomainError::Forbidden { .. })
    ));
    // A forged token acts on nothing.
    assert!(matches!(
        t.app
            .act_tracked(
                &k,
                &id,
                "AAAAAAAAAAAAAAAA",
                Command::Reopen {
                    reason: "chưa xử lý".into()
                }
            )
            .await,
        Err(DomainError::NotFound)
    ));
    let reopened = t
        .app
        .act_tracked(
            &k,
            &id,
            &tok,
            Command::Reopen {
                reason: "Rác vẫn còn".into(),
            },
        )
        .await
        .expect("reopened");
    assert_eq!(reopened.state, State::Screened);
}

#[tokio::test]
async fn transparency_counts_per_unit_and_category_in_the_period_only() {
    let t = TestApp::new();
    // t0 is Monday 3 March 2025 in Lai Châu; the page is read five days later.
    t.clock.set(at(5 * 24 * 60));
    let mut late = fixtures::assigned(fixtures::report("r-a", at(0)), "phong_tnmt", &[], at(600));
    late.resolution = Some(phananh_core::model::Resolution {
        unit: "phong_tnmt".into(),
        summary: "Đã xử lý".into(),
        resolved_at: at(600 + 24 * 60),
        on_time: false,
        evidence: vec![],
    });
    let other = fixtures::in_category(fixtures::report("r-b", at(24 * 60)), "traffic_security");
    // November 2024: in the last 12 months, not in this one.
    let old = fixtures::report("r-old", t0() - chrono::Duration::days(100));
    for r in [&late, &other, &old] {
        stored(&t, r).await;
        // The statistics' aggregate rows, as the runtime keeps them after each change.
        t.app.count_in_stats(r).await.expect("counted");
    }
    let month = t.app.transparency(1).await.expect("figures");
    assert_eq!(
        (month.from_month.as_str(), month.to_month.as_str()),
        ("2025-03", "2025-03")
    );
    assert_eq!(month.received, 2);
    assert_eq!(month.resolved, 1);
    assert_eq!(
        month.on_time_rate,
        Some(0.0),
        "Đ.7.4: resolved after the deadline"
    );
    let env = month
        .by_category
        .iter()
        .find(|c| c.code == "environment")
        .expect("environment row");
    assert_eq!((env.received, env.resolved, env.on_time), (1, 1, 0));
    let unit = month
        .by_unit
        .iter()
        .find(|u| u.code == "phong_tnmt")
        .expect("unit row");
    assert_eq!((unit.received, unit.resolved), (1, 1));
    assert!(month.by_category.len() >= 10, "every configured category");
    let year = t.app.transparency(12).await.expect("figures");
    assert_eq!(year.from_month, "2024-04");
    assert_eq!(year.received, 3);
}

#[tokio::test]
async fn reopening_is_refused_after_the_configured_window() {
    let t = TestApp::new();
    let r = fixtures::published(
        fixtures::assigned(
            fixtures::report("r-late", at(0)),
            "phong_tnmt",
            &[],
            at(600),
        ),
        at(120),
    );
    stored(&t, &r).await;
    let k = key();
    let id = ReportId("r-late".into());
    let days = t.app.rules().config.city.reopen_window_days;
    assert_eq!(days, 30, "Lai Châu's window");
    t.clock
        .set(at(120) + chrono::Duration::days(i64::from(days)) + chrono::Duration::minutes(1));
    let r = t.app.load(&id).await.expect("load");
    let v = tracking_view(&r, t.app.rules(), t.app.now());
    assert!(
        !v.can_reopen && v.can_rate,
        "rating stays open, reopening closes"
    );
    let refused = t
        .app
        .act_tracked(
            &k,
            &id,
            &k.token(&id),
            Command::Reopen {
                reason: "Rác vẫn còn".into(),
            },
        )
        .await;
    assert!(
        matches!(&refused, Err(DomainError::Invalid { field, .. }) if field == "reason"),
        "{refused:?}"
    );
    // Within the window it is allowed.
    t.clock
        .set(at(120) + chrono::Duration::days(i64::from(days)) - chrono::Duration::minutes(1));
    t.app
        .act_tracked(
            &k,
            &id,
            &k.token(&id),
            Command::Reopen {
                reason: "Rác vẫn còn".into(),
            },
        )
        .await
        .expect("reopened in time");
}

#[test]
fn the_reopen_window_is_validated() {
    let mut cfg = fixtures::rules().config.clone();
    cfg.city.reopen_window_days = 0;
    let errs = phananh_core::config::validate(&cfg).expect_err("refused");
    assert!(errs.mentions("reopen_window_days"), "{errs:?}");
}

#[tokio::test]
async fn d8_2_published_results_include_secret_reports_but_never_under_a_ward_filter() {
    let t = TestApp::new();
    let open = fixtures::published(fixtures::report("r-open", at(0)), at(10));
    let secret = fixtures::secret(fixtures::published(
        fixtures::report("r-secret", at(1)),
        at(11),
    ));
    let pending = fixtures::report("r-pending", at(2));
    for r in [&open, &secret, &pending] {
        stored(&t, r).await;
    }
    let q = phananh_core::ports::ReportQuery {
        limit: 50,
        ..Default::default()
    };
    let ids = |p: phananh_core::ports::Page<phananh_core::model::Report>| {
        p.items.into_iter().map(|r| r.id.0).collect::<Vec<_>>()
    };
    let all = ids(t.app.published_results(q.clone()).await.expect("results"));
    assert_eq!(all, vec!["r-secret", "r-open"]);
    let by_ward = phananh_core::ports::ReportQuery {
        ward: Some("tan_phong".into()),
        ..q
    };
    let in_ward = ids(t.app.published_results(by_ward).await.expect("results"));
    assert_eq!(in_ward, vec!["r-open"]);
}
