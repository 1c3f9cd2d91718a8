//! Reporter personal data at rest (Đ.4, issue 12 item 5): the reporter's name, phone number
//! and e-mail address are stored only sealed with an envelope data key, so a copy of the
//! database (SQLite file, DynamoDB export, backup) holds no readable personal data.
//!
//! - [`PiiCipher`] is the port: seal / open small strings. A sealed value names the key it was
//!   sealed with (`pii1:<key id>:<base64 nonce ‖ ciphertext ‖ tag>`), so keys can rotate: a
//!   [`Keyring`] seals with its first key and opens with any of its keys.
//! - [`Keyring`] is AES-256-GCM (a random 96-bit nonce per value, the key id as associated
//!   data). The data key comes from outside the database: a key file (0600) in the embedded
//!   data directory, a KMS-wrapped key unwrapped at cold start on AWS.
//! - [`SealingStore`] wraps any [`ReportStore`]: it seals on every write and opens on every
//!   read, so the SQLite and DynamoDB adapters store opaque strings without knowing it and every
//!   use case (views, reveal, share, notifications) sees the same report as before. What leaves
//!   the process is still decided by `views.rs` (masked for the IOC, absent for units and the
//!   public).
//!
//! Lookups never need the plaintext: a citizen's reports are found by the citizen id (a keyed
//! digest of the verified contact, `http/src/auth.rs`), sign-in guards by keyed digests
//! (`app/guards.rs`).

use crate::model::EventEnvelope;
use crate::model::{Report, ReportId, Reporter};
use crate::ports::{CreateOutcome, Page, RecentPoint, ReportQuery, ReportStore, StoreError};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::sync::Arc;

/// What every sealed value starts with (version 1 of the format).
pub const SEALED_PREFIX: &str = "pii1:";

/// Length of a data key in bytes (AES-256).
pub const KEY_LEN: usize = 32;

const NONCE_LEN: usize = 12;

/// Why personal data could not be sealed or opened. Never carries the data itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PiiError {
    /// Sealed with a key this process does not have (a key file or wrapped key is missing).
    #[error("personal data sealed with key {0}, which is not configured")]
    UnknownKey(String),
    /// The key id matched but the value did not authenticate: a wrong key under a reused id
    /// or an altered value. Never returned as garbage.
    #[error("personal data sealed with key {0} does not open: wrong key or altered value")]
    Corrupt(String),
    #[error("a sealed value is malformed")]
    Malformed,
    #[error("invalid data key: {0}")]
    BadKey(String),
    #[error("personal data could not be sealed")]
    Seal,
}

/// The port: seals and opens small strings (names, phone numbers, e-mail addresses).
pub trait PiiCipher: Send + Sync {
    /// `plain` sealed with the current key.
    fn seal(&self, plain: &str) -> Result<String, PiiError>;
    /// The plaintext of a value made by [`PiiCipher::seal`], with any key of the ring.
    fn open(&self, sealed: &str) -> Result<String, PiiError>;
    /// The id of the key new values are sealed with.
    fn current_key_id(&self) -> &str;
}

/// Whether `v` is a sealed value (else a plaintext stored before encryption at rest).
pub fn is_sealed(v: &str) -> bool {
    v.starts_with(SEALED_PREFIX)
}

/// The key id a sealed value names, if it is one.
pub fn key_id_of(v: &str) -> Option<&str> {
    v.strip_prefix(SEALED_PREFIX)?.split(':').next()
}

