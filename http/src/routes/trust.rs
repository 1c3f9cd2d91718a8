//! The trust routes (issue 12): a report's audit verification for staff (Đ.6.2), and revoking
//! a staff account's sessions (Đ.4.1).

use super::{ok, report_id, require_staff};
use crate::extract::Authed;
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// Verifies one report's timeline (hash and MAC chains): `ok`, and the first bad entry named.
pub async fn audit_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let check = s.app.verify_report(&actor, &report_id(id)?).await?;
    Ok(ok(check))
}

/// Ends every session of an account issued until now (the account itself, or the office).
pub async fn revoke_sessions(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    s.app.revoke_sessions(&actor, &id).await?;
    Ok(ok(json!({ "revoked": true })))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareRequestBody {
    recipient: String,
    reason: String,
    #[serde(default)]
    personal_data: bool,
}

/// Đ.4.4: asks to share a report with a third party (who: the caller; for whom; why).
pub async fn request_share(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    crate::extract::Json(b): crate::extract::Json<ShareRequestBody>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let (_, request) = s
        .app
        .request_share(
            &actor,
            &report_id(id)?,
            b.recipient,
            b.reason,
            b.personal_data,
        )
        .await?;
    Ok((
        axum::http::StatusCode::CREATED,
        axum::Json(json!({ "request": request, "status": "pending" })),
    )
        .into_response())
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareDecisionBody {
    approve: bool,
    #[serde(default)]
    note: Option<String>,
}

/// Đ.4.4: a leader's approval or refusal.
pub async fn decide_share(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path((id, request)): Path<(String, String)>,
    crate::extract::Json(b): crate::extract::Json<ShareDecisionBody>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let request = share_request(&request)?;
    s.app
        .decide_share(&actor, &report_id(id)?, request, b.approve, b.note)
        .await?;
    Ok(ok(json!({
        "request": request,
        "status": if b.approve { "approved" } else { "refused" },
    })))
}

/// Đ.4.4: the approved request's watermarked export (the release is recorded).
pub async fn release_share(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path((id, request)): Path<(String, String)>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let request = share_request(&request)?;
    let export = s
        .app
        .release_share(&actor, &report_id(id)?, request)
        .await?;
    Ok(ok(export))
}

/// A share request's id from the path: a timeline seq (u32). Anything else names no request:
/// `404 not_found` as problem+json, where axum's own path rejection would answer plain text.
fn share_request(raw: &str) -> ApiResult<u32> {
    raw.parse::<u32>().map_err(|_| Problem::not_found())
}
