//! The HTTP layer, written once: an axum `Router` served by the embedded `phananh serve`
//! process and, through `lambda_http`, by the API Lambda functions.
//!
//! Routes are versioned under `/v1` and described by `api/openapi.yaml` (served at
//! `/v1/openapi.yaml`). Errors are `application/problem+json` with a stable `code`.
//!
//! Every route is one line of the table below; the handlers are in [`routes`], one file per
//! audience.

pub mod auth;
pub mod console;
mod extract;
pub mod open311;
pub mod problem;
pub mod ratelimit;
mod routes;
pub mod site;

use auth::{Authenticator, TokenService};
use axum::extract::DefaultBodyLimit;
use phananh_core::app::App;
use std::sync::Arc;

pub use axum::Router;
pub use phananh_core::app::NewAccount;

/// The OpenAPI document (the contract the mobile app codes against).
pub const OPENAPI_YAML: &str = include_str!("../../api/openapi.yaml");

/// Largest JSON body accepted (reports carry text; files go to the media store).
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// What the handlers need.
#[derive(Clone)]
pub struct HttpState {
    pub app: App,
    pub auth: Arc<dyn Authenticator>,
    /// Issues tokens for local sign-in (embedded). None where an external identity provider
    /// (Cognito) issues them: the login routes then answer 404.
    pub tokens: Option<TokenService>,
    /// The staff console's sessions and sign-in.
    pub console: console::ConsoleConfig,
}

/// Expands the one route table into both [`ROUTES`] (the list the OpenAPI document is checked
/// against) and `table()` (the same routes as an axum router), so a route cannot be in one
/// and not the other. A line is `method "path" => handler;`, `method` being an
/// `axum::routing` function (`get`, `post`, ...).
macro_rules! route_table {
    ($($method:ident $path:literal => $handler:path;)+) => {
        /// Every route: (method, path), in the order of the route table. The OpenAPI document
        /// is checked against this list by a test, the router is built from the same table.
        pub const ROUTES: &[(&str, &str)] = &[$((stringify!($method), $path)),+];

        /// The route table as a router (two methods on one path merge; the same method twice
        /// on one path panics here, at start-up).
        fn table() -> Router<HttpState> {
            Router::new()$(.route($path, axum::routing::$method($handler)))+
        }
    };
}

route_table! {
    get "/healthz" => routes::catalogue::health;
    get "/v1/openapi.yaml" => routes::catalogue::openapi;
    get "/v1/categories" => routes::catalogue::categories;
    get "/v1/units" => routes::catalogue::units;
    get "/v1/wards" => routes::catalogue::wards;
    post "/v1/auth/login" => routes::auth::login;
    post "/v1/auth/device" => routes::auth::device_token;
    post "/v1/auth/citizen/otp" => routes::auth::citizen_otp;
    post "/v1/auth/citizen/verify" => routes::auth::citizen_verify;
    post "/v1/auth/totp/enrol" => routes::second_factor::enrol;
    post "/v1/auth/totp/confirm" => routes::second_factor::confirm;
    post "/v1/uploads" => routes::reports::request_upload;
    get "/v1/uploads/{id}" => routes::uploads::upload_status;
    post "/v1/reports" => routes::reports::submit_report;
    get "/v1/me/reports" => routes::me::my_reports;
    get "/v1/me/reports/{id}" => routes::me::my_report;
    post "/v1/me/reports/{id}/rating" => routes::me::rate_report;
    post "/v1/me/reports/{id}/reopen" => routes::me::reopen_report;
    get "/v1/me/reports/{id}/attachments/{attachment_id}" => routes::uploads::my_attachment;
    get "/v1/public/reports" => routes::public::public_reports;
    get "/v1/public/reports/{id}" => routes::public::public_report;
    get "/v1/public/reports/{id}/attachments/{attachment_id}" => routes::public::public_attachment;
    get "/v1/public/reports/{id}/attachments/{attachment_id}/thumbnail" => routes::uploads::public_thumbnail;
    get "/v1/staff/reports" => routes::staff::staff_reports;
    get "/v1/staff/reports/{id}" => routes::staff::staff_report;
    post "/v1/staff/reports/{id}/actions" => routes::staff::staff_action;
    post "/v1/staff/reports/{id}/directives" => routes::staff::directive;
    post "/v1/staff/reports/{id}/reveal-reporter" => routes::staff::reveal_reporter;
    get "/v1/staff/reports/{id}/attachments/{attachment_id}" => routes::staff::staff_attachment;
    get "/v1/staff/reports/{id}/deliveries" => routes::deliveries::report_deliveries;
    get "/v1/staff/deliveries" => routes::deliveries::deliveries;
    post "/v1/staff/deliveries/{id}/resend" => routes::deliveries::resend;
    get "/v1/staff/reports/{id}/audit" => routes::trust::audit_report;
    post "/v1/staff/reports/{id}/shares" => routes::trust::request_share;
    post "/v1/staff/reports/{id}/shares/{request}/decision" => routes::trust::decide_share;
    post "/v1/staff/reports/{id}/shares/{request}/release" => routes::trust::release_share;
    get "/v1/stats" => routes::stats::stats;
    get "/v1/stats/export.csv" => routes::stats::export_csv;
    get "/v1/admin/accounts" => routes::accounts::list_accounts;
    post "/v1/admin/accounts" => routes::accounts::create_account;
    post "/v1/admin/accounts/{id}/disable" => routes::accounts::disable_account;
    post "/v1/admin/accounts/{id}/enable" => routes::accounts::enable_account;
    post "/v1/admin/accounts/{id}/reset-password" => routes::accounts::reset_password;
    post "/v1/admin/accounts/{id}/revoke-sessions" => routes::trust::revoke_sessions;
    post "/v1/admin/accounts/{id}/totp/reset" => routes::second_factor::reset;
}

/// The whole API: the route table, problem+json answers for unknown paths and methods, and
/// the body size limit.
pub fn router(state: HttpState) -> Router {
    let api = table()
        .merge(console::routes())
        .merge(open311::routes())
        .merge(site::routes())
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state.clone());
    // Per-client limits on submissions, uploads and sign-in (`[rate_limits]`, 429).
    ratelimit::limited(api, &state)
}
