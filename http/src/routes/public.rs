//! The public feed: reports anyone may read, as the public may see them (no reporter, no
//! internal notes), and their public attachments.

use super::{ok, page, report_id, ListParams};
use crate::extract::Query;
use crate::problem::{ApiResult, Problem};
use crate::HttpState;
use axum::extract::{Path, State};
use axum::response::Response;
use phananh_core::ports::Page;
use phananh_core::views::{self, PublicReport};
use phananh_core::DomainError;

pub async fn public_reports(
    State(s): State<HttpState>,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    if p.unit.is_some() || p.overdue.is_some() {
        return Err(Problem::bad_request(
            "invalid_query",
            "unit",
            "Tham số không dùng cho danh sách công khai.",
        ));
    }
    let q = p.to_query(&s.app)?;
    let Page { items, next_cursor } = s.app.public_feed(q).await?;
    let items: Vec<PublicReport> = items
        .iter()
        .filter_map(|r| views::public_view(r, s.app.rules()))
        .collect();
    Ok(page(items, next_cursor))
}

pub async fn public_report(
    State(s): State<HttpState>,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let id = report_id(id)?;
    let r = s.app.load(&id).await.map_err(|e| match e {
        DomainError::NotFound => Problem::not_found(),
        other => other.into(),
    })?;
    let v = views::public_view(&r, s.app.rules()).ok_or_else(Problem::not_found)?;
    Ok(ok(v))
}

pub async fn public_attachment(
    State(s): State<HttpState>,
    Path((id, aid)): Path<(String, String)>,
) -> ApiResult<Response> {
    let url = s.app.attachment_url(&report_id(id)?, &aid, None).await?;
    Ok(ok(url))
}
