//! Upload slots and attachments (issue 11): a presigned upload bound to its uploader and
//! capped by the store, the check of an object that has just arrived (type by magic bytes,
//! images decoded within limits, public copies without metadata), the move of an attached
//! file to permanent storage (Đ.7.3: evidence is kept forever), and short-lived download URLs
//! for those who may see a file.
//!
//! The bytes live in the media store:
//! - `uploads/<owner>/<id>`: the bytes as uploaded (expire when never attached);
//! - `media/<owner>/<id>`: an attached file (kept);
//! - `public/<owner>/<id>.jpg` and `public/<owner>/<id>-thumb.jpg`: the only copies a public
//!   URL ever points at (photos, re-encoded without metadata; the thumbnail made from the
//!   public copy on its first request, `app::thumbnails`).
//!
//! The slot ([`UploadSlot`]: promised type and size, then the outcome of the check, failed
//! with a reason the client can show, or ready) and the uploader's daily quota live behind
//! the [`crate::slots::UploadSlots`] port: JSON records in the media store (embedded), or
//! DynamoDB items (AWS).
//!
//! `<owner>` is a hash of the uploader's id, so nobody can attach someone else's upload.

use super::{media_err, App};
use crate::error::DomainError;
use crate::ids::AttachmentId;
use crate::imaging::{self, ImageLimits};
use crate::lifecycle;
use crate::media::{
    is_upload_key, kind_of, sniff, type_matches, SlotState, UploadCheck, UploadSlot, SNIFF_LEN,
};
use crate::model::*;
use crate::ports::*;
use crate::slots::{DayLimits, SlotError, SlotVerdict};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tracing::{info, warn};

pub use crate::media::ACCEPTED_TYPES as UPLOAD_TYPES;

const UPLOAD_TTL: Duration = Duration::from_secs(15 * 60);
const DOWNLOAD_TTL: Duration = Duration::from_secs(10 * 60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadTicket {
    pub attachment_id: String,
    pub upload: PresignedUrl,
    pub max_size: u64,
}

/// What the uploader sees of a slot (`GET /v1/uploads/{id}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadStatus {
    pub attachment_id: String,
    pub content_type: String,
    pub kind: MediaKind,
    #[serde(flatten)]
    pub state: SlotState,
}

fn owner_of(actor: &Actor) -> String {
    hex::encode(&Sha256::digest(actor.id.as_bytes())[..8])
}

/// The keys of one slot.
struct Keys {
    owner: String,
    upload: String,
    stored: String,
    public: String,
    thumb: String,
}

impl Keys {
    fn new(owner: &str, id: &str) -> Keys {
        Keys {
            owner: owner.to_string(),
            upload: format!("uploads/{owner}/{id}"),
            stored: format!("media/{owner}/{id}"),
            public: format!("public/{owner}/{id}.jpg"),
            thumb: format!("public/{owner}/{id}-thumb.jpg"),
        }
    }

    /// The keys of an upload key we issued (`uploads/<owner>/<id>`).
    fn of_upload(key: &str) -> Option<Keys> {
        if !is_upload_key(key) {
            return None;
        }
        let mut parts = key.split('/').skip(1);
        let (Some(owner), Some(id)) = (parts.next(), parts.next()) else {
            return None;
        };
        Some(Keys::new(owner, id))
    }
}

/// A hash naming the request that attached a slot (the scoped idempotency key).
fn attach_mark(key: Option<&str>) -> Option<String> {
    key.map(|k| hex::encode(&Sha256::digest(k.as_bytes())[..12]))
}

/// A slot resolved for attachment, marked attached once the report is stored.
pub(super) struct Resolved {
    pub attachments: Vec<Attachment>,
    /// (owner, slot) of each attachment.
    slots: Vec<(String, UploadSlot)>,
    uploads: Vec<String>,
}

fn slot_err(e: SlotError) -> DomainError {
    DomainError::Storage(e.to_string())
}

