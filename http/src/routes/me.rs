//! A citizen's own reports: the list, one report as its reporter sees it, rating the answer
//! and reopening it when not satisfied.

use super::{ok, page, report_id, require_citizen, ListParams, ReasonBody};
use crate::extract::{Authed, Json, Query};
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::{Path, State};
use axum::response::Response;
use phananh_core::lifecycle::Command;
use phananh_core::ports::Page;
use phananh_core::views::{self, ReporterView};
use serde::Deserialize;

pub async fn my_reports(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<ListParams>,
) -> ApiResult<Response> {
    require_citizen(&actor)?;
    let q = p.to_query(&s.app)?;
    let Page { items, next_cursor } = s.app.list(&actor, q).await?;
    let items: Vec<ReporterView> = items
        .iter()
        .map(|r| views::reporter_view(r, s.app.rules()))
        .collect();
    Ok(page(items, next_cursor))
}

pub async fn my_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    require_citizen(&actor)?;
    let r = s.app.get_for(&report_id(id)?, &actor).await?;
    Ok(ok(views::reporter_view(&r, s.app.rules())))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateBody {
    #[serde(deserialize_with = "crate::extract::whole_number")]
    stars: u8,
    #[serde(default)]
    comment: Option<String>,
}

pub async fn rate_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<RateBody>,
) -> ApiResult<Response> {
    let cmd = Command::Rate {
        stars: b.stars,
        comment: b.comment,
    };
    let r = s.app.act(&report_id(id)?, &actor, cmd).await?;
    Ok(ok(views::reporter_view(&r, s.app.rules())))
}

pub async fn reopen_report(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> ApiResult<Response> {
    let r = s
        .app
        .act(
            &report_id(id)?,
            &actor,
            Command::Reopen { reason: b.reason },
        )
        .await?;
    Ok(ok(views::reporter_view(&r, s.app.rules())))
}
