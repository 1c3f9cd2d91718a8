//! Ports: the small traits through which use cases reach the outside world.
//! Each has an embedded adapter (SQLite, files, in-process queues) and an AWS adapter
//! (DynamoDB, S3, SQS/SNS); one contract suite (`tests/`) runs against both.

use crate::model::{EventEnvelope, GeoPoint, Report, ReportId, Role, State, UnitId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StoreError {
    /// Optimistic version check failed: someone else changed the record first.
    #[error("version conflict")]
    Conflict,
    #[error("already exists")]
    AlreadyExists,
    #[error("not found")]
    NotFound,
    #[error("invalid cursor")]
    BadCursor,
    #[error("storage backend: {0}")]
    Backend(String),
}

/// Result of creating a report with an idempotency key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CreateOutcome {
    Created,
    /// The idempotency key was already used: the report it created.
    Existing(ReportId),
}

/// Filters of the staff queues, the reporter's list and the public feed. All are AND-ed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportQuery {
    /// Any of these states (empty = any).
    #[serde(default)]
    pub states: Vec<State>,
    /// Lead or coordinating unit.
    #[serde(default)]
    pub unit: Option<UnitId>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub ward: Option<String>,
    #[serde(default)]
    pub reporter: Option<String>,
    /// Only reports on the unit's clock whose due instant is before this instant.
    #[serde(default)]
    pub overdue_at: Option<DateTime<Utc>>,
    /// Only published, non-secret reports (the public feed).
    #[serde(default)]
    pub public_only: bool,
    #[serde(default)]
    pub created_from: Option<DateTime<Utc>>,
    #[serde(default)]
    pub created_to: Option<DateTime<Utc>>,
    /// Free text, ignoring diacritics and case: every word of it must start a word of the
    /// report's title, description or address ("o ga tran phu" finds "Ổ gà trên đường Trần Phú").
    #[serde(default)]
    pub text: Option<String>,
    /// Opaque cursor returned by the previous page.
    #[serde(default)]
    pub cursor: Option<String>,
    /// Page size (adapters clamp to 1..=200).
    #[serde(default)]
    pub limit: u32,
}

/// At most this many words of a free-text query are used (the rest are ignored).
pub const MAX_TEXT_TERMS: usize = 8;

impl ReportQuery {
    /// The folded words of the free text (lowercase ASCII; at most [`MAX_TEXT_TERMS`]); empty
    /// when there is no text filter.
    pub fn text_terms(&self) -> Vec<String> {
        let Some(t) = self.text.as_deref() else {
            return Vec::new();
        };
        let mut terms: Vec<String> = Vec::new();
        for w in crate::text::fold_for_search(t).split(' ') {
            if !w.is_empty() && !terms.iter().any(|x| x == w) && terms.len() < MAX_TEXT_TERMS {
                terms.push(w.to_string());
            }
        }
        terms
    }

    /// The folded text a report is searched by: title, description and address, as
    /// [`crate::text::fold_for_search`] spells them (what adapters index).
    pub fn search_text(r: &Report) -> String {
        let mut raw = String::with_capacity(
            r.title.len() + r.description.len() + r.address.as_deref().map_or(0, str::len) + 2,
        );
        raw.push_str(&r.title);
        raw.push('\n');
        raw.push_str(&r.description);
        if let Some(a) = &r.address {
            raw.push('\n');
            raw.push_str(a);
        }
        crate::text::fold_for_search(&raw)
    }

    /// Whether every term starts a word of the folded `search_text`.
    pub fn text_matches(terms: &[String], search_text: &str) -> bool {
        terms
            .iter()
            .all(|t| search_text.split(' ').any(|w| w.starts_with(t.as_str())))
    }

    pub fn page_size(&self) -> usize {
        self.limit.clamp(1, 200) as usize
    }

    /// Whether `r` passes every filter (adapters may use it after an index narrowed the set).
    pub fn matches(&self, r: &Report) -> bool {
        (self.states.is_empty() || self.states.contains(&r.state))
            && self
                .unit
                .as_deref()
                .is_none_or(|u| r.assignment.as_ref().is_some_and(|a| a.involves(u)))
            && self.category.as_deref().is_none_or(|c| r.category == c)
            && self
                .ward
                .as_deref()
                .is_none_or(|w| r.ward.as_deref() == Some(w))
            && self
                .reporter
                .as_deref()
                .is_none_or(|p| r.reporter_id() == Some(p))
            && self.overdue_at.is_none_or(|t| r.is_overdue(t))
            && (!self.public_only || (r.state_is_public() && !r.flags.state_secret))
            && self.created_from.is_none_or(|t| r.created_at >= t)
            && self.created_to.is_none_or(|t| r.created_at < t)
            && {
                let terms = self.text_terms();
                terms.is_empty() || Self::text_matches(&terms, &Self::search_text(r))
            }
    }
}

