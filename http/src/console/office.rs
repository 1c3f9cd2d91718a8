//! The office's statistics (Đ.9.2; also for the leadership and the IOC, as core's ViewStats
//! permission says): a date-range filter, totals, the on-time rate (overall and per unit), the
//! median time to resolve, counts by unit, category, ward and month as bar charts drawn on the
//! server as SVG, the overdue list with an "Đôn đốc" (urge) form per report, and the CSV export.
//! Figures come from `App::stats`, refusals from core.

use super::charts::bar_chart;
use super::common::{forbidden, read_error};
use super::names::{category_name, duration_words, local_time, report_url, unit_name, ward_name};
use super::Ctx;
use crate::HttpState;
use axum::extract::{Query, State as AxState};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, NaiveDate, Utc};
use maud::{html, Markup};
use phananh_core::app::Stats;
use phananh_core::city::CityRules;
use phananh_core::error::DomainError;
use phananh_core::lifecycle::allowed_roles;
use phananh_core::model::Action;
use serde::Deserialize;
use std::collections::BTreeMap;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/office", get(office_page))
        .route("/console/office/export.csv", get(export_csv))
}

const TITLE: &str = "Thống kê phản ánh";
const HERE: &str = "/console/office";
/// The most overdue reports one statistics page lists (figures come from the aggregates).
pub(super) const STATS_MAX: usize = 100;

#[derive(Debug, Default, Deserialize)]
pub struct RangeQuery {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// The range asked for: local dates (`YYYY-MM-DD`, `to` inclusive) as UTC instants
/// [from 00:00, day after `to` 00:00), or the field that is not a date.
struct Range {
    from: Option<DateTime<Utc>>,
    to: Option<DateTime<Utc>>,
    from_text: String,
    to_text: String,
    errors: BTreeMap<&'static str, String>,
}

fn range(rules: &CityRules, q: &RangeQuery) -> Range {
    let mut errors = BTreeMap::new();
    let mut parse = |field: &'static str, text: &str, next_day: bool| {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        let date = if next_day {
            date.and_then(|d| d.succ_opt())
        } else {
            date
        };
        match date.and_then(|d| rules.local_day_start(d)) {
            Some(t) => Some(t),
            None => {
                errors.insert(
                    field,
                    "Ngày không hợp lệ (dạng năm-tháng-ngày).".to_string(),
                );
                None
            }
        }
    };
    let from_text = q.from.clone().unwrap_or_default();
    let to_text = q.to.clone().unwrap_or_default();
    let from = parse("from", &from_text, false);
    let to = parse("to", &to_text, true);
    if let (Some(f), Some(t)) = (from, to) {
        if t <= f {
            errors.insert(
                "to",
                "Ngày kết thúc phải không trước ngày bắt đầu.".to_string(),
            );
        }
    }
    Range {
        from,
        to,
        from_text,
        to_text,
        errors,
    }
}

fn percent(rate: f64) -> String {
    format!("{:.1}%", rate * 100.0).replace('.', ",")
}

fn sorted_desc(
    map: &BTreeMap<String, usize>,
    name: impl Fn(&str) -> String,
) -> Vec<(String, usize)> {
    let mut rows: Vec<(String, usize)> = map.iter().map(|(k, v)| (name(k), *v)).collect();
    rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    rows
}

fn filter_form(r: &Range) -> Markup {
    html! {
        form.filters method="get" action=(HERE) {
            div {
                label for="from" { "Từ ngày" }
                input type="date" id="from" name="from" value=(r.from_text);
                @if let Some(e) = r.errors.get("from") { span.field-error role="alert" { (e) } }
            }
            div {
                label for="to" { "Đến ngày" }
                input type="date" id="to" name="to" value=(r.to_text);
                @if let Some(e) = r.errors.get("to") { span.field-error role="alert" { (e) } }
            }
            div { button type="submit" { "Xem thống kê" } }
        }
    }
}

