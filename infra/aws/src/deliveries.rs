//! The delivery log on DynamoDB (issue 13 items 1–2): who was told what about a report, when,
//! by which channel, with the provider's message id (SNS `MessageId`, SES `MessageId`) or the
//! error; the dead letters newest first; the office's re-send.
//!
//! Each notification is one item, the same `NOTIF#<id>` item whose conditional put claims the
//! id (so the record costs no call of its own): written `pending` with the notification, then
//! updated once with the outcome, for all the messages of an event in one transaction. Reads
//! go through two indexes, bounded pages each:
//!
//! | read                                 | index        | partition                         | order          |
//! |--------------------------------------|--------------|-----------------------------------|----------------|
//! | per report                           | `by_unit`    | `DELIVREP#<report id>`            | `csk`, newest first |
//! | by channel (and status)              | `deliveries` | `DELIV#<channel>`, dead letters `DELIV#<channel>#dead` | `csk`, newest first |
//!
//! `deliveries` holds keys only (issue 10): the outcome written on a `sent` record changes no
//! key and no projected attribute, so it rewrites no index item; only a dead letter moves
//! (to its `#dead` partition). Its pages' records are read by `BatchGetItem`. Records of the
//! earlier layout sit in `by_state` (`state_pk` = `DELIV#<channel>#<status>`, every outcome
//! moving them): the channel/status reads still read those partitions too, and a re-send
//! moves such a record to `deliveries`.
//!
//! A failed send is retried in the function with backoff ([`RetrySchedule`], a few seconds at
//! most), then recorded `dead` with the error: the SQS message is done, the office sees the
//! dead letter in the console and the API and re-sends it ([`DeliveryLog::resend`]).

use crate::sns::SnsNotifier;
use crate::table::{
    delivery_log_pk, delivery_report_pk, delivery_state_pk, time_key, timed_key, ttl_value,
    ItemKey, CSK, GSI_DELIVERY, GSI_STATE, GSI_UNIT, PK, SK, TTL_ATTR,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Duration as ChronoDuration, Utc};
use phananh_core::delivery::{
    Attempt, DeliveryLog, DeliveryRecord, DeliveryStatus, EarlierRound, RetrySchedule,
};
use phananh_core::model::ReportId;
use phananh_core::pii::{self, PiiCipher};
use phananh_core::ports::{Channel, Notification, StoreError};
use std::collections::HashMap;

/// A claim (status `pending`) is held this long; after it the office may re-send.
pub(crate) const CLAIM_LEASE_SECS: i64 = 120;
/// Markers of messages about no report (sign-in codes) are kept this long (TTL); the log of a
/// report's notifications is kept with the report.
pub(crate) const MARK_TTL_DAYS: i64 = 30;
/// The attribute of the rounds before each re-send.
const EARLIER: &str = "earlier";
/// Most records one read returns.
pub(crate) const MAX_PAGE: usize = 500;
/// Index pages one read of a `deliveries` partition goes through when filtering by status.
const MAX_LOG_PAGES: usize = 4;
/// Keys one `BatchGetItem` takes (DynamoDB's limit).
const BATCH_GET_MAX: usize = 100;
/// Rounds of unprocessed keys one batch read sends again.
const BATCH_GET_ROUNDS: usize = 5;
/// The statuses this log writes (a send is retried in the function, never scheduled).
pub(crate) const WRITTEN: [DeliveryStatus; 3] = [
    DeliveryStatus::Pending,
    DeliveryStatus::Sent,
    DeliveryStatus::Dead,
];

/// Retries of one send in the function: 3 attempts, after 0.5 s and 1 s.
pub fn lambda_retry_schedule() -> RetrySchedule {
    RetrySchedule {
        max_attempts: 3,
        first_backoff: ChronoDuration::milliseconds(500),
        max_backoff: ChronoDuration::seconds(2),
    }
}

