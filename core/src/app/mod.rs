//! Use cases: what the HTTP layer, the queue consumers, the timers and the CLI call. Written
//! once, used by both runtimes (embedded and AWS), reaching the world only through ports.
//!
//! [`App`] keeps its ports private: a handler can only act through a use case, so no route can
//! go around a rule. One room per use-case family: [`reports`] (submit, act, list, reveal),
//! [`uploads`] (upload slots and attachments), [`consumers`] (what each queue does with an
//! event), [`notifications`] (who is told what, as a pure function of the event and the
//! config), [`timers`] (escalations and the outbox relay), [`stats`] and [`export`] (Đ.9.2),
//! [`accounts`] (staff accounts and sign-in, Đ.4.1), [`sign_in`] (citizens' one-time codes),
//! [`tracking`] (a reporter following a report by its tracking link) and [`transparency`]
//! (the public aggregates).

pub mod accounts;
pub mod aggregated;
pub mod audit;
pub mod consumers;
pub mod deliveries;
pub mod export;
pub mod guards;
mod idp_totp;
pub mod notifications;
pub mod notify_facts;
pub mod personal_data;
pub mod published;
pub mod reports;
pub mod share;
pub mod sign_in;
pub mod stats;
mod thumbnails;
pub mod timers;
pub mod totp;
pub mod tracking;
pub mod transparency;
pub mod triage;
pub mod uploads;

pub use accounts::{NewAccount, PasswordHasher};
pub use consumers::{Consumer, EventKind};
pub use sign_in::sign_in_contact;
pub use stats::{compute_stats, OverdueItem, Stats};
pub use timers::RELAY_MIN_AGE_SECS;
pub use triage::Proposal;
pub use uploads::{UploadTicket, UPLOAD_TYPES};

use crate::city::CityRules;
use crate::error::DomainError;
use crate::lifecycle;
use crate::model::{Actor, Report, ReportId};
use crate::ports::*;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// The adapters an [`App`] runs on: one per port.
#[derive(Clone)]
pub struct Ports {
    pub store: Arc<dyn ReportStore>,
    pub accounts: Arc<dyn AccountStore>,
    pub media: Arc<dyn MediaStore>,
    pub notifier: Arc<dyn Notifier>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdGenerator>,
    pub passwords: Arc<dyn PasswordHasher>,
}

/// The application: a city's rules plus ports. Cheap to clone.
#[derive(Clone)]
pub struct App {
    rules: Arc<CityRules>,
    store: Arc<dyn ReportStore>,
    accounts: Arc<dyn AccountStore>,
    media: Arc<dyn MediaStore>,
    /// Upload slots and the daily quota: JSON records in `media` unless a runtime gives its
    /// own ([`App::with_upload_slots`]).
    slots: Arc<dyn crate::slots::UploadSlots>,
    /// Whether the store removes an attached upload's bytes from `uploads/` itself (AWS: the
    /// bucket's lifecycle rule, [`App::with_uploads_left_to_expire`]); else they are deleted
    /// once copied.
    uploads_expire: bool,
    /// Thumbnails this process knows exist (they are made on their first request).
    thumbnails: Arc<thumbnails::ThumbnailsMade>,
    notifier: Arc<dyn Notifier>,
    clock: Arc<dyn Clock>,
    ids: Arc<dyn IdGenerator>,
    passwords: Arc<dyn PasswordHasher>,
    /// Publishes a change's events right after it is stored (AWS: the SNS topic). When None
    /// (embedded) or when publishing fails, the events wait in the outbox for the relay.
    publisher: Option<Arc<dyn EventBus>>,
    /// The notifier's delivery log (what the office and the IOC see and re-send).
    deliveries: Option<Arc<dyn crate::delivery::DeliveryLog>>,
    /// Sign-in guards (one-time codes, attempt counters): in memory unless a runtime gives
    /// its shared store ([`App::with_guards`]).
    guards: Arc<dyn GuardStore>,
    /// The keys kept outside the database ([`App::with_audit_key`]).
    keys: Arc<Keys>,
    session_cache: Arc<guards::SessionCache>,
    /// The statistics' aggregate rows (issue 13 item 6), see [`aggregated`].
    aggregates: Arc<dyn crate::aggregates::AggregateStore>,
    /// Whether a change updates the aggregates right after it is stored (embedded, tests);
    /// else only the statistics consumer does (AWS).
    inline_aggregates: bool,
    /// A staff token whose account the accounts port does not know is refused.
    known_accounts_only: bool,
    /// The personal-data key of the report store ([`App::with_pii_cipher`]): the reporter's
    /// contact an event carries for its messages is sealed with it too (issue 10).
    pii: Option<Arc<dyn crate::pii::PiiCipher>>,
}

