//! Following a report by its tracking link (no account): the public timeline (states, units,
//! the public answer; never internal notes, staff or the reporter's data), rating the result
//! and asking to reopen it, through core's tracking capability. A wrong token, an unknown or
//! a camera report all answer the same friendly 404.

use super::i18n::{action_name, state_name, t, Lang};
use super::SiteCtx;
use crate::HttpState;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use phananh_core::city::CityRules;
use phananh_core::lifecycle::Command;
use phananh_core::model::ReportId;
use phananh_core::tracking::{display, normalize, tracking_view, TrackingView};
use phananh_core::DomainError;
use serde::Deserialize;

/// A local date and time as people read it.
pub fn when(rules: &CityRules, at: DateTime<Utc>) -> String {
    rules.local(at).format("%H:%M %d/%m/%Y").to_string()
}

/// A report id from a path or a form: anything else is simply not found.
pub fn parse_id(id: &str) -> Option<ReportId> {
    let id = id.trim();
    (!id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .then(|| ReportId(id.to_string()))
}

#[derive(Debug, Default, Deserialize)]
pub struct LookupParams {
    #[serde(default)]
    id: String,
    #[serde(default)]
    code: String,
}

/// GET /track: the lookup form; with `id` and `code`, to the tracking page when they match.
pub async fn lookup(ctx: SiteCtx, Query(p): Query<LookupParams>) -> Response {
    let lang = ctx.lang;
    let mut wrong = false;
    if !p.id.is_empty() || !p.code.is_empty() {
        if let Some(id) = parse_id(&p.id) {
            if super::keys::key().verify(&id, &p.code) {
                let to = format!("/track/{}/{}", id, normalize(&p.code));
                return (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response();
            }
        }
        wrong = true;
    }
    let body = html! {
        h1 { (t(lang, "track.title")) }
        p { (t(lang, "track.lookup")) }
        @if wrong { p.alert role="alert" { (t(lang, "track.bad_code")) } }
        form.card method="get" action="/track" {
            label for="id" { (t(lang, "track.id")) }
            input #id type="text" name="id" value=(p.id) required autocomplete="off" spellcheck="false" aria-invalid=[wrong.then_some("true")];
            label for="code" { (t(lang, "track.code")) }
            input #code type="text" name="code" value=(p.code) required autocomplete="off" autocapitalize="characters" spellcheck="false" placeholder="ABCD-EFGH-JKMN-PQRS" aria-invalid=[wrong.then_some("true")];
            button.primary type="submit" { (t(lang, "track.open")) }
        }
        p { (t(lang, "track.or_sign_in")) " " a href="/me" { (t(lang, "me.title")) } }
    };
    let mut r = ctx.page(t(lang, "track.title"), "/track", body);
    if wrong {
        *r.status_mut() = StatusCode::NOT_FOUND;
    }
    r
}

#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    #[serde(default)]
    sent: Option<String>,
    #[serde(default)]
    again: Option<String>,
    #[serde(default)]
    done: Option<String>,
}

/// GET /track/{id}/{token}
pub async fn page(
    State(s): State<HttpState>,
    ctx: SiteCtx,
    Path((id, token)): Path<(String, String)>,
    Query(p): Query<PageParams>,
) -> Response {
    let Some(id) = parse_id(&id) else {
        return ctx.not_found();
    };
    match s.app.tracked(super::keys::key(), &id, &token).await {
        Ok(r) => {
            let v = tracking_view(&r, s.app.rules(), s.app.now());
            render(&ctx, &s, &v, &token, &p, None)
        }
        Err(DomainError::NotFound) => ctx.not_found(),
        Err(e) => ctx.failure(&e),
    }
}

fn render(
    ctx: &SiteCtx,
    s: &HttpState,
    v: &TrackingView,
    token: &str,
    p: &PageParams,
    error: Option<(&str, String)>,
) -> Response {
    let lang = ctx.lang;
    let rules = s.app.rules();
    let token = normalize(token);
    let base = format!("/track/{}/{token}", v.id);
    let link = format!("{}{base}", ctx.origin());
    let body = html! {
        @if p.sent.is_some() {
            section.sent.card role="status" {
                h1 { (t(lang, "sent.title")) }
                @if p.again.is_some() { p { (t(lang, "form.resent")) } }
                p { (t(lang, "sent.text")) }
                h2 { (t(lang, "sent.link")) }
                p.link { a #tracking-link href=(base) { (link) } }
                h2 { (t(lang, "sent.code")) }
                p.code {
                    span #report-id { (v.id) } br;
                    strong #tracking-code { (display(&token)) }
                }
                p.help { (t(lang, "sent.keep")) }
            }
        }
        @match p.done.as_deref() {
            Some("rate") => p.ok role="status" { (t(lang, "track.done_rate")) },
            Some("reopen") => p.ok role="status" { (t(lang, "track.done_reopen")) },
            _ => {},
        }
        @if p.sent.is_some() { h2 { (v.title) } } @else { h1 { (v.title) } }
        dl.facts {
            dt { (t(lang, "track.state")) }
            dd #state data-state=(v.state.as_str()) { (state_name(lang, v.state)) }
            dt { (t(lang, "tr.category")) }
            dd { (v.category_name) }
            dt { (t(lang, "track.sent_at")) }
            dd { (when(rules, v.created_at)) }
            @if let Some(u) = &v.unit_name { dt { (t(lang, "track.unit")) } dd { (u) } }
            @if let Some(d) = v.due_at { dt { (t(lang, "track.due")) } dd { (when(rules, d)) } }
            @if let Some(d) = v.target_date { dt { (t(lang, "track.target")) } dd #target-date { (d.format("%d/%m/%Y")) } }
        }
        p.description { (v.description) }
        @if let Some(a) = &v.public_answer {
            @if v.published {
                section.answer {
                    h2 { (t(lang, "track.answer")) }
                    p { (a) }
                    p { a href=(format!("/results/{}", v.id)) { (t(lang, "track.public_page")) } }
                }
            }
        }
        section.timeline {
            h2 { (t(lang, "track.timeline")) }
            ol {
                @for step in &v.timeline {
                    li {
                        time datetime=(step.at.to_rfc3339()) { (when(rules, step.at)) }
                        " — " (action_name(lang, step.action))
                        @if let Some(u) = &step.unit_name { " · " (u) }
                        @if let Some(why) = &step.reason { br; span.reason { (why) } }
                    }
                }
            }
        }
        @if let Some(stars) = v.rating {
            p.rated { (t(lang, "track.rated")) ": " (stars_text(stars)) " (" (stars) "/5)" }
        }
        @if v.can_rate {
            (rate_form(ctx, &base, lang, error.as_ref().filter(|(f, _)| *f == "rate").map(|(_, m)| m.as_str())))
        }
        @if v.can_reopen {
            (reopen_form(ctx, &base, lang, error.as_ref().filter(|(f, _)| *f == "reopen").map(|(_, m)| m.as_str())))
        }
    };
    let title = if p.sent.is_some() {
        t(lang, "sent.title")
    } else {
        t(lang, "track.title")
    };
    let mut r = ctx.page(title, "/track", body);
    // The link is the key to the report: never sent onward as a referrer.
    r.headers_mut().insert(
        header::REFERRER_POLICY,
        header::HeaderValue::from_static("no-referrer"),
    );
    if error.is_some() {
        *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    r
}

fn stars_text(n: u8) -> String {
    "★".repeat(n as usize) + &"☆".repeat(5usize.saturating_sub(n as usize))
}

fn rate_form(ctx: &SiteCtx, base: &str, lang: Lang, error: Option<&str>) -> Markup {
    html! {
        form.card #rate-form method="post" action=(format!("{base}/rate")) {
            h2 { (t(lang, "track.rate")) }
            input type="hidden" name="_csrf" value=(ctx.csrf);
            fieldset.stars {
                legend { (t(lang, "track.stars")) }
                @for n in 1..=5u8 {
                    label {
                        input type="radio" name="stars" value=(n) required;
                        " " (n) " " (t(lang, "stars"))
                    }
                }
            }
            @if let Some(m) = error { p.field-error role="alert" { (m) } }
            label for="comment" { (t(lang, "track.comment")) }
            textarea #comment name="comment" rows="3" maxlength="1000" {}
            button.primary type="submit" { (t(lang, "track.rate_send")) }
        }
    }
}

fn reopen_form(ctx: &SiteCtx, base: &str, lang: Lang, error: Option<&str>) -> Markup {
    html! {
        details.card #reopen open[error.is_some()] {
            summary { (t(lang, "track.reopen")) }
            form method="post" action=(format!("{base}/reopen")) {
                input type="hidden" name="_csrf" value=(ctx.csrf);
                label for="reason" { (t(lang, "track.reason")) }
                textarea #reason name="reason" rows="3" required maxlength="2000" aria-invalid=[error.map(|_| "true")] {}
                @if let Some(m) = error { p.field-error role="alert" { (m) } }
                button type="submit" { (t(lang, "track.reopen_send")) }
            }
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct RateForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    stars: String,
    #[serde(default)]
    comment: String,
}

#[derive(Debug, Deserialize)]
pub struct ReopenForm {
    #[serde(default, rename = "_csrf")]
    csrf: String,
    #[serde(default)]
    reason: String,
}

/// Acts through the link, then back to the page (`?done=<what>`), or the page with the error.
async fn act(
    s: &HttpState,
    ctx: &SiteCtx,
    id: &str,
    token: &str,
    what: &str,
    cmd: Result<Command, String>,
) -> Response {
    let Some(id) = parse_id(id) else {
        return ctx.not_found();
    };
    let key = super::keys::key();
    let current = match s.app.tracked(key, &id, token).await {
        Ok(r) => r,
        Err(DomainError::NotFound) => return ctx.not_found(),
        Err(e) => return ctx.failure(&e),
    };
    let outcome = match cmd {
        Ok(cmd) => s
            .app
            .act_tracked(key, &id, token, cmd)
            .await
            .map_err(|e| match e {
                DomainError::Invalid { message, .. } => message,
                other => other.message_vi(),
            }),
        Err(m) => Err(m),
    };
    match outcome {
        Ok(_) => {
            let to = format!("/track/{id}/{}?done={what}", normalize(token));
            (StatusCode::SEE_OTHER, [(header::LOCATION, to)]).into_response()
        }
        Err(m) => {
            let v = tracking_view(&current, s.app.rules(), s.app.now());
            render(ctx, s, &v, token, &PageParams::default(), Some((what, m)))
        }
    }
}

/// POST /track/{id}/{token}/rate
pub async fn rate(
    State(s): State<HttpState>,
    ctx: SiteCtx,
    Path((id, token)): Path<(String, String)>,
    Form(f): Form<RateForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let cmd = f
        .stars
        .trim()
        .parse::<u8>()
        .map(|stars| Command::Rate {
            stars,
            comment: Some(f.comment.trim().to_string()).filter(|c| !c.is_empty()),
        })
        .map_err(|_| "Hãy chọn số sao từ 1 đến 5.".to_string());
    act(&s, &ctx, &id, &token, "rate", cmd).await
}

/// POST /track/{id}/{token}/reopen
pub async fn reopen(
    State(s): State<HttpState>,
    ctx: SiteCtx,
    Path((id, token)): Path<(String, String)>,
    Form(f): Form<ReopenForm>,
) -> Response {
    if let Err(r) = ctx.check_csrf(Some(&f.csrf)) {
        return r;
    }
    let cmd = Ok(Command::Reopen { reason: f.reason });
    act(&s, &ctx, &id, &token, "reopen", cmd).await
}