impl Report {
    /// Published (or closed after publication) reports appear in the public feed.
    pub fn state_is_public(&self) -> bool {
        self.published_at.is_some() && matches!(self.state, State::Published | State::Closed)
    }
}

/// How a store hands the events written with a change to the bus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventDelivery {
    /// The writer publishes after the write and marks the events published; a relay
    /// publishes what a crash left in the outbox (`pending_events`).
    Outbox,
    /// The store's change stream carries every event written with its change to a function
    /// that publishes it (DynamoDB Streams): the writer publishes nothing, there is no
    /// outbox to poll, and an event cannot be lost between the write and the publish.
    Stream,
}

/// A page of results, newest first, with the cursor of the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Reports, their timelines and the transactional outbox of their events.
///
/// Every write stores the report and its events atomically: an event is never lost between
/// the change and its publication (the outbox is drained by a relay that publishes to the bus).
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Stores a new report (version 1) with its events. `idempotency_key` is already scoped to
    /// the reporter; when it was used before, nothing is written and the earlier report's id
    /// is returned. A report id that exists already is `AlreadyExists`.
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError>;

    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError>;

    /// Replaces the report if the stored version equals `expected_version` (the new report
    /// carries `expected_version + 1`), and appends its events to the outbox, atomically.
    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError>;

    /// Filtered, cursor-paginated list, newest first (by creation).
    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError>;

    /// Reports whose next escalation threshold (`escalation.next_at`) is at or before `until`,
    /// by an index, never a scan; at most `limit`, earliest first.
    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError>;

    /// Events stored but not yet marked published, oldest first. Always empty for a
    /// [`EventDelivery::Stream`] store (its change stream carries the events).
    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError>;

    /// Marks outbox events as published (idempotent).
    async fn mark_published(&self, event_ids: &[String]) -> Result<(), StoreError>;

    /// How the events written with a change reach the bus (default: an outbox).
    fn event_delivery(&self) -> EventDelivery {
        EventDelivery::Outbox
    }

    /// What the duplicate check reads (Đ.5 hints): the reports of `category` created in
    /// `[from, to)`, newest first, at most `limit`, as points in time and space only — no text,
    /// no history. Adapters that can answer without loading whole reports override this.
    async fn recent_points(
        &self,
        category: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        let page = self
            .query(&ReportQuery {
                category: Some(category.to_string()),
                created_from: Some(from),
                created_to: Some(to),
                limit,
                ..Default::default()
            })
            .await?;
        Ok(page.items.iter().map(RecentPoint::of).collect())
    }

    /// The duplicate check's read near a point: the reports of `category` created in
    /// `[from, to)` that are located within `radius_m` metres of `center`, newest first, at
    /// most `limit` (fewer when more than `limit` reports of the window lie in what the store
    /// reads at once). Adapters with a spatial key (DynamoDB: a geohash cell) override this to
    /// read only the cells the circle touches.
    async fn recent_points_near(
        &self,
        category: &str,
        center: GeoPoint,
        radius_m: f64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        let points = self.recent_points(category, from, to, limit).await?;
        Ok(points
            .into_iter()
            .filter(|p| p.is_within(center, radius_m))
            .collect())
    }

    /// The reports overdue at `at` (on the unit's clock, past the due instant), of `unit` (lead
    /// or coordinating) when given, most late first, at most `limit` (statistics' overdue
    /// list). Adapters with an index on the due instant override this to read only `limit`.
    async fn overdue(
        &self,
        at: DateTime<Utc>,
        unit: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Report>, StoreError> {
        let page = self
            .query(&ReportQuery {
                overdue_at: Some(at),
                unit: unit.map(str::to_string),
                limit,
                ..Default::default()
            })
            .await?;
        let mut items = page.items;
        items.sort_by_key(|r| r.due_at());
        Ok(items)
    }
}