impl App {
    pub(super) fn image_limits(&self) -> ImageLimits {
        let m = &self.rules.config.city.media;
        ImageLimits {
            max_pixels: m.max_image_pixels,
            public_px: m.public_image_px,
            thumbnail_px: m.thumbnail_px,
        }
    }

    /// Seconds until the city's local day of `now` ends.
    fn secs_to_local_midnight(&self) -> u64 {
        let now = self.now();
        let today = self.rules.local(now).date_naive();
        today
            .succ_opt()
            .and_then(|d| self.rules.local_day_start(d))
            .map(|t| (t - now).num_seconds().max(1) as u64)
            .unwrap_or(3600)
    }

    /// A presigned upload for one file of `content_type`, at most `size` bytes (the store
    /// refuses more). Refused past the kind's size limit, for PDFs from citizens (documents
    /// are for units), and past the per-person daily quota (429 with Retry-After).
    pub async fn request_upload(
        &self,
        actor: &Actor,
        content_type: &str,
        size: u64,
    ) -> Result<UploadTicket, DomainError> {
        let media = &self.rules.config.city.media;
        let kind = kind_of(content_type).ok_or_else(|| {
            DomainError::invalid("content_type", "định dạng tệp không được hỗ trợ")
        })?;
        if kind == MediaKind::Document && actor.role == Role::Citizen {
            return Err(DomainError::invalid(
                "content_type",
                "người dân chỉ gửi kèm ảnh, âm thanh hoặc video",
            ));
        }
        let max = media.limit(kind).max_bytes();
        if size == 0 {
            return Err(DomainError::invalid("size", "tệp rỗng (0 byte)"));
        }
        if size > max {
            return Err(DomainError::invalid(
                "size",
                format!("kích thước tệp phải từ 1 byte đến {} MB", max / 1024 / 1024),
            ));
        }
        let owner = owner_of(actor);
        let now = self.now();
        // Per-person daily quota, counted by local day together with the slot's issue.
        let day = self.rules.local(now).date_naive();
        let attachment_id = AttachmentId::issued(self.ids.new_id());
        let keys = Keys::new(&owner, attachment_id.as_str());
        let slot = UploadSlot {
            id: attachment_id.as_str().to_string(),
            content_type: content_type.to_string(),
            kind,
            max_size: size,
            created_at: now,
            state: SlotState::Pending,
            size: None,
            public_key: None,
            thumb_key: None,
            location_hint: None,
        };
        let limits = DayLimits {
            count: media.daily_uploads,
            bytes: media.daily_bytes(),
        };
        match self.slots.issue(&owner, day, &slot, limits).await {
            Ok(()) => {}
            Err(SlotError::QuotaExceeded) => {
                let retry_after_secs = self.secs_to_local_midnight();
                warn!(actor = %actor.id, size, "upload quota exceeded");
                return Err(DomainError::QuotaExceeded { retry_after_secs });
            }
            Err(e) => return Err(slot_err(e)),
        }
        let upload = self
            .media
            .presign_put(&keys.upload, content_type, size, UPLOAD_TTL)
            .await
            .map_err(|e| match e {
                MediaError::InsufficientStorage => DomainError::StorageFull,
                other => media_err(other),
            })?;
        info!(attachment_id = %slot.id, content_type, size, "upload slot issued");
        Ok(UploadTicket {
            attachment_id: slot.id,
            upload,
            max_size: size,
        })
    }

    /// Where the actor's upload stands (failed with a reason the client can show, ...).
    pub async fn upload_status(
        &self,
        actor: &Actor,
        raw_id: &str,
    ) -> Result<UploadStatus, DomainError> {
        let id = AttachmentId::parse("attachment_id", raw_id)?;
        let slot = self
            .slots
            .get(&owner_of(actor), id.as_str())
            .await
            .map_err(slot_err)?
            .ok_or(DomainError::NotFound)?;
        Ok(UploadStatus {
            attachment_id: slot.id,
            content_type: slot.content_type,
            kind: slot.kind,
            state: slot.state,
        })
    }

