//! Upload checks shared by both runtimes: the key must be one we handed out, the object must
//! exist within its size limit, and its first bytes must match its declared type.

use crate::model::MediaKind;
use serde::{Deserialize, Serialize};

/// How many leading bytes [`sniff`] needs.
pub const SNIFF_LEN: u64 = 64;

/// `ftyp` brands we know, by the content type they stand for. A file whose `ftyp` box names
/// another brand is refused: any bytes can follow "ftyp".
const FTYP_BRANDS: &[(&[u8; 4], &str)] = &[
    (b"heic", "image/heic"),
    (b"heix", "image/heic"),
    (b"hevc", "image/heic"),
    (b"hevx", "image/heic"),
    (b"heim", "image/heic"),
    (b"heis", "image/heic"),
    (b"mif1", "image/heic"),
    (b"msf1", "image/heic"),
    (b"qt  ", "video/quicktime"),
    (b"M4A ", "audio/mp4"),
    (b"M4B ", "audio/mp4"),
    (b"M4P ", "audio/mp4"),
    (b"F4A ", "audio/mp4"),
    (b"3gp4", "video/3gpp"),
    (b"3gp5", "video/3gpp"),
    (b"3gp6", "video/3gpp"),
    (b"3gp7", "video/3gpp"),
    (b"3gs7", "video/3gpp"),
    (b"3ge6", "video/3gpp"),
    (b"3ge7", "video/3gpp"),
    (b"3gg6", "video/3gpp"),
    (b"3g2a", "video/3gpp"),
    (b"3g2b", "video/3gpp"),
    (b"3g2c", "video/3gpp"),
    (b"isom", "video/mp4"),
    (b"iso2", "video/mp4"),
    (b"iso4", "video/mp4"),
    (b"iso5", "video/mp4"),
    (b"iso6", "video/mp4"),
    (b"mp41", "video/mp4"),
    (b"mp42", "video/mp4"),
    (b"avc1", "video/mp4"),
    (b"M4V ", "video/mp4"),
    (b"MSNV", "video/mp4"),
    (b"dash", "video/mp4"),
];

/// The type of an ISO base media file (MP4, MOV, 3GP, M4A, HEIC): the first box must be a
/// well-formed `ftyp` box (size 16..=4096, a multiple of 4) whose major brand we know.
fn sniff_ftyp(bytes: &[u8]) -> Option<&'static str> {
    let size = u32::from_be_bytes(bytes.get(0..4)?.try_into().ok()?) as usize;
    if bytes.get(4..8)? != b"ftyp" || !(16..=4096).contains(&size) || !size.is_multiple_of(4) {
        return None;
    }
    let major = bytes.get(8..12)?;
    FTYP_BRANDS
        .iter()
        .find(|(b, _)| b.as_slice() == major)
        .map(|(_, t)| *t)
}

/// The content type the leading bytes reveal, if it is one we accept.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| bytes.len() >= p.len() && &bytes[..p.len()] == p;
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some("image/png");
    }
    if starts(b"RIFF") && bytes.len() >= 12 {
        match &bytes[8..12] {
            b"WEBP" => return Some("image/webp"),
            b"WAVE" => return Some("audio/wav"),
            _ => return None,
        }
    }
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(b"#!AMR\n") || starts(b"#!AMR-WB\n") {
        return Some("audio/amr");
    }
    if starts(b"OggS\0") {
        return Some("audio/ogg");
    }
    if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE6 == 0xE2) {
        return Some("audio/mpeg");
    }
    if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xF6 == 0xF0 {
        return Some("audio/aac");
    }
    sniff_ftyp(bytes)
}

/// Content types accepted for upload, with their kind. Aliases phones send are listed too.
pub const ACCEPTED_TYPES: &[(&str, MediaKind)] = &[
    ("image/jpeg", MediaKind::Photo),
    ("image/png", MediaKind::Photo),
    ("image/webp", MediaKind::Photo),
    ("image/heic", MediaKind::Photo),
    ("image/heif", MediaKind::Photo),
    ("audio/mpeg", MediaKind::Audio),
    ("audio/mp4", MediaKind::Audio),
    ("audio/x-m4a", MediaKind::Audio),
    ("audio/aac", MediaKind::Audio),
    ("audio/amr", MediaKind::Audio),
    ("audio/ogg", MediaKind::Audio),
    ("audio/opus", MediaKind::Audio),
    ("audio/wav", MediaKind::Audio),
    ("audio/x-wav", MediaKind::Audio),
    ("audio/3gpp", MediaKind::Audio),
    ("video/mp4", MediaKind::Video),
    ("video/quicktime", MediaKind::Video),
    ("video/3gpp", MediaKind::Video),
    ("application/pdf", MediaKind::Document),
];

/// The kind of an accepted content type.
pub fn kind_of(content_type: &str) -> Option<MediaKind> {
    ACCEPTED_TYPES
        .iter()
        .find(|(t, _)| *t == content_type)
        .map(|(_, k)| *k)
}

