//! The public site over HTTP, on the in-memory fakes: the report form (errors keep what was
//! typed, one report per idempotency key, Đ.6.3 refused with the guidance), the live hints,
//! the tracking link (no personal data, forged links are a friendly 404, rating and reopening),
//! the published results (never personal data; Đ.8.2 reports as category and state), the
//! transparency aggregates, the one-time-code sign-in, the English switch and the feed's
//! page weight.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use phananh_core::model::{ReportId, State};
use phananh_core::ports::{ReportQuery, ReportStore};
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::app::TestApp;
use phananh_testkit::fixtures::{self, at};
use std::collections::HashMap;
use std::sync::Arc;
use tower::ServiceExt;

const NAME: &str = "Nguyễn Thị Hoa";
const PHONE: &str = "0987654321";
const PHONE_E164: &str = "+84987654321";
const EMAIL: &str = "hoa@example.vn";

struct Site {
    t: TestApp,
    state: HttpState,
}

fn site() -> Site {
    let t = TestApp::new();
    let tokens = TokenService::new("site-test-secret-site-test-secret");
    let state = HttpState {
        app: t.app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens, false),
    };
    Site { t, state }
}

/// A browser: the cookies it keeps between requests.
#[derive(Default)]
struct Browser {
    cookies: HashMap<String, String>,
}

struct Page {
    status: StatusCode,
    location: String,
    content_type: String,
    body: String,
}

impl Browser {
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn send(&mut self, s: &Site, req: Request<Body>) -> Page {
        let res: Response = router(s.state.clone()).oneshot(req).await.expect("answer");
        for c in res.headers().get_all(header::SET_COOKIE) {
            let c = c.to_str().expect("ascii cookie");
            let (kv, _) = c.split_once(';').unwrap_or((c, ""));
            let (k, v) = kv.split_once('=').expect("k=v");
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        let status = res.status();
        let h = |n: header::HeaderName| {
            res.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let location = h(header::LOCATION);
        let content_type = h(header::CONTENT_TYPE);
        let b = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        Page {
            status,
            location,
            content_type,
            body: String::from_utf8_lossy(&b).into_owned(),
        }
    }

    async fn get(&mut self, s: &Site, uri: &str) -> Page {
        let req = Request::builder()
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::COOKIE, self.cookie_header())
            .body(Body::empty())
            .expect("request");
        self.send(s, req).await
    }

    async fn post_form(&mut self, s: &Site, uri: &str, fields: &[(&str, &str)]) -> Page {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request");
        self.send(s, req).await
    }

    async fn post_json(&mut self, s: &Site, uri: &str, json: serde_json::Value) -> Page {
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8080")
            .header(header::COOKIE, self.cookie_header())
            .header("x-csrf-token", self.csrf())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string()))
            .expect("request");
        self.send(s, req).await
    }

    fn csrf(&self) -> String {
        self.cookies
            .get("phananh_csrf")
            .cloned()
            .unwrap_or_default()
    }
}

/// The value of hidden input `name` in `html`.
fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    html.split(&needle)
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap_or_default()
        .to_string()
}

async fn all_reports(s: &Site) -> Vec<phananh_core::model::Report> {
    s.t.store
        .query(&ReportQuery {
            limit: 200,
            ..Default::default()
        })
        .await
        .expect("query")
        .items
}

/// Opens the form and fills it (a pothole, with the reporter's name, phone and e-mail).
async fn fill(b: &mut Browser, s: &Site) -> Vec<(String, String)> {
    let form = b.get(s, "/report").await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(
        b.cookies.contains_key("phananh_visitor"),
        "the visitor cookie"
    );
    vec![
        ("_csrf".into(), hidden(&form.body, "_csrf")),
        ("key".into(), hidden(&form.body, "key")),
        ("category".into(), "urban_order".into()),
        ("title".into(), "Ổ gà lớn trên đường Trần Phú".into()),
        (
            "description".into(),
            "Ổ gà sâu giữa đường, xe máy dễ ngã vào ban đêm.".into(),
        ),
        ("lat".into(), "22.3965".into()),
        ("lon".into(), "103.4585".into()),
        ("address".into(), "Trước số 12 Trần Phú".into()),
        ("ward".into(), "tan_phong".into()),
        ("name".into(), NAME.into()),
        ("phone".into(), PHONE.into()),
        ("email".into(), EMAIL.into()),
    ]
}

