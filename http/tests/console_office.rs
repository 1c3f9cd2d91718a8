//! The office's pages in process through the router: statistics with server-drawn SVG charts
//! for those core lets see them (a refusal page for others), the CSV export, and account
//! management through the forms (errors next to the field, typed values kept, CSRF checked).

mod common;

use axum::http::{header, StatusCode};
use common::{assigned_ago, text, world, World, CSRF};
use phananh_core::app::NewAccount;
use phananh_core::model::{Actor, Report, Resolution, Role, State};
use phananh_testkit::actors::office;
use phananh_testkit::fixtures::{self, at};

/// A report of `category` assigned to `unit`, `ago` minutes before t0 with `minutes` to do it.
fn assigned(id: &str, category: &str, unit: &str, ago: i64, minutes: u32) -> Report {
    let r = fixtures::in_category(fixtures::report(id, at(-ago - 10)), category);
    assigned_ago(r, unit, ago, minutes)
}

fn resolved(mut r: Report, on_time: bool) -> Report {
    let unit = r.lead_unit().unwrap_or_default().to_string();
    r = fixtures::in_state(r, State::Resolved);
    r.resolution = Some(Resolution {
        summary: "Đã xử lý xong".into(),
        evidence: vec![],
        unit,
        resolved_at: at(-5),
        on_time,
    });
    r
}

async fn seed(w: &World) {
    for r in [
        resolved(
            assigned("s-1", "environment", "ubnd_tan_phong", 100, 120),
            true,
        ),
        resolved(
            assigned("s-2", "environment", "ubnd_tan_phong", 100, 60),
            false,
        ),
        assigned("s-3", "food_safety", "trung_tam_y_te", 200, 120),
    ] {
        w.store(&r).await;
    }
}

#[tokio::test]
async fn only_those_core_lets_see_statistics_open_the_office_page() {
    let w = world();
    seed(&w).await;
    let unit = Actor::new("staff-tp", Role::UnitStaff, Some("ubnd_tan_phong"));
    let res = w.get(&unit, "/console/office").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(text(res).await.contains("không được phép"));
    let citizen = Actor::new("citizen-1", Role::Citizen, None);
    let res = w.get(&citizen, "/console/office").await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "a citizen has no console session"
    );
    let res = w.get(&unit, "/console/office/export.csv").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    for actor in [office(), Actor::new("leader-1", Role::Leader, None)] {
        let res = w.get(&actor, "/console/office").await;
        assert_eq!(res.status(), StatusCode::OK, "{:?}", actor.role);
    }
}

#[tokio::test]
async fn the_statistics_page_draws_svg_charts_with_the_counts_and_lists_overdue_reports() {
    let w = world();
    seed(&w).await;
    let res = w.get(&office(), "/console/office").await;
    assert_eq!(res.status(), StatusCode::OK);
    let csp = res.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("a CSP")
        .to_string();
    assert!(!csp.contains("unsafe-inline"));
    let page = text(res).await;
    assert!(page.contains("<svg") && page.contains("role=\"img\""));
    assert!(!page.contains("style="), "no inline style attributes");
    assert!(page.contains("UBND phường Tân Phong: 2"), "counts by unit");
    assert!(page.contains("Trung tâm Y tế thành phố: 1"));
    assert!(page.contains("Tháng 03/2025: 3"), "counts by local month");
    assert!(
        page.contains("Phường Tân Phong: 3") || page.contains("Tân Phong: 3"),
        "by ward"
    );
    assert!(page.contains("50,0%"), "on-time rate 1 of 2");
    // s-3 is 80 minutes overdue, with an urge form posting to the report's actions.
    let start = page.find("id=\"overdue-list\"").expect("an overdue list");
    let overdue = &page[start..];
    assert!(overdue.contains("data-report-id=\"s-3\""));
    assert!(overdue.contains("quá hạn 1 giờ 20 phút"));
    assert!(overdue.contains("action=\"/console/reports/s-3/actions\""));
    assert!(overdue.contains("name=\"action\" value=\"urge\""));
    assert!(overdue.contains(&format!("name=\"_csrf\" value=\"{CSRF}\"")));
    assert!(overdue.contains("Đôn đốc"));
    assert!(page.contains("href=\"/console/office/export.csv"));

    // A date range before everything: nothing counted.
    let res = w
        .get(&office(), "/console/office?from=2024-01-01&to=2024-12-31")
        .await;
    let page = text(res).await;
    assert!(page.contains("Không có dữ liệu."));
    let bad = w.get(&office(), "/console/office?from=hôm-qua").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let page = text(bad).await;
    assert!(page.contains("field-error") && page.contains("value=\"hôm-qua\""));
}