    /// Checks an object that has just been uploaded (S3 ObjectCreated, the embedded worker, or
    /// an attach that finds the slot unchecked): a key we did not issue or an unknown object is
    /// ignored; a wrong type, an empty file or an image that cannot be decoded within limits
    /// is deleted and its slot marked failed; otherwise photos get their public copies and the
    /// slot is ready.
    ///
    /// The slot is not read first (issue 10): the object's type and size limit are those its
    /// upload URL bound (S3: the POST policy's `Content-Type`, `content-length-range` and
    /// `x-amz-meta-max-size`), and the verdict is written only if it fits the slot as stored
    /// ([`crate::slots::UploadSlots::record_verdict`]: still pending, and an accepted object of
    /// the slot's type within its size). Only when it does not is the slot read: a redelivered
    /// event (S3 may deliver twice) then returns the recorded outcome and writes nothing; an
    /// object that is not what its slot promised (a store that did not enforce the upload's
    /// policy) is refused like any other.
    pub async fn check_upload(&self, key: &str) -> Result<UploadCheck, DomainError> {
        let ignored = |reason: &str| {
            Ok(UploadCheck::Ignored {
                reason: reason.into(),
            })
        };
        let Some(keys) = Keys::of_upload(key) else {
            warn!(key = %key, "object event for a key we did not issue: ignored");
            return ignored("foreign key");
        };
        let id = keys.upload.rsplit('/').next().unwrap_or_default();
        // One read of the object: the whole photo when it gets public copies (its first
        // bytes are the type check), else the first bytes; both with the type and size.
        let derivable: Vec<&str> = UPLOAD_TYPES
            .iter()
            .filter(|(t, k)| *k == MediaKind::Photo && imaging::can_derive(t))
            .map(|(t, _)| *t)
            .collect();
        let whole = ReadWhole {
            types: &derivable,
            max: self.rules.config.city.media.photo.max_bytes(),
        };
        let Some(object) = self
            .media
            .read_upload(key, SNIFF_LEN, whole)
            .await
            .map_err(media_err)?
        else {
            // Refused and deleted by an earlier delivery of this event, or never uploaded.
            return self.recorded_check(&keys.owner, id, key).await;
        };
        let verdict = self.inspect(&keys, object).await?;
        if matches!(verdict.state, SlotState::Failed { .. }) {
            self.media.delete(key).await.map_err(media_err)?;
        }
        if self
            .slots
            .record_verdict(&keys.owner, id, &verdict)
            .await
            .map_err(slot_err)?
        {
            return Ok(self.logged_outcome(key, id, &verdict));
        }
        // Not written: no slot, a verdict already there, or not what the slot promised.
        let Some(slot) = self.slots.get(&keys.owner, id).await.map_err(slot_err)? else {
            warn!(key = %key, "object event for an upload without a slot: ignored");
            return ignored("unknown slot");
        };
        if slot.state != SlotState::Pending {
            info!(key = %key, attachment_id = %slot.id, "upload already checked: nothing written");
            return Ok(outcome_of(&slot, "unknown object"));
        }
        // The store did not hold the upload to its slot's type or size: refused.
        let reason = if verdict.content_type != slot.content_type {
            format!("Nội dung tệp không đúng định dạng {}.", slot.content_type)
        } else {
            format!(
                "Tệp lớn hơn dung lượng đã khai báo ({} byte).",
                slot.max_size
            )
        };
        for k in [
            Some(key),
            verdict.public_key.as_deref(),
            verdict.thumb_key.as_deref(),
        ]
        .into_iter()
        .flatten()
        {
            self.media.delete(k).await.map_err(media_err)?;
        }
        let refused = SlotVerdict {
            state: SlotState::Failed { reason },
            public_key: None,
            thumb_key: None,
            location_hint: None,
            ..verdict
        };
        if self
            .slots
            .record_verdict(&keys.owner, id, &refused)
            .await
            .map_err(slot_err)?
        {
            return Ok(self.logged_outcome(key, id, &refused));
        }
        // Another delivery of the event recorded its verdict meanwhile: that one stands.
        self.recorded_check(&keys.owner, id, key).await
    }

