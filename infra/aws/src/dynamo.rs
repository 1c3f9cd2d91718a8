//! `ReportStore` and `AccountStore` on one DynamoDB table.
//!
//! Items (all keys are strings, see [`crate::table`]):
//!
//! | item              | pk                 | sk            | index attributes                                  |
//! |-------------------|--------------------|---------------|---------------------------------------------------|
//! | report            | `REPORT#<id>`      | `REPORT`      | `state_pk`, `reporter_pk`, `public_pk`*, `esc_pk`/`esc_sk`*, `csk` |
//! | unit membership   | `REPORT#<id>`      | `UNIT#<unit>` | `unit_pk`, `csk`                                  |
//! | outbox event      | `EVENT#<event id>` | `EVENT`       | `outbox_pk`/`outbox_sk` (removed when published)  |
//! | idempotency key   | `IDEM#<key>`       | `IDEM`        | —                                                 |
//! | account           | `ACCOUNTS`         | `ACCOUNT#<id>`| —                                                 |
//! | username          | `USERNAME#<name>`  | `USERNAME`    | —                                                 |
//! | notification mark | `NOTIF#<id>`       | `NOTIF`       | —                                                 |
//!
//! (* sparse.) Report and membership items carry the whole report as JSON in `doc` and its
//! `version`, so every index query returns complete reports without a second read. A create or
//! update is ONE `TransactWriteItems`: report item (conditional on `version`), membership items,
//! outbox events and the idempotency item.

use crate::table::{
    CSK, GSI_ESCALATION, GSI_OUTBOX, GSI_PUBLIC, GSI_REPORTER, GSI_STATE, GSI_UNIT, PK, SK,
    TTL_ATTR,
};
use async_trait::async_trait;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, CancellationReason, Delete, DeleteRequest, Put,
    ReturnValuesOnConditionCheckFailure, TransactWriteItem, WriteRequest,
};
use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use phananh_core::model::{EventEnvelope, Report, ReportId, State};
use phananh_core::ports::{
    AccountStore, CreateOutcome, Page, ReportQuery, ReportStore, StaffAccount, StoreError,
};
use std::collections::{HashMap, HashSet, VecDeque};

type Item = HashMap<String, AttributeValue>;

/// Most items one `TransactWriteItems` accepts.
const MAX_TRANSACT_ITEMS: usize = 100;
/// Idempotency keys are kept this long (then DynamoDB TTL removes them).
const IDEM_TTL_DAYS: i64 = 30;
/// Bound on DynamoDB calls spent filling one page of a filtered list.
const QUERY_CALL_BUDGET: usize = 12;
/// Bound on pages read by the small "read everything" loops (accounts, escalations).
const MAX_PAGES: usize = 50;

/// DynamoDB adapter of [`ReportStore`] and [`AccountStore`].
#[derive(Debug, Clone)]
pub struct DynamoReportStore {
    client: aws_sdk_dynamodb::Client,
    table: String,
}

