//! The unit's page (unit staff and unit head): the unit's open reports (assigned, in
//! progress, deferred) sorted by time left, each a card coloured by the share of the deadline
//! used, with the time left or overdue in words and the local due time. Phone-first (360 px).
//! Rendered only from core's staff view: a unit never sees the reporter.
//!
//! Also the small helpers the unit, leadership and office pages share (names from the city's
//! config, durations in words, the refusal page).

use super::common::{forbidden, list_all, read_error};
use super::names::{
    category_name, duration_words, local_time, report_url, state_name, unit_name, ward_name,
};
use super::Ctx;
use crate::HttpState;
use axum::extract::State as AxState;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use phananh_core::city::CityRules;
use phananh_core::model::{Actor, ClockKind, Report, State};
use phananh_core::ports::ReportQuery;
use phananh_core::views::{staff_view, StaffView};

pub fn routes() -> Router<HttpState> {
    Router::new().route("/console/unit", get(unit_page))
}

/// Reports read per page and the most a console list reads.
pub(super) const LIST_MAX: usize = 1000;

/// Time left or overdue in words: "còn 1 giờ 20 phút", "quá hạn 35 phút" (with "giờ làm
/// việc" on a working-hours clock).
pub(super) fn time_left_words(remaining: i64, clock: ClockKind) -> String {
    let days = clock == ClockKind::ClockHours;
    let suffix = if days { "" } else { " (giờ làm việc)" };
    if remaining < 0 {
        format!("quá hạn {}{suffix}", duration_words(remaining, days))
    } else {
        format!("còn {}{suffix}", duration_words(remaining, days))
    }
}

/// The colour class of a deadline: `time-ok` below half used, `time-warn` below three
/// quarters, `time-late` until due, `time-over` overdue.
pub(super) fn time_class(fraction: f64, overdue: bool) -> &'static str {
    if overdue {
        "time-over"
    } else if fraction < 0.5 {
        "time-ok"
    } else if fraction < 0.75 {
        "time-warn"
    } else {
        "time-late"
    }
}

/// One open report of the unit, ready to show.
struct Item {
    view: StaffView,
    class: &'static str,
    /// Sort key: running clocks first by minutes left, then deferrals by expected date.
    order: (u8, i64),
}

fn item(r: &Report, actor: &Actor, rules: &CityRules, now: DateTime<Utc>) -> Item {
    let view = staff_view(r, actor, rules, now);
    let (class, order) = match (&view.report.assignment, view.remaining_minutes) {
        (Some(a), Some(left)) => {
            let used = rules.elapsed_fraction(a.deadline_rule(), a.assigned_at, now);
            (time_class(used, view.overdue || left < 0), (0, left))
        }
        _ => match &view.report.deferral {
            Some(d) if view.report.state == State::Deferred => (
                "time-paused",
                (
                    1,
                    d.expected_date
                        .and_time(chrono::NaiveTime::MIN)
                        .and_utc()
                        .timestamp()
                        / 60,
                ),
            ),
            _ => ("time-paused", (2, 0)),
        },
    };
    Item { view, class, order }
}

fn card(i: &Item, rules: &CityRules, own_unit: Option<&str>) -> Markup {
    let r = &i.view.report;
    let href = report_url(&r.id);
    html! {
        article class=(format!("card unit-card {}", i.class)) data-report-id=(r.id) {
            h3 { a.open href=(href) { (r.title) } }
            p.meta {
                span class="badge state" { (state_name(r.state)) }
                span.badge { (category_name(rules, &r.category)) }
                @if let Some(w) = &r.ward { span.badge { (ward_name(rules, w)) } }
            }
            @if let Some(addr) = &r.address { p.muted { (addr) } }
            @match (&r.assignment, i.view.remaining_minutes) {
                (Some(a), Some(left)) => {
                    p.time-left {
                        strong { (time_left_words(left, a.clock)) }
                        br;
                        span.muted { "Hạn: " (local_time(rules, a.due_at)) }
                        @if r.target_date().is_some() { br; (super::deferral::target_line(r)) }
                    }
                    @if own_unit.is_some_and(|u| u != a.lead_unit) {
                        p.muted { "Đơn vị phối hợp · chủ trì: " (unit_name(rules, &a.lead_unit)) }
                    }
                }
                _ => {
                    @if let Some(d) = &r.deferral {
                        p.time-left {
                            strong { "Tạm dừng tính hạn" }
                            br;
                            span.muted { "Lý do: " (d.reason) }
                            br;
                            span.muted { "Dự kiến giải quyết: " (d.expected_date.format("%d/%m/%Y")) }
                            br;
                            span.muted.deferral-decision { (super::deferral::decision_words(d)) }
                            @if let Some(a) = &r.assignment {
                                br;
                                span.muted { (super::deferral::REGULATED_LABEL) ": " (local_time(rules, a.due_at)) }
                            }
                        }
                    }
                }
            }
            a class="button open-report" href=(href) { "Mở phản ánh" }
        }
    }
}