/// AES-256-GCM data keys; the first seals, all open.
pub struct Keyring {
    keys: Vec<(String, Aes256Gcm)>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key ids only, never key bytes.
        f.debug_struct("Keyring")
            .field(
                "keys",
                &self.keys.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Keyring {
    /// A ring of raw 32-byte data keys, the current one first.
    pub fn new<K: AsRef<[u8]>>(keys: &[K]) -> Result<Keyring, PiiError> {
        if keys.is_empty() {
            return Err(PiiError::BadKey("no key".into()));
        }
        let mut ring = Vec::with_capacity(keys.len());
        for k in keys {
            let k = k.as_ref();
            if k.len() != KEY_LEN {
                return Err(PiiError::BadKey(format!(
                    "{} bytes, {KEY_LEN} expected",
                    k.len()
                )));
            }
            let id = key_id(k);
            if ring.iter().any(|(i, _)| *i == id) {
                continue;
            }
            ring.push((id, Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(k))));
        }
        Ok(Keyring { keys: ring })
    }

    /// A new random data key (for a key file or a test).
    pub fn generate_key() -> [u8; KEY_LEN] {
        let k = Aes256Gcm::generate_key(OsRng);
        let mut out = [0u8; KEY_LEN];
        out.copy_from_slice(&k);
        out
    }

    /// The ids of the ring's keys, the current one first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|(id, _)| id.as_str()).collect()
    }
}

/// A key's id: 8 hex digits of an HMAC of a fixed label under the key (names the key without
/// revealing anything usable about it).
pub fn key_id(key: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(b"phananh pii key id");
    hex::encode(&mac.finalize().into_bytes()[..4])
}

impl PiiCipher for Keyring {
    fn seal(&self, plain: &str) -> Result<String, PiiError> {
        let (id, cipher) = self.keys.first().ok_or(PiiError::Seal)?;
        let nonce = Aes256Gcm::generate_nonce(OsRng);
        let ct = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: plain.as_bytes(),
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Seal)?;
        let mut raw = Vec::with_capacity(NONCE_LEN + ct.len());
        raw.extend_from_slice(&nonce);
        raw.extend_from_slice(&ct);
        Ok(format!(
            "{SEALED_PREFIX}{id}:{}",
            URL_SAFE_NO_PAD.encode(raw)
        ))
    }

    fn open(&self, sealed: &str) -> Result<String, PiiError> {
        let rest = sealed
            .strip_prefix(SEALED_PREFIX)
            .ok_or(PiiError::Malformed)?;
        let (id, body) = rest.split_once(':').ok_or(PiiError::Malformed)?;
        let (_, cipher) = self
            .keys
            .iter()
            .find(|(k, _)| k == id)
            .ok_or_else(|| PiiError::UnknownKey(id.to_string()))?;
        let raw = URL_SAFE_NO_PAD
            .decode(body)
            .map_err(|_| PiiError::Malformed)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(PiiError::Malformed);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let plain = cipher
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: ct,
                    aad: id.as_bytes(),
                },
            )
            .map_err(|_| PiiError::Corrupt(id.to_string()))?;
        String::from_utf8(plain).map_err(|_| PiiError::Corrupt(id.to_string()))
    }

    fn current_key_id(&self) -> &str {
        self.keys.first().map(|(id, _)| id.as_str()).unwrap_or("")
    }
}

fn fields(r: &mut Reporter) -> [&mut Option<String>; 3] {
    [&mut r.name, &mut r.phone, &mut r.email]
}

/// Seals the reporter's name, phone and e-mail in place. Idempotent: a value already sealed
/// with the current key is kept, one sealed with an older key of the ring is re-sealed with the
/// current key (rotation), a plaintext is sealed. Returns whether anything changed.
pub fn seal_reporter(c: &dyn PiiCipher, r: &mut Reporter) -> Result<bool, PiiError> {
    let mut changed = false;
    for f in fields(r) {
        let Some(v) = f.as_deref() else { continue };
        if let Some(sealed) = reseal(c, v)? {
            *f = Some(sealed);
            changed = true;
        }
    }
    Ok(changed)
}

/// `v` sealed with the current key: None when it already is, else the new sealed value (a
/// plaintext sealed, a value of an older key opened and sealed again).
pub fn reseal(c: &dyn PiiCipher, v: &str) -> Result<Option<String>, PiiError> {
    match key_id_of(v) {
        Some(id) if id == c.current_key_id() => Ok(None),
        Some(_) => Ok(Some(c.seal(&c.open(v)?)?)),
        None => Ok(Some(c.seal(v)?)),
    }
}

