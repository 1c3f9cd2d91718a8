//! The audit trail that proves itself (Đ.6.2: a leader's directive is immutable and
//! attributable; Đ.9.2: the office keeps the records). Three layers:
//!
//! 1. the hash chain of every timeline (`prev_hash` → `hash`, SHA-256, no key): any edit of
//!    an entry breaks it, but whoever can write the database can recompute it;
//! 2. a MAC chain over it: `mac = HMAC-SHA256(audit key, report id, seq, previous mac, hash)`,
//!    the key kept outside the database (a 0600 file embedded, Secrets Manager on AWS), so an
//!    edited entry cannot be resealed without the key;
//! 3. a daily anchor: the Merkle root of every entry of one UTC day across all reports,
//!    appended where the database cannot overwrite it (an append-only file embedded), so even a
//!    recomputed chain (a stolen key, or the key-less hash) shows against the day's root.
//!
//! Pure functions; the use cases are in `app::audit`.

use crate::model::{Report, ReportId, TimelineEntry, GENESIS_HASH};
use chrono::{DateTime, NaiveDate, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// The MAC of entry `e` of report `id`, chained to the previous entry's MAC.
pub fn entry_mac(key: &[u8], id: &ReportId, e: &TimelineEntry, prev_mac: &str) -> String {
    let mut m = <HmacSha256 as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| <HmacSha256 as Mac>::new(&Default::default()));
    m.update(b"phananh-timeline-v1\0");
    m.update(id.0.as_bytes());
    m.update(b"\0");
    m.update(&e.seq.to_be_bytes());
    m.update(prev_mac.as_bytes());
    m.update(b"\0");
    m.update(e.hash.as_bytes());
    hex::encode(m.finalize().into_bytes())
}

/// Seals the entries of `report` that have no MAC yet (the ones a change just appended).
pub fn seal(report: &mut Report, key: &[u8]) {
    let mut prev = String::new();
    let id = report.id.clone();
    for e in report.timeline.iter_mut() {
        if e.mac.is_empty() {
            e.mac = entry_mac(key, &id, e, &prev);
        }
        prev = e.mac.clone();
    }
}

/// Why an entry fails verification (a stable machine code and a Vietnamese text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Break {
    /// Entries missing or out of order.
    SeqGap,
    /// `prev_hash` is not the previous entry's hash (an entry removed or inserted).
    ChainBroken,
    /// The entry's content does not match its hash (edited).
    HashMismatch,
    /// No MAC where the audit key is configured (written without the key, or stripped).
    MacMissing,
    /// The MAC does not match (edited and re-hashed without the key).
    MacMismatch,
}

impl Break {
    pub fn message_vi(self) -> &'static str {
        match self {
            Break::SeqGap => "thiếu hoặc sai thứ tự mục nhật ký",
            Break::ChainBroken => "chuỗi băm bị đứt (mục bị xóa hoặc chèn)",
            Break::HashMismatch => "nội dung mục không khớp mã băm (đã bị sửa)",
            Break::MacMissing => "mục không có mã xác thực (MAC)",
            Break::MacMismatch => "mã xác thực (MAC) không khớp (đã bị sửa và băm lại)",
        }
    }
}

/// The first entry that fails verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BadEntry {
    pub seq: u32,
    pub action: String,
    pub at: DateTime<Utc>,
    pub reason: Break,
    pub message: String,
}

/// The verification state of one report's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditCheck {
    pub report_id: ReportId,
    /// Every entry verified.
    pub ok: bool,
    /// Whether MACs were checked (an audit key is configured).
    pub keyed: bool,
    pub entries: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad: Option<BadEntry>,
}

