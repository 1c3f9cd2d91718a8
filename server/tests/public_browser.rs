//! The public site in a real headless Chromium on a 360-pixel phone screen (the same harness as
//! the console's browser test), against a started `phananh serve` (127.0.0.1 only):
//!
//! - a resident types a complaint and sees the Đ.6.3 hint before sending, then reports a
//!   problem with a photo and a location picked on the map, and gets the tracking link and code;
//! - the city moves the report through assignment, resolution and publication (the API);
//! - the resident follows it by the link and rates the result;
//! - the published result shows on the feed, its page and the map, with no name, phone or
//!   e-mail anywhere in the HTML; the feed's weight before images is measured in the browser;
//! - a tourist switches to English; a forged link answers the friendly 404 page;
//! - on a 1,366-pixel desktop screen the pages keep one centred column and never overflow.
//!
//! Screenshots go to `<target>/tmp/public-screenshots/` (docs/public-site.md).

mod common;

use common::browser::*;
use common::*;
use fantoccini::{Client, Locator};
use serde_json::json;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const NAME: &str = "Trần Văn Bình";
const PHONE: &str = "0977123456";
const PHONE_E164: &str = "+84977123456";
const EMAIL: &str = "binh.tran@example.vn";
const TITLE: &str = "Quán ăn không niêm yết giá";

/// A headless Chromium with its own empty profile (so nothing is cached), a phone's screen.
async fn phone(driver: &Driver, lang: &str) -> Client {
    chromium(driver, 360, 800, lang, &["--hide-scrollbars"]).await
}

async fn screenshot(c: &Client, name: &str) {
    screenshot_to(c, "public-screenshots", name).await
}

async fn js(c: &Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.expect("script runs")
}

async fn type_into(c: &Client, css: &str, text: &str) {
    let el = c.find(Locator::Css(css)).await.expect(css);
    el.clear().await.expect("clear");
    el.send_keys(text).await.expect("type");
}

fn assert_no_personal_data(html: &str, what: &str) {
    for secret in [NAME, PHONE, PHONE_E164, EMAIL] {
        assert!(!html.contains(secret), "{what} shows {secret}");
    }
}

