//! The second factor page (issue 12 item 3): a leader, the IOC head or the office switches on
//! sign-in with an authenticator app. The secret is shown once, on the answer to the enrol
//! form (an `otpauth://` URI and the same secret as text), and the factor is on only after a
//! first correct code. The rules (who, once, the code) are core's.

use super::Ctx;
use crate::HttpState;
use axum::extract::{Query, State as AxState};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use maud::{html, Markup};
use phananh_core::app::totp::{TotpEnrolment, TOTP_ROLES};
use serde::Deserialize;

pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console/security", get(security_page))
        .route("/console/security/totp", post(enrol))
        .route("/console/security/totp/confirm", post(confirm))
}

const TITLE: &str = "Xác thực hai lớp";
const HERE: &str = "/console/security";

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    #[serde(default)]
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CsrfForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default, rename = "_csrf")]
    csrf: Option<String>,
    #[serde(default)]
    code: String,
}

/// The secret grouped by four characters, easier to type into an app by hand.
fn grouped(secret: &str) -> String {
    let chars: Vec<char> = secret.chars().collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join(" ")
}

fn enrol_form(ctx: &Ctx, label: &str) -> Markup {
    html! {
        form method="post" action="/console/security/totp" class="totp-enrol" {
            input type="hidden" name="_csrf" value=(ctx.csrf);
            button type="submit" { (label) }
        }
    }
}

async fn body(
    s: &HttpState,
    ctx: &Ctx,
    enrolment: Option<&TotpEnrolment>,
    message: Option<&str>,
    done: bool,
) -> Markup {
    let actor = &ctx.session.actor;
    if !TOTP_ROLES.contains(&actor.role) {
        return html! {
            h1 { (TITLE) }
            p class="muted" { "Xác thực hai lớp dành cho Lãnh đạo UBND, Trưởng bộ phận IOC và Văn phòng HĐND và UBND." }
        };
    }
    let enabled = s.app.totp_enabled(actor).await;
    html! {
        h1 { (TITLE) }
        p { "Sau mật khẩu, nhập thêm mã 6 chữ số do ứng dụng xác thực (Google Authenticator, Microsoft Authenticator…) tạo ra, đổi mỗi 30 giây. Mỗi mã chỉ dùng được một lần." }
        @if let Some(m) = message {
            p class="error" role="alert" { (m) }
        }
        @if done {
            p class="notice" role="status" { "Đã bật xác thực hai lớp. Từ lần đăng nhập sau cần nhập mã trong ứng dụng." }
        }
        @match (&enabled, enrolment) {
            (Err(e), _) => p class="error" role="alert" { (e.message_vi()) },
            (Ok(_), Some(e)) => {
                section class="totp-secret" {
                    h2 { "Thêm tài khoản vào ứng dụng xác thực" }
                    p { strong { "Khóa chỉ hiển thị một lần." } " Hãy thêm ngay vào ứng dụng, rồi nhập mã đầu tiên để bật." }
                    p { "Khóa bí mật: " code class="totp-text" { (grouped(&e.secret)) } }
                    p { "Hoặc mở liên kết trên điện thoại đã cài ứng dụng: " }
                    p { a class="totp-uri" href=(e.uri) { code { (e.uri) } } }
                    form method="post" action="/console/security/totp/confirm" class="totp-confirm" {
                        input type="hidden" name="_csrf" value=(ctx.csrf);
                        label for="totp-code" { "Mã 6 chữ số trong ứng dụng" }
                        input id="totp-code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus;
                        button type="submit" { "Bật xác thực hai lớp" }
                    }
                }
            }
            (Ok(true), None) => p class="totp-state" { span class="badge state" { "Đang bật" } " Mất điện thoại? Đề nghị Văn phòng tắt để đăng ký lại." },
            (Ok(false), None) => {
                p class="totp-state" { span class="badge" { "Chưa bật" } }
                (enrol_form(ctx, "Bắt đầu đăng ký"))
            }
        }
    }
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn security_page(
    AxState(s): AxState<HttpState>,
    ctx: Ctx,
    Query(q): Query<DoneQuery>,
) -> Response {
    let b = body(&s, &ctx, None, None, q.done.is_some()).await;
    ctx.page(TITLE, HERE, b)
}

async fn enrol(AxState(s): AxState<HttpState>, ctx: Ctx, Form(f): Form<CsrfForm>) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    let (e, msg) = match s.app.totp_enrol(&ctx.session.actor).await {
        Ok(e) => (Some(e), None),
        Err(err) => (None, Some(err.message_vi())),
    };
    let b = body(&s, &ctx, e.as_ref(), msg.as_deref(), false).await;
    let mut r = no_store(ctx.page(TITLE, HERE, b));
    if msg.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

async fn confirm(AxState(s): AxState<HttpState>, ctx: Ctx, Form(f): Form<ConfirmForm>) -> Response {
    if let Err(r) = ctx.check_csrf(f.csrf.as_deref()) {
        return r;
    }
    match s.app.totp_confirm(&ctx.session.actor, &f.code).await {
        Ok(()) => Redirect::to(&format!("{HERE}?done=1")).into_response(),
        Err(e) => {
            // The secret is not shown again: the person starts over with a new one.
            let msg = format!("{} Hãy bắt đầu đăng ký lại.", e.message_vi());
            // The page offers to start over (the factor is still off).
            let b = body(&s, &ctx, None, Some(&msg), false).await;
            let mut r = ctx.page(TITLE, HERE, b);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
    }
}