fn totals(s: &Stats) -> Markup {
    html! {
        section id="totals" class="cards three totals" {
            div.card.total { h3 { "Tổng số phản ánh" } p.figure { (s.total) } }
            div.card.total { h3 { "Đã có kết quả" } p.figure { (s.resolved) } }
            div.card.total {
                h3 { "Tỷ lệ đúng hạn" }
                p.figure id="on-time-rate" {
                    @match s.on_time_rate { Some(r) => (percent(r)), None => "—" }
                }
                p.muted { (s.resolved_on_time) " / " (s.resolved) " phản ánh giải quyết đúng hạn" }
            }
            div.card.total {
                h3 { "Thời gian giải quyết (trung vị)" }
                p.figure {
                    @match s.median_minutes_to_resolve { Some(m) => (duration_words(m, true)), None => "—" }
                }
            }
            div.card.total {
                h3 { "Thời gian giải quyết (90% phản ánh)" }
                p.figure id="p90" {
                    @match s.p90_minutes_to_resolve { Some(m) => (duration_words(m, true)), None => "—" }
                }
            }
            div.card.total { h3 { "Đang mở" } p.figure id="open-count" { (s.open) } }
            div.card.total {
                h3 { "Đang quá hạn" }
                p.figure { (s.overdue.len()) @if s.overdue_more { "+" } }
            }
        }
    }
}

fn minutes(m: Option<i64>) -> String {
    m.map_or_else(|| "—".to_string(), |m| duration_words(m, true))
}

