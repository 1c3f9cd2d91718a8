//! The append-only, hash-chained timeline of a report.

use super::{Action, Role, State, UnitId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// One entry of the append-only timeline: who, role, unit, when, what, note, attachments.
/// Entries are hash-chained (`prev_hash` → `hash`) so any later edit is detectable; a
/// leader's directive (Đ.6.2) is such an entry and is therefore immutable and attributable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub seq: u32,
    pub at: DateTime<Utc>,
    pub actor_id: String,
    pub role: Role,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<UnitId>,
    pub action: Action,
    pub from_state: Option<State>,
    pub to_state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(default)]
    pub attachments: Vec<String>,
    /// Action-specific data (e.g. assignment, deferral date, rating), kept as JSON.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub data: serde_json::Value,
    /// Whether staff may show this entry to the reporter (internal notes are not).
    #[serde(default = "default_true")]
    pub visible_to_reporter: bool,
    pub prev_hash: String,
    pub hash: String,
    /// HMAC-SHA256 under the audit key (kept outside the database) over the report id, this
    /// entry's hash and the previous entry's MAC (`crate::audit`): whoever can write the
    /// database but lacks the key cannot recompute it. Empty where no key is configured.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac: String,
}

fn default_true() -> bool {
    true
}

impl TimelineEntry {
    /// The hash over this entry's content and the previous hash (SHA-256, hex).
    pub fn compute_hash(&self) -> String {
        let mut h = Sha256::new();
        // The canonical form is the JSON of the entry with `hash` blanked.
        let mut copy = self.clone();
        copy.hash = String::new();
        // The MAC seals the hash, so it is not part of it (entries from before MACs keep
        // their hashes).
        copy.mac = String::new();
        // serde_json of a struct is deterministic (field order is declaration order).
        let bytes = serde_json::to_vec(&copy).unwrap_or_default();
        h.update(self.prev_hash.as_bytes());
        h.update(&bytes);
        hex::encode(h.finalize())
    }
}

/// The genesis value of a timeline hash chain.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
