//! The `ReportStore` port: create, read and update a report with its events in one
//! transaction, optimistically locked by `version`.
//!
//! Why it exists: a report, its unit memberships, its events and its idempotency key must
//! change together or not at all. It must never write a report without checking the version
//! (or absence) it was read at, and never write events outside the report's transaction.

use super::archive::{layout, Archive};
use super::codec::{
    event_item, idempotency_item, involved_units, membership_item, n, num_attr, report_from_item,
    s, str_attr, units_attr, units_from_attr, Item, REPORT_ID, UNITS, VERSION,
};
use super::transact::{is_conditional_failure, reason_codes, tx_delete, tx_item, IF_ABSENT};
use super::DynamoReportStore;
use crate::table::{ItemKey, PK};
use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use chrono::{DateTime, Utc};
use phananh_core::model::{EventEnvelope, GeoPoint, Report, ReportId};
use phananh_core::ports::{
    CreateOutcome, EventDelivery, Page, RecentPoint, ReportQuery, ReportStore, StoreError,
};

/// Idempotency keys are kept this long (then DynamoDB TTL removes them).
const IDEM_TTL_DAYS: i64 = 30;

impl DynamoReportStore {
    /// What follows the report item (and the idempotency item) in the transaction of a create
    /// or an update: the memberships of the involved units, the deletes of the units no longer
    /// involved, and the event items (which the table's stream carries to the relay). A
    /// membership holds keys only (a small item, 1 write unit); it is rewritten with every
    /// change so that a membership of the old layout (a copy of the whole document, perhaps
    /// with reporter data sealed since) is replaced at the report's next change.
    fn companion_items(
        &self,
        report: &Report,
        stale_units: &[String],
        events: &[EventEnvelope],
    ) -> Result<Vec<TransactWriteItem>, StoreError> {
        let units = involved_units(report);
        let mut items = Vec::with_capacity(units.len() + stale_units.len() + events.len());
        for u in &units {
            items.push(self.tx_put(membership_item(report, u), None)?);
        }
        for u in stale_units {
            items.push(tx_delete(
                self.delete(ItemKey::membership(report.id.as_str(), u)),
            )?);
        }
        for e in events {
            items.push(self.tx_put(event_item(e)?, None)?);
        }
        Ok(items)
    }

    /// Writes the change over the stored version `expected_version`, whose item records
    /// `expected_units` and `expected_archive` (the item is conditional on all three; the
    /// chunk the change archives, if any, is written in the same transaction, never over an
    /// existing one). Returns the archive written; on a failed report condition, the old item
    /// when the table reported it.
    async fn write_change(
        &self,
        report: &Report,
        expected_version: u64,
        expected_units: &[String],
        expected_archive: &Archive,
        stale_units: &[String],
        events: &[EventEnvelope],
    ) -> Result<Result<Archive, Option<Item>>, StoreError> {
        let written = layout(report, expected_archive)?;
        let mut values = Item::from([
            (":v".to_string(), n(expected_version)),
            (":u".to_string(), s(units_attr(expected_units))),
        ]);
        let (archived, arch_value) = expected_archive.condition();
        if let Some(v) = arch_value {
            values.insert(":arch".to_string(), v);
        }
        let mut items = vec![tx_item(
            self.put(written.item)
                .condition_expression(format!("version = :v AND units = :u AND {archived}"))
                .set_expression_attribute_values(Some(values))
                .return_values_on_condition_check_failure(
                    ReturnValuesOnConditionCheckFailure::AllOld,
                ),
        )?];
        if let Some(chunk) = written.chunk {
            items.push(self.tx_put(chunk, Some(IF_ABSENT))?);
        }
        items.extend(self.companion_items(report, stale_units, events)?);
        let reasons = match self
            .transact(|| format!("report {} change", report.id), items)
            .await?
        {
            Ok(()) => return Ok(Ok(written.archive)),
            Err(reasons) => reasons,
        };
        match reasons.first() {
            Some(r) if is_conditional_failure(r) => Ok(Err(r.item().cloned())),
            // Reasons not reported (some emulators): treat as a failed condition and let the
            // caller read the item.
            None => Ok(Err(None)),
            Some(_) => Err(StoreError::Backend(format!(
                "transaction cancelled: {:?}",
                reason_codes(&reasons)
            ))),
        }
    }
}

