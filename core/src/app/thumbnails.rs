//! Thumbnails of public photo copies, made on their first request (issue 10) instead of at
//! upload: the upload check writes only the public copy, and the first request for a
//! thumbnail (`GET /v1/public/reports/{id}/attachments/{aid}/thumbnail`, the only reader)
//! makes it from that copy and stores it at the attachment's `thumb_key`. That moves one
//! `PutObject` per photo off the report's path onto the read path, once per photo.
//!
//! Bounds: the public copy read is capped ([`public_copy_cap`]) and decoded within the
//! city's pixel limit off the async executor, like an upload. Two first requests at once both
//! make the same bytes from the same copy; the later write replaces the earlier one with the
//! same content. A process remembers the thumbnails it has seen (a bounded set), so a warm
//! instance asks the store whether one exists once per photo, not once per view.

use super::{media_err, App};
use crate::error::DomainError;
use crate::imaging;
use crate::model::ReportId;
use crate::ports::MediaError;
use std::collections::HashSet;
use std::sync::Mutex;
use tracing::info;

/// Most thumbnail keys a process remembers; the set starts over when full.
const REMEMBERED: usize = 4096;

/// The thumbnail keys this process knows exist.
#[derive(Default)]
pub(super) struct ThumbnailsMade(Mutex<HashSet<String>>);

impl ThumbnailsMade {
    fn knows(&self, key: &str) -> bool {
        self.0.lock().map(|s| s.contains(key)).unwrap_or(false)
    }

    fn remember(&self, key: &str) {
        if let Ok(mut s) = self.0.lock() {
            if s.len() >= REMEMBERED {
                s.clear();
            }
            s.insert(key.to_string());
        }
    }
}

/// Largest public copy read to make a thumbnail: a JPEG of `public_px` on its long side
/// stays well under 3 bytes a pixel at our quality.
fn public_copy_cap(public_px: u32) -> u64 {
    u64::from(public_px)
        .saturating_mul(u64::from(public_px))
        .saturating_mul(3)
        .saturating_add(64 * 1024)
}

impl App {
    /// Makes sure the thumbnail at `thumb_key` exists, making it from the public copy at
    /// `public_key` when it does not. A missing public copy is `NotFound`.
    pub(super) async fn ensure_thumbnail(
        &self,
        report_id: &ReportId,
        public_key: &str,
        thumb_key: &str,
    ) -> Result<(), DomainError> {
        if self.thumbnails.knows(thumb_key) {
            return Ok(());
        }
        if self
            .media
            .head(thumb_key)
            .await
            .map_err(media_err)?
            .is_some()
        {
            self.thumbnails.remember(thumb_key);
            return Ok(());
        }
        let limits = self.image_limits();
        let copy = match self
            .media
            .read(public_key, public_copy_cap(limits.public_px))
            .await
        {
            Ok(b) => b,
            Err(MediaError::NotFound) => return Err(DomainError::NotFound),
            Err(e) => return Err(media_err(e)),
        };
        let thumb = tokio::task::spawn_blocking(move || imaging::make_thumbnail(&copy, &limits))
            .await
            .map_err(|e| DomainError::Storage(format!("image worker: {e}")))?
            .map_err(|e| DomainError::Storage(format!("thumbnail of {public_key}: {e}")))?;
        self.media
            .write(thumb_key, &thumb, "image/jpeg")
            .await
            .map_err(media_err)?;
        self.thumbnails.remember(thumb_key);
        info!(report_id = %report_id, key = %thumb_key, bytes = thumb.len(), "thumbnail made on its first request");
        Ok(())
    }
}
