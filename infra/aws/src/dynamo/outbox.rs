//! The transactional outbox: the events written with their report change and not yet
//! published, and marking them published once the bus took them.
//!
//! Why it exists: an event is written in the same transaction as its report change, so a
//! crash between the write and the publish must leave it findable by the relay. It must never
//! publish anything itself (that is the bus's), and never delete an event that was not handed
//! to it as published.

use super::codec::{event_from_item, s};
use super::paging::read_pages;
use super::{backend, sdk_err, DynamoReportStore};
use crate::table::{ItemKey, GSI_OUTBOX, OUTBOX_PENDING_PK};
use aws_sdk_dynamodb::types::{DeleteRequest, WriteRequest};
use phananh_core::model::EventEnvelope;
use phananh_core::ports::StoreError;

/// Most requests of one `BatchWriteItem`.
const MAX_BATCH_WRITE: usize = 25;
/// Calls of one batch before unprocessed deletes count as a failure.
const BATCH_ATTEMPTS: u32 = 5;

impl DynamoReportStore {
    /// At most `limit` pending events, oldest first.
    pub(super) async fn outbox_pending(
        &self,
        limit: usize,
    ) -> Result<Vec<EventEnvelope>, StoreError> {
        let query = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(GSI_OUTBOX.name)
            .key_condition_expression("#pk = :pk")
            .expression_attribute_names("#pk", GSI_OUTBOX.pk)
            .expression_attribute_values(":pk", s(OUTBOX_PENDING_PK))
            .scan_index_forward(true);
        read_pages(query, Some(limit), |item| event_from_item(item).map(Some)).await
    }

    /// Deletes the outbox items of `event_ids` (repeats and unknown ids are harmless).
    pub(super) async fn outbox_mark_published(
        &self,
        event_ids: &[String],
    ) -> Result<(), StoreError> {
        let mut ids: Vec<&String> = event_ids.iter().collect();
        ids.sort();
        ids.dedup();
        for chunk in ids.chunks(MAX_BATCH_WRITE) {
            let mut pending: Vec<WriteRequest> = Vec::with_capacity(chunk.len());
            for id in chunk {
                let del = DeleteRequest::builder()
                    .set_key(Some(ItemKey::event(id).into_item()))
                    .build()
                    .map_err(backend)?;
                pending.push(WriteRequest::builder().delete_request(del).build());
            }
            for attempt in 0..BATCH_ATTEMPTS {
                if pending.is_empty() {
                    break;
                }
                if attempt > 0 {
                    tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
                }
                let out = self
                    .client
                    .batch_write_item()
                    .request_items(&self.table, pending)
                    .send()
                    .await
                    .map_err(sdk_err)?;
                pending = out
                    .unprocessed_items
                    .and_then(|mut m| m.remove(&self.table))
                    .unwrap_or_default();
            }
            if !pending.is_empty() {
                return Err(StoreError::Backend(format!(
                    "{} outbox events left unmarked after retries",
                    pending.len()
                )));
            }
        }
        Ok(())
    }
}
