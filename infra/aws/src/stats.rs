//! `AggregateStore` on the DynamoDB table: the statistics' rows of one local month are ONE
//! item (`STATS` / `MONTH#<YYYY-MM>`, see [`crate::table`]) holding a number per
//! `<row key>|<figure>` attribute, and each report's last applied contribution is an item of
//! the `STATSREP` partition with its version.
//!
//! Applying a report's new contribution costs one `GetItem` (its recorded share) and, only
//! when a figure changes, ONE `TransactWriteItems`: the share's put, conditional on the version
//! read (so two consumers never both subtract the same old share), and the month item's
//! `ADD` of every changed figure. A month item holds about 20 numbers per unit, category and
//! ward that had a report that month: a few hundred rows stay far below DynamoDB's 400 KB.

use crate::table::{ItemKey, PK, SK, STATS_MONTH_PREFIX, STATS_PK, STATS_SHARES_PK};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, TransactWriteItem, Update, WriteRequest,
};
use phananh_core::aggregates::{
    delta, AggregateStore, Contribution, Figures, MonthFigures, ShareChange,
};
use phananh_core::model::ReportId;
use phananh_core::ports::StoreError;
use std::collections::{BTreeMap, HashMap};

const VERSION: &str = "version";
const DOC: &str = "doc";
/// Attempts of one apply when another consumer changed the same share in between.
const APPLY_ATTEMPTS: usize = 3;
/// Pages one `clear` reads of a partition (100 items each, deleted 25 at a time).
const CLEAR_MAX_PAGES: usize = 100_000;

/// The aggregate store of one table (the table of [`crate::table`]).
#[derive(Debug, Clone)]
pub struct DynamoAggregates {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoAggregates {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoAggregates {
            client,
            table: table.into(),
        }
    }

    /// The aggregates of the table in `settings`.
    pub fn from_settings(clients: &crate::AwsClients, settings: &crate::AwsSettings) -> Self {
        DynamoAggregates::new(clients.dynamodb.clone(), &settings.table)
    }
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// The attribute of one figure of one row: `<key>|received`, `<key>|h<bucket>`, ...
fn attr(key: &str, figure: &str) -> String {
    format!("{key}|{figure}")
}

/// The figures of a delta row as (figure name, amount), zeros left out.
fn figure_amounts(f: &Figures) -> Vec<(String, i64)> {
    let mut out = vec![
        ("received".to_string(), f.received),
        ("open".to_string(), f.open),
        ("resolved".to_string(), f.resolved),
        ("on_time".to_string(), f.on_time),
    ];
    out.extend(f.handling.iter().map(|(b, n)| (format!("h{b}"), *n)));
    out.retain(|(_, n)| *n != 0);
    out
}

/// Reads a month item's attributes back into rows (zeros left by `ADD` are dropped).
fn rows_of(item: &HashMap<String, AttributeValue>) -> BTreeMap<String, Figures> {
    let mut rows: BTreeMap<String, Figures> = BTreeMap::new();
    for (name, v) in item {
        let (Some((key, figure)), AttributeValue::N(n)) = (name.rsplit_once('|'), v) else {
            continue;
        };
        let Ok(n) = n.parse::<i64>() else { continue };
        if n == 0 {
            continue;
        }
        let f = rows.entry(key.to_string()).or_default();
        match figure {
            "received" => f.received = n,
            "open" => f.open = n,
            "resolved" => f.resolved = n,
            "on_time" => f.on_time = n,
            h => {
                if let Some(b) = h.strip_prefix('h').and_then(|b| b.parse::<u16>().ok()) {
                    f.handling.insert(b, n);
                }
            }
        }
    }
    rows.retain(|_, f| !f.is_zero());
    rows
}

impl DynamoAggregates {
    /// The recorded share of a report: (version, contribution).
    async fn share(&self, id: &str) -> Result<Option<(u64, Contribution)>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(ItemKey::stats_share(id).into_item()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| err(DisplayErrorContext(&e)))?;
        let Some(item) = out.item else {
            return Ok(None);
        };
        let version = match item.get(VERSION) {
            Some(AttributeValue::N(n)) => n.parse::<u64>().map_err(err)?,
            _ => return Err(err("statistics share without version")),
        };
        let doc = match item.get(DOC) {
            Some(AttributeValue::S(s)) => serde_json::from_str(s).map_err(err)?,
            _ => return Err(err("statistics share without doc")),
        };
        Ok(Some((version, doc)))
    }