fn on_time_table(s: &Stats, rules: &CityRules) -> Markup {
    let rows = s.figures.as_ref().map(|f| &f.by_unit);
    html! {
        @if !s.on_time_by_unit.is_empty() {
            div.table-wrap {
                table id="on-time-by-unit" {
                    thead { tr {
                        th { "Đơn vị" } th { "Đã giải quyết" } th { "Đúng hạn" } th { "Tỷ lệ" }
                        th { "Trung vị" } th { "90%" }
                    } }
                    tbody {
                        @for (u, f) in &s.on_time_by_unit {
                            @let row = rows.and_then(|r| r.get(u));
                            tr data-unit=(u) {
                                td { (unit_name(rules, u)) }
                                td { (f.resolved) }
                                td { (f.on_time) }
                                td { (percent(f.rate)) }
                                td { (minutes(row.and_then(|r| r.median_minutes))) }
                                td { (minutes(row.and_then(|r| r.p90_minutes))) }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn overdue_list(s: &Stats, rules: &CityRules, csrf: &str, may_urge: bool) -> Markup {
    html! {
        @if s.overdue.is_empty() {
            p.muted { "Không có phản ánh quá hạn." }
        } @else {
            div.table-wrap {
                table id="overdue-list" {
                    thead { tr {
                        th { "Phản ánh" } th { "Đơn vị chủ trì" } th { "Hạn" } th { "Quá hạn" }
                        @if may_urge { th { "Đôn đốc" } }
                    } }
                    tbody {
                        @for o in &s.overdue {
                            tr class="time-over" data-report-id=(o.id) {
                                td {
                                    a.open href=(report_url(&o.id)) { (o.id) }
                                    br; span.muted { (category_name(rules, &o.category)) }
                                }
                                td { (unit_name(rules, &o.lead_unit)) }
                                td { (local_time(rules, o.due_at)) }
                                td { "quá hạn " (duration_words(o.minutes_late, true)) }
                                @if may_urge {
                                    td {
                                        form.urge method="post" data-action="urge"
                                            action=(format!("/console/reports/{}/actions", o.id)) {
                                            input type="hidden" name="_csrf" value=(csrf);
                                            input type="hidden" name="action" value="urge";
                                            label for=(format!("urge-{}", o.id)) { "Nội dung đôn đốc" }
                                            input type="text" id=(format!("urge-{}", o.id)) name="note" required
                                                value="Đề nghị đơn vị khẩn trương xử lý phản ánh đã quá hạn.";
                                            button type="submit" { "Đôn đốc" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn export_href(r: &Range) -> String {
    format!(
        "/console/office/export.csv?from={}&to={}",
        urlencoding::encode(r.from_text.trim()),
        urlencoding::encode(r.to_text.trim())
    )
}

async fn office_page(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Query(q): Query<RangeQuery>,
) -> Response {
    let actor = ctx.session.actor.clone();
    let rules = s.app.rules();
    let r = range(rules, &q);
    if !r.errors.is_empty() {
        // Still refuse what core refuses before saying anything about the dates.
        if let Err(e) = phananh_core::App::check_stats_access(&actor) {
            return forbidden(&ctx, TITLE, HERE, &e.message_vi());
        }
        let mut page = ctx.page(TITLE, HERE, html! { h1 { (TITLE) } (filter_form(&r)) });
        *page.status_mut() = StatusCode::BAD_REQUEST;
        return page;
    }
    let stats = match s.app.stats(&actor, r.from, r.to, STATS_MAX).await {
        Ok(st) => st,
        Err(e @ DomainError::Forbidden { .. }) => {
            return forbidden(&ctx, TITLE, HERE, &e.message_vi())
        }
        Err(e) => return read_error(&ctx, TITLE, HERE, &e),
    };
    let may_urge = allowed_roles(Action::Urge).contains(&actor.role);
    let by_unit = sorted_desc(&stats.by_unit, |u| unit_name(rules, u));
    let by_category = sorted_desc(&stats.by_category, |c| category_name(rules, c));
    let by_ward = sorted_desc(&stats.by_ward, |w| {
        if w == "unknown" {
            "Chưa xác định".to_string()
        } else {
            ward_name(rules, w)
        }
    });
    let by_month: Vec<(String, usize)> = stats
        .by_month
        .iter()
        .map(|(m, v)| {
            let label = match m.split_once('-') {
                Some((y, mo)) => format!("Tháng {mo}/{y}"),
                None => m.clone(),
            };
            (label, *v)
        })
        .collect();
    ctx.page(
        TITLE,
        HERE,
        html! {
            h1 { (TITLE) }
            @if q.done.is_some() { p.notice role="status" { "Đã thực hiện xong." } }
            (filter_form(&r))
            p.export { a.button id="export-csv" href=(export_href(&r)) download { "Tải CSV" } }
            @if let Some((from, to)) = &stats.months {
                p.muted id="months" { "Số liệu tính theo tháng tiếp nhận: "
                    (if from.starts_with("0000") { "từ đầu" } else { from.as_str() }) " – "
                    (if to.starts_with("9999") { "nay" } else { to.as_str() }) "." }
            }
            @if let Some(u) = &stats.unit {
                p.notice { "Số liệu của đơn vị " (unit_name(rules, u)) "." }
            }
            (totals(&stats))
            h2 { "Tỷ lệ đúng hạn theo đơn vị" }
            (on_time_table(&stats, rules))
            div.charts {
                (bar_chart("chart-unit", "Số phản ánh theo đơn vị chủ trì", &by_unit))
                (bar_chart("chart-category", "Số phản ánh theo lĩnh vực", &by_category))
                (bar_chart("chart-ward", "Số phản ánh theo phường, xã", &by_ward))
                (bar_chart("chart-month", "Số phản ánh theo tháng", &by_month))
            }
            h2 { "Phản ánh quá hạn" }
            (overdue_list(&stats, rules, &ctx.csrf, may_urge))
        },
    )
}

async fn export_csv(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Query(q): Query<RangeQuery>,
) -> Response {
    let actor = ctx.session.actor.clone();
    let r = range(s.app.rules(), &q);
    if let Some((field, e)) = r.errors.iter().next() {
        return (
            StatusCode::BAD_REQUEST,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            format!("{field}: {e}"),
        )
            .into_response();
    }
    // A byte-order mark first, so spreadsheets read the Vietnamese text as UTF-8.
    match crate::routes::stats::csv_body(s.app.clone(), actor, r.from, r.to, "\u{feff}").await {
        Ok(csv) => (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"phan-anh.csv\"",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            csv,
        )
            .into_response(),
        Err(e @ DomainError::Forbidden { .. }) => forbidden(&ctx, TITLE, HERE, &e.message_vi()),
        Err(e) => read_error(&ctx, TITLE, HERE, &e),
    }
}
