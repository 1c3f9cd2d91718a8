//! `EventBus` and `Notifier` over SNS.

use crate::table::{ttl_value, ItemKey, TTL_ATTR};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError as DynamoSdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use chrono::Utc;
use phananh_core::model::EventEnvelope;
use phananh_core::ports::{BusError, Channel, EventBus, Notification, Notifier, NotifyError};
use std::collections::HashMap;

/// Message attribute carrying `EventEnvelope::kind()`; subscriptions filter on it.
pub const ATTR_EVENT_TYPE: &str = "event_type";
pub const ATTR_REPORT_ID: &str = "report_id";
/// Message attributes of alert e-mails; e-mail subscriptions filter on `unit` or `to`.
pub const ATTR_UNIT: &str = "unit";
pub const ATTR_CHANNEL: &str = "channel";
pub const ATTR_TO: &str = "to";
/// The notification id, on every SMS and e-mail publish (tracing and audit).
pub const ATTR_NOTIFICATION_ID: &str = "notification_id";

/// Most entries of one `PublishBatch`.
const SNS_BATCH: usize = 10;

fn attr(value: &str) -> Result<MessageAttributeValue, String> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| e.to_string())
}

/// Publishes every envelope (JSON) to the events topic, ten per `PublishBatch` call, with the
/// message attribute `event_type` for the subscriptions' filter policies.
#[derive(Debug, Clone)]
pub struct SnsEventBus {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsEventBus {
    pub fn new(client: aws_sdk_sns::Client, topic_arn: impl Into<String>) -> Self {
        SnsEventBus {
            client,
            topic_arn: topic_arn.into(),
        }
    }
}

#[async_trait]
impl EventBus for SnsEventBus {
    async fn publish(&self, events: &[EventEnvelope]) -> Result<(), BusError> {
        for chunk in events.chunks(SNS_BATCH) {
            let mut entries = Vec::with_capacity(chunk.len());
            for (i, e) in chunk.iter().enumerate() {
                let body = serde_json::to_string(e).map_err(|err| BusError(err.to_string()))?;
                let entry = PublishBatchRequestEntry::builder()
                    .id(format!("e{i}"))
                    .message(body)
                    .message_attributes(ATTR_EVENT_TYPE, attr(e.kind()).map_err(BusError)?)
                    .message_attributes(
                        ATTR_REPORT_ID,
                        attr(e.report_id.as_str()).map_err(BusError)?,
                    )
                    .build()
                    .map_err(|err| BusError(err.to_string()))?;
                entries.push(entry);
            }
            let out = self
                .client
                .publish_batch()
                .topic_arn(&self.topic_arn)
                .set_publish_batch_request_entries(Some(entries))
                .send()
                .await
                .map_err(|e| BusError(DisplayErrorContext(&e).to_string()))?;
            let failed = out.failed();
            if !failed.is_empty() {
                let ids: Vec<String> = failed
                    .iter()
                    .filter_map(|f| {
                        f.id()
                            .strip_prefix('e')
                            .and_then(|i| i.parse::<usize>().ok())
                    })
                    .filter_map(|i| chunk.get(i).map(|e| e.id.clone()))
                    .collect();
                for e in chunk {
                    if ids.contains(&e.id) {
                        tracing::warn!(report_id = %e.report_id, event_id = %e.id, "event not published");
                    }
                }
                return Err(BusError(format!(
                    "{} events not published: {ids:?}",
                    failed.len()
                )));
            }
            for e in chunk {
                tracing::debug!(report_id = %e.report_id, event_id = %e.id, kind = e.kind(), "event published");
            }
        }
        Ok(())
    }
}

/// Sends SMS through SNS direct publish and e-mail through the alerts topic, at most once per
/// notification id (see [`SnsNotifier::send`]).
#[derive(Debug, Clone)]
pub struct SnsNotifier {
    sns: aws_sdk_sns::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    table: String,
    alerts_topic_arn: String,
    sms_sender_id: Option<String>,
    sms_country_code: String,
    /// E-mail to individuals through SES when set (else to the alerts topic).
    ses: Option<crate::ses::SesMailer>,
}

/// Notification markers are kept this long (DynamoDB TTL).
const MARK_TTL_DAYS: i64 = 30;

impl SnsNotifier {
    pub fn new(
        sns: aws_sdk_sns::Client,
        dynamodb: aws_sdk_dynamodb::Client,
        table: impl Into<String>,
        alerts_topic_arn: impl Into<String>,
        sms_sender_id: Option<String>,
    ) -> Self {
        SnsNotifier {
            sns,
            dynamodb,
            table: table.into(),
            alerts_topic_arn: alerts_topic_arn.into(),
            sms_sender_id,
            sms_country_code: "84".into(),
            ses: None,
        }
    }