/// Opens the reporter's name, phone and e-mail in place. A plaintext stored before encryption
/// at rest (not yet migrated) is left as it is.
pub fn open_reporter(c: &dyn PiiCipher, r: &mut Reporter) -> Result<(), PiiError> {
    for f in fields(r) {
        if let Some(v) = f.as_deref().filter(|v| is_sealed(v)) {
            *f = Some(c.open(v)?);
        }
    }
    Ok(())
}

/// `r` with every reporter value sealed afresh. What the application writes is always the
/// plaintext (it reads only opened reports), so a value that merely looks sealed (a name typed
/// as `pii1:…`) is sealed like any other, never stored as it is.
fn sealed_copy(c: &dyn PiiCipher, r: &Report) -> Result<Report, StoreError> {
    let mut r = r.clone();
    let id = r.id.clone();
    if let Some(rep) = r.reporter.as_mut() {
        for f in fields(rep) {
            if let Some(v) = f.as_deref() {
                *f = Some(c.seal(v).map_err(|e| pii_error(&id, e))?);
            }
        }
    }
    Ok(r)
}

fn opened(c: &dyn PiiCipher, mut r: Report) -> Result<Report, StoreError> {
    if let Some(rep) = r.reporter.as_mut() {
        open_reporter(c, rep).map_err(|e| pii_error(&r.id, e))?;
    }
    Ok(r)
}

fn pii_error(id: &ReportId, e: PiiError) -> StoreError {
    tracing::error!(report_id = %id, error = %e, "reporter personal data");
    StoreError::Backend(format!("report {id}: {e}"))
}

/// A [`ReportStore`] that keeps the reporter's personal data sealed in the store it wraps.
pub struct SealingStore {
    inner: Arc<dyn ReportStore>,
    cipher: Arc<dyn PiiCipher>,
}

impl SealingStore {
    pub fn new(inner: Arc<dyn ReportStore>, cipher: Arc<dyn PiiCipher>) -> SealingStore {
        SealingStore { inner, cipher }
    }
}

#[async_trait]
impl ReportStore for SealingStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        let sealed = sealed_copy(&*self.cipher, report)?;
        self.inner.create(&sealed, events, idempotency_key).await
    }

    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        match self.inner.get(id).await? {
            Some(r) => Ok(Some(opened(&*self.cipher, r)?)),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError> {
        let sealed = sealed_copy(&*self.cipher, report)?;
        self.inner.update(&sealed, expected_version, events).await
    }

    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        let page = self.inner.query(q).await?;
        let items = page
            .items
            .into_iter()
            .map(|r| opened(&*self.cipher, r))
            .collect::<Result<_, _>>()?;
        Ok(Page { items, ..page })
    }

    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        self.inner
            .escalations_due(until, limit)
            .await?
            .into_iter()
            .map(|r| opened(&*self.cipher, r))
            .collect()
    }

    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        self.inner.pending_events(limit).await
    }

    async fn mark_published(&self, event_ids: &[String]) -> Result<(), StoreError> {
        self.inner.mark_published(event_ids).await
    }

    async fn recent_points(
        &self,
        category: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        self.inner.recent_points(category, from, to, limit).await
    }

    async fn recent_points_near(
        &self,
        category: &str,
        center: crate::model::GeoPoint,
        radius_m: f64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        self.inner
            .recent_points_near(category, center, radius_m, from, to, limit)
            .await
    }
}