pub(crate) fn channel_str(c: Channel) -> &'static str {
    match c {
        Channel::Sms => "sms",
        Channel::Email => "email",
    }
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn num(v: impl ToString) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The stored document: the notification with its recipient sealed when a key is set.
pub(crate) fn doc_of(n: &Notification, pii: Option<&dyn PiiCipher>) -> Result<String, StoreError> {
    match pii {
        Some(c) => {
            let mut sealed = n.clone();
            sealed.to = c.seal(&n.to).map_err(backend)?;
            serde_json::to_string(&sealed).map_err(backend)
        }
        None => serde_json::to_string(n).map_err(backend),
    }
}

/// The notification of a stored document, its recipient opened.
pub(crate) fn notification_of(
    doc: &str,
    pii: Option<&dyn PiiCipher>,
) -> Result<Notification, StoreError> {
    let mut n: Notification = serde_json::from_str(doc).map_err(backend)?;
    if pii::is_sealed(&n.to) {
        let c = pii.ok_or_else(|| {
            StoreError::Backend("a sealed recipient and no personal-data key".into())
        })?;
        n.to = c.open(&n.to).map_err(backend)?;
    }
    Ok(n)
}

/// The item a claim puts: the notification, `pending`, its index keys.
pub(crate) fn claim_item(
    n: &Notification,
    doc: String,
    now: DateTime<Utc>,
) -> HashMap<String, AttributeValue> {
    let mut item = ItemKey::notification(&n.id).into_item();
    item.insert("state".into(), s(DeliveryStatus::Pending.as_str()));
    item.insert("doc".into(), s(doc));
    item.insert("attempts".into(), n_attr(0));
    item.insert("created_at".into(), s(time_key(now)));
    item.insert("updated_at".into(), s(time_key(now)));
    item.insert(
        "lease_until".into(),
        num((now + ChronoDuration::seconds(CLAIM_LEASE_SECS)).timestamp()),
    );
    item.insert(CSK.into(), s(timed_key(now, &n.id)));
    item.insert(
        GSI_DELIVERY.pk.into(),
        s(delivery_log_pk(channel_str(n.channel), false)),
    );
    match &n.report_id {
        Some(r) => {
            item.insert(GSI_UNIT.pk.into(), s(delivery_report_pk(r.as_str())));
        }
        None => {
            item.insert(
                TTL_ATTR.into(),
                ttl_value(now + ChronoDuration::days(MARK_TTL_DAYS)),
            );
        }
    }
    item
}

fn n_attr(v: u32) -> AttributeValue {
    num(v)
}

/// The update that records an outcome: expression, names, values.
pub(crate) struct Outcome {
    pub expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

/// What an attempt leaves on its record once the function's retries are over (a failure is
/// dead: nothing is scheduled on AWS): status, provider, provider message id, error.
fn final_outcome(attempt: &Attempt) -> (DeliveryStatus, Option<&str>, Option<&str>, Option<&str>) {
    match attempt {
        Attempt::Sent {
            provider,
            message_id,
        } => (DeliveryStatus::Sent, Some(provider), Some(message_id), None),
        Attempt::Recorded => (DeliveryStatus::Recorded, None, None, None),
        Attempt::Failed { provider, error } => {
            (DeliveryStatus::Dead, Some(provider), None, Some(error))
        }
    }
}

/// Records `attempt` (after `attempts` attempts) on a claimed item.
pub(crate) fn outcome_update(
    n: &Notification,
    attempt: &Attempt,
    attempts: u32,
    now: DateTime<Utc>,
) -> Outcome {
    let (status, provider, id, error) = final_outcome(attempt);
    let mut set = vec!["#st = :st", "attempts = :a", "updated_at = :u"];
    // A record of the earlier layout leaves `by_state`; a record of this one has no `state_pk`.
    let mut remove = vec!["lease_until", "#sp"];
    let mut values = HashMap::from([
        (":st".to_string(), s(status.as_str())),
        (":a".to_string(), n_attr(attempts)),
        (":u".to_string(), s(time_key(now))),
    ]);
    // Only a dead letter moves in `deliveries` (keys only: a sent record's index item is
    // left as it is).
    if status == DeliveryStatus::Dead {
        set.push("#dp = :dp");
        values.insert(
            ":dp".to_string(),
            s(delivery_log_pk(channel_str(n.channel), true)),
        );
    }
    match provider {
        Some(p) => {
            set.push("provider = :p");
            values.insert(":p".into(), s(p));
        }
        None => remove.push("provider"),
    }
    match id {
        Some(m) => {
            set.push("provider_message_id = :m");
            values.insert(":m".into(), s(m));
        }
        None => remove.push("provider_message_id"),
    }
    match error {
        Some(e) => {
            set.push("#err = :e");
            values.insert(":e".into(), s(e));
        }
        None => remove.push("#err"),
    }
    Outcome {
        expression: format!("SET {} REMOVE {}", set.join(", "), remove.join(", ")),
        names: {
            let mut names = HashMap::from([
                ("#st".to_string(), "state".to_string()),
                ("#sp".to_string(), GSI_STATE.pk.to_string()),
                ("#err".to_string(), "error".to_string()),
            ]);
            if status == DeliveryStatus::Dead {
                names.insert("#dp".to_string(), GSI_DELIVERY.pk.to_string());
            }
            names
        },
        values,
    }
}

fn attr_s<'a>(item: &'a HashMap<String, AttributeValue>, k: &str) -> Option<&'a str> {
    item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn parse_time(v: Option<&str>) -> Result<DateTime<Utc>, StoreError> {
    let v = v.ok_or_else(|| StoreError::Backend("delivery record without a time".into()))?;
    DateTime::parse_from_rfc3339(v)
        .map(|t| t.with_timezone(&Utc))
        .map_err(backend)
}

