//! The router against the route table.

use super::Unrouted;
use crate::auth::{BearerAuth, TokenService};
use crate::{router, HttpState, ROUTES};
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use chrono::Utc;
use phananh_core::memory::{FixedClock, MemoryMedia, MemoryStore, RecordingNotifier, SeqIds};
use phananh_core::service::App;
use phananh_core::Rules;
use std::sync::Arc;
use tower::ServiceExt;

fn state() -> HttpState {
    let store = Arc::new(MemoryStore::default());
    let app = App {
        rules: Arc::new(Rules::laichau_default().expect("the shipped config loads")),
        store: store.clone(),
        accounts: store,
        media: Arc::new(MemoryMedia::default()),
        notifier: Arc::new(RecordingNotifier::default()),
        clock: Arc::new(FixedClock::new(Utc::now())),
        ids: Arc::new(SeqIds::default()),
        publisher: None,
    };
    let tokens = TokenService::new("routes-test-secret");
    HttpState {
        app,
        auth: Arc::new(BearerAuth(tokens.clone())),
        tokens: Some(tokens),
    }
}

fn request(method: Method, uri: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(Body::empty())
        .expect("a request")
}

#[tokio::test]
async fn the_router_serves_every_route_of_the_table() {
    let app = router(state());
    for (method, path) in ROUTES {
        let uri = path
            .replace("{id}", "r-1")
            .replace("{attachment_id}", "a-1");
        let m = Method::from_bytes(method.to_ascii_uppercase().as_bytes()).expect("a method");
        let res = app
            .clone()
            .oneshot(request(m, &uri))
            .await
            .expect("an answer");
        assert!(
            res.extensions().get::<Unrouted>().is_none(),
            "{method} {path} is in ROUTES but the router answers it with its {} fallback",
            res.status()
        );
    }
    // The check can fail: what the table lacks gets the fallbacks.
    for (method, uri, status) in [
        (Method::GET, "/v1/nowhere", StatusCode::NOT_FOUND),
        (
            Method::DELETE,
            "/v1/reports",
            StatusCode::METHOD_NOT_ALLOWED,
        ),
    ] {
        let res = app
            .clone()
            .oneshot(request(method, uri))
            .await
            .expect("an answer");
        assert_eq!(res.status(), status, "{uri}");
        assert!(res.extensions().get::<Unrouted>().is_some(), "{uri}");
    }
}