/// One recent report as the duplicate check sees it: where and when, and whether it still
/// counts (a rejected report is never a duplicate).
#[derive(Debug, Clone, PartialEq)]
pub struct RecentPoint {
    pub id: ReportId,
    pub state: State,
    pub category: String,
    pub created_at: DateTime<Utc>,
    pub location: Option<GeoPoint>,
}

impl RecentPoint {
    /// Located, and at most `radius_m` metres from `center` (`routing::distance_m`).
    pub fn is_within(&self, center: GeoPoint, radius_m: f64) -> bool {
        self.location
            .filter(GeoPoint::is_valid)
            .is_some_and(|p| crate::routing::distance_m(center, p) <= radius_m)
    }

    pub fn of(r: &Report) -> RecentPoint {
        RecentPoint {
            id: r.id.clone(),
            state: r.state,
            category: r.category.clone(),
            created_at: r.created_at,
            location: r.location,
        }
    }
}

/// Staff accounts (issued by the organisation, never self-registered, Đ.4.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaffAccount {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub unit: Option<UnitId>,
    /// PHC string (argon2id).
    pub password_hash: String,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    /// Tokens issued before this instant are refused (sessions revoked: sign-out everywhere,
    /// or the office revoking them). None: every unexpired token of the account counts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions_valid_from: Option<DateTime<Utc>>,
    /// The optional second factor (issue 12): a TOTP secret sealed under a key kept outside
    /// the database. Never returned by any view.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp: Option<crate::totp::TotpFactor>,
}

#[async_trait]
pub trait AccountStore: Send + Sync {
    /// Fails with `AlreadyExists` when the username is taken.
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError>;
    async fn account_by_username(&self, username: &str)
        -> Result<Option<StaffAccount>, StoreError>;
    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError>;
    /// Replaces an existing account (disable, reset password, change role/unit).
    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError>;
    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError>;

    /// Who keeps the passwords. [`PasswordCustody::Hashes`] (the default): this store keeps
    /// `password_hash` and `App::login` checks it. [`PasswordCustody::IdentityProvider`]: the
    /// store is a sign-in service (the Cognito user pool on AWS) that checks passwords itself;
    /// `App` then stores no hash and hands each password the office sets to
    /// [`AccountStore::set_temporary_password`].
    fn password_custody(&self) -> PasswordCustody {
        PasswordCustody::Hashes
    }

    /// The identity provider's second factor, when the provider keeps one (the Cognito
    /// staff pool); None where `App` keeps the factor itself (`StaffAccount.totp`).
    fn identity_mfa(&self) -> Option<&dyn crate::idp_mfa::IdentityMfa> {
        None
    }

    /// Gives an existing account a temporary password, to be changed at the next sign-in, and
    /// ends its open sessions. Only identity-provider stores implement it.
    async fn set_temporary_password(&self, _id: &str, _password: &str) -> Result<(), StoreError> {
        Err(StoreError::Backend(
            "this account store keeps password hashes, not passwords".into(),
        ))
    }
}

/// Who keeps staff passwords (see [`AccountStore::password_custody`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordCustody {
    /// The store keeps argon2id hashes; the application checks sign-ins.
    Hashes,
    /// The store is an identity provider that checks sign-ins itself.
    IdentityProvider,
}

/// Password hashing (argon2id in the adapter). Both calls are expensive on purpose, so the
/// adapter runs them off the async executor.
#[async_trait]
pub trait PasswordHasher: Send + Sync {
    /// A PHC string for `password`.
    async fn hash(&self, password: &str) -> Result<String, StoreError>;
    /// Whether `password` matches `phc`. With `phc` None (an unknown username) the same work is
    /// done against a fixed dummy hash and the answer is false, so timing does not tell which
    /// usernames exist.
    async fn verify(&self, password: &str, phc: Option<&str>) -> bool;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("object not found")]
    NotFound,
    #[error("object too large")]
    TooLarge,
    /// The store is too full to accept new uploads (embedded: free disk below the floor).
    #[error("not enough free storage")]
    InsufficientStorage,
    #[error("media backend: {0}")]
    Backend(String),
}

/// A URL the client uses directly to upload or download a file.
///
/// An upload is either a `PUT` of the raw bytes with `headers`, or (S3) a `POST` of a
/// `multipart/form-data` form: every pair of `fields` in order, then the file as `file`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PresignedUrl {
    pub url: String,
    pub method: String,
    /// Headers the client must send with the request (e.g. Content-Type).
    pub headers: Vec<(String, String)>,
    /// Form fields of a POST upload, in order, before the file (empty for PUT and GET).
    #[serde(default)]
    pub fields: Vec<(String, String)>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub size: u64,
    pub content_type: Option<String>,
}

