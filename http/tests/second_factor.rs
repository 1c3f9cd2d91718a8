//! The optional second factor of staff sign-in (issue 12 item 3), through the HTTP layer:
//! enrolment shows the secret once (`otpauth://` URI and text) and is switched on by a first
//! code; then sign-in needs the current code after the password, 30-second steps with one
//! step of drift either side, a code accepted once, wrong codes delayed like wrong passwords;
//! only leaders, the IOC head and the office enrol; the office switches it off.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use chrono::Duration;
use phananh_core::app::NewAccount;
use phananh_core::model::{Actor, Role};
use phananh_core::ports::{AccountStore, Clock};
use phananh_core::totp;
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::app::TestApp;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

const PASSWORD: &str = "mật-khẩu-đủ-dài";

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
        .with_audit_key(b"totp-test-key-0123456789abcdef01");
    let tokens = TokenService::new("totp-test-secret");
    let state = HttpState {
        app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    Harness { t, state, tokens }
}

async fn call(
    h: &Harness,
    method: Method,
    uri: &str,
    token: Option<&str>,
    body: Value,
) -> (StatusCode, Value) {
    let mut req = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(t) = token {
        req = req.header(header::AUTHORIZATION, format!("Bearer {t}"));
    }
    let res: Response = router(h.state.clone())
        .oneshot(req.body(Body::from(body.to_string())).expect("a request"))
        .await
        .expect("an answer");
    let status = res.status();
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

async fn account(h: &Harness, username: &str, role: Role, unit: Option<&str>) -> Actor {
    let acc = h
        .state
        .app
        .create_account(
            &Actor::system(),
            NewAccount {
                username: username.into(),
                display_name: "Cán bộ".into(),
                role,
                unit: unit.map(str::to_string),
                password: PASSWORD.into(),
            },
        )
        .await
        .expect("account");
    Actor::new(acc.id, acc.role, acc.unit.as_deref())
}

async fn login(h: &Harness, username: &str, code: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    call(h, Method::POST, "/v1/auth/login", None, body).await
}

fn code_now(h: &Harness, secret: &[u8]) -> String {
    totp::code_of_step(secret, totp::step_of(h.t.clock.now().timestamp()))
}

#[tokio::test]
async fn a_leader_enrols_once_and_then_signs_in_with_a_fresh_code_each_time() {
    let h = harness();
    let leader = account(&h, "lanh.dao", Role::Leader, None).await;
    let token = h.tokens.issue(&leader).expect("token").0;
    assert_eq!(login(&h, "lanh.dao", None).await.0, StatusCode::OK);

    // Enrolment: the secret once, as an otpauth:// URI and as text.
    let (st, e) = call(
        &h,
        Method::POST,
        "/v1/auth/totp/enrol",
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{e}");
    let text = e["secret"].as_str().expect("secret text");
    let uri = e["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={text}&")));
    assert!(
        uri.contains("period=30") && uri.contains("digits=6"),
        "{uri}"
    );
    let secret = totp::base32_decode(text).expect("base32");
    assert_eq!(secret.len(), 20);
    // Not on until confirmed.
    assert_eq!(login(&h, "lanh.dao", None).await.0, StatusCode::OK);
    let (st, p) = call(
        &h,
        Method::POST,
        "/v1/auth/totp/confirm",
        Some(&token),
        json!({"code": "000000"}),
    )
    .await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_otp"))
    );
    let first = code_now(&h, &secret);
    let (st, _) = call(
        &h,
        Method::POST,
        "/v1/auth/totp/confirm",
        Some(&token),
        json!({"code": first}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);

    // The secret is never shown again: stored sealed, not in the accounts list; a second
    // enrolment is refused.
    let stored =
        h.t.store
            .account_by_id(&leader.id)
            .await
            .expect("read")
            .expect("stored");
    let sealed = serde_json::to_string(&stored).expect("json");
    assert!(!sealed.contains(text) && !sealed.contains(&hex::encode(&secret)));
    let office = account(&h, "van.phong", Role::OfficeAdmin, None).await;
    let office_token = h.tokens.issue(&office).expect("token").0;
    let (_, list) = call(
        &h,
        Method::GET,
        "/v1/admin/accounts",
        Some(&office_token),
        Value::Null,
    )
    .await;
    let list = list.to_string();
    assert!(
        list.contains("lanh.dao") && !list.contains(text) && !list.contains("sealed"),
        "{list}"
    );
    let (st, _) = call(
        &h,
        Method::POST,
        "/v1/auth/totp/enrol",
        Some(&token),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // Sign-in: the password alone is not enough; the code used to confirm is spent.
    let (st, p) = login(&h, "lanh.dao", None).await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("second_factor_required"))
    );
    let (st, p) = login(&h, "lanh.dao", Some(&first)).await;
    assert_eq!(
        (st, p["code"].as_str()),
        (StatusCode::UNAUTHORIZED, Some("invalid_otp")),
        "replayed"
    );
    h.t.clock.advance(Duration::seconds(30));
    let now = code_now(&h, &secret);
    let (st, body) = login(&h, "lanh.dao", Some(&now)).await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body["role"], "leader");
    assert_eq!(
        login(&h, "lanh.dao", Some(&now)).await.0,
        StatusCode::UNAUTHORIZED,
        "once"
    );

    // One step of drift either side: the next step's code now, then (a step later) the
    // previous one is spent already; a code two steps old is refused.
    h.t.clock.advance(Duration::seconds(30));
    let step = totp::step_of(h.t.clock.now().timestamp());
    let early = totp::code_of_step(&secret, step + 1);
    assert_eq!(
        login(&h, "lanh.dao", Some(&early)).await.0,
        StatusCode::OK,
        "phone a step ahead"
    );
    h.t.clock.advance(Duration::seconds(90));
    let stale = totp::code_of_step(&secret, totp::step_of(h.t.clock.now().timestamp()) - 2);
    assert_eq!(
        login(&h, "lanh.dao", Some(&stale)).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn wrong_codes_are_delayed_like_wrong_passwords() {
    let h = harness();
    let head = account(&h, "truong.ioc", Role::IocHead, None).await;
    let token = h.tokens.issue(&head).expect("token").0;
    let (_, e) = call(
        &h,
        Method::POST,
        "/v1/auth/totp/enrol",
        Some(&token),
        json!({}),
    )
    .await;
    let secret = totp::base32_decode(e["secret"].as_str().expect("secret")).expect("base32");
    let c = code_now(&h, &secret);
    let (st, _) = call(
        &h,
        Method::POST,
        "/v1/auth/totp/confirm",
        Some(&token),
        json!({"code": c}),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    h.t.clock.advance(Duration::seconds(30));
    let wrong = if code_now(&h, &secret) == "123456" {
        "654321"
    } else {
        "123456"
    };
    for _ in 0..3 {
        assert_eq!(
            login(&h, "truong.ioc", Some(wrong)).await.0,
            StatusCode::UNAUTHORIZED
        );
    }
    // The right code waits while the delay runs, then works.
    let right = code_now(&h, &secret);
    let (st, _) = login(&h, "truong.ioc", Some(&right)).await;
    assert_eq!(st, StatusCode::TOO_MANY_REQUESTS);
    h.t.clock.advance(Duration::seconds(2));
    assert_eq!(
        login(&h, "truong.ioc", Some(&right)).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_the_deciding_roles_enrol_and_the_office_switches_a_factor_off() {
    let h = harness();
    for (name, role, unit) in [
        ("can.bo", Role::UnitStaff, Some("phong_tnmt")),
        ("truong.phong", Role::UnitHead, Some("phong_tnmt")),
        ("tong.dai", Role::IocOperator, None),
    ] {
        let a = account(&h, name, role, unit).await;
        let t = h.tokens.issue(&a).expect("token").0;
        let (st, _) = call(&h, Method::POST, "/v1/auth/totp/enrol", Some(&t), json!({})).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{role:?}");
    }
    let office = account(&h, "van.phong", Role::OfficeAdmin, None).await;
    let t = h.tokens.issue(&office).expect("token").0;
    let (_, e) = call(&h, Method::POST, "/v1/auth/totp/enrol", Some(&t), json!({})).await;
    let secret = totp::base32_decode(e["secret"].as_str().expect("secret")).expect("base32");
    let c = code_now(&h, &secret);
    call(
        &h,
        Method::POST,
        "/v1/auth/totp/confirm",
        Some(&t),
        json!({"code": c}),
    )
    .await;
    assert_eq!(
        login(&h, "van.phong", None).await.0,
        StatusCode::UNAUTHORIZED
    );
    let leader = account(&h, "lanh.dao", Role::Leader, None).await;
    let lt = h.tokens.issue(&leader).expect("token").0;
    let uri = format!("/v1/admin/accounts/{}/totp/reset", office.id);
    assert_eq!(
        call(&h, Method::POST, &uri, Some(&lt), json!({})).await.0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        call(&h, Method::POST, &uri, Some(&t), json!({})).await.0,
        StatusCode::OK
    );
    assert_eq!(login(&h, "van.phong", None).await.0, StatusCode::OK);
}