#[tokio::test]
async fn the_export_is_a_csv_download() {
    let w = world();
    seed(&w).await;
    let res = w.get(&office(), "/console/office/export.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    let ct = res.headers()[header::CONTENT_TYPE]
        .to_str()
        .expect("a type")
        .to_string();
    assert!(ct.starts_with("text/csv"), "{ct}");
    let cd = res.headers()[header::CONTENT_DISPOSITION]
        .to_str()
        .expect("a disposition")
        .to_string();
    assert!(cd.starts_with("attachment"));
    let csv = text(res).await;
    assert!(csv
        .trim_start_matches('\u{feff}')
        .starts_with("id,created_at,category"));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    assert!(
        !csv.contains("Nguyễn Văn An") && !csv.contains("0912345678"),
        "no reporter data"
    );
}

#[tokio::test]
async fn the_office_creates_accounts_through_the_form() {
    let w = world();
    let res = w
        .post_form(
            &office(),
            "/console/office/accounts",
            &[
                ("_csrf", CSRF),
                ("username", "can.bo.tp"),
                ("display_name", "Lò Thị Hoa"),
                ("role", "unit_staff"),
                ("unit", "ubnd_tan_phong"),
                ("password", "mat-khau-du-dai"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers()[header::LOCATION],
        "/console/office/accounts?done=created"
    );
    let page = text(
        w.get(&office(), "/console/office/accounts?done=created")
            .await,
    )
    .await;
    assert!(page.contains("Đã tạo tài khoản."));
    assert!(page.contains("can.bo.tp") && page.contains("Lò Thị Hoa"));
    let accounts = w
        .state
        .app
        .list_accounts(&office())
        .await
        .expect("accounts");
    let acc = accounts
        .iter()
        .find(|a| a.username == "can.bo.tp")
        .expect("created");
    assert_eq!(
        (acc.role, acc.unit.as_deref()),
        (Role::UnitStaff, Some("ubnd_tan_phong"))
    );
    // The role and unit choices come from the config.
    assert!(
        page.contains("value=\"phong_tnmt\"") && page.contains("Phòng Tài nguyên và Môi trường")
    );
    assert!(page.contains("value=\"office_admin\""));
    assert!(
        !page.contains("value=\"citizen\""),
        "no citizen role for staff accounts"
    );

    // Disable, then reset the password.
    let res = w
        .post_form(
            &office(),
            &format!("/console/office/accounts/{}/disabled", acc.id),
            &[("_csrf", CSRF), ("disabled", "true")],
        )
        .await;
    assert_eq!(
        res.headers()[header::LOCATION],
        "/console/office/accounts?done=disabled"
    );
    let short = w
        .post_form(
            &office(),
            &format!("/console/office/accounts/{}/password", acc.id),
            &[("_csrf", CSRF), ("password", "ngan")],
        )
        .await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(short).await;
    assert!(page.contains("mật khẩu cần ít nhất 10 ký tự"));
    let res = w
        .post_form(
            &office(),
            &format!("/console/office/accounts/{}/password", acc.id),
            &[("_csrf", CSRF), ("password", "mat-khau-moi-dai")],
        )
        .await;
    assert_eq!(
        res.headers()[header::LOCATION],
        "/console/office/accounts?done=password"
    );
    let acc = w
        .state
        .app
        .find_account(&office(), "can.bo.tp")
        .await
        .expect("an account");
    assert!(acc.disabled);
    assert!(
        w.state
            .app
            .login("can.bo.tp", "mat-khau-moi-dai")
            .await
            .is_err(),
        "disabled"
    );
}

#[tokio::test]
async fn a_refused_account_shows_the_message_next_to_the_field_and_keeps_what_was_typed() {
    let w = world();
    let res = w
        .post_form(
            &office(),
            "/console/office/accounts",
            &[
                ("_csrf", CSRF),
                ("username", "nguoi.moi"),
                ("display_name", "Điêu Văn Sơn"),
                ("role", "ioc_operator"),
                ("unit", ""),
                ("password", "ngan-qua"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let page = text(res).await;
    let field = page.find("id=\"password\"").expect("the password field");
    let message = page
        .find("mật khẩu cần ít nhất 10 ký tự")
        .expect("the message");
    let next_label = page[field..]
        .find("<label")
        .map_or(page.len(), |i| field + i);
    assert!(
        field < message && message < next_label,
        "the message is next to the password field"
    );
    assert!(page.contains("value=\"nguoi.moi\""), "the username is kept");
    assert!(page.contains("value=\"Điêu Văn Sơn\""), "the name is kept");
    assert!(
        page.contains("value=\"ioc_operator\" selected"),
        "the role is kept"
    );
    assert!(
        !page.contains("ngan-qua"),
        "a password is never shown again"
    );

    // A taken username: next to the username.
    let existing = NewAccount {
        username: "da.co".into(),
        display_name: "Đã có".into(),
        role: Role::Leader,
        unit: None,
        password: "mat-khau-du-dai".into(),
    };
    w.state
        .app
        .create_account(&office(), existing)
        .await
        .expect("created");
    let res = w
        .post_form(
            &office(),
            "/console/office/accounts",
            &[
                ("_csrf", CSRF),
                ("username", "da.co"),
                ("display_name", "Người khác"),
                ("role", "leader"),
                ("password", "mat-khau-du-dai"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let page = text(res).await;
    let field = page.find("id=\"username\"").expect("the username field");
    let message = page
        .find("Tên đăng nhập đã được sử dụng.")
        .expect("the message");
    assert!(field < message && message < page.find("id=\"display_name\"").expect("next field"));
}

#[tokio::test]
async fn account_forms_without_the_csrf_token_are_refused() {
    let w = world();
    let res = w
        .post_form(
            &office(),
            "/console/office/accounts",
            &[
                ("username", "khong.token"),
                ("display_name", "Không token"),
                ("role", "leader"),
                ("password", "mat-khau-du-dai"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let wrong = w
        .post_form(
            &office(),
            "/console/office/accounts/acc-1/disabled",
            &[("_csrf", "sai"), ("disabled", "true")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let accounts = w
        .state
        .app
        .list_accounts(&office())
        .await
        .expect("accounts");
    assert!(accounts.iter().all(|a| a.username != "khong.token"));
    // A unit officer reaches core's refusal, not the form.
    let unit = Actor::new("staff-tp", Role::UnitStaff, Some("ubnd_tan_phong"));
    let res = w.get(&unit, "/console/office/accounts").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
