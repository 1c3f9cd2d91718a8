//! What anyone may read without signing in: the health check, the API contract and the
//! city's catalogues (categories with their deadlines, units, wards) the app builds its forms
//! from.

use super::ok;
use crate::{HttpState, OPENAPI_YAML};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub async fn health() -> Response {
    ok(json!({"status": "ok"}))
}

pub async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML).into_response()
}

pub async fn categories(State(s): State<HttpState>) -> Response {
    let items: Vec<_> = s
        .app
        .rules()
        .config
        .categories
        .iter()
        .map(|c| {
            json!({
                "code": c.code, "name": c.name, "description": c.description,
                "article": c.article,
                "deadline_hours": c.deadline_hours, "clock": c.clock,
                "local_policy": c.policy.as_ref().map(|p| p.note.clone()),
            })
        })
        .collect();
    ok(json!({ "items": items }))
}

pub async fn units(State(s): State<HttpState>) -> Response {
    // Public: names and kinds only, never contacts.
    let items: Vec<_> = s
        .app
        .rules()
        .config
        .units
        .iter()
        .map(|u| json!({"id": u.id, "name": u.name, "kind": u.kind, "ward": u.ward}))
        .collect();
    ok(json!({ "items": items }))
}

pub async fn wards(State(s): State<HttpState>) -> Response {
    let items: Vec<_> = s
        .app
        .rules()
        .config
        .wards
        .iter()
        .map(|w| {
            json!({"id": w.id, "name": w.name, "kind": w.kind, "unit": w.unit,
                   "boundary": w.boundary, "illustrative": w.illustrative})
        })
        .collect();
    ok(json!({ "items": items }))
}
