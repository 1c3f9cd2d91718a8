//! Notifications for the office and the IOC (Đ.7.2): "Tin nhắn sẽ được gửi" — the SMS the
//! system sends (with the local fake provider: what would have been sent), the notifications
//! that could not be delivered with a "Gửi lại" (re-send) button, and the delivery log section
//! of the report page. Everything through core's delivery use cases (role checks, the
//! reporter's address masked).

use super::common::read_error;
use super::names::{local_time, report_url, unit_name};
use super::Ctx;
use crate::HttpState;
use axum::extract::{Query, State as AxState};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use phananh_core::app::deliveries::DeliveryView;
use phananh_core::city::CityRules;
use phananh_core::delivery::DeliveryStatus;
use phananh_core::ports::Channel;
use serde::Deserialize;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/notifications", get(page))
        .route("/console/notifications/resend", post(resend))
}

const TITLE: &str = "Tin nhắn sẽ được gửi";
pub(super) const HERE: &str = "/console/notifications";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    #[serde(default)]
    done: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResendForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    id: String,
    /// The console page to return to.
    #[serde(default)]
    back: String,
}

fn channel_name(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "SMS",
        Channel::Email => "Thư điện tử",
    }
}

fn recipient(rules: &CityRules, d: &DeliveryView) -> Markup {
    html! {
        @if let Some(u) = &d.unit { (unit_name(rules, u)) br; }
        span.muted { (d.to) }
    }
}

/// The delivery table; a re-send form on rows that were not delivered.
pub(super) fn table(rules: &CityRules, items: &[DeliveryView], csrf: &str, back: &str) -> Markup {
    html! {
        @if items.is_empty() {
            p.muted { "Chưa có thông báo nào." }
        } @else {
            table.deliveries {
                thead { tr {
                    th { "Thời điểm" } th { "Kênh" } th { "Người nhận" } th { "Nội dung" }
                    th { "Trạng thái" } th { "Mã nhà cung cấp / lỗi" } th { "" }
                } }
                tbody {
                    @for d in items {
                        tr data-status=(d.status.as_str()) data-notification-id=(d.id) {
                            td { (local_time(rules, d.created_at)) }
                            td { (channel_name(d.channel)) }
                            td { (recipient(rules, d)) }
                            td {
                                @if let Some(s) = &d.subject { strong { (s) } br; }
                                (d.body)
                                @if let Some(r) = &d.report_id {
                                    br; a href=(report_url(r)) { "Xem phản ánh" }
                                }
                            }
                            td {
                                (d.status.label())
                                @if d.attempts > 1 { " (" (d.attempts) " lần)" }
                                @if let Some(t) = d.next_attempt_at {
                                    @if d.status == DeliveryStatus::Retrying {
                                        br; "Gửi lại lúc " (local_time(rules, t))
                                    }
                                }
                                // The rounds before each re-send (the DynamoDB log keeps them).
                                @for e in &d.earlier {
                                    br;
                                    span.earlier {
                                        "Lần trước (" (local_time(rules, e.at)) "): " (e.status.label())
                                        @if e.attempts > 1 { " (" (e.attempts) " lần)" }
                                        @if let Some(err) = &e.error { " — " span.error { (err) } }
                                    }
                                }
                            }
                            td {
                                @if let Some(p) = &d.provider { (p) ": " }
                                @if let Some(id) = &d.provider_message_id { code { (id) } }
                                @if let Some(e) = &d.error { span.error { (e) } }
                            }
                            td {
                                @if matches!(d.status, DeliveryStatus::Dead | DeliveryStatus::Retrying) {
                                    form.resend method="post" action="/console/notifications/resend" {
                                        input type="hidden" name="_csrf" value=(csrf);
                                        input type="hidden" name="id" value=(d.id);
                                        input type="hidden" name="back" value=(back);
                                        button type="submit" { "Gửi lại" }
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

async fn page(AxState(s): AxState<HttpState>, ctx: Ctx, Query(q): Query<PageQuery>) -> Response {
    let actor = &ctx.session.actor;
    let rules = s.app.rules();
    let dead = match s
        .app
        .recent_deliveries(actor, None, Some(DeliveryStatus::Dead), 200)
        .await
    {
        Ok(d) => d,
        Err(e) => return read_error(&ctx, TITLE, HERE, &e),
    };
    let sms = match s
        .app
        .recent_deliveries(actor, Some(Channel::Sms), None, 200)
        .await
    {
        Ok(d) => d,
        Err(e) => return read_error(&ctx, TITLE, HERE, &e),
    };
    let body = html! {
        h1 { (TITLE) }
        @if q.done.is_some() { p.done role="status" { "Đã gửi lại thông báo." } }
        @if let Some(e) = &q.error { p.error role="alert" { (e) } }
        section.dead {
            h2 { "Thông báo gửi không thành công" }
            p.muted { "Đã thử gửi nhiều lần nhưng không thành công. Kiểm tra số điện thoại, địa chỉ thư hoặc nhà cung cấp rồi bấm “Gửi lại”." }
            (table(rules, &dead, &ctx.csrf, HERE))
        }
        section.sms {
            h2 { "Tin nhắn SMS" }
            p.muted { "Các tin nhắn hệ thống gửi (hoặc sẽ gửi, khi dùng nhà cung cấp thử nghiệm) tới đơn vị, lãnh đạo và người phản ánh, mới nhất trước." }
            (table(rules, &sms, &ctx.csrf, HERE))
        }
    };
    ctx.page(TITLE, HERE, body)
}

async fn resend(AxState(s): AxState<HttpState>, ctx: Ctx, Form(f): Form<ResendForm>) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    // Only back to a console page (no open redirect).
    let back = if f.back.starts_with("/console/") && !f.back.contains("//") {
        f.back.as_str()
    } else {
        HERE
    };
    match s.app.resend_delivery(&ctx.session.actor, &f.id).await {
        Ok(_) if back == HERE => Redirect::to(&format!("{HERE}?done=resent")).into_response(),
        Ok(_) => Redirect::to(back).into_response(),
        Err(e @ phananh_core::error::DomainError::Forbidden { .. }) => {
            read_error(&ctx, TITLE, HERE, &e)
        }
        Err(e) => Redirect::to(&format!(
            "{HERE}?error={}",
            urlencoding::encode(&e.message_vi())
        ))
        .into_response(),
    }
}
