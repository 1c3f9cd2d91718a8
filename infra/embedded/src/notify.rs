//! The embedded `Notifier` and delivery log: every SMS and e-mail is a row of the
//! `notifications` table (deduplicated by notification id), sent to its recipient alone (SMS
//! through an [`SmsProvider`], e-mail over SMTP with `lettre`), its outcome recorded (the
//! provider's message id or the error). A failed recipient is retried with backoff by
//! [`DeliveryLog::retry_due`] and, after the last attempt, waits as a dead letter until the
//! office re-sends it. Without a transport for a channel the message is only recorded.

use crate::db::{backend, SqliteStore};
use crate::reports::{from_nanos, nanos};
use crate::smtp::{send_mail, SmtpConfig};
use async_trait::async_trait;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use phananh_core::delivery::{
    status_after, Attempt, DeliveryLog, DeliveryRecord, DeliveryStatus, RetrySchedule, SmsProvider,
};
use phananh_core::model::ReportId;
use phananh_core::pii::{self, PiiCipher};
use phananh_core::ports::{
    Channel, Clock, Notification, Notifier, NotifyError, StoreError, SystemClock,
};
use rusqlite::{params, OptionalExtension};
use std::sync::Arc;

/// Kept for callers of the first outbox: a row is a delivery record.
pub type NotificationRecord = DeliveryRecord;
/// Kept for callers of the first outbox.
pub type NotificationStatus = DeliveryStatus;

/// A claim on a notification (status `pending`) is held this long; after it another pass may
/// take the notification over (the sender crashed).
const CLAIM_LEASE_SECS: i64 = 120;

/// The embedded notifier.
pub struct OutboxNotifier {
    store: Arc<SqliteStore>,
    smtp: Option<SmtpConfig>,
    sms: Option<Arc<dyn SmsProvider>>,
    clock: Arc<dyn Clock>,
    schedule: RetrySchedule,
    /// Seals the recipient (`to`) in the stored row (issue 12 item 5).
    pii: Option<Arc<dyn PiiCipher>>,
}

fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

/// Which rows a listing reads.
enum Filter {
    Report(String),
    Recent {
        channel: Option<&'static str>,
        status: Option<&'static str>,
    },
    Id(String),
}

const COLUMNS: &str = "doc, status, error, created_at, updated_at, attempts, provider, \
                       provider_message_id, next_attempt_at";

fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RowData> {
    Ok(RowData {
        doc: r.get(0)?,
        status: r.get(1)?,
        error: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        attempts: r.get(5)?,
        provider: r.get(6)?,
        provider_message_id: r.get(7)?,
        next_attempt_at: r.get(8)?,
    })
}

struct RowData {
    doc: String,
    status: String,
    error: Option<String>,
    created_at: i64,
    updated_at: i64,
    attempts: i64,
    provider: Option<String>,
    provider_message_id: Option<String>,
    next_attempt_at: Option<i64>,
}

impl RowData {
    fn into_record(self, notifier: &OutboxNotifier) -> Result<DeliveryRecord, StoreError> {
        let status = match self.status.as_str() {
            // Rows of the first outbox, before the delivery-log migration.
            "failed" => DeliveryStatus::Retrying,
            s => DeliveryStatus::parse(s)
                .ok_or_else(|| StoreError::Backend(format!("unknown status {s}")))?,
        };
        Ok(DeliveryRecord {
            notification: notifier.read_doc(&self.doc)?,
            status,
            attempts: u32::try_from(self.attempts).unwrap_or(0),
            provider: self.provider,
            provider_message_id: self.provider_message_id,
            error: self.error,
            created_at: from_nanos(self.created_at),
            updated_at: from_nanos(self.updated_at),
            next_attempt_at: self.next_attempt_at.map(from_nanos),
            earlier: Vec::new(),
        })
    }
}

impl OutboxNotifier {
    /// Records every notification; delivers e-mail when `smtp` is set. SMS are only recorded
    /// until a provider is given ([`OutboxNotifier::with_sms`]).
    pub fn new(store: Arc<SqliteStore>, smtp: Option<SmtpConfig>) -> OutboxNotifier {
        OutboxNotifier {
            store,
            smtp,
            sms: None,
            clock: Arc::new(SystemClock),
            schedule: RetrySchedule::default(),
            pii: None,
        }
    }