/// Secret keys of an [`App`]: the audit MAC key (timeline chain, Đ.6.2) and the key the
/// sign-in guards' digests and code hashes are made with (derived from it).
pub(crate) struct Keys {
    pub(crate) audit: Option<Vec<u8>>,
    pub(crate) guard: Vec<u8>,
}

impl Keys {
    fn unkeyed() -> Keys {
        // Without a configured key the guards' digests use a key of this process only.
        Keys {
            audit: None,
            guard: uuid::Uuid::new_v4().as_bytes().to_vec(),
        }
    }

    fn from_audit_key(key: &[u8]) -> Keys {
        use hmac::Mac;
        let guard = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key)
            .map(|mut m| {
                m.update(b"phananh sign-in guards");
                m.finalize().into_bytes().to_vec()
            })
            .unwrap_or_else(|_| key.to_vec());
        Keys {
            audit: Some(key.to_vec()),
            guard,
        }
    }
}

impl App {
    pub fn new(rules: Arc<CityRules>, ports: Ports) -> App {
        App {
            rules,
            store: ports.store,
            accounts: ports.accounts,
            slots: Arc::new(crate::slots::MediaSlots::new(ports.media.clone())),
            uploads_expire: false,
            thumbnails: Arc::default(),
            media: ports.media,
            notifier: ports.notifier,
            clock: ports.clock,
            ids: ports.ids,
            passwords: ports.passwords,
            publisher: None,
            deliveries: None,
            guards: Arc::new(MemoryGuards::default()),
            keys: Arc::new(Keys::unkeyed()),
            session_cache: Arc::default(),
            aggregates: Arc::new(crate::aggregates::MemoryAggregates::default()),
            inline_aggregates: true,
            known_accounts_only: false,
            pii: None,
        }
    }

    /// The runtime's shared sign-in guard store (SQLite, DynamoDB).
    pub fn with_guards(mut self, guards: Arc<dyn GuardStore>) -> App {
        self.guards = guards;
        self
    }

    /// Where upload slots and the daily quota live (AWS: DynamoDB items).
    pub fn with_upload_slots(mut self, slots: Arc<dyn crate::slots::UploadSlots>) -> App {
        self.slots = slots;
        self
    }

    /// An attached upload's bytes are left in `uploads/` for the store to expire (AWS: the
    /// bucket's lifecycle rule expires `uploads/` after a day, and on a versioned bucket a
    /// delete would keep them as a noncurrent version for that day anyway), instead of one
    /// delete request per attachment.
    pub fn with_uploads_left_to_expire(mut self, on: bool) -> App {
        self.uploads_expire = on;
        self
    }

    /// The audit key (kept outside the database): timeline entries are sealed with an
    /// HMAC-SHA256 chain under it, and the sign-in guards' key is derived from it.
    pub fn with_audit_key(mut self, key: &[u8]) -> App {
        self.keys = Arc::new(Keys::from_audit_key(key));
        self
    }

    /// Refuse staff tokens of accounts the accounts port does not know (where every token is
    /// issued for one of its accounts: the embedded runtime).
    pub fn with_known_accounts_only(mut self, on: bool) -> App {
        self.known_accounts_only = on;
        self
    }

    /// Events are published right after they are stored (AWS), else left to the relay.
    pub fn with_publisher(mut self, publisher: Option<Arc<dyn EventBus>>) -> App {
        self.publisher = publisher;
        self
    }

    /// Another time source (tests move time to reach deadlines).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> App {
        self.clock = clock;
        self
    }

    /// The city's values (read-only).
    pub fn rules(&self) -> &CityRules {
        &self.rules
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Loads a report, NotFound when there is none.
    pub async fn load(&self, id: &ReportId) -> Result<Report, DomainError> {
        self.store
            .get(id)
            .await
            .map_err(storage)?
            .ok_or(DomainError::NotFound)
    }

    /// Loads a report the actor may see (else NotFound, so existence does not leak).
    pub async fn get_for(&self, id: &ReportId, actor: &Actor) -> Result<Report, DomainError> {
        let r = self.load(id).await?;
        if lifecycle::can_view(&r, actor) {
            Ok(r)
        } else {
            Err(DomainError::NotFound)
        }
    }
}

fn storage(e: StoreError) -> DomainError {
    match e {
        StoreError::Conflict => DomainError::Conflict,
        StoreError::NotFound => DomainError::NotFound,
        StoreError::BadCursor => DomainError::invalid("cursor", "con trỏ phân trang không hợp lệ"),
        other => DomainError::Storage(other.to_string()),
    }
}

fn media_err(e: MediaError) -> DomainError {
    DomainError::Storage(e.to_string())
}
