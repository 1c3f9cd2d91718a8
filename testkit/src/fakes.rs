//! In-memory fakes of every port: what the core tests, the HTTP tests and the contract suites
//! run on when no real adapter is wanted. Never used by a runtime; the contract suites run
//! against them too, so they behave like the real adapters.

use async_trait::async_trait;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use phananh_core::model::*;
use phananh_core::ports::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

fn poisoned<T>(_: T) -> StoreError {
    StoreError::Backend("lock poisoned".into())
}

#[derive(Default)]
struct Inner {
    reports: BTreeMap<String, Report>,
    idem: HashMap<String, ReportId>,
    outbox: Vec<(EventEnvelope, bool)>,
    accounts: BTreeMap<String, StaffAccount>,
}

/// Reports, outbox and accounts in memory.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<Inner>,
}

#[async_trait]
impl ReportStore for MemoryStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        if let Some(k) = idempotency_key {
            if let Some(id) = g.idem.get(k) {
                return Ok(CreateOutcome::Existing(id.clone()));
            }
        }
        if g.reports.contains_key(report.id.as_str()) {
            return Err(StoreError::AlreadyExists);
        }
        if let Some(k) = idempotency_key {
            g.idem.insert(k.to_string(), report.id.clone());
        }
        g.reports.insert(report.id.0.clone(), report.clone());
        g.outbox.extend(events.iter().cloned().map(|e| (e, false)));
        Ok(CreateOutcome::Created)
    }

    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        Ok(self
            .inner
            .lock()
            .map_err(poisoned)?
            .reports
            .get(id.as_str())
            .cloned())
    }

    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        match g.reports.get(report.id.as_str()) {
            None => return Err(StoreError::NotFound),
            Some(cur) if cur.version != expected_version => return Err(StoreError::Conflict),
            _ => {}
        }
        g.reports.insert(report.id.0.clone(), report.clone());
        g.outbox.extend(events.iter().cloned().map(|e| (e, false)));
        Ok(())
    }

    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        let g = self.inner.lock().map_err(poisoned)?;
        let mut all: Vec<&Report> = g.reports.values().filter(|r| q.matches(r)).collect();
        all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        let start = match &q.cursor {
            None => 0,
            Some(c) => {
                let pos: usize = c.parse().map_err(|_| StoreError::BadCursor)?;
                if pos > all.len() {
                    return Err(StoreError::BadCursor);
                }
                pos
            }
        };
        let end = (start + q.page_size()).min(all.len());
        Ok(Page {
            items: all[start..end].iter().map(|r| (*r).clone()).collect(),
            next_cursor: (end < all.len()).then(|| end.to_string()),
        })
    }

    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        let g = self.inner.lock().map_err(poisoned)?;
        let mut v: Vec<Report> = g
            .reports
            .values()
            .filter(|r| r.escalation.next_at.is_some_and(|t| t <= until))
            .cloned()
            .collect();
        v.sort_by_key(|r| r.escalation.next_at);
        v.truncate(limit);
        Ok(v)
    }

    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        let g = self.inner.lock().map_err(poisoned)?;
        Ok(g.outbox
            .iter()
            .filter(|(_, done)| !done)
            .take(limit)
            .map(|(e, _)| e.clone())
            .collect())
    }

    async fn mark_published(&self, event_ids: &[String]) -> Result<(), StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        for (e, done) in g.outbox.iter_mut() {
            if event_ids.contains(&e.id) {
                *done = true;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl AccountStore for MemoryStore {
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        if g.accounts.values().any(|a| a.username == account.username) {
            return Err(StoreError::AlreadyExists);
        }
        g.accounts.insert(account.id.clone(), account.clone());
        Ok(())
    }
    async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let g = self.inner.lock().map_err(poisoned)?;
        Ok(g.accounts
            .values()
            .find(|a| a.username == username)
            .cloned())
    }
    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError> {
        Ok(self
            .inner
            .lock()
            .map_err(poisoned)?
            .accounts
            .get(id)
            .cloned())
    }
    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let mut g = self.inner.lock().map_err(poisoned)?;
        if !g.accounts.contains_key(&account.id) {
            return Err(StoreError::NotFound);
        }
        // A username belongs to one account (as the SQLite and DynamoDB stores enforce).
        if g.accounts
            .values()
            .any(|a| a.username == account.username && a.id != account.id)
        {
            return Err(StoreError::AlreadyExists);
        }
        g.accounts.insert(account.id.clone(), account.clone());
        Ok(())
    }
    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        Ok(self
            .inner
            .lock()
            .map_err(poisoned)?
            .accounts
            .values()
            .cloned()
            .collect())
    }
}

/// Objects in memory; presigned URLs are `memory://` placeholders.
#[derive(Default)]
pub struct MemoryMedia {
    objects: Mutex<HashMap<String, (Vec<u8>, String)>>,
}

