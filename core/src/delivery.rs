//! Delivery of notifications to people: the SMS provider port, the delivery log (who was told
//! what, when, by which channel, the provider's message id or the error) and the retry rule
//! (each recipient independently, with backoff, then a dead letter the office can re-send).
//!
//! The `Notifier` port sends one [`Notification`]; an adapter that keeps a [`DeliveryLog`]
//! records every attempt there and retries failed recipients on its own schedule
//! ([`RetrySchedule`]), so one unreachable recipient never holds up the others.

use crate::model::ReportId;
use crate::ports::{Channel, Notification, NotifyError, StoreError};
use async_trait::async_trait;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use serde::{Deserialize, Serialize};

/// Sends one SMS through a provider (a brand-name SMS gateway, SNS, or the local fake).
#[async_trait]
pub trait SmsProvider: Send + Sync {
    /// A short name for the delivery log (`http-gateway`, `fake`, `sns`).
    fn name(&self) -> &str;
    /// Sends `body` to `to` (E.164, `+84…`); the provider's message id on acceptance.
    async fn send_sms(&self, to: &str, body: &str) -> Result<String, NotifyError>;
}

/// Where one notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Kept in the log only: no transport is configured for its channel.
    Recorded,
    /// Being handed to the provider right now.
    Pending,
    /// Accepted by the provider.
    Sent,
    /// The last attempt failed; another is scheduled (`next_attempt_at`).
    Retrying,
    /// Every attempt failed: waits for someone to re-send it.
    Dead,
}

impl DeliveryStatus {
    pub const ALL: [DeliveryStatus; 5] = [
        DeliveryStatus::Recorded,
        DeliveryStatus::Pending,
        DeliveryStatus::Sent,
        DeliveryStatus::Retrying,
        DeliveryStatus::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Recorded => "recorded",
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Dead => "dead",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        DeliveryStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }

    /// Vietnamese label for staff pages.
    pub fn label(self) -> &'static str {
        match self {
            DeliveryStatus::Recorded => "Đã ghi nhận (chưa cấu hình kênh gửi)",
            DeliveryStatus::Pending => "Đang gửi",
            DeliveryStatus::Sent => "Đã gửi",
            DeliveryStatus::Retrying => "Lỗi, sẽ gửi lại",
            DeliveryStatus::Dead => "Gửi không thành công",
        }
    }
}

/// One notification in the delivery log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub notification: Notification,
    pub status: DeliveryStatus,
    /// Attempts made so far (a re-send starts again from zero).
    pub attempts: u32,
    /// Which transport took it (`smtp`, `http-gateway`, `fake`, `ses`, `sns`).
    pub provider: Option<String>,
    /// The provider's id of the accepted message.
    pub provider_message_id: Option<String>,
    /// The last error, when an attempt failed.
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// When the next attempt is due (status `retrying`).
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The rounds of attempts before each re-send, oldest first (the dead letter the office
    /// re-sent, with its error). Kept by the DynamoDB log; the embedded log keeps the latest.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<EarlierRound>,
}

/// How one round of attempts ended, before the notification was re-sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EarlierRound {
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    /// When the round ended.
    pub at: DateTime<Utc>,
}

impl EarlierRound {
    /// The round a record stands at now.
    pub fn of(r: &DeliveryRecord) -> EarlierRound {
        EarlierRound {
            status: r.status,
            attempts: r.attempts,
            provider: r.provider.clone(),
            provider_message_id: r.provider_message_id.clone(),
            error: r.error.clone(),
            at: r.updated_at,
        }
    }
}

/// Attempts and backoff of one recipient's delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetrySchedule {
    /// Attempts before the notification is dead-lettered (at least 1).
    pub max_attempts: u32,
    /// Wait after the first failure; doubled after each further one.
    pub first_backoff: ChronoDuration,
    /// Longest wait between two attempts.
    pub max_backoff: ChronoDuration,
}

impl Default for RetrySchedule {
    /// 5 attempts: after 1, 2, 4 and 8 minutes, then the dead letter.
    fn default() -> Self {
        RetrySchedule {
            max_attempts: 5,
            first_backoff: ChronoDuration::minutes(1),
            max_backoff: ChronoDuration::hours(1),
        }
    }
}

impl RetrySchedule {
    /// After `attempts` failed attempts at `now`: when to try again, or None when the
    /// notification is to be dead-lettered.
    pub fn after_failure(&self, attempts: u32, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        if attempts >= self.max_attempts.max(1) {
            return None;
        }
        let doublings = attempts.saturating_sub(1).min(20);
        let wait = self
            .first_backoff
            .checked_mul(1i32 << doublings)
            .unwrap_or(self.max_backoff)
            .min(self.max_backoff);
        Some(now + wait)
    }
}

