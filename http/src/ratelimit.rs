//! Who a request comes from, for the sign-in guards and the rate limits: the client address
//! the runtime saw (embedded: the TCP peer through axum's `ConnectInfo`; Lambda: API
//! Gateway's `sourceIp`, put in the request as a [`ClientAddr`] by the function). Never a
//! header the client sets: `X-Forwarded-For` is not trusted.

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use std::convert::Infallible;
use std::net::SocketAddr;

/// The client's address ("" when the runtime does not know it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientAddr(pub String);

impl ClientAddr {
    /// The address of a request: a [`ClientAddr`] extension, else the TCP peer.
    pub fn of(parts: &Parts) -> ClientAddr {
        if let Some(a) = parts.extensions.get::<ClientAddr>() {
            return a.clone();
        }
        if let Some(ConnectInfo(sa)) = parts.extensions.get::<ConnectInfo<SocketAddr>>() {
            return ClientAddr(sa.ip().to_string());
        }
        ClientAddr::default()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        Ok(ClientAddr::of(parts))
    }
}

/// `router` with a [`ClientAddr`] put in every request by `addr_of` (a runtime that knows the
/// client address from the request's extensions: API Gateway's request context on Lambda).
pub fn with_client_addr<F>(router: axum::Router, addr_of: F) -> axum::Router
where
    F: Fn(&axum::http::Extensions) -> Option<String> + Clone + Send + Sync + 'static,
{
    router.layer(axum::middleware::map_request(
        move |mut req: axum::extract::Request| {
            let addr = addr_of(req.extensions());
            async move {
                if let Some(a) = addr {
                    req.extensions_mut().insert(ClientAddr(a));
                }
                req
            }
        },
    ))
}

// ---------------------------------------------------------------------------------------------
// Rate limits per client

use crate::problem::Problem;
use crate::HttpState;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use phananh_core::config::{Limit, RateLimits};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What a limited request is, for its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    Submission,
    Upload,
    SignIn,
    Code,
}

impl Class {
    /// The class of a request, or None for one that is not limited. Reads (staff lists, the
    /// public feed) are never limited here: a flood of writes must not starve them.
    pub fn of(method: &Method, path: &str) -> Option<Class> {
        if method != Method::POST {
            return None;
        }
        match path {
            "/v1/reports" => Some(Class::Submission),
            p if p.starts_with("/open311/v2/requests") => Some(Class::Submission),
            "/v1/uploads" | "/console/uploads" => Some(Class::Upload),
            "/v1/auth/login" | "/console/login" | "/v1/auth/citizen/verify" => Some(Class::SignIn),
            "/v1/auth/citizen/otp" => Some(Class::Code),
            _ => None,
        }
    }

