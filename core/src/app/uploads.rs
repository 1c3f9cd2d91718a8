//! Upload slots and attachments: a presigned upload bound to its uploader, the check of an
//! object that has just arrived, the move of an attached file to permanent storage (Đ.7.3:
//! evidence is kept forever), and short-lived download URLs for those who may see a file.

use super::{media_err, App};
use crate::error::DomainError;
use crate::ids::AttachmentId;
use crate::lifecycle;
use crate::media::{is_upload_key, sniff, type_matches, UploadCheck};
use crate::model::*;
use crate::ports::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;
use tracing::{info, warn};

/// Accepted upload types and size limits (the media pipeline validates magic bytes later).
pub const UPLOAD_TYPES: &[(&str, MediaKind, u64)] = &[
    ("image/jpeg", MediaKind::Photo, 15 * 1024 * 1024),
    ("image/png", MediaKind::Photo, 15 * 1024 * 1024),
    ("image/webp", MediaKind::Photo, 15 * 1024 * 1024),
    ("image/heic", MediaKind::Photo, 15 * 1024 * 1024),
    ("audio/mpeg", MediaKind::Audio, 20 * 1024 * 1024),
    ("audio/mp4", MediaKind::Audio, 20 * 1024 * 1024),
    ("audio/aac", MediaKind::Audio, 20 * 1024 * 1024),
    ("video/mp4", MediaKind::Video, 100 * 1024 * 1024),
    ("video/quicktime", MediaKind::Video, 100 * 1024 * 1024),
    ("application/pdf", MediaKind::Document, 20 * 1024 * 1024),
];

const UPLOAD_TTL: Duration = Duration::from_secs(15 * 60);
const DOWNLOAD_TTL: Duration = Duration::from_secs(10 * 60);

