//! Upload slots and attachment downloads added by the media pipeline (issue 11): where an
//! upload stands (refused with a reason the client can show), the reporter's own files, and
//! the thumbnail of a published photo.

use super::{ok, report_id, require_citizen};
use crate::extract::Authed;
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::{Path, State};
use axum::response::Response;

/// `GET /v1/uploads/{id}`: the caller's own upload slot (`pending`, `ready`, `failed` with a
/// `reason`, `attached`).
pub async fn upload_status(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    Ok(ok(s.app.upload_status(&actor, &id).await?))
}

/// `GET /v1/me/reports/{id}/attachments/{attachment_id}`: a short-lived URL of one of the
/// files meant for the reporter (never those of internal notes).
pub async fn my_attachment(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    require_citizen(&actor)?;
    let url = s
        .app
        .attachment_url(&report_id(id)?, &aid, Some(&actor))
        .await?;
    Ok(ok(url))
}

/// `GET /v1/public/reports/{id}/attachments/{attachment_id}/thumbnail`: the thumbnail of a
/// published photo (a metadata-free copy, like every public file).
pub async fn public_thumbnail(
    State(s): State<HttpState>,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let url = s
        .app
        .attachment_url_sized(&report_id(id)?, &aid, None, true)
        .await?;
    Ok(ok(url))
}
