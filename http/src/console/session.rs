//! Console sessions: the signed token the API accepts, kept in an HttpOnly, SameSite=Strict
//! cookie (Secure over HTTPS), verified on every request by the runtime's [`Sessions`]
//! (embedded: the local token service; AWS: the Cognito user pool's keys). A page request
//! without a valid session goes to the sign-in page and comes back where it was.

use crate::auth::TokenService;
use crate::problem::Problem;
use crate::HttpState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use phananh_core::model::{Actor, Role};
use std::sync::Arc;

/// The session cookie.
pub const SESSION_COOKIE: &str = "phananh_session";

/// A verified session: who, and until when.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub actor: Actor,
    pub expires_at: DateTime<Utc>,
    /// The name shown in the header (the account's display name or username).
    pub name: String,
    /// When the token was issued (unix seconds), where the provider says.
    pub issued_at: Option<i64>,
}

/// Verifies a session token (the runtime's identity provider).
pub trait Sessions: Send + Sync {
    fn verify(&self, token: &str) -> Result<Session, Problem>;
}

impl Sessions for TokenService {
    fn verify(&self, token: &str) -> Result<Session, Problem> {
        let c = TokenService::verify(self, token)?;
        Ok(Session {
            actor: Actor::new(c.sub.clone(), c.role, c.unit.as_deref()),
            expires_at: DateTime::from_timestamp(c.exp, 0).unwrap_or_else(Utc::now),
            name: c
                .name
                .unwrap_or_else(|| super::layout::role_name(c.role).to_string()),
            issued_at: Some(c.iat),
        })
    }
}

/// How staff sign in to the console.
#[derive(Clone)]
pub enum SignIn {
    /// A username and password form, checked by core (`App::login`); the token is issued by
    /// the local token service (embedded).
    Local(TokenService),
    /// An external identity provider's hosted page (Cognito on AWS).
    External(Arc<dyn ExternalSignIn>),
}

/// An identity provider the browser is sent to (authorization code flow with PKCE).
#[async_trait::async_trait]
pub trait ExternalSignIn: Send + Sync {
    /// Where to send the browser to sign in, with the cookies (state, PKCE verifier, where to
    /// come back) to set before it goes. `next` is the console path to return to.
    fn start(&self, next: &str, secure: bool) -> Result<(String, Vec<HeaderValue>), Problem>;
    /// The callback with `code` and `state`: the session token to keep in the cookie, its
    /// lifetime in seconds, and the console path to return to.
    async fn finish(
        &self,
        code: &str,
        state: &str,
        headers: &HeaderMap,
    ) -> Result<(String, i64, String), Problem>;
    /// Where the browser goes after the console session ends (the provider's logout), if any.
    fn logout_url(&self) -> Option<String>;
}

/// What the console needs of the runtime.
#[derive(Clone)]
pub struct ConsoleConfig {
    pub sessions: Arc<dyn Sessions>,
    pub sign_in: SignIn,
    /// Mark cookies Secure (served over HTTPS). Also set per request by
    /// `X-Forwarded-Proto: https`.
    pub secure_cookies: bool,
}

impl ConsoleConfig {
    /// The embedded console: sessions are the local tokens, sign-in is the local form.
    pub fn local(tokens: TokenService, secure_cookies: bool) -> ConsoleConfig {
        ConsoleConfig {
            sessions: Arc::new(tokens.clone()),
            sign_in: SignIn::Local(tokens),
            secure_cookies,
        }
    }
}

/// Sessions where no console sign-in is configured: every session is refused, so every page
/// goes to the sign-in page, which says how to get an account.
pub struct NoSessions;

impl Sessions for NoSessions {
    fn verify(&self, _token: &str) -> Result<Session, Problem> {
        Err(Problem::unauthorized(
            "Chưa cấu hình đăng nhập cho trang quản trị.",
        ))
    }
}

/// The value of cookie `name` in the request, if any.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether this request came over HTTPS (directly configured, or behind a proxy that says so).
pub fn is_secure(cfg: &ConsoleConfig, headers: &HeaderMap) -> bool {
    cfg.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value: HttpOnly, SameSite=Strict, Path=/, Secure over HTTPS; `max_age`
/// 0 deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

/// A signed-in staff member, extracted from the session cookie. Without a valid session the
/// request is answered with a redirect to the sign-in page that comes back to the same path.
pub struct Staff(pub Session);

impl FromRequestParts<HttpState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, s: &HttpState) -> Result<Self, Response> {
        let back = parts
            .uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/console".into());
        let to_login = |expired: bool| {
            let mut url = format!("/console/login?next={}", urlencoding::encode(&back));
            if expired {
                url.push_str("&expired=1");
            }
            Redirect::to(&url).into_response()
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login(false));
        };
        match s.console.sessions.verify(token) {
            Ok(session) if session.actor.role.is_staff() && session.actor.role != Role::System => {
                // The account is checked on every page: disabled, moved or revoked → sign in.
                match s.app.check_session(&session.actor, session.issued_at).await {
                    Ok(()) => Ok(Staff(session)),
                    Err(phananh_core::DomainError::SessionEnded) => Err(to_login(true)),
                    Err(e) => Err(crate::problem::Problem::from(e).into_response()),
                }
            }
            Ok(_) => Err(to_login(false)),
            Err(_) => Err(to_login(true)),
        }
    }
}

/// A console path to return to after sign-in: only a local `/console` path, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/console") && !n.starts_with("//") && !n.contains("\\") => {
            n.to_string()
        }
        _ => "/console".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_returned_to() {
        assert_eq!(
            safe_next(Some("/console/reports/r1")),
            "/console/reports/r1"
        );
        for bad in [
            "https://evil.example/",
            "//evil.example",
            "/v1/stats",
            "/console\\@evil",
        ] {
            assert_eq!(safe_next(Some(bad)), "/console", "{bad}");
        }
        assert_eq!(safe_next(None), "/console");
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_over_https() {
        let c = set_cookie(SESSION_COOKIE, "t", 60, true);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && c.contains("Secure"));
        let plain = set_cookie(SESSION_COOKIE, "t", 60, false);
        assert!(!plain.to_str().unwrap().contains("Secure"));
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; phananh_session=tok; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("tok"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