    fn limit(self, l: &RateLimits) -> Limit {
        match self {
            Class::Submission => l.submissions,
            Class::Upload => l.uploads,
            Class::SignIn => l.sign_in,
            Class::Code => l.codes,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Token buckets per (class, client key), in this process's memory: one per server embedded,
/// one per Lambda instance on AWS (API Gateway's stage throttling is the account-wide
/// backstop there). Bounded: past [`RateLimiter::MAX_BUCKETS`] the full ones are dropped.
pub struct RateLimiter {
    limits: RateLimits,
    buckets: Mutex<HashMap<(Class, String), Bucket>>,
}

impl RateLimiter {
    pub const MAX_BUCKETS: usize = 200_000;

    pub fn new(limits: RateLimits) -> RateLimiter {
        RateLimiter {
            limits,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Tokens per second and burst of the bucket of `key` (`addr:` keys get the address
    /// factor).
    fn bucket_size(&self, class: Class, key: &str) -> (f64, f64) {
        let limit = class.limit(&self.limits);
        let factor = if key.starts_with("addr:") {
            f64::from(self.limits.address_factor.max(1))
        } else {
            1.0
        };
        (
            f64::from(limit.per_minute.max(1)) / 60.0 * factor,
            f64::from(limit.burst.max(1)) * factor,
        )
    }

    /// Takes one token from the bucket of every key; when any is empty nothing is taken and
    /// the answer is the seconds until it has a token again.
    pub fn check(&self, class: Class, keys: &[String]) -> Result<(), u64> {
        self.check_at(class, keys, Instant::now())
    }

    fn check_at(&self, class: Class, keys: &[String], now: Instant) -> Result<(), u64> {
        if !self.limits.enabled || keys.is_empty() {
            return Ok(());
        }
        let Ok(mut g) = self.buckets.lock() else {
            return Ok(());
        };
        if g.len() >= Self::MAX_BUCKETS {
            g.retain(|(c, k), b| {
                let (rate, burst) = self.bucket_size(*c, k);
                b.tokens + now.duration_since(b.at).as_secs_f64() * rate < burst
            });
        }
        let mut wait = 0u64;
        let mut refreshed = Vec::with_capacity(keys.len());
        for k in keys {
            let (rate, burst) = self.bucket_size(class, k);
            let b = g.get(&(class, k.clone())).copied().unwrap_or(Bucket {
                tokens: burst,
                at: now,
            });
            let tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate).min(burst);
            if tokens < 1.0 {
                wait = wait.max(((1.0 - tokens) / rate).ceil() as u64);
            }
            refreshed.push((k, tokens));
        }
        if wait > 0 {
            return Err(wait.max(1));
        }
        for (k, tokens) in refreshed {
            g.insert(
                (class, k.clone()),
                Bucket {
                    tokens: tokens - 1.0,
                    at: now,
                },
            );
        }
        Ok(())
    }
}

/// The client keys of a request: its address, and its token's subject (a staff member, a
/// citizen or an anonymous device) when it carries a valid one.
fn client_keys(state: &HttpState, parts: &Parts) -> Vec<String> {
    let mut keys = Vec::with_capacity(2);
    let addr = ClientAddr::of(parts).0;
    if !addr.is_empty() {
        keys.push(format!("addr:{addr}"));
    }
    if let Ok(Some(actor)) = state.auth.authenticate(parts) {
        keys.push(format!("sub:{}", actor.id));
    }
    keys
}

/// The middleware: a limited request over its client's limit is answered 429 with
/// `Retry-After` and a problem+json body, before any handler work.
pub async fn limit(
    State((state, limiter)): State<(HttpState, Arc<RateLimiter>)>,
    req: Request,
    next: Next,
) -> Response {
    let Some(class) = Class::of(req.method(), req.uri().path()) else {
        return next.run(req).await;
    };
    let (parts, body) = req.into_parts();
    let keys = client_keys(&state, &parts);
    if let Err(wait) = limiter.check(class, &keys) {
        tracing::warn!(class = ?class, retry_after = wait, "rate limit: request refused");
        return Problem::too_many(wait).into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}

/// `router` behind the rate limits of the city's `[rate_limits]`.
pub fn limited(router: axum::Router, state: &HttpState) -> axum::Router {
    let limiter = Arc::new(RateLimiter::new(
        state.app.rules().config.city.rate_limits.clone(),
    ));
    router.layer(axum::middleware::from_fn_with_state(
        (state.clone(), limiter),
        limit,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limits(per_minute: u32, burst: u32) -> RateLimits {
        let l = Limit { per_minute, burst };
        RateLimits {
            enabled: true,
            address_factor: 1,
            submissions: l,
            uploads: l,
            sign_in: l,
            codes: l,
        }
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refills_at_its_rate() {
        let rl = RateLimiter::new(limits(6, 3));
        let t = Instant::now();
        let k = vec!["addr:1.2.3.4".to_string()];
        for _ in 0..3 {
            assert_eq!(rl.check_at(Class::Submission, &k, t), Ok(()));
        }
        assert_eq!(rl.check_at(Class::Submission, &k, t), Err(10));
        // Another client and another class have their own buckets.
        assert!(rl
            .check_at(Class::Submission, &["addr:5.6.7.8".into()], t)
            .is_ok());
        assert!(rl.check_at(Class::Upload, &k, t).is_ok());
        // 10 s later one token is back (6 per minute).
        let later = t + Duration::from_secs(10);
        assert_eq!(rl.check_at(Class::Submission, &k, later), Ok(()));
        assert!(rl.check_at(Class::Submission, &k, later).is_err());
    }

    #[test]
    fn every_key_of_a_client_counts_and_a_refusal_takes_nothing() {
        let rl = RateLimiter::new(limits(60, 2));
        let t = Instant::now();
        let a = vec!["addr:1.1.1.1".to_string(), "sub:dev-1".to_string()];
        let b = vec!["addr:1.1.1.1".to_string(), "sub:dev-2".to_string()];
        assert!(rl.check_at(Class::Code, &a, t).is_ok());
        assert!(rl.check_at(Class::Code, &b, t).is_ok());
        // The shared address is empty now, whatever the device.
        assert!(rl.check_at(Class::Code, &a, t).is_err());
        assert!(rl
            .check_at(Class::Code, &["addr:2.2.2.2".into(), "sub:dev-1".into()], t)
            .is_ok());
    }

    #[test]
    fn reads_are_never_limited_and_off_means_off() {
        assert_eq!(Class::of(&Method::GET, "/v1/staff/reports"), None);
        assert_eq!(
            Class::of(&Method::POST, "/v1/staff/reports/x/actions"),
            None
        );
        assert_eq!(
            Class::of(&Method::POST, "/v1/reports"),
            Some(Class::Submission)
        );
        let mut l = limits(1, 1);
        l.enabled = false;
        let rl = RateLimiter::new(l);
        let k = vec!["addr:1".to_string()];
        for _ in 0..100 {
            assert!(rl.check(Class::Submission, &k).is_ok());
        }
    }
}
