//! The search page, in process through the router: free text that ignores diacritics and case,
//! AND-ed with the filters, paged with the store's cursor; units see only their unit's reports
//! and never the reporter; bad filters are named next to their field.

mod common;

use axum::http::StatusCode;
use common::{text, world};
use phananh_core::model::{Actor, Report, Role};
use phananh_testkit::actors::ioc_operator as ioc;
use phananh_testkit::fixtures::{self, at};

fn titled(id: &str, minutes: i64, title: &str) -> Report {
    let mut r = fixtures::report(id, at(minutes));
    r.title = title.to_string();
    r.description = "Đề nghị kiểm tra, xử lý.".into();
    r.address = None;
    r
}

/// The report ids shown, in page order.
fn shown(page: &str) -> Vec<String> {
    page.split("data-report-id=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn text_without_diacritics_finds_the_report_and_links_to_it() {
    let w = world();
    w.store(&titled("r-pothole", -30, "Ổ gà trên đường Trần Phú"))
        .await;
    w.store(&titled("r-light", -20, "Đèn đường hỏng ở Lê Lợi"))
        .await;
    w.store(&titled("r-other", -10, "Ổ gà đường Trần Hưng Đạo"))
        .await;

    let res = w.get(&ioc(), "/console/search?q=o+ga+tran+phu").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert_eq!(shown(&page), vec!["r-pothole"]);
    assert!(page.contains("Ổ gà trên đường Trần Phú"));
    assert!(page.contains("href=\"/console/reports/r-pothole\""));
    // What was typed stays in the form.
    assert!(page.contains("value=\"o ga tran phu\""));

    // Case and diacritics typed or not, "đ" as "d".
    let page = text(w.get(&ioc(), "/console/search?q=DEN+%C4%91uong").await).await;
    assert_eq!(shown(&page), vec!["r-light"]);
    // AND-ed with a filter that excludes it.
    let page = text(w.get(&ioc(), "/console/search?q=o+ga&state=assigned").await).await;
    assert!(shown(&page).is_empty());
    assert!(page.contains("Không tìm thấy phản ánh nào phù hợp."));
}

#[tokio::test]
async fn results_are_paged_with_the_next_link() {
    let w = world();
    for i in 0..60 {
        w.store(&titled(&format!("r-{i:02}"), i, "Rác thải ùn ứ"))
            .await;
    }
    let page = text(w.get(&ioc(), "/console/search?q=rac+thai").await).await;
    let first = shown(&page);
    assert_eq!(first.len(), 50);
    assert_eq!(first[0], "r-59", "newest first");
    let start = page.find("class=\"next\"").expect("a next link");
    let href = page[start..]
        .split("href=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("its href")
        .replace("&amp;", "&");
    assert!(
        href.starts_with("/console/search?q=rac%20thai&cursor="),
        "{href}"
    );
    let page = text(w.get(&ioc(), &href).await).await;
    let second = shown(&page);
    assert_eq!(second.len(), 10);
    assert!(second.iter().all(|id| !first.contains(id)));
    assert!(!page.contains("class=\"next\""));
}

#[tokio::test]
async fn units_see_only_their_reports_and_never_the_reporter() {
    let w = world();
    let unit = "ubnd_tan_phong";
    let mine = fixtures::assigned(titled("r-mine", -30, "Ổ gà Trần Phú"), unit, &[], at(600));
    let theirs = fixtures::assigned(
        titled("r-theirs", -20, "Ổ gà Trần Phú"),
        "phong_tnmt",
        &[],
        at(600),
    );
    w.store(&mine).await;
    w.store(&theirs).await;
    let staff = Actor::new("staff-tp", Role::UnitStaff, Some(unit));
    let res = w.get(&staff, "/console/search?q=o+ga").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = text(res).await;
    assert_eq!(shown(&page), vec!["r-mine"]);
    assert!(!page.contains("Nguyễn Văn An") && !page.contains("0912345678"));
    // Asking for another unit is refused by core.
    let res = w.get(&staff, "/console/search?unit=phong_tnmt").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn filters_and_bad_dates() {
    let w = world();
    let late = fixtures::assigned(
        titled("r-late", -3000, "Cây đổ"),
        "ubnd_tan_phong",
        &[],
        at(-60),
    );
    let on_time = fixtures::assigned(
        titled("r-on-time", -3000, "Cây đổ"),
        "ubnd_tan_phong",
        &[],
        at(600),
    );
    w.store(&late).await;
    w.store(&on_time).await;
    let page = text(w.get(&ioc(), "/console/search?overdue=1").await).await;
    assert_eq!(shown(&page), vec!["r-late"]);

    let res = w
        .get(&ioc(), "/console/search?q=cay&from=03%2F01%2F2025")
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = text(res).await;
    assert!(page.contains("id=\"from-error\""));
    assert!(page.contains("Ngày không hợp lệ"));
    assert!(page.contains("value=\"cay\""), "what was typed is kept");

    // Without a session: back to the login page.
    let res = w.get(None, "/console/search?q=x").await;
    assert!(res.status().is_redirection(), "{}", res.status());
}
