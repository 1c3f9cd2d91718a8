//! The staff console in a real headless Chromium (Debian's chromium + chromedriver, installed by
//! `scripts/test.sh`), driven over WebDriver against a started `phananh serve` (127.0.0.1 only):
//! the whole workflow of a report, each step asserting what the page shows, and screenshots of
//! the main pages written to `<target>/tmp/console-screenshots/` (see docs/console.md).

mod common;

use common::browser::*;
use common::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::time::{Duration, Instant};

/// A headless Chromium session of `width` × `height`, in Vietnamese.
async fn browser(driver: &Driver, width: u32, height: u32) -> Client {
    chromium(driver, width, height, "vi-VN", &[]).await
}

async fn screenshot(c: &Client, name: &str) {
    screenshot_to(c, "console-screenshots", name).await
}

async fn sign_in(c: &Client, s: &Server, user: &str) {
    c.goto(&format!("{}/console/login", s.base))
        .await
        .expect("login page");
    c.find(Locator::Css("input[name=username]"))
        .await
        .expect("username field")
        .send_keys(user)
        .await
        .expect("type username");
    c.find(Locator::Css("input[name=password]"))
        .await
        .expect("password field")
        .send_keys(&s.accounts[user])
        .await
        .expect("type password");
    c.find(Locator::Css("form button[type=submit]"))
        .await
        .expect("sign-in button")
        .click()
        .await
        .expect("sign in");
    wait_for(c, "header.top .who").await;
}

async fn sign_out(c: &Client) {
    c.find(Locator::Css("form.logout button"))
        .await
        .expect("sign-out button")
        .click()
        .await
        .expect("sign out");
    wait_for(c, "input[name=username]").await;
}

/// Opens the `<details>` that holds the form of `action` (if it is not open already).
async fn open_action(c: &Client, action: &str) {
    let details = format!("details[data-action=\"{action}\"]");
    if let Ok(d) = c.find(Locator::Css(&details)).await {
        if d.attr("open").await.ok().flatten().is_none() {
            c.find(Locator::Css(&format!("{details} summary")))
                .await
                .expect("summary")
                .click()
                .await
                .expect("open action");
        }
    }
}

/// Submits the action form `action` on the current report page after filling `fields`
/// (CSS selector → text).
async fn act(c: &Client, action: &str, fields: &[(&str, &str)]) {
    let form = format!("form[data-action=\"{action}\"]");
    open_action(c, action).await;
    for (css, text) in fields {
        let el = c
            .find(Locator::Css(&format!("{form} {css}")))
            .await
            .unwrap_or_else(|e| panic!("{action}: no field {css}: {e}"));
        el.clear().await.expect("clear the field");
        el.send_keys(text).await.expect("type");
    }
    c.find(Locator::Css(&format!("{form} button[type=submit]")))
        .await
        .unwrap_or_else(|e| panic!("{action}: no submit button: {e}"))
        .click()
        .await
        .expect("submit");
}

