//! Protection of every state-changing console request against cross-site request forgery:
//! a random token in an HttpOnly, SameSite=Strict cookie, repeated in each form (`_csrf`) or,
//! for the page's own script, in the `X-CSRF-Token` header; both must match. A request whose
//! `Origin` names another site is refused as well.

use super::session::{cookie, set_cookie};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use rand::RngCore;

pub const CSRF_COOKIE: &str = "phananh_csrf";
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The request's CSRF token, or a fresh one with the cookie that sets it.
pub fn token(headers: &HeaderMap, secure: bool) -> (String, Option<HeaderValue>) {
    match cookie(headers, CSRF_COOKIE) {
        Some(t) if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) => {
            (t.to_string(), None)
        }
        _ => {
            let mut b = [0u8; 32];
            rand::thread_rng().fill_bytes(&mut b);
            let t = hex::encode(b);
            let c = set_cookie(CSRF_COOKIE, &t, 12 * 3600, secure);
            (t, Some(c))
        }
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks a state-changing request: the token sent (form field or header) equals the
/// cookie's, and the `Origin`, when sent, is this host. The refusal is the whole response
/// (a handler returns it as it is), so its size on the error path is accepted.
#[allow(clippy::result_large_err)]
pub fn check(headers: &HeaderMap, sent: Option<&str>) -> Result<(), Response> {
    let refused = || {
        (
            StatusCode::FORBIDDEN,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "Yêu cầu không hợp lệ (mã chống giả mạo không khớp). Hãy tải lại trang và thử lại.",
        )
            .into_response()
    };
    if let (Some(origin), Some(host)) = (
        headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()),
        headers.get(header::HOST).and_then(|v| v.to_str().ok()),
    ) {
        let origin_host = origin.split("://").nth(1).unwrap_or(origin);
        if origin != "null" && origin_host != host {
            return Err(refused());
        }
    }
    let sent = sent.or_else(|| headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()));
    match (cookie(headers, CSRF_COOKIE), sent) {
        (Some(c), Some(s)) if !c.is_empty() && constant_time_eq(c.as_bytes(), s.as_bytes()) => {
            Ok(())
        }
        _ => Err(refused()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("{CSRF_COOKIE}={v}")).unwrap(),
        );
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:8080"));
        h
    }

    #[test]
    fn a_form_must_carry_the_cookies_token() {
        let t = "a".repeat(64);
        let h = with_cookie(&t);
        assert!(check(&h, Some(&t)).is_ok());
        assert!(check(&h, Some(&"b".repeat(64))).is_err());
        assert!(check(&h, None).is_err());
        assert!(
            check(&HeaderMap::new(), Some(&t)).is_err(),
            "no cookie, no action"
        );
    }

    #[test]
    fn another_sites_origin_is_refused() {
        let t = "a".repeat(64);
        let mut h = with_cookie(&t);
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(check(&h, Some(&t)).is_err());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://127.0.0.1:8080"),
        );
        assert!(check(&h, Some(&t)).is_ok());
    }

    #[test]
    fn a_fresh_token_comes_with_its_cookie() {
        let (t, c) = token(&HeaderMap::new(), false);
        assert_eq!(t.len(), 64);
        assert!(c
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with(&format!("{CSRF_COOKIE}={t}")));
        let (same, none) = token(&with_cookie(&t), false);
        assert_eq!((same, none), (t, None));
    }
}
