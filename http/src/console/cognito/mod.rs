//! Console sign-in on AWS: the Cognito user pool's hosted UI, authorization code flow with
//! PKCE (S256), and the ID token it issues kept as the console session (the same HttpOnly,
//! SameSite=Strict cookie as the embedded runtime), verified by the function on every request
//! against the pool's published keys (JWKS, RS256).
//!
//! - [`CognitoSignIn`] ([`ExternalSignIn`]): `start` sends the browser to
//!   `https://<domain>/oauth2/authorize` with a random `state` and the SHA-256 challenge of a
//!   random `code_verifier`, both (with the path to come back to) kept in a short-lived
//!   cookie scoped to `/console/auth`. That cookie is SameSite=Lax on purpose: the callback is
//!   a cross-site top-level navigation from the hosted UI, which a Strict cookie would not
//!   follow. `finish` compares `state` in constant time, exchanges the code at
//!   `/oauth2/token` (form body, public app client without secret, with the verifier),
//!   verifies the ID token it gets and returns it with its remaining lifetime.
//! - [`CognitoSessions`] ([`Sessions`]): checks the signature (RS256, key chosen by `kid`),
//!   `iss`, `aud` (the app client id), `token_use == "id"` and `exp`; the role comes from
//!   `cognito:groups` and the unit from `custom:unit` with [`actor_from_claims`], the one
//!   mapping the API's JWT authorizer identities also use.
//!
//! **Key cache.** [`Sessions::verify`] is synchronous, so it only ever reads the cached key
//! set (a `std::sync::RwLock`). The cache is filled by an async fetch: at start
//! ([`CognitoSessions::prefetch`]), in `finish` (which awaits a refresh when the new token's
//! `kid` is unknown, so a sign-in right after a key rotation works), and in the background
//! when `verify` meets an unknown `kid` (that request goes to sign-in, which comes back
//! through `finish`). Refreshes are bounded: at most one per [`MIN_REFRESH_INTERVAL`], and a
//! fetch gives up after [`FETCH_TIMEOUT`]. Known keys are kept until a refresh replaces them
//! (Cognito publishes the previous key alongside the new one during a rotation).

use super::session::{cookie, ExternalSignIn, Session, Sessions};
use crate::problem::Problem;
use crate::HttpState;
use async_trait::async_trait;
use axum::http::{HeaderMap, HeaderValue};
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use phananh_core::model::{Actor, Role};
use rand::RngCore;
use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// The short-lived sign-in cookie: `state`, PKCE verifier and the path to come back to.
mod claims;
mod sessions;

pub use claims::*;
pub use sessions::*;

pub const AUTH_COOKIE: &str = "phananh_auth";
/// The sign-in cookie's path: only the callback needs it.
pub const AUTH_COOKIE_PATH: &str = "/console/auth";
/// How long a sign-in may take at the hosted UI.
pub const AUTH_COOKIE_MAX_AGE: i64 = 600;
/// The scopes asked for.
pub const SCOPES: &str = "openid email profile";
/// The callback route (wired to [`ExternalSignIn::finish`] in `login.rs`).
pub const CALLBACK_PATH: &str = "/console/auth/callback";
/// At most one key-set fetch per this interval (unknown `kid`s cannot make the function
/// hammer the key endpoint).
pub const MIN_REFRESH_INTERVAL: Duration = Duration::from_secs(30);
/// A key-set or token request gives up after this long.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Clock skew tolerated on `exp`, in seconds.
pub const LEEWAY_SECS: u64 = 5;

/// Where the user pool and the console are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CognitoConfig {
    /// Base URL of the hosted UI, e.g. `https://phananh-dev-1234.auth.ap-southeast-1.amazoncognito.com`.
    pub hosted_ui: String,
    /// The console's public app client (no secret).
    pub client_id: String,
    /// `iss` of the pool's tokens: `https://cognito-idp.<region>.amazonaws.com/<pool id>`.
    pub issuer: String,
    /// The pool's published keys: `<issuer>/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The console's base URL (`https://<api host>`): the callback is `<base>/console/auth/callback`.
    pub console_base_url: String,
}

