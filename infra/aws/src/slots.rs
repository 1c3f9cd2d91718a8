//! `UploadSlots` on the DynamoDB table: one item per upload slot (its JSON document) and one
//! per uploader and local day (the quota's count and bytes).
//!
//! Why it exists (issue 10): the slot and quota used to be JSON objects in S3, read and
//! rewritten (5 requests per upload between the API and the media function, and a quota
//! that two concurrent requests could both pass). Here issuing a slot is ONE
//! `TransactWriteItems`: the day's counters are added to under a condition that they stay
//! within the limits, and the slot is put, both or neither, so the quota is exact under
//! concurrency. The media function's verdict is one `UpdateItem` of the slot, conditional on
//! it being pending and (for an acceptance) of the object's type and size, without reading
//! it first; the API reads it back (one `GetItem`) and trusts it when attaching. DynamoDB's
//! TTL removes both items two days after the slot was issued (unattached uploads expire
//! after one day in S3).

use crate::table::{ttl_value, ItemKey, TTL_ATTR};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem, Update};
use chrono::NaiveDate;
use phananh_core::media::{SlotState, UploadSlot};
use phananh_core::slots::{DayLimits, SlotError, SlotVerdict, UploadSlots};
use std::time::Duration;

const DOC: &str = "doc";
/// The check's verdict ([`SlotVerdict`] as JSON), written over a pending slot without reading
/// it; `get` reads the slot as `doc` with it applied.
const VERDICT: &str = "verdict";
/// The slot's state tag, type and size limit beside its document, so the verdict's write can
/// be conditional on them.
const STATE: &str = "st";
const TYPE: &str = "ct";
const MAX: &str = "mx";
/// How long the items are kept after the slot was issued.
const KEEP: chrono::Duration = chrono::Duration::days(2);
/// Tries of an issue that another issue of the same uploader got in the way of.
const CONFLICT_TRIES: u32 = 8;

/// The upload slots of one table (the table of [`crate::table`]).
#[derive(Debug, Clone)]
pub struct DynamoSlots {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoSlots {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoSlots {
            client,
            table: table.into(),
        }
    }

    /// The slots of the table in `settings`.
    pub fn from_settings(clients: &crate::AwsClients, settings: &crate::AwsSettings) -> Self {
        DynamoSlots::new(clients.dynamodb.clone(), &settings.table)
    }

    fn slot_item(
        &self,
        owner: &str,
        slot: &UploadSlot,
    ) -> Result<std::collections::HashMap<String, AttributeValue>, SlotError> {
        let mut item = ItemKey::upload_slot(owner, &slot.id).into_item();
        item.insert(
            DOC.into(),
            AttributeValue::S(serde_json::to_string(slot).map_err(err)?),
        );
        item.insert(TTL_ATTR.into(), ttl_value(slot.created_at + KEEP));
        item.insert(
            STATE.into(),
            AttributeValue::S(state_tag(&slot.state).into()),
        );
        item.insert(TYPE.into(), AttributeValue::S(slot.content_type.clone()));
        item.insert(MAX.into(), n(slot.max_size));
        Ok(item)
    }
}

fn state_tag(state: &SlotState) -> &'static str {
    match state {
        SlotState::Pending => "pending",
        SlotState::Ready => "ready",
        SlotState::Failed { .. } => "failed",
        SlotState::Attached { .. } => "attached",
    }
}

