//! Sign-in that resists abuse (Đ.4.1: accounts are the organisation's; a citizen's identity is
//! protected, Đ.4.2): one-time codes single-use, stored only as a keyed hash, at most
//! [`CODE_MAX_ATTEMPTS`] tries each, with a cool-down per contact and per client address;
//! staff password attempts with a growing delay per account and per address; and every staff
//! token checked against its account on each request (disabled, role or unit changed,
//! sessions revoked → refused), through the accounts port so every runtime backs it.
//!
//! The counters live behind the [`GuardStore`] port (SQLite embedded, DynamoDB on AWS), so
//! every process of a runtime sees the same ones. Keys are keyed digests: no phone number,
//! e-mail address or username is stored in a guard key.

use super::App;
use crate::error::DomainError;
use crate::model::{Action, Actor};
use crate::ports::{Channel, GuardRecord, StaffAccount, StoreError};
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use subtle::ConstantTimeEq;
use tracing::{info, warn};

/// A one-time code may be tried at most this many times; then it is dead and a new one must
/// be requested.
pub const CODE_MAX_ATTEMPTS: u32 = 5;
/// A new code to the same phone or e-mail no sooner than this many seconds after the last.
pub const CODE_RESEND_COOLDOWN_SECS: i64 = 60;
/// At most this many codes requested from one client address per [`ADDRESS_WINDOW_SECS`].
pub const CODES_PER_ADDRESS: u32 = 10;
/// At most this many wrong codes from one client address per [`ADDRESS_WINDOW_SECS`]
/// (guessing across many contacts).
pub const WRONG_CODES_PER_ADDRESS: u32 = 20;
/// The window of the per-address counters.
pub const ADDRESS_WINDOW_SECS: i64 = 600;
/// Wrong staff passwords on one account before the delay starts; each further failure
/// doubles it (1 s, 2 s, 4 s, …) up to [`LOGIN_MAX_DELAY_SECS`].
pub const LOGIN_FREE_FAILURES: u32 = 3;
/// Wrong staff passwords from one client address before its delay starts.
pub const LOGIN_FREE_FAILURES_PER_ADDRESS: u32 = 10;
/// The longest delay between password attempts.
pub const LOGIN_MAX_DELAY_SECS: i64 = 900;
/// How long a staff account's state is trusted between two reads of the accounts port.
pub const SESSION_CACHE_SECS: u64 = 3;

const CAS_RETRIES: usize = 5;

type HmacSha256 = Hmac<Sha256>;

/// A stored one-time code: only its keyed hash.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct CodeDoc {
    hash: String,
    attempts: u32,
    used: bool,
}

/// A cool-down or failure counter.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Counter {
    /// Start of the current window (per-address counters) or of the failures (accounts).
    since: i64,
    count: u32,
    /// No attempt before this instant (unix seconds).
    #[serde(default)]
    blocked_until: i64,
}

/// The growing delay after `failures` wrong passwords when `free` are allowed without one.
pub fn login_delay_secs(failures: u32, free: u32) -> i64 {
    if failures < free {
        return 0;
    }
    let exp = (failures - free).min(20);
    (1i64 << exp).min(LOGIN_MAX_DELAY_SECS)
}

fn storage(e: StoreError) -> DomainError {
    super::storage(e)
}

fn retry_after(until: DateTime<Utc>, now: DateTime<Utc>) -> DomainError {
    DomainError::TooManyAttempts {
        retry_after_secs: (until - now).num_seconds().max(1) as u64,
    }
}

/// Cached account state for the per-request token check.
#[derive(Default)]
pub(crate) struct SessionCache {
    entries: Mutex<HashMap<String, (Instant, Option<StaffAccount>)>>,
}

impl SessionCache {
    fn get(&self, id: &str) -> Option<Option<StaffAccount>> {
        let g = self.entries.lock().ok()?;
        let (at, acc) = g.get(id)?;
        (at.elapsed().as_secs() < SESSION_CACHE_SECS).then(|| acc.clone())
    }

    fn put(&self, id: &str, acc: Option<StaffAccount>) {
        if let Ok(mut g) = self.entries.lock() {
            if g.len() > 10_000 {
                g.retain(|_, (at, _)| at.elapsed().as_secs() < SESSION_CACHE_SECS);
            }
            g.insert(id.to_string(), (Instant::now(), acc));
        }
    }

    pub(crate) fn forget(&self, id: &str) {
        if let Ok(mut g) = self.entries.lock() {
            g.remove(id);
        }
    }
}

impl App {
    /// A keyed digest naming a guard record (`kind` + subject), so no contact is in a key.
    fn guard_key(&self, kind: &str, subject: &str) -> String {
        let mut mac = self.guard_mac();
        mac.update(kind.as_bytes());
        mac.update(b"\0");
        mac.update(subject.as_bytes());
        format!("{kind}:{}", hex::encode(&mac.finalize().into_bytes()[..16]))
    }