/// The kind and size limit of an accepted content type.
fn upload_type(content_type: &str) -> Option<(MediaKind, u64)> {
    UPLOAD_TYPES
        .iter()
        .find(|(t, _, _)| *t == content_type)
        .map(|(_, kind, max)| (*kind, *max))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadTicket {
    pub attachment_id: String,
    pub upload: PresignedUrl,
    pub max_size: u64,
}

/// The upload key of an attachment: bound to the uploader, so nobody can attach someone
/// else's upload.
fn upload_key(actor: &Actor, attachment_id: &AttachmentId) -> String {
    let owner = hex::encode(&Sha256::digest(actor.id.as_bytes())[..8]);
    format!("uploads/{owner}/{attachment_id}")
}

impl App {
    /// A presigned upload for one file.
    pub async fn request_upload(
        &self,
        actor: &Actor,
        content_type: &str,
        size: u64,
    ) -> Result<UploadTicket, DomainError> {
        let (_, max) = upload_type(content_type).ok_or_else(|| {
            DomainError::invalid("content_type", "định dạng tệp không được hỗ trợ")
        })?;
        if size == 0 || size > max {
            return Err(DomainError::invalid(
                "size",
                format!("kích thước tệp phải từ 1 byte đến {} MB", max / 1024 / 1024),
            ));
        }
        let attachment_id = AttachmentId::issued(self.ids.new_id());
        let key = upload_key(actor, &attachment_id);
        let upload = self
            .media
            .presign_put(&key, content_type, size, UPLOAD_TTL)
            .await
            .map_err(media_err)?;
        Ok(UploadTicket {
            attachment_id: attachment_id.as_str().to_string(),
            upload,
            max_size: size,
        })
    }

    /// Turns the upload ids a client sent into attachments: each must be the actor's own,
    /// uploaded, of an accepted type and size, with bytes that are what the type claims.
    pub(super) async fn resolve_uploads(
        &self,
        actor: &Actor,
        ids: &[String],
    ) -> Result<Vec<Attachment>, DomainError> {
        if ids.len() > lifecycle::MAX_ATTACHMENTS {
            return Err(DomainError::invalid(
                "attachments",
                format!("tối đa {} tệp đính kèm", lifecycle::MAX_ATTACHMENTS),
            ));
        }
        let mut out = Vec::with_capacity(ids.len());
        for raw in ids {
            let id = AttachmentId::parse("attachments", raw)?;
            let key = upload_key(actor, &id);
            let meta = self
                .media
                .head(&key)
                .await
                .map_err(media_err)?
                .ok_or_else(|| {
                    DomainError::invalid("attachments", format!("chưa tải lên tệp “{id}”"))
                })?;
            let ct = meta.content_type.unwrap_or_default();
            let (kind, max) = upload_type(&ct).ok_or_else(|| {
                DomainError::invalid("attachments", "định dạng tệp không được hỗ trợ")
            })?;
            if meta.size > max {
                return Err(DomainError::invalid("attachments", "tệp quá lớn"));
            }
            // Đ.7.3: a file attached to a report is kept forever, so it leaves the upload area
            // (which expires) for a permanent key; its bytes must be what its type claims.
            let bytes = match self.media.read(&key, max).await {
                Ok(b) => b,
                Err(MediaError::TooLarge) => {
                    return Err(DomainError::invalid("attachments", "tệp quá lớn"))
                }
                Err(e) => return Err(media_err(e)),
            };
            let genuine = sniff(&bytes).is_some_and(|found| type_matches(&ct, found));
            if !genuine {
                return Err(DomainError::invalid(
                    "attachments",
                    format!("nội dung tệp “{id}” không đúng định dạng {ct}"),
                ));
            }
            let stored = key.replacen("uploads/", "media/", 1);
            self.media
                .write(&stored, &bytes, &ct)
                .await
                .map_err(media_err)?;
            out.push(Attachment {
                id: id.as_str().to_string(),
                kind,
                content_type: ct,
                size: meta.size,
                key: stored,
                public_key: None,
                public: false,
            });
        }
        Ok(out)
    }

    /// Checks an object that has just been uploaded (S3 ObjectCreated, or the embedded media
    /// route): a key we did not issue or an unknown object is ignored; a wrong type or size is
    /// rejected. Logged either way, with the key.
    pub async fn check_upload(&self, key: &str) -> Result<UploadCheck, DomainError> {
        let ignored = |reason: &str| {
            Ok(UploadCheck::Ignored {
                reason: reason.into(),
            })
        };
        let rejected = |reason: &str| {
            Ok(UploadCheck::Rejected {
                reason: reason.into(),
            })
        };
        if !is_upload_key(key) {
            warn!(key = %key, "object event for a key we did not issue: ignored");
            return ignored("foreign key");
        }
        let Some(meta) = self.media.head(key).await.map_err(media_err)? else {
            warn!(key = %key, "object event for an unknown object: ignored");
            return ignored("unknown object");
        };
        let declared = meta.content_type.unwrap_or_default();
        let Some((_, max)) = upload_type(&declared) else {
            warn!(key = %key, content_type = %declared, "upload of a type we do not accept");
            return rejected("unsupported type");
        };
        if meta.size > max {
            warn!(key = %key, size = meta.size, "upload too large");
            return rejected("too large");
        }
        let bytes = match self.media.read(key, max).await {
            Ok(b) => b,
            Err(MediaError::NotFound) => return ignored("unknown object"),
            Err(MediaError::TooLarge) => return rejected("too large"),
            Err(e) => return Err(media_err(e)),
        };
        match sniff(&bytes) {
            Some(found) if type_matches(&declared, found) => {
                info!(key = %key, content_type = %declared, size = meta.size, "upload accepted");
                Ok(UploadCheck::Accepted {
                    content_type: declared,
                    size: meta.size,
                })
            }
            found => {
                warn!(key = %key, declared = %declared, found = ?found, "upload content does not match its type");
                rejected("content does not match the declared type")
            }
        }
    }

    /// A short-lived download URL for an attachment the actor may see. Public callers
    /// (`actor` None) only get attachments approved for publication.
    pub async fn attachment_url(
        &self,
        id: &ReportId,
        attachment_id: &str,
        actor: Option<&Actor>,
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
            .find(|a| a.id == attachment_id && (actor.is_some() || a.public))
            .ok_or(DomainError::NotFound)?;
        let key = if actor.is_none() {
            a.public_key.clone().unwrap_or_else(|| a.key.clone())
        } else {
            a.key.clone()
        };
        self.media
            .presign_get(&key, DOWNLOAD_TTL)
            .await
            .map_err(media_err)
    }
}
