//! Rate limits per client (`[rate_limits]`): a flood of submissions from one device gets 429
//! with `Retry-After` and a problem+json body, while another device and the staff endpoints
//! keep being served; the limits are the city's configuration.

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use phananh_core::app::{App, Ports};
use phananh_core::config::Limit;
use phananh_core::model::{Actor, Role};
use phananh_core::CityRules;
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::ratelimit::ClientAddr;
use phananh_http::{router, HttpState};
use phananh_testkit::fakes::{
    FastPasswords, FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds,
};
use phananh_testkit::fixtures::{rules, t0};
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

fn state(per_minute: u32, burst: u32) -> (HttpState, TokenService) {
    let mut r: CityRules = rules().clone();
    r.config.city.rate_limits.submissions = Limit { per_minute, burst };
    r.config.city.rate_limits.address_factor = 3;
    let store = Arc::new(MemoryStore::default());
    let app = App::new(
        Arc::new(r),
        Ports {
            store: store.clone(),
            accounts: store,
            media: Arc::new(MemoryMedia::default()),
            notifier: Arc::new(RecordingNotifier::default()),
            clock: Arc::new(FixedClock::new(t0())),
            ids: Arc::new(SeqIds::default()),
            passwords: Arc::new(FastPasswords::default()),
        },
    );
    let tokens = TokenService::new("rate-limit-test-secret");
    let s = HttpState {
        app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    (s, tokens)
}

fn submit(token: &str, addr: &str, n: usize) -> Request<Body> {
    let body = json!({
        "category": "environment",
        "title": format!("Rác thải ùn ứ số {n}"),
        "description": "Rác thải ùn ứ nhiều ngày trước chợ, bốc mùi khó chịu.",
        "location": {"lat": 22.3965, "lon": 103.4585},
    });
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/v1/reports")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .expect("a request");
    req.extensions_mut().insert(ClientAddr(addr.to_string()));
    req
}

#[tokio::test]
async fn a_submission_flood_gets_429_with_retry_after_and_staff_are_still_served() {
    let (s, tokens) = state(6, 4);
    let app = router(s);
    let (device, _) = tokens
        .issue(&Actor::new("dev-flood", Role::Citizen, None))
        .expect("token");
    let mut created = 0;
    let mut refused = 0;
    for n in 0..40 {
        let res = app
            .clone()
            .oneshot(submit(&device, "203.0.113.7", n))
            .await
            .expect("an answer");
        match res.status() {
            StatusCode::CREATED => created += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                refused += 1;
                let wait: u64 = res.headers()[header::RETRY_AFTER]
                    .to_str()
                    .expect("ascii")
                    .parse()
                    .expect("seconds");
                assert!((1..=10).contains(&wait), "{wait}");
                assert_eq!(
                    res.headers()[header::CONTENT_TYPE],
                    "application/problem+json"
                );
                let b = axum::body::to_bytes(res.into_body(), usize::MAX)
                    .await
                    .expect("body");
                let p: Value = serde_json::from_slice(&b).expect("json");
                assert_eq!(p["code"], "too_many_requests");
                assert_eq!(p["status"], 429);
            }
            other => panic!("submission {n}: {other}"),
        }
    }
    assert_eq!(created, 4, "the configured burst");
    assert_eq!(refused, 36);

    // Another device from another address is not affected by the first one's flood.
    let (other, _) = tokens
        .issue(&Actor::new("dev-other", Role::Citizen, None))
        .expect("token");
    let res = app
        .clone()
        .oneshot(submit(&other, "198.51.100.2", 0))
        .await
        .expect("an answer");
    assert_eq!(res.status(), StatusCode::CREATED);
    // Devices rotated from one address: the address has its own (larger) bucket: 3 × 4.
    let mut from_addr = 0;
    for n in 0..20 {
        let (t, _) = tokens
            .issue(&Actor::new(format!("dev-rot-{n}"), Role::Citizen, None))
            .expect("token");
        let res = app
            .clone()
            .oneshot(submit(&t, "192.0.2.9", n))
            .await
            .expect("an answer");
        if res.status() == StatusCode::CREATED {
            from_addr += 1;
        }
    }
    assert_eq!(from_addr, 12, "address_factor × burst");

    // Staff reads are never limited.
    let (ioc, _) = tokens
        .issue(&Actor::new("ioc-1", Role::IocHead, None))
        .expect("token");
    for _ in 0..30 {
        let res = app
            .clone()
            .oneshot(
                Request::builder()
                    .uri("/v1/staff/reports")
                    .header(header::AUTHORIZATION, format!("Bearer {ioc}"))
                    .body(Body::empty())
                    .expect("a request"),
            )
            .await
            .expect("an answer");
        assert_eq!(res.status(), StatusCode::OK);
    }
}

#[tokio::test]
async fn code_checks_are_limited_per_address() {
    let (s, _) = state(6, 4);
    let app = router(s);
    let mut statuses = Vec::new();
    // Guessing codes across many phone numbers: core answers 401 for each (no code was sent),
    // the limiter stops the address after the sign-in burst (10) × the address factor (3).
    for n in 0..40 {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/v1/auth/citizen/verify")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(
                json!({"phone": format!("09123{n:05}"), "code": "123456"}).to_string(),
            ))
            .expect("a request");
        req.extensions_mut()
            .insert(ClientAddr("203.0.113.50".into()));
        statuses.push(app.clone().oneshot(req).await.expect("an answer").status());
    }
    let unauthorized = statuses
        .iter()
        .take_while(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(unauthorized, 30, "{statuses:?}");
    assert!(statuses[30..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
}
