//! The console tests' harness: the whole router on the in-memory fakes of `phananh-testkit`
//! with the local sign-in, a session for any actor with the CSRF cookie, GET and form POST
//! requests, and a citizen's report submitted through the app.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{header, Method, Request};
use axum::response::Response;
use chrono::Duration;
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{Actor, ClockKind, GeoPoint, Report, ReportId, Reporter};
use phananh_core::ports::ReportStore;
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::actors;
use phananh_testkit::app::TestApp;
use phananh_testkit::fakes::{MemoryMedia, MemoryStore, RecordingNotifier};
use phananh_testkit::fixtures::{self, at};
use std::sync::Arc;
use tower::ServiceExt;

/// The CSRF token of every session here: the `phananh_csrf` cookie and the forms' `_csrf`.
pub const CSRF: &str = "c0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ffeec0ff";
/// The reporter of [`World::submit`]'s reports.
pub const NAME: &str = "Nguyễn Văn An";
pub const PHONE: &str = "0912345678";
pub const EMAIL: &str = "an.nguyen@example.vn";

/// The console on fakes, and handles on the fakes a test seeds or inspects.
pub struct World {
    pub state: HttpState,
    pub store: Arc<MemoryStore>,
    pub media: Arc<MemoryMedia>,
    /// The notifier and its delivery log.
    pub notifier: Arc<RecordingNotifier>,
    tokens: TokenService,
}

/// The Lai Châu rules, every port in memory, the clock at t0, local console sign-in.
pub fn world() -> World {
    world_on(TestApp::new())
}

/// [`world`] on a given test app (other city rules).
pub fn world_on(t: TestApp) -> World {
    let tokens = TokenService::new("console-test-secret");
    let state = HttpState {
        app: t.app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    World {
        state,
        store: t.store,
        media: t.media,
        notifier: t.notifier,
        tokens,
    }
}

impl World {
    /// The `Cookie` header of `actor` signed in: the session and the CSRF cookie.
    pub fn cookie(&self, actor: &Actor) -> String {
        let (token, _) = self.tokens.issue(actor).expect("a token");
        format!("phananh_session={token}; phananh_csrf={CSRF}")
    }

    /// The `Authorization` header of `actor` for the API.
    pub fn bearer(&self, actor: &Actor) -> String {
        let (token, _) = self.tokens.issue(actor).expect("a token");
        format!("Bearer {token}")
    }

    pub async fn send(&self, req: Request<Body>) -> Response {
        send(&self.state, req).await
    }

    /// A GET as `actor` (an `&Actor`), or signed out (`None`).
    pub async fn get<'a>(&self, actor: impl Into<Option<&'a Actor>>, uri: &str) -> Response {
        let cookie = actor.into().map(|a| self.cookie(a));
        get_page(&self.state, uri, cookie.as_deref()).await
    }

    /// A form POST as `actor`; the CSRF field is the test's to add (or leave out).
    pub async fn post_form(&self, actor: &Actor, uri: &str, fields: &[(&str, &str)]) -> Response {
        let body: String = fields
            .iter()
            .map(|(k, v)| format!("{}={}", urlencoding::encode(k), urlencoding::encode(v)))
            .collect::<Vec<_>>()
            .join("&");
        let req = Request::builder()
            .method(Method::POST)
            .uri(uri)
            .header(header::COOKIE, self.cookie(actor))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("a request");
        self.send(req).await
    }

    /// Puts `r` straight into the store.
    pub async fn store(&self, r: &Report) {
        self.store.create(r, &[], None).await.expect("stored");
        // Counted in the statistics as the stats consumer would count it.
        self.state.app.count_in_stats(r).await.expect("counted");
    }

    /// A citizen's report titled `title`, with [`NAME`], [`PHONE`] and [`EMAIL`], submitted
    /// through the app (not yet screened).
    pub async fn submit(&self, title: &str) -> ReportId {
        let input = NewReport {
            category: "environment".into(),
            title: title.into(),
            description: "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.".into(),
            location: Some(GeoPoint {
                lat: 22.41,
                lon: 103.47,
            }),
            address: None,
            reporter_ward: None,
            attachments: vec![],
            reporter: Some(Reporter {
                citizen_id: String::new(),
                name: Some(NAME.into()),
                phone: Some(PHONE.into()),
                email: Some(EMAIL.into()),
            }),
            camera_id: None,
        };
        let (r, _) = self
            .state
            .app
            .submit(&actors::citizen(), input, &[], None)
            .await
            .expect("submitted");
        r.id
    }
}

pub async fn send(state: &HttpState, req: Request<Body>) -> Response {
    router(state.clone()).oneshot(req).await.expect("an answer")
}

/// A GET with the `Cookie` header `cookie`, if any.
pub async fn get_page(state: &HttpState, uri: &str, cookie: Option<&str>) -> Response {
    let mut b = Request::builder().method(Method::GET).uri(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    send(state, b.body(Body::empty()).expect("a request")).await
}

/// The body as text.
pub async fn text(res: Response) -> String {
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body");
    String::from_utf8(b.to_vec()).expect("utf-8")
}

/// The `Location` header, empty without one.
pub fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// `r` assigned to `unit` `ago` minutes before t0 with a deadline of `minutes` clock minutes.
pub fn assigned_ago(r: Report, unit: &str, ago: i64, minutes: u32) -> Report {
    let mut r = fixtures::assigned(r, unit, &[], at(0));
    if let Some(a) = r.assignment.as_mut() {
        a.assigned_at = at(-ago);
        a.due_at = at(-ago) + Duration::minutes(i64::from(minutes));
        a.clock = ClockKind::ClockHours;
        a.deadline_minutes = minutes;
    }
    r
}

impl World {
    /// A JSON request to the API as `actor`; the status and the body as JSON (Null if none).
    pub async fn api(
        &self,
        actor: &Actor,
        method: Method,
        uri: &str,
        body: Option<serde_json::Value>,
    ) -> (axum::http::StatusCode, serde_json::Value) {
        let mut b = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::AUTHORIZATION, self.bearer(actor));
        let body = match body {
            Some(v) => {
                b = b.header(header::CONTENT_TYPE, "application/json");
                Body::from(v.to_string())
            }
            None => Body::empty(),
        };
        let res = self.send(b.body(body).expect("a request")).await;
        let status = res.status();
        let t = text(res).await;
        (
            status,
            serde_json::from_str(&t).unwrap_or(serde_json::Value::Null),
        )
    }
}