impl DynamoReportStore {
    pub fn new(client: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        DynamoReportStore {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }
}

// ---------------------------------------------------------------------------------------------
// Keys and item encoding

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: u64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

/// Fixed-width UTC timestamp: lexicographic order equals time order.
pub(crate) fn time_key(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

fn report_pk(id: &str) -> String {
    format!("REPORT#{id}")
}

const REPORT_SK: &str = "REPORT";

fn creation_key(r: &Report) -> String {
    format!("{}#{}", time_key(r.created_at), r.id)
}

fn involved_units(r: &Report) -> Vec<String> {
    let mut units: Vec<String> = match &r.assignment {
        Some(a) => std::iter::once(a.lead_unit.clone())
            .chain(a.coordinating_units.iter().cloned())
            .collect(),
        None => Vec::new(),
    };
    units.sort();
    units.dedup();
    units
}

/// The involved units as one comparable string attribute (never empty: DynamoDB condition
/// values must not be empty strings on every implementation).
fn units_attr(units: &[String]) -> String {
    let mut out = String::from("U:");
    out.push_str(&units.join("\u{1f}"));
    out
}

fn units_from_attr(attr: &str) -> Vec<String> {
    match attr.strip_prefix("U:") {
        Some("") | None => Vec::new(),
        Some(rest) => rest.split('\u{1f}').map(str::to_string).collect(),
    }
}

fn is_public(r: &Report) -> bool {
    r.state_is_public() && !r.flags.state_secret
}

fn report_item(r: &Report, doc: &str) -> Item {
    let csk = creation_key(r);
    let mut item = Item::new();
    item.insert(PK.into(), s(report_pk(r.id.as_str())));
    item.insert(SK.into(), s(REPORT_SK));
    item.insert("doc".into(), s(doc));
    item.insert("version".into(), n(r.version));
    item.insert("units".into(), s(units_attr(&involved_units(r))));
    item.insert(
        GSI_STATE.pk.into(),
        s(format!("STATE#{}", r.state.as_str())),
    );
    item.insert(CSK.into(), s(csk));
    if let Some(cid) = r.reporter_id() {
        item.insert(GSI_REPORTER.pk.into(), s(format!("REPORTER#{cid}")));
    }
    if is_public(r) {
        item.insert(GSI_PUBLIC.pk.into(), s("PUBLIC"));
    }
    if let Some(at) = r.escalation.next_at {
        item.insert(GSI_ESCALATION.pk.into(), s("ESC"));
        item.insert(
            GSI_ESCALATION.sk.into(),
            s(format!("{}#{}", time_key(at), r.id)),
        );
    }
    item
}

fn membership_item(r: &Report, unit: &str, doc: &str) -> Item {
    let mut item = Item::new();
    item.insert(PK.into(), s(report_pk(r.id.as_str())));
    item.insert(SK.into(), s(format!("UNIT#{unit}")));
    item.insert("doc".into(), s(doc));
    item.insert("version".into(), n(r.version));
    item.insert(GSI_UNIT.pk.into(), s(format!("UNIT#{unit}")));
    item.insert(CSK.into(), s(creation_key(r)));
    item
}

fn event_key(id: &str) -> Item {
    let mut item = Item::new();
    item.insert(PK.into(), s(format!("EVENT#{id}")));
    item.insert(SK.into(), s("EVENT"));
    item
}

fn event_item(e: &EventEnvelope) -> Result<Item, StoreError> {
    let json = serde_json::to_string(e).map_err(|err| StoreError::Backend(err.to_string()))?;
    let mut item = event_key(&e.id);
    item.insert("event".into(), s(json));
    item.insert("report_id".into(), s(e.report_id.as_str()));
    item.insert(GSI_OUTBOX.pk.into(), s("PENDING"));
    item.insert(
        GSI_OUTBOX.sk.into(),
        s(format!("{}#{}", time_key(e.at), e.id)),
    );
    Ok(item)
}

fn idem_key(key: &str) -> Item {
    let mut item = Item::new();
    item.insert(PK.into(), s(format!("IDEM#{key}")));
    item.insert(SK.into(), s("IDEM"));
    item
}

fn str_attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

fn num_attr(item: &Item, name: &str) -> Option<u64> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn report_from_item(item: &Item) -> Result<Report, StoreError> {
    let doc =
        str_attr(item, "doc").ok_or_else(|| StoreError::Backend("item without doc".into()))?;
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(format!("corrupt report doc: {e}")))
}

fn sdk_err<E, R>(e: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Backend(DisplayErrorContext(&e).to_string())
}

fn is_conditional_failure(r: &CancellationReason) -> bool {
    r.code() == Some("ConditionalCheckFailed")
}

fn is_conflict(r: &CancellationReason) -> bool {
    matches!(r.code(), Some("TransactionConflict"))
}

// ---------------------------------------------------------------------------------------------
// Cursors

const CURSOR_PREFIX: &str = "v1|";

fn encode_cursor(csk: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{CURSOR_PREFIX}{csk}"))
}

/// Decodes and validates a cursor: it must be one this adapter produced (a creation key).
fn decode_cursor(c: &str) -> Result<String, StoreError> {
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| StoreError::BadCursor)?;
    let text = String::from_utf8(raw).map_err(|_| StoreError::BadCursor)?;
    let csk = text
        .strip_prefix(CURSOR_PREFIX)
        .ok_or(StoreError::BadCursor)?;
    let (ts, id) = csk.split_once('#').ok_or(StoreError::BadCursor)?;
    if id.is_empty() || DateTime::parse_from_rfc3339(ts).is_err() || ts.len() != 30 {
        return Err(StoreError::BadCursor);
    }
    Ok(csk.to_string())
}

