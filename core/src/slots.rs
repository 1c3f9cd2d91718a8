//! Upload slots and the uploader's daily quota (issue 11), behind one port so each runtime
//! keeps them where they cost least:
//! - embedded: small JSON records in its media store, next to the bytes they describe
//!   (`slots/<owner>/<id>.json`, `quota/<owner>/<local day>.json`): [`MediaSlots`];
//! - AWS: DynamoDB items (`phananh_aws::DynamoSlots`), where issuing a slot and counting it
//!   against the day's quota is ONE conditional request, and the media function's verdict
//!   is one write of the slot's item the API reads back when attaching (issue 10: no S3 JSON
//!   records read and rewritten).
//!
//! `<owner>` is a hash of the uploader's id (see `app::uploads`).

use crate::media::{SlotState, UploadSlot};
use crate::model::GeoPoint;
use crate::ports::{MediaError, MediaStore};
use async_trait::async_trait;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The per-person daily limits a new slot is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayLimits {
    /// Most slots per local day.
    pub count: u32,
    /// Most declared bytes per local day.
    pub bytes: u64,
}

/// What a day's quota holds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayQuota {
    pub count: u32,
    pub bytes: u64,
}

impl DayLimits {
    /// Whether one more slot of `size` bytes fits after `used`.
    pub fn admits(&self, used: DayQuota, size: u64) -> bool {
        used.count < self.count && used.bytes.saturating_add(size) <= self.bytes
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SlotError {
    /// The slot would pass the uploader's daily count or bytes: nothing was stored.
    #[error("daily upload quota exceeded")]
    QuotaExceeded,
    #[error("upload slots: {0}")]
    Backend(String),
}

/// What the check of an upload found, written to its slot by
/// [`UploadSlots::record_verdict`] without reading the slot first (issue 10).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotVerdict {
    /// The object's stored type and size, which a `Ready` verdict must match the slot by.
    pub content_type: String,
    pub size: u64,
    /// `Ready` or `Failed`.
    #[serde(flatten)]
    pub state: SlotState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_hint: Option<GeoPoint>,
}

impl SlotVerdict {
    /// Whether the verdict may be written over `slot`: the slot is still pending (a verdict
    /// is written once, a redelivered event finds it taken), and an acceptance is of an
    /// object of the slot's type within its size (what the upload URL promised).
    pub fn fits(&self, slot: &UploadSlot) -> bool {
        slot.state == SlotState::Pending
            && match self.state {
                SlotState::Ready => {
                    self.content_type == slot.content_type && self.size <= slot.max_size
                }
                _ => true,
            }
    }

    /// `slot` with this verdict.
    pub fn apply(&self, slot: &mut UploadSlot) {
        slot.state = self.state.clone();
        slot.size = Some(self.size);
        slot.public_key = self.public_key.clone();
        slot.thumb_key = self.thumb_key.clone();
        slot.location_hint = self.location_hint;
    }
}

/// Where upload slots and the daily quota live.
#[async_trait]
pub trait UploadSlots: Send + Sync {
    /// Counts `slot` (its `max_size` bytes) against `owner`'s quota of `day` and stores it:
    /// both or neither, exact under concurrent requests of the same owner.
    async fn issue(
        &self,
        owner: &str,
        day: NaiveDate,
        slot: &UploadSlot,
        limits: DayLimits,
    ) -> Result<(), SlotError>;
    /// The slot `id` of `owner`, as last stored.
    async fn get(&self, owner: &str, id: &str) -> Result<Option<UploadSlot>, SlotError>;
    /// Stores a slot's new state (the check's verdict, attached).
    async fn put(&self, owner: &str, slot: &UploadSlot) -> Result<(), SlotError>;
    /// Writes the check's verdict to the slot `id` of `owner` if it [fits](SlotVerdict::fits)
    /// the slot as stored: true when written; false, writing nothing, when there is no such
    /// slot, it has a verdict already, or the object is not what the slot promised. The AWS
    /// adapter makes this one conditional write (no read); this default reads then writes.
    async fn record_verdict(
        &self,
        owner: &str,
        id: &str,
        verdict: &SlotVerdict,
    ) -> Result<bool, SlotError> {
        let Some(mut slot) = self.get(owner, id).await? else {
            return Ok(false);
        };
        if !verdict.fits(&slot) {
            return Ok(false);
        }
        verdict.apply(&mut slot);
        self.put(owner, &slot).await?;
        Ok(true)
    }
}

/// Largest JSON record (slot, quota) read back.
const RECORD_MAX: u64 = 64 * 1024;

/// [`UploadSlots`] as JSON records in a media store (the embedded runtime, and every test
/// app that is given no other). One lock serialises issuing within the process, so the quota
/// is exact in the one process the embedded runtime is.
pub struct MediaSlots {
    media: Arc<dyn MediaStore>,
    issuing: tokio::sync::Mutex<()>,
}

impl MediaSlots {
    pub fn new(media: Arc<dyn MediaStore>) -> MediaSlots {
        MediaSlots {
            media,
            issuing: tokio::sync::Mutex::new(()),
        }
    }

    fn slot_key(owner: &str, id: &str) -> String {
        format!("slots/{owner}/{id}.json")
    }

    async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<T>, SlotError> {
        match self.media.read(key, RECORD_MAX).await {
            Ok(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| SlotError::Backend(format!("record {key}: {e}"))),
            Err(MediaError::NotFound) => Ok(None),
            Err(e) => Err(SlotError::Backend(e.to_string())),
        }
    }

    async fn write_json<T: Serialize>(&self, key: &str, v: &T) -> Result<(), SlotError> {
        let b = serde_json::to_vec(v).map_err(|e| SlotError::Backend(e.to_string()))?;
        self.media
            .write(key, &b, "application/json")
            .await
            .map_err(|e| SlotError::Backend(e.to_string()))
    }
}

#[async_trait]
impl UploadSlots for MediaSlots {
    async fn issue(
        &self,
        owner: &str,
        day: NaiveDate,
        slot: &UploadSlot,
        limits: DayLimits,
    ) -> Result<(), SlotError> {
        let _one_at_a_time = self.issuing.lock().await;
        let quota_key = format!("quota/{owner}/{day}.json");
        let used: DayQuota = self.read_json(&quota_key).await?.unwrap_or_default();
        if !limits.admits(used, slot.max_size) {
            return Err(SlotError::QuotaExceeded);
        }
        self.write_json(
            &quota_key,
            &DayQuota {
                count: used.count + 1,
                bytes: used.bytes + slot.max_size,
            },
        )
        .await?;
        self.write_json(&Self::slot_key(owner, &slot.id), slot)
            .await
    }

    async fn get(&self, owner: &str, id: &str) -> Result<Option<UploadSlot>, SlotError> {
        self.read_json(&Self::slot_key(owner, id)).await
    }

    async fn put(&self, owner: &str, slot: &UploadSlot) -> Result<(), SlotError> {
        self.write_json(&Self::slot_key(owner, &slot.id), slot)
            .await
    }
}
