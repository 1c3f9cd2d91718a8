//! (being built: see issue 8)

use crate::HttpState;
use axum::Router;

#[allow(dead_code)]
pub fn routes() -> Router<HttpState> {
    Router::new()
}
