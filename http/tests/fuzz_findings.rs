//! What the API fuzz (scripts/fuzz-api.sh, schemathesis against the OpenAPI document) found
//! where the server, not the document, was wrong; each case stays fixed here.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::world;
use phananh_testkit::actors;

fn post(bearer: &str, uri: &str, body: Option<&str>) -> Request<Body> {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, bearer);
    if body.is_some() {
        b = b.header(header::CONTENT_TYPE, "application/json");
    }
    b.body(Body::from(body.unwrap_or("").to_string()))
        .expect("a request")
}

fn content_type(res: &axum::response::Response) -> String {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// A share request id beyond u32 (or not a number) names no request: `404` as problem+json,
/// where axum's path rejection answered `400` in plain text, outside the document.
#[tokio::test]
async fn a_share_request_id_out_of_range_is_404_problem_json_not_plain_text() {
    let w = world();
    let id = w.submit("Rác thải ùn ứ").await;
    let leader = w.bearer(&actors::leader());
    for request in ["4294967296", "-1", "x"] {
        let res = w
            .send(post(
                &leader,
                &format!("/v1/staff/reports/{id}/shares/{request}/decision"),
                Some(r#"{"approve": true}"#),
            ))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "decision {request}");
        assert_eq!(content_type(&res), "application/problem+json");
        let res = w
            .send(post(
                &leader,
                &format!("/v1/staff/reports/{id}/shares/{request}/release"),
                None,
            ))
            .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "release {request}");
        assert_eq!(content_type(&res), "application/problem+json");
    }
}

/// Someone who may not manage accounts is told so (403) even about their own account; only
/// a manager hears that nobody disables their own account (422).
#[tokio::test]
async fn disabling_ones_own_account_is_403_for_a_non_manager_and_422_for_the_office() {
    let w = world();
    let ioc = actors::ioc_head();
    let res = w
        .send(post(
            &w.bearer(&ioc),
            &format!("/v1/admin/accounts/{}/disable", ioc.id),
            None,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let office = actors::office();
    let res = w
        .send(post(
            &w.bearer(&office),
            &format!("/v1/admin/accounts/{}/disable", office.id),
            None,
        ))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// A citizen may not file a camera report: a role rule, so `403 forbidden_role` (was 400).
#[tokio::test]
async fn a_citizen_sending_a_camera_id_is_403() {
    let w = world();
    let body = r#"{"category": "environment", "title": "Rác thải", "description": "Rác thải ùn ứ", "camera_id": ""}"#;
    let res = w
        .send(post(
            &w.bearer(&actors::citizen()),
            "/v1/reports",
            Some(body),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(content_type(&res), "application/problem+json");
}

/// JSON Schema's `integer` admits `1000.0`: the server reads a whole number written with a
/// zero fraction, and still refuses a real fraction.
#[tokio::test]
async fn a_whole_number_written_with_a_zero_fraction_is_read_and_a_fraction_is_refused() {
    let w = world();
    let citizen = w.bearer(&actors::citizen());
    let res = w
        .send(post(
            &citizen,
            "/v1/uploads",
            Some(r#"{"content_type": "image/jpeg", "size": 1000.0}"#),
        ))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    for size in ["1000.5", "-1", "1e30"] {
        let body = format!(r#"{{"content_type": "image/jpeg", "size": {size}}}"#);
        let res = w.send(post(&citizen, "/v1/uploads", Some(&body))).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "size {size}"
        );
    }
}