/// What one read of a just-uploaded object found ([`MediaStore::read_upload`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedObject {
    /// Its stored type: the one its upload URL allowed (S3: bound by the POST policy).
    pub content_type: Option<String>,
    /// Its whole size.
    pub size: u64,
    /// The size limit its upload URL carried, when the store keeps it with the object (S3:
    /// `x-amz-meta-max-size`, bound by the POST policy); None where the store enforced it
    /// while receiving the bytes (embedded) and kept nothing.
    pub max_size: Option<u64>,
    pub body: UploadedBody,
}

/// The bytes [`MediaStore::read_upload`] read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadedBody {
    /// The whole object (a type read whole, within the cap).
    Whole(Vec<u8>),
    /// Its first bytes.
    Head(Vec<u8>),
    /// A type read whole, but larger than the cap: not read.
    TooLarge,
}

/// Which uploads [`MediaStore::read_upload`] reads whole: those of `types`, up to `max` bytes.
#[derive(Debug, Clone, Copy)]
pub struct ReadWhole<'a> {
    pub types: &'a [&'a str],
    pub max: u64,
}

/// Attachments: presigned upload/download, head, read, write, copy, delete.
#[async_trait]
pub trait MediaStore: Send + Sync {
    /// A URL to upload exactly one object at `key`, of `content_type`, at most `max_size`
    /// bytes. The store itself refuses a larger body or another type (embedded: while
    /// streaming; S3: a presigned POST whose policy carries both), not a later check.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        max_size: u64,
        ttl: Duration,
    ) -> Result<PresignedUrl, MediaError>;
    /// A short-lived download URL; the download carries `Content-Disposition: attachment`
    /// (with the key's last segment as file name) and `X-Content-Type-Options: nosniff` where
    /// the store can send it.
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedUrl, MediaError>;
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, MediaError>;
    /// Reads the whole object; `TooLarge` past `max_size`.
    async fn read(&self, key: &str, max_size: u64) -> Result<Vec<u8>, MediaError>;
    async fn write(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), MediaError>;
    /// The first `n` bytes of an object (fewer when it is shorter), without reading the rest.
    async fn read_head(&self, key: &str, n: u64) -> Result<Vec<u8>, MediaError>;
    /// One read of a just-uploaded object for its check, None when there is no such object:
    /// its stored type, size and upload limit, and the whole body when its type is one of
    /// `whole.types` (at most `whole.max` bytes, else [`UploadedBody::TooLarge`]) or else its
    /// first `n` bytes. The check needs nothing else, so it does not read the upload's slot
    /// (issue 10). A store that can answer in one request overrides this (S3: one GET).
    async fn read_upload(
        &self,
        key: &str,
        n: u64,
        whole: ReadWhole<'_>,
    ) -> Result<Option<UploadedObject>, MediaError> {
        let Some(meta) = self.head(key).await? else {
            return Ok(None);
        };
        let read_whole = meta
            .content_type
            .as_deref()
            .is_some_and(|t| whole.types.contains(&t));
        let body = if !read_whole {
            match self.read_head(key, n).await {
                Ok(b) => UploadedBody::Head(b),
                Err(MediaError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            }
        } else {
            match self.read(key, whole.max).await {
                Ok(b) => UploadedBody::Whole(b),
                Err(MediaError::TooLarge) => UploadedBody::TooLarge,
                Err(MediaError::NotFound) => return Ok(None),
                Err(e) => return Err(e),
            }
        };
        Ok(Some(UploadedObject {
            content_type: meta.content_type,
            size: meta.size,
            max_size: None,
            body,
        }))
    }
    /// Copies an object with its content type, inside the store (no bytes through us).
    async fn copy(&self, from: &str, to: &str) -> Result<(), MediaError>;
    /// Removes an object; removing a missing object is not an error.
    async fn delete(&self, key: &str) -> Result<(), MediaError>;
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bus: {0}")]
pub struct BusError(pub String);

/// Publishes domain events to their consumers (SNS topic, or the in-process queues).
#[async_trait]
pub trait EventBus: Send + Sync {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Sms,
    Email,
}

/// One SMS or e-mail to one address, about one report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    /// Deduplication key: the same id is delivered at most once.
    pub id: String,
    pub channel: Channel,
    /// Phone number or e-mail address.
    pub to: String,
    /// The unit the recipient belongs to, when sent to a unit (for filter policies).
    pub unit: Option<UnitId>,
    pub subject: Option<String>,
    pub body: String,
    pub report_id: Option<ReportId>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("notifier: {0}")]
