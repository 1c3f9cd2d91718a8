//! The public site: the pages residents and visitors use without the app (issue 9) — send a
//! report, follow it by its tracking link or a one-time code, see the published results on a
//! list and a map, and the transparency figures. Vietnamese first with an English switch,
//! server-rendered (maud) so every page reads without JavaScript; small scripts enhance the
//! map, the location and the uploads. Served by the same router on both runtimes.
//!
//! Pages act only through core's use cases and views: the public view for results (never a
//! reporter, Đ.4; Đ.8.2 reports as category and state only), core's tracking capability for
//! links ([`phananh_core::tracking`]), core's screening for the live hints (Đ.6.3, Đ.3.1.c).
//!
//! One room per page family: [`report`] (the form, its hints and upload slots), [`track`]
//! (the tracking link, rating, reopening), [`me`] (one-time code sign-in), [`results`] (feed,
//! map, one result, its public media), [`transparency`]; [`layout`] is the shell, [`i18n`]
//! the words, [`keys`] the server secret, [`visitor`] who is asking.

pub mod i18n;
pub mod keys;
mod layout;
mod me;
mod report;
mod results;
mod track;
mod transparency;
mod visitor;

pub use keys::configure;
pub use layout::not_found_page;

use crate::console::{csrf, session};
use crate::HttpState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use i18n::Lang;
use maud::Markup;
use phananh_core::model::Actor;
use std::convert::Infallible;
use visitor::Visitor;

/// The language cookie (set by the switch, `?lang=en`).
pub const LANG_COOKIE: &str = "phananh_lang";

/// The site's routes (merged into the API router, outside `/v1`).
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/", get(results::home))
        .route("/report", get(report::form).post(report::submit))
        .route("/report/hints", post(report::hints))
        .route("/report/uploads", post(report::upload_slot))
        .route("/track", get(track::lookup))
        .route("/track/{id}/{token}", get(track::page))
        .route("/track/{id}/{token}/rate", post(track::rate))
        .route("/track/{id}/{token}/reopen", post(track::reopen))
        .route("/me", get(me::page))
        .route("/me/code", post(me::send_code))
        .route("/me/verify", post(me::verify))
        .route("/me/logout", post(me::logout))
        .route("/results", get(results::feed))
        .route("/results/map", get(results::map_page))
        .route("/results/map.json", get(results::map_json))
        .route("/results/wards.json", get(results::wards_json))
        .route("/results/{id}", get(results::detail))
        .route("/results/{id}/media/{attachment_id}", get(results::media))
        .route("/transparency", get(transparency::page))
}

/// A site request: its language, the CSRF token for its forms, the visitor (if the cookie is
/// valid), the cookies to set with the answer, and what the shell needs of the request.
pub struct SiteCtx {
    pub lang: Lang,
    pub csrf: String,
    pub cookies: Vec<HeaderValue>,
    pub headers: HeaderMap,
    /// The path (for the language switch) and the query without `lang`.
    pub path: String,
    pub query: String,
    pub visitor: Option<Visitor>,
    pub secure: bool,
    /// The city's name (header).
    pub city: String,
}

impl FromRequestParts<HttpState> for SiteCtx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &HttpState) -> Result<Self, Infallible> {
        let secure = session::is_secure(&s.console, &parts.headers);
        let (csrf, csrf_cookie) = csrf::token(&parts.headers, secure);
        let mut cookies: Vec<HeaderValue> = csrf_cookie.into_iter().collect();
        let raw_query = parts.uri.query().unwrap_or("");
        let mut asked = None;
        let mut rest = Vec::new();
        for kv in raw_query.split('&').filter(|kv| !kv.is_empty()) {
            match kv.strip_prefix("lang=") {
                Some(l) => asked = Lang::parse(l),
                None => rest.push(kv),
            }
        }
        let lang = match asked {
            Some(l) => {
                cookies.push(session::set_cookie(
                    LANG_COOKIE,
                    l.code(),
                    365 * 86400,
                    secure,
                ));
                l
            }
            None => session::cookie(&parts.headers, LANG_COOKIE)
                .and_then(Lang::parse)
                .unwrap_or(Lang::Vi),
        };
        Ok(SiteCtx {
            lang,
            csrf,
            cookies,
            visitor: Visitor::from_headers(&parts.headers, s.app.now()),
            headers: parts.headers.clone(),
            path: parts.uri.path().to_string(),
            query: rest.join("&"),
            secure,
            city: s.app.rules().config.city.name.clone(),
        })
    }
}

impl SiteCtx {
    /// A whole page in the shell; `current` is the navigation entry it belongs to.
    pub fn page(&self, title: &str, current: &str, body: Markup) -> Response {
        layout::respond(
            layout::page(self, title, current, &[], body),
            self.cookies.clone(),
        )
    }

    /// A page that also loads the map library.
    pub fn map_page(&self, title: &str, current: &str, body: Markup) -> Response {
        layout::respond(
            layout::page(self, title, current, &layout::MAP_LIBRARY, body),
            self.cookies.clone(),
        )
    }

    /// The friendly 404 page.
    pub fn not_found(&self) -> Response {
        layout::status(self.page_not_found(), StatusCode::NOT_FOUND)
    }

    fn page_not_found(&self) -> Response {
        let lang = self.lang;
        self.page(i18n::t(lang, "nf.title"), "", layout::not_found_body(lang))
    }

    /// A failure that is not the visitor's: a 500 page, the cause logged.
    pub fn failure(&self, e: &phananh_core::DomainError) -> Response {
        tracing::error!(error = %e, code = e.code(), "site page failed");
        let lang = self.lang;
        let body = maud::html! {
            h1 { (i18n::t(lang, "error.title")) }
            p { (i18n::t(lang, "error.text")) }
        };
        layout::status(
            self.page(i18n::t(lang, "error.title"), "", body),
            StatusCode::INTERNAL_SERVER_ERROR,
        )
    }

    /// The visitor as a citizen actor, made (with its cookie) when there is none yet: uploads
    /// and idempotency keys are bound to it.
    pub fn actor_or_new(&mut self, now: chrono::DateTime<chrono::Utc>) -> Actor {
        if let Some(v) = &self.visitor {
            return v.actor();
        }
        let (v, cookie) = Visitor::anonymous(now, self.secure);
        self.cookies.push(cookie);
        let actor = v.actor();
        self.visitor = Some(v);
        actor
    }

    /// This site's origin as the browser reached it (for the tracking link shown in full).
    pub fn origin(&self) -> String {
        let host = self
            .headers
            .get(axum::http::header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("localhost");
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{host}")
    }

    /// Checks a form's CSRF token.
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Response> {
        csrf::check(&self.headers, sent)
    }
}