fn with<'a>(
    fields: &'a [(String, String)],
    changes: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    fields
        .iter()
        .map(|(k, v)| {
            let v = changes
                .iter()
                .find(|(ck, _)| ck == k)
                .map(|(_, cv)| *cv)
                .unwrap_or(v.as_str());
            (k.as_str(), v)
        })
        .collect()
}

fn assert_no_personal_data(html: &str, what: &str) {
    for secret in [
        NAME,
        PHONE,
        PHONE_E164,
        EMAIL,
        "Nguyễn Văn An",
        "0912345678",
        "+84912345678",
    ] {
        assert!(!html.contains(secret), "{what} shows {secret}");
    }
}

#[tokio::test]
async fn the_form_lists_the_configured_categories_with_their_descriptions() {
    let s = site();
    let mut b = Browser::default();
    let p = b.get(&s, "/report").await;
    assert!(p.content_type.starts_with("text/html"));
    for c in &s.t.app.rules().config.categories {
        assert!(
            p.body.contains(&format!("value=\"{}\"", c.code)),
            "{}",
            c.code
        );
        assert!(p
            .body
            .contains(&maud::html! { (c.description) }.into_string()));
    }
    assert!(p.body.contains("Điều 4"), "the Đ.4 protection statement");
}

#[tokio::test]
async fn bad_input_keeps_what_was_typed_and_shows_the_message_next_to_the_field() {
    let s = site();
    let mut b = Browser::default();
    let fields = fill(&mut b, &s).await;
    let p = b
        .post_form(&s, "/report", &with(&fields, &[("phone", "12ab")]))
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("id=\"phone-error\""), "{}", p.body);
    assert!(p.body.contains("aria-invalid=\"true\""));
    assert!(
        p.body.contains("Ổ gà lớn trên đường Trần Phú"),
        "title kept"
    );
    assert!(
        p.body.contains("xe máy dễ ngã vào ban đêm"),
        "description kept"
    );
    assert!(p.body.contains("value=\"12ab\""), "the wrong phone kept");
    assert!(p.body.contains("value=\"22.3965\""), "location kept");
    assert!(all_reports(&s).await.is_empty(), "nothing stored");

    // An empty title: the message is next to the title.
    let p = b
        .post_form(&s, "/report", &with(&fields, &[("title", " ")]))
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("id=\"title-error\""));
    assert!(all_reports(&s).await.is_empty());
}

#[tokio::test]
async fn a_form_without_its_csrf_token_is_refused_but_keeps_the_input() {
    let s = site();
    let mut b = Browser::default();
    let fields = fill(&mut b, &s).await;
    let p = b
        .post_form(&s, "/report", &with(&fields, &[("_csrf", "forged")]))
        .await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    assert!(p.body.contains("Ổ gà lớn trên đường Trần Phú"));
    assert!(all_reports(&s).await.is_empty());
}

#[tokio::test]
async fn d6_3_a_complaint_is_refused_with_the_guidance_and_the_text_kept() {
    let s = site();
    let mut b = Browser::default();
    let fields = fill(&mut b, &s).await;
    let text = "Tôi làm đơn khiếu nại quyết định thu hồi đất của phường";
    let p = b
        .post_form(&s, "/report", &with(&fields, &[("description", text)]))
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        p.body.contains("không tiếp nhận đơn thư khiếu nại"),
        "the guidance"
    );
    assert!(p.body.contains(text));
    assert!(all_reports(&s).await.is_empty());
}

