//! The HTTP layer, written once: an axum `Router` served by the embedded `phananh serve`
//! process and, through `lambda_http`, by the API Lambda functions.
//!
//! Routes are versioned under `/v1` and described by `api/openapi.yaml` (served at
//! `/v1/openapi.yaml`). Errors are `application/problem+json` with a stable `code`.

pub mod auth;
mod extract;
mod handlers;
pub mod problem;

use auth::{Authenticator, TokenService};
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use phananh_core::service::App;
use std::sync::Arc;

/// The OpenAPI document (the contract the mobile app codes against).
pub const OPENAPI_YAML: &str = include_str!("../../api/openapi.yaml");

/// Largest JSON body accepted (reports carry text; files go to the media store).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route: (method, path). The OpenAPI document is checked against this list by a test.
pub const ROUTES: &[(&str, &str)] = &[
    ("get", "/healthz"),
    ("get", "/v1/openapi.yaml"),
    ("get", "/v1/categories"),
    ("get", "/v1/units"),
    ("get", "/v1/wards"),
    ("post", "/v1/auth/login"),
    ("post", "/v1/auth/device"),
    ("post", "/v1/auth/citizen/otp"),
    ("post", "/v1/auth/citizen/verify"),
    ("post", "/v1/uploads"),
    ("post", "/v1/reports"),
    ("get", "/v1/me/reports"),
    ("get", "/v1/me/reports/{id}"),
    ("post", "/v1/me/reports/{id}/rating"),
    ("post", "/v1/me/reports/{id}/reopen"),
    ("get", "/v1/public/reports"),
    ("get", "/v1/public/reports/{id}"),
    ("get", "/v1/public/reports/{id}/attachments/{attachment_id}"),
    ("get", "/v1/staff/reports"),
    ("get", "/v1/staff/reports/{id}"),
    ("post", "/v1/staff/reports/{id}/actions"),
    ("post", "/v1/staff/reports/{id}/directives"),
    ("post", "/v1/staff/reports/{id}/reveal-reporter"),
    ("get", "/v1/staff/reports/{id}/attachments/{attachment_id}"),
    ("get", "/v1/stats"),
    ("get", "/v1/stats/export.csv"),
    ("get", "/v1/admin/accounts"),
    ("post", "/v1/admin/accounts"),
    ("post", "/v1/admin/accounts/{id}/disable"),
    ("post", "/v1/admin/accounts/{id}/enable"),
    ("post", "/v1/admin/accounts/{id}/reset-password"),
];

/// What the handlers need.
#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    pub auth: Arc<dyn Authenticator>,
    /// Issues tokens for local sign-in (embedded). None where an external identity provider
    /// (Cognito) issues them: the login routes then answer 404.
    pub tokens: Option<TokenService>,
}

/// The whole API.
pub fn router(state: HttpState) -> Router {
    use handlers::*;
    Router::new()
        .route("/healthz", get(health))
        .route("/v1/openapi.yaml", get(openapi))
        .route("/v1/categories", get(categories))
        .route("/v1/units", get(units))
        .route("/v1/wards", get(wards))
        .route("/v1/auth/login", post(login))
        .route("/v1/auth/device", post(device_token))
        .route("/v1/auth/citizen/otp", post(citizen_otp))
        .route("/v1/auth/citizen/verify", post(citizen_verify))
        .route("/v1/uploads", post(request_upload))
        .route("/v1/reports", post(submit_report))
        .route("/v1/me/reports", get(my_reports))
        .route("/v1/me/reports/{id}", get(my_report))
        .route("/v1/me/reports/{id}/rating", post(rate_report))
        .route("/v1/me/reports/{id}/reopen", post(reopen_report))
        .route("/v1/public/reports", get(public_reports))
        .route("/v1/public/reports/{id}", get(public_report))
        .route(
            "/v1/public/reports/{id}/attachments/{attachment_id}",
            get(public_attachment),
        )
        .route("/v1/staff/reports", get(staff_reports))
        .route("/v1/staff/reports/{id}", get(staff_report))
        .route("/v1/staff/reports/{id}/actions", post(staff_action))
        .route("/v1/staff/reports/{id}/directives", post(directive))
        .route(
            "/v1/staff/reports/{id}/reveal-reporter",
            post(reveal_reporter),
        )
        .route(
            "/v1/staff/reports/{id}/attachments/{attachment_id}",
            get(staff_attachment),
        )
        .route("/v1/stats", get(stats))
        .route("/v1/stats/export.csv", get(export_csv))
        .route(
            "/v1/admin/accounts",
            get(list_accounts).post(create_account),
        )
        .route("/v1/admin/accounts/{id}/disable", post(disable_account))
        .route("/v1/admin/accounts/{id}/enable", post(enable_account))
        .route(
            "/v1/admin/accounts/{id}/reset-password",
            post(reset_password),
        )
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

pub use axum::Router;
pub use handlers::{create_staff_account, reports_csv, NewAccount};
