//! The upload API (issue 11) on the in-memory fakes: the daily quota answers 429 with
//! Retry-After, a refused upload's slot tells why, and the reporter gets URLs only for files
//! meant for them.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{text, world};
use phananh_core::model::{Actor, Role};
use phananh_http::auth::TokenService;
use phananh_testkit::samples;

fn bearer(actor: &Actor) -> String {
    // The same secret as the harness's token service.
    let (t, _) = TokenService::new("console-test-secret")
        .issue(actor)
        .expect("a token");
    format!("Bearer {t}")
}

fn ask(actor: &Actor, size: u64) -> Request<Body> {
    Request::builder()
        .method(Method::POST)
        .uri("/v1/uploads")
        .header(header::AUTHORIZATION, bearer(actor))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(format!(
            r#"{{"content_type":"image/jpeg","size":{size}}}"#
        )))
        .expect("a request")
}

#[tokio::test]
async fn the_daily_quota_answers_429_with_retry_after_and_a_refused_upload_says_why() {
    let w = world();
    let citizen = Actor::new("dev-quota", Role::Citizen, None);
    // 40 uploads a day by default; the first is refused later for its content.
    let res = w.send(ask(&citizen, 40)).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let ticket: serde_json::Value = serde_json::from_str(&text(res).await).expect("json");
    assert_eq!(ticket["upload"]["fields"], serde_json::json!([]));
    let id = ticket["attachment_id"].as_str().expect("id").to_string();
    let key = ticket["upload"]["url"]
        .as_str()
        .expect("url")
        .trim_start_matches("memory://")
        .to_string();
    w.media
        .upload(&key, &samples::not_a_jpeg(), "image/jpeg", 40)
        .expect("stored");
    w.state.app.check_upload(&key).await.expect("checked");
    let res = w
        .send(
            Request::builder()
                .uri(format!("/v1/uploads/{id}"))
                .header(header::AUTHORIZATION, bearer(&citizen))
                .body(Body::empty())
                .expect("a request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let status: serde_json::Value = serde_json::from_str(&text(res).await).expect("json");
    assert_eq!(status["state"], "failed");
    assert!(status["reason"]
        .as_str()
        .is_some_and(|r| r.contains("không đúng định dạng")));
    // Someone else cannot read my slot.
    let other = Actor::new("dev-other", Role::Citizen, None);
    let res = w
        .send(
            Request::builder()
                .uri(format!("/v1/uploads/{id}"))
                .header(header::AUTHORIZATION, bearer(&other))
                .body(Body::empty())
                .expect("a request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    for _ in 1..40 {
        assert_eq!(
            w.send(ask(&citizen, 40)).await.status(),
            StatusCode::CREATED
        );
    }
    let res = w.send(ask(&citizen, 40)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.headers()[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=86_400).contains(&retry), "{retry}");
    let body: serde_json::Value = serde_json::from_str(&text(res).await).expect("json");
    assert_eq!(body["code"], "upload_quota_exceeded");
    assert!(body["detail"]
        .as_str()
        .is_some_and(|d| d.contains("trong ngày")));
    // Another person is not affected.
    assert_eq!(w.send(ask(&other, 40)).await.status(), StatusCode::CREATED);
}
