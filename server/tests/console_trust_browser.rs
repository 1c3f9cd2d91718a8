//! The trust pages of the console (issue 12) in headless Chromium against a started
//! `phananh serve` (127.0.0.1 only): a Đ.4.4 share asked for by the IOC head, approved by a
//! leader and released as a watermarked download; and a leader switching on the TOTP second
//! factor, then signing in with a code. Screenshots go to `<target>/tmp/console-screenshots/`.

mod common;

use common::browser::*;
use common::*;
use fantoccini::{Client, Locator};
use phananh_core::totp;
use serde_json::json;
use std::time::{Duration, Instant};

async fn shot(c: &Client, name: &str) {
    screenshot_to(c, "console-screenshots", name).await
}

/// Scrolls the report page to its share section, for the screenshot.
async fn to_shares(c: &Client) {
    c.execute(
        "document.querySelector('section.shares').scrollIntoView()",
        vec![],
    )
    .await
    .expect("scroll");
}

async fn fill(c: &Client, css: &str, text: &str) {
    let el = c
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no field {css}: {e}"));
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
}

async fn click(c: &Client, css: &str) {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .expect("click");
}

/// Signs in through the console's form; `code` for an account with a second factor.
async fn sign_in(c: &Client, s: &Server, user: &str, code: Option<&str>) {
    c.goto(&format!("{}/console/login", s.base))
        .await
        .expect("login page");
    fill(c, "input[name=username]", user).await;
    fill(c, "input[name=password]", &s.accounts[user]).await;
    if let Some(code) = code {
        fill(c, "input[name=code]", code).await;
    }
    click(c, "form button[type=submit]").await;
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
            "the page never showed {needle:?}: {html}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn now_step() -> i64 {
    totp::step_of(chrono::Utc::now().timestamp())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sharing_and_the_second_factor_in_a_browser() {
    let data = TempData::new("trust-browser");
    let s = start(&data.0);
    let api = s.api();
    let driver = start_driver().await;

    let citizen = api.device().await;
    let (st, created) = api
        .post(
            "/v1/reports",
            Some(&citizen),
            report_body(
                "market_prices",
                "Quán ăn chặt chém du khách",
                "Quán phở bán 150.000đ một bát, không niêm yết giá.",
            ),
        )
        .await;
    assert!(st.is_success(), "{created}");
    let id = created["id"].as_str().expect("report id").to_string();
    let page = format!("{}/console/reports/{id}", s.base);

    // Đ.4.4: the IOC head asks, for whom and why, with the reporter's identity.
    let ioc = chromium(&driver, 1280, 1000, "vi-VN", &[]).await;
    sign_in(&ioc, &s, "ioc.head", None).await;
    wait_for(&ioc, "header.top .who").await;
    ioc.goto(&page).await.expect("report page");
    click(&ioc, "details.share-request summary").await;
    fill(&ioc, "#share-recipient", "Công an thành phố Lai Châu").await;
    fill(
        &ioc,
        "#share-reason",
        "Phục vụ xác minh vụ việc theo công văn số 12/CA",
    )
    .await;
    click(
        &ioc,
        "form[data-action=request_share] input[name=personal_data]",
    )
    .await;
    click(&ioc, "form[data-action=request_share] button[type=submit]").await;
    wait_for(&ioc, "div.share[data-share-status=pending]").await;
    // Nothing to release before a leader decides, and no decision form for the IOC head.
    assert!(ioc.find(Locator::Css("form.share-release")).await.is_err());
    assert!(ioc.find(Locator::Css("form.share-decision")).await.is_err());
    to_shares(&ioc).await;
    shot(&ioc, "share-requested").await;

    // A leader decides on the report page.
    let leader = chromium(&driver, 1280, 1000, "vi-VN", &[]).await;
    sign_in(&leader, &s, "leader", None).await;
    wait_for(&leader, "header.top .who").await;
    leader.goto(&page).await.expect("report page");
    wait_text(&leader, "Công an thành phố Lai Châu").await;
    fill(
        &leader,
        "form.share-decision input[name=note]",
        "Đồng ý, chỉ dùng cho xác minh",
    )
    .await;
    click(&leader, "form.share-decision button[value=true]").await;
    wait_for(&leader, "div.share[data-share-status=approved]").await;
    to_shares(&leader).await;
    shot(&leader, "share-approved").await;

    // The IOC head releases it: a download, recorded on the timeline.
    ioc.goto(&page).await.expect("report page");
    wait_for(&ioc, "form.share-release").await;
    click(&ioc, "form.share-release button").await;
    let token = api.login(&s, "ioc.head").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (_, r) = api
            .get(&format!("/v1/staff/reports/{id}"), Some(&token))
            .await;
        let released = r["timeline"]
            .as_array()
            .is_some_and(|t| t.iter().any(|e| e["action"] == "release_share"));
        if released {
            break;
        }
        assert!(Instant::now() < deadline, "never released: {r}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ioc.goto(&page).await.expect("report page");
    wait_for(&ioc, "div.share[data-share-status=released]").await;
    to_shares(&ioc).await;
    shot(&ioc, "share-released").await;

    // The second factor: the leader enrols, the secret shown once, confirmed with a code.
    leader
        .goto(&format!("{}/console/security", s.base))
        .await
        .expect("security page");
    click(&leader, "form.totp-enrol button").await;
    let text = wait_for(&leader, "code.totp-text")
        .await
        .text()
        .await
        .expect("secret text");
    let uri = wait_for(&leader, "a.totp-uri")
        .await
        .attr("href")
        .await
        .ok()
        .flatten();
    assert!(uri.is_some_and(|u| u.starts_with("otpauth://totp/")));
    let secret = totp::base32_decode(&text).expect("base32 secret");
    shot(&leader, "totp-enrol").await;
    let step = now_step();
    fill(&leader, "#totp-code", &totp::code_of_step(&secret, step)).await;
    click(&leader, "form.totp-confirm button").await;
    wait_text(&leader, "Đã bật xác thực hai lớp").await;
    assert!(
        !source(&leader).await.contains(&text),
        "the secret is not shown again"
    );
    shot(&leader, "totp-on").await;

    // Signing in again: the password alone is refused, with the next step's code it works.
    let again = chromium(&driver, 1280, 900, "vi-VN", &[]).await;
    sign_in(&again, &s, "leader", None).await;
    wait_text(&again, "hãy nhập mã 6 chữ số trong ứng dụng xác thực").await;
    assert!(again.find(Locator::Css("header.top .who")).await.is_err());
    let next = totp::code_of_step(&secret, now_step().max(step) + 1);
    sign_in(&again, &s, "leader", Some(&next)).await;
    wait_for(&again, "header.top .who").await;
    let (st, _) = api
        .post(
            "/v1/auth/login",
            None,
            json!({"username": "leader", "password": s.accounts["leader"], "code": next}),
        )
        .await;
    assert_eq!(st.as_u16(), 401, "the same code twice");

    for c in [ioc, leader, again] {
        let _ = c.close().await;
    }
}
