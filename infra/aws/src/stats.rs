//! `AggregateStore` on the DynamoDB table: each row of the statistics of one local month is
//! its own item (`STATS` / `ROW#<YYYY-MM>#<row key>`, see [`crate::table`]) holding the
//! row's figures (`received`, `open`, `resolved`, `on_time`, `h<bucket>`), and each report's
//! last applied contribution is an item of the `STATSREP` partition with its version.
//!
//! Applying a report's new contribution costs one `GetItem` (its recorded share) and, only
//! when a figure changes, ONE `TransactWriteItems`: the share's put, conditional on the version
//! read (so two consumers never both subtract the same old share), and an `ADD` into each row
//! the change touches (at most the four rows of the old share and the four of the new one,
//! each item well under 1 KB: one write unit, where the earlier layout rewrote the whole month
//! — every row in one item — at each change). A batch of changes
//! ([`AggregateStore::apply_changes`]) is one transaction: each report's share conditional,
//! the rows' `ADD`s merged per row.
//!
//! The earlier layout (`STATS` / `MONTH#<YYYY-MM>`, every row in one item) is no longer read;
//! a deployment moves to this one by the statistics rebuild (`rebuild_stats`), whose `clear`
//! removes every item of the `STATS` partition, old month items included (docs/aws.md).