/// A stored item as a delivery record; `None` for a bare marker of the older protocol.
pub(crate) fn record_of(
    item: &HashMap<String, AttributeValue>,
    pii: Option<&dyn PiiCipher>,
) -> Result<Option<DeliveryRecord>, StoreError> {
    let Some(doc) = attr_s(item, "doc") else {
        return Ok(None);
    };
    let state = attr_s(item, "state").unwrap_or_default();
    let status = DeliveryStatus::parse(state)
        .ok_or_else(|| StoreError::Backend(format!("unknown delivery status {state:?}")))?;
    let attempts = item
        .get("attempts")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(0);
    Ok(Some(DeliveryRecord {
        notification: notification_of(doc, pii)?,
        status,
        attempts,
        provider: attr_s(item, "provider").map(str::to_string),
        provider_message_id: attr_s(item, "provider_message_id").map(str::to_string),
        error: attr_s(item, "error").map(str::to_string),
        created_at: parse_time(attr_s(item, "created_at"))?,
        updated_at: parse_time(attr_s(item, "updated_at"))?,
        next_attempt_at: None,
        earlier: earlier_of(item)?,
    }))
}

/// The `earlier` list: one JSON document per round before a re-send.
fn earlier_of(item: &HashMap<String, AttributeValue>) -> Result<Vec<EarlierRound>, StoreError> {
    let Some(list) = item.get(EARLIER).and_then(|v| v.as_l().ok()) else {
        return Ok(Vec::new());
    };
    list.iter()
        .map(|v| {
            let json = v
                .as_s()
                .map_err(|_| StoreError::Backend("an earlier round that is not a string".into()))?;
            serde_json::from_str(json).map_err(backend)
        })
        .collect()
}

/// The sort key of a stored item (newest first merges of several partitions).
pub(crate) fn csk_of(item: &HashMap<String, AttributeValue>) -> String {
    attr_s(item, CSK).unwrap_or_default().to_string()
}

/// Whether a pending claim's lease has run out at `now`.
pub(crate) fn lease_over(item: &HashMap<String, AttributeValue>, now: DateTime<Utc>) -> bool {
    item.get("lease_until")
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse::<i64>().ok())
        .is_none_or(|t| t < now.timestamp())
}

