//! Đ.4.4 through the API: a share request needs a reason, is refused to release and to decide
//! by anyone but a leader, and once a leader approves, is released once as an export
//! watermarked with the request id (with the reporter only when asked for and approved).

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::response::Response;
use phananh_core::lifecycle::NewReport;
use phananh_core::model::{Actor, GeoPoint, Reporter, Role};
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::app::TestApp;
use serde_json::{json, Value};
use std::sync::Arc;
use tower::ServiceExt;

async fn call(
    s: &HttpState,
    t: &TokenService,
    who: &Actor,
    uri: &str,
    body: Value,
) -> (StatusCode, Value) {
    let (token, _) = t.issue(who).expect("token");
    let req = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request");
    let res: Response = router(s.clone()).oneshot(req).await.expect("an answer");
    let status = res.status();
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("body");
    (status, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[tokio::test]
async fn d4_4_a_share_is_released_only_after_a_leader_approves_and_carries_its_watermark() {
    let t = TestApp::new();
    let tokens = TokenService::new("share-test-secret");
    let s = HttpState {
        app: t.app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    let citizen = Actor::new("cit-1", Role::Citizen, None);
    let (r, _) = t
        .app
        .submit(
            &citizen,
            NewReport {
                category: "environment".into(),
                title: "Xả thải ra suối".into(),
                description: "Cơ sở chế biến xả nước thải chưa xử lý ra suối Nậm Lay.".into(),
                location: Some(GeoPoint {
                    lat: 22.41,
                    lon: 103.47,
                }),
                address: None,
                reporter_ward: None,
                attachments: vec![],
                reporter: Some(Reporter {
                    citizen_id: String::new(),
                    name: Some("Lò Thị Hoa".into()),
                    phone: Some("0987654321".into()),
                    email: None,
                }),
                camera_id: None,
            },
            &[],
            None,
        )
        .await
        .expect("submitted");
    let ioc = Actor::new("ioc-head-1", Role::IocHead, None);
    let leader = Actor::new("leader-1", Role::Leader, None);
    let base = format!("/v1/staff/reports/{}/shares", r.id);

    let (st, p) = call(
        &s,
        &tokens,
        &ioc,
        &base,
        json!({"recipient": "Công an tỉnh", "reason": ""}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{p}");
    assert_eq!(p["field"], "reason");

    let (st, v) = call(
        &s,
        &tokens,
        &ioc,
        &base,
        json!({"recipient": "Công an tỉnh", "reason": "Điều tra theo công văn 12/CV-CA", "personal_data": true}),
    )
    .await;
    assert_eq!(st, StatusCode::CREATED, "{v}");
    let req = v["request"].as_u64().expect("request id");

    // Not released before a leader's consent; nobody else consents.
    let (st, _) = call(
        &s,
        &tokens,
        &ioc,
        &format!("{base}/{req}/release"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let (st, p) = call(
        &s,
        &tokens,
        &ioc,
        &format!("{base}/{req}/decision"),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(p["code"], "forbidden_role");

    let (st, v) = call(
        &s,
        &tokens,
        &leader,
        &format!("{base}/{req}/decision"),
        json!({"approve": true}),
    )
    .await;
    assert_eq!(
        (st, v["status"].clone()),
        (StatusCode::OK, json!("approved"))
    );

    let (st, export) = call(
        &s,
        &tokens,
        &ioc,
        &format!("{base}/{req}/release"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::OK, "{export}");
    let mark = format!("CHIA-SE/{}/{req}", r.id);
    assert_eq!(export["watermark"], mark);
    assert!(export["notice"].as_str().is_some_and(|n| n.contains(&mark)));
    assert_eq!(export["recipient"], "Công an tỉnh");
    assert_eq!(export["approved_by"], "leader-1");
    assert_eq!(export["reporter"]["phone"], "+84987654321");
    // Released once.
    let (st, _) = call(
        &s,
        &tokens,
        &ioc,
        &format!("{base}/{req}/release"),
        json!({}),
    )
    .await;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);

    // Every step is a timeline entry, out of the reporter's sight.
    let stored = t.app.load(&r.id).await.expect("report");
    let steps: Vec<&str> = stored
        .timeline
        .iter()
        .filter(|e| e.action.as_str().ends_with("_share"))
        .map(|e| e.action.as_str())
        .collect();
    assert_eq!(steps, ["request_share", "decide_share", "release_share"]);
    assert!(stored
        .timeline
        .iter()
        .filter(|e| e.action.as_str().ends_with("_share"))
        .all(|e| !e.visible_to_reporter));
}
