//! Đ.6.2 through the HTTP layer: every staff read of a report verifies its audit trail; a
//! broken chain is an `audit` field of the API answer, a staff endpoint naming the first bad
//! entry, and a red banner on the console's report page. An untouched report shows none.

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::response::Response;
use phananh_core::lifecycle::{Command, NewReport};
use phananh_core::model::{Actor, GeoPoint, Reporter, Role};
use phananh_core::ports::ReportStore;
use phananh_http::auth::{BearerAuth, TokenService};
use phananh_http::console::ConsoleConfig;
use phananh_http::{router, HttpState};
use phananh_testkit::app::TestApp;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

fn input(title: &str) -> NewReport {
    NewReport {
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
            name: Some("Nguyễn Văn An".into()),
            phone: Some("0912345678".into()),
            email: None,
        }),
        camera_id: None,
    }
}

async fn send(state: &HttpState, req: Request<Body>) -> Response {
    router(state.clone()).oneshot(req).await.expect("an answer")
}

async fn body(res: Response) -> String {
    let b = axum::body::to_bytes(res.into_body(), usize::MAX)
        .await
        .expect("a body");
    String::from_utf8(b.to_vec()).expect("utf-8")
}

#[tokio::test]
async fn a_broken_chain_is_shown_loudly_to_staff_and_an_untouched_one_is_not() {
    let t = TestApp::new();
    let app = t
        .app
        .clone()
        .with_audit_key(b"http-audit-test-key-0123456789abcdef");
    let tokens = TokenService::new("audit-test-secret");
    let state = HttpState {
        app: app.clone(),
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens.clone()),
        console: ConsoleConfig::local(tokens.clone(), false),
    };
    let citizen = Actor::new("cit-1", Role::Citizen, None);
    let leader = Actor::new("leader-1", Role::Leader, None);
    let (tampered, _) = app
        .submit(&citizen, input("Rác thải trước chợ"), &[], None)
        .await
        .expect("submitted");
    let (clean, _) = app
        .submit(&citizen, input("Cống thoát nước tắc"), &[], None)
        .await
        .expect("submitted");
    let r = app
        .act(
            &tampered.id,
            &leader,
            Command::Directive {
                text: "Giao phường xử lý trong 2 ngày".into(),
                corrects: None,
            },
        )
        .await
        .expect("directive");
    let seq = r.timeline.len() as u64 - 1;
    // Edited behind the application's back.
    let mut edited = t.store.get(&r.id).await.expect("read").expect("report");
    edited.timeline[seq as usize].note = Some("Không cần xử lý".into());
    let v = edited.version;
    edited.version += 1;
    t.store.update(&edited, v, &[]).await.expect("rewritten");

    let (token, _) = tokens.issue(&leader).expect("token");
    let get = |uri: String| {
        Request::builder()
            .uri(uri)
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .header(header::COOKIE, format!("phananh_session={token}"))
            .body(Body::empty())
            .expect("a request")
    };
    let res = send(&state, get(format!("/v1/staff/reports/{}", r.id))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&body(res).await).expect("json");
    assert_eq!(v["audit"]["ok"], false);
    assert_eq!(v["audit"]["first_bad"]["seq"], seq);
    assert_eq!(v["audit"]["first_bad"]["reason"], "hash_mismatch");

    let res = send(&state, get(format!("/v1/staff/reports/{}/audit", r.id))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let v: Value = serde_json::from_str(&body(res).await).expect("json");
    assert_eq!(v["report_id"], r.id.0);
    assert_eq!(
        (v["ok"].clone(), v["keyed"].clone()),
        (Value::Bool(false), Value::Bool(true))
    );
    assert_eq!(v["first_bad"]["seq"], seq);
    assert_eq!(v["first_bad"]["action"], "directive");

    let res = send(&state, get(format!("/console/reports/{}", r.id))).await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = body(res).await;
    assert!(html.contains("class=\"audit-broken\""), "a red banner");
    assert!(html.contains(&format!("data-audit-seq=\"{seq}\"")));

    // The untouched report: ok everywhere, no banner.
    let res = send(&state, get(format!("/v1/staff/reports/{}", clean.id))).await;
    let v: Value = serde_json::from_str(&body(res).await).expect("json");
    assert_eq!(v["audit"]["ok"], true);
    assert!(v["audit"].get("first_bad").is_none());
    let res = send(&state, get(format!("/console/reports/{}", clean.id))).await;
    assert!(!body(res).await.contains("audit-broken"));

    // Citizens cannot ask.
    let (ct, _) = tokens.issue(&citizen).expect("token");
    let res = send(
        &state,
        Request::builder()
            .uri(format!("/v1/staff/reports/{}/audit", r.id))
            .header(header::AUTHORIZATION, format!("Bearer {ct}"))
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}
