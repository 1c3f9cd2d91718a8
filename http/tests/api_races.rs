//! Two staff on one report at once over the API and the console: each acts on the version they
//! saw (`ETag`/`If-Match` on the API, a hidden field in the console's forms); the second gets 409
//! with the current version and state, and nothing of theirs is applied.

mod common;

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use common::{text, world, CSRF};
use phananh_core::lifecycle::Command;
use phananh_core::model::State;
use phananh_testkit::actors;
use serde_json::{json, Value};

const LEAD: &str = "phong_tnmt";

async fn assigned(w: &common::World) -> phananh_core::model::ReportId {
    let id = w.submit("Rác thải ùn ứ trước chợ").await;
    w.state.app.classify(&id).await.expect("screened");
    let cmd = Command::Assign {
        lead_unit: LEAD.into(),
        coordinating_units: vec![],
        note: None,
    };
    w.state
        .app
        .act(&id, &actors::ioc_head(), cmd)
        .await
        .expect("assigned");
    id
}

/// An action as `actor` with `If-Match: if_match`; status, ETag and JSON body.
async fn act(
    w: &common::World,
    actor: &phananh_core::model::Actor,
    id: &phananh_core::model::ReportId,
    if_match: Option<&str>,
    body: Value,
) -> (StatusCode, String, Value) {
    let mut b = Request::builder()
        .method(Method::POST)
        .uri(format!("/v1/staff/reports/{id}/actions"))
        .header(header::AUTHORIZATION, w.bearer(actor))
        .header(header::CONTENT_TYPE, "application/json");
    if let Some(v) = if_match {
        b = b.header(header::IF_MATCH, v);
    }
    let res = w
        .send(b.body(Body::from(body.to_string())).expect("a request"))
        .await;
    let status = res.status();
    let etag = res
        .headers()
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let v = serde_json::from_str(&text(res).await).unwrap_or(Value::Null);
    (status, etag, v)
}

#[tokio::test]
async fn the_second_of_two_staff_acting_on_the_same_version_gets_409_with_the_current_version() {
    let w = world();
    let id = assigned(&w).await;
    let staff = actors::unit_staff(LEAD);
    let head = actors::unit_head(LEAD);

    // Both open the report and see the same version.
    let res = w
        .send(
            Request::builder()
                .uri(format!("/v1/staff/reports/{id}"))
                .header(header::AUTHORIZATION, w.bearer(&head))
                .body(Body::empty())
                .expect("a request"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let seen = res.headers()[header::ETAG]
        .to_str()
        .expect("an etag")
        .to_string();
    let version = w.state.app.load(&id).await.expect("stored").version;
    assert_eq!(seen, format!("\"{version}\""));

    // The officer accepts first.
    let (st, etag, _) = act(&w, &staff, &id, Some(&seen), json!({"action": "accept"})).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(etag, format!("\"{}\"", version + 1));

    // The head, still on the old version, returns the case: refused, told the current state.
    let give_back = json!({"action": "return", "reason": "Không đúng thẩm quyền"});
    let (st, _, p) = act(&w, &head, &id, Some(&seen), give_back.clone()).await;
    assert_eq!(st, StatusCode::CONFLICT, "{p}");
    assert_eq!(p["code"], "stale_version");
    assert_eq!(p["current_version"], json!(version + 1));
    assert_eq!(p["current_state"], "in_progress");
    assert!(p["detail"]
        .as_str()
        .unwrap_or_default()
        .contains("vừa được người khác cập nhật"));
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!((r.state, r.version), (State::InProgress, version + 1));

    // Having looked again, the head may still return it.
    let (st, _, _) = act(&w, &head, &id, Some(&etag), give_back).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        w.state.app.load(&id).await.expect("stored").state,
        State::Returned
    );

    // A malformed If-Match is a clear 400, not a silent unconditional action.
    let (st, _, p) = act(
        &w,
        &head,
        &id,
        Some("v-latest"),
        json!({"action": "add_note", "note": "x"}),
    )
    .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(p["code"], "invalid_if_match");
}

#[tokio::test]
async fn a_console_form_sent_on_an_old_version_shows_the_current_state_and_changes_nothing() {
    let w = world();
    let id = assigned(&w).await;
    let staff = actors::unit_staff(LEAD);
    let page = format!("/console/reports/{id}");
    let html = text(w.get(Some(&staff), &page).await).await;
    let version = w.state.app.load(&id).await.expect("stored").version;
    assert!(
        html.contains(&format!(r#"name="_version" value="{version}""#)),
        "{html}"
    );

    // Someone else adds a progress note meanwhile (the report moves on a version).
    let note = Command::AddNote {
        note: "IOC đã gọi điện cho đơn vị".into(),
        attachments: vec![],
    };
    w.state
        .app
        .act(&id, &actors::ioc_head(), note)
        .await
        .expect("noted");

    let v = version.to_string();
    let res = w
        .post_form(
            &staff,
            &format!("{page}/actions"),
            &[
                ("_csrf", CSRF),
                ("action", "accept"),
                ("note", ""),
                ("_version", &v),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let html = text(res).await;
    assert!(html.contains("Phản ánh vừa được cập nhật bởi người khác — đây là trạng thái hiện tại"));
    let r = w.state.app.load(&id).await.expect("stored");
    assert_eq!((r.state, r.version), (State::Assigned, version + 1));
}
