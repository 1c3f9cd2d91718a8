//! Statistics for the office, leaders and the IOC, and the CSV export of reports for reports
//! to the Chairman (Đ.9.2). Who may see them and what the CSV holds are core's.

use super::ok;
use crate::extract::{Authed, Query};
use crate::problem::ApiResult;
use crate::HttpState;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_core::error::DomainError;
use phananh_core::model::Actor;
use phananh_core::App;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
}

/// The most overdue reports one statistics answer lists (the figures come from aggregates).
const STATS_MAX: usize = 100;

pub async fn stats(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<RangeParams>,
) -> ApiResult<Response> {
    let st = s.app.stats(&actor, p.from, p.to, STATS_MAX).await?;
    Ok(ok(st))
}

/// The most pages one CSV export streams (2,000,000 reports).
const EXPORT_MAX_PAGES: usize = 10_000;

/// The CSV export as a body streamed page by page: the first page is read before answering
/// (so a refusal is an error, not a broken download), each next one as the client reads.
/// `prefix` goes first (the console's byte-order mark).
pub(crate) async fn csv_body(
    app: App,
    actor: Actor,
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    prefix: &'static str,
) -> Result<Body, DomainError> {
    let (first, next) = app.export_page(&actor, from, to, None).await?;
    let head = format!("{prefix}{}{first}", App::export_header());
    let rest = futures_util::stream::unfold((next, 0usize), move |(cursor, pages)| {
        let app = app.clone();
        let actor = actor.clone();
        async move {
            let cursor = cursor?;
            if pages >= EXPORT_MAX_PAGES {
                return None;
            }
            match app.export_page(&actor, from, to, Some(cursor)).await {
                Ok((rows, next)) => Some((Ok::<_, DomainError>(rows), (next, pages + 1))),
                Err(e) => {
                    tracing::warn!(error = %e, "CSV export stopped");
                    Some((Err(e), (None, pages + 1)))
                }
            }
        }
    });
    let stream =
        futures_util::StreamExt::chain(futures_util::stream::once(async move { Ok(head) }), rest);
    Ok(Body::from_stream(stream))
}

pub async fn export_csv(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<RangeParams>,
) -> ApiResult<Response> {
    let csv = csv_body(s.app.clone(), actor, p.from, p.to, "").await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"phananh.csv\"",
            ),
        ],
        csv,
    )
        .into_response())
}
