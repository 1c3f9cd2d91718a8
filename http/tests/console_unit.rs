//! The unit's page and the leadership's overview, in process through the router: only the
//! unit's open reports, sorted by time left and coloured by the share of the deadline used,
//! never any reporter data; the leadership sees referred, overdue, escalated and deferred
//! reports across units.

mod common;

use axum::http::StatusCode;
use chrono::NaiveDate;
use common::{assigned_ago, text, world};
use phananh_core::model::{Actor, Deferral, Report, Role, State};
use phananh_testkit::fixtures::{self, at};

/// A report assigned to `unit` `ago` minutes before t0 with a deadline of `minutes` clock
/// minutes.
fn open(id: &str, unit: &str, ago: i64, minutes: u32) -> Report {
    let mut r = fixtures::report(id, at(-ago - 10));
    r.title = format!("Phản ánh {id}");
    assigned_ago(r, unit, ago, minutes)
}

fn unit_staff() -> Actor {
    Actor::new("staff-tp", Role::UnitStaff, Some("ubnd_tan_phong"))
}

/// The card of report `id` (from its opening tag to the next card).
fn card<'a>(page: &'a str, id: &str) -> &'a str {
    let marker = format!("data-report-id=\"{id}\"");
    let at = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no card for {id}"));
    let start = page[..at].rfind("<article").expect("an article");
    let end = page[at..].find("</article>").map_or(page.len(), |e| at + e);
    &page[start..end]
}

#[tokio::test]
async fn the_unit_sees_only_its_open_reports_by_time_left_coloured_and_without_the_reporter() {
    let w = world();
    let unit = "ubnd_tan_phong";
    w.store(&open("r-late", unit, 100, 120)).await; // 83% used, 20 min left
    w.store(&open("r-ok", unit, 30, 240)).await; // 12.5% used
    w.store(&open("r-over", unit, 155, 120)).await; // 35 min overdue
    w.store(&open("r-warn", unit, 60, 100)).await; // 60% used
    w.store(&open("r-other", "phong_tnmt", 10, 120)).await; // another unit
    let mut deferred = fixtures::in_state(open("r-deferred", unit, 20, 120), State::Deferred);
    deferred.deferral = Some(Deferral {
        reason: "Chờ kinh phí sửa chữa".into(),
        expected_date: NaiveDate::from_ymd_opt(2025, 3, 20).expect("a date"),
        deferred_at: at(-5),
        decision: None,
    });
    w.store(&deferred).await;
    let done = fixtures::in_state(open("r-resolved", unit, 20, 120), State::Resolved);
    w.store(&done).await;

    let res = w.get(&unit_staff(), "/console/unit").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert!(
        !page.contains("r-other"),
        "another unit's report is not shown"
    );
    assert!(!page.contains("r-resolved"), "only open reports");
    let order: Vec<usize> = ["r-over", "r-late", "r-warn", "r-ok", "r-deferred"]
        .iter()
        .map(|id| {
            page.find(&format!("data-report-id=\"{id}\""))
                .unwrap_or_else(|| panic!("{id} is listed"))
        })
        .collect();
    assert!(
        order.windows(2).all(|p| p[0] < p[1]),
        "sorted by time left: {order:?}"
    );
    assert!(card(&page, "r-over").contains("time-over"));
    assert!(
        card(&page, "r-over").contains("quá hạn 35 phút"),
        "{}",
        card(&page, "r-over")
    );
    assert!(card(&page, "r-late").contains("time-late"));
    assert!(card(&page, "r-late").contains("còn 20 phút"));
    assert!(card(&page, "r-warn").contains("time-warn"));
    assert!(card(&page, "r-ok").contains("time-ok"));
    assert!(card(&page, "r-ok").contains("còn 3 giờ 30 phút"));
    assert!(card(&page, "r-deferred").contains("Chờ kinh phí sửa chữa"));
    assert!(card(&page, "r-deferred").contains("20/03/2025"));
    // The local due time (Lai Châu, UTC+7): r-ok is due at 09:00 + 3 h 30 = 12:30.
    assert!(card(&page, "r-ok").contains("12:30 03/03/2025"));
    assert!(card(&page, "r-ok").contains("href=\"/console/reports/r-ok\""));
    // Units never see the reporter (Đ.4.2).
    for secret in ["Nguyễn Văn An", "0912345678", "N*** V***", "09******78"] {
        assert!(!page.contains(secret), "the unit's page shows {secret}");
    }
    assert!(page.contains("width=device-width"), "phone viewport");
}

#[tokio::test]
async fn another_role_is_refused_the_unit_page() {
    let w = world();
    let res = w
        .get(
            &Actor::new("office-1", Role::OfficeAdmin, None),
            "/console/unit",
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let citizen = w
        .get(
            &Actor::new("citizen-1", Role::Citizen, None),
            "/console/unit",
        )
        .await;
    assert_eq!(
        citizen.status(),
        StatusCode::SEE_OTHER,
        "citizens go to the sign-in page"
    );
}

#[tokio::test]
async fn the_leadership_sees_referred_overdue_escalated_and_deferred_reports() {
    let w = world();
    let referred = fixtures::in_state(fixtures::report("r-ref", at(-30)), State::Referred);
    w.store(&referred).await;
    w.store(&open("r-over", "phong_tnmt", 155, 120)).await;
    let mut escalated = open("r-esc", "ubnd_tan_phong", 100, 120);
    escalated.escalation.sent = vec!["75".into()];
    w.store(&escalated).await;
    let mut deferred = fixtures::in_state(open("r-def", "ubnd_doan_ket", 20, 120), State::Deferred);
    deferred.deferral = Some(Deferral {
        reason: "Chờ mùa khô để thi công".into(),
        expected_date: NaiveDate::from_ymd_opt(2025, 4, 1).expect("a date"),
        deferred_at: at(-5),
        decision: None,
    });
    w.store(&deferred).await;

    let leader = Actor::new("leader-1", Role::Leader, None);
    let res = w.get(&leader, "/console/leadership").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    let section = |id: &str| {
        let start = page.find(&format!("id=\"{id}\"")).expect("a section");
        let end = page[start..]
            .find("</section>")
            .map_or(page.len(), |e| start + e);
        page[start..end].to_string()
    };
    assert!(section("referred").contains("/console/reports/r-ref"));
    let overdue = section("overdue");
    assert!(overdue.contains("/console/reports/r-over"));
    assert!(
        overdue.contains("Phòng Tài nguyên và Môi trường"),
        "{overdue}"
    );
    assert!(overdue.contains("quá hạn 35 phút"), "{overdue}");
    let escalated = section("escalated");
    assert!(escalated.contains("/console/reports/r-esc"));
    assert!(escalated.contains("75% → lãnh đạo đơn vị"), "{escalated}");
    assert!(!escalated.contains("r-def"));
    let deferrals = section("deferred");
    assert!(deferrals.contains("Chờ mùa khô để thi công") && deferrals.contains("01/04/2025"));

    let unit = w.get(&unit_staff(), "/console/leadership").await;
    assert_eq!(unit.status(), StatusCode::FORBIDDEN);
}
