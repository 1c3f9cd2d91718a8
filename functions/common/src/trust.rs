//! What the Lambda functions add for the trust features of core: the audit key (from the
//! environment, where the template resolves it from Secrets Manager) and the client address
//! API Gateway saw (`requestContext.http.sourceIp`) for the sign-in guards and rate limits.

#[cfg(feature = "http")]
use lambda_http::request::RequestContext;
use phananh_core::app::App;
#[cfg(feature = "http")]
use phananh_http::Router;
use tracing::warn;

/// The variable holding the audit key (at least 32 characters). In `template.yaml` it is a
/// `{{resolve:secretsmanager:...}}` dynamic reference, so the key lives in Secrets Manager
/// and never in the table.
pub const AUDIT_KEY_ENV: &str = "PHANANH_AUDIT_KEY";

/// `app` with the audit key of the environment; without one (or one too short) the timeline
/// is chained without a MAC and a warning says so.
pub fn with_audit_key(app: App) -> App {
    match std::env::var(AUDIT_KEY_ENV) {
        Ok(k) if k.len() >= 32 => app.with_audit_key(k.as_bytes()),
        Ok(_) => {
            warn!("{AUDIT_KEY_ENV} is shorter than 32 characters: timeline entries are not sealed");
            app
        }
        Err(_) => {
            warn!("{AUDIT_KEY_ENV} is not set: timeline entries are not sealed");
            app
        }
    }
}

impl crate::Runtime {
    /// The reporter's personal data sealed at rest (issue 12 item 5) with the data keys of
    /// `PHANANH_PII_WRAPPED_KEYS`, unwrapped by KMS once per cold start (`phananh_aws::kms`).
    /// A wrapped key KMS does not unwrap stops the cold start (never plaintext writes, never
    /// unreadable reads); without the variable the data is stored as given and a warning says so.
    pub async fn with_pii_keys(
        mut self,
        clients: &phananh_aws::AwsClients,
    ) -> Result<crate::Runtime, crate::InitError> {
        use phananh_aws::kms::{unwrap_keyring, ENV_PII_WRAPPED_KEYS};
        match std::env::var(ENV_PII_WRAPPED_KEYS) {
            Ok(w) if !w.trim().is_empty() => {
                let kms = phananh_aws::aws_sdk_kms::Client::new(&clients.config);
                let ring = std::sync::Arc::new(unwrap_keyring(&kms, &w).await?);
                // The delivery log keeps each recipient sealed with the same keys.
                let notifier = std::sync::Arc::new(
                    phananh_aws::SnsNotifier::from_settings(clients, &self.settings)
                        .with_pii_cipher(ring.clone()),
                );
                self.app = self
                    .app
                    .with_pii_cipher(ring)
                    .with_notifier(notifier.clone())
                    .with_delivery_log(Some(notifier));
                Ok(self)
            }
            _ => {
                warn!("{ENV_PII_WRAPPED_KEYS} is not set: reporter personal data is not sealed at rest");
                Ok(self)
            }
        }
    }
}

/// The router with each request's client address taken from API Gateway's request context.
#[cfg(feature = "http")]
pub fn with_client_addr(router: Router) -> Router {
    phananh_http::ratelimit::with_client_addr(router, |ext| match ext.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(ctx)) => ctx.http.source_ip.clone(),
        _ => None,
    })
}
