//! Staff handling reports: their lists and one report as staff see it, every lifecycle action,
//! a leader's directive (Đ.6.2), revealing the reporter with a reason, and attachments.

use super::{ok, page, report_id, require_staff, staff_view, ListParams, ReasonBody};
use crate::extract::{Authed, Json, Query};
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use phananh_core::lifecycle::Command;
use phananh_core::ports::Page;
use phananh_core::views::StaffView;
use serde::Deserialize;
use serde_json::json;

pub async fn staff_reports(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let q = p.to_query(&s.app)?;
    let Page { items, next_cursor } = s.app.list(&actor, q).await?;
    let items: Vec<StaffView> = items
        .iter()
        .map(|r| staff_view(&s.app, r, &actor))
        .collect();
    Ok(page(items, next_cursor))
}

pub async fn staff_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let r = s.app.get_for(&report_id(id)?, &actor).await?;
    // Đ.6.2: every staff read verifies the timeline; a break is shown, never hidden.
    let check = s.app.audit_check(&r);
    let mut v = serde_json::to_value(staff_view(&s.app, &r, &actor))
        .map_err(|e| Problem::from(phananh_core::DomainError::Storage(e.to_string())))?;
    if let Some(o) = v.as_object_mut() {
        o.insert("audit".into(), serde_json::json!(check));
    }
    Ok(with_etag(ok(v), r.version))
}

/// The report's version as an entity tag: a client sends it back in `If-Match` with an action
/// so that acting on what someone else has just changed is refused (409 with the current
/// version) instead of applied to a report the person has not seen.
fn with_etag(mut res: Response, version: u64) -> Response {
    if let Ok(v) = HeaderValue::from_str(&format!("\"{version}\"")) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// The version in `If-Match` (`"3"`, `W/"3"` or `3`), if the client sent one.
fn if_match(headers: &HeaderMap) -> ApiResult<Option<u64>> {
    let Some(v) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let bad = || {
        Problem::bad_request(
            "invalid_if_match",
            "If-Match",
            "If-Match phải là phiên bản của phản ánh (ETag nhận được khi xem phản ánh).",
        )
    };
    let text = v.to_str().map_err(|_| bad())?.trim();
    let text = text.strip_prefix("W/").unwrap_or(text).trim_matches('"');
    text.parse::<u64>().map(Some).map_err(|_| bad())
}

/// Every lifecycle action: `{"action": "assign", "lead_unit": "...", ...}`.
pub async fn staff_action(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let seen = if_match(&headers)?;
    if !body.is_object() {
        return Err(Problem::bad_request(
            "invalid_body",
            "body",
            "Cần một đối tượng JSON.",
        ));
    }
    let r = s
        .app
        .act_json_at(&report_id(id)?, &actor, body, seen)
        .await?;
    Ok(with_etag(ok(staff_view(&s.app, &r, &actor)), r.version))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DirectiveBody {
    text: String,
    /// The `seq` of the earlier directive this one corrects (a directive is never edited).
    #[serde(default)]
    corrects: Option<u32>,
}

/// Đ.6.2: a leader's directive.
pub async fn directive(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<DirectiveBody>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let r = s
        .app
        .act(
            &report_id(id)?,
            &actor,
            Command::Directive {
                text: b.text,
                corrects: b.corrects,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(staff_view(&s.app, &r, &actor)),
    )
        .into_response())
}

pub async fn reveal_reporter(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let reporter = s
        .app
        .reveal_reporter(&report_id(id)?, &actor, b.reason)
        .await?;
    Ok(ok(json!({ "reporter": reporter })))
}

pub async fn staff_attachment(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    require_staff(&actor)?;
    let url = s
        .app
        .attachment_url(&report_id(id)?, &aid, Some(&actor))
        .await?;
    Ok(ok(url))
}