use crate::table::{ItemKey, PK, SK, STATS_PK, STATS_ROW_PREFIX, STATS_SHARES_PK};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, DeleteRequest, Put, TransactWriteItem, Update, WriteRequest,
};
use phananh_core::aggregates::{
    delta, AggregateStore, Contribution, CountedChange, Figures, MonthFigures, ShareChange,
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
/// Items one `TransactWriteItems` may hold (DynamoDB's limit).
const TRANSACTION_MAX_ITEMS: usize = 100;

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

/// Reads a row item's figures back (zeros left by `ADD` are dropped).
fn figures_of(item: &HashMap<String, AttributeValue>) -> Figures {
    let mut f = Figures::default();
    for (name, v) in item {
        let AttributeValue::N(n) = v else { continue };
        let Ok(n) = n.parse::<i64>() else { continue };
        if n == 0 {
            continue;
        }
        match name.as_str() {
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
    f
}

/// The month and row key of a row item's sort key (`ROW#<YYYY-MM>#<row key>`).
fn row_of_sk(sk: &str) -> Option<(&str, &str)> {
    sk.strip_prefix(STATS_ROW_PREFIX)?.split_once('#')
}

/// The rows' changes of several deltas added up: (month, row key) → figures to add, rows
/// whose changes cancel out left out.
fn merged_rows(
    deltas: &[&BTreeMap<String, BTreeMap<String, Figures>>],
) -> BTreeMap<(String, String), Figures> {
    let mut out: BTreeMap<(String, String), Figures> = BTreeMap::new();
    for d in deltas {
        for (month, rows) in *d {
            for (key, f) in rows {
                out.entry((month.clone(), key.clone()))
                    .or_default()
                    .add(f, 1);
            }
        }
    }
    out.retain(|_, f| !f.is_zero());
    out
}

/// One report's share written by a transaction: the new share and its condition.
struct ShareWrite<'a> {
    id: &'a ReportId,
    version: u64,
    new: &'a Contribution,
    expected: Expected,
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

    /// The share's put (under `expected`) and the rows' `ADD` of `d`, in one transaction:
    /// `Ok(None)` when the condition failed.
    async fn write_share(
        &self,
        id: &ReportId,
        version: u64,
        new: &Contribution,
        d: &BTreeMap<String, BTreeMap<String, Figures>>,
        expected: Expected,
    ) -> Result<Option<bool>, StoreError> {
        let share = ShareWrite {
            id,
            version,
            new,
            expected,
        };
        let done = self.transact(&[share], &merged_rows(&[d])).await?;
        Ok(done.then_some(true))
    }

    /// The share put of `s`, conditional on its `expected`.
    fn share_put(&self, s: &ShareWrite<'_>) -> Result<TransactWriteItem, StoreError> {
        let mut share = ItemKey::stats_share(s.id.as_str()).into_item();
        share.insert(VERSION.into(), AttributeValue::N(s.version.to_string()));
        share.insert(
            DOC.into(),
            AttributeValue::S(serde_json::to_string(s.new).map_err(err)?),
        );
        let mut put = Put::builder().table_name(&self.table).set_item(Some(share));
        put = match &s.expected {
            Expected::Version(v) => put
                .condition_expression("#v = :old")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_values(":old", AttributeValue::N(v.to_string())),
            Expected::Absent => put.condition_expression(format!("attribute_not_exists({PK})")),
            Expected::Share(doc) => put
                .condition_expression("#v < :new AND #d = :doc")
                .expression_attribute_names("#v", VERSION)
                .expression_attribute_names("#d", DOC)
                .expression_attribute_values(":new", AttributeValue::N(s.version.to_string()))
                .expression_attribute_values(":doc", AttributeValue::S(doc.clone())),
        };
        Ok(TransactWriteItem::builder()
            .put(put.build().map_err(err)?)
            .build())
    }

    /// The `ADD` of `f` into one row item.
    fn row_add(
        &self,
        month: &str,
        key: &str,
        f: &Figures,
    ) -> Result<TransactWriteItem, StoreError> {
        let mut update = Update::builder()
            .table_name(&self.table)
            .set_key(Some(ItemKey::stats_row(month, key).into_item()));
        let mut adds = Vec::new();
        for (i, (figure, n)) in figure_amounts(f).into_iter().enumerate() {
            adds.push(format!("#a{i} :n{i}"));
            update = update
                .expression_attribute_names(format!("#a{i}"), figure)
                .expression_attribute_values(format!(":n{i}"), AttributeValue::N(n.to_string()));
        }
        update = update.update_expression(format!("ADD {}", adds.join(", ")));
        Ok(TransactWriteItem::builder()
            .update(update.build().map_err(err)?)
            .build())
    }

    /// The shares' puts and the rows' `ADD`s in ONE `TransactWriteItems`: `Ok(false)` when
    /// it was cancelled (a share's condition failed; nothing was written).
    async fn transact(
        &self,
        shares: &[ShareWrite<'_>],
        rows: &BTreeMap<(String, String), Figures>,
    ) -> Result<bool, StoreError> {
        let mut items = Vec::with_capacity(shares.len() + rows.len());
        for s in shares {
            items.push(self.share_put(s)?);
        }
        for ((month, key), f) in rows {
            items.push(self.row_add(month, key, f)?);
        }
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(
                    e.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                Ok(false)
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

    /// The batch in ONE transaction: per report, its changes chained in version order (each
    /// starting from the share the previous one left) become one share put conditional on
    /// the first one's `before`; the rows' `ADD`s of every change are merged per row. A
    /// change that does not chain (reordered, repeated) is applied after it on its own; when
    /// the transaction is cancelled (some share was not what its event says), every change
    /// is applied on its own ([`AggregateStore::apply_change`], idempotent). More than fits
    /// in one transaction: one by one as well.
    async fn apply_changes(&self, changes: &[CountedChange]) -> Result<Vec<bool>, StoreError> {
        let mut out = vec![false; changes.len()];
        let deltas: Vec<_> = changes
            .iter()
            .map(|c| delta(c.change.before.as_ref(), &c.change.after))
            .collect();
        // Per report, the changes that change a figure, by version.
        let mut by_report: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, c) in changes.iter().enumerate() {
            if !deltas[i].is_empty() {
                by_report.entry(c.id.as_str()).or_default().push(i);
            }
        }
        let mut chains: Vec<Vec<usize>> = Vec::new();
        let mut alone: Vec<usize> = Vec::new();
        for idx in by_report.values_mut() {
            idx.sort_by_key(|&i| changes[i].version);
            let mut chain = vec![idx[0]];
            for &i in &idx[1..] {
                let last = &changes[chain[chain.len() - 1]];
                if changes[i].version > last.version
                    && changes[i].change.before.as_ref() == Some(&last.change.after)
                {
                    chain.push(i);
                } else {
                    alone.push(i);
                }
            }
            chains.push(chain);
        }
        let in_chains: Vec<&BTreeMap<String, BTreeMap<String, Figures>>> =
            chains.iter().flatten().map(|&i| &deltas[i]).collect();
        let rows = merged_rows(&in_chains);
        let mut done = false;
        if !chains.is_empty() && chains.len() + rows.len() <= TRANSACTION_MAX_ITEMS {
            let mut shares = Vec::with_capacity(chains.len());
            for chain in &chains {
                let (first, last) = (&changes[chain[0]], &changes[chain[chain.len() - 1]]);
                shares.push(ShareWrite {
                    id: &first.id,
                    version: last.version,
                    new: &last.change.after,
                    expected: match &first.change.before {
                        Some(b) => Expected::Share(serde_json::to_string(b).map_err(err)?),
                        None => Expected::Absent,
                    },
                });
            }
            done = self.transact(&shares, &rows).await?;
        }
        if done {
            for &i in chains.iter().flatten() {
                out[i] = true;
            }
        } else {
            alone.extend(chains.iter().flatten());
        }
        // In version order per report, so a report's later change is not read as reordered.
        alone.sort_by_key(|&i| (changes[i].id.as_str(), changes[i].version));
        for i in alone {
            let c = &changes[i];
            out[i] = self.apply_change(&c.id, c.version, &c.change).await?;
        }
        Ok(out)
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
        let mut out: Vec<MonthFigures> = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        // The rows of every month asked for are one range of the partition: one `Query`
        // (paged: a month has one row per unit, category and ward that had a report).
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
                    AttributeValue::S(format!("{STATS_ROW_PREFIX}{from}#")),
                )
                // `$` follows `#`: every `ROW#<to>#<key>` sorts before `ROW#<to>$`, whatever
                // the key's characters.
                .expression_attribute_values(
                    ":to",
                    AttributeValue::S(format!("{STATS_ROW_PREFIX}{to}$")),
                )
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| err(DisplayErrorContext(&e)))?;
            for item in page.items() {
                let Some(AttributeValue::S(sk)) = item.get(SK) else {
                    continue;
                };
                let Some((month, key)) = row_of_sk(sk) else {
                    continue;
                };
                let f = figures_of(item);
                if f.is_zero() {
                    continue;
                }
                match out.last_mut() {
                    Some(m) if m.month == month => {
                        m.rows.insert(key.to_string(), f);
                    }
                    _ => out.push(MonthFigures {
                        month: month.to_string(),
                        rows: BTreeMap::from([(key.to_string(), f)]),
                    }),
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