/// The delivery log of a runtime's notifier: read by the office and the IOC, re-sends, and the
/// pass that retries failed recipients when their backoff is over.
#[async_trait]
pub trait DeliveryLog: Send + Sync {
    /// Every notification about a report, newest first, at most `limit`.
    async fn deliveries_for_report(
        &self,
        report_id: &ReportId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// The latest notifications, newest first, optionally of one channel or status.
    async fn recent_deliveries(
        &self,
        channel: Option<Channel>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError>;

    /// Sends a dead (or still retrying) notification again now, with a fresh count of
    /// attempts. `NotFound` for an unknown id, `Conflict` when it was sent already.
    async fn resend(&self, id: &str) -> Result<DeliveryRecord, StoreError>;

    /// Attempts every notification whose backoff is over at `now` (at most `limit`; each one
    /// claimed first, so two passes at once send it once). Returns how many were attempted.
    async fn retry_due(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, StoreError>;
}

/// The outcome of one attempt, as the log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent {
        provider: String,
        message_id: String,
    },
    /// No transport configured for the channel: kept in the log only.
    Recorded,
    Failed {
        provider: String,
        error: String,
    },
}

/// The status after an attempt numbered `attempts` (1-based) ended as `outcome`.
pub fn status_after(
    schedule: &RetrySchedule,
    attempts: u32,
    outcome: &Attempt,
    now: DateTime<Utc>,
) -> (DeliveryStatus, Option<DateTime<Utc>>) {
    match outcome {
        Attempt::Sent { .. } => (DeliveryStatus::Sent, None),
        Attempt::Recorded => (DeliveryStatus::Recorded, None),
        Attempt::Failed { .. } => match schedule.after_failure(attempts, now) {
            Some(t) => (DeliveryStatus::Retrying, Some(t)),
            None => (DeliveryStatus::Dead, None),
        },
    }
}

/// The HTML alternative of an e-mail's plain text (the same words, escaped, lines kept): every
/// e-mail has the plain-text part as written and this one.
pub fn html_alternative(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    out.push_str("<!doctype html><html><body><p>");
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\n' => out.push_str("<br>\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out.push_str("</p></body></html>");
    out
}

/// The GSM 03.38 default alphabet (one septet each).
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The GSM 03.38 extension table (an escape plus one septet each).
const GSM7_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// How an SMS is encoded and how many parts it is sent in: GSM-7 (160 septets alone, 153 per
/// part of a concatenated message; extension characters count twice) when every character is
/// in the GSM alphabet, else UCS-2 (70 alone, 67 per part, in UTF-16 units).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsSegments {
    pub gsm7: bool,
    /// Septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    pub segments: usize,
}

pub fn sms_segments(text: &str) -> SmsSegments {
    let mut septets = 0usize;
    let mut gsm7 = true;
    for c in text.chars() {
        if GSM7_BASIC.contains(c) {
            septets += 1;
        } else if GSM7_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm7 = false;
            break;
        }
    }
    let (units, single, part) = if gsm7 {
        (septets, 160, 153)
    } else {
        (text.encode_utf16().count(), 70, 67)
    };
    let segments = if units == 0 {
        0
    } else if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    SmsSegments {
        gsm7,
        units,
        segments,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, 1, 0, 0).unwrap()
    }

    #[test]
    fn backoff_doubles_then_the_notification_is_dead_lettered() {
        let s = RetrySchedule::default();
        let waits: Vec<Option<i64>> = (1..=5)
            .map(|n| s.after_failure(n, t0()).map(|t| (t - t0()).num_minutes()))
            .collect();
        assert_eq!(waits, vec![Some(1), Some(2), Some(4), Some(8), None]);
    }

    #[test]
    fn backoff_is_capped() {
        let s = RetrySchedule {
            max_attempts: 40,
            first_backoff: ChronoDuration::minutes(10),
            max_backoff: ChronoDuration::minutes(30),
        };
        assert_eq!(
            s.after_failure(3, t0()),
            Some(t0() + ChronoDuration::minutes(30))
        );
        assert_eq!(
            s.after_failure(39, t0()),
            Some(t0() + ChronoDuration::minutes(30))
        );
        assert_eq!(s.after_failure(40, t0()), None);
    }

    #[test]
    fn the_html_alternative_escapes_and_keeps_lines() {
        assert_eq!(
            html_alternative("Kính gửi <UBND> & \"đơn vị\"\r\nTrân trọng."),
            "<!doctype html><html><body><p>Kính gửi &lt;UBND&gt; &amp; &quot;đơn vị&quot;<br>\nTrân trọng.</p></body></html>"
        );
    }

    #[test]
    fn sms_segments_follow_gsm_03_38() {
        let a160 = "a".repeat(160);
        assert_eq!(sms_segments(&a160).segments, 1);
        assert_eq!(sms_segments(&"a".repeat(161)).segments, 2);
        assert_eq!(sms_segments(&"a".repeat(306)).segments, 2);
        assert_eq!(sms_segments(&"a".repeat(307)).segments, 3);
        // Extension characters take two septets.
        let s = sms_segments(&format!("{}€", "a".repeat(158)));
        assert_eq!((s.gsm7, s.units, s.segments), (true, 160, 1));
        // One Vietnamese letter outside the alphabet makes the whole message UCS-2.
        let v = sms_segments("Phản ánh");
        assert_eq!((v.gsm7, v.units, v.segments), (false, 8, 1));
        assert_eq!(sms_segments(&"ả".repeat(71)).segments, 2);
        assert_eq!(sms_segments(&"ả".repeat(134)).segments, 2);
        assert_eq!(sms_segments(&"ả".repeat(135)).segments, 3);
        assert_eq!(sms_segments("").segments, 0);
    }

    #[test]
    fn statuses_round_trip() {
        for s in DeliveryStatus::ALL {
            assert_eq!(DeliveryStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(DeliveryStatus::parse("failed"), None);
    }
}
