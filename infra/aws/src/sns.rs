//! `EventBus` and `Notifier` over SNS.

use crate::deliveries::{claim_item, doc_of, lambda_retry_schedule, outcome_update};
use crate::table::ItemKey;
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError as DynamoSdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use aws_sdk_sns::error::DisplayErrorContext;
use aws_sdk_sns::types::{MessageAttributeValue, PublishBatchRequestEntry};
use chrono::Utc;
use phananh_core::delivery::{Attempt, RetrySchedule};
use phananh_core::model::EventEnvelope;
use phananh_core::pii::PiiCipher;
use phananh_core::ports::{BusError, Channel, EventBus, Notification, Notifier, NotifyError};
use std::collections::HashMap;
use std::sync::Arc;

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

/// Sends SMS through SNS direct publish and e-mail through SES (or the alerts topic), at most
/// once per notification id, and keeps the delivery log ([`crate::deliveries`]).
#[derive(Clone)]
pub struct SnsNotifier {
    pub(crate) sns: aws_sdk_sns::Client,
    pub(crate) dynamodb: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
    alerts_topic_arn: String,
    sms_sender_id: Option<String>,
    sms_country_code: String,
    /// E-mail to individuals through SES when set (else to the alerts topic).
    ses: Option<crate::ses::SesMailer>,
    /// Attempts of one send in the function before the dead letter.
    pub(crate) schedule: RetrySchedule,
    /// Seals the recipient in the stored record (issue 12 item 5).
    pub(crate) pii: Option<Arc<dyn PiiCipher>>,
}

