//! The API functions' HTTP side (feature `http`): the shared axum router, identities from
//! API Gateway's JWT authorizer or the citizens' app tokens, the console's Cognito sign-in.
//! Consumer functions are built without it (no axum, no argon2, no reqwest).

use crate::Runtime;
use http::request::Parts;
use lambda_http::request::RequestContext;
use phananh_aws::settings::ConsoleSettings;
use phananh_core::model::Actor;
use phananh_http::auth::{Authenticator, BearerAuth};
use phananh_http::console::cognito::{self, CognitoConfig};
use phananh_http::console::ConsoleConfig;
use phananh_http::problem::Problem;
use phananh_http::HttpState;
use std::sync::Arc;
use tracing::warn;

impl Runtime {
    /// The shared HTTP layer with identities from API Gateway's JWT authorizer (Cognito), and
    /// the console signing in through the user pool's hosted UI when the console settings
    /// (`COGNITO_DOMAIN`, `COGNITO_CLIENT_ID`, `COGNITO_USER_POOL_ID`, `CONSOLE_BASE_URL`)
    /// are set; without them the console answers that sign-in is not configured.
    pub fn http_state(&self) -> HttpState {
        let console = match ConsoleSettings::from_env() {
            Ok(s) => s,
            Err(e) => {
                warn!(error = %e, "console sign-in settings are incomplete: console disabled");
                None
            }
        };
        self.http_state_with(console.as_ref())
    }

    /// [`Runtime::http_state`] with the console settings given.
    pub fn http_state_with(&self, console: Option<&ConsoleSettings>) -> HttpState {
        HttpState {
            app: self.app.clone(),
            auth: Arc::new(AppAuth {
                citizens: self.tokens.clone().map(BearerAuth),
            }),
            tokens: self.tokens.clone(),
            console: console_config(console),
        }
    }
}

/// The console's sessions and sign-in: Cognito ID tokens verified against the pool's keys
/// (cached, fetched in the background at start), the hosted UI with PKCE, secure cookies.
pub fn console_config(settings: Option<&ConsoleSettings>) -> ConsoleConfig {
    match settings {
        Some(s) => cognito::console_config(CognitoConfig::for_pool(
            &s.cognito_domain,
            &s.client_id,
            &s.region,
            &s.user_pool_id,
            &s.base_url,
        )),
        None => cognito::unconfigured_console(),
    }
}

/// Who calls: the claims of API Gateway's JWT authorizer (staff, Cognito) when the route has
/// the authorizer; else, where this function serves citizens, the app's own bearer token;
/// else anonymous.
pub struct AppAuth {
    pub citizens: Option<BearerAuth>,
}

impl Authenticator for AppAuth {
    fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, Problem> {
        if let Some(actor) = ApiGatewayJwtAuth.authenticate(parts)? {
            return Ok(Some(actor));
        }
        match &self.citizens {
            Some(b) => b.authenticate(parts),
            None => Ok(None),
        }
    }
}

/// Identity from the claims API Gateway's JWT authorizer verified (Cognito user pool):
/// `cognito:username` (the account id; else `sub`) → id, `cognito:groups` → role, `custom:unit` → unit. Requests without an
/// authorizer context are anonymous.
pub struct ApiGatewayJwtAuth;

/// Parses the groups claim as HTTP APIs pass it: `[a b]`, `a,b` or `["a","b"]`.
pub use phananh_http::console::cognito::parse_groups;

impl Authenticator for ApiGatewayJwtAuth {
    fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, Problem> {
        let Some(ctx) = parts.extensions.get::<RequestContext>() else {
            return Ok(None);
        };
        let Some(claims) = ctx
            .authorizer()
            .and_then(|a| a.jwt.as_ref())
            .map(|j| &j.claims)
        else {
            return Ok(None);
        };
        // The one Cognito identity mapping, shared with the console's ID tokens.
        let groups = claims
            .get("cognito:groups")
            .map(|g| parse_groups(g))
            .unwrap_or_default();
        cognito::actor_from_claims(
            claims
                .get("cognito:username")
                .or_else(|| claims.get("sub"))
                .map(String::as_str),
            &groups,
            claims.get("custom:unit").map(String::as_str),
        )
        .map(Some)
    }
}

/// The router type the API function serves.
pub type Router = phananh_http::Router;

/// The shared HTTP layer with this runtime's state.
pub fn router(rt: &Runtime) -> Router {
    crate::trust::with_client_addr(phananh_http::router(rt.http_state()))
}