// ---------------------------------------------------------------------------------------------
// Transactions

impl DynamoReportStore {
    fn tx_put(&self, item: Item, condition: Option<&str>) -> Result<TransactWriteItem, StoreError> {
        let p = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .set_condition_expression(condition.map(str::to_string))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        Ok(TransactWriteItem::builder().put(p).build())
    }

    async fn transact(
        &self,
        items: Vec<TransactWriteItem>,
    ) -> Result<(), SdkError<TransactWriteItemsError>> {
        self.client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
            .map(|_| ())
    }

    async fn get_item(&self, key: Item) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(sdk_err)?;
        Ok(out.item)
    }

    fn key(pk: String, sk: &str) -> Item {
        let mut k = Item::new();
        k.insert(PK.into(), s(pk));
        k.insert(SK.into(), s(sk));
        k
    }

    /// The item writes of one report change: report (conditional), memberships, events.
    fn change_items(
        &self,
        report: &Report,
        report_condition: &str,
        condition_values: Item,
        stale_units: &[String],
        events: &[EventEnvelope],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let doc = serde_json::to_string(report).map_err(|e| StoreError::Backend(e.to_string()))?;
        let units = involved_units(report);
        let mut items = Vec::with_capacity(1 + units.len() + stale_units.len() + events.len());
        let p = Put::builder()
            .table_name(&self.table)
            .set_item(Some(report_item(report, &doc)))
            .condition_expression(report_condition)
            .set_expression_attribute_values(if condition_values.is_empty() {
                None
            } else {
                Some(condition_values)
            })
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        items.push(TransactWriteItem::builder().put(p).build());
        for u in &units {
            items.push(self.tx_put(membership_item(report, u, &doc), None)?);
        }
        for u in stale_units {
            let d = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(
                    report_pk(report.id.as_str()),
                    &format!("UNIT#{u}"),
                )))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            items.push(TransactWriteItem::builder().delete(d).build());
        }
        for e in events {
            items.push(self.tx_put(event_item(e)?, None)?);
        }
        Ok(items)
    }

    /// Writes the change; on a failed report condition returns the cancellation reasons.
    async fn write_change(
        &self,
        report: &Report,
        expected_version: u64,
        expected_units: &[String],
        stale_units: &[String],
        events: &[EventEnvelope],
    ) -> Result<Result<(), Option<Item>>, StoreError> {
        let mut values = Item::new();
        values.insert(":v".into(), n(expected_version));
        values.insert(":u".into(), s(units_attr(expected_units)));
        let items = self.change_items(
            report,
            "version = :v AND units = :u",
            values,
            stale_units,
            events,
        )?;
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::Backend(format!(
                "report {} change needs {} items (limit {MAX_TRANSACT_ITEMS})",
                report.id,
                items.len()
            )));
        }
        match self.transact(items).await {
            Ok(()) => Ok(Ok(())),
            Err(SdkError::ServiceError(se)) => match se.err() {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    let reasons = tc.cancellation_reasons();
                    if reasons.iter().any(is_conflict) {
                        return Err(StoreError::Conflict);
                    }
                    match reasons.first() {
                        Some(r) if is_conditional_failure(r) => Ok(Err(r.item().cloned())),
                        // Reasons not reported (some emulators): treat as a failed condition
                        // and let the caller read the item.
                        None => Ok(Err(None)),
                        Some(_) => Err(StoreError::Backend(format!(
                            "transaction cancelled: {:?}",
                            reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
                        ))),
                    }
                }
                other => Err(StoreError::Backend(DisplayErrorContext(other).to_string())),
            },
            Err(e) => Err(sdk_err(e)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Query engine: k-way merge over index partitions, newest first

struct Partition {
    index: &'static str,
    pk_attr: &'static str,
    pk: String,
    buf: VecDeque<(String, Item)>,
    start: Option<Item>,
    exhausted: bool,
}

impl Partition {
    fn new(index: &'static str, pk_attr: &'static str, pk: String) -> Self {
        Partition {
            index,
            pk_attr,
            pk,
            buf: VecDeque::new(),
            start: None,
            exhausted: false,
        }
    }
}

impl DynamoReportStore {
    fn partitions(q: &ReportQuery) -> Vec<Partition> {
        if let Some(r) = &q.reporter {
            return vec![Partition::new(
                GSI_REPORTER.name,
                GSI_REPORTER.pk,
                format!("REPORTER#{r}"),
            )];
        }
        if let Some(u) = &q.unit {
            return vec![Partition::new(
                GSI_UNIT.name,
                GSI_UNIT.pk,
                format!("UNIT#{u}"),
            )];
        }
        if q.public_only {
            return vec![Partition::new(
                GSI_PUBLIC.name,
                GSI_PUBLIC.pk,
                "PUBLIC".into(),
            )];
        }
        let mut states: Vec<State> = if q.states.is_empty() {
            State::ALL.to_vec()
        } else {
            q.states.clone()
        };
        states.sort();
        states.dedup();
        states
            .into_iter()
            .map(|st| {
                Partition::new(
                    GSI_STATE.name,
                    GSI_STATE.pk,
                    format!("STATE#{}", st.as_str()),
                )
            })
            .collect()
    }

    async fn fetch(
        &self,
        p: &mut Partition,
        lower: Option<&str>,
        upper: Option<&str>,
        limit: i32,
    ) -> Result<(), StoreError> {
        let mut req = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(p.index)
            .scan_index_forward(false)
            .limit(limit)
            .expression_attribute_names("#pk", p.pk_attr)
            .expression_attribute_values(":pk", s(&p.pk))
            .set_exclusive_start_key(p.start.take());
        let cond = match (lower, upper) {
            (None, None) => "#pk = :pk".to_string(),
            (Some(lo), None) => {
                req = req
                    .expression_attribute_names("#sk", CSK)
                    .expression_attribute_values(":lo", s(lo));
                "#pk = :pk AND #sk >= :lo".to_string()
            }
            (None, Some(hi)) => {
                req = req
                    .expression_attribute_names("#sk", CSK)
                    .expression_attribute_values(":hi", s(hi));
                "#pk = :pk AND #sk < :hi".to_string()
            }
            (Some(lo), Some(hi)) => {
                req = req
                    .expression_attribute_names("#sk", CSK)
                    .expression_attribute_values(":lo", s(lo))
                    .expression_attribute_values(":hi", s(hi));
                "#pk = :pk AND #sk BETWEEN :lo AND :hi".to_string()
            }
        };
        let out = req
            .key_condition_expression(cond)
            .send()
            .await
            .map_err(sdk_err)?;
        for item in out.items.unwrap_or_default() {
            let Some(csk) = str_attr(&item, CSK).map(str::to_string) else {
                continue;
            };
            // BETWEEN is inclusive: drop the exclusive upper bound itself.
            if upper.is_some_and(|hi| csk.as_str() >= hi) {
                continue;
            }
            p.buf.push_back((csk, item));
        }
        match out.last_evaluated_key {
            Some(k) if !k.is_empty() => p.start = Some(k),
            _ => p.exhausted = true,
        }
        Ok(())
    }

    async fn run_query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        let size = q.page_size();
        let cursor = q.cursor.as_deref().map(decode_cursor).transpose()?;
        let to_key = q.created_to.map(time_key);
        let upper = match (cursor, to_key) {
            (Some(c), Some(t)) => Some(if c < t { c } else { t }),
            (c, t) => c.or(t),
        };
        let lower = q.created_from.map(time_key);
        if let (Some(lo), Some(hi)) = (&lower, &upper) {
            if lo >= hi {
                return Ok(Page {
                    items: Vec::new(),
                    next_cursor: None,
                });
            }
        }
        let mut parts = Self::partitions(q);
        let chunk = (size + 1).clamp(25, 100) as i32;
        let budget = QUERY_CALL_BUDGET.max(2 * parts.len() + 2);
        let mut calls = 0usize;
        let mut page: Vec<Report> = Vec::with_capacity(size);
        let mut seen: HashSet<ReportId> = HashSet::new();
        let mut last_examined: Option<String> = None;
        let mut last_returned: Option<String> = None;
        loop {
            // Every partition that may still hold items must show its head before merging.
            let mut out_of_budget = false;
            for p in parts.iter_mut() {
                if p.buf.is_empty() && !p.exhausted {
                    if calls >= budget {
                        out_of_budget = true;
                        break;
                    }
                    calls += 1;
                    self.fetch(p, lower.as_deref(), upper.as_deref(), chunk)
                        .await?;
                }
            }
            if out_of_budget {
                // Everything newer than the last examined key has been looked at.
                let next =
                    last_examined.or(q.cursor.as_deref().and_then(|c| decode_cursor(c).ok()));
                return Ok(Page {
                    items: page,
                    next_cursor: next.map(|k| encode_cursor(&k)),
                });
            }
            let best = parts
                .iter()
                .enumerate()
                .filter_map(|(i, p)| p.buf.front().map(|(k, _)| (i, k)))
                .max_by(|a, b| a.1.cmp(b.1))
                .map(|(i, _)| i);
            let Some(i) = best else {
                return Ok(Page {
                    items: page,
                    next_cursor: None,
                });
            };
            let Some((csk, item)) = parts[i].buf.pop_front() else {
                continue;
            };
            let report = report_from_item(&item)?;
            last_examined = Some(csk.clone());
            if !q.matches(&report) || seen.contains(&report.id) {
                continue;
            }
            if page.len() == size {
                // One more match exists: the page is full and there is a next one.
                return Ok(Page {
                    items: page,
                    next_cursor: last_returned.map(|k| encode_cursor(&k)),
                });
            }
            seen.insert(report.id.clone());
            page.push(report);
            last_returned = Some(csk);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// ReportStore

#[async_trait]
impl ReportStore for DynamoReportStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        let doc = serde_json::to_string(report).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut items =
            vec![self.tx_put(report_item(report, &doc), Some("attribute_not_exists(pk)"))?];
        if let Some(key) = idempotency_key {
            let mut it = idem_key(key);
            it.insert("report_id".into(), s(report.id.as_str()));
            let expires = Utc::now() + chrono::Duration::days(IDEM_TTL_DAYS);
            it.insert(
                TTL_ATTR.into(),
                AttributeValue::N(expires.timestamp().to_string()),
            );
            items.push(self.tx_put(it, Some("attribute_not_exists(pk)"))?);
        }
        for u in involved_units(report) {
            items.push(self.tx_put(membership_item(report, &u, &doc), None)?);
        }
        for e in events {
            items.push(self.tx_put(event_item(e)?, None)?);
        }
        if items.len() > MAX_TRANSACT_ITEMS {
            return Err(StoreError::Backend(format!(
                "report {} needs {} items (limit {MAX_TRANSACT_ITEMS})",
                report.id,
                items.len()
            )));
        }
        let err = match self.transact(items).await {
            Ok(()) => {
                tracing::debug!(report_id = %report.id, events = events.len(), "report created");
                return Ok(CreateOutcome::Created);
            }
            Err(e) => e,
        };
        let reasons: Vec<CancellationReason> = match &err {
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
        let report_failed = reasons.first().is_some_and(is_conditional_failure);
        let idem_failed = reasons.get(1).is_some_and(is_conditional_failure);
        // The idempotency key wins: a retry of the same request returns the first report.
        if let Some(key) = idempotency_key {
            if idem_failed || reasons.is_empty() {
                if let Some(it) = self.get_item(idem_key(key)).await? {
                    if let Some(id) = str_attr(&it, "report_id") {
                        tracing::info!(report_id = %id, "idempotent create replayed");
                        return Ok(CreateOutcome::Existing(ReportId(id.to_string())));
                    }
                }
            }
        }
        if report_failed || reasons.is_empty() {
            return Err(StoreError::AlreadyExists);
        }
        Err(StoreError::Backend(format!(
            "create cancelled: {:?}",
            reasons.iter().map(|r| r.code()).collect::<Vec<_>>()
        )))
    }

    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        match self
            .get_item(Self::key(report_pk(id.as_str()), REPORT_SK))
            .await?
        {
            Some(item) => report_from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError> {
        // First attempt assumes the involved units did not change (the common case): one call.
        let units = involved_units(report);
        let old = match self
            .write_change(report, expected_version, &units, &[], events)
            .await?
        {
            Ok(()) => return Ok(()),
            Err(Some(old)) => old,
            Err(None) => match self
                .get_item(Self::key(report_pk(report.id.as_str()), REPORT_SK))
                .await?
            {
                Some(old) => old,
                None => return Err(StoreError::NotFound),
            },
        };
        if old.is_empty() || str_attr(&old, PK).is_none() {
            return Err(StoreError::NotFound);
        }
        if num_attr(&old, "version") != Some(expected_version) {
            return Err(StoreError::Conflict);
        }
        // Same version, other units: rewrite memberships, deleting the units no longer involved.
        let old_units = units_from_attr(str_attr(&old, "units").unwrap_or("U:"));
        let stale: Vec<String> = old_units
            .iter()
            .filter(|u| !units.contains(u))
            .cloned()
            .collect();
        match self
            .write_change(report, expected_version, &old_units, &stale, events)
            .await?
        {
            Ok(()) => {
                tracing::debug!(report_id = %report.id, ?units, ?stale, "report units changed");
                Ok(())
            }
            Err(_) => Err(StoreError::Conflict),
        }
    }

    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        self.run_query(q).await
    }

    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        let bound = format!("{}#~", time_key(until));
        for _ in 0..MAX_PAGES {
            if out.len() >= limit {
                break;
            }
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_ESCALATION.name)
                .key_condition_expression("#pk = :pk AND #sk <= :until")
                .expression_attribute_names("#pk", GSI_ESCALATION.pk)
                .expression_attribute_names("#sk", GSI_ESCALATION.sk)
                .expression_attribute_values(":pk", s("ESC"))
                .expression_attribute_values(":until", s(&bound))
                .scan_index_forward(true)
                .limit((limit - out.len()).clamp(1, 100) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err)?;
            for item in res.items.unwrap_or_default() {
                let r = report_from_item(&item)?;
                // The index is eventually consistent: trust the document.
                if r.escalation.next_at.is_some_and(|t| t <= until) && out.len() < limit {
                    out.push(r);
                }
            }
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn pending_events(&self, limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES {
            if out.len() >= limit {
                break;
            }
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(GSI_OUTBOX.name)
                .key_condition_expression("#pk = :pk")
                .expression_attribute_names("#pk", GSI_OUTBOX.pk)
                .expression_attribute_values(":pk", s("PENDING"))
                .scan_index_forward(true)
                .limit((limit - out.len()).clamp(1, 100) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err)?;
            for item in res.items.unwrap_or_default() {
                let json = str_attr(&item, "event")
                    .ok_or_else(|| StoreError::Backend("outbox item without event".into()))?;
                let e: EventEnvelope = serde_json::from_str(json)
                    .map_err(|e| StoreError::Backend(format!("corrupt outbox event: {e}")))?;
                out.push(e);
            }
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        out.truncate(limit);
        Ok(out)
    }

    async fn mark_published(&self, event_ids: &[String]) -> Result<(), StoreError> {
        let mut ids: Vec<&String> = event_ids.iter().collect();
        ids.sort();
        ids.dedup();
        for chunk in ids.chunks(25) {
            let mut requests: Vec<WriteRequest> = Vec::with_capacity(chunk.len());
            for id in chunk {
                let del = DeleteRequest::builder()
                    .set_key(Some(event_key(id)))
                    .build()
                    .map_err(|e| StoreError::Backend(e.to_string()))?;
                requests.push(WriteRequest::builder().delete_request(del).build());
            }
            let mut pending = requests;
            for attempt in 0..5u32 {
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

// ---------------------------------------------------------------------------------------------
// AccountStore

const ACCOUNTS_PK: &str = "ACCOUNTS";

fn account_sk(id: &str) -> String {
    format!("ACCOUNT#{id}")
}

fn username_pk(name: &str) -> String {
    format!("USERNAME#{name}")
}

fn account_from_item(item: &Item) -> Result<StaffAccount, StoreError> {
    let doc =
        str_attr(item, "doc").ok_or_else(|| StoreError::Backend("account without doc".into()))?;
    serde_json::from_str(doc).map_err(|e| StoreError::Backend(format!("corrupt account doc: {e}")))
}

impl DynamoReportStore {
    fn account_items(&self, a: &StaffAccount) -> Result<(Item, Item), StoreError> {
        let doc = serde_json::to_string(a).map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut acc = Self::key(ACCOUNTS_PK.into(), &account_sk(&a.id));
        acc.insert("doc".into(), s(&doc));
        let mut user = Self::key(username_pk(&a.username), "USERNAME");
        user.insert("account_id".into(), s(&a.id));
        user.insert("doc".into(), s(doc));
        Ok((acc, user))
    }

    async fn account_tx(&self, items: Vec<TransactWriteItem>) -> Result<(), StoreError> {
        match self.transact(items).await {
            Ok(()) => Ok(()),
            Err(SdkError::ServiceError(se)) => match se.err() {
                TransactWriteItemsError::TransactionCanceledException(tc) => {
                    if tc.cancellation_reasons().iter().any(is_conflict) {
                        Err(StoreError::Conflict)
                    } else {
                        Err(StoreError::AlreadyExists)
                    }
                }
                other => Err(StoreError::Backend(DisplayErrorContext(other).to_string())),
            },
            Err(e) => Err(sdk_err(e)),
        }
    }
}

#[async_trait]
impl AccountStore for DynamoReportStore {
    async fn create_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let (acc, user) = self.account_items(account)?;
        let items = vec![
            self.tx_put(acc, Some("attribute_not_exists(pk)"))?,
            self.tx_put(user, Some("attribute_not_exists(pk)"))?,
        ];
        self.account_tx(items).await
    }

    async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<StaffAccount>, StoreError> {
        match self
            .get_item(Self::key(username_pk(username), "USERNAME"))
            .await?
        {
            Some(item) => account_from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn account_by_id(&self, id: &str) -> Result<Option<StaffAccount>, StoreError> {
        match self
            .get_item(Self::key(ACCOUNTS_PK.into(), &account_sk(id)))
            .await?
        {
            Some(item) => account_from_item(&item).map(Some),
            None => Ok(None),
        }
    }

    async fn save_account(&self, account: &StaffAccount) -> Result<(), StoreError> {
        let Some(old) = self.account_by_id(&account.id).await? else {
            return Err(StoreError::NotFound);
        };
        let (acc, user) = self.account_items(account)?;
        let mut ids = Item::new();
        ids.insert(":id".into(), s(&account.id));
        let mut items = vec![self.tx_put(acc, Some("attribute_exists(pk)"))?];
        let user_put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(user))
            .condition_expression("attribute_not_exists(pk) OR account_id = :id")
            .set_expression_attribute_values(Some(ids.clone()))
            .build()
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        items.push(TransactWriteItem::builder().put(user_put).build());
        if old.username != account.username {
            let d = Delete::builder()
                .table_name(&self.table)
                .set_key(Some(Self::key(username_pk(&old.username), "USERNAME")))
                .condition_expression("attribute_not_exists(pk) OR account_id = :id")
                .set_expression_attribute_values(Some(ids))
                .build()
                .map_err(|e| StoreError::Backend(e.to_string()))?;
            items.push(TransactWriteItem::builder().delete(d).build());
        }
        self.account_tx(items).await
    }

    async fn list_accounts(&self) -> Result<Vec<StaffAccount>, StoreError> {
        let mut out = Vec::new();
        let mut start: Option<Item> = None;
        for _ in 0..MAX_PAGES {
            let res = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("pk = :pk")
                .expression_attribute_values(":pk", s(ACCOUNTS_PK))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(sdk_err)?;
            for item in res.items.unwrap_or_default() {
                out.push(account_from_item(&item)?);
            }
            match res.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => break,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let key = "2024-05-01T03:04:05.000000006Z#0190a1b2-0000-7000-8000-000000000001";
        assert_eq!(decode_cursor(&encode_cursor(key)).unwrap(), key);
        for bad in [
            "",
            "!!!",
            "dGVzdA", // "test"
            &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode("v1|nohash"),
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode("v1|2024-13-01T00:00:00.000000000Z#x"),
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .encode("v1|2024-05-01T03:04:05.000000006Z#"),
        ] {
            assert_eq!(decode_cursor(bad), Err(StoreError::BadCursor), "{bad:?}");
        }
    }

    #[test]
    fn time_keys_sort_like_instants() {
        let a = DateTime::parse_from_rfc3339("2024-05-01T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let b = a + chrono::Duration::nanoseconds(1);
        let c = a + chrono::Duration::seconds(1);
        assert!(time_key(a) < time_key(b));
        assert!(time_key(b) < time_key(c));
        assert_eq!(time_key(a).len(), 30);
    }

    #[test]
    fn units_attribute_round_trips() {
        assert_eq!(units_from_attr(&units_attr(&[])), Vec::<String>::new());
        let u = vec!["a".to_string(), "b c".to_string()];
        assert_eq!(units_from_attr(&units_attr(&u)), u);
    }
}