impl CognitoConfig {
    /// The configuration of a user pool: `domain` is the hosted UI's host (or a full base URL),
    /// `region` and `pool_id` give the issuer and key set, `console_base_url` where the
    /// console is served.
    pub fn for_pool(
        domain: &str,
        client_id: &str,
        region: &str,
        pool_id: &str,
        console_base_url: &str,
    ) -> CognitoConfig {
        let domain = domain.trim().trim_end_matches('/');
        let hosted_ui = if domain.starts_with("https://") || domain.starts_with("http://") {
            domain.to_string()
        } else {
            format!("https://{domain}")
        };
        let issuer = format!("https://cognito-idp.{region}.amazonaws.com/{pool_id}");
        CognitoConfig {
            hosted_ui,
            client_id: client_id.trim().to_string(),
            jwks_url: format!("{issuer}/.well-known/jwks.json"),
            issuer,
            console_base_url: console_base_url.trim().trim_end_matches('/').to_string(),
        }
    }

    /// The registered callback URL.
    pub fn redirect_uri(&self) -> String {
        format!("{}{CALLBACK_PATH}", self.console_base_url)
    }

    /// Where the hosted UI's logout sends the browser back (a registered sign-out URL).
    pub fn logout_redirect(&self) -> String {
        format!("{}/console", self.console_base_url)
    }
}

fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(FETCH_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

fn random_token() -> String {
    let mut buf = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut buf);
    b64(&buf)
}

/// The PKCE S256 challenge of a verifier: base64url(SHA-256(verifier)), no padding.
pub fn pkce_challenge(verifier: &str) -> String {
    b64(&Sha256::digest(verifier.as_bytes()))
}

/// The sign-in cookie: HttpOnly, SameSite=Lax (it must come back with the hosted UI's
/// cross-site redirect), scoped to the callback's path, Secure over HTTPS.
pub fn auth_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v = format!(
        "{AUTH_COOKIE}={value}; Path={AUTH_COOKIE_PATH}; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}"
    );
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Max-Age=0"))
}

fn refused(why: &str) -> Problem {
    Problem::unauthorized(format!("Đăng nhập không thành công: {why}."))
}

// ------------------------------------------------------------------ sign-in (hosted UI)

/// The hosted UI sign-in: authorization code with PKCE.
pub struct CognitoSignIn {
    cfg: CognitoConfig,
    sessions: CognitoSessions,
    http: reqwest::Client,
}

#[derive(Deserialize)]
struct TokenResponse {
    id_token: Option<String>,
}

impl CognitoSignIn {
    pub fn new(cfg: CognitoConfig, sessions: CognitoSessions) -> CognitoSignIn {
        CognitoSignIn {
            cfg,
            sessions,
            http: http_client(),
        }
    }

    /// The hosted UI's authorize URL for this state and challenge.
    pub fn authorize_url(&self, state: &str, challenge: &str) -> String {
        let enc = |s: &str| urlencoding::encode(s).into_owned();
        format!(
            "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&code_challenge={}&code_challenge_method=S256",
            self.cfg.hosted_ui,
            enc(&self.cfg.client_id),
            enc(&self.cfg.redirect_uri()),
            enc(SCOPES),
            enc(state),
            enc(challenge),
        )
    }
}

#[async_trait]
impl ExternalSignIn for CognitoSignIn {
    fn start(&self, next: &str, secure: bool) -> Result<(String, Vec<HeaderValue>), Problem> {
        let state = random_token();
        let verifier = random_token();
        let url = self.authorize_url(&state, &pkce_challenge(&verifier));
        let value = format!("{state}.{verifier}.{}", b64(next.as_bytes()));
        Ok((url, vec![auth_cookie(&value, AUTH_COOKIE_MAX_AGE, secure)]))
    }

