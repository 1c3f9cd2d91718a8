//! `/v1/stats` and the CSV export over HTTP (Đ.9.2, issue 13 item 6): figures from the
//! aggregates with median and 90th percentile per unit, a unit head's own unit only (unit
//! staff refused), and the export streamed page by page with every report once.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{assigned_ago, text, world, World};
use phananh_core::model::{Actor, Report, Resolution, Role, State};
use phananh_testkit::actors::office;
use phananh_testkit::fixtures::{self, at};

fn resolved(id: &str, unit: &str, on_time: bool) -> Report {
    let r = fixtures::in_category(fixtures::report(id, at(-500)), "environment");
    let mut r = fixtures::in_state(assigned_ago(r, unit, 400, 120), State::Resolved);
    r.resolution = Some(Resolution {
        summary: "Đã xử lý xong".into(),
        evidence: vec![],
        unit: unit.into(),
        resolved_at: at(-100),
        on_time,
    });
    r
}

async fn seed(w: &World) {
    w.store(&resolved("s-1", "ubnd_tan_phong", true)).await;
    w.store(&resolved("s-2", "ubnd_tan_phong", false)).await;
    w.store(&resolved("s-3", "trung_tam_y_te", true)).await;
}

#[tokio::test]
async fn the_office_gets_figures_by_unit_with_median_and_p90_and_a_unit_head_their_own() {
    let w = world();
    seed(&w).await;
    let (st, v) = w.api(&office(), Method::GET, "/v1/stats", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["total"], 3);
    assert_eq!(v["resolved_on_time"], 2);
    let tp = &v["figures"]["by_unit"]["ubnd_tan_phong"];
    assert_eq!(
        (tp["resolved"].as_i64(), tp["on_time"].as_i64()),
        (Some(2), Some(1))
    );
    // 300 minutes from assignment to result, read back from its quarter-octave bucket.
    let m = tp["median_minutes"].as_i64().expect("median");
    assert!((m - 300).abs() * 100 <= 300 * 10, "{m}");
    assert_eq!(tp["p90_minutes"], tp["median_minutes"]);

    let head = Actor::new("head-tp", Role::UnitHead, Some("ubnd_tan_phong"));
    let (st, v) = w.api(&head, Method::GET, "/v1/stats", None).await;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["unit"], "ubnd_tan_phong");
    assert_eq!(v["total"], 2);
    assert!(
        v["figures"]["by_unit"].get("trung_tam_y_te").is_none(),
        "{v}"
    );

    let staff = Actor::new("staff-tp", Role::UnitStaff, Some("ubnd_tan_phong"));
    let (st, v) = w.api(&staff, Method::GET, "/v1/stats", None).await;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["code"], "forbidden_role");
}

#[tokio::test]
async fn the_csv_export_streams_every_report_once_across_pages() {
    let w = world();
    // More than two pages of 200.
    for i in 0..450 {
        let r = fixtures::report(&format!("r-{i:04}"), at(-1000 + i));
        w.store(&r).await;
    }
    let req = Request::builder()
        .uri("/v1/stats/export.csv")
        .header(header::AUTHORIZATION, w.bearer(&office()))
        .body(Body::empty())
        .expect("request");
    let res = w.send(req).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(
        res.headers().get(header::CONTENT_LENGTH).is_none(),
        "streamed, not one buffered body"
    );
    let csv = text(res).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 451, "a header and every report");
    assert!(lines[0].starts_with("id,created_at,"));
    let mut ids: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split(',').next().unwrap_or_default())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 450, "no report twice");
}
