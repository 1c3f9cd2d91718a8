//! Authentication. Locally: short-lived HS256 tokens signed with a secret from the
//! environment, carrying role and unit (the same claims Cognito + API Gateway's JWT authorizer
//! provide on AWS: `cognito:groups` → role, `custom:unit` → unit). Authorisation itself is
//! always decided by the core rules.
//!
//! Staff passwords: argon2id through [`Argon2Passwords`], core's password port, run off the
//! async executor and with the same work for a username that does not exist.

use crate::problem::Problem;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use hmac::{Hmac, Mac};
use http::request::Parts;
use phananh_core::model::{Actor, Role};
use phananh_core::ports::{PasswordHasher as PasswordPort, StoreError};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::sync::OnceLock;

type HmacSha256 = Hmac<Sha256>;

/// Turns request parts into the acting person, if any. `Ok(None)` = anonymous.
pub trait Authenticator: Send + Sync {
    fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, Problem>;

    /// The acting person and when their token was issued (unix seconds, when known): core
    /// checks both against the account on every request (`App::check_session`).
    fn authenticate_session(&self, parts: &Parts) -> Result<Option<(Actor, Option<i64>)>, Problem> {
        Ok(self.authenticate(parts)?.map(|a| (a, None)))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Claims {
    pub sub: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    pub iat: i64,
    pub exp: i64,
    /// The person's display name, shown by the console (not used for any decision).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// HS256 JWT issuing and verification.
#[derive(Clone)]
pub struct TokenService {
    secret: Vec<u8>,
    pub staff_ttl_secs: i64,
    pub citizen_ttl_secs: i64,
}

impl TokenService {
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        TokenService {
            secret: secret.as_ref().to_vec(),
            staff_ttl_secs: 8 * 3600,
            citizen_ttl_secs: 30 * 24 * 3600,
        }
    }

    fn mac(&self) -> Result<HmacSha256, Problem> {
        HmacSha256::new_from_slice(&self.secret)
            .map_err(|_| Problem::unauthorized("Khóa ký phiên đăng nhập không hợp lệ."))
    }

    pub fn issue(&self, actor: &Actor) -> Result<(String, i64), Problem> {
        self.issue_named(actor, None)
    }

    /// A token that also carries the person's display name (console sessions).
    pub fn issue_named(
        &self,
        actor: &Actor,
        name: Option<String>,
    ) -> Result<(String, i64), Problem> {
        let now = Utc::now().timestamp();
        let ttl = if actor.role == Role::Citizen {
            self.citizen_ttl_secs
        } else {
            self.staff_ttl_secs
        };
        let claims = Claims {
            sub: actor.id.clone(),
            role: actor.role,
            unit: actor.unit.clone(),
            iat: now,
            exp: now + ttl,
            name,
        };
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&claims).map_err(|e| Problem::unauthorized(e.to_string()))?);
        let signing_input = format!("{header}.{payload}");
        let mut mac = self.mac()?;
        mac.update(signing_input.as_bytes());
        let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        Ok((format!("{signing_input}.{sig}"), ttl))
    }

    pub fn verify(&self, token: &str) -> Result<Claims, Problem> {
        let bad = || Problem::unauthorized("Mã phiên đăng nhập không hợp lệ.");
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(h).map_err(|_| bad())?)
                .map_err(|_| bad())?;
        if header.get("alg").and_then(|a| a.as_str()) != Some("HS256") {
            return Err(bad());
        }
        let sig = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
        let mut mac = self.mac()?;
        mac.update(format!("{h}.{p}").as_bytes());
        mac.verify_slice(&sig).map_err(|_| bad())?;
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).map_err(|_| bad())?)
            .map_err(|_| bad())?;
        if claims.exp < Utc::now().timestamp() {
            return Err(Problem::unauthorized("Phiên đăng nhập đã hết hạn."));
        }
        if claims.role == Role::System {
            return Err(bad());
        }
        Ok(claims)
    }

    /// A stable citizen id for a verified contact (the contact itself is not in the id).
    pub fn citizen_id_for(&self, contact: &str) -> Result<String, Problem> {
        let mut mac = self.mac()?;
        mac.update(b"citizen:");
        mac.update(contact.as_bytes());
        Ok(format!(
            "cit-{}",
            hex::encode(&mac.finalize().into_bytes()[..12])
        ))
    }
}

/// Bearer-token authentication with [`TokenService`].
pub struct BearerAuth(pub TokenService);

impl Authenticator for BearerAuth {
    fn authenticate(&self, parts: &Parts) -> Result<Option<Actor>, Problem> {
        Ok(self.authenticate_session(parts)?.map(|(a, _)| a))
    }