    /// What the slot records of its check, for an event that finds its object gone or the
    /// verdict written already.
    async fn recorded_check(
        &self,
        owner: &str,
        id: &str,
        key: &str,
    ) -> Result<UploadCheck, DomainError> {
        let slot = self.slots.get(owner, id).await.map_err(slot_err)?;
        let Some(slot) = slot else {
            warn!(key = %key, "object event for an upload without a slot: ignored");
            return Ok(UploadCheck::Ignored {
                reason: "unknown slot".into(),
            });
        };
        Ok(outcome_of(&slot, "unknown object"))
    }

    fn logged_outcome(&self, key: &str, id: &str, verdict: &SlotVerdict) -> UploadCheck {
        match &verdict.state {
            SlotState::Failed { reason } => {
                warn!(key = %key, attachment_id = %id, reason = %reason, "upload refused and deleted");
                UploadCheck::Rejected {
                    reason: reason.clone(),
                }
            }
            _ => {
                info!(key = %key, attachment_id = %id, size = verdict.size, "upload accepted");
                UploadCheck::Accepted {
                    content_type: verdict.content_type.clone(),
                    size: verdict.size,
                }
            }
        }
    }

    /// The checks of one upload, from the object alone: a `Failed` verdict (with a reason in
    /// Vietnamese, for the uploader) refuses it; a `Ready` one carries the public copies.
    async fn inspect(
        &self,
        keys: &Keys,
        object: UploadedObject,
    ) -> Result<SlotVerdict, DomainError> {
        let content_type = object.content_type.clone().unwrap_or_default();
        let refuse = |reason: String| SlotVerdict {
            content_type: content_type.clone(),
            size: object.size,
            state: SlotState::Failed { reason },
            public_key: None,
            thumb_key: None,
            location_hint: None,
        };
        if object.size == 0 {
            return Ok(refuse("Tệp rỗng (0 byte).".into()));
        }
        let Some(kind) = kind_of(&content_type) else {
            return Ok(refuse(format!(
                "Nội dung tệp không đúng định dạng {content_type}."
            )));
        };
        let limit = self
            .rules
            .config
            .city
            .media
            .limit(kind)
            .max_bytes()
            .min(object.max_size.unwrap_or(u64::MAX));
        let too_large = || format!("Tệp lớn hơn dung lượng đã khai báo ({limit} byte).");
        let (head, whole) = match object.body {
            UploadedBody::TooLarge => return Ok(refuse(too_large())),
            UploadedBody::Whole(b) => {
                let head = b[..b.len().min(SNIFF_LEN as usize)].to_vec();
                (head, Some(b))
            }
            UploadedBody::Head(h) => (h, None),
        };
        if object.size > limit {
            return Ok(refuse(too_large()));
        }
        if !sniff(&head).is_some_and(|t| type_matches(&content_type, t)) {
            return Ok(refuse(format!(
                "Nội dung tệp không đúng định dạng {content_type}."
            )));
        }
        let mut found = SlotVerdict {
            content_type: content_type.clone(),
            size: object.size,
            state: SlotState::Ready,
            public_key: None,
            thumb_key: None,
            location_hint: None,
        };
        if let Some(bytes) = whole {
            let limits = self.image_limits();
            let ct = content_type.clone();
            let made = tokio::task::spawn_blocking(move || {
                imaging::make_public_copy(&bytes, &ct, &limits)
            })
            .await
            .map_err(|e| DomainError::Storage(format!("image worker: {e}")))?;
            let d = match made {
                Ok(d) => d,
                Err(e) => return Ok(refuse(e.message_vi())),
            };
            self.media
                .write(&keys.public, &d.jpeg, "image/jpeg")
                .await
                .map_err(media_err)?;
            // Where its thumbnail is made on its first request (`App::ensure_thumbnail`).
            found.public_key = Some(keys.public.clone());
            found.thumb_key = Some(keys.thumb.clone());
            found.location_hint = d.gps;
        }
        Ok(found)
    }

