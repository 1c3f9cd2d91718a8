//! The staff console: the pages the IOC, the units, the leadership and the office work in
//! every day, in Vietnamese, server-rendered (maud templates checked at compile time) and
//! served by the same router on both runtimes. Pages read and act only through core's use
//! cases and views: no rule lives here, and every action is still checked by core when taken.
//!
//! One room per concern: [`session`] (who is signed in), [`csrf`], [`layout`] (the page shell
//! and security headers), [`assets`] (embedded static files), [`login`], and one file per
//! page family.

mod accounts;
pub mod assets;
mod charts;
pub mod cognito;
mod common;
pub mod csrf;
mod deferral;
mod ioc;
pub mod layout;
mod leadership;
mod login;
pub(crate) mod map;
mod names;
pub(crate) mod notifications;
mod office;
mod report;
mod search;
mod second_factor;
pub mod session;
mod unit;
mod uploads;

pub use session::{ConsoleConfig, ExternalSignIn, Session, Sessions, SignIn, Staff};

use crate::HttpState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;

/// A signed-in page request: the session, the CSRF token for its forms (and the cookie that
/// sets it when new), and the request headers for checks.
pub struct Ctx {
    pub session: Session,
    pub csrf: String,
    pub set_cookie: Option<HeaderValue>,
    pub headers: HeaderMap,
}

impl FromRequestParts<HttpState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &HttpState) -> Result<Self, Response> {
        let Staff(session) = Staff::from_request_parts(parts, s).await?;
        let secure = session::is_secure(&s.console, &parts.headers);
        let (csrf, set_cookie) = csrf::token(&parts.headers, secure);
        Ok(Ctx {
            session,
            csrf,
            set_cookie,
            headers: parts.headers.clone(),
        })
    }
}

impl Ctx {
    /// A whole page in the shell, `current` being the navigation entry it belongs to.
    pub fn page(&self, title: &str, current: &str, body: Markup) -> Response {
        layout::respond(
            layout::page(title, Some(&self.session), &self.csrf, current, body),
            self.set_cookie.clone(),
        )
    }

    /// Checks a state-changing request's CSRF token (form field or header).
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, sent: Option<&str>) -> Result<(), Response> {
        csrf::check(&self.headers, sent)
    }
}

/// The console's routes (merged into the API router).
pub fn routes() -> Router<HttpState> {
    Router::new()
        .route("/console", get(login::home))
        .route(
            "/console/login",
            get(login::login_form).post(login::login_submit),
        )
        .route("/console/logout", post(login::logout))
        .route("/console/auth/callback", get(login::callback))
        .route("/console/assets/{hash}/{name}", get(assets::serve))
        .merge(ioc::routes())
        .merge(report::routes())
        .merge(unit::routes())
        .merge(leadership::routes())
        .merge(office::routes())
        .merge(accounts::routes())
        .merge(search::routes())
        .merge(map::routes())
        .merge(cognito::routes())
        .merge(uploads::routes())
        .merge(notifications::routes())
        .merge(second_factor::routes())
}