async fn wait_text(c: &Client, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let html = source(c).await;
        if html.contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the page never showed {needle:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits until the page's URL contains `needle` (a form POST redirects to `?done=<action>`).
async fn wait_url(c: &Client, needle: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let url = c.current_url().await.expect("current url");
        if url.as_str().contains(needle) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "never reached {needle:?}; at {url}, page: {}",
            source(c).await
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_whole_workflow_in_a_browser() {
    let data = TempData::new("browser");
    let s = start(&data.0);
    let api = s.api();
    let driver = start_driver().await;

    // The IOC head has the queue open before the report arrives.
    let ioc = browser(&driver, 1280, 900).await;
    sign_in(&ioc, &s, "ioc.head").await;
    ioc.goto(&format!("{}/console/ioc", s.base))
        .await
        .expect("IOC queue");
    wait_for(&ioc, "section#queue").await;

    // A citizen reports through the API, with a photo.
    let citizen = api.device().await;
    let photo = api.upload(&citizen, &jpeg()).await;
    let mut body = report_body(
        "market_prices",
        "Quán ăn chặt chém du khách",
        "Quán phở bán 150.000đ một bát, không niêm yết giá.",
    );
    body["attachments"] = json!([photo]);
    let (st, created) = api.post("/v1/reports", Some(&citizen), body).await;
    assert!(st.is_success(), "{created}");
    let id = created["id"].as_str().expect("report id").to_string();

    // It appears in the IOC queue without a reload, screened, with the proposed unit.
    let card = format!("article.card[data-report-id=\"{id}\"]");
    wait_for(&ioc, &card).await;
    wait_text(&ioc, "Phòng Kinh tế").await;
    screenshot(&ioc, "ioc-queue").await;

    // The IOC head opens it: the proposed unit is preselected, the deadline shown; assign.
    ioc.goto(&format!("{}/console/reports/{id}", s.base))
        .await
        .expect("report page");
    wait_for(&ioc, "form[data-action=\"assign\"]").await;
    let selected = ioc
        .find(Locator::Css(
            "form[data-action=\"assign\"] select[name=lead_unit] option:checked",
        ))
        .await
        .expect("a preselected lead unit")
        .attr("value")
        .await
        .expect("value");
    assert_eq!(selected.as_deref(), Some("phong_kinh_te"));
    assert!(source(&ioc).await.contains("Hạn xử lý nếu giao bây giờ"));
    wait_for(&ioc, "div.minimap.leaflet-container").await;
    screenshot(&ioc, "report-page").await;
    act(&ioc, "assign", &[]).await;
    wait_url(&ioc, "done=assign").await;

    // The unit, on a phone-sized window, sees it in its queue without any reporter data.
    let unit = browser(&driver, 360, 800).await;
    sign_in(&unit, &s, "kinhte.staff").await;
    unit.goto(&format!("{}/console/unit", s.base))
        .await
        .expect("unit queue");
    wait_for(&unit, &format!("[data-report-id=\"{id}\"]")).await;
    screenshot(&unit, "unit-queue-phone").await;
    for secret in [
        "Nguyễn Thị Hoa",
        "0987654321",
        "+84987654321",
        "hoa@example.vn",
    ] {
        assert!(
            !source(&unit).await.contains(secret),
            "unit queue shows {secret}"
        );
    }
    unit.goto(&format!("{}/console/reports/{id}", s.base))
        .await
        .expect("report page");
    wait_for(&unit, "form[data-action=\"accept\"]").await;
    for secret in [
        "Nguyễn Thị Hoa",
        "0987654321",
        "+84987654321",
        "hoa@example.vn",
    ] {
        assert!(
            !source(&unit).await.contains(secret),
            "unit report page shows {secret}"
        );
    }
    act(&unit, "accept", &[]).await;
    wait_for(&unit, "form[data-action=\"resolve\"]").await;

    // Evidence from the phone: the upload-slot flow through the page, then resolve.
    let evidence =
        std::env::temp_dir().join(format!("phananh-evidence-{}.jpg", std::process::id()));
    std::fs::write(&evidence, jpeg()).expect("evidence file");
    open_action(&unit, "resolve").await;
    unit.find(Locator::Css("input#evidence-file"))
        .await
        .expect("evidence input")
        .send_keys(evidence.to_str().expect("path"))
        .await
        .expect("choose file");
    wait_text(&unit, "đã tải lên").await;
    act(
        &unit,
        "resolve",
        &[("textarea[name=summary]", "Đã xử phạt, yêu cầu niêm yết giá")],
    )
    .await;
    wait_url(&unit, "done=resolve").await;

    // A complex case is referred to leadership by the IOC head (Đ.7.2), through the API.
    let ioc_api = api.login(&s, "ioc.head").await;
    let (st, other) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body(
                "urban_order",
                "Lấn chiếm vỉa hè kéo dài nhiều tuyến phố",
                "Hàng quán lấn chiếm vỉa hè trên nhiều tuyến phố, cần nhiều đơn vị phối hợp.",
            ),
        )
        .await;
    assert!(st.is_success(), "{other}");
    let other = other["id"].as_str().expect("id").to_string();
    api.wait_state(&ioc_api, &other, "screened").await;
    let (st, v) = api
        .action(
            &ioc_api,
            &other,
            json!({"action": "refer", "note": "Cần nhiều đơn vị phối hợp"}),
        )
        .await;
    assert!(st.is_success(), "{v}");

    // A leader sees it waiting for direction, and records a directive on the first report:
    // shown as a signed, immutable entry.
    let leader = browser(&driver, 1280, 900).await;
    sign_in(&leader, &s, "leader").await;
    leader
        .goto(&format!("{}/console/leadership", s.base))
        .await
        .expect("leadership");
    wait_text(&leader, "Lấn chiếm vỉa hè kéo dài nhiều tuyến phố").await;
    screenshot(&leader, "leadership").await;
    leader
        .goto(&format!("{}/console/reports/{id}", s.base))
        .await
        .expect("report page");
    act(
        &leader,
        "directive",
        &[(
            "textarea[name=text]",
            "Đề nghị kiểm tra lại toàn tuyến phố.",
        )],
    )
    .await;
    wait_for(&leader, "ol.timeline li.directive").await;
    assert!(source(&leader)
        .await
        .contains("Đề nghị kiểm tra lại toàn tuyến phố."));

    // Đ.7.5: a third report, deferred by its unit to a date a month from now; the leader
    // accepts the unit's date from the report page, which then shows the target beside the
    // regulated deadline, each labelled.
    let (st, third) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body(
                "market_prices",
                "Chợ đêm bán hàng không niêm yết giá",
                "Nhiều quầy hàng ở chợ đêm không niêm yết giá, cần kiểm tra định kỳ.",
            ),
        )
        .await;
    assert!(st.is_success(), "{third}");
    let third = third["id"].as_str().expect("id").to_string();
    api.wait_state(&ioc_api, &third, "screened").await;
    let (st, v) = api
        .action(
            &ioc_api,
            &third,
            json!({"action": "assign", "lead_unit": "phong_kinh_te"}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let unit_api = api.login(&s, "kinhte.staff").await;
    let expected = (chrono::Utc::now() + chrono::Duration::days(30)).date_naive();
    let (st, v) = api
        .action(
            &unit_api,
            &third,
            json!({"action": "defer", "reason": "Chờ đoàn kiểm tra liên ngành",
                   "expected_date": expected.format("%Y-%m-%d").to_string()}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    leader
        .goto(&format!("{}/console/reports/{third}", s.base))
        .await
        .expect("report page");
    wait_for(&leader, "form[data-action=\"decide_deferral\"]").await;
    open_action(&leader, "decide_deferral").await;
    leader
        .find(Locator::Css(
            "form[data-action=\"decide_deferral\"] textarea[name=note]",
        ))
        .await
        .expect("note field")
        .send_keys("Đồng ý theo ngày dự kiến của đơn vị.")
        .await
        .expect("type the note");
    screenshot(&leader, "deferral-decision-form").await;
    leader
        .find(Locator::Css(
            "form[data-action=\"decide_deferral\"] button[value=\"true\"]",
        ))
        .await
        .expect("accept button")
        .click()
        .await
        .expect("accept");
    wait_url(&leader, "done=decide_deferral").await;
    let shown = expected.format("%d/%m/%Y").to_string();
    wait_text(
        &leader,
        &format!("Hạn giải quyết mới (đã chấp nhận gia hạn): <strong>{shown}</strong>"),
    )
    .await;
    assert!(source(&leader).await.contains("Hạn xử lý theo quy định: "));
    screenshot(&leader, "deferral-accepted").await;

    // The IOC head publishes the answer.
    ioc.goto(&format!("{}/console/reports/{id}", s.base))
        .await
        .expect("report page");
    act(
        &ioc,
        "publish",
        &[("textarea[name=public_answer]", "Cơ sở đã bị xử phạt.")],
    )
    .await;
    wait_url(&ioc, "done=publish").await;
    let (_, public) = api.get(&format!("/v1/public/reports/{id}"), None).await;
    assert_eq!(public["public_answer"], "Cơ sở đã bị xử phạt.", "{public}");

    // The office sees it in the statistics.
    let office = browser(&driver, 1280, 900).await;
    sign_in(&office, &s, "office").await;
    office
        .goto(&format!("{}/console/office", s.base))
        .await
        .expect("office");
    wait_for(&office, ".chart svg").await;
    assert!(source(&office).await.contains("Phòng Kinh tế"));
    screenshot(&office, "office-stats").await;

    // The map: ward boundaries and the located reports as markers, even with no tile server
    // reachable (this machine has no network), drawn by the vendored library.
    office
        .goto(&format!("{}/console/map", s.base))
        .await
        .expect("map");
    wait_for(&office, "#map path.leaflet-interactive").await;
    wait_for(&office, "#map .leaflet-marker-icon, #map path.report-marker, #map .marker-cluster, #map path.leaflet-interactive").await;
    screenshot(&office, "map").await;

    sign_out(&office).await;
    for c in [ioc, unit, leader, office] {
        let _ = c.close().await;
    }
    let _ = std::fs::remove_file(evidence);
}