/// Seals, in `store`, every report whose reporter data is still plaintext or sealed with an
/// older key (reports stored before encryption at rest, or before a key rotation). Idempotent:
/// a report already sealed with the current key is not rewritten. Pages through every report
/// (bounded by the store's pagination); returns how many reports were rewritten. A report
/// changed concurrently (version conflict) is read again once.
pub async fn seal_stored_reports(
    store: &dyn ReportStore,
    cipher: &dyn PiiCipher,
) -> Result<u64, StoreError> {
    let mut q = ReportQuery {
        limit: 200,
        ..Default::default()
    };
    let mut rewritten = 0u64;
    loop {
        let page = store.query(&q).await?;
        for r in &page.items {
            for attempt in 0..2 {
                let current = if attempt == 0 {
                    r.clone()
                } else {
                    match store.get(&r.id).await? {
                        Some(c) => c,
                        None => break,
                    }
                };
                let Some(mut rep) = current.reporter.clone() else {
                    break;
                };
                if !seal_reporter(cipher, &mut rep).map_err(|e| pii_error(&r.id, e))? {
                    break;
                }
                let mut next = current.clone();
                next.reporter = Some(rep);
                next.version = current.version + 1;
                match store.update(&next, current.version, &[]).await {
                    Ok(()) => {
                        rewritten += 1;
                        break;
                    }
                    Err(StoreError::Conflict) if attempt == 0 => continue,
                    Err(e) => return Err(e),
                }
            }
        }
        match page.next_cursor {
            Some(c) => q.cursor = Some(c),
            None => break,
        }
    }
    if rewritten > 0 {
        tracing::info!(reports = rewritten, "reporter personal data sealed at rest");
    }
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(keys: &[[u8; KEY_LEN]]) -> Keyring {
        Keyring::new(keys).unwrap()
    }

    #[test]
    fn a_sealed_value_opens_and_hides_the_plaintext() {
        let k = ring(&[[7u8; KEY_LEN]]);
        let s = k.seal("0912345678").unwrap();
        assert!(s.starts_with(&format!("{SEALED_PREFIX}{}:", k.current_key_id())));
        assert!(!s.contains("0912345678"));
        assert_ne!(s, k.seal("0912345678").unwrap(), "a fresh nonce each time");
        assert_eq!(k.open(&s).unwrap(), "0912345678");
    }

    #[test]
    fn a_wrong_key_is_a_clear_error_never_garbage() {
        let s = ring(&[[1u8; KEY_LEN]]).seal("Nguyễn Văn An").unwrap();
        let other = ring(&[[2u8; KEY_LEN]]);
        assert!(matches!(other.open(&s), Err(PiiError::UnknownKey(_))));
        // Same key id, different key (a forged id): the tag does not verify.
        let id = key_id_of(&s).unwrap().to_string();
        let forged = other
            .seal("x")
            .unwrap()
            .replacen(other.current_key_id(), &id, 1);
        assert_eq!(
            ring(&[[1u8; KEY_LEN]]).open(&forged),
            Err(PiiError::Corrupt(id))
        );
    }

    #[test]
    fn an_altered_value_does_not_open() {
        let k = ring(&[[3u8; KEY_LEN]]);
        let s = k.seal("an@example.vn").unwrap();
        let mut b = s.into_bytes();
        let last = b.len() - 3;
        b[last] = if b[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(b).unwrap();
        assert!(k.open(&altered).is_err());
    }

    #[test]
    fn rotation_opens_values_of_the_old_key_and_reseals_them_with_the_new() {
        let old = [4u8; KEY_LEN];
        let new = [5u8; KEY_LEN];
        let before = ring(&[old]);
        let mut rep = Reporter {
            citizen_id: "c1".into(),
            name: Some("Lò Thị Mai".into()),
            phone: Some("+84912345678".into()),
            email: None,
        };
        assert!(seal_reporter(&before, &mut rep).unwrap());
        let rotated = ring(&[new, old]);
        let mut read = rep.clone();
        open_reporter(&rotated, &mut read).unwrap();
        assert_eq!(read.name.as_deref(), Some("Lò Thị Mai"));
        assert!(seal_reporter(&rotated, &mut rep).unwrap());
        assert_eq!(
            key_id_of(rep.phone.as_deref().unwrap()),
            Some(rotated.current_key_id())
        );
        assert!(!seal_reporter(&rotated, &mut rep).unwrap(), "idempotent");
        let mut read = rep.clone();
        open_reporter(&ring(&[new]), &mut read).unwrap();
        assert_eq!(read.phone.as_deref(), Some("+84912345678"));
    }

    #[test]
    fn a_key_of_the_wrong_length_is_refused() {
        assert!(matches!(
            Keyring::new(&[vec![0u8; 16]]),
            Err(PiiError::BadKey(_))
        ));
        assert!(Keyring::new::<Vec<u8>>(&[]).is_err());
    }
}
