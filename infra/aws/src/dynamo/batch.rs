//! `BatchGetItem`, written once: the reports of a list page (the list indexes hold keys) and
//! the archived timeline chunks of the reports that have some.
//!
//! Why it exists: a batch read must ask at most 100 keys per call and retry the keys DynamoDB
//! leaves unprocessed (throttling, the 16 MB response limit) a bounded number of times. It
//! must never return a partial answer silently: keys still unread after the rounds fail the read.

use super::codec::Item;
use super::{backend, sdk_err, DynamoReportStore};
use aws_sdk_dynamodb::types::KeysAndAttributes;
use phananh_core::ports::StoreError;

/// Most keys one `BatchGetItem` accepts.
const MAX_BATCH_KEYS: usize = 100;

/// Rounds of `BatchGetItem` per 100 keys when DynamoDB leaves keys unprocessed; then the read
/// fails rather than return a page with holes.
const BATCH_GET_ROUNDS: usize = 4;

impl DynamoReportStore {
    /// The items at `keys` (absent ones are simply not returned), in as few calls as DynamoDB
    /// allows (one for at most 100 keys); returns them and the calls made. `consistent` asks
    /// for strongly consistent reads.
    pub(super) async fn batch_get(
        &self,
        mut pending: Vec<Item>,
        consistent: bool,
    ) -> Result<(Vec<Item>, usize), StoreError> {
        let mut found: Vec<Item> = Vec::with_capacity(pending.len());
        let max_calls = BATCH_GET_ROUNDS * pending.len().div_ceil(MAX_BATCH_KEYS).max(1);
        let mut calls = 0;
        while !pending.is_empty() {
            if calls >= max_calls {
                return Err(StoreError::Backend(format!(
                    "BatchGetItem left {} items unread after {calls} calls",
                    pending.len()
                )));
            }
            let take = pending.len().min(MAX_BATCH_KEYS);
            let keys: Vec<Item> = pending.drain(..take).collect();
            let ka = KeysAndAttributes::builder()
                .set_keys(Some(keys))
                .consistent_read(consistent)
                .build()
                .map_err(backend)?;
            calls += 1;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.table, ka)
                .send()
                .await
                .map_err(sdk_err)?;
            found.extend(
                out.responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default(),
            );
            if let Some(left) = out.unprocessed_keys.and_then(|mut u| u.remove(&self.table)) {
                pending.extend(left.keys);
            }
        }
        Ok((found, calls))
    }
}