/// Waits (bounded) until `script` returns true.
async fn wait_js(c: &Client, script: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if js(c, script).await == json!(true) {
            return;
        }
        assert!(Instant::now() < deadline, "never: {what}");
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resident_reports_follows_and_rates_and_a_tourist_reads_in_english() {
    let data = TempData::new("public-browser");
    let s = start(&data.0);
    let api = s.api();
    let driver = start_driver().await;
    let resident = phone(&driver, "vi-VN").await;

    // The form, on a phone.
    resident
        .goto(&format!("{}/report", s.base))
        .await
        .expect("report form");
    wait_for(&resident, "#report-form").await;
    wait_for(&resident, "#pick-map:not([hidden])").await;
    screenshot(&resident, "1-report-form").await;

    // Đ.6.3: typing a complaint shows where to go instead, before anything is sent.
    type_into(
        &resident,
        "#description",
        "Tôi làm đơn khiếu nại quyết định xử phạt của phường",
    )
    .await;
    wait_for(&resident, "#hint-scope:not([hidden])").await;
    assert!(source(&resident)
        .await
        .contains("không tiếp nhận đơn thư khiếu nại"));
    resident
        .execute(
            "document.getElementById('hint-scope').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    screenshot(&resident, "2-hint-out-of-scope").await;

    // The real report: category, title, text; the hint goes away.
    resident
        .find(Locator::Css("#category option[value=market_prices]"))
        .await
        .expect("category option")
        .click()
        .await
        .expect("choose category");
    type_into(&resident, "#title", TITLE).await;
    type_into(
        &resident,
        "#description",
        "Quán phở đầu chợ bán 150.000đ một bát cho du khách, không niêm yết giá.",
    )
    .await;
    wait_for(&resident, "#hint-scope[hidden]").await;

    // The location: a tap on the map (Leaflet is loaded only now).
    resident
        .find(Locator::Css("#pick-map"))
        .await
        .expect("pick on map")
        .click()
        .await
        .expect("open map");
    wait_for(&resident, "#pick-map-box[data-ready]").await;
    resident
        .find(Locator::Css("#pick-map-canvas"))
        .await
        .expect("map canvas")
        .click()
        .await
        .expect("tap the map");
    wait_js(
        &resident,
        "return document.getElementById('lat').value !== '' && document.getElementById('lon').value !== '';",
        "a location picked on the map",
    )
    .await;

    // A photo through the upload slot, over a connection that drops twice: the page retries
    // by itself and the photo arrives.
    resident
        .execute(
            "window.__drops = 2; window.__sends = 0;
             var send = XMLHttpRequest.prototype.send;
             XMLHttpRequest.prototype.send = function (body) {
               window.__sends++;
               if (window.__drops > 0) {
                 window.__drops--;
                 var x = this;
                 setTimeout(function () { if (x.onerror) x.onerror(new Event('error')); }, 10);
                 return;
               }
               return send.call(this, body);
             };",
            vec![],
        )
        .await
        .expect("a flaky connection");
    let photo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pothole.png");
    let choose = || async {
        resident
            .find(Locator::Css("#files"))
            .await
            .expect("file input")
            .send_keys(photo.to_str().expect("utf-8 path"))
            .await
            .expect("choose photo");
    };
    choose().await;
    wait_for(&resident, "#upload-list li.done").await;
    assert_eq!(
        js(&resident, "return window.__sends;").await,
        json!(3),
        "two drops, one upload"
    );

    // A second one over a connection that stays down: after the automatic retries it is marked
    // failed, the form refuses to send, and the retry button brings it in once back online.
    resident
        .execute("window.__drops = 4;", vec![])
        .await
        .expect("offline");
    choose().await;
    wait_for(&resident, "#upload-list li.failed").await;
    let failed = source(&resident).await;
    assert!(failed.contains("Tải lên thất bại"));
    resident
        .execute(
            "document.getElementById('send').click();
             document.querySelector('#upload-list li.failed').scrollIntoView({block: 'center'});",
            vec![],
        )
        .await
        .expect("try to send");
    wait_for(&resident, "#send-status:not(:empty)").await;
    assert!(resident
        .current_url()
        .await
        .expect("url")
        .path()
        .ends_with("/report"));
    screenshot(&resident, "3b-upload-failed").await;
    resident
        .find(Locator::Css("#upload-list li.failed button"))
        .await
        .expect("retry button")
        .click()
        .await
        .expect("retry");
    wait_js(
        &resident,
        "return document.querySelectorAll('#upload-list li.done').length === 2;",
        "both photos uploaded after the retry",
    )
    .await;
    let attached = js(
        &resident,
        "return document.getElementById('attachments').value;",
    )
    .await;
    assert!(
        attached.as_str().is_some_and(|a| !a.is_empty()),
        "{attached}"
    );

    // Optional name and contact, with the Đ.4 statement beside them.
    type_into(&resident, "#name", NAME).await;
    type_into(&resident, "#phone", PHONE).await;
    type_into(&resident, "#email", EMAIL).await;
    resident
        .execute(
            "document.getElementById('pick-map-box').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    screenshot(&resident, "3-report-map-and-photo").await;
    // A double tap: the second is ignored by the page (and would be by the server's key).
    resident
        .execute(
            "var b = document.getElementById('send'); b.click(); b.click();",
            vec![],
        )
        .await
        .expect("send");
    let link_el = wait_for(&resident, "#tracking-link").await;
    let link = link_el
        .attr("href")
        .await
        .expect("href")
        .expect("a tracking link");
    let code = wait_for(&resident, "#tracking-code")
        .await
        .text()
        .await
        .expect("code");
    assert_eq!(code.len(), 19, "ABCD-EFGH-JKMN-PQRS: {code}");
    assert_no_personal_data(&source(&resident).await, "the answer page");
    screenshot(&resident, "4-report-sent").await;
    let id = link.split('/').nth(2).expect("id in link").to_string();

    // The city handles it (the API): one report despite the double tap, screened, assigned,
    // accepted, resolved, published with the photo approved for the public.
    let ioc = api.login(&s, "ioc.head").await;
    let (_, list) = api.get("/v1/staff/reports?limit=200", Some(&ioc)).await;
    let mine: Vec<_> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|r| r["title"] == TITLE)
        .collect();
    assert_eq!(mine.len(), 1, "one report for a double tap");
    let staff = api.wait_state(&ioc, &id, "screened").await;
    let photo_id = staff["attachments"][0]["id"]
        .as_str()
        .expect("the photo is attached")
        .to_string();
    let (st, v) = api
        .action(
            &ioc,
            &id,
            json!({"action": "assign", "lead_unit": "phong_kinh_te"}),
        )
        .await;
    assert!(st.is_success(), "{v}");

    resident
        .goto(&format!("{}{link}", s.base))
        .await
        .expect("tracking page");
    wait_for(&resident, "#state[data-state=assigned]").await;
    assert!(source(&resident).await.contains("Phòng Kinh tế"));
    screenshot(&resident, "5-tracking-assigned").await;

    let unit = api.login(&s, "kinhte.staff").await;
    let (st, v) = api
        .action(
            &unit,
            &id,
            json!({"action": "accept", "note": "Đã cử cán bộ"}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let evidence = api.upload(&unit, &jpeg()).await;
    let (st, v) = api
        .action(
            &unit,
            &id,
            json!({"action": "resolve", "summary": "Đã kiểm tra, xử phạt", "evidence": [evidence]}),
        )
        .await;
    assert!(st.is_success(), "{v}");
    let answer = "Cơ sở đã bị xử phạt và đã niêm yết giá công khai.";
    let (st, v) = api
        .action(
            &ioc,
            &id,
            json!({"action": "publish", "public_answer": answer, "public_attachments": [photo_id]}),
        )
        .await;
    assert!(st.is_success(), "{v}");

    // The resident follows it by the link: the answer, then rates it.
    resident.refresh().await.expect("reload");
    wait_for(&resident, "#state[data-state=published]").await;
    assert!(source(&resident).await.contains(answer));
    resident
        .find(Locator::Css("#rate-form input[name=stars][value='5']"))
        .await
        .expect("5 stars")
        .click()
        .await
        .expect("choose 5");
    type_into(&resident, "#comment", "Xử lý nhanh, cảm ơn").await;
    resident
        .find(Locator::Css("#rate-form button[type=submit]"))
        .await
        .expect("rate button")
        .click()
        .await
        .expect("rate");
    wait_for(&resident, "p.rated").await;
    let html = source(&resident).await;
    assert!(html.contains("Cảm ơn bạn đã đánh giá"));
    assert_no_personal_data(&html, "the tracking page");
    screenshot(&resident, "6-tracking-rated").await;
    let (_, v) = api
        .get(&format!("/v1/staff/reports/{id}"), Some(&ioc))
        .await;
    assert_eq!(v["rating"]["stars"], 5);

    // The feed: the result, no personal data, and its weight before images.
    resident
        .goto(&format!("{}/results", s.base))
        .await
        .expect("feed");
    wait_for(&resident, &format!("article[data-report-id=\"{id}\"]")).await;
    let html = source(&resident).await;
    assert!(html.contains(TITLE) && html.contains(answer));
    assert_no_personal_data(&html, "the feed");
    let weight = js(
        &resident,
        "var n = performance.getEntriesByType('navigation')[0];
         var total = n.decodedBodySize, images = 0;
         performance.getEntriesByType('resource').forEach(function (r) {
           if (r.initiatorType === 'img') { images += r.decodedBodySize; } else { total += r.decodedBodySize; }
         });
         return [total, images, document.documentElement.outerHTML.length];",
    )
    .await;
    let total = weight[0].as_u64().expect("bytes");
    eprintln!(
        "feed page weight before images: {total} bytes (images {})",
        weight[1]
    );
    assert!(total > 1_000, "the measure measured something: {weight}");
    assert!(total < 300 * 1024, "feed page weight {total} bytes");
    resident
        .execute(
            "document.querySelector('article.result').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    screenshot(&resident, "7-results-feed").await;

    // The result's own page, with the approved photo.
    resident
        .goto(&format!("{}/results/{id}", s.base))
        .await
        .expect("result page");
    wait_for(&resident, "section.media img").await;
    wait_js(
        &resident,
        "var i = document.querySelector('section.media img'); return i.complete && i.naturalWidth > 0;",
        "the public photo loads",
    )
    .await;
    assert_no_personal_data(&source(&resident).await, "the result page");
    resident
        .execute(
            "document.querySelector('section.answer').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    screenshot(&resident, "8-result-page").await;

    // The map: the result as a marker, drawn even with no tile server reachable.
    resident
        .goto(&format!("{}/results/map", s.base))
        .await
        .expect("map");
    wait_for(&resident, "#results-map[data-count='1']").await;
    wait_for(
        &resident,
        "#results-map path.leaflet-interactive, #results-map .marker-cluster",
    )
    .await;
    assert_no_personal_data(&source(&resident).await, "the map page");
    let (_, points) = api.get("/results/map.json", None).await;
    assert_no_personal_data(&points.to_string(), "the map's data");
    resident
        .execute(
            "document.getElementById('results-map').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    screenshot(&resident, "9-results-map").await;

    // Transparency: aggregates for the unit and the category.
    resident
        .goto(&format!("{}/transparency", s.base))
        .await
        .expect("transparency");
    wait_for(&resident, "#this-month tr[data-code=phong_kinh_te]").await;
    screenshot(&resident, "10-transparency").await;

    // A forged link: the friendly 404 page.
    let forged = format!("/track/{id}/AAAAAAAAAAAAAAAA");
    resident
        .goto(&format!("{}{forged}", s.base))
        .await
        .expect("forged link");
    wait_for(&resident, "section.notfound").await;
    screenshot(&resident, "11-not-found").await;

    // A tourist switches to English.
    let tourist = phone(&driver, "en-US").await;
    tourist.goto(&s.base).await.expect("home");
    wait_for(&tourist, "html[lang=vi]").await;
    screenshot(&tourist, "0-home").await;
    tourist
        .find(Locator::Css("header a.lang"))
        .await
        .expect("language switch")
        .click()
        .await
        .expect("switch");
    wait_for(&tourist, "html[lang=en]").await;
    tourist
        .goto(&format!("{}/report", s.base))
        .await
        .expect("form");
    wait_for(&tourist, "html[lang=en] #report-form").await;
    let html = source(&tourist).await;
    assert!(html.contains("Send report") && html.contains("Article 4"));
    type_into(&tourist, "#description", "tôi muốn gửi đơn tố cáo cán bộ").await;
    wait_for(&tourist, "#hint-scope:not([hidden])").await;
    assert!(source(&tourist).await.contains("Art. 6.3"));
    tourist
        .execute(
            "document.getElementById('description').scrollIntoView()",
            vec![],
        )
        .await
        .expect("scroll");
    screenshot(&tourist, "12-tourist-english").await;

    // A desktop screen: the same pages, centred in a readable column, nothing wider than the
    // window (the phone layout above must not be stretched across 1,366 pixels).
    let desktop = chromium(&driver, 1366, 900, "vi-VN", &["--hide-scrollbars"]).await;
    for (path, ready, name) in [
        ("/results", "article.result", "13-desktop-results"),
        ("/report", "#report-form", "14-desktop-report-form"),
        ("/transparency", "#this-month", "15-desktop-transparency"),
    ] {
        desktop
            .goto(&format!("{}{path}", s.base))
            .await
            .expect("desktop page");
        wait_for(&desktop, ready).await;
        let fits = js(
            &desktop,
            "var m = document.querySelector('main').getBoundingClientRect(); \
             return [document.documentElement.scrollWidth, window.innerWidth, m.width, m.left];",
        )
        .await;
        let n = |i: usize| fits[i].as_f64().unwrap_or(f64::NAN);
        assert!(n(0) <= n(1), "{path} overflows the window: {fits}");
        assert!(n(2) <= 960.0 + 1.0, "{path}: main column {} px wide", n(2));
        assert!(n(3) > 100.0, "{path}: main column not centred: {fits}");
        assert_no_personal_data(&source(&desktop).await, path);
        screenshot(&desktop, name).await;
    }

    for c in [resident, tourist, desktop] {
        let _ = c.close().await;
    }
}
