//! Signing in: staff with a username and password (local tokens only; on AWS Cognito issues
//! them and these routes answer 404), a citizen's anonymous device token, and a citizen's
//! one-time code by SMS or e-mail.

use super::ok;
use crate::auth::TokenService;
use crate::extract::Json;
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
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
pub async fn login(State(s): State<HttpState>, Json(b): Json<LoginBody>) -> ApiResult<Response> {
    if s.tokens.is_none() {
        return Err(Problem::not_found());
    }
    let actor = s.app.login(&b.username, &b.password).await?;
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

/// Sends a one-time sign-in code to a phone (SMS) or e-mail.
pub async fn citizen_otp(
    State(s): State<HttpState>,
    Json(b): Json<OtpBody>,
) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (contact, channel) = contact_of(&b)?;
    let window = TokenService::otp_window(Utc::now().timestamp());
    let code = tokens.otp(&contact, window)?;
    s.app
        .send_sign_in_code(&contact, channel, &code, window)
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

pub async fn citizen_verify(
    State(s): State<HttpState>,
    Json(b): Json<VerifyBody>,
) -> ApiResult<Response> {
    let tokens = s.tokens.as_ref().ok_or_else(Problem::not_found)?;
    let (contact, _) = contact_of(&OtpBody {
        phone: b.phone,
        email: b.email,
    })?;
    if !tokens.check_otp(&contact, b.code.trim())? {
        return Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "invalid_otp",
            "Mã xác thực không đúng",
            "Mã xác thực không đúng hoặc đã hết hạn.",
        ));
    }
    let id = tokens.citizen_id_for(&contact)?;
    token_response(&s, &Actor::new(id, Role::Citizen, None))
}
