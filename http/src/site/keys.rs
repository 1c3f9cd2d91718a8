//! The site's server secret: it makes the tracking links' tokens (core's
//! [`TrackingKey`]) and signs the visitor cookie. The runtime sets it at start
//! ([`configure`]: the embedded server reads `PHANANH_SITE_SECRET` or keeps a generated one in
//! the data directory); otherwise it comes from the `PHANANH_SITE_SECRET` environment variable
//! (AWS: the API function's environment). Without either, a random key is made for this
//! process and an error logged: tracking links then stop working at the next start.

use phananh_core::tracking::TrackingKey;
use rand::RngCore;
use std::sync::OnceLock;

/// The environment variable holding the secret (at least 32 characters).
pub const SECRET_ENV: &str = "PHANANH_SITE_SECRET";

static KEY: OnceLock<TrackingKey> = OnceLock::new();

/// Sets the secret before the first request; false when it was already set (or too short).
pub fn configure(secret: &[u8]) -> bool {
    match TrackingKey::new(secret) {
        Some(k) => KEY.set(k).is_ok(),
        None => false,
    }
}

/// The key (configured, else from the environment, else random for this process).
pub fn key() -> &'static TrackingKey {
    KEY.get_or_init(|| {
        if let Some(k) = std::env::var(SECRET_ENV)
            .ok()
            .and_then(|v| TrackingKey::new(v.as_bytes()))
        {
            return k;
        }
        tracing::error!(
            env = SECRET_ENV,
            "no site secret configured: tracking links will not survive a restart"
        );
        let mut b = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut b);
        TrackingKey::from_bytes(b)
    })
}
