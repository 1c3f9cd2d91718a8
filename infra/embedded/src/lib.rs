//! Embedded adapters of the phananh ports, for the single-process `serve` runtime:
//! SQLite in WAL mode with group commit (reports, accounts, transactional outbox),
//! local files for media (HMAC-signed URLs), durable in-process queues fed by the outbox,
//! and a notification delivery log that sends e-mail over SMTP and SMS through a provider.
//!
//! Wiring (see [`Embedded::open`]):
//! ```text
//! let emb = Embedded::open(EmbeddedConfig::new(dir, "http://127.0.0.1:8080", secret))?;
//! emb.consumers.register("classify", &["report_submitted"], handler(|e| async move { ... }));
//! let pumps = emb.spawn_pumps();            // relay + worker in the background
//! let app = router.merge(emb.media_routes());
//! ...
//! pumps.stop().await;
//! ```

pub mod db;
pub mod guards;
pub mod media;
pub mod notify;
pub mod pii;
pub mod queue;
pub mod reports;
pub mod schema;
pub mod sms;
pub mod smtp;
pub mod stats;

pub use db::{SqliteStore, StoreOptions, DB_FILE};
pub use media::{
    media_routes, spawn_media_server, valid_key, FileMediaStore, SignedRequest, UrlError,
};
pub use notify::{NotificationRecord, NotificationStatus, OutboxNotifier};
pub use queue::{
    handler, list_dead_letters, list_deliveries, requeue_dead_letter, BoxFuture, Consumer,
    ConsumerRegistry, DeliveryRecord, EmbeddedBus, Handler, OutboxRelay, PumpHandle, QueueWorker,
    RetryPolicy, WorkerStats,
};
pub use sms::{BodyFormat, FakeSms, FakeSmsProvider, HttpSmsConfig, HttpSmsGateway, PhoneFormat};
pub use smtp::{SmtpConfig, SmtpError, SmtpTls};

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Everything the embedded runtime needs to open its adapters.
#[derive(Debug, Clone)]
pub struct EmbeddedConfig {
    /// Holds `reports.db` and `media/` (created when absent).
    pub data_dir: PathBuf,
    /// Public base URL of the server, used in signed media URLs.
    pub base_url: String,
    /// Signs media URLs (at least 16 bytes).
    pub media_secret: Vec<u8>,
    /// E-mail is delivered over SMTP when set, else only recorded.
    pub smtp: Option<SmtpConfig>,
    /// Where SMS go: none (recorded only), the local fake, or an HTTP gateway.
    pub sms: SmsSettings,
    pub store: StoreOptions,
    pub retry: RetryPolicy,
    /// Longest wait of the background relay and worker between passes.
    pub pump_interval: Duration,
    /// Seals each notification's recipient in the delivery log (issue 12 item 5); None
    /// stores it as given.
    pub pii: Option<Arc<phananh_core::pii::Keyring>>,
}

impl EmbeddedConfig {
    pub fn new(
        data_dir: impl Into<PathBuf>,
        base_url: impl Into<String>,
        media_secret: impl Into<Vec<u8>>,
    ) -> EmbeddedConfig {
        EmbeddedConfig {
            data_dir: data_dir.into(),
            base_url: base_url.into(),
            media_secret: media_secret.into(),
            smtp: None,
            sms: SmsSettings::None,
            store: StoreOptions::default(),
            retry: RetryPolicy::default(),
            pump_interval: Duration::from_secs(1),
            pii: None,
        }
    }
}

/// The SMS provider of the embedded runtime.
#[derive(Debug, Clone, Default)]
pub enum SmsSettings {
    /// SMS are only recorded in the delivery log.
    #[default]
    None,
    /// The local fake provider: accepts and records (the demo, tests).
    Fake,
    /// A brand-name SMS gateway over HTTP.
    Http(Box<HttpSmsConfig>),
}

