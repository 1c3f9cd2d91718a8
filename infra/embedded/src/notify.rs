//! `Notifier` that records every SMS and e-mail in the `notifications` table (deduplicated by
//! notification id) and, when SMTP is configured, delivers the e-mail.

use crate::db::{backend, SqliteStore};
use crate::reports::{from_nanos, nanos};
use crate::smtp::{send_mail, SmtpConfig};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use phananh_core::ports::{Channel, Notification, Notifier, NotifyError, StoreError};
use rusqlite::{params, OptionalExtension};
use std::sync::Arc;

/// Where a recorded notification stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationStatus {
    /// Kept in the outbox only (SMS, or e-mail without SMTP configured).
    Recorded,
    /// E-mail about to be handed to the SMTP server.
    Pending,
    /// Accepted by the SMTP server.
    Sent,
    /// The SMTP server refused or could not be reached; a later send of the same id retries.
    Failed,
}

impl NotificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationStatus::Recorded => "recorded",
            NotificationStatus::Pending => "pending",
            NotificationStatus::Sent => "sent",
            NotificationStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<NotificationStatus> {
        Some(match s {
            "recorded" => NotificationStatus::Recorded,
            "pending" => NotificationStatus::Pending,
            "sent" => NotificationStatus::Sent,
            "failed" => NotificationStatus::Failed,
            _ => return None,
        })
    }
}

/// One row of the notification outbox.
#[derive(Debug, Clone, PartialEq)]
pub struct NotificationRecord {
    pub notification: Notification,
    pub status: NotificationStatus,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The embedded notifier.
pub struct OutboxNotifier {
    store: Arc<SqliteStore>,
    smtp: Option<SmtpConfig>,
}

fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

impl OutboxNotifier {
    pub fn new(store: Arc<SqliteStore>, smtp: Option<SmtpConfig>) -> OutboxNotifier {
        OutboxNotifier { store, smtp }
    }

    /// Recorded notifications, newest first; only those about `report_id` when given.
    pub async fn list_notifications(
        &self,
        report_id: Option<&str>,
        limit: usize,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let report_id = report_id.map(str::to_string);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.store
            .read(move |conn| {
                let map = |r: &rusqlite::Row<'_>| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, Option<String>>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                    ))
                };
                let rows = match &report_id {
                    Some(id) => conn
                        .prepare_cached(
                            "SELECT doc, status, error, created_at, updated_at FROM notifications
                             WHERE report_id = ?1 ORDER BY seq DESC LIMIT ?2",
                        )
                        .and_then(|mut st| {
                            st.query_map(params![id, limit], map)?
                                .collect::<Result<Vec<_>, _>>()
                        }),
                    None => conn
                        .prepare_cached(
                            "SELECT doc, status, error, created_at, updated_at FROM notifications
                             ORDER BY seq DESC LIMIT ?1",
                        )
                        .and_then(|mut st| {
                            st.query_map(params![limit], map)?
                                .collect::<Result<Vec<_>, _>>()
                        }),
                }
                .map_err(backend)?;
                rows.into_iter()
                    .map(|(doc, status, error, created, updated)| {
                        Ok(NotificationRecord {
                            notification: serde_json::from_str(&doc).map_err(backend)?,
                            status: NotificationStatus::parse(&status).ok_or_else(|| {
                                StoreError::Backend(format!("unknown status {status}"))
                            })?,
                            error,
                            created_at: from_nanos(created),
                            updated_at: from_nanos(updated),
                        })
                    })
                    .collect()
            })
            .await
    }

    async fn set_status(
        &self,
        id: &str,
        status: NotificationStatus,
        error: Option<String>,
    ) -> Result<(), StoreError> {
        let id = id.to_string();
        let now = nanos(Utc::now());
        self.store
            .write(move |conn| {
                conn.execute(
                    "UPDATE notifications SET status = ?2, error = ?3, updated_at = ?4 WHERE id = ?1",
                    params![id, status.as_str(), error, now],
                )
                .map_err(backend)?;
                Ok(())
            })
            .await
    }
}

#[async_trait]
impl Notifier for OutboxNotifier {
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        let deliver = n.channel == Channel::Email && self.smtp.is_some();
        let initial = if deliver {
            NotificationStatus::Pending
        } else {
            NotificationStatus::Recorded
        };
        let doc = serde_json::to_string(n).map_err(|e| NotifyError(e.to_string()))?;
        let row = (
            n.id.clone(),
            channel_str(n.channel),
            n.report_id.as_ref().map(|r| r.0.clone()),
        );
        let now = nanos(Utc::now());
        let (inserted, status) = self
            .store
            .write(move |conn| {
                let inserted = conn
                    .execute(
                        "INSERT OR IGNORE INTO notifications (id, channel, report_id, status, created_at, updated_at, doc)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
                        params![row.0, row.1, row.2, initial.as_str(), now, doc],
                    )
                    .map_err(backend)?
                    > 0;
                let status: Option<String> = conn
                    .query_row("SELECT status FROM notifications WHERE id = ?1", [&row.0], |r| r.get(0))
                    .optional()
                    .map_err(backend)?;
                Ok((inserted, status.and_then(|s| NotificationStatus::parse(&s))))
            })
            .await
            .map_err(|e| NotifyError(e.to_string()))?;
        let report_id = n.report_id.as_ref().map(|r| r.0.as_str()).unwrap_or("-");
        if !inserted {
            tracing::debug!(report_id = %report_id, notification_id = %n.id, "notification already recorded");
        }
        let retry = matches!(
            status,
            Some(NotificationStatus::Pending | NotificationStatus::Failed)
        );
        let Some(smtp) = self
            .smtp
            .as_ref()
            .filter(|_| deliver && (inserted || retry))
        else {
            return Ok(());
        };
        let subject = n
            .subject
            .as_deref()
            .unwrap_or("Thông báo phản ánh hiện trường");
        match send_mail(smtp, &n.to, subject, &n.body).await {
            Ok(()) => {
                tracing::info!(report_id = %report_id, notification_id = %n.id, "e-mail sent");
                self.set_status(&n.id, NotificationStatus::Sent, None)
                    .await
                    .map_err(|e| NotifyError(e.to_string()))
            }
            Err(e) => {
                tracing::warn!(report_id = %report_id, notification_id = %n.id, error = %e, "e-mail not sent");
                if let Err(se) = self
                    .set_status(&n.id, NotificationStatus::Failed, Some(e.to_string()))
                    .await
                {
                    tracing::error!(report_id = %report_id, error = %se, "could not record e-mail failure");
                }
                Err(NotifyError(e.to_string()))
            }
        }
    }
}
