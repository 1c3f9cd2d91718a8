//! Who is asking: a visitor cookie signed with the site key, `<id>.<expiry>.<mac>`. An
//! anonymous visitor gets a random citizen id (`web-…`) the first time they open the form,
//! so their upload slots and the idempotency key of their submission are bound to them; a
//! visitor signed in by one-time code carries the citizen id of their phone or e-mail
//! (`cit-…`, the same as the app's) for a working day. The cookie holds no personal data.

use super::keys::key;
use crate::console::session::{cookie, set_cookie};
use axum::http::{HeaderMap, HeaderValue};
use chrono::{DateTime, Duration, Utc};
use phananh_core::model::{Actor, Role};
use subtle::ConstantTimeEq;

pub const VISITOR_COOKIE: &str = "phananh_visitor";
/// How long an anonymous visitor keeps their id.
const ANONYMOUS_DAYS: i64 = 365;
/// How long a sign-in by code lasts.
pub const SIGNED_IN_HOURS: i64 = 12;
const PURPOSE: &str = "site-visitor:v1";

#[derive(Debug, Clone, PartialEq)]
pub struct Visitor {
    pub id: String,
    /// Signed in by a one-time code (else anonymous).
    pub signed_in: bool,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

impl Visitor {
    /// The visitor of a request, when its cookie is valid and not expired.
    pub fn from_headers(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Visitor> {
        let raw = cookie(headers, VISITOR_COOKIE)?;
        let (signed, mac) = raw.rsplit_once('.')?;
        let (id, exp) = signed.split_once('.')?;
        let expected = key().sign(PURPOSE, signed);
        if !bool::from(expected.as_bytes().ct_eq(mac.as_bytes())) || !valid_id(id) {
            return None;
        }
        let exp: i64 = exp.parse().ok()?;
        if exp <= now.timestamp() {
            return None;
        }
        Some(Visitor {
            id: id.to_string(),
            signed_in: id.starts_with("cit-"),
        })
    }

    fn cookie(id: &str, until: DateTime<Utc>, now: DateTime<Utc>, secure: bool) -> HeaderValue {
        let signed = format!("{id}.{}", until.timestamp());
        let mac = key().sign(PURPOSE, &signed);
        set_cookie(
            VISITOR_COOKIE,
            &format!("{signed}.{mac}"),
            (until - now).num_seconds().max(0),
            secure,
        )
    }

    /// A new anonymous visitor and the cookie that keeps them.
    pub fn anonymous(now: DateTime<Utc>, secure: bool) -> (Visitor, HeaderValue) {
        let id = format!("web-{}", uuid::Uuid::new_v4().simple());
        let c = Self::cookie(&id, now + Duration::days(ANONYMOUS_DAYS), now, secure);
        (
            Visitor {
                id,
                signed_in: false,
            },
            c,
        )
    }

    /// The cookie of a visitor signed in as citizen `id` (from a one-time code).
    pub fn signed_in_cookie(id: &str, now: DateTime<Utc>, secure: bool) -> Option<HeaderValue> {
        valid_id(id).then(|| Self::cookie(id, now + Duration::hours(SIGNED_IN_HOURS), now, secure))
    }

    /// The cookie that ends the visit (signing out).
    pub fn clear(secure: bool) -> HeaderValue {
        set_cookie(VISITOR_COOKIE, "", 0, secure)
    }

    pub fn actor(&self) -> Actor {
        Actor::new(self.id.clone(), Role::Citizen, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header;

    fn with(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(v).unwrap());
        h
    }

    fn value(c: &HeaderValue) -> String {
        c.to_str().unwrap().split(';').next().unwrap().to_string()
    }

    #[test]
    fn a_visitor_cookie_is_signed_and_expires() {
        let now = Utc::now();
        let (v, c) = Visitor::anonymous(now, false);
        assert!(v.id.starts_with("web-") && !v.signed_in);
        let h = with(&value(&c));
        assert_eq!(Visitor::from_headers(&h, now), Some(v.clone()));
        assert_eq!(
            Visitor::from_headers(&h, now + Duration::days(ANONYMOUS_DAYS + 1)),
            None
        );
        // Another id with the same MAC is refused: nobody can become another citizen.
        let forged = value(&c).replace(&v.id, "cit-0123456789abcdef01234567");
        assert_eq!(Visitor::from_headers(&with(&forged), now), None);
        let signed = Visitor::signed_in_cookie("cit-abc", now, false).unwrap();
        let s = Visitor::from_headers(&with(&value(&signed)), now).unwrap();
        assert!(s.signed_in);
        assert_eq!(s.actor().id, "cit-abc");
    }
}
