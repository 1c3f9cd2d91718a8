//! Statistics for leaders and the CSV export of reports for reports to the Chairman (Đ.9.2).
//! [`reports_csv`] is also what `phananh export` writes, so it depends on nothing of HTTP.

use super::ok;
use crate::extract::{Authed, Query};
use crate::problem::ApiResult;
use crate::HttpState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use phananh_core::model::Report;
use phananh_core::service::App;
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
    App::check_stats_access(&actor)?;
    let reports = s.app.collect(p.from, p.to, STATS_MAX).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"phananh.csv\"",
            ),
        ],
        reports_csv(&s.app, &reports),
    )
        .into_response())
}

fn csv_field(s: &str) -> String {
    // Also defuse spreadsheet formulas in exported text.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// CSV rows of reports (no reporter data): for reports to the Chairman.
pub fn reports_csv(app: &App, reports: &[Report]) -> String {
    let mut out = String::from(
        "id,created_at,category,ward,state,lead_unit,assigned_at,due_at,resolved_at,on_time,overdue,title\n",
    );
    let now = app.now();
    for r in reports {
        let a = r.assignment.as_ref();
        let row = [
            r.id.to_string(),
            r.created_at.to_rfc3339(),
            r.category.clone(),
            r.ward.clone().unwrap_or_default(),
            r.state.as_str().to_string(),
            a.map(|a| a.lead_unit.clone()).unwrap_or_default(),
            a.map(|a| a.assigned_at.to_rfc3339()).unwrap_or_default(),
            a.map(|a| a.due_at.to_rfc3339()).unwrap_or_default(),
            r.resolution
                .as_ref()
                .map(|x| x.resolved_at.to_rfc3339())
                .unwrap_or_default(),
            r.resolution
                .as_ref()
                .map(|x| x.on_time.to_string())
                .unwrap_or_default(),
            r.is_overdue(now).to_string(),
            r.title.clone(),
        ];
        let line: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&line.join(","));
        out.push('\n');
    }
    out
}