    /// E-mail goes to each recipient through SES.
    pub fn with_ses(mut self, ses: Option<crate::ses::SesMailer>) -> Self {
        self.ses = ses;
        self
    }

    /// The notifier of the resources in `settings`.
    pub fn from_settings(clients: &crate::AwsClients, settings: &crate::AwsSettings) -> Self {
        let mut n = SnsNotifier::new(
            clients.sns.clone(),
            clients.dynamodb.clone(),
            &settings.table,
            &settings.alerts_topic_arn,
            settings.sms_sender_id.clone(),
        );
        n.sms_country_code = settings.sms_country_code.clone();
        n.with_ses(
            settings
                .ses_from
                .as_ref()
                .map(|from| crate::ses::SesMailer::new(clients.sesv2.clone(), from)),
        )
    }

    /// Takes the notification id and records it sent, in one conditional put; `false` when
    /// it was taken already. (Markers of the older three-call protocol in state `sending`
    /// are taken over once their lease has run out.)
    async fn claim(&self, id: &str) -> Result<bool, NotifyError> {
        let now = Utc::now();
        let res = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(marker_item(id, now)))
            .condition_expression(CLAIM_CONDITION)
            .set_expression_attribute_names(Some(claim_names()))
            .set_expression_attribute_values(Some(claim_values(now)))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(DynamoSdkError::ServiceError(se))
                if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(NotifyError(
                aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
            )),
        }
    }

    /// Claims every id of `ns` in one transaction (each recorded sent); `false` when any was
    /// taken already (a redelivery: the caller then claims them one by one).
    async fn claim_all(&self, ns: &[Notification]) -> Result<bool, NotifyError> {
        let now = Utc::now();
        let mut items = Vec::with_capacity(ns.len());
        for n in ns {
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(marker_item(&n.id, now)))
                .condition_expression(CLAIM_CONDITION)
                .set_expression_attribute_names(Some(claim_names()))
                .set_expression_attribute_values(Some(claim_values(now)))
                .build()
                .map_err(|e| NotifyError(e.to_string()))?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        match self
            .dynamodb
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(DynamoSdkError::ServiceError(se))
                if matches!(
                    se.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(NotifyError(
                aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string(),
            )),
        }
    }

    /// Sends one claimed notification; a failure gives the claim back.
    async fn deliver_claimed(&self, n: &Notification) -> Result<(), NotifyError> {
        match self.deliver(n).await {
            Ok(()) => {
                tracing::info!(notification_id = %n.id, report_id = ?n.report_id, channel = ?n.channel, "notification sent");
                Ok(())
            }
            Err(e) => {
                self.release(&n.id).await;
                tracing::warn!(notification_id = %n.id, report_id = ?n.report_id, error = %e, "notification failed");
                Err(e)
            }
        }
    }

    /// Gives the id back after a failed send, so the retry (SQS redelivery) sends it.
    async fn release(&self, id: &str) {
        let res = self
            .dynamodb
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::notification(id).into_item()))
            .send()
            .await;
        if let Err(e) = res {
            tracing::warn!(notification_id = id, error = %aws_sdk_dynamodb::error::DisplayErrorContext(&e), "claim not released");
        }
    }

    async fn deliver(&self, n: &Notification) -> Result<(), NotifyError> {
        let err = |e: String| NotifyError(e);
        match n.channel {
            Channel::Sms => {
                let phone = e164(&n.to, &self.sms_country_code)
                    .ok_or_else(|| NotifyError(format!("not a phone number: {:?}", n.to)))?;
                let mut req = self
                    .sns
                    .publish()
                    .phone_number(phone)
                    .message(&n.body)
                    .message_attributes("AWS.SNS.SMS.SMSType", attr("Transactional").map_err(err)?)
                    .message_attributes(ATTR_CHANNEL, attr("sms").map_err(err)?)
                    .message_attributes(ATTR_TO, attr(&n.to).map_err(err)?)
                    .message_attributes(ATTR_NOTIFICATION_ID, attr(&n.id).map_err(err)?);
                if let Some(unit) = &n.unit {
                    req = req.message_attributes(ATTR_UNIT, attr(unit).map_err(err)?);
                }
                if let Some(id) = &n.report_id {
                    req = req.message_attributes(ATTR_REPORT_ID, attr(id.as_str()).map_err(err)?);
                }
                if let Some(sender) = &self.sms_sender_id {
                    req =
                        req.message_attributes("AWS.SNS.SMS.SenderID", attr(sender).map_err(err)?);
                }
                req.send()
                    .await
                    .map_err(|e| NotifyError(DisplayErrorContext(&e).to_string()))?;
            }
            Channel::Email if self.ses.is_some() => {
                if let Some(ses) = &self.ses {
                    let subject = n
                        .subject
                        .as_deref()
                        .unwrap_or("Thông báo phản ánh hiện trường");
                    let id = ses.send(&n.to, subject, &n.body).await?;
                    tracing::info!(notification_id = %n.id, report_id = ?n.report_id, ses_message_id = %id, "e-mail accepted by SES");
                }
            }
            Channel::Email => {
                let mut req = self
                    .sns
                    .publish()
                    .topic_arn(&self.alerts_topic_arn)
                    .message(&n.body)
                    .message_attributes(ATTR_CHANNEL, attr("email").map_err(err)?)
                    .message_attributes(ATTR_TO, attr(&n.to).map_err(err)?)
                    .message_attributes(ATTR_NOTIFICATION_ID, attr(&n.id).map_err(err)?);
                if let Some(unit) = &n.unit {
                    req = req.message_attributes(ATTR_UNIT, attr(unit).map_err(err)?);
                }
                if let Some(id) = &n.report_id {
                    req = req.message_attributes(ATTR_REPORT_ID, attr(id.as_str()).map_err(err)?);
                }
                if let Some(subject) = n
                    .subject
                    .as_deref()
                    .map(sns_subject)
                    .filter(|s| !s.is_empty())
                {
                    req = req.subject(subject);
                }
                req.send()
                    .await
                    .map_err(|e| NotifyError(DisplayErrorContext(&e).to_string()))?;
            }
        }
        Ok(())
    }
}

