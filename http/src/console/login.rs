//! Signing in and out of the console. Embedded: a username and password form checked by core
//! (`App::login`); the token it issues is the API's, kept in the session cookie. AWS: the
//! Cognito hosted UI (authorization code with PKCE), its ID token kept the same way.

use super::csrf;
use super::layout::{home_of, page, respond};
use super::session::{is_secure, safe_next, set_cookie, SignIn, Staff, SESSION_COOKIE};
use crate::HttpState;
use axum::extract::{Form, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use serde::Deserialize;

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    next: Option<String>,
    expired: Option<String>,
}

#[derive(Deserialize)]
pub struct LoginForm {
    username: String,
    password: String,
    /// The authenticator app's code, for an account with a second factor.
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    next: Option<String>,
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
}

fn login_page(
    headers: &HeaderMap,
    secure: bool,
    next: &str,
    username: &str,
    message: Option<&str>,
) -> Response {
    let (token, cookie) = csrf::token(headers, secure);
    let body = html! {
        section.login {
            h1 { "Đăng nhập hệ thống phản ánh hiện trường" }
            p.hint { "Dành cho cán bộ IOC, đơn vị, lãnh đạo và Văn phòng. Tài khoản do Văn phòng HĐND và UBND cấp (Điều 4.1)." }
            @if let Some(m) = message {
                p.error role="alert" { (m) }
            }
            form method="post" action="/console/login" {
                input type="hidden" name="_csrf" value=(token);
                input type="hidden" name="next" value=(next);
                label for="username" { "Tên đăng nhập" }
                input id="username" name="username" value=(username) autocomplete="username" required autofocus;
                label for="password" { "Mật khẩu" }
                input id="password" name="password" type="password" autocomplete="current-password" required;
                label for="code" { "Mã xác thực hai lớp " span.muted { "(chỉ khi tài khoản đã bật)" } }
                input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6";
                button type="submit" { "Đăng nhập" }
            }
        }
    };
    respond(page("Đăng nhập", None, &token, "", body), cookie)
}

/// The sign-in page (or, with an external provider, the redirect to it).
pub async fn login_form(
    State(s): State<HttpState>,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    let secure = is_secure(&s.console, &headers);
    let next = safe_next(q.next.as_deref());
    match &s.console.sign_in {
        SignIn::Local(_) => {
            let msg = q
                .expired
                .is_some()
                .then_some("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại để tiếp tục.");
            login_page(&headers, secure, &next, "", msg)
        }
        SignIn::External(provider) => match provider.start(&next, secure) {
            Ok((url, cookies)) => {
                let mut r = Redirect::to(&url).into_response();
                for c in cookies {
                    r.headers_mut().append(axum::http::header::SET_COOKIE, c);
                }
                r
            }
            Err(p) => p.into_response(),
        },
    }
}

/// Checks the form through core and sets the session cookie.
pub async fn login_submit(
    State(s): State<HttpState>,
    client: crate::ratelimit::ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let secure = is_secure(&s.console, &headers);
    if let Err(r) = csrf::check(&headers, f.csrf.as_deref()) {
        return r;
    }
    let SignIn::Local(tokens) = &s.console.sign_in else {
        return Redirect::to("/console/login").into_response();
    };
    let next = safe_next(f.next.as_deref());
    let code = f.code.as_deref();
    let actor = match s
        .app
        .login_with_code(&f.username, &f.password, code, &client.0)
        .await
    {
        Ok(a) => a,
        Err(e) => {
            return login_page(&headers, secure, &next, &f.username, Some(&e.message_vi()));
        }
    };
    let name = s
        .app
        .display_name(&actor)
        .await
        .or(Some(f.username.clone()));
    let (token, ttl) = match tokens.issue_named(&actor, name) {
        Ok(t) => t,
        Err(p) => return p.into_response(),
    };
    let to = if next == "/console" {
        home_of(actor.role).to_string()
    } else {
        next
    };
    let mut r = Redirect::to(&to).into_response();
    r.headers_mut().append(
        axum::http::header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, ttl, secure),
    );
    r
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error_description: Option<String>,
}

/// The identity provider's callback (AWS): exchanges the code, sets the session cookie.
pub async fn callback(
    State(s): State<HttpState>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    let secure = is_secure(&s.console, &headers);
    let SignIn::External(provider) = &s.console.sign_in else {
        return Redirect::to("/console/login").into_response();
    };
    let (Some(code), Some(state)) = (q.code.as_deref(), q.state.as_deref()) else {
        let why = q
            .error_description
            .unwrap_or_else(|| "thiếu mã xác thực".into());
        return crate::problem::Problem::unauthorized(format!("Đăng nhập không thành công: {why}"))
            .into_response();
    };
    match provider.finish(code, state, &headers).await {
        Ok((token, ttl, next)) => {
            let mut r = Redirect::to(&safe_next(Some(&next))).into_response();
            r.headers_mut().append(
                axum::http::header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, &token, ttl, secure),
            );
            r
        }
        Err(p) => p.into_response(),
    }
}

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(rename = "_csrf", default)]
    csrf: Option<String>,
}

/// Ends the session: the cookie is cleared (and the provider's session, where there is one),
/// and every token of the account issued until now is revoked (sign-out everywhere: a copied
/// cookie stops working too).
pub async fn logout(
    State(s): State<HttpState>,
    headers: HeaderMap,
    staff: Result<Staff, Response>,
    Form(f): Form<LogoutForm>,
) -> Response {
    if let Err(r) = csrf::check(&headers, f.csrf.as_deref()) {
        return r;
    }
    if let Ok(Staff(session)) = &staff {
        match s
            .app
            .revoke_sessions(&session.actor, &session.actor.id)
            .await
        {
            Ok(()) | Err(phananh_core::DomainError::NotFound) => {}
            Err(e) => {
                tracing::warn!(account = %session.actor.id, error = %e, "sessions not revoked at sign-out")
            }
        }
    }
    let secure = is_secure(&s.console, &headers);
    let to = match &s.console.sign_in {
        SignIn::External(p) => p.logout_url().unwrap_or_else(|| "/console/login".into()),
        SignIn::Local(_) => "/console/login".into(),
    };
    let mut r = Redirect::to(&to).into_response();
    r.headers_mut().append(
        axum::http::header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", 0, secure),
    );
    r
}

/// `/console`: the signed-in person's first page.
pub async fn home(Staff(session): Staff) -> Response {
    Redirect::to(home_of(session.actor.role)).into_response()
}
