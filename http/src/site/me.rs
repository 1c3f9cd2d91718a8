//! "My reports" by a one-time code (the API's flow, `/v1/auth/citizen/*`): the visitor gives
//! the phone or e-mail they reported with, gets a code by SMS or e-mail (core's
//! `send_sign_in_code`, the local token service's code), and is then signed in as the same
//! citizen the app would be, for a working day. Each report links to its tracking page.
//! Where no local token service exists (AWS, Cognito), the page says to use the tracking link.

use super::i18n::{state_name, t};
use super::track::when;
use super::visitor::Visitor;
use super::SiteCtx;
use crate::auth::TokenService;
use crate::ratelimit::ClientAddr;
use crate::HttpState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use maud::{html, Markup};
use phananh_core::app::sign_in_contact;
use phananh_core::ports::{Channel, ReportQuery};
use phananh_core::DomainError;
use serde::Deserialize;

/// Reports listed (the newest).
const MAX_LISTED: u32 = 50;

#[derive(Debug, Default, Deserialize)]
pub struct ContactForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    code: String,
}

/// A phone number or an e-mail address, as core normalises it.
fn contact(raw: &str) -> Result<(String, Channel), DomainError> {
    let raw = raw.trim();
    if raw.contains('@') {
        sign_in_contact(None, Some(raw))
    } else {
        sign_in_contact(Some(raw), None)
    }
}

fn redirect(to: &str, cookies: Vec<header::HeaderValue>) -> Response {
    let mut r = (StatusCode::SEE_OTHER, [(header::LOCATION, to.to_string())]).into_response();
    for c in cookies {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

fn contact_form(ctx: &SiteCtx, value: &str, error: Option<&str>) -> Markup {
    let lang = ctx.lang;
    html! {
        p { (t(lang, "me.intro")) }
        form.card method="post" action="/me/code" {
            input type="hidden" name="_csrf" value=(ctx.csrf);
            label for="contact" { (t(lang, "me.contact")) }
            input #contact type="text" name="contact" value=(value) required autocomplete="tel email" aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "contact-error")];
            @if let Some(m) = error { p.field-error id="contact-error" { (m) } }
            button.primary type="submit" { (t(lang, "me.send_code")) }
        }
    }
}

/// GET /me: the visitor's reports when signed in, else the form for a code.
pub async fn page(State(s): State<HttpState>, ctx: SiteCtx) -> Response {
    let lang = ctx.lang;
    let title = t(lang, "me.title");
    let Some(v) = ctx.visitor.as_ref().filter(|v| v.signed_in) else {
        let body = if s.tokens.is_some() {
            contact_form(&ctx, "", None)
        } else {
            html! { p { (t(lang, "me.unavailable")) } }
        };
        return ctx.page(title, "/track", html! { h1 { (title) } (body) });
    };
    let q = ReportQuery {
        limit: MAX_LISTED,
        ..Default::default()
    };
    let page = match s.app.list(&v.actor(), q).await {
        Ok(p) => p,
        Err(e) => return ctx.failure(&e),
    };
    let key = super::keys::key();
    let rules = s.app.rules();
    let body = html! {
        h1 { (title) }
        @if page.items.is_empty() { p { (t(lang, "me.none")) } }
        ul.cards {
            @for r in &page.items {
                li.card {
                    a href=(format!("/track/{}/{}", r.id, key.token(&r.id))) { (r.title) }
                    p.meta { (state_name(lang, r.state)) " · " (when(rules, r.created_at)) }
                }
            }
        }
        form method="post" action="/me/logout" {
            input type="hidden" name="_csrf" value=(ctx.csrf);
            button type="submit" { (t(lang, "me.sign_out")) }
        }
    };
    ctx.page(title, "/track", body)
}

fn tokens(s: &HttpState) -> Option<&TokenService> {
    s.tokens.as_ref()
}

/// POST /me/code: sends a code to the contact, then the form to type it.
pub async fn send_code(
    State(s): State<HttpState>,
    client: ClientAddr,
    ctx: SiteCtx,
    Form(f): Form<ContactForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let lang = ctx.lang;
    let title = t(lang, "me.title");
    if tokens(&s).is_none() {
        return ctx.not_found();
    }
    let again = |m: String| {
        let mut r = ctx.page(
            title,
            "/track",
            html! { h1 { (title) } (contact_form(&ctx, &f.contact, Some(&m))) },
        );
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        r
    };
    let (to, channel) = match contact(&f.contact) {
        Ok(c) => c,
        Err(DomainError::Invalid { message, .. }) => return again(message),
        Err(e) => return again(e.message_vi()),
    };
    // The same guarded flow as the API: one code per cool-down, per contact and per address.
    match s.app.request_sign_in_code(&to, channel, &client.0).await {
        Ok(()) => {}
        Err(e @ DomainError::TooManyAttempts { .. }) => return again(e.message_vi()),
        Err(e) => return ctx.failure(&e),
    }
    let body = html! {
        h1 { (title) }
        p role="status" { (t(lang, "me.code_sent")) " " strong { (f.contact.trim()) } }
        (code_form(&ctx, f.contact.trim(), None))
    };
    ctx.page(title, "/track", body)
}

fn code_form(ctx: &SiteCtx, contact: &str, error: Option<&str>) -> Markup {
    let lang = ctx.lang;
    html! {
        form.card method="post" action="/me/verify" {
            input type="hidden" name="_csrf" value=(ctx.csrf);
            input type="hidden" name="contact" value=(contact);
            label for="code" { (t(lang, "me.code")) }
            input #code type="text" name="code" required inputmode="numeric" autocomplete="one-time-code" aria-invalid=[error.map(|_| "true")] aria-describedby=[error.map(|_| "code-error")];
            @if let Some(m) = error { p.field-error id="code-error" { (m) } }
            button.primary type="submit" { (t(lang, "me.verify")) }
        }
    }
}

/// POST /me/verify: checks the code; signed in as the contact's citizen id.
pub async fn verify(
    State(s): State<HttpState>,
    client: ClientAddr,
    mut ctx: SiteCtx,
    Form(f): Form<ContactForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let lang = ctx.lang;
    let title = t(lang, "me.title");
    let Some(tokens) = tokens(&s) else {
        return ctx.not_found();
    };
    // Single use, at most 5 tries per code (core's sign-in guards).
    let checked = match contact(&f.contact) {
        Ok((to, _)) => match s
            .app
            .verify_sign_in_code(&to, f.code.trim(), &client.0)
            .await
        {
            Ok(()) => tokens.citizen_id_for(&to).ok(),
            Err(_) => None,
        },
        Err(_) => None,
    };
    let Some(id) = checked else {
        let mut r = ctx.page(
            title,
            "/track",
            html! { h1 { (title) } (code_form(&ctx, f.contact.trim(), Some(t(lang, "me.bad_code")))) },
        );
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
        return r;
    };
    if let Some(c) = Visitor::signed_in_cookie(&id, s.app.now(), ctx.secure) {
        ctx.cookies.push(c);
    }
    redirect("/me", ctx.cookies)
}

/// POST /me/logout
pub async fn logout(ctx: SiteCtx, Form(f): Form<ContactForm>) -> Response {
    if let Err(r) = ctx.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let mut cookies = ctx.cookies;
    cookies.push(Visitor::clear(ctx.secure));
    redirect("/", cookies)
}