/// The canonical type of a declared one (aliases folded).
fn canonical(declared: &str) -> &str {
    match declared {
        "image/heif" => "image/heic",
        "audio/x-m4a" => "audio/mp4",
        "audio/opus" => "audio/ogg",
        "audio/x-wav" => "audio/wav",
        "audio/3gpp" => "video/3gpp",
        other => other,
    }
}

/// Whether an object declared as `declared` may have the sniffed type (the MP4 container
/// family shares its signature: an M4A recorded by a phone often carries an `isom` brand).
pub fn type_matches(declared: &str, sniffed: &str) -> bool {
    let declared = canonical(declared);
    let mp4 = ["video/mp4", "audio/mp4", "video/quicktime", "video/3gpp"];
    declared == sniffed || (mp4.contains(&declared) && mp4.contains(&sniffed))
}

/// Whether `key` has the shape of an upload key we issue: `uploads/<16 hex>/<id>`.
pub fn is_upload_key(key: &str) -> bool {
    let mut parts = key.split('/');
    let (Some("uploads"), Some(owner), Some(id), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    owner.len() == 16
        && owner.chars().all(|c| c.is_ascii_hexdigit())
        && !id.is_empty()
        && id.len() <= 64
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Outcome of checking a freshly uploaded object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum UploadCheck {
    Accepted {
        content_type: String,
        size: u64,
    },
    /// Not a key we issued, or no such object: nothing to do.
    Ignored {
        reason: String,
    },
    /// Wrong type, bad signature or too large: must not be attached.
    Rejected {
        reason: String,
    },
}

/// Where an upload slot stands. Kept behind the [`crate::slots::UploadSlots`] port: a small
/// JSON record in the media store (`slots/<owner>/<id>.json`, embedded) or a table item (AWS).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SlotState {
    /// Issued; bytes not checked yet.
    Pending,
    /// Checked: the bytes are what they claim; derivatives made for photos.
    Ready,
    /// Refused (the bytes were deleted); `reason` is shown to the uploader.
    Failed { reason: String },
    /// Attached to a report (a second attach is refused). `by` identifies the request that
    /// attached it (a hash of the idempotency key), so a retried submission is recognised.
    Attached {
        #[serde(default)]
        by: Option<String>,
    },
}

/// An upload slot: what was promised at issue time, and what the check found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UploadSlot {
    pub id: String,
    pub content_type: String,
    pub kind: MediaKind,
    /// Largest size the store accepts for this slot (the size declared at issue time).
    pub max_size: u64,
    pub created_at: chrono::DateTime<chrono::Utc>,
    #[serde(flatten)]
    pub state: SlotState,
    /// Size found by the check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    /// Metadata-free public copy and thumbnail (photos that could be decoded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thumb_key: Option<String>,
    /// GPS position read from the photo's EXIF before it was stripped (staff only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_hint: Option<crate::model::GeoPoint>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_signatures_are_recognised() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]), Some("image/jpeg"));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"\0\0\0\x18ftypisom...."), Some("video/mp4"));
        assert_eq!(sniff(b"\0\0\0\x18ftypheic...."), Some("image/heic"));
        assert_eq!(sniff(b"\0\0\0\x18ftyp3gp4...."), Some("video/3gpp"));
        assert_eq!(sniff(b"\0\0\0\x18ftypM4A ...."), Some("audio/mp4"));
        assert_eq!(sniff(b"#!AMR\n\x3c"), Some("audio/amr"));
        assert_eq!(sniff(b"OggS\0\x02...."), Some("audio/ogg"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0WAVEfmt "), Some("audio/wav"));
        assert_eq!(sniff(b"RIFF\x24\0\0\0AVI LIST"), None);
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
        assert!(type_matches("audio/mp4", "video/mp4"));
        assert!(!type_matches("image/jpeg", "application/pdf"));
        assert!(type_matches("image/heif", "image/heic"));
        assert!(type_matches("audio/x-m4a", "video/mp4"));
        assert!(!type_matches("audio/ogg", "video/mp4"));
    }

    #[test]
    fn an_ftyp_box_must_be_well_formed_with_a_known_brand() {
        // Any bytes after "ftyp" used to pass as MP4.
        assert_eq!(sniff(b"\0\0\0\x18ftypzzzz...."), None);
        assert_eq!(sniff(b"\0\0\0\x18ftyp<htm...."), None);
        // A box size that is not a plausible ftyp size.
        assert_eq!(sniff(b"\0\0\0\x04ftypisom...."), None);
        assert_eq!(sniff(b"\xff\xff\xff\xf0ftypisom...."), None);
        assert_eq!(sniff(b"\0\0\0\x18moovisom...."), None);
        assert_eq!(sniff(b"\0\0\0\x18ftyp"), None);
    }

    #[test]
    fn only_issued_upload_keys_are_accepted() {
        assert!(is_upload_key("uploads/0123456789abcdef/0190-abc"));
        for bad in [
            "uploads/../etc/passwd",
            "uploads/0123456789abcdef/a/b",
            "public/0123456789abcdef/x",
            "uploads/xyz/x",
            "uploads/0123456789abcdef/",
        ] {
            assert!(!is_upload_key(bad), "{bad}");
        }
    }
}