    /// A keyed digest naming a contact where an id is needed (a code's notification).
    pub(super) fn contact_digest(&self, contact: &str) -> String {
        self.guard_key("otp-note", contact)
    }

    fn guard_mac(&self) -> HmacSha256 {
        // HMAC takes a key of any length; the fallback is never reached.
        <HmacSha256 as Mac>::new_from_slice(&self.keys.guard)
            .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()))
    }

    fn code_hash(&self, contact: &str, code: &str) -> Vec<u8> {
        let mut mac = self.guard_mac();
        mac.update(b"code\0");
        mac.update(contact.as_bytes());
        mac.update(b"\0");
        mac.update(code.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    async fn guard_read<T: DeserializeOwned + Default>(
        &self,
        key: &str,
    ) -> Result<(T, Option<u64>), DomainError> {
        let rec: Option<GuardRecord> = self.guards.guard_get(key).await.map_err(storage)?;
        match rec {
            Some(r) if r.expires_at > self.now() => Ok((
                serde_json::from_value(r.doc).unwrap_or_default(),
                Some(r.version),
            )),
            Some(r) => Ok((T::default(), Some(r.version))),
            None => Ok((T::default(), None)),
        }
    }

    async fn guard_write<T: Serialize>(
        &self,
        key: &str,
        doc: &T,
        ttl_secs: i64,
        expected: Option<u64>,
    ) -> Result<(), StoreError> {
        let json = serde_json::to_value(doc).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.guards
            .guard_put(
                key,
                &json,
                self.now() + Duration::seconds(ttl_secs),
                expected,
            )
            .await
    }

    /// Counts one event against a windowed per-address limit; refuses past `limit`.
    async fn count_in_window(&self, key: &str, limit: u32) -> Result<(), DomainError> {
        for _ in 0..CAS_RETRIES {
            let now = self.now();
            let (mut c, version): (Counter, _) = self.guard_read(key).await?;
            if c.since == 0 || now.timestamp() - c.since >= ADDRESS_WINDOW_SECS {
                c = Counter {
                    since: now.timestamp(),
                    ..Counter::default()
                };
            }
            if c.count >= limit {
                let until =
                    DateTime::from_timestamp(c.since + ADDRESS_WINDOW_SECS, 0).unwrap_or(now);
                return Err(retry_after(until, now));
            }
            c.count += 1;
            match self
                .guard_write(key, &c, ADDRESS_WINDOW_SECS, version)
                .await
            {
                Ok(()) => return Ok(()),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(storage(e)),
            }
        }
        Err(DomainError::TooManyAttempts {
            retry_after_secs: 1,
        })
    }

    /// Makes and sends a one-time sign-in code to a normalised contact (see
    /// [`super::sign_in_contact`]). Refused with a wait when a code went to the same contact
    /// less than [`CODE_RESEND_COOLDOWN_SECS`] ago, or the client address asked for too many.
    /// The code is stored only as a keyed hash and replaces any earlier one.
    pub async fn request_sign_in_code(
        &self,
        contact: &str,
        channel: Channel,
        client: &str,
    ) -> Result<(), DomainError> {
        let now = self.now();
        let cool_key = self.guard_key("otp-cool", contact);
        let (cool, cool_version): (Counter, _) = self.guard_read(&cool_key).await?;
        if cool.blocked_until > now.timestamp() {
            let until = DateTime::from_timestamp(cool.blocked_until, 0).unwrap_or(now);
            return Err(retry_after(until, now));
        }
        if !client.is_empty() {
            self.count_in_window(&self.guard_key("otp-addr", client), CODES_PER_ADDRESS)
                .await?;
        }
        let next = Counter {
            since: now.timestamp(),
            count: cool.count.saturating_add(1),
            blocked_until: now.timestamp() + CODE_RESEND_COOLDOWN_SECS,
        };
        match self
            .guard_write(&cool_key, &next, CODE_RESEND_COOLDOWN_SECS, cool_version)
            .await
        {
            Ok(()) => {}
            // Another request for the same contact won the race: that one sends.
            Err(StoreError::Conflict) => {
                return Err(DomainError::TooManyAttempts {
                    retry_after_secs: CODE_RESEND_COOLDOWN_SECS as u64,
                })
            }
            Err(e) => return Err(storage(e)),
        }
        let code = random_code();
        let doc = CodeDoc {
            hash: hex::encode(self.code_hash(contact, &code)),
            attempts: 0,
            used: false,
        };
        let code_key = self.guard_key("otp", contact);
        let ttl = i64::from(super::sign_in::CODE_VALID_MINUTES) * 60;
        let mut stored = false;
        for _ in 0..CAS_RETRIES {
            let version = self
                .guards
                .guard_get(&code_key)
                .await
                .map_err(storage)?
                .map(|r| r.version);
            match self.guard_write(&code_key, &doc, ttl, version).await {
                Ok(()) => {
                    stored = true;
                    break;
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(storage(e)),
            }
        }
        if !stored {
            return Err(DomainError::Conflict);
        }
        let window = now.timestamp() / 60;
        self.send_sign_in_code(contact, channel, &code, window)
            .await
    }

    /// Checks a one-time code for a normalised contact: right, unused, unexpired and within
    /// [`CODE_MAX_ATTEMPTS`] tries (every try counts, before the comparison, which is in
    /// constant time). A right code is used up. Too many wrong codes from one client address
    /// are refused too.
    pub async fn verify_sign_in_code(
        &self,
        contact: &str,
        code: &str,
        client: &str,
    ) -> Result<(), DomainError> {
        let addr_key = (!client.is_empty()).then(|| self.guard_key("otp-wrong", client));
        if let Some(k) = &addr_key {
            let (c, _): (Counter, _) = self.guard_read(k).await?;
            let now = self.now();
            if c.count >= WRONG_CODES_PER_ADDRESS && now.timestamp() - c.since < ADDRESS_WINDOW_SECS
            {
                let until =
                    DateTime::from_timestamp(c.since + ADDRESS_WINDOW_SECS, 0).unwrap_or(now);
                return Err(retry_after(until, now));
            }
        }
        let code_key = self.guard_key("otp", contact);
        for _ in 0..CAS_RETRIES {
            let Some(rec) = self.guards.guard_get(&code_key).await.map_err(storage)? else {
                return Err(DomainError::InvalidCode);
            };
            let now = self.now();
            if rec.expires_at <= now {
                return Err(DomainError::InvalidCode);
            }
            let Ok(mut doc) = serde_json::from_value::<CodeDoc>(rec.doc.clone()) else {
                return Err(DomainError::InvalidCode);
            };
            if doc.used {
                return Err(DomainError::InvalidCode);
            }
            if doc.attempts >= CODE_MAX_ATTEMPTS {
                warn!("sign-in code locked after too many attempts");
                return Err(DomainError::TooManyAttempts {
                    retry_after_secs: CODE_RESEND_COOLDOWN_SECS as u64,
                });
            }
            doc.attempts += 1;
            let expected = hex::decode(&doc.hash).unwrap_or_default();
            let given = self.code_hash(contact, code.trim());
            let right: bool = given.ct_eq(&expected).into();
            if right {
                doc.used = true;
            }
            let ttl = (rec.expires_at - now).num_seconds().max(1);
            match self
                .guard_write(&code_key, &doc, ttl, Some(rec.version))
                .await
            {
                Ok(()) if right => {
                    info!("sign-in code accepted");
                    return Ok(());
                }
                Ok(()) => {
                    if let Some(k) = &addr_key {
                        // Counted for the address; its refusal comes on the next try.
                        let _ = self.count_in_window(k, u32::MAX).await;
                    }
                    warn!(attempts = doc.attempts, "wrong sign-in code");
                    return Err(DomainError::InvalidCode);
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(storage(e)),
            }
        }
        Err(DomainError::Conflict)
    }

    /// Whether a staff password attempt may be made now for `username` from `client`.
    async fn login_allowed(&self, username: &str, client: &str) -> Result<(), DomainError> {
        let now = self.now();
        let mut keys = vec![self.guard_key("login-acct", username)];
        if !client.is_empty() {
            keys.push(self.guard_key("login-addr", client));
        }
        for k in keys {
            let (c, _): (Counter, _) = self.guard_read(&k).await?;
            if c.blocked_until > now.timestamp() {
                let until = DateTime::from_timestamp(c.blocked_until, 0).unwrap_or(now);
                return Err(retry_after(until, now));
            }
        }
        Ok(())
    }

    /// Records a failed (or, with `ok`, a successful) password attempt.
    async fn login_record(&self, username: &str, client: &str, ok: bool) {
        let mut keys = vec![(self.guard_key("login-acct", username), LOGIN_FREE_FAILURES)];
        if !client.is_empty() && !ok {
            keys.push((
                self.guard_key("login-addr", client),
                LOGIN_FREE_FAILURES_PER_ADDRESS,
            ));
        }
        for (k, free) in keys {
            for _ in 0..CAS_RETRIES {
                let now = self.now();
                let Ok((mut c, version)) = self.guard_read::<Counter>(&k).await else {
                    break;
                };
                if ok {
                    c = Counter::default();
                } else {
                    // Failures older than a day are forgotten.
                    if c.since == 0 || now.timestamp() - c.since > 86_400 {
                        c = Counter {
                            since: now.timestamp(),
                            ..Counter::default()
                        };
                    }
                    c.count = c.count.saturating_add(1);
                    c.blocked_until = now.timestamp() + login_delay_secs(c.count, free);
                }
                match self.guard_write(&k, &c, 86_400, version).await {
                    Err(StoreError::Conflict) => continue,
                    Err(e) => {
                        warn!(error = %e, "sign-in guard not recorded");
                        break;
                    }
                    Ok(()) => break,
                }
            }
        }
    }

    /// Staff sign-in from a client address: [`App::login`] behind the growing delay per
    /// account and per address (refused with a wait, without checking the password, while
    /// a delay runs).
    pub async fn login_from(
        &self,
        username: &str,
        password: &str,
        client: &str,
    ) -> Result<Actor, DomainError> {
        self.login_with_code(username, password, None, client).await
    }

    /// [`App::login_from`] with the second factor: an account that enrolled a TOTP needs
    /// its current code too (`SecondFactorRequired` without one). A wrong or replayed code
    /// counts as a failed attempt for the growing delay, like a wrong password.
    pub async fn login_with_code(
        &self,
        username: &str,
        password: &str,
        code: Option<&str>,
        client: &str,
    ) -> Result<Actor, DomainError> {
        let name = username.trim().to_lowercase();
        self.login_allowed(&name, client).await?;
        let mut r = self.login(username, password).await;
        if let Ok(actor) = &r {
            if let Err(e) = self.second_factor(actor, code).await {
                r = Err(e);
            }
        }
        match &r {
            Ok(_) => self.login_record(&name, client, true).await,
            Err(DomainError::InvalidCredentials | DomainError::InvalidCode) => {
                self.login_record(&name, client, false).await
            }
            Err(_) => {}
        }
        r
    }

    /// Checks a verified token's identity against its account, on every request (Đ.4.1):
    /// a disabled account, a role or unit other than the token's, or a token issued
    /// (`issued_at`, unix seconds) before the account's sessions were revoked is refused.
    /// Citizens have no staff account and pass. A staff identity the accounts port does not
    /// know passes unless [`App::with_known_accounts_only`] is set (the embedded runtime,
    /// whose tokens are only issued for its accounts). The account is read at most every
    /// [`SESSION_CACHE_SECS`] per process; a change made through this process is seen at once.
    pub async fn check_session(
        &self,
        actor: &Actor,
        issued_at: Option<i64>,
    ) -> Result<(), DomainError> {
        if !actor.role.is_staff() {
            return Ok(());
        }
        let acc = match self.session_cache.get(&actor.id) {
            Some(acc) => acc,
            None => {
                let acc = self
                    .accounts
                    .account_by_id(&actor.id)
                    .await
                    .map_err(storage)?;
                self.session_cache.put(&actor.id, acc.clone());
                acc
            }
        };
        let Some(acc) = acc else {
            if self.known_accounts_only {
                warn!(account = %actor.id, "token of an unknown staff account refused");
                return Err(DomainError::SessionEnded);
            }
            return Ok(());
        };
        let revoked = match (acc.sessions_valid_from, issued_at) {
            (Some(from), Some(iat)) => iat < from.timestamp(),
            // A provider that does not say when (Cognito's console tokens here) cannot be
            // revoked this way; disabling the account still refuses it.
            _ => false,
        };
        if acc.disabled || acc.role != actor.role || acc.unit != actor.unit || revoked {
            warn!(account = %actor.id, disabled = acc.disabled, revoked, "staff token refused: the account changed");
            return Err(DomainError::SessionEnded);
        }
        Ok(())
    }

    /// Ends every session of account `id` issued until now (sign-out everywhere). Anyone for
    /// their own account; the account managers (Đ.9.2) for any.
    pub async fn revoke_sessions(&self, by: &Actor, id: &str) -> Result<(), DomainError> {
        if by.id != id && !super::accounts::may_manage_accounts(by) {
            return Err(DomainError::Forbidden {
                role: by.role,
                action: Action::ManageAccounts,
            });
        }
        for _ in 0..CAS_RETRIES {
            let Some(mut acc) = self.accounts.account_by_id(id).await.map_err(storage)? else {
                return Err(DomainError::NotFound);
            };
            // Tokens carry the real time they were issued at; the revocation uses it too.
            acc.sessions_valid_from = Some(Utc::now());
            match self.accounts.save_account(&acc).await {
                Ok(()) => {
                    self.session_cache.forget(id);
                    info!(account = %id, by = %by.id, "staff sessions revoked");
                    return Ok(());
                }
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(storage(e)),
            }
        }
        Err(DomainError::Conflict)
    }
}

/// Six random digits, from the operating system's generator (UUID v4's 122 random bits).
fn random_code() -> String {
    let b = uuid::Uuid::new_v4().into_bytes();
    let n = u64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) % 1_000_000;
    format!("{n:06}")
}
