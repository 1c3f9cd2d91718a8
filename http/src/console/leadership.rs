//! The leadership's overview (leader): reports referred for direction, reports overdue
//! across units (unit and time late), reports whose escalation thresholds were sent, and the
//! deferrals with their reason and expected date. Each links to the report page, where the
//! directive form is. Read through core's list and staff view (the reporter stays masked).

use super::common::{forbidden, list_all, read_error};
use super::names::{category_name, local_time, report_url, state_name, unit_name, ward_name};
use super::unit::{time_left_words, LIST_MAX};
use super::Ctx;
use crate::HttpState;
use axum::extract::State as AxState;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use maud::{html, Markup};
use phananh_core::city::CityRules;
use phananh_core::error::DomainError;
use phananh_core::lifecycle::threshold_key;
use phananh_core::model::{EscalationLevel, Report, Role, State};
use phananh_core::ports::ReportQuery;
use phananh_core::views::{staff_view, StaffView};

pub fn routes() -> Router<HttpState> {
    Router::new().route("/console/leadership", get(leadership_page))
}

const TITLE: &str = "Lãnh đạo — tổng hợp";
const HERE: &str = "/console/leadership";

fn level_name(l: EscalationLevel) -> &'static str {
    match l {
        EscalationLevel::UnitHead => "lãnh đạo đơn vị",
        EscalationLevel::Ioc => "IOC",
        EscalationLevel::Leadership => "lãnh đạo UBND",
    }
}

/// The thresholds sent for a report, as "75% → lãnh đạo đơn vị".
fn escalations_sent(r: &Report, rules: &CityRules) -> Vec<String> {
    r.escalation
        .sent
        .iter()
        .map(|key| {
            let level = rules
                .config
                .city
                .escalation
                .iter()
                .find(|t| threshold_key(t.fraction) == *key)
                .map(|t| level_name(t.level));
            match level {
                Some(l) => format!("{key}% → {l}"),
                None => format!("{key}%"),
            }
        })
        .collect()
}

fn report_link(r: &Report) -> Markup {
    html! { a.open href=(report_url(&r.id)) { (r.title) } }
}

fn referred_table(views: &[StaffView], rules: &CityRules) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr { th { "Phản ánh" } th { "Lĩnh vực" } th { "Địa bàn" } th { "Chuyển lúc" } } }
                tbody {
                    @for v in views {
                        @let r = &v.report;
                        tr data-report-id=(r.id) {
                            td { (report_link(r)) }
                            td { (category_name(rules, &r.category)) }
                            td { @if let Some(w) = &r.ward { (ward_name(rules, w)) } }
                            td { (local_time(rules, r.updated_at)) }
                        }
                    }
                }
            }
        }
    }
}

