//! The optional second factor of staff sign-in (issue 12 item 3): enrolment from one's own
//! session (the secret shown once), its confirmation with a first code, and the office
//! switching it off for a lost phone. Signing in with the code is `POST /v1/auth/login`.

use super::ok;
use crate::extract::{Authed, Json};
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

/// On AWS the Cognito staff pool keeps the factor, and enrolling acts with the user's own
/// Cognito access token (the `Authorization` header carries the ID token): this header.
pub const ACCESS_TOKEN_HEADER: &str = "x-cognito-access-token";

fn access_token(h: &HeaderMap) -> Option<&str> {
    h.get(ACCESS_TOKEN_HEADER).and_then(|v| v.to_str().ok())
}

/// Starts enrolment: the new secret as `otpauth://` URI and base32 text, shown this once.
pub async fn enrol(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let e = s.app.totp_enrol_for(&actor, access_token(&headers)).await?;
    Ok(ok(json!({ "secret": e.secret, "otpauth_uri": e.uri })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfirmBody {
    code: String,
}

/// Switches the enrolled factor on with a first correct code.
pub async fn confirm(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    headers: HeaderMap,
    Json(b): Json<ConfirmBody>,
) -> ApiResult<Response> {
    s.app
        .totp_confirm_for(&actor, access_token(&headers), &b.code)
        .await?;
    Ok(ok(json!({ "enabled": true })))
}

/// The account managers switch an account's second factor off (a lost phone).
pub async fn reset(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    s.app.totp_reset(&actor, &id).await?;
    Ok(ok(json!({ "enabled": false })))
}