impl SmsSettings {
    /// `PHANANH_SMS_PROVIDER`: `fake` (the default), `http` (with the `PHANANH_SMS_*`
    /// settings of [`HttpSmsConfig::from_env`]) or `none`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<SmsSettings, String> {
        match get("PHANANH_SMS_PROVIDER").as_deref().map(str::trim) {
            None | Some("") | Some("fake") => Ok(SmsSettings::Fake),
            Some("none") => Ok(SmsSettings::None),
            Some("http") => HttpSmsConfig::from_env(get).map(|c| SmsSettings::Http(Box::new(c))),
            Some(o) => Err(format!("PHANANH_SMS_PROVIDER={o:?}: fake, http or none")),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("data directory {0}: {1}")]
    DataDir(PathBuf, String),
    #[error("database: {0}")]
    Store(#[from] phananh_core::ports::StoreError),
    #[error("media: {0}")]
    Media(#[from] phananh_core::ports::MediaError),
    #[error("sms provider: {0}")]
    Sms(String),
}

/// All embedded adapters, opened under one data directory.
pub struct Embedded {
    pub config: EmbeddedConfig,
    /// `ReportStore + AccountStore`.
    pub store: Arc<SqliteStore>,
    pub media: Arc<FileMediaStore>,
    /// `Notifier + DeliveryLog`.
    pub notifier: Arc<OutboxNotifier>,
    /// The fake SMS provider, when it is the one in use.
    pub fake_sms: Option<Arc<FakeSmsProvider>>,
    /// Register consumers here (any time before or after the pumps start).
    pub consumers: Arc<ConsumerRegistry>,
    pub bus: Arc<EmbeddedBus>,
}

impl Embedded {
    /// Opens (creating) `data_dir`, `data_dir/reports.db` and `data_dir/media/`.
    pub fn open(config: EmbeddedConfig) -> Result<Embedded, OpenError> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| OpenError::DataDir(config.data_dir.clone(), e.to_string()))?;
        let store = SqliteStore::open(&config.data_dir, config.store.clone())?;
        let media = Arc::new(FileMediaStore::new(
            config.data_dir.join("media"),
            &config.base_url,
            &config.media_secret,
        )?);
        let (sms, fake_sms): (Option<Arc<dyn phananh_core::delivery::SmsProvider>>, _) =
            match &config.sms {
                SmsSettings::None => (None, None),
                SmsSettings::Fake => {
                    let fake = Arc::new(FakeSmsProvider::new());
                    (Some(fake.clone()), Some(fake))
                }
                SmsSettings::Http(c) => (
                    Some(Arc::new(
                        HttpSmsGateway::new((**c).clone()).map_err(OpenError::Sms)?,
                    )),
                    None,
                ),
            };
        let mut notifier = OutboxNotifier::new(store.clone(), config.smtp.clone()).with_sms(sms);
        if let Some(ring) = &config.pii {
            notifier = notifier.with_pii_cipher(ring.clone());
        }
        let notifier = Arc::new(notifier);
        let consumers = ConsumerRegistry::new();
        let bus = Arc::new(EmbeddedBus::new(store.clone(), consumers.clone()));
        Ok(Embedded {
            config,
            store,
            media,
            notifier,
            fake_sms,
            consumers,
            bus,
        })
    }

    pub fn relay(&self) -> OutboxRelay {
        OutboxRelay::new(self.store.clone(), self.consumers.clone())
    }

    pub fn worker(&self) -> QueueWorker {
        QueueWorker::new(
            self.store.clone(),
            self.consumers.clone(),
            self.config.retry.clone(),
        )
    }

    /// The routes serving signed media URLs; merge into the server's router.
    pub fn media_routes(&self) -> axum::Router {
        media_routes(self.media.clone())
    }

    /// Starts the outbox relay and one queue worker in the background.
    pub fn spawn_pumps(&self) -> Pumps {
        Pumps {
            relay: self.relay().spawn(self.config.pump_interval),
            worker: self.worker().spawn(self.config.pump_interval),
        }
    }
}

/// The background relay and worker; stop them before dropping the store.
pub struct Pumps {
    relay: PumpHandle,
    worker: PumpHandle,
}

impl Pumps {
    pub async fn stop(self) {
        self.relay.stop().await;
        self.worker.stop().await;
    }
}
