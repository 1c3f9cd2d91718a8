//! Following a report without an account: the tracking link's capability and what its holder
//! sees.
//!
//! A tracking token is a keyed MAC (HMAC-SHA256) of the report id under a server secret,
//! truncated to 80 bits and written as 16 Crockford base32 characters (`ABCD-EFGH-JKMN-PQRS`
//! when shown to people). Nothing is stored: the server recomputes the MAC and compares it in
//! constant time, so a forged or mistyped token, or one for another report, is simply "not
//! found". The secret comes from the runtime (environment or the data directory); changing it
//! invalidates every link given out.
//!
//! The holder of the link is treated as the report's reporter for reading its progress, rating
//! the result and reopening it (Đ.7.5-style follow-up by the person who reported), but the view
//! never carries the reporter's personal data (Đ.4): no name, phone, e-mail or citizen id, no
//! staff names or internal notes, only states, units and the public answer.

use crate::city::CityRules;
use crate::lifecycle;
use crate::model::*;
use crate::screening;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Crockford's base32 alphabet (no I, L, O, U: nothing to misread).
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// Characters of a token (80 bits).
pub const TOKEN_LEN: usize = 16;
/// Shortest secret accepted.
pub const MIN_SECRET_LEN: usize = 16;

/// The server secret that makes and checks tracking tokens.
#[derive(Clone)]
pub struct TrackingKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TrackingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TrackingKey(..)")
    }
}

impl TrackingKey {
    /// A key from a secret of at least [`MIN_SECRET_LEN`] bytes; None when shorter.
    pub fn new(secret: impl AsRef<[u8]>) -> Option<TrackingKey> {
        let secret = secret.as_ref();
        (secret.len() >= MIN_SECRET_LEN).then(|| TrackingKey {
            secret: secret.to_vec(),
        })
    }

    /// A key from 32 bytes (e.g. random ones): always long enough.
    pub fn from_bytes(secret: [u8; 32]) -> TrackingKey {
        TrackingKey {
            secret: secret.to_vec(),
        }
    }

    fn mac(&self, purpose: &str, data: &str) -> Vec<u8> {
        // HMAC accepts a key of any length: new_from_slice cannot fail here.
        let mut mac = match HmacSha256::new_from_slice(&self.secret) {
            Ok(m) => m,
            Err(_) => return Vec::new(),
        };
        mac.update(purpose.as_bytes());
        mac.update(b"\0");
        mac.update(data.as_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// The tracking token of report `id` (16 base32 characters, no separators).
    pub fn token(&self, id: &ReportId) -> String {
        base32(&self.mac("track:v1", id.as_str())[..10])
    }

    /// Whether `token` (as typed: any case, dashes and spaces ignored, O read as 0, I and L
    /// as 1) is the token of report `id`. Constant time in the token's content.
    pub fn verify(&self, id: &ReportId, token: &str) -> bool {
        let typed = normalize(token);
        let expected = self.token(id);
        typed.len() == expected.len()
            && typed
                .bytes()
                .zip(expected.bytes())
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }

    /// A MAC of any text under another purpose (e.g. the web visitor's cookie), hex-encoded;
    /// the purposes never collide with tracking tokens.
    pub fn sign(&self, purpose: &str, data: &str) -> String {
        hex::encode(&self.mac(purpose, data)[..16])
    }
}

/// 80 bits → 16 characters (input length a multiple of 5 bytes).
fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5);
    for chunk in bytes.chunks(5) {
        let mut v: u64 = 0;
        for b in chunk {
            v = (v << 8) | u64::from(*b);
        }
        v <<= 8 * (5 - chunk.len());
        for i in (0..8).rev() {
            out.push(ALPHABET[((v >> (i * 5)) & 31) as usize] as char);
        }
    }
    out
}

/// A token as typed, in its canonical form.
pub fn normalize(token: &str) -> String {
    token
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '.'))
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            c => c,
        })
        .take(TOKEN_LEN + 1)
        .collect()
}

/// A token for people: four groups of four.
pub fn display(token: &str) -> String {
    token
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join("-")
}

/// One step of the public timeline: when, what, into which state, by which unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingStep {
    pub at: DateTime<Utc>,
    pub action: Action,
    pub to_state: State,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_name: Option<String>,
    /// The reason given to the reporter, for the steps whose reason is addressed to them
    /// (a refusal, a deferral); other notes are staff's and never shown here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Steps whose note is the reason owed to the reporter.
