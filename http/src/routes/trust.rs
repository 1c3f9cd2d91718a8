//! The trust routes (issue 12): a report's audit verification for staff (Đ.6.2), and revoking
//! a staff account's sessions (Đ.4.1).

use super::{ok, report_id, require_staff};
use crate::extract::Authed;
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::{Path, State};
use axum::response::Response;
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
