//! The search page, in process through the router: free text that ignores diacritics and case,
//! AND-ed with the filters, paged with the store's cursor; units see only their unit's reports
//! and never the reporter; bad filters are named next to their field.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use phananh_core::app::{App, Ports};
use phananh_core::model::{Actor, Report, Role};
use phananh_core::ports::ReportStore;
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use phananh_testkit::fixtures::{self, at, rules, t0};
use std::sync::Arc;
use tower::ServiceExt;

struct World {
    state: HttpState,
    store: Arc<MemoryStore>,
    tokens: TokenService,
}

fn world() -> World {
    let store = Arc::new(MemoryStore::default());
    let app = App::new(
        Arc::new(rules().clone()),
        Ports {
            store: store.clone(),
            accounts: store.clone(),
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    let tokens = TokenService::new("console-search-test-secret");
    let state = HttpState {
        app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    World {
        state,
        store,
        tokens,
    }
}

impl World {
    async fn get(&self, actor: &Actor, uri: &str) -> Response {
        let (token, _) = self.tokens.issue(actor).expect("a token");
        let req = Request::builder()
            .uri(uri)
            .header(header::COOKIE, format!("phananh_session={token}"))
            .body(Body::empty())
            .expect("a request");
        router(self.state.clone())
            .oneshot(req)
            .await
            .expect("an answer")
    }

    async fn store(&self, r: &Report) {
        self.store.create(r, &[], None).await.expect("stored");
    }
}

async fn html(res: Response) -> String {
    let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body");
    String::from_utf8(bytes.to_vec()).expect("utf-8")
}

fn titled(id: &str, minutes: i64, title: &str) -> Report {
    let mut r = fixtures::report(id, at(minutes));
    r.title = title.to_string();
    r.description = "Đề nghị kiểm tra, xử lý.".into();
    r.address = None;
    r
}

fn ioc() -> Actor {
    Actor::new("ioc-op-1", Role::IocOperator, None)
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
    let page = html(res).await;
    assert_eq!(shown(&page), vec!["r-pothole"]);
    assert!(page.contains("Ổ gà trên đường Trần Phú"));
    assert!(page.contains("href=\"/console/reports/r-pothole\""));
    // What was typed stays in the form.
    assert!(page.contains("value=\"o ga tran phu\""));

    // Case and diacritics typed or not, "đ" as "d".
    let page = html(w.get(&ioc(), "/console/search?q=DEN+%C4%91uong").await).await;
    assert_eq!(shown(&page), vec!["r-light"]);
    // AND-ed with a filter that excludes it.
    let page = html(w.get(&ioc(), "/console/search?q=o+ga&state=assigned").await).await;
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
    let page = html(w.get(&ioc(), "/console/search?q=rac+thai").await).await;
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
    let page = html(w.get(&ioc(), &href).await).await;
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
    let page = html(res).await;
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
    let page = html(w.get(&ioc(), "/console/search?overdue=1").await).await;
    assert_eq!(shown(&page), vec!["r-late"]);

    let res = w
        .get(&ioc(), "/console/search?q=cay&from=03%2F01%2F2025")
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let page = html(res).await;
    assert!(page.contains("id=\"from-error\""));
    assert!(page.contains("Ngày không hợp lệ"));
    assert!(page.contains("value=\"cay\""), "what was typed is kept");

    // Without a session: back to the login page.
    let res = router(w.state.clone())
        .oneshot(
            Request::builder()
                .uri("/console/search?q=x")
                .body(Body::empty())
                .expect("a request"),
        )
        .await
        .expect("an answer");
    assert!(res.status().is_redirection(), "{}", res.status());
}