#[async_trait]
impl ReportStore for DynamoReportStore {
    async fn create(
        &self,
        report: &Report,
        events: &[EventEnvelope],
        idempotency_key: Option<&str>,
    ) -> Result<CreateOutcome, StoreError> {
        let written = layout(report, &Archive::default())?;
        let mut items = vec![self.tx_put(written.item, Some(IF_ABSENT))?];
        if let Some(key) = idempotency_key {
            let expires = Utc::now() + chrono::Duration::days(IDEM_TTL_DAYS);
            items.push(self.tx_put(idempotency_item(key, report, expires), Some(IF_ABSENT))?);
        }
        if let Some(chunk) = written.chunk {
            items.push(self.tx_put(chunk, Some(IF_ABSENT))?);
        }
        items.extend(self.companion_items(report, &[], events)?);
        let reasons = match self
            .transact(|| format!("report {}", report.id), items)
            .await?
        {
            Ok(()) => {
                tracing::debug!(report_id = %report.id, events = events.len(), "report created");
                if let Ok(mut seen) = self.seen.lock() {
                    seen.remember(
                        report.id.as_str(),
                        report.version,
                        involved_units(report),
                        written.archive,
                    );
                }
                return Ok(CreateOutcome::Created);
            }
            Err(reasons) => reasons,
        };
        let report_failed = reasons.first().is_some_and(is_conditional_failure);
        let idem_failed = reasons.get(1).is_some_and(is_conditional_failure);
        // The idempotency key wins: a retry of the same request returns the first report.
        if let Some(key) = idempotency_key {
            if idem_failed || reasons.is_empty() {
                if let Some(it) = self.get_item(ItemKey::idempotency(key)).await? {
                    if let Some(id) = str_attr(&it, REPORT_ID) {
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
            reason_codes(&reasons)
        )))
    }

    async fn get(&self, id: &ReportId) -> Result<Option<Report>, StoreError> {
        let Some(item) = self.get_item(ItemKey::report(id.as_str())).await? else {
            return Ok(None);
        };
        let report = report_from_item(&item)?;
        let archive = Archive::of_item(&item)?;
        if let (Some(v), Some(u)) = (num_attr(&item, VERSION), str_attr(&item, UNITS)) {
            if let Ok(mut seen) = self.seen.lock() {
                seen.remember(id.as_str(), v, units_from_attr(u), archive.clone());
            }
        }
        // Nothing archived (the common case): no other read.
        let (mut whole, _) = self.with_archives(vec![(report, archive)]).await?;
        Ok(whole.pop())
    }

    async fn update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<(), StoreError> {
        let archive = self.write_update(report, expected_version, events).await?;
        // What was written is what a next step of this instance acts on (the classifier
        // assigns the report it screened): its units and archive are known without a read.
        if let Ok(mut seen) = self.seen.lock() {
            seen.remember(
                report.id.as_str(),
                report.version,
                involved_units(report),
                archive,
            );
        }
        Ok(())
    }

    async fn query(&self, q: &ReportQuery) -> Result<Page<Report>, StoreError> {
        self.run_query(q).await
    }

    async fn escalations_due(
        &self,
        until: DateTime<Utc>,
        limit: usize,
    ) -> Result<Vec<Report>, StoreError> {
        self.due_escalations(until, limit).await
    }

    /// Nothing is pending here: the table's stream carries every event written with its
    /// change to the relay function (`EventDelivery::Stream`).
    async fn pending_events(&self, _limit: usize) -> Result<Vec<EventEnvelope>, StoreError> {
        Ok(Vec::new())
    }

    /// Nothing to mark: event items expire by TTL once the stream carried them.
    async fn mark_published(&self, _event_ids: &[String]) -> Result<(), StoreError> {
        Ok(())
    }

    fn event_delivery(&self) -> EventDelivery {
        EventDelivery::Stream
    }

    /// One `Query` per geohash cell the circle touches on the points-only `by_cell` index
    /// (usually one); a very large radius falls back to the category's list.
    async fn recent_points_near(
        &self,
        category: &str,
        center: GeoPoint,
        radius_m: f64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<RecentPoint>, StoreError> {
        if let Some(points) = self
            .points_near(category, center, radius_m, from, to, limit)
            .await?
        {
            return Ok(points);
        }
        let points = self.recent_points(category, from, to, limit).await?;
        Ok(points
            .into_iter()
            .filter(|p| p.is_within(center, radius_m))
            .collect())
    }
}

impl DynamoReportStore {
    /// The update of [`ReportStore::update`]: one transaction when the units and archive
    /// stored with `expected_version` are known (this store read or wrote that version) or
    /// unchanged with nothing archived (the common case); otherwise the failed condition
    /// returns the stored item and a second transaction writes over what it records.
    /// Returns the archive written.
    async fn write_update(
        &self,
        report: &Report,
        expected_version: u64,
        events: &[EventEnvelope],
    ) -> Result<Archive, StoreError> {
        let units = involved_units(report);
        let (guess_units, guess_archive) = self
            .seen
            .lock()
            .ok()
            .and_then(|s| s.at(report.id.as_str(), expected_version))
            .unwrap_or_else(|| (units.clone(), Archive::default()));
        let stale = stale_units(&guess_units, &units);
        let old = match self
            .write_change(
                report,
                expected_version,
                &guess_units,
                &guess_archive,
                &stale,
                events,
            )
            .await?
        {
            Ok(archive) => {
                if !stale.is_empty() || guess_units != units {
                    tracing::debug!(report_id = %report.id, ?units, ?stale, "report units changed");
                }
                return Ok(archive);
            }
            Err(Some(old)) => old,
            Err(None) => match self.get_item(ItemKey::report(report.id.as_str())).await? {
                Some(old) => old,
                None => return Err(StoreError::NotFound),
            },
        };
        if old.is_empty() || str_attr(&old, PK).is_none() {
            return Err(StoreError::NotFound);
        }
        if num_attr(&old, VERSION) != Some(expected_version) {
            return Err(StoreError::Conflict);
        }
        // Same version, other units or archive than guessed: write over what is stored,
        // deleting the memberships of the units no longer involved.
        let old_units = units_from_attr(str_attr(&old, UNITS).unwrap_or("U:"));
        let old_archive = Archive::of_item(&old)?;
        let stale = stale_units(&old_units, &units);
        match self
            .write_change(
                report,
                expected_version,
                &old_units,
                &old_archive,
                &stale,
                events,
            )
            .await?
        {
            Ok(archive) => {
                tracing::debug!(report_id = %report.id, ?units, ?stale, "report units changed");
                Ok(archive)
            }
            Err(_) => Err(StoreError::Conflict),
        }
    }
}

/// The units of `old` not in `new`.
fn stale_units(old: &[String], new: &[String]) -> Vec<String> {
    old.iter().filter(|u| !new.contains(u)).cloned().collect()
}