fn overdue_table(views: &[StaffView], rules: &CityRules) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr { th { "Phản ánh" } th { "Đơn vị chủ trì" } th { "Hạn" } th { "Quá hạn" } } }
                tbody {
                    @for v in views {
                        @let r = &v.report;
                        @if let Some(a) = &r.assignment {
                            tr class="time-over" data-report-id=(r.id) {
                                td { (report_link(r)) br; span.muted { (category_name(rules, &r.category)) } }
                                td { (unit_name(rules, &a.lead_unit)) }
                                td { (local_time(rules, a.due_at)) }
                                td.minutes-late {
                                    @let left = v.remaining_minutes.unwrap_or(-1).min(-1);
                                    (time_left_words(left, a.clock))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn escalated_table(views: &[StaffView], rules: &CityRules) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr { th { "Phản ánh" } th { "Đơn vị chủ trì" } th { "Trạng thái" } th { "Đã cảnh báo" } th { "Thời gian" } } }
                tbody {
                    @for v in views {
                        @let r = &v.report;
                        tr data-report-id=(r.id) {
                            td { (report_link(r)) }
                            td { @if let Some(u) = r.lead_unit() { (unit_name(rules, u)) } }
                            td { span class="badge state" { (state_name(r.state)) } }
                            td { @for e in escalations_sent(r, rules) { span class="badge flag" { (e) } } }
                            td {
                                @if let (Some(a), Some(left)) = (&r.assignment, v.remaining_minutes) {
                                    (time_left_words(left, a.clock))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn deferred_table(views: &[StaffView], rules: &CityRules) -> Markup {
    html! {
        div.table-wrap {
            table {
                thead { tr { th { "Phản ánh" } th { "Đơn vị" } th { "Lý do" } th { "Dự kiến giải quyết" } th { (super::deferral::REGULATED_LABEL) } th { "Quyết định gia hạn" } } }
                tbody {
                    @for v in views {
                        @let r = &v.report;
                        tr data-report-id=(r.id) {
                            td { (report_link(r)) }
                            td { @if let Some(u) = r.lead_unit() { (unit_name(rules, u)) } }
                            td { @if let Some(d) = &r.deferral { (d.reason) } }
                            td { @if let Some(d) = &r.deferral { (d.expected_date.format("%d/%m/%Y")) } }
                            td { @if let Some(d) = r.due_at() { (rules.format_local(d)) } }
                            td.deferral-decision { @if let Some(d) = &r.deferral { (super::deferral::decision_words(d)) } }
                        }
                    }
                }
            }
        }
    }
}

fn section(id: &str, title: &str, count: usize, empty: &str, table: Markup) -> Markup {
    html! {
        section id=(id) class="leadership-section" {
            h2 { (title) " " span.badge { (count) } }
            @if count == 0 { p.muted { (empty) } } @else { (table) }
        }
    }
}

async fn leadership_page(AxState(s): AxState<HttpState>, ctx: Ctx) -> Response {
    let actor = ctx.session.actor.clone();
    if actor.role != Role::Leader {
        return forbidden(&ctx, TITLE, HERE, "Trang này dành cho lãnh đạo UBND.");
    }
    let now = s.app.now();
    let rules = s.app.rules();
    let views = |q: ReportQuery| {
        let (app, actor) = (&s.app, &actor);
        async move {
            let rs = list_all(app, actor, q, LIST_MAX).await?;
            Ok::<Vec<StaffView>, DomainError>(
                rs.iter()
                    .map(|r| staff_view(r, actor, rules, now))
                    .collect(),
            )
        }
    };
    let states = |states: Vec<State>| ReportQuery {
        states,
        ..Default::default()
    };
    let read = async {
        Ok::<_, DomainError>((
            views(states(vec![State::Referred])).await?,
            views(ReportQuery {
                overdue_at: Some(now),
                ..Default::default()
            })
            .await?,
            views(states(vec![State::Assigned, State::InProgress])).await?,
            views(states(vec![State::Deferred])).await?,
        ))
    };
    let (referred, mut overdue, open, mut deferred) = match read.await {
        Ok(l) => l,
        Err(e) => return read_error(&ctx, TITLE, HERE, &e),
    };
    overdue.sort_by_key(|v| v.remaining_minutes.unwrap_or(0));
    let mut escalated: Vec<StaffView> = open
        .into_iter()
        .filter(|v| !v.report.escalation.sent.is_empty())
        .collect();
    escalated.sort_by_key(|v| v.remaining_minutes.unwrap_or(i64::MAX));
    deferred.sort_by_key(|v| v.report.deferral.as_ref().map(|d| d.expected_date));
    ctx.page(
        TITLE,
        HERE,
        html! {
            h1 { (TITLE) }
            p.muted { "Chỉ đạo được ban hành trên trang của từng phản ánh." }
            (section("referred", "Chờ cho ý kiến chỉ đạo", referred.len(),
                "Không có phản ánh nào chờ chỉ đạo.", referred_table(&referred, rules)))
            (section("overdue", "Quá hạn xử lý", overdue.len(),
                "Không có phản ánh quá hạn.", overdue_table(&overdue, rules)))
            (section("escalated", "Đã cảnh báo theo thời hạn", escalated.len(),
                "Không có phản ánh nào đã bị cảnh báo.", escalated_table(&escalated, rules)))
            (section("deferred", "Chưa giải quyết được (tạm hoãn)", deferred.len(),
                "Không có phản ánh tạm hoãn.", deferred_table(&deferred, rules)))
        },
    )
}