#[async_trait]
impl MediaStore for MemoryMedia {
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        _max_size: u64,
        ttl: Duration,
    ) -> Result<PresignedUrl, MediaError> {
        Ok(PresignedUrl {
            url: format!("memory://{key}"),
            method: "PUT".into(),
            headers: vec![("Content-Type".into(), content_type.into())],
            fields: vec![],
            expires_at: Utc::now() + ChronoDuration::seconds(ttl.as_secs() as i64),
        })
    }
    async fn presign_get(&self, key: &str, ttl: Duration) -> Result<PresignedUrl, MediaError> {
        Ok(PresignedUrl {
            url: format!("memory://{key}"),
            method: "GET".into(),
            headers: vec![],
            fields: vec![],
            expires_at: Utc::now() + ChronoDuration::seconds(ttl.as_secs() as i64),
        })
    }
    async fn head(&self, key: &str) -> Result<Option<ObjectMeta>, MediaError> {
        let g = self
            .objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?;
        Ok(g.get(key).map(|(b, ct)| ObjectMeta {
            size: b.len() as u64,
            content_type: Some(ct.clone()),
        }))
    }
    async fn read(&self, key: &str, max_size: u64) -> Result<Vec<u8>, MediaError> {
        let g = self
            .objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?;
        let (b, _) = g.get(key).ok_or(MediaError::NotFound)?;
        if b.len() as u64 > max_size {
            return Err(MediaError::TooLarge);
        }
        Ok(b.clone())
    }
    async fn write(&self, key: &str, bytes: &[u8], content_type: &str) -> Result<(), MediaError> {
        self.objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?
            .insert(key.to_string(), (bytes.to_vec(), content_type.to_string()));
        Ok(())
    }
    async fn read_head(&self, key: &str, n: u64) -> Result<Vec<u8>, MediaError> {
        let g = self
            .objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?;
        let (b, _) = g.get(key).ok_or(MediaError::NotFound)?;
        Ok(b[..b.len().min(n as usize)].to_vec())
    }
    async fn copy(&self, from: &str, to: &str) -> Result<(), MediaError> {
        let mut g = self
            .objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?;
        let v = g.get(from).cloned().ok_or(MediaError::NotFound)?;
        g.insert(to.to_string(), v);
        Ok(())
    }
    async fn delete(&self, key: &str) -> Result<(), MediaError> {
        self.objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?
            .remove(key);
        Ok(())
    }
}

impl MemoryMedia {
    /// What a client does with a presigned upload URL (`memory://<key>`): stores the bytes
    /// under the key with the content type, refusing more than `max` bytes as the real
    /// stores do.
    pub fn upload(
        &self,
        key: &str,
        bytes: &[u8],
        content_type: &str,
        max: u64,
    ) -> Result<(), MediaError> {
        if bytes.len() as u64 > max {
            return Err(MediaError::TooLarge);
        }
        self.objects
            .lock()
            .map_err(|_| MediaError::Backend("lock".into()))?
            .insert(key.to_string(), (bytes.to_vec(), content_type.to_string()));
        Ok(())
    }

    /// Keys stored, sorted (tests check what was removed).
    pub fn keys(&self) -> Vec<String> {
        let mut k: Vec<String> = self
            .objects
            .lock()
            .map(|g| g.keys().cloned().collect())
            .unwrap_or_default();
        k.sort();
        k
    }
}

/// Records notifications (deduplicated by id) and keeps their delivery log in memory: every
/// notification is sent at once, except to the addresses told to fail, which are dead-lettered
/// at once (no backoff in memory) and sent by a re-send once the address works again.
#[derive(Default)]
pub struct RecordingNotifier {
    pub sent: Mutex<Vec<Notification>>,
    log: Mutex<Vec<phananh_core::delivery::DeliveryRecord>>,
    failing: Mutex<Vec<String>>,
}

impl RecordingNotifier {
    pub fn all(&self) -> Vec<Notification> {
        self.sent.lock().map(|g| g.clone()).unwrap_or_default()
    }

    /// Notifications to `to` fail (true) or go through (false).
    pub fn fail_to(&self, to: &str, failing: bool) {
        if let Ok(mut g) = self.failing.lock() {
            g.retain(|x| x != to);
            if failing {
                g.push(to.to_string());
            }
        }
    }

    fn attempt(&self, n: &Notification) -> Result<Option<String>, NotifyError> {
        let failing = self
            .failing
            .lock()
            .map_err(|_| NotifyError("lock".into()))?
            .contains(&n.to);
        if failing {
            return Ok(None);
        }
        let mut g = self.sent.lock().map_err(|_| NotifyError("lock".into()))?;
        if !g.iter().any(|x| x.id == n.id) {
            g.push(n.clone());
        }
        Ok(Some(format!("mem-{}", g.len())))
    }
}

