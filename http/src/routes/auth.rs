//! Signing in: staff with a username and password (local tokens only; on AWS Cognito issues
//! them and these routes answer 404), a citizen's anonymous device token, and a citizen's
//! one-time code by SMS or e-mail.

use super::ok;
use crate::extract::Json;
use crate::problem::{ApiResult, Problem};
use crate::ratelimit::ClientAddr;
use crate::HttpState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use phananh_core::app::sign_in_contact;
use phananh_core::model::{Actor, Role};
use phananh_core::ports::Channel;
use serde::Deserialize;
use serde_json::json;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    /// The authenticator app's 6-digit code, for an account with a second factor.
    #[serde(default)]
    code: Option<String>,
}

fn token_response(s: &HttpState, actor: &Actor) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (token, ttl) = tokens.issue(actor)?;
    Ok(ok(json!({
        "access_token": token, "token_type": "Bearer", "expires_in": ttl,
        "role": actor.role, "unit": actor.unit,
    })))
}

/// Staff sign-in. Core refuses an unknown username, a wrong password and a disabled account
/// alike, after the same password work ([`crate::auth::Argon2Passwords`] does it off the async
/// executor).
/// Attempts are limited with a growing delay per account and per client address (429 with
/// `Retry-After` while it runs).
pub async fn login(
    State(s): State<HttpState>,
    client: ClientAddr,
    Json(b): Json<LoginBody>,
) -> ApiResult<Response> {
    if s.tokens.is_none() {
        return Err(Problem::not_found());
    }
    let actor = s
        .app
        .login_with_code(&b.username, &b.password, b.code.as_deref(), &client.0)
        .await?;
    token_response(&s, &actor)
}

/// Anonymous citizen: a device token that lets them follow their own reports.
pub async fn device_token(State(s): State<HttpState>) -> ApiResult<Response> {
    let id = format!("dev-{}", uuid::Uuid::new_v4().simple());
    token_response(&s, &Actor::new(id, Role::Citizen, None))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtpBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
}

fn contact_of(b: &OtpBody) -> ApiResult<(String, Channel)> {
    Ok(sign_in_contact(b.phone.as_deref(), b.email.as_deref())?)
}

/// Sends a one-time sign-in code to a phone (SMS) or e-mail. Core makes it random, keeps
/// only its keyed hash, and refuses (429) a new code to the same contact within the cool-down
/// or too many from one client address.
pub async fn citizen_otp(
    State(s): State<HttpState>,
    client: ClientAddr,
    Json(b): Json<OtpBody>,
) -> ApiResult<Response> {
    s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (contact, channel) = contact_of(&b)?;
    s.app
        .request_sign_in_code(&contact, channel, &client.0)
        .await?;
    Ok((StatusCode::ACCEPTED, axum::Json(json!({"sent": true}))).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    code: String,
}

/// Checks a code (single use, at most 5 tries; 401 `invalid_otp` when wrong, 429 once the
/// code is locked) and answers a citizen token.
pub async fn citizen_verify(
    State(s): State<HttpState>,
    client: ClientAddr,
    Json(b): Json<VerifyBody>,
) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (contact, _) = contact_of(&OtpBody {
        phone: b.phone,
        email: b.email,
    })?;
    s.app
        .verify_sign_in_code(&contact, &b.code, &client.0)
        .await?;
    let id = tokens.citizen_id_for(&contact)?;
    token_response(&s, &Actor::new(id, Role::Citizen, None))
}
