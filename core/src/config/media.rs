//! `[media]` in `city.toml`: what residents and staff may upload (issue 11). Every key has a
//! phone-sized default, so a city that says nothing gets sane limits.
//!
//! ```toml
//! [media]
//! daily_uploads = 40          # files one person may start uploading per local day
//! daily_mb = 400              # and their declared total size
//! max_image_pixels = 50000000 # larger images are refused before decoding (bombs)
//! public_image_px = 2048      # long side of the public, metadata-free copy of a photo
//! thumbnail_px = 320          # long side of its thumbnail
//! upload_expiry_hours = 24    # unconfirmed uploads are removed after this
//! min_free_disk_mb = 1024     # embedded `serve` refuses uploads below this free space
//! [media.photo]
//! max_mb = 15
//! max_count = 10              # per report (all its attachments of that kind)
//! ```

use super::{ConfigError, CITY_FILE};
use crate::model::MediaKind;
use serde::{Deserialize, Serialize};

/// Size and count limits of one kind of file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindLimit {
    /// Largest file, in MiB.
    pub max_mb: u64,
    /// Most files of this kind on one report.
    pub max_count: u32,
}

impl KindLimit {
    pub fn max_bytes(&self) -> u64 {
        self.max_mb.saturating_mul(1024 * 1024)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MediaConfig {
    pub photo: KindLimit,
    pub audio: KindLimit,
    pub video: KindLimit,
    pub document: KindLimit,
    /// Upload slots one person (citizen or staff) may ask for per local day.
    pub daily_uploads: u32,
    /// Total declared size, in MiB, of one person's upload slots per local day.
    pub daily_mb: u64,
    /// Images with more pixels than this are refused without being decoded.
    pub max_image_pixels: u64,
    /// Long side, in pixels, of the public copy of a photo (smaller photos keep their size).
    pub public_image_px: u32,
    /// Long side, in pixels, of a photo's thumbnail.
    pub thumbnail_px: u32,
    /// Upload slots not attached to a report within this many hours are removed.
    pub upload_expiry_hours: u32,
    /// Embedded runtime: new uploads are refused while the data directory's disk has less
    /// free space than this, in MiB.
    pub min_free_disk_mb: u64,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            photo: KindLimit {
                max_mb: 15,
                max_count: 10,
            },
            audio: KindLimit {
                max_mb: 20,
                max_count: 3,
            },
            video: KindLimit {
                max_mb: 100,
                max_count: 2,
            },
            document: KindLimit {
                max_mb: 20,
                max_count: 10,
            },
            daily_uploads: 40,
            daily_mb: 400,
            max_image_pixels: 50_000_000,
            public_image_px: 2048,
            thumbnail_px: 320,
            upload_expiry_hours: 24,
            min_free_disk_mb: 1024,
        }
    }
}

impl MediaConfig {
    pub fn limit(&self, kind: MediaKind) -> KindLimit {
        match kind {
            MediaKind::Photo => self.photo,
            MediaKind::Audio => self.audio,
            MediaKind::Video => self.video,
            MediaKind::Document => self.document,
        }
    }

    pub fn daily_bytes(&self) -> u64 {
        self.daily_mb.saturating_mul(1024 * 1024)
    }
}

pub(super) fn validate_media(m: &MediaConfig, errs: &mut Vec<ConfigError>) {
    let mut bad = |key: &str, problem: String| {
        errs.push(ConfigError::new(CITY_FILE, format!("media.{key}"), problem))
    };
    for (name, l) in [
        ("photo", m.photo),
        ("audio", m.audio),
        ("video", m.video),
        ("document", m.document),
    ] {
        if !(1..=2048).contains(&l.max_mb) {
            bad(
                &format!("{name}.max_mb"),
                format!("{} must be between 1 and 2048", l.max_mb),
            );
        }
        if !(1..=crate::lifecycle::MAX_ATTACHMENTS as u32).contains(&l.max_count) {
            bad(
                &format!("{name}.max_count"),
                format!(
                    "{} must be between 1 and {}",
                    l.max_count,
                    crate::lifecycle::MAX_ATTACHMENTS
                ),
            );
        }
    }
    if m.daily_uploads == 0 {
        bad("daily_uploads", "must be at least 1".into());
    }
    let largest = [m.photo, m.audio, m.video, m.document]
        .iter()
        .map(|l| l.max_mb)
        .max()
        .unwrap_or(0);
    if m.daily_mb < largest {
        bad(
            "daily_mb",
            format!(
                "{} is below the largest per-file limit ({largest} MiB)",
                m.daily_mb
            ),
        );
    }
    if !(1_000_000..=200_000_000).contains(&m.max_image_pixels) {
        bad(
            "max_image_pixels",
            format!(
                "{} must be between 1000000 and 200000000",
                m.max_image_pixels
            ),
        );
    }
    if !(64..=1024).contains(&m.thumbnail_px) {
        bad(
            "thumbnail_px",
            format!("{} must be between 64 and 1024", m.thumbnail_px),
        );
    }
    if !(m.thumbnail_px..=8192).contains(&m.public_image_px) {
        bad(
            "public_image_px",
            format!(
                "{} must be between thumbnail_px ({}) and 8192",
                m.public_image_px, m.thumbnail_px
            ),
        );
    }
    if !(1..=24 * 7).contains(&m.upload_expiry_hours) {
        bad(
            "upload_expiry_hours",
            format!("{} must be between 1 and 168", m.upload_expiry_hours),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_phone_sized() {
        let m = MediaConfig::default();
        let mut errs = Vec::new();
        validate_media(&m, &mut errs);
        assert!(errs.is_empty(), "{errs:?}");
        assert_eq!(m.limit(MediaKind::Photo).max_bytes(), 15 * 1024 * 1024);
    }

    #[test]
    fn absent_keys_take_defaults_and_bad_values_are_named() {
        let m: MediaConfig =
            toml::from_str("daily_uploads = 5\n[photo]\nmax_mb = 8\nmax_count = 4\n")
                .expect("parse");
        assert_eq!(m.daily_uploads, 5);
        assert_eq!(m.photo.max_mb, 8);
        assert_eq!(m.video, MediaConfig::default().video);

        let bad = MediaConfig {
            daily_uploads: 0,
            daily_mb: 10,
            thumbnail_px: 10,
            photo: KindLimit {
                max_mb: 0,
                max_count: 99,
            },
            ..MediaConfig::default()
        };
        let mut errs = Vec::new();
        validate_media(&bad, &mut errs);
        let text: Vec<String> = errs.iter().map(|e| e.to_string()).collect();
        for key in [
            "media.daily_uploads",
            "media.daily_mb",
            "media.thumbnail_px",
            "media.photo.max_mb",
            "media.photo.max_count",
        ] {
            assert!(text.iter().any(|t| t.contains(key)), "{key}: {text:?}");
        }
    }
}