    /// Turns the upload ids a client sent into attachments: each must be the actor's own slot,
    /// uploaded and accepted (checked now when still pending), not attached before (unless by
    /// this same idempotent request), within the per-kind count of the report together with
    /// `existing`. The bytes are copied to permanent storage; nothing is marked until
    /// [`App::mark_attached`] runs after the report is stored.
    pub(super) async fn resolve_uploads(
        &self,
        actor: &Actor,
        ids: &[String],
        existing: &[Attachment],
        request: Option<&str>,
    ) -> Result<Resolved, DomainError> {
        if ids.len() > lifecycle::MAX_ATTACHMENTS {
            return Err(DomainError::invalid(
                "attachments",
                format!("tối đa {} tệp đính kèm", lifecycle::MAX_ATTACHMENTS),
            ));
        }
        let media = &self.rules.config.city.media;
        let owner = owner_of(actor);
        let mark = attach_mark(request);
        let mut out = Resolved {
            attachments: Vec::with_capacity(ids.len()),
            slots: Vec::new(),
            uploads: Vec::new(),
        };
        for raw in ids {
            let id = AttachmentId::parse("attachments", raw)?;
            if out.attachments.iter().any(|a| a.id == id.as_str()) {
                return Err(DomainError::invalid(
                    "attachments",
                    format!("tệp “{id}” được gửi hai lần"),
                ));
            }
            let keys = Keys::new(&owner, id.as_str());
            let not_uploaded =
                || DomainError::invalid("attachments", format!("chưa tải lên tệp “{id}”"));
            let read = || async {
                self.slots
                    .get(&owner, id.as_str())
                    .await
                    .map_err(slot_err)?
                    .ok_or_else(not_uploaded)
            };
            // The check's verdict is in the slot: trusted as is, checked here only when no
            // check has run yet.
            let mut slot: UploadSlot = read().await?;
            if slot.state == SlotState::Pending {
                self.check_upload(&keys.upload).await?;
                slot = read().await?;
            }
            match &slot.state {
                SlotState::Pending => return Err(not_uploaded()),
                SlotState::Failed { reason } => {
                    return Err(DomainError::invalid(
                        "attachments",
                        format!("tệp “{id}” bị từ chối: {reason}"),
                    ))
                }
                SlotState::Attached { by } if mark.is_none() || by != &mark => {
                    return Err(DomainError::invalid(
                        "attachments",
                        format!("tệp “{id}” đã được đính kèm trước đó"),
                    ))
                }
                SlotState::Attached { .. } => {}
                SlotState::Ready => {
                    // Đ.7.3: an attached file is kept forever, so it leaves the upload area
                    // (which expires) for a permanent key, copied inside the store.
                    match self.media.copy(&keys.upload, &keys.stored).await {
                        Ok(()) => {}
                        Err(MediaError::NotFound)
                            if self.media.head(&keys.stored).await.ok().flatten().is_some() => {}
                        Err(MediaError::NotFound) => return Err(not_uploaded()),
                        Err(e) => return Err(media_err(e)),
                    }
                    if !self.uploads_expire {
                        out.uploads.push(keys.upload.clone());
                    }
                }
            }
            out.attachments.push(Attachment {
                id: id.as_str().to_string(),
                kind: slot.kind,
                content_type: slot.content_type.clone(),
                size: slot.size.unwrap_or(0),
                key: keys.stored.clone(),
                public_key: slot.public_key.clone(),
                public: false,
                thumb_key: slot.thumb_key.clone(),
                location_hint: slot.location_hint,
            });
            out.slots.push((keys.owner, slot));
        }
        for kind in [
            MediaKind::Photo,
            MediaKind::Audio,
            MediaKind::Video,
            MediaKind::Document,
        ] {
            let max = media.limit(kind).max_count as usize;
            let count = existing
                .iter()
                .chain(out.attachments.iter())
                .filter(|a| a.kind == kind)
                .count();
            let added = out.attachments.iter().any(|a| a.kind == kind);
            if added && count > max {
                return Err(DomainError::invalid(
                    "attachments",
                    format!("mỗi phản ánh có tối đa {max} tệp loại {}", kind_vi(kind)),
                ));
            }
        }
        Ok(out)
    }