impl std::fmt::Debug for SnsNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SnsNotifier")
            .field("table", &self.table)
            .field("alerts_topic_arn", &self.alerts_topic_arn)
            .field("ses", &self.ses)
            .field("schedule", &self.schedule)
            .field("sealed", &self.pii.is_some())
            .finish_non_exhaustive()
    }
}

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
            schedule: lambda_retry_schedule(),
            pii: None,
        }
    }

    /// E-mail goes to each recipient through SES.
    pub fn with_ses(mut self, ses: Option<crate::ses::SesMailer>) -> Self {
        self.ses = ses;
        self
    }

    /// Other attempts and backoff of one send (tests: no wait).
    pub fn with_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// The recipient of each record is stored sealed with `cipher`.
    pub fn with_pii_cipher(mut self, cipher: Arc<dyn PiiCipher>) -> Self {
        self.pii = Some(cipher);
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

    /// Takes the notification id and records it `pending` with its content, in one
    /// conditional put; `false` when it was taken already. (Markers of the older protocol in
    /// state `sending` are taken over once their lease has run out.)
    async fn claim(&self, n: &Notification) -> Result<bool, NotifyError> {
        let now = Utc::now();
        let doc = doc_of(n, self.pii.as_deref()).map_err(|e| NotifyError(e.to_string()))?;
        let res = self
            .dynamodb
            .put_item()
            .table_name(&self.table)
            .set_item(Some(claim_item(n, doc, now)))
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

    /// Claims every id of `ns` in one transaction (each recorded `pending`); `false` when any
    /// was taken already (a redelivery: the caller then claims them one by one).
    async fn claim_all(&self, ns: &[Notification]) -> Result<bool, NotifyError> {
        let now = Utc::now();
        let mut items = Vec::with_capacity(ns.len());
        for n in ns {
            let doc = doc_of(n, self.pii.as_deref()).map_err(|e| NotifyError(e.to_string()))?;
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(claim_item(n, doc, now)))
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

    /// Sends one claimed notification, retrying a failure with backoff in the function
    /// ([`RetrySchedule`], bounded); the outcome and the attempts made.
    pub(crate) async fn attempt(&self, n: &Notification) -> (Attempt, u32) {
        let max = self.schedule.max_attempts.clamp(1, 10);
        let mut attempts = 0;
        loop {
            attempts += 1;
            let outcome = match self.deliver(n).await {
                Ok((provider, message_id)) => Attempt::Sent {
                    provider: provider.to_string(),
                    message_id,
                },
                // Issue 12 item 5: the stored error never quotes the recipient or any address.
                Err((provider, e)) => Attempt::failed(provider, &e.0, n),
            };
            let report_id = n.report_id.as_ref().map(|r| r.as_str()).unwrap_or("-");
            match &outcome {
                Attempt::Failed { error, .. } => {
                    let now = Utc::now();
                    let next = (attempts < max)
                        .then(|| self.schedule.after_failure(attempts, now))
                        .flatten();
                    tracing::warn!(report_id = %report_id, notification_id = %n.id, attempts, dead = next.is_none(), error = %error, "notification not delivered");
                    match next.and_then(|t| (t - now).to_std().ok()) {
                        Some(wait) => tokio::time::sleep(wait).await,
                        None => return (outcome, attempts),
                    }
                }
                _ => {
                    tracing::info!(report_id = %report_id, notification_id = %n.id, channel = ?n.channel, "notification sent");
                    return (outcome, attempts);
                }
            }
        }
    }

    /// Records the outcomes of claimed notifications: one update, or one transaction for
    /// several (an event's messages).
    pub(crate) async fn record(
        &self,
        done: &[(&Notification, Attempt, u32)],
    ) -> Result<(), NotifyError> {
        let now = Utc::now();
        let err = |e: String| NotifyError(e);
        if let [(n, attempt, attempts)] = done {
            let o = outcome_update(n, attempt, *attempts, now);
            self.dynamodb
                .update_item()
                .table_name(&self.table)
                .set_key(Some(ItemKey::notification(&n.id).into_item()))
                .update_expression(o.expression)
                .set_expression_attribute_names(Some(o.names))
                .set_expression_attribute_values(Some(o.values))
                .send()
                .await
                .map_err(|e| err(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()))?;
            return Ok(());
        }
        for chunk in done.chunks(MAX_CLAIMS_AT_ONCE) {
            let mut items = Vec::with_capacity(chunk.len());
            for (n, attempt, attempts) in chunk {
                let o = outcome_update(n, attempt, *attempts, now);
                let u = Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(ItemKey::notification(&n.id).into_item()))
                    .update_expression(o.expression)
                    .set_expression_attribute_names(Some(o.names))
                    .set_expression_attribute_values(Some(o.values))
                    .build()
                    .map_err(|e| err(e.to_string()))?;
                items.push(TransactWriteItem::builder().update(u).build());
            }
            self.dynamodb
                .transact_write_items()
                .set_transact_items(Some(items))
                .send()
                .await
                .map_err(|e| err(aws_sdk_dynamodb::error::DisplayErrorContext(&e).to_string()))?;
        }
        Ok(())
    }

    /// One send: the provider's name and message id, or the provider's name and the error.
    async fn deliver(
        &self,
        n: &Notification,
    ) -> Result<(&'static str, String), (&'static str, NotifyError)> {
        let err = |e: String| NotifyError(e);
        match n.channel {
            Channel::Sms => {
                let sns = |e: NotifyError| ("sns", e);
                let phone = e164(&n.to, &self.sms_country_code)
                    .ok_or_else(|| sns(NotifyError(format!("not a phone number: {:?}", n.to))))?;
                let mut req = self
                    .sns
                    .publish()
                    .phone_number(phone)
                    .message(&n.body)
                    .message_attributes(
                        "AWS.SNS.SMS.SMSType",
                        attr("Transactional").map_err(err).map_err(sns)?,
                    )
                    .message_attributes(ATTR_CHANNEL, attr("sms").map_err(err).map_err(sns)?)
                    .message_attributes(ATTR_TO, attr(&n.to).map_err(err).map_err(sns)?)
                    .message_attributes(
                        ATTR_NOTIFICATION_ID,
                        attr(&n.id).map_err(err).map_err(sns)?,
                    );
                if let Some(unit) = &n.unit {
                    req = req.message_attributes(ATTR_UNIT, attr(unit).map_err(err).map_err(sns)?);
                }
                if let Some(id) = &n.report_id {
                    req = req.message_attributes(
                        ATTR_REPORT_ID,
                        attr(id.as_str()).map_err(err).map_err(sns)?,
                    );
                }
                if let Some(sender) = &self.sms_sender_id {
                    req = req.message_attributes(
                        "AWS.SNS.SMS.SenderID",
                        attr(sender).map_err(err).map_err(sns)?,
                    );
                }
                let out = req
                    .send()
                    .await
                    .map_err(|e| sns(NotifyError(DisplayErrorContext(&e).to_string())))?;
                Ok(("sns", out.message_id().unwrap_or_default().to_string()))
            }
            Channel::Email => match &self.ses {
                Some(ses) => {
                    let subject = n
                        .subject
                        .as_deref()
                        .unwrap_or("Thông báo phản ánh hiện trường");
                    let id = ses
                        .send(&n.to, subject, &n.body)
                        .await
                        .map_err(|e| ("ses", e))?;
                    Ok(("ses", id))
                }
                None => {
                    let topic = |e: NotifyError| ("sns-topic", e);
                    let mut req = self
                        .sns
                        .publish()
                        .topic_arn(&self.alerts_topic_arn)
                        .message(&n.body)
                        .message_attributes(
                            ATTR_CHANNEL,
                            attr("email").map_err(err).map_err(topic)?,
                        )
                        .message_attributes(ATTR_TO, attr(&n.to).map_err(err).map_err(topic)?)
                        .message_attributes(
                            ATTR_NOTIFICATION_ID,
                            attr(&n.id).map_err(err).map_err(topic)?,
                        );
                    if let Some(unit) = &n.unit {
                        req = req
                            .message_attributes(ATTR_UNIT, attr(unit).map_err(err).map_err(topic)?);
                    }
                    if let Some(id) = &n.report_id {
                        req = req.message_attributes(
                            ATTR_REPORT_ID,
                            attr(id.as_str()).map_err(err).map_err(topic)?,
                        );
                    }
                    if let Some(subject) = n
                        .subject
                        .as_deref()
                        .map(sns_subject)
                        .filter(|s| !s.is_empty())
                    {
                        req = req.subject(subject);
                    }
                    let out = req
                        .send()
                        .await
                        .map_err(|e| topic(NotifyError(DisplayErrorContext(&e).to_string())))?;
                    Ok((
                        "sns-topic",
                        out.message_id().unwrap_or_default().to_string(),
                    ))
                }
            },
        }
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
    /// At most once per `n.id`: a conditional put of the `NOTIF#<id>` record claims the id
    /// (`pending`, with the notification), the send (retried with backoff in the function),
    /// then one update with the outcome: `sent` with the provider's message id, or `dead`
    /// with the error, where the office sees and re-sends it. Only a failure to record is an
    /// error (the SQS message is retried); a crash between the claim and the outcome leaves
    /// the record `pending`, which the office may re-send once its lease is over.
    async fn send(&self, n: &Notification) -> Result<(), NotifyError> {
        if !self.claim(n).await? {
            tracing::info!(notification_id = %n.id, report_id = ?n.report_id, "duplicate notification skipped");
            return Ok(());
        }
        let (attempt, attempts) = self.attempt(n).await;
        self.record(&[(n, attempt, attempts)]).await
    }

    /// The messages of one event: all ids claimed in one `TransactWriteItems`, each sent,
    /// then all outcomes recorded in one more transaction (two writes per event, not two per
    /// message); when any id was taken already (a redelivered event), each is claimed, sent
    /// and recorded on its own as [`SnsNotifier::send`] does.
    async fn send_all(&self, ns: &[Notification]) -> Vec<Result<(), NotifyError>> {
        let mut ids: Vec<&str> = ns.iter().map(|n| n.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        let together = ns.len() > 1 && ns.len() <= MAX_CLAIMS_AT_ONCE && ids.len() == ns.len();
        let claimed = together && matches!(self.claim_all(ns).await, Ok(true));
        if !claimed {
            let mut out = Vec::with_capacity(ns.len());
            for n in ns {
                out.push(self.send(n).await);
            }
            return out;
        }
        let mut done = Vec::with_capacity(ns.len());
        for n in ns {
            let (attempt, attempts) = self.attempt(n).await;
            done.push((n, attempt, attempts));
        }
        match self.record(&done).await {
            Ok(()) => ns.iter().map(|_| Ok(())).collect(),
            Err(e) => ns.iter().map(|_| Err(NotifyError(e.0.clone()))).collect(),
        }
    }
}

/// Most records one transaction claims or updates (the `TransactWriteItems` limit).
const MAX_CLAIMS_AT_ONCE: usize = 100;

/// A claim takes a free id, or one of the older protocol's `sending` claims whose lease ran
/// out.
const CLAIM_CONDITION: &str = "attribute_not_exists(pk) OR (#st = :sending AND lease_until < :now)";

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