#[tokio::test]
async fn hints_while_typing_come_from_cores_screening() {
    let s = site();
    let mut b = Browser::default();
    b.get(&s, "/report").await;
    let p = b
        .post_json(
            &s,
            "/report/hints",
            serde_json::json!({"title": "", "description": "tôi muốn gửi đơn tố cáo cán bộ"}),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&p.body).expect("json");
    assert_eq!(v["out_of_scope"]["code"], "denunciation");
    assert!(v["out_of_scope"]["guidance"]
        .as_str()
        .unwrap_or("")
        .contains("tố cáo"));
    let p = b
        .post_json(
            &s,
            "/report/hints",
            serde_json::json!({"title": "Đường hỏng", "description": "bọn ăn hại không sửa đường"}),
        )
        .await;
    let v: serde_json::Value = serde_json::from_str(&p.body).expect("json");
    assert!(v["out_of_scope"].is_null());
    assert_eq!(v["abusive_terms"], serde_json::json!(["bọn ăn hại"]));
}

#[tokio::test]
async fn a_double_tap_makes_one_report_and_the_answer_gives_the_tracking_link_and_code() {
    let s = site();
    let mut b = Browser::default();
    let fields = fill(&mut b, &s).await;
    let all = with(&fields, &[]);
    let first = b.post_form(&s, "/report", &all).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    let second = b.post_form(&s, "/report", &all).await;
    assert_eq!(second.status, StatusCode::SEE_OTHER);
    let reports = all_reports(&s).await;
    assert_eq!(reports.len(), 1, "one report for one key");
    let r = &reports[0];
    let link = first
        .location
        .split('?')
        .next()
        .unwrap_or_default()
        .to_string();
    assert!(link.starts_with(&format!("/track/{}/", r.id)), "{link}");
    assert!(second.location.starts_with(&link));
    assert!(second.location.contains("again=1"));
    // The reporter's data is stored for the IOC (Đ.4) ...
    let rep = r.reporter.as_ref().expect("reporter");
    assert_eq!(rep.name.as_deref(), Some(NAME));
    assert!(rep.citizen_id.starts_with("web-"));

    // ... and the answer page shows the link and the code, never the data.
    let p = b.get(&s, &first.location).await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("id=\"tracking-link\""));
    assert!(p.body.contains(&format!("http://127.0.0.1:8080{link}")));
    assert!(p.body.contains("id=\"tracking-code\""));
    assert!(p.body.contains("Ổ gà lớn trên đường Trần Phú"));
    assert_no_personal_data(&p.body, "the tracking page");

    // The code typed on /track (lower case, with dashes) leads to the same page.
    let token = link.rsplit('/').next().unwrap_or_default();
    let typed = format!(
        "/track?id={}&code={}-{}-{}-{}",
        r.id,
        &token[0..4].to_lowercase(),
        &token[4..8],
        &token[8..12],
        &token[12..16]
    );
    let p = b.get(&s, &typed).await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    assert_eq!(p.location, link);
}

#[tokio::test]
async fn a_forged_or_unknown_tracking_link_is_a_friendly_404() {
    let s = site();
    let r = fixtures::report("r-track-1", at(0));
    s.t.store.create(&r, &[], None).await.expect("stored");
    let mut b = Browser::default();
    for uri in [
        "/track/r-track-1/AAAAAAAAAAAAAAAA",
        "/track/r-unknown/AAAAAAAAAAAAAAAA",
        "/track/r-track-1/x",
        "/results/r-track-1",
        "/results/r-unknown",
    ] {
        let p = b.get(&s, uri).await;
        assert_eq!(p.status, StatusCode::NOT_FOUND, "{uri}");
        assert!(p.content_type.starts_with("text/html"), "{uri}");
        assert!(p.body.contains("Không tìm thấy trang"), "{uri}");
        assert!(!p.body.contains("Rác thải ùn ứ"), "{uri} leaks the report");
    }
    let p = b
        .get(&s, "/track?id=r-track-1&code=AAAA-AAAA-AAAA-AAAA")
        .await;
    assert_eq!(p.status, StatusCode::NOT_FOUND);
    assert!(p.body.contains("không đúng"));
}

