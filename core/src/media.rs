//! Upload checks shared by both runtimes: the key must be one we handed out, the object must
//! exist within its size limit, and its first bytes must match its declared type.

use serde::{Deserialize, Serialize};

/// The content type the leading bytes reveal, if it is one we accept.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    let starts = |p: &[u8]| bytes.len() >= p.len() && &bytes[..p.len()] == p;
    if starts(&[0xFF, 0xD8, 0xFF]) {
        return Some("image/jpeg");
    }
    if starts(&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A]) {
        return Some("image/png");
    }
    if starts(b"RIFF") && bytes.len() >= 12 && &bytes[8..12] == b"WEBP" {
        return Some("image/webp");
    }
    if starts(b"%PDF-") {
        return Some("application/pdf");
    }
    if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE6 == 0xE2) {
        return Some("audio/mpeg");
    }
    if bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xF6 == 0xF0 {
        return Some("audio/aac");
    }
    if bytes.len() >= 12 && &bytes[4..8] == b"ftyp" {
        return Some(match &bytes[8..12] {
            b"heic" | b"heix" | b"mif1" | b"msf1" | b"hevc" => "image/heic",
            b"qt  " => "video/quicktime",
            b"M4A " | b"M4B " => "audio/mp4",
            _ => "video/mp4",
        });
    }
    None
}

/// Whether an object declared as `declared` may have the sniffed type (the MP4 container
/// family shares its signature).
pub fn type_matches(declared: &str, sniffed: &str) -> bool {
    let mp4 = ["video/mp4", "audio/mp4", "video/quicktime"];
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
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(sniff(b""), None);
        assert!(type_matches("audio/mp4", "video/mp4"));
        assert!(!type_matches("image/jpeg", "application/pdf"));
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