fn delivery_record(
    n: &Notification,
    outcome: Option<String>,
    attempts: u32,
) -> phananh_core::delivery::DeliveryRecord {
    use phananh_core::delivery::{DeliveryRecord, DeliveryStatus};
    let now = Utc::now();
    DeliveryRecord {
        notification: n.clone(),
        status: if outcome.is_some() {
            DeliveryStatus::Sent
        } else {
            DeliveryStatus::Dead
        },
        attempts,
        provider: Some("memory".into()),
        error: outcome.is_none().then(|| "refused by the test".to_string()),
        provider_message_id: outcome,
        created_at: now,
        updated_at: now,
        next_attempt_at: None,
        earlier: Vec::new(),
    }
}

#[async_trait]
impl Notifier for RecordingNotifier {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let mut log = self.log.lock().map_err(|_| NotifyError("lock".into()))?;
        if log.iter().any(|r| r.notification.id == n.id) {
            return Ok(());
        }
        let outcome = self.attempt(n)?;
        log.push(delivery_record(n, outcome, 1));
        Ok(())
    }
}

#[async_trait]
impl phananh_core::delivery::DeliveryLog for RecordingNotifier {
    async fn deliveries_for_report(
        &self,
        report_id: &ReportId,
        limit: usize,
    ) -> Result<Vec<phananh_core::delivery::DeliveryRecord>, StoreError> {
        let g = self.log.lock().map_err(poisoned)?;
        Ok(g.iter()
            .rev()
            .filter(|r| r.notification.report_id.as_ref() == Some(report_id))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn recent_deliveries(
        &self,
        channel: Option<Channel>,
        status: Option<phananh_core::delivery::DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<phananh_core::delivery::DeliveryRecord>, StoreError> {
        let g = self.log.lock().map_err(poisoned)?;
        Ok(g.iter()
            .rev()
            .filter(|r| channel.is_none_or(|c| r.notification.channel == c))
            .filter(|r| status.is_none_or(|s| r.status == s))
            .take(limit)
            .cloned()
            .collect())
    }

    async fn resend(&self, id: &str) -> Result<phananh_core::delivery::DeliveryRecord, StoreError> {
        use phananh_core::delivery::DeliveryStatus;
        let mut log = self.log.lock().map_err(poisoned)?;
        let Some(rec) = log.iter_mut().find(|r| r.notification.id == id) else {
            return Err(StoreError::NotFound);
        };
        if rec.status == DeliveryStatus::Sent {
            return Err(StoreError::Conflict);
        }
        let outcome = self
            .attempt(&rec.notification)
            .map_err(|e| StoreError::Backend(e.0))?;
        // The round that ended (the dead letter) stays in the record, as on DynamoDB.
        let mut earlier = std::mem::take(&mut rec.earlier);
        earlier.push(phananh_core::delivery::EarlierRound::of(rec));
        *rec = delivery_record(&rec.notification, outcome, 1);
        rec.earlier = earlier;
        Ok(rec.clone())
    }

    async fn retry_due(&self, _now: DateTime<Utc>, _limit: usize) -> Result<usize, StoreError> {
        Ok(0)
    }
}

/// A settable clock.
pub struct FixedClock(Mutex<DateTime<Utc>>);

impl FixedClock {
    pub fn new(t: DateTime<Utc>) -> Self {
        FixedClock(Mutex::new(t))
    }
    pub fn set(&self, t: DateTime<Utc>) {
        if let Ok(mut g) = self.0.lock() {
            *g = t;
        }
    }
    pub fn advance(&self, d: ChronoDuration) {
        if let Ok(mut g) = self.0.lock() {
            *g += d;
        }
    }
}

impl Clock for FixedClock {
    fn now(&self) -> DateTime<Utc> {
        self.0.lock().map(|g| *g).unwrap_or_else(|_| Utc::now())
    }
}

/// Sequential ids ("r-000001"...), time-ordered like the real ones.
#[derive(Default)]
pub struct SeqIds(AtomicU64);

impl IdGenerator for SeqIds {
    fn new_id(&self) -> String {
        format!("id-{:08}", self.0.fetch_add(1, Ordering::SeqCst) + 1)
    }
}

/// Passwords "hashed" with salted SHA-256: fast, for tests only. Counts verifications, so a
/// test can see that an unknown username costs the same work as a known one.
#[derive(Default)]
pub struct FastPasswords {
    pub verifications: AtomicU64,
}

const FAKE_PREFIX: &str = "fake-sha256$";

#[async_trait]
impl PasswordHasher for FastPasswords {
    async fn hash(&self, password: &str) -> Result<String, StoreError> {
        use sha2::{Digest, Sha256};
        Ok(format!(
            "{FAKE_PREFIX}{}",
            hex::encode(Sha256::digest(password.as_bytes()))
        ))
    }

    async fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        self.verifications.fetch_add(1, Ordering::SeqCst);
        let Ok(h) = self.hash(password).await else {
            return false;
        };
        phc.is_some_and(|p| p == h)
    }
}