    /// The recipient of each notification is stored sealed with `cipher` and opened when read
    /// (issue 12 item 5: a reporter's phone or e-mail is never plaintext in the database).
    pub fn with_pii_cipher(mut self, cipher: Arc<dyn PiiCipher>) -> OutboxNotifier {
        self.pii = Some(cipher);
        self
    }

    /// The row's document: the notification with its recipient sealed.
    fn write_doc(&self, n: &Notification) -> Result<String, String> {
        match &self.pii {
            // Always the plaintext here (the application never holds a sealed recipient).
            Some(c) => {
                let mut sealed = n.clone();
                sealed.to = c.seal(&n.to).map_err(|e| e.to_string())?;
                serde_json::to_string(&sealed).map_err(|e| e.to_string())
            }
            _ => serde_json::to_string(n).map_err(|e| e.to_string()),
        }
    }

    /// The notification of a row's document, its recipient opened (a row stored before
    /// sealing is read as it is).
    fn read_doc(&self, doc: &str) -> Result<Notification, StoreError> {
        let mut n: Notification = serde_json::from_str(doc).map_err(backend)?;
        if pii::is_sealed(&n.to) {
            let c = self.pii.as_ref().ok_or_else(|| {
                StoreError::Backend("a sealed recipient and no personal-data key".into())
            })?;
            n.to = c.open(&n.to).map_err(backend)?;
        }
        Ok(n)
    }

    /// SMS go through this provider.
    pub fn with_sms(mut self, sms: Option<Arc<dyn SmsProvider>>) -> OutboxNotifier {
        self.sms = sms;
        self
    }

