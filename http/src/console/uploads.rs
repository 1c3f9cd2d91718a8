//! Upload slots for the console's script (evidence photos from a phone): the same use case as
//! the API's `/v1/uploads`, with the session cookie and the `X-CSRF-Token` header instead of a
//! bearer token. The browser then PUTs the file to the presigned URL with progress.

use super::Ctx;
use crate::extract::parse_json;
use crate::problem::Problem;
use crate::HttpState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::Deserialize;

pub fn routes() -> Router<HttpState> {
    Router::new().route("/console/uploads", post(request_upload))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadBody {
    content_type: String,
    size: u64,
}

/// `{content_type, size}` → core's upload ticket (problem+json when refused).
async fn request_upload(State(s): State<HttpState>, ctx: Ctx, body: Bytes) -> Response {
    if let Err(r) = ctx.check_csrf(None) {
        return r;
    }
    let b: UploadBody = match parse_json(&body) {
        Ok(b) => b,
        Err(p) => return p.into_response(),
    };
    match s
        .app
        .request_upload(&ctx.session.actor, &b.content_type, b.size)
        .await
    {
        Ok(t) => (StatusCode::CREATED, axum::Json(t)).into_response(),
        Err(e) => Problem::from(e).into_response(),
    }
}
