//! `ReportStore` and `AccountStore` on one DynamoDB table.
//!
//! Why it exists: the core owns the rules, this module only keeps reports, their events
//! and staff accounts durable on the single table of [`crate::table`] (item kinds, key formats
//! and indexes are described and spelled there). It must never decide anything the core
//! decides (states, permissions, deadlines), never scan the table, and never spell a key
//! prefix itself.
//!
//! Table design: the report item carries the report as JSON in `report` and its `version`,
//! its timeline inline up to a size bound, the oldest entries beyond it in chunk items of the
//! report's partition ([`archive`]). No index copies the document: the list indexes hold keys
//! (and the text filter's `search`), membership items hold keys only, and a list page reads
//! its reports by one `BatchGetItem` (and the archived chunks of those that have some by one
//! more). The duplicate check reads points from `by_cell`
//! (geohash cells), never documents. A create or update is ONE `TransactWriteItems`: report
//! item (conditional on `version`), membership items, event items and the idempotency item. The table's stream carries the event items to the
//! relay function, which publishes them ([`stream`]); the writer publishes nothing.
//!
//! One room per concern:
//!
//! - [`codec`]: item <-> domain encoding (pure, no calls).
//! - [`paging`]: the public cursor and the page-by-page reading every query uses.
//! - [`transact`]: transaction items and the reading of a cancelled transaction.
//! - [`archive`]: the bounded report item (timeline chunks).
//! - [`batch`]: `BatchGetItem` with bounded retries of unprocessed keys.
//! - [`queries`]: report lists (k-way merge over index partitions) and due escalations.
//! - [`reports`]: the `ReportStore` port: create, get, update.
//! - [`stream`]: the events of a batch of the table's stream records.
//! - [`accounts`]: the `AccountStore` port.

mod accounts;
mod archive;
mod batch;
mod codec;
mod paging;
mod queries;
mod reports;
mod scan;
pub use archive::REPORT_ITEM_BOUND;
pub use scan::ScanStart;
pub mod stream;
mod transact;

use crate::table::ItemKey;
use archive::Archive;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use codec::Item;
use phananh_core::ports::StoreError;

/// DynamoDB adapter of [`phananh_core::ports::ReportStore`] and
/// [`phananh_core::ports::AccountStore`].
#[derive(Debug, Clone)]
pub struct DynamoReportStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
    /// The involved units of each report version this store read (see `reports::update`).
    seen: std::sync::Arc<std::sync::Mutex<SeenUnits>>,
}

/// Report id → (version, involved units, archived timeline) as read, bounded: a version
/// names one state of the item, so these are exactly the ones stored with that version.
#[derive(Debug, Default)]
pub(crate) struct SeenUnits(std::collections::HashMap<String, (u64, Vec<String>, Archive)>);

/// Entries kept at most (a function instance handles a few reports at a time).
const SEEN_MAX: usize = 1024;

impl SeenUnits {
    pub(crate) fn remember(
        &mut self,
        id: &str,
        version: u64,
        units: Vec<String>,
        archive: Archive,
    ) {
        if self.0.len() >= SEEN_MAX && !self.0.contains_key(id) {
            self.0.clear();
        }
        self.0.insert(id.to_string(), (version, units, archive));
    }

    /// The units and the archive stored with `version` of report `id`, if this store saw it.
    pub(crate) fn at(&self, id: &str, version: u64) -> Option<(Vec<String>, Archive)> {
        self.0
            .get(id)
            .filter(|(v, _, _)| *v == version)
            .map(|(_, u, a)| (u.clone(), a.clone()))
    }
}

impl DynamoReportStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoReportStore {
            client,
            table: table.into(),
            seen: Default::default(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// One strongly consistent read of the item at `key`.
    async fn get_item(&self, key: ItemKey) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key.into_item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(out.item)
    }

    /// The item at `key` decoded by `decode`, or `None` when there is none.
    async fn get_as<T>(
        &self,
        key: ItemKey,
        decode: fn(&Item) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        self.get_item(key).await?.as_ref().map(decode).transpose()
    }
}

/// A failed SDK call, with the whole error context.
fn sdk_err<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

/// Any other adapter-side failure (a request that does not build, JSON that does not encode).
fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}