    /// One attempt: `Ok(None)` when another writer changed the share in between.
    async fn try_apply(
        &self,
        id: &ReportId,
        version: u64,
        new: &Contribution,
    ) -> Result<Option<bool>, StoreError> {
        let old = self.share(id.as_str()).await?;
        if old.as_ref().is_some_and(|(v, _)| *v >= version) {
            return Ok(Some(false));
        }
        let d = delta(old.as_ref().map(|(_, c)| c), new);
        if d.is_empty() {
            // No figure changes: nothing is written (the consumer always counts the report
            // as it is now, so an older event later finds the same share).
            return Ok(Some(false));
        }
        let condition = match &old {
            Some((v, _)) => Expected::Version(*v),
            None => Expected::Absent,
        };
        self.write_share(id, version, new, &d, condition).await
    }

    /// The share's put (under `expected`) and the month items' `ADD` of `d`, in one
    /// transaction: `Ok(None)` when the condition failed.
    async fn write_share(
        &self,
        id: &ReportId,
        version: u64,
        new: &Contribution,
        d: &BTreeMap<String, BTreeMap<String, Figures>>,
        expected: Expected,
    ) -> Result<Option<bool>, StoreError> {
        let mut share = ItemKey::stats_share(id.as_str()).into_item();
        share.insert(VERSION.into(), AttributeValue::N(version.to_string()));
        share.insert(
            DOC.into(),
            AttributeValue::S(serde_json::to_string(new).map_err(err)?),
        );
        let mut put = Put::builder().table_name(&self.table).set_item(Some(share));
        put = match expected {
            Expected::Version(v) => put
                .condition_expression("#v = :old")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":old", AttributeValue::N(v.to_string())),
            Expected::Absent => put.condition_expression(format!("attribute_not_exists({PK})")),
            Expected::Share(doc) => put
                .condition_expression("#v < :new AND #d = :doc")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_names("#d", DOC)
                .expression_attribute_values(":new", AttributeValue::N(version.to_string()))
                .expression_attribute_values(":doc", AttributeValue::S(doc)),
        };
        let mut items = vec![TransactWriteItem::builder()
            .put(put.build().map_err(err)?)
            .build()];
        for (month, rows) in d {
            let mut update = Update::builder()
                .table_name(&self.table)
                .set_key(Some(ItemKey::stats_month(month).into_item()));
            let mut adds = Vec::new();
            let mut i = 0usize;
            for (key, f) in rows {
                for (figure, n) in figure_amounts(f) {
                    adds.push(format!("#a{i} :n{i}"));
                    update = update
                        .expression_attribute_names(format!("#a{i}"), attr(key, &figure))
                        .expression_attribute_values(
                            format!(":n{i}"),
                            AttributeValue::N(n.to_string()),
                        );
                    i += 1;
                }
            }
            if adds.is_empty() {
                continue;
            }
            update = update.update_expression(format!("ADD {}", adds.join(", ")));
            items.push(
                TransactWriteItem::builder()
                    .update(update.build().map_err(err)?)
                    .build(),
            );
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Some(true)),
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(err(DisplayErrorContext(&e))),
        }
    }

    /// Every item of a partition: (pk, sk) pairs, page by page.
    async fn keys_of(&self, pk: &str) -> Result<Vec<(String, String)>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        for _ in 0..CLEAR_MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":pk", AttributeValue::S(pk.to_string()))
                .projection_expression("#pk, #sk")
                .expression_attribute_names("#sk", SK)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| err(DisplayErrorContext(&e)))?;
            for item in page.items() {
                if let (Some(AttributeValue::S(p)), Some(AttributeValue::S(s))) =
                    (item.get(PK), item.get(SK))
                {
                    out.push((p.clone(), s.clone()));
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}

/// What the share's put is conditional on.
enum Expected {
    /// The version read.
    Version(u64),
    /// No share recorded yet.
    Absent,
    /// This share (its JSON as stored) at an older version: the change's `before`.
    Share(String),
}

#[async_trait]
impl AggregateStore for DynamoAggregates {
    /// Without reading the recorded share: when no figure changes, nothing (the share read
    /// at a later event finds the same figures); else one transaction conditional on the
    /// recorded share being `change.before` at an older version (or absent for a new
    /// report). When it is not (a reordered or repeated event), [`AggregateStore::apply`].
    async fn apply_change(
        &self,
        id: &ReportId,
        version: u64,
        change: &ShareChange,
    ) -> Result<bool, StoreError> {
        let d = delta(change.before.as_ref(), &change.after);
        if d.is_empty() {
            return Ok(false);
        }
        let expected = match &change.before {
            Some(b) => Expected::Share(serde_json::to_string(b).map_err(err)?),
            None => Expected::Absent,
        };
        match self
            .write_share(id, version, &change.after, &d, expected)
            .await?
        {
            Some(done) => Ok(done),
            None => self.apply(id, version, &change.after).await,
        }
    }

    async fn apply(
        &self,
        id: &ReportId,
        version: u64,
        contribution: &Contribution,
    ) -> Result<bool, StoreError> {
        for _ in 0..APPLY_ATTEMPTS {
            if let Some(done) = self.try_apply(id, version, contribution).await? {
                return Ok(done);
            }
        }
        Err(StoreError::Conflict)
    }

    async fn months(&self, from: &str, to: &str) -> Result<Vec<MonthFigures>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        // One item per month: a century of months is a few pages at most.
        for _ in 0..CLEAR_MAX_PAGES {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("#pk = :pk AND #sk BETWEEN :from AND :to")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_names("#sk", SK)
                .expression_attribute_values(":pk", AttributeValue::S(STATS_PK.into()))
                .expression_attribute_values(
                    ":from",
                    AttributeValue::S(format!("{STATS_MONTH_PREFIX}{from}")),
                )
                .expression_attribute_values(
                    ":to",
                    AttributeValue::S(format!("{STATS_MONTH_PREFIX}{to}")),
                )
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| err(DisplayErrorContext(&e)))?;
            for item in page.items() {
                let Some(AttributeValue::S(sk)) = item.get(SK) else {
                    continue;
                };
                let Some(month) = sk.strip_prefix(STATS_MONTH_PREFIX) else {
                    continue;
                };
                let rows = rows_of(item);
                if !rows.is_empty() {
                    out.push(MonthFigures {
                        month: month.to_string(),
                        rows,
                    });
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn clear(&self) -> Result<(), StoreError> {
        let mut keys = self.keys_of(STATS_PK).await?;
        keys.extend(self.keys_of(STATS_SHARES_PK).await?);
        for chunk in keys.chunks(25) {
            let requests: Vec<WriteRequest> = chunk
                .iter()
                .map(|(p, s)| {
                    DeleteRequest::builder()
                        .key(PK, AttributeValue::S(p.clone()))
                        .key(SK, AttributeValue::S(s.clone()))
                        .build()
                        .map(|d| WriteRequest::builder().delete_request(d).build())
                        .map_err(err)
                })
                .collect::<Result<_, _>>()?;
            let mut pending = Some(HashMap::from([(self.table.clone(), requests)]));
            // Unprocessed deletes are sent again, a bounded number of times.
            for _ in 0..10 {
                let Some(req) = pending.take().filter(|m| !m.is_empty()) else {
                    break;
                };
                let out = self
                    .client
                    .batch_write_item()
                    .set_request_items(Some(req))
                    .send()
                    .await
                    .map_err(|e| err(DisplayErrorContext(&e)))?;
                pending = out.unprocessed_items;
            }
            if pending.is_some_and(|m| m.values().any(|v| !v.is_empty())) {
                return Err(err("statistics not cleared: deletes left unprocessed"));
            }
        }
        Ok(())
    }
}