fn err(e: impl std::fmt::Display) -> SlotError {
    SlotError::Backend(e.to_string())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

#[async_trait]
impl UploadSlots for DynamoSlots {
    async fn issue(
        &self,
        owner: &str,
        day: NaiveDate,
        slot: &UploadSlot,
        limits: DayLimits,
    ) -> Result<(), SlotError> {
        let size = slot.max_size;
        if !limits.admits(Default::default(), size) {
            return Err(SlotError::QuotaExceeded);
        }
        // Within the limits after adding: fewer than `count` slots so far, and at most
        // `bytes - size` bytes so far (a new day's item has neither yet).
        let quota = Update::builder()
            .table_name(&self.table)
            .set_key(Some(
                ItemKey::upload_quota(owner, &day.to_string()).into_item(),
            ))
            .update_expression("ADD #c :one, #b :size SET #ttl = :ttl")
            .condition_expression("attribute_not_exists(#c) OR (#c < :maxc AND #b <= :room)")
            .expression_attribute_names("#c", "count")
            .expression_attribute_names("#b", "bytes")
            .expression_attribute_names("#ttl", TTL_ATTR)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":size", n(size))
            .expression_attribute_values(":maxc", n(u64::from(limits.count)))
            .expression_attribute_values(":room", n(limits.bytes - size))
            .expression_attribute_values(":ttl", ttl_value(slot.created_at + KEEP))
            .build()
            .map_err(err)?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(self.slot_item(owner, slot)?))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(err)?;
        let items = vec![
            TransactWriteItem::builder().update(quota).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        for attempt in 1..=CONFLICT_TRIES {
            let e = match self
                .client
                .transact_write_items()
                .set_transact_items(Some(items.clone()))
                .send()
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) => e,
            };
            let reasons = match &e {
                SdkError::ServiceError(se) => match se.err() {
                    TransactWriteItemsError::TransactionCanceledException(tc) => {
                        tc.cancellation_reasons().to_vec()
                    }
                    _ => return Err(err(DisplayErrorContext(&e))),
                },
                _ => return Err(err(DisplayErrorContext(&e))),
            };
            let code = |i: usize| reasons.get(i).and_then(|r| r.code());
            if code(0) == Some("ConditionalCheckFailed") {
                return Err(SlotError::QuotaExceeded);
            }
            if code(1) == Some("ConditionalCheckFailed") {
                return Err(err(format!("upload slot {} exists", slot.id)));
            }
            if !reasons
                .iter()
                .any(|r| r.code() == Some("TransactionConflict"))
            {
                return Err(err(DisplayErrorContext(&e)));
            }
            // Another issue of the same uploader's day got in first: try again shortly.
            tokio::time::sleep(Duration::from_millis(10 * u64::from(attempt))).await;
        }
        Err(err(format!(
            "upload slot {}: {CONFLICT_TRIES} conflicting tries",
            slot.id
        )))
    }

    async fn get(&self, owner: &str, id: &str) -> Result<Option<UploadSlot>, SlotError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::upload_slot(owner, id).into_item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(DisplayErrorContext(&e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let mut slot: UploadSlot = match item.get(DOC) {
            Some(AttributeValue::S(s)) => serde_json::from_str(s).map_err(err)?,
            _ => return Err(err("upload slot item without doc")),
        };
        if let Some(AttributeValue::S(v)) = item.get(VERDICT) {
            let verdict: SlotVerdict = serde_json::from_str(v).map_err(err)?;
            verdict.apply(&mut slot);
        }
        Ok(Some(slot))
    }

    /// One `UpdateItem` conditional on the slot being pending (and, for an acceptance, of the
    /// object's type with room for its size): no read of the slot before it.
    async fn record_verdict(
        &self,
        owner: &str,
        id: &str,
        verdict: &SlotVerdict,
    ) -> Result<bool, SlotError> {
        let mut req = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::upload_slot(owner, id).into_item()))
            .update_expression("SET #v = :v, #st = :st")
            .expression_attribute_names("#v", VERDICT)
            .expression_attribute_names("#st", STATE)
            .expression_attribute_values(
                ":v",
                AttributeValue::S(serde_json::to_string(verdict).map_err(err)?),
            )
            .expression_attribute_values(":st", AttributeValue::S(state_tag(&verdict.state).into()))
            .expression_attribute_values(":pending", AttributeValue::S("pending".into()));
        req = if verdict.state == SlotState::Ready {
            req.condition_expression("#st = :pending AND #ct = :ct AND #mx >= :size")
                .expression_attribute_names("#ct", TYPE)
                .expression_attribute_names("#mx", MAX)
                .expression_attribute_values(":ct", AttributeValue::S(verdict.content_type.clone()))
                .expression_attribute_values(":size", n(verdict.size))
        } else {
            req.condition_expression("#st = :pending")
        };
        match req.send().await {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(se))
                if matches!(
                    se.err(),
                    UpdateItemError::ConditionalCheckFailedException(_)
                ) =>
            {
                Ok(false)
            }
            Err(e) => Err(err(DisplayErrorContext(&e))),
        }
    }

    async fn put(&self, owner: &str, slot: &UploadSlot) -> Result<(), SlotError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(self.slot_item(owner, slot)?))
            .send()
            .await
            .map_err(|e| err(DisplayErrorContext(&e)))?;
        Ok(())
    }
}