async fn unit_page(AxState(s): AxState<HttpState>, ctx: Ctx) -> Response {
    const TITLE: &str = "Phản ánh của đơn vị";
    const HERE: &str = "/console/unit";
    let actor = ctx.session.actor.clone();
    if !actor.role.is_unit_role() {
        return forbidden(
            &ctx,
            TITLE,
            HERE,
            "Trang này dành cho cán bộ và lãnh đạo đơn vị xử lý.",
        );
    }
    let q = ReportQuery {
        states: vec![State::Assigned, State::InProgress, State::Deferred],
        unit: actor.unit.clone(),
        ..Default::default()
    };
    let reports = match list_all(&s.app, &actor, q, LIST_MAX).await {
        Ok(r) => r,
        Err(e) => return read_error(&ctx, TITLE, HERE, &e),
    };
    let rules = s.app.rules();
    let now = s.app.now();
    let mut items: Vec<Item> = reports
        .iter()
        .map(|r| item(r, &actor, rules, now))
        .collect();
    items.sort_by_key(|i| i.order);
    let overdue = items.iter().filter(|i| i.class == "time-over").count();
    let near = items.iter().filter(|i| i.class == "time-late").count();
    let unit = actor.unit.as_deref().map(|u| unit_name(rules, u));
    ctx.page(
        TITLE,
        HERE,
        html! {
            h1 { (TITLE) @if let Some(u) = &unit { " — " (u) } }
            p.unit-summary {
                (items.len()) " phản ánh đang mở"
                @if overdue > 0 { " · " strong.over { (overdue) " quá hạn" } }
                @if near > 0 { " · " (near) " sắp đến hạn" }
            }
            p.legend.muted {
                span class="swatch time-ok" { "dưới 50% thời hạn" }
                span class="swatch time-warn" { "50–75%" }
                span class="swatch time-late" { "trên 75%" }
                span class="swatch time-over" { "quá hạn" }
            }
            @if items.is_empty() {
                p.muted { "Đơn vị không có phản ánh nào đang chờ xử lý." }
            } @else {
                section id="unit-queue" class="cards unit-queue" {
                    @for i in &items { (card(i, rules, actor.unit.as_deref())) }
                }
            }
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_said_in_words() {
        assert_eq!(
            time_left_words(80, ClockKind::ClockHours),
            "còn 1 giờ 20 phút"
        );
        assert_eq!(
            time_left_words(-35, ClockKind::ClockHours),
            "quá hạn 35 phút"
        );
        assert_eq!(time_left_words(0, ClockKind::ClockHours), "còn 0 phút");
        assert_eq!(
            time_left_words(1440 + 180, ClockKind::ClockHours),
            "còn 1 ngày 3 giờ"
        );
        assert_eq!(
            time_left_words(2400, ClockKind::WorkingHours),
            "còn 40 giờ (giờ làm việc)"
        );
    }

    #[test]
    fn colours_follow_the_share_of_the_deadline_used() {
        assert_eq!(time_class(0.2, false), "time-ok");
        assert_eq!(time_class(0.5, false), "time-warn");
        assert_eq!(time_class(0.74, false), "time-warn");
        assert_eq!(time_class(0.75, false), "time-late");
        assert_eq!(time_class(0.99, false), "time-late");
        assert_eq!(time_class(1.2, true), "time-over");
    }
}