    fn authenticate_session(&self, parts: &Parts) -> Result<Option<(Actor, Option<i64>)>, Problem> {
        let Some(value) = parts.headers.get(http::header::AUTHORIZATION) else {
            return Ok(None);
        };
        let value = value
            .to_str()
            .map_err(|_| Problem::unauthorized("Tiêu đề Authorization không hợp lệ."))?;
        let token = value
            .strip_prefix("Bearer ")
            .ok_or_else(|| Problem::unauthorized("Cần tiêu đề Authorization: Bearer <token>."))?;
        let c = self.0.verify(token.trim())?;
        Ok(Some((
            Actor {
                id: c.sub,
                role: c.role,
                unit: c.unit,
            },
            Some(c.iat),
        )))
    }
}

/// Hashes a password with argon2id (PHC string). Expensive on purpose: async code goes
/// through [`Argon2Passwords`], which runs it on the blocking pool.
pub fn hash_password(password: &str) -> Result<String, Problem> {
    let salt = SaltString::generate(&mut rand::thread_rng());
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| Problem::bad_request("invalid_password", "password", "Mật khẩu không hợp lệ."))
}

/// Whether `password` matches the PHC string `phc`. Expensive on purpose: async code goes
/// through [`Argon2Passwords`], which runs it on the blocking pool.
pub fn verify_password(password: &str, phc: &str) -> bool {
    #[cfg(test)]
    probe::verifying(password);
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// The hash a sign-in without an account is checked against: made once, by the same
/// [`hash_password`] (same argon2 parameters) as every account's hash, so refusing an unknown
/// username costs what checking a real password does. Whatever it answers, the caller refuses.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        hash_password("phananh: no such account").unwrap_or_else(|p| {
            tracing::error!(error = %p.detail, "could not make the dummy password hash");
            String::new()
        })
    })
}

/// The password port on argon2id. Both calls run on tokio's blocking pool: argon2 takes tens
/// of milliseconds of CPU, and on the async executor a few parallel logins would stall every
/// other request. `verify` without a hash (an unknown username) checks against [`dummy_hash`]
/// and answers false, so the work, and the time, does not tell which usernames exist.
#[derive(Debug, Clone, Copy, Default)]
pub struct Argon2Passwords;

fn worker_gone(e: tokio::task::JoinError) -> StoreError {
    StoreError::Backend(format!("password hashing worker: {e}"))
}

#[async_trait]
impl PasswordPort for Argon2Passwords {
    async fn hash(&self, password: &str) -> Result<String, StoreError> {
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || hash_password(&password))
            .await
            .map_err(worker_gone)?
            .map_err(|p| StoreError::Backend(p.detail.clone()))
    }

    async fn verify(&self, password: &str, phc: Option<&str>) -> bool {
        let password = password.to_owned();
        let phc = phc.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            // Made by whichever sign-in comes first, known username or not: that one costs
            // the same too.
            let dummy = dummy_hash();
            match phc {
                Some(phc) => verify_password(&password, &phc),
                None => {
                    verify_password(&password, dummy);
                    false
                }
            }
        })
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %worker_gone(e), "password check failed");
            false
        })
    }
}

/// Tests watch password checks through this: every [`verify_password`] calls each hook with
/// the password tried (tests running in parallel each pick out their own passwords).
#[cfg(test)]
pub(crate) mod probe {
    use std::sync::{Arc, Mutex};

    type Hook = Arc<dyn Fn(&str) + Send + Sync>;

    static HOOKS: Mutex<Vec<Hook>> = Mutex::new(Vec::new());

    pub(crate) fn watch(hook: impl Fn(&str) + Send + Sync + 'static) {
        if let Ok(mut hooks) = HOOKS.lock() {
            hooks.push(Arc::new(hook));
        }
    }

    pub(super) fn verifying(password: &str) {
        // Called outside the lock: a hook may block (to hold a check in flight).
        let hooks = HOOKS.lock().map(|h| h.clone()).unwrap_or_default();
        for hook in hooks {
            hook(password);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_round_trips_and_a_tampered_one_is_refused() {
        let ts = TokenService::new("secret-1");
        let actor = Actor::new("u1", Role::UnitStaff, Some("phong_kinh_te"));
        let (t, _) = ts.issue(&actor).unwrap();
        let c = ts.verify(&t).unwrap();
        assert_eq!(c.role, Role::UnitStaff);
        assert_eq!(c.unit.as_deref(), Some("phong_kinh_te"));
        // Change the role in the payload, keep the signature.
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims {
                role: Role::Leader,
                ..c.clone()
            })
            .unwrap(),
        );
        parts[1] = &forged;
        assert!(ts.verify(&parts.join(".")).is_err());
        // Another secret does not verify.
        assert!(TokenService::new("other").verify(&t).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let mut ts = TokenService::new("s");
        ts.staff_ttl_secs = -10;
        let (t, _) = ts.issue(&Actor::new("u", Role::IocHead, None)).unwrap();
        assert_eq!(ts.verify(&t).unwrap_err().code, "unauthenticated");
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("mật-khẩu-dài").unwrap();
        assert!(verify_password("mật-khẩu-dài", &h));
        assert!(!verify_password("sai", &h));
    }
}