    async fn finish(
        &self,
        code: &str,
        state: &str,
        headers: &HeaderMap,
    ) -> Result<(String, i64, String), Problem> {
        let kept = cookie(headers, AUTH_COOKIE)
            .ok_or_else(|| refused("phiên đăng nhập đã hết hạn hoặc trình duyệt chặn cookie"))?;
        let mut parts = kept.splitn(3, '.');
        let (Some(want), Some(verifier), Some(next)) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(refused("dữ liệu phiên đăng nhập không hợp lệ"));
        };
        if want.is_empty() || !bool::from(want.as_bytes().ct_eq(state.as_bytes())) {
            return Err(refused("mã trạng thái không khớp"));
        }
        let next = URL_SAFE_NO_PAD
            .decode(next)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .unwrap_or_else(|| "/console".into());
        let redirect_uri = self.cfg.redirect_uri();
        let form = [
            ("grant_type", "authorization_code"),
            ("client_id", self.cfg.client_id.as_str()),
            ("code", code),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier),
        ];
        let resp = self
            .http
            .post(format!("{}/oauth2/token", self.cfg.hosted_ui))
            .form(&form)
            .send()
            .await
            .map_err(|e| {
                tracing::warn!(error = %e, "console: token endpoint unreachable");
                refused("không kết nối được máy chủ xác thực")
            })?;
        if !resp.status().is_success() {
            tracing::warn!(status = %resp.status(), "console: code exchange refused");
            return Err(refused("mã xác thực không hợp lệ hoặc đã hết hạn"));
        }
        let t: TokenResponse = resp
            .json()
            .await
            .map_err(|_| refused("máy chủ xác thực trả lời không hợp lệ"))?;
        let id_token = t
            .id_token
            .ok_or_else(|| refused("máy chủ xác thực không trả về mã định danh"))?;
        let session = self.sessions.verify_fresh(&id_token).await?;
        if !session.actor.role.is_staff() || session.actor.role == Role::System {
            return Err(Problem::forbidden(
                "forbidden_role",
                "Tài khoản này không có quyền vào trang quản trị. Vui lòng liên hệ Văn phòng để được cấp quyền.",
            ));
        }
        let ttl = (session.expires_at - Utc::now()).num_seconds().max(0);
        Ok((id_token, ttl, next))
    }

    fn logout_url(&self) -> Option<String> {
        Some(format!(
            "{}/logout?client_id={}&logout_uri={}",
            self.cfg.hosted_ui,
            urlencoding::encode(&self.cfg.client_id),
            urlencoding::encode(&self.cfg.logout_redirect()),
        ))
    }
}

/// The console's sessions and sign-in on a Cognito user pool (secure cookies), with the key
/// set fetched in the background when a runtime is running.
pub fn console_config(cfg: CognitoConfig) -> super::ConsoleConfig {
    let sessions = CognitoSessions::new(&cfg);
    sessions.prefetch();
    super::ConsoleConfig {
        sessions: Arc::new(sessions.clone()),
        sign_in: super::SignIn::External(Arc::new(CognitoSignIn::new(cfg, sessions))),
        secure_cookies: true,
    }
}

/// Sign-in where the runtime has no identity provider configured: the sign-in page says so
/// (503) instead of showing a form no account could pass.
pub struct Unconfigured;

#[async_trait]
impl ExternalSignIn for Unconfigured {
    fn start(&self, _next: &str, _secure: bool) -> Result<(String, Vec<HeaderValue>), Problem> {
        Err(not_configured())
    }

    async fn finish(
        &self,
        _: &str,
        _: &str,
        _: &HeaderMap,
    ) -> Result<(String, i64, String), Problem> {
        Err(not_configured())
    }

    fn logout_url(&self) -> Option<String> {
        None
    }
}

fn not_configured() -> Problem {
    Problem::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "console_not_configured",
        "Chưa cấu hình đăng nhập",
        "Chưa cấu hình đăng nhập cho trang quản trị (Cognito). Vui lòng liên hệ quản trị hệ thống.",
    )
}

/// The console where no sign-in is configured: every session refused, sign-in explains why.
pub fn unconfigured_console() -> super::ConsoleConfig {
    super::ConsoleConfig {
        sessions: Arc::new(super::session::NoSessions),
        sign_in: super::SignIn::External(Arc::new(Unconfigured)),
        secure_cookies: true,
    }
}

/// No routes of its own: the callback is `login.rs`'s `/console/auth/callback`.
pub fn routes() -> Router<HttpState> {
    Router::new()
}
