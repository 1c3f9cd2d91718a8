//! (being built: see issue 8)

use crate::HttpState;
use axum::Router;

pub fn routes() -> Router<HttpState> {
    Router::new()
}