    /// After the report holding them is stored: slots become attached (a second attach is
    /// refused) and the uploaded bytes, now copied, are removed (unless the store expires
    /// them itself, [`App::with_uploads_left_to_expire`]). Failures are logged: the report is
    /// stored, and unattached uploads expire anyway.
    pub(super) async fn mark_attached(
        &self,
        report_id: &ReportId,
        resolved: Resolved,
        request: Option<&str>,
    ) {
        let by = attach_mark(request);
        for (owner, mut slot) in resolved.slots {
            slot.state = SlotState::Attached { by: by.clone() };
            if let Err(e) = self.slots.put(&owner, &slot).await {
                warn!(report_id = %report_id, attachment_id = %slot.id, error = %e, "cannot mark upload attached");
            }
        }
        for key in resolved.uploads {
            if let Err(e) = self.media.delete(&key).await {
                warn!(report_id = %report_id, key = %key, error = %e, "cannot remove attached upload");
            }
        }
    }

    /// A short-lived download URL for an attachment the actor may see. Public callers
    /// (`actor` None) only get the metadata-free copy (or its thumbnail with `thumbnail`) of
    /// an attachment approved for publication; the reporter only files meant for them.
    pub async fn attachment_url(
        &self,
        id: &ReportId,
        attachment_id: &str,
        actor: Option<&Actor>,
    ) -> Result<PresignedUrl, DomainError> {
        self.attachment_url_sized(id, attachment_id, actor, false)
            .await
    }

    /// [`App::attachment_url`], of the thumbnail when `thumbnail` (photos with a public copy).
    pub async fn attachment_url_sized(
        &self,
        id: &ReportId,
        attachment_id: &str,
        actor: Option<&Actor>,
        thumbnail: bool,
    ) -> Result<PresignedUrl, DomainError> {
        let r = match actor {
            Some(a) => self.get_for(id, a).await?,
            None => {
                let r = self.load(id).await?;
                if !r.state_is_public() || r.flags.state_secret {
                    return Err(DomainError::NotFound);
                }
                r
            }
        };
        let a = r
            .attachments
            .iter()
            .find(|a| a.id == attachment_id)
            .ok_or(DomainError::NotFound)?;
        let key = match actor {
            // Public URLs only ever point at derivatives.
            None if a.public => if thumbnail {
                a.thumb_key.clone()
            } else {
                a.public_key.clone()
            }
            .ok_or(DomainError::NotFound)?,
            None => return Err(DomainError::NotFound),
            Some(actor) => {
                if actor.role == Role::Citizen
                    && !crate::views::reporter_attachment_ids(&r).contains(&a.id.as_str())
                {
                    return Err(DomainError::NotFound);
                }
                match (thumbnail, &a.thumb_key) {
                    (true, Some(t)) => t.clone(),
                    (true, None) => return Err(DomainError::NotFound),
                    (false, _) => a.key.clone(),
                }
            }
        };
        if thumbnail {
            let public = a.public_key.as_deref().ok_or(DomainError::NotFound)?;
            self.ensure_thumbnail(&r.id, public, &key).await?;
        }
        self.media
            .presign_get(&key, DOWNLOAD_TTL)
            .await
            .map_err(media_err)
    }
}

/// What a slot's recorded state says of its check (`unchecked` when it has none yet).
fn outcome_of(slot: &UploadSlot, unchecked: &str) -> UploadCheck {
    match &slot.state {
        SlotState::Pending => UploadCheck::Ignored {
            reason: unchecked.into(),
        },
        SlotState::Failed { reason } => UploadCheck::Rejected {
            reason: reason.clone(),
        },
        SlotState::Ready | SlotState::Attached { .. } => UploadCheck::Accepted {
            content_type: slot.content_type.clone(),
            size: slot.size.unwrap_or(0),
        },
    }
}

fn kind_vi(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Photo => "ảnh",
        MediaKind::Audio => "âm thanh",
        MediaKind::Video => "video",
        MediaKind::Document => "văn bản",
    }
}
