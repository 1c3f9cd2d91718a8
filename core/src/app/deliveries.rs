//! The delivery log as the office and the IOC use it (Đ.7.2): who was told what about a
//! report, when, by which channel, with the provider's message id or the error; the SMS that
//! went (or would go) out; the notifications that could not be delivered, and their re-send.

use super::{storage, App};
use crate::delivery::{DeliveryLog, DeliveryRecord, DeliveryStatus, EarlierRound};
use crate::error::DomainError;
use crate::lifecycle;
use crate::model::{Action, Actor, ReportId};
use crate::ports::{Channel, StoreError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tracing::info;

/// What staff see of one notification: the reporter's phone or e-mail is never shown (Đ.4.4:
/// only the roles that may reveal the reporter see it, through the audited reveal).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeliveryView {
    pub id: String,
    pub report_id: Option<ReportId>,
    pub channel: Channel,
    /// The address, or "người phản ánh" for the reporter.
    pub to: String,
    pub unit: Option<String>,
    pub subject: Option<String>,
    pub body: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub provider: Option<String>,
    pub provider_message_id: Option<String>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// The rounds of attempts before each re-send, oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier: Vec<EarlierRound>,
}

/// What staff see instead of a sign-in code.
pub const HIDDEN_CODE: &str = "(mã đăng nhập của người dân — không hiển thị)";

/// How a recipient outside the units appears in the log.
pub const REPORTER_LABEL: &str = "người phản ánh";

impl DeliveryView {
    pub fn of(r: DeliveryRecord) -> DeliveryView {
        let n = r.notification;
        // Unit recipients are public office contacts; anyone else is a citizen.
        let to = if n.unit.is_some() {
            n.to
        } else {
            REPORTER_LABEL.to_string()
        };
        // A message about no report is a citizen's sign-in code: never shown to staff.
        let body = if n.unit.is_none() && n.report_id.is_none() {
            HIDDEN_CODE.to_string()
        } else {
            n.body
        };
        DeliveryView {
            id: n.id,
            report_id: n.report_id,
            channel: n.channel,
            to,
            unit: n.unit,
            subject: n.subject,
            body,
            status: r.status,
            attempts: r.attempts,
            provider: r.provider,
            provider_message_id: r.provider_message_id,
            error: r.error,
            created_at: r.created_at,
            updated_at: r.updated_at,
            next_attempt_at: r.next_attempt_at,
            earlier: r.earlier,
        }
    }
}

/// Most records one read returns.
pub const MAX_DELIVERIES: usize = 500;

impl App {
    /// The notifier's delivery log (embedded: the SQLite notification table).
    pub fn with_delivery_log(mut self, log: Option<Arc<dyn DeliveryLog>>) -> App {
        self.deliveries = log;
        self
    }

    /// Another notifier (a runtime that learns its personal-data key after building the
    /// application seals the recipients of its delivery log with it).
    pub fn with_notifier(mut self, notifier: Arc<dyn crate::ports::Notifier>) -> App {
        self.notifier = notifier;
        self
    }

    /// Whether this runtime keeps a delivery log.
    pub fn has_delivery_log(&self) -> bool {
        self.deliveries.is_some()
    }

    /// Đ.7.2: the office and the IOC follow the notifications.
    pub fn check_delivery_access(actor: &Actor) -> Result<(), DomainError> {
        if lifecycle::allowed_roles(Action::ManageNotifications).contains(&actor.role) {
            Ok(())
        } else {
            Err(DomainError::Forbidden {
                role: actor.role,
                action: Action::ManageNotifications,
            })
        }
    }

    fn delivery_log(&self) -> Result<&dyn DeliveryLog, DomainError> {
        self.deliveries
            .as_deref()
            .ok_or_else(|| DomainError::Storage("this runtime keeps no delivery log".to_string()))
    }

    /// Every notification about a report, newest first.
    pub async fn deliveries_for(
        &self,
        actor: &Actor,
        report_id: &ReportId,
    ) -> Result<Vec<DeliveryView>, DomainError> {
        Self::check_delivery_access(actor)?;
        // The report must exist (and be visible): no probing of ids through the log.
        self.get_for(report_id, actor).await?;
        self.delivery_log()?
            .deliveries_for_report(report_id, MAX_DELIVERIES)
            .await
            .map(|v| v.into_iter().map(DeliveryView::of).collect())
            .map_err(storage)
    }

    /// The latest notifications, optionally of one channel or status ("tin nhắn sẽ được gửi":
    /// the SMS channel; the dead letters: status `dead`).
    pub async fn recent_deliveries(
        &self,
        actor: &Actor,
        channel: Option<Channel>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<DeliveryView>, DomainError> {
        Self::check_delivery_access(actor)?;
        self.delivery_log()?
            .recent_deliveries(channel, status, limit.clamp(1, MAX_DELIVERIES))
            .await
            .map(|v| v.into_iter().map(DeliveryView::of).collect())
            .map_err(storage)
    }

    /// Sends a notification that could not be delivered again, now.
    pub async fn resend_delivery(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<DeliveryView, DomainError> {
        Self::check_delivery_access(actor)?;
        match self.delivery_log()?.resend(id).await {
            Ok(rec) => {
                let report_id = rec
                    .notification
                    .report_id
                    .as_ref()
                    .map(|r| r.as_str())
                    .unwrap_or("-");
                info!(report_id = %report_id, notification_id = %id, actor = %actor.id, status = rec.status.as_str(), "notification re-sent");
                Ok(DeliveryView::of(rec))
            }
            Err(StoreError::Conflict) => Err(DomainError::invalid(
                "notification",
                "thông báo này đã được gửi thành công, không cần gửi lại",
            )),
            Err(e) => Err(storage(e)),
        }
    }

    /// Retries the notifications whose backoff is over (the timer calls it).
    pub async fn run_delivery_retries(&self, limit: usize) -> Result<usize, DomainError> {
        match &self.deliveries {
            Some(log) => log.retry_due(self.now(), limit).await.map_err(storage),
            None => Ok(0),
        }
    }
}
