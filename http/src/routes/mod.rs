//! Route handlers, one file per audience: [`catalogue`] (anyone: health, the contract, the
//! city's lists), [`auth`] (signing in), [`reports`] (uploading and submitting), [`me`] (a
//! citizen's own reports), [`public`] (the public feed), [`staff`] (handling reports),
//! [`stats`] (statistics and CSV export, Đ.9.2) and [`accounts`] (staff accounts, Đ.4.1).
//! Each handler parses, calls a core use case and shapes the response: no rules here.
//!
//! This file holds what several audiences share: the fallbacks, response and id helpers,
//! the role gates and the report-list query parameters.

pub mod accounts;
pub mod auth;
pub mod catalogue;
pub mod deliveries;
pub mod me;
pub mod public;
pub mod reports;
pub mod second_factor;
pub mod staff;
pub mod stats;
pub mod trust;
pub mod uploads;

#[cfg(test)]
mod tests;

use crate::problem::{ApiResult, Problem};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use chrono::{DateTime, Utc};
use phananh_core::app::App;
use phananh_core::model::{Actor, Report, ReportId, Role};
use phananh_core::ports::ReportQuery;
use phananh_core::views::{self, StaffView};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// Marks (in the response's extensions, never on the wire) an answer that no route gave: the
/// 404 and 405 fallbacks. Lets a test tell them from a handler's own 404.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Unrouted;

pub async fn not_found() -> Response {
    (Extension(Unrouted), Problem::not_found()).into_response()
}

pub async fn method_not_allowed() -> Response {
    let problem = Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "Phương thức không được hỗ trợ",
        "Đường dẫn này không hỗ trợ phương thức HTTP đã dùng.",
    );
    (Extension(Unrouted), problem).into_response()
}

pub(crate) fn ok<T: Serialize>(v: T) -> Response {
    axum::Json(v).into_response()
}

pub(crate) fn page<T: Serialize>(items: Vec<T>, next: Option<String>) -> Response {
    ok(json!({ "items": items, "next_cursor": next }))
}

/// A report id from the path; anything that cannot be one is simply not found.
pub(crate) fn report_id(id: String) -> ApiResult<ReportId> {
    if id.is_empty() || id.len() > 64 || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(Problem::not_found());
    }
    Ok(ReportId(id))
}

/// What staff see of a report (also what an IOC operator gets back on submitting one).
pub(crate) fn staff_view(app: &App, r: &Report, actor: &Actor) -> StaffView {
    views::staff_view(r, actor, app.rules(), app.now())
}

pub(crate) fn require_citizen(actor: &Actor) -> ApiResult<()> {
    if actor.role == Role::Citizen {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "forbidden_role",
            "Chức năng dành cho người phản ánh.",
        ))
    }
}

pub(crate) fn require_staff(actor: &Actor) -> ApiResult<()> {
    if actor.role.is_staff() {
        Ok(())
    } else {
        Err(Problem::forbidden(
            "forbidden_role",
            "Chức năng dành cho cán bộ.",
        ))
    }
}

/// A reason given for an action (reopening, revealing the reporter).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    pub(crate) reason: String,
}

/// Query parameters of the report lists (own, public, staff).
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct ListParams {
    #[serde(default)]
    cursor: Option<String>,
    #[serde(default)]
    limit: Option<u32>,
    #[serde(default)]
    state: Option<String>,
    #[serde(default)]
    pub(crate) unit: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    ward: Option<String>,
    #[serde(default)]
    pub(crate) overdue: Option<bool>,
    #[serde(default)]
    from: Option<DateTime<Utc>>,
    #[serde(default)]
    to: Option<DateTime<Utc>>,
    /// Free text (staff list), diacritics and case ignored.
    #[serde(default)]
    q: Option<String>,
}

/// Longest free-text query accepted.
const MAX_QUERY_CHARS: usize = 200;

impl ListParams {
    pub(crate) fn to_query(&self, app: &App) -> ApiResult<ReportQuery> {
        let mut states = Vec::new();
        if let Some(list) = &self.state {
            for s in list.split(',').filter(|s| !s.is_empty()) {
                states.push(phananh_core::model::State::parse(s).ok_or_else(|| {
                    Problem::bad_request(
                        "invalid_query",
                        "state",
                        format!("Trạng thái “{s}” không tồn tại."),
                    )
                })?);
            }
        }
        if let Some(c) = &self.category {
            if app.rules().config.category(c).is_none() {
                return Err(Problem::bad_request(
                    "invalid_query",
                    "category",
                    format!("Lĩnh vực “{c}” không tồn tại."),
                ));
            }
        }
        let text = self.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        if text.is_some_and(|q| q.chars().count() > MAX_QUERY_CHARS) {
            return Err(Problem::bad_request(
                "invalid_query",
                "q",
                format!("Từ khóa tìm kiếm tối đa {MAX_QUERY_CHARS} ký tự."),
            ));
        }
        let limit = self.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(Problem::bad_request(
                "invalid_query",
                "limit",
                "limit phải từ 1 đến 200.",
            ));
        }
        Ok(ReportQuery {
            states,
            unit: self.unit.clone(),
            category: self.category.clone(),
            ward: self.ward.clone(),
            reporter: None,
            overdue_at: self.overdue.unwrap_or(false).then(|| app.now()),
            public_only: false,
            created_from: self.from,
            created_to: self.to,
            text: text.map(str::to_string),
            cursor: self.cursor.clone(),
            limit,
        })
    }
}
