//! Opening the embedded system on a data directory: the SQLite store, local media, queues and
//! optional SMTP (`Embedded`), and the `App` wired to them. Every subcommand that touches data
//! (serve, accounts, export) opens it the same way, so it is done here once.

use crate::secrets::{data_keys, secret};
use crate::BoxError;
use phananh_core::app::{App, Ports};
use phananh_core::pii::{self, Keyring, PiiCipher};
use phananh_core::ports::{SystemClock, UuidV7Ids};
use phananh_core::CityRules;
use phananh_embedded::{Embedded, EmbeddedConfig, SmsSettings, SmtpConfig};
use phananh_http::auth::Argon2Passwords;
use std::path::Path;
use std::sync::Arc;

/// Opens the embedded adapters in `data` (created if missing), with the media-URL secret, SMTP
/// when `PHANANH_SMTP_HOST` is set and the SMS provider of `PHANANH_SMS_PROVIDER` (the local
/// fake by default). Settings and secrets come from the environment.
pub(crate) fn open_embedded(data: &Path, base_url: &str) -> Result<Embedded, BoxError> {
    std::fs::create_dir_all(data)?;
    let media_secret = secret(data, "PHANANH_MEDIA_SECRET", "media.secret")?;
    let mut cfg = EmbeddedConfig::new(data, base_url, media_secret);
    let env = |k: &str| std::env::var(k).ok();
    cfg.smtp = SmtpConfig::from_env(env)?;
    cfg.sms = SmsSettings::from_env(env)?;
    cfg.pii = Some(pii_keyring(data)?);
    Ok(Embedded::open(cfg)?)
}

/// The application on the embedded adapters: system clock, UUIDv7 ids, argon2 passwords, no
/// publisher (events wait in the outbox for the in-process relay); the sign-in guards in the
/// database, the audit key from `PHANANH_AUDIT_KEY` or the data directory's `audit.key`
/// (created on first start, mode 0600), the reporter's personal data sealed with the data keys
/// of [`pii_keyring`], and staff tokens only for accounts it knows.
pub(crate) fn build_app(emb: &Embedded, rules: CityRules) -> Result<App, BoxError> {
    let audit_key = secret(&emb.config.data_dir, "PHANANH_AUDIT_KEY", AUDIT_KEY_FILE)?;
    let pii = pii_keyring(&emb.config.data_dir)?;
    Ok(App::new(
        Arc::new(rules),
        Ports {
            store: emb.store.clone(),
            accounts: emb.store.clone(),
            media: emb.media.clone(),
            notifier: emb.notifier.clone(),
            clock: Arc::new(SystemClock),
            ids: Arc::new(UuidV7Ids),
            passwords: Arc::new(Argon2Passwords),
        },
    )
    .with_delivery_log(Some(emb.notifier.clone()))
    .with_guards(emb.store.clone())
    // Statistics (issue 13 item 6): counted right after each change, and by the `stats`
    // consumer from its event should that fail.
    .with_aggregates(emb.store.clone(), true)
    .with_audit_key(&audit_key)
    .with_pii_cipher(pii)
    .with_known_accounts_only(true))
}

/// The data keys of the reporter's personal data (issue 12 item 5): `PHANANH_PII_KEYS`
/// (comma-separated hex), else `pii.key` in the data directory (one hex key per line, the
/// current one first), created on first start with mode 0600; a key file others may read
/// is refused.
pub(crate) fn pii_keyring(data: &Path) -> Result<Arc<Keyring>, BoxError> {
    let keys = data_keys(data, "PHANANH_PII_KEYS", PII_KEY_FILE, pii::KEY_LEN)?;
    Ok(Arc::new(Keyring::new(&keys)?))
}

/// Seals the personal data of reports stored before encryption at rest, or under an older
/// key (once per key; idempotent). Run at start-up, before serving.
pub(crate) async fn seal_personal_data(emb: &Embedded) -> Result<(), BoxError> {
    let ring = pii_keyring(&emb.config.data_dir)?;
    let n = emb.store.seal_personal_data(ring.as_ref()).await?;
    if n > 0 {
        tracing::info!(
            reports = n,
            key_id = ring.current_key_id(),
            "sealed stored personal data"
        );
    }
    Ok(())
}

/// The file of the personal-data keys in the data directory (kept outside the database).
pub(crate) const PII_KEY_FILE: &str = "pii.key";

/// The audit key's file in the data directory (kept outside the database).
pub(crate) const AUDIT_KEY_FILE: &str = "audit.key";