pub struct NotifyError(pub String);

/// Sends SMS and e-mail (or records them in an outbox).
#[async_trait]
pub trait Notifier: Send + Sync {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError>;

    /// Sends the messages of one event, each at most once by id, one result per message in
    /// order; one failure does not keep the others from being sent. An adapter may claim
    /// them together (the AWS one claims all ids in one conditional write).
    async fn send_all(&self, ns: &[Notification]) -> Vec<Result<(), NotifyError>> {
        let mut out = Vec::with_capacity(ns.len());
        for n in ns {
            out.push(self.send(n).await);
        }
        out
    }
}

/// Time source, so deadlines and escalations are testable to the second.
pub trait Clock: Send + Sync {
    fn now(&self) -> DateTime<Utc>;
}

/// Identifier source.
pub trait IdGenerator: Send + Sync {
    fn new_id(&self) -> String;
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// UUID v7 ids: time-ordered, so newest-first ordering by id matches creation order.
#[derive(Debug, Default, Clone, Copy)]
pub struct UuidV7Ids;

impl IdGenerator for UuidV7Ids {
    fn new_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }
}

/// One guard record of sign-in protection (a one-time code, an attempt counter, a cool-down):
/// a small JSON document with a version for compare-and-swap and an expiry after which core
/// treats it as absent (an adapter may delete it then: DynamoDB's TTL).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GuardRecord {
    pub version: u64,
    pub doc: serde_json::Value,
    pub expires_at: DateTime<Utc>,
}

/// Sign-in guards shared by every process of a runtime (every Lambda instance sees the same
/// counters): one-time codes stored hashed, attempt counters, cool-downs.
#[async_trait]
pub trait GuardStore: Send + Sync {
    /// The record under `key`, expired or not (None when there is none).
    async fn guard_get(&self, key: &str) -> Result<Option<GuardRecord>, StoreError>;
    /// Writes `doc` under `key` if the stored version is `expected` (None: no record may
    /// exist), as version `expected + 1` (1 for a new record); else `Conflict`.
    async fn guard_put(
        &self,
        key: &str,
        doc: &serde_json::Value,
        expires_at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<(), StoreError>;
}

/// Guards in this process's memory: the default of an [`crate::app::App`] and the fake of
/// the contract suite. Bounded: past [`MemoryGuards::MAX_RECORDS`] expired records are
/// dropped first, then the oldest-expiring ones.
#[derive(Default)]
pub struct MemoryGuards {
    records: std::sync::Mutex<std::collections::HashMap<String, GuardRecord>>,
}

impl MemoryGuards {
    pub const MAX_RECORDS: usize = 100_000;
}

#[async_trait]
impl GuardStore for MemoryGuards {
    async fn guard_get(&self, key: &str) -> Result<Option<GuardRecord>, StoreError> {
        let g = self
            .records
            .lock()
            .map_err(|_| StoreError::Backend("guards lock poisoned".into()))?;
        Ok(g.get(key).cloned())
    }

    async fn guard_put(
        &self,
        key: &str,
        doc: &serde_json::Value,
        expires_at: DateTime<Utc>,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let mut g = self
            .records
            .lock()
            .map_err(|_| StoreError::Backend("guards lock poisoned".into()))?;
        let current = g.get(key).map(|r| r.version);
        if current != expected {
            return Err(StoreError::Conflict);
        }
        if g.len() >= Self::MAX_RECORDS && current.is_none() {
            let now = Utc::now();
            g.retain(|_, r| r.expires_at > now);
            if g.len() >= Self::MAX_RECORDS {
                if let Some(k) = g
                    .iter()
                    .min_by_key(|(_, r)| r.expires_at)
                    .map(|(k, _)| k.clone())
                {
                    g.remove(&k);
                }
            }
        }
        g.insert(
            key.to_string(),
            GuardRecord {
                version: expected.map_or(1, |v| v + 1),
                doc: doc.clone(),
                expires_at,
            },
        );
        Ok(())
    }
}