#[tokio::test]
async fn the_reporter_rates_and_reopens_through_the_link() {
    let s = site();
    let r = fixtures::published(
        fixtures::assigned(
            fixtures::report("r-rate-1", at(0)),
            "phong_tnmt",
            &[],
            at(600),
        ),
        at(120),
    );
    s.t.store.create(&r, &[], None).await.expect("stored");
    let token = phananh_http::site::keys::key().token(&ReportId("r-rate-1".into()));
    let base = format!("/track/r-rate-1/{token}");
    let mut b = Browser::default();
    let p = b.get(&s, &base).await;
    assert!(p.body.contains("id=\"rate-form\""));
    assert!(p.body.contains("Đã thu gom rác"), "the public answer");
    let csrf = hidden(&p.body, "_csrf");
    // Without the CSRF token: refused.
    let refused = b
        .post_form(&s, &format!("{base}/rate"), &[("stars", "4")])
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let p = b
        .post_form(
            &s,
            &format!("{base}/rate"),
            &[("_csrf", &csrf), ("stars", "4"), ("comment", "Nhanh")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER, "{}", p.body);
    assert!(p.location.ends_with("?done=rate"));
    let stored =
        s.t.app
            .load(&ReportId("r-rate-1".into()))
            .await
            .expect("load");
    assert_eq!(stored.rating.as_ref().map(|x| x.stars), Some(4));
    let p = b.get(&s, &p.location).await;
    assert!(!p.body.contains("id=\"rate-form\""), "rated once only");
    // Reopening needs a reason: the message shows next to it.
    let p = b
        .post_form(
            &s,
            &format!("{base}/reopen"),
            &[("_csrf", &csrf), ("reason", " ")],
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(p.body.contains("field-error"));
    let p = b
        .post_form(
            &s,
            &format!("{base}/reopen"),
            &[("_csrf", &csrf), ("reason", "Rác vẫn còn")],
        )
        .await;
    assert_eq!(p.status, StatusCode::SEE_OTHER);
    let stored =
        s.t.app
            .load(&ReportId("r-rate-1".into()))
            .await
            .expect("load");
    assert_eq!(stored.state, State::Screened);
}

#[tokio::test]
async fn d4_d8_published_results_never_show_personal_data_and_secret_reports_only_category_and_state(
) {
    let s = site();
    let mut open = fixtures::published(
        fixtures::assigned(
            fixtures::report("r-pub-1", at(0)),
            "phong_tnmt",
            &[],
            at(600),
        ),
        at(120),
    );
    open.title = "Rác thải ùn ứ trước chợ".into();
    open.location = Some(phananh_core::model::GeoPoint {
        lat: 22.4,
        lon: 103.46,
    });
    if let Some(rep) = open.reporter.as_mut() {
        rep.email = Some(EMAIL.into());
    }
    let mut secret = fixtures::secret(fixtures::published(
        fixtures::report("r-pub-2", at(1)),
        at(130),
    ));
    secret.title = "Nội dung mật không được lộ".into();
    let pending = fixtures::report("r-pub-3", at(2));
    for r in [&open, &secret, &pending] {
        s.t.store.create(r, &[], None).await.expect("stored");
    }
    let mut b = Browser::default();
    for uri in [
        "/",
        "/results",
        "/results/r-pub-1",
        "/results/r-pub-2",
        "/results/map",
        "/results/map.json",
    ] {
        let p = b.get(&s, uri).await;
        assert_eq!(p.status, StatusCode::OK, "{uri}");
        assert_no_personal_data(&p.body, uri);
        assert!(
            !p.body.contains("Nội dung mật"),
            "{uri} shows the secret report's title"
        );
        assert!(
            !p.body.contains("r-pub-3"),
            "{uri} shows an unpublished report"
        );
    }
    let feed = b.get(&s, "/results").await.body;
    assert!(feed.contains("Rác thải ùn ứ trước chợ"));
    // Đ.8.2: a secret report is listed as its category and state only, and never under a
    // ward filter (its ward is not public).
    assert!(feed.contains("data-report-id=\"r-pub-2\""), "listed");
    let card = feed
        .split("data-report-id=\"r-pub-2\"")
        .nth(1)
        .and_then(|c| c.split("</article>").next())
        .unwrap_or_default();
    assert!(
        card.contains("Môi trường") && card.contains("Đã công khai kết quả"),
        "{card}"
    );
    assert!(!card.contains("Đã thu gom rác"), "no answer: {card}");
    assert!(!card.contains("Phường"), "no ward: {card}");
    assert!(!b
        .get(&s, "/results?ward=tan_phong")
        .await
        .body
        .contains("r-pub-2"));
    let secret_page = b.get(&s, "/results/r-pub-2").await.body;
    assert!(secret_page.contains("Điều 8.2"));
    assert!(secret_page.contains("Môi trường"), "its category");
    assert!(secret_page.contains("Đã công khai kết quả"), "its state");
    let map = b.get(&s, "/results/map.json").await.body;
    assert!(map.contains("r-pub-1") && !map.contains("r-pub-2"), "{map}");
    // Filters: another category shows nothing.
    let other = b
        .get(&s, "/results?category=traffic_security&period=30")
        .await
        .body;
    assert!(!other.contains("Rác thải ùn ứ trước chợ"));
    assert!(other.contains("selected"));
    let ward = b.get(&s, "/results?ward=tan_phong").await.body;
    assert!(ward.contains("Rác thải ùn ứ trước chợ"));
}

#[tokio::test]
async fn transparency_shows_only_aggregates_per_unit_and_category() {
    let s = site();
    let r = fixtures::published(
        fixtures::assigned(
            fixtures::report("r-tr-1", at(0)),
            "phong_tnmt",
            &[],
            at(600),
        ),
        at(120),
    );
    s.t.store.create(&r, &[], None).await.expect("stored");
    s.t.app.count_in_stats(&r).await.expect("counted");
    let mut b = Browser::default();
    let p = b.get(&s, "/transparency").await;
    assert_eq!(p.status, StatusCode::OK);
    assert!(p.body.contains("id=\"this-month\"") && p.body.contains("id=\"last-12-months\""));
    // The figures are the statistics' aggregate rows: one report received and resolved.
    assert!(p.body.contains("<dd>1</dd>"), "{}", p.body);
    assert!(p.body.contains("data-code=\"phong_tnmt\""));
    assert!(p.body.contains("data-code=\"environment\""));
    assert!(!p.body.contains("Rác thải ùn ứ"), "no report's title");
    assert!(!p.body.contains("r-tr-1"), "no report's id");
    assert_no_personal_data(&p.body, "transparency");
}

#[tokio::test]
async fn a_visitor_switches_to_english_and_it_sticks() {
    let s = site();
    let mut b = Browser::default();
    let vi = b.get(&s, "/results").await;
    assert!(vi.body.contains("<html lang=\"vi\">"));
    assert!(vi.body.contains("href=\"/results?lang=en\""));
    let en = b.get(&s, "/results?lang=en").await;
    assert!(en.body.contains("<html lang=\"en\">"));
    assert!(en.body.contains("Results"));
    assert_eq!(
        b.cookies.get("phananh_lang").map(String::as_str),
        Some("en")
    );
    let form = b.get(&s, "/report").await;
    assert!(form.body.contains("Send report"), "the choice sticks");
    assert!(form.body.contains("Article 4"));
    let back = b.get(&s, "/report?lang=vi").await;
    assert!(back.body.contains("Gửi phản ánh"));
}

#[tokio::test]
async fn a_citizen_signs_in_by_code_and_sees_their_reports() {
    let s = site();
    let mut b = Browser::default();
    let fields = fill(&mut b, &s).await;
    // Reported anonymously first: a citizen signed in by code sees what they send signed in.
    let page = b.get(&s, "/me").await;
    let csrf = hidden(&page.body, "_csrf");
    let p = b
        .post_form(&s, "/me/code", &[("_csrf", &csrf), ("contact", PHONE)])
        .await;
    assert_eq!(p.status, StatusCode::OK, "{}", p.body);
    let sms =
        s.t.notifier
            .all()
            .into_iter()
            .find(|n| n.to == PHONE_E164)
            .expect("a code by SMS");
    let code: String = sms
        .body
        .chars()
        .filter(|c| c.is_ascii_digit())
        .take(6)
        .collect();
    let wrong = b
        .post_form(
            &s,
            "/me/verify",
            &[("_csrf", &csrf), ("contact", PHONE), ("code", "000000x")],
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = b
        .post_form(
            &s,
            "/me/verify",
            &[("_csrf", &csrf), ("contact", PHONE), ("code", &code)],
        )
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    // Now signed in: a report sent is theirs, listed with its tracking link.
    let form = b.get(&s, "/report").await;
    let mut fields = fields;
    for (k, v) in fields.iter_mut() {
        if k == "key" {
            *v = hidden(&form.body, "key");
        }
    }
    let sent = b.post_form(&s, "/report", &with(&fields, &[])).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER);
    let mine = b.get(&s, "/me").await;
    assert!(
        mine.body.contains("Ổ gà lớn trên đường Trần Phú"),
        "{}",
        mine.body
    );
    let link = sent.location.split('?').next().unwrap_or_default();
    assert!(mine.body.contains(link));
}

#[tokio::test]
async fn the_feed_weighs_less_than_300_kb_before_images() {
    let s = site();
    for i in 0..20 {
        let mut r = fixtures::published(
            fixtures::assigned(
                fixtures::report(&format!("r-w-{i}"), at(i)),
                "phong_tnmt",
                &[],
                at(600),
            ),
            at(120 + i),
        );
        r.description = "Mô tả dài ".repeat(100);
        s.t.store.create(&r, &[], None).await.expect("stored");
    }
    let mut b = Browser::default();
    let page = b.get(&s, "/results").await;
    let mut total = page.body.len();
    let mut assets = 0;
    for part in page.body.split("/console/assets/").skip(1) {
        let path = part.split('"').next().unwrap_or_default();
        let a = b.get(&s, &format!("/console/assets/{path}")).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        total += a.body.len();
        assets += 1;
    }
    assert_eq!(assets, 2, "the feed loads one style sheet and one script");
    assert!(total < 300 * 1024, "feed page weight {total} bytes");
    eprintln!("feed page weight before images: {total} bytes");
}

#[tokio::test]
async fn upload_slots_are_bound_to_the_visitor_and_need_the_csrf_header() {
    let s = site();
    let mut b = Browser::default();
    let body = serde_json::json!({"content_type": "image/jpeg", "size": 1000});
    // No visitor, no CSRF cookie: refused.
    let p = b.post_json(&s, "/report/uploads", body.clone()).await;
    assert_eq!(p.status, StatusCode::FORBIDDEN);
    b.get(&s, "/report").await;
    let p = b.post_json(&s, "/report/uploads", body).await;
    assert_eq!(p.status, StatusCode::CREATED, "{}", p.body);
    let v: serde_json::Value = serde_json::from_str(&p.body).expect("json");
    assert!(v["attachment_id"].is_string());
    assert!(v["upload"]["url"].is_string() && v["upload"]["method"].is_string());
    let p = b
        .post_json(
            &s,
            "/report/uploads",
            serde_json::json!({"content_type": "text/html", "size": 10}),
        )
        .await;
    assert_eq!(p.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", p.body);
    assert!(p.content_type.starts_with("application/problem+json"));
    assert!(p.body.contains("định dạng tệp không được hỗ trợ"));
}

#[tokio::test]
async fn the_home_page_and_the_wards_read_without_javascript() {
    let s = site();
    let mut b = Browser::default();
    let home = b.get(&s, "/").await;
    assert_eq!(home.status, StatusCode::OK);
    assert!(home.body.contains("href=\"/report\""));
    assert!(home.body.contains("Thành phố Lai Châu"));
    let wards = b.get(&s, "/results/wards.json").await;
    let v: serde_json::Value = serde_json::from_str(&wards.body).expect("json");
    assert_eq!(v["type"], "FeatureCollection");
    assert_eq!(
        v["features"].as_array().map(Vec::len),
        Some(s.t.app.rules().config.wards.len())
    );
}