const REASONED: [Action; 2] = [Action::Reject, Action::Defer];

/// What the holder of a tracking link sees: the report's own text, its progress and the
/// public answer. Never the reporter's contact data, staff identities or internal notes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingView {
    pub id: ReportId,
    pub category: CategoryCode,
    pub category_name: String,
    pub title: String,
    pub description: String,
    pub state: State,
    pub unit_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    /// Đ.7.5: the target date of a deferral the city accepted, shown beside `due_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_date: Option<chrono::NaiveDate>,
    pub public_answer: Option<String>,
    pub published: bool,
    pub rating: Option<u8>,
    pub can_rate: bool,
    pub can_reopen: bool,
    pub timeline: Vec<TrackingStep>,
}

/// The reporter as an actor (the holder of the link acts as them), when there is one.
pub fn reporter_actor(r: &Report) -> Option<Actor> {
    r.reporter_id()
        .filter(|id| !id.is_empty())
        .map(|id| Actor::new(id, Role::Citizen, None))
}

/// The tracking view of `r` (the caller has checked the token).
pub fn tracking_view(r: &Report, rules: &CityRules, now: DateTime<Utc>) -> TrackingView {
    let cfg = &rules.config;
    let unit_name = |u: &str| cfg.unit(u).map(|x| x.name.clone());
    // The reporter's own actions, checked as `apply` checks them first (role, ownership, state).
    let may = |action: Action| {
        reporter_actor(r).is_some_and(|a| {
            lifecycle::authorize(r, action, &a).is_ok()
                && lifecycle::allowed_states(action).contains(&r.state)
        })
    };
    TrackingView {
        id: r.id.clone(),
        category: r.category.clone(),
        category_name: cfg
            .category(&r.category)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| r.category.clone()),
        title: r.title.clone(),
        description: r.description.clone(),
        state: r.state,
        unit_name: r.lead_unit().and_then(unit_name),
        created_at: r.created_at,
        due_at: r.due_at(),
        target_date: r.target_date(),
        public_answer: r.public_answer.clone(),
        published: r.state_is_public(),
        rating: r.rating.as_ref().map(|x| x.stars),
        can_rate: may(Action::Rate) && r.rating.is_none(),
        can_reopen: may(Action::Reopen) && lifecycle::within_reopen_window(r, rules, now),
        timeline: r
            .timeline
            .iter()
            .filter(|e| e.visible_to_reporter)
            .map(|e| TrackingStep {
                at: e.at,
                action: e.action,
                to_state: e.to_state,
                unit_name: e.unit.as_deref().and_then(unit_name),
                reason: e
                    .note
                    .clone()
                    .filter(|_| REASONED.contains(&e.action))
                    .map(|n| screening::mask_abusive(&cfg.screening, &n)),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TrackingKey {
        TrackingKey::new("a test secret of enough length").unwrap()
    }

    #[test]
    fn a_token_opens_only_its_own_report() {
        let k = key();
        let a = ReportId("r-1".into());
        let b = ReportId("r-2".into());
        let t = k.token(&a);
        assert_eq!(t.len(), TOKEN_LEN);
        assert!(t.bytes().all(|c| ALPHABET.contains(&c)));
        assert!(k.verify(&a, &t));
        assert!(!k.verify(&b, &t), "another report's token");
        let other = TrackingKey::new("another secret of enough length").unwrap();
        assert!(!other.verify(&a, &t), "another server's secret");
        assert!(!k.verify(&a, ""));
        assert!(!k.verify(&a, &t[..15]));
        assert!(!k.verify(&a, &format!("{t}0")));
    }

    #[test]
    fn a_token_may_be_typed_loosely() {
        let k = key();
        let a = ReportId("r-1".into());
        let t = k.token(&a);
        let typed = display(&t).to_lowercase();
        assert!(k.verify(&a, &typed), "{typed}");
        assert!(k.verify(&a, &display(&t).replace('-', " ")));
    }

    #[test]
    fn short_secrets_are_refused() {
        assert!(TrackingKey::new("short").is_none());
    }

    #[test]
    fn base32_is_crockford() {
        assert_eq!(base32(&[0, 0, 0, 0, 0]), "00000000");
        assert_eq!(base32(&[0xff; 5]), "ZZZZZZZZ");
    }
}
