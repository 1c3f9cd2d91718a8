//! Transactions: the put and delete items of a `TransactWriteItems`, its size bound, and the
//! reading of a cancelled transaction, shared by report and account writes.
//!
//! Why it exists: every write of this store is one transaction, and telling "a condition
//! failed" from "another transaction got in the way" from "the backend failed" must be done
//! the same way everywhere. It must never decide what a failed condition means for the
//! domain (that is the caller's: conflict, already exists, replay).

use super::codec::Item;
use super::{backend, sdk_err, DynamoReportStore};
use crate::table::ItemKey;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::builders::{DeleteBuilder, PutBuilder};
use aws_sdk_dynamodb::types::{CancellationReason, Delete, Put, TransactWriteItem};
use phananh_core::ports::StoreError;

/// Most items one `TransactWriteItems` accepts.
const MAX_TRANSACT_ITEMS: usize = 100;

/// Condition of a put that must create its item.
pub(super) const IF_ABSENT: &str = "attribute_not_exists(pk)";
/// Condition of a put that must replace an existing item.
pub(super) const IF_PRESENT: &str = "attribute_exists(pk)";

/// Why the table cancelled a transaction: one reason per item, in item order (empty when the
/// implementation does not report them, as some emulators do).
pub(super) type Cancelled = Vec<CancellationReason>;

/// The reason of an item whose condition failed.
pub(super) fn is_conditional_failure(r: &CancellationReason) -> bool {
    r.code() == Some("ConditionalCheckFailed")
}

fn is_conflict(r: &CancellationReason) -> bool {
    matches!(r.code(), Some("TransactionConflict"))
}

/// The codes of all reasons, for an error message.
pub(super) fn reason_codes(reasons: &[CancellationReason]) -> Vec<Option<&str>> {
    reasons.iter().map(|r| r.code()).collect()
}

impl DynamoReportStore {
    /// A put of `item` in this table, to be finished with [`tx_item`].
    pub(super) fn put(&self, item: Item) -> PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }

    /// A delete of the item at `key` in this table, to be finished with [`tx_delete`].
    pub(super) fn delete(&self, key: ItemKey) -> DeleteBuilder {
        Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key.into_item()))
    }

    /// A transaction put of `item`, under `condition` when there is one.
    pub(super) fn tx_put(
        &self,
        item: Item,
        condition: Option<&str>,
    ) -> Result<TransactWriteItem, StoreError> {
        tx_item(
            self.put(item)
                .set_condition_expression(condition.map(str::to_string)),
        )
    }

    /// Runs one transaction of at most [`MAX_TRANSACT_ITEMS`] items (`what` names it in the
    /// error when it has more). `Ok(Err(reasons))` when the table cancelled it for a failed
    /// condition; a cancellation caused by a concurrent transaction is `Conflict`.
    pub(super) async fn transact(
        &self,
        what: impl FnOnce() -> String,
        items: Vec<TransactWriteItem>,
    ) -> Result<Result<(), Cancelled>, StoreError> {
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::Backend(format!(
                "{} needs {} items (limit {MAX_TRANSACT_ITEMS})",
                what(),
                items.len()
            )));
        }
        let err = match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => return Ok(Ok(())),
            Err(e) => e,
        };
        let reasons = match &err {
            SdkError::ServiceError(se) => match se.err() {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    tc.cancellation_reasons().to_vec()
                }
                _ => return Err(sdk_err(err)),
            },
            _ => return Err(sdk_err(err)),
        };
        if reasons.iter().any(is_conflict) {
            return Err(StoreError::Conflict);
        }
        Ok(Err(reasons))
    }
}

/// The transaction item of a put.
pub(super) fn tx_item(p: PutBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .put(p.build().map_err(backend)?)
        .build())
}

/// The transaction item of a delete.
pub(super) fn tx_delete(d: DeleteBuilder) -> Result<TransactWriteItem, StoreError> {
    Ok(TransactWriteItem::builder()
        .delete(d.build().map_err(backend)?)
        .build())
}