/// A phone number in E.164 (`+84912345678`), as SNS requires; local numbers (`0912...`) get
/// `country_code`. `None` when it is not a phone number.
pub fn e164(raw: &str, country_code: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-' | '(' | ')'))
        .collect();
    let digits = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix('0') {
        format!("{country_code}{rest}")
    } else {
        compact
    };
    let ok = (8..=15).contains(&digits.len())
        && digits.chars().all(|c| c.is_ascii_digit())
        && !digits.starts_with('0');
    ok.then(|| format!("+{digits}"))
}

/// SNS subjects: one line of UTF-8 without control characters, under 100 characters.
pub fn sns_subject(s: &str) -> String {
    let one_line = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    one_line.chars().take(99).collect()
}

#[async_trait]
impl Notifier for SnsNotifier {
    /// At most once per `n.id`, in two calls: a conditional put of a `NOTIF#<id>` marker that
    /// claims the id and records it sent at once, then the send. A send that fails deletes
    /// the marker, so the retry (SQS redelivery) sends again. Trade-off (docs/aws.md,
    /// "Calls per report"): a crash or timeout of the function between the put and the
    /// provider's answer leaves the id marked without a message — the escalation timers
    /// still raise an unhandled case; the three-call protocol it replaces (claim with a lease,
    /// send, mark) risked a duplicate there instead, for one more write per message.
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        if !self.claim(&n.id).await? {
            tracing::info!(notification_id = %n.id, report_id = ?n.report_id, "duplicate notification skipped");
            return Ok(());
        }
        self.deliver_claimed(n).await
    }

    /// The messages of one event: all ids claimed in one `TransactWriteItems` (one call
    /// instead of one per message), then each sent; when any id was taken already (a
    /// redelivered event), each is claimed and sent on its own as [`SnsNotifier::send`] does.
    async fn send_all(&self, ns: &[Notification]) -> Vec<Result<(), NotifyError>> {
        let mut ids: Vec<&str> = ns.iter().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let together = ns.len() > 1 && ns.len() <= MAX_CLAIMS_AT_ONCE && ids.len() == ns.len();
        let claimed = together && matches!(self.claim_all(ns).await, Ok(true));
        let mut out = Vec::with_capacity(ns.len());
        for n in ns {
            out.push(if claimed {
                self.deliver_claimed(n).await
            } else {
                self.send(n).await
            });
        }
        out
    }
}