    /// Another time source (tests move time past the backoff).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> OutboxNotifier {
        self.clock = clock;
        self
    }

    pub fn with_schedule(mut self, schedule: RetrySchedule) -> OutboxNotifier {
        self.schedule = schedule;
        self
    }

    /// Recorded notifications, newest first; only those about `report_id` when given.
    pub async fn list_notifications(
        &self,
        report_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let filter = match report_id {
            Some(id) => Filter::Report(id.to_string()),
            None => Filter::Recent {
                channel: None,
                status: None,
            },
        };
        self.list(filter, limit).await
    }

    async fn list(&self, filter: Filter, limit: usize) -> Result<Vec<DeliveryRecord>, StoreError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .store
            .read(move |conn| {
                let rows = match &filter {
                    Filter::Report(id) => conn
                        .prepare_cached(&format!(
                            "SELECT {COLUMNS} FROM notifications
                             WHERE report_id = ?1 ORDER BY seq DESC LIMIT ?2"
                        ))
                        .and_then(|mut st| {
                            st.query_map(params![id, limit], record)?
                                .collect::<Result<Vec<_>, _>>()
                        }),
                    Filter::Id(id) => conn
                        .prepare_cached(&format!(
                            "SELECT {COLUMNS} FROM notifications WHERE id = ?1"
                        ))
                        .and_then(|mut st| {
                            st.query_map(params![id], record)?
                                .collect::<Result<Vec<_>, _>>()
                        }),
                    Filter::Recent { channel, status } => conn
                        .prepare_cached(&format!(
                            "SELECT {COLUMNS} FROM notifications
                             WHERE (?1 IS NULL OR channel = ?1) AND (?2 IS NULL OR status = ?2)
                             ORDER BY seq DESC LIMIT ?3"
                        ))
                        .and_then(|mut st| {
                            st.query_map(params![channel, status, limit], record)?
                                .collect::<Result<Vec<_>, _>>()
                        }),
                };
                rows.map_err(backend)
            })
            .await?;
        rows.into_iter().map(|r| r.into_record(self)).collect()
    }

    /// Hands the notification to its channel's transport.
    async fn transport(&self, n: &Notification) -> Attempt {
        match n.channel {
            Channel::Sms => {
                let Some(p) = &self.sms else {
                    return Attempt::Recorded;
                };
                match p.send_sms(&n.to, &n.body).await {
                    Ok(id) => Attempt::Sent {
                        provider: p.name().to_string(),
                        message_id: id,
                    },
                    Err(e) => Attempt::failed(p.name(), &e.0, n),
                }
            }
            Channel::Email => {
                let Some(smtp) = &self.smtp else {
                    return Attempt::Recorded;
                };
                let subject = n
                    .subject
                    .as_deref()
                    .unwrap_or("Thông báo phản ánh hiện trường");
                match send_mail(smtp, &n.to, subject, &n.body).await {
                    Ok(id) => Attempt::Sent {
                        provider: "smtp".into(),
                        message_id: id,
                    },
                    Err(e) => Attempt::failed("smtp", &e.to_string(), n),
                }
            }
        }
    }

    /// One attempt of a claimed notification (`attempts_before` made earlier); records the
    /// outcome and the next step.
    async fn attempt(&self, n: &Notification, attempts_before: u32) -> Result<(), StoreError> {
        let outcome = self.transport(n).await;
        let now = self.clock.now();
        let attempts = attempts_before.saturating_add(1);
        let (status, next) = status_after(&self.schedule, attempts, &outcome, now);
        let report_id = n.report_id.as_ref().map(|r| r.0.as_str()).unwrap_or("-");
        let (provider, message_id, error) = match &outcome {
            Attempt::Sent {
                provider,
                message_id,
            } => {
                tracing::info!(report_id = %report_id, notification_id = %n.id, channel = channel_str(n.channel), provider = %provider, "notification delivered");
                (Some(provider.clone()), Some(message_id.clone()), None)
            }
            Attempt::Recorded => (None, None, None),
            Attempt::Failed { provider, error } => {
                tracing::warn!(report_id = %report_id, notification_id = %n.id, channel = channel_str(n.channel), provider = %provider, attempts, dead = status == DeliveryStatus::Dead, error = %error, "notification not delivered");
                (Some(provider.clone()), None, Some(error.clone()))
            }
        };
        let id = n.id.clone();
        self.store
            .write(move |conn| {
                conn.execute(
                    "UPDATE notifications SET status = ?2, attempts = ?3, provider = ?4,
                       provider_message_id = ?5, error = ?6, next_attempt_at = ?7, updated_at = ?8
                     WHERE id = ?1",
                    params![
                        id,
                        status.as_str(),
                        attempts,
                        provider,
                        message_id,
                        error,
                        next.map(nanos),
                        nanos(now)
                    ],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }

    /// Claims a notification whose next attempt is due (`expected` is the due instant read):
    /// true when this caller won it.
    async fn claim(&self, id: &str, expected: i64, fresh: bool) -> Result<bool, StoreError> {
        let id = id.to_string();
        let now = self.clock.now();
        let lease = nanos(now + ChronoDuration::seconds(CLAIM_LEASE_SECS));
        let now = nanos(now);
        self.store
            .write(move |conn| {
                let n = conn
                    .execute(
                        "UPDATE notifications SET status = 'pending', next_attempt_at = ?3,
                           updated_at = ?4, attempts = CASE WHEN ?5 THEN 0 ELSE attempts END
                         WHERE id = ?1 AND next_attempt_at = ?2",
                        params![id, expected, lease, now, fresh],
                    )
                    .map_err(backend)?;
                Ok(n == 1)
            })
            .await
    }
}

#[async_trait]
impl Notifier for OutboxNotifier {
    /// Records the notification once (by id) and makes the first attempt. A failed attempt is
    /// recorded and retried later by [`DeliveryLog::retry_due`]; only a failure to record is an
    /// error, so one unreachable recipient never makes the others be sent again.
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let doc = self.write_doc(n).map_err(NotifyError)?;
        let row = (
            n.id.clone(),
            channel_str(n.channel),
            n.report_id.as_ref().map(|r| r.0.clone()),
        );
        let now = self.clock.now();
        let lease = nanos(now + ChronoDuration::seconds(CLAIM_LEASE_SECS));
        let now = nanos(now);
        let inserted = self
            .store
            .write(move |conn| {
                let inserted = conn
                    .execute(
                        "INSERT OR IGNORE INTO notifications
                           (id, channel, report_id, status, created_at, updated_at, doc, attempts, next_attempt_at)
                         VALUES (?1, ?2, ?3, 'pending', ?4, ?4, ?5, 0, ?6)",
                        params![row.0, row.1, row.2, now, doc, lease],
                    )
                    .map_err(backend)?
                    > 0;
                Ok(inserted)
            })
            .await
            .map_err(|e| NotifyError(e.to_string()))?;
        if !inserted {
            // Sent, being sent, scheduled for a retry or dead: the log has it already.
            let report_id = n.report_id.as_ref().map(|r| r.0.as_str()).unwrap_or("-");
            tracing::debug!(report_id = %report_id, notification_id = %n.id, "notification already recorded");
            return Ok(());
        }
        self.attempt(n, 0)
            .await
            .map_err(|e| NotifyError(e.to_string()))
    }
}

#[async_trait]
impl DeliveryLog for OutboxNotifier {
    async fn deliveries_for_report(
        &self,
        report_id: &ReportId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.list(Filter::Report(report_id.0.clone()), limit).await
    }

    async fn recent_deliveries(
        &self,
        channel: Option<Channel>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        self.list(
            Filter::Recent {
                channel: channel.map(channel_str),
                status: status.map(DeliveryStatus::as_str),
            },
            limit,
        )
        .await
    }

    async fn resend(&self, id: &str) -> Result<DeliveryRecord, StoreError> {
        let key = id.to_string();
        let current = self
            .store
            .read(move |conn| {
                conn.query_row(
                    "SELECT status, next_attempt_at, doc FROM notifications WHERE id = ?1",
                    [&key],
                    |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<i64>>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    },
                )
                .optional()
                .map_err(backend)
            })
            .await?;
        let Some((status, next, doc)) = current else {
            return Err(StoreError::NotFound);
        };
        match status.as_str() {
            "sent" => return Err(StoreError::Conflict),
            // Someone is sending it right now.
            "pending" => return Err(StoreError::Conflict),
            _ => {}
        }
        let n: Notification = self.read_doc(&doc)?;
        // A dead letter has no due instant: give it one, then claim it like a retry.
        let expected = match next {
            Some(t) => t,
            None => {
                let key = id.to_string();
                let t = nanos(self.clock.now());
                let set = self
                    .store
                    .write(move |conn| {
                        conn.execute(
                            "UPDATE notifications SET next_attempt_at = ?2
                             WHERE id = ?1 AND next_attempt_at IS NULL AND status != 'sent'",
                            params![key, t],
                        )
                        .map_err(backend)
                    })
                    .await?;
                if set != 1 {
                    return Err(StoreError::Conflict);
                }
                t
            }
        };
        if !self.claim(id, expected, true).await? {
            return Err(StoreError::Conflict);
        }
        self.attempt(&n, 0).await?;
        self.list(Filter::Id(id.to_string()), 1)
            .await?
            .into_iter()
            .next()
            .ok_or(StoreError::NotFound)
    }

    async fn retry_due(&self, now: DateTime<Utc>, limit: usize) -> Result<usize, StoreError> {
        let until = nanos(now);
        let lim = i64::try_from(limit).unwrap_or(i64::MAX);
        // Reads the due index only: what is due, never the whole log.
        let due = self
            .store
            .read(move |conn| {
                conn.prepare_cached(
                    "SELECT id, next_attempt_at, attempts, doc FROM notifications
                     WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?1
                     ORDER BY next_attempt_at LIMIT ?2",
                )
                .and_then(|mut st| {
                    st.query_map(params![until, lim], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, i64>(1)?,
                            r.get::<_, i64>(2)?,
                            r.get::<_, String>(3)?,
                        ))
                    })?
                    .collect::<Result<Vec<_>, _>>()
                })
                .map_err(backend)
            })
            .await?;
        let mut n = 0;
        for (id, expected, attempts, doc) in due {
            if !self.claim(&id, expected, false).await? {
                continue;
            }
            let notification: Notification = self.read_doc(&doc)?;
            self.attempt(&notification, u32::try_from(attempts).unwrap_or(0))
                .await?;
            n += 1;
        }
        Ok(n)
    }
}
