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
