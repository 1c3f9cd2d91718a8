//! Sign-in that resists abuse, through the HTTP layer: a citizen's one-time code locked after
//! five wrong tries, single use, a cool-down with 429 + Retry-After; a staff token refused on
//! the very next request once its account is disabled or its sessions revoked, in the API and
//! in the console.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use phananh_core::app::NewAccount;
use phananh_core::model::{Actor, Role};
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::app::TestApp;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

struct Harness {
    t: TestApp,
    state: HttpState,
    tokens: TokenService,
}

fn harness() -> Harness {
    let t = TestApp::new();
    let app = t
        .app
        .clone()
        .with_audit_key(b"sign-in-test-key-0123456789abcdef");
    let tokens = TokenService::new("sign-in-test-secret");
    let state = HttpState {
        app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    Harness { t, state, tokens }
}

async fn send(h: &Harness, req: Request<Body>) -> Response {
    router(h.state.clone())
        .oneshot(req)
        .await
        .expect("an answer")
}

fn post_json(uri: &str, body: Value) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request")
}

async fn json_of(res: Response) -> Value {
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body");
    serde_json::from_slice(&b).unwrap_or(Value::Null)
}

fn last_code(h: &Harness) -> String {
    let n =
        h.t.notifier
            .all()
            .into_iter()
            .last()
            .expect("a code was sent");
    n.body
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .expect("a 6-digit code")
        .to_string()
}

#[tokio::test]
async fn a_brute_forced_code_is_locked_after_five_tries_and_a_code_works_once() {
    let h = harness();
    let phone = json!({"phone": "0912345678"});
    let res = send(&h, post_json("/v1/auth/citizen/otp", phone.clone())).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let code = last_code(&h);
    // The code is not in the store in clear: only its keyed hash is kept (the message is the
    // only place it exists).
    // A second code within the cool-down: 429, Retry-After, problem+json.
    let res = send(&h, post_json("/v1/auth/citizen/otp", phone.clone())).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(
        res.headers()[header::CONTENT_TYPE],
        "application/problem+json"
    );
    assert_eq!(json_of(res).await["code"], "too_many_requests");

    let wrong = if code == "123456" { "654321" } else { "123456" };
    for i in 0..5 {
        let res = send(
            &h,
            post_json(
                "/v1/auth/citizen/verify",
                json!({"phone": "0912345678", "code": wrong}),
            ),
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "try {i}");
        assert_eq!(json_of(res).await["code"], "invalid_otp");
    }
    // Locked: the right code no longer signs in.
    let res = send(
        &h,
        post_json(
            "/v1/auth/citizen/verify",
            json!({"phone": "+84912345678", "code": code}),
        ),
    )
    .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);

    // A new code after the cool-down signs in once; replayed, it is refused.
    h.t.clock.advance(chrono::Duration::seconds(61));
    let res = send(&h, post_json("/v1/auth/citizen/otp", phone.clone())).await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    let code = last_code(&h);
    let verify = json!({"phone": "0912345678", "code": code});
    let res = send(&h, post_json("/v1/auth/citizen/verify", verify.clone())).await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = json_of(res).await;
    assert_eq!(body["role"], "citizen");
    assert!(body["access_token"].as_str().is_some_and(|t| !t.is_empty()));
    let res = send(&h, post_json("/v1/auth/citizen/verify", verify)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "replayed code");
}

async fn staff_account(h: &Harness) -> Actor {
    let acc = h
        .state
        .app
        .create_account(
            &Actor::system(),
            NewAccount {
                username: "ioc.head".into(),
                display_name: "Trưởng IOC".into(),
                role: Role::IocHead,
                unit: None,
                password: "mật-khẩu-đủ-dài".into(),
            },
        )
        .await
        .expect("account");
    Actor::new(acc.id, acc.role, acc.unit.as_deref())
}

fn bearer_get(uri: &str, token: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("a request")
}

fn console_get(uri: &str, token: &str) -> Request<Body> {
    Request::builder()
        .uri(uri)
        .header(header::COOKIE, format!("phananh_session={token}"))
        .body(Body::empty())
        .expect("a request")
}

fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn a_disabled_account_is_refused_on_its_very_next_request_in_the_api_and_the_console() {
    let h = harness();
    let head = staff_account(&h).await;
    let (token, _) = h.tokens.issue(&head).expect("token");
    let res = send(&h, bearer_get("/v1/staff/reports", &token)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let res = send(&h, console_get("/console", &token)).await;
    assert!(
        !location(&res).starts_with("/console/login"),
        "{}",
        location(&res)
    );

    h.state
        .app
        .set_account_disabled(&Actor::system(), &head.id, true)
        .await
        .expect("disabled");

    let res = send(&h, bearer_get("/v1/staff/reports", &token)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(json_of(res).await["code"], "session_ended");
    let res = send(&h, console_get("/console", &token)).await;
    assert!(
        location(&res).starts_with("/console/login"),
        "the console sends a disabled account to sign in: {}",
        location(&res)
    );
}

#[tokio::test]
async fn revoked_sessions_end_and_a_new_sign_in_works() {
    let h = harness();
    let head = staff_account(&h).await;
    let (token, _) = h.tokens.issue(&head).expect("token");
    // Issued in an earlier second than the revocation.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    h.state
        .app
        .revoke_sessions(&Actor::system(), &head.id)
        .await
        .expect("revoked");
    let res = send(&h, bearer_get("/v1/staff/reports", &token)).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let res = send(&h, console_get("/console", &token)).await;
    assert!(location(&res).starts_with("/console/login"));
    let (fresh, _) = h.tokens.issue(&head).expect("token");
    let res = send(&h, bearer_get("/v1/staff/reports", &fresh)).await;
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn staff_password_guessing_gets_a_growing_delay() {
    let h = harness();
    staff_account(&h).await;
    let login = |p: &str| {
        post_json(
            "/v1/auth/login",
            json!({"username": "ioc.head", "password": p}),
        )
    };
    for _ in 0..3 {
        assert_eq!(
            send(&h, login("sai-mật-khẩu")).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Even the right password waits while the delay runs.
    let res = send(&h, login("mật-khẩu-đủ-dài")).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().contains_key(header::RETRY_AFTER));
    h.t.clock.advance(chrono::Duration::seconds(2));
    assert_eq!(
        send(&h, login("mật-khẩu-đủ-dài")).await.status(),
        StatusCode::OK
    );
}
