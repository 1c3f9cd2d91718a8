//! Statistics for the office, leaders and the IOC, and the CSV export of reports for reports
//! to the Chairman (Đ.9.2). Who may see them and what the CSV holds are core's.

use super::ok;
use crate::extract::{Authed, Query};
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RangeParams {
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
}

/// The most reports one statistics or export request reads.
const STATS_MAX: usize = 100_000;

pub async fn stats(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<RangeParams>,
) -> ApiResult<Response> {
    let st = s.app.stats(&actor, p.from, p.to, STATS_MAX).await?;
    Ok(ok(st))
}

pub async fn export_csv(
    State(s): State<HttpState>,
    Authed(actor): Authed,
    Query(p): Query<RangeParams>,
) -> ApiResult<Response> {
    let csv = s.app.export_csv(&actor, p.from, p.to, STATS_MAX).await?;
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