impl SnsNotifier {
    /// One bounded, newest-first page of an index partition.
    async fn query_partition(
        &self,
        index: &str,
        key_attr: &str,
        key: String,
        limit: usize,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let limit = i32::try_from(limit.clamp(1, MAX_PAGE)).unwrap_or(1);
        let out = self
            .dynamodb
            .query()
            .table_name(&self.table)
            .index_name(index)
            .key_condition_expression("#k = :k")
            .expression_attribute_names("#k", key_attr)
            .expression_attribute_values(":k", s(key))
            .scan_index_forward(false)
            .limit(limit)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
        Ok(out.items.unwrap_or_default())
    }

    /// The newest records of one `deliveries` partition (keys only: the records read by
    /// `BatchGetItem`), those in `want` only when given (bounded: [`MAX_LOG_PAGES`] index
    /// pages), at most `limit`, newest first.
    async fn log_partition(
        &self,
        key: String,
        want: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        for _ in 0..MAX_LOG_PAGES {
            let page = self
                .dynamodb
                .query()
                .table_name(&self.table)
                .index_name(GSI_DELIVERY.name)
                .key_condition_expression("#k = :k")
                .expression_attribute_names("#k", GSI_DELIVERY.pk)
                .expression_attribute_values(":k", s(key.clone()))
                .scan_index_forward(false)
                .limit(i32::try_from(limit).unwrap_or(1))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| backend(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
            let keys: Vec<HashMap<String, AttributeValue>> = page
                .items()
                .iter()
                .filter_map(|i| {
                    Some(HashMap::from([
                        (PK.to_string(), i.get(PK)?.clone()),
                        (SK.to_string(), i.get(SK)?.clone()),
                    ]))
                })
                .collect();
            let mut got = self.batch_get(keys).await?;
            got.retain(|i| want.is_none_or(|w| attr_s(i, "state") == Some(w.as_str())));
            got.sort_by_key(|i| std::cmp::Reverse(csk_of(i)));
            out.extend(got);
            if out.len() >= limit || want.is_none() {
                break;
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    /// The items of `keys` (eventually consistent, like the index they come from), in
    /// chunks of [`BATCH_GET_MAX`], unprocessed keys sent again a bounded number of times.
    async fn batch_get(
        &self,
        keys: Vec<HashMap<String, AttributeValue>>,
    ) -> Result<Vec<HashMap<String, AttributeValue>>, StoreError> {
        use aws_sdk_dynamodb::types::KeysAndAttributes;
        let mut out = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(BATCH_GET_MAX) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .build()
                    .map_err(backend)?,
            );
            for _ in 0..BATCH_GET_ROUNDS {
                let Some(req) = pending.take() else { break };
                let res = self
                    .dynamodb
                    .batch_get_item()
                    .request_items(&self.table, req)
                    .send()
                    .await
                    .map_err(|e| backend(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?;
                if let Some(mut r) = res.responses {
                    out.extend(r.remove(&self.table).unwrap_or_default());
                }
                pending = res
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
            }
            if pending.is_some() {
                return Err(StoreError::Backend(
                    "delivery records left unread by BatchGetItem".into(),
                ));
            }
        }
        Ok(out)
    }

    fn records(
        &self,
        items: Vec<HashMap<String, AttributeValue>>,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let mut out = Vec::with_capacity(items.len().min(limit));
        for item in items {
            if out.len() >= limit {
                break;
            }
            if let Some(r) = record_of(&item, self.pii.as_deref())? {
                out.push(r);
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl DeliveryLog for SnsNotifier {
    /// One query of the report's partition of the `by_unit` index, newest first.
    async fn deliveries_for_report(
        &self,
        report_id: &ReportId,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let items = self
            .query_partition(
                GSI_UNIT.name,
                GSI_UNIT.pk,
                delivery_report_pk(report_id.as_str()),
                limit,
            )
            .await?;
        self.records(items, limit)
    }

    /// One bounded query per (channel, status) partition asked for (at most six), merged
    /// newest first.
    async fn recent_deliveries(
        &self,
        channel: Option<Channel>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<DeliveryRecord>, StoreError> {
        let limit = limit.clamp(1, MAX_PAGE);
        let channels: Vec<Channel> = match channel {
            Some(c) => vec![c],
            None => vec![Channel::Sms, Channel::Email],
        };
        let statuses: Vec<DeliveryStatus> = match status {
            Some(st) if WRITTEN.contains(&st) => vec![st],
            Some(_) => vec![],
            None => WRITTEN.to_vec(),
        };
        let mut items = Vec::new();
        for c in &channels {
            // This layout: `deliveries` (keys only), the channel's partition filtered by the
            // status asked for, and its dead letters apart.
            let channel = channel_str(*c);
            let (live, dead) = match status {
                None => (true, true),
                Some(DeliveryStatus::Dead) => (false, true),
                Some(st) => (WRITTEN.contains(&st), false),
            };
            if live {
                let want = status;
                items.extend(
                    self.log_partition(delivery_log_pk(channel, false), want, limit)
                        .await?,
                );
            }
            if dead {
                items.extend(
                    self.log_partition(delivery_log_pk(channel, true), None, limit)
                        .await?,
                );
            }
            // The earlier layout's records (`by_state`), until none is left.
            for st in &statuses {
                items.extend(
                    self.query_partition(
                        GSI_STATE.name,
                        GSI_STATE.pk,
                        delivery_state_pk(channel_str(*c), st.as_str()),
                        limit,
                    )
                    .await?,
                );
            }
        }
        items.sort_by_key(|i| std::cmp::Reverse(csk_of(i)));
        let mut seen = std::collections::HashSet::new();
        items.retain(|i| seen.insert(attr_s(i, PK).unwrap_or_default().to_string()));
        self.records(items, limit)
    }

    /// Re-sends a dead notification (or one left `pending` past its lease) now: one
    /// conditional update takes it back (`pending`, attempts from zero; two re-sends at once:
    /// one wins), the send with its retries, one update with the outcome.
    async fn resend(&self, id: &str) -> Result<DeliveryRecord, StoreError> {
        let key = ItemKey::notification(id).into_item();
        let item = self
            .dynamodb
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.clone()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_dynamodb::error::DisplayErrorContext(&e)))?
            .item
            .ok_or(StoreError::NotFound)?;
        // A bare marker of the older protocol was sent.
        let Some(current) = record_of(&item, self.pii.as_deref())? else {
            return Err(StoreError::Conflict);
        };
        let now = Utc::now();
        match current.status {
            DeliveryStatus::Sent | DeliveryStatus::Recorded => return Err(StoreError::Conflict),
            DeliveryStatus::Pending if !lease_over(&item, now) => return Err(StoreError::Conflict),
            _ => {}
        }
        let n = current.notification.clone();
        let taken = self
            .dynamodb
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .update_expression(
                "SET #st = :pending, attempts = :zero, updated_at = :u, lease_until = :lease, #dp = :dp, \
                 #earlier = list_append(if_not_exists(#earlier, :none), :round) REMOVE #sp",
            )
            .expression_attribute_names("#earlier", EARLIER)
            .expression_attribute_values(":none", AttributeValue::L(Vec::new()))
            .expression_attribute_values(
                ":round",
                AttributeValue::L(vec![s(serde_json::to_string(&EarlierRound::of(&current))
                    .map_err(backend)?)]),
            )
            .condition_expression("#st = :was AND updated_at = :was_at")
            .expression_attribute_names("#st", "state")
            .expression_attribute_names("#sp", GSI_STATE.pk)
            .expression_attribute_names("#dp", GSI_DELIVERY.pk)
            .expression_attribute_values(":pending", s(DeliveryStatus::Pending.as_str()))
            .expression_attribute_values(":zero", n_attr(0))
            .expression_attribute_values(":u", s(time_key(now)))
            .expression_attribute_values(
                ":lease",
                num((now + ChronoDuration::seconds(CLAIM_LEASE_SECS)).timestamp()),
            )
            .expression_attribute_values(":dp", s(delivery_log_pk(channel_str(n.channel), false)))
            .expression_attribute_values(":was", s(current.status.as_str()))
            .expression_attribute_values(":was_at", s(time_key(current.updated_at)))
            .send()
            .await;
        match taken {
            Ok(_) => {}
            Err(SdkError::ServiceError(se))
                if matches!(
                    se.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                return Err(StoreError::Conflict)
            }
            Err(e) => return Err(backend(aws_sdk_dynamodb::error::DisplayErrorContext(&e))),
        }
        let (attempt, attempts) = self.attempt(&n).await;
        self.record(&[(&n, attempt.clone(), attempts)])
            .await
            .map_err(|e| StoreError::Backend(e.0))?;
        let done = Utc::now();
        let (status, provider, provider_message_id, error) = final_outcome(&attempt);
        let owned = |v: Option<&str>| v.map(str::to_string);
        let (provider, provider_message_id, error) =
            (owned(provider), owned(provider_message_id), owned(error));
        Ok(DeliveryRecord {
            notification: n,
            status,
            attempts,
            provider,
            provider_message_id,
            error,
            created_at: current.created_at,
            updated_at: done,
            next_attempt_at: None,
            earlier: {
                let mut e = current.earlier.clone();
                e.push(EarlierRound::of(&current));
                e
            },
        })
    }

    /// Nothing is scheduled on AWS: a failed send is retried in the function, then dead.
    async fn retry_due(&self, _now: DateTime<Utc>, _limit: usize) -> Result<usize, StoreError> {
        Ok(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sms() -> Notification {
        Notification {
            id: "r1:assigned:sms:reporter".into(),
            channel: Channel::Sms,
            to: "+84912345678".into(),
            unit: Some("phong_tnmt".into()),
            subject: None,
            body: "PA moi".into(),
            report_id: Some(ReportId("r1".into())),
        }
    }

    #[test]
    fn a_claim_is_pending_under_its_report_and_channel_and_reads_back() {
        let now = Utc::now();
        let item = claim_item(&sms(), doc_of(&sms(), None).unwrap(), now);
        assert_eq!(attr_s(&item, "unit_pk"), Some("DELIVREP#r1"));
        assert_eq!(attr_s(&item, "deliv_pk"), Some("DELIV#sms"));
        assert_eq!(attr_s(&item, "state_pk"), None, "not in by_state");
        assert!(!item.contains_key(TTL_ATTR), "a report's log is kept");
        let rec = record_of(&item, None).unwrap().unwrap();
        assert_eq!(rec.notification, sms());
        assert_eq!(rec.status, DeliveryStatus::Pending);
        assert!(!lease_over(&item, now));
    }

    #[test]
    fn the_recipient_is_stored_sealed_and_read_back_opened() {
        let ring =
            phananh_core::pii::Keyring::new(&[phananh_core::pii::Keyring::generate_key()]).unwrap();
        let doc = doc_of(&sms(), Some(&ring)).unwrap();
        assert!(!doc.contains("912345678"), "{doc}");
        let item = claim_item(&sms(), doc, Utc::now());
        let rec = record_of(&item, Some(&ring)).unwrap().unwrap();
        assert_eq!(rec.notification.to, "+84912345678");
        assert!(record_of(&item, None).is_err(), "no key, no plaintext");
    }

    #[test]
    fn a_failure_is_dead_with_its_error_and_moves_to_the_dead_partition() {
        let o = outcome_update(
            &sms(),
            &Attempt::Failed {
                provider: "sns".into(),
                error: "Invalid parameter".into(),
            },
            3,
            Utc::now(),
        );
        assert_eq!(o.values[":st"], s("dead"));
        assert_eq!(o.values[":dp"], s("DELIV#sms#dead"));
        assert_eq!(o.values[":e"], s("Invalid parameter"));
        assert!(o
            .expression
            .contains("REMOVE lease_until, #sp, provider_message_id"));
        let sent = outcome_update(
            &sms(),
            &Attempt::Sent {
                provider: "sns".into(),
                message_id: "m-1".into(),
            },
            1,
            Utc::now(),
        );
        assert!(
            !sent.expression.contains("#dp"),
            "a sent record stays where it is in the keys-only index: {}",
            sent.expression
        );
    }
}