/// Most markers one transaction claims (the `TransactWriteItems` limit).
const MAX_CLAIMS_AT_ONCE: usize = 100;

/// A claim takes a free id, or one of the older protocol's `sending` claims whose lease ran
/// out.
const CLAIM_CONDITION: &str = "attribute_not_exists(pk) OR (#st = :sending AND lease_until < :now)";

/// The `NOTIF#<id>` marker of a claim: recorded sent at once, kept 30 days (TTL).
fn marker_item(id: &str, now: chrono::DateTime<Utc>) -> HashMap<String, AttributeValue> {
    let mut item = ItemKey::notification(id).into_item();
    item.insert("state".into(), AttributeValue::S("sent".into()));
    item.insert(
        TTL_ATTR.into(),
        ttl_value(now + chrono::Duration::days(MARK_TTL_DAYS)),
    );
    item
}

fn claim_names() -> HashMap<String, String> {
    HashMap::from([("#st".to_string(), "state".to_string())])
}

fn claim_values(now: chrono::DateTime<Utc>) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (":sending".to_string(), AttributeValue::S("sending".into())),
        (
            ":now".to_string(),
            AttributeValue::N(now.timestamp().to_string()),
        ),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_numbers_become_e164() {
        assert_eq!(e164("0912 345 678", "84").as_deref(), Some("+84912345678"));
        assert_eq!(e164("+84912345678", "84").as_deref(), Some("+84912345678"));
        assert_eq!(
            e164("0084-912-345-678", "84").as_deref(),
            Some("+84912345678")
        );
        assert_eq!(e164("84912345678", "84").as_deref(), Some("+84912345678"));
        for bad in ["", "abc", "12", "0", "+0912345678", "ubnd@laichau.gov.vn"] {
            assert_eq!(e164(bad, "84"), None, "{bad}");
        }
    }

    #[test]
    fn subjects_become_one_short_line() {
        assert_eq!(
            sns_subject("Phản ánh quá hạn:\r\n Đường  hỏng"),
            "Phản ánh quá hạn: Đường hỏng"
        );
        let long = "ơ".repeat(300);
        assert_eq!(sns_subject(&long).chars().count(), 99);
    }
}