/// Verifies the hash chain and, with `key`, the MAC chain of `report`'s timeline.
pub fn verify(report: &Report, key: Option<&[u8]>) -> AuditCheck {
    let mut prev_hash = GENESIS_HASH.to_string();
    let mut prev_mac = String::new();
    let mut first_bad = None;
    for (i, e) in report.timeline.iter().enumerate() {
        let reason = if e.seq as usize != i {
            Some(Break::SeqGap)
        } else if e.prev_hash != prev_hash {
            Some(Break::ChainBroken)
        } else if e.compute_hash() != e.hash {
            Some(Break::HashMismatch)
        } else {
            match key {
                Some(_) if e.mac.is_empty() => Some(Break::MacMissing),
                Some(k) => {
                    let want = entry_mac(k, &report.id, e, &prev_mac);
                    let same: bool =
                        subtle::ConstantTimeEq::ct_eq(want.as_bytes(), e.mac.as_bytes()).into();
                    (!same).then_some(Break::MacMismatch)
                }
                None => None,
            }
        };
        if let Some(reason) = reason {
            first_bad = Some(BadEntry {
                seq: e.seq,
                action: e.action.as_str().to_string(),
                at: e.at,
                reason,
                message: format!(
                    "mục #{} ({}): {}",
                    e.seq,
                    e.action.as_str(),
                    reason.message_vi()
                ),
            });
            break;
        }
        prev_hash = e.hash.clone();
        prev_mac = e.mac.clone();
    }
    AuditCheck {
        report_id: report.id.clone(),
        ok: first_bad.is_none(),
        keyed: key.is_some(),
        entries: report.timeline.len(),
        first_bad,
    }
}

/// The leaf of one entry in a day's Merkle tree: its report, position, hash and MAC.
pub fn leaf(id: &ReportId, e: &TimelineEntry) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"leaf\0");
    h.update(id.0.as_bytes());
    h.update(b"\0");
    h.update(e.seq.to_be_bytes());
    h.update(e.hash.as_bytes());
    h.update(b"\0");
    h.update(e.mac.as_bytes());
    h.finalize().into()
}

/// The Merkle root (SHA-256, an odd node carried up) of `leaves` in their order; the root of
/// no leaves is the genesis value.
pub fn merkle_root(mut level: Vec<[u8; 32]>) -> String {
    if level.is_empty() {
        return GENESIS_HASH.to_string();
    }
    // Bounded: each pass halves the level.
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|pair| match pair {
                [a, b] => {
                    let mut h = Sha256::new();
                    h.update(b"node\0");
                    h.update(a);
                    h.update(b);
                    h.finalize().into()
                }
                [a] => *a,
                _ => [0u8; 32],
            })
            .collect();
    }
    hex::encode(level[0])
}

/// One day's anchor: the root over every entry written that UTC day, in (report id, seq)
/// order, and how many there were.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub day: NaiveDate,
    pub root: String,
    pub entries: usize,
    /// When the anchor was made.
    pub made_at: DateTime<Utc>,
}

/// The leaves of `day` (UTC) of `reports`, sorted by (report id, seq).
pub fn day_leaves<'a>(
    reports: impl IntoIterator<Item = &'a Report>,
    day: NaiveDate,
) -> Vec<(ReportId, u32, [u8; 32])> {
    let mut out: Vec<(ReportId, u32, [u8; 32])> = reports
        .into_iter()
        .flat_map(|r| {
            r.timeline
                .iter()
                .filter(move |e| e.at.date_naive() == day)
                .map(move |e| (r.id.clone(), e.seq, leaf(&r.id, e)))
        })
        .collect();
    out.sort_by(|a, b| (a.0 .0.as_str(), a.1).cmp(&(b.0 .0.as_str(), b.1)));
    out
}

/// The anchor of `day` over `reports`.
pub fn anchor_of<'a>(
    reports: impl IntoIterator<Item = &'a Report>,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> Anchor {
    let leaves = day_leaves(reports, day);
    Anchor {
        day,
        entries: leaves.len(),
        root: merkle_root(leaves.into_iter().map(|(_, _, l)| l).collect()),
        made_at: now,
    }
}
