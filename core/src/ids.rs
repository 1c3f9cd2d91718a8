//! Identifiers that arrive as strings and are parsed once at the edge, so every later use can
//! trust them: the idempotency key of a submission, the id of an uploaded attachment, and the
//! id of an emitted event. One definition each, read by the HTTP layer, the use cases, the
//! stores and the tests alike.

use crate::error::DomainError;
use crate::model::ReportId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `Idempotency-Key` a client sends with a submission: a retry with the same key and the
/// same body returns the first report; the same key with another body is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Longest key accepted (visible ASCII characters, no spaces).
    pub const MAX_LEN: usize = 255;
    /// The name under which clients send it, also the field named in errors.
    pub const HEADER: &'static str = "Idempotency-Key";

    pub fn parse(s: &str) -> Result<IdempotencyKey, DomainError> {
        let s = s.trim();
        if s.is_empty() {
            return Err(DomainError::invalid(Self::HEADER, "không được để trống"));
        }
        if s.len() > Self::MAX_LEN {
            return Err(DomainError::invalid(
                Self::HEADER,
                format!("dài quá {} ký tự", Self::MAX_LEN),
            ));
        }
        if !s.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(DomainError::invalid(
                Self::HEADER,
                "chỉ gồm ký tự ASCII in được",
            ));
        }
        Ok(IdempotencyKey(s.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key as stored: scoped to the actor, so two people's keys never collide.
    pub fn scoped(&self, actor_id: &str) -> String {
        format!("{actor_id}:{}", self.0)
    }
}

/// The id of an uploaded file, as issued with its upload slot and sent back by the client when
/// it attaches the file to a report or a result.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AttachmentId(String);

impl AttachmentId {
    pub const MAX_LEN: usize = 64;

    /// Parses a client-sent id; `field` names where it came from in the error.
    pub fn parse(field: &str, s: &str) -> Result<AttachmentId, DomainError> {
        if s.is_empty()
            || s.len() > Self::MAX_LEN
            || !s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return Err(DomainError::invalid(field, "mã tệp không hợp lệ"));
        }
        Ok(AttachmentId(s.to_string()))
    }

    /// A freshly issued id (from the id generator, trusted).
    pub fn issued(s: String) -> AttachmentId {
        AttachmentId(s)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AttachmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The id of the `index`-th event emitted by the change that made `version` of a report:
/// `<report id>:<version>:<index>`. Unique and stable, so a redelivery is recognised.
pub fn event_id(report: &ReportId, version: u64, index: usize) -> String {
    format!("{report}:{version}:{index}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotency_keys_have_one_length_limit() {
        assert!(IdempotencyKey::parse(&"k".repeat(IdempotencyKey::MAX_LEN)).is_ok());
        let e = IdempotencyKey::parse(&"k".repeat(IdempotencyKey::MAX_LEN + 1)).unwrap_err();
        assert_eq!(e.code(), "invalid_input");
        assert!(IdempotencyKey::parse("  ").is_err());
        assert!(IdempotencyKey::parse("a\u{7}b").is_err());
        assert!(IdempotencyKey::parse("khóa").is_err());
        assert!(IdempotencyKey::parse("a b").is_err());
        assert_eq!(
            IdempotencyKey::parse("abc").unwrap().scoped("dev-1"),
            "dev-1:abc"
        );
    }

    #[test]
    fn attachment_ids_are_short_and_plain() {
        assert!(AttachmentId::parse("attachments", "0193-abc").is_ok());
        for bad in ["", "../x", "a b", &"a".repeat(65)] {
            assert!(AttachmentId::parse("attachments", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn event_ids_name_report_version_and_index() {
        assert_eq!(event_id(&ReportId::from("r-1"), 3, 0), "r-1:3:0");
    }
}
